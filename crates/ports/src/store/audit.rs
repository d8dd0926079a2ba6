//! The tamper-evident audit log.

use async_trait::async_trait;

use crate::records::{AuditEntry, AuditRecord};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// The tamper-evident audit log.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AuditStore: Send {
    /// Appends an entry to the tamper-evident audit log: it carries the hash
    /// of the entry before it.
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRecord, StoreError>;

    /// Entries after `after_seq`, in order, at most `limit`.
    async fn audit_entries(&mut self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
}
