//! Contract tests: documents, recipients, download receipts and deletion.

use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{BatchId, ClientId, ConnectionId, DocumentId, PracticeId, UserId};
use ferry_domain::people::{ClientRole, Role};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::quota::{AllowanceKind, Bytes};
use ferry_ports::records::{
    ConnectionRecord, DocumentRecord, NewDocument, PageRequest, ReservationId, ReservationRequest, UserKind,
};
use ferry_ports::{StoreError, Tx};

use crate::contract;
use crate::harness::{Fixture, at, id, unique};

/// A practice engaged with a client: the practice, an admin, the client and its owner.
struct Parties {
    practice: PracticeId,
    admin: UserId,
    client: ClientId,
    owner: UserId,
}

async fn parties(tx: &mut dyn Tx) -> Parties {
    let practice = Fixture::practice(tx, PracticeStatus::Approved).await;
    let admin = Fixture::member(tx, practice, Role::Admin).await;
    let (client, owner) = Fixture::client(tx).await;
    Fixture::engagement(tx, practice, client, ConsentState::Active).await;
    Parties { practice, admin, client, owner }
}

/// A document of `size` bytes from `uploader` to `recipients`, for `client`, made at `seconds`.
fn document(
    p: &Parties,
    client: ClientId,
    uploader: UserId,
    mut recipients: Vec<UserId>,
    size: u64,
    seconds: i64,
) -> NewDocument {
    let n = unique();
    // Read back in user id order.
    recipients.sort();
    NewDocument {
        id: DocumentId::from_uuid(id()),
        batch: BatchId::from_uuid(id()),
        practice: p.practice,
        client: Some(client),
        connection: None,
        uploader,
        name: format!("Receipts {n}.pdf"),
        size: Bytes::new(size),
        content_type: "application/pdf".to_owned(),
        sha256: [u8::try_from(n % 256).unwrap(); 32],
        blob_key: format!("blobs/{}", id()),
        recipients,
        created_at: at(seconds),
    }
}

/// The record of a document nobody downloaded yet.
fn undownloaded(doc: &NewDocument) -> DocumentRecord {
    DocumentRecord { document: doc.clone(), first_downloads: doc.recipients.iter().map(|u| (*u, None)).collect() }
}

/// Committed storage of `practice` at `seconds`.
async fn storage_used(tx: &mut dyn Tx, practice: PracticeId, seconds: i64) -> u64 {
    let usage = tx.usage(practice, at(seconds)).await.unwrap();
    usage.iter().find(|u| u.kind == AllowanceKind::Storage).expect("storage usage").usage.used.get()
}

/// Records `bytes` of storage as held by `practice`, as an upload does.
async fn hold_storage(tx: &mut dyn Tx, practice: PracticeId, bytes: u64) {
    let reservation = ReservationId(id());
    let request = ReservationRequest {
        id: reservation,
        practice,
        storage: Bytes::new(bytes),
        throughput: Bytes::new(bytes),
        at: at(0),
        expires_at: at(3600),
    };
    tx.reserve(&request).await.expect("reserve");
    tx.commit_reservation(reservation).await.expect("commit the reservation");
}

contract!(documents_are_recorded_with_their_recipients_and_read_back, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    let colleague = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.add_client_member(p.client, colleague, ClientRole::Member).await.unwrap();
    let doc = document(&p, p.client, p.admin, vec![p.owner, colleague], 1234, 10);
    tx.insert_document(&doc).await.unwrap();
    let silent = document(&p, p.client, p.owner, vec![], 0, 11);
    tx.insert_document(&silent).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.document(doc.id).await.unwrap(), Some(undownloaded(&doc)), "{}", s.engine);
    assert_eq!(tx.document(silent.id).await.unwrap(), Some(undownloaded(&silent)), "{}: no recipients", s.engine);
    assert_eq!(tx.document(DocumentId::from_uuid(id())).await.unwrap(), None, "{}: unknown", s.engine);
});

contract!(documents_sent_over_a_connection_are_read_back, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    let outside = Fixture::user(&mut *tx, UserKind::Outside).await;
    let connection = ConnectionId::from_uuid(id());
    let record = ConnectionRecord {
        id: connection,
        practice: p.practice,
        outside_party: outside,
        state: ConsentState::Active,
        changed_at: at(0),
    };
    tx.insert_connection(&record).await.unwrap();
    let doc = NewDocument {
        client: None,
        connection: Some(connection),
        ..document(&p, p.client, outside, vec![p.admin], 9, 10)
    };
    tx.insert_document(&doc).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.document(doc.id).await.unwrap(), Some(undownloaded(&doc)), "{}", s.engine);
});

contract!(documents_with_unknown_references_are_refused_and_not_kept, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    tx.commit().await.unwrap();

    let base = || document(&p, p.client, p.admin, vec![p.owner], 100, 10);
    let cases = [
        ("recipient", NewDocument { recipients: vec![p.owner, UserId::from_uuid(id())], ..base() }),
        ("practice", NewDocument { practice: PracticeId::from_uuid(id()), ..base() }),
        ("client", NewDocument { client: Some(ClientId::from_uuid(id())), ..base() }),
        ("connection", NewDocument { client: None, connection: Some(ConnectionId::from_uuid(id())), ..base() }),
        ("uploader", NewDocument { uploader: UserId::from_uuid(id()), ..base() }),
    ];
    for (what, doc) in cases {
        let mut tx = s.begin().await;
        let err = tx.insert_document(&doc).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: unknown {what}: {err:?}", s.engine);
        drop(tx);
        let mut tx = s.store_read().await;
        assert_eq!(tx.document(doc.id).await.unwrap(), None, "{}: unknown {what}: nothing kept", s.engine);
        let listed = tx.list_documents_of_client(p.client, &PageRequest::first(10)).await.unwrap();
        assert!(listed.items.is_empty(), "{}: unknown {what}: nothing listed", s.engine);
    }
});

contract!(a_blob_key_is_recorded_once, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    let first = document(&p, p.client, p.admin, vec![p.owner], 100, 10);
    tx.insert_document(&first).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let again =
        NewDocument { blob_key: first.blob_key.clone(), ..document(&p, p.client, p.admin, vec![p.owner], 5, 11) };
    let err = tx.insert_document(&again).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.store_read().await;
    assert_eq!(tx.document(again.id).await.unwrap(), None, "{}", s.engine);
    assert_eq!(tx.document(first.id).await.unwrap(), Some(undownloaded(&first)), "{}", s.engine);
});

contract!(a_clients_live_documents_page_newest_first, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    let (other_client, other_owner) = Fixture::client(&mut *tx).await;
    Fixture::engagement(&mut *tx, p.practice, other_client, ConsentState::Active).await;
    let mut expected = Vec::new();
    for i in 0..8 {
        let recipients = if i % 3 == 0 { vec![] } else { vec![p.owner, p.admin] };
        let doc = document(&p, p.client, p.admin, recipients, 10 + i, i64::try_from(i).unwrap());
        tx.insert_document(&doc).await.unwrap();
        expected.push(doc);
    }
    let elsewhere = document(&p, other_client, p.admin, vec![other_owner], 5, 3);
    tx.insert_document(&elsewhere).await.unwrap();
    let deleted = expected.remove(4);
    tx.delete_document(deleted.id, at(20)).await.unwrap();
    let downloaded = expected[1].id;
    assert!(tx.record_download(downloaded, p.owner, at(30)).await.unwrap());
    tx.commit().await.unwrap();

    expected.sort_by_key(|d| std::cmp::Reverse(d.id));
    let mut tx = s.store_read().await;
    let mut seen = Vec::new();
    let mut page = PageRequest::first(3);
    let mut pages = 0;
    loop {
        let got = tx.list_documents_of_client(p.client, &page).await.unwrap();
        pages += 1;
        assert!(got.items.len() <= 3, "{}", s.engine);
        seen.extend(got.items);
        match got.next {
            Some(cursor) => page = PageRequest::after(3, cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3, "{}: 7 documents in pages of 3", s.engine);
    let want: Vec<DocumentRecord> = expected
        .iter()
        .map(|d| {
            let mut record = undownloaded(d);
            for (user, first) in &mut record.first_downloads {
                if d.id == downloaded && *user == p.owner {
                    *first = Some(at(30));
                }
            }
            record
        })
        .collect();
    assert_eq!(seen, want, "{}: every live document of the client once, newest first, with recipients", s.engine);
    let all = tx.list_documents_of_client(p.client, &PageRequest::first(7)).await.unwrap();
    assert_eq!((all.items.len(), all.next), (7, None), "{}: an exact last page has no next", s.engine);
});

contract!(downloads_record_each_recipients_first_time_only, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    let colleague = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.add_client_member(p.client, colleague, ClientRole::Member).await.unwrap();
    let doc = document(&p, p.client, p.admin, vec![p.owner, colleague], 100, 10);
    tx.insert_document(&doc).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(tx.record_download(doc.id, p.owner, at(20)).await.unwrap(), "{}: the first download", s.engine);
    assert!(!tx.record_download(doc.id, p.owner, at(21)).await.unwrap(), "{}: not the first any more", s.engine);
    // The uploader (an admin in scope) is no recipient: no receipt is kept.
    assert!(!tx.record_download(doc.id, p.admin, at(22)).await.unwrap(), "{}: not a recipient", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(!tx.record_download(doc.id, p.owner, at(23)).await.unwrap(), "{}: after commit too", s.engine);
    let got = tx.document(doc.id).await.unwrap().unwrap();
    let mut want = vec![(p.owner, Some(at(20))), (colleague, None)];
    want.sort();
    assert_eq!(got.first_downloads, want, "{}: the first time stays, non-recipients add nothing", s.engine);
    assert_eq!(got.document.recipients, doc.recipients, "{}", s.engine);
    let err = tx.record_download(DocumentId::from_uuid(id()), p.owner, at(24)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "document" }), "{}: {err:?}", s.engine);
});

contract!(deleting_a_document_hides_it_and_frees_its_storage, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    let big = document(&p, p.client, p.admin, vec![p.owner], 7000, 10);
    let small = document(&p, p.client, p.admin, vec![p.owner], 3000, 11);
    for doc in [&big, &small] {
        hold_storage(&mut *tx, p.practice, doc.size.get()).await;
        tx.insert_document(doc).await.unwrap();
    }
    assert_eq!(storage_used(&mut *tx, p.practice, 12).await, 10_000, "{}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    tx.delete_document(big.id, at(20)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(storage_used(&mut *tx, p.practice, 21).await, 3000, "{}: freed at once", s.engine);
    assert_eq!(tx.document(big.id).await.unwrap(), None, "{}: a deleted document is gone", s.engine);
    let listed = tx.list_documents_of_client(p.client, &PageRequest::first(10)).await.unwrap();
    assert_eq!(listed.items, vec![undownloaded(&small)], "{}", s.engine);
    let err = tx.record_download(big.id, p.owner, at(22)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { entity: "document" }),
        "{}: download of a deleted one: {err:?}",
        s.engine
    );
    let err = tx.delete_document(big.id, at(23)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "document" }), "{}: deleted twice: {err:?}", s.engine);
    tx.rollback().await.unwrap();

    let mut tx = s.begin().await;
    let err = tx.delete_document(DocumentId::from_uuid(id()), at(24)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "document" }), "{}: unknown: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.store_read().await;
    assert_eq!(storage_used(&mut *tx, p.practice, 25).await, 3000, "{}: refused deletions free nothing", s.engine);
});

contract!(freeing_storage_never_goes_below_zero, |s| {
    let mut tx = s.begin().await;
    let p = parties(&mut *tx).await;
    // Usage recorded short of the file (say, before a repair): 500 held for a 2000-byte file.
    hold_storage(&mut *tx, p.practice, 500).await;
    let doc = document(&p, p.client, p.admin, vec![p.owner], 2000, 10);
    tx.insert_document(&doc).await.unwrap();
    // A practice with no usage recorded at all.
    let q = parties(&mut *tx).await;
    let unrecorded = document(&q, q.client, q.admin, vec![q.owner], 2000, 10);
    tx.insert_document(&unrecorded).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    tx.delete_document(doc.id, at(20)).await.unwrap();
    tx.delete_document(unrecorded.id, at(20)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    assert_eq!(storage_used(&mut *tx, p.practice, 21).await, 0, "{}", s.engine);
    assert_eq!(storage_used(&mut *tx, q.practice, 21).await, 0, "{}", s.engine);
});
