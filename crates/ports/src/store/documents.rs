//! Documents: committed files, their recipients and download receipts.

use async_trait::async_trait;
use ferry_domain::ids::{BatchId, ClientId, DocumentId, UserId};
use time::OffsetDateTime;

use crate::records::{DocumentRecord, Mailbox, NewDocument, Page, PageRequest};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Documents: committed files, their recipients and download receipts.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait DocumentStore: Send {
    /// Records a committed document and its recipients.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice, client,
    /// connection, uploader or recipient.
    async fn insert_document(&mut self, document: &NewDocument) -> Result<(), StoreError>;

    /// A live document by id.
    async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRecord>, StoreError>;

    /// A client's live documents, newest first.
    async fn list_documents_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError>;

    /// Records a download by `user`; returns true when it was their first.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown document.
    async fn record_download(&mut self, id: DocumentId, user: UserId, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Deletes a document and frees its storage at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or already deleted document.
    async fn delete_document(&mut self, id: DocumentId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// A user's live documents, newest first: those sent to them (`Inbox`)
    /// or by them (`Outbox`).
    async fn list_documents_of_user(
        &mut self,
        user: UserId,
        mailbox: Mailbox,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError>;

    /// The live documents of one transfer, in the order they were recorded.
    async fn list_documents_of_transfer(&mut self, id: BatchId) -> Result<Vec<DocumentRecord>, StoreError>;
}
