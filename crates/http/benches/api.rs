//! The API's throughput benchmark (issue 5): requests per second and latency
//! of "My Tasks" and the account switcher under load, against a bare poem
//! handler in the same process as the ceiling.
//!
//! Seeds SQLite like the store benchmark (one practice with 1,000 users: 50
//! admins, 450 staff, 500 bookkeepers; 10,000 engaged clients; 20,000
//! filings, 80% active; 100,000 tasks held by staff and bookkeepers, about
//! 105 each, three in four with a due date; 5,000 client assignments), gives
//! every practice user a session (inserted directly: nobody signs in), and
//! serves `ferry_http::router` and a bare `#[handler]` on two loopback ports.
//! Then, per scenario, a load generator in the same process keeps N
//! keep-alive HTTP/1.1 connections (64 by default) busy, each sending its
//! next request as soon as the last answer is read, for a warm-up and then a
//! measured window. Connection `i` uses the session of staff user `i` (or of
//! admin `i mod 50`), so the requests spread over 64 different users.
//!
//! Scenarios:
//! - `bare`: `GET /` of a `#[handler]` returning a constant string, the ceiling;
//! - `healthz`: `GET /healthz` through the whole router, no database;
//! - `me/tasks`: `GET /api/v1/me/tasks` as a staff user (first page, 50);
//! - `me/clients admin`: `GET /api/v1/me/clients` as an admin, who may open
//!   all 10,000 clients (first page, 50);
//! - `me/clients staff`: the same as a staff user (assigned clients and those
//!   they hold tasks for, about 90).
//!
//! Run with `cargo xtask bench api` (or `cargo bench -p ferry-http --bench api`);
//! name scenarios to run only those (`cargo bench -p ferry-http --bench api --
//! me/clients` runs every scenario whose name contains `me/clients`).
//! Environment: `FERRY_BENCH_API_SECS` (measured seconds per scenario,
//! default 10), `FERRY_BENCH_API_WARMUP_SECS` (default 2),
//! `FERRY_BENCH_API_CONNECTIONS` (default 64), `FERRY_BENCH_SQLITE_PATH`
//! (keep the seeded database there). No tracing subscriber is installed, so
//! nothing is logged. Record the figures in docs/BENCHMARKS.md.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_app::{App, AppConfig, SecretToken, SystemClock, UuidV7};
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, EngagementId, FilingId, PracticeId, TaskId, UserId};
use ferry_domain::people::{ClientRole, PracticeUser, Role};
use ferry_domain::practice::{Plan, PracticeStatus};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName, Title};
use ferry_domain::work::{Assignee, FilingKind, FilingStatus};
use ferry_http::{HttpConfig, router};
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store;
use ferry_ports::clock::IdGenerator;
use ferry_ports::records::{
    ClientRecord, EngagementRecord, FilingRecord, NewPractice, NewSession, NewTask, NewUser, UserKind,
};
use ferry_store_sql::SqlStore;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::{Route, Server, handler};
use time::OffsetDateTime;
use tokio::net::TcpStream;

const ADMINS: usize = 50;
const STAFF: usize = 450;
const USERS: usize = 1_000;
const CLIENTS: usize = 10_000;
const FILINGS_PER_CLIENT: usize = 2;
const TASKS_PER_FILING: usize = 5;
const ASSIGNMENTS: usize = 5_000;

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

/// The seeded users' session tokens, by user index (admins first, then staff, then bookkeepers).
struct World {
    tokens: Vec<SecretToken>,
}

async fn seed(store: &SqlStore) -> World {
    let ids = UuidV7;
    let now = OffsetDateTime::now_utc();
    let today = now.date();
    let mut rng = Rng(0x5eed_f00d);
    let mut tx = store.begin().await.unwrap();
    let practice = PracticeId::from_uuid(ids.new_id());
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
    let mut tokens = Vec::with_capacity(USERS);
    for i in 0..USERS {
        let id = UserId::from_uuid(ids.new_id());
        let role = match i {
            _ if i < ADMINS => Role::Admin,
            _ if i < ADMINS + STAFF => Role::Staff,
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
        let token = SecretToken::mint();
        tx.insert_session(&NewSession {
            id: ids.new_id(),
            hash: token.hash(),
            user: id,
            created_at: now,
            expires_at: now + time::Duration::days(1),
        })
        .await
        .unwrap();
        users.push(id);
        roles.push(role);
        tokens.push(token);
    }
    let mut clients = Vec::with_capacity(CLIENTS);
    for i in 0..CLIENTS {
        let id = ClientId::from_uuid(ids.new_id());
        tx.insert_client(&ClientRecord {
            id,
            name: OrganisationName::parse(&format!("Client {i}")).unwrap(),
            created_at: now,
        })
        .await
        .unwrap();
        let owner = UserId::from_uuid(ids.new_id());
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
            id: EngagementId::from_uuid(ids.new_id()),
            practice,
            client: id,
            state: ConsentState::Active,
            changed_at: now,
        })
        .await
        .unwrap();
        for f in 0..FILINGS_PER_CLIENT {
            let filing = FilingId::from_uuid(ids.new_id());
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
                let task = TaskId::from_uuid(ids.new_id());
                let due =
                    (rng.below(4) != 0).then(|| today + time::Duration::days(i64::try_from(rng.below(365)).unwrap()));
                tx.insert_task(&NewTask {
                    id: task,
                    filing,
                    title: Title::parse(&format!("Step {f}.{t}")).unwrap(),
                    due,
                    created_at: now,
                })
                .await
                .unwrap();
                // Staff and bookkeepers hold the tasks.
                let holder = ADMINS + rng.below(USERS - ADMINS);
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
        let staff = users[ADMINS + rng.below(STAFF)];
        tx.assign_client(staff, clients[rng.below(CLIENTS)], now).await.unwrap();
    }
    tx.commit().await.unwrap();
    World { tokens }
}

/// The ceiling: the least a poem handler can do.
#[handler]
fn bare() -> &'static str {
    "ok"
}

/// Serves `endpoint` on a free loopback port; returns the address.
async fn serve(endpoint: impl poem::IntoEndpoint<Endpoint: 'static> + Send + 'static) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = TcpAcceptor::from_tokio(listener).unwrap();
    assert_eq!(acceptor.local_addr().len(), 1);
    tokio::spawn(Server::new_with_acceptor(acceptor).run(endpoint));
    addr
}

/// One thing to measure: a path on a server, as whom.
struct Scenario {
    name: &'static str,
    addr: SocketAddr,
    path: &'static str,
    /// The session token of connection `i`, if the request needs one.
    token: Option<Box<dyn Fn(usize) -> String>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    connections: usize,
    warmup: Duration,
    measured: Duration,
}

#[derive(Debug)]
struct Outcome {
    /// Latencies of the requests sent inside the measured window, in microseconds.
    latencies: Vec<u32>,
    /// Answers other than 200 inside the window.
    failures: u64,
    /// The first such answer, for the report.
    first_failure: Option<String>,
}

async fn open(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    sender
}

fn request(path: &str, authorization: Option<&str>) -> Request<Empty<Bytes>> {
    let mut request = Request::get(path).header(HOST, "127.0.0.1");
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.body(Empty::new()).unwrap()
}

/// One connection's loop: requests back to back until the window closes.
async fn drive(
    addr: SocketAddr,
    path: &'static str,
    authorization: Option<String>,
    start: Instant,
    window: Window,
) -> Outcome {
    let mut sender = open(addr).await;
    let measure_from = start + window.warmup;
    let until = measure_from + window.measured;
    let mut outcome = Outcome { latencies: Vec::with_capacity(1 << 16), failures: 0, first_failure: None };
    loop {
        let sent = Instant::now();
        if sent >= until {
            break;
        }
        sender.ready().await.unwrap();
        let response = sender.send_request(request(path, authorization.as_deref())).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let elapsed = sent.elapsed();
        std::hint::black_box(&body);
        if sent < measure_from {
            continue;
        }
        if status == StatusCode::OK {
            outcome.latencies.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        } else {
            outcome.failures += 1;
            outcome.first_failure.get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
    }
    outcome
}

/// Sends one request and checks that it succeeds; returns a short description of the answer.
async fn probe(scenario: &Scenario) -> String {
    let mut sender = open(scenario.addr).await;
    let authorization = scenario.token.as_ref().map(|token| format!("Bearer {}", token(0)));
    let response = sender.send_request(request(scenario.path, authorization.as_deref())).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        status,
        StatusCode::OK,
        "{}: GET {} answered {status}: {}",
        scenario.name,
        scenario.path,
        String::from_utf8_lossy(&body)
    );
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => match value.get("items").and_then(serde_json::Value::as_array) {
            Some(items) => format!(
                "{} items, {} bytes, next page: {}",
                items.len(),
                body.len(),
                if value.get("next").is_some_and(|n| !n.is_null()) { "yes" } else { "no" }
            ),
            None => format!("{} bytes", body.len()),
        },
        Err(_) => format!("{} bytes", body.len()),
    }
}

struct Figures {
    requests: usize,
    rps: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    failures: u64,
}

async fn run(scenario: &Scenario, window: Window) -> Figures {
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(window.connections);
    for i in 0..window.connections {
        let authorization = scenario.token.as_ref().map(|token| format!("Bearer {}", token(i)));
        tasks.push(tokio::spawn(drive(scenario.addr, scenario.path, authorization, start, window)));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    let mut first_failure = None;
    for task in tasks {
        let outcome = task.await.unwrap();
        latencies.extend(outcome.latencies);
        failures += outcome.failures;
        first_failure = first_failure.or(outcome.first_failure);
    }
    if let Some(failure) = first_failure {
        println!("  {}: {failures} requests failed; the first answered {failure}", scenario.name);
    }
    assert!(!latencies.is_empty(), "{}: no request succeeded in the measured window", scenario.name);
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() - 1) as f64 * q).round() as usize;
        Duration::from_micros(u64::from(latencies[index]))
    };
    Figures {
        requests: latencies.len(),
        rps: latencies.len() as f64 / window.measured.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
        failures,
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map_or(default, |raw| raw.parse().unwrap_or_else(|_| panic!("{name} must be a whole number")))
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments select scenarios by name.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let window = Window {
        connections: usize::try_from(env_number("FERRY_BENCH_API_CONNECTIONS", 64)).unwrap().max(1),
        warmup: Duration::from_secs(env_number("FERRY_BENCH_API_WARMUP_SECS", 2)),
        measured: Duration::from_secs(env_number("FERRY_BENCH_API_SECS", 10).max(1)),
    };
    // Server and load generator share one runtime with a worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(bench(&filters, window));
}

async fn bench(filters: &[String], window: Window) {
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var("FERRY_BENCH_SQLITE_PATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("bench.db"));
    let store = SqlStore::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    store.migrate().await.unwrap();
    let started = Instant::now();
    let world = seed(&store).await;
    println!("sqlite: seeded in {:.1?}", started.elapsed());

    let app = App::new(
        Arc::new(store),
        Arc::new(ferry_blob::EncryptedBlobStore::in_memory()),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        AppConfig::new(BaseUrl::parse("http://127.0.0.1").unwrap()),
    );
    let api = serve(router(app, HttpConfig { secure_cookies: false, public_url: "http://127.0.0.1".to_owned() })).await;
    let ceiling = serve(Route::new().at("/", poem::get(bare))).await;

    let tokens = Arc::new(world.tokens);
    let staff = {
        let tokens = Arc::clone(&tokens);
        move |i: usize| tokens[ADMINS + i % STAFF].expose().to_owned()
    };
    let admin = {
        let tokens = Arc::clone(&tokens);
        move |i: usize| tokens[i % ADMINS].expose().to_owned()
    };
    let scenarios = [
        Scenario { name: "bare", addr: ceiling, path: "/", token: None },
        Scenario { name: "healthz", addr: api, path: "/healthz", token: None },
        Scenario { name: "me/tasks", addr: api, path: "/api/v1/me/tasks", token: Some(Box::new(staff.clone())) },
        Scenario { name: "me/clients admin", addr: api, path: "/api/v1/me/clients", token: Some(Box::new(admin)) },
        Scenario { name: "me/clients staff", addr: api, path: "/api/v1/me/clients", token: Some(Box::new(staff)) },
    ];
    let chosen: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| s.name == "bare" || filters.is_empty() || filters.iter().any(|f| s.name.contains(f.as_str())))
        .collect();

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{} connections, {:?} warm-up, {:?} measured per scenario; load average before: {}",
        window.connections,
        window.warmup,
        window.measured,
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    for scenario in &chosen {
        println!("  {:<18} GET {:<20} {}", scenario.name, scenario.path, probe(scenario).await);
    }
    println!(
        "{:<18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "scenario", "requests", "rps", "p50", "p99", "max", "vs bare", "failed"
    );
    let mut ceiling_rps = None;
    for scenario in chosen {
        let figures = run(scenario, window).await;
        let ceiling = *ceiling_rps.get_or_insert(figures.rps);
        println!(
            "{:<18} {:>9} {:>9.0} {:>9.1?} {:>9.1?} {:>9.1?} {:>7.1}% {:>8}",
            scenario.name,
            figures.requests,
            figures.rps,
            figures.p50,
            figures.p99,
            figures.max,
            100.0 * figures.rps / ceiling,
            figures.failures
        );
    }
}
