//! Clients and the work: client details, filings and their lifecycle, tasks,
//! checklists, time, comments, discussion, documents (metadata), the email
//! log, recipients, My Tasks and the dashboard.

use ferry_app::{
    App, DashboardView, FilingInput, FilingView, MyTaskView, RecipientView, TaskChange, TaskInput, TaskView, TimeInput,
};
use ferry_domain::ids::{ChecklistItemId, FilingId, TaskId, UserId};
use ferry_domain::work::FilingTransition;
use ferry_ports::records::{
    ChecklistItemRecord, CommentRecord, EmailLogRecord, FilingRecord, TaskRecord, TimeEntryRecord,
};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi};
use time::Date;

use super::Tag;
use super::dto::{ClientOut, DocumentOut, Done, Page, Str, UserOut, client_id, id, page_request, rfc3339, whole};
use crate::error::{ApiResult, Failure};
use crate::guard::Caller;

pub(crate) struct WorkApi {
    pub(crate) app: App,
}

fn filing_id(raw: &str) -> Result<FilingId, Failure> {
    id("filing", raw, true)
}

fn task_id(raw: &str) -> Result<TaskId, Failure> {
    id("task", raw, true)
}

fn item_id(raw: &str) -> Result<ChecklistItemId, Failure> {
    id("item", raw, true)
}

/// A user id from a body field (400 naming it when it is not one).
fn body_user(field: &str, raw: Option<&str>) -> Result<Option<UserId>, Failure> {
    raw.map(|r| id::<UserId>(field, r, false)).transpose()
}

/// A date as `YYYY-MM-DD`.
fn day(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

// Requests.

/// A filing to create. Dates are `YYYY-MM-DD`.
#[derive(Object)]
struct FilingBody {
    /// What for: `gst_hst`, `bas`, `payroll`, `bookkeeping`, or any other name.
    #[oai(validator(max_length = 1000))]
    kind: Str,
    /// The first day of the period covered (give both ends or neither).
    #[oai(validator(max_length = 32))]
    period_start: Option<Str>,
    /// The last day of the period covered.
    #[oai(validator(max_length = 32))]
    period_end: Option<Str>,
    /// When it is due.
    #[oai(validator(max_length = 32))]
    due: Option<Str>,
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

/// A comment or discussion post.
#[derive(Object)]
struct CommentBody {
    /// What to say.
    #[oai(validator(max_length = 20000))]
    body: Str,
}

// Responses.

/// A filing.
#[derive(Object)]
struct FilingOut {
    /// The filing's id.
    id: String,
    /// The practice doing the work.
    practice: String,
    /// The client it is for.
    client: String,
    /// What for.
    kind: String,
    /// The first day of the period covered.
    period_start: Option<String>,
    /// The last day of the period covered.
    period_end: Option<String>,
    /// When due.
    due: Option<String>,
    /// `active`, `filed` or `cancelled`.
    status: String,
    /// When created.
    created_at: String,
}

impl From<&FilingRecord> for FilingOut {
    fn from(f: &FilingRecord) -> Self {
        Self {
            id: f.id.to_string(),
            practice: f.practice.to_string(),
            client: f.client.to_string(),
            kind: f.kind.as_str().to_owned(),
            period_start: f.period.map(|p| day(p.start())),
            period_end: f.period.map(|p| day(p.end())),
            due: f.due.map(day),
            status: f.status.as_str().to_owned(),
            created_at: rfc3339(f.created_at),
        }
    }
}

/// A task.
#[derive(Object)]
struct TaskOut {
    /// The task's id.
    id: String,
    /// Its filing.
    filing: String,
    /// The filing's client.
    client: String,
    /// The filing's status: tasks change only while it is `active`.
    filing_status: String,
    /// What to do.
    title: String,
    /// `to_do`, `in_progress`, `waiting_on_client` or `done`.
    status: String,
    /// The user id of who holds it.
    assignee: Option<String>,
    /// When due.
    due: Option<String>,
    /// The user id of the reviewer.
    reviewer: Option<String>,
    /// The user id of the approver.
    approver: Option<String>,
    /// When created.
    created_at: String,
}

impl From<&TaskRecord> for TaskOut {
    fn from(t: &TaskRecord) -> Self {
        Self {
            id: t.id.to_string(),
            filing: t.filing.to_string(),
            client: t.client.to_string(),
            filing_status: t.filing_status.as_str().to_owned(),
            title: t.title.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            assignee: t.assignee.map(|u| u.to_string()),
            due: t.due.map(day),
            reviewer: t.reviewer.map(|u| u.to_string()),
            approver: t.approver.map(|u| u.to_string()),
            created_at: rfc3339(t.created_at),
        }
    }
}

/// A filing with its tasks.
#[derive(Object)]
struct FilingDetailOut {
    /// The filing.
    filing: FilingOut,
    /// Its first tasks, in order of creation.
    tasks: Vec<TaskOut>,
    /// The cursor for `GET /filings/{filing}/tasks?after=` when it has more.
    next_tasks: Option<String>,
}

impl From<&FilingView> for FilingDetailOut {
    fn from(v: &FilingView) -> Self {
        Self {
            filing: FilingOut::from(&v.filing),
            tasks: v.tasks.iter().map(TaskOut::from).collect(),
            next_tasks: v.next_tasks.as_ref().map(|c| c.0.clone()),
        }
    }
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

/// A comment or discussion post.
#[derive(Object)]
struct CommentOut {
    /// The comment's id.
    id: String,
    /// The user id of who wrote it.
    author: String,
    /// What they wrote.
    body: String,
    /// When.
    created_at: String,
}

impl From<&CommentRecord> for CommentOut {
    fn from(c: &CommentRecord) -> Self {
        Self {
            id: c.id.to_string(),
            author: c.author.to_string(),
            body: c.body.as_str().to_owned(),
            created_at: rfc3339(c.created_at),
        }
    }
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

/// An entry of a client's email log.
#[derive(Object)]
struct EmailOut {
    /// The message's id.
    id: String,
    /// The recipient.
    to: String,
    /// The subject line.
    subject: String,
    /// When it was written.
    created_at: String,
}

impl From<&EmailLogRecord> for EmailOut {
    fn from(e: &EmailLogRecord) -> Self {
        Self {
            id: e.outbox_id.to_string(),
            to: e.to.as_str().to_owned(),
            subject: e.subject.clone(),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// A practice, by name.
#[derive(Object)]
struct RecipientPractice {
    /// The practice's id.
    id: String,
    /// The name shown.
    name: String,
}

/// A practice user a client user may send files to.
#[derive(Object)]
struct RecipientOut {
    /// The user.
    user: UserOut,
    /// Their practice.
    practice: RecipientPractice,
}

impl From<&RecipientView> for RecipientOut {
    fn from(r: &RecipientView) -> Self {
        let p = &r.practice;
        Self {
            user: UserOut::from(&r.user),
            practice: RecipientPractice {
                id: p.id.to_string(),
                name: p.branding.display_name.as_ref().unwrap_or(&p.name).as_str().to_owned(),
            },
        }
    }
}

/// The recipients a client user may choose.
#[derive(Object)]
struct RecipientList {
    /// Admins and staff of engaged practices who can open the client.
    items: Vec<RecipientOut>,
}

/// A row of My Tasks.
#[derive(Object)]
struct MyTaskOut {
    /// The task (with its filing's id and status and its client's id).
    task: TaskOut,
    /// What its filing is for.
    filing_kind: String,
    /// The client's name, only when you may open the client now.
    client_name: Option<String>,
}

impl From<&MyTaskView> for MyTaskOut {
    fn from(v: &MyTaskView) -> Self {
        Self {
            task: TaskOut::from(&v.task),
            filing_kind: v.filing_kind.as_str().to_owned(),
            client_name: v.client.as_ref().map(|c| c.name.as_str().to_owned()),
        }
    }
}

/// The dashboard.
#[derive(Object)]
struct DashboardOut {
    /// Tasks assigned to you and not done.
    assigned: u32,
    /// Of those, due within the next 7 days.
    due_soon: u32,
    /// Of those, past due.
    overdue: u32,
    /// The day counted from (UTC), `YYYY-MM-DD`.
    today: String,
}

impl From<&DashboardView> for DashboardOut {
    fn from(v: &DashboardView) -> Self {
        Self {
            assigned: v.dashboard.assigned,
            due_soon: v.dashboard.due_soon,
            overdue: v.dashboard.overdue,
            today: day(v.today),
        }
    }
}

impl WorkApi {
    async fn lifecycle(
        &self,
        caller: &Caller,
        filing: &str,
        transition: FilingTransition,
    ) -> ApiResult<Json<FilingOut>> {
        let filing = self.app.change_filing_status(&caller.principal()?, filing_id(filing)?, transition).await?;
        Ok(Json(FilingOut::from(&filing)))
    }
}

#[OpenApi(tag = "Tag::Work")]
impl WorkApi {
    /// A client's details (anyone who may open the client).
    #[oai(path = "/clients/:client", method = "get", operation_id = "get_client")]
    async fn get_client(&self, caller: Data<&Caller>, client: Path<String>) -> ApiResult<Json<ClientOut>> {
        let client = self.app.client(&caller.principal()?, client_id(&client.0)?).await?;
        Ok(Json(ClientOut::from(&client)))
    }

    /// Your practice's filings for a client, in order of creation (practice users in scope).
    #[oai(path = "/clients/:client/filings", method = "get", operation_id = "list_filings")]
    async fn list_filings(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<FilingOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.filings(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, FilingOut::from)))
    }

    /// Create a filing for a client (admins and staff in scope); it starts active.
    #[oai(path = "/clients/:client/filings", method = "post", operation_id = "create_filing")]
    async fn create_filing(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        body: Json<FilingBody>,
    ) -> ApiResult<Json<FilingOut>> {
        let body = body.0;
        let input = FilingInput {
            kind: body.kind.0,
            period_start: body.period_start.map(String::from),
            period_end: body.period_end.map(String::from),
            due: body.due.map(String::from),
        };
        let filing = self.app.create_filing(&caller.principal()?, client_id(&client.0)?, &input).await?;
        Ok(Json(FilingOut::from(&filing)))
    }

    /// A client's documents, newest first: metadata only (anyone in scope).
    #[oai(path = "/clients/:client/documents", method = "get", operation_id = "list_client_documents")]
    async fn list_client_documents(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<DocumentOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.client_documents(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, DocumentOut::from)))
    }

    /// A client's email log, newest first (practice users in scope).
    #[oai(path = "/clients/:client/emails", method = "get", operation_id = "list_client_emails")]
    async fn list_client_emails(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<EmailOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.client_emails(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, EmailOut::from)))
    }

    /// Whom you may send files to (client users): admins and staff of engaged practices who can open the client.
    #[oai(path = "/clients/:client/recipients", method = "get", operation_id = "list_recipients")]
    async fn list_recipients(&self, caller: Data<&Caller>, client: Path<String>) -> ApiResult<Json<RecipientList>> {
        let found = self.app.recipients(&caller.principal()?, client_id(&client.0)?).await?;
        Ok(Json(RecipientList { items: found.iter().map(RecipientOut::from).collect() }))
    }

    /// A filing with its first tasks (practice users in scope).
    #[oai(path = "/filings/:filing", method = "get", operation_id = "get_filing")]
    async fn get_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingDetailOut>> {
        let view = self.app.filing(&caller.principal()?, filing_id(&filing.0)?).await?;
        Ok(Json(FilingDetailOut::from(&view)))
    }

    /// File an active filing (admins and staff in scope). Bookkeepers lose access through its tasks at once.
    #[oai(path = "/filings/:filing/file", method = "post", operation_id = "file_filing")]
    async fn file_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingOut>> {
        self.lifecycle(&caller, &filing.0, FilingTransition::File).await
    }

    /// Cancel an active filing (admins and staff in scope).
    #[oai(path = "/filings/:filing/cancel", method = "post", operation_id = "cancel_filing")]
    async fn cancel_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingOut>> {
        self.lifecycle(&caller, &filing.0, FilingTransition::Cancel).await
    }

    /// Reopen a filed or cancelled filing (admins and staff in scope); its tasks grant access again.
    #[oai(path = "/filings/:filing/reopen", method = "post", operation_id = "reopen_filing")]
    async fn reopen_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingOut>> {
        self.lifecycle(&caller, &filing.0, FilingTransition::Reopen).await
    }

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

    /// A filing's discussion, oldest first (practice users in scope).
    #[oai(path = "/filings/:filing/discussion", method = "get", operation_id = "read_discussion")]
    async fn read_discussion(
        &self,
        caller: Data<&Caller>,
        filing: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<CommentOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.discussion(&caller.principal()?, filing_id(&filing.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, CommentOut::from)))
    }

    /// Post to a filing's discussion (practice users in scope, bookkeepers included).
    #[oai(path = "/filings/:filing/discussion", method = "post", operation_id = "post_discussion")]
    async fn post_discussion(
        &self,
        caller: Data<&Caller>,
        filing: Path<String>,
        body: Json<CommentBody>,
    ) -> ApiResult<Json<CommentOut>> {
        let comment = self.app.post_discussion(&caller.principal()?, filing_id(&filing.0)?, &body.0.body).await?;
        Ok(Json(CommentOut::from(&comment)))
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

    /// My Tasks: the tasks assigned to you, soonest due first (practice users).
    #[oai(path = "/me/tasks", method = "get", operation_id = "list_my_tasks")]
    async fn list_my_tasks(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<MyTaskOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.my_tasks(&caller.principal()?, &request).await?;
        Ok(Json(Page::from_found(&found, MyTaskOut::from)))
    }

    /// Your dashboard: tasks assigned, due within 7 days, and overdue (practice users).
    #[oai(path = "/me/dashboard", method = "get", operation_id = "get_my_dashboard")]
    async fn get_my_dashboard(&self, caller: Data<&Caller>) -> ApiResult<Json<DashboardOut>> {
        let view = self.app.my_dashboard(&caller.principal()?).await?;
        Ok(Json(DashboardOut::from(&view)))
    }
}
