//! The installation's status: counts of everything and the applied migrations.

use ferry_domain::access::Action;
use ferry_ports::admin::InstallationCounts;

use crate::{App, AppError, Principal};

/// Status of the installation's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationStatus {
    /// Counts of everything.
    pub counts: InstallationCounts,
    /// The schema migrations applied, in order.
    pub applied_migrations: Vec<i64>,
}

impl App {
    /// Counts of everything and the applied schema migrations.
    ///
    /// # Errors
    /// As for any store read.
    pub async fn installation_status(&self, who: &Principal) -> Result<InstallationStatus, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        let counts = work.tx.installation_counts(work.now).await?;
        let applied_migrations = work.tx.applied_migrations().await?;
        Ok(InstallationStatus { counts, applied_migrations })
    }
}
