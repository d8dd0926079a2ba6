//! Encrypted, streamed file storage.

use async_trait::async_trait;
use time::OffsetDateTime;

/// Where a blob lives in the store: chosen by Ferry from ids (such as
/// `documents/<uuid>`), never derived from a user's file name.
///
/// One to 512 bytes of `/`-separated segments, each made of ASCII letters,
/// digits, `.`, `_` or `-` and neither `.` nor `..`, so that every backend
/// (a folder, S3) stores it under the same name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

/// Why a string is not a [`BlobKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a storage key must be 1 to 512 characters of `/`-separated segments made of letters, digits, '.', '_' or '-'")]
pub struct InvalidBlobKey;

impl BlobKey {
    /// Longest key, in bytes.
    pub const MAX_LEN: usize = 512;

    /// Checks a key made by the caller from ids (such as `documents/<uuid>`).
    ///
    /// # Errors
    /// [`InvalidBlobKey`] when `key` is empty, too long, has an empty, `.` or
    /// `..` segment, or a character outside letters, digits, `.`, `_`, `-`
    /// and the `/` between segments.
    pub fn parse(key: &str) -> Result<Self, InvalidBlobKey> {
        let segment_ok = |segment: &str| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        if key.len() > Self::MAX_LEN || !key.split('/').all(segment_ok) {
            return Err(InvalidBlobKey);
        }
        Ok(Self(key.to_owned()))
    }

    /// The key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
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
pub use ferry_domain::exchange::ByteRange;

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

/// One committed blob, as a listing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEntry {
    /// Its key.
    pub key: BlobKey,
    /// When it was committed (the backend's last-modified time).
    pub committed_at: OffsetDateTime,
}

/// A listing in progress, for consistency checks and garbage collection.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait BlobList: Send {
    /// The next batch of committed blobs, in no particular order, or `None`
    /// at the end. Uploads in progress never appear.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`] when the backend fails.
    async fn next_batch(&mut self) -> Result<Option<Vec<BlobEntry>>, BlobError>;
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

    /// Lists the committed blobs whose keys start with the segments of
    /// `prefix` (`documents` lists `documents/…`; `None` lists every blob).
    /// A garbage collector must spare blobs committed recently: an upload is
    /// committed before the database records it.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    async fn list<'a>(&self, prefix: Option<&'a BlobKey>) -> Result<Box<dyn BlobList>, BlobError>;

    /// Removes what uploads started before `older_than` left behind without
    /// committing or aborting (a crash, a lost connection), and returns how
    /// many such uploads it cleaned up. Committed blobs are never touched.
    /// Uploads still running when they are older than `older_than` are
    /// removed too, so callers pass a grace period far longer than an upload
    /// takes (hours, not minutes).
    ///
    /// # Errors
    /// [`BlobError::Unavailable`]; a later sweep retries what this one left.
    async fn sweep(&self, older_than: OffsetDateTime) -> Result<u64, BlobError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, valid: bool) {
        assert_eq!(BlobKey::parse(key).is_ok(), valid, "{key:?}");
    }

    #[test]
    fn blob_keys_are_plain_path_segments() {
        check("documents/0190f1c2-7d3e-7000-8000-000000000001", true);
        check("a", true);
        check("a/b.c_d-e", true);
        check(&"x".repeat(BlobKey::MAX_LEN), true);
        check(&"x".repeat(BlobKey::MAX_LEN + 1), false);
        for bad in ["", "/a", "a/", "a//b", ".", "a/..", "a/./b", "a b", "a#1", "a\\b", "é", "a?b", "a%2F"] {
            check(bad, false);
        }
    }
}
