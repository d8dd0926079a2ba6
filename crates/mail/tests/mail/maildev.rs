//! Delivery through a real SMTP server (MailDev), read back through its REST
//! API: every template arrives as written, and an outage followed by
//! recovery delivers every queued message exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_domain::values::EmailAddress;
use ferry_mail::{DrainReport, OutboxSender, SenderConfig, SmtpConfig, SmtpTransport};
use ferry_ports::mail::MailTransport;
use ferry_ports::records::OutboxStatus;
use serde_json::Value;

use crate::support::{
    ManualClock, TOKEN, enqueue, every_template, from, outbox, plain_mail, real_smtp, sqlite_store, start,
    unique_address,
};

/// One message as MailDev shows it.
#[derive(Debug, Clone)]
struct Received {
    to: Vec<String>,
    from: Vec<String>,
    subject: String,
    text: String,
    html: String,
}

impl Received {
    fn parse(email: &Value) -> Self {
        let addresses = |field: &str| -> Vec<String> {
            email[field]
                .as_array()
                .map(|list| list.iter().filter_map(|a| a["address"].as_str()).map(str::to_lowercase).collect())
                .unwrap_or_default()
        };
        let text = |field: &str| email[field].as_str().unwrap_or_default().replace("\r\n", "\n");
        Self {
            to: addresses("to"),
            from: addresses("from"),
            subject: text("subject"),
            text: text("text"),
            html: text("html"),
        }
    }
}

/// MailDev's REST API.
struct MailDev {
    api: String,
    http: reqwest::Client,
}

impl MailDev {
    fn new(api: String) -> Self {
        Self { api, http: reqwest::Client::new() }
    }

    /// Every message MailDev holds, by recipient.
    async fn by_recipient(&self) -> HashMap<String, Vec<Received>> {
        let url = format!("{}/email", self.api.trim_end_matches('/'));
        let response = self.http.get(&url).send().await.expect("MailDev's API answers");
        assert!(response.status().is_success(), "GET {url}: {}", response.status());
        let emails: Vec<Value> = response.json().await.expect("MailDev's JSON");
        let mut by_recipient: HashMap<String, Vec<Received>> = HashMap::new();
        for email in &emails {
            let received = Received::parse(email);
            for to in &received.to {
                by_recipient.entry(to.clone()).or_default().push(received.clone());
            }
        }
        by_recipient
    }

    /// Waits until each of `recipients` has at least one message (MailDev
    /// stores a message just after it answers the SMTP client), then
    /// returns what they got.
    async fn wait_for(&self, recipients: &[&EmailAddress]) -> HashMap<String, Vec<Received>> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mut all = self.by_recipient().await;
            let missing: Vec<&str> = recipients.iter().map(|r| r.as_str()).filter(|r| !all.contains_key(*r)).collect();
            if missing.is_empty() {
                return recipients.iter().map(|r| (r.as_str().to_owned(), all.remove(r.as_str()).unwrap())).collect();
            }
            assert!(Instant::now() < deadline, "never arrived at MailDev: {missing:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn every_template_arrives_through_a_real_smtp_server() {
    let Some((url, api)) = real_smtp("every_template_arrives_through_a_real_smtp_server") else { return };
    let transport = SmtpTransport::new(SmtpConfig::parse(&url).unwrap(), from()).unwrap();
    let samples = every_template();
    for sample in &samples {
        transport.send(&sample.mail).await.unwrap_or_else(|e| panic!("{}: {e}", sample.name));
    }

    let recipients: Vec<&EmailAddress> = samples.iter().map(|s| &s.mail.to).collect();
    let received = MailDev::new(api).wait_for(&recipients).await;
    for sample in &samples {
        let name = sample.name;
        let got = &received[sample.mail.to.as_str()];
        assert_eq!(got.len(), 1, "{name}: exactly one message");
        let got = &got[0];
        assert_eq!(got.to, vec![sample.mail.to.as_str().to_owned()], "{name}: recipients");
        assert_eq!(got.from, vec!["ferry@tests.example.com".to_owned()], "{name}: sender");
        assert_eq!(got.subject, sample.mail.subject, "{name}: subject");
        assert!(got.text.contains(&sample.link), "{name}: text links to {}\n{}", sample.link, got.text);
        assert!(got.html.contains(&format!("href=\"{}\"", sample.link)), "{name}: HTML links to {}", sample.link);
        assert!(got.html.contains("Acme Books") && got.html.contains("#0b6e4f"), "{name}: branded");
        assert!(!got.html.contains("<script>"), "{name}: no raw markup from names");
        if !sample.link.contains(TOKEN) {
            assert!(!got.text.contains(TOKEN) && !got.html.contains(TOKEN), "{name}: no stray token");
        }
    }
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    let Some((url, api)) = real_smtp("an_smtp_outage_delays_mail_and_loses_none") else { return };
    let (store, _dir) = sqlite_store().await;
    let clock = Arc::new(ManualClock::at(start()));
    let config = SenderConfig { batch_size: 3, ..SenderConfig::default() };
    let recipients: Vec<EmailAddress> = (0..7).map(|i| unique_address(&format!("outage{i}"))).collect();
    let mails: Vec<_> = recipients.iter().enumerate().map(|(i, to)| plain_mail(to, i)).collect();
    let ids = enqueue(&store, &mails, start()).await;

    // The outage: a port where nothing listens.
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead =
        SmtpTransport::new(SmtpConfig::parse(&format!("smtp://127.0.0.1:{dead_port}")).unwrap(), from()).unwrap();
    let down = OutboxSender::new(Arc::new(store.clone()), Arc::new(dead), clock.clone(), config.clone()).unwrap();
    let mut retrying = 0;
    loop {
        let report = down.drain_once().await.unwrap();
        if report.claimed == 0 {
            break;
        }
        assert_eq!(report.sent + report.given_up, 0, "nothing sent or given up during the outage: {report:?}");
        retrying += report.retrying;
    }
    assert_eq!(retrying, 7, "every message failed once and waits for a retry");
    let pending = outbox(&store, OutboxStatus::Pending).await;
    assert_eq!(pending.iter().map(|r| r.id).collect::<Vec<_>>(), ids, "all kept");
    assert!(pending.iter().all(|r| r.attempts == 1 && r.last_error.is_some()), "{pending:?}");

    // Recovery: past the backoff, two senders (two servers) drain the outbox
    // through the real SMTP server at once.
    clock.advance(Duration::from_secs(120));
    let up = |store: &ferry_store_sql::SqlStore| {
        let live = SmtpTransport::new(SmtpConfig::parse(&url).unwrap(), from()).unwrap();
        OutboxSender::new(Arc::new(store.clone()), Arc::new(live), clock.clone(), config.clone()).unwrap()
    };
    let drain_all = |sender: OutboxSender| async move {
        let mut total = DrainReport::default();
        loop {
            let report = sender.drain_once().await.unwrap();
            if report.claimed == 0 {
                return total;
            }
            total.sent += report.sent;
            total.retrying += report.retrying;
            total.given_up += report.given_up;
        }
    };
    let (a, b) = tokio::join!(drain_all(up(&store)), drain_all(up(&store)));
    assert_eq!((a.retrying + b.retrying, a.given_up + b.given_up), (0, 0), "{a:?} {b:?}");
    assert_eq!(a.sent + b.sent, 7, "{a:?} {b:?}");
    assert_eq!(outbox(&store, OutboxStatus::Sent).await.len(), 7);
    assert!(outbox(&store, OutboxStatus::Pending).await.is_empty());

    let refs: Vec<&EmailAddress> = recipients.iter().collect();
    let maildev = MailDev::new(api);
    maildev.wait_for(&refs).await;
    // Give a duplicate, if any were sent, time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = maildev.by_recipient().await;
    for (i, to) in recipients.iter().enumerate() {
        let got = &received[to.as_str()];
        assert_eq!(got.len(), 1, "{to}: delivered exactly once");
        assert_eq!(got[0].subject, format!("Message {i}"));
    }
}
