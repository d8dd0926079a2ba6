//! Contract tests: people — users, passwords, terms, actors, practice
//! members and clients.

use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::{Actor, ClientRole, PracticeUser, Role};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName};
use ferry_ports::records::{ClientRecord, Cursor, NewUser, PageRequest, UserKind, UserRecord};
use ferry_ports::{StoreError, Tx};

use crate::contract;
use crate::harness::{Fixture, at, id, unique};

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn new_user(email: &str, kind: UserKind) -> NewUser {
    NewUser {
        id: UserId::from_uuid(id()),
        email: EmailAddress::parse(email).unwrap(),
        name: PersonName::parse("Ada Lovelace").unwrap(),
        kind,
        created_at: at(30),
    }
}

fn fresh_email() -> String {
    format!("person{}@example.com", unique())
}

/// Every member of `practice` with one of `roles`, page by page.
async fn all_members(tx: &mut dyn Tx, practice: PracticeId, roles: &[Role], limit: u32) -> (Vec<UserId>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut page = PageRequest::first(limit);
    loop {
        let got = tx.list_members(practice, roles, &page).await.unwrap();
        pages += 1;
        assert!(got.items.len() <= limit as usize, "a page holds at most {limit}");
        assert!(got.items.iter().all(|m| m.practice == practice && roles.contains(&m.role)));
        seen.extend(got.items.iter().map(|m| m.user.id));
        match got.next {
            Some(cursor) => page = PageRequest::after(limit, cursor),
            None => break,
        }
        assert!(pages < 100, "paging never ends");
    }
    (seen, pages)
}

// Users.

contract!(users_are_created_active_without_a_password_and_found_by_id_and_normalised_email, |s| {
    let mut tx = s.begin().await;
    let new = new_user("  Ada.Lovelace@Example.COM ", UserKind::Client);
    tx.insert_user(&new).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let expected = UserRecord {
        id: new.id,
        email: EmailAddress::parse("ada.lovelace@example.com").unwrap(),
        name: new.name.clone(),
        kind: UserKind::Client,
        active: true,
        has_password: false,
        created_at: at(30),
    };
    assert_eq!(tx.user(new.id).await.unwrap(), Some(expected.clone()), "{}: by id", s.engine);
    let by_email = tx.user_by_email(&EmailAddress::parse("ADA.LOVELACE@example.com").unwrap()).await.unwrap();
    assert_eq!(by_email, Some(expected), "{}: by email in another case", s.engine);
    assert_eq!(tx.user(UserId::from_uuid(id())).await.unwrap(), None, "{}: unknown id", s.engine);
    let other = EmailAddress::parse("nobody@example.com").unwrap();
    assert_eq!(tx.user_by_email(&other).await.unwrap(), None, "{}: unknown email", s.engine);
});

contract!(every_user_kind_is_stored_and_read_back, |s| {
    let mut tx = s.begin().await;
    let mut made = Vec::new();
    for kind in [UserKind::Practice, UserKind::Client, UserKind::Outside] {
        let new = new_user(&fresh_email(), kind);
        tx.insert_user(&new).await.unwrap();
        made.push((new.id, kind));
    }
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    for (user, kind) in made {
        assert_eq!(tx.user(user).await.unwrap().unwrap().kind, kind, "{}", s.engine);
    }
});

contract!(a_taken_email_is_a_duplicate_email_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let first = new_user("taken@example.com", UserKind::Client);
    tx.insert_user(&first).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let second = new_user("TAKEN@example.com", UserKind::Outside);
    let err = tx.insert_user(&second).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { what: "email" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    assert_eq!(tx.user(second.id).await.unwrap(), None, "{}: the second user was not made", s.engine);
    let email = EmailAddress::parse("taken@example.com").unwrap();
    let owner = tx.user_by_email(&email).await.unwrap().expect("the first user");
    assert_eq!((owner.id, owner.kind), (first.id, UserKind::Client), "{}", s.engine);
});

contract!(a_reused_user_id_is_a_duplicate_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let first = new_user(&fresh_email(), UserKind::Client);
    tx.insert_user(&first).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let again = NewUser { id: first.id, ..new_user(&fresh_email(), UserKind::Outside) };
    let err = tx.insert_user(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { what: "user id" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    let stored = tx.user(first.id).await.unwrap().unwrap();
    assert_eq!((stored.email, stored.kind), (first.email, UserKind::Client), "{}", s.engine);
    assert_eq!(tx.user_by_email(&again.email).await.unwrap(), None, "{}", s.engine);
});

contract!(users_are_deactivated_and_reactivated, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.set_user_active(user, false).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(!tx.user(user).await.unwrap().unwrap().active, "{}: deactivated", s.engine);
    tx.set_user_active(user, true).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert!(tx.user(user).await.unwrap().unwrap().active, "{}: reactivated", s.engine);
});

contract!(activating_an_unknown_user_is_not_found, |s| {
    let mut tx = s.begin().await;
    let err = tx.set_user_active(UserId::from_uuid(id()), false).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "user" }), "{}: {err:?}", s.engine);
});

contract!(password_hashes_are_stored_and_read_back_and_flag_the_user, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    assert_eq!(tx.password_hash(user).await.unwrap(), None, "{}: no password yet", s.engine);
    tx.set_password_hash(user, HASH).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.password_hash(user).await.unwrap().as_deref(), Some(HASH), "{}", s.engine);
    assert!(tx.user(user).await.unwrap().unwrap().has_password, "{}", s.engine);
    let newer = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaG5ld2hhc2g";
    tx.set_password_hash(user, newer).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.password_hash(user).await.unwrap().as_deref(), Some(newer), "{}: replaced", s.engine);
    assert_eq!(tx.password_hash(UserId::from_uuid(id())).await.unwrap(), None, "{}: unknown user", s.engine);
});

contract!(a_password_hash_for_an_unknown_user_is_not_found, |s| {
    let mut tx = s.begin().await;
    let err = tx.set_password_hash(UserId::from_uuid(id()), HASH).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "user" }), "{}: {err:?}", s.engine);
});

contract!(a_hash_that_is_not_argon2id_is_rejected_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.set_password_hash(user, HASH).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let err = tx.set_password_hash(user, "plain-text-password").await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { what: "password hash", .. }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    assert_eq!(tx.password_hash(user).await.unwrap().as_deref(), Some(HASH), "{}: unchanged", s.engine);
});

contract!(terms_acceptance_records_the_latest_version, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    assert_eq!(tx.accepted_terms(user).await.unwrap(), None, "{}: nothing accepted yet", s.engine);
    tx.accept_terms(user, 3, at(40)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.accepted_terms(user).await.unwrap(), Some(3), "{}", s.engine);
    tx.accept_terms(user, 4, at(50)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.accepted_terms(user).await.unwrap(), Some(4), "{}", s.engine);
    assert_eq!(tx.accepted_terms(UserId::from_uuid(id())).await.unwrap(), None, "{}: unknown user", s.engine);
});

contract!(accepting_terms_for_an_unknown_user_is_not_found, |s| {
    let mut tx = s.begin().await;
    let err = tx.accept_terms(UserId::from_uuid(id()), 1, at(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "user" }), "{}: {err:?}", s.engine);
});

// Actors.

contract!(a_practice_actor_carries_role_active_flag_and_practice_status, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let user = Fixture::member(&mut *tx, practice, Role::Staff).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let expected =
        PracticeUser { user, practice, role: Role::Staff, active: true, practice_status: PracticeStatus::Approved };
    assert_eq!(tx.actor(user).await.unwrap(), Some(Actor::Practice(expected)), "{}", s.engine);
    // Suspension and deactivation show on the very next load.
    tx.set_practice_status(practice, PracticeStatus::Approved, PracticeStatus::Suspended, at(60)).await.unwrap();
    tx.set_user_active(user, false).await.unwrap();
    tx.set_role(user, Role::Admin).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let expected =
        PracticeUser { role: Role::Admin, active: false, practice_status: PracticeStatus::Suspended, ..expected };
    assert_eq!(tx.actor(user).await.unwrap(), Some(Actor::Practice(expected)), "{}", s.engine);
});

contract!(client_and_outside_actors_carry_their_active_flag, |s| {
    let mut tx = s.begin().await;
    let (_, owner) = Fixture::client(&mut *tx).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    tx.set_user_active(outside, false).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.actor(owner).await.unwrap(), Some(Actor::Client { user: owner, active: true }), "{}", s.engine);
    assert_eq!(tx.actor(outside).await.unwrap(), Some(Actor::Outside { user: outside, active: false }), "{}", s.engine);
    assert_eq!(tx.actor(UserId::from_uuid(id())).await.unwrap(), None, "{}: unknown user", s.engine);
});

contract!(a_practice_user_without_a_membership_is_reported_as_corrupt, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    let err = tx.actor(user).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { what: "practice membership", .. }), "{}: {err:?}", s.engine);
});

// Practice members.

contract!(members_are_created_and_read_back_with_their_user, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    tx.insert_member(user, practice, Role::Bookkeeper).await.unwrap();
    let client_user = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let member = tx.member(user).await.unwrap().expect("the membership");
    assert_eq!(member.user, tx.user(user).await.unwrap().unwrap(), "{}", s.engine);
    assert_eq!((member.practice, member.role), (practice, Role::Bookkeeper), "{}", s.engine);
    assert_eq!(tx.member(UserId::from_uuid(id())).await.unwrap(), None, "{}: unknown user", s.engine);
    assert_eq!(tx.member(client_user).await.unwrap(), None, "{}: not a member", s.engine);
});

contract!(a_user_already_in_a_practice_cannot_join_another_and_nothing_changes, |s| {
    let mut tx = s.begin().await;
    let first = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let second = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let user = Fixture::member(&mut *tx, first, Role::Staff).await;
    tx.commit().await.unwrap();

    for (practice, role) in [(second, Role::Admin), (first, Role::Admin)] {
        let mut tx = s.begin().await;
        let err = tx.insert_member(user, practice, role).await.unwrap_err();
        assert!(matches!(err, StoreError::Duplicate { what: "practice member" }), "{}: {err:?}", s.engine);
    }

    let mut tx = s.store_read().await;
    let member = tx.member(user).await.unwrap().unwrap();
    assert_eq!((member.practice, member.role), (first, Role::Staff), "{}: unchanged", s.engine);
    assert_eq!(tx.seats_in_use(second).await.unwrap(), 0, "{}", s.engine);
});

contract!(a_membership_of_an_unknown_user_or_practice_is_dangling_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let err = tx.insert_member(UserId::from_uuid(id()), practice, Role::Staff).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { what: "practice member" }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.begin().await;
    let err = tx.insert_member(user, PracticeId::from_uuid(id()), Role::Staff).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { what: "practice member" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    assert_eq!(tx.member(user).await.unwrap(), None, "{}", s.engine);
    let all = tx.list_members(practice, &Role::ALL, &PageRequest::first(10)).await.unwrap();
    assert!(all.items.is_empty(), "{}: {:?}", s.engine, all.items);
});

contract!(roles_are_changed_and_an_unknown_member_is_not_found, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let user = Fixture::member(&mut *tx, practice, Role::Bookkeeper).await;
    tx.set_role(user, Role::Staff).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.member(user).await.unwrap().unwrap().role, Role::Staff, "{}", s.engine);
    let err = tx.set_role(UserId::from_uuid(id()), Role::Admin).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "practice member" }), "{}: {err:?}", s.engine);
    let client_user = Fixture::user(&mut *tx, UserKind::Client).await;
    let err = tx.set_role(client_user, Role::Admin).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "practice member" }), "{}: {err:?}", s.engine);
});

contract!(members_list_by_role_page_by_page_in_order_of_joining, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let other = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let roles = [Role::Admin, Role::Staff, Role::Bookkeeper, Role::Staff];
    let mut joined = Vec::new();
    for i in 0..11 {
        let role = roles[i % roles.len()];
        joined.push((Fixture::member(&mut *tx, practice, role).await, role));
        Fixture::member(&mut *tx, other, role).await;
    }
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let everyone: Vec<UserId> = joined.iter().map(|(u, _)| *u).collect();
    let (seen, pages) = all_members(&mut *tx, practice, &Role::ALL, 4).await;
    assert_eq!(seen, everyone, "{}: every member once, in order of joining", s.engine);
    assert_eq!(pages, 3, "{}: 11 members in pages of 4", s.engine);

    let seated = [Role::Admin, Role::Staff];
    let expected: Vec<UserId> = joined.iter().filter(|(_, r)| seated.contains(r)).map(|(u, _)| *u).collect();
    let (seen, _) = all_members(&mut *tx, practice, &seated, 2).await;
    assert_eq!(seen, expected, "{}: admins and staff only", s.engine);

    let expected: Vec<UserId> = joined.iter().filter(|(_, r)| *r == Role::Bookkeeper).map(|(u, _)| *u).collect();
    let (seen, pages) = all_members(&mut *tx, practice, &[Role::Bookkeeper], 1).await;
    assert_eq!(seen, expected, "{}: bookkeepers only", s.engine);
    assert_eq!(pages, expected.len(), "{}: a page per bookkeeper, the last without next", s.engine);

    let none = tx.list_members(practice, &[], &PageRequest::first(10)).await.unwrap();
    assert!(none.items.is_empty() && none.next.is_none(), "{}: no roles, no members", s.engine);
    let unknown = tx.list_members(PracticeId::from_uuid(id()), &Role::ALL, &PageRequest::first(10)).await.unwrap();
    assert!(unknown.items.is_empty(), "{}", s.engine);
    let bad = PageRequest::after(3, Cursor("not a cursor".into()));
    let err = tx.list_members(practice, &Role::ALL, &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { what: "page cursor", .. }), "{}: {err:?}", s.engine);
});

contract!(seats_count_active_admins_and_staff_only, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let other = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    assert_eq!(tx.seats_in_use(practice).await.unwrap(), 0, "{}: empty practice", s.engine);
    Fixture::member(&mut *tx, practice, Role::Admin).await;
    Fixture::member(&mut *tx, practice, Role::Staff).await;
    let leaver = Fixture::member(&mut *tx, practice, Role::Staff).await;
    tx.set_user_active(leaver, false).await.unwrap();
    for _ in 0..3 {
        Fixture::member(&mut *tx, practice, Role::Bookkeeper).await;
    }
    Fixture::member(&mut *tx, other, Role::Admin).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.seats_in_use(practice).await.unwrap(), 2, "{}", s.engine);
    assert_eq!(tx.seats_in_use(other).await.unwrap(), 1, "{}", s.engine);
    assert_eq!(tx.seats_in_use(PracticeId::from_uuid(id())).await.unwrap(), 0, "{}", s.engine);
    // Reactivating takes a seat again; demoting to bookkeeper frees one.
    tx.set_user_active(leaver, true).await.unwrap();
    assert_eq!(tx.seats_in_use(practice).await.unwrap(), 3, "{}", s.engine);
    tx.set_role(leaver, Role::Bookkeeper).await.unwrap();
    assert_eq!(tx.seats_in_use(practice).await.unwrap(), 2, "{}", s.engine);
});

// Clients.

contract!(clients_are_created_and_read_back, |s| {
    let mut tx = s.begin().await;
    let client = ClientRecord {
        id: ClientId::from_uuid(id()),
        name: OrganisationName::parse("Harbour Bakery Ltd").unwrap(),
        created_at: at(70),
    };
    tx.insert_client(&client).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.client(client.id).await.unwrap(), Some(client), "{}", s.engine);
    assert_eq!(tx.client(ClientId::from_uuid(id())).await.unwrap(), None, "{}: unknown client", s.engine);
});

contract!(a_reused_client_id_is_a_duplicate_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let (client, _) = Fixture::client(&mut *tx).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let again = ClientRecord { id: client, name: OrganisationName::parse("Other").unwrap(), created_at: at(5) };
    let err = tx.insert_client(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { what: "client" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    assert_ne!(tx.client(client).await.unwrap().unwrap().name.as_str(), "Other", "{}", s.engine);
});

contract!(client_members_list_the_owner_first_then_by_user, |s| {
    let mut tx = s.begin().await;
    let client = ClientId::from_uuid(id());
    let record = ClientRecord { id: client, name: OrganisationName::parse("Quay Cafe").unwrap(), created_at: at(0) };
    tx.insert_client(&record).await.unwrap();
    // Members join before the owner, so the owner's id sorts last.
    let mut members = Vec::new();
    for _ in 0..3 {
        let user = Fixture::user(&mut *tx, UserKind::Client).await;
        tx.add_client_member(client, user, ClientRole::Member).await.unwrap();
        members.push(user);
    }
    let owner = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.add_client_member(client, owner, ClientRole::Owner).await.unwrap();
    let (elsewhere, _) = Fixture::client(&mut *tx).await;
    tx.add_client_member(elsewhere, members[0], ClientRole::Member).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let got = tx.client_members(client).await.unwrap();
    let order: Vec<(UserId, ClientRole)> = got.iter().map(|m| (m.user.id, m.role)).collect();
    let mut expected = vec![(owner, ClientRole::Owner)];
    expected.extend(members.iter().map(|u| (*u, ClientRole::Member)));
    assert_eq!(order, expected, "{}: owner first, then members by id", s.engine);
    assert!(got.iter().all(|m| m.client == client), "{}", s.engine);
    assert_eq!(got[0].user, tx.user(owner).await.unwrap().unwrap(), "{}: the whole user", s.engine);
    assert_eq!(tx.client_members(elsewhere).await.unwrap().len(), 2, "{}", s.engine);
    assert!(tx.client_members(ClientId::from_uuid(id())).await.unwrap().is_empty(), "{}", s.engine);
});

contract!(a_member_removed_from_a_client_is_gone_from_it_only, |s| {
    let mut tx = s.begin().await;
    let (client, owner) = Fixture::client(&mut *tx).await;
    let (elsewhere, _) = Fixture::client(&mut *tx).await;
    let member = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.add_client_member(client, member, ClientRole::Member).await.unwrap();
    tx.add_client_member(elsewhere, member, ClientRole::Member).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(tx.remove_client_member(client, member).await.unwrap(), "{}: they belonged", s.engine);
    assert!(!tx.remove_client_member(client, member).await.unwrap(), "{}: not twice", s.engine);
    assert!(!tx.remove_client_member(client, UserId::from_uuid(id())).await.unwrap(), "{}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let left: Vec<UserId> = tx.client_members(client).await.unwrap().iter().map(|m| m.user.id).collect();
    assert_eq!(left, vec![owner], "{}", s.engine);
    assert_eq!(tx.client_members(elsewhere).await.unwrap().len(), 2, "{}: the other client keeps them", s.engine);
});

contract!(a_second_owner_or_a_second_membership_is_a_duplicate_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let (client, owner) = Fixture::client(&mut *tx).await;
    let member = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.add_client_member(client, member, ClientRole::Member).await.unwrap();
    let newcomer = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.commit().await.unwrap();

    for (user, role) in [(newcomer, ClientRole::Owner), (member, ClientRole::Member), (owner, ClientRole::Member)] {
        let mut tx = s.begin().await;
        let err = tx.add_client_member(client, user, role).await.unwrap_err();
        assert!(matches!(err, StoreError::Duplicate { what: "client member" }), "{} {role:?}: {err:?}", s.engine);
    }

    let mut tx = s.store_read().await;
    let got: Vec<(UserId, ClientRole)> =
        tx.client_members(client).await.unwrap().iter().map(|m| (m.user.id, m.role)).collect();
    assert_eq!(got, vec![(owner, ClientRole::Owner), (member, ClientRole::Member)], "{}: unchanged", s.engine);
});

contract!(a_client_membership_of_an_unknown_client_or_user_is_dangling_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let (client, owner) = Fixture::client(&mut *tx).await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let err = tx.add_client_member(ClientId::from_uuid(id()), user, ClientRole::Owner).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { what: "client member" }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.begin().await;
    let err = tx.add_client_member(client, UserId::from_uuid(id()), ClientRole::Member).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { what: "client member" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    let got: Vec<UserId> = tx.client_members(client).await.unwrap().iter().map(|m| m.user.id).collect();
    assert_eq!(got, vec![owner], "{}: unchanged", s.engine);
});
