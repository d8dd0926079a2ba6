//! A task's checklist: items added, ticked and removed.

use ferry_domain::access::Action;
use ferry_domain::ids::{ChecklistItemId, TaskId};
use ferry_domain::values::Title;
use ferry_ports::records::ChecklistItemRecord;

use crate::error::parse;
use crate::{App, AppError, Principal};

impl App {
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
}
