//! The operator tools (ferry-admin): lists and counts over the whole

use async_trait::async_trait;
use ferry_domain::ids::{DocumentId, PracticeId};
use time::OffsetDateTime;

use crate::records::{AuditRecord, Page, PageRequest, PurgeReport, UserRecord};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// The operator tools (ferry-admin): lists and counts over the whole
/// installation, storage accounts, audit exports and housekeeping.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OperatorStore: Send {
    // Operator tools (ferry-admin).

    /// Users matching `filter`, in order of id.
    ///
    /// # Errors
    /// [`StoreError::Rejected`] for a cursor that is not from this list.
    async fn list_users(
        &mut self,
        filter: &crate::admin::UserFilter,
        page: &PageRequest,
    ) -> Result<Page<UserRecord>, StoreError>;

    /// Up to `limit` live (not deleted) documents with ids after `after`
    /// (from the first when `None`), in order of id: their blob keys and sizes.
    async fn live_documents(
        &mut self,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Vec<crate::admin::LiveDocument>, StoreError>;

    /// Whether a live (not deleted) document's content is stored under `key`.
    async fn blob_in_use(&mut self, key: &str) -> Result<bool, StoreError>;

    /// Every practice's recorded storage against the sum of its live
    /// documents, in order of practice id.
    async fn storage_accounts(&mut self) -> Result<Vec<crate::admin::StorageAccount>, StoreError>;

    /// Sets a practice's recorded storage to the sum of its live documents
    /// (the repair of a drifted count); returns the account as it was before.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn recount_storage(&mut self, practice: PracticeId) -> Result<crate::admin::StorageAccount, StoreError>;

    /// Up to `limit` audit entries after `after_seq` made at or after
    /// `since`, of `practice` when given, in order.
    async fn audit_entries_since(
        &mut self,
        since: OffsetDateTime,
        practice: Option<PracticeId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// How much there is of everything; sessions count as live at `at`.
    async fn installation_counts(&mut self, at: OffsetDateTime)
    -> Result<crate::admin::InstallationCounts, StoreError>;

    /// The versions of the schema migrations applied to this database, in order.
    async fn applied_migrations(&mut self) -> Result<Vec<i64>, StoreError>;

    // Housekeeping.

    /// Deletes what can no longer be used: sessions that expired or were
    /// ended at or before `at`, single-use tokens that expired or were used
    /// at or before `at`, and sign-in failures from before `failures_before`
    /// (the start of the longest throttling window). Returns how many of
    /// each went.
    async fn purge_expired(
        &mut self,
        at: OffsetDateTime,
        failures_before: OffsetDateTime,
    ) -> Result<PurgeReport, StoreError>;
}
