//! The production clock and id generator.

use ferry_ports::clock::{Clock, IdGenerator};
use time::OffsetDateTime;
use uuid::Uuid;

/// The system clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// UUIDv7 ids: time-ordered, so keyset pages follow creation order, and
/// random enough (74 bits) that they cannot be guessed.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidV7;

impl IdGenerator for UuidV7 {
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_ordered() {
        let a = UuidV7.new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = UuidV7.new_id();
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
    }

    #[test]
    fn the_clock_is_utc() {
        assert!(SystemClock.now().offset().is_utc());
    }
}
