//! The audit log: append-only (the schema's triggers refuse updates and
//! deletes) and tamper-evident (each entry carries the hash of the one
//! before, so changing or removing an entry breaks the chain after it).

use sha2::{Digest, Sha256};

use crate::convert::digest;
use crate::prelude::*;

/// The key of the PostgreSQL advisory lock that makes appends take turns,
/// so that the chain stays one line ("FerryAud" in ASCII).
const CHAIN_LOCK: i64 = 0x4665_7272_7941_7564;

/// What the first entry's `prev_hash` is: 32 zero bytes.
const GENESIS: [u8; 32] = [0; 32];

/// Names the encoding, so that a future change of it cannot be mistaken for this one.
const ENCODING: &[u8] = b"ferry-audit-v1";

/// The hash of an audit entry that follows an entry whose hash is `prev`
/// (32 zero bytes for the first entry): SHA-256 over `prev` and a canonical
/// encoding of the entry. `ferry-admin audit verify` recomputes it for each
/// stored entry and compares.
///
/// The encoding is unambiguous, so no two different entries hash alike:
/// after the tag `ferry-audit-v1` and the 32 bytes of `prev` come the
/// fields, each as its length in bytes (8 bytes, big-endian) followed by its
/// bytes: the time as whole microseconds since the Unix epoch, UTC (8 bytes,
/// big-endian, signed; finer precision is not stored and not hashed), the
/// actor, the action (UTF-8), the practice, the client, the subject (each
/// id 16 bytes, or empty when absent) and the detail (UTF-8).
#[must_use]
pub fn audit_hash(prev: &[u8; 32], entry: &AuditEntry) -> [u8; 32] {
    fn field(hasher: &mut Sha256, bytes: &[u8]) {
        // INVARIANT: a field is far shorter than 2^64 bytes.
        hasher.update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
        hasher.update(bytes);
    }
    fn id(hasher: &mut Sha256, id: Option<Uuid>) {
        field(hasher, id.as_ref().map_or(&[][..], |id| id.as_bytes()));
    }
    let mut hasher = Sha256::new();
    hasher.update(ENCODING);
    hasher.update(prev);
    field(&mut hasher, &micros(entry.at).to_be_bytes());
    id(&mut hasher, entry.actor.map(|a| a.as_uuid()));
    field(&mut hasher, entry.action.as_bytes());
    id(&mut hasher, entry.practice.map(|p| p.as_uuid()));
    id(&mut hasher, entry.client.map(|c| c.as_uuid()));
    id(&mut hasher, entry.subject);
    field(&mut hasher, entry.detail.as_bytes());
    hasher.finalize().into()
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    at: i64,
    actor_id: Option<Uuid>,
    action: String,
    practice_id: Option<Uuid>,
    client_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    detail: String,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

impl AuditRow {
    pub(crate) fn into_record(self) -> Result<AuditRecord, StoreError> {
        Ok(AuditRecord {
            seq: self.seq,
            entry: AuditEntry {
                at: time(self.at)?,
                actor: self.actor_id.map(UserId::from_uuid),
                action: self.action,
                practice: self.practice_id.map(PracticeId::from_uuid),
                client: self.client_id.map(ClientId::from_uuid),
                subject: self.subject_id,
                detail: self.detail,
            },
            prev_hash: digest("audit previous hash", &self.prev_hash)?,
            hash: digest("audit hash", &self.hash)?,
        })
    }
}

#[async_trait]
impl AuditStore for SqlTx {
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRecord, StoreError> {
        // Appends take turns until their transactions end, so each reads the
        // hash the one before it wrote: PostgreSQL through an advisory lock
        // (this transaction runs at READ COMMITTED, so the read after the lock
        // sees the last committed entry); SQLite through the write lock that
        // BEGIN IMMEDIATE already holds.
        on_each!(self,
            sqlite: |_c| Ok::<u64, sqlx::Error>(0),
            postgres: |c| {
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(CHAIN_LOCK)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected())
            },
        )
        .map_err(map("audit chain lock"))?;
        let last: Option<Vec<u8>> = on!(self, |c| {
            sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(c).await
        })
        .map_err(map("audit log"))?;
        let prev_hash = match last {
            Some(bytes) => digest("audit hash", &bytes)?,
            None => GENESIS,
        };
        // The entry as stored: its time to the microsecond.
        let entry = AuditEntry { at: time(micros(entry.at))?, ..entry.clone() };
        let hash = audit_hash(&prev_hash, &entry);
        let seq: i64 = on!(self, |c| {
            sqlx::query_scalar(
                "INSERT INTO audit_log (at, actor_id, action, practice_id, client_id, subject_id, detail, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING seq",
            )
            .bind(micros(entry.at))
            .bind(entry.actor.map(|a| a.as_uuid()))
            .bind(entry.action.as_str())
            .bind(entry.practice.map(|p| p.as_uuid()))
            .bind(entry.client.map(|c| c.as_uuid()))
            .bind(entry.subject)
            .bind(entry.detail.as_str())
            .bind(&prev_hash[..])
            .bind(&hash[..])
            .fetch_one(c)
            .await
        })
        .map_err(map("audit entry"))?;
        Ok(AuditRecord { seq, entry, prev_hash, hash })
    }

    async fn audit_entries(&mut self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT seq, at, actor_id, action, practice_id, client_id, subject_id, detail, prev_hash, hash \
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(c)
            .await
        })
        .map_err(map("audit log"))?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }
}
