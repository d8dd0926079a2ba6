//! Helpers shared by the tests: a clock the test moves, a store on a
//! temporary SQLite file, every template rendered, and the real SMTP server's
//! settings.

use std::sync::Mutex;
use std::time::Duration;

use ferry_domain::ids::{BatchId, ClientId, PracticeId};
use ferry_domain::practice::Branding;
use ferry_domain::quota::{AllowanceKind, Bytes, UsageMonth};
use ferry_domain::values::{Colour, EmailAddress, OrganisationName, PersonName};
use ferry_mail::FromAddress;
use ferry_mail::templates::{
    AccessGranted, AccessRevoked, Audience, BaseUrl, DownloadReceipt, Invitation, InvitationKind, Letterhead,
    LinkToken, PasswordReason, QuotaWarning, SetPassword, SharedFile, Template, UploadNotification,
};
use ferry_ports::clock::Clock;
use ferry_ports::records::{OutboxRecord, OutboxStatus, OutgoingMail, PageRequest};
use ferry_ports::{Store, Tx};
use ferry_store_sql::SqlStore;
use time::macros::{date, datetime};
use time::{Month, OffsetDateTime};
use uuid::Uuid;

/// The variable naming the real SMTP server.
pub(crate) const SMTP_URL_VAR: &str = "FERRY_TEST_SMTP_URL";
/// The variable naming MailDev's REST API beside it.
pub(crate) const SMTP_API_VAR: &str = "FERRY_TEST_SMTP_API";

/// The real SMTP server's URL and API, or `None` with the reason printed.
pub(crate) fn real_smtp(test: &str) -> Option<(String, String)> {
    let get = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (get(SMTP_URL_VAR), get(SMTP_API_VAR)) {
        (Some(url), Some(api)) => Some((url, api)),
        _ => {
            eprintln!("skipping {test}: {SMTP_URL_VAR} and {SMTP_API_VAR} are not both set (.ci/run sets them)");
            None
        }
    }
}

/// A clock that moves only when told.
#[derive(Debug)]
pub(crate) struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub(crate) fn at(start: OffsetDateTime) -> Self {
        Self(Mutex::new(start))
    }

    pub(crate) fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// The start of every test's clock (whole seconds, as the store keeps microseconds).
pub(crate) fn start() -> OffsetDateTime {
    datetime!(2026-05-12 09:00 UTC)
}

/// A store on a fresh SQLite file, migrated; the folder goes with the guard.
pub(crate) async fn sqlite_store() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("ferry.db").display());
    let store = SqlStore::connect(&url).await.expect("SQLite store");
    store.migrate().await.expect("migrations");
    (store, dir)
}

/// A unique recipient address for this run, such as `receipt-0190…@example.com`.
pub(crate) fn unique_address(label: &str) -> EmailAddress {
    EmailAddress::parse(&format!("{label}-{}@example.com", Uuid::now_v7().simple())).unwrap()
}

/// A plain message to `to`.
pub(crate) fn plain_mail(to: &EmailAddress, n: usize) -> OutgoingMail {
    OutgoingMail {
        to: to.clone(),
        subject: format!("Message {n}"),
        text: format!("Body {n}"),
        html: format!("<p>Body {n}</p>"),
        practice: None,
        client: None,
    }
}

/// Queues `mails` at `at`; returns their ids in order.
pub(crate) async fn enqueue(store: &SqlStore, mails: &[OutgoingMail], at: OffsetDateTime) -> Vec<Uuid> {
    let mut tx = store.begin().await.unwrap();
    let mut ids = Vec::new();
    for mail in mails {
        let id = Uuid::now_v7();
        tx.enqueue_mail(id, mail, at).await.unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();
    ids
}

/// Every outbox message of `status`.
pub(crate) async fn outbox(store: &SqlStore, status: OutboxStatus) -> Vec<OutboxRecord> {
    let mut tx: Box<dyn Tx> = store.read().await.unwrap();
    let mut all = Vec::new();
    let mut page = PageRequest::first(100);
    loop {
        let got = tx.list_outbox(status, &page).await.unwrap();
        all.extend(got.items);
        match got.next {
            Some(cursor) => page = PageRequest::after(100, cursor),
            None => return all,
        }
    }
}

/// The sender address of every test message.
pub(crate) fn from() -> FromAddress {
    FromAddress::parse("Ferry Tests <ferry@tests.example.com>").unwrap()
}

/// The token in every test link.
pub(crate) const TOKEN: &str = "tok_4b1d2c3e";

/// A hostile file name.
pub(crate) const HOSTILE_FILE: &str = "<script>alert(1)</script>.pdf";

/// One rendered template with what must arrive.
#[derive(Debug)]
pub(crate) struct Sample {
    pub(crate) name: &'static str,
    pub(crate) mail: OutgoingMail,
    pub(crate) link: String,
}

/// Every template, each to its own new address, under a branded letterhead.
pub(crate) fn every_template() -> Vec<Sample> {
    let base = "https://ferry.example.com";
    let branding = Branding {
        display_name: Some(OrganisationName::parse("Acme Books").unwrap()),
        colour: Some(Colour::parse("#0b6e4f").unwrap()),
        portal_url: None,
    };
    let lh = Letterhead::for_practice(
        PracticeId::from_uuid(Uuid::now_v7()),
        &OrganisationName::parse("Acme Books Ltd").unwrap(),
        &branding,
        &BaseUrl::parse(base).unwrap(),
    );
    let person = |n: &str| PersonName::parse(n).unwrap();
    let org = |n: &str| OrganisationName::parse(n).unwrap();
    let client = ClientId::from_uuid(Uuid::now_v7());
    let batch = BatchId::from_uuid(Uuid::now_v7());
    let expires_at = datetime!(2026-05-19 09:00 UTC);
    let samples: Vec<(&'static str, Box<dyn Template>, String)> = vec![
        (
            "invitation",
            Box::new(Invitation {
                to: unique_address("invite"),
                inviter: person("Ada Lovelace"),
                kind: InvitationKind::Client { client: Some(client), client_name: org("Widgets Ltd") },
                token: LinkToken::new(TOKEN),
                expires_at,
            }),
            format!("{base}/invitations/accept?token={TOKEN}"),
        ),
        (
            "outside-party invitation",
            Box::new(Invitation {
                to: unique_address("connect"),
                inviter: person("Ada Lovelace"),
                kind: InvitationKind::OutsideParty,
                token: LinkToken::new(TOKEN),
                expires_at,
            }),
            format!("{base}/invitations/accept?token={TOKEN}"),
        ),
        (
            "set password",
            Box::new(SetPassword {
                to: unique_address("password"),
                name: person("Grace Hopper"),
                reason: PasswordReason::NewEmployee,
                token: LinkToken::new(TOKEN),
                expires_at,
            }),
            format!("{base}/password/set?token={TOKEN}"),
        ),
        (
            "password reset",
            Box::new(SetPassword {
                to: unique_address("reset"),
                name: person("Grace Hopper"),
                reason: PasswordReason::Reset,
                token: LinkToken::new(TOKEN),
                expires_at,
            }),
            format!("{base}/password/set?token={TOKEN}"),
        ),
        (
            "upload notification",
            Box::new(UploadNotification {
                to: unique_address("upload"),
                recipient_name: Some(person("Ada Lovelace")),
                sender: person("Bob Client"),
                client: Some(client),
                client_name: Some(org("Widgets Ltd")),
                batch,
                files: vec![
                    SharedFile { name: HOSTILE_FILE.to_owned(), size: Bytes::new(1_000) },
                    SharedFile { name: "Q3 ledger – final.xlsx".to_owned(), size: Bytes::new(2_000_000) },
                ],
            }),
            format!("{base}/inbox?batch={batch}"),
        ),
        (
            "download receipt",
            Box::new(DownloadReceipt {
                to: unique_address("receipt"),
                sender_name: Some(person("Ada Lovelace")),
                downloaded_by: person("Bob Client"),
                file_name: HOSTILE_FILE.to_owned(),
                client: Some(client),
                client_name: Some(org("Widgets Ltd")),
                downloaded_at: datetime!(2026-05-12 10:00 UTC),
            }),
            format!("{base}/sent"),
        ),
        (
            "quota warning",
            Box::new(QuotaWarning {
                to: unique_address("quota"),
                recipient_name: None,
                allowance: AllowanceKind::Throughput,
                used: Bytes::new(450_000_000),
                limit: Bytes::new(500_000_000),
                month: Some(UsageMonth { year: 2026, month: Month::May }),
            }),
            format!("{base}/practice/usage"),
        ),
        (
            "access granted",
            Box::new(AccessGranted {
                to: unique_address("granted"),
                recipient_name: None,
                audience: Audience::Practice,
                client,
                client_name: org("Widgets Ltd"),
                accepted_by: person("Bob Client"),
            }),
            format!("{base}/clients"),
        ),
        (
            "access revoked",
            Box::new(AccessRevoked {
                to: unique_address("revoked"),
                recipient_name: None,
                audience: Audience::Client,
                client,
                client_name: org("Widgets Ltd"),
                ended_by: person("Bob Client"),
                files_kept_until: date!(2026 - 06 - 11),
            }),
            format!("{base}/clients"),
        ),
    ];
    samples.into_iter().map(|(name, template, link)| Sample { name, mail: template.render(&lh), link }).collect()
}
