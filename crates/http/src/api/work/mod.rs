//! Clients and the work: client details, filings and their lifecycle, tasks,
//! checklists, time, comments, discussion, documents (metadata), the email
//! log, recipients, My Tasks and the dashboard.
//!
//! One OpenAPI group a room, all under the "Work" tag: `clients.rs`,
//! `filings.rs`, `tasks.rs`, `my_work.rs`; the shapes and helpers they share
//! are here.

mod clients;
mod filings;
mod my_work;
mod tasks;

pub(crate) use clients::ClientsApi;
pub(crate) use filings::FilingsApi;
pub(crate) use my_work::MyWorkApi;
pub(crate) use tasks::TasksApi;

use ferry_domain::ids::{ChecklistItemId, FilingId, TaskId, UserId};
use ferry_ports::records::{CommentRecord, FilingRecord, TaskRecord};
use poem_openapi::Object;
use time::Date;

use super::dto::{Str, id, rfc3339};
use crate::error::Failure;

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

/// A comment or discussion post.
#[derive(Object)]
struct CommentBody {
    /// What to say.
    #[oai(validator(max_length = 20000))]
    body: Str,
}

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
