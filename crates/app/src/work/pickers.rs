//! The people a task may be given to or reviewed by, checked by the domain
//! (an assignee of the practice; a reviewer or approver never a bookkeeper).

use ferry_domain::ids::UserId;
use ferry_domain::people::{Actor, PracticeUser};
use ferry_domain::work::{Assignee, CandidateError, Reviewer};
use ferry_ports::records::TaskRecord;

use crate::AppError;
use crate::context::Work;

/// The practice user named in `field`, fresh from the store.
pub(super) async fn candidate(work: &mut Work, field: &str, user: UserId) -> Result<PracticeUser, AppError> {
    match work.tx.actor(user).await? {
        Some(Actor::Practice(p)) => Ok(p),
        _ => Err(AppError::invalid(field, format!("{field} is not a member of this practice"))),
    }
}

pub(super) fn candidate_error(field: &str, error: CandidateError) -> AppError {
    AppError::invalid(field, format!("{field}: {error}"))
}

pub(super) async fn assignee(work: &mut Work, task: &TaskRecord, user: UserId) -> Result<Assignee, AppError> {
    let candidate = candidate(work, "assignee", user).await?;
    Assignee::new(&candidate, task.practice).map_err(|e| candidate_error("assignee", e))
}

pub(super) async fn reviewer(
    work: &mut Work,
    field: &str,
    practice: ferry_domain::ids::PracticeId,
    user: UserId,
) -> Result<Reviewer, AppError> {
    let candidate = candidate(work, field, user).await?;
    Reviewer::new(&candidate, practice).map_err(|e| candidate_error(field, e))
}
