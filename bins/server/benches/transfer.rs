//! The file transfer benchmark (issue 6: "a 1 GiB upload and download
//! through the API on loopback with encryption at rest, against nginx
//! receiving and serving the same file on the same machine in the same run;
//! report the ratio and the server's peak memory for 10 MiB and 1 GiB").
//!
//! What it does:
//! - seeds a fresh data folder through the use cases, before any server
//!   runs: an approved practice whose admin has a password, a plan with room
//!   for the run, and a client engaged by accepting its invitation (its owner
//!   chooses a password there);
//! - for each size (10 MiB and 1 GiB; `FERRY_BENCH_TRANSFER_MIB=10,1024`
//!   changes them) writes a file of pseudo-random bytes, then starts a fresh
//!   `ferry-server` process (the release binary of this package, with
//!   `FERRY_MASTER_KEYS` set, so files are encrypted at rest in the data
//!   folder's `blobs/`) and an nginx from the OS packages, each on a free
//!   loopback port;
//! - signs the practice's admin and the client's owner in to that server,
//!   then per run (`FERRY_BENCH_TRANSFER_RUNS`, 3 by default; the median is
//!   kept): the admin uploads the file to the client with
//!   `POST /api/v1/transfers` (multipart, streamed from the file), the
//!   client's owner downloads it with `GET /api/v1/documents/{id}/content`
//!   into a file; then the same file goes to nginx with `PUT` and comes back
//!   with `GET`, through the same client code. Each upload's answer must
//!   carry the source's size and SHA-256, each download must have them
//!   (checked after the clock stops), and each run deletes what it stored;
//! - reads the server's peak resident set (`VmHWM`) after signing in and
//!   after the transfers, before stopping it, so each size's figure is its
//!   own process's.
//!
//! Every timed step starts after a `sync`, with the source file in the page
//! cache. The client runs in this process on one thread; it shares the
//! machine's cores with the servers.
//!
//! Without nginx installed the Ferry half still runs, the nginx columns say
//! why they are empty and how to install it, and the run succeeds; any
//! other failure (a wrong answer, a checksum mismatch, a server that does
//! not start) ends it with a failure status after the table, keeping the
//! data folder and logs. `FERRY_BENCH_NGINX` names another nginx binary.
//!
//! Run with `cargo xtask bench transfer` (or `cargo bench -p ferry-server
//! --bench transfer`) and record the figures in docs/BENCHMARKS.md.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferry_app::{
    AcceptedInvitation, App, AppConfig, InviteClient, PracticeApplication, Principal, SecretToken, SystemClock, UuidV7,
};
use ferry_domain::ids::ClientId;
use ferry_domain::practice::{Plan, PracticeTransition};
use ferry_domain::quota;
use ferry_domain::values::EmailAddress;
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store as _;
use ferry_ports::records::{OutboxStatus, PageRequest};
use ferry_store_sql::SqlStore;
use futures_util::StreamExt as _;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use sha2::{Digest as _, Sha256};

const MIB: u64 = 1024 * 1024;
/// How much of the file each piece of a request body carries.
const PIECE: usize = 256 * 1024;
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(60);
const NGINX_START_TIMEOUT: Duration = Duration::from_secs(10);

const ADMIN_EMAIL: &str = "ada@ledger.test";
const CLIENT_EMAIL: &str = "cora@corner-cafe.test";
/// Only ever used in this benchmark's throwaway installation.
const PASSWORD: &str = "bench transfer passphrase";

/// What went wrong, in words.
type Result<T, E = String> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("transfer bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("transfer bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The figures of one size.
#[derive(Debug)]
struct Row {
    mib: u64,
    ferry: Result<Side>,
    nginx: Result<Side>,
}

/// One server's figures for one size: median times and peak memory.
#[derive(Debug)]
struct Side {
    upload: Duration,
    download: Duration,
    /// `VmHWM` in KiB once signed in, before any transfer (Ferry only).
    peak_before_kib: Option<u64>,
    /// `VmHWM` in KiB after every transfer of this size.
    peak_kib: u64,
}

async fn run() -> Result<()> {
    let sizes = env_list("FERRY_BENCH_TRANSFER_MIB", "10,1024")?;
    let runs = env_list("FERRY_BENCH_TRANSFER_RUNS", "3")?;
    let runs = match runs.as_slice() {
        [n] if *n > 0 => usize::try_from(*n).map_err(|_| "FERRY_BENCH_TRANSFER_RUNS is too large".to_owned())?,
        _ => return Err("FERRY_BENCH_TRANSFER_RUNS must be one positive count".into()),
    };
    // The same disk as the workspace (not a tmpfs /tmp).
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .map_err(|e| format!("cannot make a folder in {}: {e}", env!("CARGO_TARGET_TMPDIR")))?;
    let data = work.path().join("ferry-data");
    std::fs::create_dir(&data).map_err(|e| format!("cannot make {}: {e}", data.display()))?;
    let client_id = seed(&data).await?;
    let key = ferry_blob::Keyring::generate_entry("bench").map_err(|e| format!("cannot make a master key: {e}"))?;
    let nginx_binary = find_nginx();
    let http = reqwest::Client::builder().build().map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    println!(
        "transfer benchmark in {}: sizes {sizes:?} MiB, {runs} runs each (median), server {}; load average {}",
        work.path().display(),
        env!("CARGO_BIN_EXE_ferry-server"),
        load_average(),
    );

    let mut rows = Vec::new();
    for &mib in &sizes {
        let source = work.path().join(format!("source-{mib}MiB.bin"));
        let sha = write_random_file(&source, mib * MIB)?;
        let sink = work.path().join("downloaded.bin");
        let bench = Bench { http: &http, source: &source, sha: &sha, sink: &sink, len: mib * MIB };

        let mut ferry = FerryServer::start(&data, &key).await;
        let mut nginx = match &nginx_binary {
            Ok(binary) => Nginx::start(binary, &work.path().join(format!("nginx-{mib}"))),
            Err(why) => Err(why.clone()),
        };
        let mut ferry_times: Result<(Vec<Duration>, Vec<Duration>, u64)> =
            ferry.as_ref().map(|_| (Vec::new(), Vec::new(), 0)).map_err(Clone::clone);
        let mut nginx_times: Result<(Vec<Duration>, Vec<Duration>)> =
            nginx.as_ref().map(|_| (Vec::new(), Vec::new())).map_err(Clone::clone);
        let mut sessions = None;
        if let Ok(server) = &ferry {
            match sign_in_both(&http, &server.base).await {
                Ok(tokens) => sessions = Some(tokens),
                Err(e) => ferry_times = Err(e),
            }
            if let (Ok(times), Ok(peak)) = (&mut ferry_times, server.peak_kib()) {
                times.2 = peak;
            }
        }
        for run in 1..=runs {
            if let (Ok(server), Ok(times), Some((admin, owner))) = (&ferry, &mut ferry_times, &sessions) {
                match bench.ferry_run(&server.base, admin, owner, client_id).await {
                    Ok((up, down)) => {
                        println!("  {mib} MiB run {run}: Ferry up {} down {}", rate(mib, up), rate(mib, down));
                        times.0.push(up);
                        times.1.push(down);
                    }
                    Err(e) => ferry_times = Err(e),
                }
            }
            if let (Ok(server), Ok(times)) = (&nginx, &mut nginx_times) {
                match bench.nginx_run(&server.base).await {
                    Ok((up, down)) => {
                        println!("  {mib} MiB run {run}: nginx up {} down {}", rate(mib, up), rate(mib, down));
                        times.0.push(up);
                        times.1.push(down);
                    }
                    Err(e) => nginx_times = Err(e),
                }
            }
        }
        let ferry_side = match (&mut ferry, ferry_times) {
            (Ok(server), Ok((ups, downs, before))) => {
                let peak = server.peak_kib();
                if let Ok(threads) = proc_status(server.child.id(), "Threads:") {
                    println!("  {mib} MiB: the server has {threads} threads after the transfers");
                }
                server.stop();
                peak.map(|peak| Side {
                    upload: median(ups),
                    download: median(downs),
                    peak_before_kib: Some(before),
                    peak_kib: peak,
                })
            }
            (Ok(server), Err(e)) => {
                eprintln!("Ferry, {mib} MiB: {e}\n  the server's log: {}", server.log_path().display());
                server.stop();
                Err(e)
            }
            (Err(e), _) => Err(e.clone()),
        };
        let nginx_side = match (&mut nginx, nginx_times) {
            (Ok(server), Ok((ups, downs))) => {
                let peak = server.peak_kib();
                server.stop();
                peak.map(|peak| Side {
                    upload: median(ups),
                    download: median(downs),
                    peak_before_kib: None,
                    peak_kib: peak,
                })
            }
            (Ok(server), Err(e)) => {
                server.stop();
                Err(e)
            }
            (Err(e), _) => Err(e.clone()),
        };
        let _ = std::fs::remove_file(&source);
        rows.push(Row { mib, ferry: ferry_side, nginx: nginx_side });
    }

    println!("\n{}", table(&rows));
    println!("load average at the end: {}", load_average());
    // Without nginx the Ferry half is still worth having: skipping the
    // comparison is not a failure (the table says why it is empty).
    let nginx_missing = nginx_binary.is_err();
    if let Err(why) = &nginx_binary {
        println!("nginx half skipped: {why}");
    }
    // Keep the data folder (and its logs) only when something failed.
    let failed: Vec<String> = rows
        .iter()
        .flat_map(|row| {
            let ferry = row.ferry.as_ref().err().map(|e| format!("Ferry, {} MiB: {e}", row.mib));
            let nginx =
                row.nginx.as_ref().err().filter(|_| !nginx_missing).map(|e| format!("nginx, {} MiB: {e}", row.mib));
            ferry.into_iter().chain(nginx)
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let kept = work.keep();
    Err(format!("not every figure was measured (data and logs kept in {}):\n  {}", kept.display(), failed.join("\n  ")))
}

/// The figures as a Markdown table.
fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| size | Ferry upload | nginx upload | of nginx | Ferry download | nginx download | of nginx \
         | Ferry peak RSS (signed in → after) | nginx peak RSS |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let mib = row.mib;
        let cell = |side: &Result<Side>, f: &dyn Fn(&Side) -> String| match side {
            Ok(side) => f(side),
            Err(_) => "n/a".to_owned(),
        };
        let ratio = |pick: fn(&Side) -> Duration| match (&row.ferry, &row.nginx) {
            // Throughput ratio: nginx's time over Ferry's.
            (Ok(f), Ok(n)) => format!("{:.0}%", 100.0 * pick(n).as_secs_f64() / pick(f).as_secs_f64()),
            _ => "n/a".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {mib} MiB | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&row.ferry, &|s| rate(mib, s.upload)),
            cell(&row.nginx, &|s| rate(mib, s.upload)),
            ratio(|s| s.upload),
            cell(&row.ferry, &|s| rate(mib, s.download)),
            cell(&row.nginx, &|s| rate(mib, s.download)),
            ratio(|s| s.download),
            cell(&row.ferry, &|s| format!(
                "{} → {}",
                s.peak_before_kib.map_or_else(|| "?".to_owned(), mebibytes),
                mebibytes(s.peak_kib)
            )),
            cell(&row.nginx, &|s| mebibytes(s.peak_kib)),
        );
    }
    for row in rows {
        for (who, side) in [("Ferry", &row.ferry), ("nginx", &row.nginx)] {
            if let Err(e) = side {
                let _ = writeln!(out, "\n{who}, {} MiB, not measured: {e}", row.mib);
            }
        }
    }
    out
}

/// One size's source file and what every run needs.
struct Bench<'a> {
    http: &'a reqwest::Client,
    source: &'a Path,
    sha: &'a str,
    sink: &'a Path,
    len: u64,
}

impl Bench<'_> {
    /// Upload as the admin, download as the client's owner, check, delete.
    async fn ferry_run(&self, base: &str, admin: &str, owner: &str, client: ClientId) -> Result<(Duration, Duration)> {
        let boundary = format!("ferry-bench-{:016x}", seed_from_clock());
        let prefix = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"client\"\r\n\r\n{client}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench-{}.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
            self.len
        );
        let suffix = format!("\r\n--{boundary}--\r\n");
        let request = self
            .http
            .post(format!("{base}/api/v1/transfers"))
            .header(AUTHORIZATION, format!("Bearer {admin}"))
            .header(CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
        sync();
        let (upload, status, body) = self
            .send_file(request, Bytes::from(prefix), Bytes::from(suffix))
            .await
            .map_err(|e| format!("upload: {e}"))?;
        if status == 404 || status == 405 {
            return Err(format!(
                "POST /api/v1/transfers answered {status}: this server has no file upload endpoint yet ({body})"
            ));
        }
        if status != 201 {
            return Err(format!("POST /api/v1/transfers answered {status}, not 201: {body}"));
        }
        let answer: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| format!("the upload's answer is not JSON ({e}): {body}"))?;
        let document = answer["documents"]
            .as_array()
            .and_then(|documents| documents.first())
            .ok_or_else(|| format!("the upload's answer names no document: {body}"))?;
        let id = document["id"].as_str().ok_or_else(|| format!("the document has no id: {body}"))?.to_owned();
        if document["sha256"].as_str() != Some(self.sha) || document["size"].as_u64() != Some(self.len) {
            return Err(format!("the server recorded another file than was sent: {document}"));
        }

        let url = format!("{base}/api/v1/documents/{id}/content");
        sync();
        let download = self.fetch(self.http.get(&url).header(AUTHORIZATION, format!("Bearer {owner}"))).await?;

        let deleted = self
            .http
            .delete(format!("{base}/api/v1/documents/{id}"))
            .header(AUTHORIZATION, format!("Bearer {admin}"))
            .send()
            .await
            .map_err(|e| format!("DELETE /api/v1/documents/{id}: {e}"))?;
        if !deleted.status().is_success() {
            let status = deleted.status();
            let body = deleted.text().await.unwrap_or_default();
            return Err(format!("DELETE /api/v1/documents/{id} answered {status}: {body}"));
        }
        Ok((upload, download))
    }

    /// `PUT` the file to nginx, `GET` it back, check, delete.
    async fn nginx_run(&self, base: &str) -> Result<(Duration, Duration)> {
        let url = format!("{base}/bench-{}.bin", self.len);
        sync();
        let (upload, status, body) =
            self.send_file(self.http.put(&url), Bytes::new(), Bytes::new()).await.map_err(|e| format!("PUT: {e}"))?;
        if status != 201 && status != 204 {
            return Err(format!("nginx answered the PUT with {status}: {body}"));
        }
        sync();
        let download = self.fetch(self.http.get(&url)).await?;
        let deleted = self.http.delete(&url).send().await.map_err(|e| format!("DELETE: {e}"))?;
        if !deleted.status().is_success() {
            return Err(format!("nginx answered the DELETE with {}", deleted.status()));
        }
        Ok((upload, download))
    }

    /// Sends `prefix`, the source file and `suffix` as the request body
    /// (streamed, with its length); times it until the whole answer is read.
    async fn send_file(
        &self,
        request: reqwest::RequestBuilder,
        prefix: Bytes,
        suffix: Bytes,
    ) -> Result<(Duration, u16, String)> {
        let file =
            std::fs::File::open(self.source).map_err(|e| format!("cannot open {}: {e}", self.source.display()))?;
        let length = prefix.len() as u64 + self.len + suffix.len() as u64;
        let pieces = futures_util::stream::unfold(Some(file), |file| async move {
            let mut file = file?;
            let mut buf = vec![0; PIECE];
            match file.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
        let body = futures_util::stream::iter([prefix])
            .map(Ok)
            .chain(pieces)
            .chain(futures_util::stream::iter([suffix]).map(Ok))
            .filter(|piece| std::future::ready(piece.as_ref().map_or(true, |b| !b.is_empty())));
        let start = Instant::now();
        let response = request
            .header(CONTENT_LENGTH, length)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map_err(|e| format!("the request failed: {}", causes(&e)))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| format!("reading the answer failed: {}", causes(&e)))?;
        Ok((start.elapsed(), status, text))
    }

    /// Downloads into the sink file; times it until the last byte is
    /// written, then checks the length and the SHA-256.
    async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Duration> {
        let file =
            std::fs::File::create(self.sink).map_err(|e| format!("cannot create {}: {e}", self.sink.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1024 * 1024, file);
        let start = Instant::now();
        let mut response = request.send().await.map_err(|e| format!("the download failed: {}", causes(&e)))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            let body = response.text().await.unwrap_or_default();
            return Err(format!("the download answered {status}, not 200: {body}"));
        }
        let mut received = 0_u64;
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("the download broke off: {}", causes(&e)))? {
            received += chunk.len() as u64;
            out.write_all(&chunk).map_err(|e| format!("cannot write {}: {e}", self.sink.display()))?;
        }
        out.flush().map_err(|e| format!("cannot write {}: {e}", self.sink.display()))?;
        let elapsed = start.elapsed();
        drop(out);
        if received != self.len {
            return Err(format!("the download had {received} bytes, not {}", self.len));
        }
        let sha = hash_file(self.sink)?;
        let _ = std::fs::remove_file(self.sink);
        if sha != self.sha {
            return Err(format!("the download's SHA-256 is {sha}, not the source's {}", self.sha));
        }
        Ok(elapsed)
    }
}

/// Seeds the installation: an approved practice with an admin who has a
/// password and room for the run, and a client it engaged whose owner
/// accepted the invitation with a password. Returns the client's id.
async fn seed(data: &Path) -> Result<ClientId> {
    let url = format!("sqlite://{}", data.join("ferry.db").display());
    let store = SqlStore::connect(&url).await.map_err(|e| format!("cannot open {url}: {e}"))?;
    store.migrate().await.map_err(|e| format!("cannot migrate {url}: {e}"))?;
    let store = Arc::new(store);
    let base = BaseUrl::parse("http://127.0.0.1").map_err(|e| format!("a base URL: {e}"))?;
    let app = App::new(
        store.clone(),
        Arc::new(ferry_blob::EncryptedBlobStore::in_memory()),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        AppConfig::new(base),
    );
    let step = |what: &'static str| move |e: ferry_app::AppError| format!("seeding, {what}: {e}");

    let application = PracticeApplication {
        practice_name: "Ledger & Co".into(),
        admin_name: "Ada Admin".into(),
        admin_email: ADMIN_EMAIL.into(),
    };
    let practice = app.apply_for_practice(&application).await.map_err(step("applying for a practice"))?;
    app.decide_practice(&Principal::Operator, practice.id, PracticeTransition::Approve)
        .await
        .map_err(step("approving the practice"))?;
    let token = mailed_token(&store, ADMIN_EMAIL).await?;
    app.set_password_with_link(&token, PASSWORD.into()).await.map_err(step("setting the admin's password"))?;
    // Room for every run of both sizes, uploaded and downloaded.
    let plan = Plan {
        seat_limit: Plan::DEFAULT_SEATS,
        storage: quota::Bytes::new(1 << 40),
        throughput: quota::Bytes::new(1 << 44),
    };
    app.set_plan(&Principal::Operator, practice.id, plan).await.map_err(step("setting the plan"))?;

    let admin = {
        let mut tx = store.read().await.map_err(|e| format!("seeding: {e}"))?;
        let email = EmailAddress::parse(ADMIN_EMAIL).map_err(|e| format!("seeding: {e}"))?;
        let user = tx.user_by_email(&email).await.map_err(|e| format!("seeding: {e}"))?;
        user.ok_or("seeding: the admin was not recorded")?.id
    };
    let admin = Principal::User { user: admin, session: None };
    let invite =
        InviteClient {
            client_name: "Corner Café".into(), email: CLIENT_EMAIL.into(), name: Some("Cora Owner".into())
        };
    let engagement = app.invite_client(&admin, practice.id, &invite).await.map_err(step("inviting the client"))?;
    let token = mailed_token(&store, CLIENT_EMAIL).await?;
    match app.accept_invitation(&token, Some(PASSWORD.into())).await.map_err(step("accepting the invitation"))? {
        AcceptedInvitation::Engagement(_) => {}
        AcceptedInvitation::Connection(_) | AcceptedInvitation::Membership(_) => {
            return Err("seeding: the invitation was not a client's".into());
        }
    }
    store.close().await;
    Ok(engagement.client.id)
}

/// The token of the newest queued mail to `to`.
async fn mailed_token(store: &SqlStore, to: &str) -> Result<SecretToken> {
    let mut tx = store.read().await.map_err(|e| format!("seeding: {e}"))?;
    let outbox =
        tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(100)).await.map_err(|e| format!("seeding: {e}"))?;
    let mail = outbox
        .items
        .into_iter()
        .rev()
        .map(|m| m.mail)
        .find(|m| m.to.as_str() == to)
        .ok_or_else(|| format!("seeding: no mail to {to} was queued"))?;
    let start = mail.text.find("token=").ok_or_else(|| format!("seeding: the mail to {to} has no link"))? + 6;
    let raw: String =
        mail.text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    Ok(SecretToken::from_presented(&raw))
}

/// Signs the admin and the client's owner in: their bearer tokens.
async fn sign_in_both(http: &reqwest::Client, base: &str) -> Result<(String, String)> {
    let sign_in = async |email: &str| -> Result<String> {
        let response = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .map_err(|e| format!("signing in as {email}: {e}"))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.map_err(|e| format!("signing in as {email}: {e}"))?;
        match body["token"].as_str() {
            Some(token) if status.is_success() => Ok(token.to_owned()),
            _ => Err(format!("signing in as {email} answered {status}: {body}")),
        }
    };
    Ok((sign_in(ADMIN_EMAIL).await?, sign_in(CLIENT_EMAIL).await?))
}

/// A `ferry-server` process on a free loopback port; killed when dropped.
struct FerryServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
    log: PathBuf,
}

impl FerryServer {
    /// Starts the binary on `data` with `key` as its master key, and waits
    /// for its address.
    async fn start(data: &Path, key: &str) -> Result<Self> {
        let log_path = data.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_ferry-server"));
        // Settings from the environment of whoever runs the benchmark must not leak in.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("FERRY_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        let mut child = command
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data)
            .env(ferry_blob::MASTER_KEYS_VAR, key)
            .env("FERRY_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", env!("CARGO_BIN_EXE_ferry-server")))?;
        let (found, address) = mpsc::channel();
        let Some(pipe) = child.stdout.take() else {
            let _ = child.kill();
            return Err("the server's standard output is not piped".into());
        };
        // Read standard output for the whole life of the process, so that it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("Ferry listening on ") {
                    let _ = found.send(addr.trim().to_owned());
                }
            }
        });
        let waited = tokio::task::spawn_blocking(move || address.recv_timeout(SERVER_START_TIMEOUT)).await;
        match waited {
            Ok(Ok(base)) => Ok(Self { child, base, log: log_path }),
            _ => {
                let _ = child.kill();
                let status = child.wait().ok();
                Err(format!("ferry-server did not print its address (exit: {status:?}); see {}", log_path.display()))
            }
        }
    }

    fn peak_kib(&self) -> Result<u64> {
        peak_kib(self.child.id())
    }

    fn log_path(&self) -> &Path {
        &self.log
    }

    /// SIGTERM, then waits up to a minute before killing it.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("ferry-server did not stop within a minute of SIGTERM; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FerryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The nginx binary (`FERRY_BENCH_NGINX`, else the OS package's), or why there is none.
fn find_nginx() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("FERRY_BENCH_NGINX") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("FERRY_BENCH_NGINX={} is not a file", path.display()))
        };
    }
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("nginx")).collect::<Vec<_>>())
        .unwrap_or_default();
    [PathBuf::from("/usr/sbin/nginx")].into_iter().chain(candidates).find(|p| p.is_file()).ok_or_else(|| {
        "nginx is not installed, so there is nothing to compare with; install it from the OS packages \
         (Debian/Ubuntu: `apt-get update && apt-get install -y nginx`) and run the benchmark again"
            .to_owned()
    })
}

/// An nginx in the foreground with its own configuration, taking `PUT` and
/// serving `GET` on a free loopback port; stopped when dropped.
struct Nginx {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
}

impl Nginx {
    fn start(binary: &Path, dir: &Path) -> Result<Self> {
        for sub in ["root", "body-temp"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("cannot find a free port: {e}"))?
            .port();
        let d = dir.display();
        // One process (no master, so no user switch when run as root), which
        // is all a single connection uses anyway. The request body goes to
        // a temporary file in `body-temp` and is renamed into `root`, on the
        // same disk as Ferry's data folder.
        let config = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  default_type application/octet-stream;\n\
             \x20 client_body_temp_path {d}/body-temp;\n  proxy_temp_path {d}/proxy-temp;\n\
             \x20 fastcgi_temp_path {d}/fastcgi-temp;\n  uwsgi_temp_path {d}/uwsgi-temp;\n  scgi_temp_path {d}/scgi-temp;\n\
             \x20 server {{\n    listen 127.0.0.1:{port};\n    root {d}/root;\n    location / {{\n\
             \x20     dav_methods PUT DELETE;\n      create_full_put_path on;\n      client_max_body_size 0;\n    }}\n  }}\n}}\n"
        );
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        let error_log = dir.join("error.log");
        let mut child = Command::new(binary)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(&error_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let deadline = Instant::now() + NGINX_START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                let log = std::fs::read_to_string(&error_log).unwrap_or_default();
                return Err(format!("nginx exited at start ({status}): {}{}", stderr.trim(), log.trim()));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child, base: format!("http://127.0.0.1:{port}") });
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("nginx did not listen on port {port} within {NGINX_START_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn peak_kib(&self) -> Result<u64> {
        peak_kib(self.child.id())
    }

    /// SIGQUIT (graceful), then kills it if it lingers.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg("-QUIT").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's peak resident set in KiB (`VmHWM` in `/proc/PID/status`).
fn peak_kib(pid: u32) -> Result<u64> {
    proc_status(pid, "VmHWM:")
}

/// A number from `/proc/PID/status` (without its unit).
fn proc_status(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{path} has no {field} line"))
}

/// Writes `len` pseudo-random bytes (xorshift, seeded from the clock) to
/// `path`; returns their SHA-256 in hex.
fn write_random_file(path: &Path, len: u64) -> Result<String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?);
    let mut hasher = Sha256::new();
    let mut state = seed_from_clock() | 1;
    let mut buf = vec![0_u8; 1024 * 1024];
    let mut left = len;
    while left > 0 {
        for word in buf.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        file.write_all(&buf[..n]).map_err(fail)?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    file.flush().map_err(fail)?;
    Ok(hex::encode(hasher.finalize()))
}

fn hash_file(path: &Path) -> Result<String> {
    let fail = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0_u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(fail)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn seed_from_clock() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    // Only the low bits vary; truncating is the point.
    #[allow(clippy::cast_possible_truncation)]
    let seed = nanos as u64;
    seed
}

/// The 1, 5 and 15 minute load averages: other work on the machine skews the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "unknown".to_owned(), |text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// Flushes earlier writes, so that every timed step starts from the same state.
fn sync() {
    let _ = Command::new("sync").status();
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn rate(mib: u64, elapsed: Duration) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mib = mib as f64;
    format!("{:.0} MiB/s", mib / elapsed.as_secs_f64())
}

fn mebibytes(kib: u64) -> String {
    format!("{} MiB", kib.div_ceil(1024))
}

/// An error with its causes, which reqwest keeps out of its message.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let _ = write!(text, ": {cause}");
        source = cause.source();
    }
    text
}

fn env_list(name: &str, default: &str) -> Result<Vec<u64>> {
    let value = std::env::var(name).unwrap_or_else(|_| default.to_owned());
    value
        .split(',')
        .map(|s| s.trim().parse::<u64>().map_err(|_| format!("{name}=`{value}` is not a list of whole numbers")))
        .collect()
}
