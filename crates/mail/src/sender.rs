//! The outbox sender: drains the database outbox through a transport.
//!
//! Use cases never send mail themselves: they queue it in the transaction
//! that makes the change it reports. This sender then claims due messages
//! (a lease, so that any number of servers can run it without sending a
//! message twice), hands each to the transport, and records the outcome:
//! sent; or failed, to be retried after an exponential backoff with jitter;
//! or given up, when the server refused the message or after the last try.
//! An SMTP outage therefore delays mail and loses none.
//!
//! Delivery is at least once: if a server dies after the transport accepted
//! a message but before it was marked sent, the message is sent again when
//! its lease ends. Nothing can do better without the mail server's help.

use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry_ports::clock::Clock;
use ferry_ports::mail::{MailError, MailTransport};
use ferry_ports::{Store, StoreError};
use time::OffsetDateTime;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::message::ConfigError;

/// How the sender paces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderConfig {
    /// Messages claimed per pass.
    pub batch_size: u32,
    /// How long a claim keeps other senders away from a message.
    pub lease: Duration,
    /// The longest one delivery may take; a slower one counts as a failed try.
    /// Must be shorter than `lease`, so that a message is never still being
    /// sent when another sender may claim it.
    pub send_timeout: Duration,
    /// Tries before a message is given up (the first try counts).
    pub max_attempts: u32,
    /// The wait after the first failed try; it doubles after each one.
    pub backoff_base: Duration,
    /// The longest wait between two tries.
    pub backoff_max: Duration,
    /// How often to look for due messages when nothing wakes the sender.
    pub poll_interval: Duration,
}

impl Default for SenderConfig {
    /// Ten per pass, five-minute leases, a minute per delivery, and waits of
    /// 1, 2, 4, ... minutes up to 6 hours: with 12 tries a message is given
    /// up only after about a day of failures.
    fn default() -> Self {
        Self {
            batch_size: 10,
            lease: Duration::from_secs(5 * 60),
            send_timeout: Duration::from_secs(60),
            max_attempts: 12,
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(6 * 60 * 60),
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrainReport {
    /// Messages claimed.
    pub claimed: usize,
    /// Delivered and marked sent.
    pub sent: usize,
    /// Failed for now; they will be retried.
    pub retrying: usize,
    /// Refused by the server, or failed for the last time: marked failed.
    pub given_up: usize,
    /// Claimed but not tried (the sender was stopping, or the lease was
    /// running out); they are due again at once.
    pub released: usize,
    /// Tried, but the outcome could not be recorded (the database failed):
    /// they are tried again when their lease ends.
    pub unrecorded: usize,
}

/// Drains the outbox through a transport. Share it in an `Arc`: run
/// [`run_until`](Self::run_until) in a background task, and call
/// [`wake`](Self::wake) after queuing mail to send it without waiting for
/// the next poll.
pub struct OutboxSender {
    store: Arc<dyn Store>,
    transport: Arc<dyn MailTransport>,
    clock: Arc<dyn Clock>,
    config: SenderConfig,
    wake: Notify,
}

impl std::fmt::Debug for OutboxSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxSender").field("config", &self.config).finish_non_exhaustive()
    }
}

/// What to record about one claimed message.
enum Outcome {
    Sent,
    Retry { error: String, at: OffsetDateTime },
    GiveUp { error: String },
    Release { at: OffsetDateTime },
}

impl OutboxSender {
    /// A sender of `store`'s outbox through `transport`.
    ///
    /// # Errors
    /// [`ConfigError::Sender`] when the configuration cannot work: a zero
    /// batch size or attempt count, or a send timeout not shorter than the lease.
    pub fn new(
        store: Arc<dyn Store>,
        transport: Arc<dyn MailTransport>,
        clock: Arc<dyn Clock>,
        config: SenderConfig,
    ) -> Result<Self, ConfigError> {
        let bad = |reason: &str| Err(ConfigError::Sender(reason.to_owned()));
        if config.batch_size == 0 {
            return bad("the batch size must be at least 1");
        }
        if config.max_attempts == 0 {
            return bad("the number of attempts must be at least 1");
        }
        if config.send_timeout >= config.lease {
            return bad("the send timeout must be shorter than the lease");
        }
        if config.backoff_base.is_zero() || config.backoff_max < config.backoff_base {
            return bad("the backoff must be positive and its maximum at least its base");
        }
        Ok(Self { store, transport, clock, config, wake: Notify::new() })
    }

    /// Makes a running [`run_until`](Self::run_until) look for due messages now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One pass: claims up to a batch of due messages, tries each once, and
    /// records each outcome.
    ///
    /// # Errors
    /// A [`StoreError`] when the messages cannot be claimed; nothing was
    /// sent then. Failures to record an outcome are counted in
    /// [`DrainReport::unrecorded`] instead, since other messages may still go.
    pub async fn drain_once(&self) -> Result<DrainReport, StoreError> {
        self.drain(&AtomicBool::new(false)).await
    }

    /// Drains the outbox until `shutdown` completes: a pass, then another at
    /// once while full batches are being sent, else after the poll interval
    /// or a [`wake`](Self::wake). On shutdown it finishes the message in
    /// hand, releases the rest of its batch and returns.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) {
        let mut shutdown = pin!(shutdown);
        let stopping = AtomicBool::new(false);
        loop {
            let mut pass = pin!(self.drain(&stopping));
            let result = tokio::select! {
                result = &mut pass => result,
                () = &mut shutdown => {
                    stopping.store(true, Ordering::Relaxed);
                    log_pass(&pass.await);
                    return;
                }
            };
            log_pass(&result);
            // Go on at once only while whole batches are being delivered: a
            // full batch that all failed means the transport is down, and
            // the backoff, not this loop, decides when to try again.
            let busy = matches!(result, Ok(r) if r.claimed == self.config.batch_size as usize && r.sent > 0);
            if busy {
                continue;
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }

    async fn drain(&self, stopping: &AtomicBool) -> Result<DrainReport, StoreError> {
        let claimed_at = self.clock.now();
        let lease_until = claimed_at + self.config.lease;
        let batch = {
            let mut tx = self.store.begin().await?;
            let batch = tx.claim_mail(claimed_at, lease_until, self.config.batch_size).await?;
            tx.commit().await?;
            batch
        };
        let mut report = DrainReport { claimed: batch.len(), ..DrainReport::default() };
        for record in batch {
            let now = self.clock.now();
            // INVARIANT: a message is only handed to the transport while its
            // lease will outlast the send (bounded by `send_timeout`), so no
            // other sender can claim it while it may still be going out.
            let outcome = if stopping.load(Ordering::Relaxed) || now + self.config.send_timeout >= lease_until {
                Outcome::Release { at: now }
            } else {
                let result = tokio::time::timeout(self.config.send_timeout, self.transport.send(&record.mail))
                    .await
                    .unwrap_or_else(|_| {
                        Err(MailError::Unavailable(format!("no answer within {:?}", self.config.send_timeout)))
                    });
                let now = self.clock.now();
                match result {
                    Ok(()) => Outcome::Sent,
                    Err(MailError::Rejected(error)) => Outcome::GiveUp { error },
                    Err(MailError::Unavailable(error)) if record.attempts >= self.config.max_attempts => {
                        Outcome::GiveUp { error }
                    }
                    Err(MailError::Unavailable(error)) => {
                        Outcome::Retry { error, at: now + self.retry_delay(record.id, record.attempts) }
                    }
                }
            };
            match self.record(record.id, record.attempts, &outcome).await {
                Ok(()) => match outcome {
                    Outcome::Sent => report.sent += 1,
                    Outcome::Retry { .. } => report.retrying += 1,
                    Outcome::GiveUp { .. } => report.given_up += 1,
                    Outcome::Release { .. } => report.released += 1,
                },
                Err(error) => {
                    report.unrecorded += 1;
                    tracing::error!(outbox_id = %record.id, %error, "cannot record the outcome of sending a message");
                }
            }
        }
        Ok(report)
    }

    /// Writes the outcome of one message in its own transaction, so that
    /// each delivery is recorded as soon as it happened.
    async fn record(&self, id: Uuid, attempts: u32, outcome: &Outcome) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        match outcome {
            Outcome::Sent => {
                tx.mark_mail_sent(id, self.clock.now()).await?;
                tracing::debug!(outbox_id = %id, attempts, "mail sent");
            }
            Outcome::Retry { error, at } => {
                tx.mark_mail_failed(id, error, Some(*at)).await?;
                tracing::warn!(outbox_id = %id, attempts, %error, retry_at = %at, "mail not sent; will retry");
            }
            Outcome::GiveUp { error } => {
                tx.mark_mail_failed(id, error, None).await?;
                tracing::error!(outbox_id = %id, attempts, %error, "mail not sent; giving up");
            }
            Outcome::Release { at } => {
                tx.mark_mail_failed(id, "not tried: the sender stopped or its lease ran short", Some(*at)).await?;
            }
        }
        tx.commit().await
    }

    /// The wait after the `attempt`-th failed try of message `id`:
    /// `backoff_base × 2^(attempt-1)`, at most `backoff_max`, scaled by a
    /// factor between 0.5 and 1 that is fixed per message and attempt, so
    /// that messages failed together do not all come back together.
    fn retry_delay(&self, id: Uuid, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let full = self.config.backoff_base.saturating_mul(1_u32 << exponent).min(self.config.backoff_max);
        let mut hasher = DefaultHasher::new();
        (id, attempt).hash(&mut hasher);
        // A fraction in [0, 1) with 16 bits of resolution.
        let fraction = f64::from(u16::try_from(hasher.finish() >> 48).unwrap_or(u16::MAX)) / 65_536.0;
        full.mul_f64(0.5 + fraction / 2.0)
    }
}

fn log_pass(result: &Result<DrainReport, StoreError>) {
    match result {
        Ok(report) if report.claimed > 0 => tracing::info!(?report, "outbox pass"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "the outbox sender cannot claim mail; will try again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_ports::Tx;
    use ferry_ports::records::OutgoingMail;

    struct Nothing;

    #[async_trait::async_trait]
    impl Store for Nothing {
        async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
            Err(StoreError::Unavailable("no store in this test".into()))
        }
        async fn read(&self) -> Result<Box<dyn Tx>, StoreError> {
            Err(StoreError::Unavailable("no store in this test".into()))
        }
    }

    #[async_trait::async_trait]
    impl MailTransport for Nothing {
        async fn send(&self, _: &OutgoingMail) -> Result<(), MailError> {
            Ok(())
        }
    }

    impl Clock for Nothing {
        fn now(&self) -> OffsetDateTime {
            OffsetDateTime::UNIX_EPOCH
        }
    }

    fn sender(config: SenderConfig) -> Result<OutboxSender, ConfigError> {
        OutboxSender::new(Arc::new(Nothing), Arc::new(Nothing), Arc::new(Nothing), config)
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum_with_jitter_between_half_and_whole() {
        let sender = sender(SenderConfig::default()).unwrap();
        let minute = Duration::from_secs(60);
        for attempt in 1..=20 {
            let full = (minute * 2u32.pow((attempt - 1).min(20))).min(Duration::from_secs(6 * 3600));
            for n in 0..50 {
                let delay = sender.retry_delay(Uuid::from_u128(n), attempt);
                assert!(
                    delay >= full / 2 && delay <= full,
                    "attempt {attempt}: {delay:?} outside {full:?}/2..{full:?}"
                );
            }
        }
        let delays: std::collections::HashSet<Duration> =
            (0..50).map(|n| sender.retry_delay(Uuid::from_u128(n), 3)).collect();
        assert!(delays.len() > 40, "jitter spreads messages apart: {} distinct delays", delays.len());
        assert_eq!(sender.retry_delay(Uuid::from_u128(1), 3), sender.retry_delay(Uuid::from_u128(1), 3));
        assert_eq!(sender.retry_delay(Uuid::from_u128(1), u32::MAX), sender.retry_delay(Uuid::from_u128(1), u32::MAX));
    }

    #[test]
    fn configurations_that_cannot_work_are_refused() {
        let cases = [
            (SenderConfig { batch_size: 0, ..SenderConfig::default() }, "the batch size must be at least 1"),
            (SenderConfig { max_attempts: 0, ..SenderConfig::default() }, "the number of attempts must be at least 1"),
            (
                SenderConfig { send_timeout: Duration::from_secs(300), ..SenderConfig::default() },
                "the send timeout must be shorter than the lease",
            ),
            (
                SenderConfig { backoff_base: Duration::ZERO, ..SenderConfig::default() },
                "the backoff must be positive and its maximum at least its base",
            ),
        ];
        for (config, reason) in cases {
            let err = sender(config).unwrap_err();
            assert_eq!(err, ConfigError::Sender(reason.to_owned()));
        }
    }
}
