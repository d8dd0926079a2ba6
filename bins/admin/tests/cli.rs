//! `ferry-admin` against temporary installations: output, `--json` shape,
//! exit codes, and the effect read back from the database and file store.
//! Every test runs on SQLite, and on PostgreSQL when FERRY_TEST_POSTGRES_URL is set.

mod support;

use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{BatchId, ClientId, DocumentId, EngagementId, PracticeId, UserId};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::quota::Bytes;
use ferry_domain::values::{EmailAddress, OrganisationName};
use ferry_ports::records::{ClientRecord, EngagementRecord, NewDocument, OutboxStatus, PageRequest};
use ferry_ports::{Store, Tx};
use predicates::prelude::*;
use serde_json::Value;
use support::{Install, stderr, stdout};
use time::OffsetDateTime;
use uuid::Uuid;

fn practice_id(raw: &str) -> PracticeId {
    PracticeId::from_uuid(Uuid::parse_str(raw).expect("a practice id"))
}

async fn read(install: &Install) -> Box<dyn Tx> {
    install.store().await.read().await.expect("a read transaction")
}

#[test]
fn every_command_has_help_with_an_example() {
    let install = Install::sqlite();
    let commands: &[&[&str]] = &[
        &[],
        &["migrate"],
        &["status"],
        &["practice", "list"],
        &["practice", "show"],
        &["practice", "approve"],
        &["practice", "reject"],
        &["practice", "suspend"],
        &["practice", "reinstate"],
        &["practice", "set-plan"],
        &["allowance", "add"],
        &["allowance", "list"],
        &["allowance", "remove"],
        &["user", "list"],
        &["user", "show"],
        &["user", "deactivate"],
        &["user", "reactivate"],
        &["user", "reset-password"],
        &["explain"],
        &["usage"],
        &["audit", "export"],
        &["audit", "verify"],
        &["check"],
        &["gc"],
        &["outbox", "list"],
        &["outbox", "retry"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        install.admin(&args).assert().success().stdout(predicate::str::contains("Example"));
    }
    // Bad usage exits 2 and says what is wrong.
    install.admin(&["practice", "frobnicate"]).assert().code(2);
    install.admin(&["allowance", "add", "x", "--kind", "storage"]).assert().code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_then_status() {
    for install in Install::each().await {
        let engine = install.engine;
        if engine == "sqlite" {
            // No database yet: status refuses to create one, and says what to do.
            let output = install.admin(&["status"]).output().unwrap();
            assert_eq!(output.status.code(), Some(2), "{engine}");
            assert!(stderr(&output).contains("ferry-admin migrate"), "{engine}: {}", stderr(&output));
            assert!(!install.data_dir().join("ferry.db").exists());
        } else {
            // An empty schema: not up to date.
            let output = install.admin(&["practice", "list"]).output().unwrap();
            assert_eq!(output.status.code(), Some(2), "{engine}");
            assert!(stderr(&output).contains("run `ferry-admin migrate`"), "{engine}: {}", stderr(&output));
        }
        let migrated = install.json(&["migrate"]);
        let applied = migrated["applied_migrations"].as_array().expect("a list").clone();
        assert!(!applied.is_empty(), "{engine}");
        // Migrating again changes nothing.
        assert_eq!(install.json(&["migrate"])["applied_migrations"].as_array().unwrap(), &applied);

        let status = install.json(&["status"]);
        assert_eq!(status["database"]["engine"], engine);
        assert_eq!(status["database"]["up_to_date"], true);
        assert_eq!(status["database"]["applied_migrations"].as_array().unwrap(), &applied);
        assert_eq!(status["blob_store"]["reachable"], true);
        assert_eq!(status["practices"]["pending"], 0);
        assert_eq!(status["outbox"]["failed"], 0);
        install.apply("Harbour Books", "ada@harbour.test").await;
        let status = install.json(&["status"]);
        assert_eq!(status["practices"]["pending"], 1, "{engine}");
        assert_eq!(status["users"]["active"], 1, "{engine}");
        assert!(status["audit_entries"].as_u64().unwrap() >= 1, "{engine}");
        install.admin(&["status"]).assert().success().stdout(predicate::str::contains("1 pending"));

        // The key file in the data folder: fine for the embedded default, a
        // warning once the database lives elsewhere (PostgreSQL).
        let key_file = install.data_dir().join("master.keys");
        assert_eq!(status["master_keys"]["file"], key_file.display().to_string(), "{engine}");
        let output = install.admin(&["status"]).output().unwrap();
        if engine == "postgres" {
            let warning = status["master_keys"]["warning"].as_str().expect("a warning on PostgreSQL");
            assert!(warning.contains("--master-key-file (FERRY_MASTER_KEY_FILE)"), "{warning}");
            assert!(stderr(&output).contains("lies in the data folder"), "{}", stderr(&output));
        } else {
            assert!(status["master_keys"]["warning"].is_null(), "{engine}: {status}");
            assert!(!stderr(&output).contains("lies in the data folder"), "{}", stderr(&output));
        }
        install.finish().await;
    }
}

#[test]
fn an_unreachable_database_exits_2_and_names_the_setting() {
    let install = Install::sqlite();
    let output = install
        .admin(&["--database-url", "postgres://ferry@127.0.0.1:1/ferry", "status"])
        .output()
        .expect("ferry-admin runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--database-url (FERRY_DATABASE_URL)"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approval_workflow() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;

        let pending = install.json(&["practice", "list", "--status", "pending"]);
        let listed = pending.as_array().unwrap();
        assert_eq!(listed.len(), 1, "{engine}");
        assert_eq!(listed[0]["id"], id.as_str());
        assert_eq!(listed[0]["name"], "Harbour Books");
        assert_eq!(listed[0]["status"], "pending");
        assert!(listed[0]["plan"]["seat_limit"].is_u64());
        assert_eq!(install.json(&["practice", "list", "--status", "approved"]).as_array().unwrap().len(), 0);
        install.admin(&["practice", "list"]).assert().success().stdout(predicate::str::contains("Harbour Books"));

        // Approving mails the applicant a set-password link through the outbox.
        let approved = install.json(&["practice", "approve", &id]);
        assert_eq!(approved["status"], "approved", "{engine}");
        let mut tx = read(&install).await;
        let practice = tx.practice(practice_id(&id)).await.unwrap().expect("the practice");
        assert_eq!(practice.status, PracticeStatus::Approved, "{engine}");
        let queued = tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(50)).await.unwrap().items;
        assert!(queued.iter().any(|m| m.mail.to.as_str() == "ada@harbour.test"), "{engine}: {queued:?}");
        tx.rollback().await.unwrap();

        // A transition that does not apply is refused (1) and changes nothing.
        let output = install.admin(&["practice", "approve", &id]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{engine}");
        assert!(stderr(&output).contains("practice show"), "{engine}: {}", stderr(&output));
        install.admin(&["practice", "reject", &id, "--yes"]).assert().code(1);

        // Suspending is destructive: no terminal and no --yes is bad usage (2).
        let output = install.admin(&["practice", "suspend", &id]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{engine}");
        assert!(stderr(&output).contains("--yes"), "{engine}: {}", stderr(&output));
        let mut tx = read(&install).await;
        assert_eq!(tx.practice(practice_id(&id)).await.unwrap().unwrap().status, PracticeStatus::Approved);
        tx.rollback().await.unwrap();

        install
            .admin(&["practice", "suspend", &id, "--yes"])
            .assert()
            .success()
            .stdout(predicate::str::contains("suspended"));
        let mut tx = read(&install).await;
        assert_eq!(tx.practice(practice_id(&id)).await.unwrap().unwrap().status, PracticeStatus::Suspended);
        tx.rollback().await.unwrap();
        assert_eq!(install.json(&["practice", "reinstate", &id])["status"], "approved");

        let shown = install.json(&["practice", "show", &id]);
        assert_eq!(shown["admins"][0]["email"], "ada@harbour.test", "{engine}");
        assert_eq!(shown["seats_in_use"], 1);
        assert_eq!(shown["usage"].as_array().unwrap().len(), 2);

        // Another application is rejected.
        let other = install.apply("Dodgy Ledgers", "dan@dodgy.test").await;
        assert_eq!(install.json(&["practice", "reject", &other, "--yes"])["status"], "rejected");

        // A malformed id is bad usage; an unknown one is refused with a hint.
        install.admin(&["practice", "show", "nope"]).assert().code(2).stderr(predicate::str::contains("practice list"));
        let unknown = Uuid::now_v7().to_string();
        install.admin(&["practice", "show", &unknown]).assert().code(1).stderr(predicate::str::contains("not found"));

        // Each decision is audited.
        let mut tx = read(&install).await;
        let actions: Vec<String> =
            tx.audit_entries(0, 500).await.unwrap().into_iter().map(|r| r.entry.action).collect();
        tx.rollback().await.unwrap();
        for action in ["practice.approve", "practice.suspend", "practice.reinstate", "practice.reject"] {
            assert!(actions.iter().any(|a| a == action), "{engine}: {action} in {actions:?}");
        }
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_allowances_and_usage() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();

        install.admin(&["practice", "set-plan", &id]).assert().code(2);
        install.admin(&["practice", "set-plan", &id, "--storage", "lots"]).assert().code(2);
        let planned = install.json(&["practice", "set-plan", &id, "--seats", "10", "--storage", "5GB"]);
        assert_eq!(planned["plan"]["seat_limit"], 10, "{engine}");
        assert_eq!(planned["plan"]["storage_bytes"], 5_000_000_000u64);
        let mut tx = read(&install).await;
        let plan = tx.practice(practice_id(&id)).await.unwrap().unwrap().plan;
        tx.rollback().await.unwrap();
        assert_eq!(plan.seat_limit, 10);
        assert_eq!(plan.storage, Bytes::new(5_000_000_000));
        assert_eq!(plan.throughput, Bytes::DEFAULT_THROUGHPUT, "{engine}: what was not given stays");

        // An add-on that counts from now on, for a year.
        let added = install.json(&["allowance", "add", &id, "--kind", "storage", "--amount", "10GB", "--months", "12"]);
        assert_eq!(added["kind"], "storage", "{engine}");
        assert_eq!(added["amount_bytes"], 10_000_000_000u64);
        assert_eq!(added["current"], true);
        let add_on = added["id"].as_str().unwrap().to_owned();
        // Bad dates change nothing.
        install
            .admin(&[
                "allowance",
                "add",
                &id,
                "--kind",
                "storage",
                "--amount",
                "1GB",
                "--starts",
                "2027-01-01",
                "--ends",
                "2026-01-01",
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("end after it starts"));
        let listed = install.json(&["allowance", "list", &id]);
        assert_eq!(listed.as_array().unwrap().len(), 1, "{engine}");
        assert_eq!(listed[0]["id"], add_on.as_str());

        let usage = install.json(&["usage"]);
        let row = usage.as_array().unwrap().iter().find(|r| r["practice"]["id"] == id.as_str()).expect("the practice");
        let storage = row["allowances"].as_array().unwrap().iter().find(|a| a["kind"] == "storage").unwrap();
        assert_eq!(storage["limit_bytes"], 15_000_000_000u64, "{engine}: plan plus add-on");
        assert_eq!(storage["used_bytes"], 0);
        assert_eq!(storage["warning"], false);
        install.admin(&["usage"]).assert().success().stdout(predicate::str::contains("15 GB"));

        install.admin(&["allowance", "remove", &id, &add_on]).assert().code(2);
        install.admin(&["allowance", "remove", &id, &add_on, "--yes"]).assert().success();
        assert!(install.json(&["allowance", "list", &id]).as_array().unwrap().is_empty());
        install.admin(&["allowance", "remove", &id, &add_on, "--yes"]).assert().code(1);
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_deactivated_reactivated_and_reset() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        install.apply("Other Books", "olga@other.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();

        let everyone = install.json(&["user", "list"]);
        assert_eq!(everyone.as_array().unwrap().len(), 2, "{engine}");
        let mine = install.json(&["user", "list", "--practice", &id]);
        assert_eq!(mine.as_array().unwrap().len(), 1, "{engine}");
        assert_eq!(mine[0]["email"], "ada@harbour.test");
        assert_eq!(install.json(&["user", "list", "--email", "OLGA"]).as_array().unwrap().len(), 1);
        assert_eq!(install.json(&["user", "list", "--email", "%"]).as_array().unwrap().len(), 0, "{engine}");
        assert_eq!(install.json(&["user", "list", "--inactive"]).as_array().unwrap().len(), 0);

        let shown = install.json(&["user", "show", "ada@harbour.test"]);
        assert_eq!(shown["practice"]["id"], id.as_str());
        assert_eq!(shown["practice"]["role"], "admin");
        let user = UserId::from_uuid(Uuid::parse_str(shown["id"].as_str().unwrap()).unwrap());

        install.admin(&["user", "deactivate", "ada@harbour.test"]).assert().code(2);
        let deactivated = install.json(&["user", "deactivate", "ada@harbour.test", "--yes"]);
        assert_eq!(deactivated["active"], false);
        let mut tx = read(&install).await;
        assert!(!tx.user(user).await.unwrap().unwrap().active, "{engine}");
        tx.rollback().await.unwrap();
        install.admin(&["user", "deactivate", "ada@harbour.test", "--yes"]).assert().code(1);
        install
            .admin(&["user", "reset-password", "ada@harbour.test"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("reactivate"));
        assert_eq!(install.json(&["user", "list", "--inactive"]).as_array().unwrap().len(), 1);

        let reactivated = install.json(&["user", "reactivate", &user.to_string()]);
        assert_eq!(reactivated["active"], true);

        // A reset queues a mail with a link; nothing prints it.
        let mut tx = read(&install).await;
        let before = tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(50)).await.unwrap().items.len();
        tx.rollback().await.unwrap();
        let output = install.admin(&["user", "reset-password", "ada@harbour.test"]).output().unwrap();
        assert!(output.status.success(), "{engine}: {}", stderr(&output));
        let mut tx = read(&install).await;
        let queued = tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(50)).await.unwrap().items;
        tx.rollback().await.unwrap();
        assert_eq!(queued.len(), before + 1, "{engine}");
        let mail = queued.iter().find(|m| m.mail.subject.to_lowercase().contains("password")).expect("a reset mail");
        assert!(mail.mail.text.contains("https://ferry.example.com"), "{engine}: the link uses the public URL");
        assert!(!stdout(&output).contains("token="), "{engine}");

        install
            .admin(&["user", "show", "nobody@nowhere.test"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("user list"));
        install.admin(&["user", "show", "not an address"]).assert().code(2);
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_names_the_deciding_rule() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();
        let store = install.store().await;
        let mut tx = store.begin().await.unwrap();
        let engaged = ClientId::from_uuid(Uuid::now_v7());
        let stranger = ClientId::from_uuid(Uuid::now_v7());
        for (client, name) in [(engaged, "Northwind Trading"), (stranger, "Southwind Trading")] {
            let record = ClientRecord {
                id: client,
                name: OrganisationName::parse(name).unwrap(),
                created_at: OffsetDateTime::now_utc(),
            };
            tx.insert_client(&record).await.unwrap();
        }
        let engagement = EngagementRecord {
            id: EngagementId::from_uuid(Uuid::now_v7()),
            practice: practice_id(&id),
            client: engaged,
            state: ConsentState::Active,
            changed_at: OffsetDateTime::now_utc(),
        };
        tx.insert_engagement(&engagement).await.unwrap();
        tx.commit().await.unwrap();

        let allowed = install.json(&["explain", "--user", "ada@harbour.test", "--client", &engaged.to_string()]);
        assert_eq!(allowed["client"]["name"], "Northwind Trading");
        let decisions = allowed["decisions"].as_array().unwrap();
        assert!(!decisions.is_empty());
        let view = decisions.iter().find(|d| d["action"] == "client.view").expect("client.view");
        assert_eq!(view["allowed"], true, "{engine}: {view}");
        assert_eq!(view["rule"], "admin_sees_all_engaged_clients");

        let denied = install.json(&["explain", "--user", "ada@harbour.test", "--client", &stranger.to_string()]);
        let view = denied["decisions"].as_array().unwrap().iter().find(|d| d["action"] == "client.view").unwrap();
        assert_eq!(view["allowed"], false, "{engine}");
        assert_eq!(view["outcome"], "not_found");
        assert_eq!(view["rule"], "no_active_engagement");
        assert_eq!(view["product_rule"], 2);
        install
            .admin(&["explain", "--user", "ada@harbour.test", "--client", &stranger.to_string()])
            .assert()
            .success()
            .stdout(predicate::str::contains("no_active_engagement"));
        install
            .admin(&["explain", "--user", "ada@harbour.test", "--client", &Uuid::now_v7().to_string()])
            .assert()
            .code(1);
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_export_and_verify_detect_an_altered_entry() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        let other = install.apply("Other Books", "olga@other.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();
        install.admin(&["practice", "approve", &other]).assert().success();
        install.admin(&["practice", "set-plan", &id, "--seats", "7"]).assert().success();

        let intact = install.json(&["audit", "verify"]);
        assert_eq!(intact["intact"], true, "{engine}: {intact}");
        assert_eq!(intact["entries_checked"], 5);
        assert!(intact["first_broken"].is_null());

        // Export: JSON lines, one entry each, only the practice's.
        let output = install.admin(&["audit", "export", "--since", "2000-01-01", "--practice", &id]).output().unwrap();
        assert!(output.status.success(), "{engine}: {}", stderr(&output));
        let lines: Vec<Value> =
            stdout(&output).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
        assert_eq!(lines.len(), 3, "{engine}: apply, approve, set_plan");
        for line in &lines {
            assert_eq!(line["practice"], id.as_str());
            assert_eq!(line["hash"].as_str().unwrap().len(), 64);
        }
        assert_eq!(lines[2]["action"], "practice.set_plan");
        let tomorrow = (OffsetDateTime::now_utc() + time::Duration::DAY).date().to_string();
        let later = install.admin(&["audit", "export", "--since", &tomorrow]).output().unwrap();
        assert!(later.status.success());
        assert!(stdout(&later).is_empty(), "{engine}: nothing since tomorrow");
        install.admin(&["audit", "export", "--since", "yesterday"]).assert().code(2);

        // Someone with database access disables the guard and rewrites entry 2.
        let disable = match engine {
            "sqlite" => "DROP TRIGGER audit_log_no_update",
            _ => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        };
        install.raw_execute(&[disable, "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 2"]).await;
        let output = install.admin(&["--json", "audit", "verify"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{engine}");
        let broken: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(broken["intact"], false);
        assert_eq!(broken["first_broken"]["seq"], 2, "{engine}: {broken}");
        assert!(broken["first_broken"]["problem"].as_str().unwrap().contains("altered"));
        install.admin(&["audit", "verify"]).assert().code(1).stdout(predicate::str::contains("BROKEN at entry 2"));
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_detects_a_removed_entry() {
    let install = Install::sqlite();
    install.admin(&["migrate"]).assert().success();
    let id = install.apply("Harbour Books", "ada@harbour.test").await;
    install.admin(&["practice", "approve", &id]).assert().success();
    install.admin(&["practice", "suspend", &id, "--yes"]).assert().success();
    install.raw_execute(&["DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq = 2"]).await;
    let output = install.admin(&["--json", "audit", "verify"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let broken: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(broken["first_broken"]["seq"], 3, "{broken}");
    assert!(broken["first_broken"]["problem"].as_str().unwrap().contains("does not link"));
}

/// Records a live document of `practice` stored under `key` (as an upload does).
async fn record_document(install: &Install, practice: &str, key: &str, size: u64) -> DocumentId {
    let store = install.store().await;
    let mut tx = store.begin().await.unwrap();
    let id = DocumentId::from_uuid(Uuid::now_v7());
    let practice = practice_id(practice);
    let admin = tx.list_members(practice, &[ferry_domain::people::Role::Admin], &PageRequest::first(1)).await.unwrap();
    let uploader = admin.items[0].user.id;
    let client = ClientId::from_uuid(Uuid::now_v7());
    let record = ClientRecord {
        id: client,
        name: OrganisationName::parse(&format!("Client {id}")).unwrap(),
        created_at: OffsetDateTime::now_utc(),
    };
    tx.insert_client(&record).await.unwrap();
    tx.insert_document(&NewDocument {
        id,
        batch: BatchId::from_uuid(Uuid::now_v7()),
        practice,
        client: Some(client),
        connection: None,
        uploader,
        name: "statement.pdf".to_owned(),
        size: Bytes::new(size),
        content_type: "application/pdf".to_owned(),
        sha256: [7; 32],
        blob_key: key.to_owned(),
        recipients: Vec::new(),
        created_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_finds_a_deleted_blob_and_a_stray_one_and_repairs_what_is_safe() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();
        install.json(&["check"]);

        // Two documents whose files are stored; then one file is deleted behind the database's back,
        // and a file no document refers to appears.
        let kept = format!("documents/{}", Uuid::now_v7());
        let lost = format!("documents/{}", Uuid::now_v7());
        let stray = format!("documents/{}", Uuid::now_v7());
        install.put_blob(&kept, b"kept file").await;
        install.put_blob(&lost, b"lost file").await;
        install.put_blob(&stray, b"nobody's file").await;
        record_document(&install, &id, &kept, 9).await;
        let lost_document = record_document(&install, &id, &lost, 9).await;
        ferry_ports::blob::BlobStore::delete(&install.blobs(), &ferry_ports::blob::BlobKey::parse(&lost).unwrap())
            .await
            .unwrap();

        // Within the grace period the stray file is spared.
        let output = install.admin(&["--json", "check"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{engine}: a missing file is a problem");
        let spared: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(spared["stray_blobs"].as_array().unwrap().len(), 0, "{engine}: {spared}");
        assert_eq!(spared["recent_unreferenced_blobs"], 1);

        let output = install.admin(&["--json", "check", "--grace-hours", "0"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{engine}: problems found");
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["consistent"], false);
        assert_eq!(report["documents_checked"], 2, "{engine}: {report}");
        let missing = report["missing_blobs"].as_array().unwrap();
        assert_eq!(missing.len(), 1, "{engine}: {report}");
        assert_eq!(missing[0]["document"], lost_document.to_string());
        let strays = report["stray_blobs"].as_array().unwrap();
        assert_eq!(strays.len(), 1, "{engine}: {report}");
        assert_eq!(strays[0]["blob_key"], stray.as_str());
        assert_eq!(strays[0]["deleted"], false);
        // The documents were recorded without their storage being counted: a drift.
        let drift = report["storage_mismatches"].as_array().unwrap();
        assert_eq!(drift.len(), 1, "{engine}: {report}");
        assert_eq!(drift[0]["recorded_bytes"], 0);
        assert_eq!(drift[0]["document_bytes"], 18);
        assert!(install.has_blob(&stray).await, "{engine}: a check alone changes nothing");

        // Repair needs confirmation; then it deletes the stray file and recounts the storage.
        install.admin(&["check", "--repair", "--grace-hours", "0"]).assert().code(2);
        let output = install.admin(&["--json", "check", "--repair", "--yes", "--grace-hours", "0"]).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{engine}: the missing file cannot be repaired");
        let repaired: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(repaired["stray_blobs"][0]["deleted"], true, "{engine}: {repaired}");
        assert_eq!(repaired["storage_mismatches"][0]["repaired"], true);
        assert_eq!(repaired["unresolved"], 1);
        assert!(!install.has_blob(&stray).await, "{engine}: the stray file is gone");
        assert!(install.has_blob(&kept).await, "{engine}: a document's file stays");
        let mut tx = read(&install).await;
        let accounts = tx.storage_accounts().await.unwrap();
        tx.rollback().await.unwrap();
        let account = accounts.iter().find(|a| a.practice == practice_id(&id)).unwrap();
        assert_eq!(account.recorded, Bytes::new(18), "{engine}");
        assert!(account.is_consistent());

        let human = install.admin(&["check", "--grace-hours", "0"]).output().unwrap();
        assert_eq!(human.status.code(), Some(1));
        assert!(stdout(&human).contains("MISSING"), "{engine}: {}", stdout(&human));
        assert!(stdout(&human).contains(&lost_document.to_string()));
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_orphans_and_expired_rows() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();
        let orphan = format!("documents/{}", Uuid::now_v7());
        install.put_blob(&orphan, b"orphan").await;
        // A segment of a resumable upload is tracked by its upload, not by a document.
        let segment = format!("uploads/{}/{}", Uuid::now_v7(), Uuid::now_v7());
        install.put_blob(&segment, b"part of an upload").await;

        install.admin(&["gc"]).assert().code(2);
        let spared = install.json(&["gc", "--yes"]);
        assert_eq!(spared["orphan_blobs"], 0, "{engine}: within the grace period");
        assert!(install.has_blob(&orphan).await);
        let report = install.json(&["gc", "--yes", "--grace-hours", "0"]);
        assert_eq!(report["orphan_blobs"], 1, "{engine}: {report}");
        for field in ["sessions", "links", "login_failures", "reservations", "expired_uploads", "abandoned_uploads"] {
            assert!(report[field].is_u64(), "{engine}: {field} in {report}");
        }
        assert!(!install.has_blob(&orphan).await, "{engine}");
        assert!(install.has_blob(&segment).await, "{engine}: upload segments are not documents' files");
        let checked = install.json(&["check", "--grace-hours", "0"]);
        assert_eq!(checked["consistent"], true, "{engine}: {checked}");
        install.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_mail_is_listed_and_retried() {
    for install in Install::each_migrated().await {
        let engine = install.engine;
        let id = install.apply("Harbour Books", "ada@harbour.test").await;
        install.admin(&["practice", "approve", &id]).assert().success();
        assert!(install.json(&["outbox", "list"]).as_array().unwrap().is_empty());

        // The sender gives up on the approval mail.
        let store = install.store().await;
        let mut tx = store.begin().await.unwrap();
        let now = OffsetDateTime::now_utc();
        let claimed = tx.claim_mail(now + time::Duration::MINUTE, now + time::Duration::HOUR, 10).await.unwrap();
        let message = claimed.iter().find(|m| m.mail.to == EmailAddress::parse("ada@harbour.test").unwrap()).unwrap();
        tx.mark_mail_failed(message.id, "550 mailbox unavailable", None).await.unwrap();
        tx.commit().await.unwrap();

        let failed = install.json(&["outbox", "list"]);
        let failed = failed.as_array().unwrap();
        assert_eq!(failed.len(), 1, "{engine}");
        assert_eq!(failed[0]["id"], message.id.to_string());
        assert_eq!(failed[0]["last_error"], "550 mailbox unavailable");
        assert!(failed[0].get("text").is_none() && failed[0].get("html").is_none(), "bodies carry links");
        install.admin(&["outbox", "list"]).assert().success().stdout(predicate::str::contains("550 mailbox"));

        install.admin(&["outbox", "retry"]).assert().code(2);
        install.admin(&["outbox", "retry", &Uuid::now_v7().to_string()]).assert().code(1);
        assert_eq!(install.json(&["outbox", "retry", "--all"])["queued"], 1, "{engine}");
        let mut tx = read(&install).await;
        let pending = tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(50)).await.unwrap().items;
        tx.rollback().await.unwrap();
        assert!(pending.iter().any(|m| m.id == message.id), "{engine}: queued again");
        assert!(install.json(&["outbox", "list"]).as_array().unwrap().is_empty());
        install.finish().await;
    }
}
