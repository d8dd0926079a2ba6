//! `ferry-server`: Ferry's web server and mail sender in one process.
//!
//! This binary holds no rule of its own: it reads its settings
//! ([`settings`]), connects the adapters (the SQL store, the mail
//! transport), builds the use cases ([`ferry_app::App`]) and the web layer
//! ([`ferry_http::router`]), and serves until SIGINT or SIGTERM.
//!
//! Standard output carries what a person starting the server needs — the
//! first-run link, then `Ferry listening on http://ADDR` with the real port —
//! and standard error the logs. Exit codes: 0 after a clean shutdown, 1 when
//! something failed at run time (the database, the port), 2 for a setting
//! that cannot be used.

mod middleware;
mod settings;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use ferry_app::{App, AppConfig, SystemClock, UuidV7};
use ferry_http::HttpConfig;
use ferry_mail::templates::BaseUrl;
use ferry_mail::{OutboxFolder, OutboxSender, SenderConfig, SmtpTransport};
use ferry_ports::Store;
use ferry_ports::mail::MailTransport;
use poem::listener::{AcceptorExt, IntoTlsConfigStream, RustlsCertificate, RustlsConfig, TcpAcceptor};
use poem::{EndpointExt, Server};
use tracing_subscriber::EnvFilter;

use crate::settings::{Args, LogFormat, MailSetting, SettingError, Settings};

/// How long requests in flight may take to finish after a shutdown signal.
const GRACE: Duration = Duration::from_secs(30);
/// How often abandoned resumable uploads are looked for.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(300);

/// Why the server stopped other than by a signal.
enum Stop {
    /// A setting that cannot be used (exit code 2).
    Setting(SettingError),
    /// Something failed at run time (exit code 1).
    Failed(String),
}

impl From<ferry_installation::OpenError> for Stop {
    fn from(error: ferry_installation::OpenError) -> Self {
        match error {
            ferry_installation::OpenError::Setting(e) => Self::Setting(e),
            ferry_installation::OpenError::Unavailable(message) => Self::Failed(message),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Both of rustls's crypto providers are linked (ring through lettre,
    // aws-lc-rs through poem), so rustls cannot pick one by itself: choose
    // one for the whole process before anything builds a TLS configuration.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = match args.resolve() {
        Ok(settings) => settings,
        Err(e) => return bad_setting(&e),
    };
    if let Err(e) = init_logging(settings.log_format) {
        return bad_setting(&e);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ferry-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Stop::Setting(e)) => bad_setting(&e),
        Err(Stop::Failed(e)) => {
            tracing::error!(error = %e, "stopped");
            eprintln!("ferry-server: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bad_setting(error: &SettingError) -> ExitCode {
    eprintln!("ferry-server: {error}");
    ExitCode::from(2)
}

/// Logs go to standard error, as text or JSON lines, filtered by
/// `FERRY_LOG` (or `RUST_LOG`), `info` by default.
fn init_logging(format: LogFormat) -> Result<(), SettingError> {
    use std::io::IsTerminal;
    let directives = ["FERRY_LOG", "RUST_LOG"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "info".to_owned());
    let filter = EnvFilter::try_new(&directives)
        .map_err(|e| SettingError::new(settings::LOG_FILTER, format!("`{directives}` is not a log filter: {e}")))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
    // Only fails when a logger is already installed, which is then used.
    drop(result);
    Ok(())
}

async fn serve(settings: Settings) -> Result<(), Stop> {
    // Check the certificate before anything else happens: a wrong file is a
    // setting to fix, not a failure at the first connection.
    let tls = match &settings.tls {
        Some(files) => {
            let config =
                RustlsConfig::new().fallback(RustlsCertificate::new().cert(files.cert.clone()).key(files.key.clone()));
            let stream = config.into_stream().map_err(|e| {
                Stop::Setting(SettingError::new(
                    settings::TLS_KEY,
                    format!("the certificate and key cannot be used together: {e}"),
                ))
            })?;
            Some(stream)
        }
        None => None,
    };

    // Bind first, so that links and the printed address carry the real port.
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| Stop::Failed(format!("{}: cannot listen on {}: {e}", settings::LISTEN, settings.listen)))?;
    let bound = listener.local_addr().map_err(|e| Stop::Failed(format!("cannot read the bound address: {e}")))?;
    let public_url = settings.public_url_for(bound);
    let secure_cookies = settings.cookies_secure(&public_url);

    let store = settings.installation.open_store().await.map_err(Stop::from)?;
    store.migrate().await.map_err(|e| Stop::Failed(format!("cannot bring the database schema up to date: {e}")))?;
    tracing::info!(engine = ?store.engine(), data_dir = %settings.installation.data_dir().display(), "database ready");
    if let Some(terms) = &settings.terms {
        tracing::info!(version = terms.version, "terms of use loaded");
    }
    let (blobs, key_source) = settings.installation.open_files().map_err(Stop::from)?;
    match &key_source {
        ferry_blob::KeySource::Created(path) => tracing::warn!(
            key_file = %path.display(),
            "made a new master key for encryption at rest: keep a copy apart from the backups of the files, \
             or set FERRY_MASTER_KEYS"
        ),
        ferry_blob::KeySource::File(path) => tracing::info!(key_file = %path.display(), "master keys loaded"),
        ferry_blob::KeySource::Setting => tracing::info!("master keys loaded from FERRY_MASTER_KEYS"),
    }
    if let Some(warning) = settings.installation.key_file_warning() {
        tracing::warn!("{warning}");
    }
    tracing::info!(blob_store = %settings.installation.blob(), "file storage ready");

    let transport = mail_transport(&settings)?;
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let clock = Arc::new(SystemClock);
    let mut config = AppConfig::new(public_url.clone());
    config.terms.clone_from(&settings.terms);
    let app = App::new(Arc::clone(&shared), Arc::new(blobs), clock.clone(), Arc::new(UuidV7), config);

    let sender = OutboxSender::new(Arc::clone(&shared), transport, clock, SenderConfig::default())
        .map_err(|e| Stop::Failed(e.to_string()))?;
    let sender = Arc::new(sender);
    let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
    let mail = tokio::spawn({
        let sender = Arc::clone(&sender);
        async move {
            sender
                .run_until(async {
                    let _ = mail_stopped.await;
                })
                .await;
        }
    });

    // Resumable uploads nobody continued before their expiry give their
    // bytes and quota back, checked every few minutes.
    let housekeeping = tokio::spawn({
        let app = app.clone();
        async move {
            let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                match app.reclaim_abandoned_uploads(&ferry_app::Principal::Operator).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(uploads = n, "abandoned resumable uploads reclaimed"),
                    Err(e) => tracing::warn!(error = %e, "reclaiming abandoned uploads failed; retrying later"),
                }
            }
        }
    });

    // Listen for the signals before announcing the address: a signal sent
    // as soon as the address is known must stop the server gracefully.
    let signal = shutdown_signal().map_err(|e| Stop::Failed(format!("cannot listen for signals: {e}")))?;

    if let Some(token) =
        app.first_run_token().await.map_err(|e| Stop::Failed(format!("cannot check for a first run: {e}")))?
    {
        tracing::info!("first run: no practice yet; the one-time setup link is on standard output");
        print_first_run(&public_url, token.expose(), &key_source);
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %bound, public_url = public_url.as_str(), secure_cookies, "listening");
    say(&format!("Ferry listening on {scheme}://{bound}"));

    let endpoint = ferry_http::router(app, HttpConfig { secure_cookies, public_url: public_url.as_str().to_owned() })
        .with(middleware::WakeMailSender(Arc::clone(&sender)))
        .with(middleware::AccessLog);
    let acceptor =
        TcpAcceptor::from_tokio(listener).map_err(|e| Stop::Failed(format!("cannot accept connections: {e}")))?;
    let served = match tls {
        Some(stream) => {
            Server::new_with_acceptor(acceptor.rustls(stream))
                .run_with_graceful_shutdown(endpoint, signal, Some(GRACE))
                .await
        }
        None => Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(endpoint, signal, Some(GRACE)).await,
    };

    // Requests are done: stop the mail sender (it finishes the message in
    // hand), then close the database.
    housekeeping.abort();
    let _ = stop_mail.send(());
    if let Err(e) = mail.await {
        tracing::warn!(error = %e, "the mail sender stopped abnormally");
    }
    store.close().await;
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            Ok(())
        }
        Err(e) => Err(Stop::Failed(format!("the web server failed: {e}"))),
    }
}

fn mail_transport(settings: &Settings) -> Result<Arc<dyn MailTransport>, Stop> {
    let from = settings.mail_from.clone();
    Ok(match &settings.mail {
        MailSetting::Folder(dir) => {
            let folder = OutboxFolder::new(dir, from)
                .map_err(|e| Stop::Setting(SettingError::new(ferry_installation::DATA_DIR, e.to_string())))?;
            tracing::info!(folder = %dir.display(), "mail is written to the outbox folder (set FERRY_SMTP_URL to send it)");
            Arc::new(folder)
        }
        MailSetting::Smtp(config) => {
            tracing::info!(host = config.host(), port = config.port(), tls = ?config.tls(), "mail is sent over SMTP");
            Arc::new(
                SmtpTransport::new(config.clone(), from)
                    .map_err(|e| Stop::Setting(SettingError::new(settings::SMTP_URL, e.to_string())))?,
            )
        }
    })
}

/// Completes at the first SIGINT or SIGTERM. The handlers are installed by
/// this call, not at the first poll.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        let name = tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        };
        tracing::info!(signal = name, grace_seconds = GRACE.as_secs(), "shutting down: finishing requests in flight");
    })
}

/// The first-run block: the one-time link, and the same step with curl.
fn print_first_run(public_url: &BaseUrl, token: &str, keys: &ferry_blob::KeySource) {
    let base = public_url.as_str();
    let line = "=".repeat(78);
    let keys = match keys {
        ferry_blob::KeySource::Created(path) | ferry_blob::KeySource::File(path) => {
            format!("the master key file {}", path.display())
        }
        ferry_blob::KeySource::Setting => "the master keys set in FERRY_MASTER_KEYS".to_owned(),
    };
    say(&format!(
        "{line}\n\
         FIRST RUN: no practice exists yet. Set up the first one with this one-time link:\n\
         \n    {base}/setup?token={token}\n\
         \nor with curl (choose the names, the address and a password of 10 characters or more):\n\
         \n    curl -X POST {base}/api/v1/setup -H 'content-type: application/json' -d \
         '{{\"token\":\"{token}\",\"practice_name\":\"…\",\"admin_name\":\"…\",\"admin_email\":\"…\",\"password\":\"…\"}}'\n\
         \nThe link works until the first practice exists; a restart prints a new one.\n\
         \nEvery file is encrypted with {keys}. Keep a copy of it apart from the\n\
         backups of the files (a password manager or a vault; --master-key-file moves\n\
         the file out of the data folder): without it no file can be read, and whoever\n\
         has both can read them all.\n\
         {line}"
    ));
}

/// Writes lines to standard output. A closed output is no reason to stop
/// serving, so write errors are ignored (`println!` would panic).
fn say(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
