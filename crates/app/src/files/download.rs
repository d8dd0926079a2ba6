//! Downloads: scope checked, the bytes reserved against the month's
//! throughput (refused when they do not fit) and counted as they are read,
//! the first download of each recipient recorded and its sender told.

use ferry_domain::access::Action;
use ferry_domain::exchange::{ByteRange, RangeRequest};
use ferry_domain::ids::DocumentId;
use ferry_ports::blob::{BlobKey, BlobRead};
use ferry_ports::records::DocumentRecord;

use crate::lease::{Counts, Lease};
use crate::{App, AppError, Principal};

/// A download, ready to stream.
pub struct Download {
    /// The document.
    pub document: DocumentRecord,
    /// The bytes served, when a range was asked for.
    pub range: Option<ByteRange>,
    /// The plaintext, chunk by chunk.
    pub body: Box<dyn BlobRead>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download").field("document", &self.document.document.id).field("range", &self.range).finish()
    }
}

impl App {
    /// Opens a document for download, the whole or `range`: counts its bytes
    /// against the practice's throughput, records a recipient's first
    /// download and sends its sender a receipt then.
    ///
    /// # Errors
    /// [`AppError::NotFound`] out of scope; [`AppError::RangeNotSatisfiable`];
    /// [`AppError::Quota`] when the month's throughput is used up.
    pub async fn download(
        &self,
        who: &Principal,
        id: DocumentId,
        range: Option<RangeRequest>,
    ) -> Result<Download, AppError> {
        // Scope first, in a read transaction; the file is opened (its header
        // read from storage) outside any write transaction, which on SQLite
        // would hold the database's one write lock across that I/O.
        let checked = {
            let mut work = self.read(who).await?;
            work.document(Action::DownloadDocument, id).await?
        };
        let size = checked.document.size.get();
        let range = range.map(|r| r.resolve(size)).transpose().map_err(|_| AppError::RangeNotSatisfiable { size })?;
        let bytes = range.map_or(size, ByteRange::len);
        let key = BlobKey::parse(&checked.document.blob_key).map_err(|e| AppError::Internal(e.to_string()))?;
        let body = self.inner.blobs.open(&key, range).await.map_err(|e| match e {
            ferry_ports::blob::BlobError::NotFound => {
                tracing::error!(document = %id, "a document's content is missing from file storage");
                AppError::Unavailable("this file's content is missing from storage; the operator has been told".into())
            }
            other => other.into(),
        })?;
        // Then the accounting, with scope checked again in the same
        // transaction: the bytes are reserved against throughput now (refused
        // when they do not fit) and counted as they are read (`Metered`).
        let mut work = self.write(who).await?;
        let record = work.document(Action::DownloadDocument, id).await?;
        let document = &record.document;
        let lease = if bytes > 0 {
            let counts = Counts::Download { practice: document.practice };
            let lasting = self.inner.config.reservation_ttl;
            Some(Lease::open(&mut work, who, document.practice, counts, bytes, lasting).await?)
        } else {
            None
        };
        let user = work.user()?;
        if work.tx.record_download(id, user, work.now).await? && document.uploader != user {
            work.send_receipt(&record, user).await?;
        }
        work.audit(
            "document.download",
            Some(document.practice),
            document.client,
            Some(id.as_uuid()),
            match range {
                Some(r) => format!("bytes {}-{} of {size}", r.start, r.end.saturating_sub(1)),
                None => format!("{size} bytes"),
            },
        )
        .await?;
        if bytes > 0 {
            let practice = work.practice_record(document.practice).await?;
            work.warn_at_80_percent(&practice).await?;
        }
        work.commit().await?;
        let body = match lease {
            Some(lease) => Box::new(Metered { body, lease, read: 0, settled: false }),
            None => body,
        };
        Ok(Download { document: record, range, body })
    }
}

/// A download's bytes, counted against throughput as they are read from
/// storage (the web layer reads them as the client takes them): the
/// download's lease is settled with what was read, at the last byte, or
/// when the download is dropped half-way (the client went away), so a
/// broken download counts only what it moved.
struct Metered {
    body: Box<dyn BlobRead>,
    /// Holds the bytes of the file or the range.
    lease: Lease,
    read: u64,
    settled: bool,
}

#[async_trait::async_trait]
impl BlobRead for Metered {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ferry_ports::blob::BlobError> {
        let chunk = self.body.next_chunk().await?;
        match &chunk {
            // Settled before the last bytes leave, so that whoever has read
            // them all also sees them counted.
            Some(bytes) => {
                self.read += bytes.len() as u64;
                if self.read >= self.lease.held() {
                    self.settle().await;
                } else if let Err(e) = self.lease.keep_alive().await {
                    tracing::warn!(error = %e, "could not renew a long download's reservation; its bytes are counted at its end");
                }
            }
            None => self.settle().await,
        }
        Ok(chunk)
    }
}

impl Metered {
    async fn settle(&mut self) {
        if !std::mem::replace(&mut self.settled, true) {
            self.lease.count_download(self.read).await;
        }
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (lease, read) = (self.lease.take(), self.read);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { lease.count_download(read).await });
        }
    }
}
