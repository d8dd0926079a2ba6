//! Helpers for Ferry's end-to-end tests: they build the real `ferry-server`
//! binary, start it on a free port with a fresh data folder, talk to it
//! over HTTP, and read the mail it writes to its outbox folder.
//!
//! Nothing here reaches into the server's process: the operator's work is
//! done by running the real `ferry-admin` binary on the server's data folder
//! ([`Server::admin`]), as an operator would.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Re-exported for tests that name domain types.
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
    BINARY.get_or_init(|| built_binary("ferry-server", "FERRY_E2E_SERVER_BIN"))
}

/// The `ferry-admin` executable, built once per test process like
/// [`server_binary`]. `FERRY_E2E_ADMIN_BIN` names a ready one instead.
///
/// # Panics
/// When the build fails or names no executable.
pub fn admin_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| built_binary("ferry-admin", "FERRY_E2E_ADMIN_BIN"))
}

/// Builds the binary `name` of the package of the same name (or takes the
/// one the variable `ready` names) and returns its path.
fn built_binary(name: &str, ready: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(ready) {
        return PathBuf::from(path);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the workspace");
    let output = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "-p", name, "--bin", name, "--message-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "building {name} failed");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo names the {name} executable"))
}

/// What a `ferry-admin` run printed, and how it ended.
#[derive(Debug)]
pub struct AdminRun {
    /// The exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl AdminRun {
    /// Standard output parsed as JSON (for commands run with `--json`).
    ///
    /// # Panics
    /// When it is not JSON.
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("ferry-admin printed no JSON ({e}): {}", self.stdout))
    }
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
                let addr = line.strip_prefix("Ferry listening on ").map(|addr| addr.trim().to_owned());
                // Keep the line before telling the starter, so that
                // `stdout()` right after the start already holds it.
                lines.lock().expect("the lines").push(line);
                if let Some(addr) = addr {
                    let _ = found.send(addr);
                }
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

    /// Runs the real `ferry-admin` with `args` on this server's data folder,
    /// with the server's address for links, and waits for it to finish.
    ///
    /// # Panics
    /// When it cannot be started.
    #[must_use]
    pub fn admin(&self, args: &[&str]) -> AdminRun {
        let mut command = Command::new(admin_binary());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("FERRY_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        let output = command
            .arg("--data-dir")
            .arg(self.data.path())
            .arg("--public-url")
            .arg(&self.base)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("ferry-admin starts");
        AdminRun {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Approves a pending practice with `ferry-admin practice approve`;
    /// returns the practice as it printed it.
    ///
    /// # Panics
    /// When ferry-admin refuses.
    #[must_use]
    pub fn approve_practice(&self, practice: &str) -> Value {
        let run = self.admin(&["--json", "practice", "approve", practice]);
        assert!(run.status.success(), "ferry-admin practice approve {practice} failed: {}", run.stderr);
        run.json()
    }

    /// Waits (up to ten seconds) for a message to `to` that was not returned
    /// before, and returns it.
    ///
    /// # Panics
    /// When none arrives in time.
    pub fn mail_to(&self, to: &str) -> Mail {
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            let files = self.mail_files();
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

// ---------------------------------------------------------------------------
// File exchange: uploads (multipart and tus), downloads, and mail accounting.
// Generic helpers for the exchange tests; nothing above depends on them.
// ---------------------------------------------------------------------------

/// How long the outbox must stay quiet before "no more mail" is believed.
/// The sender is woken by every change and drains whole batches at once, so
/// a message that was going to be written is written well within this.
const MAIL_SETTLE: Duration = Duration::from_millis(1500);

/// The `tus-resumable` version every tus request carries.
pub const TUS_VERSION: &str = "1.0.0";

impl Server {
    /// The messages in the outbox folder not returned by [`Server::mail_to`]
    /// yet, oldest first, without waiting and without marking them seen.
    ///
    /// # Panics
    /// If the seen set's lock is poisoned.
    #[must_use]
    pub fn unseen_mail(&self) -> Vec<Mail> {
        let seen = self.seen_mail.lock().expect("the seen set");
        self.mail_files().into_iter().filter(|f| !seen.contains(f)).map(|f| Mail::read(&f)).collect()
    }

    /// Waits a moment for the outbox to settle and checks that nothing was
    /// sent beyond the messages already taken with [`Server::mail_to`].
    ///
    /// # Panics
    /// When another message turns up, naming each one.
    pub fn assert_no_more_mail(&self) {
        let deadline = Instant::now() + MAIL_SETTLE;
        loop {
            let extra = self.unseen_mail();
            assert!(
                extra.is_empty(),
                "unexpected mail: {:?}",
                extra.iter().map(|m| format!("to {} «{}»", m.to, m.subject)).collect::<Vec<_>>()
            );
            if Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Marks every message written so far as seen (for a server started
    /// again on a data folder whose earlier mail was already checked).
    ///
    /// # Panics
    /// If the seen set's lock is poisoned.
    pub fn skip_mail_so_far(&self) {
        let files = self.mail_files();
        self.seen_mail.lock().expect("the seen set").extend(files);
    }

    /// The `.eml` files of the outbox folder, oldest first (UUIDv7 names
    /// sort in the order they were written).
    fn mail_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.data_dir().join("outbox"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

/// A file to upload: its name as the sender's system calls it, and its bytes.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// The file name sent in the part's `Content-Disposition`.
    pub name: &'a str,
    /// The content.
    pub bytes: &'a [u8],
}

/// A downloaded body with its status and headers.
#[derive(Debug)]
pub struct Downloaded {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub bytes: Vec<u8>,
}

impl Downloaded {
    /// A header's value as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The answer to a tus request: status, headers and body text.
#[derive(Debug)]
pub struct TusAnswer {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl TusAnswer {
    /// A header's value as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Upload-Offset` as a number.
    #[must_use]
    pub fn offset(&self) -> Option<u64> {
        self.header("upload-offset").and_then(|v| v.parse().ok())
    }
}

/// The SHA-256 of `bytes`, in lower-case hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `len` reproducible pseudo-random bytes (xorshift, seeded), so that each
/// test file is distinct and incompressible.
#[must_use]
pub fn test_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A `multipart/form-data` body: the text fields first, then one `file`
/// part per upload. Returns the boundary and the body.
///
/// # Panics
/// When a file's bytes happen to contain the boundary.
#[must_use]
pub fn multipart_body(fields: &[(&str, &str)], files: &[Upload<'_>]) -> (String, Vec<u8>) {
    let boundary = "ferry-e2e-7d1b9a4c0f3e8b2a6c5d";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for file in files {
        assert!(
            !file.bytes.windows(boundary.len()).any(|w| w == boundary.as_bytes()),
            "the test file {} contains the multipart boundary",
            file.name
        );
        let name = file.name.replace('"', "%22");
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary.to_owned(), body)
}

impl Client {
    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `DELETE /api/v1{path}`: the status and the JSON body.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.http.delete(format!("{}{path}", self.base))).await
    }

    /// `POST /api/v1/transfers` as `multipart/form-data`: the text fields
    /// (`client`, `connection`, `to`…) and then the files. The status and
    /// the JSON body.
    pub async fn upload_multipart(&self, fields: &[(&str, &str)], files: &[Upload<'_>]) -> (u16, Value) {
        let (boundary, body) = multipart_body(fields, files);
        let request = self
            .http
            .post(format!("{}/transfers", self.base))
            .header(reqwest::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .timeout(Duration::from_secs(120))
            .body(body);
        self.send(request).await
    }

    /// A multipart transfer that must be accepted (201): its JSON body.
    ///
    /// # Panics
    /// On any other status.
    pub async fn send_files(&self, fields: &[(&str, &str)], files: &[Upload<'_>]) -> Value {
        let (status, body) = self.upload_multipart(fields, files).await;
        assert_eq!(status, 201, "POST /transfers {fields:?}: {body}");
        body
    }

    /// `GET /api/v1/documents/{document}/content`, with a `Range` header when given.
    ///
    /// # Panics
    /// When the server does not answer or the body is cut.
    pub async fn download(&self, document: &str, range: Option<&str>) -> Downloaded {
        let mut request =
            self.http.get(format!("{}/documents/{document}/content", self.base)).timeout(Duration::from_secs(120));
        if let Some(range) = range {
            request = request.header(reqwest::header::RANGE, range);
        }
        let response = self.authorized(request).send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the whole body").to_vec();
        Downloaded { status, headers, bytes }
    }

    /// Starts downloading a document, reads at least `bytes` of it, then
    /// goes away as a broken connection would; returns how many it read.
    ///
    /// # Panics
    /// When the server does not answer 200 or the body ends early.
    pub async fn download_then_leave(&self, document: &str, bytes: usize) -> usize {
        let request =
            self.http.get(format!("{}/documents/{document}/content", self.base)).timeout(Duration::from_secs(120));
        let mut response = self.authorized(request).send().await.expect("the server answers");
        assert_eq!(response.status().as_u16(), 200, "downloading {document}");
        let mut read = 0;
        while read < bytes {
            read += response.chunk().await.expect("the body").expect("more of the body").len();
        }
        // Dropping a response whose body was not read to its end closes its
        // connection: the server sees the client go away.
        drop(response);
        read
    }

    async fn tus(&self, request: reqwest::RequestBuilder) -> TusAnswer {
        let request = self.authorized(request.header("tus-resumable", TUS_VERSION).timeout(Duration::from_secs(120)));
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        TusAnswer { status, headers, body }
    }

    /// tus creation: `POST /api/v1/uploads` for a file of `length` bytes
    /// (deferred when `None`) in the open transfer `batch`.
    pub async fn tus_create(&self, batch: &str, filename: &str, length: Option<u64>) -> TusAnswer {
        use base64::Engine;
        let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
        let mut request = self
            .http
            .post(format!("{}/uploads", self.base))
            .header("upload-metadata", format!("batch {},filename {}", b64(batch), b64(filename)));
        request = match length {
            Some(length) => request.header("upload-length", length.to_string()),
            None => request.header("upload-defer-length", "1"),
        };
        self.tus(request).await
    }

    /// tus creation that must succeed: the new upload's id (the last segment of `Location`).
    ///
    /// # Panics
    /// Unless the answer is 201 with a `Location`.
    pub async fn tus_start(&self, batch: &str, filename: &str, length: Option<u64>) -> String {
        let answer = self.tus_create(batch, filename, length).await;
        assert_eq!(answer.status, 201, "creating an upload of {filename}: {}", answer.body);
        let location = answer.header("location").expect("a Location");
        location.rsplit('/').next().expect("an upload id").to_owned()
    }

    /// `HEAD /api/v1/uploads/{upload}`.
    pub async fn tus_head(&self, upload: &str) -> TusAnswer {
        self.tus(self.http.head(format!("{}/uploads/{upload}", self.base))).await
    }

    /// Where an upload stands (`Upload-Offset` of a HEAD that must succeed).
    ///
    /// # Panics
    /// Unless HEAD answers 200 with an offset.
    pub async fn tus_offset(&self, upload: &str) -> u64 {
        let answer = self.tus_head(upload).await;
        assert_eq!(answer.status, 200, "HEAD of upload {upload}: {}", answer.body);
        answer.offset().expect("an Upload-Offset")
    }

    /// `PATCH /api/v1/uploads/{upload}` with `bytes` from `offset`, and
    /// any extra headers (such as `upload-checksum: sha256 <base64>` or a
    /// late `upload-length`).
    pub async fn tus_patch(&self, upload: &str, offset: u64, bytes: &[u8], extra: &[(&str, &str)]) -> TusAnswer {
        let mut request = self
            .http
            .patch(format!("{}/uploads/{upload}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .body(bytes.to_vec());
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        self.tus(request).await
    }

    /// `DELETE /api/v1/uploads/{upload}` (tus termination).
    pub async fn tus_delete(&self, upload: &str) -> TusAnswer {
        self.tus(self.http.delete(format!("{}/uploads/{upload}", self.base))).await
    }

    /// Starts a PATCH of `declared` bytes from `offset` over a raw
    /// connection and sends only `sent` of them, then leaves the connection
    /// open: drop the returned stream to cut the connection mid-upload (or
    /// kill the server while it is open).
    ///
    /// # Panics
    /// When the connection cannot be made or written to.
    #[must_use]
    pub fn tus_patch_partial(&self, upload: &str, offset: u64, declared: u64, sent: &[u8]) -> std::net::TcpStream {
        use std::io::Write;
        let rest = self.base.strip_prefix("http://").expect("a plain HTTP base");
        let (host, path) = rest.split_once('/').expect("a base with a path");
        let mut stream = std::net::TcpStream::connect(host).expect("a connection to the server");
        let mut head = format!(
            "PATCH /{path}/uploads/{upload} HTTP/1.1\r\nHost: {host}\r\nTus-Resumable: {TUS_VERSION}\r\n\
             Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {declared}\r\n"
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("the request head is sent");
        stream.write_all(sent).expect("the first bytes are sent");
        stream.flush().expect("the bytes leave");
        stream
    }
}
