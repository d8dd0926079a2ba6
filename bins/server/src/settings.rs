//! The server's settings: command-line flags, each with a `FERRY_*`
//! environment variable, checked once at start so that a bad value stops the
//! server with one line naming the setting (exit code 2) instead of failing
//! later.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use clap::Parser;
use ferry_app::Terms;
pub(crate) use ferry_installation::SettingError;
use ferry_installation::{Installation, InstallationArgs, Setup};
use ferry_mail::templates::BaseUrl;
use ferry_mail::{FromAddress, SmtpConfig};

/// Ferry's server: the web API, and the sender that delivers queued mail.
///
/// Every flag can also be set through the environment variable shown with it.
#[derive(Debug, Parser)]
#[command(name = "ferry-server", version)]
pub(crate) struct Args {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, env = "FERRY_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: String,

    #[command(flatten)]
    installation: InstallationArgs,

    /// The SMTP server for outgoing mail, such as smtps://user:password@mail.example.com;
    /// unset, mail is written as .eml files into <data-dir>/outbox.
    #[arg(long, env = "FERRY_SMTP_URL", value_name = "URL", hide_env_values = true)]
    smtp_url: Option<String>,

    /// The sender of every message.
    #[arg(long, env = "FERRY_MAIL_FROM", value_name = "MAILBOX", default_value = "Ferry <ferry@localhost>")]
    mail_from: String,

    /// The address people reach Ferry at, for links in mail [default: http://<listen>,
    /// or https:// with TLS].
    #[arg(long, env = "FERRY_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,

    /// A PEM certificate chain: serve HTTPS (needs --tls-key).
    #[arg(long, env = "FERRY_TLS_CERT", value_name = "FILE")]
    tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert.
    #[arg(long, env = "FERRY_TLS_KEY", value_name = "FILE")]
    tls_key: Option<PathBuf>,

    /// Mark session cookies Secure (true or false) [default: true with TLS or an https public URL].
    #[arg(long, env = "FERRY_SECURE_COOKIES", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    secure_cookies: Option<String>,

    /// A text file with the terms of use every user accepts (needs --terms-version).
    #[arg(long, env = "FERRY_TERMS_FILE", value_name = "FILE")]
    terms_file: Option<PathBuf>,

    /// The version of the terms; raise it when the text changes, and everyone accepts again.
    #[arg(long, env = "FERRY_TERMS_VERSION", value_name = "N")]
    terms_version: Option<String>,

    /// The log format: text or json. The level comes from FERRY_LOG (or RUST_LOG), default info.
    #[arg(long, env = "FERRY_LOG_FORMAT", value_name = "FORMAT", default_value = "text")]
    log_format: String,
}

pub(crate) const LISTEN: &str = "--listen (FERRY_LISTEN)";
pub(crate) const SMTP_URL: &str = "--smtp-url (FERRY_SMTP_URL)";
const MAIL_FROM: &str = "--mail-from (FERRY_MAIL_FROM)";
pub(crate) const PUBLIC_URL: &str = "--public-url (FERRY_PUBLIC_URL)";
const TLS_CERT: &str = "--tls-cert (FERRY_TLS_CERT)";
pub(crate) const TLS_KEY: &str = "--tls-key (FERRY_TLS_KEY)";
const SECURE_COOKIES: &str = "--secure-cookies (FERRY_SECURE_COOKIES)";
const TERMS_FILE: &str = "--terms-file (FERRY_TERMS_FILE)";
const TERMS_VERSION: &str = "--terms-version (FERRY_TERMS_VERSION)";
const LOG_FORMAT: &str = "--log-format (FERRY_LOG_FORMAT)";
pub(crate) const LOG_FILTER: &str = "FERRY_LOG (or RUST_LOG)";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub(crate) enum MailSetting {
    /// `.eml` files in this folder.
    Folder(PathBuf),
    /// An SMTP server.
    Smtp(SmtpConfig),
}

/// The PEM files for HTTPS, read.
#[derive(Clone)]
pub(crate) struct TlsFiles {
    pub(crate) cert: Vec<u8>,
    pub(crate) key: Vec<u8>,
}

impl fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsFiles").finish_non_exhaustive()
    }
}

/// The checked settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) listen: SocketAddr,
    /// Where the data is: the settings `ferry-admin` shares.
    pub(crate) installation: Installation,
    pub(crate) mail: MailSetting,
    pub(crate) mail_from: FromAddress,
    /// `None`: derived from the bound address once the port is known.
    pub(crate) public_url: Option<BaseUrl>,
    pub(crate) tls: Option<TlsFiles>,
    /// `None`: decided by [`Settings::cookies_secure`].
    pub(crate) secure_cookies: Option<bool>,
    pub(crate) terms: Option<Terms>,
    pub(crate) log_format: LogFormat,
}

impl Settings {
    /// Whether session cookies are marked `Secure`: as set, else when
    /// clients reach the server over HTTPS.
    pub(crate) fn cookies_secure(&self, public_url: &BaseUrl) -> bool {
        self.secure_cookies.unwrap_or_else(|| self.tls.is_some() || public_url.as_str().starts_with("https://"))
    }

    /// The public URL: as set, else this server's own address (a wildcard
    /// address becomes loopback, so that links at least work on this machine).
    pub(crate) fn public_url_for(&self, bound: SocketAddr) -> BaseUrl {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut addr = bound;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        BaseUrl::parse(&format!("{scheme}://{addr}")).expect("a socket address makes a valid base URL")
    }
}

impl Args {
    /// Checks every setting, creating the data folder (and the default blob
    /// and outbox folders in it) on the way.
    ///
    /// # Errors
    /// The first setting that cannot be used.
    pub(crate) fn resolve(self) -> Result<Settings, SettingError> {
        let listen = resolve_listen(&self.listen)?;
        let log_format = match self.log_format.trim().to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(SettingError::new(LOG_FORMAT, format!("`{other}` is not a log format: use text or json")));
            }
        };

        let installation = self.installation.resolve(Setup::Create)?;

        let mail = match self.smtp_url.filter(|u| !u.trim().is_empty()) {
            Some(url) => {
                MailSetting::Smtp(SmtpConfig::parse(&url).map_err(|e| SettingError::new(SMTP_URL, e.to_string()))?)
            }
            None => MailSetting::Folder(installation.data_dir().join("outbox")),
        };
        let mail_from = FromAddress::parse(&self.mail_from).map_err(|e| SettingError::new(MAIL_FROM, e.to_string()))?;

        let public_url = self
            .public_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| BaseUrl::parse(&u).map_err(|e| SettingError::new(PUBLIC_URL, e.to_string())))
            .transpose()?;

        let tls = match (self.tls_cert, self.tls_key) {
            (None, None) => None,
            (Some(_), None) => return Err(SettingError::new(TLS_KEY, "is required with --tls-cert")),
            (None, Some(_)) => return Err(SettingError::new(TLS_CERT, "is required with --tls-key")),
            (Some(cert), Some(key)) => {
                let files = TlsFiles { cert: read(TLS_CERT, &cert)?, key: read(TLS_KEY, &key)? };
                check_tls(&files)?;
                Some(files)
            }
        };

        let secure_cookies = self.secure_cookies.map(|raw| parse_bool(SECURE_COOKIES, &raw)).transpose()?;

        let terms = match (self.terms_file, self.terms_version) {
            (None, None) => None,
            (Some(_), None) => return Err(SettingError::new(TERMS_VERSION, "is required with --terms-file")),
            (None, Some(_)) => return Err(SettingError::new(TERMS_FILE, "is required with --terms-version")),
            (Some(file), Some(version)) => {
                let version: u32 = version
                    .trim()
                    .parse()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or_else(|| SettingError::new(TERMS_VERSION, "must be a whole number greater than 0"))?;
                let text = String::from_utf8(read(TERMS_FILE, &file)?)
                    .map_err(|_| SettingError::new(TERMS_FILE, format!("{} is not UTF-8 text", file.display())))?;
                let text = text.trim().to_owned();
                if text.is_empty() {
                    return Err(SettingError::new(TERMS_FILE, format!("{} is empty", file.display())));
                }
                Some(Terms { version, text })
            }
        };

        Ok(Settings { listen, installation, mail, mail_from, public_url, tls, secure_cookies, terms, log_format })
    }
}

/// `host:port`, where the host may be a name (the first address it resolves to is used).
fn resolve_listen(raw: &str) -> Result<SocketAddr, SettingError> {
    let raw = raw.trim();
    if let Ok(addr) = raw.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = || SettingError::new(LISTEN, format!("`{raw}` is not an address and port such as 127.0.0.1:8080"));
    if !raw.contains(':') {
        return Err(bad());
    }
    raw.to_socket_addrs().map_err(|_| bad())?.next().ok_or_else(bad)
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, SettingError> {
    std::fs::read(path).map_err(|e| SettingError::new(setting, format!("cannot read {}: {e}", path.display())))
}

/// The certificate chain and key parse, and the key is the certificate's.
fn check_tls(files: &TlsFiles) -> Result<(), SettingError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_slice_iter(&files.cert)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SettingError::new(TLS_CERT, format!("is not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(SettingError::new(TLS_CERT, "holds no PEM certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(&files.key)
        .map_err(|e| SettingError::new(TLS_KEY, format!("is not a PEM private key: {e}")))?;
    rustls::sign::CertifiedKey::from_der(chain, key, &rustls::crypto::ring::default_provider()).map_err(
        |e| match e {
            rustls::Error::InconsistentKeys(_) => SettingError::new(TLS_KEY, "is not the private key of --tls-cert"),
            other => SettingError::new(TLS_KEY, format!("cannot be used with the certificate: {other}")),
        },
    )?;
    Ok(())
}

fn parse_bool(setting: &'static str, raw: &str) -> Result<bool, SettingError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(SettingError::new(setting, format!("`{raw}` is not true or false"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let dir = tempfile::tempdir().expect("a temporary folder").keep();
        let dir = dir.to_str().expect("a UTF-8 path").to_owned();
        let mut argv = vec!["ferry-server", "--data-dir", &dir];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).expect("flags that parse")
    }

    fn error(extra: &[&str]) -> String {
        args(extra).resolve().expect_err("a bad setting").to_string()
    }

    #[test]
    fn defaults_live_in_the_data_folder() {
        let settings = args(&[]).resolve().expect("the defaults work");
        assert_eq!(settings.listen, "127.0.0.1:8080".parse().unwrap());
        let data_dir = settings.installation.data_dir();
        assert_eq!(settings.installation.database_url(), format!("sqlite://{}/ferry.db", data_dir.display()));
        assert_eq!(settings.installation.blob().to_string(), format!("file://{}/blobs", data_dir.display()));
        assert!(data_dir.join("blobs").is_dir());
        assert!(matches!(&settings.mail, MailSetting::Folder(dir) if *dir == data_dir.join("outbox")));
        assert_eq!(settings.log_format, LogFormat::Text);
        let public = settings.public_url_for("127.0.0.1:4321".parse().unwrap());
        assert_eq!(public.as_str(), "http://127.0.0.1:4321");
        assert!(!settings.cookies_secure(&public));
    }

    #[test]
    fn a_wildcard_address_links_to_loopback() {
        let settings = args(&["--listen", "0.0.0.0:0"]).resolve().unwrap();
        assert_eq!(settings.public_url_for("0.0.0.0:8080".parse().unwrap()).as_str(), "http://127.0.0.1:8080");
        assert_eq!(settings.public_url_for("[::]:8080".parse().unwrap()).as_str(), "http://[::1]:8080");
    }

    #[test]
    fn an_https_public_url_makes_cookies_secure_unless_told_otherwise() {
        let settings = args(&["--public-url", "https://ferry.example.com/"]).resolve().unwrap();
        let public = settings.public_url_for("127.0.0.1:1".parse().unwrap());
        assert_eq!(public.as_str(), "https://ferry.example.com");
        assert!(settings.cookies_secure(&public));
        let settings =
            args(&["--public-url", "https://ferry.example.com", "--secure-cookies", "false"]).resolve().unwrap();
        assert!(!settings.cookies_secure(&public));
        let settings = args(&["--secure-cookies"]).resolve().unwrap();
        assert_eq!(settings.secure_cookies, Some(true));
    }

    #[test]
    fn bad_values_name_their_setting() {
        assert!(error(&["--listen", "nowhere"]).starts_with("--listen (FERRY_LISTEN): "));
        assert!(error(&["--database-url", "mysql://x"]).starts_with("--database-url (FERRY_DATABASE_URL): "));
        assert!(error(&["--blob-url", "ftp://x"]).starts_with("--blob-url (FERRY_BLOB_URL): "));
        assert!(error(&["--blob-url", "file://relative"]).starts_with("--blob-url (FERRY_BLOB_URL): "));
        assert!(error(&["--smtp-url", "http://x"]).starts_with("--smtp-url (FERRY_SMTP_URL): "));
        assert!(error(&["--mail-from", "not a mailbox"]).starts_with("--mail-from (FERRY_MAIL_FROM): "));
        assert!(error(&["--public-url", "ftp://x"]).starts_with("--public-url (FERRY_PUBLIC_URL): "));
        assert!(error(&["--tls-cert", "/nonexistent.pem"]).starts_with("--tls-key (FERRY_TLS_KEY): "));
        assert!(
            error(&["--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key"])
                .starts_with("--tls-cert (FERRY_TLS_CERT): cannot read")
        );
        assert!(error(&["--secure-cookies", "maybe"]).starts_with("--secure-cookies (FERRY_SECURE_COOKIES): "));
        assert!(error(&["--terms-version", "2"]).starts_with("--terms-file (FERRY_TERMS_FILE): "));
        assert!(error(&["--log-format", "xml"]).starts_with("--log-format (FERRY_LOG_FORMAT): "));
    }

    #[test]
    fn smtp_passwords_stay_out_of_errors() {
        let message = error(&["--smtp-url", "smtp://user:hunter2@mail.example.com/path"]);
        assert!(message.starts_with("--smtp-url (FERRY_SMTP_URL): "));
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn terms_come_from_a_file_with_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("terms.txt");
        std::fs::write(&file, "  Be nice.\n").unwrap();
        let file = file.to_str().unwrap();
        let settings = args(&["--terms-file", file, "--terms-version", "3"]).resolve().unwrap();
        assert_eq!(settings.terms, Some(Terms { version: 3, text: "Be nice.".to_owned() }));
        assert!(
            error(&["--terms-file", file, "--terms-version", "0"])
                .starts_with("--terms-version (FERRY_TERMS_VERSION): ")
        );
    }

    #[test]
    fn a_certificate_needs_its_own_key() {
        let testdata = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata");
        let cert = format!("{testdata}/cert.pem");
        let key = format!("{testdata}/key.pem");
        let other = format!("{testdata}/other-key.pem");
        let settings = args(&["--tls-cert", &cert, "--tls-key", &key]).resolve().expect("a matching pair");
        assert!(settings.tls.is_some());
        assert_eq!(settings.public_url_for("127.0.0.1:8443".parse().unwrap()).as_str(), "https://127.0.0.1:8443");
        assert!(settings.cookies_secure(&settings.public_url_for("127.0.0.1:443".parse().unwrap())));
        let message = error(&["--tls-cert", &cert, "--tls-key", &other]);
        assert!(message == "--tls-key (FERRY_TLS_KEY): is not the private key of --tls-cert", "{message}");
        let message = error(&["--tls-cert", &key, "--tls-key", &key]);
        assert!(message.starts_with("--tls-cert (FERRY_TLS_CERT): holds no PEM certificate"), "{message}");
        let message = error(&["--tls-cert", &cert, "--tls-key", &cert]);
        assert!(message.starts_with("--tls-key (FERRY_TLS_KEY): is not a PEM private key"), "{message}");
    }
}
