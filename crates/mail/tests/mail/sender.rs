//! The outbox sender against a real SQLite store and a scripted transport:
//! delivery, backoff, giving up, leases, timeouts and shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ferry_mail::{DrainReport, OutboxSender, SenderConfig};
use ferry_ports::StoreError;
use ferry_ports::mail::{MailError, MailTransport};
use ferry_ports::records::{OutboxStatus, OutgoingMail};
use ferry_store_sql::SqlStore;

use crate::support::{ManualClock, enqueue, outbox, plain_mail, sqlite_store, start, unique_address};

/// What the scripted transport does with one message.
type Behaviour = Box<dyn Fn(&OutgoingMail) -> Result<(), MailError> + Send + Sync>;

/// A transport that answers per its behaviour and logs what it delivered.
struct Scripted {
    behaviour: Behaviour,
    /// Extra time each send takes.
    delay: Duration,
    delivered: Arc<Mutex<Vec<OutgoingMail>>>,
}

impl Scripted {
    fn new(behaviour: impl Fn(&OutgoingMail) -> Result<(), MailError> + Send + Sync + 'static) -> Self {
        Self { behaviour: Box::new(behaviour), delay: Duration::ZERO, delivered: Arc::default() }
    }

    fn accepting() -> Self {
        Self::new(|_| Ok(()))
    }

    fn subjects(&self) -> Vec<String> {
        self.delivered.lock().unwrap().iter().map(|m| m.subject.clone()).collect()
    }
}

#[async_trait]
impl MailTransport for Scripted {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        (self.behaviour)(mail)?;
        self.delivered.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

fn sender(
    store: &SqlStore,
    transport: Arc<dyn MailTransport>,
    clock: Arc<ManualClock>,
    config: SenderConfig,
) -> OutboxSender {
    OutboxSender::new(Arc::new(store.clone()), transport, clock, config).unwrap()
}

fn mails(label: &str, n: usize) -> Vec<OutgoingMail> {
    let to = unique_address(label);
    (0..n).map(|i| plain_mail(&to, i)).collect()
}

#[tokio::test]
async fn queued_mail_is_sent_in_order_and_marked_sent() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let transport = Arc::new(Scripted::accepting());
    let sender = sender(&store, transport.clone(), clock.clone(), SenderConfig::default());
    let ids = enqueue(&store, &mails("ordered", 3), start()).await;

    let report = sender.drain_once().await.unwrap();
    assert_eq!(report, DrainReport { claimed: 3, sent: 3, ..DrainReport::default() });
    assert_eq!(transport.subjects(), vec!["Message 0", "Message 1", "Message 2"]);
    let sent = outbox(&store, OutboxStatus::Sent).await;
    assert_eq!(sent.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert!(sent.iter().all(|r| r.attempts == 1 && r.last_error.is_none()), "{sent:?}");

    clock.advance(Duration::from_secs(3600));
    assert_eq!(sender.drain_once().await.unwrap(), DrainReport::default(), "nothing is sent twice");
    assert_eq!(transport.subjects().len(), 3);
}

#[tokio::test]
async fn an_unavailable_transport_backs_off_then_gives_up_after_the_last_try() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let transport = Arc::new(Scripted::new(|_| Err(MailError::Unavailable("421 try again later".into()))));
    let config = SenderConfig { max_attempts: 3, ..SenderConfig::default() };
    let sender = sender(&store, transport, clock.clone(), config);
    let [id] = enqueue(&store, &mails("backoff", 1), start()).await[..] else { unreachable!() };

    for attempt in 1..=2_u32 {
        if attempt > 1 {
            clock.advance(Duration::from_secs(3600));
        }
        let now = clock_now(&clock);
        let report = sender.drain_once().await.unwrap();
        assert_eq!(report, DrainReport { claimed: 1, retrying: 1, ..DrainReport::default() }, "try {attempt}");
        let pending = outbox(&store, OutboxStatus::Pending).await;
        assert_eq!(pending.len(), 1, "kept for a retry, not lost");
        let record = &pending[0];
        assert_eq!((record.id, record.attempts), (id, attempt));
        assert_eq!(record.last_error.as_deref(), Some("421 try again later"));
        // 1 minute, then 2, each with jitter between half and whole.
        let full = Duration::from_secs(60 * 2_u64.pow(attempt - 1));
        let wait = Duration::try_from(record.next_attempt_at - now).unwrap();
        assert!(wait >= full / 2 && wait <= full, "try {attempt}: retry after {wait:?}, expected up to {full:?}");
        assert_eq!(sender.drain_once().await.unwrap(), DrainReport::default(), "not due before its retry time");
    }

    clock.advance(Duration::from_secs(7200));
    let report = sender.drain_once().await.unwrap();
    assert_eq!(report, DrainReport { claimed: 1, given_up: 1, ..DrainReport::default() }, "the last try");
    let failed = outbox(&store, OutboxStatus::Failed).await;
    assert_eq!(failed.iter().map(|r| (r.id, r.attempts)).collect::<Vec<_>>(), vec![(id, 3)]);
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(sender.drain_once().await.unwrap(), DrainReport::default(), "given up for good");
}

fn clock_now(clock: &ManualClock) -> time::OffsetDateTime {
    ferry_ports::clock::Clock::now(clock)
}

#[tokio::test]
async fn a_rejected_message_is_given_up_at_once_and_the_others_still_go() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let transport = Arc::new(Scripted::new(|mail| {
        if mail.subject == "Message 1" { Err(MailError::Rejected("550 no such mailbox".into())) } else { Ok(()) }
    }));
    let sender = sender(&store, transport.clone(), clock, SenderConfig::default());
    let ids = enqueue(&store, &mails("rejected", 3), start()).await;

    let report = sender.drain_once().await.unwrap();
    assert_eq!(report, DrainReport { claimed: 3, sent: 2, given_up: 1, ..DrainReport::default() });
    assert_eq!(transport.subjects(), vec!["Message 0", "Message 2"]);
    let failed = outbox(&store, OutboxStatus::Failed).await;
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0].id, failed[0].attempts), (ids[1], 1));
    assert_eq!(failed[0].last_error.as_deref(), Some("550 no such mailbox"));
}

#[tokio::test]
async fn two_senders_never_send_the_same_message() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let transport = |delivered: &Arc<Mutex<Vec<OutgoingMail>>>| {
        let mut t = Scripted::accepting();
        t.delay = Duration::from_millis(5);
        t.delivered = Arc::clone(delivered);
        Arc::new(t)
    };
    let config = SenderConfig { batch_size: 4, ..SenderConfig::default() };
    let first = sender(&store, transport(&delivered), clock.clone(), config.clone());
    let second = sender(&store, transport(&delivered), clock, config);
    enqueue(&store, &mails("twice", 40), start()).await;

    let drain_all = |sender: OutboxSender| async move {
        let mut sent = 0;
        loop {
            let report = sender.drain_once().await.unwrap();
            if report.claimed == 0 {
                return sent;
            }
            sent += report.sent;
        }
    };
    let (a, b) = tokio::join!(drain_all(first), drain_all(second));
    assert_eq!(a + b, 40, "every message once ({a} + {b})");
    let mut subjects: Vec<String> = delivered.lock().unwrap().iter().map(|m| m.subject.clone()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 40, "no message was delivered twice");
    assert_eq!(outbox(&store, OutboxStatus::Sent).await.len(), 40);
}

#[tokio::test]
async fn a_lease_running_short_releases_the_rest_of_the_batch_untried() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    // Each delivery takes four minutes of the five-minute lease.
    let slow_clock = Arc::clone(&clock);
    let transport = Arc::new(Scripted::new(move |_| {
        slow_clock.advance(Duration::from_secs(240));
        Ok(())
    }));
    let sender = sender(&store, transport.clone(), clock.clone(), SenderConfig::default());
    enqueue(&store, &mails("lease", 3), start()).await;

    let report = sender.drain_once().await.unwrap();
    assert_eq!(report, DrainReport { claimed: 3, sent: 1, released: 2, ..DrainReport::default() });
    let pending = outbox(&store, OutboxStatus::Pending).await;
    assert_eq!(pending.len(), 2);
    let now = clock_now(&clock);
    assert!(pending.iter().all(|r| r.next_attempt_at == now), "due again at once: {pending:?}");

    let report = sender.drain_once().await.unwrap();
    assert_eq!((report.claimed, report.sent), (2, 1), "the next pass goes on where the last stopped");
    assert_eq!(transport.subjects(), vec!["Message 0", "Message 1"]);
}

#[tokio::test]
async fn a_transport_that_hangs_times_out_and_the_message_waits_for_a_retry() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let mut hanging = Scripted::accepting();
    hanging.delay = Duration::from_secs(60);
    let config = SenderConfig { send_timeout: Duration::from_millis(200), ..SenderConfig::default() };
    let sender = sender(&store, Arc::new(hanging), clock, config);
    enqueue(&store, &mails("hang", 1), start()).await;

    let started = std::time::Instant::now();
    let report = sender.drain_once().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(report, DrainReport { claimed: 1, retrying: 1, ..DrainReport::default() });
    let pending = outbox(&store, OutboxStatus::Pending).await;
    assert_eq!(pending[0].last_error.as_deref(), Some("no answer within 200ms"));
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_fails_the_pass_and_sends_nothing() {
    let (store, _dir) = sqlite_store().await;
    enqueue(&store, &mails("closed", 1), start()).await;
    let transport = Arc::new(Scripted::accepting());
    let sender = sender(&store, transport.clone(), Arc::new(ManualClock::at(start())), SenderConfig::default());
    store.close().await;
    let err = sender.drain_once().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(transport.subjects().is_empty());
}

#[tokio::test]
async fn running_in_the_background_delivers_when_woken_and_stops_on_shutdown() {
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let transport = Arc::new(Scripted::accepting());
    // A poll interval far longer than the test: only `wake` can explain a prompt delivery.
    let config = SenderConfig { poll_interval: Duration::from_secs(3600), ..SenderConfig::default() };
    let sender = Arc::new(sender(&store, transport.clone(), clock, config));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let background = tokio::spawn({
        let sender = Arc::clone(&sender);
        async move { sender.run_until(async { stopped.await.unwrap_or_default() }).await }
    });
    // Let the first (empty) pass run and the loop go to sleep.
    tokio::time::sleep(Duration::from_millis(100)).await;

    enqueue(&store, &mails("woken", 2), start()).await;
    sender.wake();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while transport.subjects().len() < 2 {
        assert!(std::time::Instant::now() < deadline, "not delivered after a wake: {:?}", transport.subjects());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outbox(&store, OutboxStatus::Sent).await.len(), 2);

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), background).await.expect("stops on shutdown").unwrap();
}
