//! Documents: files exchanged between a practice and a client or over a
//! connection, their recipients and download receipts, and deletion (which
//! frees the practice's storage at once).

use ferry_domain::ids::BatchId;
use ferry_domain::quota::Bytes;

use ferry_ports::records::Mailbox;

use crate::convert::digest;
use crate::practices::bytes_column;
use crate::prelude::*;

/// The columns of `documents`, in the order of [`DocumentRow`], for a table aliased `d`.
const DOCUMENT_COLUMNS: &str = "d.id, d.batch_id, d.practice_id, d.client_id, d.connection_id, d.uploader_id, \
     d.name, d.size, d.content_type, d.sha256, d.blob_key, d.created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct DocumentRow {
    id: Uuid,
    batch_id: Uuid,
    practice_id: Uuid,
    client_id: Option<Uuid>,
    connection_id: Option<Uuid>,
    uploader_id: Uuid,
    name: String,
    size: i64,
    content_type: String,
    sha256: Vec<u8>,
    blob_key: String,
    created_at: i64,
}

/// A recipient of a document and their first download.
#[derive(sqlx::FromRow)]
pub(crate) struct RecipientRow {
    document_id: Uuid,
    user_id: Uuid,
    first_downloaded_at: Option<i64>,
}

impl DocumentRow {
    /// The record, with the recipients among `recipients` that belong to it.
    fn into_record(self, recipients: &[RecipientRow]) -> Result<DocumentRecord, StoreError> {
        let mine: Vec<&RecipientRow> = recipients.iter().filter(|r| r.document_id == self.id).collect();
        let first_downloads = mine
            .iter()
            .map(|r| Ok((UserId::from_uuid(r.user_id), opt_time(r.first_downloaded_at)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(DocumentRecord {
            document: NewDocument {
                id: DocumentId::from_uuid(self.id),
                batch: BatchId::from_uuid(self.batch_id),
                practice: PracticeId::from_uuid(self.practice_id),
                client: self.client_id.map(ClientId::from_uuid),
                connection: self.connection_id.map(ConnectionId::from_uuid),
                uploader: UserId::from_uuid(self.uploader_id),
                name: self.name,
                size: Bytes::new(count("document size", self.size)?),
                content_type: self.content_type,
                sha256: digest("document digest", &self.sha256)?,
                blob_key: self.blob_key,
                recipients: mine.iter().map(|r| UserId::from_uuid(r.user_id)).collect(),
                created_at: time(self.created_at)?,
            },
            first_downloads,
        })
    }
}

/// The recipients of the live documents of `client` whose ids lie between
/// `low` and `high`, or of the one document `low` when `client` is `None`.
async fn recipients(
    tx: &mut SqlTx,
    client: Option<ClientId>,
    low: Uuid,
    high: Uuid,
) -> Result<Vec<RecipientRow>, StoreError> {
    let sql = "SELECT r.document_id, r.user_id, r.first_downloaded_at FROM document_recipients r \
               JOIN documents d ON d.id = r.document_id \
               WHERE ($1 IS NULL OR d.client_id = $1) AND d.id >= $2 AND d.id <= $3 AND d.deleted_at IS NULL \
               ORDER BY r.document_id, r.user_id";
    on!(tx, |c| sqlx::query_as(sql).bind(client.map(|id| id.as_uuid())).bind(low).bind(high).fetch_all(c).await)
        .map_err(map("document recipients"))
}

/// Whether `id` is a live document.
async fn is_live(tx: &mut SqlTx, id: DocumentId) -> Result<bool, StoreError> {
    let found: Option<Uuid> = on!(tx, |c| {
        sqlx::query_scalar("SELECT id FROM documents WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.as_uuid())
            .fetch_optional(c)
            .await
    })
    .map_err(map("document"))?;
    Ok(found.is_some())
}

/// What a deletion frees.
#[derive(sqlx::FromRow)]
pub(crate) struct DeletedRow {
    practice_id: Uuid,
    size: i64,
}

/// The recipients of the live documents whose ids lie between `low` and
/// `high` and that `user` received (`Inbox`) or sent (`Outbox`).
async fn recipients_of_user(
    tx: &mut SqlTx,
    user: UserId,
    mailbox: Mailbox,
    low: Uuid,
    high: Uuid,
) -> Result<Vec<RecipientRow>, StoreError> {
    let mine = match mailbox {
        Mailbox::Inbox => "EXISTS (SELECT 1 FROM document_recipients m WHERE m.document_id = d.id AND m.user_id = $1)",
        Mailbox::Outbox => "d.uploader_id = $1",
    };
    let sql = format!(
        "SELECT r.document_id, r.user_id, r.first_downloaded_at FROM document_recipients r \
         JOIN documents d ON d.id = r.document_id \
         WHERE {mine} AND d.id >= $2 AND d.id <= $3 AND d.deleted_at IS NULL \
         ORDER BY r.document_id, r.user_id"
    );
    on!(tx, |c| sqlx::query_as(&sql).bind(user.as_uuid()).bind(low).bind(high).fetch_all(c).await)
        .map_err(map("document recipients"))
}

#[async_trait]
impl DocumentStore for SqlTx {
    async fn insert_document(&mut self, document: &NewDocument) -> Result<(), StoreError> {
        // The document row, then its recipients. A refused recipient (an unknown
        // user, or the same one twice) aborts the transaction, so the document
        // row is not kept either.
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO documents (id, batch_id, practice_id, client_id, connection_id, uploader_id, name, \
                 size, content_type, sha256, blob_key, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(document.id.as_uuid())
            .bind(document.batch.as_uuid())
            .bind(document.practice.as_uuid())
            .bind(document.client.map(|id| id.as_uuid()))
            .bind(document.connection.map(|id| id.as_uuid()))
            .bind(document.uploader.as_uuid())
            .bind(document.name.as_str())
            .bind(bytes_column(document.size))
            .bind(document.content_type.as_str())
            .bind(&document.sha256[..])
            .bind(document.blob_key.as_str())
            .bind(micros(document.created_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("document"))?;
        for recipient in &document.recipients {
            on!(self, |c| {
                sqlx::query("INSERT INTO document_recipients (document_id, user_id) VALUES ($1, $2)")
                    .bind(document.id.as_uuid())
                    .bind(recipient.as_uuid())
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(map("document recipient"))?;
        }
        Ok(())
    }

    async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRecord>, StoreError> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.id = $1 AND d.deleted_at IS NULL");
        let row: Option<DocumentRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await).map_err(map("document"))?;
        let Some(row) = row else { return Ok(None) };
        let recipients = recipients(self, None, id.as_uuid(), id.as_uuid()).await?;
        row.into_record(&recipients).map(Some)
    }

    async fn list_documents_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError> {
        // Newest first: ids are time-ordered (UUIDv7), so the keyset runs down
        // the ids; the first page has no upper bound.
        let before = if page.after.is_some() { Some(cursor_id(page)?) } else { None };
        let limit = fetch_limit(page);
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d \
             WHERE d.client_id = $1 AND d.deleted_at IS NULL AND ($2 IS NULL OR d.id < $2) \
             ORDER BY d.id DESC LIMIT $3"
        );
        let rows: Vec<DocumentRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(client.as_uuid()).bind(before).bind(limit).fetch_all(c).await)
                .map_err(map("documents"))?;
        // One more query fetches the recipients of the whole page (the extra
        // row included, harmlessly).
        let recipients = match (rows.last(), rows.first()) {
            (Some(low), Some(high)) => recipients(self, Some(client), low.id, high.id).await?,
            _ => Vec::new(),
        };
        let records = rows.into_iter().map(|row| row.into_record(&recipients)).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |d| d.document.id.to_string()))
    }

    async fn record_download(&mut self, id: DocumentId, user: UserId, at: OffsetDateTime) -> Result<bool, StoreError> {
        // Receipts are kept for recipients only. Someone else allowed to
        // download (an admin of the practice in scope, the uploader) leaves no
        // receipt: the answer is false and nothing is recorded. A deleted
        // document is not found, as for every other read.
        let first = on!(self, |c| {
            sqlx::query(
                "UPDATE document_recipients SET first_downloaded_at = $1 \
                 WHERE document_id = $2 AND user_id = $3 AND first_downloaded_at IS NULL \
                 AND EXISTS (SELECT 1 FROM documents d WHERE d.id = $2 AND d.deleted_at IS NULL)",
            )
            .bind(micros(at))
            .bind(id.as_uuid())
            .bind(user.as_uuid())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("download"))?;
        if first == 1 {
            Ok(true)
        } else if is_live(self, id).await? {
            Ok(false)
        } else {
            Err(StoreError::NotFound { entity: "document" })
        }
    }

    async fn delete_document(&mut self, id: DocumentId, at: OffsetDateTime) -> Result<(), StoreError> {
        let deleted: Option<DeletedRow> = on!(self, |c| {
            sqlx::query_as(
                "UPDATE documents SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL RETURNING practice_id, size",
            )
            .bind(micros(at))
            .bind(id.as_uuid())
            .fetch_optional(c)
            .await
        })
        .map_err(map("document"))?;
        let Some(deleted) = deleted else { return Err(StoreError::NotFound { entity: "document" }) };
        // Free the storage in the same transaction, never below zero (usage
        // recorded before a repair may be short). No usage row means nothing is
        // held, so there is nothing to free. The CASE is spelled the same on
        // both engines (SQLite's MAX(a, b) is PostgreSQL's GREATEST).
        on!(self, |c| {
            sqlx::query(
                "UPDATE quota_usage SET used = CASE WHEN used > $1 THEN used - $1 ELSE 0 END \
                 WHERE practice_id = $2 AND kind = 'storage' AND period = ''",
            )
            .bind(deleted.size)
            .bind(deleted.practice_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("storage usage"))?;
        Ok(())
    }

    async fn list_documents_of_user(
        &mut self,
        user: UserId,
        mailbox: Mailbox,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError> {
        let before = if page.after.is_some() { Some(cursor_id(page)?) } else { None };
        let limit = fetch_limit(page);
        let sql = match mailbox {
            // The recipient index leads: a user's received documents, newest first.
            Mailbox::Inbox => format!(
                "SELECT {DOCUMENT_COLUMNS} FROM document_recipients m JOIN documents d ON d.id = m.document_id \
                 WHERE m.user_id = $1 AND d.deleted_at IS NULL AND ($2 IS NULL OR m.document_id < $2) \
                 ORDER BY m.document_id DESC LIMIT $3"
            ),
            Mailbox::Outbox => format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents d \
                 WHERE d.uploader_id = $1 AND d.deleted_at IS NULL AND ($2 IS NULL OR d.id < $2) \
                 ORDER BY d.id DESC LIMIT $3"
            ),
        };
        let rows: Vec<DocumentRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(user.as_uuid()).bind(before).bind(limit).fetch_all(c).await)
                .map_err(map("documents"))?;
        let recipients = match (rows.last(), rows.first()) {
            (Some(low), Some(high)) => recipients_of_user(self, user, mailbox, low.id, high.id).await?,
            _ => Vec::new(),
        };
        let records = rows.into_iter().map(|row| row.into_record(&recipients)).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |d| d.document.id.to_string()))
    }

    async fn list_documents_of_transfer(&mut self, id: BatchId) -> Result<Vec<DocumentRecord>, StoreError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents d WHERE d.batch_id = $1 AND d.deleted_at IS NULL ORDER BY d.id"
        );
        let rows: Vec<DocumentRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_all(c).await).map_err(map("documents"))?;
        let recipients: Vec<RecipientRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT r.document_id, r.user_id, r.first_downloaded_at FROM document_recipients r \
                 JOIN documents d ON d.id = r.document_id \
                 WHERE d.batch_id = $1 AND d.deleted_at IS NULL ORDER BY r.document_id, r.user_id",
            )
            .bind(id.as_uuid())
            .fetch_all(c)
            .await
        })
        .map_err(map("document recipients"))?;
        rows.into_iter().map(|row| row.into_record(&recipients)).collect()
    }
}
