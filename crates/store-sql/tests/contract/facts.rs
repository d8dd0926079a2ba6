//! The facts queries against the domain's decision: the same scenarios as the
//! domain's access rules, with the facts gathered by the store.

use std::collections::BTreeSet;

use ferry_domain::access::{Action, Outcome, Resource, Rule, can_open_client, decide};
use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{ClientId, UserId};
use ferry_domain::people::{Actor, PracticeUser, Role};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::work::{Assignee, FilingStatus};
use ferry_ports::Tx;
use ferry_ports::records::{PageRequest, UserKind};

use crate::contract;
use crate::harness::{Fixture, at};

/// Decides `action` on `client` for `user` with facts and actor read from the store.
async fn decide_via_store(tx: &mut dyn Tx, user: UserId, client: ClientId, action: Action) -> (Outcome, Rule) {
    let actor = tx.actor(user).await.unwrap().expect("the actor");
    let facts = tx.client_facts(user, client).await.unwrap();
    let decision = decide(&actor, action, Resource::Client(&facts));
    (decision.outcome, decision.rule)
}

/// Every client the store lists for `user`, across pages of 2.
async fn listed(tx: &mut dyn Tx, user: UserId) -> BTreeSet<ClientId> {
    let mut out = BTreeSet::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = tx.clients_for_user(user, &page).await.unwrap();
        for row in &got.items {
            assert_eq!(row.facts, tx.client_facts(user, row.client.id).await.unwrap(), "listed facts = single facts");
            assert!(out.insert(row.client.id), "a client listed twice");
        }
        match got.next {
            Some(cursor) => page = PageRequest::after(2, cursor),
            None => return out,
        }
    }
}

/// The clients among `all` that the domain lets `user` open, from single-client facts.
async fn openable(tx: &mut dyn Tx, user: UserId, all: &[ClientId]) -> BTreeSet<ClientId> {
    let actor = tx.actor(user).await.unwrap().expect("the actor");
    let mut out = BTreeSet::new();
    for &client in all {
        let facts = tx.client_facts(user, client).await.unwrap();
        if can_open_client(&actor, &facts) {
            out.insert(client);
        }
    }
    out
}

contract!(rule4_facts_follow_engagement_assignment_and_tasks_on_active_filings, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let admin = Fixture::member(&mut *tx, practice, Role::Admin).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let bookkeeper = Fixture::member(&mut *tx, practice, Role::Bookkeeper).await;
    let (client, owner) = Fixture::client(&mut *tx).await;
    let (other_client, _) = Fixture::client(&mut *tx).await;
    let engagement = Fixture::engagement(&mut *tx, practice, client, ConsentState::Active).await;
    Fixture::engagement(&mut *tx, practice, other_client, ConsentState::Requested { by: Side::Practice }).await;
    let view = Action::ViewClient;

    // Admin: every actively engaged client, nothing else.
    assert_eq!(
        decide_via_store(&mut *tx, admin, client, view).await,
        (Outcome::Allow, Rule::AdminSeesAllEngagedClients)
    );
    let requested = Some(ConsentState::Requested { by: Side::Practice });
    assert_eq!(
        decide_via_store(&mut *tx, admin, other_client, view).await,
        (Outcome::NotFound, Rule::NoActiveEngagement(requested))
    );
    // Staff: by assignment.
    assert_eq!(decide_via_store(&mut *tx, staff, client, view).await, (Outcome::NotFound, Rule::StaffNotAssigned));
    tx.assign_client(staff, client, at(5)).await.unwrap();
    assert_eq!(decide_via_store(&mut *tx, staff, client, view).await, (Outcome::Allow, Rule::StaffAssignedToClient));
    tx.unassign_client(staff, client).await.unwrap();
    // Bookkeeper: only with a task on an active filing; an assignment grants nothing.
    tx.assign_client(bookkeeper, client, at(5)).await.unwrap();
    assert_eq!(
        decide_via_store(&mut *tx, bookkeeper, client, view).await,
        (Outcome::NotFound, Rule::BookkeeperHoldsNoActiveTask)
    );
    let filing = Fixture::filing(&mut *tx, practice, client).await;
    let task = Fixture::task(&mut *tx, filing).await;
    let holder = |user| PracticeUser {
        user,
        practice,
        role: Role::Bookkeeper,
        active: true,
        practice_status: PracticeStatus::Approved,
    };
    tx.set_task_assignee(task, Some(Assignee::new(&holder(bookkeeper), practice).unwrap())).await.unwrap();
    assert_eq!(
        decide_via_store(&mut *tx, bookkeeper, client, view).await,
        (Outcome::Allow, Rule::BookkeeperHoldsTaskOnActiveFiling)
    );
    // Read-only: refused writes even in scope.
    let (outcome, _) = decide_via_store(&mut *tx, bookkeeper, client, Action::CreateFiling).await;
    assert_eq!(outcome, Outcome::Forbidden);
    // Staff holding a task on an active filing open the client too.
    let staff_task = Fixture::task(&mut *tx, filing).await;
    tx.set_task_assignee(
        staff_task,
        Some(Assignee::new(&PracticeUser { role: Role::Staff, ..holder(staff) }, practice).unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(
        decide_via_store(&mut *tx, staff, client, view).await,
        (Outcome::Allow, Rule::StaffHoldsTaskOnActiveFiling)
    );

    // Rule 6: filing the filing removes the access; reopening restores it.
    tx.set_filing_status(filing, FilingStatus::Active, FilingStatus::Filed, at(10)).await.unwrap();
    assert_eq!(decide_via_store(&mut *tx, bookkeeper, client, view).await.0, Outcome::NotFound);
    assert_eq!(decide_via_store(&mut *tx, staff, client, view).await.0, Outcome::NotFound);
    tx.set_filing_status(filing, FilingStatus::Filed, FilingStatus::Active, at(11)).await.unwrap();
    assert_eq!(decide_via_store(&mut *tx, bookkeeper, client, view).await.0, Outcome::Allow);
    // Reassigning the last task removes it again.
    tx.set_task_assignee(task, None).await.unwrap();
    assert_eq!(decide_via_store(&mut *tx, bookkeeper, client, view).await.0, Outcome::NotFound);

    // Rule 2: ending the engagement removes every kind of access at once.
    let revoked = ConsentState::Revoked { by: Side::Counterparty };
    tx.set_engagement_state(engagement, ConsentState::Active, revoked, at(12)).await.unwrap();
    for user in [admin, staff] {
        assert_eq!(
            decide_via_store(&mut *tx, user, client, view).await,
            (Outcome::NotFound, Rule::NoActiveEngagement(Some(revoked)))
        );
    }

    // Rule 5: the client's own users see their client, whatever the engagement.
    assert_eq!(decide_via_store(&mut *tx, owner, client, view).await, (Outcome::Allow, Rule::ClientUserOwnClient));
    assert_eq!(
        decide_via_store(&mut *tx, owner, other_client, view).await,
        (Outcome::NotFound, Rule::NotAMemberOfClient)
    );
    tx.commit().await.unwrap();
});

contract!(rule1_and_rule6_suspension_and_deactivation_reach_the_actor_at_once, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let admin = Fixture::member(&mut *tx, practice, Role::Admin).await;
    let (client, owner) = Fixture::client(&mut *tx).await;
    Fixture::engagement(&mut *tx, practice, client, ConsentState::Active).await;
    assert_eq!(decide_via_store(&mut *tx, admin, client, Action::ViewClient).await.0, Outcome::Allow);
    tx.set_practice_status(practice, PracticeStatus::Approved, PracticeStatus::Suspended, at(3)).await.unwrap();
    assert_eq!(
        decide_via_store(&mut *tx, admin, client, Action::ViewClient).await,
        (Outcome::NotFound, Rule::PracticeNotApproved(PracticeStatus::Suspended))
    );
    tx.set_user_active(owner, false).await.unwrap();
    assert_eq!(
        decide_via_store(&mut *tx, owner, client, Action::ViewClient).await,
        (Outcome::NotFound, Rule::UserDeactivated)
    );
    let actor = tx.actor(admin).await.unwrap();
    assert!(matches!(actor, Some(Actor::Practice(PracticeUser { practice_status: PracticeStatus::Suspended, .. }))));
    tx.commit().await.unwrap();
});

contract!(clients_for_user_lists_exactly_the_clients_the_domain_lets_them_open, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let other_practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let admin = Fixture::member(&mut *tx, practice, Role::Admin).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let bookkeeper = Fixture::member(&mut *tx, practice, Role::Bookkeeper).await;
    let stranger = Fixture::member(&mut *tx, other_practice, Role::Admin).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let mut clients = Vec::new();
    let mut owners = Vec::new();
    for i in 0..7 {
        let (client, owner) = Fixture::client(&mut *tx).await;
        clients.push(client);
        owners.push(owner);
        let state = match i % 3 {
            0 | 1 => ConsentState::Active,
            _ => ConsentState::Declined { by: Side::Counterparty },
        };
        Fixture::engagement(&mut *tx, practice, client, state).await;
    }
    // The first owner also belongs to the second client.
    tx.add_client_member(clients[1], owners[0], ferry_domain::people::ClientRole::Member).await.unwrap();
    // Staff: two assignments (one on a declined engagement) and one task.
    tx.assign_client(staff, clients[0], at(1)).await.unwrap();
    tx.assign_client(staff, clients[2], at(1)).await.unwrap();
    // A bookkeeper's assignment alone lets them in nowhere.
    tx.assign_client(bookkeeper, clients[0], at(1)).await.unwrap();
    tx.assign_client(bookkeeper, clients[4], at(1)).await.unwrap();
    let as_user =
        |user, role| PracticeUser { user, practice, role, active: true, practice_status: PracticeStatus::Approved };
    for (user, role, client) in [
        (staff, Role::Staff, clients[3]),
        (bookkeeper, Role::Bookkeeper, clients[4]),
        (bookkeeper, Role::Bookkeeper, clients[5]),
    ] {
        let filing = Fixture::filing(&mut *tx, practice, client).await;
        let task = Fixture::task(&mut *tx, filing).await;
        tx.set_task_assignee(task, Some(Assignee::new(&as_user(user, role), practice).unwrap())).await.unwrap();
    }
    // A filed filing's task does not count.
    let filing = Fixture::filing(&mut *tx, practice, clients[6]).await;
    let task = Fixture::task(&mut *tx, filing).await;
    tx.set_task_assignee(task, Some(Assignee::new(&as_user(bookkeeper, Role::Bookkeeper), practice).unwrap()))
        .await
        .unwrap();
    tx.set_filing_status(filing, FilingStatus::Active, FilingStatus::Filed, at(2)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    for user in [admin, staff, bookkeeper, stranger, outside, owners[0], owners[3]] {
        let listed = listed(&mut *tx, user).await;
        let openable = openable(&mut *tx, user, &clients).await;
        assert_eq!(listed, openable, "{}: the switcher and the domain disagree for {user}", s.engine);
    }
    assert_eq!(listed(&mut *tx, admin).await.len(), 5, "admin: every active engagement");
    assert_eq!(listed(&mut *tx, staff).await, [clients[0], clients[3]].into_iter().collect());
    assert_eq!(listed(&mut *tx, bookkeeper).await, [clients[4]].into_iter().collect(), "clients[5] is declined");
    let page = tx.clients_for_user(bookkeeper, &PageRequest::first(10)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let facts = page.items[0].facts;
    assert_eq!((facts.assigned, facts.active_tasks_held), (true, 1), "{}: facts counted in the listing", s.engine);
    assert_eq!(facts, tx.client_facts(bookkeeper, clients[4]).await.unwrap(), "{}: the same facts both ways", s.engine);
    assert_eq!(listed(&mut *tx, owners[0]).await, [clients[0], clients[1]].into_iter().collect());
    assert!(listed(&mut *tx, stranger).await.is_empty());
    assert!(listed(&mut *tx, outside).await.is_empty());
});
