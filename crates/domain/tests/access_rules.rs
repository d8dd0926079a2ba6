//! The access rules of PRODUCT.md, one test per rule, through the public API.

use ferry_domain::access::{
    Action, BOOKKEEPER_ALLOWLIST, ClientFacts, ConnectionFacts, DocumentFacts, EngagementFacts, Outcome, Resource,
    Rule, Scope, TaskFacts, can_open_client, decide, explain_client, portal_boundary,
};
use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::exchange::{Picker, Recipient, RecipientRefused, check_recipient};
use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::{Actor, ClientRole, PracticeUser, Role};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::work::FilingStatus;
use uuid::Uuid;

const PRACTICE: u128 = 1;
const OTHER_PRACTICE: u128 = 2;
const CLIENT: u128 = 100;

fn practice_id(n: u128) -> PracticeId {
    PracticeId::from_uuid(Uuid::from_u128(n))
}

fn user_id(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(n))
}

fn member(user: u128, role: Role) -> PracticeUser {
    PracticeUser {
        user: user_id(user),
        practice: practice_id(PRACTICE),
        role,
        active: true,
        practice_status: PracticeStatus::Approved,
    }
}

fn actor(user: u128, role: Role) -> Actor {
    Actor::Practice(member(user, role))
}

fn admin() -> Actor {
    actor(10, Role::Admin)
}
fn staff() -> Actor {
    actor(11, Role::Staff)
}
fn bookkeeper() -> Actor {
    actor(12, Role::Bookkeeper)
}
fn client_user() -> Actor {
    Actor::Client { user: user_id(20), active: true }
}
fn outside_party() -> Actor {
    Actor::Outside { user: user_id(30), active: true }
}

/// Facts of an engaged client with nothing assigned.
fn engaged() -> ClientFacts {
    ClientFacts {
        engagement: Some(ConsentState::Active),
        ..ClientFacts::unrelated(ClientId::from_uuid(Uuid::from_u128(CLIENT)))
    }
}

fn with_task(mut facts: ClientFacts) -> ClientFacts {
    facts.active_tasks_held = 1;
    facts
}

fn assigned(mut facts: ClientFacts) -> ClientFacts {
    facts.assigned = true;
    facts
}

fn member_of(role: ClientRole) -> ClientFacts {
    ClientFacts { membership: Some(role), ..ClientFacts::unrelated(ClientId::from_uuid(Uuid::from_u128(CLIENT))) }
}

fn client_actions() -> impl Iterator<Item = Action> {
    Action::ALL.iter().copied().filter(|a| a.scope() == Scope::Client)
}

/// Asserts the outcome and the deciding rule of one decision.
#[track_caller]
fn check(actor: &Actor, action: Action, resource: Resource<'_>, outcome: Outcome, rule: Rule) {
    let decision = decide(actor, action, resource);
    assert_eq!((decision.outcome, decision.rule), (outcome, rule), "{actor:?} {action}: {decision}");
}

#[test]
fn rule1_a_suspended_practice_is_locked_out_of_everything() {
    for role in Role::ALL {
        let mut user = member(10, role);
        user.practice_status = PracticeStatus::Suspended;
        let actor = Actor::Practice(user);
        let facts = assigned(with_task(engaged()));
        for &action in Action::ALL {
            let resource = match action.scope() {
                Scope::Client => Resource::Client(&facts),
                Scope::Account => Resource::Account,
                Scope::Practice => Resource::Practice(practice_id(PRACTICE)),
                _ => continue,
            };
            let decision = decide(&actor, action, resource);
            assert!(!decision.is_allowed(), "{role} {action}: {decision}");
        }
        // Outside the allowlist the portal boundary answers first; otherwise rule 1 does.
        check(
            &actor,
            Action::ViewClient,
            Resource::Client(&facts),
            Outcome::NotFound,
            Rule::PracticeNotApproved(PracticeStatus::Suspended),
        );
    }
}

#[test]
fn rule1_a_pending_or_rejected_practice_sees_its_application_and_nothing_else() {
    for status in [PracticeStatus::Pending, PracticeStatus::Rejected] {
        let mut user = member(10, Role::Admin);
        user.practice_status = status;
        let actor = Actor::Practice(user);
        let practice = Resource::Practice(practice_id(PRACTICE));
        assert!(decide(&actor, Action::ViewSelf, Resource::Account).is_allowed());
        assert!(decide(&actor, Action::ViewPractice, practice).is_allowed());
        assert!(decide(&actor, Action::EditPracticeSettings, practice).is_allowed());
        check(&actor, Action::InviteClient, practice, Outcome::NotFound, Rule::PracticeNotApproved(status));
        check(&actor, Action::InvitePerson, practice, Outcome::NotFound, Rule::PracticeNotApproved(status));
        check(&actor, Action::InviteOutsideParty, practice, Outcome::NotFound, Rule::PracticeNotApproved(status));
        let facts = engaged();
        check(
            &actor,
            Action::SendToClient,
            Resource::Client(&facts),
            Outcome::NotFound,
            Rule::PracticeNotApproved(status),
        );
    }
}

#[test]
fn rule2_without_an_active_engagement_the_practice_has_no_access_at_all() {
    let states = [
        None,
        Some(ConsentState::Requested { by: Side::Practice }),
        Some(ConsentState::Requested { by: Side::Counterparty }),
        Some(ConsentState::Declined { by: Side::Counterparty }),
        Some(ConsentState::Revoked { by: Side::Practice }),
        Some(ConsentState::Revoked { by: Side::Counterparty }),
    ];
    for engagement in states {
        // Even an assigned staff member holding a task loses every kind of access.
        let facts = ClientFacts { engagement, ..assigned(with_task(engaged())) };
        for actor in [admin(), staff(), bookkeeper()] {
            for action in client_actions() {
                let decision = decide(&actor, action, Resource::Client(&facts));
                assert!(!decision.is_allowed(), "{engagement:?} {action}: {decision}");
            }
            check(
                &actor,
                Action::ViewClient,
                Resource::Client(&facts),
                Outcome::NotFound,
                Rule::NoActiveEngagement(engagement),
            );
        }
    }
}

#[test]
fn rule2_engagements_are_answered_by_the_practice_admin_or_the_client_owner() {
    let practice_side = EngagementFacts { practice: practice_id(PRACTICE), membership: None };
    let other_practice = EngagementFacts { practice: practice_id(OTHER_PRACTICE), membership: None };
    let owner_side = EngagementFacts { practice: practice_id(PRACTICE), membership: Some(ClientRole::Owner) };
    let member_side = EngagementFacts { practice: practice_id(PRACTICE), membership: Some(ClientRole::Member) };
    for action in [Action::ViewEngagement, Action::AnswerEngagement, Action::RevokeEngagement] {
        check(&admin(), action, Resource::Engagement(&practice_side), Outcome::Allow, Rule::PracticeMember);
        check(
            &staff(),
            action,
            Resource::Engagement(&practice_side),
            Outcome::Forbidden,
            Rule::RoleMayNot(Role::Staff),
        );
        check(&admin(), action, Resource::Engagement(&other_practice), Outcome::NotFound, Rule::NotAMemberOfPractice);
        check(&client_user(), action, Resource::Engagement(&owner_side), Outcome::Allow, Rule::ClientUserOwnClient);
        check(&client_user(), action, Resource::Engagement(&member_side), Outcome::Forbidden, Rule::ClientOwnerOnly);
        check(
            &client_user(),
            action,
            Resource::Engagement(&practice_side),
            Outcome::NotFound,
            Rule::NotAMemberOfClient,
        );
    }
    let facts = member_of(ClientRole::Owner);
    check(
        &client_user(),
        Action::GrantPracticeAccess,
        Resource::Client(&facts),
        Outcome::Allow,
        Rule::ClientUserOwnClient,
    );
    let facts = member_of(ClientRole::Member);
    check(
        &client_user(),
        Action::GrantPracticeAccess,
        Resource::Client(&facts),
        Outcome::Forbidden,
        Rule::ClientOwnerOnly,
    );
}

#[test]
fn rule3_files_move_to_outside_parties_only_over_an_active_connection() {
    let connection = |state| ConnectionFacts { practice: practice_id(PRACTICE), outside_party: user_id(30), state };
    let active = connection(ConsentState::Active);
    let revoked = connection(ConsentState::Revoked { by: Side::Counterparty });
    check(&staff(), Action::SendOverConnection, Resource::Connection(&active), Outcome::Allow, Rule::ConnectionParty);
    check(
        &outside_party(),
        Action::SendOverConnection,
        Resource::Connection(&active),
        Outcome::Allow,
        Rule::ConnectionParty,
    );
    for actor in [staff(), outside_party()] {
        check(
            &actor,
            Action::SendOverConnection,
            Resource::Connection(&revoked),
            Outcome::Forbidden,
            Rule::ConnectionNotActive(revoked.state),
        );
    }
    // Managing the connection is the admin's; another outside party sees nothing.
    check(
        &staff(),
        Action::RevokeConnection,
        Resource::Connection(&active),
        Outcome::Forbidden,
        Rule::RoleMayNot(Role::Staff),
    );
    check(&admin(), Action::RevokeConnection, Resource::Connection(&active), Outcome::Allow, Rule::ConnectionParty);
    let stranger = Actor::Outside { user: user_id(31), active: true };
    check(
        &stranger,
        Action::ViewConnection,
        Resource::Connection(&active),
        Outcome::NotFound,
        Rule::NotAMemberOfPractice,
    );
    // A bookkeeper never sends, over a connection or otherwise.
    check(
        &bookkeeper(),
        Action::SendOverConnection,
        Resource::Connection(&active),
        Outcome::Forbidden,
        Rule::BookkeeperPortalBoundary,
    );
}

#[test]
fn rule3_outside_parties_never_open_a_client() {
    let facts = with_task(engaged());
    for action in client_actions() {
        check(
            &outside_party(),
            action,
            Resource::Client(&facts),
            Outcome::NotFound,
            Rule::OutsidePartyHasNoClientScope,
        );
    }
}

#[test]
fn rule4_admin_sees_all_engaged_clients_current_and_future() {
    // No assignment, no task: engagement alone is enough for an admin.
    let facts = engaged();
    for action in client_actions() {
        let decision = decide(&admin(), action, Resource::Client(&facts));
        let client_side_only = matches!(
            action,
            Action::ListClientMembers
                | Action::InviteClientMember
                | Action::RemoveClientMember
                | Action::LeaveClient
                | Action::GrantPracticeAccess
                | Action::ListRecipients
                | Action::SendToPractice
        );
        if client_side_only {
            assert_eq!(decision.outcome, Outcome::Forbidden, "{action}");
            assert_eq!(decision.rule, Rule::ClientUsersOnly, "{action}");
        } else {
            assert_eq!(
                (decision.outcome, decision.rule),
                (Outcome::Allow, Rule::AdminSeesAllEngagedClients),
                "{action}"
            );
        }
    }
}

#[test]
fn rule4_staff_open_a_client_by_assignment_or_by_a_task_on_an_active_filing() {
    check(
        &staff(),
        Action::CreateFiling,
        Resource::Client(&assigned(engaged())),
        Outcome::Allow,
        Rule::StaffAssignedToClient,
    );
    check(
        &staff(),
        Action::CreateFiling,
        Resource::Client(&with_task(engaged())),
        Outcome::Allow,
        Rule::StaffHoldsTaskOnActiveFiling,
    );
    check(&staff(), Action::ViewClient, Resource::Client(&engaged()), Outcome::NotFound, Rule::StaffNotAssigned);
    check(
        &staff(),
        Action::ViewUsage,
        Resource::Practice(practice_id(PRACTICE)),
        Outcome::Forbidden,
        Rule::RoleMayNot(Role::Staff),
    );
}

#[test]
fn rule4_bookkeeper_opens_a_client_only_with_a_task_on_an_active_filing_and_read_only() {
    // A client assignment does not grant a bookkeeper anything: only tasks do.
    check(
        &bookkeeper(),
        Action::ViewClient,
        Resource::Client(&assigned(engaged())),
        Outcome::NotFound,
        Rule::BookkeeperHoldsNoActiveTask,
    );
    let facts = with_task(engaged());
    for action in client_actions() {
        let decision = decide(&bookkeeper(), action, Resource::Client(&facts));
        if BOOKKEEPER_ALLOWLIST.contains(&action) {
            assert_eq!(decision.rule, Rule::BookkeeperHoldsTaskOnActiveFiling, "{action}");
            assert!(decision.is_allowed(), "{action}");
        } else {
            assert_eq!(
                (decision.outcome, decision.rule),
                (Outcome::Forbidden, Rule::BookkeeperPortalBoundary),
                "{action}"
            );
        }
    }
    for action in [Action::CreateFiling, Action::ChangeFilingStatus, Action::CreateTask, Action::SendToClient] {
        assert!(!decide(&bookkeeper(), action, Resource::Client(&facts)).is_allowed(), "{action}");
    }
}

#[test]
fn rule4_bookkeeper_works_only_their_own_tasks_and_never_assigns_or_sets_due_dates() {
    let facts = with_task(engaged());
    let own = TaskFacts { assignee: Some(user_id(12)), filing: FilingStatus::Active };
    let someone_elses = TaskFacts { assignee: Some(user_id(11)), filing: FilingStatus::Active };
    for action in [Action::ChangeTaskStatus, Action::TickChecklistItem, Action::LogTime, Action::CommentOnTask] {
        check(
            &bookkeeper(),
            action,
            Resource::Task(&facts, &own),
            Outcome::Allow,
            Rule::BookkeeperHoldsTaskOnActiveFiling,
        );
        check(&bookkeeper(), action, Resource::Task(&facts, &someone_elses), Outcome::Forbidden, Rule::OnlyTheAssignee);
        check(
            &staff(),
            action,
            Resource::Task(&assigned(engaged()), &someone_elses),
            Outcome::Allow,
            Rule::StaffAssignedToClient,
        );
    }
    for action in [Action::AssignTask, Action::SetTaskDueDate, Action::SetTaskReviewers, Action::EditChecklist] {
        check(&bookkeeper(), action, Resource::Task(&facts, &own), Outcome::Forbidden, Rule::BookkeeperPortalBoundary);
        check(&admin(), action, Resource::Task(&engaged(), &own), Outcome::Allow, Rule::AdminSeesAllEngagedClients);
    }
}

#[test]
fn rule4_tasks_of_a_filed_or_cancelled_filing_cannot_be_changed_until_reopened() {
    for filing in [FilingStatus::Filed, FilingStatus::Cancelled] {
        let task = TaskFacts { assignee: Some(user_id(10)), filing };
        for action in Action::ALL.iter().copied().filter(|a| a.scope() == Scope::Task) {
            check(
                &admin(),
                action,
                Resource::Task(&engaged(), &task),
                Outcome::Forbidden,
                Rule::FilingNotActive(filing),
            );
        }
    }
}

#[test]
fn rule4_documents_are_deleted_by_their_uploader_or_an_admin() {
    let facts = assigned(engaged());
    let by_staff = DocumentFacts { uploader: user_id(11) };
    let by_client = DocumentFacts { uploader: user_id(20) };
    check(
        &staff(),
        Action::DeleteDocument,
        Resource::Document(&facts, &by_staff),
        Outcome::Allow,
        Rule::StaffAssignedToClient,
    );
    check(
        &staff(),
        Action::DeleteDocument,
        Resource::Document(&facts, &by_client),
        Outcome::Forbidden,
        Rule::OnlyUploaderOrAdmin,
    );
    check(
        &admin(),
        Action::DeleteDocument,
        Resource::Document(&facts, &by_client),
        Outcome::Allow,
        Rule::AdminSeesAllEngagedClients,
    );
    let owner = member_of(ClientRole::Member);
    check(
        &client_user(),
        Action::DeleteDocument,
        Resource::Document(&owner, &by_client),
        Outcome::Allow,
        Rule::ClientUserOwnClient,
    );
    check(
        &client_user(),
        Action::DeleteDocument,
        Resource::Document(&owner, &by_staff),
        Outcome::Forbidden,
        Rule::OnlyUploaderOrAdmin,
    );
    let task_holder = with_task(engaged());
    check(
        &bookkeeper(),
        Action::DownloadDocument,
        Resource::Document(&task_holder, &by_client),
        Outcome::Allow,
        Rule::BookkeeperHoldsTaskOnActiveFiling,
    );
    check(
        &bookkeeper(),
        Action::DeleteDocument,
        Resource::Document(&task_holder, &by_client),
        Outcome::Forbidden,
        Rule::BookkeeperPortalBoundary,
    );
}

#[test]
fn rule5_client_users_see_only_their_own_client_and_never_practice_internals() {
    let own = member_of(ClientRole::Member);
    for action in [Action::ViewClient, Action::ListDocuments, Action::ListRecipients, Action::SendToPractice] {
        check(&client_user(), action, Resource::Client(&own), Outcome::Allow, Rule::ClientUserOwnClient);
    }
    for action in [
        Action::ListFilings,
        Action::ViewFiling,
        Action::ViewTask,
        Action::ViewEmailLog,
        Action::ReadDiscussion,
        Action::CreateFiling,
    ] {
        check(&client_user(), action, Resource::Client(&own), Outcome::NotFound, Rule::PracticeInternalsHidden);
    }
    let task = TaskFacts { assignee: None, filing: FilingStatus::Active };
    check(
        &client_user(),
        Action::ChangeTaskStatus,
        Resource::Task(&own, &task),
        Outcome::NotFound,
        Rule::PracticeInternalsHidden,
    );
    for action in [Action::ListStaff, Action::ListAssigneeCandidates, Action::ViewPractice] {
        check(
            &client_user(),
            action,
            Resource::Practice(practice_id(PRACTICE)),
            Outcome::NotFound,
            Rule::PracticeInternalsHidden,
        );
    }
    check(&client_user(), Action::ListMyTasks, Resource::Account, Outcome::Forbidden, Rule::NotForThisKindOfUser);
    // Another client: every action is "not found", whatever it is.
    let other = ClientFacts::unrelated(ClientId::from_uuid(Uuid::from_u128(CLIENT + 1)));
    for action in client_actions() {
        check(&client_user(), action, Resource::Client(&other), Outcome::NotFound, Rule::NotAMemberOfClient);
    }
}

#[test]
fn rule5_only_the_client_owner_lists_and_invites_colleagues_and_grants_access() {
    for action in [Action::InviteClientMember, Action::RemoveClientMember, Action::GrantPracticeAccess] {
        check(
            &client_user(),
            action,
            Resource::Client(&member_of(ClientRole::Owner)),
            Outcome::Allow,
            Rule::ClientUserOwnClient,
        );
        check(
            &client_user(),
            action,
            Resource::Client(&member_of(ClientRole::Member)),
            Outcome::Forbidden,
            Rule::ClientOwnerOnly,
        );
    }
}

#[test]
fn rule6_a_deactivated_user_is_refused_everything_at_once() {
    let facts = assigned(with_task(engaged()));
    let mut deactivated =
        vec![Actor::Client { user: user_id(20), active: false }, Actor::Outside { user: user_id(30), active: false }];
    for role in Role::ALL {
        deactivated.push(Actor::Practice(PracticeUser { active: false, ..member(10, role) }));
    }
    for actor in deactivated {
        for action in client_actions() {
            let decision = decide(&actor, action, Resource::Client(&facts));
            assert!(!decision.is_allowed(), "{actor:?} {action}: {decision}");
        }
        assert!(!decide(&actor, Action::ViewSelf, Resource::Account).is_allowed());
        check(&actor, Action::ViewClient, Resource::Client(&facts), Outcome::NotFound, Rule::UserDeactivated);
    }
}

#[test]
fn rule6_access_follows_the_work_with_no_grant_step() {
    // The same bookkeeper, the same client: only the count of tasks on active filings changes.
    let mut facts = engaged();
    assert!(!can_open_client(&bookkeeper(), &facts));
    facts.active_tasks_held = 2;
    assert!(can_open_client(&bookkeeper(), &facts));
    facts.active_tasks_held = 1; // one filing was filed
    assert!(can_open_client(&bookkeeper(), &facts));
    facts.active_tasks_held = 0; // the last task was reassigned
    assert!(!can_open_client(&bookkeeper(), &facts));
}

#[test]
fn bookkeeper_allowlist_is_exactly_the_bookkeeper_portal() {
    let mut expected = vec![
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
    let mut listed = BOOKKEEPER_ALLOWLIST.to_vec();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);
}

#[test]
fn bookkeeper_portal_boundary_refuses_everything_not_listed_whatever_the_resource() {
    for &action in Action::ALL {
        let boundary = portal_boundary(&bookkeeper(), action);
        assert_eq!(boundary.is_ok(), BOOKKEEPER_ALLOWLIST.contains(&action), "{action}");
        // Admins and staff are never stopped by layer 1.
        assert!(portal_boundary(&staff(), action).is_ok());
    }
}

#[test]
fn operator_runs_the_installation_and_opens_no_client() {
    for &action in Action::ALL.iter().filter(|a| a.scope() == Scope::Installation) {
        check(&Actor::Operator, action, Resource::Installation, Outcome::Allow, Rule::OperatorRunsTheInstallation);
        check(&admin(), action, Resource::Installation, Outcome::Forbidden, Rule::OperatorOnly);
        check(&client_user(), action, Resource::Installation, Outcome::Forbidden, Rule::OperatorOnly);
    }
    check(
        &Actor::Operator,
        Action::ViewClient,
        Resource::Client(&engaged()),
        Outcome::NotFound,
        Rule::OperatorHasNoPortalScope,
    );
}

#[test]
fn a_resource_of_the_wrong_kind_is_refused() {
    check(&admin(), Action::ViewClient, Resource::Account, Outcome::Forbidden, Rule::WrongResource(Scope::Account));
    let facts = engaged();
    check(
        &admin(),
        Action::ChangeTaskStatus,
        Resource::Client(&facts),
        Outcome::Forbidden,
        Rule::WrongResource(Scope::Client),
    );
}

#[test]
fn rule9_every_decision_is_explainable() {
    let explained = explain_client(&staff(), &with_task(engaged()));
    assert_eq!(explained.len(), client_actions().count());
    for (action, decision) in explained {
        let text = decision.to_string();
        assert!(text.contains(decision.rule.code()), "{action}: {text}");
        assert!(!decision.rule.to_string().is_empty());
    }
    for &action in Action::ALL {
        assert_eq!(Action::from_name(action.as_str()), Some(action));
    }
}

#[test]
fn assignee_picker_includes_bookkeepers_reviewer_and_staff_lists_never_do() {
    assert!(Picker::Assignee.includes(Role::Bookkeeper, true));
    assert!(Picker::Assignee.includes(Role::Staff, true));
    for picker in [Picker::Reviewer, Picker::Approver, Picker::StaffList] {
        assert!(!picker.includes(Role::Bookkeeper, true), "{picker:?}");
        assert!(picker.includes(Role::Admin, true));
        assert!(picker.includes(Role::Staff, true));
        assert!(!picker.visible_to(Role::Bookkeeper));
    }
    assert!(!Picker::Assignee.includes(Role::Staff, false), "deactivated users appear in no picker");
    assert!(Picker::BookkeeperList.visible_to(Role::Admin));
    assert!(!Picker::BookkeeperList.visible_to(Role::Staff));
}

#[test]
fn client_users_send_to_admins_and_staff_who_can_open_their_client() {
    let sender = client_user();
    let admin_user = member(10, Role::Admin);
    let staff_user = member(11, Role::Staff);
    let bookkeeper_user = member(12, Role::Bookkeeper);
    let engaged_facts = engaged();
    let ok =
        |user: &PracticeUser, facts: &ClientFacts| check_recipient(&sender, &Recipient::PracticeUser { user, facts });
    assert_eq!(ok(&admin_user, &engaged_facts), Ok(()));
    assert_eq!(ok(&staff_user, &engaged_facts), Err(RecipientRefused::CannotOpenClient));
    assert_eq!(ok(&staff_user, &assigned(engaged())), Ok(()));
    assert_eq!(ok(&bookkeeper_user, &with_task(engaged())), Err(RecipientRefused::NotAdminOrStaff));
    let revoked = ClientFacts { engagement: Some(ConsentState::Revoked { by: Side::Counterparty }), ..engaged() };
    assert_eq!(ok(&admin_user, &revoked), Err(RecipientRefused::CannotOpenClient));
    let inactive = PracticeUser { active: false, ..admin_user };
    assert_eq!(ok(&inactive, &engaged_facts), Err(RecipientRefused::Inactive));
}

#[test]
fn practice_users_send_to_the_clients_users_or_to_connected_outside_parties() {
    let to_client = |membership, active| Recipient::ClientUser { user: user_id(20), active, membership };
    assert_eq!(check_recipient(&staff(), &to_client(Some(ClientRole::Member), true)), Ok(()));
    assert_eq!(check_recipient(&staff(), &to_client(None, true)), Err(RecipientRefused::NotAUserOfClient));
    assert_eq!(check_recipient(&staff(), &to_client(Some(ClientRole::Owner), false)), Err(RecipientRefused::Inactive));
    assert_eq!(
        check_recipient(&bookkeeper(), &to_client(Some(ClientRole::Owner), true)),
        Err(RecipientRefused::SenderCannotSend)
    );

    let connection =
        |state, practice| ConnectionFacts { practice: practice_id(practice), outside_party: user_id(30), state };
    fn outside(connection: &ConnectionFacts) -> Recipient<'_> {
        Recipient::OutsideParty { user: user_id(30), active: true, connection }
    }
    assert_eq!(check_recipient(&admin(), &outside(&connection(ConsentState::Active, PRACTICE))), Ok(()));
    assert_eq!(
        check_recipient(&admin(), &outside(&connection(ConsentState::Requested { by: Side::Practice }, PRACTICE))),
        Err(RecipientRefused::NoActiveConnection)
    );
    assert_eq!(
        check_recipient(&admin(), &outside(&connection(ConsentState::Active, OTHER_PRACTICE))),
        Err(RecipientRefused::NoActiveConnection)
    );
    // The outside party sends back to the practice's admins and staff over the same connection.
    let active = connection(ConsentState::Active, PRACTICE);
    let back = |sender: &Actor, user: &PracticeUser| {
        check_recipient(sender, &Recipient::PracticeUserOverConnection { user, connection: &active })
    };
    assert_eq!(back(&outside_party(), &member(11, Role::Staff)), Ok(()));
    assert_eq!(back(&outside_party(), &member(12, Role::Bookkeeper)), Err(RecipientRefused::NotAdminOrStaff));
    assert_eq!(back(&Actor::Operator, &member(11, Role::Staff)), Err(RecipientRefused::SenderCannotSend));
}
