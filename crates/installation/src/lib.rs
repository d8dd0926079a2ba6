//! Where a Ferry installation keeps its data.
//!
//! `ferry-server` and `ferry-admin` open the same installation: the same
//! flags and `FERRY_*` environment variables with the same defaults, so
//! that the operator tool run with the server's environment works on the
//! server's data. This crate holds those shared settings
//! ([`InstallationArgs`], flattened into each binary's command line), checks
//! them once ([`InstallationArgs::resolve`]), and opens the database and the
//! encrypted file store from them ([`Installation::open_store`],
//! [`Installation::open_files`]).
//!
//! Every error names the setting at fault, as `--flag (FERRY_VARIABLE)`, and
//! never repeats a secret (database passwords, master keys).

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore, KeySource, Keyring};
use ferry_ports::StoreError;
use ferry_store_sql::SqlStore;

/// The `--data-dir` flag and its variable, as errors name it.
pub const DATA_DIR: &str = "--data-dir (FERRY_DATA_DIR)";
/// The `--database-url` flag and its variable.
pub const DATABASE_URL: &str = "--database-url (FERRY_DATABASE_URL)";
/// The `--blob-url` flag and its variable.
pub const BLOB_URL: &str = "--blob-url (FERRY_BLOB_URL)";
/// The `--master-keys` flag and its variable.
pub const MASTER_KEYS: &str = "--master-keys (FERRY_MASTER_KEYS)";
/// The `--master-key-file` flag and its variable.
pub const MASTER_KEY_FILE: &str = "--master-key-file (FERRY_MASTER_KEY_FILE)";

/// The name of the master key file in the data folder.
const KEY_FILE: &str = "master.keys";

/// Where the installation's data is. Every flag can also be set through the
/// environment variable shown with it.
#[derive(Debug, Clone, Args)]
pub struct InstallationArgs {
    /// The folder for the installation's own files (database, blobs, master.keys, outbox).
    #[arg(long, global = true, env = "FERRY_DATA_DIR", value_name = "DIR", default_value = "./ferry-data")]
    data_dir: PathBuf,

    /// The database: sqlite://path/to/file.db or postgres://user@host/db
    /// [default: sqlite://<data-dir>/ferry.db]
    #[arg(long, global = true, env = "FERRY_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    database_url: Option<String>,

    /// Where uploaded files are stored: file:///path, s3://bucket/prefix or memory://
    /// [default: file://<data-dir>/blobs]
    #[arg(long, global = true, env = "FERRY_BLOB_URL", value_name = "URL")]
    blob_url: Option<String>,

    /// The master keys that encrypt files at rest, `id:base64key[,id:base64key...]`,
    /// newest first [default: the key file <data-dir>/master.keys, made on first start].
    #[arg(long, global = true, env = "FERRY_MASTER_KEYS", value_name = "KEYS", hide_env_values = true)]
    master_keys: Option<String>,

    /// The file that holds the master keys when --master-keys is not set, made with
    /// one fresh key (readable by its owner only) on first start; keep it out of the
    /// backups of the files [default: <data-dir>/master.keys].
    #[arg(long, global = true, env = "FERRY_MASTER_KEY_FILE", value_name = "FILE")]
    master_key_file: Option<PathBuf>,
}

/// Whether resolving the settings may set up a new installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// Make the data folder (and the default blob folder) when missing, as
    /// the server does at its first start and `ferry-admin migrate` does.
    Create,
    /// Work on an installation that exists: a missing data folder or SQLite
    /// database is an error, so that a typo does not quietly start an empty
    /// installation.
    Existing,
}

/// A setting that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The flag and its variable, such as `--listen (FERRY_LISTEN)`.
    setting: &'static str,
    /// What is wrong, never repeating a secret.
    message: String,
}

impl SettingError {
    /// A setting and what is wrong with it.
    pub fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self { setting, message: message.into() }
    }

    /// The flag and its variable.
    #[must_use]
    pub fn setting(&self) -> &'static str {
        self.setting
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for SettingError {}

/// Why the database or the file store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A setting is wrong: fix it and start again.
    #[error(transparent)]
    Setting(#[from] SettingError),
    /// The backend did not answer or refused to work; the message names the
    /// setting that points at it.
    #[error("{0}")]
    Unavailable(String),
}

/// The master keys as configured, or none to use the key file; never shown.
#[derive(Clone)]
struct MasterKeys(Option<String>);

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "MasterKeys(set)" } else { "MasterKeys(key file)" })
    }
}

/// The checked settings of an installation.
#[derive(Debug, Clone)]
pub struct Installation {
    data_dir: PathBuf,
    database_url: String,
    blob: BlobLocation,
    master_keys: MasterKeys,
    key_file: PathBuf,
}

impl InstallationArgs {
    /// Checks every setting; with [`Setup::Create`], makes the data folder
    /// (and the default blob folder in it) on the way.
    ///
    /// # Errors
    /// The first setting that cannot be used.
    pub fn resolve(self, setup: Setup) -> Result<Installation, SettingError> {
        if setup == Setup::Create {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                SettingError::new(DATA_DIR, format!("cannot create the folder {}: {e}", self.data_dir.display()))
            })?;
        }
        let data_dir = std::fs::canonicalize(&self.data_dir).map_err(|e| {
            let hint = match setup {
                Setup::Create => "",
                Setup::Existing => {
                    "; point --data-dir at the server's data folder, \
                     or run `ferry-admin migrate` to set up a new installation"
                }
            };
            SettingError::new(DATA_DIR, format!("cannot use the folder {}: {e}{hint}", self.data_dir.display()))
        })?;

        let (database_url, sqlite_file) = match self.database_url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty())
        {
            Some(url) => {
                let known = ["sqlite:", "postgres://", "postgresql://"];
                if !known.iter().any(|k| url.starts_with(k)) {
                    return Err(SettingError::new(
                        DATABASE_URL,
                        "it must start with sqlite:// or postgres:// (such as sqlite://ferry-data/ferry.db)",
                    ));
                }
                let file = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)));
                (url, file)
            }
            None => {
                let file = data_dir.join("ferry.db");
                (format!("sqlite://{}", sqlite_path(&file)), Some(file))
            }
        };
        if setup == Setup::Existing
            && let Some(file) = &sqlite_file
            && !file.is_file()
        {
            return Err(SettingError::new(
                DATABASE_URL,
                format!(
                    "there is no database at {}; point --data-dir or --database-url at the server's, \
                     or run `ferry-admin migrate` to set up a new installation",
                    file.display()
                ),
            ));
        }

        let blob = match self.blob_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => BlobLocation::parse(&url).map_err(|e| SettingError::new(BLOB_URL, e.to_string()))?,
            None => {
                let dir = data_dir.join("blobs");
                std::fs::create_dir_all(&dir).map_err(|e| {
                    SettingError::new(BLOB_URL, format!("cannot create the folder {}: {e}", dir.display()))
                })?;
                BlobLocation::folder(dir)
            }
        };

        let key_file = match self.master_key_file.filter(|p| !p.as_os_str().is_empty()) {
            Some(file) => std::path::absolute(&file).map_err(|e| {
                SettingError::new(MASTER_KEY_FILE, format!("cannot use the file {}: {e}", file.display()))
            })?,
            None => data_dir.join(KEY_FILE),
        };

        Ok(Installation {
            data_dir,
            database_url,
            blob,
            master_keys: MasterKeys(self.master_keys.filter(|k| !k.trim().is_empty())),
            key_file,
        })
    }
}

impl Installation {
    /// The data folder, absolute.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The database URL (it may hold a password: never log it).
    #[must_use]
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Where uploaded files are stored.
    #[must_use]
    pub fn blob(&self) -> &BlobLocation {
        &self.blob
    }

    /// Whether the master keys are set (`--master-keys`), so that no key file is used.
    #[must_use]
    pub const fn master_keys_set(&self) -> bool {
        self.master_keys.0.is_some()
    }

    /// The file the master keys are kept in when they are not set.
    #[must_use]
    pub fn key_file(&self) -> PathBuf {
        self.key_file.clone()
    }

    /// What to tell the operator when the key file lies in the data folder
    /// of an installation whose database or files live elsewhere
    /// (PostgreSQL, S3): a copy of the folder (a backup, a disk image) then
    /// carries the key that opens every file. `None` when the keys are set,
    /// the file lies elsewhere, or the installation is on its embedded
    /// defaults (SQLite and a local folder, where everything is one folder).
    #[must_use]
    pub fn key_file_warning(&self) -> Option<String> {
        let production = !self.database_url.starts_with("sqlite:") || self.blob.is_s3();
        if self.master_keys.0.is_some() || !production || !self.key_file.starts_with(&self.data_dir) {
            return None;
        }
        Some(format!(
            "the master key file {} lies in the data folder {}, so a copy of the folder carries the key to \
             every file: move it where the folder's backups do not reach and point {MASTER_KEY_FILE} at it, \
             or set {MASTER_KEYS}",
            self.key_file.display(),
            self.data_dir.display()
        ))
    }

    /// Connects to the database (without migrating it).
    ///
    /// # Errors
    /// [`OpenError::Setting`] when the URL is refused as written,
    /// [`OpenError::Unavailable`] when the database cannot be reached.
    pub async fn open_store(&self) -> Result<SqlStore, OpenError> {
        SqlStore::connect(&self.database_url).await.map_err(|e| match e {
            StoreError::Rejected { reason, .. } => OpenError::Setting(SettingError::new(DATABASE_URL, reason)),
            other => OpenError::Unavailable(format!(
                "{DATABASE_URL}: cannot open the database: {other}; check the URL and that the database server is up"
            )),
        })
    }

    /// Opens the encrypted file store with the master keys: the setting when
    /// given, else the key file, made with a fresh key when there is none.
    /// The [`KeySource`] says which, so that the caller can tell the
    /// operator to back up a key file just made.
    ///
    /// # Errors
    /// [`OpenError::Setting`] for master keys that cannot be read or made,
    /// [`OpenError::Unavailable`] when the file store cannot be opened.
    pub fn open_files(&self) -> Result<(EncryptedBlobStore, KeySource), OpenError> {
        let setting = if self.master_keys.0.is_some() { MASTER_KEYS } else { MASTER_KEY_FILE };
        let (keyring, source) = Keyring::load_or_create(self.master_keys.0.as_deref(), &self.key_file)
            .map_err(|e| SettingError::new(setting, e.to_string()))?;
        let blobs = EncryptedBlobStore::open(&self.blob, keyring, BlobOptions::default()).map_err(|e| {
            OpenError::Unavailable(format!("{BLOB_URL}: cannot open the file store {}: {e}", self.blob))
        })?;
        Ok((blobs, source))
    }
}

/// A path as it goes into a `sqlite://` URL: sqlx decodes `%` escapes, so
/// the characters that would end or escape the path are encoded.
fn sqlite_path(path: &Path) -> String {
    path.display().to_string().replace('%', "%25").replace('?', "%3F").replace('#', "%23")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        installation: InstallationArgs,
    }

    fn args(dir: &Path, extra: &[&str]) -> InstallationArgs {
        let dir = dir.to_str().expect("a UTF-8 path");
        let mut argv = vec!["ferry", "--data-dir", dir];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("flags that parse").installation
    }

    #[test]
    fn defaults_live_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new");
        let installation = args(&data, &[]).resolve(Setup::Create).expect("the defaults work");
        assert_eq!(installation.data_dir(), std::fs::canonicalize(&data).unwrap());
        assert_eq!(installation.database_url(), format!("sqlite://{}/ferry.db", installation.data_dir().display()));
        assert_eq!(installation.blob().to_string(), format!("file://{}/blobs", installation.data_dir().display()));
        assert!(installation.data_dir().join("blobs").is_dir());
        assert_eq!(installation.key_file(), installation.data_dir().join("master.keys"));
    }

    #[test]
    fn an_existing_installation_is_not_created_by_accident() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let error = args(&missing, &[]).resolve(Setup::Existing).expect_err("no data folder").to_string();
        assert!(error.starts_with("--data-dir (FERRY_DATA_DIR): cannot use the folder"), "{error}");
        assert!(error.contains("ferry-admin migrate"), "{error}");
        assert!(!missing.exists());
        let error = args(dir.path(), &[]).resolve(Setup::Existing).expect_err("no database").to_string();
        assert!(error.starts_with("--database-url (FERRY_DATABASE_URL): there is no database"), "{error}");
        let error = args(&missing, &[]).resolve(Setup::Create).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(error, Ok(()));
        assert!(missing.is_dir());
    }

    #[test]
    fn bad_values_name_their_setting() {
        let dir = tempfile::tempdir().unwrap();
        let error =
            |extra: &[&str]| args(dir.path(), extra).resolve(Setup::Create).expect_err("a bad setting").to_string();
        assert!(error(&["--database-url", "mysql://x"]).starts_with("--database-url (FERRY_DATABASE_URL): "));
        assert!(error(&["--blob-url", "ftp://x"]).starts_with("--blob-url (FERRY_BLOB_URL): "));
        assert!(error(&["--blob-url", "file://relative"]).starts_with("--blob-url (FERRY_BLOB_URL): "));
        let file = dir.path().join("a-file");
        std::fs::write(&file, b"not a folder").unwrap();
        let error = args(&file, &[]).resolve(Setup::Create).expect_err("a file is no folder").to_string();
        assert!(error.starts_with("--data-dir (FERRY_DATA_DIR): cannot create the folder"), "{error}");
    }

    #[test]
    fn master_keys_are_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let installation =
            args(dir.path(), &["--master-keys", "k1:c2VjcmV0LXNlY3JldC1zZWNyZXQ="]).resolve(Setup::Create).unwrap();
        let shown = format!("{installation:?}");
        assert!(shown.contains("MasterKeys(set)"), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
    }

    #[test]
    fn bad_master_keys_name_their_setting_without_repeating_them() {
        let dir = tempfile::tempdir().unwrap();
        let installation =
            args(dir.path(), &["--master-keys", "k1:bm90LWEta2V5"]).resolve(Setup::Create).expect("resolves");
        let error = installation.open_files().map(|_| ()).expect_err("a short key").to_string();
        assert!(error.starts_with("--master-keys (FERRY_MASTER_KEYS): "), "{error}");
        assert!(!error.contains("bm90LWEta2V5"), "{error}");
    }

    #[test]
    fn the_key_file_is_made_once_and_then_found() {
        let dir = tempfile::tempdir().unwrap();
        let installation = args(dir.path(), &[]).resolve(Setup::Create).unwrap();
        let (_, source) = installation.open_files().expect("a new key file");
        assert_eq!(source, KeySource::Created(installation.key_file()));
        let (_, source) = installation.open_files().expect("the key file again");
        assert_eq!(source, KeySource::File(installation.key_file()));
    }

    #[test]
    fn the_key_file_can_live_outside_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("elsewhere").join("ferry.keys");
        let data = dir.path().join("data");
        let keys_flag = keys.to_str().unwrap();
        let installation = args(&data, &["--master-key-file", keys_flag]).resolve(Setup::Create).unwrap();
        assert_eq!(installation.key_file(), keys);
        let (_, source) = installation.open_files().expect("a new key file where asked");
        assert_eq!(source, KeySource::Created(keys.clone()));
        assert!(keys.is_file());
        assert!(!data.join("master.keys").exists());
    }

    #[cfg(unix)]
    #[test]
    fn an_exposed_key_file_stops_the_start_naming_its_setting() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let installation = args(dir.path(), &[]).resolve(Setup::Create).unwrap();
        installation.open_files().expect("a new key file");
        std::fs::set_permissions(installation.key_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = installation.open_files().map(|_| ()).expect_err("others may read it").to_string();
        assert!(error.starts_with("--master-key-file (FERRY_MASTER_KEY_FILE): "), "{error}");
        assert!(error.contains("chmod 600"), "{error}");
    }

    #[test]
    fn a_key_file_beside_the_files_of_a_production_installation_is_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let postgres = ["--database-url", "postgres://ferry@db.example.com/ferry"];
        let s3 = ["--blob-url", "s3://ferry-files/prefix"];
        let elsewhere = tempfile::tempdir().unwrap();
        let outside = elsewhere.path().join("master.keys");
        let outside = ["--master-key-file", outside.to_str().unwrap()];
        let warned = |extra: &[&str]| args(dir.path(), extra).resolve(Setup::Create).unwrap().key_file_warning();
        // The embedded default (SQLite and a local folder) keeps its key in the data folder quietly.
        assert_eq!(warned(&[]), None);
        for production in [&postgres[..], &s3[..]] {
            let warning = warned(production).expect("a warning");
            assert!(warning.contains("master.keys"), "{warning}");
            assert!(warning.contains("--master-key-file (FERRY_MASTER_KEY_FILE)"), "{warning}");
            assert_eq!(warned(&[production, &outside[..]].concat()), None, "kept elsewhere");
            let set = [production, &["--master-keys", "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="][..]].concat();
            assert_eq!(warned(&set), None, "keys set, no file");
        }
    }

    #[tokio::test]
    async fn the_default_database_opens_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let installation = args(dir.path(), &[]).resolve(Setup::Create).unwrap();
        let store = installation.open_store().await.expect("SQLite in the data folder");
        store.close().await;
        assert!(installation.data_dir().join("ferry.db").is_file());
        let again = args(dir.path(), &[]).resolve(Setup::Existing).expect("now it exists");
        assert_eq!(again.database_url(), installation.database_url());
    }

    #[test]
    fn odd_characters_in_the_data_folder_survive_the_sqlite_url() {
        assert_eq!(sqlite_path(Path::new("/srv/a b/50%?#/ferry.db")), "/srv/a b/50%25%3F%23/ferry.db");
    }
}
