//! Ferry's SQL store: the [`ferry_ports::Store`] port on SQLite (the embedded
//! default) and PostgreSQL (for installations that outgrow one machine).
//!
//! Both engines run the same SQL text wherever the dialects agree (sqlx
//! accepts `$1`-style parameters on SQLite too); the few statements that
//! differ (row locks, the audit chain lock) are written once per engine next
//! to each other. Rows are read with runtime queries into `FromRow` structs
//! and turned into domain types on the way out; driver errors are turned into
//! [`ferry_ports::StoreError`] so that no sqlx type crosses the port.
//!
//! `tx.rs` holds the plumbing: [`SqlTx`], the macros that run a query body
//! on either engine, and commit and rollback. Each of the port's aggregate
//! traits is implemented on [`SqlTx`] in its own module, next to its SQL:
//! `practices.rs` ([`PracticeStore`](ferry_ports::store::PracticeStore)),
//! `people.rs` (`PeopleStore`), `relations.rs` (`ConsentStore`), `facts.rs`
//! (`AccessStore`), `work.rs` (`WorkStore`), `sessions.rs` (`SessionStore`),
//! `quota.rs` (`QuotaStore`), `files.rs` (`DocumentStore`), `transfers.rs`
//! (`TransferStore`), `audit.rs` (`AuditStore`), `mail.rs` (`OutboxStore`)
//! and `admin.rs` (`OperatorStore`).
//!
//! ```no_run
//! # async fn run() -> Result<(), ferry_ports::StoreError> {
//! use ferry_ports::Store;
//! let store = ferry_store_sql::SqlStore::connect("sqlite://ferry-data/ferry.db").await?;
//! store.migrate().await?;
//! let mut tx = store.begin().await?;
//! // ... reads and writes ...
//! tx.commit().await?;
//! # Ok(()) }
//! ```

mod admin;
mod audit;
mod convert;
mod error;
mod facts;
mod files;
mod mail;
mod people;
mod practices;
mod prelude;
mod quota;
mod relations;
mod sessions;
mod transfers;
mod tx;
mod work;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use ferry_ports::{Store, StoreError, Tx};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use audit::audit_hash;
pub use tx::SqlTx;

/// How long a writer waits for SQLite's write lock before giving up. Writers
/// queue behind each other; this bounds the wait under heavy load.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request waits for a pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite, one file.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The SQL store. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    /// Connects to `url`: `sqlite://path/to/file.db` (created with its folder
    /// if missing) or `postgres://user@host/db`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database cannot be reached or
    /// created; [`StoreError::Rejected`] for a URL of another scheme.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or(path);
            if let Some(parent) = std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Unavailable(format!("cannot create the folder {}: {e}", parent.display()))
                })?;
            }
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Unavailable(format!("bad SQLite URL: {e}")))?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(error::unavailable)?;
            Ok(Self { pool: Pool::Sqlite(pool) })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?;
            Self::connect_postgres(options).await
        } else {
            Err(StoreError::Rejected {
                what: "database URL",
                reason: "it must start with sqlite:// or postgres://".to_owned(),
            })
        }
    }

    /// Connects to PostgreSQL with prepared options (tests use this to pin a
    /// schema with `search_path`).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the server cannot be reached.
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(error::unavailable)?;
        Ok(Self { pool: Pool::Postgres(pool) })
    }

    /// The engine behind this store.
    #[must_use]
    pub const fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the migrations that have not run yet. Safe to call at every start.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the database fails;
    /// [`StoreError::Corrupt`] when an applied migration was edited afterwards.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        };
        result.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMismatch(v) => StoreError::Corrupt {
                what: "migration history",
                reason: format!("migration {v} was changed after it was applied"),
            },
            other => StoreError::Unavailable(format!("migrations failed: {other}")),
        })
    }

    /// The versions of the migrations this build carries, newest last.
    #[must_use]
    pub fn known_migrations(&self) -> Vec<i64> {
        let migrator = match self.pool {
            Pool::Sqlite(_) => &SQLITE_MIGRATIONS,
            Pool::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).collect()
    }

    /// Closes every connection (waits for those in use to come back).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = match &self.pool {
            // Take the write lock up front: a deferred transaction that reads
            // and then writes can fail with "busy" no timeout can cure.
            Pool::Sqlite(pool) => {
                tx::Conn::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await.map_err(error::unavailable)?)
            }
            Pool::Postgres(pool) => tx::Conn::Postgres(pool.begin().await.map_err(error::unavailable)?),
        };
        Ok(Box::new(SqlTx::new(tx)))
    }

    async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = match &self.pool {
            Pool::Sqlite(pool) => tx::Conn::Sqlite(pool.begin().await.map_err(error::unavailable)?),
            Pool::Postgres(pool) => tx::Conn::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await.map_err(error::unavailable)?,
            ),
        };
        Ok(Box::new(SqlTx::new(tx)))
    }
}
