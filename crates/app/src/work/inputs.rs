//! What the work use cases take: their inputs, and the parsers of dates,
//! periods and statuses that name the field at fault.

use ferry_domain::ids::UserId;
use ferry_domain::work::{Period, TaskStatus};
use time::{Date, Month};

use crate::AppError;

/// A filing to create. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilingInput {
    /// What for: `gst_hst`, `bas`, `payroll`, `bookkeeping`, or any other name.
    pub kind: String,
    /// The first day of the period covered (with `period_end`).
    pub period_start: Option<String>,
    /// The last day of the period covered (with `period_start`).
    pub period_end: Option<String>,
    /// When it is due.
    pub due: Option<String>,
}

/// A task to create on a filing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskInput {
    /// What to do.
    pub title: String,
    /// When it is due, `YYYY-MM-DD`.
    pub due: Option<String>,
    /// Who holds it: an active member of the practice, of any role.
    pub assignee: Option<UserId>,
    /// Who reviews it: an active admin or staff member.
    pub reviewer: Option<UserId>,
    /// Who approves it: an active admin or staff member.
    pub approver: Option<UserId>,
}

/// Changes to a task. `None` keeps a value; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChange {
    /// A new holder (checked as [`Action::AssignTask`]).
    pub assignee: Option<Option<UserId>>,
    /// A new due date, `YYYY-MM-DD` (checked as [`Action::SetTaskDueDate`]).
    pub due: Option<Option<String>>,
    /// A new reviewer (checked as [`Action::SetTaskReviewers`]).
    pub reviewer: Option<Option<UserId>>,
    /// A new approver (checked as [`Action::SetTaskReviewers`]).
    pub approver: Option<Option<UserId>>,
}

impl TaskChange {
    pub(super) fn is_empty(&self) -> bool {
        self.assignee.is_none() && self.due.is_none() && self.reviewer.is_none() && self.approver.is_none()
    }
}

/// Time to log on a task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimeInput {
    /// The day worked, `YYYY-MM-DD`.
    pub on: String,
    /// How long: 1 to 1440 minutes.
    pub minutes: u32,
    /// What was done.
    pub note: Option<String>,
}

/// Parses a `YYYY-MM-DD` date, naming `field` on failure.
pub(crate) fn parse_date(field: &str, raw: &str) -> Result<Date, AppError> {
    let bad = || AppError::invalid(field, format!("{field} must be a date written YYYY-MM-DD, such as 2026-04-30"));
    let raw = raw.trim();
    let parts: Vec<&str> = raw.split('-').collect();
    let [year, month, day] = parts.as_slice() else { return Err(bad()) };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(bad());
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year) && digits(month) && digits(day)) {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u8 = month.parse().map_err(|_| bad())?;
    let day: u8 = day.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

pub(super) fn optional_date(field: &str, raw: Option<&str>) -> Result<Option<Date>, AppError> {
    raw.map(|r| parse_date(field, r)).transpose()
}

pub(super) fn period(start: Option<&str>, end: Option<&str>) -> Result<Option<Period>, AppError> {
    let start = optional_date("period_start", start)?;
    let end = optional_date("period_end", end)?;
    match (start, end) {
        (None, None) => Ok(None),
        (Some(start), Some(end)) => Period::new(start, end)
            .map(Some)
            .map_err(|_| AppError::invalid("period_end", "period_end must not be before period_start")),
        (Some(_), None) => Err(AppError::invalid("period_end", "period_end is needed with period_start")),
        (None, Some(_)) => Err(AppError::invalid("period_start", "period_start is needed with period_end")),
    }
}

pub(super) fn task_status(raw: &str) -> Result<TaskStatus, AppError> {
    TaskStatus::from_name(raw.trim())
        .ok_or_else(|| AppError::invalid("status", "status must be one of to_do, in_progress, waiting_on_client, done"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_yyyy_mm_dd_and_name_their_field() {
        assert_eq!(parse_date("due", "2026-04-30").unwrap(), Date::from_calendar_date(2026, Month::April, 30).unwrap());
        for bad in ["2026-4-30", "2026-02-30", "30/04/2026", "", "2026-04-30T00:00", "+202-04-30", "2026-13-01"] {
            let error = parse_date("due", bad).unwrap_err();
            assert_eq!(error.field(), Some("due"), "{bad}");
        }
    }

    #[test]
    fn periods_need_both_ends_in_order() {
        assert_eq!(period(None, None).unwrap(), None);
        assert!(period(Some("2026-01-01"), Some("2026-03-31")).unwrap().is_some());
        assert_eq!(period(Some("2026-01-01"), None).unwrap_err().field(), Some("period_end"));
        assert_eq!(period(None, Some("2026-01-01")).unwrap_err().field(), Some("period_start"));
        assert_eq!(period(Some("2026-04-01"), Some("2026-03-31")).unwrap_err().field(), Some("period_end"));
        assert_eq!(period(Some("nope"), Some("2026-03-31")).unwrap_err().field(), Some("period_start"));
    }

    #[test]
    fn task_statuses_parse_by_name() {
        assert_eq!(task_status("waiting_on_client").unwrap(), TaskStatus::WaitingOnClient);
        assert_eq!(task_status("finished").unwrap_err().field(), Some("status"));
    }
}
