//! The records of the operator's tools (`ferry-admin`): the few questions
//! about the whole installation that no user's request asks.

use ferry_domain::ids::{DocumentId, PracticeId};
use ferry_domain::quota::Bytes;
use time::OffsetDateTime;

use crate::records::UserKind;

/// Which users to list. Every field left `None` lists everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only members of this practice.
    pub practice: Option<PracticeId>,
    /// Only users of this kind.
    pub kind: Option<UserKind>,
    /// Only active (`true`) or deactivated (`false`) users.
    pub active: Option<bool>,
    /// Only users whose address contains this text (compared in lower case).
    pub email_contains: Option<String>,
}

/// A live (not deleted) document's stored content, for consistency checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDocument {
    /// The document.
    pub id: DocumentId,
    /// The practice whose storage it takes.
    pub practice: PracticeId,
    /// Where its content is in the file store.
    pub blob_key: String,
    /// Its size.
    pub size: Bytes,
    /// When it was recorded.
    pub created_at: OffsetDateTime,
}

/// One practice's storage as recorded against its allowance, and as its
/// live documents add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageAccount {
    /// The practice.
    pub practice: PracticeId,
    /// Committed storage as the quota records it (without reservations).
    pub recorded: Bytes,
    /// How many live documents it has.
    pub documents: u64,
    /// The sum of their sizes.
    pub document_bytes: Bytes,
}

impl StorageAccount {
    /// Whether the recorded storage equals the live documents' sizes.
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        self.recorded == self.document_bytes
    }
}

/// How much there is of everything, for `ferry-admin status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstallationCounts {
    /// Practices waiting for a decision.
    pub practices_pending: u64,
    /// Approved practices.
    pub practices_approved: u64,
    /// Suspended practices.
    pub practices_suspended: u64,
    /// Rejected applications.
    pub practices_rejected: u64,
    /// Active user accounts.
    pub users_active: u64,
    /// Deactivated user accounts.
    pub users_inactive: u64,
    /// Clients.
    pub clients: u64,
    /// Live documents.
    pub documents: u64,
    /// Their total size.
    pub document_bytes: Bytes,
    /// Mail waiting to be sent (or retried).
    pub mail_pending: u64,
    /// Mail given up on.
    pub mail_failed: u64,
    /// Entries in the audit log.
    pub audit_entries: u64,
    /// Sessions that have not expired or ended (as of the time asked).
    pub live_sessions: u64,
}
