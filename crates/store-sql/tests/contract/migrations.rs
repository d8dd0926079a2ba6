//! Migrations from an empty database.

use crate::contract;

contract!(migrations_from_empty_apply_and_are_idempotent, |s| {
    // The harness migrated an empty database; running again changes nothing.
    s.store.migrate().await.expect("second run of the migrations");
    assert!(!s.store.known_migrations().is_empty(), "{}: the build carries migrations", s.engine);
    let mut tx = s.begin().await;
    let none = tx.practice(ferry_domain::ids::PracticeId::from_uuid(uuid::Uuid::nil())).await.expect("query");
    assert!(none.is_none());
    tx.rollback().await.expect("rollback");
});
