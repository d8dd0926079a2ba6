//! The clock and id generation.

use time::OffsetDateTime;
use uuid::Uuid;

/// The current time. Production uses the system clock; tests pin it.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// New ids. Production mints UUIDv7 (time-ordered, so keyset pagination by
/// id follows creation order); tests may mint predictable ones.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait IdGenerator: Send + Sync {
    /// A new, never-used id.
    fn new_id(&self) -> Uuid;
}
