//! Contract tests: the append-only, hash-chained audit log.

use std::str::FromStr;

use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_ports::records::{AuditEntry, AuditRecord};
use ferry_ports::{Store, Tx};
use ferry_store_sql::{SqlStore, audit_hash};
use time::Duration;

use crate::contract;
use crate::harness::{POSTGRES_VAR, at, id, unique};

fn entry(seconds: i64) -> AuditEntry {
    AuditEntry {
        at: at(seconds),
        actor: Some(UserId::from_uuid(id())),
        action: "engagement.accept".to_owned(),
        practice: Some(PracticeId::from_uuid(id())),
        client: Some(ClientId::from_uuid(id())),
        subject: Some(id()),
        detail: format!("allowed: rule 2 ({})", unique()),
    }
}

/// An entry of the operator or the system: nothing optional set.
fn bare(seconds: i64) -> AuditEntry {
    AuditEntry {
        at: at(seconds),
        actor: None,
        action: "practice.approve".to_owned(),
        practice: None,
        client: None,
        subject: None,
        detail: String::new(),
    }
}

/// Every entry, read in pages of `limit`.
async fn all_entries(tx: &mut dyn Tx, limit: u32) -> Vec<AuditRecord> {
    let mut seen: Vec<AuditRecord> = Vec::new();
    loop {
        let after = seen.last().map_or(0, |r| r.seq);
        let got = tx.audit_entries(after, limit).await.unwrap();
        assert!(got.len() <= usize::try_from(limit).unwrap());
        if got.is_empty() {
            return seen;
        }
        seen.extend(got);
    }
}

/// Checks what `ferry-admin audit verify` checks: ascending places, each
/// entry linked to the one before, each hash recomputed from its entry.
fn assert_chain(records: &[AuditRecord], engine: &str) {
    let mut prev = [0u8; 32];
    let mut seq = 0;
    for record in records {
        assert!(record.seq > seq, "{engine}: seq {} after {seq}", record.seq);
        assert_eq!(record.prev_hash, prev, "{engine}: entry {} links to the one before", record.seq);
        assert_eq!(record.hash, audit_hash(&prev, &record.entry), "{engine}: entry {} hashes as stored", record.seq);
        (prev, seq) = (record.hash, record.seq);
    }
}

contract!(audit_entries_form_a_hash_chain_and_read_back, |s| {
    let mut tx = s.begin().await;
    let first = tx.append_audit(&entry(1)).await.unwrap();
    assert_eq!((first.seq, first.prev_hash), (1, [0; 32]), "{}: the first entry starts the chain", s.engine);
    let mut appended = vec![first];
    appended.push(tx.append_audit(&bare(2)).await.unwrap());
    tx.commit().await.unwrap();
    for i in 3..=5 {
        let mut tx = s.begin().await;
        appended.push(tx.append_audit(&entry(i)).await.unwrap());
        tx.commit().await.unwrap();
    }
    assert_eq!(appended.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5], "{}", s.engine);
    assert_eq!(appended[1].entry, bare(2), "{}: the entry is returned as given", s.engine);
    assert_chain(&appended, s.engine);

    let mut tx = s.store_read().await;
    let stored = tx.audit_entries(0, 100).await.unwrap();
    assert_eq!(stored, appended, "{}: read back as appended, in order", s.engine);
});

contract!(audit_entries_are_read_after_a_place_at_most_a_limit_at_a_time, |s| {
    let mut tx = s.begin().await;
    let mut appended = Vec::new();
    for i in 0..7 {
        appended.push(tx.append_audit(&entry(i)).await.unwrap());
    }
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(all_entries(&mut *tx, 3).await, appended, "{}: every entry once, in order", s.engine);
    assert_eq!(tx.audit_entries(2, 2).await.unwrap(), appended[2..4].to_vec(), "{}", s.engine);
    assert_eq!(tx.audit_entries(5, 10).await.unwrap(), appended[5..].to_vec(), "{}", s.engine);
    assert!(tx.audit_entries(7, 10).await.unwrap().is_empty(), "{}: nothing after the last", s.engine);
    assert!(tx.audit_entries(0, 0).await.unwrap().is_empty(), "{}: limit 0", s.engine);
});

contract!(audit_times_are_kept_and_hashed_to_the_microsecond, |s| {
    let precise = AuditEntry { at: at(10) + Duration::nanoseconds(123_456_789), ..entry(0) };
    let mut tx = s.begin().await;
    let record = tx.append_audit(&precise).await.unwrap();
    tx.commit().await.unwrap();
    let stored_at = at(10) + Duration::microseconds(123_456);
    assert_eq!(record.entry, AuditEntry { at: stored_at, ..precise.clone() }, "{}", s.engine);

    let mut tx = s.store_read().await;
    let stored = tx.audit_entries(0, 10).await.unwrap();
    assert_eq!(stored, vec![record], "{}", s.engine);
    assert_chain(&stored, s.engine);
});

contract!(a_rolled_back_append_leaves_the_chain_unbroken, |s| {
    let mut tx = s.begin().await;
    let kept = tx.append_audit(&entry(1)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.begin().await;
    tx.append_audit(&entry(2)).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = s.begin().await;
    let next = tx.append_audit(&entry(3)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next.prev_hash, kept.hash, "{}: links to the last committed entry", s.engine);

    let mut tx = s.store_read().await;
    let stored = tx.audit_entries(0, 10).await.unwrap();
    assert_eq!(stored, vec![kept, next], "{}", s.engine);
    assert_chain(&stored, s.engine);
});

contract!(concurrent_appends_keep_the_chain_one_line, |s| {
    let writers = (0..6).map(|w| {
        let store = s.store.clone();
        tokio::spawn(async move {
            for i in 0..3 {
                let mut tx = store.begin().await.expect("begin");
                tx.append_audit(&entry(w * 10 + i)).await.expect("append");
                // Hold the transaction open a little, so that writers overlap.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                tx.commit().await.expect("commit");
            }
        })
    });
    for writer in writers.collect::<Vec<_>>() {
        writer.await.unwrap();
    }
    let mut tx = s.store_read().await;
    let stored = all_entries(&mut *tx, 100).await;
    assert_eq!(stored.len(), 18, "{}", s.engine);
    assert_chain(&stored, s.engine);
});

#[test]
fn audit_hashes_tell_apart_entries_that_differ_anywhere() {
    let base = entry(1);
    let prev = [7u8; 32];
    let hash = audit_hash(&prev, &base);
    assert_eq!(hash, audit_hash(&prev, &base.clone()), "the same entry hashes alike");
    let same_id = id();
    let variants = [
        AuditEntry { at: base.at + Duration::microseconds(1), ..base.clone() },
        AuditEntry { actor: None, ..base.clone() },
        AuditEntry { action: "engagement.accepT".to_owned(), ..base.clone() },
        AuditEntry { practice: None, ..base.clone() },
        AuditEntry { client: None, ..base.clone() },
        AuditEntry { subject: None, ..base.clone() },
        AuditEntry { detail: format!("{} ", base.detail), ..base.clone() },
        // Text moved across the boundary between two fields.
        AuditEntry { action: "engagement.acceptx".to_owned(), detail: base.detail[1..].to_owned(), ..base.clone() },
        // The same id in another field.
        AuditEntry { actor: Some(UserId::from_uuid(same_id)), practice: None, ..base.clone() },
        AuditEntry { actor: None, practice: Some(PracticeId::from_uuid(same_id)), ..base.clone() },
    ];
    let mut seen = vec![hash];
    for variant in &variants {
        let h = audit_hash(&prev, variant);
        assert!(!seen.contains(&h), "{variant:?} hashes like an earlier entry");
        seen.push(h);
    }
    assert_ne!(audit_hash(&[0; 32], &base), hash, "the previous hash counts");
}

/// A store of its own on `engine`, with a raw connection pool to the same
/// database, to try what Ferry never does: change the audit log directly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_to_change_or_remove_audit_entries() {
    // SQLite: a file of our own, opened twice.
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("ferry.db").display());
    let store = SqlStore::connect(&url).await.expect("SQLite store");
    store.migrate().await.expect("migrations");
    let appended = append_two(&store).await;
    let raw = sqlx::SqlitePool::connect(&url).await.expect("raw SQLite pool");
    for sql in ["UPDATE audit_log SET detail = 'forged'", "DELETE FROM audit_log WHERE seq = 1"] {
        let err = sqlx::query(sql).execute(&raw).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "sqlite: {sql}: {err}");
    }
    raw.close().await;
    assert_unchanged(&store, &appended, "sqlite").await;
    store.close().await;

    // PostgreSQL: a schema of our own, reached twice.
    let Ok(url) = std::env::var(POSTGRES_VAR) else {
        eprintln!("skipping the PostgreSQL run: {POSTGRES_VAR} is not set");
        return;
    };
    if url.is_empty() {
        return;
    }
    let admin = sqlx::PgPool::connect(&url).await.expect("PostgreSQL");
    let schema = format!("t_{}", id().simple());
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create a test schema");
    let options =
        sqlx::postgres::PgConnectOptions::from_str(&url).expect("URL").options([("search_path", schema.as_str())]);
    let store = SqlStore::connect_postgres(options.clone()).await.expect("PostgreSQL store");
    store.migrate().await.expect("migrations");
    let appended = append_two(&store).await;
    let raw = sqlx::PgPool::connect_with(options).await.expect("raw PostgreSQL pool");
    for sql in ["UPDATE audit_log SET detail = 'forged'", "DELETE FROM audit_log WHERE seq = 1", "TRUNCATE audit_log"] {
        let err = sqlx::query(sql).execute(&raw).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "postgres: {sql}: {err}");
    }
    raw.close().await;
    assert_unchanged(&store, &appended, "postgres").await;
    store.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop the test schema");
    admin.close().await;
}

async fn append_two(store: &SqlStore) -> Vec<AuditRecord> {
    let mut tx = store.begin().await.expect("begin");
    let records = vec![tx.append_audit(&entry(1)).await.unwrap(), tx.append_audit(&bare(2)).await.unwrap()];
    tx.commit().await.unwrap();
    records
}

async fn assert_unchanged(store: &SqlStore, appended: &[AuditRecord], engine: &str) {
    let mut tx = store.read().await.expect("read");
    let stored = tx.audit_entries(0, 10).await.unwrap();
    assert_eq!(stored, appended, "{engine}: the log is as appended");
    assert_chain(&stored, engine);
}
