//! The installation's settings, shared with `ferry-server`: the same flags
//! and `FERRY_*` environment variables, with the same defaults, so that
//! `ferry-admin` run with the server's environment opens the server's data.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Args;
use ferry_blob::BlobLocation;
use ferry_mail::templates::BaseUrl;

/// Where the installation's data is. Every flag can also be set through the
/// environment variable shown with it, as for `ferry-server`.
#[derive(Debug, Clone, Args)]
pub(crate) struct InstallationArgs {
    /// The server's data folder (database, blobs, master.keys).
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

    /// The master keys that encrypt files at rest, `id:base64key[,id:base64key...]`
    /// [default: the key file <data-dir>/master.keys].
    #[arg(long, global = true, env = "FERRY_MASTER_KEYS", value_name = "KEYS", hide_env_values = true)]
    master_keys: Option<String>,

    /// The address people reach Ferry at, for links in the mail this tool
    /// queues [default: http://127.0.0.1:8080, the server's default address].
    #[arg(long, global = true, env = "FERRY_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
}

/// A setting that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SettingError {
    setting: &'static str,
    message: String,
}

impl SettingError {
    pub(crate) fn new(setting: &'static str, message: impl Into<String>) -> Self {
        Self { setting, message: message.into() }
    }
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

pub(crate) const DATA_DIR: &str = "--data-dir (FERRY_DATA_DIR)";
pub(crate) const DATABASE_URL: &str = "--database-url (FERRY_DATABASE_URL)";
pub(crate) const BLOB_URL: &str = "--blob-url (FERRY_BLOB_URL)";
pub(crate) const MASTER_KEYS: &str = "--master-keys (FERRY_MASTER_KEYS)";
const PUBLIC_URL: &str = "--public-url (FERRY_PUBLIC_URL)";

/// The server's default address, used for links when no public URL is set.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The master keys as configured, or none to use the key file; never shown.
#[derive(Clone)]
pub(crate) struct MasterKeys(pub(crate) Option<String>);

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "MasterKeys(set)" } else { "MasterKeys(key file)" })
    }
}

/// The checked settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) data_dir: PathBuf,
    pub(crate) database_url: String,
    pub(crate) blob: BlobLocation,
    pub(crate) master_keys: MasterKeys,
    pub(crate) public_url: BaseUrl,
}

impl Settings {
    /// The file the master keys are kept in when they are not set.
    pub(crate) fn key_file(&self) -> PathBuf {
        self.data_dir.join("master.keys")
    }
}

impl InstallationArgs {
    /// Checks every setting. With `create`, the data folder (and the default
    /// blob folder) is made when missing, as the server does at its first
    /// start; without, a missing data folder is an error, so that a typo
    /// does not quietly start an empty installation.
    ///
    /// # Errors
    /// The first setting that cannot be used.
    pub(crate) fn resolve(self, create: bool) -> Result<Settings, SettingError> {
        if create {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                SettingError::new(DATA_DIR, format!("cannot create the folder {}: {e}", self.data_dir.display()))
            })?;
        }
        let data_dir = std::fs::canonicalize(&self.data_dir).map_err(|e| {
            SettingError::new(
                DATA_DIR,
                format!(
                    "cannot use the folder {}: {e}; point --data-dir at the server's data folder, \
                     or run `ferry-admin migrate` to set up a new installation",
                    self.data_dir.display()
                ),
            )
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
        if !create
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

        let public_url = self.public_url.filter(|u| !u.trim().is_empty());
        let public_url = BaseUrl::parse(public_url.as_deref().unwrap_or(DEFAULT_PUBLIC_URL))
            .map_err(|e| SettingError::new(PUBLIC_URL, e.to_string()))?;

        Ok(Settings {
            data_dir,
            database_url,
            blob,
            master_keys: MasterKeys(self.master_keys.filter(|k| !k.trim().is_empty())),
            public_url,
        })
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
        let mut argv = vec!["ferry-admin", "--data-dir", dir];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("flags that parse").installation
    }

    #[test]
    fn defaults_live_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let settings = args(dir.path(), &[]).resolve(true).expect("the defaults work");
        assert_eq!(settings.database_url, format!("sqlite://{}/ferry.db", settings.data_dir.display()));
        assert_eq!(settings.blob.to_string(), format!("file://{}/blobs", settings.data_dir.display()));
        assert_eq!(settings.public_url.as_str(), "http://127.0.0.1:8080");
        assert_eq!(settings.key_file(), settings.data_dir.join("master.keys"));
    }

    #[test]
    fn a_missing_installation_is_not_created_by_accident() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let error = args(&missing, &[]).resolve(false).expect_err("no data folder").to_string();
        assert!(error.starts_with("--data-dir (FERRY_DATA_DIR): "), "{error}");
        assert!(!missing.exists());
        let error = args(dir.path(), &[]).resolve(false).expect_err("no database").to_string();
        assert!(error.starts_with("--database-url (FERRY_DATABASE_URL): there is no database"), "{error}");
    }

    #[test]
    fn bad_values_name_their_setting() {
        let dir = tempfile::tempdir().unwrap();
        let error = |extra: &[&str]| args(dir.path(), extra).resolve(true).expect_err("a bad setting").to_string();
        assert!(error(&["--database-url", "mysql://x"]).starts_with("--database-url (FERRY_DATABASE_URL): "));
        assert!(error(&["--blob-url", "ftp://x"]).starts_with("--blob-url (FERRY_BLOB_URL): "));
        assert!(error(&["--public-url", "ftp://x"]).starts_with("--public-url (FERRY_PUBLIC_URL): "));
    }
}
