//! Conversions between stored columns and domain values.

use ferry_domain::consent::{ConsentState, Side};
use ferry_ports::StoreError;
use ferry_ports::records::{Cursor, Page, PageRequest};
use time::OffsetDateTime;
use uuid::Uuid;

/// A time as stored: microseconds since the Unix epoch, UTC.
pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    // INVARIANT: every time Ferry handles fits in i64 microseconds (±292,000 years).
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// A stored time back as a UTC date-time.
pub(crate) fn time(us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|e| StoreError::Corrupt { what: "time", reason: e.to_string() })
}

/// A stored optional time.
pub(crate) fn opt_time(us: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    us.map(time).transpose()
}

/// Parses a stored value with `parse`, naming `what` if it fails.
pub(crate) fn parse<T, E: std::fmt::Display>(
    what: &'static str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(raw).map_err(|e| StoreError::Corrupt { what, reason: e.to_string() })
}

/// Parses a stored enumeration name with `from_name`.
pub(crate) fn name<T>(
    what: &'static str,
    raw: &str,
    from_name: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    from_name(raw).ok_or_else(|| StoreError::Corrupt { what, reason: format!("unknown value `{raw}`") })
}

/// A consent state's stored columns.
pub(crate) fn consent_columns(state: ConsentState) -> (&'static str, Option<&'static str>) {
    (state.name(), state.by().map(Side::as_str))
}

/// A consent state from its stored columns.
pub(crate) fn consent(state: &str, by: Option<&str>) -> Result<ConsentState, StoreError> {
    let side = match by {
        None => None,
        Some("practice") => Some(Side::Practice),
        Some("counterparty") => Some(Side::Counterparty),
        Some(other) => {
            return Err(StoreError::Corrupt { what: "consent side", reason: format!("unknown value `{other}`") });
        }
    };
    ConsentState::from_parts(state, side)
        .ok_or_else(|| StoreError::Corrupt { what: "consent state", reason: format!("`{state}` by {by:?}") })
}

/// A 32-byte digest from a stored blob.
pub(crate) fn digest(what: &'static str, bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt { what, reason: format!("{} bytes, not 32", bytes.len()) })
}

/// A stored non-negative count as `u32`/`u64`.
pub(crate) fn count<T: TryFrom<i64>>(what: &'static str, n: i64) -> Result<T, StoreError> {
    T::try_from(n).map_err(|_| StoreError::Corrupt { what, reason: format!("{n} is out of range") })
}

/// The id a keyset cursor points after (the nil id for the first page).
pub(crate) fn cursor_id(page: &PageRequest) -> Result<Uuid, StoreError> {
    match &page.after {
        None => Ok(Uuid::nil()),
        Some(Cursor(text)) => Uuid::try_parse(text).map_err(|_| StoreError::Rejected {
            what: "page cursor",
            reason: "it is not a cursor from a previous page".to_owned(),
        }),
    }
}

/// The row limit to ask for: one more than the page, to learn whether
/// another page follows.
pub(crate) fn fetch_limit(page: &PageRequest) -> i64 {
    i64::from(page.limit.clamp(1, PageRequest::MAX_LIMIT)) + 1
}

/// Cuts the extra row off and makes the cursor from the last item's key.
pub(crate) fn page_of<T>(mut items: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(page.limit.clamp(1, PageRequest::MAX_LIMIT)).unwrap_or(usize::MAX);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| Cursor(key(last)))
    } else {
        None
    };
    Page { items, next }
}

/// The outcome of an update by id: `Ok` when it touched the row, else
/// [`StoreError::NotFound`].
pub(crate) fn found(changed: u64, entity: &'static str) -> Result<(), StoreError> {
    if changed == 0 { Err(StoreError::NotFound { entity }) } else { Ok(()) }
}

/// The outcome of a conditional update by id (`... WHERE id = $x AND state =
/// $expected`): `Ok` when it touched the row; [`StoreError::Conflict`] when
/// the row exists but someone moved it first; [`StoreError::NotFound`] when
/// there is no such row. `table` is one of the schema's table names.
pub(crate) async fn moved(
    tx: &mut crate::tx::SqlTx,
    changed: u64,
    table: &'static str,
    id: Uuid,
    entity: &'static str,
) -> Result<(), StoreError> {
    if changed > 0 {
        return Ok(());
    }
    // COUNT(*) is a BIGINT on both engines.
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE id = $1");
    let rows: i64 = crate::tx::on!(tx, |c| sqlx::query_scalar(&sql).bind(id).fetch_one(c).await)
        .map_err(crate::error::map(entity))?;
    Err(if rows > 0 { StoreError::Conflict { entity } } else { StoreError::NotFound { entity } })
}
