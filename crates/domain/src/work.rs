//! The practice work model: filings, tasks, checklists, time and the
//! bookkeeper's dashboard (PRODUCT.md "Practice work model").

use std::fmt;

use time::{Date, Duration};

use crate::ids::{ChecklistItemId, ClientId, FilingId, PracticeId, TaskId, TimeEntryId, UserId};
use crate::people::{PracticeUser, Role};
use crate::values::{Text, Title, ValueError};

/// Where a filing stands. Only an active filing's tasks grant access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum FilingStatus {
    /// Being worked on.
    Active,
    /// Lodged: done.
    Filed,
    /// Abandoned.
    Cancelled,
}

/// A filing lifecycle step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilingTransition {
    /// Active → filed.
    File,
    /// Active → cancelled.
    Cancel,
    /// Filed or cancelled → active.
    Reopen,
}

/// A filing step that its status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a filing that is {from}", match .transition {
    FilingTransition::File => "file",
    FilingTransition::Cancel => "cancel",
    FilingTransition::Reopen => "reopen",
})]
pub struct FilingTransitionError {
    /// The status the filing is in.
    pub from: FilingStatus,
    /// What was asked.
    pub transition: FilingTransition,
}

impl FilingStatus {
    /// The status after `transition`.
    ///
    /// # Errors
    /// [`FilingTransitionError`] when filing or cancelling a filing that is
    /// not active, or reopening one that is.
    pub fn apply(self, transition: FilingTransition) -> Result<Self, FilingTransitionError> {
        match (self, transition) {
            (Self::Active, FilingTransition::File) => Ok(Self::Filed),
            (Self::Active, FilingTransition::Cancel) => Ok(Self::Cancelled),
            (Self::Filed | Self::Cancelled, FilingTransition::Reopen) => Ok(Self::Active),
            (from, transition) => Err(FilingTransitionError { from, transition }),
        }
    }

    /// Whether tasks on it grant access and may be worked.
    #[must_use]
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Active)
    }

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Filed => "filed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Active, Self::Filed, Self::Cancelled].into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for FilingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a filing is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilingKind {
    /// Canadian GST/HST return.
    GstHst,
    /// Australian business activity statement.
    Bas,
    /// A payroll run or payroll filing.
    Payroll,
    /// Routine bookkeeping.
    Bookkeeping,
    /// Anything else, named by the practice.
    Other(crate::values::Title),
}

impl FilingKind {
    /// The stable name used in storage and APIs (`other:` and the name for [`Other`](Self::Other)).
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::GstHst => "gst_hst",
            Self::Bas => "bas",
            Self::Payroll => "payroll",
            Self::Bookkeeping => "bookkeeping",
            Self::Other(name) => name.as_str(),
        }
    }

    /// Parses a stored or submitted kind; unknown names become [`Other`](Self::Other).
    ///
    /// # Errors
    /// [`ValueError`] when the name is empty, too long or has control characters.
    pub fn parse(name: &str) -> Result<Self, ValueError> {
        Ok(match name.trim() {
            "gst_hst" => Self::GstHst,
            "bas" => Self::Bas,
            "payroll" => Self::Payroll,
            "bookkeeping" => Self::Bookkeeping,
            other => Self::Other(crate::values::Title::parse(other)?),
        })
    }
}

/// The period a filing covers, first and last day included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: Date,
    end: Date,
}

impl Period {
    /// A period from `start` to `end`, both included.
    ///
    /// # Errors
    /// [`ValueError`] naming `period` when it ends before it starts.
    pub fn new(start: Date, end: Date) -> Result<Self, ValueError> {
        if end < start {
            return Err(ValueError::Invalid { field: "period", reason: "it ends before it starts" });
        }
        Ok(Self { start, end })
    }

    /// The first day.
    #[must_use]
    pub const fn start(&self) -> Date {
        self.start
    }

    /// The last day.
    #[must_use]
    pub const fn end(&self) -> Date {
        self.end
    }
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum TaskStatus {
    /// Not started.
    ToDo,
    /// Being worked.
    InProgress,
    /// Blocked until the client answers.
    WaitingOnClient,
    /// Finished.
    Done,
}

impl TaskStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::ToDo, Self::InProgress, Self::WaitingOnClient, Self::Done];

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ToDo => "to_do",
            Self::InProgress => "in_progress",
            Self::WaitingOnClient => "waiting_on_client",
            Self::Done => "done",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Why a practice user cannot take a place on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    /// They belong to another practice.
    #[error("that person is not a member of this practice")]
    OtherPractice,
    /// They are deactivated.
    #[error("that person's account is deactivated")]
    Deactivated,
    /// Bookkeepers never review or approve.
    #[error("a reviewer or approver must be an admin or staff member, not a {role}")]
    NotAReviewer {
        /// The role of the user named.
        role: Role,
    },
}

fn check_candidate(candidate: &PracticeUser, practice: PracticeId) -> Result<(), CandidateError> {
    if candidate.practice != practice {
        Err(CandidateError::OtherPractice)
    } else if !candidate.active {
        Err(CandidateError::Deactivated)
    } else {
        Ok(())
    }
}

/// The holder of a task: an active user of the task's practice, of any role
/// (bookkeepers included; assigning them is the whole grant of access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Assignee(UserId);

impl Assignee {
    /// Checks that `candidate` may hold a task of `practice`.
    ///
    /// # Errors
    /// [`CandidateError`] when they belong to another practice or are deactivated.
    pub fn new(candidate: &PracticeUser, practice: PracticeId) -> Result<Self, CandidateError> {
        check_candidate(candidate, practice).map(|()| Self(candidate.user))
    }

    /// The user.
    #[must_use]
    pub const fn user(&self) -> UserId {
        self.0
    }
}

/// A task's reviewer or approver: an active admin or staff member of the
/// task's practice, never a bookkeeper. The only way to build one is
/// [`Reviewer::new`], so a task can never name a bookkeeper as reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reviewer(UserId);

impl Reviewer {
    /// Checks that `candidate` may review or approve a task of `practice`.
    ///
    /// # Errors
    /// [`CandidateError`] for bookkeepers, other practices' users and deactivated users.
    pub fn new(candidate: &PracticeUser, practice: PracticeId) -> Result<Self, CandidateError> {
        check_candidate(candidate, practice)?;
        if candidate.role.is_staff_or_admin() {
            Ok(Self(candidate.user))
        } else {
            Err(CandidateError::NotAReviewer { role: candidate.role })
        }
    }

    /// The user.
    #[must_use]
    pub const fn user(&self) -> UserId {
        self.0
    }
}

/// A filing of a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    /// Which filing.
    pub id: FilingId,
    /// Whose.
    pub client: ClientId,
    /// What for.
    pub kind: FilingKind,
    /// The period it covers, if it has one.
    pub period: Option<Period>,
    /// When it is due.
    pub due: Option<Date>,
    /// Where it stands.
    pub status: FilingStatus,
}

/// An item of a task's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// Which item.
    pub id: ChecklistItemId,
    /// What to check.
    pub text: Title,
    /// Ticked or not.
    pub done: bool,
}

/// A task (filing step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Which task.
    pub id: TaskId,
    /// The filing it belongs to.
    pub filing: FilingId,
    /// What to do.
    pub title: Title,
    /// Where it stands.
    pub status: TaskStatus,
    /// Who holds it.
    pub assignee: Option<Assignee>,
    /// When it is due.
    pub due: Option<Date>,
    /// Who reviews it.
    pub reviewer: Option<Reviewer>,
    /// Who approves it.
    pub approver: Option<Reviewer>,
    /// Its checklist, in order.
    pub checklist: Vec<ChecklistItem>,
}

/// A checklist item that is not on the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the task has no checklist item {0}")]
pub struct NoSuchChecklistItem(pub ChecklistItemId);

impl Task {
    /// A new task, to do, with nothing assigned.
    #[must_use]
    pub const fn new(id: TaskId, filing: FilingId, title: Title) -> Self {
        Self {
            id,
            filing,
            title,
            status: TaskStatus::ToDo,
            assignee: None,
            due: None,
            reviewer: None,
            approver: None,
            checklist: Vec::new(),
        }
    }

    /// Ticks or unticks a checklist item.
    ///
    /// # Errors
    /// [`NoSuchChecklistItem`] when the item is not on this task.
    pub fn tick(&mut self, item: ChecklistItemId, done: bool) -> Result<(), NoSuchChecklistItem> {
        let entry = self.checklist.iter_mut().find(|i| i.id == item).ok_or(NoSuchChecklistItem(item))?;
        entry.done = done;
        Ok(())
    }

    /// How many checklist items are ticked, and how many there are.
    #[must_use]
    pub fn progress(&self) -> (usize, usize) {
        (self.checklist.iter().filter(|i| i.done).count(), self.checklist.len())
    }
}

/// Time logged on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeEntry {
    /// Which entry.
    pub id: TimeEntryId,
    /// On which task.
    pub task: TaskId,
    /// Who worked.
    pub user: UserId,
    /// The day worked.
    pub on: Date,
    /// How long.
    pub minutes: Minutes,
    /// What was done, if said.
    pub note: Option<Text>,
}

/// Minutes of work logged on a task: more than zero, at most one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minutes(u16);

impl Minutes {
    /// The most a single time entry may record.
    pub const MAX: u16 = 24 * 60;

    /// Checks a number of minutes.
    ///
    /// # Errors
    /// [`ValueError`] naming `minutes` when it is zero or more than a day.
    pub fn new(minutes: u32) -> Result<Self, ValueError> {
        match u16::try_from(minutes) {
            Ok(m) if (1..=Self::MAX).contains(&m) => Ok(Self(m)),
            _ => Err(ValueError::Invalid { field: "minutes", reason: "it must be between 1 and 1440" }),
        }
    }

    /// The number of minutes.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// Where a task falls on the bookkeeper's dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DueBucket {
    /// Done, or has no due date, or due later than next week.
    Later,
    /// Due today or within the next 7 days.
    DueSoon,
    /// Past its due date and not done.
    Overdue,
}

/// How many days ahead counts as "due soon".
pub const DUE_SOON_DAYS: i64 = 7;

/// Classifies a task for the dashboard, given today's date (the caller's clock).
///
/// ```
/// use ferry_domain::work::{due_bucket, DueBucket, TaskStatus};
/// use time::macros::date;
/// let today = date!(2026 - 04 - 20);
/// assert_eq!(due_bucket(TaskStatus::ToDo, Some(date!(2026 - 04 - 18)), today), DueBucket::Overdue);
/// assert_eq!(due_bucket(TaskStatus::ToDo, Some(date!(2026 - 04 - 27)), today), DueBucket::DueSoon);
/// assert_eq!(due_bucket(TaskStatus::Done, Some(date!(2026 - 04 - 18)), today), DueBucket::Later);
/// ```
#[must_use]
pub fn due_bucket(status: TaskStatus, due: Option<Date>, today: Date) -> DueBucket {
    match due {
        _ if status == TaskStatus::Done => DueBucket::Later,
        Some(due) if due < today => DueBucket::Overdue,
        Some(due) if due <= today + Duration::days(DUE_SOON_DAYS) => DueBucket::DueSoon,
        _ => DueBucket::Later,
    }
}

/// The counts shown on the bookkeeper's dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dashboard {
    /// Tasks assigned and not done.
    pub assigned: u32,
    /// Of those, due within the next 7 days.
    pub due_soon: u32,
    /// Of those, past due.
    pub overdue: u32,
}

impl Dashboard {
    /// Builds the dashboard from a user's tasks (status and due date), as of `today`.
    #[must_use]
    pub fn of(tasks: impl IntoIterator<Item = (TaskStatus, Option<Date>)>, today: Date) -> Self {
        tasks.into_iter().filter(|(status, _)| *status != TaskStatus::Done).fold(
            Self::default(),
            |mut d, (status, due)| {
                d.assigned += 1;
                match due_bucket(status, due, today) {
                    DueBucket::DueSoon => d.due_soon += 1,
                    DueBucket::Overdue => d.overdue += 1,
                    DueBucket::Later => {}
                }
                d
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn filings_are_filed_or_cancelled_only_while_active_and_reopen_to_active() {
        use FilingStatus::*;
        use FilingTransition::*;
        let cases = [
            (Active, File, Ok(Filed)),
            (Active, Cancel, Ok(Cancelled)),
            (Active, Reopen, Err(())),
            (Filed, Reopen, Ok(Active)),
            (Cancelled, Reopen, Ok(Active)),
            (Filed, File, Err(())),
            (Filed, Cancel, Err(())),
            (Cancelled, File, Err(())),
            (Cancelled, Cancel, Err(())),
        ];
        for (from, t, expected) in cases {
            assert_eq!(from.apply(t).map_err(|_| ()), expected, "{from} {t:?}");
        }
        assert_eq!(Filed.apply(File).unwrap_err().to_string(), "cannot file a filing that is filed");
    }

    fn candidate(role: Role, practice: u128, active: bool) -> PracticeUser {
        PracticeUser {
            user: UserId::from_uuid(uuid::Uuid::from_u128(7)),
            practice: PracticeId::from_uuid(uuid::Uuid::from_u128(practice)),
            role,
            active,
            practice_status: crate::practice::PracticeStatus::Approved,
        }
    }

    #[test]
    fn reviewers_and_approvers_are_admins_or_staff_never_bookkeepers() {
        let practice = PracticeId::from_uuid(uuid::Uuid::from_u128(1));
        assert!(Reviewer::new(&candidate(Role::Admin, 1, true), practice).is_ok());
        assert!(Reviewer::new(&candidate(Role::Staff, 1, true), practice).is_ok());
        assert_eq!(
            Reviewer::new(&candidate(Role::Bookkeeper, 1, true), practice),
            Err(CandidateError::NotAReviewer { role: Role::Bookkeeper })
        );
        assert_eq!(Reviewer::new(&candidate(Role::Staff, 2, true), practice), Err(CandidateError::OtherPractice));
    }

    #[test]
    fn tasks_are_assigned_to_active_users_of_their_practice_bookkeepers_included() {
        let practice = PracticeId::from_uuid(uuid::Uuid::from_u128(1));
        for role in Role::ALL {
            assert!(Assignee::new(&candidate(role, 1, true), practice).is_ok(), "{role}");
        }
        assert_eq!(Assignee::new(&candidate(Role::Staff, 1, false), practice), Err(CandidateError::Deactivated));
        assert_eq!(Assignee::new(&candidate(Role::Bookkeeper, 2, true), practice), Err(CandidateError::OtherPractice));
    }

    #[test]
    fn checklist_items_tick_and_report_progress() {
        let id = |n| uuid::Uuid::from_u128(n);
        let mut task =
            Task::new(TaskId::from_uuid(id(1)), FilingId::from_uuid(id(2)), Title::parse("Reconcile").unwrap());
        let item = ChecklistItemId::from_uuid(id(3));
        task.checklist.push(ChecklistItem { id: item, text: Title::parse("Bank statements").unwrap(), done: false });
        task.checklist.push(ChecklistItem {
            id: ChecklistItemId::from_uuid(id(4)),
            text: Title::parse("Receipts").unwrap(),
            done: false,
        });
        assert_eq!(task.progress(), (0, 2));
        task.tick(item, true).unwrap();
        assert_eq!(task.progress(), (1, 2));
        let missing = ChecklistItemId::from_uuid(id(9));
        assert_eq!(task.tick(missing, true), Err(NoSuchChecklistItem(missing)));
    }

    #[test]
    fn periods_cannot_end_before_they_start() {
        assert!(Period::new(date!(2026 - 01 - 01), date!(2026 - 03 - 31)).is_ok());
        assert!(Period::new(date!(2026 - 01 - 01), date!(2026 - 01 - 01)).is_ok());
        assert!(Period::new(date!(2026 - 04 - 01), date!(2026 - 03 - 31)).is_err());
    }

    #[test]
    fn time_entries_are_between_a_minute_and_a_day() {
        assert!(Minutes::new(0).is_err());
        assert_eq!(Minutes::new(90).map(Minutes::get), Ok(90));
        assert!(Minutes::new(1440).is_ok());
        assert!(Minutes::new(1441).is_err());
        assert!(Minutes::new(u32::MAX).is_err());
    }

    #[test]
    fn dashboard_counts_assigned_due_soon_and_overdue() {
        let today = date!(2026 - 04 - 20);
        let tasks = [
            (TaskStatus::ToDo, Some(date!(2026 - 04 - 22))),            // due soon
            (TaskStatus::InProgress, Some(date!(2026 - 04 - 27))),      // due soon (7 days)
            (TaskStatus::ToDo, Some(date!(2026 - 04 - 28))),            // later
            (TaskStatus::WaitingOnClient, Some(date!(2026 - 04 - 18))), // overdue
            (TaskStatus::ToDo, None),                                   // later
            (TaskStatus::Done, Some(date!(2026 - 04 - 01))),            // not counted
        ];
        assert_eq!(Dashboard::of(tasks, today), Dashboard { assigned: 5, due_soon: 2, overdue: 1 });
    }

    #[test]
    fn names_round_trip() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::from_name(s.as_str()), Some(s));
        }
        for s in [FilingStatus::Active, FilingStatus::Filed, FilingStatus::Cancelled] {
            assert_eq!(FilingStatus::from_name(s.as_str()), Some(s));
        }
        assert_eq!(FilingKind::parse("payroll"), Ok(FilingKind::Payroll));
        assert_eq!(FilingKind::parse("Annual accounts").unwrap().as_str(), "Annual accounts");
        assert!(FilingKind::parse("").is_err());
    }
}
