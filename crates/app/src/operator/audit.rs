//! The audit log, read in order and exported.

use ferry_domain::access::Action;
use ferry_domain::ids::PracticeId;
use ferry_ports::records::AuditRecord;
use time::OffsetDateTime;

use crate::{App, AppError, Principal};

impl App {
    /// Up to `limit` audit entries after `after_seq`, in order: the whole
    /// chain, for verification.
    ///
    /// # Errors
    /// As for any store read.
    pub async fn audit_chain(&self, who: &Principal, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        Ok(work.tx.audit_entries(after_seq, limit).await?)
    }

    /// Up to `limit` audit entries after `after_seq` made at or after
    /// `since`, of `practice` when given, for export.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown practice.
    pub async fn audit_export(
        &self,
        who: &Principal,
        since: OffsetDateTime,
        practice: Option<PracticeId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        if let Some(p) = practice {
            work.practice_record(p).await?;
        }
        Ok(work.tx.audit_entries_since(since, practice, after_seq, limit).await?)
    }
}
