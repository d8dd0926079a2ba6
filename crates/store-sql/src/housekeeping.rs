//! Housekeeping: deleting rows that can no longer be used.

use crate::prelude::*;

pub(crate) async fn purge_expired(
    tx: &mut SqlTx,
    at: OffsetDateTime,
    failures_before: OffsetDateTime,
) -> Result<PurgeReport, StoreError> {
    // A session stops working at its expiry or end (`session` wants
    // `expires_at > at`), a token at its expiry or use: what is dead at `at`
    // goes. Nothing refers to sessions or tokens, so deleting them is safe.
    let now = micros(at);
    let sessions = on!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR ended_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(map("sessions"))?;
    let tokens = on!(tx, |c| {
        sqlx::query("DELETE FROM tokens WHERE expires_at <= $1 OR used_at <= $1")
            .bind(now)
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(map("tokens"))?;
    // Failures count from `since` on (`at >= since`), so those strictly
    // before the cut-off are outside every window that starts at it.
    let login_failures = on!(tx, |c| {
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(micros(failures_before))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(map("login failures"))?;
    Ok(PurgeReport { sessions, tokens, login_failures })
}
