//! Practices: the approval workflow, plans and branding.

use ferry_domain::values::{Colour, OrganisationName, PortalUrl};

use crate::prelude::*;

/// The columns of `practices`, in the order of [`PracticeRow`].
pub(crate) const PRACTICE_COLUMNS: &str = "id, name, status, seat_limit, storage_allowance, throughput_allowance, \
     display_name, colour, portal_url, created_at, status_changed_at";

#[derive(sqlx::FromRow)]
pub(crate) struct PracticeRow {
    id: Uuid,
    name: String,
    status: String,
    seat_limit: i64,
    storage_allowance: i64,
    throughput_allowance: i64,
    display_name: Option<String>,
    colour: Option<String>,
    portal_url: Option<String>,
    created_at: i64,
    status_changed_at: i64,
}

impl PracticeRow {
    pub(crate) fn into_record(self) -> Result<PracticeRecord, StoreError> {
        Ok(PracticeRecord {
            id: PracticeId::from_uuid(self.id),
            name: parse("practice name", &self.name, OrganisationName::parse)?,
            status: name("practice status", &self.status, PracticeStatus::from_name)?,
            plan: Plan {
                seat_limit: count("seat limit", self.seat_limit)?,
                storage: ferry_domain::quota::Bytes::new(count("storage allowance", self.storage_allowance)?),
                throughput: ferry_domain::quota::Bytes::new(count("throughput allowance", self.throughput_allowance)?),
            },
            branding: Branding {
                display_name: self
                    .display_name
                    .as_deref()
                    .map(|v| parse("display name", v, OrganisationName::parse))
                    .transpose()?,
                colour: self.colour.as_deref().map(|v| parse("colour", v, Colour::parse)).transpose()?,
                portal_url: self.portal_url.as_deref().map(|v| parse("portal URL", v, PortalUrl::parse)).transpose()?,
            },
            created_at: time(self.created_at)?,
            status_changed_at: time(self.status_changed_at)?,
        })
    }
}

/// Bytes as stored: a BIGINT. Allowances above `i64::MAX` are stored as the maximum.
pub(crate) fn bytes_column(bytes: ferry_domain::quota::Bytes) -> i64 {
    i64::try_from(bytes.get()).unwrap_or(i64::MAX)
}

#[async_trait]
impl PracticeStore for SqlTx {
    async fn insert_practice(&mut self, practice: &NewPractice) -> Result<(), StoreError> {
        let at = micros(practice.created_at);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO practices (id, name, status, seat_limit, storage_allowance, throughput_allowance, \
                 created_at, status_changed_at) VALUES ($1, $2, 'pending', $3, $4, $5, $6, $6)",
            )
            .bind(practice.id.as_uuid())
            .bind(practice.name.as_str())
            .bind(i64::from(practice.plan.seat_limit))
            .bind(bytes_column(practice.plan.storage))
            .bind(bytes_column(practice.plan.throughput))
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("practice"))?;
        Ok(())
    }

    async fn practice(&mut self, id: PracticeId) -> Result<Option<PracticeRecord>, StoreError> {
        let sql = format!("SELECT {PRACTICE_COLUMNS} FROM practices WHERE id = $1");
        let row: Option<PracticeRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await).map_err(map("practice"))?;
        row.map(PracticeRow::into_record).transpose()
    }

    async fn set_practice_status(
        &mut self,
        id: PracticeId,
        from: PracticeStatus,
        to: PracticeStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // A conditional update: it changes the row only if nobody else moved it first.
        let changed = on!(self, |c| {
            sqlx::query("UPDATE practices SET status = $1, status_changed_at = $2 WHERE id = $3 AND status = $4")
                .bind(to.as_str())
                .bind(micros(at))
                .bind(id.as_uuid())
                .bind(from.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("practice status"))?;
        moved(self, changed, "practices", id.as_uuid(), "practice").await
    }

    async fn lock_practice(&mut self, id: PracticeId) -> Result<(), StoreError> {
        // On SQLite a transaction from `begin` already holds the database's
        // write lock (BEGIN IMMEDIATE); the row is read to say whether it exists.
        // On PostgreSQL the row lock is held until commit or rollback, so a
        // second transaction waits here and then counts what the first wrote
        // (READ COMMITTED reads afresh at every statement).
        let row: Option<Uuid> = on_each!(self,
            sqlite: |c| sqlx::query_scalar("SELECT id FROM practices WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(c)
                .await,
            postgres: |c| sqlx::query_scalar("SELECT id FROM practices WHERE id = $1 FOR UPDATE")
                .bind(id.as_uuid())
                .fetch_optional(c)
                .await,
        )
        .map_err(map("practice lock"))?;
        row.map(|_| ()).ok_or(StoreError::NotFound { entity: "practice" })
    }

    async fn set_plan(&mut self, id: PracticeId, plan: Plan) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query(
                "UPDATE practices SET seat_limit = $1, storage_allowance = $2, throughput_allowance = $3 WHERE id = $4",
            )
            .bind(i64::from(plan.seat_limit))
            .bind(bytes_column(plan.storage))
            .bind(bytes_column(plan.throughput))
            .bind(id.as_uuid())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("plan"))?;
        found(changed, "practice")
    }

    async fn set_branding(&mut self, id: PracticeId, branding: &Branding) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE practices SET display_name = $1, colour = $2, portal_url = $3 WHERE id = $4")
                .bind(branding.display_name.as_ref().map(OrganisationName::as_str))
                .bind(branding.colour.as_ref().map(Colour::as_str))
                .bind(branding.portal_url.as_ref().map(PortalUrl::as_str))
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("branding"))?;
        found(changed, "practice")
    }

    async fn list_practices(
        &mut self,
        status: Option<PracticeStatus>,
        page: &PageRequest,
    ) -> Result<Page<PracticeRecord>, StoreError> {
        let after = cursor_id(page)?;
        let limit = fetch_limit(page);
        let sql = format!(
            "SELECT {PRACTICE_COLUMNS} FROM practices WHERE ($1 IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows: Vec<PracticeRow> = on!(self, |c| {
            sqlx::query_as(&sql).bind(status.map(PracticeStatus::as_str)).bind(after).bind(limit).fetch_all(c).await
        })
        .map_err(map("practices"))?;
        let records = rows.into_iter().map(PracticeRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |p| p.id.to_string()))
    }
}
