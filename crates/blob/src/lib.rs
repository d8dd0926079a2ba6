//! Ferry's blob store: the [`BlobStore`] port on `object_store`, over a local
//! folder (the default), any S3-compatible bucket, or memory (for tests).
//! Files stream through in bounded memory and are encrypted at rest.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore, Keyring};
//! use ferry_ports::blob::{BlobKey, BlobStore};
//!
//! let keyring = Keyring::parse(&std::env::var(ferry_blob::MASTER_KEYS_VAR)?)?;
//! let location = BlobLocation::parse("file:///srv/ferry/blobs")?;
//! let store = EncryptedBlobStore::open(&location, keyring, BlobOptions::default())?;
//!
//! let key = BlobKey::parse("documents/0190f1c2-7d3e-7000-8000-000000000001")?;
//! let mut upload = store.begin_upload(&key).await?;
//! upload.write(b"the first bytes").await?;
//! let receipt = upload.commit().await?; // visible from here on
//!
//! let mut download = store.open(&key, None).await?;
//! while let Some(piece) = download.next_chunk().await? { /* send it on */ }
//! # let _ = receipt; Ok(()) }
//! ```
//!
//! # Encryption
//!
//! Every file gets a random 256-bit data key. Its content is cut into
//! plaintext chunks of 64 KiB (configurable, recorded per file) and each is
//! sealed with AES-256-GCM in the STREAM construction: the nonce is a
//! random per-file prefix, the chunk's index and a last-chunk flag, so a
//! reordered, dropped, cut-short or edited chunk fails authentication
//! ([`BlobError::Corrupted`]). The data key is wrapped (AES-256-GCM) by the
//! keyring's current master key and stored in a 113-byte versioned header
//! at the start of the object, with the master key's id; the wrap
//! authenticates the header and the blob's key. Older master keys stay in
//! the [`Keyring`] to read older files, so rotating a key is adding a new one
//! in front. A data key that does not unwrap is [`BlobError::WrongKey`].
//! Someone with the bucket but not the master key learns sizes, keys and
//! times, nothing of the content. The layout is documented in `src/format.rs`.
//!
//! Every chunk but the last has the same stored size (chunk + 16-byte tag),
//! so a range read fetches the header, then exactly the chunks the range
//! covers (on the condition that the object is still the one whose header it
//! read), and decrypts only those. A whole read is one request. A local file
//! is read at known offsets, three 256 KiB batches ahead of the caller, on
//! the blocking pool.
//!
//! # Uploads, commit and the sweep
//!
//! An upload holds its current part in memory: the caller's task hashes the
//! plaintext (SHA-256) and copies it into the part's buffer, leaving room for
//! each chunk's tag; a full part goes to a task that seals its chunks on the
//! blocking pool and stores it while the next part fills, with at most
//! `parts_in_flight` (default 2) parts in progress. Peak memory per upload is
//! about (parts in flight + 1) × part size. A local folder has no part limit
//! and keeps 1 MiB parts: 3 MiB per upload, whatever the file's size. On S3
//! parts start at 8 MiB (24 MiB per upload for files up to 8 GB) and double
//! every 1,000 parts, so that S3's 10,000-part limit never caps a file
//! (10,000 parts hold over 5 TiB, S3's largest object); memory grows only for
//! files beyond 8 GB, with their part size.
//!
//! Nothing is visible before the commit, by the backend's own atomic step:
//! - a file smaller than one part is stored with one `put` at commit (S3
//!   writes it atomically; the local folder writes a temporary file and
//!   renames it);
//! - a larger file is a multipart upload to its final name: on S3 (and in
//!   memory) it is invisible until `CompleteMultipartUpload`; in the local
//!   folder its parts go to a temporary file `<name>#<n>` that the commit
//!   renames into place (and, by default, fsyncs).
//!
//! Before anything reaches storage, a small marker object
//! `staging/<random>` records the upload's target (and S3 upload id).
//! Commit and abort delete it; an upload dropped without either is cleaned
//! up in the background. After a crash the marker remains, and
//! [`BlobStore::sweep`] undoes every upload whose marker is older than its
//! cutoff: it aborts the S3 multipart upload or deletes the temporary
//! files, then the marker. Long uploads re-write their marker at most every
//! ten minutes as parts go out, so a grace period of hours never catches a
//! live one (an upload that sends nothing for longer than the grace period
//! is taken for dead, and its commit then fails). One gap
//! remains on S3: a crash between creating a multipart upload and writing
//! its marker leaves an upload no marker names, so production buckets should
//! also have an `AbortIncompleteMultipartUpload` lifecycle rule.
//!
//! Committed blobs live under `blobs/<key>`, markers under `staging/`,
//! both below the `s3://bucket/prefix` prefix or in the folder.
//!
//! # Errors
//!
//! Missing object: [`BlobError::NotFound`]. Unknown or wrong master key, or
//! a header edited or copied from another blob: [`BlobError::WrongKey`]. Failed authentication, a size no file of this
//! format has, or a foreign header: [`BlobError::Corrupted`]. Anything the
//! backend reports: [`BlobError::Unavailable`] with its message. No
//! `object_store` type crosses the port.

mod backend;
mod download;
mod format;
mod keys;
mod location;
mod upload;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_ports::blob::{BlobEntry, BlobError, BlobKey, BlobList, BlobRead, BlobStore, BlobUpload, ByteRange};
use futures_util::StreamExt as _;
use futures_util::stream::{BoxStream, Fuse};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore as _, ObjectStoreExt as _, PutPayload};
use time::OffsetDateTime;

use crate::backend::{Backend, Storage, unavailable};
use crate::location::Kind;

pub use keys::{KeyFileError, KeySource, Keyring, KeyringError, MASTER_KEYS_VAR};
pub use location::{BlobLocation, BlobOptions, LocationError};

/// S3's smallest part (but the last).
const MIN_S3_PART_SIZE: usize = 5 * 1024 * 1024;

/// The default part size on S3 and in memory: 10,000 parts of it (growing)
/// reach S3's largest object.
const REMOTE_PART_SIZE: usize = 8 * 1024 * 1024;

/// The default part size in a local folder, which has no part limit: small
/// parts keep an upload's memory small.
const LOCAL_PART_SIZE: usize = 1024 * 1024;

/// How many entries a listing returns at once.
const LIST_BATCH: usize = 1_000;

/// Why a store could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The local folder cannot be created or used.
    #[error("cannot use the blob folder {path}: {reason}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The S3 settings are incomplete or inconsistent.
    #[error("cannot set up S3 blob storage: {0}")]
    S3(String),
    /// A [`BlobOptions`] value out of range.
    #[error("invalid blob storage option: {0}")]
    InvalidOption(&'static str),
}

/// The [`BlobStore`] port, encrypted at rest. Cheap to clone; clones share
/// the backend.
#[derive(Debug, Clone)]
pub struct EncryptedBlobStore {
    storage: Arc<Storage>,
    keyring: Arc<Keyring>,
    options: BlobOptions,
}

impl EncryptedBlobStore {
    /// Sets up a store at `location`. Touches nothing remote: an
    /// unreachable S3 server shows in the first operation.
    ///
    /// # Errors
    /// [`OpenError`] when the folder cannot be created, the S3 settings are
    /// incomplete, or an option is out of range.
    pub fn open(location: &BlobLocation, keyring: Keyring, options: BlobOptions) -> Result<Self, OpenError> {
        if options.chunk_size == 0 || options.chunk_size > format::MAX_CHUNK_SIZE {
            return Err(OpenError::InvalidOption("the chunk size must be 1 byte to 16 MiB"));
        }
        if options.part_size == Some(0) || options.parts_in_flight == 0 || options.parts_per_doubling == 0 {
            return Err(OpenError::InvalidOption("part size, parts in flight and parts per doubling must be positive"));
        }
        let storage = match &location.0 {
            Kind::Folder(path) => {
                let folder_error = |reason: String| OpenError::Folder { path: path.clone(), reason };
                std::fs::create_dir_all(path).map_err(|e| folder_error(e.to_string()))?;
                let fs = LocalFileSystem::new_with_prefix(path)
                    .map_err(|e| folder_error(e.to_string()))?
                    .with_fsync(options.fsync);
                let fs = Arc::new(fs);
                Storage { objects: fs.clone(), backend: Backend::Local(fs), prefix: None }
            }
            Kind::Memory => {
                let memory = Arc::new(InMemory::new());
                Storage { objects: memory.clone(), backend: Backend::Parts(memory), prefix: None }
            }
            Kind::S3(s3) => {
                if options.part_size.is_some_and(|size| size < MIN_S3_PART_SIZE) {
                    return Err(OpenError::InvalidOption("S3 needs parts of at least 5 MiB"));
                }
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(&s3.bucket);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if s3.allow_http {
                    builder = builder.with_allow_http(true);
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                let bucket = Arc::new(builder.build().map_err(|e| OpenError::S3(e.to_string()))?);
                let prefix = if s3.prefix.is_empty() {
                    None
                } else {
                    Some(Path::parse(&s3.prefix).map_err(|e| OpenError::S3(e.to_string()))?)
                };
                Storage { objects: bucket.clone(), backend: Backend::Parts(bucket), prefix }
            }
        };
        let default_part_size = match storage.backend {
            Backend::Local(_) => LOCAL_PART_SIZE,
            Backend::Parts(_) => REMOTE_PART_SIZE,
        };
        let options = BlobOptions { part_size: Some(options.part_size.unwrap_or(default_part_size)), ..options };
        Ok(Self { storage: Arc::new(storage), keyring: Arc::new(keyring), options })
    }

    /// A store in memory with a fresh random key: for tests and tools that
    /// need a file store that forgets everything when dropped.
    ///
    /// # Panics
    /// When the system has no randomness to make a key from.
    #[must_use]
    pub fn in_memory() -> Self {
        let entry = Keyring::generate_entry("memory").expect("the system provides randomness");
        let keyring = Keyring::parse(&entry).expect("a generated entry parses");
        Self::open(&BlobLocation::memory(), keyring, BlobOptions::default()).expect("the default options are valid")
    }

    /// The same storage with another keyring: after a key rotation, or to
    /// check which files a keyring can read.
    #[must_use]
    pub fn with_keyring(&self, keyring: Keyring) -> Self {
        Self { keyring: Arc::new(keyring), ..self.clone() }
    }

    /// The bytes stored for `key`, encrypted as they are: for repair tools
    /// and tests. Reads the whole object into memory.
    ///
    /// # Errors
    /// [`BlobError::NotFound`] or [`BlobError::Unavailable`].
    pub async fn read_stored(&self, key: &BlobKey) -> Result<Vec<u8>, BlobError> {
        let location = self.storage.blob_path(key);
        let result = match self.storage.objects.get(&location).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Err(BlobError::NotFound),
            Err(e) => return Err(unavailable("reading a file", &e)),
        };
        let bytes = result.bytes().await.map_err(|e| unavailable("reading a file", &e))?;
        Ok(bytes.to_vec())
    }

    /// Replaces the bytes stored for `key` as they are, bypassing
    /// encryption: for restoring a backup of [`read_stored`](Self::read_stored)
    /// and for tests.
    ///
    /// # Errors
    /// [`BlobError::Unavailable`].
    pub async fn write_stored(&self, key: &BlobKey, stored: Vec<u8>) -> Result<(), BlobError> {
        let location = self.storage.blob_path(key);
        self.storage
            .objects
            .put(&location, PutPayload::from(Bytes::from(stored)))
            .await
            .map(|_| ())
            .map_err(|e| unavailable("storing a file", &e))
    }
}

#[async_trait]
impl BlobStore for EncryptedBlobStore {
    async fn begin_upload(&self, key: &BlobKey) -> Result<Box<dyn BlobUpload>, BlobError> {
        let (header, cipher) = format::new_header(&self.keyring, key.as_str(), self.options.chunk_size)?;
        let location = self.storage.blob_path(key);
        Ok(Box::new(upload::Upload::new(Arc::clone(&self.storage), self.options.clone(), location, header, cipher)))
    }

    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<Box<dyn BlobRead>, BlobError> {
        Ok(Box::new(download::open(&self.storage, &self.keyring, key, range).await?))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match self.storage.objects.delete(&self.storage.blob_path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(unavailable("deleting a file", &e)),
        }
    }

    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        match self.storage.objects.head(&self.storage.blob_path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(unavailable("looking for a file", &e)),
        }
    }

    async fn list<'a>(&self, prefix: Option<&'a BlobKey>) -> Result<Box<dyn BlobList>, BlobError> {
        let root = self.storage.blobs_root(prefix);
        let objects = self.storage.objects.list(Some(&root)).fuse();
        Ok(Box::new(Listing { objects, storage: Arc::clone(&self.storage) }))
    }

    async fn sweep(&self, older_than: OffsetDateTime) -> Result<u64, BlobError> {
        self.storage.sweep(older_than).await
    }
}

/// See [`BlobList`].
struct Listing {
    objects: Fuse<BoxStream<'static, object_store::Result<ObjectMeta>>>,
    storage: Arc<Storage>,
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listing").finish_non_exhaustive()
    }
}

#[async_trait]
impl BlobList for Listing {
    async fn next_batch(&mut self) -> Result<Option<Vec<BlobEntry>>, BlobError> {
        let mut batch = Vec::new();
        while batch.len() < LIST_BATCH {
            let Some(meta) = self.objects.next().await else { break };
            let meta = meta.map_err(|e| unavailable("listing files", &e))?;
            let Some(key) = self.storage.key_of(&meta.location) else {
                tracing::warn!(location = %meta.location, "ignoring an object that is not a blob");
                continue;
            };
            let nanos = i128::from(meta.last_modified.timestamp()) * 1_000_000_000
                + i128::from(meta.last_modified.timestamp_subsec_nanos());
            let committed_at = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
            batch.push(BlobEntry { key, committed_at });
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}
