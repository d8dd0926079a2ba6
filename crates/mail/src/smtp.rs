//! Delivery over SMTP with lettre: STARTTLS or implicit TLS through rustls,
//! optional authentication, pooled connections.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use ferry_ports::mail::{MailError, MailTransport};
use ferry_ports::records::OutgoingMail;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use url::Url;

use crate::message::{self, ConfigError, FromAddress};

/// How long connecting and delivering one message may take by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// Plain text only (`?tls=none`): for a relay on the same host.
    None,
    /// STARTTLS when the server offers it, plain text otherwise (the default
    /// for `smtp://`).
    Opportunistic,
    /// STARTTLS, refusing to send if the server does not offer it (`?tls=required`).
    Required,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

impl TlsMode {
    const fn query(self) -> Option<&'static str> {
        match self {
            Self::None => Some("none"),
            Self::Required => Some("required"),
            Self::Opportunistic | Self::Implicit => None,
        }
    }
}

/// Where and how to reach the SMTP server, from `FERRY_SMTP_URL`:
///
/// - `smtp://host[:port]`: STARTTLS when offered (port 587 by default);
///   add `?tls=required` to insist on it, or `?tls=none` for plain text;
/// - `smtps://host[:port]`: implicit TLS (port 465 by default);
/// - `user:password@` before the host (percent-encoded) to authenticate;
/// - `timeout=SECONDS` in the query: how long connecting and handing over
///   one message may take (30 by default).
///
/// Server certificates are checked against the Mozilla root store
/// (webpki-roots). `Debug` and `Display` show the URL with the password
/// replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    host: String,
    port: u16,
    tls: TlsMode,
    user: Option<String>,
    password: Option<String>,
    timeout: Duration,
}

impl SmtpConfig {
    /// Parses an SMTP URL (see the type's documentation).
    ///
    /// # Errors
    /// [`ConfigError::SmtpUrl`] when it does not parse, has another scheme,
    /// no host, a path, an unknown query parameter or value, or a password
    /// without a user. The message never contains the password.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let bad = |reason: &str| ConfigError::SmtpUrl(reason.to_owned());
        // INVARIANT: url's errors do not quote the input, so no password leaks into them.
        let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("{e}")))?;
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("it has no host"))?;
        // A bracketed IPv6 literal is given to the resolver without its brackets.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        if !matches!(url.path(), "" | "/") {
            return Err(bad("it must not have a path"));
        }
        let mut tls = match url.scheme() {
            "smtp" => TlsMode::Opportunistic,
            "smtps" => TlsMode::Implicit,
            _ => return Err(bad("it must start with smtp:// or smtps://")),
        };
        let mut timeout = DEFAULT_TIMEOUT;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref(), tls) {
                ("tls", "none", TlsMode::Opportunistic) => tls = TlsMode::None,
                ("tls", "opportunistic", TlsMode::Opportunistic) => {}
                ("tls", "required", TlsMode::Opportunistic) => tls = TlsMode::Required,
                ("tls", _, TlsMode::Implicit) => return Err(bad("smtps:// is always TLS: drop `tls=`")),
                ("tls", _, _) => return Err(bad("tls must be none, opportunistic or required")),
                ("timeout", seconds, _) => {
                    let seconds: u64 = seconds
                        .parse()
                        .ok()
                        .filter(|s| *s > 0)
                        .ok_or_else(|| bad("timeout must be a whole number of seconds greater than 0"))?;
                    timeout = Duration::from_secs(seconds);
                }
                (other, _, _) => return Err(bad(&format!("unknown parameter `{other}`"))),
            }
        }
        let port = url.port().unwrap_or(if tls == TlsMode::Implicit { 465 } else { 587 });
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let user = Some(decode(url.username())).filter(|u| !u.is_empty());
        let password = url.password().map(decode);
        if password.is_some() && user.is_none() {
            return Err(bad("it has a password but no user"));
        }
        Ok(Self { host, port, tls, user, password, timeout })
    }

    /// The server's host name or address.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The server's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How the connection is protected.
    #[must_use]
    pub fn tls(&self) -> TlsMode {
        self.tls
    }

    /// The user to authenticate as, if any.
    #[must_use]
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// How long connecting and handing over one message may take.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

impl fmt::Display for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls == TlsMode::Implicit { "smtps" } else { "smtp" };
        write!(f, "{scheme}://")?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        let mut separator = '?';
        if let Some(tls) = self.tls.query() {
            write!(f, "{separator}tls={tls}")?;
            separator = '&';
        }
        if self.timeout != DEFAULT_TIMEOUT {
            write!(f, "{separator}timeout={}", self.timeout.as_secs())?;
        }
        Ok(())
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SmtpConfig({self})")
    }
}

/// Delivers messages to an SMTP server.
#[derive(Clone)]
pub struct SmtpTransport {
    config: SmtpConfig,
    from: FromAddress,
    inner: AsyncSmtpTransport<Tokio1Executor>,
}

impl SmtpTransport {
    /// A transport for `config`, sending from `from`. It connects lazily, on
    /// the first message, and keeps a small pool of connections, whose
    /// housekeeping task runs on the current Tokio runtime.
    ///
    /// # Errors
    /// [`ConfigError::SmtpUrl`] when TLS cannot be set up for the host, and
    /// [`ConfigError::Runtime`] when called outside a Tokio runtime.
    pub fn new(config: SmtpConfig, from: FromAddress) -> Result<Self, ConfigError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(ConfigError::Runtime);
        }
        let tls_parameters =
            || TlsParameters::new(config.host.clone()).map_err(|e| ConfigError::SmtpUrl(format!("TLS setup: {e}")));
        let tls = match config.tls {
            TlsMode::None => Tls::None,
            TlsMode::Opportunistic => Tls::Opportunistic(tls_parameters()?),
            TlsMode::Required => Tls::Required(tls_parameters()?),
            TlsMode::Implicit => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(user) = &config.user {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone().unwrap_or_default()));
        }
        Ok(Self { inner: builder.build(), config, from })
    }

    /// The configuration, for messages (the password is redacted).
    #[must_use]
    pub fn config(&self) -> &SmtpConfig {
        &self.config
    }
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport").field("config", &self.config).field("from", &self.from).finish_non_exhaustive()
    }
}

#[async_trait]
impl MailTransport for SmtpTransport {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let built = message::build(&self.from, mail)?;
        // lettre bounds only the connect: a server that accepts the connection
        // and then says nothing would hold this message (and the sender's
        // lease) forever without a bound on the whole exchange.
        match tokio::time::timeout(self.config.timeout, self.inner.send(built.message)).await {
            Ok(result) => result.map(drop).map_err(|e| classify(&e)),
            Err(_) => {
                Err(MailError::Unavailable(format!("the SMTP server did not finish within {:?}", self.config.timeout)))
            }
        }
    }
}

/// SMTP replies that are permanent (5xx) but say nothing about the message:
/// the server wants authentication or refused ours. Retrying after the
/// operator fixes the configuration will work, so these must not give up.
const CONFIGURATION_REPLIES: [&str; 4] = ["530", "534", "535", "538"];

/// Maps a lettre error to the port's: a permanent reply about the message
/// (a 5xx such as "550 no such mailbox") is `Rejected`; everything else —
/// refused or broken connections, timeouts, TLS failures, 4xx replies,
/// authentication problems — is `Unavailable`, so the sender retries.
fn classify(error: &lettre::transport::smtp::Error) -> MailError {
    let code = error.status().map(|c| c.to_string());
    let message_refused = error.is_permanent() && !code.as_deref().is_some_and(|c| CONFIGURATION_REPLIES.contains(&c));
    if message_refused {
        MailError::Rejected(error.to_string())
    } else if error.is_timeout() {
        MailError::Unavailable(format!("the SMTP server timed out: {error}"))
    } else {
        MailError::Unavailable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, expect: Result<&str, &str>) {
        let got = SmtpConfig::parse(raw).map(|c| c.to_string()).map_err(|e| e.to_string());
        assert_eq!(got, expect.map(str::to_owned).map_err(|e| format!("the SMTP URL is not valid: {e}")), "{raw}");
    }

    #[test]
    fn smtp_urls_parse_into_a_server_tls_mode_and_credentials() {
        check("smtp://mail.example.com", Ok("smtp://mail.example.com:587"));
        check("smtp://mail.example.com:2525?tls=none", Ok("smtp://mail.example.com:2525?tls=none"));
        check("smtp://mail.example.com?tls=opportunistic", Ok("smtp://mail.example.com:587"));
        check("smtp://u@mail.example.com?tls=required", Ok("smtp://u@mail.example.com:587?tls=required"));
        check("smtps://u:p@mail.example.com", Ok("smtps://u:***@mail.example.com:465"));
        check("smtps://mail.example.com?timeout=5", Ok("smtps://mail.example.com:465?timeout=5"));
        check("smtp://[::1]:25?tls=none", Ok("smtp://[::1]:25?tls=none"));
        check("http://mail.example.com", Err("it must start with smtp:// or smtps://"));
        check("smtp://mail.example.com/x", Err("it must not have a path"));
        check("smtp://mail.example.com?tls=maybe", Err("tls must be none, opportunistic or required"));
        check("smtps://mail.example.com?tls=none", Err("smtps:// is always TLS: drop `tls=`"));
        check("smtp://mail.example.com?tsl=none", Err("unknown parameter `tsl`"));
        check("smtp://mail.example.com?timeout=0", Err("timeout must be a whole number of seconds greater than 0"));
        check("smtp://:secret@mail.example.com", Err("it has a password but no user"));
        check("mail.example.com", Err("relative URL without a base"));
    }

    #[tokio::test]
    async fn credentials_are_percent_decoded_and_the_password_never_shown() {
        let config = SmtpConfig::parse("smtps://ann%40example.com:p%40ss%2Bw0rd+x@mail.example.com").unwrap();
        assert_eq!(config.user(), Some("ann@example.com"));
        assert_eq!(config.password.as_deref(), Some("p@ss+w0rd+x"));
        let shown = format!("{config} {config:?}");
        assert!(!shown.contains("p@ss") && !shown.contains("p%40ss"), "{shown}");
        assert_eq!(config.to_string(), "smtps://ann@example.com:***@mail.example.com:465");

        let transport = SmtpTransport::new(config, FromAddress::parse("ferry@example.com").unwrap()).unwrap();
        let debug = format!("{transport:?}");
        assert!(!debug.contains("p@ss") && !debug.contains("w0rd"), "{debug}");
    }

    #[test]
    fn a_transport_needs_a_runtime() {
        let config = SmtpConfig::parse("smtp://mail.example.com").unwrap();
        let err = SmtpTransport::new(config, FromAddress::parse("ferry@example.com").unwrap()).unwrap_err();
        assert_eq!(err, ConfigError::Runtime);
    }

    #[test]
    fn a_bad_url_never_echoes_its_password() {
        for raw in ["smtp://u:hunter2@", "smtp://u:hunter2@mail.example.com/path", "smtp://u:hunter2@host:99999"] {
            let err = SmtpConfig::parse(raw).unwrap_err().to_string();
            assert!(!err.contains("hunter2"), "{raw}: {err}");
        }
    }
}
