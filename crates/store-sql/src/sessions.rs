//! Single-use tokens (set-password links, invitations) and sessions. Only
//! the SHA-256 of a token is ever stored.
//!
//! Sign-in throttling: failed sign-ins counted per account and per address
//! in the database, so that every server process sees the same counts.

use crate::prelude::*;

/// The stored columns of a token's purpose: its name and the engagement,
/// connection or client it is about.
struct PurposeColumns {
    name: &'static str,
    engagement: Option<Uuid>,
    connection: Option<Uuid>,
    client: Option<Uuid>,
}

fn purpose_columns(purpose: TokenPurpose) -> PurposeColumns {
    let none = PurposeColumns { name: "set_password", engagement: None, connection: None, client: None };
    match purpose {
        TokenPurpose::SetPassword => none,
        TokenPurpose::AcceptEngagement(id) => {
            PurposeColumns { name: "accept_engagement", engagement: Some(id.as_uuid()), ..none }
        }
        TokenPurpose::AcceptConnection(id) => {
            PurposeColumns { name: "accept_connection", connection: Some(id.as_uuid()), ..none }
        }
        TokenPurpose::JoinClient(id) => PurposeColumns { name: "join_client", client: Some(id.as_uuid()), ..none },
    }
}

/// A consumed token: whose it was and what it was for.
#[derive(sqlx::FromRow)]
pub(crate) struct UsedTokenRow {
    user_id: Uuid,
    purpose: String,
    engagement_id: Option<Uuid>,
    connection_id: Option<Uuid>,
    client_id: Option<Uuid>,
}

impl UsedTokenRow {
    fn into_parts(self) -> Result<(UserId, TokenPurpose), StoreError> {
        let purpose = match (self.purpose.as_str(), self.engagement_id, self.connection_id, self.client_id) {
            ("set_password", None, None, None) => TokenPurpose::SetPassword,
            ("accept_engagement", Some(id), None, None) => TokenPurpose::AcceptEngagement(EngagementId::from_uuid(id)),
            ("accept_connection", None, Some(id), None) => TokenPurpose::AcceptConnection(ConnectionId::from_uuid(id)),
            ("join_client", None, None, Some(id)) => TokenPurpose::JoinClient(ClientId::from_uuid(id)),
            (other, engagement, connection, client) => {
                return Err(StoreError::Corrupt {
                    what: "token purpose",
                    reason: format!(
                        "`{other}` with engagement {engagement:?}, connection {connection:?} and client {client:?}"
                    ),
                });
            }
        };
        Ok((UserId::from_uuid(self.user_id), purpose))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    id: Uuid,
    user_id: Uuid,
    created_at: i64,
    expires_at: i64,
}

impl SessionRow {
    fn into_record(self) -> Result<SessionRecord, StoreError> {
        Ok(SessionRecord {
            id: self.id,
            user: UserId::from_uuid(self.user_id),
            created_at: time(self.created_at)?,
            expires_at: time(self.expires_at)?,
        })
    }
}

/// The class of PostgreSQL's two-key advisory locks that make attempts on
/// one throttling key take turns (the second key is the hash of the key's
/// text; two keys sharing a hash only take turns needlessly). The two-key
/// space is apart from the one-key space of the audit chain's lock.
const THROTTLE_LOCK_CLASS: i32 = 0x7468_726f; // "thro"

/// The stored keys of `keys`, each once, in the order first given.
fn distinct_keys(keys: &[ThrottleKey]) -> Vec<String> {
    let mut stored: Vec<String> = Vec::with_capacity(keys.len());
    for key in keys.iter().map(ThrottleKey::as_key) {
        if !stored.contains(&key) {
            stored.push(key);
        }
    }
    stored
}

/// Records one failure at `at` against each stored key, named `attempt` if given.
async fn insert_failures(
    tx: &mut SqlTx,
    attempt: Option<Uuid>,
    keys: &[String],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    if keys.is_empty() {
        return Ok(());
    }
    // One statement for every key: `($3, $1, $2), ($4, $1, $2), ...`.
    let rows = (0..keys.len()).map(|i| format!("(${}, $1, $2)", i + 3)).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO login_failures (key, at, attempt_id) VALUES {rows}");
    on!(tx, |c| {
        let mut query = sqlx::query(&sql).bind(micros(at)).bind(attempt);
        for key in keys {
            query = query.bind(key.as_str());
        }
        query.execute(c).await.map(|r| r.rows_affected())
    })
    .map_err(map("login failure"))?;
    Ok(())
}

#[async_trait]
impl SessionStore for SqlTx {
    // Tokens and sessions.

    async fn insert_token(&mut self, token: &NewToken) -> Result<(), StoreError> {
        let columns = purpose_columns(token.purpose);
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO tokens \
                 (token_hash, purpose, engagement_id, connection_id, client_id, user_id, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&token.hash.0[..])
            .bind(columns.name)
            .bind(columns.engagement)
            .bind(columns.connection)
            .bind(columns.client)
            .bind(token.user.as_uuid())
            .bind(micros(token.created_at))
            .bind(micros(token.expires_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("token"))?;
        Ok(())
    }

    async fn consume_token(
        &mut self,
        hash: TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<(UserId, TokenPurpose)>, StoreError> {
        // One conditional update both checks and uses the token, so two
        // concurrent uses cannot both succeed: the second finds it used.
        let row: Option<UsedTokenRow> = on!(self, |c| {
            sqlx::query_as(
                "UPDATE tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING user_id, purpose, engagement_id, connection_id, client_id",
            )
            .bind(micros(at))
            .bind(&hash.0[..])
            .fetch_optional(c)
            .await
        })
        .map_err(map("token"))?;
        row.map(UsedTokenRow::into_parts).transpose()
    }

    async fn revoke_password_tokens(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError> {
        on!(self, |c| {
            sqlx::query(
                "UPDATE tokens SET used_at = $1 WHERE user_id = $2 AND purpose = 'set_password' AND used_at IS NULL",
            )
            .bind(micros(at))
            .bind(user.as_uuid())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("token"))
    }

    async fn revoke_join_tokens(
        &mut self,
        user: UserId,
        client: ClientId,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        on!(self, |c| {
            sqlx::query(
                "UPDATE tokens SET used_at = $1 \
                 WHERE user_id = $2 AND purpose = 'join_client' AND client_id = $3 AND used_at IS NULL",
            )
            .bind(micros(at))
            .bind(user.as_uuid())
            .bind(client.as_uuid())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("token"))
    }

    async fn insert_session(&mut self, session: &NewSession) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session.id)
            .bind(&session.hash.0[..])
            .bind(session.user.as_uuid())
            .bind(micros(session.created_at))
            .bind(micros(session.expires_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(map("session"))?;
        Ok(())
    }

    async fn session(&mut self, hash: TokenHash, at: OffsetDateTime) -> Result<Option<SessionRecord>, StoreError> {
        // The user's `active` flag is read here, at every request, so that
        // deactivating a user locks them out at once (PRODUCT.md rule 6).
        let row: Option<SessionRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT s.id, s.user_id, s.created_at, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND u.active",
            )
            .bind(&hash.0[..])
            .bind(micros(at))
            .fetch_optional(c)
            .await
        })
        .map_err(map("session"))?;
        row.map(SessionRow::into_record).transpose()
    }

    async fn end_session(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        // Ending an unknown or already ended session is not an error: the
        // outcome the caller wants (the session does not work) holds. An ended
        // session keeps its first end time.
        on!(self, |c| {
            sqlx::query("UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(micros(at))
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("session"))?;
        Ok(())
    }

    async fn end_all_sessions(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError> {
        // Only live sessions are ended (and counted); expired ones already do not work.
        on!(self, |c| {
            sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL AND expires_at > $1")
                .bind(micros(at))
                .bind(user.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("session"))
    }

    // Sign-in throttling.

    async fn record_login_failure(&mut self, keys: &[ThrottleKey], at: OffsetDateTime) -> Result<(), StoreError> {
        insert_failures(self, None, &distinct_keys(keys), at).await
    }

    async fn login_failures(&mut self, key: &ThrottleKey, since: OffsetDateTime) -> Result<u32, StoreError> {
        // COUNT(*) is a BIGINT on both engines; the (key, at) index answers it.
        let key = key.as_key();
        let n: i64 = on!(self, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(key.as_str())
                .bind(micros(since))
                .fetch_one(c)
                .await
        })
        .map_err(map("login failures"))?;
        // More failures than a u32 holds are as throttled as u32::MAX.
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    async fn reserve_login_attempt(
        &mut self,
        attempt: Uuid,
        keys: &[ThrottleKey],
        since: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<u32>, StoreError> {
        // Lock every key in one order (sorted), so that two attempts sharing
        // keys never wait for each other crosswise. SQLite's write lock,
        // taken by BEGIN IMMEDIATE, already makes attempts take turns.
        let mut locked = distinct_keys(keys);
        locked.sort();
        for key in &locked {
            on_each!(self,
                sqlite: |_c| Ok::<(), sqlx::Error>(()),
                postgres: |c| sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                    .bind(THROTTLE_LOCK_CLASS)
                    .bind(key.as_str())
                    .execute(c)
                    .await
                    .map(|_| ()),
            )
            .map_err(map("sign-in throttle lock"))?;
        }
        let mut counts = Vec::with_capacity(keys.len());
        for key in keys {
            counts.push(self.login_failures(key, since).await?);
        }
        insert_failures(self, Some(attempt), &locked, at).await?;
        Ok(counts)
    }

    async fn forget_login_attempt(&mut self, attempt: Uuid) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query("DELETE FROM login_failures WHERE attempt_id = $1")
                .bind(attempt)
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("login failures"))?;
        Ok(())
    }

    async fn clear_login_failures(&mut self, key: &ThrottleKey) -> Result<(), StoreError> {
        let key = key.as_key();
        on!(self, |c| {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(key.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("login failures"))?;
        Ok(())
    }
}
