//! Transfers (one send of files to chosen recipients) and the resumable

use async_trait::async_trait;
use ferry_domain::ids::BatchId;
use ferry_domain::quota::Bytes;
use time::OffsetDateTime;

use crate::records::{NewUpload, TransferRecord, UploadId, UploadRecord, UploadSegment};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Transfers (one send of files to chosen recipients) and the resumable
/// uploads in progress.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait TransferStore: Send {
    /// Records a transfer with its recipients.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice, client,
    /// connection, sender or recipient; [`StoreError::Duplicate`] for a
    /// recipient named twice.
    async fn insert_transfer(&mut self, transfer: &TransferRecord) -> Result<(), StoreError>;

    /// A transfer by id.
    async fn transfer(&mut self, id: BatchId) -> Result<Option<TransferRecord>, StoreError>;

    /// Marks an open transfer complete; returns false when it already was.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown transfer.
    async fn complete_transfer(&mut self, id: BatchId, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Records a resumable upload, with nothing received yet.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown transfer or uploader.
    async fn insert_upload(&mut self, upload: &NewUpload) -> Result<(), StoreError>;

    /// A resumable upload in progress, expired or not.
    async fn upload(&mut self, id: UploadId) -> Result<Option<UploadRecord>, StoreError>;

    /// The uploads in progress of a transfer.
    async fn uploads_of_transfer(&mut self, id: BatchId) -> Result<Vec<UploadRecord>, StoreError>;

    /// Appends the bytes one request delivered, and moves the upload's
    /// expiry to `expires_at`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown upload; [`StoreError::Conflict`]
    /// when the segment does not start where the upload stands (another
    /// request moved it) or runs past its declared length.
    async fn add_upload_segment(
        &mut self,
        id: UploadId,
        segment: &UploadSegment,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Declares the length of an upload created without one.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when a length was
    /// already declared or more bytes than `length` were received.
    async fn set_upload_length(&mut self, id: UploadId, length: Bytes) -> Result<(), StoreError>;

    /// An upload's segments, in file order.
    async fn upload_segments(&mut self, id: UploadId) -> Result<Vec<UploadSegment>, StoreError>;

    /// Forgets an upload and its segments (finished, terminated or
    /// abandoned) and returns the segments, whose blobs the caller deletes.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is already gone.
    async fn delete_upload(&mut self, id: UploadId) -> Result<Vec<UploadSegment>, StoreError>;

    /// Uploads whose expiry is before `at`, oldest first, at most `limit`.
    async fn expired_uploads(&mut self, at: OffsetDateTime, limit: u32) -> Result<Vec<UploadRecord>, StoreError>;
}
