//! Contract tests of the operator's store methods (`ferry-admin`), on every
//! engine: SQLite always, PostgreSQL when `FERRY_TEST_POSTGRES_URL` is set.

#[allow(dead_code, unreachable_pub)]
#[path = "contract/harness.rs"]
mod harness;

use ferry_domain::ids::{BatchId, ClientId, DocumentId, PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::PracticeStatus;
use ferry_domain::quota::Bytes;
use ferry_ports::Tx;
use ferry_ports::admin::UserFilter;
use ferry_ports::records::{AuditEntry, NewDocument, PageRequest, UserKind};

use crate::harness::{Fixture, at, id};

async fn document(tx: &mut dyn Tx, practice: PracticeId, client: ClientId, uploader: UserId, size: u64) -> DocumentId {
    let doc = DocumentId::from_uuid(id());
    tx.insert_document(&NewDocument {
        id: doc,
        batch: BatchId::from_uuid(id()),
        practice,
        client: Some(client),
        connection: None,
        uploader,
        name: "a.pdf".to_owned(),
        size: Bytes::new(size),
        content_type: "application/pdf".to_owned(),
        sha256: [1; 32],
        blob_key: format!("documents/{}", doc.as_uuid()),
        recipients: Vec::new(),
        created_at: at(10),
    })
    .await
    .expect("insert document");
    doc
}

contract!(users_are_listed_with_filters_in_pages, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let other = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let admin = Fixture::member(&mut *tx, practice, Role::Admin).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    let elsewhere = Fixture::member(&mut *tx, other, Role::Staff).await;
    let (_, owner) = Fixture::client(&mut *tx).await;
    tx.set_user_active(staff, false).await.unwrap();

    let all = tx.list_users(&UserFilter::default(), &PageRequest::first(500)).await.unwrap();
    let ids: Vec<UserId> = all.items.iter().map(|u| u.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_by_key(|u| u.as_uuid());
    assert_eq!(ids, sorted, "{}: in order of id", s.engine);
    for user in [admin, staff, elsewhere, owner] {
        assert!(ids.contains(&user), "{}", s.engine);
    }

    let of_practice = UserFilter { practice: Some(practice), ..UserFilter::default() };
    let found = tx.list_users(&of_practice, &PageRequest::first(500)).await.unwrap();
    let mut got: Vec<UserId> = found.items.iter().map(|u| u.id).collect();
    got.sort_by_key(|u| u.as_uuid());
    let mut want = vec![admin, staff];
    want.sort_by_key(|u| u.as_uuid());
    assert_eq!(got, want, "{}", s.engine);

    let inactive = UserFilter { active: Some(false), ..UserFilter::default() };
    let found = tx.list_users(&inactive, &PageRequest::first(500)).await.unwrap();
    assert_eq!(found.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![staff], "{}", s.engine);
    assert!(!found.items[0].active);

    let clients = UserFilter { kind: Some(UserKind::Client), ..UserFilter::default() };
    let found = tx.list_users(&clients, &PageRequest::first(500)).await.unwrap();
    assert!(found.items.iter().all(|u| u.kind == UserKind::Client), "{}", s.engine);
    assert!(found.items.iter().any(|u| u.id == owner));

    // The address search is literal and ignores case; `%` and `_` are not wildcards.
    let email = tx.user(admin).await.unwrap().unwrap().email;
    let needle = email.as_str().split('@').next().unwrap().to_uppercase();
    let by_email = UserFilter { email_contains: Some(needle), ..UserFilter::default() };
    let found = tx.list_users(&by_email, &PageRequest::first(500)).await.unwrap();
    assert_eq!(found.items.iter().map(|u| u.id).collect::<Vec<_>>(), vec![admin], "{}", s.engine);
    for wildcard in ["%", "_", "\\"] {
        let filter = UserFilter { email_contains: Some(wildcard.to_owned()), ..UserFilter::default() };
        assert!(tx.list_users(&filter, &PageRequest::first(500)).await.unwrap().items.is_empty(), "{wildcard}");
    }

    // Pages follow on from their cursor, without repeats.
    let mut seen = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let found = tx.list_users(&of_practice, &page).await.unwrap();
        assert!(found.items.len() <= 1);
        seen.extend(found.items.iter().map(|u| u.id));
        match found.next {
            Some(cursor) => page = PageRequest::after(1, cursor),
            None => break,
        }
    }
    assert_eq!(seen, want, "{}", s.engine);
    tx.rollback().await.unwrap();
});

contract!(live_documents_storage_accounts_and_recounts, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let empty = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let admin = Fixture::member(&mut *tx, practice, Role::Admin).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let first = document(&mut *tx, practice, client, admin, 100).await;
    let second = document(&mut *tx, practice, client, admin, 250).await;
    let deleted = document(&mut *tx, practice, client, admin, 7).await;
    tx.delete_document(deleted, at(20)).await.unwrap();

    let live = tx.live_documents(None, 500).await.unwrap();
    let ids: Vec<DocumentId> = live.iter().map(|d| d.id).collect();
    assert_eq!(ids, vec![first, second], "{}: deleted documents are not live", s.engine);
    assert_eq!(live[0].size, Bytes::new(100));
    assert_eq!(live[0].practice, practice);
    assert_eq!(live[0].blob_key, format!("documents/{}", first.as_uuid()));
    assert_eq!(live[0].created_at, at(10));
    assert_eq!(tx.live_documents(None, 1).await.unwrap().len(), 1);
    let after = tx.live_documents(Some(first), 500).await.unwrap();
    assert_eq!(after.iter().map(|d| d.id).collect::<Vec<_>>(), vec![second], "{}", s.engine);

    assert!(tx.blob_in_use(&format!("documents/{}", first.as_uuid())).await.unwrap());
    assert!(!tx.blob_in_use(&format!("documents/{}", deleted.as_uuid())).await.unwrap(), "{}", s.engine);
    assert!(!tx.blob_in_use("documents/none").await.unwrap());

    // Documents recorded directly, without a reservation: the recorded storage has drifted.
    let accounts = tx.storage_accounts().await.unwrap();
    let account = *accounts.iter().find(|a| a.practice == practice).unwrap();
    assert_eq!(account.recorded, Bytes::ZERO, "{}", s.engine);
    assert_eq!(account.documents, 2);
    assert_eq!(account.document_bytes, Bytes::new(350));
    assert!(!account.is_consistent());
    let blank = accounts.iter().find(|a| a.practice == empty).unwrap();
    assert!(blank.is_consistent(), "{}: a practice without documents holds nothing", s.engine);

    let before = tx.recount_storage(practice).await.unwrap();
    assert_eq!(before, account);
    let after = tx.storage_accounts().await.unwrap();
    let account = after.iter().find(|a| a.practice == practice).unwrap();
    assert_eq!(account.recorded, Bytes::new(350), "{}", s.engine);
    assert!(account.is_consistent());
    // Recounting again changes nothing; an unknown practice is not found.
    assert_eq!(tx.recount_storage(practice).await.unwrap().recorded, Bytes::new(350));
    let unknown = tx.recount_storage(PracticeId::from_uuid(id())).await;
    assert!(matches!(unknown, Err(ferry_ports::StoreError::NotFound { entity: "practice" })), "{unknown:?}");
    tx.rollback().await.unwrap();
});

contract!(audit_entries_since_a_time_of_a_practice, |s| {
    let mut tx = s.begin().await;
    let practice = PracticeId::from_uuid(id());
    let entry = |seconds: i64, practice: Option<PracticeId>| AuditEntry {
        at: at(seconds),
        actor: None,
        action: "practice.approve".to_owned(),
        practice,
        client: None,
        subject: None,
        detail: format!("at {seconds}"),
    };
    let early = tx.append_audit(&entry(1, Some(practice))).await.unwrap();
    let other = tx.append_audit(&entry(5, None)).await.unwrap();
    let late = tx.append_audit(&entry(10, Some(practice))).await.unwrap();
    let later = tx.append_audit(&entry(20, Some(practice))).await.unwrap();

    let since = tx.audit_entries_since(at(5), None, 0, 100).await.unwrap();
    assert_eq!(since.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![other.seq, late.seq, later.seq], "{}", s.engine);
    let mine = tx.audit_entries_since(at(0), Some(practice), 0, 100).await.unwrap();
    assert_eq!(mine.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![early.seq, late.seq, later.seq]);
    assert_eq!(mine[0], early, "{}: records come back whole", s.engine);
    let paged = tx.audit_entries_since(at(0), Some(practice), early.seq, 1).await.unwrap();
    assert_eq!(paged.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![late.seq]);
    assert!(tx.audit_entries_since(at(21), None, 0, 100).await.unwrap().is_empty());
    tx.rollback().await.unwrap();
});

contract!(installation_counts_and_migrations, |s| {
    let mut tx = s.begin().await;
    let before = tx.installation_counts(at(0)).await.unwrap();
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Pending).await;
    Fixture::practice(&mut *tx, PracticeStatus::Suspended).await;
    let admin = Fixture::member(&mut *tx, practice, Role::Admin).await;
    let staff = Fixture::member(&mut *tx, practice, Role::Staff).await;
    tx.set_user_active(staff, false).await.unwrap();
    let (client, _) = Fixture::client(&mut *tx).await;
    document(&mut *tx, practice, client, admin, 42).await;
    let counts = tx.installation_counts(at(0)).await.unwrap();
    assert_eq!(counts.practices_pending, before.practices_pending + 1, "{}", s.engine);
    assert_eq!(counts.practices_suspended, before.practices_suspended + 1);
    assert_eq!(counts.users_active, before.users_active + 2, "{}: the admin and the client owner", s.engine);
    assert_eq!(counts.users_inactive, before.users_inactive + 1);
    assert_eq!(counts.clients, before.clients + 1);
    assert_eq!(counts.documents, before.documents + 1);
    assert_eq!(counts.document_bytes, Bytes::new(before.document_bytes.get() + 42));

    let applied = tx.applied_migrations().await.unwrap();
    assert_eq!(applied, s.store.known_migrations(), "{}: every known migration is applied", s.engine);
    tx.rollback().await.unwrap();
});
