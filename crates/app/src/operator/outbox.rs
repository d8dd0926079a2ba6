//! The mail outbox: listed, and given-up messages queued again.

use ferry_domain::access::Action;
use ferry_ports::records::{OutboxRecord, OutboxStatus, Page, PageRequest};
use uuid::Uuid;

use crate::{App, AppError, Principal};

impl App {
    /// Outbox messages of one status, oldest first.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a cursor that is not from this list.
    pub async fn list_outbox(
        &self,
        who: &Principal,
        status: OutboxStatus,
        page: &PageRequest,
    ) -> Result<Page<OutboxRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        Ok(work.tx.list_outbox(status, page).await?)
    }

    /// Puts failed mail back in the queue: one message, or all when `None`.
    /// The server's sender delivers it. Returns how many were queued again.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when `id` names no failed message.
    pub async fn retry_mail(&self, who: &Principal, id: Option<Uuid>) -> Result<u64, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::RunInstallation)?;
        let count = work.tx.retry_failed_mail(id, work.now).await?;
        if count > 0 {
            work.audit("installation.mail_retry", None, None, id, format!("queued {count} failed messages again"))
                .await?;
        }
        work.commit().await?;
        Ok(count)
    }
}
