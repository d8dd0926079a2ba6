//! Engagements, connections and client assignments.

use crate::convert::{consent, consent_columns};
use crate::prelude::*;

const ENGAGEMENT_COLUMNS: &str = "id, practice_id, client_id, state, state_by, changed_at";
const CONNECTION_COLUMNS: &str = "id, practice_id, outside_user_id, state, state_by, changed_at";

#[derive(sqlx::FromRow)]
struct EngagementRow {
    id: Uuid,
    practice_id: Uuid,
    client_id: Uuid,
    state: String,
    state_by: Option<String>,
    changed_at: i64,
}

impl EngagementRow {
    fn into_record(self) -> Result<EngagementRecord, StoreError> {
        Ok(EngagementRecord {
            id: EngagementId::from_uuid(self.id),
            practice: PracticeId::from_uuid(self.practice_id),
            client: ClientId::from_uuid(self.client_id),
            state: consent(&self.state, self.state_by.as_deref())?,
            changed_at: time(self.changed_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ConnectionRow {
    id: Uuid,
    practice_id: Uuid,
    outside_user_id: Uuid,
    state: String,
    state_by: Option<String>,
    changed_at: i64,
}

impl ConnectionRow {
    fn into_record(self) -> Result<ConnectionRecord, StoreError> {
        Ok(ConnectionRecord {
            id: ConnectionId::from_uuid(self.id),
            practice: PracticeId::from_uuid(self.practice_id),
            outside_party: UserId::from_uuid(self.outside_user_id),
            state: consent(&self.state, self.state_by.as_deref())?,
            changed_at: time(self.changed_at)?,
        })
    }
}

/// Moves the consent state of row `id` of `table` from `from` to `to`, only
/// if it is still `from`; returns the rows changed.
async fn move_state(
    tx: &mut SqlTx,
    table: &'static str,
    id: Uuid,
    from: ConsentState,
    to: ConsentState,
    at: OffsetDateTime,
) -> Result<u64, StoreError> {
    let (to_state, to_by) = consent_columns(to);
    let (from_state, from_by) = consent_columns(from);
    // `state_by` is NULL for an active state: compare it null-safely.
    let sql = format!(
        "UPDATE {table} SET state = $1, state_by = $2, changed_at = $3 \
         WHERE id = $4 AND state = $5 AND state_by IS NOT DISTINCT FROM $6"
    );
    on!(tx, |c| {
        sqlx::query(&sql)
            .bind(to_state)
            .bind(to_by)
            .bind(micros(at))
            .bind(id)
            .bind(from_state)
            .bind(from_by)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(map(table))
}

/// Engagements whose `column` (a constant column name) is `value`, by id.
async fn list_engagements(
    tx: &mut SqlTx,
    column: &'static str,
    value: Uuid,
    page: &PageRequest,
) -> Result<Page<EngagementRecord>, StoreError> {
    let after = cursor_id(page)?;
    let limit = fetch_limit(page);
    let sql =
        format!("SELECT {ENGAGEMENT_COLUMNS} FROM engagements WHERE {column} = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows: Vec<EngagementRow> =
        on!(tx, |c| sqlx::query_as(&sql).bind(value).bind(after).bind(limit).fetch_all(c).await)
            .map_err(map("engagements"))?;
    let records = rows.into_iter().map(EngagementRow::into_record).collect::<Result<Vec<_>, _>>()?;
    Ok(page_of(records, page, |e| e.id.to_string()))
}

/// Connections whose `column` (a constant column name) is `value`, by id.
async fn list_connections(
    tx: &mut SqlTx,
    column: &'static str,
    value: Uuid,
    page: &PageRequest,
) -> Result<Page<ConnectionRecord>, StoreError> {
    let after = cursor_id(page)?;
    let limit = fetch_limit(page);
    let sql =
        format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE {column} = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows: Vec<ConnectionRow> =
        on!(tx, |c| sqlx::query_as(&sql).bind(value).bind(after).bind(limit).fetch_all(c).await)
            .map_err(map("connections"))?;
    let records = rows.into_iter().map(ConnectionRow::into_record).collect::<Result<Vec<_>, _>>()?;
    Ok(page_of(records, page, |c| c.id.to_string()))
}

#[async_trait]
impl ConsentStore for SqlTx {
    async fn insert_engagement(&mut self, engagement: &EngagementRecord) -> Result<(), StoreError> {
        let (state, by) = consent_columns(engagement.state);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO engagements (id, practice_id, client_id, state, state_by, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(engagement.id.as_uuid())
            .bind(engagement.practice.as_uuid())
            .bind(engagement.client.as_uuid())
            .bind(state)
            .bind(by)
            .bind(micros(engagement.changed_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("engagement"))?;
        Ok(())
    }

    async fn engagement(&mut self, id: EngagementId) -> Result<Option<EngagementRecord>, StoreError> {
        let sql = format!("SELECT {ENGAGEMENT_COLUMNS} FROM engagements WHERE id = $1");
        let row: Option<EngagementRow> = on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await)
            .map_err(map("engagement"))?;
        row.map(EngagementRow::into_record).transpose()
    }

    async fn engagement_between(
        &mut self,
        practice: PracticeId,
        client: ClientId,
    ) -> Result<Option<EngagementRecord>, StoreError> {
        let sql = format!("SELECT {ENGAGEMENT_COLUMNS} FROM engagements WHERE practice_id = $1 AND client_id = $2");
        let row: Option<EngagementRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(practice.as_uuid()).bind(client.as_uuid()).fetch_optional(c).await)
                .map_err(map("engagement"))?;
        row.map(EngagementRow::into_record).transpose()
    }

    async fn set_engagement_state(
        &mut self,
        id: EngagementId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let changed = move_state(self, "engagements", id.as_uuid(), from, to, at).await?;
        moved(self, changed, "engagements", id.as_uuid(), "engagement").await
    }

    async fn list_engagements_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError> {
        list_engagements(self, "practice_id", practice.as_uuid(), page).await
    }

    async fn list_engagements_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError> {
        list_engagements(self, "client_id", client.as_uuid(), page).await
    }

    async fn insert_connection(&mut self, connection: &ConnectionRecord) -> Result<(), StoreError> {
        let (state, by) = consent_columns(connection.state);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO connections (id, practice_id, outside_user_id, state, state_by, changed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(connection.id.as_uuid())
            .bind(connection.practice.as_uuid())
            .bind(connection.outside_party.as_uuid())
            .bind(state)
            .bind(by)
            .bind(micros(connection.changed_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("connection"))?;
        Ok(())
    }

    async fn connection(&mut self, id: ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1");
        let row: Option<ConnectionRow> = on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await)
            .map_err(map("connection"))?;
        row.map(ConnectionRow::into_record).transpose()
    }

    async fn set_connection_state(
        &mut self,
        id: ConnectionId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let changed = move_state(self, "connections", id.as_uuid(), from, to, at).await?;
        moved(self, changed, "connections", id.as_uuid(), "connection").await
    }

    async fn list_connections_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError> {
        list_connections(self, "practice_id", practice.as_uuid(), page).await
    }

    async fn list_connections_of_party(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError> {
        list_connections(self, "outside_user_id", user.as_uuid(), page).await
    }

    async fn assign_client(&mut self, user: UserId, client: ClientId, at: OffsetDateTime) -> Result<(), StoreError> {
        // Assigning twice keeps the first assignment (and its time).
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO client_assignments (user_id, client_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(user.as_uuid())
            .bind(client.as_uuid())
            .bind(micros(at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("client assignment"))?;
        Ok(())
    }

    async fn unassign_client(&mut self, user: UserId, client: ClientId) -> Result<bool, StoreError> {
        let removed = on!(self, |c| {
            sqlx::query("DELETE FROM client_assignments WHERE user_id = $1 AND client_id = $2")
                .bind(user.as_uuid())
                .bind(client.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("client assignment"))?;
        Ok(removed > 0)
    }

    async fn assigned_clients(&mut self, user: UserId) -> Result<Vec<ClientId>, StoreError> {
        let ids: Vec<Uuid> = on!(self, |c| {
            sqlx::query_scalar("SELECT client_id FROM client_assignments WHERE user_id = $1 ORDER BY client_id")
                .bind(user.as_uuid())
                .fetch_all(c)
                .await
        })
        .map_err(map("client assignments"))?;
        Ok(ids.into_iter().map(ClientId::from_uuid).collect())
    }
}
