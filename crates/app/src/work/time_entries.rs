//! Time logged on a task.

use ferry_domain::access::Action;
use ferry_domain::ids::{TaskId, TimeEntryId};
use ferry_domain::values::Text;
use ferry_domain::work::Minutes;
use ferry_ports::records::TimeEntryRecord;

use super::inputs::{TimeInput, parse_date};
use crate::error::parse;
use crate::{App, AppError, Principal};

impl App {
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
}
