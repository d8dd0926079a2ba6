//! The operator's tools (`ferry-admin`): lists and counts over the whole
//! installation, the storage accounts behind `check`, and audit exports.
//!
//! Housekeeping: deleting rows that can no longer be used.

use ferry_domain::quota::Bytes;
use ferry_ports::admin::{InstallationCounts, LiveDocument, StorageAccount, UserFilter};

use crate::audit::AuditRow;
use crate::people::{USER_COLUMNS, UserRow};
use crate::prelude::*;

#[derive(sqlx::FromRow)]
struct LiveDocumentRow {
    id: Uuid,
    practice_id: Uuid,
    blob_key: String,
    size: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct StorageRow {
    practice_id: Uuid,
    recorded: i64,
    documents: i64,
    document_bytes: i64,
}

impl StorageRow {
    fn into_account(self) -> Result<StorageAccount, StoreError> {
        Ok(StorageAccount {
            practice: PracticeId::from_uuid(self.practice_id),
            recorded: Bytes::new(count("recorded storage", self.recorded)?),
            documents: count("document count", self.documents)?,
            document_bytes: Bytes::new(count("document bytes", self.document_bytes)?),
        })
    }
}

/// One row per practice (of `WHERE`, which may name `$1`): the recorded
/// storage and the live documents' count and total. PostgreSQL's `SUM` of a
/// `BIGINT` is a `NUMERIC`, hence the casts.
const STORAGE_SELECT: &str = "SELECT p.id AS practice_id, \
     COALESCE((SELECT q.used FROM quota_usage q \
               WHERE q.practice_id = p.id AND q.kind = 'storage' AND q.period = ''), 0) AS recorded, \
     (SELECT COUNT(*) FROM documents d WHERE d.practice_id = p.id AND d.deleted_at IS NULL) AS documents, \
     COALESCE((SELECT CAST(SUM(d.size) AS BIGINT) FROM documents d \
               WHERE d.practice_id = p.id AND d.deleted_at IS NULL), 0) AS document_bytes \
     FROM practices p";

#[derive(sqlx::FromRow)]
struct CountsRow {
    practices_pending: i64,
    practices_approved: i64,
    practices_suspended: i64,
    practices_rejected: i64,
    users_active: i64,
    users_inactive: i64,
    clients: i64,
    documents: i64,
    document_bytes: i64,
    mail_pending: i64,
    mail_failed: i64,
    audit_entries: i64,
    live_sessions: i64,
}

#[async_trait]
impl OperatorStore for SqlTx {
    // Operator tools (ferry-admin).

    async fn list_users(&mut self, filter: &UserFilter, page: &PageRequest) -> Result<Page<UserRecord>, StoreError> {
        let after = cursor_id(page)?;
        // The address is stored in lower case; the search text is matched
        // literally (its own `%` and `_` are escaped).
        let pattern = filter.email_contains.as_deref().map(|text| {
            let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            format!("%{escaped}%")
        });
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u LEFT JOIN practice_members m ON m.user_id = u.id \
             WHERE u.id > $1 \
             AND ($2 IS NULL OR m.practice_id = $2) \
             AND ($3 IS NULL OR u.kind = $3) \
             AND ($4 IS NULL OR u.active = $4) \
             AND ($5 IS NULL OR u.email LIKE $5 ESCAPE '\\') \
             ORDER BY u.id LIMIT $6"
        );
        let rows: Vec<UserRow> = on!(self, |c| {
            sqlx::query_as(&sql)
                .bind(after)
                .bind(filter.practice.map(|p| p.as_uuid()))
                .bind(filter.kind.map(|k| k.as_str()))
                .bind(filter.active)
                .bind(pattern.as_deref())
                .bind(fetch_limit(page))
                .fetch_all(c)
                .await
        })
        .map_err(map("users"))?;
        let users = rows.into_iter().map(UserRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(users, page, |u| u.id.as_uuid().to_string()))
    }

    async fn live_documents(&mut self, after: Option<DocumentId>, limit: u32) -> Result<Vec<LiveDocument>, StoreError> {
        let after = after.map_or(Uuid::nil(), |d| d.as_uuid());
        let rows: Vec<LiveDocumentRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT id, practice_id, blob_key, size, created_at FROM documents \
                 WHERE deleted_at IS NULL AND id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(i64::from(limit.max(1)))
            .fetch_all(c)
            .await
        })
        .map_err(map("documents"))?;
        rows.into_iter()
            .map(|row| {
                Ok(LiveDocument {
                    id: DocumentId::from_uuid(row.id),
                    practice: PracticeId::from_uuid(row.practice_id),
                    blob_key: row.blob_key,
                    size: Bytes::new(count("document size", row.size)?),
                    created_at: time(row.created_at)?,
                })
            })
            .collect()
    }

    async fn blob_in_use(&mut self, key: &str) -> Result<bool, StoreError> {
        let found: i64 = on!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM documents WHERE blob_key = $1 AND deleted_at IS NULL")
                .bind(key)
                .fetch_one(c)
                .await
        })
        .map_err(map("documents"))?;
        Ok(found > 0)
    }

    async fn storage_accounts(&mut self) -> Result<Vec<StorageAccount>, StoreError> {
        let sql = format!("{STORAGE_SELECT} ORDER BY p.id");
        let rows: Vec<StorageRow> =
            on!(self, |c| sqlx::query_as(&sql).fetch_all(c).await).map_err(map("storage accounts"))?;
        rows.into_iter().map(StorageRow::into_account).collect()
    }

    async fn recount_storage(&mut self, practice: PracticeId) -> Result<StorageAccount, StoreError> {
        let sql = format!("{STORAGE_SELECT} WHERE p.id = $1");
        let before: Option<StorageRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(practice.as_uuid()).fetch_optional(c).await)
                .map_err(map("storage account"))?;
        let before = before.ok_or(StoreError::NotFound { entity: "practice" })?.into_account()?;
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO quota_usage (practice_id, kind, period, used) VALUES ($1, 'storage', '', \
                   COALESCE((SELECT CAST(SUM(d.size) AS BIGINT) FROM documents d \
                             WHERE d.practice_id = $1 AND d.deleted_at IS NULL), 0)) \
                 ON CONFLICT (practice_id, kind, period) DO UPDATE SET used = excluded.used",
            )
            .bind(practice.as_uuid())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("recorded storage"))?;
        Ok(before)
    }

    async fn audit_entries_since(
        &mut self,
        since: OffsetDateTime,
        practice: Option<PracticeId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        const COLUMNS: &str = "seq, at, actor_id, action, practice_id, client_id, subject_id, detail, prev_hash, hash";
        let sql = match practice {
            Some(_) => format!(
                "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND at >= $2 AND practice_id = $3 ORDER BY seq LIMIT $4"
            ),
            None => format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND at >= $2 ORDER BY seq LIMIT $3"),
        };
        let limit = i64::from(limit.max(1));
        let rows: Vec<AuditRow> = on!(self, |c| {
            let query = sqlx::query_as(&sql).bind(after_seq).bind(micros(since));
            match practice {
                Some(p) => query.bind(p.as_uuid()).bind(limit).fetch_all(c).await,
                None => query.bind(limit).fetch_all(c).await,
            }
        })
        .map_err(map("audit log"))?;
        rows.into_iter().map(AuditRow::into_record).collect()
    }

    async fn installation_counts(&mut self, at: OffsetDateTime) -> Result<InstallationCounts, StoreError> {
        let row: CountsRow = on!(self, |c| {
            sqlx::query_as(
                "SELECT \
                 (SELECT COUNT(*) FROM practices WHERE status = 'pending') AS practices_pending, \
                 (SELECT COUNT(*) FROM practices WHERE status = 'approved') AS practices_approved, \
                 (SELECT COUNT(*) FROM practices WHERE status = 'suspended') AS practices_suspended, \
                 (SELECT COUNT(*) FROM practices WHERE status = 'rejected') AS practices_rejected, \
                 (SELECT COUNT(*) FROM users WHERE active) AS users_active, \
                 (SELECT COUNT(*) FROM users WHERE NOT active) AS users_inactive, \
                 (SELECT COUNT(*) FROM clients) AS clients, \
                 (SELECT COUNT(*) FROM documents WHERE deleted_at IS NULL) AS documents, \
                 COALESCE((SELECT CAST(SUM(size) AS BIGINT) FROM documents WHERE deleted_at IS NULL), 0) \
                   AS document_bytes, \
                 (SELECT COUNT(*) FROM mail_outbox WHERE status = 'pending') AS mail_pending, \
                 (SELECT COUNT(*) FROM mail_outbox WHERE status = 'failed') AS mail_failed, \
                 (SELECT COUNT(*) FROM audit_log) AS audit_entries, \
                 (SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL AND expires_at > $1) AS live_sessions",
            )
            .bind(micros(at))
            .fetch_one(c)
            .await
        })
        .map_err(map("counts"))?;
        Ok(InstallationCounts {
            practices_pending: count("count", row.practices_pending)?,
            practices_approved: count("count", row.practices_approved)?,
            practices_suspended: count("count", row.practices_suspended)?,
            practices_rejected: count("count", row.practices_rejected)?,
            users_active: count("count", row.users_active)?,
            users_inactive: count("count", row.users_inactive)?,
            clients: count("count", row.clients)?,
            documents: count("count", row.documents)?,
            document_bytes: Bytes::new(count("document bytes", row.document_bytes)?),
            mail_pending: count("count", row.mail_pending)?,
            mail_failed: count("count", row.mail_failed)?,
            audit_entries: count("count", row.audit_entries)?,
            live_sessions: count("count", row.live_sessions)?,
        })
    }

    async fn applied_migrations(&mut self) -> Result<Vec<i64>, StoreError> {
        // A database never migrated has no history table: that is no migration, not an error.
        let tables: i64 = on_each!(self,
            sqlite: |c| {
                sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
                    .fetch_one(c)
                    .await
            },
            postgres: |c| {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.tables \
                     WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'",
                )
                .fetch_one(c)
                .await
            },
        )
        .map_err(map("migration history"))?;
        if tables == 0 {
            return Ok(Vec::new());
        }
        on!(self, |c| {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version").fetch_all(c).await
        })
        .map_err(map("migration history"))
    }

    // Housekeeping.

    async fn purge_expired(
        &mut self,
        at: OffsetDateTime,
        failures_before: OffsetDateTime,
    ) -> Result<PurgeReport, StoreError> {
        // A session stops working at its expiry or end (`session` wants
        // `expires_at > at`), a token at its expiry or use: what is dead at `at`
        // goes. Nothing refers to sessions or tokens, so deleting them is safe.
        let now = micros(at);
        let sessions = on!(self, |c| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR ended_at <= $1")
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("sessions"))?;
        let tokens = on!(self, |c| {
            sqlx::query("DELETE FROM tokens WHERE expires_at <= $1 OR used_at <= $1")
                .bind(now)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("tokens"))?;
        // Failures count from `since` on (`at >= since`), so those strictly
        // before the cut-off are outside every window that starts at it.
        let login_failures = on!(self, |c| {
            sqlx::query("DELETE FROM login_failures WHERE at < $1")
                .bind(micros(failures_before))
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("login failures"))?;
        Ok(PurgeReport { sessions, tokens, login_failures })
    }
}
