//! The bytes of one request of a resumable upload: written into a segment
//! blob as they arrive (quota reserved ahead when the upload's length is
//! not known), checked against the request's checksum, and kept as one
//! committed segment — or, cut short or refused, not kept at all.

use ferry_ports::blob::{BlobKey, BlobUpload};
use ferry_ports::records::{DocumentRecord, UploadRecord, UploadSegment};
use time::OffsetDateTime;

use super::Checksum;
use super::checksum::RunningChecksum;
use crate::lease::Lease;
use crate::{App, AppError, Principal};

/// The bytes of one request of a resumable upload, arriving.
pub struct Appender {
    app: App,
    who: Principal,
    upload: UploadRecord,
    /// The upload's reservation; what it holds is what this request reserved.
    lease: Lease,
    key: BlobKey,
    blob: Option<Box<dyn BlobUpload>>,
    written: u64,
    check: Option<RunningChecksum>,
}

impl Drop for Appender {
    fn drop(&mut self) {
        // Dropped before `finish` (the request's task was cancelled): nothing
        // of this request is kept, so give back all it reserved.
        if self.lease.held() > 0
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let mut lease = self.lease.take();
            runtime.spawn(async move { lease.give_back_beyond(0).await });
        }
    }
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender").field("upload", &self.upload.upload.id).field("written", &self.written).finish()
    }
}

/// What one request of a resumable upload achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Where the upload stands now.
    pub offset: u64,
    /// When it stays open, when it expires.
    pub expires_at: OffsetDateTime,
    /// The document, when this request delivered the last byte.
    pub document: Option<DocumentRecord>,
}

impl Appender {
    pub(super) fn new(
        app: &App,
        who: &Principal,
        upload: UploadRecord,
        lease: Lease,
        key: BlobKey,
        blob: Box<dyn BlobUpload>,
        checksum: Option<Checksum>,
    ) -> Self {
        let check = checksum.map(RunningChecksum::new);
        Self { app: app.clone(), who: *who, upload, lease, key, blob: Some(blob), written: 0, check }
    }

    /// Takes the next bytes of the request.
    ///
    /// # Errors
    /// [`AppError::Invalid`] when they run past the upload's length;
    /// [`AppError::Quota`] when an upload of unknown length runs past an allowance.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        let offset = self.upload.received.get() + self.written + bytes.len() as u64;
        match self.upload.upload.length {
            Some(total) if offset > total.get() => {
                return Err(AppError::invalid(
                    "Content-Length",
                    format!("the bytes run past the upload's length of {}", total.get()),
                ));
            }
            None if self.written + bytes.len() as u64 > self.lease.held() => {
                self.lease.grow(self.written + bytes.len() as u64 - self.lease.held()).await?;
            }
            _ => {}
        }
        let blob = self.blob.as_mut().ok_or_else(|| AppError::Internal("bytes after the end".into()))?;
        blob.write(bytes).await?;
        if let Some(check) = &mut self.check {
            check.update(bytes);
        }
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Keeps what arrived. With a checksum, only when the bytes match it
    /// and arrived whole (`complete`); a request cut short keeps what
    /// arrived only without one, as tus asks. When the last byte of the
    /// file arrived, the file becomes a document of its transfer.
    ///
    /// # Errors
    /// [`AppError::ChecksumMismatch`] (nothing kept); [`AppError::Conflict`]
    /// when another request moved the upload meanwhile (nothing kept).
    pub async fn finish(mut self, complete: bool) -> Result<Appended, AppError> {
        let Some(blob) = self.blob.take() else { return Err(AppError::Internal("finished twice".into())) };
        let matches = match self.check.take() {
            None => true,
            // A checksum covers the whole request: a request cut short cannot match it.
            Some(_) if !complete => false,
            Some(check) => check.matches(),
        };
        if !matches || self.written == 0 {
            let _ = blob.abort().await;
            self.lease.give_back_beyond(0).await;
            if !matches {
                return Err(AppError::ChecksumMismatch);
            }
            // Nothing new; but an upload whose every byte is already here
            // (an empty file) is finished by this request.
            let offset = self.upload.received.get();
            let document = if self.upload.upload.length.is_some_and(|l| l.get() == offset) {
                Some(self.app.assemble(&self.who, self.upload.upload.id).await?)
            } else {
                None
            };
            return Ok(Appended { offset, expires_at: self.upload.upload.expires_at, document });
        }
        let receipt = blob.commit().await?;
        let segment = UploadSegment {
            first_byte: self.upload.received.get(),
            size: receipt.size,
            blob_key: self.key.as_str().to_owned(),
        };
        let kept = async {
            let mut work = self.app.write(&self.who).await?;
            work.own_upload(self.upload.upload.id).await?;
            let expires_at = self.lease.expiry(work.now);
            work.tx.add_upload_segment(self.upload.upload.id, &segment, expires_at).await?;
            work.commit().await?;
            Ok::<OffsetDateTime, AppError>(expires_at)
        }
        .await;
        let expires_at = match kept {
            Ok(expires_at) => expires_at,
            Err(e) => {
                let _ = self.app.inner.blobs.delete(&self.key).await;
                self.lease.give_back_beyond(0).await;
                return Err(e);
            }
        };
        self.lease.give_back_beyond(segment.size).await;
        let offset = segment.first_byte + segment.size;
        let document = if self.upload.upload.length.is_some_and(|l| l.get() == offset) {
            Some(self.app.assemble(&self.who, self.upload.upload.id).await?)
        } else {
            None
        };
        Ok(Appended { offset, expires_at, document })
    }
}
