//! The role table: which practice roles and client users may perform each
//! action, scope aside.

use super::Action;

/// Which practice roles an action is open to (before scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PracticeRoles {
    /// No practice user.
    None,
    /// Admins only.
    Admin,
    /// Admins and staff.
    AdminAndStaff,
    /// Every role; bookkeepers only where the allowlist lets them.
    All,
}

/// Which client users an action is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClientRoles {
    /// No client user: practice internals (rule 5).
    None,
    /// The client's owner.
    Owner,
    /// Every user of the client.
    All,
}

/// The role table: who may perform each action, scope aside.
pub(super) const fn roles(action: Action) -> (PracticeRoles, ClientRoles) {
    use Action::*;
    use ClientRoles as C;
    use PracticeRoles as P;
    match action {
        DecidePracticeApplication | SetPlan | ManageAddOns | ManageAnyUser | ExplainAccess | RunInstallation => {
            (P::None, C::None)
        }
        SignOut | ViewSelf | AcceptTerms | ListMyClients => (P::All, C::All),
        ListMyTasks | ViewMyDashboard => (P::All, C::None),
        ListMyInbox | ListMyOutbox => (P::AdminAndStaff, C::All),
        ViewPracticeDirectory => (P::None, C::All),
        ViewPractice | ListStaff | ListAssigneeCandidates | ListReviewerCandidates | ListPracticeClients => {
            (P::AdminAndStaff, C::None)
        }
        EditPracticeSettings
        | ViewUsage
        | ListBookkeepers
        | InvitePerson
        | ChangePerson
        | ResetPersonPassword
        | ManageClientAssignments
        | InviteClient
        | ListConnections
        | InviteOutsideParty => (P::Admin, C::None),
        ViewEngagement | AnswerEngagement | RevokeEngagement => (P::Admin, C::Owner),
        ViewConnection | AnswerConnection | RevokeConnection => (P::Admin, C::None),
        SendOverConnection => (P::AdminAndStaff, C::None),
        ViewClient | ListDocuments => (P::All, C::All),
        ListFilings | ViewFiling | ViewTask | ViewEmailLog | ReadDiscussion | PostDiscussion => (P::All, C::None),
        CreateFiling | ChangeFilingStatus | CreateTask | SendToClient => (P::AdminAndStaff, C::None),
        ListRecipients | SendToPractice => (P::None, C::All),
        ListClientMembers | InviteClientMember | RemoveClientMember | GrantPracticeAccess => (P::None, C::Owner),
        LeaveClient => (P::None, C::All),
        ChangeTaskStatus | TickChecklistItem | LogTime | CommentOnTask => (P::All, C::None),
        AssignTask | SetTaskDueDate | SetTaskReviewers | EditChecklist => (P::AdminAndStaff, C::None),
        ViewDocument | DownloadDocument => (P::All, C::All),
        DeleteDocument => (P::AdminAndStaff, C::All),
    }
}

/// Task actions a bookkeeper may take only on tasks assigned to them.
pub(super) const fn own_task_only(action: Action) -> bool {
    matches!(action, Action::ChangeTaskStatus | Action::TickChecklistItem | Action::LogTime | Action::CommentOnTask)
}
