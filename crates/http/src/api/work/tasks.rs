//! Tasks: listed and created on a filing, read, changed, their status, checklist,
//! time and comments.

use ferry_app::{App, TaskChange, TaskInput, TaskView, TimeInput};
use ferry_domain::ids::UserId;
use ferry_ports::records::{ChecklistItemRecord, TimeEntryRecord};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi};

use super::{CommentBody, CommentOut, TaskOut, body_user, day, filing_id, item_id, task_id};
use crate::api::Tag;
use crate::api::dto::{Done, Page, Str, page_request, rfc3339, whole};
use crate::error::{ApiResult, Failure};
use crate::guard::Caller;

pub(crate) struct TasksApi {
    pub(crate) app: App,
}

/// A task to create.
#[derive(Object)]
struct TaskBody {
    /// What to do.
    #[oai(validator(max_length = 1000))]
    title: Str,
    /// When it is due, `YYYY-MM-DD`.
    #[oai(validator(max_length = 32))]
    due: Option<Str>,
    /// The user id of who holds it: an active admin, staff member or bookkeeper of the practice.
    #[oai(validator(max_length = 64))]
    assignee: Option<Str>,
    /// The user id of the reviewer: an active admin or staff member (never a bookkeeper).
    #[oai(validator(max_length = 64))]
    reviewer: Option<Str>,
    /// The user id of the approver: an active admin or staff member (never a bookkeeper).
    #[oai(validator(max_length = 64))]
    approver: Option<Str>,
}

/// Changes to a task: a field left out is kept, `null` clears it. The title cannot be changed.
#[derive(Object)]
#[oai(deny_unknown_fields)]
struct TaskChangeBody {
    /// The user id of the new holder.
    #[oai(validator(max_length = 64))]
    assignee: MaybeUndefined<String>,
    /// The new due date, `YYYY-MM-DD`.
    #[oai(validator(max_length = 32))]
    due: MaybeUndefined<String>,
    /// The user id of the new reviewer (admin or staff).
    #[oai(validator(max_length = 64))]
    reviewer: MaybeUndefined<String>,
    /// The user id of the new approver (admin or staff).
    #[oai(validator(max_length = 64))]
    approver: MaybeUndefined<String>,
}

/// A task status.
#[derive(Object)]
struct TaskStatusBody {
    /// `to_do`, `in_progress`, `waiting_on_client` or `done`.
    #[oai(validator(max_length = 64))]
    status: Str,
}

/// A checklist item to add.
#[derive(Object)]
struct ChecklistBody {
    /// What to check.
    #[oai(validator(max_length = 1000))]
    text: Str,
}

/// Tick or untick.
#[derive(Object)]
struct TickBody {
    /// Ticked or not.
    done: bool,
}

/// Time to log.
#[derive(Object)]
struct TimeBody {
    /// The day worked, `YYYY-MM-DD`.
    #[oai(validator(max_length = 32))]
    on: Str,
    /// How long: 1 to 1440 minutes.
    #[oai(validator(minimum(value = "1"), maximum(value = "1440")))]
    minutes: f64,
    /// What was done.
    #[oai(validator(max_length = 20000))]
    note: Option<Str>,
}

/// A checklist item.
#[derive(Object)]
struct ChecklistItemOut {
    /// The item's id.
    id: String,
    /// Its place in the list, from 0.
    position: u32,
    /// What to check.
    text: String,
    /// Ticked or not.
    done: bool,
}

impl From<&ChecklistItemRecord> for ChecklistItemOut {
    fn from(i: &ChecklistItemRecord) -> Self {
        Self { id: i.id.to_string(), position: i.position, text: i.text.as_str().to_owned(), done: i.done }
    }
}

/// Time logged on a task.
#[derive(Object)]
struct TimeEntryOut {
    /// The entry's id.
    id: String,
    /// The task.
    task: String,
    /// The user id of who worked.
    user: String,
    /// The day worked.
    on: String,
    /// How long, in minutes.
    minutes: u16,
    /// What was done.
    note: Option<String>,
    /// When logged.
    created_at: String,
}

impl From<&TimeEntryRecord> for TimeEntryOut {
    fn from(e: &TimeEntryRecord) -> Self {
        Self {
            id: e.id.to_string(),
            task: e.task.to_string(),
            user: e.user.to_string(),
            on: day(e.on),
            minutes: e.minutes.get(),
            note: e.note.as_ref().map(|n| n.as_str().to_owned()),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// Time logged on a task.
#[derive(Object)]
struct TimeList {
    /// The entries, in order of logging.
    items: Vec<TimeEntryOut>,
    /// Their total, in minutes.
    total_minutes: u64,
}

/// A task with everything on it.
#[derive(Object)]
struct TaskDetailOut {
    /// The task.
    task: TaskOut,
    /// Its checklist, in order.
    checklist: Vec<ChecklistItemOut>,
    /// Time logged on it.
    time: Vec<TimeEntryOut>,
    /// Its first comments, oldest first.
    comments: Vec<CommentOut>,
    /// The cursor for `GET /tasks/{task}/comments?after=` when there are more.
    next_comments: Option<String>,
}

impl From<&TaskView> for TaskDetailOut {
    fn from(v: &TaskView) -> Self {
        Self {
            task: TaskOut::from(&v.task),
            checklist: v.checklist.iter().map(ChecklistItemOut::from).collect(),
            time: v.time.iter().map(TimeEntryOut::from).collect(),
            comments: v.comments.iter().map(CommentOut::from).collect(),
            next_comments: v.next_comments.as_ref().map(|c| c.0.clone()),
        }
    }
}

#[OpenApi(tag = "Tag::Work")]
impl TasksApi {
    /// A filing's tasks, in order of creation (practice users in scope).
    #[oai(path = "/filings/:filing/tasks", method = "get", operation_id = "list_filing_tasks")]
    async fn list_filing_tasks(
        &self,
        caller: Data<&Caller>,
        filing: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<TaskOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.filing_tasks(&caller.principal()?, filing_id(&filing.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, TaskOut::from)))
    }

    /// Add a task to an active filing (admins and staff in scope).
    #[oai(path = "/filings/:filing/tasks", method = "post", operation_id = "create_task")]
    async fn create_task(
        &self,
        caller: Data<&Caller>,
        filing: Path<String>,
        body: Json<TaskBody>,
    ) -> ApiResult<Json<TaskOut>> {
        let body = body.0;
        let input = TaskInput {
            title: body.title.0,
            due: body.due.map(String::from),
            assignee: body_user("assignee", body.assignee.as_deref())?,
            reviewer: body_user("reviewer", body.reviewer.as_deref())?,
            approver: body_user("approver", body.approver.as_deref())?,
        };
        let task = self.app.create_task(&caller.principal()?, filing_id(&filing.0)?, &input).await?;
        Ok(Json(TaskOut::from(&task)))
    }

    /// A task with its checklist, time entries and first comments (practice users in scope).
    #[oai(path = "/tasks/:task", method = "get", operation_id = "get_task")]
    async fn get_task(&self, caller: Data<&Caller>, task: Path<String>) -> ApiResult<Json<TaskDetailOut>> {
        let view = self.app.task(&caller.principal()?, task_id(&task.0)?).await?;
        Ok(Json(TaskDetailOut::from(&view)))
    }

    /// Change a task's assignee, due date, reviewer or approver (admins and staff in scope).
    /// A field left out is kept; `null` clears it.
    #[oai(path = "/tasks/:task", method = "patch", operation_id = "change_task")]
    async fn change_task(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        body: Json<TaskChangeBody>,
    ) -> ApiResult<Json<TaskOut>> {
        let body = body.0;
        let user = |field: &str, value: &MaybeUndefined<String>| -> Result<Option<Option<UserId>>, Failure> {
            value.as_opt_ref().map(|v| body_user(field, v.map(String::as_str))).transpose()
        };
        let change = TaskChange {
            assignee: user("assignee", &body.assignee)?,
            due: body.due.as_opt_ref().map(|d| d.cloned()),
            reviewer: user("reviewer", &body.reviewer)?,
            approver: user("approver", &body.approver)?,
        };
        let task = self.app.change_task(&caller.principal()?, task_id(&task.0)?, &change).await?;
        Ok(Json(TaskOut::from(&task)))
    }

    /// Set a task's status (admins and staff in scope; bookkeepers on their own tasks).
    #[oai(path = "/tasks/:task/status", method = "put", operation_id = "set_task_status")]
    async fn set_task_status(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        body: Json<TaskStatusBody>,
    ) -> ApiResult<Json<TaskOut>> {
        let task = self.app.set_task_status(&caller.principal()?, task_id(&task.0)?, &body.0.status).await?;
        Ok(Json(TaskOut::from(&task)))
    }

    /// Add an item to the end of a task's checklist (admins and staff in scope).
    #[oai(path = "/tasks/:task/checklist", method = "post", operation_id = "add_checklist_item")]
    async fn add_checklist_item(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        body: Json<ChecklistBody>,
    ) -> ApiResult<Json<ChecklistItemOut>> {
        let item = self.app.add_checklist_item(&caller.principal()?, task_id(&task.0)?, &body.0.text).await?;
        Ok(Json(ChecklistItemOut::from(&item)))
    }

    /// Tick or untick a checklist item (admins and staff in scope; bookkeepers on their own tasks).
    #[oai(path = "/tasks/:task/checklist/:item", method = "patch", operation_id = "tick_checklist_item")]
    async fn tick_checklist_item(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        item: Path<String>,
        body: Json<TickBody>,
    ) -> ApiResult<Json<ChecklistItemOut>> {
        let (task, item) = (task_id(&task.0)?, item_id(&item.0)?);
        let item = self.app.tick_checklist_item(&caller.principal()?, task, item, body.0.done).await?;
        Ok(Json(ChecklistItemOut::from(&item)))
    }

    /// Remove a checklist item (admins and staff in scope).
    #[oai(path = "/tasks/:task/checklist/:item", method = "delete", operation_id = "remove_checklist_item")]
    async fn remove_checklist_item(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        item: Path<String>,
    ) -> ApiResult<Json<Done>> {
        let (task, item) = (task_id(&task.0)?, item_id(&item.0)?);
        self.app.remove_checklist_item(&caller.principal()?, task, item).await?;
        Ok(Json(Done::ok()))
    }

    /// The time logged on a task, in order of logging (practice users in scope).
    #[oai(path = "/tasks/:task/time", method = "get", operation_id = "list_time")]
    async fn list_time(&self, caller: Data<&Caller>, task: Path<String>) -> ApiResult<Json<TimeList>> {
        let entries = self.app.time_entries(&caller.principal()?, task_id(&task.0)?).await?;
        let total_minutes = entries.iter().map(|e| u64::from(e.minutes.get())).sum();
        Ok(Json(TimeList { items: entries.iter().map(TimeEntryOut::from).collect(), total_minutes }))
    }

    /// Log your time on a task (admins and staff in scope; bookkeepers on their own tasks).
    #[oai(path = "/tasks/:task/time", method = "post", operation_id = "log_time")]
    async fn log_time(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        body: Json<TimeBody>,
    ) -> ApiResult<Json<TimeEntryOut>> {
        let body = body.0;
        let input =
            TimeInput { on: body.on.0, minutes: whole("minutes", body.minutes)?, note: body.note.map(String::from) };
        let entry = self.app.log_time(&caller.principal()?, task_id(&task.0)?, &input).await?;
        Ok(Json(TimeEntryOut::from(&entry)))
    }

    /// A task's comments, oldest first (practice users in scope).
    #[oai(path = "/tasks/:task/comments", method = "get", operation_id = "list_comments")]
    async fn list_comments(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<CommentOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.task_comments(&caller.principal()?, task_id(&task.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, CommentOut::from)))
    }

    /// Comment on a task (admins and staff in scope; bookkeepers on their own tasks).
    #[oai(path = "/tasks/:task/comments", method = "post", operation_id = "comment_on_task")]
    async fn comment_on_task(
        &self,
        caller: Data<&Caller>,
        task: Path<String>,
        body: Json<CommentBody>,
    ) -> ApiResult<Json<CommentOut>> {
        let comment = self.app.comment_on_task(&caller.principal()?, task_id(&task.0)?, &body.0.body).await?;
        Ok(Json(CommentOut::from(&comment)))
    }
}
