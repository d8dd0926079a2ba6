//! A temporary installation per test and engine, the `ferry-admin` command
//! pointed at it, and direct access to its data to set up and read back.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use ferry_app::{App, AppConfig, PracticeApplication, SystemClock, UuidV7};
use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore, Keyring};
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store;
use ferry_ports::blob::{BlobKey, BlobStore};
use ferry_store_sql::SqlStore;
use serde_json::Value;

/// The variable that points the tests at a PostgreSQL server.
pub const POSTGRES_VAR: &str = "FERRY_TEST_POSTGRES_URL";

/// One temporary installation: a data folder, and its database (SQLite in
/// the folder, or a fresh PostgreSQL schema).
pub struct Install {
    /// `sqlite` or `postgres`, for messages.
    pub engine: &'static str,
    dir: tempfile::TempDir,
    database_url: String,
    schema: Option<(String, String)>,
}

impl Install {
    /// A fresh, unmigrated SQLite installation.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database_url = format!("sqlite://{}", dir.path().join("ferry.db").display());
        Self { engine: "sqlite", dir, database_url, schema: None }
    }

    /// A fresh, unmigrated PostgreSQL installation in its own schema.
    pub async fn postgres(url: &str) -> Self {
        let admin = sqlx::PgPool::connect(url).await.expect("PostgreSQL at FERRY_TEST_POSTGRES_URL");
        let schema = format!("admin_{}", uuid::Uuid::now_v7().simple());
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("a test schema");
        admin.close().await;
        let separator = if url.contains('?') { '&' } else { '?' };
        let database_url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
        let dir = tempfile::tempdir().expect("a temporary folder");
        Self { engine: "postgres", dir, database_url, schema: Some((url.to_owned(), schema)) }
    }

    /// Every engine available here: SQLite always, PostgreSQL when configured.
    pub async fn each() -> Vec<Self> {
        let mut all = vec![Self::sqlite()];
        match std::env::var(POSTGRES_VAR) {
            Ok(url) if !url.is_empty() => all.push(Self::postgres(&url).await),
            _ => eprintln!("skipping the PostgreSQL run: {POSTGRES_VAR} is not set"),
        }
        all
    }

    /// Every engine, migrated.
    pub async fn each_migrated() -> Vec<Self> {
        let all = Self::each().await;
        for install in &all {
            install.admin(&["migrate"]).assert().success();
        }
        all
    }

    /// Drops the PostgreSQL schema (the folder goes with `self`).
    pub async fn finish(self) {
        if let Some((url, schema)) = &self.schema {
            let admin = sqlx::PgPool::connect(url).await.expect("PostgreSQL");
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop the schema");
            admin.close().await;
        }
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The database URL.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// `ferry-admin` with the installation's settings (and nothing from the
    /// environment of whoever runs the tests).
    pub fn admin(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::cargo_bin("ferry-admin").expect("the ferry-admin binary");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("FERRY_") {
                command.env_remove(name);
            }
        }
        command
            .env("FERRY_DATA_DIR", self.data_dir())
            .env("FERRY_DATABASE_URL", &self.database_url)
            .env("FERRY_PUBLIC_URL", "https://ferry.example.com")
            .args(args);
        command
    }

    /// Runs `ferry-admin` with `--json`, expects success, and parses standard output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.admin(&all).output().expect("ferry-admin runs");
        assert!(
            output.status.success(),
            "{}: ferry-admin {args:?} failed ({}): {}{}",
            self.engine,
            output.status,
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", self.engine, String::from_utf8_lossy(&output.stdout)))
    }

    /// The installation's database, opened directly.
    pub async fn store(&self) -> SqlStore {
        SqlStore::connect(&self.database_url).await.expect("the database opens")
    }

    /// The installation's file store, with its master key.
    pub fn blobs(&self) -> EncryptedBlobStore {
        let (keyring, _) =
            Keyring::load_or_create(None, &self.data_dir().join("master.keys")).expect("the master key file");
        EncryptedBlobStore::open(&BlobLocation::folder(self.blob_dir()), keyring, BlobOptions::default())
            .expect("the file store opens")
    }

    /// Where the file store keeps its files.
    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir().join("blobs")
    }

    /// The app layer over the installation, for setting up what no operator command makes.
    pub async fn app(&self) -> App {
        let store: Arc<dyn Store> = Arc::new(self.store().await);
        let config = AppConfig::new(BaseUrl::parse("https://ferry.example.com").expect("a base URL"));
        App::new(store, Arc::new(self.blobs()), Arc::new(SystemClock), Arc::new(UuidV7), config)
    }

    /// A pending practice applied for over the app layer; returns its id.
    pub async fn apply(&self, name: &str, admin_email: &str) -> String {
        let app = self.app().await;
        let practice = app
            .apply_for_practice(&PracticeApplication {
                practice_name: name.to_owned(),
                admin_name: "Ada Admin".to_owned(),
                admin_email: admin_email.to_owned(),
            })
            .await
            .expect("the application is accepted");
        practice.id.to_string()
    }

    /// Stores `bytes` under `key` in the file store.
    pub async fn put_blob(&self, key: &str, bytes: &[u8]) {
        let blobs = self.blobs();
        let mut upload = blobs.begin_upload(&BlobKey::parse(key).expect("a key")).await.expect("an upload");
        upload.write(bytes).await.expect("written");
        upload.commit().await.expect("committed");
    }

    /// Whether the file store has `key`.
    pub async fn has_blob(&self, key: &str) -> bool {
        self.blobs().exists(&BlobKey::parse(key).expect("a key")).await.expect("the file store answers")
    }

    /// A raw connection for tampering with the database as an attacker would.
    pub async fn raw_execute(&self, statements: &[&str]) {
        match &self.schema {
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.database_url).expect("a URL");
                let pool = sqlx::SqlitePool::connect_with(options).await.expect("SQLite opens");
                for statement in statements {
                    sqlx::query(statement).execute(&pool).await.expect("the statement runs");
                }
                pool.close().await;
            }
            Some(_) => {
                let pool = sqlx::PgPool::connect(&self.database_url).await.expect("PostgreSQL opens");
                for statement in statements {
                    sqlx::query(statement).execute(&pool).await.expect("the statement runs");
                }
                pool.close().await;
            }
        }
    }
}

/// Standard error of a finished command, as text.
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output of a finished command, as text.
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}
