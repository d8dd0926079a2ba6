//! Layer 1, the portal boundary: the bookkeeper allowlist as data, and
//! the check that applies it before any resource is looked at.

use super::{Action, Decision, Rule};
use crate::people::{Actor, PracticeUser, Role};

/// Layer 1 as data: every action a bookkeeper may ever perform. Anything not
/// listed is refused at the portal boundary, whatever the resource.
pub const BOOKKEEPER_ALLOWLIST: &[Action] = &[
    Action::SignOut,
    Action::ViewSelf,
    Action::AcceptTerms,
    Action::ListMyClients,
    Action::ListMyTasks,
    Action::ViewMyDashboard,
    Action::ViewClient,
    Action::ListFilings,
    Action::ViewFiling,
    Action::ViewTask,
    Action::ListDocuments,
    Action::ViewDocument,
    Action::DownloadDocument,
    Action::ViewEmailLog,
    Action::ReadDiscussion,
    Action::PostDiscussion,
    Action::ChangeTaskStatus,
    Action::TickChecklistItem,
    Action::LogTime,
    Action::CommentOnTask,
];

/// Layer 1, the portal boundary: refuses any action outside
/// [`BOOKKEEPER_ALLOWLIST`] for bookkeepers, before any resource is looked at.
/// Everyone else passes (their limits are layer 2's business).
///
/// ```
/// use ferry_domain::access::{portal_boundary, Action};
/// use ferry_domain::people::{Actor, PracticeUser, Role};
/// # use ferry_domain::{ids::*, practice::PracticeStatus};
/// # let id = uuid::Uuid::nil();
/// let bookkeeper = Actor::Practice(PracticeUser {
///     user: UserId::from_uuid(id), practice: PracticeId::from_uuid(id),
///     role: Role::Bookkeeper, active: true, practice_status: PracticeStatus::Approved,
/// });
/// assert!(portal_boundary(&bookkeeper, Action::ListMyTasks).is_ok());
/// assert!(portal_boundary(&bookkeeper, Action::ChangeFilingStatus).is_err());
/// ```
///
/// # Errors
/// A forbidding [`Decision`] with [`Rule::BookkeeperPortalBoundary`].
pub fn portal_boundary(actor: &Actor, action: Action) -> Result<(), Decision> {
    match actor {
        Actor::Practice(PracticeUser { role: Role::Bookkeeper, .. }) if !BOOKKEEPER_ALLOWLIST.contains(&action) => {
            Err(Decision::forbidden(Rule::BookkeeperPortalBoundary))
        }
        _ => Ok(()),
    }
}
