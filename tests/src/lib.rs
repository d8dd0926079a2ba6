//! Helpers for Ferry's end-to-end tests: they build the real `ferry-server`
//! binary, start it on a free port with a fresh data folder, talk to it
//! over HTTP, and read the mail it writes to its outbox folder.
//!
//! Nothing here reaches into the server's process: the one exception is
//! [`Server::operator`], which opens the server's SQLite database with the
//! app layer to act as the operator (as the admin CLI will).

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ferry_app::{App, AppConfig, SystemClock, UuidV7};
use ferry_mail::templates::BaseUrl;
use serde_json::Value;

/// Re-exported for tests that act as the operator.
pub use ferry_app;
pub use ferry_domain;

/// How long the server may take to build and start.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for a message to reach the outbox folder. The sender is
/// woken after every change and polls every few seconds besides.
const MAIL_TIMEOUT: Duration = Duration::from_secs(10);

/// The `ferry-server` executable, built once per test process with the same
/// cargo that runs the tests. `FERRY_E2E_SERVER_BIN` names a ready one instead.
///
/// # Panics
/// When the build fails or names no executable.
pub fn server_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("FERRY_E2E_SERVER_BIN") {
            return PathBuf::from(path);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace");
        let output = Command::new(cargo)
            .current_dir(workspace)
            .args(["build", "-p", "ferry-server", "--bin", "ferry-server", "--message-format=json"])
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "building ferry-server failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "ferry-server")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the ferry-server executable")
    })
}

/// A running `ferry-server` with its own data folder; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
    data: tempfile::TempDir,
    stdout: Arc<Mutex<Vec<String>>>,
    seen_mail: Mutex<HashSet<PathBuf>>,
    http: reqwest::Client,
}

impl Server {
    /// Starts the server on a free port with a fresh data folder, and waits
    /// until it prints its address.
    ///
    /// # Panics
    /// When it does not start.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(tempfile::tempdir().expect("a temporary folder"), &[])
    }

    /// Starts the server in `data` (possibly used before) with extra flags.
    ///
    /// # Panics
    /// When it does not start.
    #[must_use]
    pub fn start_with(data: tempfile::TempDir, extra: &[&str]) -> Self {
        let log = std::fs::File::create(data.path().join("server.log")).expect("a log file");
        let mut command = Command::new(server_binary());
        // Settings from the environment of whoever runs the tests must not leak in.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("FERRY_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        let mut child = command
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data.path())
            .args(extra)
            .env("FERRY_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("ferry-server starts");

        // Read standard output on a thread for the whole life of the
        // process, so that it never blocks on a full pipe.
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = mpsc::channel();
        let pipe = child.stdout.take().expect("piped standard output");
        let lines = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("Ferry listening on ") {
                    let _ = found.send(addr.trim().to_owned());
                }
                lines.lock().expect("the lines").push(line);
            }
        });
        let Ok(base) = address.recv_timeout(START_TIMEOUT) else {
            let _ = child.kill();
            let status = child.wait().ok();
            let log = std::fs::read_to_string(data.path().join("server.log")).unwrap_or_default();
            panic!("ferry-server did not print its address (exit: {status:?}); its log:\n{log}");
        };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("an HTTP client");
        Self { child, base, data, stdout, seen_mail: Mutex::new(HashSet::new()), http }
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The data folder.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// What the server printed on standard output so far.
    ///
    /// # Panics
    /// If the reader thread panicked.
    #[must_use]
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().expect("the lines").clone()
    }

    /// The server's log so far (its standard error).
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("server.log")).unwrap_or_default()
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (up to a minute) for the process to exit.
    ///
    /// # Panics
    /// When the signal cannot be sent or the process does not exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().expect("kill runs");
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be waited for") {
                return status;
            }
            assert!(Instant::now() < deadline, "ferry-server did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server and hands back its data folder, to start it again.
    #[must_use]
    pub fn stop(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().expect("a temporary folder");
        std::mem::replace(&mut self.data, placeholder)
    }

    /// An anonymous client.
    #[must_use]
    pub fn anonymous(&self) -> Client {
        Client { http: self.http.clone(), base: format!("{}/api/v1", self.base), token: None }
    }

    /// A GET of a path outside the API, such as `/healthz`.
    ///
    /// # Panics
    /// When the server does not answer.
    pub async fn get_raw(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("the server answers")
    }

    /// Signs in and returns a client with the session's bearer token.
    ///
    /// # Panics
    /// When signing in fails.
    pub async fn sign_in(&self, email: &str, password: &str) -> Client {
        let (status, body) =
            self.anonymous().post("/auth/login", &serde_json::json!({ "email": email, "password": password })).await;
        assert_eq!(status, 200, "signing in as {email}: {body}");
        let token = body["token"].as_str().expect("a session token").to_owned();
        Client { token: Some(token), ..self.anonymous() }
    }

    /// The app layer over the server's own database, acting as the operator
    /// (as the admin CLI will). Mail it queues is sent by the server.
    ///
    /// # Panics
    /// When the database cannot be opened.
    pub async fn operator(&self) -> App {
        let url = format!("sqlite://{}", self.data_dir().join("ferry.db").display());
        let store = ferry_store_sql::SqlStore::connect(&url).await.expect("the server's database opens");
        let config = AppConfig::new(BaseUrl::parse(&self.base).expect("a base URL"));
        App::new(Arc::new(store), Arc::new(SystemClock), Arc::new(UuidV7), config)
    }

    /// Waits (up to ten seconds) for a message to `to` that was not returned
    /// before, and returns it.
    ///
    /// # Panics
    /// When none arrives in time.
    pub fn mail_to(&self, to: &str) -> Mail {
        let outbox = self.data_dir().join("outbox");
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&outbox)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                        .collect()
                })
                .unwrap_or_default();
            // UUIDv7 names sort in the order they were written.
            files.sort();
            let mut seen = self.seen_mail.lock().expect("the seen set");
            for file in files {
                if seen.contains(&file) {
                    continue;
                }
                let mail = Mail::read(&file);
                if mail.to.eq_ignore_ascii_case(to) {
                    seen.insert(file);
                    return mail;
                }
            }
            drop(seen);
            assert!(Instant::now() < deadline, "no new mail to {to} within {MAIL_TIMEOUT:?}; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A message from the outbox folder.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

impl Mail {
    fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).expect("a readable message");
        let message = mail_parser::MessageParser::default().parse(&bytes).expect("a parseable message");
        let to = message.to().and_then(|to| to.first()).and_then(|a| a.address()).expect("a recipient").to_owned();
        Self {
            to,
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        }
    }

    /// The token of the link in the message (`…?token=…`), decoded.
    ///
    /// # Panics
    /// When the message has no link with a token.
    #[must_use]
    pub fn token(&self) -> String {
        token_in(&self.text).unwrap_or_else(|| panic!("no token in the mail {:?}:\n{}", self.subject, self.text))
    }
}

/// The first `token=` value in `text`, percent-decoded.
#[must_use]
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find("token=")? + "token=".len();
    let raw: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%' | '+'))
        .collect();
    (!raw.is_empty()).then(|| percent_decode(&raw))
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = raw.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A client of `/api/v1`, anonymous or with a bearer token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, body)
    }

    /// `GET /api/v1{path}`: the status and the JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base))).await
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body)).await
    }

    /// `POST /api/v1{path}` with an empty JSON object.
    pub async fn post_empty(&self, path: &str) -> (u16, Value) {
        self.post(path, &serde_json::json!({})).await
    }

    /// `PUT /api/v1{path}` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.put(format!("{}{path}", self.base)).json(body)).await
    }

    /// `PATCH /api/v1{path}` with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.patch(format!("{}{path}", self.base)).json(body)).await
    }

    /// `POST` that must succeed: the JSON body.
    ///
    /// # Panics
    /// On any status but 200.
    pub async fn ok_post(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, 200, "POST {path} {body}: {answer}");
        answer
    }

    /// `GET` that must succeed: the JSON body.
    ///
    /// # Panics
    /// On any status but 200.
    pub async fn ok_get(&self, path: &str) -> Value {
        let (status, answer) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {answer}");
        answer
    }
}

/// The string at `pointer` (such as `/user/id`) in a JSON value.
///
/// # Panics
/// When there is no string there.
#[must_use]
pub fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_out_of_links_decoded() {
        let text = "Choose a password:\nhttp://127.0.0.1:1/password/set?token=ab-C_9%2Bx\n\nThanks";
        assert_eq!(token_in(text).as_deref(), Some("ab-C_9+x"));
        assert_eq!(token_in("https://x/#/invitations/accept?token=Zz0>").as_deref(), Some("Zz0"));
        assert_eq!(token_in("no link here"), None);
    }
}
