//! The operator's own use cases, for `ferry-admin`: the lists and details an
//! operator reads, add-ons, any user's account, access explanations, usage
//! across practices, audit exports, the consistency check and housekeeping.
//!
//! Each runs as the operator only (the domain refuses anyone else) and audits
//! its changes with no actor, as every operator action is.
//!
//! One room per idea: `status.rs`, `practices.rs`, `allowances.rs`,
//! `users.rs`, `explain.rs`, `usage.rs`, `audit.rs`, `outbox.rs`,
//! `consistency.rs`, `housekeeping.rs`.

mod allowances;
mod audit;
mod consistency;
mod explain;
mod housekeeping;
mod outbox;
mod practices;
mod status;
mod usage;
mod users;

pub use allowances::NewAllowance;
pub use consistency::{ConsistencyReport, StorageFinding, StrayBlob};
pub use explain::AccessExplanation;
pub use housekeeping::HousekeepingReport;
pub use practices::PracticeDetail;
pub use status::InstallationStatus;
pub use users::UserDetail;

use std::time::Duration;

/// How long a blob without a document is spared by default: an upload is
/// committed to the file store before the database records its document,
/// and abandoned uploads may still be finishing.
pub const BLOB_GRACE_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// Reports how far a long operation is, for a progress bar. Every method
/// has a default that does nothing.
pub trait Progress: Send + Sync {
    /// A new phase starts, of `total` steps when known.
    fn phase(&self, name: &str, total: Option<u64>) {
        let _ = (name, total);
    }
    /// `steps` more steps of the current phase are done.
    fn advance(&self, steps: u64) {
        let _ = steps;
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
