//! Starting a store per test and per engine, and building fixtures.

use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, EngagementId, FilingId, PracticeId, TaskId, UserId};
use ferry_domain::people::{ClientRole, Role};
use ferry_domain::practice::{Plan, PracticeStatus};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName, Title};
use ferry_domain::work::FilingKind;
use ferry_domain::work::FilingStatus;
use ferry_ports::records::{ClientRecord, EngagementRecord, FilingRecord, NewPractice, NewTask, NewUser, UserKind};
use ferry_ports::{Store, Tx};
use ferry_store_sql::SqlStore;
use time::OffsetDateTime;
use uuid::Uuid;

/// The variable that points the suite at a PostgreSQL server.
pub(crate) const POSTGRES_VAR: &str = "FERRY_TEST_POSTGRES_URL";

/// A store for one test on one engine, and what to clean up after it.
pub(crate) struct TestStore {
    /// The store under test.
    pub(crate) store: SqlStore,
    /// `sqlite` or `postgres`, for messages.
    pub(crate) engine: &'static str,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(sqlx::PgPool, String)>,
}

impl TestStore {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("ferry.db").display());
        let store = SqlStore::connect(&url).await.expect("SQLite store");
        store.migrate().await.expect("migrations on SQLite");
        Self { store, engine: "sqlite", _dir: Some(dir), schema: None }
    }

    async fn postgres(url: &str) -> Self {
        let admin = sqlx::PgPool::connect(url).await.expect("PostgreSQL at FERRY_TEST_POSTGRES_URL");
        let schema = format!("t_{}", Uuid::now_v7().simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create a test schema");
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .expect("FERRY_TEST_POSTGRES_URL")
            .options([("search_path", schema.as_str())]);
        let store = SqlStore::connect_postgres(options).await.expect("PostgreSQL store");
        store.migrate().await.expect("migrations on PostgreSQL");
        Self { store, engine: "postgres", _dir: None, schema: Some((admin, schema)) }
    }

    /// Closes the store and drops its schema (SQLite's folder goes with `self`).
    async fn finish(self) {
        self.store.close().await;
        if let Some((admin, schema)) = self.schema {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop the test schema");
            admin.close().await;
        }
    }

    /// A write transaction.
    pub(crate) async fn begin(&self) -> Box<dyn Tx> {
        self.store.begin().await.expect("begin")
    }

    /// A read transaction.
    pub(crate) async fn store_read(&self) -> Box<dyn Tx> {
        self.store.read().await.expect("read")
    }
}

/// Runs `test` once per engine available here, each on a fresh database.
/// Prints why PostgreSQL was skipped when it is not configured.
pub(crate) async fn each_engine<F, Fut>(test: F)
where
    F: Fn(TestStore) -> Fut,
    Fut: Future<Output = TestStore>,
{
    let sqlite = test(TestStore::sqlite().await).await;
    sqlite.finish().await;
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.is_empty() => {
            let pg = test(TestStore::postgres(&url).await).await;
            pg.finish().await;
        }
        _ => eprintln!("skipping the PostgreSQL run: {POSTGRES_VAR} is not set"),
    }
}

/// Declares a contract test that runs on every engine. The body gets `$s`,
/// the [`TestStore`], and must give it back at the end.
#[macro_export]
macro_rules! contract {
    ($(#[$meta:meta])* $name:ident, |$s:ident| $body:block) => {
        $(#[$meta])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            $crate::harness::each_engine(|$s: $crate::harness::TestStore| async move {
                $body
                $s
            })
            .await;
        }
    };
}

/// A fixed, whole-microsecond time (stored times keep microseconds).
pub(crate) fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000 + seconds).expect("time")
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A new time-ordered id.
pub(crate) fn id() -> Uuid {
    Uuid::now_v7()
}

/// A number unique within this test run, for names and emails.
pub(crate) fn unique() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Builds the usual objects with sensible defaults.
pub(crate) struct Fixture;

impl Fixture {
    /// A practice in `status`.
    pub(crate) async fn practice(tx: &mut dyn Tx, status: PracticeStatus) -> PracticeId {
        let id = PracticeId::from_uuid(id());
        let practice = NewPractice {
            id,
            name: OrganisationName::parse(&format!("Practice {}", unique())).expect("name"),
            plan: Plan::default(),
            created_at: at(0),
        };
        tx.insert_practice(&practice).await.expect("insert practice");
        if status != PracticeStatus::Pending {
            let via =
                if status == PracticeStatus::Rejected { PracticeStatus::Rejected } else { PracticeStatus::Approved };
            tx.set_practice_status(id, PracticeStatus::Pending, via, at(1)).await.expect("approve");
            if status == PracticeStatus::Suspended {
                tx.set_practice_status(id, PracticeStatus::Approved, status, at(2)).await.expect("suspend");
            }
        }
        id
    }

    /// A user of `kind`.
    pub(crate) async fn user(tx: &mut dyn Tx, kind: UserKind) -> UserId {
        let n = unique();
        let id = UserId::from_uuid(id());
        let user = NewUser {
            id,
            email: EmailAddress::parse(&format!("user{n}@example.com")).expect("email"),
            name: PersonName::parse(&format!("User {n}")).expect("name"),
            kind,
            created_at: at(0),
        };
        tx.insert_user(&user).await.expect("insert user");
        id
    }

    /// A practice user with `role`.
    pub(crate) async fn member(tx: &mut dyn Tx, practice: PracticeId, role: Role) -> UserId {
        let user = Self::user(tx, UserKind::Practice).await;
        tx.insert_member(user, practice, role).await.expect("insert member");
        user
    }

    /// A client with an owner; returns both.
    pub(crate) async fn client(tx: &mut dyn Tx) -> (ClientId, UserId) {
        let id = ClientId::from_uuid(id());
        let client = ClientRecord {
            id,
            name: OrganisationName::parse(&format!("Client {}", unique())).expect("name"),
            created_at: at(0),
        };
        tx.insert_client(&client).await.expect("insert client");
        let owner = Self::user(tx, UserKind::Client).await;
        tx.add_client_member(id, owner, ClientRole::Owner).await.expect("add owner");
        (id, owner)
    }

    /// An engagement in `state`.
    pub(crate) async fn engagement(
        tx: &mut dyn Tx,
        practice: PracticeId,
        client: ClientId,
        state: ConsentState,
    ) -> EngagementId {
        let id = EngagementId::from_uuid(id());
        let record = EngagementRecord { id, practice, client, state, changed_at: at(0) };
        tx.insert_engagement(&record).await.expect("insert engagement");
        id
    }

    /// An active filing.
    pub(crate) async fn filing(tx: &mut dyn Tx, practice: PracticeId, client: ClientId) -> FilingId {
        let id = FilingId::from_uuid(id());
        let filing = FilingRecord {
            id,
            practice,
            client,
            kind: FilingKind::GstHst,
            period: None,
            due: None,
            status: FilingStatus::Active,
            created_at: at(0),
        };
        tx.insert_filing(&filing).await.expect("insert filing");
        id
    }

    /// A task on `filing`, unassigned.
    pub(crate) async fn task(tx: &mut dyn Tx, filing: FilingId) -> TaskId {
        let id = TaskId::from_uuid(id());
        let task = NewTask {
            id,
            filing,
            title: Title::parse(&format!("Task {}", unique())).expect("title"),
            due: None,
            created_at: at(0),
        };
        tx.insert_task(&task).await.expect("insert task");
        id
    }
}
