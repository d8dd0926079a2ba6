//! What use cases return where a stored record alone does not say enough.

use ferry_domain::people::{Actor, ClientRole, Role};
use ferry_domain::work::{Dashboard, FilingKind};
use ferry_ports::records::{
    AllowanceUsage, ChecklistItemRecord, ClientRecord, CommentRecord, Cursor, FilingRecord, MemberRecord,
    PracticeRecord, TaskRecord, TimeEntryRecord, UserRecord,
};
use time::OffsetDateTime;

use crate::{Principal, Terms};

/// A live session, resolved for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authenticated {
    /// Who is asking.
    pub principal: Principal,
    /// The actor, loaded fresh for this request (layer 1 uses it; each use
    /// case loads it again inside its own transaction).
    pub actor: Actor,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
    /// The terms version the user has yet to accept, if any.
    pub terms_pending: Option<u32>,
}

/// The signed-in user's own view of their account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeView {
    /// The account.
    pub user: UserRecord,
    /// For practice users: their practice and role.
    pub practice: Option<(PracticeRecord, Role)>,
    /// For client users: their clients and role in each.
    pub clients: Vec<(ClientRecord, ClientRole)>,
    /// The terms version they accepted last, if any.
    pub accepted_terms: Option<u32>,
    /// The installation's current terms, if any.
    pub terms: Option<Terms>,
}

/// A practice's storage and throughput against its allowances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageView {
    /// The practice.
    pub practice: PracticeRecord,
    /// One row per allowance.
    pub allowances: Vec<AllowanceUsage>,
}

/// A filing with its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingView {
    /// The filing.
    pub filing: FilingRecord,
    /// Its tasks, in order of creation (the first page).
    pub tasks: Vec<TaskRecord>,
    /// Where the next page of tasks starts, if there are more.
    pub next_tasks: Option<Cursor>,
}

/// A task with everything on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView {
    /// The task.
    pub task: TaskRecord,
    /// Its checklist, in order.
    pub checklist: Vec<ChecklistItemRecord>,
    /// Time logged on it.
    pub time: Vec<TimeEntryRecord>,
    /// Its comments, oldest first (the first page).
    pub comments: Vec<CommentRecord>,
    /// Where the next page of comments starts, if there are more.
    pub next_comments: Option<Cursor>,
}

/// A row of My Tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyTaskView {
    /// The task, with its filing's id and status and its client's id.
    pub task: TaskRecord,
    /// What its filing is for.
    pub filing_kind: FilingKind,
    /// Its client, only when the caller may open it now (a task on a filed
    /// or cancelled filing stays the bookkeeper's, but opens nothing).
    pub client: Option<ClientRecord>,
}

/// A practice user a client user may send files to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientView {
    /// The user.
    pub user: UserRecord,
    /// Their role (admin or staff).
    pub role: Role,
    /// Their practice.
    pub practice: PracticeRecord,
}

/// The dashboard of My Tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardView {
    /// The counts.
    pub dashboard: Dashboard,
    /// The day it was computed for (UTC).
    pub today: time::Date,
}

/// A practice user as listed to colleagues.
pub type PersonView = MemberRecord;
