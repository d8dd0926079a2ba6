//! The mail outbox: messages written in the same transaction as the change
//! they report, claimed and sent afterwards, and the client email log.

use crate::prelude::*;

/// The columns of `mail_outbox`, in the order of [`OutboxRow`].
const OUTBOX_COLUMNS: &str = "id, to_email, subject, body_text, body_html, practice_id, client_id, status, \
     attempts, next_attempt_at, last_error, created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct OutboxRow {
    id: Uuid,
    to_email: String,
    subject: String,
    body_text: String,
    body_html: String,
    practice_id: Option<Uuid>,
    client_id: Option<Uuid>,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    created_at: i64,
}

/// An outbox status from its stored name.
fn outbox_status(raw: &str) -> Option<OutboxStatus> {
    [OutboxStatus::Pending, OutboxStatus::Sent, OutboxStatus::Failed].into_iter().find(|s| s.as_str() == raw)
}

impl OutboxRow {
    fn into_record(self) -> Result<OutboxRecord, StoreError> {
        Ok(OutboxRecord {
            id: self.id,
            mail: OutgoingMail {
                to: parse("recipient email", &self.to_email, EmailAddress::parse)?,
                subject: self.subject,
                text: self.body_text,
                html: self.body_html,
                practice: self.practice_id.map(PracticeId::from_uuid),
                client: self.client_id.map(ClientId::from_uuid),
            },
            status: name("outbox status", &self.status, outbox_status)?,
            attempts: count("send attempts", self.attempts)?,
            next_attempt_at: time(self.next_attempt_at)?,
            last_error: self.last_error,
            created_at: time(self.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EmailLogRow {
    id: Uuid,
    practice_id: Option<Uuid>,
    client_id: Uuid,
    to_email: String,
    subject: String,
    created_at: i64,
}

impl EmailLogRow {
    fn into_record(self) -> Result<EmailLogRecord, StoreError> {
        Ok(EmailLogRecord {
            outbox_id: self.id,
            practice: self.practice_id.map(PracticeId::from_uuid),
            client: ClientId::from_uuid(self.client_id),
            to: parse("recipient email", &self.to_email, EmailAddress::parse)?,
            subject: self.subject,
            created_at: time(self.created_at)?,
        })
    }
}

#[async_trait]
impl OutboxStore for SqlTx {
    async fn enqueue_mail(&mut self, id: Uuid, mail: &OutgoingMail, at: OffsetDateTime) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO mail_outbox (id, to_email, subject, body_text, body_html, practice_id, client_id, status, \
                 attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8)",
            )
            .bind(id)
            .bind(mail.to.as_str())
            .bind(mail.subject.as_str())
            .bind(mail.text.as_str())
            .bind(mail.html.as_str())
            .bind(mail.practice.map(|p| p.as_uuid()))
            .bind(mail.client.map(|c| c.as_uuid()))
            .bind(micros(at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("outgoing mail"))?;
        Ok(())
    }

    async fn claim_mail(
        &mut self,
        at: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        // Claiming moves the next attempt to the end of the lease: until then no
        // other sender finds the message due. If this sender dies, the message
        // falls due again when the lease runs out. On PostgreSQL, concurrent
        // claimers skip each other's locked rows instead of waiting for them; on
        // SQLite the write lock taken by BEGIN IMMEDIATE already serializes them.
        let select = "SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
                      ORDER BY created_at, id LIMIT $3";
        let update = |lock: &str| {
            format!(
                "UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1 \
                 WHERE id IN ({select}{lock}) RETURNING {OUTBOX_COLUMNS}"
            )
        };
        let (sqlite_sql, postgres_sql) = (update(""), update(" FOR UPDATE SKIP LOCKED"));
        let (lease, due, limit) = (micros(lease_until), micros(at), i64::from(limit));
        let rows: Vec<OutboxRow> = on_each!(self,
            sqlite: |c| sqlx::query_as(&sqlite_sql).bind(lease).bind(due).bind(limit).fetch_all(c).await,
            postgres: |c| sqlx::query_as(&postgres_sql).bind(lease).bind(due).bind(limit).fetch_all(c).await,
        )
        .map_err(map("outgoing mail"))?;
        let mut records = rows.into_iter().map(OutboxRow::into_record).collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order: oldest first, as selected.
        records.sort_by_key(|r| (r.created_at, r.id));
        Ok(records)
    }

    async fn mark_mail_sent(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE mail_outbox SET status = 'sent', sent_at = $1 WHERE id = $2 AND status = 'pending'")
                .bind(micros(at))
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("outgoing mail"))?;
        // A message that exists but is no longer pending (sent, or given up) was
        // settled already: a late report must not change it.
        moved(self, changed, "mail_outbox", id, "outgoing mail").await
    }

    async fn mark_mail_failed(
        &mut self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        // With a retry time the message stays pending and falls due then;
        // without one it is given up. The attempt was counted when it was claimed.
        let changed = on!(self, |c| {
            sqlx::query(
                "UPDATE mail_outbox SET last_error = $1, \
                 status = CASE WHEN $2 IS NULL THEN 'failed' ELSE status END, \
                 next_attempt_at = COALESCE($2, next_attempt_at) \
                 WHERE id = $3 AND status = 'pending'",
            )
            .bind(error)
            .bind(retry_at.map(micros))
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("outgoing mail"))?;
        // A message that exists but is no longer pending (sent, or given up) was
        // settled already: a late report must not change it.
        moved(self, changed, "mail_outbox", id, "outgoing mail").await
    }

    async fn retry_failed_mail(&mut self, id: Option<Uuid>, at: OffsetDateTime) -> Result<u64, StoreError> {
        // A failed message is settled and leased by nobody (a sender settles a
        // message only while its lease lasts), so putting it back races no send.
        // Due at `at` with no attempts, it is claimed like a new message; the
        // last error stays until the next try replaces it.
        const SET: &str = "UPDATE mail_outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 \
                           WHERE status = 'failed'";
        let due = micros(at);
        match id {
            Some(id) => {
                let sql = format!("{SET} AND id = $2");
                let changed =
                    on!(self, |c| sqlx::query(&sql).bind(due).bind(id).execute(c).await.map(|r| r.rows_affected()))
                        .map_err(map("failed mail"))?;
                // Unknown, pending and sent alike: there is no failed message to retry.
                found(changed, "failed mail")?;
                Ok(changed)
            }
            None => on!(self, |c| sqlx::query(SET).bind(due).execute(c).await.map(|r| r.rows_affected()))
                .map_err(map("failed mail")),
        }
    }

    async fn list_outbox(
        &mut self,
        status: OutboxStatus,
        page: &PageRequest,
    ) -> Result<Page<OutboxRecord>, StoreError> {
        // Oldest first: ids are time-ordered (UUIDv7).
        let after = cursor_id(page)?;
        let limit = fetch_limit(page);
        let sql =
            format!("SELECT {OUTBOX_COLUMNS} FROM mail_outbox WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3");
        let rows: Vec<OutboxRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(status.as_str()).bind(after).bind(limit).fetch_all(c).await)
                .map_err(map("outbox"))?;
        let records = rows.into_iter().map(OutboxRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |r| r.id.to_string()))
    }

    async fn email_log(&mut self, client: ClientId, page: &PageRequest) -> Result<Page<EmailLogRecord>, StoreError> {
        // Newest first: the keyset runs down the time-ordered ids; the first
        // page has no upper bound.
        let before = if page.after.is_some() { Some(cursor_id(page)?) } else { None };
        let limit = fetch_limit(page);
        let rows: Vec<EmailLogRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT id, practice_id, client_id, to_email, subject, created_at FROM mail_outbox \
                 WHERE client_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
            )
            .bind(client.as_uuid())
            .bind(before)
            .bind(limit)
            .fetch_all(c)
            .await
        })
        .map_err(map("email log"))?;
        let records = rows.into_iter().map(EmailLogRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |r| r.outbox_id.to_string()))
    }
}
