//! The store's access benchmark (issue: "can U open C" p99 under 1 ms).
//!
//! Seeds one practice with 1,000 users (50 admins, 450 staff, 500
//! bookkeepers), 10,000 engaged clients, 20,000 filings (80% active),
//! 100,000 tasks and 5,000 client assignments, then measures:
//! - the facts query plus the domain decision for random (user, client) pairs;
//! - the first page (50) of "my clients" (the account switcher) for random users.
//!
//! Run with `cargo xtask bench store` (or `cargo bench -p ferry-store-sql --bench store`).
//! Set `FERRY_BENCH_POSTGRES_URL` to also measure PostgreSQL (a database the
//! benchmark may fill; it creates and drops its own schema). Prints p50, p99
//! and max; record the figures in docs/BENCHMARKS.md.

use std::str::FromStr;
use std::time::{Duration, Instant};

use ferry_domain::access::can_open_client;
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, EngagementId, FilingId, PracticeId, TaskId, UserId};
use ferry_domain::people::{ClientRole, PracticeUser, Role};
use ferry_domain::practice::{Plan, PracticeStatus};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName, Title};
use ferry_domain::work::{Assignee, FilingKind, FilingStatus};
use ferry_ports::Store;
use ferry_ports::records::{
    ClientRecord, EngagementRecord, FilingRecord, NewPractice, NewTask, NewUser, PageRequest, UserKind,
};
use ferry_store_sql::SqlStore;
use time::OffsetDateTime;
use uuid::Uuid;

const USERS: usize = 1_000;
const CLIENTS: usize = 10_000;
const FILINGS_PER_CLIENT: usize = 2;
const TASKS_PER_FILING: usize = 5;
const ASSIGNMENTS: usize = 5_000;
const CHECKS: usize = 20_000;
const LISTS: usize = 2_000;

/// A small deterministic generator, so every run measures the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }
}

struct World {
    users: Vec<UserId>,
    clients: Vec<ClientId>,
}

async fn seed(store: &SqlStore) -> World {
    let now = OffsetDateTime::now_utc();
    let mut rng = Rng(0x5eed_f00d);
    let mut tx = store.begin().await.unwrap();
    let practice = PracticeId::from_uuid(Uuid::now_v7());
    tx.insert_practice(&NewPractice {
        id: practice,
        name: OrganisationName::parse("Benchmark Books").unwrap(),
        plan: Plan { seat_limit: 1_000, ..Plan::default() },
        created_at: now,
    })
    .await
    .unwrap();
    tx.set_practice_status(practice, PracticeStatus::Pending, PracticeStatus::Approved, now).await.unwrap();
    let mut users = Vec::with_capacity(USERS);
    let mut roles = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let id = UserId::from_uuid(Uuid::now_v7());
        let role = match i {
            0..50 => Role::Admin,
            50..500 => Role::Staff,
            _ => Role::Bookkeeper,
        };
        tx.insert_user(&NewUser {
            id,
            email: EmailAddress::parse(&format!("user{i}@bench.example.com")).unwrap(),
            name: PersonName::parse(&format!("User {i}")).unwrap(),
            kind: UserKind::Practice,
            created_at: now,
        })
        .await
        .unwrap();
        tx.insert_member(id, practice, role).await.unwrap();
        users.push(id);
        roles.push(role);
    }
    let mut clients = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let id = ClientId::from_uuid(Uuid::now_v7());
        tx.insert_client(&ClientRecord {
            id,
            name: OrganisationName::parse(&format!("Client {i}")).unwrap(),
            created_at: now,
        })
        .await
        .unwrap();
        let owner = UserId::from_uuid(Uuid::now_v7());
        tx.insert_user(&NewUser {
            id: owner,
            email: EmailAddress::parse(&format!("owner{i}@bench.example.com")).unwrap(),
            name: PersonName::parse(&format!("Owner {i}")).unwrap(),
            kind: UserKind::Client,
            created_at: now,
        })
        .await
        .unwrap();
        tx.add_client_member(id, owner, ClientRole::Owner).await.unwrap();
        tx.insert_engagement(&EngagementRecord {
            id: EngagementId::from_uuid(Uuid::now_v7()),
            practice,
            client: id,
            state: ConsentState::Active,
            changed_at: now,
        })
        .await
        .unwrap();
        for f in 0..FILINGS_PER_CLIENT {
            let filing = FilingId::from_uuid(Uuid::now_v7());
            let status = if rng.below(5) == 0 { FilingStatus::Filed } else { FilingStatus::Active };
            tx.insert_filing(&FilingRecord {
                id: filing,
                practice,
                client: id,
                kind: FilingKind::Bookkeeping,
                period: None,
                due: None,
                status,
                created_at: now,
            })
            .await
            .unwrap();
            for t in 0..TASKS_PER_FILING {
                let task = TaskId::from_uuid(Uuid::now_v7());
                tx.insert_task(&NewTask {
                    id: task,
                    filing,
                    title: Title::parse(&format!("Step {f}.{t}")).unwrap(),
                    due: None,
                    created_at: now,
                })
                .await
                .unwrap();
                // Staff and bookkeepers hold the tasks.
                let holder = 50 + rng.below(USERS - 50);
                let member = PracticeUser {
                    user: users[holder],
                    practice,
                    role: roles[holder],
                    active: true,
                    practice_status: PracticeStatus::Approved,
                };
                tx.set_task_assignee(task, Some(Assignee::new(&member, practice).unwrap())).await.unwrap();
            }
        }
        clients.push(id);
    }
    for _ in 0..ASSIGNMENTS {
        let staff = users[50 + rng.below(450)];
        tx.assign_client(staff, clients[rng.below(CLIENTS)], now).await.unwrap();
    }
    tx.commit().await.unwrap();
    World { users, clients }
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label:<48} n={:>6}  p50={:>9.1?}  p99={:>9.1?}  max={:>9.1?}",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

async fn measure(engine: &str, store: &SqlStore) {
    let started = Instant::now();
    let world = seed(store).await;
    println!("{engine}: seeded in {:.1?}", started.elapsed());
    let mut rng = Rng(42);
    let mut checks = Vec::with_capacity(CHECKS);
    let mut allowed = 0;
    for _ in 0..CHECKS {
        let user = world.users[rng.below(USERS)];
        let client = world.clients[rng.below(CLIENTS)];
        let t = Instant::now();
        let mut tx = store.read().await.unwrap();
        let actor = tx.actor(user).await.unwrap().unwrap();
        let facts = tx.client_facts(user, client).await.unwrap();
        if can_open_client(&actor, &facts) {
            allowed += 1;
        }
        tx.rollback().await.unwrap();
        checks.push(t.elapsed());
    }
    report(&format!("{engine}: can U open C (actor + facts + decide)"), checks);
    println!("{engine}: {allowed} of {CHECKS} checks allowed");
    let mut lists = Vec::with_capacity(LISTS);
    for _ in 0..LISTS {
        let user = world.users[rng.below(USERS)];
        let t = Instant::now();
        let mut tx = store.read().await.unwrap();
        let page = tx.clients_for_user(user, &PageRequest::first(50)).await.unwrap();
        std::hint::black_box(page);
        tx.rollback().await.unwrap();
        lists.push(t.elapsed());
    }
    report(&format!("{engine}: my clients, first page of 50"), lists);
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    // FERRY_BENCH_SQLITE_PATH keeps the seeded database for inspection.
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var("FERRY_BENCH_SQLITE_PATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("bench.db"));
    let url = format!("sqlite://{}", path.display());
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    measure("sqlite", &store).await;
    store.close().await;

    if let Ok(url) = std::env::var("FERRY_BENCH_POSTGRES_URL") {
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        let schema = format!("bench_{}", Uuid::now_v7().simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
        let options =
            sqlx::postgres::PgConnectOptions::from_str(&url).unwrap().options([("search_path", schema.as_str())]);
        let store = SqlStore::connect_postgres(options).await.unwrap();
        store.migrate().await.unwrap();
        measure("postgres", &store).await;
        store.close().await;
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
    } else {
        println!("postgres: skipped (set FERRY_BENCH_POSTGRES_URL to measure it)");
    }
}
