//! The shared fixture of the authorization matrix (`tests/matrix.rs`) and
//! the bad-input test (`tests/bad_input.rs`): a seeded world on SQLite, one
//! signed-in session per role, and what both tests need to call every
//! operation of the OpenAPI document with valid input.
//!
//! The world is seeded once per test process straight through the store
//! port (no HTTP, no Argon2: sessions are inserted with their token hashes),
//! written to a template database, and every [`World`] is a copy of that
//! file in its own temporary folder, so a fresh world costs a file copy.
//!
//! The world (P, Q, R approved; S suspended):
//!
//! | key | what |
//! | --- | --- |
//! | `P` | the practice under test: `admin`, `staff_assigned` (assigned C1), `staff_unassigned`, `bk_task` (holds T1 on active F1 of C1), `bk_none`, `bk_filed` (holds only T_F, on filed F_FILED of C1), `deactivated` (staff, inactive) |
//! | `Q` | another approved practice: `q_admin`, `q_staff` (assigned C3) |
//! | `S` | a suspended practice: `s_admin` |
//! | `R` | an approved practice with no relation to the users under test (a directory entry to grant access to; it asked `outside` for a connection) |
//! | `C1` | client of P (engagement `E_P_C1` active), owner `client_owner`, member `c1_member`; Q asked to serve it (`E_Q_C1`, requested by Q) |
//! | `C2` | client of P (`E_P_C2` active), owner `other_client` |
//! | `C3` | client of Q only (`E_Q_C3` active), owner `c3_owner` |
//! | `C4` | asked P to serve it (`E_P_C4`, requested by the client), owner `c4_owner` |
//! | `F1` | active filing of C1 by P: tasks `T1` (held by `bk_task`, checklist item `I1`) and `T2` (unassigned, item `I2`) |
//! | `F_FILED` | filed filing of C1 by P: task `T_F` (held by `bk_filed`, item `I_F`) |
//! | `FQ`, `FQ_FILED` | Q's active and filed filings of C3: task `TQ` on FQ (held by `q_staff`, item `IQ`) |
//! | `X_P_OP` | connection P–`outside`, active |
//! | `X_R_OP` | connection R–`outside`, requested by R |
//! | `X_Q_OQ` | connection Q–`q_outside`, requested by Q |
//! | `D1` | document of C1 sent by `staff_assigned` to `client_owner` |
//! | `D_CO` | document of C1 sent by `client_owner` to `admin` |
//! | `DQ` | document of C3 sent by `q_staff` to `c3_owner` (Q's storage) |
//! | `DX` | document sent by `admin` to `outside` over `X_P_OP` |
//! | `B_OPEN` | an open transfer (no file yet) by `staff_assigned` to `client_owner` of C1 |
//! | `BQ_OPEN` | an open transfer (no file yet) by `q_staff` to `c3_owner` of C3 |
//!
//! Two working links from mail are stored too (`set_password_link` for
//! `staff_unassigned`, `invitation_link` accepting `X_R_OP` for `outside`).
//!
//! Every user has accepted the terms of use (version 1, which the app is
//! configured with), so `accept_terms` has something to accept and no
//! operation is refused for pending terms.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_app::{App, AppConfig, PasswordPolicy, SecretToken, SystemClock, Terms, UuidV7};
use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{
    BatchId, ChecklistItemId, ClientId, ConnectionId, DocumentId, EngagementId, FilingId, PracticeId, TaskId, UserId,
};
use ferry_domain::people::{Actor, ClientRole, Role as PracticeRole};
use ferry_domain::practice::{Plan, PracticeStatus};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName, Title};
use ferry_domain::work::{Assignee, FilingKind, FilingStatus};
use ferry_http::HttpConfig;
use ferry_mail::templates::BaseUrl;
use ferry_ports::blob::{BlobKey, BlobStore};
use ferry_ports::clock::IdGenerator;
use ferry_ports::records::{
    ChecklistItemRecord, ClientRecord, ConnectionRecord, EngagementRecord, FilingRecord, NewDocument, NewPractice,
    NewSession, NewTask, NewToken, NewUser, TokenPurpose, TransferRecord, UserKind,
};
use ferry_ports::{Store, Tx};
use ferry_store_sql::SqlStore;
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::test::TestClient;
use poem::{EndpointExt, Response};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::OnceCell;

/// Who calls: the roles of the issue, plus an outside party connected to P.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Role {
    /// P's admin.
    Admin,
    /// P's staff member assigned C1.
    StaffAssigned,
    /// P's staff member with no assignment and no task.
    StaffUnassigned,
    /// P's bookkeeper holding T1 on the active filing F1 of C1.
    BookkeeperWithTask,
    /// P's bookkeeper holding no task.
    BookkeeperWithout,
    /// P's bookkeeper whose only task is on the filed filing F_FILED.
    BookkeeperFiled,
    /// The owner of C1.
    ClientOwner,
    /// The owner of C2 (another client of P).
    OtherClientUser,
    /// Q's admin.
    OtherPracticeAdmin,
    /// S's admin (S is suspended).
    SuspendedPracticeAdmin,
    /// P's deactivated staff member (their session was live when deactivated).
    Deactivated,
    /// No session at all.
    Anonymous,
    /// The outside party connected to P (and asked by R).
    OutsideParty,
}

/// Every role, in the column order of the matrix's table.
pub(crate) const ROLES: [Role; 13] = [
    Role::Admin,
    Role::StaffAssigned,
    Role::StaffUnassigned,
    Role::BookkeeperWithTask,
    Role::BookkeeperWithout,
    Role::BookkeeperFiled,
    Role::ClientOwner,
    Role::OtherClientUser,
    Role::OtherPracticeAdmin,
    Role::SuspendedPracticeAdmin,
    Role::Deactivated,
    Role::Anonymous,
    Role::OutsideParty,
];

impl Role {
    /// The column heading used in the table and in failure messages.
    pub(crate) const fn short(self) -> &'static str {
        match self {
            Self::Admin => "A",
            Self::StaffAssigned => "SA",
            Self::StaffUnassigned => "SU",
            Self::BookkeeperWithTask => "BT",
            Self::BookkeeperWithout => "BN",
            Self::BookkeeperFiled => "BF",
            Self::ClientOwner => "CO",
            Self::OtherClientUser => "OC",
            Self::OtherPracticeAdmin => "QA",
            Self::SuspendedPracticeAdmin => "SS",
            Self::Deactivated => "D",
            Self::Anonymous => "AN",
            Self::OutsideParty => "OP",
        }
    }

    /// In words, for failure messages.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::StaffAssigned => "staff assigned",
            Self::StaffUnassigned => "staff unassigned",
            Self::BookkeeperWithTask => "bookkeeper with task",
            Self::BookkeeperWithout => "bookkeeper without task",
            Self::BookkeeperFiled => "bookkeeper after filing filed",
            Self::ClientOwner => "client owner",
            Self::OtherClientUser => "other client's user",
            Self::OtherPracticeAdmin => "other practice's admin",
            Self::SuspendedPracticeAdmin => "suspended practice's admin",
            Self::Deactivated => "deactivated user",
            Self::Anonymous => "anonymous",
            Self::OutsideParty => "outside party",
        }
    }

    /// The fixture key of the user acting in this role.
    pub(crate) const fn user_key(self) -> Option<&'static str> {
        Some(match self {
            Self::Admin => "admin",
            Self::StaffAssigned => "staff_assigned",
            Self::StaffUnassigned => "staff_unassigned",
            Self::BookkeeperWithTask => "bk_task",
            Self::BookkeeperWithout => "bk_none",
            Self::BookkeeperFiled => "bk_filed",
            Self::ClientOwner => "client_owner",
            Self::OtherClientUser => "other_client",
            Self::OtherPracticeAdmin => "q_admin",
            Self::SuspendedPracticeAdmin => "s_admin",
            Self::Deactivated => "deactivated",
            Self::OutsideParty => "outside",
            Self::Anonymous => return None,
        })
    }
}

/// The seeded template: where its database is, its ids and session tokens.
struct Template {
    _dir: tempfile::TempDir,
    db: PathBuf,
    ids: BTreeMap<&'static str, String>,
    tokens: BTreeMap<&'static str, String>,
}

static TEMPLATE: OnceCell<Template> = OnceCell::const_new();

/// The bytes of every fixture document.
pub(crate) const DOCUMENT_CONTENT: &[u8] = b"date,amount\n2026-03-01,12.50\n";

/// The fixture documents, whose bytes each world writes into its file store.
pub(crate) const DOCUMENTS: &[&str] = &["D1", "D_CO", "DQ", "DX"];

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The installation's terms of use in the test configuration.
pub(crate) const TERMS_VERSION: u32 = 1;

/// One world: a copy of the template database with the app and the web
/// server over it.
pub(crate) struct World {
    dir: tempfile::TempDir,
    /// The SQLite file.
    pub(crate) db: PathBuf,
    /// The use cases over it.
    pub(crate) app: App,
    /// The web server's settings.
    pub(crate) http: HttpConfig,
    /// The web server, in process.
    pub(crate) client: TestClient<BoxEndpoint<'static, Response>>,
    ids: BTreeMap<&'static str, String>,
    tokens: BTreeMap<&'static str, String>,
}

/// What a request answered.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// The status.
    pub(crate) status: StatusCode,
    /// The body, as JSON when it is JSON (`Value::Null` when empty or not JSON).
    pub(crate) json: Value,
    /// The body as text.
    pub(crate) text: String,
    /// The headers.
    pub(crate) headers: poem::http::HeaderMap,
}

impl Answer {
    /// The `Allow` header, empty when there is none.
    pub(crate) fn headers_allow(&self) -> &str {
        self.headers.get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

impl World {
    /// A fresh world: a copy of the seeded template.
    pub(crate) async fn new() -> Self {
        let template = TEMPLATE.get_or_init(build_template).await;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let db = dir.path().join("ferry.db");
        copy_database(&template.db, &db);
        let store = SqlStore::connect(&format!("sqlite://{}", db.display())).await.expect("the copied database");
        let blobs = ferry_blob::EncryptedBlobStore::in_memory();
        for key in DOCUMENTS {
            let id = template.ids.get(key).expect("a fixture document");
            let key = BlobKey::parse(&format!("documents/{id}")).expect("a blob key");
            let mut upload = blobs.begin_upload(&key).await.expect("begin a fixture upload");
            upload.write(DOCUMENT_CONTENT).await.expect("write a fixture file");
            upload.commit().await.expect("commit a fixture file");
        }
        let app = App::new(Arc::new(store), Arc::new(blobs), Arc::new(SystemClock), Arc::new(UuidV7), app_config());
        let http = HttpConfig { secure_cookies: false, public_url: "http://localhost:8080".to_owned() };
        let client = TestClient::new(ferry_http::router(app.clone(), http.clone()).map_to_response().boxed());
        Self { dir, db, app, http, client, ids: template.ids.clone(), tokens: template.tokens.clone() }
    }

    /// The id of a fixture object by key (see the module docs).
    ///
    /// # Panics
    /// For an unknown key: a typo in a table.
    pub(crate) fn id(&self, key: &str) -> String {
        self.ids.get(key).unwrap_or_else(|| panic!("no fixture object `{key}`")).clone()
    }

    /// The session token of `role`, if it has one.
    pub(crate) fn token(&self, role: Role) -> Option<String> {
        role.user_key().map(|key| self.tokens.get(key).unwrap_or_else(|| panic!("no session for {key}")).clone())
    }

    /// A working single-use link token: `set_password_link` (for
    /// `staff_unassigned`) or `invitation_link` (accepts `X_R_OP` for `outside`).
    pub(crate) fn link(&self, key: &str) -> String {
        self.tokens.get(key).unwrap_or_else(|| panic!("no link `{key}`")).clone()
    }

    /// The OpenAPI document, parsed.
    pub(crate) fn spec(&self) -> Value {
        serde_json::from_str(&ferry_http::spec_json(&self.app, &self.http)).expect("the OpenAPI document is JSON")
    }

    /// Sends `method path` (under `/api/v1`) as `role`, with `body` as JSON.
    pub(crate) async fn send(&self, role: Role, method: &Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = self.client.request(method.clone(), format!("/api/v1{path}"));
        if let Some(token) = self.token(role) {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request.body_json(body);
        }
        answer(request.send().await).await
    }

    /// Sends a raw body with a JSON content type (for malformed JSON).
    pub(crate) async fn send_raw(&self, role: Role, method: &Method, path: &str, body: &str) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("/api/v1{path}"))
            .content_type("application/json")
            .body(body.to_owned());
        if let Some(token) = self.token(role) {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        answer(request.send().await).await
    }

    /// Sends a body labelled as plain text.
    pub(crate) async fn send_text(&self, role: Role, method: &Method, path: &str, body: &str) -> Answer {
        let mut request = self
            .client
            .request(method.clone(), format!("/api/v1{path}"))
            .content_type("text/plain")
            .body(body.to_owned());
        if let Some(token) = self.token(role) {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        answer(request.send().await).await
    }

    /// Fills a path template such as `/practices/{practice}/people/{user}`
    /// from `params`, a list such as `practice=P user=SU` of parameter names
    /// and fixture keys (a value that is no key is used as it is).
    ///
    /// # Panics
    /// When a parameter of the template is not given, or one given is not in it.
    pub(crate) fn fill(&self, template: &str, params: &str) -> String {
        let given = parse_params(params);
        let mut used = 0;
        let path = template
            .split('/')
            .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    let value =
                        given.get(name).unwrap_or_else(|| panic!("{template}: no value for {{{name}}} in `{params}`"));
                    used += 1;
                    self.ids.get(value.as_str()).cloned().unwrap_or_else(|| value.clone())
                }
                None => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        assert_eq!(used, given.len(), "{template}: `{params}` names a parameter the path does not have");
        path
    }

    /// Where the temporary folder is (kept alive with the world).
    pub(crate) fn folder(&self) -> &Path {
        self.dir.path()
    }
}

/// `name=value name=value` as a map.
pub(crate) fn parse_params(params: &str) -> BTreeMap<String, String> {
    params
        .split_whitespace()
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or_else(|| panic!("`{pair}` is not name=value"));
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

async fn answer(response: poem::test::TestResponse) -> Answer {
    let status = response.0.status();
    let headers = response.0.headers().clone();
    let text = response.0.into_body().into_string().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer { status, json, text, headers }
}

fn app_config() -> AppConfig {
    let mut config = AppConfig::new(BaseUrl::parse("http://localhost:8080").expect("a base URL"));
    config.passwords = PasswordPolicy { memory_kib: 64, iterations: 1, ..PasswordPolicy::default() };
    config.terms = Some(Terms { version: TERMS_VERSION, text: "Be nice.".to_owned() });
    config
}

fn copy_database(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy the template database");
    for suffix in ["-wal", "-shm"] {
        let extra = PathBuf::from(format!("{}{suffix}", from.display()));
        if extra.exists() {
            std::fs::copy(&extra, format!("{}{suffix}", to.display())).expect("copy the template's WAL");
        }
    }
}

/// Seeds the world through the store and closes it, so the template is one file.
async fn build_template() -> Template {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = dir.path().join("template.db");
    let store = SqlStore::connect(&format!("sqlite://{}", db.display())).await.expect("SQLite");
    store.migrate().await.expect("migrations");
    let mut tx = store.begin().await.expect("begin");
    let mut seed = Seed { tx: &mut *tx, now: OffsetDateTime::now_utc(), ids: BTreeMap::new(), tokens: BTreeMap::new() };
    seed.world().await;
    let Seed { ids, tokens, .. } = seed;
    tx.commit().await.expect("commit the seed");
    drop(tx);
    store.close().await;
    Template { _dir: dir, db, ids, tokens }
}

struct Seed<'a> {
    tx: &'a mut dyn Tx,
    now: OffsetDateTime,
    ids: BTreeMap<&'static str, String>,
    tokens: BTreeMap<&'static str, String>,
}

fn new_id() -> uuid::Uuid {
    UuidV7.new_id()
}

impl Seed<'_> {
    async fn world(&mut self) {
        let p = self.practice("P", "Practice P", PracticeStatus::Approved).await;
        let q = self.practice("Q", "Practice Q", PracticeStatus::Approved).await;
        let s = self.practice("S", "Practice S", PracticeStatus::Suspended).await;
        let r = self.practice("R", "Practice R", PracticeStatus::Approved).await;

        let _admin = self.member("admin", p, PracticeRole::Admin).await;
        let staff_assigned = self.member("staff_assigned", p, PracticeRole::Staff).await;
        let _staff_unassigned = self.member("staff_unassigned", p, PracticeRole::Staff).await;
        let bk_task = self.member("bk_task", p, PracticeRole::Bookkeeper).await;
        let _bk_none = self.member("bk_none", p, PracticeRole::Bookkeeper).await;
        let bk_filed = self.member("bk_filed", p, PracticeRole::Bookkeeper).await;
        let deactivated = self.member("deactivated", p, PracticeRole::Staff).await;
        let _q_admin = self.member("q_admin", q, PracticeRole::Admin).await;
        let q_staff = self.member("q_staff", q, PracticeRole::Staff).await;
        let _s_admin = self.member("s_admin", s, PracticeRole::Admin).await;
        let _r_admin = self.member("r_admin", r, PracticeRole::Admin).await;
        let outside = self.user("outside", UserKind::Outside).await;
        let q_outside = self.user("q_outside", UserKind::Outside).await;

        let c1 = self.client("C1", "client_owner").await;
        let c1_member = self.user("c1_member", UserKind::Client).await;
        self.tx.add_client_member(c1, c1_member, ClientRole::Member).await.expect("add a member");
        let c2 = self.client("C2", "other_client").await;
        let c3 = self.client("C3", "c3_owner").await;
        let c4 = self.client("C4", "c4_owner").await;

        self.engagement("E_P_C1", p, c1, ConsentState::Active).await;
        self.engagement("E_Q_C1", q, c1, ConsentState::Requested { by: Side::Practice }).await;
        self.engagement("E_P_C2", p, c2, ConsentState::Active).await;
        self.engagement("E_Q_C3", q, c3, ConsentState::Active).await;
        self.engagement("E_P_C4", p, c4, ConsentState::Requested { by: Side::Counterparty }).await;

        self.connection("X_P_OP", p, outside, ConsentState::Active).await;
        self.connection("X_R_OP", r, outside, ConsentState::Requested { by: Side::Practice }).await;
        self.connection("X_Q_OQ", q, q_outside, ConsentState::Requested { by: Side::Practice }).await;

        self.tx.assign_client(staff_assigned, c1, self.now).await.expect("assign C1");
        self.tx.assign_client(q_staff, c3, self.now).await.expect("assign C3");

        let f1 = self.filing("F1", p, c1).await;
        let t1 = self.task("T1", f1, Some(bk_task)).await;
        self.item("I1", t1).await;
        let t2 = self.task("T2", f1, None).await;
        self.item("I2", t2).await;

        let filed = self.filing("F_FILED", p, c1).await;
        let tf = self.task("T_F", filed, Some(bk_filed)).await;
        self.item("I_F", tf).await;
        self.tx.set_filing_status(filed, FilingStatus::Active, FilingStatus::Filed, self.now).await.expect("file");

        let fq = self.filing("FQ", q, c3).await;
        let tq = self.task("TQ", fq, Some(q_staff)).await;
        self.item("IQ", tq).await;
        let fq_filed = self.filing("FQ_FILED", q, c3).await;
        self.tx.set_filing_status(fq_filed, FilingStatus::Active, FilingStatus::Filed, self.now).await.expect("file");

        // Documents (their bytes are written into each world's file store by
        // `World::new`) and an open transfer with no file yet.
        let admin: UserId = self.ids["admin"].parse().expect("a user id");
        let owner: UserId = self.ids["client_owner"].parse().expect("a user id");
        let c3_owner: UserId = self.ids["c3_owner"].parse().expect("a user id");
        let x_p_op: ConnectionId = self.ids["X_P_OP"].parse().expect("a connection id");
        self.document("D1", p, Some(c1), None, staff_assigned, owner).await;
        self.document("D_CO", p, Some(c1), None, owner, admin).await;
        self.document("DQ", q, Some(c3), None, q_staff, c3_owner).await;
        self.document("DX", p, None, Some(x_p_op), admin, outside).await;
        for (key, practice, client, sender, recipient) in
            [("B_OPEN", p, c1, staff_assigned, owner), ("BQ_OPEN", q, c3, q_staff, c3_owner)]
        {
            let batch = BatchId::from_uuid(new_id());
            self.tx
                .insert_transfer(&TransferRecord {
                    id: batch,
                    practice,
                    client: Some(client),
                    connection: None,
                    sender,
                    recipients: vec![recipient],
                    created_at: self.now,
                    completed_at: None,
                })
                .await
                .expect("insert an open transfer");
            self.ids.insert(key, batch.to_string());
        }

        // Sessions for every role, then the deactivation (its session stays in the table).
        for role in ROLES {
            if let Some(key) = role.user_key() {
                let user: UserId = self.ids[key].parse().expect("a user id");
                let token = SecretToken::mint();
                self.tx
                    .insert_session(&NewSession {
                        id: new_id(),
                        hash: token.hash(),
                        user,
                        created_at: self.now,
                        expires_at: self.now + time::Duration::hours(8),
                    })
                    .await
                    .expect("insert a session");
                self.tokens.insert(key, token.expose().to_owned());
            }
        }
        self.tx.set_user_active(deactivated, false).await.expect("deactivate");

        // Working links from mail, for the bad-input test's valid requests.
        let staff_unassigned: UserId = self.ids["staff_unassigned"].parse().expect("a user id");
        let x_r_op: ConnectionId = self.ids["X_R_OP"].parse().expect("a connection id");
        for (key, purpose, user) in [
            ("set_password_link", TokenPurpose::SetPassword, staff_unassigned),
            ("invitation_link", TokenPurpose::AcceptConnection(x_r_op), outside),
        ] {
            let token = SecretToken::mint();
            self.tx
                .insert_token(&NewToken {
                    hash: token.hash(),
                    purpose,
                    user,
                    created_at: self.now,
                    expires_at: self.now + time::Duration::days(1),
                })
                .await
                .expect("insert a link token");
            self.tokens.insert(key, token.expose().to_owned());
        }
    }

    async fn practice(&mut self, key: &'static str, name: &str, status: PracticeStatus) -> PracticeId {
        let id = PracticeId::from_uuid(new_id());
        let practice = NewPractice {
            id,
            name: OrganisationName::parse(name).expect("a name"),
            plan: Plan::default(),
            created_at: self.now,
        };
        self.tx.insert_practice(&practice).await.expect("insert a practice");
        self.tx
            .set_practice_status(id, PracticeStatus::Pending, PracticeStatus::Approved, self.now)
            .await
            .expect("approve");
        if status == PracticeStatus::Suspended {
            self.tx.set_practice_status(id, PracticeStatus::Approved, status, self.now).await.expect("suspend");
        }
        self.ids.insert(key, id.to_string());
        id
    }

    async fn user(&mut self, key: &'static str, kind: UserKind) -> UserId {
        let id = UserId::from_uuid(new_id());
        let user = NewUser {
            id,
            email: EmailAddress::parse(&format!("{}@example.com", key.replace('_', "."))).expect("an email"),
            name: PersonName::parse(&key.replace('_', " ")).expect("a name"),
            kind,
            created_at: self.now,
        };
        self.tx.insert_user(&user).await.expect("insert a user");
        self.tx.accept_terms(id, TERMS_VERSION, self.now).await.expect("accept the terms");
        self.ids.insert(key, id.to_string());
        id
    }

    async fn member(&mut self, key: &'static str, practice: PracticeId, role: PracticeRole) -> UserId {
        let id = self.user(key, UserKind::Practice).await;
        self.tx.insert_member(id, practice, role).await.expect("insert a member");
        id
    }

    async fn client(&mut self, key: &'static str, owner: &'static str) -> ClientId {
        let id = ClientId::from_uuid(new_id());
        let record = ClientRecord {
            id,
            name: OrganisationName::parse(&format!("Client {key}")).expect("a name"),
            created_at: self.now,
        };
        self.tx.insert_client(&record).await.expect("insert a client");
        let owner = self.user(owner, UserKind::Client).await;
        self.tx.add_client_member(id, owner, ClientRole::Owner).await.expect("add the owner");
        self.ids.insert(key, id.to_string());
        id
    }

    async fn engagement(&mut self, key: &'static str, practice: PracticeId, client: ClientId, state: ConsentState) {
        let id = EngagementId::from_uuid(new_id());
        let record = EngagementRecord { id, practice, client, state, changed_at: self.now };
        self.tx.insert_engagement(&record).await.expect("insert an engagement");
        self.ids.insert(key, id.to_string());
    }

    async fn connection(&mut self, key: &'static str, practice: PracticeId, party: UserId, state: ConsentState) {
        let id = ConnectionId::from_uuid(new_id());
        let record = ConnectionRecord { id, practice, outside_party: party, state, changed_at: self.now };
        self.tx.insert_connection(&record).await.expect("insert a connection");
        self.ids.insert(key, id.to_string());
    }

    async fn filing(&mut self, key: &'static str, practice: PracticeId, client: ClientId) -> FilingId {
        let id = FilingId::from_uuid(new_id());
        let filing = FilingRecord {
            id,
            practice,
            client,
            kind: FilingKind::GstHst,
            period: None,
            due: None,
            status: FilingStatus::Active,
            created_at: self.now,
        };
        self.tx.insert_filing(&filing).await.expect("insert a filing");
        self.ids.insert(key, id.to_string());
        id
    }

    async fn task(&mut self, key: &'static str, filing: FilingId, holder: Option<UserId>) -> TaskId {
        let id = TaskId::from_uuid(new_id());
        let task = NewTask {
            id,
            filing,
            title: Title::parse(&format!("Task {key}")).expect("a title"),
            due: None,
            created_at: self.now,
        };
        self.tx.insert_task(&task).await.expect("insert a task");
        if let Some(user) = holder {
            let Some(Actor::Practice(candidate)) = self.tx.actor(user).await.expect("the holder") else {
                panic!("task holders are practice users");
            };
            let assignee = Assignee::new(&candidate, candidate.practice).expect("a valid assignee");
            self.tx.set_task_assignee(id, Some(assignee)).await.expect("assign the task");
        }
        self.ids.insert(key, id.to_string());
        id
    }

    async fn document(
        &mut self,
        key: &'static str,
        practice: PracticeId,
        client: Option<ClientId>,
        connection: Option<ConnectionId>,
        uploader: UserId,
        recipient: UserId,
    ) {
        let id = DocumentId::from_uuid(new_id());
        let document = NewDocument {
            id,
            batch: BatchId::from_uuid(new_id()),
            practice,
            client,
            connection,
            uploader,
            name: format!("{key}.csv"),
            size: ferry_domain::quota::Bytes::new(DOCUMENT_CONTENT.len() as u64),
            content_type: "text/csv".to_owned(),
            sha256: sha256(DOCUMENT_CONTENT),
            blob_key: format!("documents/{id}"),
            recipients: vec![recipient],
            created_at: self.now,
        };
        self.tx.insert_document(&document).await.expect("insert a document");
        self.ids.insert(key, id.to_string());
    }

    async fn item(&mut self, key: &'static str, task: TaskId) {
        let item = ChecklistItemRecord {
            id: ChecklistItemId::from_uuid(new_id()),
            task,
            position: 0,
            text: Title::parse(&format!("Item {key}")).expect("a title"),
            done: false,
        };
        let stored = self.tx.add_checklist_item(&item).await.expect("add an item");
        self.ids.insert(key, stored.id.to_string());
    }
}

// ---------------------------------------------------------------------------
// The OpenAPI document.

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
pub(crate) struct SpecOp {
    /// The `operationId`.
    pub(crate) id: String,
    /// The method.
    pub(crate) method: Method,
    /// The path template, such as `/clients/{client}`.
    pub(crate) path: String,
    /// The JSON schema of the request body (resolved), if it takes one.
    pub(crate) body: Option<Value>,
}

impl SpecOp {
    /// The names of the path's parameters, in order.
    pub(crate) fn path_params(&self) -> Vec<&str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
    }

    /// Whether it reads only.
    pub(crate) fn is_read(&self) -> bool {
        self.method == Method::GET || self.method == Method::HEAD
    }
}

/// Every operation of the document, in document order.
pub(crate) fn spec_ops(spec: &Value) -> Vec<SpecOp> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let Some(id) = op["operationId"].as_str() else { continue };
            // The streaming operations take streams, not JSON: streaming.rs
            // drives them (role matrix, bad input) with bodies of their own.
            if ferry_http::operations::STREAMING.iter().any(|o| o.id == id) {
                continue;
            }
            let body = op["requestBody"]["content"]
                .as_object()
                .and_then(|content| content.values().next())
                .map(|media| resolve(spec, &media["schema"]));
            ops.push(SpecOp { id: id.to_owned(), method, path: path.clone(), body });
        }
    }
    ops
}

/// Follows `$ref` (and a single-element `allOf`) to the schema itself.
pub(crate) fn resolve(spec: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().expect("a schema name");
        return resolve(spec, &spec["components"]["schemas"][name]);
    }
    if let Some([only]) = schema["allOf"].as_array().map(Vec::as_slice) {
        return resolve(spec, only);
    }
    schema.clone()
}

/// The JSON type a property's schema asks for (`string`, `boolean`, `integer`, ...).
pub(crate) fn property_type(spec: &Value, schema: &Value) -> Option<String> {
    let schema = resolve(spec, schema);
    if let Some(t) = schema["type"].as_str() {
        return Some(t.to_owned());
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(found) = schema[key].as_array().and_then(|v| v.iter().find_map(|s| property_type(spec, s))) {
            return Some(found);
        }
    }
    None
}

/// Checks an example body against its schema: every required property is
/// there and every property is known. Keeps the tables honest when a
/// handler's body changes.
pub(crate) fn check_body(spec: &Value, schema: &Value, body: &Value) -> Result<(), String> {
    let properties = schema["properties"].as_object().cloned().unwrap_or_default();
    let Some(given) = body.as_object() else { return Err("the example body is not an object".to_owned()) };
    for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !given.contains_key(required) {
            return Err(format!("the example body lacks the required property `{required}`"));
        }
    }
    for (name, value) in given {
        let Some(property) = properties.get(name) else {
            return Err(format!("the example body has `{name}`, which the schema does not know"));
        };
        let wanted = property_type(spec, property);
        let fits = match (wanted.as_deref(), value) {
            (_, Value::Null) | (None, _) => true,
            (Some("string"), v) => v.is_string(),
            (Some("boolean"), v) => v.is_boolean(),
            (Some("integer"), v) => v.is_i64() || v.is_u64(),
            (Some("number"), v) => v.is_number(),
            (Some("array"), v) => v.is_array(),
            (Some("object"), v) => v.is_object(),
            _ => true,
        };
        if !fits {
            return Err(format!("the example body's `{name}` is not of type {}", wanted.unwrap_or_default()));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Valid input for every operation.

/// A minimal valid body for `op` (by `operationId`), or `None` when the
/// table has none. `n` makes addresses and names unique per call.
/// Bodies name fixture objects through `world` where they refer to one.
/// A body other than an operation's example, named by a row of the matrix.
pub(crate) fn variant_body(variant: &str, _world: &World) -> Value {
    match variant {
        // The address of C2's owner, who already has a client account.
        "existing_client_user" => json!({ "name": "A Colleague", "email": "other.client@example.com" }),
        // The address of P's admin, a practice user.
        "practice_user" => json!({ "name": "A Colleague", "email": "admin@example.com" }),
        // invite_person, invite_client, invite_outside_party at addresses that have accounts.
        "person_with_client_account" => {
            json!({ "name": "New Person", "email": "other.client@example.com", "role": "bookkeeper" })
        }
        "client_at_practice_address" => {
            json!({ "client_name": "New Client", "email": "q.admin@example.com", "name": "Cleo Client" })
        }
        "party_at_client_address" => json!({ "name": "Outside Accountant", "email": "c3.owner@example.com" }),
        other => panic!("no body variant {other}"),
    }
}

pub(crate) fn example_body(op: &str, world: &World, n: usize) -> Option<Value> {
    let password = "correct horse battery staple";
    Some(match op {
        // Public operations: their bodies are valid in shape; the tokens are not real.
        // A different unknown address each time, so the throttle (5 failures per account) never answers instead.
        "sign_in" => json!({ "email": format!("nobody{n}@example.com"), "password": "not the password" }),
        "set_password" => json!({ "token": "not-a-real-token", "password": password }),
        "request_password_reset" => json!({ "email": "nobody@example.com" }),
        "set_up_first_practice" => json!({
            "token": "not-a-real-token", "practice_name": "First Practice", "admin_name": "Ada First",
            "admin_email": format!("first{n}@example.com"), "password": password,
        }),
        "apply_for_practice" => json!({
            "practice_name": format!("Applicant {n}"), "admin_name": "Ada Applicant",
            "admin_email": format!("applicant{n}@example.com"),
        }),
        "accept_invitation" => json!({ "token": "not-a-real-token", "password": password }),

        "accept_terms" => json!({ "version": TERMS_VERSION }),
        "edit_practice" => json!({ "display_name": "Shown Name" }),
        "invite_person" => {
            json!({ "name": "New Person", "email": format!("person{n}@example.com"), "role": "bookkeeper" })
        }
        // A change to what it already is: valid, and the next cell finds the person as before.
        "change_person" => json!({ "role": "staff" }),
        "invite_client" => json!({
            "client_name": format!("New Client {n}"), "email": format!("newclient{n}@example.com"), "name": "Cleo Client",
        }),
        "invite_outside_party" => json!({ "name": "Outside Accountant", "email": format!("party{n}@example.com") }),
        "grant_practice_access" => json!({ "practice": world.id("R") }),
        "invite_client_member" => json!({ "name": "A Colleague", "email": format!("colleague{n}@example.com") }),

        "create_filing" => json!({ "kind": "gst_hst", "due": "2027-01-31" }),
        "create_task" => json!({ "title": "Reconcile the bank account", "due": "2027-01-15" }),
        "post_discussion" => json!({ "body": "A question about the period." }),
        "change_task" => json!({ "due": "2027-02-28" }),
        "set_task_status" => json!({ "status": "in_progress" }),
        "add_checklist_item" => json!({ "text": "Bank statements received" }),
        "tick_checklist_item" => json!({ "done": true }),
        "log_time" => json!({ "on": "2026-11-02", "minutes": 30, "note": "Bank reconciliation" }),
        "comment_on_task" => json!({ "body": "First pass done." }),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------
// The error shape.

/// Checks `{code, message, field?}`: `code` a non-empty string, `message` a
/// string, `field` (when present) a non-empty string, nothing else.
pub(crate) fn check_error_shape(answer: &Answer) -> Result<(), String> {
    let Some(object) = answer.json.as_object() else {
        return Err(format!("the error body is not a JSON object: {:?}", truncate(&answer.text)));
    };
    match object.get("code").and_then(Value::as_str) {
        Some(code) if !code.is_empty() => {}
        _ => return Err(format!("the error body has no non-empty `code`: {}", truncate(&answer.text))),
    }
    if !object.get("message").is_some_and(Value::is_string) {
        return Err(format!("the error body has no `message`: {}", truncate(&answer.text)));
    }
    if let Some(field) = object.get("field")
        && field.as_str().is_none_or(str::is_empty)
    {
        return Err(format!("the error body's `field` is not a non-empty string: {}", truncate(&answer.text)));
    }
    if let Some(other) = object.keys().find(|k| !matches!(k.as_str(), "code" | "message" | "field")) {
        return Err(format!("the error body has an unexpected `{other}`: {}", truncate(&answer.text)));
    }
    Ok(())
}

/// The first 300 characters of `text`.
pub(crate) fn truncate(text: &str) -> String {
    if text.chars().count() > 300 {
        format!("{}…", text.chars().take(300).collect::<String>())
    } else {
        text.to_owned()
    }
}
