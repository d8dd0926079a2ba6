//! The plain records that cross the store port: domain types where the domain
//! has them, and rows with their timestamps where it does not.
//!
//! Writes take validated domain values (an [`ferry_domain::work::Assignee`],
//! a [`ferry_domain::values::EmailAddress`]); reads return plain ids, since
//! what was stored was validated on the way in.

use ferry_domain::access::{ClientFacts, ConnectionFacts};
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{
    BatchId, ChecklistItemId, ClientId, CommentId, ConnectionId, DocumentId, EngagementId, FilingId, PracticeId,
    TaskId, UserId,
};
use ferry_domain::people::{ClientRole, Role};
use ferry_domain::practice::{Branding, Plan, PracticeStatus};
use ferry_domain::quota::{AllowanceKind, Bytes};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName, Text, Title};
use ferry_domain::work::{FilingKind, FilingStatus, Minutes, Period, TaskStatus};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// What kind of user an account is. A person has one account per email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserKind {
    /// A member of a practice.
    Practice,
    /// A user of one or more clients.
    Client,
    /// An outside party reached over connections.
    Outside,
}

impl UserKind {
    /// The stable name used in storage.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Practice => "practice",
            Self::Client => "client",
            Self::Outside => "outside",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Practice, Self::Client, Self::Outside].into_iter().find(|k| k.as_str() == name)
    }
}

/// A user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The new id.
    pub id: UserId,
    /// Their address; unique across the installation.
    pub email: EmailAddress,
    /// Their name.
    pub name: PersonName,
    /// What kind of account.
    pub kind: UserKind,
    /// When.
    pub created_at: OffsetDateTime,
}

/// A stored user. The password hash never leaves the store except through
/// [`crate::store::PeopleStore::password_hash`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Who.
    pub id: UserId,
    /// Their address.
    pub email: EmailAddress,
    /// Their name.
    pub name: PersonName,
    /// What kind of account.
    pub kind: UserKind,
    /// False once deactivated.
    pub active: bool,
    /// Whether they have set a password yet.
    pub has_password: bool,
    /// When created.
    pub created_at: OffsetDateTime,
}

/// A practice to create (it starts pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPractice {
    /// The new id.
    pub id: PracticeId,
    /// Its name.
    pub name: OrganisationName,
    /// Its plan.
    pub plan: Plan,
    /// When it applied.
    pub created_at: OffsetDateTime,
}

/// A stored practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeRecord {
    /// Which practice.
    pub id: PracticeId,
    /// Its name.
    pub name: OrganisationName,
    /// Where it stands with the operator.
    pub status: PracticeStatus,
    /// Seats and base allowances.
    pub plan: Plan,
    /// White label.
    pub branding: Branding,
    /// When it applied.
    pub created_at: OffsetDateTime,
    /// When its status last changed.
    pub status_changed_at: OffsetDateTime,
}

/// A practice user with their role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// The user.
    pub user: UserRecord,
    /// Their practice.
    pub practice: PracticeId,
    /// Their role.
    pub role: Role,
}

/// A stored client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// Which client.
    pub id: ClientId,
    /// Its name.
    pub name: OrganisationName,
    /// When created.
    pub created_at: OffsetDateTime,
}

/// A client user with their role in one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMemberRecord {
    /// The user.
    pub user: UserRecord,
    /// The client.
    pub client: ClientId,
    /// Their role in it.
    pub role: ClientRole,
}

/// A stored engagement between a practice and a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngagementRecord {
    /// Which engagement.
    pub id: EngagementId,
    /// The practice side.
    pub practice: PracticeId,
    /// The client side.
    pub client: ClientId,
    /// Where it stands.
    pub state: ConsentState,
    /// When the state last changed.
    pub changed_at: OffsetDateTime,
}

/// A stored connection between a practice and an outside party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// Which connection.
    pub id: ConnectionId,
    /// The practice side.
    pub practice: PracticeId,
    /// The outside party's user.
    pub outside_party: UserId,
    /// Where it stands.
    pub state: ConsentState,
    /// When the state last changed.
    pub changed_at: OffsetDateTime,
}

impl ConnectionRecord {
    /// The facts the domain decides access to the connection on.
    #[must_use]
    pub const fn facts(&self) -> ConnectionFacts {
        ConnectionFacts { practice: self.practice, outside_party: self.outside_party, state: self.state }
    }
}

/// A filing to create or as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingRecord {
    /// Which filing.
    pub id: FilingId,
    /// The practice doing the work.
    pub practice: PracticeId,
    /// The client it is for.
    pub client: ClientId,
    /// What for.
    pub kind: FilingKind,
    /// The period covered.
    pub period: Option<Period>,
    /// When due.
    pub due: Option<Date>,
    /// Where it stands.
    pub status: FilingStatus,
    /// When created.
    pub created_at: OffsetDateTime,
}

/// A task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The new id.
    pub id: TaskId,
    /// Its filing.
    pub filing: FilingId,
    /// What to do.
    pub title: Title,
    /// When due.
    pub due: Option<Date>,
    /// When created.
    pub created_at: OffsetDateTime,
}

/// A stored task, without its checklist, time and comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    /// Which task.
    pub id: TaskId,
    /// Its filing.
    pub filing: FilingId,
    /// The filing's practice.
    pub practice: PracticeId,
    /// The filing's client.
    pub client: ClientId,
    /// The filing's status now.
    pub filing_status: FilingStatus,
    /// What to do.
    pub title: Title,
    /// Where it stands.
    pub status: TaskStatus,
    /// Who holds it.
    pub assignee: Option<UserId>,
    /// When due.
    pub due: Option<Date>,
    /// Who reviews it.
    pub reviewer: Option<UserId>,
    /// Who approves it.
    pub approver: Option<UserId>,
    /// When created.
    pub created_at: OffsetDateTime,
}

/// A row of My Tasks: a task and what the list shows beside it, read in
/// one query — its filing's kind, its client, and the assignee's access
/// facts about that client (from which the caller decides whether the
/// client may be shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignedTask {
    /// The task.
    pub task: TaskRecord,
    /// Its filing's kind.
    pub filing_kind: FilingKind,
    /// Its filing's client.
    pub client: ClientRecord,
    /// The assignee's facts about that client, as [`crate::store::AccessStore::client_facts`] reads them.
    pub facts: ClientFacts,
}

/// A checklist item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItemRecord {
    /// Which item.
    pub id: ChecklistItemId,
    /// Its task.
    pub task: TaskId,
    /// Its place in the list, from 0.
    pub position: u32,
    /// What to check.
    pub text: Title,
    /// Ticked or not.
    pub done: bool,
}

/// A time entry to create or as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeEntryRecord {
    /// Which entry.
    pub id: ferry_domain::ids::TimeEntryId,
    /// On which task.
    pub task: TaskId,
    /// Who worked.
    pub user: UserId,
    /// The day worked.
    pub on: Date,
    /// How long.
    pub minutes: Minutes,
    /// What was done.
    pub note: Option<Text>,
    /// When logged.
    pub created_at: OffsetDateTime,
}

/// What a comment or discussion post is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Thread {
    /// A task's comments.
    Task(TaskId),
    /// A filing's discussion.
    Filing(FilingId),
}

/// A comment or discussion post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRecord {
    /// Which comment.
    pub id: CommentId,
    /// Where it was posted.
    pub thread: Thread,
    /// Who wrote it.
    pub author: UserId,
    /// What they wrote.
    pub body: Text,
    /// When.
    pub created_at: OffsetDateTime,
}

/// The SHA-256 of a secret token (session, set-password link, invitation).
/// Only this is ever stored; the token itself exists only in the user's hands.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Even the hash is not logged in full.
        write!(f, "TokenHash({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// What a single-use token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Set (or reset) the user's password.
    SetPassword,
    /// Accept an engagement request (a file sharing request to a client).
    AcceptEngagement(EngagementId),
    /// Accept a connection request.
    AcceptConnection(ConnectionId),
    /// Join a client as a member (a client owner's invitation of someone
    /// who already has an account: nothing is recorded until they accept).
    JoinClient(ClientId),
}

/// A single-use, expiring token to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewToken {
    /// Its hash.
    pub hash: TokenHash,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// Whose it is.
    pub user: UserId,
    /// When made.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
}

/// A session to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSession {
    /// The session's id (not secret: used to list and end sessions).
    pub id: Uuid,
    /// The hash of the secret token.
    pub hash: TokenHash,
    /// Whose.
    pub user: UserId,
    /// When signed in.
    pub created_at: OffsetDateTime,
    /// When it ends unless ended before.
    pub expires_at: OffsetDateTime,
}

/// A live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session's id.
    pub id: Uuid,
    /// Whose.
    pub user: UserId,
    /// When signed in.
    pub created_at: OffsetDateTime,
    /// When it ends.
    pub expires_at: OffsetDateTime,
}

/// What a throttled attempt counts against: a sign-in failure against the
/// account and the address, a password reset request against the email
/// address and the network address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// The account being signed into.
    Account(EmailAddress),
    /// The network address the attempt came from.
    Address(std::net::IpAddr),
    /// The email address a password reset link was asked for (whether or not an account has it).
    ResetEmail(EmailAddress),
    /// The network address a password reset request came from.
    ResetAddress(std::net::IpAddr),
}

impl ThrottleKey {
    /// The stored key, such as `account:ada@example.com` or `address:192.0.2.1`.
    ///
    /// An IPv4 address seen through an IPv6 socket (`::ffff:192.0.2.1`) is
    /// stored as the IPv4 address, so one client counts once however it
    /// connected.
    #[must_use]
    pub fn as_key(&self) -> String {
        match self {
            Self::Account(email) => format!("account:{}", email.as_str()),
            Self::Address(ip) => format!("address:{}", ip.to_canonical()),
            Self::ResetEmail(email) => format!("reset-email:{}", email.as_str()),
            Self::ResetAddress(ip) => format!("reset-address:{}", ip.to_canonical()),
        }
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Sessions that had expired or been ended.
    pub sessions: u64,
    /// Single-use tokens that had expired or been used.
    pub tokens: u64,
    /// Sign-in failures too old to count.
    pub login_failures: u64,
}

/// A purchased allowance add-on as stored (the domain's [`ferry_domain::quota::AddOn`] plus its practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOnRecord {
    /// The practice it was bought for.
    pub practice: PracticeId,
    /// The add-on.
    pub add_on: ferry_domain::quota::AddOn,
}

/// A reservation of allowance for a transfer in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReservationId(pub Uuid);

/// What a transfer asks to reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationRequest {
    /// The new reservation's id.
    pub id: ReservationId,
    /// The practice whose allowances it counts against.
    pub practice: PracticeId,
    /// Bytes of storage to reserve (zero for downloads).
    pub storage: Bytes,
    /// Bytes of this month's throughput to reserve.
    pub throughput: Bytes,
    /// Now.
    pub at: OffsetDateTime,
    /// When an uncommitted reservation lapses (a crashed upload gives its bytes back then).
    pub expires_at: OffsetDateTime,
}

/// Usage of one allowance now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowanceUsage {
    /// Which allowance.
    pub kind: AllowanceKind,
    /// Committed and reserved bytes.
    pub usage: ferry_domain::quota::Usage,
    /// The allowance: plan plus current add-ons.
    pub limit: Bytes,
}

/// An entry to append to the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Who did it (`None` for the operator or the system).
    pub actor: Option<UserId>,
    /// What was done, such as `engagement.accept` or `auth.login_failed`.
    pub action: String,
    /// The practice concerned.
    pub practice: Option<PracticeId>,
    /// The client concerned.
    pub client: Option<ClientId>,
    /// The object acted on.
    pub subject: Option<Uuid>,
    /// Allowed, refused, and the deciding rule or reason. Never a secret.
    pub detail: String,
}

/// A stored audit entry with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Its place in the log, from 1.
    pub seq: i64,
    /// The entry.
    pub entry: AuditEntry,
    /// The previous entry's hash (zeros for the first).
    pub prev_hash: [u8; 32],
    /// SHA-256 over the previous hash and this entry.
    pub hash: [u8; 32],
}

/// A message to send, as written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Recipient.
    pub to: EmailAddress,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// The practice whose branding and log it belongs to.
    pub practice: Option<PracticeId>,
    /// The client whose email log it appears in.
    pub client: Option<ClientId>,
}

/// Where an outbox message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    /// Waiting to be sent (or retried).
    Pending,
    /// Delivered to the transport.
    Sent,
    /// Given up after the last try.
    Failed,
}

impl OutboxStatus {
    /// The stable name used in storage.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Which message.
    pub id: Uuid,
    /// The message.
    pub mail: OutgoingMail,
    /// Where it stands.
    pub status: OutboxStatus,
    /// How many times sending was tried.
    pub attempts: u32,
    /// When it may be tried next.
    pub next_attempt_at: OffsetDateTime,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When written.
    pub created_at: OffsetDateTime,
}

/// A document to record, with its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    /// The new id.
    pub id: DocumentId,
    /// The batch it was sent in.
    pub batch: BatchId,
    /// The practice whose storage it uses.
    pub practice: PracticeId,
    /// The client it belongs to (`None` when sent over a connection).
    pub client: Option<ClientId>,
    /// The connection it travelled over (`None` between a practice and a client).
    pub connection: Option<ConnectionId>,
    /// Who uploaded it.
    pub uploader: UserId,
    /// The name shown (never used as a storage path).
    pub name: String,
    /// Plaintext bytes.
    pub size: Bytes,
    /// The sniffed content type.
    pub content_type: String,
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// Where the encrypted bytes are.
    pub blob_key: String,
    /// Who it was sent to.
    pub recipients: Vec<UserId>,
    /// When committed.
    pub created_at: OffsetDateTime,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    /// The document, as recorded.
    pub document: NewDocument,
    /// Each recipient's first download, if any.
    pub first_downloads: Vec<(UserId, Option<OffsetDateTime>)>,
}

impl DocumentRecord {
    /// A document just recorded: none of its recipients has downloaded it.
    #[must_use]
    pub fn unread(document: NewDocument) -> Self {
        Self { first_downloads: document.recipients.iter().map(|r| (*r, None)).collect(), document }
    }
}

/// A transfer: one send of files by one sender to chosen recipients, about a
/// client or over a connection. Its id is the batch id of its documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    /// The batch.
    pub id: BatchId,
    /// The practice whose allowances the files count against.
    pub practice: PracticeId,
    /// The client the files are for (`None` over a connection).
    pub client: Option<ClientId>,
    /// The connection the files travel over (`None` between a practice and a client).
    pub connection: Option<ConnectionId>,
    /// Who sends.
    pub sender: UserId,
    /// Who receives, each once.
    pub recipients: Vec<UserId>,
    /// When it was started.
    pub created_at: OffsetDateTime,
    /// When its recipients were told; `None` while resumable uploads may still join it.
    pub completed_at: Option<OffsetDateTime>,
}

/// The id of a resumable upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UploadId(pub Uuid);

/// A resumable upload to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUpload {
    /// The new id.
    pub id: UploadId,
    /// The transfer it joins.
    pub transfer: BatchId,
    /// Who uploads (the transfer's sender).
    pub uploader: UserId,
    /// The file's name, as it will be shown.
    pub name: String,
    /// Its length, when the uploader declared it.
    pub length: Option<Bytes>,
    /// The reservation holding its quota.
    pub reservation: ReservationId,
    /// Now.
    pub created_at: OffsetDateTime,
    /// When it is abandoned unless more bytes arrive.
    pub expires_at: OffsetDateTime,
}

/// A resumable upload in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// The upload, as recorded (its `length` and `expires_at` as they are now).
    pub upload: NewUpload,
    /// Bytes received and kept so far: the offset the next request continues at.
    pub received: Bytes,
}

/// A piece of a resumable upload: the bytes one request delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSegment {
    /// Where it starts in the file.
    pub first_byte: u64,
    /// How many bytes it holds (at least one).
    pub size: u64,
    /// Where its encrypted bytes are.
    pub blob_key: String,
}

/// Which of a user's documents to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mailbox {
    /// Files sent to the user.
    Inbox,
    /// Files the user sent.
    Outbox,
}

/// An entry of a client's email log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailLogRecord {
    /// The outbox message it refers to.
    pub outbox_id: Uuid,
    /// The practice whose mail it was (`None` for the installation's own).
    pub practice: Option<PracticeId>,
    /// The client.
    pub client: ClientId,
    /// Recipient.
    pub to: EmailAddress,
    /// Subject line.
    pub subject: String,
    /// When written.
    pub created_at: OffsetDateTime,
}

/// A client with the facts about it for one user: a row of the account
/// switcher and of client lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientWithFacts {
    /// The client.
    pub client: ClientRecord,
    /// The facts for the asking user.
    pub facts: ClientFacts,
}

/// An opaque keyset cursor: where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor(pub String);

/// Which page of a list to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items (1 to [`PageRequest::MAX_LIMIT`]).
    pub limit: u32,
    /// Items after this cursor; `None` for the first page.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The largest page.
    pub const MAX_LIMIT: u32 = 500;

    /// The first page of `limit` items (clamped to 1..=[`Self::MAX_LIMIT`]).
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self { limit: limit.clamp(1, Self::MAX_LIMIT), after: None }
    }

    /// The page after `cursor`.
    #[must_use]
    pub fn after(limit: u32, cursor: Cursor) -> Self {
        Self { limit: limit.clamp(1, Self::MAX_LIMIT), after: Some(cursor) }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` when this is the last.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn throttle_keys_name_their_kind_and_normalise_addresses() {
        let account = ThrottleKey::Account(EmailAddress::parse("Ada@Example.com").unwrap());
        assert_eq!(account.as_key(), "account:ada@example.com");
        let v4 = ThrottleKey::Address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(v4.as_key(), "address:192.0.2.1");
        let mapped = ThrottleKey::Address(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped()));
        assert_eq!(mapped.as_key(), "address:192.0.2.1");
        let v6 = ThrottleKey::Address(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
        assert_eq!(v6.as_key(), "address:2001:db8::1");
        let reset = ThrottleKey::ResetEmail(EmailAddress::parse("Ada@Example.com").unwrap());
        assert_eq!(reset.as_key(), "reset-email:ada@example.com");
        let from = ThrottleKey::ResetAddress(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped()));
        assert_eq!(from.as_key(), "reset-address:192.0.2.1");
    }
}
