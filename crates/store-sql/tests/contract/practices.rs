//! Practices: create, read, approval transitions, plan, branding, listing.

use ferry_domain::ids::PracticeId;
use ferry_domain::practice::{Branding, Plan, PracticeStatus};
use ferry_domain::quota::Bytes;
use ferry_domain::values::{Colour, OrganisationName, PortalUrl};
use ferry_ports::StoreError;
use ferry_ports::records::{NewPractice, PageRequest};

use crate::contract;
use crate::harness::{Fixture, at, id};

contract!(practices_are_created_pending_and_read_back, |s| {
    let mut tx = s.begin().await;
    let new = NewPractice {
        id: PracticeId::from_uuid(id()),
        name: OrganisationName::parse("Maple Books").unwrap(),
        plan: Plan::default(),
        created_at: at(10),
    };
    tx.insert_practice(&new).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let got = tx.practice(new.id).await.unwrap().expect("the practice");
    assert_eq!(got.name, new.name);
    assert_eq!(got.status, PracticeStatus::Pending);
    assert_eq!(got.plan, Plan::default());
    assert_eq!(got.branding, Branding::default());
    assert_eq!((got.created_at, got.status_changed_at), (at(10), at(10)));
    assert!(tx.practice(PracticeId::from_uuid(id())).await.unwrap().is_none());
});

contract!(duplicate_practice_ids_are_refused_and_change_nothing, |s| {
    let mut tx = s.begin().await;
    let id = Fixture::practice(&mut *tx, PracticeStatus::Pending).await;
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    let again =
        NewPractice { id, name: OrganisationName::parse("Other").unwrap(), plan: Plan::default(), created_at: at(5) };
    let err = tx.insert_practice(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.store_read().await;
    assert_ne!(tx.practice(id).await.unwrap().unwrap().name.as_str(), "Other");
});

contract!(practice_status_changes_only_from_the_expected_status, |s| {
    let mut tx = s.begin().await;
    let id = Fixture::practice(&mut *tx, PracticeStatus::Pending).await;
    tx.set_practice_status(id, PracticeStatus::Pending, PracticeStatus::Approved, at(20)).await.unwrap();
    let got = tx.practice(id).await.unwrap().unwrap();
    assert_eq!((got.status, got.status_changed_at), (PracticeStatus::Approved, at(20)));
    // Someone else already moved it: the stale transition is a conflict and changes nothing.
    let err = tx.set_practice_status(id, PracticeStatus::Pending, PracticeStatus::Rejected, at(21)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "practice" }), "{}: {err:?}", s.engine);
    assert_eq!(tx.practice(id).await.unwrap().unwrap().status, PracticeStatus::Approved);
    let missing = PracticeId::from_uuid(crate::harness::id());
    let err =
        tx.set_practice_status(missing, PracticeStatus::Pending, PracticeStatus::Approved, at(22)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "practice" }), "{}: {err:?}", s.engine);
    tx.commit().await.unwrap();
});

contract!(plans_and_branding_are_replaced, |s| {
    let mut tx = s.begin().await;
    let id = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let plan = Plan { seat_limit: 12, storage: Bytes::new(5_000_000_000), throughput: Bytes::new(u64::MAX >> 1) };
    tx.set_plan(id, plan).await.unwrap();
    let branding = Branding {
        display_name: Some(OrganisationName::parse("Maple").unwrap()),
        colour: Some(Colour::parse("#1a73e8").unwrap()),
        portal_url: Some(PortalUrl::parse("https://maple.example.com/portal").unwrap()),
    };
    tx.set_branding(id, &branding).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    let got = tx.practice(id).await.unwrap().unwrap();
    assert_eq!(got.plan, plan);
    assert_eq!(got.branding, branding);
    let missing = PracticeId::from_uuid(crate::harness::id());
    assert!(matches!(tx.set_plan(missing, plan).await, Err(StoreError::NotFound { .. })));
    assert!(matches!(tx.set_branding(missing, &branding).await, Err(StoreError::NotFound { .. })));
});

contract!(practice_lists_page_by_keyset_and_filter_by_status, |s| {
    let mut tx = s.begin().await;
    let mut approved = Vec::new();
    for i in 0..7 {
        let status = if i % 2 == 0 { PracticeStatus::Approved } else { PracticeStatus::Pending };
        let id = Fixture::practice(&mut *tx, status).await;
        if status == PracticeStatus::Approved {
            approved.push(id);
        }
    }
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    loop {
        let got = tx.list_practices(Some(PracticeStatus::Approved), &page).await.unwrap();
        assert!(got.items.len() <= 3);
        assert!(got.items.iter().all(|p| p.status == PracticeStatus::Approved));
        seen.extend(got.items.iter().map(|p| p.id));
        match got.next {
            Some(cursor) => page = PageRequest::after(3, cursor),
            None => break,
        }
    }
    assert_eq!(seen, approved, "{}: every approved practice once, in id order", s.engine);
    let all = tx.list_practices(None, &PageRequest::first(100)).await.unwrap();
    assert_eq!(all.items.len(), 7);
    assert!(all.next.is_none());
    let bad = PageRequest::after(3, ferry_ports::records::Cursor("not a cursor".into()));
    assert!(matches!(tx.list_practices(None, &bad).await, Err(StoreError::Rejected { what: "page cursor", .. })));
});

contract!(a_practice_lock_is_taken_on_a_known_practice_only, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    tx.lock_practice(practice).await.unwrap();
    // Held twice by one transaction is no error, and the transaction goes on.
    tx.lock_practice(practice).await.unwrap();
    assert_eq!(tx.seats_in_use(practice).await.unwrap(), 0, "{}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let unknown = tx.lock_practice(PracticeId::from_uuid(id())).await;
    assert!(matches!(unknown, Err(StoreError::NotFound { entity: "practice" })), "{}: {unknown:?}", s.engine);
});
