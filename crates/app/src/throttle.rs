//! Throttling, in one place: an attempt is admitted only while each of its
//! keys has fewer than its limit of attempts counted within the window
//! ([`AppConfig::throttle_window`]), and it is counted before the slow work
//! it guards (an Argon2 check), atomically with the count, so that attempts
//! made in parallel cannot all pass a count none of them had yet raised.
//! Sign-ins take back an attempt whose password was right; password reset
//! requests always count.

use ferry_ports::records::ThrottleKey;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{App, AppConfig, AppError, Attempts};

/// How many attempts `key` may make within the window, and what they are.
const fn limit(config: &AppConfig, key: &ThrottleKey) -> (u32, Attempts) {
    match key {
        ThrottleKey::Account(_) => (config.account_failures, Attempts::SignIn),
        ThrottleKey::Address(_) => (config.address_failures, Attempts::SignIn),
        ThrottleKey::ResetEmail(_) => (config.reset_email_requests, Attempts::PasswordReset),
        ThrottleKey::ResetAddress(_) => (config.reset_address_requests, Attempts::PasswordReset),
    }
}

impl App {
    /// Admits one attempt against `keys` at `now`, or refuses it when a key
    /// is at its limit (nothing is counted then). The attempt, named by the
    /// id returned, counts against every key from now on, in its own
    /// committed transaction, until it is forgotten
    /// ([`ferry_ports::store::SessionStore::forget_login_attempt`]).
    ///
    /// # Errors
    /// [`AppError::Throttled`] when a key is at its limit.
    pub(crate) async fn admit_attempt(&self, keys: &[ThrottleKey], now: OffsetDateTime) -> Result<Uuid, AppError> {
        let config = self.config();
        let window = time::Duration::try_from(config.throttle_window).unwrap_or(time::Duration::HOUR);
        let attempt = self.new_id();
        let mut tx = self.store().begin().await?;
        let counts = tx.reserve_login_attempt(attempt, keys, now - window, now).await?;
        for (key, n) in keys.iter().zip(counts) {
            let (limit, of) = limit(config, key);
            if n >= limit {
                tx.rollback().await?;
                return Err(AppError::Throttled { retry_after_secs: config.throttle_window.as_secs(), of });
            }
        }
        tx.commit().await?;
        Ok(attempt)
    }
}
