//! Migrations from an empty database.

use std::path::PathBuf;

use ferry_store_sql::Engine;

use crate::contract;

/// The migration files of one dialect (`sqlite` or `postgres`), sorted.
fn migration_files(dialect: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(dialect);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

/// The version a migration file name starts with (`0002_login_throttle.sql` is 2).
fn version(name: &str) -> i64 {
    name.split('_').next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no version in {name}"))
}

#[test]
fn both_dialects_carry_the_same_migrations() {
    let (sqlite, postgres) = (migration_files("sqlite"), migration_files("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "every migration exists in both dialects, under the same name");
    let versions: Vec<i64> = sqlite.iter().map(|name| version(name)).collect();
    let expected: Vec<i64> = (1..).take(versions.len()).collect();
    assert_eq!(versions, expected, "versions run 1, 2, 3, ... without gaps or repeats");
}

contract!(migrations_from_empty_apply_and_are_idempotent, |s| {
    // The harness migrated an empty database; running again changes nothing.
    s.store.migrate().await.expect("second run of the migrations");
    let dialect = match s.store.engine() {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    let on_disk: Vec<i64> = migration_files(dialect).iter().map(|name| version(name)).collect();
    assert_eq!(s.store.known_migrations(), on_disk, "{}: the build carries every migration file", s.engine);
    let mut tx = s.begin().await;
    let none = tx.practice(ferry_domain::ids::PracticeId::from_uuid(uuid::Uuid::nil())).await.expect("query");
    assert!(none.is_none());
    tx.rollback().await.expect("rollback");
});
