//! Layer 2, the decision: facts in, decision out, for every kind of actor.

use super::roles::{ClientRoles, PracticeRoles, own_task_only, roles};
use super::{
    Action, ClientFacts, ConnectionFacts, Decision, EngagementFacts, Resource, Rule, Scope, TaskFacts, portal_boundary,
};
use crate::consent::ConsentState;
use crate::ids::UserId;
use crate::people::{Actor, ClientRole, PracticeUser, Role};
use crate::practice::PracticeStatus;

/// Decides whether `actor` may perform `action` on `resource`.
///
/// This is layer 2, and it re-applies layer 1 ([`portal_boundary`]). It is
/// pure and cheap: call it on every request with facts loaded fresh.
///
/// ```
/// use ferry_domain::access::{decide, Action, ClientFacts, Outcome, Resource, Rule};
/// use ferry_domain::consent::ConsentState;
/// use ferry_domain::people::{Actor, PracticeUser, Role};
/// # use ferry_domain::{ids::*, practice::PracticeStatus};
/// # let id = |n| uuid::Uuid::from_u128(n);
/// let bookkeeper = Actor::Practice(PracticeUser {
///     user: UserId::from_uuid(id(1)), practice: PracticeId::from_uuid(id(2)),
///     role: Role::Bookkeeper, active: true, practice_status: PracticeStatus::Approved,
/// });
/// let mut facts = ClientFacts::unrelated(ClientId::from_uuid(id(3)));
/// facts.engagement = Some(ConsentState::Active);
/// facts.active_tasks_held = 1;
///
/// let decision = decide(&bookkeeper, Action::ViewClient, Resource::Client(&facts));
/// assert_eq!(decision.rule, Rule::BookkeeperHoldsTaskOnActiveFiling);
/// assert!(decision.is_allowed());
///
/// // The filing was filed: the task no longer counts, and the client is not found.
/// facts.active_tasks_held = 0;
/// let decision = decide(&bookkeeper, Action::ViewClient, Resource::Client(&facts));
/// assert_eq!(decision.outcome, Outcome::NotFound);
/// ```
pub fn decide(actor: &Actor, action: Action, resource: Resource<'_>) -> Decision {
    if action.scope() != resource.scope() {
        return Decision::forbidden(Rule::WrongResource(resource.scope()));
    }
    if let Err(refused) = portal_boundary(actor, action) {
        return refused;
    }
    match actor {
        Actor::Operator => decide_operator(action),
        Actor::Practice(user) => decide_practice_user(user, action, resource),
        Actor::Client { user, active } => decide_client_user(*user, *active, action, resource),
        Actor::Outside { user, active } => decide_outside_party(*user, *active, action, resource),
    }
}

fn decide_operator(action: Action) -> Decision {
    if action.scope() == Scope::Installation {
        Decision::allow(Rule::OperatorRunsTheInstallation)
    } else {
        Decision::not_found(Rule::OperatorHasNoPortalScope)
    }
}

/// Whether `role` passes the role table's practice column.
fn role_allows(allowed: PracticeRoles, role: Role) -> bool {
    match allowed {
        PracticeRoles::None => false,
        PracticeRoles::Admin => role == Role::Admin,
        PracticeRoles::AdminAndStaff => role.is_staff_or_admin(),
        // INVARIANT: bookkeepers reaching here passed the portal boundary.
        PracticeRoles::All => true,
    }
}

fn decide_practice_user(user: &PracticeUser, action: Action, resource: Resource<'_>) -> Decision {
    if !user.active {
        return Decision::not_found(Rule::UserDeactivated);
    }
    if !user.practice_status.is_approved() && !open_while_unapproved(user.practice_status, action) {
        return Decision::not_found(Rule::PracticeNotApproved(user.practice_status));
    }
    let (practice_roles, client_roles) = roles(action);
    let role_ok = role_allows(practice_roles, user.role);
    match resource {
        Resource::Installation => Decision::forbidden(Rule::OperatorOnly),
        Resource::Account => {
            if role_ok {
                Decision::allow(Rule::OwnAccount)
            } else {
                Decision::forbidden(Rule::NotForThisKindOfUser)
            }
        }
        Resource::Practice(practice) | Resource::Engagement(&EngagementFacts { practice, .. }) => {
            if practice != user.practice {
                Decision::not_found(Rule::NotAMemberOfPractice)
            } else if role_ok {
                Decision::allow(Rule::PracticeMember)
            } else {
                Decision::forbidden(Rule::RoleMayNot(user.role))
            }
        }
        Resource::Connection(connection) => {
            if connection.practice == user.practice && role_ok {
                connection_may_carry(action, connection.state)
            } else if connection.practice == user.practice {
                Decision::forbidden(Rule::RoleMayNot(user.role))
            } else if connection.outside_party == user.user {
                // A practice user may be the outside party of another practice's connection.
                decide_connection_party(action, connection)
            } else {
                Decision::not_found(Rule::NotAMemberOfPractice)
            }
        }
        Resource::Client(facts) | Resource::Task(facts, _) | Resource::Document(facts, _) => {
            let scope = practice_scope(user, facts);
            if !scope.is_allowed() {
                return scope;
            }
            if !role_ok {
                return if client_roles == ClientRoles::None {
                    Decision::forbidden(Rule::RoleMayNot(user.role))
                } else {
                    Decision::forbidden(Rule::ClientUsersOnly)
                };
            }
            match resource {
                Resource::Task(_, task) => task_rules(user, action, task, scope),
                Resource::Document(_, document) => {
                    if action == Action::DeleteDocument && user.role != Role::Admin && document.uploader != user.user {
                        Decision::forbidden(Rule::OnlyUploaderOrAdmin)
                    } else {
                        scope
                    }
                }
                _ => scope,
            }
        }
    }
}

/// What the users of a pending or rejected practice may still do: see their
/// own account and their practice's application, and fix its details.
/// A suspended practice's users are locked out of everything (rule 1).
const fn open_while_unapproved(status: PracticeStatus, action: Action) -> bool {
    matches!(status, PracticeStatus::Pending | PracticeStatus::Rejected)
        && matches!(
            action,
            Action::SignOut
                | Action::ViewSelf
                | Action::AcceptTerms
                | Action::ViewPractice
                | Action::EditPracticeSettings
        )
}

/// Rule 4: may this practice user open this client at all? The allowing
/// decision names the rule that puts the client in scope.
fn practice_scope(user: &PracticeUser, facts: &ClientFacts) -> Decision {
    if !facts.engagement.is_some_and(ConsentState::is_active) {
        return Decision::not_found(Rule::NoActiveEngagement(facts.engagement));
    }
    match user.role {
        Role::Admin => Decision::allow(Rule::AdminSeesAllEngagedClients),
        Role::Staff if facts.assigned => Decision::allow(Rule::StaffAssignedToClient),
        Role::Staff if facts.active_tasks_held > 0 => Decision::allow(Rule::StaffHoldsTaskOnActiveFiling),
        Role::Staff => Decision::not_found(Rule::StaffNotAssigned),
        Role::Bookkeeper if facts.active_tasks_held > 0 => Decision::allow(Rule::BookkeeperHoldsTaskOnActiveFiling),
        Role::Bookkeeper => Decision::not_found(Rule::BookkeeperHoldsNoActiveTask),
    }
}

fn task_rules(user: &PracticeUser, action: Action, task: &TaskFacts, scope: Decision) -> Decision {
    if user.role == Role::Bookkeeper && own_task_only(action) && task.assignee != Some(user.user) {
        return Decision::forbidden(Rule::OnlyTheAssignee);
    }
    // Every task action changes the task; a closed filing's tasks stay as they were.
    if !task.filing.is_active() {
        return Decision::forbidden(Rule::FilingNotActive(task.filing));
    }
    scope
}

fn connection_may_carry(action: Action, state: ConsentState) -> Decision {
    if action == Action::SendOverConnection && !state.is_active() {
        Decision::forbidden(Rule::ConnectionNotActive(state))
    } else {
        Decision::allow(Rule::ConnectionParty)
    }
}

/// The outside party's side of a connection: they may see it, answer it,
/// end it and send over it (rule 3).
fn decide_connection_party(action: Action, connection: &ConnectionFacts) -> Decision {
    match action {
        Action::ViewConnection | Action::AnswerConnection | Action::RevokeConnection | Action::SendOverConnection => {
            connection_may_carry(action, connection.state)
        }
        _ => Decision::forbidden(Rule::NotForThisKindOfUser),
    }
}

fn decide_client_user(user: UserId, active: bool, action: Action, resource: Resource<'_>) -> Decision {
    if !active {
        return Decision::not_found(Rule::UserDeactivated);
    }
    let (_, client_roles) = roles(action);
    let membership = match resource {
        Resource::Installation => return Decision::forbidden(Rule::OperatorOnly),
        Resource::Account => {
            return match client_roles {
                ClientRoles::None => Decision::forbidden(Rule::NotForThisKindOfUser),
                ClientRoles::Owner | ClientRoles::All => Decision::allow(Rule::OwnAccount),
            };
        }
        Resource::Practice(_) | Resource::Connection(_) => return Decision::not_found(Rule::PracticeInternalsHidden),
        Resource::Engagement(engagement) => engagement.membership,
        Resource::Client(facts) | Resource::Task(facts, _) | Resource::Document(facts, _) => facts.membership,
    };
    let Some(role) = membership else {
        return Decision::not_found(Rule::NotAMemberOfClient);
    };
    match (client_roles, role) {
        (ClientRoles::None, _) => Decision::not_found(Rule::PracticeInternalsHidden),
        (ClientRoles::Owner, ClientRole::Member) => Decision::forbidden(Rule::ClientOwnerOnly),
        _ => match resource {
            Resource::Document(_, document) if action == Action::DeleteDocument && document.uploader != user => {
                Decision::forbidden(Rule::OnlyUploaderOrAdmin)
            }
            _ => Decision::allow(Rule::ClientUserOwnClient),
        },
    }
}

fn decide_outside_party(user: UserId, active: bool, action: Action, resource: Resource<'_>) -> Decision {
    if !active {
        return Decision::not_found(Rule::UserDeactivated);
    }
    match resource {
        Resource::Installation => Decision::forbidden(Rule::OperatorOnly),
        Resource::Account => match action {
            Action::SignOut | Action::ViewSelf | Action::AcceptTerms | Action::ListMyInbox | Action::ListMyOutbox => {
                Decision::allow(Rule::OwnAccount)
            }
            _ => Decision::forbidden(Rule::NotForThisKindOfUser),
        },
        Resource::Connection(connection) if connection.outside_party == user => {
            decide_connection_party(action, connection)
        }
        Resource::Connection(_) | Resource::Practice(_) | Resource::Engagement(_) => {
            Decision::not_found(Rule::NotAMemberOfPractice)
        }
        Resource::Client(_) | Resource::Task(..) | Resource::Document(..) => {
            Decision::not_found(Rule::OutsidePartyHasNoClientScope)
        }
    }
}

/// For `explain`: the decision for every action of a client-level scope that
/// `actor` could take on a client with `facts`, in a stable order.
#[must_use]
pub fn explain_client(actor: &Actor, facts: &ClientFacts) -> Vec<(Action, Decision)> {
    Action::ALL
        .iter()
        .filter(|a| a.scope() == Scope::Client)
        .map(|&a| (a, decide(actor, a, Resource::Client(facts))))
        .collect()
}

/// Whether `actor` may open the client at all (the account switcher and lists).
#[must_use]
pub fn can_open_client(actor: &Actor, facts: &ClientFacts) -> bool {
    decide(actor, Action::ViewClient, Resource::Client(facts)).is_allowed()
}
