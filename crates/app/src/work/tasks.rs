//! Tasks: created on a filing, read with their first comments, changed
//! (assignee, reviewer, approver, due date) and moved through their statuses.

use ferry_domain::access::Action;
use ferry_domain::ids::{FilingId, TaskId};
use ferry_domain::values::Title;
use ferry_domain::work::{Assignee, Reviewer};
use ferry_ports::records::{NewTask, PageRequest, TaskRecord, Thread};

use super::inputs::{TaskChange, TaskInput, optional_date, task_status};
use super::pickers::{assignee, candidate, candidate_error, reviewer};
use crate::error::parse;
use crate::views::TaskView;
use crate::{App, AppError, Principal};

/// How many comments [`App::task`] shows with the task (the rest page through
/// [`App::task_comments`]).
const TASK_COMMENTS: u32 = 50;

impl App {
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
        let comments = work.tx.comments(Thread::Task(id), &PageRequest::first(TASK_COMMENTS)).await?;
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
}
