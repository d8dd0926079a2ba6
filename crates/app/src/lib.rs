//! Ferry's use cases: one function per user action.
//!
//! Every public function of [`App`] takes the acting [`Principal`] first and
//! then, inside one store transaction:
//! 1. loads the actor fresh (a deactivation or suspension applies on the next call);
//! 2. loads the facts of the object acted on and asks the domain
//!    ([`ferry_domain::access::decide`]) — layer 2 of the two enforcement
//!    layers; out-of-scope objects are [`AppError::NotFound`], visible but
//!    not allowed is [`AppError::Forbidden`];
//! 3. makes the change, appends its audit entry and queues its mail;
//! 4. commits, so all of it happens or none of it.
//!
//! The web server (ferry-http) and the operator's CLI (ferry-admin) are thin
//! callers of these functions; neither holds a rule of its own.

mod accounts;
mod consent;
mod context;
mod error;
pub mod files;
mod lease;
mod operator;
mod people;
mod practices;
mod secret;
mod system;
mod throttle;
mod views;
mod work;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_domain::ids::UserId;
use ferry_domain::values::OrganisationName;
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store;
use ferry_ports::blob::BlobStore;
use ferry_ports::clock::{Clock, IdGenerator};
use ferry_ports::records::TokenHash;
use uuid::Uuid;

pub use accounts::{Credentials, SignedIn};
pub use consent::{
    AcceptedInvitation, ConnectionView, EngagementView, InviteClient, InviteClientMember, InviteOutsideParty,
    MemberInvited, OutsidePartyInvited,
};
pub use error::{AppError, Attempts};
pub use operator::{
    AccessExplanation, BLOB_GRACE_PERIOD, ConsistencyReport, HousekeepingReport, InstallationStatus, NewAllowance,
    NoProgress, PracticeDetail, Progress, StorageFinding, StrayBlob, UserDetail,
};
pub use people::{InvitePerson, PersonChange, PersonInvited};
pub use practices::{BrandingChange, PracticeApplication};
pub use secret::{PasswordPolicy, SecretToken};
pub use system::{SystemClock, UuidV7};
pub use views::*;
pub use work::{FilingInput, TaskChange, TaskInput, TimeInput};

/// Who is acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    /// The operator, through the admin CLI on the installation's own machine.
    Operator,
    /// A signed-in user.
    User {
        /// Who.
        user: UserId,
        /// The session they signed in with (`None` outside the web server).
        session: Option<Uuid>,
    },
}

impl Principal {
    /// The signed-in user, if any.
    #[must_use]
    pub const fn user(&self) -> Option<UserId> {
        match self {
            Self::Operator => None,
            Self::User { user, .. } => Some(*user),
        }
    }
}

/// The installation's terms of use, which every user accepts at first sign-in
/// and again when the version changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Increases with every change of the text.
    pub version: u32,
    /// The text shown to users.
    pub text: String,
}

/// Settings of the use cases.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The installation's own name (used in mail that belongs to no practice).
    pub installation_name: OrganisationName,
    /// Where Ferry's pages are, for links in mail.
    pub base_url: BaseUrl,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// How long a set-password link works.
    pub password_link_ttl: Duration,
    /// How long an invitation link works.
    pub invitation_ttl: Duration,
    /// Failed sign-ins per account within [`AppConfig::throttle_window`] before sign-in is refused.
    pub account_failures: u32,
    /// Failed sign-ins per network address within the window before sign-in is refused.
    pub address_failures: u32,
    /// Password reset requests per email address within the window before
    /// the next is refused (counted whether or not an account has it).
    pub reset_email_requests: u32,
    /// Password reset requests per network address within the window.
    pub reset_address_requests: u32,
    /// The window of the throttling counts.
    pub throttle_window: Duration,
    /// The terms of use, if the operator set any.
    pub terms: Option<Terms>,
    /// Password hashing parameters.
    pub passwords: PasswordPolicy,
    /// How long a resumable upload waits for its next bytes before it is abandoned.
    pub upload_ttl: Duration,
    /// How long a streamed transfer's reservation lasts without news (it is
    /// renewed while bytes flow).
    pub reservation_ttl: Duration,
    /// The most files one transfer may carry.
    pub max_files_per_transfer: usize,
}

impl AppConfig {
    /// Working defaults for `base_url`: 8-hour sessions, 3-day password
    /// links, 14-day invitations, throttling after 5 failures per account and
    /// 50 per address in 15 minutes and after 3 password reset requests per
    /// email address and 20 per network address, Argon2id with OWASP's
    /// parameters.
    #[must_use]
    pub fn new(base_url: BaseUrl) -> Self {
        Self {
            installation_name: OrganisationName::parse("Ferry").expect("a valid name"),
            base_url,
            session_ttl: Duration::from_secs(8 * 3600),
            password_link_ttl: Duration::from_secs(3 * 24 * 3600),
            invitation_ttl: Duration::from_secs(14 * 24 * 3600),
            account_failures: 5,
            address_failures: 50,
            reset_email_requests: 3,
            reset_address_requests: 20,
            throttle_window: Duration::from_secs(15 * 60),
            upload_ttl: Duration::from_secs(24 * 3600),
            reservation_ttl: Duration::from_secs(3600),
            max_files_per_transfer: 500,
            terms: None,
            passwords: PasswordPolicy::default(),
        }
    }
}

/// The use cases, over the ports. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: AppConfig,
    /// The hash of the one-time first-run link, while no practice exists.
    first_run: Mutex<Option<TokenHash>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("base_url", &self.inner.config.base_url.as_str()).finish_non_exhaustive()
    }
}

impl App {
    /// The use cases over `store` and the file store `blobs`, with the time
    /// from `clock` and new ids from `ids`.
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        config: AppConfig,
    ) -> Self {
        Self { inner: Arc::new(Inner { store, blobs, clock, ids, config, first_run: Mutex::new(None) }) }
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// The store, for health checks.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The file store, for health checks and housekeeping.
    #[must_use]
    pub fn blobs(&self) -> &Arc<dyn BlobStore> {
        &self.inner.blobs
    }
}
