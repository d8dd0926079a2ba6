//! `ferry-admin`: the operator's command line.
//!
//! It opens the same database and file store as `ferry-server` (the same
//! `FERRY_*` settings) and makes every change through the use cases of
//! ferry-app, so the same rules, audit entries and mail apply; mail is queued
//! in the database's outbox, and the server's sender delivers it. The server
//! need not be running.
//!
//! Data goes to standard output (tables, or JSON with `--json`); messages,
//! questions and progress bars to standard error. Exit codes: 0 success,
//! 1 a refused operation (or a check that found problems), 2 bad usage or
//! a backend that cannot be reached.

mod cli;
mod commands;
mod failure;
mod output;
mod parse;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::failure::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print and succeed; anything else is bad usage (2).
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return Failure::Backend(format!("cannot start the async runtime: {e}")).report(),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
