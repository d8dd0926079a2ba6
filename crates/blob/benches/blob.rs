//! The blob store's throughput benchmark (issue: "at least 80% of cp's
//! throughput, and the same peak memory for 10 MiB and 1 GiB").
//!
//! For each size (10 MiB and 1 GiB; override with `FERRY_BENCH_BLOB_MIB`,
//! e.g. `10,1024`) it writes a file of random bytes, then measures on the
//! same disk, with a warm page cache:
//! - `cp` of the file (which copies inside the kernel, `copy_file_range`),
//!   also followed by an fsync of the copy; and a read/write copy through a
//!   1 MiB buffer (what any program that handles the bytes itself pays);
//! - store: the file read in 1 MiB pieces by a thread (as a socket delivers
//!   a request body) into an upload to the local folder backend, which
//!   hashes, encrypts and writes it, then commits (default options: 64 KiB
//!   chunks, 1 MiB parts, 2 in flight), without and with fsync;
//! - fetch: the stored file decrypted and handed to a thread that writes it
//!   to a new file (as a socket sends a response body).
//!
//! Each figure is the median of three runs; before each, the previous run's
//! output is deleted and `sync` flushes earlier writes, so every run writes a
//! new file from the same state. Every store and fetch runs in a child
//! process of its own (this binary again), so that its peak resident set
//! (`VmHWM`) is its own.
//!
//! Run with `cargo xtask bench blob` (or `cargo bench -p ferry-blob --bench
//! blob`) and record the figures in docs/BENCHMARKS.md.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore, Keyring};
use ferry_ports::blob::{BlobKey, BlobStore};
use sha2::{Digest as _, Sha256};

const MIB: u64 = 1024 * 1024;
const RUNS: usize = 3;
const PIECE: usize = 1024 * 1024;

/// Set in the child processes that measure one phase each.
const PHASE_VAR: &str = "FERRY_BENCH_BLOB_PHASE";

fn main() {
    if let Ok(phase) = std::env::var(PHASE_VAR) {
        return run_phase(&phase);
    }
    let sizes: Vec<u64> = std::env::var("FERRY_BENCH_BLOB_MIB")
        .unwrap_or_else(|_| "10,1024".into())
        .split(',')
        .map(|s| s.trim().parse::<u64>().expect("FERRY_BENCH_BLOB_MIB is a list of MiB counts"))
        .collect();
    // The same disk as the workspace.
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let key_entry = Keyring::generate_entry("bench").unwrap();
    println!("blob benchmark in {} ({RUNS} runs each, median)", work.path().display());

    let mut rows = Vec::new();
    for mib in sizes {
        let source = work.path().join(format!("source-{mib}"));
        let sha = write_random_file(&source, mib * MIB);
        let copy = work.path().join("copy");
        let back = work.path().join("back");
        let folder = work.path().join("store");

        // Runs `measure` after deleting `output` and flushing earlier writes.
        let fresh = |output: &Path, measure: &mut dyn FnMut() -> (Duration, u64)| {
            median(|| {
                let _ = std::fs::remove_file(output);
                let _ = std::fs::remove_dir_all(output);
                sync();
                measure()
            })
        };
        let cp = |fsync: bool| {
            let start = Instant::now();
            assert!(Command::new("cp").arg(&source).arg(&copy).status().unwrap().success());
            if fsync {
                std::fs::File::open(&copy).unwrap().sync_all().unwrap();
            }
            (start.elapsed(), 0)
        };
        let phase = |name: &str, fsync: bool| {
            let output = Command::new(std::env::current_exe().unwrap())
                .env(PHASE_VAR, name)
                .env("FERRY_BENCH_KEY", &key_entry)
                .env("FERRY_BENCH_SOURCE", &source)
                .env("FERRY_BENCH_FOLDER", &folder)
                .env("FERRY_BENCH_TARGET", &back)
                .env("FERRY_BENCH_FSYNC", fsync.to_string())
                .env("FERRY_BENCH_SHA", hex::encode(sha))
                .output()
                .unwrap();
            assert!(output.status.success(), "{name}: {}", String::from_utf8_lossy(&output.stderr));
            let text = String::from_utf8(output.stdout).unwrap();
            let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().unwrap());
            (Duration::from_nanos(fields.next().unwrap()), fields.next().unwrap())
        };

        let (cp_plain, _) = fresh(&copy, &mut || cp(false));
        let (cp_fsync, _) = fresh(&copy, &mut || cp(true));
        let (copy_rw, _) = fresh(&copy, &mut || (user_copy(&source, &copy), 0));
        let (up_fsync, up_fsync_peak) = fresh(&folder, &mut || phase("store", true));
        let (up, up_peak) = fresh(&folder, &mut || phase("store", false));
        let (down, down_peak) = fresh(&back, &mut || phase("fetch", false));
        assert_eq!(hash_file(&back), sha, "the file came back different");
        for path in [&copy, &back, &source] {
            std::fs::remove_file(path).unwrap();
        }
        std::fs::remove_dir_all(&folder).unwrap();
        rows.push(Row {
            mib,
            cp: cp_plain,
            cp_fsync,
            copy_rw,
            up,
            up_fsync,
            down,
            up_peak: up_peak.max(up_fsync_peak),
            down_peak,
        });
    }

    println!();
    println!(
        "| size | cp | read/write copy | store | vs cp | store, fsync | vs cp + fsync | fetch | vs cp | peak RSS store / fetch |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let ratio =
            |reference: Duration, d: Duration| format!("{:.0}%", 100.0 * reference.as_secs_f64() / d.as_secs_f64());
        println!(
            "| {} MiB | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} MiB |",
            r.mib,
            rate(r.mib, r.cp),
            rate(r.mib, r.copy_rw),
            rate(r.mib, r.up),
            ratio(r.cp, r.up),
            rate(r.mib, r.up_fsync),
            ratio(r.cp_fsync, r.up_fsync),
            rate(r.mib, r.down),
            ratio(r.cp, r.down),
            r.up_peak / 1024,
            r.down_peak / 1024,
        );
    }
}

struct Row {
    mib: u64,
    cp: Duration,
    cp_fsync: Duration,
    copy_rw: Duration,
    up: Duration,
    up_fsync: Duration,
    down: Duration,
    /// KiB.
    up_peak: u64,
    down_peak: u64,
}

/// Copies `source` to `target` through a 1 MiB buffer.
fn user_copy(source: &Path, target: &Path) -> Duration {
    let start = Instant::now();
    let mut from = std::fs::File::open(source).unwrap();
    let mut to = std::fs::File::create(target).unwrap();
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = read_full(&mut from, &mut buf);
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n]).unwrap();
    }
    start.elapsed()
}

/// One measured phase, in a process of its own so that its peak memory is
/// its own: prints the elapsed nanoseconds and the peak resident set in KiB.
fn run_phase(phase: &str) {
    let var = |name: &str| std::env::var(name).unwrap();
    let keyring = Keyring::parse(&var("FERRY_BENCH_KEY")).unwrap();
    let options = BlobOptions::default().fsync(var("FERRY_BENCH_FSYNC") == "true");
    let location = BlobLocation::folder(var("FERRY_BENCH_FOLDER"));
    let store = EncryptedBlobStore::open(&location, keyring, options).unwrap();
    let key = BlobKey::parse("documents/bench").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let elapsed = match phase {
        "store" => {
            let sha: [u8; 32] = hex::decode(var("FERRY_BENCH_SHA")).unwrap().try_into().unwrap();
            runtime.block_on(store_file(&store, &key, Path::new(&var("FERRY_BENCH_SOURCE")), sha))
        }
        "fetch" => runtime.block_on(fetch_file(&store, &key, Path::new(&var("FERRY_BENCH_TARGET")))),
        other => panic!("unknown phase {other}"),
    };
    println!("{} {}", elapsed.as_nanos(), peak_memory());
}

fn sync() {
    assert!(Command::new("sync").status().unwrap().success());
}

fn rate(mib: u64, elapsed: Duration) -> String {
    format!("{:.0} MiB/s", mib as f64 / elapsed.as_secs_f64())
}

/// Runs `run` three times and keeps the median time (with the largest
/// memory figure).
fn median(mut run: impl FnMut() -> (Duration, u64)) -> (Duration, u64) {
    let runs: Vec<(Duration, u64)> = (0..RUNS).map(|_| run()).collect();
    let mut times: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    times.sort();
    (times[RUNS / 2], runs.iter().map(|r| r.1).max().unwrap_or(0))
}

/// Writes `len` pseudo-random bytes to `path`; returns their SHA-256.
fn write_random_file(path: &Path, len: u64) -> [u8; 32] {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut hasher = Sha256::new();
    let mut state = 0x5eed_u64;
    let mut buf = vec![0u8; PIECE];
    let mut left = len;
    while left > 0 {
        for word in buf.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        let n = usize::try_from(left.min(PIECE as u64)).unwrap();
        file.write_all(&buf[..n]).unwrap();
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    file.flush().unwrap();
    hasher.finalize().into()
}

fn hash_file(path: &Path) -> [u8; 32] {
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; PIECE];
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            return hasher.finalize().into();
        }
        hasher.update(&buf[..n]);
    }
}

/// Streams `source` into the store, as the HTTP layer streams a request
/// body: a thread reads the file in 1 MiB pieces (as a socket delivers a
/// body) while the upload hashes, encrypts and stores them.
async fn store_file(store: &EncryptedBlobStore, key: &BlobKey, source: &Path, sha: [u8; 32]) -> Duration {
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
    let source = source.to_path_buf();
    let reader = std::thread::spawn(move || {
        let mut file = std::fs::File::open(source).unwrap();
        loop {
            let mut buf = Vec::with_capacity(PIECE);
            let n = (&mut file).take(PIECE as u64).read_to_end(&mut buf).unwrap();
            if n == 0 || tx.blocking_send(buf).is_err() {
                return;
            }
        }
    });
    let mut upload = store.begin_upload(key).await.unwrap();
    while let Some(piece) = rx.recv().await {
        upload.write(&piece).await.unwrap();
    }
    let receipt = upload.commit().await.unwrap();
    let elapsed = start.elapsed();
    reader.join().unwrap();
    assert_eq!(receipt.sha256, sha);
    elapsed
}

/// Streams the stored file out to `target`, as the HTTP layer streams a
/// response: a thread writes the pieces out (as a socket sends them).
async fn fetch_file(store: &EncryptedBlobStore, key: &BlobKey, target: &Path) -> Duration {
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(2);
    let target = target.to_path_buf();
    let writer = std::thread::spawn(move || {
        let mut file = std::fs::File::create(target).unwrap();
        while let Some(piece) = rx.blocking_recv() {
            file.write_all(&piece).unwrap();
        }
    });
    let mut download = store.open(key, None).await.unwrap();
    while let Some(piece) = download.next_chunk().await.unwrap() {
        tx.send(piece).await.unwrap();
    }
    drop(tx);
    tokio::task::spawn_blocking(move || writer.join().unwrap()).await.unwrap();
    start.elapsed()
}

/// Fills `buf` from `file` unless the file ends first; returns the bytes read.
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]).unwrap() {
            0 => break,
            read => n += read,
        }
    }
    n
}

/// The process's peak resident set, in KiB (`VmHWM`).
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
