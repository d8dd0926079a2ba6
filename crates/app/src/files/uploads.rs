//! Resumable uploads (the tus protocol's use cases): one file of an open
//! transfer, received over as many requests as it takes. Each request's
//! bytes are kept as a committed segment blob (`uploads/<upload>/<id>`), so
//! a dropped connection or a restarted server resumes at the last kept byte;
//! the last byte assembles the segments into one document.

use ferry_domain::access::Action;
use ferry_domain::exchange::{display_name, sniff_content_type};
use ferry_domain::ids::{BatchId, DocumentId};
use ferry_domain::quota::Bytes;
use ferry_ports::blob::BlobKey;
use ferry_ports::records::{DocumentRecord, NewUpload, UploadId, UploadRecord, UploadSegment};

use super::{Appender, Checksum, StoredFile, UploadView, blob_key, keep_head};
use crate::lease::{Counts, Lease};
use crate::{App, AppError, Principal};

impl App {
    /// Starts a resumable upload of one file into an open transfer of the
    /// caller's. A declared `length` is reserved now (refused if it does not
    /// fit); without one, quota is reserved as bytes arrive.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a transfer that is not the caller's;
    /// [`AppError::Conflict`] for a completed one; [`AppError::Quota`].
    pub async fn create_upload(
        &self,
        who: &Principal,
        batch: BatchId,
        name: &str,
        length: Option<u64>,
    ) -> Result<UploadView, AppError> {
        let mut work = self.write(who).await?;
        let transfer = work.own_transfer(batch).await?;
        if transfer.completed_at.is_some() {
            return Err(AppError::conflict("this transfer is complete: open a new one to send more files"));
        }
        let route = work.route_of(&transfer).await?;
        let lasting = self.inner.config.upload_ttl;
        let lease =
            Lease::open(&mut work, who, route.practice.id, Counts::Upload, length.unwrap_or(0), lasting).await?;
        let upload = NewUpload {
            id: UploadId(work.new_id()),
            transfer: batch,
            uploader: route.sender,
            name: display_name(name),
            length: length.map(Bytes::new),
            reservation: lease.id(),
            created_at: work.now,
            expires_at: lease.expiry(work.now),
        };
        work.tx.insert_upload(&upload).await?;
        work.commit().await?;
        let id = upload.id;
        let record = UploadRecord { upload, received: Bytes::ZERO };
        // An empty file is complete as soon as it is announced.
        let document = if length == Some(0) { Some(self.assemble(who, id).await?) } else { None };
        Ok(UploadView { record, document })
    }

    /// Where a resumable upload of the caller's stands.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an upload that is not the caller's, finished or abandoned.
    pub async fn upload_status(&self, who: &Principal, id: UploadId) -> Result<UploadRecord, AppError> {
        let mut work = self.read(who).await?;
        work.own_upload(id).await
    }

    /// Declares the length of an upload created without one, reserving it;
    /// returns the document when every byte is already here.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when a length was already declared or more
    /// bytes arrived; [`AppError::Quota`].
    pub async fn declare_upload_length(
        &self,
        who: &Principal,
        id: UploadId,
        length: u64,
    ) -> Result<Option<DocumentRecord>, AppError> {
        let mut work = self.write(who).await?;
        let upload = work.own_upload(id).await?;
        if upload.upload.length.is_some() {
            return Err(AppError::conflict("this upload's length was already declared"));
        }
        let more = length.saturating_sub(upload.received.get());
        Lease::of_upload(self, who, &upload).grow_in(&mut work, more).await?;
        work.tx.set_upload_length(id, Bytes::new(length)).await?;
        work.commit().await?;
        // Declaring the length of what already arrived finishes the file.
        if length == upload.received.get() { Ok(Some(self.assemble(who, id).await?)) } else { Ok(None) }
    }

    /// Starts receiving the bytes of one request of a resumable upload at
    /// `offset`: `length` of them when the request says, to be checked
    /// against `checksum` when it carries one (only that digest is computed).
    ///
    /// # Errors
    /// [`AppError::NotFound`]; [`AppError::Conflict`] when `offset` is not
    /// where the upload stands; [`AppError::Invalid`] when `length` runs
    /// past the upload's declared length; [`AppError::Quota`].
    pub async fn append_upload(
        &self,
        who: &Principal,
        id: UploadId,
        offset: u64,
        length: Option<u64>,
        checksum: Option<Checksum>,
    ) -> Result<Appender, AppError> {
        let mut work = self.write(who).await?;
        let upload = work.own_upload(id).await?;
        if upload.received.get() != offset {
            return Err(AppError::conflict(format!(
                "this upload stands at byte {}, not {offset}: ask where it stands (HEAD) and continue from there",
                upload.received.get()
            )));
        }
        if let (Some(total), Some(length)) = (upload.upload.length, length)
            && offset.saturating_add(length) > total.get()
        {
            return Err(AppError::invalid(
                "Content-Length",
                format!("{length} bytes from byte {offset} run past the upload's length of {}", total.get()),
            ));
        }
        // Without a declared length, quota is reserved as bytes arrive: this
        // request's bytes now, when it says how many.
        let mut lease = Lease::of_upload(self, who, &upload);
        if upload.upload.length.is_none()
            && let Some(length) = length
        {
            lease.grow_in(&mut work, length).await?;
            work.commit().await?;
        } else {
            work.tx.rollback().await?;
        }
        let key = blob_key(&format!("uploads/{}", id.0), self.new_id())?;
        let blob = self.inner.blobs.begin_upload(&key).await?;
        Ok(Appender::new(self, who, upload, lease, key, blob, checksum))
    }

    /// Gives up a resumable upload: its bytes are removed and its quota given back.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an upload that is not the caller's.
    pub async fn terminate_upload(&self, who: &Principal, id: UploadId) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        // An expired upload not yet reclaimed may be terminated too: it would
        // otherwise hold its transfer open until housekeeping runs.
        let user = work.user()?;
        let upload = match work.tx.upload(id).await? {
            Some(upload) if upload.upload.uploader == user => upload,
            _ => return Err(AppError::not_found("upload")),
        };
        let segments = work.tx.delete_upload(id).await?;
        Lease::of_upload(self, who, &upload).release_in(&mut work).await?;
        work.commit().await?;
        self.delete_segments(&segments).await;
        Ok(())
    }

    /// Removes resumable uploads nobody continued before their expiry, with
    /// their bytes and reservations; returns how many.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but the operator (the server's housekeeping runs as it).
    pub async fn reclaim_abandoned_uploads(&self, who: &Principal) -> Result<u64, AppError> {
        let mut reclaimed = 0;
        loop {
            let mut work = self.write(who).await?;
            work.installation(Action::RunInstallation)?;
            let expired = work.tx.expired_uploads(work.now, 100).await?;
            if expired.is_empty() {
                return Ok(reclaimed);
            }
            let mut segments = Vec::new();
            for upload in &expired {
                segments.extend(work.tx.delete_upload(upload.upload.id).await?);
                Lease::of_upload(self, who, upload).release_in(&mut work).await?;
            }
            work.audit("upload.reclaim", None, None, None, format!("{} abandoned uploads", expired.len())).await?;
            work.commit().await?;
            self.delete_segments(&segments).await;
            reclaimed += expired.len() as u64;
        }
    }

    async fn delete_segments(&self, segments: &[UploadSegment]) {
        for segment in segments {
            let deleted = match BlobKey::parse(&segment.blob_key) {
                Ok(key) => self.inner.blobs.delete(&key).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = deleted {
                tracing::warn!(error = %e, key = %segment.blob_key, "could not remove an upload's bytes; ferry-admin check finds them");
            }
        }
    }

    /// Turns a fully received upload into a document of its transfer.
    pub(super) async fn assemble(&self, who: &Principal, id: UploadId) -> Result<DocumentRecord, AppError> {
        let mut work = self.read(who).await?;
        work.own_upload(id).await?;
        let segments = work.tx.upload_segments(id).await?;
        work.tx.rollback().await?;
        let document_id = DocumentId::from_uuid(self.new_id());
        let key = blob_key("documents", document_id.as_uuid())?;
        let mut target = self.inner.blobs.begin_upload(&key).await?;
        let mut head = Vec::new();
        let copied = async {
            for segment in &segments {
                let source = BlobKey::parse(&segment.blob_key).map_err(|e| AppError::Internal(e.to_string()))?;
                let mut reader = self.inner.blobs.open(&source, None).await?;
                while let Some(chunk) = reader.next_chunk().await? {
                    keep_head(&mut head, &chunk);
                    target.write(&chunk).await?;
                }
            }
            Ok::<(), AppError>(())
        }
        .await;
        if let Err(e) = copied {
            let _ = target.abort().await;
            return Err(e);
        }
        let receipt = target.commit().await?;
        let recorded = async {
            let mut work = self.write(who).await?;
            let upload = work.own_upload(id).await?;
            let transfer = work.own_transfer(upload.upload.transfer).await?;
            let route = work.route_of(&transfer).await?;
            if upload.upload.length != Some(Bytes::new(receipt.size)) {
                return Err(AppError::Internal("an upload's stored bytes do not add up to its length".into()));
            }
            let lapsed = "this upload was abandoned and its reservation lapsed; upload the file again";
            Lease::of_upload(self, who, &upload).settle_in(&mut work, receipt.size, lapsed).await?;
            let file = StoredFile {
                id: document_id,
                content_type: sniff_content_type(&head, &upload.upload.name),
                name: upload.upload.name.clone(),
                key: key.clone(),
                receipt,
            };
            let document = route.document(transfer.id, &transfer.recipients, &file, work.now);
            work.tx.insert_document(&document).await?;
            work.tx.delete_upload(id).await?;
            work.audit(
                "upload.finish",
                Some(route.practice.id),
                route.client,
                Some(document_id.as_uuid()),
                format!("{} bytes in transfer {}", file.receipt.size, transfer.id),
            )
            .await?;
            work.warn_at_80_percent(&route.practice).await?;
            work.commit().await?;
            Ok(DocumentRecord::unread(document))
        }
        .await;
        match recorded {
            Ok(document) => {
                self.delete_segments(&segments).await;
                Ok(document)
            }
            Err(e) => {
                if let Err(error) = self.inner.blobs.delete(&key).await {
                    tracing::warn!(error = %error, "could not remove an unrecorded file; ferry-admin check finds it");
                }
                Err(e)
            }
        }
    }
}
