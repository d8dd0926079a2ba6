//! Reading the values operators type: ids, sizes and dates.

use ferry_domain::quota::Bytes;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};
use uuid::Uuid;

use crate::failure::Failure;

/// An id of `what`, such as a practice's.
pub(crate) fn id(what: &str, raw: &str, list: &str) -> Result<Uuid, Failure> {
    Uuid::try_parse(raw.trim()).map_err(|_| {
        Failure::Usage(format!(
            "`{raw}` is not a {what} id (a UUID such as 0190f1c2-7d3e-7000-8000-000000000001); {list}"
        ))
    })
}

/// A size in bytes: a whole number, or a number with a decimal unit
/// (`kB`, `MB`, `GB`, `TB`; case and a space before the unit do not matter),
/// such as `500MB`, `1.5 GB` or `1000000`.
pub(crate) fn size(flag: &str, raw: &str) -> Result<Bytes, Failure> {
    let bad = || Failure::Usage(format!("{flag}: `{raw}` is not a size such as 500MB, 1.5GB or 1000000 (bytes)"));
    let text = raw.trim().to_ascii_lowercase();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "b" | "bytes" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
    let mut bytes = whole.checked_mul(scale).ok_or_else(bad)?;
    // Each decimal digit is worth a tenth of the one before; a fraction finer than a byte is refused.
    let mut place = scale;
    for digit in fraction.chars() {
        let digit = u64::from(digit.to_digit(10).ok_or_else(bad)?);
        if !place.is_multiple_of(10) {
            if digit != 0 {
                return Err(bad());
            }
            continue;
        }
        place /= 10;
        bytes = bytes.checked_add(digit * place).ok_or_else(bad)?;
    }
    Ok(Bytes::new(bytes))
}

/// A time: a date (`2026-01-31`, meaning its UTC midnight) or an RFC 3339
/// time (`2026-01-31T09:30:00Z`).
pub(crate) fn moment(flag: &str, raw: &str) -> Result<OffsetDateTime, Failure> {
    let text = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map(|d| d.with_time(Time::MIDNIGHT).assume_utc()).map_err(|_| {
        Failure::Usage(format!(
            "{flag}: `{raw}` is not a date such as 2026-01-31 or a time such as 2026-01-31T09:30:00Z"
        ))
    })
}

/// `at` plus `months` calendar months (the day is kept, or the month's last day).
pub(crate) fn add_months(at: OffsetDateTime, months: u32) -> Result<OffsetDateTime, Failure> {
    let too_far = || Failure::Usage(format!("--months: {months} months is too far ahead"));
    let total = i64::from(at.year()) * 12 + i64::from(u8::from(at.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).map_err(|_| too_far())?;
    let month =
        time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).map_err(|_| too_far())?).map_err(|_| too_far())?;
    let day = at.day().min(month.length(year));
    let date = Date::from_calendar_date(year, month, day).map_err(|_| too_far())?;
    Ok(at.replace_date(date))
}

/// A time for people: `2026-01-31 09:30:00 UTC`.
pub(crate) fn show_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    at.to_offset(time::UtcOffset::UTC).format(&format).unwrap_or_else(|_| at.to_string())
}

/// A time for machines: RFC 3339, UTC.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_decimal_units() {
        let ok = |raw: &str| size("--amount", raw).map(Bytes::get).ok();
        assert_eq!(ok("1000000"), Some(1_000_000));
        assert_eq!(ok("500MB"), Some(500_000_000));
        assert_eq!(ok("1.5 GB"), Some(1_500_000_000));
        assert_eq!(ok("2kb"), Some(2_000));
        assert_eq!(ok("0.001kB"), Some(1));
        for bad in ["", "MB", "1.5", "1.5 bytes", "ten", "1 PB", "-5MB", "1..2GB", "99999999999999TB"] {
            assert_eq!(ok(bad), None, "{bad}");
        }
        assert_eq!(ok("1.0"), Some(1));
    }

    #[test]
    fn dates_are_utc_midnights_or_rfc3339() {
        let day = moment("--since", "2026-01-31").unwrap();
        assert_eq!(rfc3339(day), "2026-01-31T00:00:00Z");
        let t = moment("--since", "2026-01-31T09:30:00+01:00").unwrap();
        assert_eq!(rfc3339(t), "2026-01-31T08:30:00Z");
        assert!(moment("--since", "31/01/2026").is_err());
    }

    #[test]
    fn months_keep_the_day_or_take_the_last() {
        let start = moment("--starts", "2026-01-31").unwrap();
        assert_eq!(rfc3339(add_months(start, 1).unwrap()), "2026-02-28T00:00:00Z");
        assert_eq!(rfc3339(add_months(start, 12).unwrap()), "2027-01-31T00:00:00Z");
        assert_eq!(rfc3339(add_months(start, 13).unwrap()), "2027-02-28T00:00:00Z");
    }
}
