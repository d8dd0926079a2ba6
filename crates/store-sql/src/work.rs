//! Work: filings, their tasks, checklists, time entries and comments.

use ferry_domain::ids::{CommentId, TimeEntryId};
use ferry_domain::values::{OrganisationName, Text, Title};
use ferry_domain::work::{FilingKind, Minutes, Period};
use ferry_ports::records::Cursor;
use time::Month;

use crate::facts::FactsRow;
use crate::prelude::*;

// Filings.

/// The columns of `filings`, in the order of [`FilingRow`].
const FILING_COLUMNS: &str = "id, practice_id, client_id, kind, period_start, period_end, due_on, status, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct FilingRow {
    id: Uuid,
    practice_id: Uuid,
    client_id: Uuid,
    kind: String,
    period_start: Option<Date>,
    period_end: Option<Date>,
    due_on: Option<Date>,
    status: String,
    created_at: i64,
}

impl FilingRow {
    fn into_record(self) -> Result<FilingRecord, StoreError> {
        let period = match (self.period_start, self.period_end) {
            (None, None) => None,
            (Some(start), Some(end)) => Some(
                Period::new(start, end)
                    .map_err(|e| StoreError::Corrupt { what: "filing period", reason: e.to_string() })?,
            ),
            _ => {
                return Err(StoreError::Corrupt { what: "filing period", reason: "only one end is set".to_owned() });
            }
        };
        Ok(FilingRecord {
            id: FilingId::from_uuid(self.id),
            practice: PracticeId::from_uuid(self.practice_id),
            client: ClientId::from_uuid(self.client_id),
            kind: parse("filing kind", &self.kind, FilingKind::parse)?,
            period,
            due: self.due_on,
            status: name("filing status", &self.status, FilingStatus::from_name)?,
            created_at: time(self.created_at)?,
        })
    }
}

// Tasks.

/// The columns of a task with its filing (`tasks t JOIN filings f`), in the order of [`TaskRow`].
const TASK_COLUMNS: &str = "t.id, t.filing_id, f.practice_id, f.client_id, f.status AS filing_status, t.title, \
     t.status, t.assignee_id, t.due_on, t.reviewer_id, t.approver_id, t.created_at";

/// The tables [`TASK_COLUMNS`] come from.
const TASK_FROM: &str = "tasks t JOIN filings f ON f.id = t.filing_id";

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRow {
    id: Uuid,
    filing_id: Uuid,
    practice_id: Uuid,
    client_id: Uuid,
    filing_status: String,
    title: String,
    status: String,
    assignee_id: Option<Uuid>,
    due_on: Option<Date>,
    reviewer_id: Option<Uuid>,
    approver_id: Option<Uuid>,
    created_at: i64,
}

impl TaskRow {
    fn into_record(self) -> Result<TaskRecord, StoreError> {
        Ok(TaskRecord {
            id: TaskId::from_uuid(self.id),
            filing: FilingId::from_uuid(self.filing_id),
            practice: PracticeId::from_uuid(self.practice_id),
            client: ClientId::from_uuid(self.client_id),
            filing_status: name("filing status", &self.filing_status, FilingStatus::from_name)?,
            title: parse("task title", &self.title, Title::parse)?,
            status: name("task status", &self.status, TaskStatus::from_name)?,
            assignee: self.assignee_id.map(UserId::from_uuid),
            due: self.due_on,
            reviewer: self.reviewer_id.map(UserId::from_uuid),
            approver: self.approver_id.map(UserId::from_uuid),
            created_at: time(self.created_at)?,
        })
    }
}

fn task_records(rows: Vec<TaskRow>) -> Result<Vec<TaskRecord>, StoreError> {
    rows.into_iter().map(TaskRow::into_record).collect()
}

/// The due date undated tasks sort under in My Tasks: after every real one.
fn undated() -> Date {
    Date::from_calendar_date(9999, Month::December, 31).unwrap_or(Date::MAX)
}

/// A My Tasks cursor: the last item's sort date (or [`undated`]) and id, as `YYYY-MM-DD/uuid`.
fn due_cursor(task: &TaskRecord) -> String {
    let due = task.due.unwrap_or_else(undated);
    format!("{:04}-{:02}-{:02}/{}", due.year(), u8::from(due.month()), due.day(), task.id)
}

/// The (sort date, id) a My Tasks cursor points after; `None` for the first page.
fn due_cursor_key(page: &PageRequest) -> Result<Option<(Date, Uuid)>, StoreError> {
    let Some(Cursor(text)) = &page.after else { return Ok(None) };
    let parsed = (|| {
        let (date, id) = text.split_once('/')?;
        let mut parts = date.splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month = Month::try_from(parts.next()?.parse::<u8>().ok()?).ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let date = Date::from_calendar_date(year, month, day).ok()?;
        Some((date, Uuid::try_parse(id).ok()?))
    })();
    parsed.map(Some).ok_or_else(|| StoreError::Rejected {
        what: "page cursor",
        reason: "it is not a cursor from a previous page".to_owned(),
    })
}

/// A row of My Tasks: the task, its filing's kind, its client, and the
/// assignee's facts about the client.
#[derive(sqlx::FromRow)]
struct AssignedTaskRow {
    #[sqlx(flatten)]
    task: TaskRow,
    filing_kind: String,
    client_name: String,
    client_created_at: i64,
    #[sqlx(flatten)]
    facts: FactsRow,
}

/// My Tasks, one page ($1 user, $2 'active', $3/$5 the cursor's date and id,
/// $4 the undated sentinel, $6 the limit). The page is one search of
/// `tasks_by_assignee` and a sort; beside each task, its filing and client
/// by primary key and the facts `FACTS_SQL` reads for (user, client): the
/// engagement of the user's practice, the assignment, the membership, and
/// the tasks the user holds on the client's active filings — counted once
/// per client in `held`, over the user's own tasks, not once per row.
const MY_TASKS_SQL: &str = "\
SELECT t.id, t.filing_id, f.practice_id, f.client_id, f.status AS filing_status, t.title, t.status,
       t.assignee_id, t.due_on, t.reviewer_id, t.approver_id, t.created_at,
       f.kind AS filing_kind, c.name AS client_name, c.created_at AS client_created_at,
       e.state AS engagement_state, e.state_by AS engagement_by,
       a.user_id IS NOT NULL AS assigned,
       COALESCE(held.active_tasks, 0) AS active_tasks,
       cm.role AS membership
  FROM tasks t
  JOIN filings f ON f.id = t.filing_id
  JOIN clients c ON c.id = f.client_id
  LEFT JOIN practice_members m ON m.user_id = $1
  LEFT JOIN engagements e ON e.practice_id = m.practice_id AND e.client_id = f.client_id
  LEFT JOIN client_assignments a ON a.user_id = $1 AND a.client_id = f.client_id
  LEFT JOIN client_members cm ON cm.client_id = f.client_id AND cm.user_id = $1
  LEFT JOIN (SELECT hf.client_id, CAST(COUNT(*) AS BIGINT) AS active_tasks
               FROM tasks ht
               JOIN filings hf ON hf.id = ht.filing_id
               JOIN practice_members hm ON hm.user_id = $1 AND hm.practice_id = hf.practice_id
              WHERE ht.assignee_id = $1 AND hf.status = 'active'
              GROUP BY hf.client_id) AS held ON held.client_id = f.client_id
 WHERE t.assignee_id = $1 AND f.status = $2
   AND ($3 IS NULL OR COALESCE(t.due_on, $4) > $3 OR (COALESCE(t.due_on, $4) = $3 AND t.id > $5))
 ORDER BY COALESCE(t.due_on, $4), t.id
 LIMIT $6";

// Checklists.

/// The columns of `checklist_items`, in the order of [`ChecklistRow`].
const CHECKLIST_COLUMNS: &str = "id, task_id, position, text, done";

#[derive(sqlx::FromRow)]
pub(crate) struct ChecklistRow {
    id: Uuid,
    task_id: Uuid,
    position: i64,
    text: String,
    done: bool,
}

impl ChecklistRow {
    fn into_record(self) -> Result<ChecklistItemRecord, StoreError> {
        Ok(ChecklistItemRecord {
            id: ChecklistItemId::from_uuid(self.id),
            task: TaskId::from_uuid(self.task_id),
            position: count("checklist position", self.position)?,
            text: parse("checklist item", &self.text, Title::parse)?,
            done: self.done,
        })
    }
}

// Time entries.

#[derive(sqlx::FromRow)]
pub(crate) struct TimeEntryRow {
    id: Uuid,
    task_id: Uuid,
    user_id: Uuid,
    worked_on: Date,
    minutes: i64,
    note: Option<String>,
    created_at: i64,
}

impl TimeEntryRow {
    fn into_record(self) -> Result<TimeEntryRecord, StoreError> {
        let minutes = count::<u32>("minutes", self.minutes)?;
        Ok(TimeEntryRecord {
            id: TimeEntryId::from_uuid(self.id),
            task: TaskId::from_uuid(self.task_id),
            user: UserId::from_uuid(self.user_id),
            on: self.worked_on,
            minutes: Minutes::new(minutes)
                .map_err(|e| StoreError::Corrupt { what: "minutes", reason: e.to_string() })?,
            note: self.note.as_deref().map(|n| parse("time entry note", n, Text::parse)).transpose()?,
            created_at: time(self.created_at)?,
        })
    }
}

// Comments and discussion.

#[derive(sqlx::FromRow)]
pub(crate) struct CommentRow {
    id: Uuid,
    task_id: Option<Uuid>,
    filing_id: Option<Uuid>,
    author_id: Uuid,
    body: String,
    created_at: i64,
}

impl CommentRow {
    fn into_record(self) -> Result<CommentRecord, StoreError> {
        let thread = match (self.task_id, self.filing_id) {
            (Some(task), None) => Thread::Task(TaskId::from_uuid(task)),
            (None, Some(filing)) => Thread::Filing(FilingId::from_uuid(filing)),
            _ => {
                return Err(StoreError::Corrupt {
                    what: "comment thread",
                    reason: "it must have exactly one of task and filing".to_owned(),
                });
            }
        };
        Ok(CommentRecord {
            id: CommentId::from_uuid(self.id),
            thread,
            author: UserId::from_uuid(self.author_id),
            body: parse("comment body", &self.body, Text::parse)?,
            created_at: time(self.created_at)?,
        })
    }
}

/// The parent columns of a thread: (`task_id`, `filing_id`).
fn thread_columns(thread: Thread) -> (Option<Uuid>, Option<Uuid>) {
    match thread {
        Thread::Task(task) => (Some(task.as_uuid()), None),
        Thread::Filing(filing) => (None, Some(filing.as_uuid())),
    }
}

#[async_trait]
impl WorkStore for SqlTx {
    // Filings.

    async fn insert_filing(&mut self, filing: &FilingRecord) -> Result<(), StoreError> {
        let at = micros(filing.created_at);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO filings (id, practice_id, client_id, kind, period_start, period_end, due_on, status, \
                 created_at, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            )
            .bind(filing.id.as_uuid())
            .bind(filing.practice.as_uuid())
            .bind(filing.client.as_uuid())
            .bind(filing.kind.as_str())
            .bind(filing.period.map(|p| p.start()))
            .bind(filing.period.map(|p| p.end()))
            .bind(filing.due)
            .bind(filing.status.as_str())
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("filing"))?;
        Ok(())
    }

    async fn filing(&mut self, id: FilingId) -> Result<Option<FilingRecord>, StoreError> {
        let sql = format!("SELECT {FILING_COLUMNS} FROM filings WHERE id = $1");
        let row: Option<FilingRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await).map_err(map("filing"))?;
        row.map(FilingRow::into_record).transpose()
    }

    async fn set_filing_status(
        &mut self,
        id: FilingId,
        from: FilingStatus,
        to: FilingStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // A conditional update: it changes the row only if nobody else moved it first.
        let changed = on!(self, |c| {
            sqlx::query("UPDATE filings SET status = $1, changed_at = $2 WHERE id = $3 AND status = $4")
                .bind(to.as_str())
                .bind(micros(at))
                .bind(id.as_uuid())
                .bind(from.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("filing status"))?;
        moved(self, changed, "filings", id.as_uuid(), "filing").await
    }

    async fn list_filings(
        &mut self,
        practice: PracticeId,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<FilingRecord>, StoreError> {
        let after = cursor_id(page)?;
        let limit = fetch_limit(page);
        let sql = format!(
            "SELECT {FILING_COLUMNS} FROM filings WHERE client_id = $1 AND practice_id = $2 AND id > $3 \
             ORDER BY id LIMIT $4"
        );
        let rows: Vec<FilingRow> = on!(self, |c| {
            sqlx::query_as(&sql)
                .bind(client.as_uuid())
                .bind(practice.as_uuid())
                .bind(after)
                .bind(limit)
                .fetch_all(c)
                .await
        })
        .map_err(map("filings"))?;
        let records = rows.into_iter().map(FilingRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |f| f.id.to_string()))
    }

    // Tasks.

    async fn insert_task(&mut self, task: &NewTask) -> Result<(), StoreError> {
        let at = micros(task.created_at);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO tasks (id, filing_id, title, status, due_on, created_at, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(task.id.as_uuid())
            .bind(task.filing.as_uuid())
            .bind(task.title.as_str())
            .bind(TaskStatus::ToDo.as_str())
            .bind(task.due)
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("task"))?;
        Ok(())
    }

    async fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.id = $1");
        let row: Option<TaskRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await).map_err(map("task"))?;
        row.map(TaskRow::into_record).transpose()
    }

    async fn set_task_status(&mut self, id: TaskId, status: TaskStatus, at: OffsetDateTime) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE tasks SET status = $1, changed_at = $2 WHERE id = $3")
                .bind(status.as_str())
                .bind(micros(at))
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("task status"))?;
        found(changed, "task")
    }

    async fn set_task_assignee(&mut self, id: TaskId, assignee: Option<Assignee>) -> Result<(), StoreError> {
        let user = assignee.map(|a| a.user().as_uuid());
        let changed = on!(self, |c| {
            sqlx::query("UPDATE tasks SET assignee_id = $1 WHERE id = $2")
                .bind(user)
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("task assignee"))?;
        found(changed, "task")
    }

    async fn set_task_due(&mut self, id: TaskId, due: Option<Date>) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE tasks SET due_on = $1 WHERE id = $2")
                .bind(due)
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("task due date"))?;
        found(changed, "task")
    }

    async fn set_task_reviewers(
        &mut self,
        id: TaskId,
        reviewer: Option<Reviewer>,
        approver: Option<Reviewer>,
    ) -> Result<(), StoreError> {
        let reviewer = reviewer.map(|r| r.user().as_uuid());
        let approver = approver.map(|r| r.user().as_uuid());
        let changed = on!(self, |c| {
            sqlx::query("UPDATE tasks SET reviewer_id = $1, approver_id = $2 WHERE id = $3")
                .bind(reviewer)
                .bind(approver)
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("task reviewer"))?;
        found(changed, "task")
    }

    async fn list_tasks_of_filing(
        &mut self,
        filing: FilingId,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError> {
        let after = cursor_id(page)?;
        let limit = fetch_limit(page);
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.filing_id = $1 AND t.id > $2 ORDER BY t.id LIMIT $3"
        );
        let rows: Vec<TaskRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(filing.as_uuid()).bind(after).bind(limit).fetch_all(c).await)
                .map_err(map("tasks"))?;
        Ok(page_of(task_records(rows)?, page, |t| t.id.to_string()))
    }

    async fn list_tasks_of_assignee(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedTask>, StoreError> {
        let after = due_cursor_key(page)?;
        let (after_due, after_id) = (after.map(|(d, _)| d), after.map_or(Uuid::nil(), |(_, id)| id));
        let limit = fetch_limit(page);
        // The sentinel is a bound DATE so the comparison is DATE to DATE on
        // PostgreSQL and ISO text to ISO text on SQLite.
        let rows: Vec<AssignedTaskRow> = on!(self, |c| {
            sqlx::query_as(MY_TASKS_SQL)
                .bind(user.as_uuid())
                .bind(FilingStatus::Active.as_str())
                .bind(after_due)
                .bind(undated())
                .bind(after_id)
                .bind(limit)
                .fetch_all(c)
                .await
        })
        .map_err(map("tasks"))?;
        let items = rows
            .into_iter()
            .map(|row| {
                let task = row.task.into_record()?;
                Ok(AssignedTask {
                    filing_kind: parse("filing kind", &row.filing_kind, FilingKind::parse)?,
                    client: ClientRecord {
                        id: task.client,
                        name: parse("client name", &row.client_name, OrganisationName::parse)?,
                        created_at: time(row.client_created_at)?,
                    },
                    facts: row.facts.into_facts(task.client)?,
                    task,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page_of(items, page, |row| due_cursor(&row.task)))
    }

    async fn assigned_task_dues(&mut self, user: UserId) -> Result<Vec<(TaskStatus, Option<Date>)>, StoreError> {
        let rows: Vec<(String, Option<Date>)> = on!(self, |c| {
            sqlx::query_as(
                "SELECT t.status, t.due_on FROM tasks t JOIN filings f ON f.id = t.filing_id \
                 WHERE t.assignee_id = $1 AND f.status = $2 ORDER BY t.id",
            )
            .bind(user.as_uuid())
            .bind(FilingStatus::Active.as_str())
            .fetch_all(c)
            .await
        })
        .map_err(map("tasks"))?;
        rows.into_iter().map(|(status, due)| Ok((name("task status", &status, TaskStatus::from_name)?, due))).collect()
    }

    // Checklists.

    async fn add_checklist_item(&mut self, item: &ChecklistItemRecord) -> Result<ChecklistItemRecord, StoreError> {
        // One statement: the position is computed where it is written. The
        // aggregate yields a row even for an unknown task, whose insert then
        // fails on the foreign key.
        let sql = format!(
            "INSERT INTO checklist_items ({CHECKLIST_COLUMNS}) \
             SELECT $1, $2, COALESCE(MAX(position) + 1, 0), $3, $4 FROM checklist_items WHERE task_id = $2 \
             RETURNING {CHECKLIST_COLUMNS}"
        );
        let row: ChecklistRow = on!(self, |c| {
            sqlx::query_as(&sql)
                .bind(item.id.as_uuid())
                .bind(item.task.as_uuid())
                .bind(item.text.as_str())
                .bind(item.done)
                .fetch_one(c)
                .await
        })
        .map_err(map("checklist item"))?;
        row.into_record()
    }

    async fn checklist(&mut self, task: TaskId) -> Result<Vec<ChecklistItemRecord>, StoreError> {
        let sql = format!("SELECT {CHECKLIST_COLUMNS} FROM checklist_items WHERE task_id = $1 ORDER BY position");
        let rows: Vec<ChecklistRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(task.as_uuid()).fetch_all(c).await).map_err(map("checklist"))?;
        rows.into_iter().map(ChecklistRow::into_record).collect()
    }

    async fn tick_checklist_item(&mut self, task: TaskId, item: ChecklistItemId, done: bool) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE checklist_items SET done = $1 WHERE id = $2 AND task_id = $3")
                .bind(done)
                .bind(item.as_uuid())
                .bind(task.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("checklist item"))?;
        found(changed, "checklist item")
    }

    async fn remove_checklist_item(&mut self, task: TaskId, item: ChecklistItemId) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("DELETE FROM checklist_items WHERE id = $1 AND task_id = $2")
                .bind(item.as_uuid())
                .bind(task.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("checklist item"))?;
        found(changed, "checklist item")
    }

    // Time entries.

    async fn add_time_entry(&mut self, entry: &TimeEntryRecord) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO time_entries (id, task_id, user_id, worked_on, minutes, note, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(entry.id.as_uuid())
            .bind(entry.task.as_uuid())
            .bind(entry.user.as_uuid())
            .bind(entry.on)
            .bind(i64::from(entry.minutes.get()))
            .bind(entry.note.as_ref().map(Text::as_str))
            .bind(micros(entry.created_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("time entry"))?;
        Ok(())
    }

    async fn time_entries(&mut self, task: TaskId) -> Result<Vec<TimeEntryRecord>, StoreError> {
        let rows: Vec<TimeEntryRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT id, task_id, user_id, worked_on, minutes, note, created_at FROM time_entries \
                 WHERE task_id = $1 ORDER BY id",
            )
            .bind(task.as_uuid())
            .fetch_all(c)
            .await
        })
        .map_err(map("time entries"))?;
        rows.into_iter().map(TimeEntryRow::into_record).collect()
    }

    // Comments and discussion.

    async fn add_comment(&mut self, comment: &CommentRecord) -> Result<(), StoreError> {
        let (task, filing) = thread_columns(comment.thread);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO comments (id, task_id, filing_id, author_id, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(comment.id.as_uuid())
            .bind(task)
            .bind(filing)
            .bind(comment.author.as_uuid())
            .bind(comment.body.as_str())
            .bind(micros(comment.created_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("comment"))?;
        Ok(())
    }

    async fn comments(&mut self, thread: Thread, page: &PageRequest) -> Result<Page<CommentRecord>, StoreError> {
        let after = cursor_id(page)?;
        let limit = fetch_limit(page);
        let (parent_column, parent) = match thread {
            Thread::Task(task) => ("task_id", task.as_uuid()),
            Thread::Filing(filing) => ("filing_id", filing.as_uuid()),
        };
        let sql = format!(
            "SELECT id, task_id, filing_id, author_id, body, created_at FROM comments \
             WHERE {parent_column} = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows: Vec<CommentRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(parent).bind(after).bind(limit).fetch_all(c).await)
                .map_err(map("comments"))?;
        let records = rows.into_iter().map(CommentRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |c| c.id.to_string()))
    }
}
