//! The mail outbox (messages written in the transaction of the change they

use async_trait::async_trait;
use ferry_domain::ids::ClientId;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::records::{EmailLogRecord, OutboxRecord, OutboxStatus, OutgoingMail, Page, PageRequest};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// The mail outbox (messages written in the transaction of the change they
/// report, sent after it commits) and the client email log.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send {
    /// Queues a message, to be sent after this transaction commits; when it
    /// concerns a client it also appears in the client's email log.
    async fn enqueue_mail(&mut self, id: Uuid, mail: &OutgoingMail, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Claims up to `limit` pending messages due at `at`, leasing them until
    /// `lease_until` so no other sender takes them meanwhile.
    async fn claim_mail(
        &mut self,
        at: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Marks a pending message sent.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer
    /// pending (a late report never changes a settled message).
    async fn mark_mail_sent(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Records a failed try of a pending message: retry at `retry_at`, or
    /// give up when `None`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer pending.
    async fn mark_mail_failed(
        &mut self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;

    /// Puts failed messages back in the queue: the one with `id`, or every
    /// failed message when `None`. Each becomes pending with no attempts,
    /// due at `at`; its last error is kept until the next try replaces it.
    /// Returns how many were put back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] with `entity: "failed mail"` when `id` is
    /// given and names no failed message (unknown, pending or sent).
    async fn retry_failed_mail(&mut self, id: Option<Uuid>, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Outbox messages of one status, oldest first.
    async fn list_outbox(&mut self, status: OutboxStatus, page: &PageRequest)
    -> Result<Page<OutboxRecord>, StoreError>;

    /// A client's email log, newest first.
    async fn email_log(&mut self, client: ClientId, page: &PageRequest) -> Result<Page<EmailLogRecord>, StoreError>;
}
