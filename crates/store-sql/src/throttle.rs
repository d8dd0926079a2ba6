//! Sign-in throttling: failed sign-ins counted per account and per address
//! in the database, so that every server process sees the same counts.

use crate::prelude::*;

pub(crate) async fn record_login_failure(
    tx: &mut SqlTx,
    keys: &[ThrottleKey],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    // One failure counts once per key, however often the key was given.
    let mut stored: Vec<String> = Vec::with_capacity(keys.len());
    for key in keys.iter().map(ThrottleKey::as_key) {
        if !stored.contains(&key) {
            stored.push(key);
        }
    }
    if stored.is_empty() {
        return Ok(());
    }
    // One statement for every key: `($2, $1), ($3, $1), ...`.
    let rows = (0..stored.len()).map(|i| format!("(${}, $1)", i + 2)).collect::<Vec<_>>().join(", ");
    let sql = format!("INSERT INTO login_failures (key, at) VALUES {rows}");
    on!(tx, |c| {
        let mut query = sqlx::query(&sql).bind(micros(at));
        for key in &stored {
            query = query.bind(key.as_str());
        }
        query.execute(c).await.map(|r| r.rows_affected())
    })
    .map_err(map("login failure"))?;
    Ok(())
}

pub(crate) async fn login_failures(
    tx: &mut SqlTx,
    key: &ThrottleKey,
    since: OffsetDateTime,
) -> Result<u32, StoreError> {
    // COUNT(*) is a BIGINT on both engines; the (key, at) index answers it.
    let key = key.as_key();
    let n: i64 = on!(tx, |c| {
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

pub(crate) async fn clear_login_failures(tx: &mut SqlTx, key: &ThrottleKey) -> Result<(), StoreError> {
    let key = key.as_key();
    on!(tx, |c| {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key.as_str())
            .execute(c)
            .await
            .map(|r| r.rows_affected())
    })
    .map_err(map("login failures"))?;
    Ok(())
}
