//! Rules that must hold under parallel requests (issue 19): each race runs
//! sixteen requests at once on every engine available here (SQLite always,
//! PostgreSQL when `FERRY_TEST_POSTGRES_URL` is set), and checks the outcome
//! counts, never the timing.

use std::future::Future;
use std::sync::Arc;

use ferry_app::{AppError, InvitePerson, PersonChange, Principal};
use ferry_domain::ids::{PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::Plan;
use ferry_ports::Store;
use tokio::sync::Barrier;

mod common;

use common::{EngineApp, Person, approved_practice, engines, insert_member};

/// How many requests each race sends at once.
const RACERS: usize = 16;

/// Runs `RACERS` calls of `call(i)` at once (they start together at a
/// barrier) and returns their outcomes in order.
async fn race<T, F, Fut>(call: F) -> Vec<Result<T, AppError>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut handles = Vec::with_capacity(RACERS);
    for i in 0..RACERS {
        let barrier = barrier.clone();
        let call = call(i);
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            call.await
        }));
    }
    let mut outcomes = Vec::with_capacity(RACERS);
    for handle in handles {
        outcomes.push(handle.await.expect("a racer"));
    }
    outcomes
}

/// How many succeeded; every other outcome must be a seat-limit refusal.
fn seated<T>(w: &EngineApp, what: &str, outcomes: &[Result<T, AppError>]) -> usize {
    for outcome in outcomes {
        if let Err(e) = outcome {
            assert!(
                matches!(e, AppError::SeatLimit(_)),
                "{:?} {what}: only the seat limit refuses, got {e:?}",
                w.engine
            );
        }
    }
    outcomes.iter().filter(|o| o.is_ok()).count()
}

async fn set_seats(w: &EngineApp, practice: PracticeId, seats: u32) {
    let mut tx = w.store.begin().await.unwrap();
    tx.set_plan(practice, Plan { seat_limit: seats, ..Plan::default() }).await.unwrap();
    tx.commit().await.unwrap();
}

async fn seats_in_use(w: &EngineApp, practice: PracticeId) -> u32 {
    let mut tx = w.store.read().await.unwrap();
    let n = tx.seats_in_use(practice).await.unwrap();
    tx.rollback().await.unwrap();
    n
}

/// Members of `practice` with `role`, deactivated when `active` is false.
async fn members(w: &EngineApp, practice: PracticeId, role: Role, active: bool) -> Vec<UserId> {
    let mut ids = Vec::new();
    for n in 0..RACERS {
        let person = insert_member(&w.store, practice, &format!("Racer {n}"), role).await;
        if !active {
            let mut tx = w.store.begin().await.unwrap();
            tx.set_user_active(person.id, false).await.unwrap();
            tx.commit().await.unwrap();
        }
        ids.push(person.id);
    }
    ids
}

/// A practice whose admin holds one of `1 + free` seats.
async fn practice_with_free_seats(w: &EngineApp, free: u32) -> (PracticeId, Person) {
    let (practice, admin) = approved_practice(&w.app, &w.store, "Seat Race & Co", "Ada Admin").await;
    set_seats(w, practice, 1 + free).await;
    (practice, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule7_seats_hold_when_sixteen_requests_race_for_three() {
    for engine in engines() {
        let w = EngineApp::new(engine).await;

        // Sixteen invitations of staff at once.
        let (practice, admin) = practice_with_free_seats(&w, 3).await;
        let outcomes = race(|i| {
            let (app, who) = (w.app.clone(), admin.who);
            let input =
                InvitePerson { name: "Sam Staff".into(), email: format!("staff{i}@race.test"), role: "staff".into() };
            async move { app.invite_person(&who, practice, &input).await }
        })
        .await;
        assert_eq!(seated(&w, "invitations", &outcomes), 3, "{engine:?}: invitations take only the free seats");
        assert_eq!(seats_in_use(&w, practice).await, 4, "{engine:?}: invitations");

        // Sixteen reactivations by the practice's admin.
        let (practice, admin) = practice_with_free_seats(&w, 3).await;
        let sleepers = members(&w, practice, Role::Staff, false).await;
        let outcomes =
            race(|i| {
                let (app, who, user) = (w.app.clone(), admin.who, sleepers[i]);
                async move {
                    app.change_person(&who, practice, user, &PersonChange { role: None, active: Some(true) }).await
                }
            })
            .await;
        assert_eq!(seated(&w, "reactivations", &outcomes), 3, "{engine:?}: reactivations take only the free seats");
        assert_eq!(seats_in_use(&w, practice).await, 4, "{engine:?}: reactivations");

        // Sixteen promotions of bookkeepers to staff.
        let (practice, admin) = practice_with_free_seats(&w, 3).await;
        let bookkeepers = members(&w, practice, Role::Bookkeeper, true).await;
        let outcomes = race(|i| {
            let (app, who, user) = (w.app.clone(), admin.who, bookkeepers[i]);
            let change = PersonChange { role: Some("staff".into()), active: None };
            async move { app.change_person(&who, practice, user, &change).await }
        })
        .await;
        assert_eq!(seated(&w, "promotions", &outcomes), 3, "{engine:?}: promotions take only the free seats");
        assert_eq!(seats_in_use(&w, practice).await, 4, "{engine:?}: promotions");

        // Sixteen reactivations by the operator.
        let (practice, _) = practice_with_free_seats(&w, 3).await;
        let sleepers = members(&w, practice, Role::Admin, false).await;
        let outcomes = race(|i| {
            let (app, user) = (w.app.clone(), sleepers[i]);
            async move { app.set_user_active(&Principal::Operator, user, true).await }
        })
        .await;
        assert_eq!(seated(&w, "operator reactivations", &outcomes), 3, "{engine:?}: the operator too");
        assert_eq!(seats_in_use(&w, practice).await, 4, "{engine:?}: operator reactivations");

        w.finish().await;
    }
}
