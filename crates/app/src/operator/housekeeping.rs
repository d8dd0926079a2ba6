//! Housekeeping: what expired is purged, abandoned uploads and stray blobs removed.

use std::time::Duration;

use ferry_domain::access::Action;
use ferry_ports::records::PurgeReport;

use super::Progress;
use super::consistency::blob_error;
use crate::{App, AppError, Principal};

/// What housekeeping removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HousekeepingReport {
    /// Expired or ended sessions, used or expired links (set-password and
    /// invitations), and sign-in failures too old to count.
    pub purged: PurgeReport,
    /// Expired quota reservations given back.
    pub reservations: u64,
    /// Resumable uploads nobody continued before their expiry, removed with
    /// their bytes and reservations.
    pub expired_uploads: u64,
    /// Uploads to the file store that were never finished.
    pub abandoned_uploads: u64,
    /// Documents' blobs (keys under `documents/`) without a live document,
    /// older than the grace period.
    pub orphan_blobs: u64,
}

impl App {
    /// Housekeeping: deletes expired sessions and used or expired links
    /// (set-password and invitations), old sign-in failures and expired
    /// quota reservations; removes uploads never finished and blobs without
    /// a document, both older than `grace`.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the database or the file store fails;
    /// what was done before stays done.
    pub async fn housekeeping(
        &self,
        who: &Principal,
        grace: Duration,
        progress: &dyn Progress,
    ) -> Result<HousekeepingReport, AppError> {
        let mut report = HousekeepingReport::default();

        progress.phase("expired sessions, links and reservations", None);
        {
            let mut work = self.write(who).await?;
            work.installation(Action::RunInstallation)?;
            let now = work.now;
            let window = time::Duration::try_from(self.config().throttle_window).unwrap_or(time::Duration::HOUR);
            report.purged = work.tx.purge_expired(now, now - window).await?;
            report.reservations = work.tx.reclaim_expired_reservations(now).await?;
            work.commit().await?;
        }

        progress.phase("expired resumable uploads", None);
        report.expired_uploads = self.reclaim_abandoned_uploads(who).await?;

        progress.phase("abandoned uploads", None);
        let cutoff = self.now() - time::Duration::try_from(grace).unwrap_or(time::Duration::DAY);
        report.abandoned_uploads = self.blobs().sweep(cutoff).await.map_err(blob_error)?;

        let live = self.live_blob_keys(who, progress, None).await?;
        let (_, stray, _) = self.stray_blobs(&live, grace, progress).await?;
        for blob in stray {
            self.delete_stray(&blob.key).await?;
            report.orphan_blobs += 1;
        }

        let total = report.purged.sessions
            + report.purged.tokens
            + report.purged.login_failures
            + report.reservations
            + report.expired_uploads
            + report.abandoned_uploads
            + report.orphan_blobs;
        if total > 0 {
            let mut work = self.write(who).await?;
            let detail = format!(
                "removed {} sessions, {} links, {} sign-in failures, {} reservations, {} expired resumable uploads, \
                 {} abandoned uploads, {} orphan blobs",
                report.purged.sessions,
                report.purged.tokens,
                report.purged.login_failures,
                report.reservations,
                report.expired_uploads,
                report.abandoned_uploads,
                report.orphan_blobs
            );
            work.audit("installation.gc", None, None, None, detail).await?;
            work.commit().await?;
        }
        Ok(report)
    }
}
