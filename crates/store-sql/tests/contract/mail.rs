//! Contract tests: the mail outbox, claiming and the client email log.

use ferry_domain::ids::{ClientId, PracticeId};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::values::EmailAddress;
use ferry_ports::records::{EmailLogRecord, OutboxRecord, OutboxStatus, OutgoingMail, PageRequest};
use ferry_ports::{Store, StoreError, Tx};
use uuid::Uuid;

use crate::contract;
use crate::harness::{Fixture, at, id, unique};

fn mail(practice: Option<PracticeId>, client: Option<ClientId>) -> OutgoingMail {
    let n = unique();
    OutgoingMail {
        to: EmailAddress::parse(&format!("reader{n}@example.com")).unwrap(),
        subject: format!("New files {n}"),
        text: format!("You have new files ({n})."),
        html: format!("<p>You have new files ({n}).</p>"),
        practice,
        client,
    }
}

/// The record of a message just queued at `seconds`.
fn queued(id: Uuid, mail: &OutgoingMail, seconds: i64) -> OutboxRecord {
    OutboxRecord {
        id,
        mail: mail.clone(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: at(seconds),
        last_error: None,
        created_at: at(seconds),
    }
}

/// Queues a message without practice or client at `seconds`; returns its record.
async fn enqueue(tx: &mut dyn Tx, seconds: i64) -> OutboxRecord {
    let (id, mail) = (id(), mail(None, None));
    tx.enqueue_mail(id, &mail, at(seconds)).await.unwrap();
    queued(id, &mail, seconds)
}

/// Every message of `status`, read page by page (pages of `limit`).
async fn outbox(tx: &mut dyn Tx, status: OutboxStatus, limit: u32) -> (Vec<OutboxRecord>, usize) {
    let (mut seen, mut pages) = (Vec::new(), 0);
    let mut page = PageRequest::first(limit);
    loop {
        let got = tx.list_outbox(status, &page).await.unwrap();
        pages += 1;
        assert!(got.items.len() <= usize::try_from(limit).unwrap());
        seen.extend(got.items);
        match got.next {
            Some(cursor) => page = PageRequest::after(limit, cursor),
            None => return (seen, pages),
        }
    }
}

fn ids(records: &[OutboxRecord]) -> Vec<Uuid> {
    records.iter().map(|r| r.id).collect()
}

contract!(queued_mail_is_pending_and_read_back, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let (id, mail) = (id(), mail(Some(practice), Some(client)));
    tx.enqueue_mail(id, &mail, at(10)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (pending, _) = outbox(&mut *tx, OutboxStatus::Pending, 10).await;
    assert_eq!(pending, vec![queued(id, &mail, 10)], "{}", s.engine);
    assert!(outbox(&mut *tx, OutboxStatus::Sent, 10).await.0.is_empty(), "{}", s.engine);
});

contract!(the_outbox_pages_oldest_first_by_status, |s| {
    let mut tx = s.begin().await;
    let mut pending = Vec::new();
    for i in 0..7 {
        pending.push(enqueue(&mut *tx, i).await);
    }
    let sent = pending.remove(2);
    tx.mark_mail_sent(sent.id, at(20)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (seen, pages) = outbox(&mut *tx, OutboxStatus::Pending, 2).await;
    assert_eq!(seen, pending, "{}: every pending message once, oldest first", s.engine);
    assert_eq!(pages, 3, "{}: 6 messages in pages of 2", s.engine);
    let (seen, _) = outbox(&mut *tx, OutboxStatus::Sent, 2).await;
    assert_eq!(ids(&seen), vec![sent.id], "{}", s.engine);
    assert_eq!(seen[0].status, OutboxStatus::Sent, "{}", s.engine);
});

contract!(claiming_leases_the_oldest_due_messages, |s| {
    let mut tx = s.begin().await;
    let mut due = Vec::new();
    for i in 0..4 {
        due.push(enqueue(&mut *tx, i).await);
    }
    let later = enqueue(&mut *tx, 100).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let first = tx.claim_mail(at(50), at(60), 2).await.unwrap();
    let leased = |r: &OutboxRecord, attempts: u32, until: i64| OutboxRecord {
        attempts,
        next_attempt_at: at(until),
        ..r.clone()
    };
    assert_eq!(first, vec![leased(&due[0], 1, 60), leased(&due[1], 1, 60)], "{}: the two oldest, leased", s.engine);
    let second = tx.claim_mail(at(50), at(70), 10).await.unwrap();
    assert_eq!(
        second,
        vec![leased(&due[2], 1, 70), leased(&due[3], 1, 70)],
        "{}: the rest, not the leased or the later",
        s.engine
    );
    assert!(tx.claim_mail(at(55), at(80), 10).await.unwrap().is_empty(), "{}: all leased", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let third = tx.claim_mail(at(60), at(90), 10).await.unwrap();
    assert_eq!(
        third,
        vec![leased(&due[0], 2, 90), leased(&due[1], 2, 90)],
        "{}: an ended lease falls due again",
        s.engine
    );
    assert!(tx.claim_mail(at(60), at(90), 0).await.unwrap().is_empty(), "{}: limit 0", s.engine);
    let fourth = tx.claim_mail(at(100), at(110), 10).await.unwrap();
    let everything = vec![due[0].id, due[1].id, due[2].id, due[3].id, later.id];
    assert_eq!(ids(&fourth), everything, "{}: every lease ended, oldest first", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (pending, _) = outbox(&mut *tx, OutboxStatus::Pending, 10).await;
    let attempts: Vec<u32> = pending.iter().map(|r| r.attempts).collect();
    assert_eq!(attempts, vec![3, 3, 2, 2, 1], "{}: claims count attempts", s.engine);
});

contract!(concurrent_claimers_never_take_the_same_message, |s| {
    let mut tx = s.begin().await;
    let mut all = Vec::new();
    for i in 0..6 {
        all.push(enqueue(&mut *tx, i).await.id);
    }
    tx.commit().await.unwrap();

    // The first claimer holds its claim open while the second one claims.
    let mut first = s.begin().await;
    let mine = ids(&first.claim_mail(at(50), at(100), 3).await.unwrap());
    let store = s.store.clone();
    let other = tokio::spawn(async move {
        let mut tx = store.begin().await.expect("begin");
        let theirs = ids(&tx.claim_mail(at(50), at(100), 10).await.expect("claim"));
        tx.commit().await.expect("commit");
        theirs
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    let theirs = other.await.unwrap();
    assert_eq!(mine, all[..3].to_vec(), "{}: the first takes the oldest", s.engine);
    assert_eq!(theirs, all[3..].to_vec(), "{}: the second skips them", s.engine);
});

contract!(sent_mail_is_not_claimed_again, |s| {
    let mut tx = s.begin().await;
    let message = enqueue(&mut *tx, 0).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(ids(&tx.claim_mail(at(10), at(20), 5).await.unwrap()), vec![message.id]);
    tx.mark_mail_sent(message.id, at(11)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(tx.claim_mail(at(30), at(40), 5).await.unwrap().is_empty(), "{}: sent is done", s.engine);
    let (sent, _) = outbox(&mut *tx, OutboxStatus::Sent, 5).await;
    assert_eq!(
        sent,
        vec![OutboxRecord { status: OutboxStatus::Sent, attempts: 1, next_attempt_at: at(20), ..message.clone() }],
        "{}",
        s.engine
    );
    let err = tx.mark_mail_sent(id(), at(12)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{}: {err:?}", s.engine);
});

contract!(failed_mail_is_retried_when_asked_and_given_up_otherwise, |s| {
    let mut tx = s.begin().await;
    let retried = enqueue(&mut *tx, 0).await;
    let given_up = enqueue(&mut *tx, 1).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.claim_mail(at(10), at(20), 5).await.unwrap().len(), 2);
    tx.mark_mail_failed(retried.id, "421 try again later", Some(at(300))).await.unwrap();
    tx.mark_mail_failed(given_up.id, "550 no such mailbox", None).await.unwrap();
    let err = tx.mark_mail_failed(id(), "x", None).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{}: {err:?}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let (pending, _) = outbox(&mut *tx, OutboxStatus::Pending, 5).await;
    let want = OutboxRecord {
        attempts: 1,
        next_attempt_at: at(300),
        last_error: Some("421 try again later".to_owned()),
        ..retried.clone()
    };
    assert_eq!(pending, vec![want], "{}: pending until the retry time", s.engine);
    let (failed, _) = outbox(&mut *tx, OutboxStatus::Failed, 5).await;
    let want = OutboxRecord {
        status: OutboxStatus::Failed,
        attempts: 1,
        next_attempt_at: at(20),
        last_error: Some("550 no such mailbox".to_owned()),
        ..given_up.clone()
    };
    assert_eq!(failed, vec![want], "{}: given up", s.engine);
    assert!(tx.claim_mail(at(299), at(400), 5).await.unwrap().is_empty(), "{}: not before the retry time", s.engine);
    assert_eq!(ids(&tx.claim_mail(at(300), at(400), 5).await.unwrap()), vec![retried.id], "{}", s.engine);
});

contract!(a_clients_email_log_pages_newest_first, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let (other, _) = Fixture::client(&mut *tx).await;
    let mut expected = Vec::new();
    for i in 0..5 {
        let (outbox_id, message) = (id(), mail(Some(practice), Some(client)));
        tx.enqueue_mail(outbox_id, &message, at(i)).await.unwrap();
        let entry = EmailLogRecord {
            outbox_id,
            practice: message.practice,
            client,
            to: message.to,
            subject: message.subject,
            created_at: at(i),
        };
        expected.push(entry);
        tx.enqueue_mail(id(), &mail(Some(practice), Some(other)), at(i)).await.unwrap();
        tx.enqueue_mail(id(), &mail(Some(practice), None), at(i)).await.unwrap();
    }
    // Sending does not remove a message from the log.
    tx.mark_mail_sent(expected[0].outbox_id, at(10)).await.unwrap();
    tx.commit().await.unwrap();
    expected.reverse();

    let mut tx = s.store_read().await;
    let (mut seen, mut pages) = (Vec::new(), 0);
    let mut page = PageRequest::first(2);
    loop {
        let got = tx.email_log(client, &page).await.unwrap();
        pages += 1;
        assert!(got.items.len() <= 2, "{}", s.engine);
        seen.extend(got.items);
        match got.next {
            Some(cursor) => page = PageRequest::after(2, cursor),
            None => break,
        }
    }
    assert_eq!(seen, expected, "{}: the client's messages once each, newest first", s.engine);
    assert_eq!(pages, 3, "{}: 5 entries in pages of 2", s.engine);
    let nobody = tx.email_log(ClientId::from_uuid(id()), &PageRequest::first(10)).await.unwrap();
    assert!(nobody.items.is_empty() && nobody.next.is_none(), "{}", s.engine);
});

contract!(a_late_report_never_changes_a_settled_message, |s| {
    let mut tx = s.begin().await;
    let sent = enqueue(&mut *tx, 0).await;
    let given_up = enqueue(&mut *tx, 1).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.claim_mail(at(10), at(20), 5).await.unwrap().len(), 2);
    tx.mark_mail_sent(sent.id, at(11)).await.unwrap();
    tx.mark_mail_failed(given_up.id, "550 no such mailbox", None).await.unwrap();
    // A sender whose lease ran out reports afterwards: refused, nothing changes.
    let err = tx.mark_mail_failed(sent.id, "timeout", Some(at(100))).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "outgoing mail" }), "{}: {err:?}", s.engine);
    let err = tx.mark_mail_sent(given_up.id, at(12)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "outgoing mail" }), "{}: {err:?}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(ids(&outbox(&mut *tx, OutboxStatus::Sent, 5).await.0), vec![sent.id], "{}", s.engine);
    assert_eq!(ids(&outbox(&mut *tx, OutboxStatus::Failed, 5).await.0), vec![given_up.id], "{}", s.engine);
});

/// Queues `n` messages, claims them and gives every one up; returns their records as queued.
async fn given_up(tx: &mut dyn Tx, n: usize) -> Vec<OutboxRecord> {
    let mut messages = Vec::new();
    for i in 0..n {
        messages.push(enqueue(tx, i64::try_from(i).unwrap()).await);
    }
    let claimed = tx.claim_mail(at(10), at(20), u32::try_from(n).unwrap()).await.unwrap();
    assert_eq!(ids(&claimed), ids(&messages));
    for m in &messages {
        tx.mark_mail_failed(m.id, "550 no such mailbox", None).await.unwrap();
    }
    messages
}

/// A given-up message as put back in the queue at `seconds`.
fn retried(message: &OutboxRecord, seconds: i64) -> OutboxRecord {
    OutboxRecord {
        attempts: 0,
        next_attempt_at: at(seconds),
        last_error: Some("550 no such mailbox".to_owned()),
        ..message.clone()
    }
}

contract!(retrying_one_failed_message_puts_only_it_back_in_the_queue, |s| {
    let mut tx = s.begin().await;
    let failed = given_up(&mut *tx, 3).await;
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.retry_failed_mail(Some(failed[1].id), at(500)).await.unwrap(), 1, "{}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let (pending, _) = outbox(&mut *tx, OutboxStatus::Pending, 10).await;
    assert_eq!(pending, vec![retried(&failed[1], 500)], "{}: pending, no attempts, due at 500", s.engine);
    let (still_failed, _) = outbox(&mut *tx, OutboxStatus::Failed, 10).await;
    assert_eq!(ids(&still_failed), vec![failed[0].id, failed[2].id], "{}: the others stay failed", s.engine);
    assert!(tx.claim_mail(at(499), at(600), 10).await.unwrap().is_empty(), "{}: not due before 500", s.engine);
    let claimed = tx.claim_mail(at(500), at(600), 10).await.unwrap();
    assert_eq!(
        claimed,
        vec![OutboxRecord { attempts: 1, next_attempt_at: at(600), ..retried(&failed[1], 500) }],
        "{}: claimed as a new message",
        s.engine
    );
    tx.mark_mail_sent(failed[1].id, at(510)).await.unwrap();
    tx.commit().await.unwrap();
});

contract!(retrying_all_failed_mail_puts_every_failed_message_back, |s| {
    let mut tx = s.begin().await;
    let failed = given_up(&mut *tx, 3).await;
    let waiting = enqueue(&mut *tx, 30).await;
    let sent = enqueue(&mut *tx, 31).await;
    assert_eq!(ids(&tx.claim_mail(at(40), at(45), 10).await.unwrap()), vec![waiting.id, sent.id]);
    tx.mark_mail_sent(sent.id, at(41)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.retry_failed_mail(None, at(500)).await.unwrap(), 3, "{}: the three failed", s.engine);
    assert_eq!(tx.retry_failed_mail(None, at(501)).await.unwrap(), 0, "{}: none left, not an error", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (pending, _) = outbox(&mut *tx, OutboxStatus::Pending, 10).await;
    let mut want: Vec<OutboxRecord> = failed.iter().map(|m| retried(m, 500)).collect();
    want.push(OutboxRecord { attempts: 1, next_attempt_at: at(45), ..waiting.clone() });
    assert_eq!(pending, want, "{}: the pending one is untouched", s.engine);
    assert!(outbox(&mut *tx, OutboxStatus::Failed, 10).await.0.is_empty(), "{}", s.engine);
    assert_eq!(ids(&outbox(&mut *tx, OutboxStatus::Sent, 10).await.0), vec![sent.id], "{}: sent stays sent", s.engine);
});

contract!(retrying_a_message_that_is_not_failed_is_not_found, |s| {
    let mut tx = s.begin().await;
    let pending = enqueue(&mut *tx, 0).await;
    let sent = enqueue(&mut *tx, 1).await;
    assert_eq!(tx.claim_mail(at(1), at(5), 10).await.unwrap().len(), 2);
    tx.mark_mail_sent(sent.id, at(2)).await.unwrap();
    tx.commit().await.unwrap();

    for (what, id) in [("pending", pending.id), ("sent", sent.id), ("unknown", id())] {
        let mut tx = s.begin().await;
        let err = tx.retry_failed_mail(Some(id), at(100)).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: "failed mail" }), "{}: {what}: {err:?}", s.engine);
        drop(tx);
    }

    let mut tx = s.store_read().await;
    let (still_pending, _) = outbox(&mut *tx, OutboxStatus::Pending, 10).await;
    assert_eq!(
        still_pending,
        vec![OutboxRecord { attempts: 1, next_attempt_at: at(5), ..pending.clone() }],
        "{}: untouched",
        s.engine
    );
    assert_eq!(ids(&outbox(&mut *tx, OutboxStatus::Sent, 10).await.0), vec![sent.id], "{}", s.engine);
});
