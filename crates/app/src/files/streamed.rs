//! A transfer streamed in one request (multipart `POST /transfers`): quota
//! is reserved first (the request's length when known, else in steps as
//! bytes arrive), each file's bytes go straight into the file store under
//! `documents/<id>`, and one last transaction re-checks scope, settles the
//! reservation to the bytes really stored, and records the transfer, its
//! documents, the audit entry and the mail. Nothing of a transfer that does
//! not finish is kept.

use ferry_domain::exchange::{display_name, sniff_content_type};
use ferry_domain::ids::{BatchId, DocumentId};
use ferry_domain::quota::QuotaExceeded;
use ferry_ports::blob::{BlobKey, BlobUpload};
use ferry_ports::records::DocumentRecord;

use super::{SendRequest, StoredFile, TransferView, blob_key, keep_head};
use crate::lease::{GROWTH_STEP, Lease};
use crate::{App, AppError, Principal};

/// Bytes of a multipart request that are not file content (boundaries and
/// part headers), tolerated when the request's length is checked against
/// what is left of an allowance.
pub const MULTIPART_FRAMING_ALLOWANCE: u64 = 64 * 1024;

/// The file being written.
struct FileInProgress {
    id: DocumentId,
    name: String,
    key: BlobKey,
    upload: Box<dyn BlobUpload>,
    head: Vec<u8>,
}

/// A transfer being streamed in one request: begin each file, write its
/// bytes, end it, and finish the transfer (or abort it). Dropping it
/// unfinished gives its reservation back and removes its files.
pub struct Outgoing {
    app: App,
    who: Principal,
    request: SendRequest,
    batch: BatchId,
    /// The quota it holds: as much as the request's length, or growing as bytes arrive.
    lease: Lease,
    written: u64,
    files: Vec<StoredFile>,
    current: Option<FileInProgress>,
    settled: bool,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing").field("batch", &self.batch).field("written", &self.written).finish_non_exhaustive()
    }
}

impl App {
    /// Starts a transfer streamed in one request. `expected` is the
    /// request's length when known: a transfer that cannot fit is refused
    /// now, before any byte is kept (allowing [`MULTIPART_FRAMING_ALLOWANCE`]
    /// for the request's framing).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client or connection out of scope,
    /// [`AppError::Forbidden`] for senders who may not send (bookkeepers),
    /// [`AppError::Invalid`] naming `to` for a recipient who cannot receive,
    /// [`AppError::Quota`] naming the allowance and what is left.
    pub async fn start_transfer(
        &self,
        who: &Principal,
        request: SendRequest,
        expected: Option<u64>,
    ) -> Result<Outgoing, AppError> {
        let practice = {
            let mut work = self.read(who).await?;
            work.route(&request).await?.practice.id
        };
        // The request's length counts its framing too: when it does not fit,
        // what is left may still hold its files. Then what is left is
        // reserved, and the stream is stopped if its files need more.
        let fewer = |exceeded: &QuotaExceeded| {
            let left = exceeded.remaining.get();
            let fits = expected.is_none_or(|e| e <= left.saturating_add(MULTIPART_FRAMING_ALLOWANCE));
            (fits && left > 0).then(|| left.min(expected.unwrap_or(left)))
        };
        let lease = Lease::open_fitting(self, who, practice, expected.unwrap_or(GROWTH_STEP), fewer).await?;
        Ok(Outgoing {
            app: self.clone(),
            who: *who,
            request,
            batch: BatchId::from_uuid(self.new_id()),
            lease,
            written: 0,
            files: Vec::new(),
            current: None,
            settled: false,
        })
    }
}

impl Outgoing {
    /// The batch id the documents will carry.
    #[must_use]
    pub const fn batch(&self) -> BatchId {
        self.batch
    }

    /// Starts the next file, named as the sender's system named it.
    ///
    /// # Errors
    /// [`AppError::Invalid`] past [`crate::AppConfig::max_files_per_transfer`];
    /// [`AppError::Unavailable`] when file storage fails.
    pub async fn begin_file(&mut self, name: &str) -> Result<(), AppError> {
        self.end_file().await?;
        if self.files.len() >= self.app.inner.config.max_files_per_transfer {
            return Err(AppError::invalid(
                "file",
                format!("a transfer carries at most {} files", self.app.inner.config.max_files_per_transfer),
            ));
        }
        let id = DocumentId::from_uuid(self.app.new_id());
        let key = blob_key("documents", id.as_uuid())?;
        let upload = self.app.inner.blobs.begin_upload(&key).await?;
        self.current = Some(FileInProgress { id, name: display_name(name), key, upload, head: Vec::new() });
        Ok(())
    }

    /// Appends bytes to the current file, reserving more quota as needed.
    ///
    /// # Errors
    /// [`AppError::Quota`] when the transfer runs past an allowance (then
    /// nothing of it is kept once it is aborted or dropped);
    /// [`AppError::Invalid`] when no file was begun.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        if self.current.is_none() {
            return Err(AppError::invalid("file", "file content came before its part began"));
        }
        let needed = self.written + bytes.len() as u64;
        if needed > self.lease.held() {
            self.lease.grow(needed - self.lease.held()).await?;
        } else {
            self.lease.keep_alive().await?;
        }
        let current = self.current.as_mut().ok_or_else(|| AppError::invalid("file", "no file begun"))?;
        keep_head(&mut current.head, bytes);
        current.upload.write(bytes).await?;
        self.written = needed;
        Ok(())
    }

    /// Ends the current file, if any: its bytes are stored (not yet visible).
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when file storage fails.
    pub async fn end_file(&mut self) -> Result<(), AppError> {
        let Some(file) = self.current.take() else { return Ok(()) };
        let receipt = file.upload.commit().await?;
        let content_type = sniff_content_type(&file.head, &file.name);
        self.files.push(StoredFile { id: file.id, name: file.name, key: file.key, content_type, receipt });
        Ok(())
    }

    /// Records the transfer: its documents become visible, usage is
    /// counted, and each recipient is told once. Scope is checked again.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `file` when no file was sent; the
    /// errors of [`App::start_transfer`] when scope changed meanwhile. The
    /// transfer is aborted then: nothing is kept.
    pub async fn finish(mut self) -> Result<TransferView, AppError> {
        match self.record().await {
            Ok(view) => {
                self.settled = true;
                Ok(view)
            }
            Err(error) => {
                self.abort().await;
                Err(error)
            }
        }
    }

    async fn record(&mut self) -> Result<TransferView, AppError> {
        self.end_file().await?;
        if self.files.is_empty() {
            return Err(AppError::invalid("file", "send at least one file"));
        }
        let mut work = self.app.write(&self.who).await?;
        let route = work.route(&self.request).await?;
        let now = work.now;
        let lapsed = "the transfer took too long and its reservation lapsed; send it again";
        self.lease.settle_in(&mut work, self.written, lapsed).await?;
        let transfer = route.transfer(self.batch, now, Some(now));
        work.tx.insert_transfer(&transfer).await?;
        let mut documents = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let document = route.document(self.batch, &transfer.recipients, file, now);
            work.tx.insert_document(&document).await?;
            documents.push(DocumentRecord::unread(document));
        }
        work.audit(
            "transfer.send",
            Some(route.practice.id),
            route.client,
            Some(self.batch.as_uuid()),
            format!("{} files, {} bytes, {} recipients", documents.len(), self.written, route.recipients.len()),
        )
        .await?;
        work.notify_recipients(&route, self.batch, &documents).await?;
        work.warn_at_80_percent(&route.practice).await?;
        work.commit().await?;
        Ok(TransferView { transfer, documents })
    }

    /// Gives up: the files written are removed and the reservation given back.
    pub async fn abort(mut self) {
        self.settled = true;
        let current = self.current.take();
        let keys: Vec<BlobKey> = self.files.drain(..).map(|f| f.key).collect();
        cleanup(self.app.clone(), self.lease.take(), current, keys).await;
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Dropped mid-way (the request's task was cancelled): clean up in the background.
        let current = self.current.take();
        let keys: Vec<BlobKey> = self.files.drain(..).map(|f| f.key).collect();
        let (app, lease) = (self.app.clone(), self.lease.take());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(cleanup(app, lease, current, keys));
        }
    }
}

/// Removes what a transfer that will not finish wrote, and releases its quota.
async fn cleanup(app: App, lease: Lease, current: Option<FileInProgress>, keys: Vec<BlobKey>) {
    if let Some(file) = current
        && let Err(e) = file.upload.abort().await
    {
        tracing::warn!(error = %e, "an aborted upload left bytes behind; the next sweep removes them");
    }
    for key in keys {
        if let Err(e) = app.inner.blobs.delete(&key).await {
            tracing::warn!(error = %e, key = %key, "could not remove an abandoned file; ferry-admin check finds it");
        }
    }
    lease.release().await;
}
