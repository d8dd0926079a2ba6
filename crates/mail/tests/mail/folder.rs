//! The outbox folder: one whole RFC 5322 file per message, nothing partial.

use std::path::Path;
use std::sync::Arc;

use ferry_mail::{ConfigError, OutboxFolder};
use ferry_ports::mail::{MailError, MailTransport};
use mail_parser::{MessageParser, MimeHeaders};

use crate::support::{HOSTILE_FILE, every_template, from, plain_mail, unique_address};

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_template_becomes_one_parseable_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = OutboxFolder::new(dir.path().join("outbox"), from()).unwrap();
    let samples = every_template();
    for sample in &samples {
        outbox.send(&sample.mail).await.unwrap();
    }

    let files = names(outbox.dir());
    assert_eq!(files.len(), samples.len(), "one file per message: {files:?}");
    assert!(files.iter().all(|f| f.ends_with(".eml") && !f.starts_with('.')), "{files:?}");
    // UUIDv7 names sort in the order written.
    for (file, sample) in files.iter().zip(&samples) {
        let raw = std::fs::read(outbox.dir().join(file)).unwrap();
        let message = MessageParser::default().parse(&raw).unwrap_or_else(|| panic!("{}: not RFC 5322", sample.name));
        let name = sample.name;
        let to = message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap();
        assert_eq!(to, sample.mail.to.as_str(), "{name}: To");
        let sender = message.from().and_then(|a| a.first()).unwrap();
        assert_eq!(sender.address(), Some("ferry@tests.example.com"), "{name}: From");
        assert_eq!(sender.name(), Some("Ferry Tests"), "{name}: From name");
        assert_eq!(message.subject(), Some(sample.mail.subject.as_str()), "{name}: Subject");
        assert!(message.date().is_some(), "{name}: Date");
        let id = message.message_id().unwrap();
        assert!(id.ends_with("@tests.example.com"), "{name}: Message-ID {id}");
        assert_eq!(
            message.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated"),
            "{name}: marked as automatic"
        );
        let content_type = message.content_type().unwrap();
        assert_eq!(
            (content_type.ctype(), content_type.subtype()),
            ("multipart", Some("alternative")),
            "{name}: text and HTML alternatives"
        );
        // SMTP lines end in CRLF; the bodies are otherwise unchanged.
        let unix = |body: std::borrow::Cow<'_, str>| body.replace("\r\n", "\n");
        assert_eq!(message.body_text(0).map(unix), Some(sample.mail.text.clone()), "{name}: text body");
        assert_eq!(message.body_html(0).map(unix), Some(sample.mail.html.clone()), "{name}: HTML body");
        assert!(message.body_text(0).unwrap().contains(&sample.link), "{name}: link");
        assert_eq!(message.attachment_count(), 0, "{name}: never an attachment");
    }
    let upload = samples.iter().find(|s| s.name == "upload notification").unwrap();
    let html = &upload.mail.html;
    assert!(!html.contains(HOSTILE_FILE) && html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.pdf"));
}

#[tokio::test]
async fn concurrent_sends_each_leave_one_whole_file_and_no_temporary_ones() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Arc::new(OutboxFolder::new(dir.path(), from()).unwrap());
    let to = unique_address("many");
    let sends: Vec<_> = (0..24)
        .map(|n| {
            let (outbox, mail) = (Arc::clone(&outbox), plain_mail(&to, n));
            tokio::spawn(async move { outbox.send(&mail).await })
        })
        .collect();
    for send in sends {
        send.await.unwrap().unwrap();
    }
    let files = names(dir.path());
    assert_eq!(files.len(), 24, "{files:?}");
    let mut subjects: Vec<String> = files
        .iter()
        .map(|f| {
            let raw = std::fs::read(dir.path().join(f)).unwrap();
            MessageParser::default().parse(&raw).unwrap().subject().unwrap().to_owned()
        })
        .collect();
    subjects.sort_by_key(|s| s.trim_start_matches("Message ").parse::<usize>().unwrap());
    let expected: Vec<String> = (0..24).map(|n| format!("Message {n}")).collect();
    assert_eq!(subjects, expected);
}

#[tokio::test]
async fn a_vanished_folder_is_unavailable_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox");
    let outbox = OutboxFolder::new(&path, from()).unwrap();
    std::fs::remove_dir(&path).unwrap();
    let err = outbox.send(&plain_mail(&unique_address("gone"), 1)).await.unwrap_err();
    assert!(matches!(err, MailError::Unavailable(_)), "retry later, the operator can fix it: {err:?}");
    assert!(!path.exists(), "nothing was written");
    assert!(names(dir.path()).is_empty());
}

#[test]
fn a_folder_that_cannot_be_made_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = OutboxFolder::new(file.join("outbox"), from()).unwrap_err();
    assert!(matches!(err, ConfigError::Folder { .. }), "{err:?}");
}
