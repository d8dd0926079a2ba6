//! Transfers made of resumable uploads: opened first, filled by uploads
//! (`uploads.rs`), completed once, when each recipient is told.

use ferry_domain::ids::BatchId;
use ferry_ports::records::TransferRecord;

use super::{SendRequest, TransferView};
use crate::{App, AppError, Principal};

impl App {
    /// Opens a transfer for resumable uploads: its files arrive through
    /// [`App::create_upload`], and [`App::complete_transfer`] tells its
    /// recipients once.
    ///
    /// # Errors
    /// As [`App::start_transfer`].
    pub async fn open_transfer(&self, who: &Principal, request: &SendRequest) -> Result<TransferRecord, AppError> {
        let mut work = self.write(who).await?;
        let route = work.route(request).await?;
        let transfer = route.transfer(BatchId::from_uuid(work.new_id()), work.now, None);
        work.tx.insert_transfer(&transfer).await?;
        work.audit("transfer.open", Some(route.practice.id), route.client, Some(transfer.id.as_uuid()), "").await?;
        work.commit().await?;
        Ok(transfer)
    }

    /// Closes a transfer made of resumable uploads and tells each recipient
    /// once about all its files.
    ///
    /// # Errors
    /// [`AppError::NotFound`] unless the caller is its sender;
    /// [`AppError::Conflict`] while uploads are unfinished or when it was
    /// already completed; [`AppError::Invalid`] when it holds no file.
    pub async fn complete_transfer(&self, who: &Principal, batch: BatchId) -> Result<TransferView, AppError> {
        let mut work = self.write(who).await?;
        let transfer = work.own_transfer(batch).await?;
        let route = work.route_of(&transfer).await?;
        let pending = work.tx.uploads_of_transfer(batch).await?;
        if !pending.is_empty() {
            return Err(AppError::conflict(format!(
                "{} of this transfer's uploads are unfinished: finish or terminate them first",
                pending.len()
            )));
        }
        let documents = work.tx.list_documents_of_transfer(batch).await?;
        if documents.is_empty() {
            return Err(AppError::invalid("batch", "this transfer holds no file yet: upload at least one"));
        }
        if !work.tx.complete_transfer(batch, work.now).await? {
            return Err(AppError::conflict("this transfer was already completed and its recipients told"));
        }
        work.audit(
            "transfer.complete",
            Some(route.practice.id),
            route.client,
            Some(batch.as_uuid()),
            format!("{} files", documents.len()),
        )
        .await?;
        work.notify_recipients(&route, batch, &documents).await?;
        let transfer = TransferRecord { completed_at: Some(work.now), ..transfer };
        work.commit().await?;
        Ok(TransferView { transfer, documents })
    }
}
