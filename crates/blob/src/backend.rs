//! The object store under the blobs: names, staging markers and the sweep.

use std::sync::Arc;

use bytes::Bytes;
use ferry_ports::blob::{BlobError, BlobKey};
use futures_util::StreamExt as _;
use object_store::local::LocalFileSystem;
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use time::OffsetDateTime;

/// Where committed blobs live, under the store's prefix.
const BLOBS: &str = "blobs";
/// Where the markers of uploads in progress live, under the store's prefix.
const STAGING: &str = "staging";
/// First line of a marker, so the sweep never acts on a stranger's object.
const MARKER_MAGIC: &str = "ferry-blob upload v1";

/// The two ways an upload reaches storage before its commit.
pub(crate) enum Backend {
    /// A local folder: object_store writes parts into a temporary file
    /// `<name>#<n>` next to the target, and renames it on commit.
    Local(Arc<LocalFileSystem>),
    /// S3 (and memory, which behaves the same): a multipart upload whose id
    /// we keep, invisible until `CompleteMultipartUpload`.
    Parts(Arc<dyn MultipartStore>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Local(_) => "Local",
            Self::Parts(_) => "Parts",
        })
    }
}

/// The object store and how blobs are named in it.
pub(crate) struct Storage {
    pub(crate) objects: Arc<dyn ObjectStore>,
    pub(crate) backend: Backend,
    /// The `s3://bucket/prefix` prefix; empty for a folder or memory.
    pub(crate) prefix: Option<Path>,
}

impl std::fmt::Debug for Storage {
    /// The store's own summary (such as `AmazonS3(bucket)`), not its whole
    /// configuration.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("objects", &format_args!("{}", self.objects))
            .field("backend", &self.backend)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Storage {
    fn under(&self, parts: &[&str]) -> Path {
        let mut path = self.prefix.clone().unwrap_or_default();
        for part in parts {
            path = path.join(*part);
        }
        path
    }

    /// Where a blob is stored.
    pub(crate) fn blob_path(&self, key: &BlobKey) -> Path {
        // INVARIANT: `BlobKey::parse` only accepts non-empty segments of
        // `[A-Za-z0-9._-]` that are not `.` or `..`, which object_store keeps
        // as they are; `#` (the local folder's temporary-file marker) cannot occur.
        let mut path = self.under(&[BLOBS]);
        for segment in key.as_str().split('/') {
            path = path.join(segment);
        }
        path
    }

    /// The folder of every committed blob whose key starts with `prefix`.
    pub(crate) fn blobs_root(&self, prefix: Option<&BlobKey>) -> Path {
        prefix.map_or_else(|| self.under(&[BLOBS]), |p| self.blob_path(p))
    }

    /// The key of a listed blob, or `None` for a stray object.
    pub(crate) fn key_of(&self, path: &Path) -> Option<BlobKey> {
        let root = self.under(&[BLOBS]);
        let rest: Vec<_> = path.prefix_match(&root)?.map(|p| p.as_ref().to_owned()).collect();
        BlobKey::parse(&rest.join("/")).ok()
    }

    /// A fresh marker name for an upload in progress.
    pub(crate) fn new_marker_path(&self) -> Result<Path, BlobError> {
        let mut id = [0u8; 16];
        crate::format::random(&mut id)?;
        Ok(self.under(&[STAGING, &hex::encode(id)]))
    }

    /// Records that an upload to `target` is in progress (with its multipart
    /// id on S3), so that a sweep can undo it if it is never finished.
    pub(crate) async fn put_marker(&self, marker: &Path, target: &Path, upload_id: &str) -> Result<(), BlobError> {
        let body = format!("{MARKER_MAGIC}\n{target}\n{upload_id}\n");
        self.objects
            .put(marker, PutPayload::from(Bytes::from(body)))
            .await
            .map(|_| ())
            .map_err(|e| unavailable("recording an upload in progress", &e))
    }

    /// Deletes a marker once its upload is committed or aborted. A failure
    /// is only logged: the sweep deletes the marker later, and undoing a
    /// finished upload is harmless.
    pub(crate) async fn drop_marker(&self, marker: &Path) {
        if let Err(error) = self.objects.delete(marker).await
            && !matches!(error, object_store::Error::NotFound { .. })
        {
            tracing::warn!(%marker, %error, "could not delete an upload marker; the sweep will");
        }
    }

    /// Undoes an unfinished upload: aborts its multipart upload or deletes
    /// its temporary files, leaving committed blobs alone.
    pub(crate) async fn undo_upload(
        &self,
        target: &Path,
        upload_id: &str,
        older_than: Option<OffsetDateTime>,
    ) -> Result<(), BlobError> {
        match &self.backend {
            Backend::Parts(parts) if !upload_id.is_empty() => {
                match parts.abort_multipart(target, &upload_id.to_owned()).await {
                    // Already completed or aborted.
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(unavailable("abandoning an upload", &e)),
                }
            }
            Backend::Parts(_) => Ok(()),
            Backend::Local(fs) => {
                let file = fs.path_to_filesystem(target).map_err(|e| unavailable("abandoning an upload", &e))?;
                tokio::task::spawn_blocking(move || remove_temporary_files(&file, older_than))
                    .await
                    .map_err(|e| BlobError::Unavailable(format!("abandoning an upload: {e}")))?
            }
        }
    }

    /// See [`ferry_ports::blob::BlobStore::sweep`]: every marker older than
    /// `older_than` names an upload that was never finished; undo it, then
    /// delete the marker.
    pub(crate) async fn sweep(&self, older_than: OffsetDateTime) -> Result<u64, BlobError> {
        let cutoff = older_than.unix_timestamp_nanos();
        let staging = self.under(&[STAGING]);
        let mut listing = self.objects.list(Some(&staging));
        let mut stale = Vec::new();
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(|e| unavailable("listing uploads in progress", &e))?;
            let modified = i128::from(meta.last_modified.timestamp()) * 1_000_000_000
                + i128::from(meta.last_modified.timestamp_subsec_nanos());
            if modified < cutoff {
                stale.push(meta.location);
            }
        }
        let mut swept = 0;
        for marker in stale {
            let body = match self.objects.get(&marker).await {
                Ok(result) => result.bytes().await.map_err(|e| unavailable("reading an upload marker", &e))?,
                // Another sweep got there first.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(unavailable("reading an upload marker", &e)),
            };
            let text = String::from_utf8_lossy(&body);
            let mut lines = text.lines();
            match (lines.next(), lines.next().map(Path::parse), lines.next()) {
                (Some(MARKER_MAGIC), Some(Ok(target)), Some(upload_id)) => {
                    self.undo_upload(&target, upload_id, Some(older_than)).await?;
                }
                _ => tracing::warn!(%marker, "deleting an upload marker that cannot be read"),
            }
            match self.objects.delete(&marker).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => swept += 1,
                Err(e) => return Err(unavailable("deleting an upload marker", &e)),
            }
        }
        if swept > 0 {
            tracing::info!(swept, "removed unfinished uploads");
        }
        Ok(swept)
    }
}

/// Deletes the temporary files object_store's local folder writes an upload
/// to (`<name>#<digits>` next to `file`), when modified before `older_than`
/// (always, when `None`).
fn remove_temporary_files(file: &std::path::Path, older_than: Option<OffsetDateTime>) -> Result<(), BlobError> {
    let (Some(folder), Some(name)) = (file.parent(), file.file_name().and_then(|n| n.to_str())) else {
        return Ok(());
    };
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(BlobError::Unavailable(format!("listing {}: {e}", folder.display()))),
    };
    for entry in entries {
        let entry = entry.map_err(|e| BlobError::Unavailable(format!("listing {}: {e}", folder.display())))?;
        let entry_name = entry.file_name();
        let Some(suffix) = entry_name.to_str().and_then(|n| n.strip_prefix(name)).and_then(|n| n.strip_prefix('#'))
        else {
            continue;
        };
        if suffix.is_empty() || !suffix.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let old_enough = match older_than {
            None => true,
            Some(cutoff) => entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| OffsetDateTime::from(modified) < cutoff),
        };
        if old_enough {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(BlobError::Unavailable(format!("deleting {}: {e}", entry.path().display()))),
            }
        }
    }
    Ok(())
}

/// A backend failure as the port's error.
pub(crate) fn unavailable(action: &str, error: &object_store::Error) -> BlobError {
    BlobError::Unavailable(format!("{action}: {error}"))
}
