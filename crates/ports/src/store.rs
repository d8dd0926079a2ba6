//! The storage port: a unit of work.
//!
//! A use case asks the [`Store`] for a transaction ([`Tx`]), does all its
//! reads and writes through it — the change, its audit entry and its outgoing
//! mail — and commits. Dropping a transaction without committing rolls it
//! back, so an error anywhere leaves nothing half-made.
//!
//! A transaction's methods come in one trait per aggregate, which [`Tx`]
//! combines: [`PracticeStore`], [`PeopleStore`] (users, practice members,
//! clients), [`ConsentStore`] (engagements, connections, client
//! assignments), [`AccessStore`] (access facts), [`WorkStore`] (filings and
//! tasks), [`SessionStore`] (tokens, sessions, sign-in throttling),
//! [`QuotaStore`], [`DocumentStore`], [`TransferStore`] (transfers and
//! resumable uploads), [`AuditStore`], [`OutboxStore`] (the mail outbox) and
//! [`OperatorStore`] (ferry-admin's tools, housekeeping). A `dyn Tx` has
//! every method of these traits without importing them (a trait object
//! carries its supertraits' methods); on a concrete type, such as
//! `ferry_store_sql::SqlTx` or a mock, bring them into scope with
//! `use ferry_ports::store::prelude::*;`.
//!
//! Nothing here caches: every call reads the database, so access facts are
//! always current (PRODUCT.md rule 6).

use async_trait::async_trait;
use ferry_domain::access::ClientFacts;
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{
    AddOnId, BatchId, ChecklistItemId, ClientId, ConnectionId, DocumentId, EngagementId, FilingId, PracticeId, TaskId,
    UserId,
};
use ferry_domain::people::{Actor, ClientRole, Role};
use ferry_domain::practice::{Branding, Plan, PracticeStatus};
use ferry_domain::quota::{AllowanceKind, Bytes, QuotaExceeded, UsageMonth};
use ferry_domain::values::EmailAddress;
use ferry_domain::work::{Assignee, FilingStatus, Reviewer, TaskStatus};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::records::{
    AddOnRecord, AllowanceUsage, AssignedTask, AuditEntry, AuditRecord, ChecklistItemRecord, ClientMemberRecord,
    ClientRecord, ClientWithFacts, CommentRecord, ConnectionRecord, DocumentRecord, EmailLogRecord, EngagementRecord,
    FilingRecord, Mailbox, MemberRecord, NewDocument, NewPractice, NewSession, NewTask, NewToken, NewUpload, NewUser,
    OutboxRecord, OutboxStatus, OutgoingMail, Page, PageRequest, PracticeRecord, PurgeReport, ReservationId,
    ReservationRequest, SessionRecord, TaskRecord, Thread, ThrottleKey, TimeEntryRecord, TokenHash, TokenPurpose,
    TransferRecord, UploadId, UploadRecord, UploadSegment, UserRecord,
};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing to change does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// What was missing, such as `practice`.
        entity: &'static str,
    },
    /// A unique value is already taken, such as an email address.
    #[error("{what} is already taken")]
    Duplicate {
        /// What was duplicated, such as `email`.
        what: &'static str,
    },
    /// The change refers to something that does not exist.
    #[error("{what} refers to something that does not exist")]
    DanglingReference {
        /// What referred, such as `task assignee`.
        what: &'static str,
    },
    /// The row changed since it was read (a conditional update found another state).
    #[error("{entity} was changed by someone else; reload and try again")]
    Conflict {
        /// What changed, such as `engagement`.
        entity: &'static str,
    },
    /// A stored value no longer parses into its domain type.
    #[error("stored {what} is invalid: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The database refused a value that breaks one of its rules (a CHECK
    /// constraint): the caller let invalid data through.
    #[error("the database refused {what}: {reason}")]
    Rejected {
        /// What was refused.
        what: &'static str,
        /// The database's reason.
        reason: String,
    },
    /// An earlier statement of this transaction failed, so it can only be
    /// rolled back (the same on every engine, as PostgreSQL requires).
    #[error("an earlier step of this transaction failed; it was not saved")]
    Aborted,
    /// The transaction was already committed or rolled back.
    #[error("the transaction is already finished")]
    Finished,
    /// The database cannot be reached or is overloaded; the operation may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("unexpected database error: {0}")]
    Unknown(String),
}

/// Why a reservation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// It does not fit in an allowance; nothing was reserved.
    #[error(transparent)]
    Exceeded(#[from] QuotaExceeded),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The database.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync {
    /// Starts a transaction for a use case that may write. On SQLite it takes
    /// the write lock at once (`BEGIN IMMEDIATE`), so a read-then-write never
    /// fails half-way with "database is busy".
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had in time.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;

    /// Starts a transaction for reading only (it does not block writers).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had in time.
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError>;
}

/// One transaction: the methods of every aggregate trait it combines
/// ([`PracticeStore`], [`PeopleStore`], [`ConsentStore`], [`AccessStore`],
/// [`WorkStore`], [`SessionStore`], [`QuotaStore`], [`DocumentStore`],
/// [`TransferStore`], [`AuditStore`], [`OutboxStore`], [`OperatorStore`]).
/// Every method reads or writes within it; nothing is visible to others
/// until [`commit`](Tx::commit), and dropping it rolls back.
///
/// Unless a method says otherwise, its errors are [`StoreError::Unavailable`]
/// when the database fails, [`StoreError::Finished`] after commit or
/// rollback, and [`StoreError::Corrupt`] when a stored value no longer parses.
///
/// After a method returns a database error (such as
/// [`StoreError::Duplicate`]), the transaction is aborted: every later call
/// returns [`StoreError::Aborted`] and only rollback (or drop) remains. Check
/// first (`user_by_email`, ...) where a conflict is an expected outcome.
#[async_trait]
pub trait Tx:
    PracticeStore
    + PeopleStore
    + ConsentStore
    + AccessStore
    + WorkStore
    + SessionStore
    + QuotaStore
    + DocumentStore
    + TransferStore
    + AuditStore
    + OutboxStore
    + OperatorStore
    + Send
{
    /// Makes every change of this transaction visible, at once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; nothing was changed then.
    async fn commit(&mut self) -> Result<(), StoreError>;

    /// Drops every change of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn rollback(&mut self) -> Result<(), StoreError>;
}

/// Practices: the approval workflow, plans and branding.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PracticeStore: Send {
    /// Records a new, pending practice.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] for a reused id.
    async fn insert_practice(&mut self, practice: &NewPractice) -> Result<(), StoreError>;

    /// A practice by id.
    async fn practice(&mut self, id: PracticeId) -> Result<Option<PracticeRecord>, StoreError>;

    /// Moves a practice from `from` to `to` (the caller checked the
    /// transition with the domain).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice; [`StoreError::Conflict`]
    /// when its status is no longer `from`.
    async fn set_practice_status(
        &mut self,
        id: PracticeId,
        from: PracticeStatus,
        to: PracticeStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Takes the practice's lock, held until the transaction ends: on
    /// PostgreSQL a row lock on the practice, on SQLite the write lock a
    /// transaction from [`Store::begin`] already holds. Whatever is counted
    /// and then written for one practice under it (the seats in use before a
    /// seat is taken, rule 7; the bytes reserved, rule 8) cannot interleave
    /// with another transaction doing the same. Call it in a transaction
    /// from [`Store::begin`] only, before counting.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn lock_practice(&mut self, id: PracticeId) -> Result<(), StoreError>;

    /// Replaces a practice's plan.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn set_plan(&mut self, id: PracticeId, plan: Plan) -> Result<(), StoreError>;

    /// Replaces a practice's branding.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn set_branding(&mut self, id: PracticeId, branding: &Branding) -> Result<(), StoreError>;

    /// Practices, optionally of one status (the directory lists approved
    /// ones), in order of application.
    async fn list_practices(
        &mut self,
        status: Option<PracticeStatus>,
        page: &PageRequest,
    ) -> Result<Page<PracticeRecord>, StoreError>;
}

/// People: users, the members of practices, and clients with their users.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PeopleStore: Send {
    // Users.

    /// Records a new user.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] with `what: "email"` when the address is taken.
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError>;

    /// A user by id.
    async fn user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError>;

    /// A user by email address.
    async fn user_by_email(&mut self, email: &EmailAddress) -> Result<Option<UserRecord>, StoreError>;

    /// Activates or deactivates a user.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_user_active(&mut self, id: UserId, active: bool) -> Result<(), StoreError>;

    /// Stores a new Argon2id password hash (PHC string).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_password_hash(&mut self, id: UserId, phc: &str) -> Result<(), StoreError>;

    /// The stored password hash, if a password was set.
    async fn password_hash(&mut self, id: UserId) -> Result<Option<String>, StoreError>;

    /// Records that the user accepted version `version` of the terms of use.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn accept_terms(&mut self, id: UserId, version: u32, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The latest version of the terms the user accepted.
    async fn accepted_terms(&mut self, id: UserId) -> Result<Option<u32>, StoreError>;

    /// Who `user` is, for a decision: loaded fresh for every request, with
    /// their active flag and (for practice users) their practice's status,
    /// so that deactivation and suspension apply at once.
    async fn actor(&mut self, user: UserId) -> Result<Option<Actor>, StoreError>;

    // Practice members.

    /// Makes a practice user a member of `practice` with `role`.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when they already belong to a practice;
    /// [`StoreError::DanglingReference`] for an unknown user or practice.
    async fn insert_member(&mut self, user: UserId, practice: PracticeId, role: Role) -> Result<(), StoreError>;

    /// A practice user's membership.
    async fn member(&mut self, user: UserId) -> Result<Option<MemberRecord>, StoreError>;

    /// Changes a member's role.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for someone who is not a practice member.
    async fn set_role(&mut self, user: UserId, role: Role) -> Result<(), StoreError>;

    /// The members of a practice with one of `roles`, in order of joining.
    async fn list_members(
        &mut self,
        practice: PracticeId,
        roles: &[Role],
        page: &PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError>;

    /// Active admins and staff: the seats taken (rule 7). Before a seat is
    /// taken on this count, hold [`PracticeStore::lock_practice`].
    async fn seats_in_use(&mut self, practice: PracticeId) -> Result<u32, StoreError>;

    // Clients.

    /// Records a new client.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] for a reused id.
    async fn insert_client(&mut self, client: &ClientRecord) -> Result<(), StoreError>;

    /// A client by id.
    async fn client(&mut self, id: ClientId) -> Result<Option<ClientRecord>, StoreError>;

    /// Adds a user to a client with a role.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when they already belong to it, or when a
    /// second owner is added; [`StoreError::DanglingReference`] for an unknown
    /// client or user.
    async fn add_client_member(&mut self, client: ClientId, user: UserId, role: ClientRole) -> Result<(), StoreError>;

    /// The users of a client, owner first.
    async fn client_members(&mut self, client: ClientId) -> Result<Vec<ClientMemberRecord>, StoreError>;

    /// Takes a user out of a client; returns whether they belonged to it.
    async fn remove_client_member(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError>;
}

/// Consent and assignment: the engagements between practices and clients,
/// the connections with outside parties, and which clients are assigned to
/// which practice users.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ConsentStore: Send {
    // Engagements and connections.

    /// Records a new engagement.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the practice and client already have
    /// one (update its state instead); [`StoreError::DanglingReference`].
    async fn insert_engagement(&mut self, engagement: &EngagementRecord) -> Result<(), StoreError>;

    /// An engagement by id.
    async fn engagement(&mut self, id: EngagementId) -> Result<Option<EngagementRecord>, StoreError>;

    /// The engagement between a practice and a client, if any was ever made.
    async fn engagement_between(
        &mut self,
        practice: PracticeId,
        client: ClientId,
    ) -> Result<Option<EngagementRecord>, StoreError>;

    /// Moves an engagement from `from` to `to`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer `from`.
    async fn set_engagement_state(
        &mut self,
        id: EngagementId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A practice's engagements, in order of creation.
    async fn list_engagements_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError>;

    /// A client's engagements, in order of creation.
    async fn list_engagements_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError>;

    /// Records a new connection.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the two already have one; [`StoreError::DanglingReference`].
    async fn insert_connection(&mut self, connection: &ConnectionRecord) -> Result<(), StoreError>;

    /// A connection by id.
    async fn connection(&mut self, id: ConnectionId) -> Result<Option<ConnectionRecord>, StoreError>;

    /// Moves a connection from `from` to `to`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer `from`.
    async fn set_connection_state(
        &mut self,
        id: ConnectionId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A practice's connections, in order of creation.
    async fn list_connections_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError>;

    /// An outside party's connections, in order of creation.
    async fn list_connections_of_party(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError>;

    // Client assignments.

    /// Assigns a client to a practice user. Assigning twice is not an error.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown user or client.
    async fn assign_client(&mut self, user: UserId, client: ClientId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Removes an assignment; returns whether there was one.
    async fn unassign_client(&mut self, user: UserId, client: ClientId) -> Result<bool, StoreError>;

    /// The clients assigned to a user.
    async fn assigned_clients(&mut self, user: UserId) -> Result<Vec<ClientId>, StoreError>;
}

/// Access facts: what the domain needs to decide what a user may do with a
/// client, gathered fresh on every call.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AccessStore: Send {
    /// The facts about one client for one user, in one indexed query.
    async fn client_facts(&mut self, user: UserId, client: ClientId) -> Result<ClientFacts, StoreError>;

    /// Every client `user` could open, with its facts, ordered by client id:
    /// for admins every actively engaged client of their practice; for staff
    /// the assigned ones and those behind their tasks on active filings; for
    /// bookkeepers those behind their tasks on active filings; for client
    /// users the clients they belong to. The caller still decides each row
    /// with the domain.
    async fn clients_for_user(&mut self, user: UserId, page: &PageRequest)
    -> Result<Page<ClientWithFacts>, StoreError>;
}

/// Work: filings, their tasks, checklists, time entries and comments.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait WorkStore: Send {
    /// Records a new filing.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice or client.
    async fn insert_filing(&mut self, filing: &FilingRecord) -> Result<(), StoreError>;

    /// A filing by id.
    async fn filing(&mut self, id: FilingId) -> Result<Option<FilingRecord>, StoreError>;

    /// Moves a filing from `from` to `to`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer `from`.
    async fn set_filing_status(
        &mut self,
        id: FilingId,
        from: FilingStatus,
        to: FilingStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A practice's filings for a client, in order of creation.
    async fn list_filings(
        &mut self,
        practice: PracticeId,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<FilingRecord>, StoreError>;

    /// Records a new task, to do and unassigned.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown filing.
    async fn insert_task(&mut self, task: &NewTask) -> Result<(), StoreError>;

    /// A task by id, with its filing's practice, client and status.
    async fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>, StoreError>;

    /// Sets a task's status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn set_task_status(&mut self, id: TaskId, status: TaskStatus, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Assigns, reassigns or unassigns a task.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::DanglingReference`] for an unknown user.
    async fn set_task_assignee(&mut self, id: TaskId, assignee: Option<Assignee>) -> Result<(), StoreError>;

    /// Sets or clears a task's due date.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn set_task_due(&mut self, id: TaskId, due: Option<Date>) -> Result<(), StoreError>;

    /// Sets a task's reviewer and approver.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::DanglingReference`] for an unknown user.
    async fn set_task_reviewers(
        &mut self,
        id: TaskId,
        reviewer: Option<Reviewer>,
        approver: Option<Reviewer>,
    ) -> Result<(), StoreError>;

    /// The tasks of a filing, in order of creation.
    async fn list_tasks_of_filing(
        &mut self,
        filing: FilingId,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError>;

    /// My Tasks: the tasks assigned to `user` on active filings, soonest due
    /// first (undated last), then in order of creation, each with its
    /// filing's kind, its client and `user`'s facts about that client — one
    /// query for the page, however many clients it spans.
    async fn list_tasks_of_assignee(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedTask>, StoreError>;

    /// Status and due date of every task assigned to `user` on active
    /// filings, for the dashboard.
    async fn assigned_task_dues(&mut self, user: UserId) -> Result<Vec<(TaskStatus, Option<Date>)>, StoreError>;

    /// Appends an item to a task's checklist; its position is set to the end.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown task.
    async fn add_checklist_item(&mut self, item: &ChecklistItemRecord) -> Result<ChecklistItemRecord, StoreError>;

    /// A task's checklist, in order.
    async fn checklist(&mut self, task: TaskId) -> Result<Vec<ChecklistItemRecord>, StoreError>;

    /// Ticks or unticks an item of `task`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the item is not on that task.
    async fn tick_checklist_item(&mut self, task: TaskId, item: ChecklistItemId, done: bool) -> Result<(), StoreError>;

    /// Removes an item of `task`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the item is not on that task.
    async fn remove_checklist_item(&mut self, task: TaskId, item: ChecklistItemId) -> Result<(), StoreError>;

    /// Logs time on a task.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown task or user.
    async fn add_time_entry(&mut self, entry: &TimeEntryRecord) -> Result<(), StoreError>;

    /// A task's time entries, in order of logging.
    async fn time_entries(&mut self, task: TaskId) -> Result<Vec<TimeEntryRecord>, StoreError>;

    /// Adds a comment to a task or a post to a filing's discussion.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown task, filing or author.
    async fn add_comment(&mut self, comment: &CommentRecord) -> Result<(), StoreError>;

    /// A thread's comments, oldest first.
    async fn comments(&mut self, thread: Thread, page: &PageRequest) -> Result<Page<CommentRecord>, StoreError>;
}

/// Signing in: single-use tokens, sessions and sign-in throttling.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionStore: Send {
    // Tokens and sessions.

    /// Stores a single-use token.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown user.
    async fn insert_token(&mut self, token: &NewToken) -> Result<(), StoreError>;

    /// Uses up the token with `hash` if it exists, is unused and has not
    /// expired at `at`; returns its user and purpose. A second use finds nothing.
    async fn consume_token(
        &mut self,
        hash: TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<(UserId, TokenPurpose)>, StoreError>;

    /// Uses up every unused set-password token of `user` (a new link replaces older ones).
    async fn revoke_password_tokens(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Uses up every unused invitation of `user` to join `client` (they
    /// joined, left or were removed: an older link must not bring them back).
    async fn revoke_join_tokens(
        &mut self,
        user: UserId,
        client: ClientId,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown user.
    async fn insert_session(&mut self, session: &NewSession) -> Result<(), StoreError>;

    /// The live session with token hash `hash` at `at`: not ended, not
    /// expired, and its user still active.
    async fn session(&mut self, hash: TokenHash, at: OffsetDateTime) -> Result<Option<SessionRecord>, StoreError>;

    /// Ends one session.
    async fn end_session(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Ends every session of `user` ("log out everywhere", deactivation);
    /// returns how many were live.
    async fn end_all_sessions(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError>;

    // Sign-in throttling. Failures are rows, so every server process counts
    // the same ones.

    /// Records one failed sign-in at `at` against each of `keys` (typically
    /// the account and the address it came from). A key given twice counts
    /// once; no keys records nothing.
    async fn record_login_failure(&mut self, keys: &[ThrottleKey], at: OffsetDateTime) -> Result<(), StoreError>;

    /// How many failures count against `key` at or after `since` (the start
    /// of the throttling window).
    async fn login_failures(&mut self, key: &ThrottleKey, since: OffsetDateTime) -> Result<u32, StoreError>;

    /// Forgets every failure counted against `key` (after a successful
    /// sign-in, or when the operator lifts a lock).
    async fn clear_login_failures(&mut self, key: &ThrottleKey) -> Result<(), StoreError>;

    /// Counts and records an attempt at once, before it is checked: returns,
    /// for each of `keys` in the order given, how many failures count
    /// against it at or after `since` before this attempt, and records one
    /// more at `at` against each (named `attempt`, a key given twice counting
    /// once). Counting and recording take turns per key until the
    /// transaction ends (on PostgreSQL a lock per key, on SQLite the write
    /// lock of a transaction from [`Store::begin`]), so attempts made in
    /// parallel each count the ones before them. The caller refuses an
    /// attempt whose count is at its limit by rolling back (nothing is
    /// recorded then), and otherwise commits before the slow check.
    async fn reserve_login_attempt(
        &mut self,
        attempt: Uuid,
        keys: &[ThrottleKey],
        since: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<u32>, StoreError>;

    /// Takes back what [`SessionStore::reserve_login_attempt`] recorded for
    /// `attempt` (a sign-in whose password was right is no failure). Taking
    /// back an unknown or already forgotten attempt is harmless.
    async fn forget_login_attempt(&mut self, attempt: Uuid) -> Result<(), StoreError>;
}

/// Quotas: add-ons, atomic reservations of storage and throughput, usage
/// and warnings (PRODUCT.md rule 8).
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait QuotaStore: Send {
    // Add-ons, reservations and usage.

    /// Records a purchased add-on.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice.
    async fn insert_add_on(&mut self, add_on: &AddOnRecord) -> Result<(), StoreError>;

    /// A practice's add-ons, by start.
    async fn add_ons(&mut self, practice: PracticeId) -> Result<Vec<AddOnRecord>, StoreError>;

    /// Removes an add-on.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn remove_add_on(&mut self, id: AddOnId) -> Result<(), StoreError>;

    /// Reserves storage and throughput for a transfer, atomically: either
    /// both fit in the practice's allowances at `request.at` (counting
    /// committed bytes and unexpired reservations) and both are reserved, or
    /// nothing is. Concurrent reservations never together exceed an allowance.
    ///
    /// # Errors
    /// [`ReserveError::Exceeded`] naming the allowance and what is left.
    async fn reserve(&mut self, request: &ReservationRequest) -> Result<(), ReserveError>;

    /// Turns a reservation into usage: its storage bytes become held and its
    /// throughput bytes count for the month it was made in.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it expired and was reclaimed, or was already committed or released.
    async fn commit_reservation(&mut self, id: ReservationId) -> Result<(), StoreError>;

    /// Gives a reservation's bytes back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is already gone.
    async fn release_reservation(&mut self, id: ReservationId) -> Result<(), StoreError>;

    /// Deletes reservations that expired before `at`; returns how many.
    async fn reclaim_expired_reservations(&mut self, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Storage held now and throughput of the month of `at`, against allowances.
    async fn usage(&mut self, practice: PracticeId, at: OffsetDateTime) -> Result<Vec<AllowanceUsage>, StoreError>;

    /// Marks that the 80% warning for `kind` in `month` was sent; returns
    /// false when it already was (so one warning goes per allowance per month).
    async fn mark_quota_warning(
        &mut self,
        practice: PracticeId,
        kind: AllowanceKind,
        month: UsageMonth,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // Reservations that follow a stream (a resumable upload, a body of
    // unknown length): grown as bytes arrive, settled to what was moved.

    /// Adds to an unexpired reservation, atomically like [`QuotaStore::reserve`]
    /// (the extra bytes must fit), and moves its expiry to `expires_at`.
    ///
    /// # Errors
    /// [`ReserveError::Exceeded`] naming the allowance and what is left
    /// (nothing changes); [`StoreError::NotFound`] when the reservation
    /// expired or is gone.
    async fn grow_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), ReserveError>;

    /// Gives back part of a reservation that will not be needed (the unused
    /// rest of a request cut short), so that others may use it at once; its
    /// expiry stays as it is.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is gone, or holds fewer bytes than
    /// `storage` or `throughput` (nothing changes).
    async fn shrink_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
    ) -> Result<(), StoreError>;

    /// Turns an unexpired reservation into usage of the bytes actually
    /// moved (at most what it holds); the rest is given back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it expired, is gone, or holds fewer
    /// bytes than `storage` or `throughput`.
    async fn settle_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}

/// Documents: committed files, their recipients and download receipts.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait DocumentStore: Send {
    /// Records a committed document and its recipients.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice, client,
    /// connection, uploader or recipient.
    async fn insert_document(&mut self, document: &NewDocument) -> Result<(), StoreError>;

    /// A live document by id.
    async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRecord>, StoreError>;

    /// A client's live documents, newest first.
    async fn list_documents_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError>;

    /// Records a download by `user`; returns true when it was their first.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown document.
    async fn record_download(&mut self, id: DocumentId, user: UserId, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Deletes a document and frees its storage at once.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown or already deleted document.
    async fn delete_document(&mut self, id: DocumentId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// A user's live documents, newest first: those sent to them (`Inbox`)
    /// or by them (`Outbox`).
    async fn list_documents_of_user(
        &mut self,
        user: UserId,
        mailbox: Mailbox,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError>;

    /// The live documents of one transfer, in the order they were recorded.
    async fn list_documents_of_transfer(&mut self, id: BatchId) -> Result<Vec<DocumentRecord>, StoreError>;
}

/// Transfers (one send of files to chosen recipients) and the resumable
/// uploads in progress.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait TransferStore: Send {
    /// Records a transfer with its recipients.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice, client,
    /// connection, sender or recipient; [`StoreError::Duplicate`] for a
    /// recipient named twice.
    async fn insert_transfer(&mut self, transfer: &TransferRecord) -> Result<(), StoreError>;

    /// A transfer by id.
    async fn transfer(&mut self, id: BatchId) -> Result<Option<TransferRecord>, StoreError>;

    /// Marks an open transfer complete; returns false when it already was.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown transfer.
    async fn complete_transfer(&mut self, id: BatchId, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Records a resumable upload, with nothing received yet.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown transfer or uploader.
    async fn insert_upload(&mut self, upload: &NewUpload) -> Result<(), StoreError>;

    /// A resumable upload in progress, expired or not.
    async fn upload(&mut self, id: UploadId) -> Result<Option<UploadRecord>, StoreError>;

    /// The uploads in progress of a transfer.
    async fn uploads_of_transfer(&mut self, id: BatchId) -> Result<Vec<UploadRecord>, StoreError>;

    /// Appends the bytes one request delivered, and moves the upload's
    /// expiry to `expires_at`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown upload; [`StoreError::Conflict`]
    /// when the segment does not start where the upload stands (another
    /// request moved it) or runs past its declared length.
    async fn add_upload_segment(
        &mut self,
        id: UploadId,
        segment: &UploadSegment,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Declares the length of an upload created without one.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when a length was
    /// already declared or more bytes than `length` were received.
    async fn set_upload_length(&mut self, id: UploadId, length: Bytes) -> Result<(), StoreError>;

    /// An upload's segments, in file order.
    async fn upload_segments(&mut self, id: UploadId) -> Result<Vec<UploadSegment>, StoreError>;

    /// Forgets an upload and its segments (finished, terminated or
    /// abandoned) and returns the segments, whose blobs the caller deletes.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is already gone.
    async fn delete_upload(&mut self, id: UploadId) -> Result<Vec<UploadSegment>, StoreError>;

    /// Uploads whose expiry is before `at`, oldest first, at most `limit`.
    async fn expired_uploads(&mut self, at: OffsetDateTime, limit: u32) -> Result<Vec<UploadRecord>, StoreError>;
}

/// The tamper-evident audit log.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AuditStore: Send {
    /// Appends an entry to the tamper-evident audit log: it carries the hash
    /// of the entry before it.
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRecord, StoreError>;

    /// Entries after `after_seq`, in order, at most `limit`.
    async fn audit_entries(&mut self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
}

/// The mail outbox (messages written in the transaction of the change they
/// report, sent after it commits) and the client email log.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send {
    /// Queues a message, to be sent after this transaction commits; when it
    /// concerns a client it also appears in the client's email log.
    async fn enqueue_mail(&mut self, id: Uuid, mail: &OutgoingMail, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Claims up to `limit` pending messages due at `at`, leasing them until
    /// `lease_until` so no other sender takes them meanwhile.
    async fn claim_mail(
        &mut self,
        at: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxRecord>, StoreError>;

    /// Marks a pending message sent.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer
    /// pending (a late report never changes a settled message).
    async fn mark_mail_sent(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Records a failed try of a pending message: retry at `retry_at`, or
    /// give up when `None`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer pending.
    async fn mark_mail_failed(
        &mut self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;

    /// Puts failed messages back in the queue: the one with `id`, or every
    /// failed message when `None`. Each becomes pending with no attempts,
    /// due at `at`; its last error is kept until the next try replaces it.
    /// Returns how many were put back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] with `entity: "failed mail"` when `id` is
    /// given and names no failed message (unknown, pending or sent).
    async fn retry_failed_mail(&mut self, id: Option<Uuid>, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Outbox messages of one status, oldest first.
    async fn list_outbox(&mut self, status: OutboxStatus, page: &PageRequest)
    -> Result<Page<OutboxRecord>, StoreError>;

    /// A client's email log, newest first.
    async fn email_log(&mut self, client: ClientId, page: &PageRequest) -> Result<Page<EmailLogRecord>, StoreError>;
}

/// The operator tools (ferry-admin): lists and counts over the whole
/// installation, storage accounts, audit exports and housekeeping.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait OperatorStore: Send {
    // Operator tools (ferry-admin).

    /// Users matching `filter`, in order of id.
    ///
    /// # Errors
    /// [`StoreError::Rejected`] for a cursor that is not from this list.
    async fn list_users(
        &mut self,
        filter: &crate::admin::UserFilter,
        page: &PageRequest,
    ) -> Result<Page<UserRecord>, StoreError>;

    /// Up to `limit` live (not deleted) documents with ids after `after`
    /// (from the first when `None`), in order of id: their blob keys and sizes.
    async fn live_documents(
        &mut self,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Vec<crate::admin::LiveDocument>, StoreError>;

    /// Whether a live (not deleted) document's content is stored under `key`.
    async fn blob_in_use(&mut self, key: &str) -> Result<bool, StoreError>;

    /// Every practice's recorded storage against the sum of its live
    /// documents, in order of practice id.
    async fn storage_accounts(&mut self) -> Result<Vec<crate::admin::StorageAccount>, StoreError>;

    /// Sets a practice's recorded storage to the sum of its live documents
    /// (the repair of a drifted count); returns the account as it was before.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn recount_storage(&mut self, practice: PracticeId) -> Result<crate::admin::StorageAccount, StoreError>;

    /// Up to `limit` audit entries after `after_seq` made at or after
    /// `since`, of `practice` when given, in order.
    async fn audit_entries_since(
        &mut self,
        since: OffsetDateTime,
        practice: Option<PracticeId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// How much there is of everything; sessions count as live at `at`.
    async fn installation_counts(&mut self, at: OffsetDateTime)
    -> Result<crate::admin::InstallationCounts, StoreError>;

    /// The versions of the schema migrations applied to this database, in order.
    async fn applied_migrations(&mut self) -> Result<Vec<i64>, StoreError>;

    // Housekeeping.

    /// Deletes what can no longer be used: sessions that expired or were
    /// ended at or before `at`, single-use tokens that expired or were used
    /// at or before `at`, and sign-in failures from before `failures_before`
    /// (the start of the longest throttling window). Returns how many of
    /// each went.
    async fn purge_expired(
        &mut self,
        at: OffsetDateTime,
        failures_before: OffsetDateTime,
    ) -> Result<PurgeReport, StoreError>;
}

/// Every store trait, for `use ferry_ports::store::prelude::*;` where the
/// methods are called on a concrete type (a `dyn Tx` needs no import).
pub mod prelude {
    pub use super::{
        AccessStore, AuditStore, ConsentStore, DocumentStore, OperatorStore, OutboxStore, PeopleStore, PracticeStore,
        QuotaStore, SessionStore, Store, TransferStore, Tx, WorkStore,
    };
}
