//! Contract tests: relations — engagements, connections and client
//! assignments.

use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{ClientId, ConnectionId, EngagementId, PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::PracticeStatus;
use ferry_ports::StoreError;
use ferry_ports::records::{ConnectionRecord, Cursor, EngagementRecord, PageRequest, UserKind};

use crate::contract;
use crate::harness::{Fixture, at, id};

const ASKED_BY_PRACTICE: ConsentState = ConsentState::Requested { by: Side::Practice };
const ASKED_BY_CLIENT: ConsentState = ConsentState::Requested { by: Side::Counterparty };

/// Collects every item of a paged listing: `$list` is called with each
/// `&PageRequest`; returns the items and the number of pages read.
macro_rules! all_pages {
    ($limit:expr, |$page:ident| $list:expr) => {{
        let limit: u32 = $limit;
        let mut items = Vec::new();
        let mut pages = 0_usize;
        let mut request = PageRequest::first(limit);
        loop {
            let $page = &request;
            let got = $list.await.unwrap();
            pages += 1;
            assert!(got.items.len() <= limit as usize, "a page holds at most {limit}");
            items.extend(got.items);
            match got.next {
                Some(cursor) => request = PageRequest::after(limit, cursor),
                None => break,
            }
            assert!(pages < 100, "paging never ends");
        }
        (items, pages)
    }};
}

// Engagements.

contract!(engagements_are_created_and_read_back_by_id_and_by_their_two_sides, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let (other_client, _) = Fixture::client(&mut *tx).await;
    let record = EngagementRecord {
        id: EngagementId::from_uuid(id()),
        practice,
        client,
        state: ASKED_BY_CLIENT,
        changed_at: at(80),
    };
    tx.insert_engagement(&record).await.unwrap();
    let active = EngagementRecord {
        id: EngagementId::from_uuid(id()),
        client: other_client,
        state: ConsentState::Active,
        ..record
    };
    tx.insert_engagement(&active).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.engagement(record.id).await.unwrap(), Some(record), "{}", s.engine);
    assert_eq!(tx.engagement(active.id).await.unwrap(), Some(active), "{}", s.engine);
    assert_eq!(tx.engagement_between(practice, client).await.unwrap(), Some(record), "{}", s.engine);
    assert_eq!(tx.engagement_between(practice, other_client).await.unwrap(), Some(active), "{}", s.engine);
    assert_eq!(tx.engagement(EngagementId::from_uuid(id())).await.unwrap(), None, "{}: unknown id", s.engine);
    let stranger = PracticeId::from_uuid(id());
    assert_eq!(tx.engagement_between(stranger, client).await.unwrap(), None, "{}: never engaged", s.engine);
});

contract!(a_second_engagement_between_the_same_two_is_a_duplicate_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let first = Fixture::engagement(&mut *tx, practice, client, ASKED_BY_PRACTICE).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let again = EngagementRecord {
        id: EngagementId::from_uuid(id()),
        practice,
        client,
        state: ConsentState::Active,
        changed_at: at(90),
    };
    let err = tx.insert_engagement(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { what: "engagement" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    let stored = tx.engagement_between(practice, client).await.unwrap().unwrap();
    assert_eq!((stored.id, stored.state), (first, ASKED_BY_PRACTICE), "{}: unchanged", s.engine);
    assert_eq!(tx.engagement(again.id).await.unwrap(), None, "{}", s.engine);
});

contract!(an_engagement_with_an_unknown_practice_or_client_is_dangling_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    tx.commit().await.unwrap();

    let cases = [(PracticeId::from_uuid(id()), client), (practice, ClientId::from_uuid(id()))];
    let mut tried = Vec::new();
    for (p, c) in cases {
        let mut tx = s.begin().await;
        let record = EngagementRecord {
            id: EngagementId::from_uuid(id()),
            practice: p,
            client: c,
            state: ASKED_BY_PRACTICE,
            changed_at: at(1),
        };
        let err = tx.insert_engagement(&record).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { what: "engagement" }), "{}: {err:?}", s.engine);
        tried.push(record.id);
    }

    let mut tx = s.store_read().await;
    for id in tried {
        assert_eq!(tx.engagement(id).await.unwrap(), None, "{}", s.engine);
    }
    let listed = tx.list_engagements_of_client(client, &PageRequest::first(10)).await.unwrap();
    assert!(listed.items.is_empty(), "{}: {:?}", s.engine, listed.items);
});

contract!(engagement_states_move_only_from_the_expected_state, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let id = Fixture::engagement(&mut *tx, practice, client, ASKED_BY_PRACTICE).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    tx.set_engagement_state(id, ASKED_BY_PRACTICE, ConsentState::Active, at(100)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.engagement(id).await.unwrap().unwrap();
    assert_eq!((got.state, got.changed_at), (ConsentState::Active, at(100)), "{}", s.engine);
    // From active (no side stored) to revoked by the client.
    let ended = ConsentState::Revoked { by: Side::Counterparty };
    tx.set_engagement_state(id, ConsentState::Active, ended, at(110)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let got = tx.engagement(id).await.unwrap().unwrap();
    assert_eq!((got.state, got.changed_at), (ended, at(110)), "{}", s.engine);
});

contract!(a_stale_engagement_state_change_is_a_conflict_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let id = Fixture::engagement(&mut *tx, practice, client, ASKED_BY_PRACTICE).await;
    tx.commit().await.unwrap();

    // Same state name but the other side, and another state altogether.
    for from in [ASKED_BY_CLIENT, ConsentState::Active, ConsentState::Declined { by: Side::Practice }] {
        let mut tx = s.begin().await;
        let err =
            tx.set_engagement_state(id, from, ConsentState::Revoked { by: Side::Practice }, at(120)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { entity: "engagement" }), "{} from {from:?}: {err:?}", s.engine);
        tx.commit().await.unwrap();
    }

    let mut tx = s.store_read().await;
    let got = tx.engagement(id).await.unwrap().unwrap();
    assert_eq!((got.state, got.changed_at), (ASKED_BY_PRACTICE, at(0)), "{}: unchanged", s.engine);
});

contract!(changing_the_state_of_an_unknown_engagement_is_not_found, |s| {
    let mut tx = s.begin().await;
    let missing = EngagementId::from_uuid(id());
    let err = tx.set_engagement_state(missing, ASKED_BY_PRACTICE, ConsentState::Active, at(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "engagement" }), "{}: {err:?}", s.engine);
});

contract!(engagements_list_per_practice_and_per_client_page_by_page_in_order_of_creation, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let other = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (shared, _) = Fixture::client(&mut *tx).await;
    let mut of_practice = Vec::new();
    let mut of_shared = Vec::new();
    for i in 0..7 {
        let state = if i % 2 == 0 { ConsentState::Active } else { ASKED_BY_CLIENT };
        if i == 3 {
            of_shared.push(Fixture::engagement(&mut *tx, other, shared, state).await);
            of_practice.push(Fixture::engagement(&mut *tx, practice, shared, state).await);
            of_shared.push(*of_practice.last().unwrap());
        } else {
            let (client, _) = Fixture::client(&mut *tx).await;
            of_practice.push(Fixture::engagement(&mut *tx, practice, client, state).await);
            Fixture::engagement(&mut *tx, other, client, state).await;
        }
    }
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (items, pages) = all_pages!(3, |page| tx.list_engagements_of_practice(practice, page));
    assert!(items.iter().all(|e| e.practice == practice), "{}", s.engine);
    let ids: Vec<EngagementId> = items.iter().map(|e| e.id).collect();
    assert_eq!(ids, of_practice, "{}: every engagement once, in order of creation", s.engine);
    assert_eq!(pages, 3, "{}: 7 engagements in pages of 3", s.engine);
    assert_eq!(items[1].state, ASKED_BY_CLIENT, "{}: states read back", s.engine);

    let (items, pages) = all_pages!(1, |page| tx.list_engagements_of_client(shared, page));
    let ids: Vec<EngagementId> = items.iter().map(|e| e.id).collect();
    assert_eq!(ids, of_shared, "{}: the client's engagements with both practices", s.engine);
    assert_eq!(pages, 2, "{}", s.engine);

    let none = tx.list_engagements_of_client(ClientId::from_uuid(id()), &PageRequest::first(5)).await.unwrap();
    assert!(none.items.is_empty() && none.next.is_none(), "{}", s.engine);
    let bad = PageRequest::after(3, Cursor("nope".into()));
    let err = tx.list_engagements_of_practice(practice, &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { what: "page cursor", .. }), "{}: {err:?}", s.engine);
});

// Connections.

contract!(connections_are_created_and_read_back, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let record = ConnectionRecord {
        id: ConnectionId::from_uuid(id()),
        practice,
        outside_party: outside,
        state: ConsentState::Declined { by: Side::Counterparty },
        changed_at: at(130),
    };
    tx.insert_connection(&record).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.connection(record.id).await.unwrap(), Some(record), "{}", s.engine);
    assert_eq!(tx.connection(ConnectionId::from_uuid(id())).await.unwrap(), None, "{}: unknown id", s.engine);
});

contract!(a_second_connection_between_the_same_two_is_a_duplicate_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let first = ConnectionRecord {
        id: ConnectionId::from_uuid(id()),
        practice,
        outside_party: outside,
        state: ASKED_BY_PRACTICE,
        changed_at: at(1),
    };
    tx.insert_connection(&first).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let again = ConnectionRecord { id: ConnectionId::from_uuid(id()), state: ConsentState::Active, ..first };
    let err = tx.insert_connection(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { what: "connection" }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    assert_eq!(tx.connection(again.id).await.unwrap(), None, "{}", s.engine);
    let listed = tx.list_connections_of_party(outside, &PageRequest::first(10)).await.unwrap();
    assert_eq!(listed.items, vec![first], "{}: unchanged", s.engine);
});

contract!(a_connection_with_an_unknown_practice_or_user_is_dangling_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    tx.commit().await.unwrap();

    for (p, u) in [(PracticeId::from_uuid(id()), outside), (practice, UserId::from_uuid(id()))] {
        let mut tx = s.begin().await;
        let record = ConnectionRecord {
            id: ConnectionId::from_uuid(id()),
            practice: p,
            outside_party: u,
            state: ASKED_BY_PRACTICE,
            changed_at: at(1),
        };
        let err = tx.insert_connection(&record).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { what: "connection" }), "{}: {err:?}", s.engine);
    }

    let mut tx = s.store_read().await;
    let listed = tx.list_connections_of_practice(practice, &PageRequest::first(10)).await.unwrap();
    assert!(listed.items.is_empty(), "{}: {:?}", s.engine, listed.items);
    let listed = tx.list_connections_of_party(outside, &PageRequest::first(10)).await.unwrap();
    assert!(listed.items.is_empty(), "{}: {:?}", s.engine, listed.items);
});

contract!(connection_states_move_only_from_the_expected_state, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let id = ConnectionId::from_uuid(id());
    let record = ConnectionRecord { id, practice, outside_party: outside, state: ASKED_BY_CLIENT, changed_at: at(1) };
    tx.insert_connection(&record).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    tx.set_connection_state(id, ASKED_BY_CLIENT, ConsentState::Active, at(140)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.connection(id).await.unwrap().unwrap();
    assert_eq!((got.state, got.changed_at), (ConsentState::Active, at(140)), "{}", s.engine);
    let ended = ConsentState::Revoked { by: Side::Practice };
    tx.set_connection_state(id, ConsentState::Active, ended, at(150)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let got = tx.connection(id).await.unwrap().unwrap();
    assert_eq!((got.state, got.changed_at), (ended, at(150)), "{}", s.engine);
});

contract!(a_stale_connection_state_change_is_a_conflict_and_an_unknown_one_not_found, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let id = ConnectionId::from_uuid(id());
    let record =
        ConnectionRecord { id, practice, outside_party: outside, state: ConsentState::Active, changed_at: at(1) };
    tx.insert_connection(&record).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let revoked = ConsentState::Revoked { by: Side::Practice };
    for from in [ASKED_BY_PRACTICE, revoked] {
        let err = tx.set_connection_state(id, from, ConsentState::Active, at(160)).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { entity: "connection" }), "{} from {from:?}: {err:?}", s.engine);
    }
    let missing = ConnectionId::from_uuid(crate::harness::id());
    let err = tx.set_connection_state(missing, ConsentState::Active, revoked, at(160)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "connection" }), "{}: {err:?}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.connection(id).await.unwrap(), Some(record), "{}: unchanged", s.engine);
});

contract!(connections_list_per_practice_and_per_party_page_by_page_in_order_of_creation, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let mut of_practice = Vec::new();
    let mut of_party = Vec::new();
    for i in 0..5 {
        let party = Fixture::user(&mut *tx, UserKind::Outside).await;
        let connect = |practice, party| ConnectionRecord {
            id: ConnectionId::from_uuid(id()),
            practice,
            outside_party: party,
            state: if i % 2 == 0 { ConsentState::Active } else { ASKED_BY_PRACTICE },
            changed_at: at(i),
        };
        let record = connect(practice, party);
        tx.insert_connection(&record).await.unwrap();
        of_practice.push(record);
        let elsewhere = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
        let record = connect(elsewhere, outside);
        tx.insert_connection(&record).await.unwrap();
        of_party.push(record);
    }
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (items, pages) = all_pages!(2, |page| tx.list_connections_of_practice(practice, page));
    assert_eq!(items, of_practice, "{}: every connection once, in order of creation", s.engine);
    assert_eq!(pages, 3, "{}: 5 connections in pages of 2", s.engine);
    let (items, pages) = all_pages!(5, |page| tx.list_connections_of_party(outside, page));
    assert_eq!(items, of_party, "{}: the party's connections", s.engine);
    assert_eq!(pages, 1, "{}: exactly one full page, no next", s.engine);
    let bad = PageRequest::after(3, Cursor("nope".into()));
    let err = tx.list_connections_of_party(outside, &bad).await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { what: "page cursor", .. }), "{}: {err:?}", s.engine);
});

// Client assignments.

contract!(clients_are_assigned_idempotently_and_listed_by_client_id, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let colleague = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(Fixture::client(&mut *tx).await.0);
    }
    // Assigned out of order, one of them twice.
    for client in [clients[2], clients[0], clients[3], clients[1], clients[2]] {
        tx.assign_client(staff, client, at(170)).await.unwrap();
    }
    tx.assign_client(colleague, clients[3], at(170)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let mut expected = clients.clone();
    expected.sort();
    assert_eq!(tx.assigned_clients(staff).await.unwrap(), expected, "{}: each once, by client id", s.engine);
    assert_eq!(tx.assigned_clients(colleague).await.unwrap(), vec![clients[3]], "{}", s.engine);
    tx.assign_client(staff, clients[0], at(180)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.assigned_clients(staff).await.unwrap(), expected, "{}: assigning again is harmless", s.engine);
    assert!(tx.assigned_clients(UserId::from_uuid(id())).await.unwrap().is_empty(), "{}", s.engine);
});

contract!(unassigning_removes_one_assignment_and_says_whether_there_was_one, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let colleague = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let (kept, _) = Fixture::client(&mut *tx).await;
    let (dropped, _) = Fixture::client(&mut *tx).await;
    tx.assign_client(staff, kept, at(1)).await.unwrap();
    tx.assign_client(staff, dropped, at(1)).await.unwrap();
    tx.assign_client(colleague, dropped, at(1)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(tx.unassign_client(staff, dropped).await.unwrap(), "{}: there was one", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(!tx.unassign_client(staff, dropped).await.unwrap(), "{}: already gone", s.engine);
    assert!(!tx.unassign_client(UserId::from_uuid(id()), kept).await.unwrap(), "{}: unknown user", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.assigned_clients(staff).await.unwrap(), vec![kept], "{}", s.engine);
    assert_eq!(tx.assigned_clients(colleague).await.unwrap(), vec![dropped], "{}: others keep theirs", s.engine);
});

contract!(assigning_an_unknown_client_or_to_a_non_member_is_dangling_and_changes_nothing, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let (client, owner) = Fixture::client(&mut *tx).await;
    tx.commit().await.unwrap();

    // An unknown client; an unknown user; a user who is not a practice member.
    for (user, client) in [(staff, ClientId::from_uuid(id())), (UserId::from_uuid(id()), client), (owner, client)] {
        let mut tx = s.begin().await;
        let err = tx.assign_client(user, client, at(1)).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { what: "client assignment" }), "{}: {err:?}", s.engine);
    }

    let mut tx = s.store_read().await;
    assert!(tx.assigned_clients(staff).await.unwrap().is_empty(), "{}", s.engine);
    assert!(tx.assigned_clients(owner).await.unwrap().is_empty(), "{}", s.engine);
});
