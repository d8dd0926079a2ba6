//! Encrypted, streamed file storage.

use async_trait::async_trait;

/// Where a blob lives in the store: chosen by Ferry, never derived from a
/// user's file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// Wraps a key made by the caller from ids (such as `documents/<uuid>`).
    #[must_use]
    pub fn new(key: String) -> Self {
        Self(key)
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a committed upload was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobReceipt {
    /// Plaintext bytes.
    pub size: u64,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
}

/// A byte range of a blob's plaintext, `start` included, `end` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// No such blob.
    #[error("the file's content is missing from storage")]
    NotFound,
    /// The data key could not be unwrapped: wrong or missing master key.
    #[error("the file cannot be decrypted with the configured master key")]
    WrongKey,
    /// A chunk failed authentication: tampered, truncated or reordered.
    #[error("the stored file is corrupted")]
    Corrupted,
    /// The range lies outside the blob.
    #[error("the requested range is outside the file")]
    RangeNotSatisfiable,
    /// The backend cannot be reached now.
    #[error("file storage is unavailable: {0}")]
    Unavailable(String),
}

/// An upload in progress. Nothing is visible until [`commit`](Self::commit).
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BlobUpload: Send {
    /// Appends plaintext bytes.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`] when the backend fails.
    async fn write(&mut self, bytes: &[u8]) -> Result<(), BlobError>;

    /// Makes the blob visible and returns its size and SHA-256.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`]; nothing becomes visible then.
    async fn commit(self: Box<Self>) -> Result<BlobReceipt, BlobError>;

    /// Gives up: nothing becomes visible, and what was written is removed.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`]; a sweep removes leftovers later.
    async fn abort(self: Box<Self>) -> Result<(), BlobError>;
}

/// A download in progress.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BlobRead: Send {
    /// The next piece of plaintext, or `None` at the end.
    ///
    /// # Errors
    /// [`BlobError::Corrupted`], [`BlobError::WrongKey`] or [`BlobError::Unavailable`].
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, BlobError>;
}

/// The file store.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts an upload to `key`.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    async fn begin_upload(&self, key: &BlobKey) -> Result<Box<dyn BlobUpload>, BlobError>;

    /// Opens `key` for reading, the whole of it or `range` of its plaintext.
    ///
    /// # Errors
    /// [`BlobError::NotFound`], [`BlobError::RangeNotSatisfiable`], [`BlobError::WrongKey`] or
    /// [`BlobError::Unavailable`].
    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<Box<dyn BlobRead>, BlobError>;

    /// Deletes `key`. Deleting a missing blob is not an error.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// Whether `key` exists.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError>;
}
