//! Conversation: a task's comments and a filing's discussion.

use ferry_domain::access::Action;
use ferry_domain::ids::{CommentId, FilingId, TaskId};
use ferry_domain::values::Text;
use ferry_ports::records::{CommentRecord, Page, PageRequest, Thread};

use crate::error::parse;
use crate::{App, AppError, Principal};

impl App {
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
}
