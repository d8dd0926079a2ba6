//! What the use-case tests share: an `App` over a migrated SQLite store in a
//! temporary folder, with password hashing made cheap, a store on each engine
//! available here (SQLite always, PostgreSQL when `FERRY_TEST_POSTGRES_URL` is
//! set), and reading what it queued in the outbox. Each test file uses the
//! part it needs.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use ferry_app::{App, AppConfig, AppError, Credentials, PasswordPolicy, Principal, SystemClock, UuidV7};
use ferry_domain::ids::{PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::{Plan, PracticeTransition};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName};
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store;
use ferry_ports::records::{NewPractice, NewUser, OutboxStatus, OutgoingMail, PageRequest, UserKind};
use ferry_store_sql::SqlStore;
use time::OffsetDateTime;
use uuid::Uuid;

/// The configuration the tests run with: links to localhost, and Argon2
/// at its cheapest so that signing in takes microseconds.
pub(crate) fn test_config() -> AppConfig {
    let mut config = AppConfig::new(BaseUrl::parse("http://localhost:8080").expect("a base URL"));
    config.passwords = PasswordPolicy { memory_kib: 64, iterations: 1, ..PasswordPolicy::default() };
    config
}

/// The variable that points the tests at a PostgreSQL server.
pub(crate) const POSTGRES_VAR: &str = "FERRY_TEST_POSTGRES_URL";

/// A database engine the tests run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Sqlite,
    Postgres,
}

/// What to clean up after a test.
pub(crate) enum Cleanup {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    Schema(sqlx::PgPool, String),
}

impl Cleanup {
    /// Closes `store` and drops its schema (SQLite's folder goes with `self`).
    pub(crate) async fn finish(self, store: &SqlStore) {
        store.close().await;
        if let Self::Schema(admin, schema) = self {
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop the test schema");
            admin.close().await;
        }
    }
}

/// The engines available here: SQLite always, PostgreSQL when
/// `FERRY_TEST_POSTGRES_URL` is set (otherwise the reason is printed).
pub(crate) fn engines() -> Vec<Engine> {
    match std::env::var(POSTGRES_VAR) {
        Ok(url) if !url.is_empty() => vec![Engine::Sqlite, Engine::Postgres],
        _ => {
            eprintln!("skipping the PostgreSQL run: {POSTGRES_VAR} is not set");
            vec![Engine::Sqlite]
        }
    }
}

/// A fresh, migrated store on `engine`: a temporary SQLite file, or a new
/// PostgreSQL schema.
pub(crate) async fn open_store(engine: Engine) -> (SqlStore, Cleanup) {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let url = format!("sqlite://{}", dir.path().join("ferry.db").display());
            let store = SqlStore::connect(&url).await.expect("SQLite store");
            store.migrate().await.expect("migrations on SQLite");
            (store, Cleanup::Folder(dir))
        }
        Engine::Postgres => {
            let url = std::env::var(POSTGRES_VAR).expect("the PostgreSQL URL");
            let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL at FERRY_TEST_POSTGRES_URL");
            let schema = format!("t_{}", Uuid::now_v7().simple());
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("a test schema");
            let options = sqlx::postgres::PgConnectOptions::from_str(&url)
                .expect("FERRY_TEST_POSTGRES_URL")
                .options([("search_path", schema.as_str())]);
            let store = SqlStore::connect_postgres(options).await.expect("PostgreSQL store");
            store.migrate().await.expect("migrations on PostgreSQL");
            (store, Cleanup::Schema(admin, schema))
        }
    }
}

/// An `App` over its own SQLite database, with files kept in memory.
pub(crate) struct SqliteApp {
    pub(crate) app: App,
    pub(crate) store: Arc<SqlStore>,
    _dir: tempfile::TempDir,
}

impl SqliteApp {
    /// The app, its store, and the folder that must outlive them.
    pub(crate) fn into_parts(self) -> (App, Arc<SqlStore>, tempfile::TempDir) {
        (self.app, self.store, self._dir)
    }
}

/// An `App` over `store` with the test configuration and files kept in memory.
fn app_over(store: SqlStore, config: AppConfig) -> (App, Arc<SqlStore>) {
    let store = Arc::new(store);
    let app = App::new(
        store.clone(),
        Arc::new(ferry_blob::EncryptedBlobStore::in_memory()),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        config,
    );
    (app, store)
}

/// A fresh, migrated installation on SQLite.
pub(crate) async fn sqlite_app() -> SqliteApp {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", dir.path().join("ferry.db").display());
    let store = SqlStore::connect(&url).await.expect("a SQLite store");
    store.migrate().await.expect("the migrations");
    let (app, store) = app_over(store, test_config());
    SqliteApp { app, store, _dir: dir }
}

/// Every message queued to `to` and not yet sent, oldest first.
pub(crate) async fn mails_to(store: &SqlStore, to: &str) -> Vec<OutgoingMail> {
    queued(store).await.into_iter().filter(|m| m.to.as_str() == to).collect()
}

/// Every message queued and not yet sent, oldest first.
pub(crate) async fn queued(store: &SqlStore) -> Vec<OutgoingMail> {
    let mut tx = store.read().await.expect("a read transaction");
    let outbox = tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(500)).await.expect("the outbox");
    tx.rollback().await.expect("the end of the read");
    outbox.items.into_iter().map(|m| m.mail).collect()
}

/// The token in the link of the newest message queued to `to`.
pub(crate) async fn mailed_token(store: &SqlStore, to: &str) -> String {
    let mails = mails_to(store, to).await;
    let mail = mails.last().unwrap_or_else(|| panic!("no mail to {to}"));
    let start = mail.text.find("token=").expect("a link with a token") + "token=".len();
    mail.text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// Signs in as a person would, and acts in that session.
pub(crate) async fn sign_in(app: &App, email: &str, password: &str) -> Result<Principal, AppError> {
    let signed = app.sign_in(Credentials { email: email.into(), password: password.into(), address: None }).await?;
    Ok(Principal::User { user: signed.user.id, session: Some(signed.session) })
}

/// A person inserted straight into the store: who they are when acting
/// (without a session), and their address.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) who: Principal,
    pub(crate) id: UserId,
    pub(crate) email: String,
}

/// A user named `name` (a unique address is made up from it).
pub(crate) async fn insert_user(store: &SqlStore, name: &str, kind: UserKind) -> Person {
    let id = UserId::from_uuid(Uuid::now_v7());
    let email = format!("{}-{}@example.com", name.to_lowercase().replace(' ', "."), id.as_uuid().simple());
    let mut tx = store.begin().await.unwrap();
    tx.insert_user(&NewUser {
        id,
        email: EmailAddress::parse(&email).unwrap(),
        name: PersonName::parse(name).unwrap(),
        kind,
        created_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Person { who: Principal::User { user: id, session: None }, id, email }
}

pub(crate) async fn insert_member(store: &SqlStore, practice: PracticeId, name: &str, role: Role) -> Person {
    let person = insert_user(store, name, UserKind::Practice).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_member(person.id, practice, role).await.unwrap();
    tx.commit().await.unwrap();
    person
}

/// A practice approved by the operator, with its first admin.
pub(crate) async fn approved_practice(app: &App, store: &SqlStore, name: &str, admin: &str) -> (PracticeId, Person) {
    let id = PracticeId::from_uuid(Uuid::now_v7());
    let mut tx = store.begin().await.unwrap();
    tx.insert_practice(&NewPractice {
        id,
        name: OrganisationName::parse(name).unwrap(),
        plan: Plan::default(),
        created_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let admin = insert_member(store, id, admin, Role::Admin).await;
    app.decide_practice(&Principal::Operator, id, PracticeTransition::Approve).await.unwrap();
    (id, admin)
}

/// An `App` over a fresh store on one engine, with files kept in memory.
pub(crate) struct EngineApp {
    pub(crate) engine: Engine,
    pub(crate) app: App,
    pub(crate) store: Arc<SqlStore>,
    cleanup: Cleanup,
}

impl EngineApp {
    /// A fresh, migrated installation on `engine`.
    pub(crate) async fn new(engine: Engine) -> Self {
        Self::with_config(engine, test_config()).await
    }

    /// A fresh, migrated installation on `engine`, configured with `config`.
    pub(crate) async fn with_config(engine: Engine, config: AppConfig) -> Self {
        let (store, cleanup) = open_store(engine).await;
        let (app, store) = app_over(store, config);
        Self { engine, app, store, cleanup }
    }

    /// Closes the store and removes its database.
    pub(crate) async fn finish(self) {
        let Self { app, store, cleanup, .. } = self;
        drop(app);
        cleanup.finish(&store).await;
    }
}
