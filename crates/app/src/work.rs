//! The work model: clients' context, filings, tasks, checklists, time,
//! comments and discussion, My Tasks and the dashboard.
//!
//! Every use case goes through the scope checks of [`Work`]: a filing or task
//! of another practice, or of a client out of the caller's scope, is not
//! found; a task action a bookkeeper may not take (someone else's task, a
//! closed filing) is forbidden. Access follows the work (rule 6): filing,
//! cancelling or reopening a filing changes nothing else, because the facts
//! are read afresh on every request.

use ferry_domain::access::{Action, can_open_client};
use ferry_domain::ids::{ChecklistItemId, ClientId, CommentId, FilingId, TaskId, TimeEntryId, UserId};
use ferry_domain::people::{Actor, PracticeUser, Role};
use ferry_domain::values::{Text, Title};
use ferry_domain::work::{
    Assignee, CandidateError, Dashboard, FilingKind, FilingStatus, FilingTransition, Minutes, Period, Reviewer,
    TaskStatus,
};
use ferry_ports::records::{
    ChecklistItemRecord, ClientRecord, CommentRecord, DocumentRecord, EmailLogRecord, FilingRecord, NewTask, Page,
    PageRequest, TaskRecord, Thread, TimeEntryRecord,
};
use time::{Date, Month, UtcOffset};

use crate::context::Work;
use crate::error::parse;
use crate::views::{DashboardView, FilingView, MyTaskView, RecipientView, TaskView};
use crate::{App, AppError, Principal};

/// How many tasks [`App::filing`] shows with the filing (the rest page through
/// [`App::filing_tasks`]).
const FILING_TASKS: u32 = 100;
/// How many comments [`App::task`] shows with the task (the rest page through
/// [`App::task_comments`]).
const TASK_COMMENTS: u32 = 50;

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
    fn is_empty(&self) -> bool {
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

fn optional_date(field: &str, raw: Option<&str>) -> Result<Option<Date>, AppError> {
    raw.map(|r| parse_date(field, r)).transpose()
}

fn period(start: Option<&str>, end: Option<&str>) -> Result<Option<Period>, AppError> {
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

fn task_status(raw: &str) -> Result<TaskStatus, AppError> {
    TaskStatus::from_name(raw.trim())
        .ok_or_else(|| AppError::invalid("status", "status must be one of to_do, in_progress, waiting_on_client, done"))
}

const fn transition_name(transition: FilingTransition) -> &'static str {
    match transition {
        FilingTransition::File => "file",
        FilingTransition::Cancel => "cancel",
        FilingTransition::Reopen => "reopen",
    }
}

/// The practice user named in `field`, fresh from the store.
async fn candidate(work: &mut Work, field: &str, user: UserId) -> Result<PracticeUser, AppError> {
    match work.tx.actor(user).await? {
        Some(Actor::Practice(p)) => Ok(p),
        _ => Err(AppError::invalid(field, format!("{field} is not a member of this practice"))),
    }
}

fn candidate_error(field: &str, error: CandidateError) -> AppError {
    AppError::invalid(field, format!("{field}: {error}"))
}

async fn assignee(work: &mut Work, task: &TaskRecord, user: UserId) -> Result<Assignee, AppError> {
    let candidate = candidate(work, "assignee", user).await?;
    Assignee::new(&candidate, task.practice).map_err(|e| candidate_error("assignee", e))
}

async fn reviewer(
    work: &mut Work,
    field: &str,
    practice: ferry_domain::ids::PracticeId,
    user: UserId,
) -> Result<Reviewer, AppError> {
    let candidate = candidate(work, field, user).await?;
    Reviewer::new(&candidate, practice).map_err(|e| candidate_error(field, e))
}

fn first_page(limit: u32) -> PageRequest {
    PageRequest::first(limit)
}

impl App {
    /// A client's details, for anyone who may open it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of the caller's scope.
    pub async fn client(&self, who: &Principal, client: ClientId) -> Result<ClientRecord, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ViewClient, client).await?;
        work.tx.client(client).await?.ok_or(AppError::not_found("client"))
    }

    /// The caller's practice's filings for a client, in order of creation.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of the caller's scope.
    pub async fn filings(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<FilingRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListFilings, client).await?;
        let practice = work.practice_user().ok_or(AppError::not_found("client"))?.practice;
        Ok(work.tx.list_filings(practice, client, page).await?)
    }

    /// Admins and staff in scope create a filing for a client; it starts active.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field (`kind`, `period_start`,
    /// `period_end`, `due`); [`AppError::Forbidden`] for bookkeepers.
    pub async fn create_filing(
        &self,
        who: &Principal,
        client: ClientId,
        input: &FilingInput,
    ) -> Result<FilingRecord, AppError> {
        let kind = parse("kind", &input.kind, FilingKind::parse)?;
        let period = period(input.period_start.as_deref(), input.period_end.as_deref())?;
        let due = optional_date("due", input.due.as_deref())?;
        let mut work = self.write(who).await?;
        work.client(Action::CreateFiling, client).await?;
        let practice = work.practice_user().ok_or(AppError::not_found("client"))?.practice;
        let filing = FilingRecord {
            id: FilingId::from_uuid(work.new_id()),
            practice,
            client,
            kind,
            period,
            due,
            status: FilingStatus::Active,
            created_at: work.now,
        };
        work.tx.insert_filing(&filing).await?;
        work.audit(
            "filing.create",
            Some(practice),
            Some(client),
            Some(filing.id.as_uuid()),
            format!("kind {}", filing.kind.as_str()),
        )
        .await?;
        let filing = work.tx.filing(filing.id).await?.ok_or(AppError::not_found("filing"))?;
        work.commit().await?;
        Ok(filing)
    }

    /// A filing with the first page of its tasks.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for another practice's filing or a client out of scope.
    pub async fn filing(&self, who: &Principal, id: FilingId) -> Result<FilingView, AppError> {
        let mut work = self.read(who).await?;
        let (filing, _) = work.filing(Action::ViewFiling, id).await?;
        let tasks = work.tx.list_tasks_of_filing(id, &first_page(FILING_TASKS)).await?;
        Ok(FilingView { filing, tasks: tasks.items, next_tasks: tasks.next })
    }

    /// A filing's tasks, a page at a time, in order of creation.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for another practice's filing or a client out of scope.
    pub async fn filing_tasks(
        &self,
        who: &Principal,
        id: FilingId,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.filing(Action::ViewFiling, id).await?;
        Ok(work.tx.list_tasks_of_filing(id, page).await?)
    }

    /// Admins and staff in scope file, cancel or reopen a filing. Bookkeepers'
    /// access follows at once: tasks on a filed or cancelled filing grant none.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when the filing's status does not allow the
    /// step (or it changed meanwhile); [`AppError::Forbidden`] for bookkeepers.
    pub async fn change_filing_status(
        &self,
        who: &Principal,
        id: FilingId,
        transition: FilingTransition,
    ) -> Result<FilingRecord, AppError> {
        let mut work = self.write(who).await?;
        let (filing, _) = work.filing(Action::ChangeFilingStatus, id).await?;
        let to = filing.status.apply(transition).map_err(|e| AppError::conflict(e.to_string()))?;
        work.tx.set_filing_status(id, filing.status, to, work.now).await?;
        let detail = format!("{} → {}", filing.status.as_str(), to.as_str());
        work.audit(
            &format!("filing.{}", transition_name(transition)),
            Some(filing.practice),
            Some(filing.client),
            Some(id.as_uuid()),
            detail,
        )
        .await?;
        let filing = work.tx.filing(id).await?.ok_or(AppError::not_found("filing"))?;
        work.commit().await?;
        Ok(filing)
    }

    /// Admins and staff in scope add a task to an active filing, optionally
    /// assigned (to anyone active in the practice, bookkeepers included) and
    /// with a reviewer and approver (admins or staff only).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field (`title`, `due`, `assignee`,
    /// `reviewer`, `approver`); [`AppError::Conflict`] when the filing is
    /// filed or cancelled; [`AppError::Forbidden`] for bookkeepers.
    pub async fn create_task(
        &self,
        who: &Principal,
        filing: FilingId,
        input: &TaskInput,
    ) -> Result<TaskRecord, AppError> {
        let title = parse("title", &input.title, Title::parse)?;
        let due = optional_date("due", input.due.as_deref())?;
        let mut work = self.write(who).await?;
        let (filing, _) = work.filing(Action::CreateTask, filing).await?;
        if !filing.status.is_active() {
            return Err(AppError::conflict(format!("the filing is {}; reopen it to add tasks", filing.status)));
        }
        let holder = match input.assignee {
            Some(user) => {
                let candidate = candidate(&mut work, "assignee", user).await?;
                Some(Assignee::new(&candidate, filing.practice).map_err(|e| candidate_error("assignee", e))?)
            }
            None => None,
        };
        let review = match input.reviewer {
            Some(user) => Some(reviewer(&mut work, "reviewer", filing.practice, user).await?),
            None => None,
        };
        let approve = match input.approver {
            Some(user) => Some(reviewer(&mut work, "approver", filing.practice, user).await?),
            None => None,
        };
        let id = TaskId::from_uuid(work.new_id());
        work.tx.insert_task(&NewTask { id, filing: filing.id, title, due, created_at: work.now }).await?;
        if holder.is_some() {
            work.tx.set_task_assignee(id, holder).await?;
        }
        if review.is_some() || approve.is_some() {
            work.tx.set_task_reviewers(id, review, approve).await?;
        }
        let detail = match holder {
            Some(a) => format!("on filing {}; assigned to {}", filing.id, a.user()),
            None => format!("on filing {}; unassigned", filing.id),
        };
        work.audit("task.create", Some(filing.practice), Some(filing.client), Some(id.as_uuid()), detail).await?;
        let task = work.tx.task(id).await?.ok_or(AppError::not_found("task"))?;
        work.commit().await?;
        Ok(task)
    }

    /// A task with its checklist, time entries and first page of comments.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for another practice's task or a client out of scope.
    pub async fn task(&self, who: &Principal, id: TaskId) -> Result<TaskView, AppError> {
        let mut work = self.read(who).await?;
        let (task, _) = work.task(Action::ViewTask, id).await?;
        let checklist = work.tx.checklist(id).await?;
        let time = work.tx.time_entries(id).await?;
        let comments = work.tx.comments(Thread::Task(id), &first_page(TASK_COMMENTS)).await?;
        Ok(TaskView { task, checklist, time, comments: comments.items, next_comments: comments.next })
    }

    /// Admins and staff in scope change a task's assignee, due date, reviewer
    /// or approver; each field present is checked with its own action.
    /// Reassigning a bookkeeper's last task on a client ends their access at once.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field (a bookkeeper as reviewer or
    /// approver, someone of another practice, a deactivated person, a bad
    /// date); [`AppError::Forbidden`] on a closed filing or for bookkeepers.
    pub async fn change_task(&self, who: &Principal, id: TaskId, change: &TaskChange) -> Result<TaskRecord, AppError> {
        let due = match &change.due {
            Some(raw) => Some(optional_date("due", raw.as_deref())?),
            None => None,
        };
        let mut work = self.write(who).await?;
        if change.is_empty() {
            // Nothing to change: still only for those who could change it.
            let (task, _) = work.task(Action::AssignTask, id).await?;
            return Ok(task);
        }
        if let Some(user) = change.assignee {
            let (current, _) = work.task(Action::AssignTask, id).await?;
            let holder = match user {
                Some(user) => Some(assignee(&mut work, &current, user).await?),
                None => None,
            };
            if holder.map(|a| a.user()) != current.assignee {
                work.tx.set_task_assignee(id, holder).await?;
                let detail = match holder {
                    Some(a) => format!("assigned to {}", a.user()),
                    None => "unassigned".to_owned(),
                };
                work.audit("task.assign", Some(current.practice), Some(current.client), Some(id.as_uuid()), detail)
                    .await?;
            }
        }
        if let Some(due) = due {
            let (current, _) = work.task(Action::SetTaskDueDate, id).await?;
            if due != current.due {
                work.tx.set_task_due(id, due).await?;
                let detail = due.map_or_else(|| "no due date".to_owned(), |d| format!("due {d}"));
                work.audit("task.due_date", Some(current.practice), Some(current.client), Some(id.as_uuid()), detail)
                    .await?;
            }
        }
        if change.reviewer.is_some() || change.approver.is_some() {
            let (current, _) = work.task(Action::SetTaskReviewers, id).await?;
            let review = match change.reviewer.unwrap_or(current.reviewer) {
                Some(user) => Some(reviewer(&mut work, "reviewer", current.practice, user).await?),
                None => None,
            };
            let approve = match change.approver.unwrap_or(current.approver) {
                Some(user) => Some(reviewer(&mut work, "approver", current.practice, user).await?),
                None => None,
            };
            if (review.map(|r| r.user()), approve.map(|r| r.user())) != (current.reviewer, current.approver) {
                work.tx.set_task_reviewers(id, review, approve).await?;
                let name = |r: Option<Reviewer>| r.map_or_else(|| "none".to_owned(), |r| r.user().to_string());
                let detail = format!("reviewer {}, approver {}", name(review), name(approve));
                work.audit("task.reviewers", Some(current.practice), Some(current.client), Some(id.as_uuid()), detail)
                    .await?;
            }
        }
        let task = work.tx.task(id).await?.ok_or(AppError::not_found("task"))?;
        work.commit().await?;
        Ok(task)
    }

    /// Changes a task's status: admins and staff in scope, and bookkeepers
    /// on their own tasks, while the filing is active.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `status`; [`AppError::Forbidden`] on
    /// someone else's task (bookkeepers) or a closed filing.
    pub async fn set_task_status(&self, who: &Principal, id: TaskId, status: &str) -> Result<TaskRecord, AppError> {
        let status = task_status(status)?;
        let mut work = self.write(who).await?;
        let (task, _) = work.task(Action::ChangeTaskStatus, id).await?;
        if task.status != status {
            work.tx.set_task_status(id, status, work.now).await?;
            let detail = format!("{} → {}", task.status.as_str(), status.as_str());
            work.audit("task.status", Some(task.practice), Some(task.client), Some(id.as_uuid()), detail).await?;
        }
        let task = work.tx.task(id).await?.ok_or(AppError::not_found("task"))?;
        work.commit().await?;
        Ok(task)
    }

    /// Admins and staff in scope add an item to the end of a task's checklist.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `text`; [`AppError::Forbidden`] on a closed filing.
    pub async fn add_checklist_item(
        &self,
        who: &Principal,
        id: TaskId,
        text: &str,
    ) -> Result<ChecklistItemRecord, AppError> {
        let text = parse("text", text, Title::parse)?;
        let mut work = self.write(who).await?;
        let (task, _) = work.task(Action::EditChecklist, id).await?;
        let item = ChecklistItemRecord {
            id: ChecklistItemId::from_uuid(work.new_id()),
            task: id,
            position: 0,
            text,
            done: false,
        };
        let item = work.tx.add_checklist_item(&item).await?;
        work.audit(
            "task.checklist.add",
            Some(task.practice),
            Some(task.client),
            Some(id.as_uuid()),
            format!("item {}", item.id),
        )
        .await?;
        work.commit().await?;
        Ok(item)
    }

    /// Ticks or unticks a checklist item: admins and staff in scope, and
    /// bookkeepers on their own tasks.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an item not on the task; [`AppError::Forbidden`]
    /// on someone else's task (bookkeepers) or a closed filing.
    pub async fn tick_checklist_item(
        &self,
        who: &Principal,
        id: TaskId,
        item: ChecklistItemId,
        done: bool,
    ) -> Result<ChecklistItemRecord, AppError> {
        let mut work = self.write(who).await?;
        let (task, _) = work.task(Action::TickChecklistItem, id).await?;
        let Some(mut found) = work.tx.checklist(id).await?.into_iter().find(|i| i.id == item) else {
            return Err(AppError::not_found("checklist item"));
        };
        if found.done != done {
            work.tx.tick_checklist_item(id, item, done).await?;
            let detail = format!("item {item} {}", if done { "ticked" } else { "unticked" });
            work.audit("task.checklist.tick", Some(task.practice), Some(task.client), Some(id.as_uuid()), detail)
                .await?;
            found.done = done;
        }
        work.commit().await?;
        Ok(found)
    }

    /// Admins and staff in scope remove a checklist item.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an item not on the task.
    pub async fn remove_checklist_item(
        &self,
        who: &Principal,
        id: TaskId,
        item: ChecklistItemId,
    ) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        let (task, _) = work.task(Action::EditChecklist, id).await?;
        if !work.tx.checklist(id).await?.iter().any(|i| i.id == item) {
            return Err(AppError::not_found("checklist item"));
        }
        work.tx.remove_checklist_item(id, item).await?;
        work.audit(
            "task.checklist.remove",
            Some(task.practice),
            Some(task.client),
            Some(id.as_uuid()),
            format!("item {item}"),
        )
        .await?;
        work.commit().await
    }

    /// The time logged on a task, in order of logging.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a task out of scope.
    pub async fn time_entries(&self, who: &Principal, id: TaskId) -> Result<Vec<TimeEntryRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.task(Action::ViewTask, id).await?;
        Ok(work.tx.time_entries(id).await?)
    }

    /// Logs the caller's time on a task: admins and staff in scope, and
    /// bookkeepers on their own tasks.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `on`, `minutes` or `note`;
    /// [`AppError::Forbidden`] on someone else's task (bookkeepers) or a closed filing.
    pub async fn log_time(&self, who: &Principal, id: TaskId, input: &TimeInput) -> Result<TimeEntryRecord, AppError> {
        let on = parse_date("on", &input.on)?;
        let minutes = Minutes::new(input.minutes).map_err(|e| AppError::value("minutes", &e))?;
        let note = input
            .note
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(|n| parse("note", n, Text::parse))
            .transpose()?;
        let mut work = self.write(who).await?;
        let (task, _) = work.task(Action::LogTime, id).await?;
        let entry = TimeEntryRecord {
            id: TimeEntryId::from_uuid(work.new_id()),
            task: id,
            user: work.user()?,
            on,
            minutes,
            note,
            created_at: work.now,
        };
        work.tx.add_time_entry(&entry).await?;
        let detail = format!("{} minutes on {on}", minutes.get());
        work.audit("task.time.log", Some(task.practice), Some(task.client), Some(id.as_uuid()), detail).await?;
        work.commit().await?;
        Ok(entry)
    }

    /// A task's comments, oldest first, a page at a time.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a task out of scope.
    pub async fn task_comments(
        &self,
        who: &Principal,
        id: TaskId,
        page: &PageRequest,
    ) -> Result<Page<CommentRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.task(Action::ViewTask, id).await?;
        Ok(work.tx.comments(Thread::Task(id), page).await?)
    }

    /// Comments on a task: admins and staff in scope, and bookkeepers on their own tasks.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `body`; [`AppError::Forbidden`] on
    /// someone else's task (bookkeepers) or a closed filing.
    pub async fn comment_on_task(&self, who: &Principal, id: TaskId, body: &str) -> Result<CommentRecord, AppError> {
        let body = parse("body", body, Text::parse)?;
        let mut work = self.write(who).await?;
        let (task, _) = work.task(Action::CommentOnTask, id).await?;
        let comment = CommentRecord {
            id: CommentId::from_uuid(work.new_id()),
            thread: Thread::Task(id),
            author: work.user()?,
            body,
            created_at: work.now,
        };
        work.tx.add_comment(&comment).await?;
        work.audit(
            "task.comment",
            Some(task.practice),
            Some(task.client),
            Some(id.as_uuid()),
            format!("comment {}", comment.id),
        )
        .await?;
        work.commit().await?;
        Ok(comment)
    }

    /// A filing's discussion, oldest first, a page at a time.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for another practice's filing or a client out of scope.
    pub async fn discussion(
        &self,
        who: &Principal,
        id: FilingId,
        page: &PageRequest,
    ) -> Result<Page<CommentRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.filing(Action::ReadDiscussion, id).await?;
        Ok(work.tx.comments(Thread::Filing(id), page).await?)
    }

    /// Posts to a filing's discussion (any practice user in scope, bookkeepers included).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `body`.
    pub async fn post_discussion(&self, who: &Principal, id: FilingId, body: &str) -> Result<CommentRecord, AppError> {
        let body = parse("body", body, Text::parse)?;
        let mut work = self.write(who).await?;
        let (filing, _) = work.filing(Action::PostDiscussion, id).await?;
        let comment = CommentRecord {
            id: CommentId::from_uuid(work.new_id()),
            thread: Thread::Filing(id),
            author: work.user()?,
            body,
            created_at: work.now,
        };
        work.tx.add_comment(&comment).await?;
        work.audit(
            "filing.discussion.post",
            Some(filing.practice),
            Some(filing.client),
            Some(id.as_uuid()),
            format!("post {}", comment.id),
        )
        .await?;
        work.commit().await?;
        Ok(comment)
    }

    /// A client's documents, newest first (metadata only). Practice users see
    /// their own practice's documents of the client; client users all of their client's.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of scope.
    pub async fn client_documents(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListDocuments, client).await?;
        let found = work.tx.list_documents_of_client(client, page).await?;
        let practice = work.practice_user().map(|p| p.practice);
        Ok(Page {
            items: found.items.into_iter().filter(|d| practice.is_none_or(|p| d.document.practice == p)).collect(),
            next: found.next,
        })
    }

    /// A client's email log, newest first.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of scope (and for client users).
    pub async fn client_emails(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<EmailLogRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ViewEmailLog, client).await?;
        let found = work.tx.email_log(client, page).await?;
        // A client may be engaged with several practices: each sees only its own mail.
        // (Filtering after the page keeps the cursor right; a page may come back short.)
        let own = work.practice_user().map(|p| p.practice);
        Ok(Page {
            items: found.items.into_iter().filter(|e| own.is_some() && e.practice == own).collect(),
            next: found.next,
        })
    }

    /// For a client user: the practice users they may send files to — the
    /// active admins and staff of every practice actively engaged with the
    /// client who can open it (admins always, staff when assigned the client
    /// or holding a task on its active filings).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for anyone but the client's users.
    pub async fn recipients(&self, who: &Principal, client: ClientId) -> Result<Vec<RecipientView>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListRecipients, client).await?;
        let all = PageRequest::MAX_LIMIT;
        let mut engagements = Vec::new();
        let mut page = first_page(all);
        loop {
            let found = work.tx.list_engagements_of_client(client, &page).await?;
            engagements.extend(found.items.into_iter().filter(|e| e.state.is_active()));
            match found.next {
                Some(next) => page = PageRequest::after(all, next),
                None => break,
            }
        }
        let mut recipients = Vec::new();
        for engagement in engagements {
            let Some(practice) = work.tx.practice(engagement.practice).await? else { continue };
            if !practice.status.is_approved() {
                continue;
            }
            let mut page = first_page(all);
            loop {
                let found = work.tx.list_members(practice.id, &[Role::Admin, Role::Staff], &page).await?;
                for member in found.items.into_iter().filter(|m| m.user.active) {
                    let Some(actor) = work.tx.actor(member.user.id).await? else { continue };
                    let facts = work.tx.client_facts(member.user.id, client).await?;
                    if can_open_client(&actor, &facts) {
                        recipients.push(RecipientView {
                            user: member.user,
                            role: member.role,
                            practice: practice.clone(),
                        });
                    }
                }
                match found.next {
                    Some(next) => page = PageRequest::after(all, next),
                    None => break,
                }
            }
        }
        Ok(recipients)
    }

    /// My Tasks: the tasks assigned to the caller, soonest due first, each
    /// with its filing's kind and status, and its client's name only where
    /// the caller may open the client.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but practice users.
    pub async fn my_tasks(&self, who: &Principal, page: &PageRequest) -> Result<Page<MyTaskView>, AppError> {
        let mut work = self.read(who).await?;
        let user = work.account(Action::ListMyTasks)?;
        let found = work.tx.list_tasks_of_assignee(user, page).await?;
        let actor = work.actor;
        let items = found
            .items
            .into_iter()
            .map(|row| MyTaskView {
                client: can_open_client(&actor, &row.facts).then_some(row.client),
                filing_kind: row.filing_kind,
                task: row.task,
            })
            .collect();
        Ok(Page { items, next: found.next })
    }

    /// The dashboard of My Tasks: assigned (not done), due in the next 7
    /// days, overdue — as of today in UTC.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but practice users.
    pub async fn my_dashboard(&self, who: &Principal) -> Result<DashboardView, AppError> {
        let mut work = self.read(who).await?;
        let user = work.account(Action::ViewMyDashboard)?;
        let today = work.now.to_offset(UtcOffset::UTC).date();
        let dues = work.tx.assigned_task_dues(user).await?;
        Ok(DashboardView { dashboard: Dashboard::of(dues, today), today })
    }
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
