//! File exchange end to end against the real server (issue 6): one test per
//! example of the "Examples" part of seeds/bookkeeper-client-connect.txt,
//! then privacy, resuming across a server restart, and edge sizes.
//!
//! Each test builds its world over HTTP (a practice applies, the operator
//! approves it with ferry-admin, people and clients join from mailed links),
//! moves real bytes with multipart transfers and tus resumable uploads,
//! checks the exact mail the outbox folder receives, downloads, and compares
//! SHA-256 digests with the local bytes and with what the API reports.

use std::time::{Duration, Instant};

use base64::Engine;
use ferry_e2e::{Client, Downloaded, Server, Upload, sha256_hex, test_bytes, text};
use serde_json::{Value, json};
use sha2::Digest;

const PASSWORD: &str = "a long passphrase 1";
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;

/// Someone signed in, with what the tests need to name them.
struct Person {
    api: Client,
    id: String,
    name: String,
    email: String,
}

/// An approved practice and its admin.
struct Practice {
    id: String,
    name: String,
    admin: Person,
}

/// Sets a password from the newest mail to `email` and signs in.
async fn join(server: &Server, email: &str) -> Client {
    let token = server.mail_to(email).token();
    server.anonymous().ok_post("/auth/password", &json!({ "token": token, "password": PASSWORD })).await;
    server.sign_in(email, PASSWORD).await
}

async fn person(api: Client, name: &str, email: &str) -> Person {
    let me = api.ok_get("/me").await;
    assert_eq!(text(&me, "/user/email"), email);
    Person { id: text(&me, "/user/id"), api, name: name.to_owned(), email: email.to_owned() }
}

/// A practice applies over HTTP, the operator approves it with ferry-admin,
/// and its admin sets a password from the mailed link.
async fn practice(server: &Server, name: &str, admin_name: &str, admin_email: &str) -> Practice {
    let applied = server
        .anonymous()
        .ok_post("/practices", &json!({ "practice_name": name, "admin_name": admin_name, "admin_email": admin_email }))
        .await;
    let id = text(&applied, "/id");
    assert_eq!(server.approve_practice(&id)["status"], "approved");
    let admin = person(join(server, admin_email).await, admin_name, admin_email).await;
    Practice { id, name: name.to_owned(), admin }
}

/// The admin invites a staff member or bookkeeper, who joins from the link.
async fn colleague(server: &Server, practice: &Practice, name: &str, email: &str, role: &str) -> Person {
    let invited = practice
        .admin
        .api
        .ok_post(&format!("/practices/{}/people", practice.id), &json!({ "name": name, "email": email, "role": role }))
        .await;
    assert_eq!(text(&invited, "/role"), role);
    person(join(server, email).await, name, email).await
}

/// The admin sends a client a file sharing request; its contact accepts from
/// the mailed link, choosing a password. Returns the client id and its owner.
async fn engaged_client(
    server: &Server,
    practice: &Practice,
    client_name: &str,
    name: &str,
    email: &str,
) -> (String, Person) {
    let invited = practice
        .admin
        .api
        .ok_post(
            &format!("/practices/{}/engagements", practice.id),
            &json!({ "client_name": client_name, "name": name, "email": email }),
        )
        .await;
    let client = text(&invited, "/client/id");
    let token = server.mail_to(email).token();
    let accepted =
        server.anonymous().ok_post("/invitations/accept", &json!({ "token": token, "password": PASSWORD })).await;
    assert_eq!(text(&accepted, "/engagement/state"), "active");
    let told = server.mail_to(&practice.admin.email);
    assert_eq!(told.subject, format!("{client_name} is now connected to {}", practice.name));
    (client, person(server.sign_in(email, PASSWORD).await, name, email).await)
}

/// The admin assigns `client` to a staff member.
async fn assign(practice: &Practice, staff: &Person, client: &str) {
    let (status, body) = practice
        .admin
        .api
        .put(&format!("/practices/{}/people/{}/clients/{client}", practice.id, staff.id), &json!({}))
        .await;
    assert_eq!(status, 200, "assigning {client} to {}: {body}", staff.name);
}

/// Takes the one upload notification `to` gets for a batch and checks it
/// names the sender, the client (or, over a connection, the practice) and
/// every file.
fn expect_notification(server: &Server, to: &Person, sender: &str, named: &str, files: &[&str]) {
    let mail = server.mail_to(&to.email);
    let subject = match files {
        [only] => format!("{sender} sent you “{only}”"),
        _ => format!("{sender} sent you {} files", files.len()),
    };
    assert_eq!(mail.subject, subject, "the notification to {}:\n{}", to.email, mail.text);
    assert!(mail.text.contains(sender), "the notification names the sender {sender}:\n{}", mail.text);
    assert!(mail.text.contains(named), "the notification names {named}:\n{}", mail.text);
    for file in files {
        assert!(mail.text.contains(file), "the notification names the file {file}:\n{}", mail.text);
    }
}

/// Takes the one download receipt the sender gets for `file`.
fn expect_receipt(server: &Server, sender: &Person, downloaded_by: &str, file: &str) {
    let mail = server.mail_to(&sender.email);
    assert_eq!(mail.subject, format!("{downloaded_by} downloaded “{file}”"), "the receipt:\n{}", mail.text);
    assert!(mail.text.contains(downloaded_by) && mail.text.contains(file), "the receipt names both:\n{}", mail.text);
}

/// The document named `name` in a transfer's answer, checked against the local bytes.
fn document<'a>(sent: &'a Value, name: &str, bytes: &[u8]) -> &'a Value {
    let documents = sent["documents"].as_array().expect("documents");
    let found =
        documents.iter().find(|d| d["name"] == name).unwrap_or_else(|| panic!("no document named {name} in {sent}"));
    assert_eq!(found["size"].as_u64(), Some(bytes.len() as u64), "the size of {name}");
    assert_eq!(text(found, "/sha256"), sha256_hex(bytes), "the SHA-256 the API reports for {name}");
    found
}

/// Downloads a whole document and checks its bytes, its digest (local and
/// reported) and the headers that keep it from being run in a browser.
async fn fetch(who: &Client, doc: &Value, bytes: &[u8]) -> Downloaded {
    let id = text(doc, "/id");
    let got = who.download(&id, None).await;
    assert_eq!(got.status, 200, "downloading {id}: {}", String::from_utf8_lossy(&got.bytes));
    assert_eq!(got.bytes.len(), bytes.len(), "the size downloaded");
    assert!(got.bytes == bytes, "the bytes downloaded are the bytes sent");
    assert_eq!(sha256_hex(&got.bytes), sha256_hex(bytes));
    assert_eq!(sha256_hex(&got.bytes), text(doc, "/sha256"));
    assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
    let disposition = got.header("content-disposition").expect("a Content-Disposition");
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''"), "{disposition}");
    got
}

/// A `Range` request: the bytes `start..=end`, answered 206 with their `Content-Range`.
async fn fetch_range(who: &Client, doc: &Value, bytes: &[u8], start: usize, end: usize) {
    let got = who.download(&text(doc, "/id"), Some(&format!("bytes={start}-{end}"))).await;
    assert_eq!(got.status, 206, "a range of {}", text(doc, "/name"));
    let expected = format!("bytes {start}-{end}/{}", bytes.len());
    assert_eq!(got.header("content-range"), Some(expected.as_str()));
    assert!(got.bytes == bytes[start..=end], "the range holds exactly bytes {start}-{end}");
}

/// The ids of the documents in `/me/inbox` or `/me/outbox`.
async fn mailbox(who: &Client, which: &str) -> Vec<String> {
    let page = who.ok_get(&format!("/me/{which}")).await;
    page["items"].as_array().expect("items").iter().map(|d| text(d, "/id")).collect()
}

/// Opens a transfer for resumable uploads (`POST /transfers` with JSON).
async fn open_transfer(who: &Client, body: &Value) -> String {
    let (status, opened) = who.post("/transfers", body).await;
    assert_eq!(status, 201, "opening a transfer {body}: {opened}");
    assert_eq!(opened["completed"], false);
    text(&opened, "/batch")
}

/// Sends `bytes[from..]` of an upload in one PATCH that must be accepted;
/// returns the document id once the last byte arrived.
async fn patch_rest(who: &Client, upload: &str, bytes: &[u8], from: usize) -> Option<String> {
    let answer = who.tus_patch(upload, from as u64, &bytes[from..], &[]).await;
    assert_eq!(answer.status, 204, "PATCH of {upload} from {from}: {}", answer.body);
    assert_eq!(answer.offset(), Some(bytes.len() as u64));
    answer.header("ferry-document").map(str::to_owned)
}

/// Polls HEAD until the upload stands at `expected` (the server keeps what
/// arrived before a connection was cut, once it notices the cut).
async fn await_offset(who: &Client, upload: &str, expected: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let offset = who.tus_offset(upload).await;
        if offset == expected || Instant::now() > deadline {
            return offset;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Troubleshooting: the client uploads its accounting file with a broken
/// bank reconciliation; the bookkeeper downloads it, fixes it at their
/// premises and makes the corrected file available to the client.
#[tokio::test]
async fn troubleshooting_round_trip() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;

    // The client chooses whom to send to among those who may receive.
    let recipients = nora.api.ok_get(&format!("/clients/{client}/recipients")).await;
    let offered: Vec<String> =
        recipients["items"].as_array().expect("items").iter().map(|r| text(r, "/user/id")).collect();
    assert_eq!(offered, vec![harbour.admin.id.clone()]);

    let broken = test_bytes(1, 300 * KIB + 17);
    let sent = nora
        .api
        .send_files(
            &[("client", &client), ("to", &harbour.admin.id)],
            &[Upload { name: "Northwind 2025.QBW", bytes: &broken }],
        )
        .await;
    let broken_doc = document(&sent, "Northwind 2025.QBW", &broken).clone();
    assert_eq!(text(&broken_doc, "/uploader"), nora.id);

    // The bookkeeper is told once, naming the client, the sender and the file.
    expect_notification(&server, &harbour.admin, "Nora North", "Northwind Trading", &["Northwind 2025.QBW"]);
    server.assert_no_more_mail();
    assert_eq!(mailbox(&harbour.admin.api, "inbox").await, vec![text(&broken_doc, "/id")]);
    assert_eq!(mailbox(&nora.api, "outbox").await, vec![text(&broken_doc, "/id")]);

    // They download it at their premises, whole and in part.
    fetch(&harbour.admin.api, &broken_doc, &broken).await;
    fetch_range(&harbour.admin.api, &broken_doc, &broken, 100, 1099).await;
    // A client sent it: nobody gets a receipt.
    server.assert_no_more_mail();
    let details = harbour.admin.api.ok_get(&format!("/documents/{}", text(&broken_doc, "/id"))).await;
    assert_eq!(text(&details, "/sender/name"), "Nora North");
    assert_eq!(text(&details, "/document/sha256"), sha256_hex(&broken));
    assert!(details["document"]["recipients"][0]["first_downloaded_at"].is_string(), "{details}");

    // The corrected file goes back to every user of the client.
    let fixed = test_bytes(2, 310 * KIB + 3);
    let back = harbour
        .admin
        .api
        .send_files(&[("client", &client)], &[Upload { name: "Northwind 2025 (fixed).QBW", bytes: &fixed }])
        .await;
    let fixed_doc = document(&back, "Northwind 2025 (fixed).QBW", &fixed).clone();
    expect_notification(&server, &nora, "Ada Admin", "Northwind Trading", &["Northwind 2025 (fixed).QBW"]);
    server.assert_no_more_mail();
    assert!(mailbox(&nora.api, "inbox").await.contains(&text(&fixed_doc, "/id")));

    // The client downloads it; the bookkeeper gets one receipt, on the first download only.
    fetch(&nora.api, &fixed_doc, &fixed).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "Northwind 2025 (fixed).QBW");
    fetch(&nora.api, &fixed_doc, &fixed).await;
    fetch_range(&nora.api, &fixed_doc, &fixed, 0, 0).await;
    server.assert_no_more_mail();
    let outbox = harbour.admin.api.ok_get("/me/outbox").await;
    let delivered = &outbox["items"][0]["recipients"][0];
    assert_eq!(text(delivered, "/user"), nora.id);
    assert!(delivered["first_downloaded_at"].is_string(), "{outbox}");
}

/// Preparation for a site visit: the client transfers its files ahead of the
/// visit with a resumable upload that survives a dropped connection; the
/// staff member gets a head start and asks for what they need beforehand.
#[tokio::test]
async fn preparing_a_site_visit() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let sam = colleague(&server, &harbour, "Sam Staff", "sam@harbour.test", "staff").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    assign(&harbour, &sam, &client).await;

    // A transfer for resumable uploads, to the staff member who will visit.
    let batch = open_transfer(&nora.api, &json!({ "client": client, "to": [sam.id] })).await;
    let ledger = test_bytes(3, 3 * MIB + 4321);
    let upload = nora.api.tus_start(&batch, "Ledger March.qbw", Some(ledger.len() as u64)).await;
    assert_eq!(nora.api.tus_offset(&upload).await, 0);

    // The first MiB arrives whole.
    let first = nora.api.tus_patch(&upload, 0, &ledger[..MIB], &[]).await;
    assert_eq!(first.status, 204, "{}", first.body);
    assert_eq!(first.offset(), Some(MIB as u64));
    assert!(first.header("upload-expires").is_some());

    // Then the connection drops 700 KiB into the rest: the server keeps what arrived.
    let cut_at = MIB + 700 * KIB;
    let stream = nora.api.tus_patch_partial(&upload, MIB as u64, (ledger.len() - MIB) as u64, &ledger[MIB..cut_at]);
    drop(stream);
    let offset = await_offset(&nora.api, &upload, cut_at as u64).await;
    assert_eq!(offset, cut_at as u64, "HEAD shows every byte that arrived before the cut");

    // Resuming at any other offset is refused; from HEAD's offset it completes.
    // (A small body: the server answers before reading it.)
    let wrong = nora.api.tus_patch(&upload, MIB as u64, &ledger[MIB..MIB + KIB], &[]).await;
    assert_eq!(wrong.status, 409, "{}", wrong.body);
    let ledger_id = patch_rest(&nora.api, &upload, &ledger, offset as usize).await.expect("the ledger's document");

    // A second file, in one request with its checksum.
    let statements = b"date,amount,description\n2025-03-01,-120.50,Rent\n2025-03-02,980.00,Invoice 1042\n".to_vec();
    let upload = nora.api.tus_start(&batch, "Bank statements.csv", Some(statements.len() as u64)).await;
    let checksum = format!("sha256 {}", b64(&sha2::Sha256::digest(&statements)));
    let answer = nora.api.tus_patch(&upload, 0, &statements, &[("upload-checksum", &checksum)]).await;
    assert_eq!(answer.status, 204, "{}", answer.body);
    assert!(answer.header("ferry-document").is_some());

    // Nobody is told before the transfer is complete; then the recipient once, about both files.
    server.assert_no_more_mail();
    let completed = nora.api.ok_post(&format!("/transfers/{batch}/complete"), &json!({})).await;
    assert_eq!(completed["documents"].as_array().map(Vec::len), Some(2), "{completed}");
    expect_notification(&server, &sam, "Nora North", "Northwind Trading", &["Ledger March.qbw", "Bank statements.csv"]);
    server.assert_no_more_mail();
    let (status, again) = nora.api.post(&format!("/transfers/{batch}/complete"), &json!({})).await;
    assert_eq!(status, 409, "{again}");

    // The staff member downloads both; the digests match what was sent.
    let ledger_doc = document(&completed, "Ledger March.qbw", &ledger).clone();
    assert_eq!(text(&ledger_doc, "/id"), ledger_id);
    let statements_doc = document(&completed, "Bank statements.csv", &statements).clone();
    assert_eq!(text(&statements_doc, "/content_type"), "text/csv");
    fetch(&sam.api, &ledger_doc, &ledger).await;
    fetch_range(&sam.api, &ledger_doc, &ledger, MIB - 10, MIB + 10).await;
    fetch(&sam.api, &statements_doc, &statements).await;
    server.assert_no_more_mail();

    // They forewarn the client of what to have ready; the client's download is receipted once.
    let questions = b"Please have the March supplier invoices and the payroll summary ready.\n".to_vec();
    let sent = sam
        .api
        .send_files(
            &[("client", &client), ("to", &nora.id)],
            &[Upload { name: "Before the visit.txt", bytes: &questions }],
        )
        .await;
    let questions_doc = document(&sent, "Before the visit.txt", &questions).clone();
    expect_notification(&server, &nora, "Sam Staff", "Northwind Trading", &["Before the visit.txt"]);
    fetch(&nora.api, &questions_doc, &questions).await;
    expect_receipt(&server, &sam, "Nora North", "Before the visit.txt");
    fetch(&nora.api, &questions_doc, &questions).await;
    server.assert_no_more_mail();
}

/// Interfacing with the client's accountant: the practice invites an outside
/// party, who accepts from the mailed link and chooses a password; the file
/// and its related documents then travel over the connection.
#[tokio::test]
async fn sending_to_the_clients_outside_accountant() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let (_client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;

    let invited = harbour
        .admin
        .api
        .ok_post(
            &format!("/practices/{}/connections", harbour.id),
            &json!({ "name": "Olive Outside", "email": "olive@ledgerline.test" }),
        )
        .await;
    assert_eq!(text(&invited, "/status"), "invited");
    let invitation = server.mail_to("olive@ledgerline.test");
    assert_eq!(invitation.subject, "Harbour Books invites you to share files");
    let accepted = server
        .anonymous()
        .ok_post("/invitations/accept", &json!({ "token": invitation.token(), "password": PASSWORD }))
        .await;
    assert_eq!(text(&accepted, "/kind"), "connection");
    assert_eq!(text(&accepted, "/connection/state"), "active");
    let connection = text(&accepted, "/connection/id");
    let olive =
        person(server.sign_in("olive@ledgerline.test", PASSWORD).await, "Olive Outside", "olive@ledgerline.test").await;
    server.assert_no_more_mail();

    // The file and related documents, in one batch over the connection.
    let company = test_bytes(4, 2 * MIB + 99);
    let trial = b"account,debit,credit\n1000 Bank,15230.10,\n4000 Sales,,15230.10\n".to_vec();
    let notes = "Year-end adjustments: see the accruals tab. — Ada".as_bytes().to_vec();
    let files = [
        Upload { name: "Northwind 2025.QBW", bytes: &company },
        Upload { name: "Trial balance.csv", bytes: &trial },
        Upload { name: "Notes for the accountant.txt", bytes: &notes },
    ];
    let sent = harbour.admin.api.send_files(&[("connection", &connection)], &files).await;
    assert_eq!(text(&sent, "/connection"), connection);
    assert_eq!(sent["recipients"], json!([olive.id]));
    let docs: Vec<Value> = files.iter().map(|f| document(&sent, f.name, f.bytes).clone()).collect();
    let names: Vec<&str> = files.iter().map(|f| f.name).collect();
    expect_notification(&server, &olive, "Ada Admin", "Harbour Books", &names);
    server.assert_no_more_mail();
    let inbox = mailbox(&olive.api, "inbox").await;
    assert_eq!(inbox.len(), 3);
    for doc in &docs {
        assert!(inbox.contains(&text(doc, "/id")));
    }

    // The accountant downloads each; the sender gets one receipt per file, on the first download only.
    for (doc, file) in docs.iter().zip(&files) {
        fetch(&olive.api, doc, file.bytes).await;
        expect_receipt(&server, &harbour.admin, "Olive Outside", file.name);
    }
    fetch_range(&olive.api, &docs[0], &company, 2 * MIB - 5, 2 * MIB + 98).await;
    fetch(&olive.api, &docs[1], &trial).await;
    server.assert_no_more_mail();

    // Over a connection, the client sees none of it.
    for doc in &docs {
        assert_eq!(nora.api.get(&format!("/documents/{}", text(doc, "/id"))).await.0, 404);
        assert_eq!(nora.api.download(&text(doc, "/id"), None).await.status, 404);
    }
    assert!(mailbox(&nora.api, "inbox").await.is_empty());

    // The accountant answers over the same connection; an outside party gets no receipt.
    let answer = b"Adjusted trial balance attached to our file; no further questions.\n".to_vec();
    let back = olive
        .api
        .send_files(
            &[("connection", &connection), ("to", &harbour.admin.id)],
            &[Upload { name: "Reply.txt", bytes: &answer }],
        )
        .await;
    let reply = document(&back, "Reply.txt", &answer).clone();
    expect_notification(&server, &harbour.admin, "Olive Outside", "Harbour Books", &["Reply.txt"]);
    fetch(&harbour.admin.api, &reply, &answer).await;
    server.assert_no_more_mail();
}

/// Payroll assignments: payroll is run from the bookkeeper's premises and the
/// sensitive files go to the client's payroll officer alone, by a resumable
/// upload whose length is declared late and whose bytes are checksummed.
#[tokio::test]
async fn payroll_files() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let sam = colleague(&server, &harbour, "Sam Staff", "sam@harbour.test", "staff").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    assign(&harbour, &sam, &client).await;

    // The client's owner invites the payroll officer, who joins from the link, choosing a password.
    let member = nora
        .api
        .ok_post(
            &format!("/clients/{client}/members"),
            &json!({ "name": "Paul Payroll", "email": "paul@northwind.test" }),
        )
        .await;
    assert_eq!(text(&member, "/role"), "member");
    let token = server.mail_to("paul@northwind.test").token();
    let joined =
        server.anonymous().ok_post("/invitations/accept", &json!({ "token": token, "password": PASSWORD })).await;
    assert_eq!(text(&joined, "/kind"), "membership");
    let paul =
        person(server.sign_in("paul@northwind.test", PASSWORD).await, "Paul Payroll", "paul@northwind.test").await;

    // The payslips, resumable, with the length declared only with the last bytes.
    let mut payslips = b"%PDF-1.7\n".to_vec();
    payslips.extend(test_bytes(5, 1_500 * KIB));
    let batch = open_transfer(&sam.api, &json!({ "client": client, "to": [paul.id] })).await;
    let upload = sam.api.tus_start(&batch, "Payslips March.pdf", None).await;
    let head = sam.api.tus_head(&upload).await;
    assert_eq!(head.header("upload-defer-length"), Some("1"));

    // A first part whose checksum does not match is refused and nothing of it is kept.
    let part = &payslips[..MIB];
    let wrong = format!("sha1 {}", b64(&[0u8; 20]));
    let refused = sam.api.tus_patch(&upload, 0, part, &[("upload-checksum", &wrong)]).await;
    assert_eq!(refused.status, 460, "{}", refused.body);
    assert_eq!(sam.api.tus_offset(&upload).await, 0);
    let good = format!("sha256 {}", b64(&sha2::Sha256::digest(part)));
    let kept = sam.api.tus_patch(&upload, 0, part, &[("upload-checksum", &good)]).await;
    assert_eq!(kept.status, 204, "{}", kept.body);
    assert_eq!(kept.offset(), Some(MIB as u64));

    // The last part declares the length.
    let length = payslips.len().to_string();
    let last = sam.api.tus_patch(&upload, MIB as u64, &payslips[MIB..], &[("upload-length", &length)]).await;
    assert_eq!(last.status, 204, "{}", last.body);
    assert_eq!(last.offset(), Some(payslips.len() as u64));
    assert!(last.header("ferry-document").is_some(), "the last byte makes the document");

    // A second, small file in the same transfer, then the transfer is complete.
    let summary = b"employee,gross,tax,net\nE001,5200.00,1180.00,4020.00\n".to_vec();
    let upload = sam.api.tus_start(&batch, "STP summary.csv", Some(summary.len() as u64)).await;
    patch_rest(&sam.api, &upload, &summary, 0).await.expect("a document");
    server.assert_no_more_mail();
    let completed = sam.api.ok_post(&format!("/transfers/{batch}/complete"), &json!({})).await;

    // Only the payroll officer is told; the owner gets nothing and sees nothing in their inbox.
    expect_notification(&server, &paul, "Sam Staff", "Northwind Trading", &["Payslips March.pdf", "STP summary.csv"]);
    server.assert_no_more_mail();
    assert!(mailbox(&nora.api, "inbox").await.is_empty());
    let payslips_doc = document(&completed, "Payslips March.pdf", &payslips).clone();
    let summary_doc = document(&completed, "STP summary.csv", &summary).clone();
    assert_eq!(text(&payslips_doc, "/content_type"), "application/pdf");

    // The officer downloads both; one receipt per file to the sender.
    let got = fetch(&paul.api, &payslips_doc, &payslips).await;
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    expect_receipt(&server, &sam, "Paul Payroll", "Payslips March.pdf");
    fetch(&paul.api, &summary_doc, &summary).await;
    expect_receipt(&server, &sam, "Paul Payroll", "STP summary.csv");
    fetch_range(&paul.api, &payslips_doc, &payslips, 0, 8).await;
    server.assert_no_more_mail();
}

/// Flexibility of hours: the client transfers its file (larger than a
/// storage part) so the bookkeeper can work on it late at night, and the
/// bookkeeper transfers it back for the client to download at their convenience.
#[tokio::test]
async fn working_unusual_hours() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let sam = colleague(&server, &harbour, "Sam Staff", "sam@harbour.test", "staff").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    assign(&harbour, &sam, &client).await;

    // The staff member is among those the client may choose, with the admin.
    let recipients = nora.api.ok_get(&format!("/clients/{client}/recipients")).await;
    let mut offered: Vec<String> =
        recipients["items"].as_array().expect("items").iter().map(|r| text(r, "/user/id")).collect();
    offered.sort();
    let mut expected = vec![harbour.admin.id.clone(), sam.id.clone()];
    expected.sort();
    assert_eq!(offered, expected);

    let company = test_bytes(6, 3 * MIB + 123);
    let sent = nora
        .api
        .send_files(&[("client", &client), ("to", &sam.id)], &[Upload { name: "Northwind.QBW", bytes: &company }])
        .await;
    let doc = document(&sent, "Northwind.QBW", &company).clone();
    expect_notification(&server, &sam, "Nora North", "Northwind Trading", &["Northwind.QBW"]);
    server.assert_no_more_mail();

    // Late at night: the whole file, and a range across a storage part boundary.
    fetch(&sam.api, &doc, &company).await;
    fetch_range(&sam.api, &doc, &company, MIB - 1000, MIB + 999).await;
    let tail = sam.api.download(&text(&doc, "/id"), Some("bytes=-100")).await;
    assert_eq!(tail.status, 206);
    assert!(tail.bytes == company[company.len() - 100..]);
    server.assert_no_more_mail();

    // The worked file goes back to the client before morning.
    let mut worked = company.clone();
    worked.extend_from_slice(&test_bytes(7, 64 * KIB));
    let back = sam
        .api
        .send_files(
            &[("client", &client), ("to", &nora.id)],
            &[Upload { name: "Northwind (worked).QBW", bytes: &worked }],
        )
        .await;
    let worked_doc = document(&back, "Northwind (worked).QBW", &worked).clone();
    expect_notification(&server, &nora, "Sam Staff", "Northwind Trading", &["Northwind (worked).QBW"]);
    server.assert_no_more_mail();

    // The client downloads it in the morning; until then the outbox shows it undownloaded.
    let outbox = sam.api.ok_get("/me/outbox").await;
    assert_eq!(text(&outbox, "/items/0/id"), text(&worked_doc, "/id"));
    assert!(outbox["items"][0]["recipients"][0]["first_downloaded_at"].is_null(), "{outbox}");
    fetch(&nora.api, &worked_doc, &worked).await;
    expect_receipt(&server, &sam, "Nora North", "Northwind (worked).QBW");
    fetch_range(&nora.api, &worked_doc, &worked, 5, 5).await;
    server.assert_no_more_mail();
    let outbox = sam.api.ok_get("/me/outbox").await;
    assert!(outbox["items"][0]["recipients"][0]["first_downloaded_at"].is_string(), "{outbox}");
}

/// Splitting of assignments: the bookkeeping is done on site, where the
/// client's file is uploaded to the staff member and the admin for later
/// retrieval at the premises; a bookkeeper on the filing may read it but not
/// send or delete; the management report goes back to the client.
#[tokio::test]
async fn split_assignments() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let sam = colleague(&server, &harbour, "Sam Staff", "sam@harbour.test", "staff").await;
    let bea = colleague(&server, &harbour, "Bea Bookkeeper", "bea@harbour.test", "bookkeeper").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    assign(&harbour, &sam, &client).await;
    let filing = harbour.admin.api.ok_post(&format!("/clients/{client}/filings"), &json!({ "kind": "bas" })).await;
    let filing = text(&filing, "/id");
    harbour
        .admin
        .api
        .ok_post(&format!("/filings/{filing}/tasks"), &json!({ "title": "Prepare the BAS", "assignee": bea.id }))
        .await;
    server.assert_no_more_mail();

    // On site: the file goes to both the staff member and the admin, in one batch.
    let company = test_bytes(8, 900 * KIB + 1);
    let sent = nora
        .api
        .send_files(
            &[("client", &client), ("to", &sam.id), ("to", &harbour.admin.id)],
            &[Upload { name: "Northwind Q3.QBW", bytes: &company }],
        )
        .await;
    let doc = document(&sent, "Northwind Q3.QBW", &company).clone();
    expect_notification(&server, &sam, "Nora North", "Northwind Trading", &["Northwind Q3.QBW"]);
    expect_notification(&server, &harbour.admin, "Nora North", "Northwind Trading", &["Northwind Q3.QBW"]);
    server.assert_no_more_mail();

    // Back at the premises the staff member retrieves it.
    fetch(&sam.api, &doc, &company).await;
    // The bookkeeper working on the filing reads it, but may not send or delete.
    fetch(&bea.api, &doc, &company).await;
    let listed = bea.api.ok_get(&format!("/clients/{client}/documents")).await;
    assert!(listed["items"].as_array().expect("items").iter().any(|d| d["id"] == doc["id"]), "{listed}");
    let (status, refused) =
        bea.api.upload_multipart(&[("client", &client)], &[Upload { name: "BAS.pdf", bytes: b"%PDF-1.4 draft" }]).await;
    assert_eq!(status, 403, "a bookkeeper cannot send: {refused}");
    let (status, refused) = bea.api.delete(&format!("/documents/{}", text(&doc, "/id"))).await;
    assert_eq!(status, 403, "a bookkeeper cannot delete: {refused}");
    server.assert_no_more_mail();

    // The BAS worksheet and management report go back to the client.
    let worksheet = b"label,amount\nG1,15230.10\n1A,1384.55\n1B,212.40\n".to_vec();
    let mut report = b"%PDF-1.7\n".to_vec();
    report.extend(test_bytes(9, 120 * KIB));
    let back = harbour
        .admin
        .api
        .send_files(
            &[("client", &client)],
            &[
                Upload { name: "BAS worksheet Q3.csv", bytes: &worksheet },
                Upload { name: "Management report Q3.pdf", bytes: &report },
            ],
        )
        .await;
    let worksheet_doc = document(&back, "BAS worksheet Q3.csv", &worksheet).clone();
    let report_doc = document(&back, "Management report Q3.pdf", &report).clone();
    expect_notification(
        &server,
        &nora,
        "Ada Admin",
        "Northwind Trading",
        &["BAS worksheet Q3.csv", "Management report Q3.pdf"],
    );
    server.assert_no_more_mail();

    // The bookkeeper reading what the admin sent is no download by a recipient: no receipt.
    fetch(&bea.api, &report_doc, &report).await;
    server.assert_no_more_mail();
    fetch(&nora.api, &worksheet_doc, &worksheet).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "BAS worksheet Q3.csv");
    fetch(&nora.api, &report_doc, &report).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "Management report Q3.pdf");
    fetch(&nora.api, &report_doc, &report).await;
    server.assert_no_more_mail();
}

/// Confidentiality of bookkeeper data: management and financial reports go
/// to the client through Ferry instead of email; only that client can fetch
/// them, they are never served for display, and deleting one frees its
/// storage at once.
#[tokio::test]
async fn confidential_reports() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    let (_other, carl) = engaged_client(&server, &harbour, "Contoso Ltd", "Carl Contoso", "carl@contoso.test").await;

    let mut financials = b"%PDF-1.7\n".to_vec();
    financials.extend(test_bytes(10, 700 * KIB));
    let mut workbook = b"PK\x03\x04".to_vec();
    workbook.extend(test_bytes(11, 200 * KIB));
    // A sender's name with a path and non-ASCII letters: shown without the path, stored nowhere by name.
    let files = [
        Upload { name: "Financial statements — Müller 2025.pdf", bytes: &financials },
        Upload { name: "C:\\Reports\\Management accounts.xlsx", bytes: &workbook },
    ];
    let sent = harbour.admin.api.send_files(&[("client", &client), ("to", &nora.id)], &files).await;
    let financials_doc = document(&sent, "Financial statements — Müller 2025.pdf", &financials).clone();
    let workbook_doc = document(&sent, "Management accounts.xlsx", &workbook).clone();
    assert_eq!(
        text(&workbook_doc, "/content_type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    expect_notification(
        &server,
        &nora,
        "Ada Admin",
        "Northwind Trading",
        &["Financial statements — Müller 2025.pdf", "Management accounts.xlsx"],
    );
    server.assert_no_more_mail();

    // Another client of the same practice sees nothing of it.
    for doc in [&financials_doc, &workbook_doc] {
        let id = text(doc, "/id");
        assert_eq!(carl.api.get(&format!("/documents/{id}")).await.0, 404);
        assert_eq!(carl.api.download(&id, None).await.status, 404);
    }
    assert!(mailbox(&carl.api, "inbox").await.is_empty());

    // The client retrieves them at their convenience, as attachments with the original name.
    let got = fetch(&nora.api, &financials_doc, &financials).await;
    assert_eq!(got.header("content-type"), Some("application/pdf"));
    assert_eq!(
        got.header("content-disposition"),
        Some(
            "attachment; filename=\"Financial statements _ M_ller 2025.pdf\"; \
             filename*=UTF-8''Financial%20statements%20%E2%80%94%20M%C3%BCller%202025.pdf"
        )
    );
    assert_eq!(got.header("ferry-sha256"), Some(sha256_hex(&financials).as_str()));
    expect_receipt(&server, &harbour.admin, "Nora North", "Financial statements — Müller 2025.pdf");
    fetch(&nora.api, &workbook_doc, &workbook).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "Management accounts.xlsx");
    fetch_range(&nora.api, &workbook_doc, &workbook, 0, 3).await;
    server.assert_no_more_mail();

    // Deleting a report frees its storage at once; it is gone for everyone.
    let storage = |usage: &Value| {
        usage["allowances"]
            .as_array()
            .expect("allowances")
            .iter()
            .find(|a| a["kind"] == "storage")
            .and_then(|a| a["used"].as_u64())
            .expect("a storage allowance")
    };
    let usage_path = format!("/practices/{}/usage", harbour.id);
    let before = storage(&harbour.admin.api.ok_get(&usage_path).await);
    assert_eq!(before, (financials.len() + workbook.len()) as u64);
    let id = text(&financials_doc, "/id");
    let (status, body) = nora.api.delete(&format!("/documents/{id}")).await;
    assert_eq!(status, 403, "a recipient who did not upload it cannot delete it: {body}");
    let (status, body) = harbour.admin.api.delete(&format!("/documents/{id}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(storage(&harbour.admin.api.ok_get(&usage_path).await), workbook.len() as u64);
    assert_eq!(nora.api.download(&id, None).await.status, 404);
    assert_eq!(nora.api.get(&format!("/documents/{id}")).await.0, 404);
    assert_eq!(harbour.admin.api.download(&id, None).await.status, 404);
    assert!(!mailbox(&nora.api, "inbox").await.contains(&id));
    server.assert_no_more_mail();
}

/// Throughput counts what a download delivered: one broken off early counts
/// far less than the file, one read to its end counts the file.
#[tokio::test]
async fn a_download_broken_off_counts_only_what_it_moved() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    let bytes = test_bytes(41, 48 * MIB);
    let sent =
        harbour.admin.api.send_files(&[("client", &client)], &[Upload { name: "archive.bin", bytes: &bytes }]).await;
    let doc = document(&sent, "archive.bin", &bytes).clone();
    let usage_path = format!("/practices/{}/usage", harbour.id);
    let throughput = async || {
        let usage = harbour.admin.api.ok_get(&usage_path).await;
        let allowance = usage["allowances"]
            .as_array()
            .expect("allowances")
            .iter()
            .find(|a| a["kind"] == "throughput")
            .cloned()
            .expect("a throughput allowance");
        (allowance["used"].as_u64().expect("used"), allowance["reserved"].as_u64().expect("reserved"))
    };
    let (uploaded, reserved) = throughput().await;
    assert_eq!((uploaded, reserved), (bytes.len() as u64, 0), "the upload counts its bytes");

    let read = nora.api.download_then_leave(&text(&doc, "/id"), MIB).await;
    // The server notices the client is gone at its next write, then settles.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut used, mut reserved) = throughput().await;
    while reserved > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        (used, reserved) = throughput().await;
    }
    assert_eq!(reserved, 0, "the broken download's reservation was settled");
    let counted = used - uploaded;
    eprintln!("a download broken off after {read} bytes counted {counted} of {} bytes", bytes.len());
    assert!(counted >= read as u64, "it counts at least what the client read ({counted} < {read})");
    assert!(
        counted < (bytes.len() / 2) as u64,
        "it counts what was read from storage, not the whole file ({counted} of {})",
        bytes.len()
    );

    fetch(&nora.api, &doc, &bytes).await;
    let (after, reserved) = throughput().await;
    assert_eq!((after - used, reserved), (bytes.len() as u64, 0), "a whole download counts the file");
}

/// Privacy: a client never sees another client's files; a bookkeeper whose
/// filing was filed cannot download what they could before; another
/// practice's user gets 404 for every file id.
#[tokio::test]
async fn privacy_between_clients_bookkeepers_and_practices() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let bea = colleague(&server, &harbour, "Bea Bookkeeper", "bea@harbour.test", "bookkeeper").await;
    let (north, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    let (contoso, carl) = engaged_client(&server, &harbour, "Contoso Ltd", "Carl Contoso", "carl@contoso.test").await;
    let rival = practice(&server, "Rival Ledgers", "Rita Rival", "rita@rival.test").await;
    let rival_staff = colleague(&server, &rival, "Rex Rival", "rex@rival.test", "staff").await;

    // Files both ways for both clients.
    let to_nora = test_bytes(12, 40 * KIB);
    let to_carl = test_bytes(13, 41 * KIB);
    let from_nora = test_bytes(14, 42 * KIB);
    let north_doc = harbour
        .admin
        .api
        .send_files(&[("client", &north)], &[Upload { name: "North accounts.pdf", bytes: &to_nora }])
        .await["documents"][0]
        .clone();
    let contoso_doc = harbour
        .admin
        .api
        .send_files(&[("client", &contoso)], &[Upload { name: "Contoso accounts.pdf", bytes: &to_carl }])
        .await["documents"][0]
        .clone();
    let upload_doc = nora
        .api
        .send_files(
            &[("client", &north), ("to", &harbour.admin.id)],
            &[Upload { name: "North receipts.zip", bytes: &from_nora }],
        )
        .await["documents"][0]
        .clone();
    expect_notification(&server, &nora, "Ada Admin", "Northwind Trading", &["North accounts.pdf"]);
    expect_notification(&server, &carl, "Ada Admin", "Contoso Ltd", &["Contoso accounts.pdf"]);
    expect_notification(&server, &harbour.admin, "Nora North", "Northwind Trading", &["North receipts.zip"]);
    let all = [&north_doc, &contoso_doc, &upload_doc];

    // Each client sees its own files and never the other's.
    fetch(&nora.api, &north_doc, &to_nora).await;
    fetch(&carl.api, &contoso_doc, &to_carl).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "North accounts.pdf");
    expect_receipt(&server, &harbour.admin, "Carl Contoso", "Contoso accounts.pdf");
    let contoso_id = text(&contoso_doc, "/id");
    assert_eq!(nora.api.get(&format!("/documents/{contoso_id}")).await.0, 404);
    assert_eq!(nora.api.download(&contoso_id, None).await.status, 404);
    assert_eq!(nora.api.delete(&format!("/documents/{contoso_id}")).await.0, 404);
    assert_eq!(nora.api.get(&format!("/clients/{contoso}/documents")).await.0, 404);
    assert!(!mailbox(&nora.api, "inbox").await.contains(&contoso_id));
    for doc in [&north_doc, &upload_doc] {
        let id = text(doc, "/id");
        assert_eq!(carl.api.get(&format!("/documents/{id}")).await.0, 404);
        assert_eq!(carl.api.download(&id, None).await.status, 404);
        assert_eq!(carl.api.download(&id, Some("bytes=0-9")).await.status, 404);
    }
    assert_eq!(mailbox(&carl.api, "inbox").await, vec![contoso_id.clone()]);

    // A bookkeeper sees Northwind's files while their filing is active, and
    // loses them the moment it is filed; reopening gives them back.
    let north_id = text(&north_doc, "/id");
    assert_eq!(bea.api.download(&north_id, None).await.status, 404, "no work yet, no access");
    let filing = text(
        &harbour.admin.api.ok_post(&format!("/clients/{north}/filings"), &json!({ "kind": "bookkeeping" })).await,
        "/id",
    );
    harbour
        .admin
        .api
        .ok_post(&format!("/filings/{filing}/tasks"), &json!({ "title": "Reconcile", "assignee": bea.id }))
        .await;
    fetch(&bea.api, &north_doc, &to_nora).await;
    fetch(&bea.api, &upload_doc, &from_nora).await;
    assert_eq!(bea.api.download(&contoso_id, None).await.status, 404, "not Contoso's");
    let (status, filed) = harbour.admin.api.post_empty(&format!("/filings/{filing}/file")).await;
    assert_eq!(status, 200, "{filed}");
    for doc in [&north_doc, &upload_doc] {
        let id = text(doc, "/id");
        assert_eq!(bea.api.download(&id, None).await.status, 404, "filed: no more downloads");
        assert_eq!(bea.api.download(&id, Some("bytes=0-0")).await.status, 404);
        assert_eq!(bea.api.get(&format!("/documents/{id}")).await.0, 404);
    }
    assert_eq!(bea.api.get(&format!("/clients/{north}/documents")).await.0, 404);
    let (status, reopened) = harbour.admin.api.post_empty(&format!("/filings/{filing}/reopen")).await;
    assert_eq!(status, 200, "{reopened}");
    fetch(&bea.api, &north_doc, &to_nora).await;

    // Another practice's people get 404 for every file id, whatever they do.
    for who in [&rival.admin.api, &rival_staff.api] {
        for doc in all {
            let id = text(doc, "/id");
            assert_eq!(who.get(&format!("/documents/{id}")).await.0, 404);
            assert_eq!(who.download(&id, None).await.status, 404);
            assert_eq!(who.download(&id, Some("bytes=0-0")).await.status, 404);
            assert_eq!(who.delete(&format!("/documents/{id}")).await.0, 404);
        }
        assert!(mailbox(who, "inbox").await.is_empty());
    }
    // Nothing they tried removed anything.
    fetch(&nora.api, &north_doc, &to_nora).await;
    fetch(&harbour.admin.api, &upload_doc, &from_nora).await;
    server.assert_no_more_mail();
}

/// A resumable upload survives the server being killed mid-request: after a
/// restart on the same data, HEAD shows what was kept and the upload
/// resumes from there to the same SHA-256.
#[tokio::test]
async fn resumable_across_a_server_restart() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;

    let archive = test_bytes(15, 2 * MIB + 555);
    let batch = open_transfer(&harbour.admin.api, &json!({ "client": client })).await;
    let upload = harbour.admin.api.tus_start(&batch, "Year end archive.zip", Some(archive.len() as u64)).await;
    let first = harbour.admin.api.tus_patch(&upload, 0, &archive[..MIB], &[]).await;
    assert_eq!(first.status, 204, "{}", first.body);

    // The next request is half-way through when the server dies.
    let open = harbour.admin.api.tus_patch_partial(
        &upload,
        MIB as u64,
        (archive.len() - MIB) as u64,
        &archive[MIB..MIB + 300 * KIB],
    );
    std::thread::sleep(Duration::from_millis(300));
    let data = server.stop();
    drop(open);

    let server = Server::start_with(data, &[]);
    server.skip_mail_so_far();
    let admin = server.sign_in("ada@harbour.test", PASSWORD).await;
    // What was committed before the kill is kept; the request cut by the kill left nothing.
    let kept = admin.tus_offset(&upload).await;
    assert_eq!(kept, MIB as u64, "HEAD after the restart shows the kept offset");
    let doc_id = patch_rest(&admin, &upload, &archive, kept as usize).await.expect("the document");
    let completed = admin.ok_post(&format!("/transfers/{batch}/complete"), &json!({})).await;
    let doc = document(&completed, "Year end archive.zip", &archive).clone();
    assert_eq!(text(&doc, "/id"), doc_id);

    let nora_api = server.sign_in("nora@northwind.test", PASSWORD).await;
    let nora = Person { api: nora_api, ..nora };
    let admin = Person { api: admin, ..harbour.admin };
    expect_notification(&server, &nora, "Ada Admin", "Northwind Trading", &["Year end archive.zip"]);
    server.assert_no_more_mail();
    fetch(&nora.api, &doc, &archive).await;
    expect_receipt(&server, &admin, "Nora North", "Year end archive.zip");
    fetch_range(&nora.api, &doc, &archive, MIB, MIB + 300 * KIB).await;
    server.assert_no_more_mail();
}

/// Sizes: 0 and 1 byte pass through, and a file several times larger than
/// a storage part streams through whole.
#[tokio::test]
async fn empty_tiny_and_multi_part_files_pass_through() {
    let server = Server::start();
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;

    let empty: Vec<u8> = Vec::new();
    let one = vec![0x2a_u8];
    let large = test_bytes(16, 5 * MIB + 7);
    let files = [
        Upload { name: "empty.txt", bytes: &empty },
        Upload { name: "one.bin", bytes: &one },
        Upload { name: "large.bin", bytes: &large },
    ];
    let sent = harbour.admin.api.send_files(&[("client", &client)], &files).await;
    let docs: Vec<Value> = files.iter().map(|f| document(&sent, f.name, f.bytes).clone()).collect();
    assert_eq!(text(&docs[0], "/sha256"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_notification(&server, &nora, "Ada Admin", "Northwind Trading", &["empty.txt", "one.bin", "large.bin"]);
    server.assert_no_more_mail();

    for (doc, file) in docs.iter().zip(&files) {
        let got = fetch(&nora.api, doc, file.bytes).await;
        assert_eq!(got.header("content-length"), Some(file.bytes.len().to_string().as_str()));
        expect_receipt(&server, &harbour.admin, "Nora North", file.name);
    }
    fetch_range(&nora.api, &docs[1], &one, 0, 0).await;
    let beyond = nora.api.download(&text(&docs[0], "/id"), Some("bytes=0-0")).await;
    assert_eq!(beyond.status, 416, "no byte of an empty file can be asked for");
    assert_eq!(beyond.header("content-range"), Some("bytes */0"));
    fetch_range(&nora.api, &docs[2], &large, 4 * MIB - 1, 5 * MIB + 6).await;

    // The same sizes through a resumable upload.
    let batch = open_transfer(&harbour.admin.api, &json!({ "client": client })).await;
    // An empty file is complete when it is created: tus clients send no PATCH for it.
    let created = harbour.admin.api.tus_create(&batch, "nothing.txt", Some(0)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.offset(), Some(0));
    let tiny = nora_tus(&harbour.admin.api, &batch, "tiny.bin", &one).await;
    let big = nora_tus(&harbour.admin.api, &batch, "big.bin", &large).await;
    let completed = harbour.admin.api.ok_post(&format!("/transfers/{batch}/complete"), &json!({})).await;
    assert_eq!(tiny, text(document(&completed, "tiny.bin", &one), "/id"));
    assert_eq!(big, text(document(&completed, "big.bin", &large), "/id"));
    let nothing = document(&completed, "nothing.txt", &empty).clone();
    expect_notification(&server, &nora, "Ada Admin", "Northwind Trading", &["nothing.txt", "tiny.bin", "big.bin"]);
    fetch(&nora.api, &nothing, &empty).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "nothing.txt");
    fetch(&nora.api, document(&completed, "big.bin", &large), &large).await;
    expect_receipt(&server, &harbour.admin, "Nora North", "big.bin");
    server.assert_no_more_mail();
}

/// One file through tus in two requests (one when it is a single byte); its document id.
async fn nora_tus(who: &Client, batch: &str, name: &str, bytes: &[u8]) -> String {
    let upload = who.tus_start(batch, name, Some(bytes.len() as u64)).await;
    let half = bytes.len() / 2;
    if half > 0 {
        let answer = who.tus_patch(&upload, 0, &bytes[..half], &[]).await;
        assert_eq!(answer.status, 204, "{}", answer.body);
        assert!(answer.header("ferry-document").is_none());
    }
    patch_rest(who, &upload, bytes, half).await.unwrap_or_else(|| panic!("{name} became a document"))
}

/// The server's peak memory (`VmHWM`, in KiB), from `/proc`.
fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Files stream through the server: its peak memory after a file sixteen
/// times larger than the first — and larger than all the memory the server
/// held (about 100 MiB in a debug build) — has not grown with the size. Blob
/// parts are 1 MiB on the local folder, so the large file crosses 128 of them.
#[tokio::test]
async fn server_memory_does_not_grow_with_file_size() {
    let server = Server::start();
    let Some(_) = peak_memory_kib(server.pid()) else {
        eprintln!("skipping: /proc/<pid>/status is not readable on this system, so peak memory cannot be read");
        return;
    };
    let harbour = practice(&server, "Harbour Books", "Ada Admin", "ada@harbour.test").await;
    let plan = server.admin(&["practice", "set-plan", &harbour.id, "--storage", "5GB", "--throughput", "5GB"]);
    assert!(plan.status.success(), "set-plan: {}", plan.stderr);
    let (client, nora) =
        engaged_client(&server, &harbour, "Northwind Trading", "Nora North", "nora@northwind.test").await;

    let round_trip = async |name: &str, bytes: &[u8]| {
        let sent = harbour.admin.api.send_files(&[("client", &client)], &[Upload { name, bytes }]).await;
        let doc = document(&sent, name, bytes).clone();
        fetch(&nora.api, &doc, bytes).await;
        peak_memory_kib(server.pid()).expect("the server's peak memory")
    };
    let small = test_bytes(31, 8 * MIB);
    // Twice, so that pools and caches that a first request fills are in the baseline.
    round_trip("small-1.bin", &small).await;
    let after_small = round_trip("small-2.bin", &small).await;
    drop(small);
    let large = test_bytes(32, 128 * MIB);
    let after_large = round_trip("large.bin", &large).await;
    let grown = after_large.saturating_sub(after_small);
    eprintln!("server peak memory: {after_small} KiB after 8 MiB files, {after_large} KiB after a 128 MiB file");
    assert!(
        grown < 32 * 1024,
        "the server's peak memory grew by {grown} KiB for a file 120 MiB larger: it does not stream"
    );
}
