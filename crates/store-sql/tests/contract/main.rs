//! The store's contract suite, written once and run against every engine:
//! SQLite always, PostgreSQL when `FERRY_TEST_POSTGRES_URL` is set (CI sets
//! it). Each test gets its own database (a temporary SQLite file, or a fresh
//! PostgreSQL schema), so tests run in parallel and leave nothing behind.

mod harness;

mod audit;
mod facts;
mod files;
mod housekeeping;
mod mail;
mod migrations;
mod people;
mod practices;
mod quota;
mod relations;
mod sessions;
mod throttle;
mod work;
