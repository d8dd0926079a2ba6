//! File exchange through the use cases (issue 6): streamed transfers,
//! resumable uploads, downloads, deletion, inboxes and the quotas that bound
//! them, over a real store (SQLite always, PostgreSQL when
//! `FERRY_TEST_POSTGRES_URL` is set) and an encrypted in-memory file store.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use ferry_app::files::{
    Checksum, Destination, Download, MAX_RECIPIENTS, MULTIPART_FRAMING_ALLOWANCE, RangeRequest, SendRequest,
    TransferView,
};
use ferry_app::{App, AppError, FilingInput, NewAllowance, Principal, TaskInput, UuidV7};
use ferry_blob::{BlobLocation, BlobOptions, EncryptedBlobStore, Keyring};
use ferry_domain::access::Rule;
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, ConnectionId, EngagementId, FilingId, PracticeId, UserId};
use ferry_domain::people::{ClientRole, Role};
use ferry_domain::practice::Plan;
use ferry_domain::quota::{AllowanceKind, Bytes};
use ferry_domain::values::OrganisationName;
use ferry_domain::work::FilingTransition;
use ferry_ports::Store;
use ferry_ports::blob::{BlobKey, BlobStore};
use ferry_ports::clock::Clock;
use ferry_ports::records::{
    AllowanceUsage, ClientRecord, ConnectionRecord, DocumentRecord, EngagementRecord, Mailbox, OutboxStatus,
    OutgoingMail, PageRequest, UserKind,
};
use ferry_store_sql::SqlStore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

/// The system clock moved by a number of seconds the test chooses.
#[derive(Debug, Default)]
struct ShiftedClock(AtomicI64);

impl ShiftedClock {
    fn advance(&self, by: time::Duration) {
        self.0.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::seconds(self.0.load(Ordering::SeqCst))
    }
}

/// Practice P (admin, staff assigned to client C, staff who cannot open C, a
/// bookkeeper with a task on an active filing of C), client C (owner and a
/// colleague) engaged with P, client C2 (engaged with P too), practice Q with
/// its admin, and an outside party connected to P.
struct World {
    engine: Engine,
    app: App,
    store: Arc<SqlStore>,
    blobs: Arc<EncryptedBlobStore>,
    clock: Arc<ShiftedClock>,
    cleanup: Cleanup,
    practice: PracticeId,
    admin: Person,
    staff: Person,
    outsider_staff: Person,
    bookkeeper: Person,
    filing: FilingId,
    client: ClientId,
    owner: Person,
    colleague: Person,
    other_owner: Person,
    other_admin: Person,
    outside: Person,
    connection: ConnectionId,
}

/// Runs the body once per engine, each on a fresh world.
macro_rules! on_each_engine {
    ($(#[$meta:meta])* $name:ident, |$w:ident| $body:block) => {
        $(#[$meta])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            for engine in engines() {
                let world = World::new(engine).await;
                {
                    let $w = &world;
                    $body
                }
                world.finish().await;
            }
        }
    };
}

mod common;

use common::{Cleanup, Engine, Person, approved_practice, engines, insert_member, insert_user, open_store};

fn new_id() -> Uuid {
    Uuid::now_v7()
}

fn page() -> PageRequest {
    PageRequest::first(100)
}

/// A client with its owner, engaged with `practice`.
async fn engaged_client(store: &SqlStore, practice: PracticeId, name: &str, owner: &str) -> (ClientId, Person) {
    let client = ClientId::from_uuid(new_id());
    let owner = insert_user(store, owner, UserKind::Client).await;
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&ClientRecord {
        id: client,
        name: OrganisationName::parse(name).unwrap(),
        created_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.add_client_member(client, owner.id, ClientRole::Owner).await.unwrap();
    tx.insert_engagement(&EngagementRecord {
        id: EngagementId::from_uuid(new_id()),
        practice,
        client,
        state: ConsentState::Active,
        changed_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (client, owner)
}

impl World {
    async fn new(engine: Engine) -> Self {
        let (store, cleanup) = open_store(engine).await;
        let store = Arc::new(store);
        let keyring = Keyring::parse(&Keyring::generate_entry("test").unwrap()).unwrap();
        // Small chunks and parts, so that files cross their boundaries.
        let options = BlobOptions::default().chunk_size(1000).part_size(16 * 1024);
        let blobs = Arc::new(EncryptedBlobStore::open(&BlobLocation::memory(), keyring, options).unwrap());
        let clock = Arc::new(ShiftedClock::default());
        let app = App::new(store.clone(), blobs.clone(), clock.clone(), Arc::new(UuidV7), common::test_config());

        let (practice, admin) = approved_practice(&app, &store, "Ledger & Co", "Ada Admin").await;
        let staff = insert_member(&store, practice, "Sam Staff", Role::Staff).await;
        let outsider_staff = insert_member(&store, practice, "Olly Unassigned", Role::Staff).await;
        let bookkeeper = insert_member(&store, practice, "Bea Bookkeeper", Role::Bookkeeper).await;
        let (client, owner) = engaged_client(&store, practice, "Acme Widgets", "Cora Owner").await;
        let colleague = insert_user(&store, "Colin Colleague", UserKind::Client).await;
        let (_other_client, other_owner) = engaged_client(&store, practice, "Other Corp", "Otto Owner").await;
        let mut tx = store.begin().await.unwrap();
        tx.add_client_member(client, colleague.id, ClientRole::Member).await.unwrap();
        tx.assign_client(staff.id, client, OffsetDateTime::now_utc()).await.unwrap();
        tx.commit().await.unwrap();

        let filing_input = FilingInput {
            kind: "gst_hst".into(),
            period_start: Some("2026-01-01".into()),
            period_end: Some("2026-03-31".into()),
            due: Some("2026-04-30".into()),
        };
        let filing = app.create_filing(&admin.who, client, &filing_input).await.unwrap().id;
        let task =
            TaskInput { title: "Reconcile the bank".into(), assignee: Some(bookkeeper.id), ..TaskInput::default() };
        app.create_task(&admin.who, filing, &task).await.unwrap();

        let (_q, other_admin) = approved_practice(&app, &store, "Quill Partners", "Quinn Admin").await;

        let outside = insert_user(&store, "Otis Outside", UserKind::Outside).await;
        let connection = ConnectionId::from_uuid(new_id());
        let mut tx = store.begin().await.unwrap();
        tx.insert_connection(&ConnectionRecord {
            id: connection,
            practice,
            outside_party: outside.id,
            state: ConsentState::Active,
            changed_at: OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();

        Self {
            engine,
            app,
            store,
            blobs,
            clock,
            cleanup,
            practice,
            admin,
            staff,
            outsider_staff,
            bookkeeper,
            filing,
            client,
            owner,
            colleague,
            other_owner,
            other_admin,
            outside,
            connection,
        }
    }

    async fn finish(self) {
        let Self { app, store, cleanup, .. } = self;
        drop(app);
        cleanup.finish(&store).await;
    }

    fn to_client(&self, to: &[&Person]) -> SendRequest {
        SendRequest { destination: Destination::Client(self.client), to: to.iter().map(|p| p.id).collect() }
    }

    /// Sets the practice's storage allowance, leaving the rest of the plan as it is.
    async fn set_storage(&self, bytes: u64) {
        let plan = Plan { storage: Bytes::new(bytes), ..Plan::default() };
        self.app.set_plan(&Principal::Operator, self.practice, plan).await.unwrap();
    }

    /// The practice's storage allowance and its usage now.
    async fn storage(&self) -> AllowanceUsage {
        self.allowance(AllowanceKind::Storage).await
    }

    async fn allowance(&self, kind: AllowanceKind) -> AllowanceUsage {
        let mut tx = self.store.read().await.unwrap();
        let usage = tx.usage(self.practice, self.clock.now()).await.unwrap();
        tx.rollback().await.unwrap();
        usage.into_iter().find(|a| a.kind == kind).expect("both allowances are reported")
    }

    /// Every message queued so far, oldest first.
    async fn outbox(&self) -> Vec<OutgoingMail> {
        let mut tx = self.store.read().await.unwrap();
        let mut mails = Vec::new();
        let mut request = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let page = tx.list_outbox(OutboxStatus::Pending, &request).await.unwrap();
            mails.extend(page.items.into_iter().map(|m| m.mail));
            match page.next {
                Some(next) => request = PageRequest::after(PageRequest::MAX_LIMIT, next),
                None => break,
            }
        }
        tx.rollback().await.unwrap();
        mails
    }

    /// Messages to `to` whose subject contains `about`.
    async fn mails_to(&self, to: &Person, about: &str) -> Vec<OutgoingMail> {
        self.outbox().await.into_iter().filter(|m| m.to.as_str() == to.email && m.subject.contains(about)).collect()
    }

    /// Audit entries with `action`, as (subject, detail).
    async fn audited(&self, action: &str) -> Vec<(Option<Uuid>, String)> {
        let mut tx = self.store.read().await.unwrap();
        let entries = tx.audit_entries(0, 10_000).await.unwrap();
        tx.rollback().await.unwrap();
        entries.into_iter().filter(|e| e.entry.action == action).map(|e| (e.entry.subject, e.entry.detail)).collect()
    }

    /// The keys of committed blobs under `prefix`.
    async fn blob_keys(&self, prefix: &str) -> Vec<String> {
        let prefix = BlobKey::parse(prefix).unwrap();
        let mut listing = self.blobs.list(Some(&prefix)).await.unwrap();
        let mut keys = Vec::new();
        while let Some(batch) = listing.next_batch().await.unwrap() {
            keys.extend(batch.into_iter().map(|e| e.key.as_str().to_owned()));
        }
        keys.sort();
        keys
    }

    async fn inbox(&self, who: &Person) -> Vec<DocumentRecord> {
        self.app.my_documents(&who.who, Mailbox::Inbox, &page()).await.unwrap().items
    }

    async fn outbox_documents(&self, who: &Person) -> Vec<DocumentRecord> {
        self.app.my_documents(&who.who, Mailbox::Outbox, &page()).await.unwrap().items
    }
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Deterministic bytes that are not text, so no two files look alike.
fn noise(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Streams `files` in one transfer, each in pieces of at most `piece` bytes,
/// announcing `expected` bytes (the sum of the files when `None` is not asked for).
async fn send_with(
    app: &App,
    who: &Principal,
    request: SendRequest,
    expected: Option<u64>,
    files: &[(&str, &[u8])],
    piece: usize,
) -> Result<TransferView, AppError> {
    let mut outgoing = app.start_transfer(who, request, expected).await?;
    for (name, bytes) in files {
        if let Err(e) = outgoing.begin_file(name).await {
            outgoing.abort().await;
            return Err(e);
        }
        for chunk in bytes.chunks(piece.max(1)) {
            if let Err(e) = outgoing.write(chunk).await {
                outgoing.abort().await;
                return Err(e);
            }
        }
    }
    outgoing.finish().await
}

/// Streams `files` announcing their exact total.
async fn send(
    app: &App,
    who: &Principal,
    request: SendRequest,
    files: &[(&str, &[u8])],
) -> Result<TransferView, AppError> {
    let total = files.iter().map(|(_, b)| b.len() as u64).sum();
    send_with(app, who, request, Some(total), files, 4096).await
}

async fn read_all(mut download: Download) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Some(chunk) = download.body.next_chunk().await.unwrap() {
        bytes.extend_from_slice(&chunk);
    }
    bytes
}

fn is_not_found<T: std::fmt::Debug>(result: &Result<T, AppError>) -> bool {
    matches!(result, Err(AppError::NotFound { .. }))
}

#[track_caller]
fn assert_not_found<T: std::fmt::Debug>(result: Result<T, AppError>) {
    assert!(is_not_found(&result), "expected not found, got {result:?}");
}

#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, AppError>) -> Rule {
    match result {
        Err(AppError::Forbidden { rule }) => rule,
        other => panic!("expected forbidden, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, AppError>, field: &str) {
    match result {
        Err(AppError::Invalid { field: Some(f), .. }) if f == field => {}
        other => panic!("expected invalid {field}, got {other:?}"),
    }
}

#[track_caller]
fn assert_conflict<T: std::fmt::Debug>(result: Result<T, AppError>) {
    assert!(matches!(result, Err(AppError::Conflict { .. })), "expected a conflict, got {result:?}");
}

#[track_caller]
fn assert_quota<T: std::fmt::Debug>(
    result: Result<T, AppError>,
    kind: AllowanceKind,
) -> ferry_domain::quota::QuotaExceeded {
    match result {
        Err(AppError::Quota(exceeded)) if exceeded.kind == kind => exceeded,
        other => panic!("expected the {kind} allowance to refuse, got {other:?}"),
    }
}

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn csv() -> Vec<u8> {
    let mut text = String::from("date,description,amount\n");
    for day in 1..=400 {
        text.push_str(&format!(
            "2026-01-{:02},Payment {day} to Müller & Söhne,{}.{:02}\n",
            day % 28 + 1,
            day * 7,
            day % 100
        ));
    }
    text.into_bytes()
}

// Sending, listing, downloading.

on_each_engine!(staff_send_two_files_to_every_client_user_who_are_told_once_and_download_them, |w| {
    let csv = csv();
    let files: [(&str, &[u8]); 2] = [("C:\\Users\\sam\\Q3 accounts.pdf", PDF), ("bank.csv", &csv)];
    let view = send(&w.app, &w.staff.who, w.to_client(&[]), &files).await.unwrap();

    // The transfer went to every user of the client.
    let mut expected_recipients = vec![w.owner.id, w.colleague.id];
    expected_recipients.sort_unstable();
    let mut recipients = view.transfer.recipients.clone();
    recipients.sort_unstable();
    assert_eq!(recipients, expected_recipients, "{:?}", w.engine);
    assert_eq!(view.transfer.client, Some(w.client));
    assert!(view.transfer.completed_at.is_some());
    assert_eq!(view.documents.len(), 2);

    // Both recipients list both files with their sizes, digests and sniffed types.
    for person in [&w.owner, &w.colleague] {
        let inbox = w.inbox(person).await;
        assert_eq!(inbox.len(), 2, "{person:?}");
        let by_name = |name: &str| {
            inbox.iter().find(|d| d.document.name == name).unwrap_or_else(|| panic!("{name} in the inbox"))
        };
        let pdf = by_name("Q3 accounts.pdf");
        assert_eq!(pdf.document.size, Bytes::new(PDF.len() as u64));
        assert_eq!(pdf.document.sha256, sha(PDF));
        assert_eq!(pdf.document.content_type, "application/pdf");
        assert_eq!(pdf.document.uploader, w.staff.id);
        assert_eq!(pdf.document.batch, view.transfer.id);
        let table = by_name("bank.csv");
        assert_eq!(table.document.size, Bytes::new(csv.len() as u64));
        assert_eq!(table.document.sha256, sha(&csv));
        assert_eq!(table.document.content_type, "text/csv");
    }
    assert_eq!(w.outbox_documents(&w.staff).await.len(), 2);
    // The storage is counted.
    assert_eq!(w.storage().await.usage.used, Bytes::new((PDF.len() + csv.len()) as u64));
    assert_eq!(w.storage().await.usage.reserved, Bytes::ZERO);

    // Exactly one notification per recipient, naming every file.
    for person in [&w.owner, &w.colleague] {
        let told = w.mails_to(person, "sent you").await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].subject.contains("Sam Staff") && told[0].subject.contains("2 files"), "{}", told[0].subject);
        assert!(told[0].text.contains("Q3 accounts.pdf") && told[0].text.contains("bank.csv"), "{}", told[0].text);
        assert_eq!(told[0].client, Some(w.client));
    }
    assert!(w.mails_to(&w.staff, "sent you").await.is_empty());
    // Audited.
    let audited = w.audited("transfer.send").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].0, Some(view.transfer.id.as_uuid()));
    assert!(audited[0].1.contains("2 files"), "{}", audited[0].1);

    // Downloads return the same bytes; a range returns the slice.
    let pdf = view.documents.iter().find(|d| d.document.name == "Q3 accounts.pdf").unwrap().document.id;
    let table = view.documents.iter().find(|d| d.document.name == "bank.csv").unwrap().document.id;
    let whole = w.app.download(&w.owner.who, table, None).await.unwrap();
    assert_eq!(whole.range, None);
    assert_eq!(read_all(whole).await, csv);
    let receipts = w.mails_to(&w.staff, "downloaded").await;
    assert_eq!(receipts.len(), 1, "the first download sends one receipt: {receipts:?}");
    assert!(receipts[0].subject.contains("Cora Owner") && receipts[0].subject.contains("bank.csv"));

    let slice = w.app.download(&w.owner.who, table, Some(RangeRequest::Closed(100, 1099))).await.unwrap();
    assert_eq!(slice.range.map(|r| (r.start, r.end)), Some((100, 1100)));
    assert_eq!(read_all(slice).await, csv[100..1100]);
    let tail = w.app.download(&w.owner.who, table, Some(RangeRequest::Last(10))).await.unwrap();
    assert_eq!(read_all(tail).await, csv[csv.len() - 10..]);
    let beyond = w.app.download(&w.owner.who, table, Some(RangeRequest::From(csv.len() as u64))).await;
    assert!(matches!(beyond, Err(AppError::RangeNotSatisfiable { size }) if size == csv.len() as u64), "{beyond:?}");
    // A second download by the same recipient sends no receipt.
    assert_eq!(read_all(w.app.download(&w.owner.who, table, None).await.unwrap()).await, csv);
    assert_eq!(w.mails_to(&w.staff, "downloaded").await.len(), 1);
    // The other recipient's first download does; the sender's own does not.
    assert_eq!(read_all(w.app.download(&w.colleague.who, pdf, None).await.unwrap()).await, PDF);
    assert_eq!(read_all(w.app.download(&w.staff.who, pdf, None).await.unwrap()).await, PDF);
    assert_eq!(w.mails_to(&w.staff, "downloaded").await.len(), 2);
    // The first downloads are on record.
    let seen = w.app.document(&w.staff.who, table).await.unwrap();
    let downloaded: Vec<UserId> =
        seen.record.first_downloads.iter().filter(|(_, at)| at.is_some()).map(|(u, _)| *u).collect();
    assert_eq!(downloaded, vec![w.owner.id]);
    // Throughput counts uploads and downloads.
    let moved = (PDF.len() + csv.len()) + csv.len() * 2 + 1000 + 10 + PDF.len() * 2;
    assert_eq!(w.allowance(AllowanceKind::Throughput).await.usage.used, Bytes::new(moved as u64));
    assert_eq!(w.audited("document.download").await.len(), 6);
});

on_each_engine!(a_transfer_names_at_most_a_hundred_recipients_whichever_way_it_is_sent, |w| {
    let many: Vec<UserId> = (0..=MAX_RECIPIENTS).map(|_| UserId::from_uuid(new_id())).collect();
    let request = || SendRequest { destination: Destination::Client(w.client), to: many.clone() };
    let too_many = |result: Result<(), AppError>| match result {
        Err(AppError::Invalid { field: Some(field), message }) => {
            assert_eq!(field, "to");
            assert!(message.contains("at most 100"), "{message}");
        }
        other => panic!("expected too many recipients, got {other:?}"),
    };
    too_many(w.app.open_transfer(&w.staff.who, &request()).await.map(drop));
    too_many(w.app.start_transfer(&w.staff.who, request(), Some(10)).await.map(drop));
    // The same person named twice counts once.
    let twice = SendRequest { to: vec![w.owner.id; MAX_RECIPIENTS + 1], ..w.to_client(&[]) };
    w.app.open_transfer(&w.staff.who, &twice).await.expect("one recipient, named 101 times");
    assert_eq!(w.storage().await.usage.reserved, Bytes::ZERO, "the refusals reserved nothing");
});

on_each_engine!(a_download_counts_against_throughput_only_what_it_read, |w| {
    let file = noise(1_000_000, 25);
    let view = send(&w.app, &w.staff.who, w.to_client(&[]), &[("ledger.bin", &file)]).await.unwrap();
    let id = view.documents[0].document.id;
    let throughput = async || w.allowance(AllowanceKind::Throughput).await.usage;
    let before = throughput().await;
    assert_eq!(before.reserved, Bytes::ZERO);

    // While it runs, the whole file is held; the client reads one piece and goes away.
    let mut download = w.app.download(&w.owner.who, id, None).await.unwrap();
    assert_eq!(throughput().await.reserved, Bytes::new(1_000_000));
    let first = download.body.next_chunk().await.unwrap().expect("a first piece");
    assert!(first.len() < file.len());
    // Even a downloader deactivated meanwhile is charged what they took.
    w.app.set_user_active(&Principal::Operator, w.owner.id, false).await.unwrap();
    drop(download);
    let mut now = throughput().await;
    for _ in 0..200 {
        if now.reserved == Bytes::ZERO {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        now = throughput().await;
    }
    assert_eq!(now.reserved, Bytes::ZERO, "the unread rest was given back");
    assert_eq!(now.used.get(), before.used.get() + first.len() as u64, "only what was read counts");

    // A range read to its end counts the range, as soon as its last byte is read.
    w.app.set_user_active(&Principal::Operator, w.owner.id, true).await.unwrap();
    let range = w.app.download(&w.owner.who, id, Some(RangeRequest::Closed(1000, 200_999))).await.unwrap();
    assert_eq!(read_all(range).await, file[1000..201_000]);
    let after = throughput().await;
    assert_eq!((after.used.get(), after.reserved), (now.used.get() + 200_000, Bytes::ZERO));
});

on_each_engine!(client_users_send_to_those_who_can_open_the_client_and_scope_decides_who_sees_files, |w| {
    // A client user sends to an admin.
    let view = send(&w.app, &w.owner.who, w.to_client(&[&w.admin]), &[("receipts.pdf", PDF)]).await.unwrap();
    let document = view.documents[0].document.id;
    assert_eq!(view.transfer.recipients, vec![w.admin.id]);
    assert_eq!(w.inbox(&w.admin).await.iter().map(|d| d.document.id).collect::<Vec<_>>(), vec![document]);
    assert_eq!(w.mails_to(&w.admin, "sent you").await.len(), 1);
    // ... and to assigned staff.
    send(&w.app, &w.owner.who, w.to_client(&[&w.staff]), &[("more.pdf", PDF)]).await.unwrap();
    assert_eq!(w.inbox(&w.staff).await.len(), 1);

    // Not to a bookkeeper, nor to staff who cannot open the client, nor to no one.
    let before = w.storage().await;
    assert_invalid(send(&w.app, &w.owner.who, w.to_client(&[&w.bookkeeper]), &[("x.pdf", PDF)]).await, "to");
    assert_invalid(send(&w.app, &w.owner.who, w.to_client(&[&w.outsider_staff]), &[("x.pdf", PDF)]).await, "to");
    assert_invalid(send(&w.app, &w.owner.who, w.to_client(&[&w.admin, &w.outsider_staff]), &[("x", PDF)]).await, "to");
    assert_invalid(send(&w.app, &w.owner.who, w.to_client(&[]), &[("x.pdf", PDF)]).await, "to");
    assert_invalid(send(&w.app, &w.owner.who, w.to_client(&[&w.other_admin]), &[("x.pdf", PDF)]).await, "to");
    assert!(w.inbox(&w.outsider_staff).await.is_empty());
    assert_eq!(w.storage().await, before, "refused transfers change nothing");

    // A practice user cannot pick a recipient who is not a user of the client.
    assert_invalid(send(&w.app, &w.staff.who, w.to_client(&[&w.other_owner]), &[("x.pdf", PDF)]).await, "to");
    // Bookkeepers may not send at all, even in scope.
    assert_forbidden(send(&w.app, &w.bookkeeper.who, w.to_client(&[]), &[("x.pdf", PDF)]).await);
    // Staff who cannot open the client do not find it.
    assert_not_found(send(&w.app, &w.outsider_staff.who, w.to_client(&[]), &[("x.pdf", PDF)]).await);
    // Another client's owner cannot send about this client.
    assert_not_found(send(&w.app, &w.other_owner.who, w.to_client(&[&w.admin]), &[("x.pdf", PDF)]).await);

    // The bookkeeper in scope downloads; staff who cannot open the client, another
    // practice's admin and another client's owner do not find the document.
    assert_eq!(read_all(w.app.download(&w.bookkeeper.who, document, None).await.unwrap()).await, PDF);
    assert_eq!(w.app.document(&w.bookkeeper.who, document).await.unwrap().record.document.id, document);
    for stranger in [&w.outsider_staff, &w.other_admin, &w.other_owner, &w.outside] {
        assert_not_found(w.app.download(&stranger.who, document, None).await);
        assert_not_found(w.app.document(&stranger.who, document).await);
        assert_not_found(w.app.delete_document(&stranger.who, document).await);
    }
    assert!(w.inbox(&w.other_admin).await.is_empty());
    // The operator downloads nothing.
    assert!(w.app.download(&Principal::Operator, document, None).await.is_err());

    // Once the bookkeeper's filing is filed, the document is gone for them.
    w.app.change_filing_status(&w.admin.who, w.filing, FilingTransition::File).await.unwrap();
    assert_not_found(w.app.download(&w.bookkeeper.who, document, None).await);
    assert_not_found(w.app.document(&w.bookkeeper.who, document).await);
    // No receipt went to a client user for the practice's downloads of their file.
    assert!(w.mails_to(&w.owner, "downloaded").await.is_empty());
});

on_each_engine!(files_travel_over_a_connection_between_its_parties_only, |w| {
    let to_outside = SendRequest { destination: Destination::Connection(w.connection), to: vec![] };
    let view = send(&w.app, &w.staff.who, to_outside, &[("engagement.pdf", PDF)]).await.unwrap();
    assert_eq!(view.transfer.recipients, vec![w.outside.id]);
    let document = view.documents[0].document.id;
    assert_eq!(w.inbox(&w.outside).await.len(), 1);
    assert_eq!(w.mails_to(&w.outside, "sent you").await.len(), 1);
    assert_eq!(read_all(w.app.download(&w.outside.who, document, None).await.unwrap()).await, PDF);
    assert_eq!(w.mails_to(&w.staff, "downloaded").await.len(), 1);
    // The outside party answers to a chosen practice user.
    let back = SendRequest { destination: Destination::Connection(w.connection), to: vec![w.admin.id] };
    let reply = send(&w.app, &w.outside.who, back, &[("signed.pdf", PDF)]).await.unwrap();
    assert_eq!(
        w.inbox(&w.admin).await.iter().map(|d| d.document.id).collect::<Vec<_>>(),
        vec![reply.documents[0].document.id]
    );
    // The staff member who sent a file over the connection still opens it, and
    // staff the outside party sends to open theirs.
    assert_eq!(read_all(w.app.download(&w.staff.who, document, None).await.unwrap()).await, PDF);
    let to_staff = SendRequest { destination: Destination::Connection(w.connection), to: vec![w.staff.id] };
    let for_staff = send(&w.app, &w.outside.who, to_staff, &[("for staff.pdf", PDF)]).await.unwrap();
    let for_staff = for_staff.documents[0].document.id;
    assert_eq!(w.inbox(&w.staff).await.iter().map(|d| d.document.id).collect::<Vec<_>>(), vec![for_staff]);
    assert_eq!(read_all(w.app.download(&w.staff.who, for_staff, None).await.unwrap()).await, PDF);
    // Nobody else finds either file.
    for stranger in [&w.owner, &w.other_admin, &w.bookkeeper] {
        assert_not_found(w.app.download(&stranger.who, document, None).await);
    }
    // Client users cannot send over a connection.
    let sneaky = SendRequest { destination: Destination::Connection(w.connection), to: vec![w.admin.id] };
    assert_not_found(send(&w.app, &w.owner.who, sneaky, &[("x.pdf", PDF)]).await);
});

// Retention (PRODUCT.md "Retention"): when an engagement or a connection
// ends, the practice side loses the files at once, and the other side keeps
// the files exchanged over it for 30 days.

on_each_engine!(the_other_side_keeps_its_files_for_30_days_after_an_engagement_or_connection_ends, |w| {
    let for_client = send(&w.app, &w.staff.who, w.to_client(&[]), &[("engagement.pdf", PDF)]).await.unwrap();
    let for_client = for_client.documents[0].document.id;
    let to_outside = SendRequest { destination: Destination::Connection(w.connection), to: vec![] };
    let for_outside = send(&w.app, &w.staff.who, to_outside, &[("connection.pdf", PDF)]).await.unwrap();
    let for_outside = for_outside.documents[0].document.id;
    let back = SendRequest { destination: Destination::Connection(w.connection), to: vec![w.staff.id] };
    let from_outside = send(&w.app, &w.outside.who, back, &[("reply.pdf", PDF)]).await.unwrap();
    let from_outside = from_outside.documents[0].document.id;

    let engagement = {
        let mut tx = w.store.read().await.unwrap();
        let found = tx.engagement_between(w.practice, w.client).await.unwrap().unwrap().id;
        tx.rollback().await.unwrap();
        found
    };
    w.app.revoke_engagement(&w.admin.who, engagement).await.unwrap();
    w.app.revoke_connection(&w.admin.who, w.connection).await.unwrap();

    // The practice's staff lose them at once.
    for document in [for_client, for_outside, from_outside] {
        assert_not_found(w.app.download(&w.staff.who, document, None).await);
    }
    // The client's users and the outside party keep theirs, but send no more.
    assert_eq!(read_all(w.app.download(&w.owner.who, for_client, None).await.unwrap()).await, PDF);
    for document in [for_outside, from_outside] {
        assert_eq!(read_all(w.app.download(&w.outside.who, document, None).await.unwrap()).await, PDF);
        assert_eq!(w.app.document(&w.outside.who, document).await.unwrap().record.document.id, document);
    }
    let again = SendRequest { destination: Destination::Connection(w.connection), to: vec![w.admin.id] };
    assert!(send(&w.app, &w.outside.who, again, &[("more.pdf", PDF)]).await.is_err());

    // Still on day 29; gone for the outside party after 30 days.
    w.clock.advance(time::Duration::days(29));
    assert_eq!(read_all(w.app.download(&w.outside.who, for_outside, None).await.unwrap()).await, PDF);
    w.clock.advance(time::Duration::days(1) + time::Duration::minutes(1));
    for document in [for_outside, from_outside] {
        assert_not_found(w.app.download(&w.outside.who, document, None).await);
        assert_not_found(w.app.document(&w.outside.who, document).await);
    }
});

// Quotas.

on_each_engine!(a_transfer_announced_over_what_is_left_is_refused_before_any_byte, |w| {
    w.set_storage(1_000_000).await;
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("first.bin", &noise(400_000, 1))]).await.unwrap();
    let before = w.storage().await;
    assert_eq!(before.usage.used, Bytes::new(400_000));
    let left = 600_000;
    let refused =
        w.app.start_transfer(&w.staff.who, w.to_client(&[]), Some(left + MULTIPART_FRAMING_ALLOWANCE + 1)).await;
    let exceeded = assert_quota(refused, AllowanceKind::Storage);
    assert_eq!(exceeded.remaining, Bytes::new(left));
    assert_eq!(exceeded.limit, Bytes::new(1_000_000));
    assert!(exceeded.to_string().contains("storage"), "{exceeded}");
    assert_eq!(w.storage().await, before, "nothing reserved");
    assert_eq!(w.outbox_documents(&w.staff).await.len(), 1);
    // A request a little over (its multipart framing) with files that fit passes.
    let framed = send_with(
        &w.app,
        &w.staff.who,
        w.to_client(&[]),
        Some(left + 300),
        &[("rest.bin", &noise(600_000, 2))],
        65_536,
    )
    .await
    .unwrap();
    assert_eq!(framed.documents[0].document.size, Bytes::new(600_000));
    assert_eq!(w.storage().await.usage.used, Bytes::new(1_000_000));
    assert_eq!(w.storage().await.usage.reserved, Bytes::ZERO);
});

on_each_engine!(transfers_that_fit_exactly_pass, |w| {
    w.set_storage(300_000).await;
    let empty = send(&w.app, &w.staff.who, w.to_client(&[]), &[("empty.txt", b"")]).await.unwrap();
    assert_eq!(empty.documents[0].document.size, Bytes::ZERO);
    assert_eq!(empty.documents[0].document.sha256, sha(b""));
    let one = send(&w.app, &w.staff.who, w.to_client(&[]), &[("one.txt", b"x")]).await.unwrap();
    assert_eq!(one.documents[0].document.size, Bytes::new(1));
    assert_eq!(w.storage().await.usage.used, Bytes::new(1));
    let rest = noise(299_999, 3);
    let last = send(&w.app, &w.staff.who, w.to_client(&[]), &[("rest.bin", &rest)]).await.unwrap();
    assert_eq!(last.documents[0].document.sha256, sha(&rest));
    let full = w.storage().await;
    assert_eq!(
        (full.usage.used, full.usage.reserved, full.limit),
        (Bytes::new(300_000), Bytes::ZERO, Bytes::new(300_000))
    );
    // Now even one more byte is refused, announced or not; an empty file still fits.
    assert_quota(send(&w.app, &w.staff.who, w.to_client(&[]), &[("more.txt", b"y")]).await, AllowanceKind::Storage);
    assert_quota(
        send_with(&w.app, &w.staff.who, w.to_client(&[]), None, &[("more.txt", b"y")], 1).await,
        AllowanceKind::Storage,
    );
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("empty again.txt", b"")]).await.unwrap();
    assert_eq!(w.storage().await.usage, full.usage);
    assert_eq!(w.outbox_documents(&w.staff).await.len(), 4);
});

on_each_engine!(a_stream_that_runs_past_the_allowance_is_stopped_and_leaves_nothing, |w| {
    w.set_storage(500_000).await;
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("kept.bin", &noise(100_000, 4))]).await.unwrap();
    let before = w.storage().await;
    let documents_before = w.blob_keys("documents").await;
    assert_eq!(documents_before.len(), 1);

    let mut outgoing = w.app.start_transfer(&w.staff.who, w.to_client(&[]), None).await.unwrap();
    outgoing.begin_file("first.bin").await.unwrap();
    outgoing.write(&noise(150_000, 5)).await.unwrap();
    outgoing.begin_file("second.bin").await.unwrap();
    let piece = noise(50_000, 6);
    let mut written = 150_000;
    let stopped = loop {
        match outgoing.write(&piece).await {
            Ok(()) => written += piece.len(),
            Err(e) => break e,
        }
        assert!(written <= 400_000, "the stream ran past what was left: {written} bytes");
    };
    assert_eq!(written, 400_000, "every byte that fitted was taken");
    let exceeded = assert_quota(Err::<(), _>(stopped), AllowanceKind::Storage);
    assert_eq!(exceeded.limit, Bytes::new(500_000));
    outgoing.abort().await;

    assert_eq!(w.storage().await, before, "usage unchanged and no reservation left");
    assert_eq!(w.outbox_documents(&w.staff).await.len(), 1);
    assert_eq!(w.inbox(&w.owner).await.len(), 1);
    assert_eq!(w.blob_keys("documents").await, documents_before, "the stored files were removed");
    assert_eq!(w.mails_to(&w.owner, "sent you").await.len(), 1, "only the first transfer was announced");
});

on_each_engine!(concurrent_transfers_never_together_exceed_the_allowance, |w| {
    const LIMIT: u64 = 1_000_000;
    const SIZE: usize = 90_000;
    w.set_storage(LIMIT).await;
    let content = Arc::new(noise(SIZE, 7));
    let mut tasks = Vec::new();
    for n in 0..16 {
        let (app, who, request, content) = (w.app.clone(), w.staff.who, w.to_client(&[]), content.clone());
        // Half announce their size, half do not.
        let expected = (n % 2 == 0).then_some(SIZE as u64);
        tasks.push(tokio::spawn(async move {
            send_with(&app, &who, request, expected, &[(&format!("file {n}.bin"), &content)], 8_192).await
        }));
    }
    let mut sent = 0u64;
    for task in tasks {
        match task.await.unwrap() {
            Ok(view) => {
                assert_eq!(view.documents[0].document.sha256, sha(&content));
                sent += 1;
            }
            Err(AppError::Quota(exceeded)) => assert_eq!(exceeded.kind, AllowanceKind::Storage),
            Err(other) => panic!("a racing transfer failed for another reason: {other:?}"),
        }
    }
    assert!(sent >= 1, "at least one transfer gets through");
    assert!(sent * SIZE as u64 <= LIMIT, "{sent} transfers of {SIZE} bytes went over {LIMIT}");
    let storage = w.storage().await;
    assert_eq!(storage.usage.used, Bytes::new(sent * SIZE as u64));
    assert!(storage.usage.used.get() <= LIMIT);
    assert_eq!(storage.usage.reserved, Bytes::ZERO, "every refused transfer gave its reservation back");
    assert_eq!(w.outbox_documents(&w.staff).await.len() as u64, sent);
});

on_each_engine!(an_add_on_raises_the_allowance_during_its_dates_only, |w| {
    w.set_storage(1_000_000).await;
    let now = w.clock.now();
    let add = |starts, ends| NewAllowance { kind: AllowanceKind::Storage, amount: Bytes::new(1_000_000), starts, ends };
    // One add-on counts now; another only from next week.
    w.app
        .add_allowance(
            &Principal::Operator,
            w.practice,
            &add(now - time::Duration::hours(1), now + time::Duration::days(2)),
        )
        .await
        .unwrap();
    w.app
        .add_allowance(
            &Principal::Operator,
            w.practice,
            &add(now + time::Duration::days(7), now + time::Duration::days(9)),
        )
        .await
        .unwrap();
    assert_eq!(w.storage().await.limit, Bytes::new(2_000_000));
    let big = noise(1_500_000, 8);
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("big.bin", &big)]).await.unwrap();
    assert_eq!(w.storage().await.usage.used, Bytes::new(1_500_000));

    // Three days on, the first add-on has ended: nothing more fits.
    w.clock.advance(time::Duration::days(3));
    assert_eq!(w.storage().await.limit, Bytes::new(1_000_000));
    assert_quota(send(&w.app, &w.staff.who, w.to_client(&[]), &[("one.txt", b"1")]).await, AllowanceKind::Storage);
    // Within the second add-on's dates, its bytes count.
    w.clock.advance(time::Duration::days(5));
    assert_eq!(w.storage().await.limit, Bytes::new(2_000_000));
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("more.bin", &noise(400_000, 9))]).await.unwrap();
    assert_quota(
        send(&w.app, &w.staff.who, w.to_client(&[]), &[("over.bin", &noise(100_001, 10))]).await,
        AllowanceKind::Storage,
    );
    // After it, the plan alone.
    w.clock.advance(time::Duration::days(2));
    assert_eq!(w.storage().await.limit, Bytes::new(1_000_000));
});

on_each_engine!(the_80_percent_warning_goes_to_admins_once_per_allowance_per_month, |w| {
    let second_admin = insert_member(&w.store, w.practice, "Abe Admin", Role::Admin).await;
    w.set_storage(100_000).await;
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("a.bin", &noise(79_000, 11))]).await.unwrap();
    let warned = |who: &Person| {
        let who = who.clone();
        async move { w.mails_to(&who, "of its storage allowance").await }
    };
    assert!(warned(&w.admin).await.is_empty(), "79% warns no one");
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("b.bin", &noise(2_000, 12))]).await.unwrap();
    for admin in [&w.admin, &second_admin] {
        let mails = warned(admin).await;
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].subject.contains("81%"), "{}", mails[0].subject);
    }
    assert!(warned(&w.staff).await.is_empty(), "only admins are warned");
    assert_eq!(w.audited("quota.warning").await.len(), 1);
    // More uploads this month warn no more.
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("c.bin", &noise(5_000, 13))]).await.unwrap();
    assert_eq!(warned(&w.admin).await.len(), 1);
    // Next month, once more.
    w.clock.advance(time::Duration::days(32));
    send(&w.app, &w.staff.who, w.to_client(&[]), &[("d.bin", &noise(1_000, 14))]).await.unwrap();
    assert_eq!(warned(&w.admin).await.len(), 2);
    assert_eq!(warned(&second_admin).await.len(), 2);
    assert!(w.mails_to(&w.admin, "monthly transfer allowance").await.is_empty(), "throughput is far from 80%");
});

// Deletion.

on_each_engine!(uploaders_and_admins_delete_others_may_not_and_storage_is_freed_at_once, |w| {
    let first = noise(30_000, 15);
    let second = noise(20_000, 16);
    let from_staff = send(&w.app, &w.staff.who, w.to_client(&[]), &[("staff.bin", &first)]).await.unwrap();
    let from_client = send(&w.app, &w.owner.who, w.to_client(&[&w.staff]), &[("client.bin", &second)]).await.unwrap();
    let staff_doc = from_staff.documents[0].document.id;
    let client_doc = from_client.documents[0].document.id;
    let second_staff = insert_member(&w.store, w.practice, "Stu Staff", Role::Staff).await;
    let mut tx = w.store.begin().await.unwrap();
    tx.assign_client(second_staff.id, w.client, OffsetDateTime::now_utc()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(w.storage().await.usage.used, Bytes::new(50_000));

    // Staff who did not upload it may not; nor may a recipient client user of a practice file.
    assert_eq!(assert_forbidden(w.app.delete_document(&second_staff.who, staff_doc).await), Rule::OnlyUploaderOrAdmin);
    assert_forbidden(w.app.delete_document(&w.staff.who, client_doc).await);
    assert_forbidden(w.app.delete_document(&w.bookkeeper.who, staff_doc).await);
    assert_eq!(w.storage().await.usage.used, Bytes::new(50_000));

    // The uploader may.
    w.app.delete_document(&w.staff.who, staff_doc).await.unwrap();
    assert_eq!(w.storage().await.usage.used, Bytes::new(20_000));
    assert_not_found(w.app.download(&w.owner.who, staff_doc, None).await);
    assert_not_found(w.app.delete_document(&w.staff.who, staff_doc).await);
    assert!(w.inbox(&w.owner).await.is_empty());
    // An admin in scope deletes another's document.
    w.app.delete_document(&w.admin.who, client_doc).await.unwrap();
    assert_eq!(w.storage().await.usage.used, Bytes::ZERO);
    assert!(w.inbox(&w.staff).await.is_empty());
    assert!(w.blob_keys("documents").await.is_empty(), "the bytes are gone too");
    let deletions = w.audited("document.delete").await;
    assert_eq!(deletions.len(), 2);
    assert!(
        deletions.iter().any(|(subject, detail)| *subject == Some(staff_doc.as_uuid()) && detail.contains("30000"))
    );
    // Another practice's admin does not find what is left.
    let kept = send(&w.app, &w.staff.who, w.to_client(&[]), &[("kept.bin", &first)]).await.unwrap();
    assert_not_found(w.app.delete_document(&w.other_admin.who, kept.documents[0].document.id).await);
    assert_eq!(w.storage().await.usage.used, Bytes::new(30_000));
});

// Resumable uploads.

fn sha1_of(bytes: &[u8]) -> Vec<u8> {
    sha1::Sha1::digest(bytes).to_vec()
}

fn md5_of(bytes: &[u8]) -> Vec<u8> {
    md5::Md5::digest(bytes).to_vec()
}

on_each_engine!(a_resumable_upload_survives_a_dropped_connection_and_checks_offsets_and_checksums, |w| {
    let transfer = w.app.open_transfer(&w.staff.who, &w.to_client(&[])).await.unwrap();
    assert!(transfer.completed_at.is_none());
    let file = noise(250_000, 17);
    let upload = w
        .app
        .create_upload(&w.staff.who, transfer.id, "statements/2026 ledger.bin", Some(250_000))
        .await
        .unwrap()
        .record;
    let id = upload.upload.id;
    assert_eq!(upload.upload.name, "2026 ledger.bin");
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(250_000));

    // The first request is cut off after 70,000 bytes (no checksum): they are kept.
    let mut first = w.app.append_upload(&w.staff.who, id, 0, Some(100_000), None).await.unwrap();
    for chunk in file[..70_000].chunks(7_000) {
        first.write(chunk).await.unwrap();
    }
    let appended = first.finish(false).await.unwrap();
    assert_eq!((appended.offset, appended.document.is_none()), (70_000, true));
    assert_eq!(w.app.upload_status(&w.staff.who, id).await.unwrap().received, Bytes::new(70_000));

    // A request from the wrong offset is a conflict and changes nothing.
    assert_conflict(w.app.append_upload(&w.staff.who, id, 0, Some(10), None).await);
    assert_conflict(w.app.append_upload(&w.staff.who, id, 100_000, Some(10), None).await);
    // One that runs past the declared length is refused.
    assert_invalid(w.app.append_upload(&w.staff.who, id, 70_000, Some(180_001), None).await, "Content-Length");

    // Bytes that do not match their checksum are not kept.
    let sum = Checksum::Sha256(sha(&file[..100_000]).to_vec());
    let mut wrong = w.app.append_upload(&w.staff.who, id, 70_000, Some(100_000), Some(sum)).await.unwrap();
    wrong.write(&file[70_000..170_000]).await.unwrap();
    let mismatch = wrong.finish(true).await;
    assert!(matches!(mismatch, Err(AppError::ChecksumMismatch)), "{mismatch:?}");
    // Nor are bytes of a cut-off request that came with a checksum.
    let sum = Checksum::Sha1(sha1_of(&file[70_000..170_000]));
    let mut cut = w.app.append_upload(&w.staff.who, id, 70_000, Some(100_000), Some(sum)).await.unwrap();
    cut.write(&file[70_000..120_000]).await.unwrap();
    let cut = cut.finish(false).await;
    assert!(matches!(cut, Err(AppError::ChecksumMismatch)), "{cut:?}");
    assert_eq!(w.app.upload_status(&w.staff.who, id).await.unwrap().received, Bytes::new(70_000));

    // The second piece with a right SHA-1.
    let sum = Checksum::Sha1(sha1_of(&file[70_000..170_000]));
    let mut second = w.app.append_upload(&w.staff.who, id, 70_000, Some(100_000), Some(sum)).await.unwrap();
    second.write(&file[70_000..170_000]).await.unwrap();
    let appended = second.finish(true).await.unwrap();
    assert_eq!((appended.offset, appended.document.is_none()), (170_000, true));

    // The transfer cannot be completed while an upload is unfinished.
    assert_conflict(w.app.complete_transfer(&w.staff.who, transfer.id).await);

    // The last piece with a right MD5 makes the document.
    let sum = Checksum::Md5(md5_of(&file[170_000..]));
    let mut last = w.app.append_upload(&w.staff.who, id, 170_000, Some(80_000), Some(sum)).await.unwrap();
    last.write(&file[170_000..]).await.unwrap();
    let appended = last.finish(true).await.unwrap();
    assert_eq!(appended.offset, 250_000);
    let document = appended.document.expect("the last byte makes the document");
    assert_eq!(document.document.sha256, sha(&file));
    assert_eq!(document.document.size, Bytes::new(250_000));
    assert_eq!(document.document.batch, transfer.id);
    assert_eq!(document.document.name, "2026 ledger.bin");
    assert_not_found(w.app.upload_status(&w.staff.who, id).await);
    assert!(w.blob_keys(&format!("uploads/{}", id.0)).await.is_empty(), "the pieces are removed");
    let storage = w.storage().await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::new(250_000), Bytes::ZERO));
    // Nobody is told before the transfer is complete.
    assert!(w.mails_to(&w.owner, "sent you").await.is_empty());

    // A second file, then completion tells each recipient once about both.
    let small = noise(5_000, 18);
    let second_upload = w.app.create_upload(&w.staff.who, transfer.id, "notes.bin", Some(5_000)).await.unwrap().record;
    let mut only = w.app.append_upload(&w.staff.who, second_upload.upload.id, 0, Some(5_000), None).await.unwrap();
    only.write(&small).await.unwrap();
    only.finish(true).await.unwrap().document.expect("a one-piece upload");
    let completed = w.app.complete_transfer(&w.staff.who, transfer.id).await.unwrap();
    assert!(completed.transfer.completed_at.is_some());
    assert_eq!(completed.documents.len(), 2);
    for person in [&w.owner, &w.colleague] {
        let told = w.mails_to(person, "sent you").await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].text.contains("2026 ledger.bin") && told[0].text.contains("notes.bin"), "{}", told[0].text);
        assert_eq!(w.inbox(person).await.len(), 2);
    }
    assert_eq!(read_all(w.app.download(&w.owner.who, document.document.id, None).await.unwrap()).await, file);
    // Twice is a conflict, and tells no one again; no more uploads join it.
    assert_conflict(w.app.complete_transfer(&w.staff.who, transfer.id).await);
    assert_eq!(w.mails_to(&w.owner, "sent you").await.len(), 1);
    assert_conflict(w.app.create_upload(&w.staff.who, transfer.id, "late.bin", Some(1)).await);
    // Only its sender completes or adds to a transfer.
    assert_not_found(w.app.create_upload(&w.admin.who, transfer.id, "x.bin", Some(1)).await);
    assert_eq!(w.audited("transfer.complete").await.len(), 1);
});

on_each_engine!(an_empty_transfer_cannot_be_completed_and_others_uploads_are_not_found, |w| {
    let transfer = w.app.open_transfer(&w.staff.who, &w.to_client(&[])).await.unwrap();
    assert_invalid(w.app.complete_transfer(&w.staff.who, transfer.id).await, "batch");
    assert_not_found(w.app.complete_transfer(&w.admin.who, transfer.id).await);
    let upload = w.app.create_upload(&w.staff.who, transfer.id, "a.bin", Some(10)).await.unwrap().record;
    assert_not_found(w.app.upload_status(&w.admin.who, upload.upload.id).await);
    assert_not_found(w.app.append_upload(&w.owner.who, upload.upload.id, 0, Some(10), None).await);
    assert_not_found(w.app.terminate_upload(&w.admin.who, upload.upload.id).await);
    assert_forbidden(w.app.open_transfer(&w.bookkeeper.who, &w.to_client(&[])).await);
});

on_each_engine!(terminating_or_abandoning_an_upload_gives_its_reservation_and_bytes_back, |w| {
    w.set_storage(1_000_000).await;
    let transfer = w.app.open_transfer(&w.staff.who, &w.to_client(&[])).await.unwrap();
    // Terminated.
    let upload = w.app.create_upload(&w.staff.who, transfer.id, "gone.bin", Some(600_000)).await.unwrap().record;
    let mut piece = w.app.append_upload(&w.staff.who, upload.upload.id, 0, Some(10_000), None).await.unwrap();
    piece.write(&noise(10_000, 19)).await.unwrap();
    piece.finish(true).await.unwrap();
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(600_000));
    // While it holds its reservation, a transfer needing more than is left is refused.
    assert_quota(
        send(&w.app, &w.staff.who, w.to_client(&[]), &[("big.bin", &noise(500_000, 20))]).await,
        AllowanceKind::Storage,
    );
    w.app.terminate_upload(&w.staff.who, upload.upload.id).await.unwrap();
    assert_eq!(w.storage().await.usage, Default::default());
    assert_not_found(w.app.upload_status(&w.staff.who, upload.upload.id).await);
    assert_not_found(w.app.terminate_upload(&w.staff.who, upload.upload.id).await);
    assert!(w.blob_keys(&format!("uploads/{}", upload.upload.id.0)).await.is_empty());

    // Abandoned: past its expiry, housekeeping reclaims it.
    let abandoned =
        w.app.create_upload(&w.staff.who, transfer.id, "abandoned.bin", Some(400_000)).await.unwrap().record;
    let id = abandoned.upload.id;
    let mut piece = w.app.append_upload(&w.staff.who, id, 0, Some(20_000), None).await.unwrap();
    piece.write(&noise(20_000, 21)).await.unwrap();
    piece.finish(true).await.unwrap();
    assert_eq!(w.blob_keys(&format!("uploads/{}", id.0)).await.len(), 1);
    assert_forbidden(w.app.reclaim_abandoned_uploads(&w.admin.who).await);
    assert_eq!(w.app.reclaim_abandoned_uploads(&Principal::Operator).await.unwrap(), 0, "nothing has expired yet");
    w.clock.advance(time::Duration::hours(25));
    assert_not_found(w.app.upload_status(&w.staff.who, id).await);
    assert_eq!(w.app.reclaim_abandoned_uploads(&Principal::Operator).await.unwrap(), 1);
    let mut tx = w.store.begin().await.unwrap();
    assert!(tx.upload(id).await.unwrap().is_none(), "the upload is forgotten");
    let released = tx.release_reservation(abandoned.upload.reservation).await;
    assert!(matches!(released, Err(ferry_ports::StoreError::NotFound { .. })), "its reservation is gone: {released:?}");
    tx.rollback().await.unwrap();
    assert!(w.blob_keys(&format!("uploads/{}", id.0)).await.is_empty(), "its bytes are removed");
    assert_eq!(w.storage().await.usage, Default::default());
    assert_eq!(w.audited("upload.reclaim").await.len(), 1);
    assert_eq!(w.app.reclaim_abandoned_uploads(&Principal::Operator).await.unwrap(), 0);
});

on_each_engine!(an_upload_of_unknown_length_reserves_as_it_goes_until_the_length_is_declared, |w| {
    let transfer = w.app.open_transfer(&w.owner.who, &w.to_client(&[&w.admin])).await.unwrap();
    let file = noise(120_000, 22);
    let upload = w.app.create_upload(&w.owner.who, transfer.id, "scan.bin", None).await.unwrap().record;
    let id = upload.upload.id;
    assert_eq!(upload.upload.length, None);
    assert_eq!(w.storage().await.usage.reserved, Bytes::ZERO);
    let mut first = w.app.append_upload(&w.owner.who, id, 0, Some(50_000), None).await.unwrap();
    first.write(&file[..50_000]).await.unwrap();
    let appended = first.finish(true).await.unwrap();
    assert_eq!((appended.offset, appended.document.is_none()), (50_000, true));
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(50_000));

    // A length shorter than what arrived is a conflict; then the real one.
    assert_conflict(w.app.declare_upload_length(&w.owner.who, id, 49_999).await);
    w.app.declare_upload_length(&w.owner.who, id, 120_000).await.unwrap();
    assert_conflict(w.app.declare_upload_length(&w.owner.who, id, 120_000).await);
    let status = w.app.upload_status(&w.owner.who, id).await.unwrap();
    assert_eq!((status.upload.length, status.received), (Some(Bytes::new(120_000)), Bytes::new(50_000)));
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(120_000));

    let mut rest = w.app.append_upload(&w.owner.who, id, 50_000, Some(70_000), None).await.unwrap();
    rest.write(&file[50_000..]).await.unwrap();
    let document = rest.finish(true).await.unwrap().document.expect("the document");
    assert_eq!(document.document.sha256, sha(&file));
    assert_eq!(document.document.recipients, vec![w.admin.id]);
    w.app.complete_transfer(&w.owner.who, transfer.id).await.unwrap();
    assert_eq!(w.mails_to(&w.admin, "sent you").await.len(), 1);
    let storage = w.storage().await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::new(120_000), Bytes::ZERO));
});

on_each_engine!(an_upload_of_unknown_length_holds_no_more_than_it_kept_after_each_request, |w| {
    let transfer = w.app.open_transfer(&w.staff.who, &w.to_client(&[])).await.unwrap();
    let upload = w.app.create_upload(&w.staff.who, transfer.id, "flaky.bin", None).await.unwrap().record;
    let id = upload.upload.id;
    let file = noise(100_000, 24);

    // A request announcing 100,000 bytes is cut off after 30,000: those are
    // kept, and the 70,000 it reserved but never received go back.
    let mut cut = w.app.append_upload(&w.staff.who, id, 0, Some(100_000), None).await.unwrap();
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(100_000));
    cut.write(&file[..30_000]).await.unwrap();
    assert_eq!(cut.finish(false).await.unwrap().offset, 30_000);
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(30_000));

    // A request whose checksum does not match keeps nothing and holds nothing.
    let checksum = Checksum::Sha256(vec![0; 32]);
    let mut wrong = w.app.append_upload(&w.staff.who, id, 30_000, Some(10_000), Some(checksum)).await.unwrap();
    wrong.write(&file[30_000..40_000]).await.unwrap();
    assert!(matches!(wrong.finish(true).await, Err(AppError::ChecksumMismatch)));
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(30_000));

    // A request dropped mid-way (its task cancelled) gives its reservation back too.
    let mut dropped = w.app.append_upload(&w.staff.who, id, 30_000, Some(50_000), None).await.unwrap();
    dropped.write(&file[30_000..35_000]).await.unwrap();
    drop(dropped);
    let mut reserved = w.storage().await.usage.reserved;
    for _ in 0..200 {
        if reserved == Bytes::new(30_000) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        reserved = w.storage().await.usage.reserved;
    }
    assert_eq!(reserved, Bytes::new(30_000), "the dropped request's 50,000 bytes were given back");

    // A chunked request reserves a whole step as it goes, and keeps only what arrived.
    let mut chunked = w.app.append_upload(&w.staff.who, id, 30_000, None, None).await.unwrap();
    chunked.write(&file[30_000..31_000]).await.unwrap();
    assert!(w.storage().await.usage.reserved > Bytes::new(31_000));
    assert_eq!(chunked.finish(true).await.unwrap().offset, 31_000);
    assert_eq!(w.storage().await.usage.reserved, Bytes::new(31_000));

    w.app.declare_upload_length(&w.staff.who, id, 100_000).await.unwrap();
    let mut rest = w.app.append_upload(&w.staff.who, id, 31_000, Some(69_000), None).await.unwrap();
    rest.write(&file[31_000..]).await.unwrap();
    let document = rest.finish(true).await.unwrap().document.expect("the document");
    assert_eq!(document.document.sha256, sha(&file));
    let storage = w.storage().await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::new(100_000), Bytes::ZERO));
});

on_each_engine!(an_upload_of_unknown_length_without_content_length_fits_when_little_is_left, |w| {
    // A chunked request (no Content-Length) into an upload of unknown length,
    // with less than 8 MiB of storage left.
    w.set_storage(1_000_000).await;
    let transfer = w.app.open_transfer(&w.staff.who, &w.to_client(&[])).await.unwrap();
    let upload = w.app.create_upload(&w.staff.who, transfer.id, "stream.bin", None).await.unwrap().record;
    let id = upload.upload.id;
    let file = noise(30_000, 23);
    let mut appender = w.app.append_upload(&w.staff.who, id, 0, None, None).await.unwrap();
    let written = appender.write(&file[..20_000]).await;
    assert!(written.is_ok(), "20,000 bytes fit in 1,000,000 but were refused: {written:?}");
    assert_eq!(appender.finish(true).await.unwrap().offset, 20_000);
    w.app.declare_upload_length(&w.staff.who, id, 30_000).await.unwrap();
    let mut last = w.app.append_upload(&w.staff.who, id, 20_000, None, None).await.unwrap();
    last.write(&file[20_000..]).await.unwrap();
    let document = last.finish(true).await.unwrap().document.expect("the document");
    assert_eq!(document.document.sha256, sha(&file));
    let storage = w.storage().await;
    assert_eq!((storage.usage.used, storage.usage.reserved), (Bytes::new(30_000), Bytes::ZERO));
});

on_each_engine!(an_empty_file_can_be_uploaded_resumably, |w| {
    let transfer = w.app.open_transfer(&w.staff.who, &w.to_client(&[])).await.unwrap();
    // Announcing an empty file completes it: tus clients send no bytes for it.
    let view = w.app.create_upload(&w.staff.who, transfer.id, "empty.txt", Some(0)).await.unwrap();
    let document = view.document.expect("an upload whose every byte arrived becomes a document");
    assert_eq!((document.document.size, document.document.sha256), (Bytes::ZERO, sha(b"")));
    assert_not_found(w.app.upload_status(&w.staff.who, view.record.upload.id).await);
    // A deferred length declared as what already arrived (nothing) finishes the file too.
    let deferred = w.app.create_upload(&w.staff.who, transfer.id, "also-empty.txt", None).await.unwrap().record;
    let appender = w.app.append_upload(&w.staff.who, deferred.upload.id, 0, Some(0), None).await.unwrap();
    assert_eq!(appender.finish(true).await.unwrap().document, None);
    let declared = w.app.declare_upload_length(&w.staff.who, deferred.upload.id, 0).await.unwrap();
    assert_eq!(declared.expect("a document").document.size, Bytes::ZERO);
    w.app.complete_transfer(&w.staff.who, transfer.id).await.unwrap();
});

// Size.

on_each_engine!(a_five_mebibyte_file_round_trips_in_64_kib_pieces, |w| {
    let file = noise(5 * 1024 * 1024, 24);
    let view = send_with(
        &w.app,
        &w.staff.who,
        w.to_client(&[]),
        Some(file.len() as u64),
        &[("archive.bin", &file)],
        64 * 1024,
    )
    .await
    .unwrap();
    let document = &view.documents[0].document;
    assert_eq!((document.size, document.sha256), (Bytes::new(file.len() as u64), sha(&file)));
    assert_eq!(document.content_type, "application/octet-stream");
    let downloaded = read_all(w.app.download(&w.owner.who, document.id, None).await.unwrap()).await;
    assert_eq!(downloaded.len(), file.len());
    assert_eq!(sha(&downloaded), sha(&file));
    let middle =
        w.app.download(&w.owner.who, document.id, Some(RangeRequest::Closed(3_000_000, 3_100_000))).await.unwrap();
    assert_eq!(read_all(middle).await, file[3_000_000..=3_100_000]);
    // Unannounced, the same file streams through the growing reservation.
    let unannounced =
        send_with(&w.app, &w.staff.who, w.to_client(&[]), None, &[("again.bin", &file)], 64 * 1024).await.unwrap();
    assert_eq!(unannounced.documents[0].document.sha256, sha(&file));
    assert_eq!(w.storage().await.usage.reserved, Bytes::ZERO);
    assert_eq!(w.storage().await.usage.used, Bytes::new(2 * file.len() as u64));
});
