//! Ferry's task runner, run as `cargo xtask <task>`.
//!
//! This is the one source of truth for what CI checks. `.ci/run` only
//! prepares the machine (toolchain components, services the tests need) and
//! then ends in `cargo xtask ci`, so a green `cargo xtask ci` on a developer's
//! machine means the same as a green CI run. To change what CI checks, change
//! this file, not the CI configuration.
//!
//! Every step runs cargo (the `CARGO` environment variable, else `cargo` on
//! the `PATH`) from the workspace root. The first failing step stops the run,
//! and its exit code becomes the exit code of `cargo xtask`.
//!
//! Kept on `std` only, so that it builds in seconds and needs no review.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const HELP: &str = "\
Ferry's task runner: the one source of truth for what CI checks.

Usage: cargo xtask <task> [args...]

Tasks:
  test [args...]  Run the whole test suite. First
                  `cargo build -p ferry-server -p ferry-admin`, handed to
                  the end-to-end tests (FERRY_E2E_SERVER_BIN and
                  FERRY_E2E_ADMIN_BIN, unless set). With cargo-nextest:
                  `cargo nextest run --workspace --no-fail-fast [args...]`,
                  then the doctests (`cargo test --workspace --doc`), which
                  nextest does not run. Without it:
                  `cargo test --workspace --no-fail-fast [args...]`.
  ci              What CI runs: `cargo fmt --all --check`, then
                  `cargo clippy --workspace --all-targets --all-features -- -D warnings`,
                  then `test`. Stops at the first failing step.
  bench store     The store's access benchmark: seeds 10,000 clients and
                  100,000 tasks in SQLite (and PostgreSQL when
                  FERRY_BENCH_POSTGRES_URL is set) and prints p50/p99
                  of the can-U-open-C check and the my-clients list
                  (`cargo bench -p ferry-store-sql --bench store`).
  bench blob      The blob store's throughput benchmark: 10 MiB and 1 GiB
                  through encrypt-and-store and back on the local folder
                  backend, against `cp` of the same file on the same disk,
                  with peak memory (`cargo bench -p ferry-blob --bench blob`).
  bench api       The API's throughput benchmark: seeds 10,000 clients and
                  100,000 tasks in SQLite, serves the API on loopback and
                  drives My Tasks and the account switcher with 64
                  keep-alive connections, against a bare poem handler;
                  prints requests per second and p50/p99
                  (`cargo bench -p ferry-http --bench api`).
  bench transfer  The file transfer benchmark: 10 MiB and 1 GiB uploaded
                  and downloaded through the API of the real server
                  binary on loopback, encrypted at rest, against nginx
                  (from the OS packages) taking the same file by PUT
                  and serving it by GET in the same run; prints MiB/s,
                  the ratio to nginx and the server's peak memory
                  (`cargo bench -p ferry-server --bench transfer`).
  help            Print this help.
";

/// Exit code for a command line `cargo xtask` does not understand.
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let Some(task) = args.next() else {
        eprint!("{HELP}");
        return ExitCode::from(USAGE_ERROR);
    };
    let rest: Vec<OsString> = args.collect();

    match task.to_str() {
        Some("test") => Runner::new("test").run(&test_steps(&rest)),
        Some("ci") if rest.is_empty() => Runner::new("ci").run(&ci_steps()),
        Some("ci") => usage_error("`ci` takes no arguments; it runs exactly what CI runs"),
        Some("bench") => match rest.first().and_then(|b| b.to_str()) {
            Some("store") if rest.len() == 1 => Runner::new("bench")
                .run(&[Step::new("bench store", &["bench", "--package", "ferry-store-sql", "--bench", "store"])]),
            Some("blob") if rest.len() == 1 => Runner::new("bench")
                .run(&[Step::new("bench blob", &["bench", "--package", "ferry-blob", "--bench", "blob"])]),
            Some("api") if rest.len() == 1 => Runner::new("bench")
                .run(&[Step::new("bench api", &["bench", "--package", "ferry-http", "--bench", "api"])]),
            Some("transfer") if rest.len() == 1 => Runner::new("bench")
                .run(&[Step::new("bench transfer", &["bench", "--package", "ferry-server", "--bench", "transfer"])]),
            _ => usage_error("`bench` takes one benchmark name: store, blob, api or transfer"),
        },
        Some("help" | "-h" | "--help") => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        _ => usage_error(&format!("unknown task `{}`", task.to_string_lossy())),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("xtask: {message}\n");
    eprint!("{HELP}");
    ExitCode::from(USAGE_ERROR)
}

/// One cargo invocation, with a short name for headers and failure messages.
#[derive(Debug)]
struct Step {
    name: &'static str,
    args: Vec<OsString>,
    env: Vec<(&'static str, OsString)>,
}

impl Step {
    fn new(name: &'static str, args: &[&str]) -> Self {
        Self { name, args: args.iter().map(OsString::from).collect(), env: Vec::new() }
    }

    /// Sets an environment variable for this step, unless the caller set it already.
    fn with_env(mut self, name: &'static str, value: OsString) -> Self {
        if env::var_os(name).is_none() {
            self.env.push((name, value));
        }
        self
    }

    /// Appends arguments given on the `cargo xtask` command line.
    fn with_extra(mut self, extra: &[OsString]) -> Self {
        self.args.extend_from_slice(extra);
        self
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cargo")?;
        for arg in &self.args {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}

/// `cargo xtask ci`: formatting, lints, then the whole test suite.
fn ci_steps() -> Vec<Step> {
    let mut steps = vec![
        Step::new("fmt", &["fmt", "--all", "--check"]),
        Step::new("clippy", &["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]),
    ];
    steps.extend(test_steps(&[]));
    steps
}

/// `cargo xtask test`: the whole test suite, doctests included.
///
/// `extra` goes to the test runner (nextest, or `cargo test` without it), not
/// to the doctest step that follows nextest.
fn test_steps(extra: &[OsString]) -> Vec<Step> {
    // The end-to-end tests drive the real binaries. Built once here, they
    // are handed to the tests, which would otherwise each ask cargo for them
    // (nextest runs every test in a process of its own).
    let binaries = Step::new("binaries", &["build", "-p", "ferry-server", "-p", "ferry-admin"]);
    let bin =
        |name: &str| target_dir().join("debug").join(format!("{name}{}", env::consts::EXE_SUFFIX)).into_os_string();
    let with_binaries = |step: Step| {
        step.with_env("FERRY_E2E_SERVER_BIN", bin("ferry-server")).with_env("FERRY_E2E_ADMIN_BIN", bin("ferry-admin"))
    };
    if nextest_available() {
        vec![
            binaries,
            with_binaries(Step::new("nextest", &["nextest", "run", "--workspace", "--no-fail-fast"]).with_extra(extra)),
            Step::new("doctests", &["test", "--workspace", "--doc"]),
        ]
    } else {
        eprintln!("xtask: cargo-nextest is not installed; running the tests with `cargo test`");
        vec![binaries, with_binaries(Step::new("test", &["test", "--workspace", "--no-fail-fast"]).with_extra(extra))]
    }
}

fn nextest_available() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A cargo command, run from the workspace root.
fn cargo() -> Command {
    let program = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(program);
    command.current_dir(workspace_root());
    command
}

/// Where cargo puts what it builds: `CARGO_TARGET_DIR`, else `target/` in the workspace.
fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), |dir| workspace_root().join(dir))
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Runs steps in order, stopping at the first that fails.
#[derive(Debug)]
struct Runner {
    task: &'static str,
}

impl Runner {
    fn new(task: &'static str) -> Self {
        Self { task }
    }

    fn run(&self, steps: &[Step]) -> ExitCode {
        let total = steps.len();
        for (index, step) in steps.iter().enumerate() {
            eprintln!("\n==> xtask {} [{}/{total}] {}: {step}", self.task, index + 1, step.name);
            if let Err(code) = run_step(step) {
                eprintln!("\n==> xtask {}: step `{}` failed (`{step}`, exit code {code})", self.task, step.name);
                return ExitCode::from(code);
            }
        }
        eprintln!("\n==> xtask {}: all {total} steps passed", self.task);
        ExitCode::SUCCESS
    }
}

/// Runs one step; on failure, returns the exit code `cargo xtask` should end with.
fn run_step(step: &Step) -> Result<(), u8> {
    let status = match cargo().args(&step.args).envs(step.env.iter().map(|(k, v)| (k, v))).status() {
        Ok(status) => status,
        Err(error) => {
            eprintln!("xtask: could not start `{step}`: {error}");
            return Err(1);
        }
    };
    if status.success() {
        return Ok(());
    }
    match status.code() {
        // Never report success for a failed step, nor truncate a code into 0.
        Some(code) => Err(u8::try_from(code).ok().filter(|&c| c != 0).unwrap_or(1)),
        None => {
            eprintln!("xtask: `{step}` was terminated by a signal ({status})");
            Err(1)
        }
    }
}
