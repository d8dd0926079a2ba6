//! The settings `ferry-admin` reads: the installation's, shared with
//! `ferry-server` (the same flags and `FERRY_*` variables with the same
//! defaults, so that `ferry-admin` run with the server's environment opens
//! the server's data), and the public URL for links in the mail it queues.

use clap::Args;
use ferry_installation::{Installation, InstallationArgs, Setup};
use ferry_mail::templates::BaseUrl;

pub(crate) use ferry_installation::SettingError;

const PUBLIC_URL: &str = "--public-url (FERRY_PUBLIC_URL)";

/// The server's default address, used for links when no public URL is set.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Every setting of `ferry-admin`. Every flag can also be set through the
/// environment variable shown with it, as for `ferry-server`.
#[derive(Debug, Clone, Args)]
pub(crate) struct AdminArgs {
    #[command(flatten)]
    installation: InstallationArgs,

    /// The address people reach Ferry at, for links in the mail this tool
    /// queues [default: http://127.0.0.1:8080, the server's default address].
    #[arg(long, global = true, env = "FERRY_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
}

/// The checked settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) installation: Installation,
    pub(crate) public_url: BaseUrl,
}

impl AdminArgs {
    /// Checks every setting; see [`Setup`] for what `setup` allows.
    ///
    /// # Errors
    /// The first setting that cannot be used.
    pub(crate) fn resolve(self, setup: Setup) -> Result<Settings, SettingError> {
        let installation = self.installation.resolve(setup)?;
        let public_url = self.public_url.filter(|u| !u.trim().is_empty());
        let public_url = BaseUrl::parse(public_url.as_deref().unwrap_or(DEFAULT_PUBLIC_URL))
            .map_err(|e| SettingError::new(PUBLIC_URL, e.to_string()))?;
        Ok(Settings { installation, public_url })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        settings: AdminArgs,
    }

    fn args(dir: &Path, extra: &[&str]) -> AdminArgs {
        let dir = dir.to_str().expect("a UTF-8 path");
        let mut argv = vec!["ferry-admin", "--data-dir", dir];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("flags that parse").settings
    }

    #[test]
    fn links_point_at_the_servers_default_address_unless_told() {
        let dir = tempfile::tempdir().unwrap();
        let settings = args(dir.path(), &[]).resolve(Setup::Create).expect("the defaults work");
        assert_eq!(settings.public_url.as_str(), "http://127.0.0.1:8080");
        let settings =
            args(dir.path(), &["--public-url", "https://ferry.example.com/"]).resolve(Setup::Create).unwrap();
        assert_eq!(settings.public_url.as_str(), "https://ferry.example.com");
    }

    #[test]
    fn bad_values_name_their_setting() {
        let dir = tempfile::tempdir().unwrap();
        let error =
            |extra: &[&str]| args(dir.path(), extra).resolve(Setup::Create).expect_err("a bad setting").to_string();
        assert!(error(&["--public-url", "ftp://x"]).starts_with("--public-url (FERRY_PUBLIC_URL): "));
        assert!(error(&["--database-url", "mysql://x"]).starts_with("--database-url (FERRY_DATABASE_URL): "));
    }
}
