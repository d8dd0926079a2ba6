//! Every template: its recipient, subject and link, escaping of hostile
//! names, and a secret token nowhere but inside its link.

use ferry_domain::ids::{BatchId, ClientId, PracticeId};
use ferry_domain::practice::Branding;
use ferry_domain::quota::{AllowanceKind, Bytes, UsageMonth};
use ferry_domain::values::{Colour, EmailAddress, OrganisationName, PersonName, PortalUrl};
use ferry_ports::records::OutgoingMail;
use time::Month;
use time::macros::{date, datetime};
use uuid::Uuid;

use super::layout::escape;
use super::*;

const HOSTILE: &str = "<script>alert('x')</script>";
const TOKEN: &str = "tok_9f8e7d6c5b4a";
const PRACTICE: &str = "Acme & Sons <Books>";

fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse(raw).unwrap()
}

fn person(raw: &str) -> PersonName {
    PersonName::parse(raw).unwrap()
}

fn org(raw: &str) -> OrganisationName {
    OrganisationName::parse(raw).unwrap()
}

fn practice_id() -> PracticeId {
    PracticeId::from_uuid(Uuid::from_u128(7))
}

fn client_id() -> ClientId {
    ClientId::from_uuid(Uuid::from_u128(9))
}

fn letterhead(portal: Option<&str>) -> Letterhead {
    let branding = Branding {
        display_name: Some(org(PRACTICE)),
        colour: Some(Colour::parse("#0b6e4f").unwrap()),
        portal_url: portal.map(|p| PortalUrl::parse(p).unwrap()),
    };
    Letterhead::for_practice(
        practice_id(),
        &org("Acme Legal Name Ltd"),
        &branding,
        &BaseUrl::parse("https://ferry.example.com").unwrap(),
    )
}

/// What a rendered message must be.
struct Expect {
    to: &'static str,
    subject: String,
    link: String,
    client: Option<ClientId>,
    /// Texts that must appear in the text body (and, escaped, in the HTML).
    mentions: Vec<String>,
}

fn check(name: &str, mail: &OutgoingMail, expect: &Expect) {
    assert_eq!(mail.to.as_str(), expect.to, "{name}: recipient");
    assert_eq!(mail.subject, expect.subject, "{name}: subject");
    assert_eq!(mail.practice, Some(practice_id()), "{name}: practice");
    assert_eq!(mail.client, expect.client, "{name}: client");
    assert!(mail.subject.chars().count() <= 140, "{name}: subject is short: {}", mail.subject);
    assert!(!mail.subject.chars().any(char::is_control), "{name}: subject is one line");

    // The link, in the text and as the HTML button's target.
    assert!(mail.text.contains(&expect.link), "{name}: text links to {}\n{}", expect.link, mail.text);
    let href = format!("href=\"{}\"", escape(&expect.link));
    assert!(mail.html.contains(&href), "{name}: HTML links to {}\n{}", expect.link, mail.html);

    // Hostile text never reaches the HTML raw.
    assert!(!mail.html.contains("<script"), "{name}: raw markup in HTML\n{}", mail.html);
    assert!(!mail.html.contains(PRACTICE), "{name}: raw practice name in HTML");
    assert!(mail.html.contains(&escape(PRACTICE)), "{name}: the practice's name heads the HTML");
    assert!(mail.text.contains(PRACTICE), "{name}: the practice's name heads the text");
    for mention in &expect.mentions {
        assert!(mail.text.contains(mention.as_str()), "{name}: text mentions {mention}\n{}", mail.text);
        assert!(mail.html.contains(&escape(mention)), "{name}: HTML mentions {mention}\n{}", mail.html);
    }
    assert!(mail.html.contains("background:#0b6e4f"), "{name}: the brand colour");

    // The token appears only inside the link.
    let text_without_links = mail.text.replace(&expect.link, "");
    let html_without_links = mail.html.replace(&escape(&expect.link), "");
    assert!(!text_without_links.contains(TOKEN), "{name}: token outside the link in text");
    assert!(!html_without_links.contains(TOKEN), "{name}: token outside the link in HTML");
}

fn files() -> Vec<SharedFile> {
    vec![
        SharedFile { name: format!("{HOSTILE}.pdf"), size: Bytes::new(1_500) },
        SharedFile { name: "Q3 ledger.xlsx".to_owned(), size: Bytes::new(2_000_000) },
    ]
}

#[test]
fn every_template_renders_its_recipient_subject_and_link() {
    let base = "https://ferry.example.com";
    let lh = letterhead(None);
    let cases: Vec<(&str, OutgoingMail, Expect)> = vec![
        (
            "invitation of a client",
            Invitation {
                to: email("owner@client.example"),
                inviter: person(HOSTILE),
                kind: InvitationKind::Client { client: Some(client_id()), client_name: org("Widgets <Ltd>") },
                token: LinkToken::new(TOKEN),
                expires_at: datetime!(2026-05-12 14:05 UTC),
            }
            .render(&lh),
            Expect {
                to: "owner@client.example",
                subject: format!("{PRACTICE} invites you to share files"),
                link: format!("{base}/invitations/accept?token={TOKEN}"),
                client: Some(client_id()),
                mentions: vec![HOSTILE.into(), "Widgets <Ltd>".into(), "12 May 2026 at 14:05 UTC".into()],
            },
        ),
        (
            "invitation of an outside party",
            Invitation {
                to: email("cpa@outside.example"),
                inviter: person("Grace Hopper"),
                kind: InvitationKind::OutsideParty,
                token: LinkToken::new(TOKEN),
                expires_at: datetime!(2026-05-12 14:05 UTC),
            }
            .render(&lh),
            Expect {
                to: "cpa@outside.example",
                subject: format!("{PRACTICE} invites you to share files"),
                link: format!("{base}/invitations/accept?token={TOKEN}"),
                client: None,
                mentions: vec!["Grace Hopper".into()],
            },
        ),
        (
            "invitation of a client's colleague",
            Invitation {
                to: email("colleague@client.example"),
                inviter: person("Grace Hopper"),
                kind: InvitationKind::ClientMember { client_name: org("Widgets <Ltd>") },
                token: LinkToken::new(TOKEN),
                expires_at: datetime!(2026-05-12 14:05 UTC),
            }
            .render(&lh),
            Expect {
                to: "colleague@client.example",
                subject: "Grace Hopper invites you to join Widgets <Ltd>".into(),
                link: format!("{base}/invitations/accept?token={TOKEN}"),
                client: None,
                mentions: vec!["Grace Hopper".into(), "Widgets <Ltd>".into(), "12 May 2026 at 14:05 UTC".into()],
            },
        ),
        (
            "set password, new employee",
            SetPassword {
                to: email("new@acme.example"),
                name: person(HOSTILE),
                reason: PasswordReason::NewEmployee,
                token: LinkToken::new(TOKEN),
                expires_at: datetime!(2026-05-13 09:00 UTC),
            }
            .render(&lh),
            Expect {
                to: "new@acme.example",
                subject: format!("Set your password for {PRACTICE}"),
                link: format!("{base}/password/set?token={TOKEN}"),
                client: None,
                mentions: vec![HOSTILE.into(), "13 May 2026 at 09:00 UTC".into()],
            },
        ),
        (
            "set password, reset",
            SetPassword {
                to: email("staff@acme.example"),
                name: person("Ada Lovelace"),
                reason: PasswordReason::Reset,
                token: LinkToken::new(TOKEN),
                expires_at: datetime!(2026-05-13 09:00 UTC),
            }
            .render(&lh),
            Expect {
                to: "staff@acme.example",
                subject: format!("Choose a new password for {PRACTICE}"),
                link: format!("{base}/password/set?token={TOKEN}"),
                client: None,
                mentions: vec!["Hello Ada Lovelace,".into()],
            },
        ),
        (
            "upload notification, many files",
            UploadNotification {
                to: email("staff@acme.example"),
                recipient_name: Some(person("Ada Lovelace")),
                sender: person("Bob <b>Client</b>"),
                client: Some(client_id()),
                client_name: Some(org("Widgets Ltd")),
                batch: BatchId::from_uuid(Uuid::from_u128(0xb)),
                files: files(),
            }
            .render(&lh),
            Expect {
                to: "staff@acme.example",
                subject: "Bob <b>Client</b> sent you 2 files".to_owned(),
                link: format!("{base}/inbox?batch=00000000-0000-0000-0000-00000000000b"),
                client: Some(client_id()),
                mentions: vec![
                    "Bob <b>Client</b>".into(),
                    "Widgets Ltd".into(),
                    format!("{HOSTILE}.pdf (1.5 kB)"),
                    "Q3 ledger.xlsx (2 MB)".into(),
                ],
            },
        ),
        (
            "upload notification, one file over a connection",
            UploadNotification {
                to: email("cpa@outside.example"),
                recipient_name: None,
                sender: person("Ada Lovelace"),
                client: None,
                client_name: None,
                batch: BatchId::from_uuid(Uuid::from_u128(0xc)),
                files: vec![SharedFile { name: "a\r\nBcc: x@evil.example".to_owned(), size: Bytes::new(1) }],
            }
            .render(&lh),
            Expect {
                to: "cpa@outside.example",
                subject: "Ada Lovelace sent you “a Bcc: x@evil.example”".to_owned(),
                link: format!("{base}/inbox?batch=00000000-0000-0000-0000-00000000000c"),
                client: None,
                mentions: vec!["Hello,".into(), "1 file".into()],
            },
        ),
        (
            "download receipt",
            DownloadReceipt {
                to: email("staff@acme.example"),
                sender_name: Some(person("Ada Lovelace")),
                downloaded_by: person("Bob Client"),
                file_name: format!("{HOSTILE}.pdf"),
                client: Some(client_id()),
                client_name: Some(org("Widgets Ltd")),
                downloaded_at: datetime!(2026-06-01 08:30 UTC),
            }
            .render(&lh),
            Expect {
                to: "staff@acme.example",
                subject: format!("Bob Client downloaded “{HOSTILE}.pdf”"),
                link: format!("{base}/sent"),
                client: Some(client_id()),
                mentions: vec![format!("{HOSTILE}.pdf"), "Widgets Ltd".into(), "1 June 2026 at 08:30 UTC".into()],
            },
        ),
        (
            "quota warning, storage",
            QuotaWarning {
                to: email("admin@acme.example"),
                recipient_name: Some(person("Ada Lovelace")),
                allowance: AllowanceKind::Storage,
                used: Bytes::new(207_000_000),
                limit: Bytes::new(250_000_000),
                month: None,
            }
            .render(&lh),
            Expect {
                to: "admin@acme.example",
                subject: format!("{PRACTICE} has used 82% of its storage allowance"),
                link: format!("{base}/practice/usage"),
                client: None,
                mentions: vec!["207 MB of 250 MB".into(), "82%".into()],
            },
        ),
        (
            "quota warning, throughput",
            QuotaWarning {
                to: email("admin@acme.example"),
                recipient_name: None,
                allowance: AllowanceKind::Throughput,
                used: Bytes::new(400_000_000),
                limit: Bytes::new(500_000_000),
                month: Some(UsageMonth { year: 2026, month: Month::May }),
            }
            .render(&lh),
            Expect {
                to: "admin@acme.example",
                subject: format!("{PRACTICE} has used 80% of its monthly transfer allowance"),
                link: format!("{base}/practice/usage"),
                client: None,
                mentions: vec!["400 MB of 500 MB".into(), "for May 2026".into()],
            },
        ),
        (
            "access granted, to the practice",
            AccessGranted {
                to: email("admin@acme.example"),
                recipient_name: None,
                audience: Audience::Practice,
                client: client_id(),
                client_name: org("Widgets <Ltd>"),
                accepted_by: person(HOSTILE),
            }
            .render(&lh),
            Expect {
                to: "admin@acme.example",
                subject: format!("Widgets <Ltd> is now connected to {PRACTICE}"),
                link: format!("{base}/clients"),
                client: Some(client_id()),
                mentions: vec![HOSTILE.into(), "Widgets <Ltd>".into()],
            },
        ),
        (
            "access granted, to the client",
            AccessGranted {
                to: email("owner@client.example"),
                recipient_name: Some(person("Bob Client")),
                audience: Audience::Client,
                client: client_id(),
                client_name: org("Widgets Ltd"),
                accepted_by: person("Ada Lovelace"),
            }
            .render(&lh),
            Expect {
                to: "owner@client.example",
                subject: format!("{PRACTICE} now has access to Widgets Ltd"),
                link: format!("{base}/clients"),
                client: Some(client_id()),
                mentions: vec!["Ada Lovelace".into()],
            },
        ),
        (
            "access revoked, to the practice",
            AccessRevoked {
                to: email("admin@acme.example"),
                recipient_name: None,
                audience: Audience::Practice,
                client: client_id(),
                client_name: org("Widgets <Ltd>"),
                ended_by: person(HOSTILE),
                files_kept_until: date!(2026 - 07 - 01),
            }
            .render(&lh),
            Expect {
                to: "admin@acme.example",
                subject: "Your access to Widgets <Ltd> has ended".to_owned(),
                link: format!("{base}/clients"),
                client: Some(client_id()),
                mentions: vec![HOSTILE.into(), "1 July 2026".into()],
            },
        ),
        (
            "access revoked, to the client",
            AccessRevoked {
                to: email("owner@client.example"),
                recipient_name: None,
                audience: Audience::Client,
                client: client_id(),
                client_name: org("Widgets Ltd"),
                ended_by: person("Ada Lovelace"),
                files_kept_until: date!(2026 - 07 - 01),
            }
            .render(&lh),
            Expect {
                to: "owner@client.example",
                subject: format!("{PRACTICE} no longer has access to Widgets Ltd"),
                link: format!("{base}/clients"),
                client: Some(client_id()),
                mentions: vec!["1 July 2026".into(), "download what you want to keep".into()],
            },
        ),
    ];
    for (name, mail, expect) in &cases {
        check(name, mail, expect);
    }
}

#[test]
fn links_point_into_the_practice_portal_when_it_has_one() {
    let lh = letterhead(Some("https://books.example.com/clients-area"));
    let mail = SetPassword {
        to: email("new@acme.example"),
        name: person("Ada Lovelace"),
        reason: PasswordReason::NewEmployee,
        token: LinkToken::new(TOKEN),
        expires_at: datetime!(2026-05-13 09:00 UTC),
    }
    .render(&lh);
    let link = format!("https://books.example.com/clients-area#/password/set?token={TOKEN}");
    assert!(mail.text.contains(&link), "{}", mail.text);
    assert!(!mail.text.contains("ferry.example.com"), "no link to the installation: {}", mail.text);
    assert!(!mail.html.contains("ferry.example.com"), "no link to the installation");
}

#[test]
fn a_long_hostile_file_name_is_cut_in_the_subject_but_whole_in_the_body() {
    let name = format!("{}{HOSTILE}", "x".repeat(100));
    let mail = DownloadReceipt {
        to: email("staff@acme.example"),
        sender_name: None,
        downloaded_by: person("Bob Client"),
        file_name: name.clone(),
        client: None,
        client_name: None,
        downloaded_at: datetime!(2026-06-01 08:30 UTC),
    }
    .render(&letterhead(None));
    assert_eq!(mail.subject, format!("Bob Client downloaded “{}…”", "x".repeat(59)));
    assert!(mail.text.contains(&name));
    assert!(mail.html.contains(&escape(&name)));
    assert!(!mail.html.contains("<script"));
}

#[test]
fn the_installation_letterhead_belongs_to_no_practice() {
    let base = BaseUrl::parse("http://127.0.0.1:8080").unwrap();
    let lh = Letterhead::installation(org("Ferry"), &base);
    let mail = SetPassword {
        to: email("someone@example.com"),
        name: person("Some One"),
        reason: PasswordReason::Reset,
        token: LinkToken::new(TOKEN),
        expires_at: datetime!(2026-05-13 09:00 UTC),
    }
    .render(&lh);
    assert_eq!(mail.practice, None);
    assert_eq!(mail.subject, "Choose a new password for Ferry");
    assert!(mail.text.contains(&format!("http://127.0.0.1:8080/password/set?token={TOKEN}")));
}

#[test]
fn a_token_never_shows_in_debug_output() {
    let invitation = Invitation {
        to: email("owner@client.example"),
        inviter: person("Ada Lovelace"),
        kind: InvitationKind::OutsideParty,
        token: LinkToken::new(TOKEN),
        expires_at: datetime!(2026-05-12 14:05 UTC),
    };
    let debug = format!("{invitation:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("LinkToken(<redacted>)"), "{debug}");
}

#[test]
fn quota_percentages_round_down_and_survive_a_zero_limit() {
    let warning = |used, limit| QuotaWarning {
        to: email("admin@acme.example"),
        recipient_name: None,
        allowance: AllowanceKind::Storage,
        used: Bytes::new(used),
        limit: Bytes::new(limit),
        month: None,
    };
    assert_eq!(warning(799, 1000).percent(), 79);
    assert_eq!(warning(800, 1000).percent(), 80);
    assert_eq!(warning(5, 0).percent(), 100);
    assert_eq!(warning(u64::MAX, 1).percent(), u64::MAX);
}

#[test]
fn an_address_in_use_is_told_without_a_link() {
    let lh = letterhead(None);
    for invited_as in
        [InvitedAs::Employee, InvitedAs::Client { client_name: org("Widgets <Ltd>") }, InvitedAs::OutsideParty]
    {
        let mail =
            AddressInUse { to: email("taken@example.com"), inviter: person(HOSTILE), invited_as: invited_as.clone() }
                .render(&lh);
        assert_eq!(mail.to.as_str(), "taken@example.com");
        assert_eq!(mail.subject, format!("{PRACTICE} tried to invite you"));
        assert!(mail.text.contains(HOSTILE), "{}", mail.text);
        assert!(!mail.text.contains("token="), "no link: {}", mail.text);
        assert!(!mail.html.contains(HOSTILE), "escaped in HTML");
        if let InvitedAs::Client { .. } = invited_as {
            assert!(mail.text.contains("Widgets <Ltd>"), "{}", mail.text);
        }
    }
}
