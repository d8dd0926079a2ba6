//! Work: filings, their tasks, checklists, time entries and comments.

use async_trait::async_trait;
use ferry_domain::ids::{ChecklistItemId, ClientId, FilingId, PracticeId, TaskId, UserId};
use ferry_domain::work::{Assignee, FilingStatus, Reviewer, TaskStatus};
use time::{Date, OffsetDateTime};

use crate::records::{
    AssignedTask, ChecklistItemRecord, CommentRecord, FilingRecord, NewTask, Page, PageRequest, TaskRecord, Thread,
    TimeEntryRecord,
};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Work: filings, their tasks, checklists, time entries and comments.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait WorkStore: Send {
    /// Records a new filing.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice or client.
    async fn insert_filing(&mut self, filing: &FilingRecord) -> Result<(), StoreError>;

    /// A filing by id.
    async fn filing(&mut self, id: FilingId) -> Result<Option<FilingRecord>, StoreError>;

    /// Moves a filing from `from` to `to`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer `from`.
    async fn set_filing_status(
        &mut self,
        id: FilingId,
        from: FilingStatus,
        to: FilingStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A practice's filings for a client, in order of creation.
    async fn list_filings(
        &mut self,
        practice: PracticeId,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<FilingRecord>, StoreError>;

    /// Records a new task, to do and unassigned.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown filing.
    async fn insert_task(&mut self, task: &NewTask) -> Result<(), StoreError>;

    /// A task by id, with its filing's practice, client and status.
    async fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>, StoreError>;

    /// Sets a task's status.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn set_task_status(&mut self, id: TaskId, status: TaskStatus, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Assigns, reassigns or unassigns a task.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::DanglingReference`] for an unknown user.
    async fn set_task_assignee(&mut self, id: TaskId, assignee: Option<Assignee>) -> Result<(), StoreError>;

    /// Sets or clears a task's due date.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn set_task_due(&mut self, id: TaskId, due: Option<Date>) -> Result<(), StoreError>;

    /// Sets a task's reviewer and approver.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::DanglingReference`] for an unknown user.
    async fn set_task_reviewers(
        &mut self,
        id: TaskId,
        reviewer: Option<Reviewer>,
        approver: Option<Reviewer>,
    ) -> Result<(), StoreError>;

    /// The tasks of a filing, in order of creation.
    async fn list_tasks_of_filing(
        &mut self,
        filing: FilingId,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError>;

    /// My Tasks: the tasks assigned to `user` on active filings, soonest due
    /// first (undated last), then in order of creation, each with its
    /// filing's kind, its client and `user`'s facts about that client — one
    /// query for the page, however many clients it spans.
    async fn list_tasks_of_assignee(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<AssignedTask>, StoreError>;

    /// Status and due date of every task assigned to `user` on active
    /// filings, for the dashboard.
    async fn assigned_task_dues(&mut self, user: UserId) -> Result<Vec<(TaskStatus, Option<Date>)>, StoreError>;

    /// Appends an item to a task's checklist; its position is set to the end.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown task.
    async fn add_checklist_item(&mut self, item: &ChecklistItemRecord) -> Result<ChecklistItemRecord, StoreError>;

    /// A task's checklist, in order.
    async fn checklist(&mut self, task: TaskId) -> Result<Vec<ChecklistItemRecord>, StoreError>;

    /// Ticks or unticks an item of `task`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the item is not on that task.
    async fn tick_checklist_item(&mut self, task: TaskId, item: ChecklistItemId, done: bool) -> Result<(), StoreError>;

    /// Removes an item of `task`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the item is not on that task.
    async fn remove_checklist_item(&mut self, task: TaskId, item: ChecklistItemId) -> Result<(), StoreError>;

    /// Logs time on a task.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown task or user.
    async fn add_time_entry(&mut self, entry: &TimeEntryRecord) -> Result<(), StoreError>;

    /// A task's time entries, in order of logging.
    async fn time_entries(&mut self, task: TaskId) -> Result<Vec<TimeEntryRecord>, StoreError>;

    /// Adds a comment to a task or a post to a filing's discussion.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown task, filing or author.
    async fn add_comment(&mut self, comment: &CommentRecord) -> Result<(), StoreError>;

    /// A thread's comments, oldest first.
    async fn comments(&mut self, thread: Thread, page: &PageRequest) -> Result<Page<CommentRecord>, StoreError>;
}
