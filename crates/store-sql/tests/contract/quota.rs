//! Quotas: add-ons, reservations, commit and release, expiry, usage,
//! warnings, and the race of many uploads near the limit.

use std::sync::Arc;

use ferry_domain::ids::{AddOnId, PracticeId};
use ferry_domain::practice::{Plan, PracticeStatus};
use ferry_domain::quota::{AddOn, AllowanceKind, Bytes, QuotaExceeded, UsageMonth};
use ferry_ports::records::{AddOnRecord, AllowanceUsage, ReservationId, ReservationRequest};
use ferry_ports::store::ReserveError;
use ferry_ports::{Store, StoreError, Tx};
use time::{Duration, OffsetDateTime};

use crate::contract;
use crate::harness::{Fixture, at, id};

fn request(practice: PracticeId, storage: u64, throughput: u64, when: OffsetDateTime) -> ReservationRequest {
    ReservationRequest {
        id: ReservationId(id()),
        practice,
        storage: Bytes::new(storage),
        throughput: Bytes::new(throughput),
        at: when,
        expires_at: when + Duration::hours(1),
    }
}

async fn usage_of(tx: &mut dyn Tx, practice: PracticeId, when: OffsetDateTime) -> (AllowanceUsage, AllowanceUsage) {
    let all = tx.usage(practice, when).await.unwrap();
    let find = |kind| *all.iter().find(|u| u.kind == kind).expect("both allowances");
    (find(AllowanceKind::Storage), find(AllowanceKind::Throughput))
}

async fn small_practice(tx: &mut dyn Tx, storage: u64, throughput: u64) -> PracticeId {
    let practice = Fixture::practice(tx, PracticeStatus::Approved).await;
    let plan = Plan { seat_limit: 1, storage: Bytes::new(storage), throughput: Bytes::new(throughput) };
    tx.set_plan(practice, plan).await.unwrap();
    practice
}

contract!(add_ons_are_recorded_listed_counted_and_removed, |s| {
    let mut tx = s.begin().await;
    let practice = small_practice(&mut *tx, 1000, 2000).await;
    let add_on =
        AddOn::new(AddOnId::from_uuid(id()), AllowanceKind::Storage, Bytes::new(500), at(100), at(200)).unwrap();
    tx.insert_add_on(&AddOnRecord { practice, add_on }).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    assert_eq!(tx.add_ons(practice).await.unwrap(), vec![AddOnRecord { practice, add_on }]);
    assert_eq!(usage_of(&mut *tx, practice, at(50)).await.0.limit, Bytes::new(1000), "before it starts");
    assert_eq!(usage_of(&mut *tx, practice, at(150)).await.0.limit, Bytes::new(1500), "while it counts");
    assert_eq!(usage_of(&mut *tx, practice, at(200)).await.0.limit, Bytes::new(1000), "after it ends");
    tx.remove_add_on(add_on.id).await.unwrap();
    assert!(tx.add_ons(practice).await.unwrap().is_empty());
    assert!(matches!(tx.remove_add_on(add_on.id).await, Err(StoreError::NotFound { entity: "add-on" })));
    tx.commit().await.unwrap();

    // An add-on for an unknown practice is refused, and the transaction with it.
    let mut tx = s.begin().await;
    let dangling =
        AddOnRecord { practice: PracticeId::from_uuid(id()), add_on: AddOn { id: AddOnId::from_uuid(id()), ..add_on } };
    assert!(matches!(tx.insert_add_on(&dangling).await, Err(StoreError::DanglingReference { .. })));
    assert!(matches!(tx.add_ons(practice).await, Err(StoreError::Aborted)), "{}: aborted after an error", s.engine);
    assert!(matches!(tx.commit().await, Err(StoreError::Aborted)));
});

contract!(rule8_reservations_count_until_committed_or_released, |s| {
    let mut tx = s.begin().await;
    let practice = small_practice(&mut *tx, 1000, 5000).await;
    let now = at(0);
    let upload = request(practice, 600, 600, now);
    tx.reserve(&upload).await.unwrap();
    let (storage, throughput) = usage_of(&mut *tx, practice, now).await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::ZERO, Bytes::new(600)));
    assert_eq!(throughput.usage.reserved, Bytes::new(600));

    // A second upload that does not fit is refused, naming what is left, and reserves nothing.
    let err = tx.reserve(&request(practice, 500, 500, now)).await.unwrap_err();
    match err {
        ReserveError::Exceeded(QuotaExceeded { kind, limit, remaining, requested }) => {
            assert_eq!(
                (kind, limit, remaining, requested),
                (AllowanceKind::Storage, Bytes::new(1000), Bytes::new(400), Bytes::new(500))
            );
        }
        other => panic!("{}: {other:?}", s.engine),
    }
    assert_eq!(usage_of(&mut *tx, practice, now).await.0.usage.reserved, Bytes::new(600));

    // Commit moves reserved bytes to used; release gives them back.
    tx.commit_reservation(upload.id).await.unwrap();
    let (storage, throughput) = usage_of(&mut *tx, practice, now).await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::new(600), Bytes::ZERO));
    assert_eq!((throughput.usage.used, throughput.usage.reserved), (Bytes::new(600), Bytes::ZERO));
    assert!(matches!(tx.commit_reservation(upload.id).await, Err(StoreError::NotFound { entity: "reservation" })));
    let aborted = request(practice, 300, 300, now);
    tx.reserve(&aborted).await.unwrap();
    tx.release_reservation(aborted.id).await.unwrap();
    assert_eq!(usage_of(&mut *tx, practice, now).await.0.usage.taken(), Bytes::new(600));
    assert!(matches!(tx.release_reservation(aborted.id).await, Err(StoreError::NotFound { .. })));
    // A download reserves throughput only.
    tx.reserve(&request(practice, 0, 4000, now)).await.unwrap();
    assert!(matches!(
        tx.reserve(&request(practice, 0, 401, now)).await,
        Err(ReserveError::Exceeded(QuotaExceeded { kind: AllowanceKind::Throughput, .. }))
    ));
    tx.commit().await.unwrap();
});

contract!(rule8_a_crashed_upload_s_reservation_expires_and_is_reclaimed, |s| {
    let mut tx = s.begin().await;
    let practice = small_practice(&mut *tx, 1000, 1000).await;
    let crashed = request(practice, 900, 900, at(0));
    tx.reserve(&crashed).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    // Before expiry the bytes are held; after it they count no more, even before the sweep.
    assert!(tx.reserve(&request(practice, 200, 0, at(60))).await.is_err());
    let later = crashed.expires_at + Duration::seconds(1);
    tx.reserve(&request(practice, 200, 0, later)).await.unwrap();
    assert_eq!(tx.reclaim_expired_reservations(later).await.unwrap(), 1);
    assert!(matches!(tx.commit_reservation(crashed.id).await, Err(StoreError::NotFound { .. })));
    tx.commit().await.unwrap();
});

contract!(rule8_throughput_counts_per_utc_month_and_storage_does_not_reset, |s| {
    let mut tx = s.begin().await;
    let practice = small_practice(&mut *tx, 1000, 1000).await;
    let november = OffsetDateTime::new_utc(
        time::Date::from_calendar_date(2026, time::Month::November, 30).unwrap(),
        time::Time::MIDNIGHT,
    );
    let december = november + Duration::days(1);
    let r = request(practice, 700, 700, november);
    tx.reserve(&r).await.unwrap();
    tx.commit_reservation(r.id).await.unwrap();
    let (storage, throughput) = usage_of(&mut *tx, practice, december).await;
    assert_eq!(storage.usage.used, Bytes::new(700), "storage is held across months");
    assert_eq!(throughput.usage.used, Bytes::ZERO, "a new month starts at zero");
    assert_eq!(usage_of(&mut *tx, practice, november).await.1.usage.used, Bytes::new(700));
    assert!(matches!(tx.usage(PracticeId::from_uuid(id()), december).await, Err(StoreError::NotFound { .. })));
    tx.commit().await.unwrap();
});

contract!(rule8_the_80_percent_warning_is_marked_once_per_allowance_per_month, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let month = UsageMonth::containing(at(0));
    assert!(tx.mark_quota_warning(practice, AllowanceKind::Storage, month, at(0)).await.unwrap());
    assert!(!tx.mark_quota_warning(practice, AllowanceKind::Storage, month, at(1)).await.unwrap());
    assert!(tx.mark_quota_warning(practice, AllowanceKind::Throughput, month, at(1)).await.unwrap());
    let next = UsageMonth::containing(at(0) + Duration::days(40));
    assert!(tx.mark_quota_warning(practice, AllowanceKind::Storage, next, at(2)).await.unwrap());
    tx.commit().await.unwrap();
});

contract!(rule8_concurrent_reservations_never_exceed_the_allowance, |s| {
    // 32 uploads of 100 bytes race for 1,050 bytes: exactly 10 fit.
    let mut tx = s.begin().await;
    let practice = small_practice(&mut *tx, 1050, 1_000_000).await;
    tx.commit().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(s.store.clone());
    let mut racers = Vec::new();
    for _ in 0..32 {
        let store = Arc::clone(&store);
        racers.push(tokio::spawn(async move {
            let mut tx = store.begin().await?;
            match tx.reserve(&request(practice, 100, 100, at(0))).await {
                Ok(()) => {
                    tx.commit().await?;
                    Ok::<bool, StoreError>(true)
                }
                Err(ReserveError::Exceeded(_)) => Ok(false),
                Err(ReserveError::Store(e)) => Err(e),
            }
        }));
    }
    let mut granted = 0;
    for racer in racers {
        // No "database is busy" or serialization error may reach the caller.
        if racer.await.expect("task").unwrap_or_else(|e| panic!("{}: {e}", s.engine)) {
            granted += 1;
        }
    }
    assert_eq!(granted, 10, "{}", s.engine);
    let mut tx = s.store_read().await;
    let (storage, _) = usage_of(&mut *tx, practice, at(0)).await;
    assert_eq!(storage.usage.reserved, Bytes::new(1000));
    assert!(storage.usage.taken() <= storage.limit);
});

contract!(reservations_grow_within_the_allowance_shrink_and_settle_what_moved, |s| {
    let mut tx = s.begin().await;
    let practice = small_practice(&mut *tx, 1000, 5000).await;
    let now = at(0);
    let upload = request(practice, 0, 0, now);
    tx.reserve(&upload).await.unwrap();
    tx.commit().await.unwrap();

    // Growing past the allowance is refused, naming what is left, and changes nothing.
    let mut tx = s.begin().await;
    tx.grow_reservation(upload.id, Bytes::new(700), Bytes::new(700), now, at(3600)).await.unwrap();
    let refused = tx.grow_reservation(upload.id, Bytes::new(400), Bytes::new(400), now, at(3600)).await;
    match refused {
        Err(ReserveError::Exceeded(QuotaExceeded { kind, remaining, requested, .. })) => {
            assert_eq!((kind, remaining, requested), (AllowanceKind::Storage, Bytes::new(300), Bytes::new(400)));
        }
        other => panic!("{}: {other:?}", s.engine),
    }
    tx.rollback().await.unwrap();
    let mut tx = s.begin().await;
    tx.grow_reservation(upload.id, Bytes::new(700), Bytes::new(700), now, at(3600)).await.unwrap();
    assert_eq!(usage_of(&mut *tx, practice, now).await.0.usage.reserved, Bytes::new(700));

    // The unused rest of a request cut short goes back at once: never below zero.
    tx.shrink_reservation(upload.id, Bytes::new(500), Bytes::new(500)).await.unwrap();
    let (storage, throughput) = usage_of(&mut *tx, practice, now).await;
    assert_eq!((storage.usage.reserved, throughput.usage.reserved), (Bytes::new(200), Bytes::new(200)));
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    assert!(matches!(
        tx.shrink_reservation(upload.id, Bytes::new(201), Bytes::ZERO).await,
        Err(StoreError::NotFound { entity: "reservation" })
    ));
    assert!(matches!(
        tx.shrink_reservation(ReservationId(id()), Bytes::ZERO, Bytes::ZERO).await,
        Err(StoreError::NotFound { entity: "reservation" })
    ));
    tx.rollback().await.unwrap();

    // What was given back is free for others; what is held is settled as used.
    let mut tx = s.begin().await;
    tx.reserve(&request(practice, 800, 0, now)).await.unwrap();
    assert_eq!(usage_of(&mut *tx, practice, now).await.0.usage.reserved, Bytes::new(1000));
    assert!(matches!(
        tx.settle_reservation(upload.id, Bytes::new(201), Bytes::new(201), now).await,
        Err(StoreError::NotFound { .. })
    ));
    tx.rollback().await.unwrap();
    let mut tx = s.begin().await;
    tx.settle_reservation(upload.id, Bytes::new(150), Bytes::new(150), now).await.unwrap();
    let (storage, throughput) = usage_of(&mut *tx, practice, now).await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::new(150), Bytes::ZERO));
    assert_eq!((throughput.usage.used, throughput.usage.reserved), (Bytes::new(150), Bytes::ZERO));

    // An expired reservation can neither grow nor be settled, even before a sweep.
    let lapsed = request(practice, 10, 10, now);
    tx.reserve(&lapsed).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    assert!(matches!(
        tx.grow_reservation(lapsed.id, Bytes::new(1), Bytes::new(1), at(7200), at(9000)).await,
        Err(ReserveError::Store(StoreError::NotFound { .. }))
    ));
    tx.rollback().await.unwrap();
    let mut tx = s.begin().await;
    assert!(matches!(
        tx.settle_reservation(lapsed.id, Bytes::new(10), Bytes::new(10), at(7200)).await,
        Err(StoreError::NotFound { .. })
    ));
    tx.rollback().await.unwrap();
});
