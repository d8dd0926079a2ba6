//! Rules that must hold under parallel requests (issue 19): each race runs
//! sixteen requests at once on every engine available here (SQLite always,
//! PostgreSQL when `FERRY_TEST_POSTGRES_URL` is set), and checks the outcome
//! counts, never the timing.

use std::future::Future;
use std::sync::Arc;

use std::net::{IpAddr, Ipv4Addr};

use ferry_app::{AppError, Credentials, InvitePerson, PasswordPolicy, PersonChange, Principal, SecretToken};
use ferry_domain::ids::{PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::Plan;
use ferry_ports::Store;
use ferry_ports::records::UserKind;
use tokio::sync::Barrier;

mod common;

use common::{
    EngineApp, Person, approved_practice, engines, insert_member, insert_user, mailed_token, sign_in, test_config,
};

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

/// Password hashing slow enough (a few milliseconds) that parallel guesses
/// overlap the check, as they do against a real server.
fn slow_hashing() -> ferry_app::AppConfig {
    let mut config = test_config();
    config.passwords = PasswordPolicy { memory_kib: 4 * 1024, iterations: 1, ..PasswordPolicy::default() };
    config
}

/// How many of the outcomes were wrong-password answers (each ran the
/// password check); every other one must be the throttle.
fn checked<T>(w: &EngineApp, outcomes: &[Result<T, AppError>]) -> usize {
    for outcome in outcomes {
        match outcome {
            Err(AppError::BadCredentials | AppError::Throttled { .. }) => {}
            other => panic!("{:?}: a wrong guess is refused or throttled, got {:?}", w.engine, other.as_ref().err()),
        }
    }
    outcomes.iter().filter(|o| matches!(o, Err(AppError::BadCredentials))).count()
}

/// `person` chooses `password` from a mailed reset link.
async fn with_password(w: &EngineApp, person: &Person, password: &str) {
    w.app.request_password_reset(&person.email, None).await.unwrap();
    let token = mailed_token(&w.store, &person.email).await;
    w.app.set_password_with_link(&SecretToken::from_presented(&token), password.into()).await.unwrap();
}

fn guess(email: &str, address: Option<IpAddr>) -> Credentials {
    Credentials { email: email.into(), password: "a wrong guess, again".into(), address }
}

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_parallel_guesses_get_only_the_limit_of_password_checks() {
    for engine in engines() {
        let mut config = slow_hashing();
        config.address_failures = 5;
        let w = EngineApp::with_config(engine, config).await;

        // Per account: the limit is 5 failures, however many guesses run at once.
        let ada = insert_user(&w.store, "Ada Guessed", UserKind::Client).await;
        with_password(&w, &ada, "the right passphrase").await;
        let outcomes = race(|_| {
            let (app, credentials) = (w.app.clone(), guess(&ada.email, None));
            async move { app.sign_in(credentials).await.map(|_| ()) }
        })
        .await;
        assert_eq!(checked(&w, &outcomes), 5, "{engine:?}: per account, only the limit of guesses is checked");
        assert!(
            matches!(sign_in(&w.app, &ada.email, "the right passphrase").await, Err(AppError::Throttled { .. })),
            "{engine:?}: the account is throttled now"
        );

        // Per address: 5 failures from one address, spread over sixteen accounts.
        let outcomes = race(|i| {
            let (app, credentials) = (w.app.clone(), guess(&format!("nobody{i}@race.test"), Some(HOME)));
            async move { app.sign_in(credentials).await.map(|_| ()) }
        })
        .await;
        assert_eq!(checked(&w, &outcomes), 5, "{engine:?}: per address, only the limit of guesses is checked");

        w.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_with_the_right_password_counts_as_no_failure() {
    for engine in engines() {
        let mut config = test_config();
        config.address_failures = 2;
        let w = EngineApp::with_config(engine, config).await;
        let bob = insert_user(&w.store, "Bob Regular", UserKind::Client).await;
        with_password(&w, &bob, "the right passphrase").await;
        let right =
            Credentials { email: bob.email.clone(), password: "the right passphrase".into(), address: Some(HOME) };
        for n in 0..4 {
            let signed = w.app.sign_in(right.clone()).await;
            assert!(signed.is_ok(), "{engine:?}: sign-in {n} from one address: {:?}", signed.err());
        }
        // Two failures from the address, then even the right password waits.
        for _ in 0..2 {
            assert!(matches!(w.app.sign_in(guess(&bob.email, Some(HOME))).await, Err(AppError::BadCredentials)));
        }
        assert!(matches!(w.app.sign_in(right).await, Err(AppError::Throttled { .. })), "{engine:?}");
        w.finish().await;
    }
}
