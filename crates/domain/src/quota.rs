//! Storage and throughput allowances (PRODUCT.md rule 8).
//!
//! The domain decides whether a reservation fits; the store makes
//! reserve-then-commit atomic so that concurrent uploads together can never go
//! over. Usage is the bytes committed plus the bytes reserved by transfers in
//! flight.

use std::fmt;

use time::{Month, OffsetDateTime, UtcOffset};

use crate::ids::AddOnId;
use crate::practice::Plan;

/// A number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
pub struct Bytes(u64);

impl Bytes {
    /// No bytes.
    pub const ZERO: Self = Self(0);
    /// The free storage allowance: 250 MB.
    pub const DEFAULT_STORAGE: Self = Self(250 * 1_000_000);
    /// The free monthly throughput allowance: 500 MB.
    pub const DEFAULT_THROUGHPUT: Self = Self(500 * 1_000_000);

    /// Wraps a count of bytes.
    #[must_use]
    pub const fn new(bytes: u64) -> Self {
        Self(bytes)
    }

    /// The count.
    #[must_use]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Adds, stopping at the largest value rather than wrapping.
    #[must_use]
    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }

    /// Subtracts, stopping at zero.
    #[must_use]
    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Bytes {
    /// Decimal units, as allowances are sold: `512 bytes`, `1.5 kB`, `250 MB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
        if self.0 < 1000 {
            return write!(f, "{} byte{}", self.0, if self.0 == 1 { "" } else { "s" });
        }
        let mut scaled = self.0;
        let mut unit = 0;
        // Keep one decimal digit: find the unit in which the value is below 1000.
        while scaled >= 1_000_000 && unit + 1 < UNITS.len() {
            scaled /= 1000;
            unit += 1;
        }
        let tenths = scaled / 100;
        if tenths.is_multiple_of(10) {
            write!(f, "{} {}", tenths / 10, UNITS[unit])
        } else {
            write!(f, "{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
        }
    }
}

/// The two allowances a practice has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum AllowanceKind {
    /// Bytes held at any one time.
    Storage,
    /// Bytes uploaded plus downloaded in a calendar month (UTC).
    Throughput,
}

impl AllowanceKind {
    /// Both kinds.
    pub const ALL: [Self; 2] = [Self::Storage, Self::Throughput];

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Storage => "storage",
            Self::Throughput => "throughput",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for AllowanceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An allowance bought on top of the plan, recorded by the operator. It
/// counts from `starts` (included) until `ends` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddOn {
    /// Which add-on.
    pub id: AddOnId,
    /// What it adds to.
    pub kind: AllowanceKind,
    /// How much it adds.
    pub amount: Bytes,
    /// When it starts counting.
    pub starts: OffsetDateTime,
    /// When it stops counting.
    pub ends: OffsetDateTime,
}

/// An add-on whose dates are the wrong way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an add-on must end after it starts")]
pub struct AddOnDatesError;

impl AddOn {
    /// Builds an add-on.
    ///
    /// # Errors
    /// [`AddOnDatesError`] when `ends` is not after `starts`.
    pub fn new(
        id: AddOnId,
        kind: AllowanceKind,
        amount: Bytes,
        starts: OffsetDateTime,
        ends: OffsetDateTime,
    ) -> Result<Self, AddOnDatesError> {
        if ends <= starts {
            return Err(AddOnDatesError);
        }
        Ok(Self { id, kind, amount, starts, ends })
    }

    /// Whether it counts at `at`.
    #[must_use]
    pub fn is_current(&self, at: OffsetDateTime) -> bool {
        self.starts <= at && at < self.ends
    }
}

/// The allowance of `kind` at `at`: the plan's base plus every add-on of that
/// kind that counts at that moment.
///
/// ```
/// use ferry_domain::practice::Plan;
/// use ferry_domain::quota::{allowance, AllowanceKind, Bytes};
/// let now = time::macros::datetime!(2026-05-01 0:00 UTC);
/// assert_eq!(allowance(&Plan::default(), &[], AllowanceKind::Storage, now), Bytes::new(250_000_000));
/// ```
#[must_use]
pub fn allowance(plan: &Plan, add_ons: &[AddOn], kind: AllowanceKind, at: OffsetDateTime) -> Bytes {
    let base = match kind {
        AllowanceKind::Storage => plan.storage,
        AllowanceKind::Throughput => plan.throughput,
    };
    add_ons.iter().filter(|a| a.kind == kind && a.is_current(at)).fold(base, |total, a| total.saturating_add(a.amount))
}

/// A calendar month in UTC: the period throughput is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsageMonth {
    /// The year.
    pub year: i32,
    /// The month.
    pub month: Month,
}

impl UsageMonth {
    /// The UTC calendar month that contains `at`, whatever offset `at` carries.
    #[must_use]
    pub fn containing(at: OffsetDateTime) -> Self {
        let utc = at.to_offset(UtcOffset::UTC);
        Self { year: utc.year(), month: utc.month() }
    }

    /// `YYYY-MM`, as stored.
    #[must_use]
    pub fn key(&self) -> String {
        format!("{:04}-{:02}", self.year, u8::from(self.month))
    }
}

/// How much of one allowance is taken: committed bytes plus bytes reserved by
/// transfers still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Bytes committed (stored files, or bytes moved this month).
    pub used: Bytes,
    /// Bytes reserved by transfers in flight.
    pub reserved: Bytes,
}

impl Usage {
    /// Used plus reserved.
    #[must_use]
    pub const fn taken(&self) -> Bytes {
        self.used.saturating_add(self.reserved)
    }
}

/// A reservation that does not fit in an allowance. The message names the
/// allowance and what is left, so the person can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this transfer needs {requested} but only {remaining} of the practice's {limit} {kind} allowance is left{}",
    match .kind { AllowanceKind::Storage => "; delete files or buy more storage", AllowanceKind::Throughput => " this month; wait for next month or buy more throughput" }
)]
pub struct QuotaExceeded {
    /// Which allowance.
    pub kind: AllowanceKind,
    /// The allowance now.
    pub limit: Bytes,
    /// What is left of it.
    pub remaining: Bytes,
    /// What was asked for.
    pub requested: Bytes,
}

/// Checks that reserving `requested` more bytes keeps `usage` within `limit`.
///
/// ```
/// use ferry_domain::quota::{check_reservation, AllowanceKind, Bytes, Usage};
/// let usage = Usage { used: Bytes::new(200_000_000), reserved: Bytes::new(30_000_000) };
/// let limit = Bytes::new(250_000_000);
/// assert!(check_reservation(AllowanceKind::Storage, Bytes::new(20_000_000), usage, limit).is_ok());
/// let err = check_reservation(AllowanceKind::Storage, Bytes::new(20_000_001), usage, limit).unwrap_err();
/// assert_eq!(err.remaining, Bytes::new(20_000_000));
/// ```
///
/// # Errors
/// [`QuotaExceeded`] naming the allowance and what is left.
pub fn check_reservation(
    kind: AllowanceKind,
    requested: Bytes,
    usage: Usage,
    limit: Bytes,
) -> Result<(), QuotaExceeded> {
    let remaining = limit.saturating_sub(usage.taken());
    if requested <= remaining { Ok(()) } else { Err(QuotaExceeded { kind, limit, remaining, requested }) }
}

/// The share of an allowance at which the practice's admins are warned.
pub const WARNING_PERCENT: u64 = 80;

/// Whether `used` has reached the warning threshold (80%) of `limit`.
#[must_use]
pub fn at_warning_level(used: Bytes, limit: Bytes) -> bool {
    // Compare in u128 so that huge allowances cannot overflow.
    u128::from(used.get()) * 100 >= u128::from(limit.get()) * u128::from(WARNING_PERCENT)
}

/// Whether moving from `before` to `after` crosses the warning threshold:
/// the moment to send the (once per allowance per month) warning email.
#[must_use]
pub fn crosses_warning(before: Bytes, after: Bytes, limit: Bytes) -> bool {
    !at_warning_level(before, limit) && at_warning_level(after, limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn add_on(kind: AllowanceKind, amount: u64, starts: OffsetDateTime, ends: OffsetDateTime) -> AddOn {
        AddOn::new(AddOnId::from_uuid(Uuid::from_u128(1)), kind, Bytes::new(amount), starts, ends).unwrap()
    }

    #[test]
    fn rule8_free_defaults_are_250_mb_storage_and_500_mb_throughput() {
        let now = datetime!(2026-11-25 10:00 UTC);
        assert_eq!(allowance(&Plan::default(), &[], AllowanceKind::Storage, now).to_string(), "250 MB");
        assert_eq!(allowance(&Plan::default(), &[], AllowanceKind::Throughput, now).to_string(), "500 MB");
    }

    #[test]
    fn rule8_add_ons_count_from_their_start_until_their_end() {
        let plan = Plan::default();
        let extra = add_on(
            AllowanceKind::Storage,
            1_000_000_000,
            datetime!(2026-11-01 0:00 UTC),
            datetime!(2026-12-01 0:00 UTC),
        );
        let other_kind =
            add_on(AllowanceKind::Throughput, 5, datetime!(2026-01-01 0:00 UTC), datetime!(2027-01-01 0:00 UTC));
        let add_ons = [extra, other_kind];
        let at = |t| allowance(&plan, &add_ons, AllowanceKind::Storage, t);
        assert_eq!(at(datetime!(2026-10-31 23:59:59 UTC)), Bytes::new(250_000_000));
        assert_eq!(at(datetime!(2026-11-01 0:00 UTC)), Bytes::new(1_250_000_000));
        assert_eq!(at(datetime!(2026-11-30 23:59:59 UTC)), Bytes::new(1_250_000_000));
        assert_eq!(at(datetime!(2026-12-01 0:00 UTC)), Bytes::new(250_000_000));
        assert!(
            AddOn::new(extra.id, extra.kind, extra.amount, extra.ends, extra.starts).is_err(),
            "an add-on ending before it starts is refused"
        );
    }

    #[test]
    fn rule8_a_reservation_that_does_not_fit_names_the_allowance_and_what_is_left() {
        let usage = Usage { used: Bytes::new(240_000_000), reserved: Bytes::new(5_000_000) };
        let err = check_reservation(AllowanceKind::Storage, Bytes::new(6_000_000), usage, Bytes::DEFAULT_STORAGE)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "this transfer needs 6 MB but only 5 MB of the practice's 250 MB storage allowance is left; \
             delete files or buy more storage"
        );
        assert!(
            check_reservation(AllowanceKind::Storage, Bytes::new(5_000_000), usage, Bytes::DEFAULT_STORAGE).is_ok()
        );
        // Over-committed usage (after an allowance shrank) leaves nothing, without wrapping.
        let over = Usage { used: Bytes::new(300_000_000), reserved: Bytes::ZERO };
        let err =
            check_reservation(AllowanceKind::Throughput, Bytes::new(1), over, Bytes::DEFAULT_STORAGE).unwrap_err();
        assert_eq!(err.remaining, Bytes::ZERO);
        assert!(err.to_string().contains("this month"));
    }

    #[test]
    fn rule8_reservations_in_flight_count_so_concurrent_uploads_cannot_go_over() {
        let limit = Bytes::new(100);
        let mut usage = Usage::default();
        let mut granted = 0;
        for _ in 0..10 {
            if check_reservation(AllowanceKind::Storage, Bytes::new(30), usage, limit).is_ok() {
                usage.reserved = usage.reserved.saturating_add(Bytes::new(30));
                granted += 1;
            }
        }
        assert_eq!(granted, 3);
        assert!(usage.taken() <= limit);
    }

    #[test]
    fn rule8_throughput_is_counted_per_utc_calendar_month() {
        let late_in_sydney = datetime!(2026-12-01 08:00 +10:00);
        assert_eq!(UsageMonth::containing(late_in_sydney).key(), "2026-11");
        assert_eq!(UsageMonth::containing(datetime!(2026-12-01 00:00 UTC)).key(), "2026-12");
    }

    #[test]
    fn rule8_warning_at_80_percent_is_crossed_once() {
        let limit = Bytes::new(1000);
        assert!(!at_warning_level(Bytes::new(799), limit));
        assert!(at_warning_level(Bytes::new(800), limit));
        assert!(crosses_warning(Bytes::new(700), Bytes::new(850), limit));
        assert!(!crosses_warning(Bytes::new(850), Bytes::new(900), limit));
        assert!(!crosses_warning(Bytes::new(100), Bytes::new(200), limit));
        assert!(at_warning_level(Bytes::new(u64::MAX), Bytes::new(u64::MAX)));
    }

    #[test]
    fn bytes_display_in_decimal_units() {
        let cases = [
            (0, "0 bytes"),
            (1, "1 byte"),
            (999, "999 bytes"),
            (1000, "1 kB"),
            (1500, "1.5 kB"),
            (250_000_000, "250 MB"),
            (1_250_000_000, "1.2 GB"),
            (u64::MAX, "18.4 EB"),
        ];
        for (n, text) in cases {
            assert_eq!(Bytes::new(n).to_string(), text, "{n}");
        }
    }
}
