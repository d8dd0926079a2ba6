//! Quotas: add-ons, atomic reservations, usage and warnings (PRODUCT.md rule 8).
//!
//! A reservation is checked and written in one transaction that holds the
//! practice's lock (`PracticeStore::lock_practice`, in `practices.rs`): on
//! SQLite the write lock taken by `BEGIN IMMEDIATE`, on PostgreSQL a row lock
//! on the practice (`SELECT ... FOR UPDATE`). So two uploads can never both
//! see the same free bytes.

use ferry_domain::quota::{AddOn, Bytes, Usage, allowance, check_reservation};

use crate::practices::bytes_column;
use crate::prelude::*;

#[derive(sqlx::FromRow)]
struct AddOnRow {
    id: Uuid,
    practice_id: Uuid,
    kind: String,
    amount: i64,
    starts_at: i64,
    ends_at: i64,
}

impl AddOnRow {
    fn into_record(self) -> Result<AddOnRecord, StoreError> {
        let add_on = AddOn::new(
            AddOnId::from_uuid(self.id),
            name("add-on kind", &self.kind, AllowanceKind::from_name)?,
            Bytes::new(count("add-on amount", self.amount)?),
            time(self.starts_at)?,
            time(self.ends_at)?,
        )
        .map_err(|e| StoreError::Corrupt { what: "add-on", reason: e.to_string() })?;
        Ok(AddOnRecord { practice: PracticeId::from_uuid(self.practice_id), add_on })
    }
}

/// Everything a reservation check needs about one practice at one moment.
#[derive(sqlx::FromRow)]
struct UsageRow {
    storage_allowance: i64,
    throughput_allowance: i64,
    storage_used: i64,
    storage_reserved: i64,
    throughput_used: i64,
    throughput_reserved: i64,
}

/// Reads the practice's base allowances, committed usage and live
/// reservations in one query. `None` when the practice does not exist.
async fn usage_row(tx: &mut SqlTx, practice: PracticeId, at: OffsetDateTime) -> Result<Option<UsageRow>, StoreError> {
    let month = UsageMonth::containing(at).key();
    let sql = "SELECT p.storage_allowance, p.throughput_allowance, \
           COALESCE((SELECT used FROM quota_usage u WHERE u.practice_id = p.id AND u.kind = 'storage' AND u.period = ''), 0) \
               AS storage_used, \
           COALESCE((SELECT CAST(SUM(r.storage) AS BIGINT) FROM quota_reservations r \
                     WHERE r.practice_id = p.id AND r.expires_at > $2), 0) \
               AS storage_reserved, \
           COALESCE((SELECT used FROM quota_usage u WHERE u.practice_id = p.id AND u.kind = 'throughput' AND u.period = $3), 0) \
               AS throughput_used, \
           COALESCE((SELECT CAST(SUM(r.throughput) AS BIGINT) FROM quota_reservations r \
                     WHERE r.practice_id = p.id AND r.expires_at > $2 AND r.period = $3), 0) AS throughput_reserved \
         FROM practices p WHERE p.id = $1";
    // SUM of a BIGINT is NUMERIC on PostgreSQL: the casts keep one integer type on both engines.
    on!(tx, |c| {
        sqlx::query_as::<_, UsageRow>(sql)
            .bind(practice.as_uuid())
            .bind(micros(at))
            .bind(&month)
            .fetch_optional(c)
            .await
    })
    .map_err(map("quota usage"))
}

/// The practice's two allowances at `at` with their usage.
async fn allowances(
    tx: &mut SqlTx,
    practice: PracticeId,
    at: OffsetDateTime,
) -> Result<[AllowanceUsage; 2], StoreError> {
    let row = usage_row(tx, practice, at).await?.ok_or(StoreError::NotFound { entity: "practice" })?;
    let add_ons: Vec<AddOn> = tx.add_ons(practice).await?.into_iter().map(|r| r.add_on).collect();
    // The plan's seat limit plays no part here; only its base allowances do.
    let plan = ferry_domain::practice::Plan {
        seat_limit: 0,
        storage: Bytes::new(count("storage allowance", row.storage_allowance)?),
        throughput: Bytes::new(count("throughput allowance", row.throughput_allowance)?),
    };
    let entry = |kind, used: i64, reserved: i64| -> Result<AllowanceUsage, StoreError> {
        Ok(AllowanceUsage {
            kind,
            usage: Usage {
                used: Bytes::new(count("usage", used)?),
                reserved: Bytes::new(count("reserved", reserved)?),
            },
            limit: allowance(&plan, &add_ons, kind, at),
        })
    };
    Ok([
        entry(AllowanceKind::Storage, row.storage_used, row.storage_reserved)?,
        entry(AllowanceKind::Throughput, row.throughput_used, row.throughput_reserved)?,
    ])
}

#[derive(sqlx::FromRow)]
struct ReservationRow {
    practice_id: Uuid,
    storage: i64,
    throughput: i64,
    period: String,
}

/// Deletes a reservation and returns what it held.
async fn take_reservation(tx: &mut SqlTx, id: ReservationId) -> Result<ReservationRow, StoreError> {
    let row: Option<ReservationRow> = on!(tx, |c| {
        sqlx::query_as(
            "DELETE FROM quota_reservations WHERE id = $1 RETURNING practice_id, storage, throughput, period",
        )
        .bind(id.0)
        .fetch_optional(c)
        .await
    })
    .map_err(map("reservation"))?;
    row.ok_or(StoreError::NotFound { entity: "reservation" })
}

/// Adds `bytes` to one usage counter, creating it at zero if needed.
async fn add_usage(
    tx: &mut SqlTx,
    practice: Uuid,
    kind: AllowanceKind,
    period: &str,
    bytes: i64,
) -> Result<(), StoreError> {
    on!(tx, |c| {
        sqlx::query(
            "INSERT INTO quota_usage (practice_id, kind, period, used) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (practice_id, kind, period) DO UPDATE SET used = quota_usage.used + excluded.used",
        )
        .bind(practice)
        .bind(kind.as_str())
        .bind(period)
        .bind(bytes)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })
    .map_err(map("quota usage"))?;
    Ok(())
}

/// The practice of an unexpired reservation.
async fn live_reservation_practice(tx: &mut SqlTx, id: ReservationId, at: OffsetDateTime) -> Result<Uuid, StoreError> {
    let practice: Option<Uuid> = on!(tx, |c| {
        sqlx::query_scalar("SELECT practice_id FROM quota_reservations WHERE id = $1 AND expires_at > $2")
            .bind(id.0)
            .bind(micros(at))
            .fetch_optional(c)
            .await
    })
    .map_err(map("reservation"))?;
    practice.ok_or(StoreError::NotFound { entity: "reservation" })
}

#[async_trait]
impl QuotaStore for SqlTx {
    async fn insert_add_on(&mut self, add_on: &AddOnRecord) -> Result<(), StoreError> {
        let a = &add_on.add_on;
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO add_ons (id, practice_id, kind, amount, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.id.as_uuid())
            .bind(add_on.practice.as_uuid())
            .bind(a.kind.as_str())
            .bind(bytes_column(a.amount))
            .bind(micros(a.starts))
            .bind(micros(a.ends))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("add-on"))?;
        Ok(())
    }

    async fn add_ons(&mut self, practice: PracticeId) -> Result<Vec<AddOnRecord>, StoreError> {
        let rows: Vec<AddOnRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT id, practice_id, kind, amount, starts_at, ends_at FROM add_ons \
                 WHERE practice_id = $1 ORDER BY starts_at, id",
            )
            .bind(practice.as_uuid())
            .fetch_all(c)
            .await
        })
        .map_err(map("add-ons"))?;
        rows.into_iter().map(AddOnRow::into_record).collect()
    }

    async fn remove_add_on(&mut self, id: AddOnId) -> Result<(), StoreError> {
        let removed = on!(self, |c| {
            sqlx::query("DELETE FROM add_ons WHERE id = $1")
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("add-on"))?;
        found(removed, "add-on")
    }

    async fn reserve(&mut self, request: &ReservationRequest) -> Result<(), ReserveError> {
        // Serialize reservations of this practice.
        self.lock_practice(request.practice).await?;
        let [storage, throughput] = allowances(self, request.practice, request.at).await?;
        for (asked, state) in [(request.storage, storage), (request.throughput, throughput)] {
            if asked > Bytes::ZERO {
                check_reservation(state.kind, asked, state.usage, state.limit)?;
            }
        }
        let month = UsageMonth::containing(request.at).key();
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO quota_reservations (id, practice_id, storage, throughput, period, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(request.id.0)
            .bind(request.practice.as_uuid())
            .bind(bytes_column(request.storage))
            .bind(bytes_column(request.throughput))
            .bind(&month)
            .bind(micros(request.at))
            .bind(micros(request.expires_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("reservation"))?;
        Ok(())
    }

    async fn commit_reservation(&mut self, id: ReservationId) -> Result<(), StoreError> {
        let held = take_reservation(self, id).await?;
        if held.storage > 0 {
            add_usage(self, held.practice_id, AllowanceKind::Storage, "", held.storage).await?;
        }
        if held.throughput > 0 {
            add_usage(self, held.practice_id, AllowanceKind::Throughput, &held.period, held.throughput).await?;
        }
        Ok(())
    }

    async fn release_reservation(&mut self, id: ReservationId) -> Result<(), StoreError> {
        take_reservation(self, id).await.map(|_| ())
    }

    async fn reclaim_expired_reservations(&mut self, at: OffsetDateTime) -> Result<u64, StoreError> {
        on!(self, |c| {
            sqlx::query("DELETE FROM quota_reservations WHERE expires_at <= $1")
                .bind(micros(at))
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("reservations"))
    }

    async fn usage(&mut self, practice: PracticeId, at: OffsetDateTime) -> Result<Vec<AllowanceUsage>, StoreError> {
        Ok(allowances(self, practice, at).await?.to_vec())
    }

    async fn mark_quota_warning(
        &mut self,
        practice: PracticeId,
        kind: AllowanceKind,
        month: UsageMonth,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let inserted = on!(self, |c| {
            sqlx::query(
                "INSERT INTO quota_warnings (practice_id, kind, period, sent_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (practice_id, kind, period) DO NOTHING",
            )
            .bind(practice.as_uuid())
            .bind(kind.as_str())
            .bind(month.key())
            .bind(micros(at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("quota warning"))?;
        Ok(inserted == 1)
    }

    async fn grow_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), ReserveError> {
        let practice = PracticeId::from_uuid(live_reservation_practice(self, id, at).await?);
        self.lock_practice(practice).await?;
        let [storage_state, throughput_state] = allowances(self, practice, at).await?;
        for (asked, state) in [(storage, storage_state), (throughput, throughput_state)] {
            if asked > Bytes::ZERO {
                check_reservation(state.kind, asked, state.usage, state.limit)?;
            }
        }
        let changed = on!(self, |c| {
            sqlx::query(
                "UPDATE quota_reservations SET storage = storage + $1, throughput = throughput + $2, expires_at = $3 \
                 WHERE id = $4 AND expires_at > $5",
            )
            .bind(bytes_column(storage))
            .bind(bytes_column(throughput))
            .bind(micros(expires_at))
            .bind(id.0)
            .bind(micros(at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("reservation"))?;
        found(changed, "reservation")?;
        Ok(())
    }

    async fn shrink_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
    ) -> Result<(), StoreError> {
        // Giving bytes back cannot push anyone past an allowance: no lock on
        // the practice is needed, and the guard on the row keeps it from
        // going below zero.
        let (storage, throughput) = (bytes_column(storage), bytes_column(throughput));
        let changed = on!(self, |c| {
            sqlx::query(
                "UPDATE quota_reservations SET storage = storage - $1, throughput = throughput - $2 \
                 WHERE id = $3 AND storage >= $1 AND throughput >= $2",
            )
            .bind(storage)
            .bind(throughput)
            .bind(id.0)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("reservation"))?;
        found(changed, "reservation")
    }

    async fn settle_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // An expired reservation no longer holds its bytes (reservations of
        // others may have used them): it cannot be settled, even before a sweep.
        live_reservation_practice(self, id, at).await?;
        let held = take_reservation(self, id).await?;
        let (storage, throughput) = (bytes_column(storage), bytes_column(throughput));
        if storage > held.storage || throughput > held.throughput {
            return Err(StoreError::NotFound { entity: "reservation" });
        }
        if storage > 0 {
            add_usage(self, held.practice_id, AllowanceKind::Storage, "", storage).await?;
        }
        if throughput > 0 {
            add_usage(self, held.practice_id, AllowanceKind::Throughput, &held.period, throughput).await?;
        }
        Ok(())
    }
}
