//! The practice work model: filings, tasks, checklists, time and the
//! bookkeeper's dashboard (PRODUCT.md "Practice work model").

use std::fmt;

use time::{Date, Duration};

use crate::ids::UserId;
use crate::people::Role;
use crate::values::ValueError;

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

/// A practice user who may be a task's reviewer or approver: an admin or a
/// staff member, never a bookkeeper. The only way to build one is
/// [`Reviewer::new`], so a task can never name a bookkeeper as reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reviewer(UserId);

/// A bookkeeper was named as reviewer or approver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a reviewer or approver must be an admin or staff member, not a {role}")]
pub struct NotAReviewer {
    /// The role of the user named.
    pub role: Role,
}

impl Reviewer {
    /// Checks that `user`, who has `role`, may review or approve.
    ///
    /// # Errors
    /// [`NotAReviewer`] for bookkeepers.
    pub fn new(user: UserId, role: Role) -> Result<Self, NotAReviewer> {
        if role.is_staff_or_admin() { Ok(Self(user)) } else { Err(NotAReviewer { role }) }
    }

    /// The user.
    #[must_use]
    pub const fn user(&self) -> UserId {
        self.0
    }
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

    #[test]
    fn reviewers_and_approvers_are_admins_or_staff_never_bookkeepers() {
        let user = UserId::from_uuid(uuid::Uuid::from_u128(7));
        assert!(Reviewer::new(user, Role::Admin).is_ok());
        assert!(Reviewer::new(user, Role::Staff).is_ok());
        assert_eq!(Reviewer::new(user, Role::Bookkeeper), Err(NotAReviewer { role: Role::Bookkeeper }));
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
