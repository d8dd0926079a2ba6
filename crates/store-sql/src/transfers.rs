//! Transfers (one send of files to chosen recipients) and resumable uploads
//! in progress, with the segments their requests delivered.

use ferry_domain::ids::BatchId;
use ferry_domain::quota::Bytes;
use ferry_ports::records::{NewUpload, TransferRecord, UploadId, UploadRecord, UploadSegment};

use crate::practices::bytes_column;
use crate::prelude::*;

#[derive(sqlx::FromRow)]
struct TransferRow {
    id: Uuid,
    practice_id: Uuid,
    client_id: Option<Uuid>,
    connection_id: Option<Uuid>,
    sender_id: Uuid,
    created_at: i64,
    completed_at: Option<i64>,
}

const UPLOAD_COLUMNS: &str =
    "id, transfer_id, uploader_id, name, length, received, reservation_id, created_at, expires_at";

#[derive(sqlx::FromRow)]
struct UploadRow {
    id: Uuid,
    transfer_id: Uuid,
    uploader_id: Uuid,
    name: String,
    length: Option<i64>,
    received: i64,
    reservation_id: Uuid,
    created_at: i64,
    expires_at: i64,
}

impl UploadRow {
    fn into_record(self) -> Result<UploadRecord, StoreError> {
        Ok(UploadRecord {
            upload: NewUpload {
                id: UploadId(self.id),
                transfer: BatchId::from_uuid(self.transfer_id),
                uploader: UserId::from_uuid(self.uploader_id),
                name: self.name,
                length: self.length.map(|l| count("upload length", l).map(Bytes::new)).transpose()?,
                reservation: ReservationId(self.reservation_id),
                created_at: time(self.created_at)?,
                expires_at: time(self.expires_at)?,
            },
            received: Bytes::new(count("upload offset", self.received)?),
        })
    }
}

#[derive(sqlx::FromRow)]
struct SegmentRow {
    first_byte: i64,
    size: i64,
    blob_key: String,
}

#[async_trait]
impl TransferStore for SqlTx {
    async fn insert_transfer(&mut self, transfer: &TransferRecord) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO transfers (id, practice_id, client_id, connection_id, sender_id, created_at, completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(transfer.id.as_uuid())
            .bind(transfer.practice.as_uuid())
            .bind(transfer.client.map(|id| id.as_uuid()))
            .bind(transfer.connection.map(|id| id.as_uuid()))
            .bind(transfer.sender.as_uuid())
            .bind(micros(transfer.created_at))
            .bind(transfer.completed_at.map(micros))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("transfer"))?;
        for recipient in &transfer.recipients {
            on!(self, |c| {
                sqlx::query("INSERT INTO transfer_recipients (transfer_id, user_id) VALUES ($1, $2)")
                    .bind(transfer.id.as_uuid())
                    .bind(recipient.as_uuid())
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected())
            })
            .map_err(map("transfer recipient"))?;
        }
        Ok(())
    }

    async fn transfer(&mut self, id: BatchId) -> Result<Option<TransferRecord>, StoreError> {
        let row: Option<TransferRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT id, practice_id, client_id, connection_id, sender_id, created_at, completed_at \
                 FROM transfers WHERE id = $1",
            )
            .bind(id.as_uuid())
            .fetch_optional(c)
            .await
        })
        .map_err(map("transfer"))?;
        let Some(row) = row else { return Ok(None) };
        let recipients: Vec<Uuid> = on!(self, |c| {
            sqlx::query_scalar("SELECT user_id FROM transfer_recipients WHERE transfer_id = $1 ORDER BY user_id")
                .bind(id.as_uuid())
                .fetch_all(c)
                .await
        })
        .map_err(map("transfer recipients"))?;
        Ok(Some(TransferRecord {
            id: BatchId::from_uuid(row.id),
            practice: PracticeId::from_uuid(row.practice_id),
            client: row.client_id.map(ClientId::from_uuid),
            connection: row.connection_id.map(ConnectionId::from_uuid),
            sender: UserId::from_uuid(row.sender_id),
            recipients: recipients.into_iter().map(UserId::from_uuid).collect(),
            created_at: time(row.created_at)?,
            completed_at: opt_time(row.completed_at)?,
        }))
    }

    async fn complete_transfer(&mut self, id: BatchId, at: OffsetDateTime) -> Result<bool, StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE transfers SET completed_at = $1 WHERE id = $2 AND completed_at IS NULL")
                .bind(micros(at))
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("transfer"))?;
        if changed == 1 {
            return Ok(true);
        }
        let exists: Option<Uuid> = on!(self, |c| {
            sqlx::query_scalar("SELECT id FROM transfers WHERE id = $1").bind(id.as_uuid()).fetch_optional(c).await
        })
        .map_err(map("transfer"))?;
        if exists.is_some() { Ok(false) } else { Err(StoreError::NotFound { entity: "transfer" }) }
    }

    async fn insert_upload(&mut self, upload: &NewUpload) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO uploads (id, transfer_id, uploader_id, name, length, received, reservation_id, created_at, \
                 expires_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)",
            )
            .bind(upload.id.0)
            .bind(upload.transfer.as_uuid())
            .bind(upload.uploader.as_uuid())
            .bind(upload.name.as_str())
            .bind(upload.length.map(bytes_column))
            .bind(upload.reservation.0)
            .bind(micros(upload.created_at))
            .bind(micros(upload.expires_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("upload"))?;
        Ok(())
    }

    async fn upload(&mut self, id: UploadId) -> Result<Option<UploadRecord>, StoreError> {
        let sql = format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = $1");
        let row: Option<UploadRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.0).fetch_optional(c).await).map_err(map("upload"))?;
        row.map(UploadRow::into_record).transpose()
    }

    async fn uploads_of_transfer(&mut self, id: BatchId) -> Result<Vec<UploadRecord>, StoreError> {
        let sql = format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE transfer_id = $1 ORDER BY id");
        let rows: Vec<UploadRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_all(c).await).map_err(map("uploads"))?;
        rows.into_iter().map(UploadRow::into_record).collect()
    }

    async fn add_upload_segment(
        &mut self,
        id: UploadId,
        segment: &UploadSegment,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let first = i64::try_from(segment.first_byte)
            .map_err(|_| StoreError::Rejected { what: "upload segment", reason: "offset out of range".into() })?;
        let size = i64::try_from(segment.size)
            .map_err(|_| StoreError::Rejected { what: "upload segment", reason: "size out of range".into() })?;
        let end = first
            .checked_add(size)
            .ok_or_else(|| StoreError::Rejected { what: "upload segment", reason: "end out of range".into() })?;
        // Compare-and-set on the offset: of two requests racing from the same
        // offset, one moves it and the other finds it moved.
        let moved = on!(self, |c| {
            sqlx::query(
                "UPDATE uploads SET received = $1, expires_at = $2 \
                 WHERE id = $3 AND received = $4 AND (length IS NULL OR length >= $1)",
            )
            .bind(end)
            .bind(micros(expires_at))
            .bind(id.0)
            .bind(first)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("upload"))?;
        if moved == 0 {
            return if self.upload(id).await?.is_some() {
                Err(StoreError::Conflict { entity: "upload" })
            } else {
                Err(StoreError::NotFound { entity: "upload" })
            };
        }
        on!(self, |c| {
            sqlx::query("INSERT INTO upload_segments (upload_id, first_byte, size, blob_key) VALUES ($1, $2, $3, $4)")
                .bind(id.0)
                .bind(first)
                .bind(size)
                .bind(segment.blob_key.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("upload segment"))?;
        Ok(())
    }

    async fn set_upload_length(&mut self, id: UploadId, length: Bytes) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE uploads SET length = $1 WHERE id = $2 AND length IS NULL AND received <= $1")
                .bind(bytes_column(length))
                .bind(id.0)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("upload"))?;
        if changed == 1 {
            Ok(())
        } else if self.upload(id).await?.is_some() {
            Err(StoreError::Conflict { entity: "upload" })
        } else {
            Err(StoreError::NotFound { entity: "upload" })
        }
    }

    async fn upload_segments(&mut self, id: UploadId) -> Result<Vec<UploadSegment>, StoreError> {
        let rows: Vec<SegmentRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT first_byte, size, blob_key FROM upload_segments WHERE upload_id = $1 ORDER BY first_byte",
            )
            .bind(id.0)
            .fetch_all(c)
            .await
        })
        .map_err(map("upload segments"))?;
        rows.into_iter()
            .map(|r| {
                Ok(UploadSegment {
                    first_byte: count("segment offset", r.first_byte)?,
                    size: count("segment size", r.size)?,
                    blob_key: r.blob_key,
                })
            })
            .collect()
    }

    async fn delete_upload(&mut self, id: UploadId) -> Result<Vec<UploadSegment>, StoreError> {
        let segments = self.upload_segments(id).await?;
        on!(self, |c| {
            sqlx::query("DELETE FROM upload_segments WHERE upload_id = $1")
                .bind(id.0)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("upload segments"))?;
        let removed = on!(self, |c| {
            sqlx::query("DELETE FROM uploads WHERE id = $1").bind(id.0).execute(c).await.map(|r| r.rows_affected())
        })
        .map_err(map("upload"))?;
        found(removed, "upload")?;
        Ok(segments)
    }

    async fn expired_uploads(&mut self, at: OffsetDateTime, limit: u32) -> Result<Vec<UploadRecord>, StoreError> {
        let sql =
            format!("SELECT {UPLOAD_COLUMNS} FROM uploads WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2");
        let rows: Vec<UploadRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(micros(at)).bind(i64::from(limit)).fetch_all(c).await)
                .map_err(map("uploads"))?;
        rows.into_iter().map(UploadRow::into_record).collect()
    }
}
