//! The work operations over HTTP, in process: creating filings and tasks,
//! input errors that name their field, and unknown ids.

use std::sync::Arc;

use ferry_app::{App, AppConfig, PasswordPolicy, SecretToken, SystemClock, UuidV7};
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, EngagementId, PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::{Plan, PracticeStatus};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName};
use ferry_http::HttpConfig;
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store;
use ferry_ports::clock::IdGenerator;
use ferry_ports::records::{ClientRecord, EngagementRecord, NewPractice, NewSession, NewUser, UserKind};
use ferry_store_sql::SqlStore;
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::test::TestClient;
use poem::{EndpointExt, Response};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

fn new_id() -> Uuid {
    UuidV7.new_id()
}

struct Server {
    _dir: tempfile::TempDir,
    client: TestClient<BoxEndpoint<'static, Response>>,
    admin: String,
    admin_id: UserId,
    bookkeeper: String,
    bookkeeper_id: UserId,
    customer: ClientId,
}

/// A practice with an admin and a bookkeeper (each with a session), and an engaged client.
async fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&format!("sqlite://{}", dir.path().join("ferry.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let now = OffsetDateTime::now_utc();
    let practice = PracticeId::from_uuid(new_id());
    let customer = ClientId::from_uuid(new_id());
    let mut tx = store.begin().await.unwrap();
    tx.insert_practice(&NewPractice {
        id: practice,
        name: OrganisationName::parse("Ledger & Co").unwrap(),
        plan: Plan::default(),
        created_at: now,
    })
    .await
    .unwrap();
    tx.set_practice_status(practice, PracticeStatus::Pending, PracticeStatus::Approved, now).await.unwrap();
    let mut sessions = Vec::new();
    for (name, role) in [("admin", Role::Admin), ("bookkeeper", Role::Bookkeeper)] {
        let user = UserId::from_uuid(new_id());
        tx.insert_user(&NewUser {
            id: user,
            email: EmailAddress::parse(&format!("{name}@example.com")).unwrap(),
            name: PersonName::parse(name).unwrap(),
            kind: UserKind::Practice,
            created_at: now,
        })
        .await
        .unwrap();
        tx.insert_member(user, practice, role).await.unwrap();
        let token = SecretToken::mint();
        tx.insert_session(&NewSession {
            id: new_id(),
            hash: token.hash(),
            user,
            created_at: now,
            expires_at: now + Duration::hours(1),
        })
        .await
        .unwrap();
        sessions.push((token.expose().to_owned(), user));
    }
    tx.insert_client(&ClientRecord { id: customer, name: OrganisationName::parse("Acme").unwrap(), created_at: now })
        .await
        .unwrap();
    tx.insert_engagement(&EngagementRecord {
        id: EngagementId::from_uuid(new_id()),
        practice,
        client: customer,
        state: ConsentState::Active,
        changed_at: now,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    drop(tx);

    let mut config = AppConfig::new(BaseUrl::parse("http://localhost:8080").unwrap());
    config.passwords = PasswordPolicy { memory_kib: 64, iterations: 1, ..PasswordPolicy::default() };
    let app = App::new(
        Arc::new(store),
        Arc::new(ferry_blob::EncryptedBlobStore::in_memory()),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        config,
    );
    let http = HttpConfig { secure_cookies: false, public_url: "http://localhost:8080".to_owned() };
    let client = TestClient::new(ferry_http::router(app, http).map_to_response().boxed());
    let (bookkeeper, bookkeeper_id) = sessions.pop().unwrap();
    let (admin, admin_id) = sessions.pop().unwrap();
    Server { _dir: dir, client, admin, admin_id, bookkeeper, bookkeeper_id, customer }
}

impl Server {
    async fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request =
            self.client.request(method, format!("/api/v1{path}")).header("authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            request = request.body_json(&body);
        }
        let response = request.send().await.0;
        let status = response.status();
        let text = response.into_body().into_string().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn admins_create_filings_and_tasks_that_bookkeepers_then_work() {
    let s = server().await;
    let filings = format!("/clients/{}/filings", s.customer);
    let body = json!({"kind": "bas", "period_start": "2026-01-01", "period_end": "2026-03-31", "due": "2026-04-28"});
    let (status, filing) = s.call(&s.admin, Method::POST, &filings, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{filing}");
    assert_eq!(filing["status"], "active");
    assert_eq!(filing["kind"], "bas");
    assert_eq!(filing["period_start"], "2026-01-01");
    assert_eq!(filing["due"], "2026-04-28");
    let filing_id = filing["id"].as_str().unwrap().to_owned();

    let task = json!({"title": "Reconcile", "due": "2026-04-20", "assignee": s.bookkeeper_id.to_string(),
                      "reviewer": s.admin_id.to_string()});
    let (status, task) = s.call(&s.admin, Method::POST, &format!("/filings/{filing_id}/tasks"), Some(task)).await;
    assert_eq!(status, StatusCode::OK, "{task}");
    assert_eq!(task["assignee"], s.bookkeeper_id.to_string());
    assert_eq!(task["status"], "to_do");
    let task_id = task["id"].as_str().unwrap().to_owned();

    // The bookkeeper now opens the filing and works the task.
    let (status, view) = s.call(&s.bookkeeper, Method::GET, &format!("/filings/{filing_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["tasks"][0]["id"], task_id.as_str());
    let (status, changed) =
        s.call(&s.bookkeeper, Method::PUT, &format!("/tasks/{task_id}/status"), Some(json!({"status": "done"}))).await;
    assert_eq!((status, &changed["status"]), (StatusCode::OK, &json!("done")));
    let (status, mine) = s.call(&s.bookkeeper, Method::GET, "/me/tasks", None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["items"][0]["client_name"], "Acme");
    assert_eq!(mine["items"][0]["filing_kind"], "bas");
    let (status, dashboard) = s.call(&s.bookkeeper, Method::GET, "/me/dashboard", None).await;
    assert_eq!((status, &dashboard["assigned"]), (StatusCode::OK, &json!(0)));
    // ...but may not create filings (layer 1).
    let (status, _) = s.call(&s.bookkeeper, Method::POST, &filings, Some(json!({"kind": "bas"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // PATCH: null clears, a field left out is kept.
    let (status, patched) =
        s.call(&s.admin, Method::PATCH, &format!("/tasks/{task_id}"), Some(json!({"due": null}))).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["due"], Value::Null);
    assert_eq!(patched["reviewer"], s.admin_id.to_string());
    assert_eq!(patched["assignee"], s.bookkeeper_id.to_string());

    // Filing it: the bookkeeper's access ends; the task is not found.
    let (status, filed) = s.call(&s.admin, Method::POST, &format!("/filings/{filing_id}/file"), None).await;
    assert_eq!((status, &filed["status"]), (StatusCode::OK, &json!("filed")));
    let (status, _) = s.call(&s.admin, Method::POST, &format!("/filings/{filing_id}/file"), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = s.call(&s.bookkeeper, Method::GET, &format!("/tasks/{task_id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, listed) = s.call(&s.admin, Method::GET, &filings, None).await;
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
}

#[tokio::test]
async fn bad_input_is_400_naming_the_field() {
    let s = server().await;
    let filings = format!("/clients/{}/filings", s.customer);
    let (status, error) =
        s.call(&s.admin, Method::POST, &filings, Some(json!({"kind": "bas", "due": "28/04/2026"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "invalid");
    assert_eq!(error["field"], "due");
    let (status, error) =
        s.call(&s.admin, Method::POST, &filings, Some(json!({"kind": "bas", "period_start": "2026-01-01"}))).await;
    assert_eq!((status, &error["field"]), (StatusCode::BAD_REQUEST, &json!("period_end")));

    let (_, filing) = s.call(&s.admin, Method::POST, &filings, Some(json!({"kind": "payroll"}))).await;
    let tasks = format!("/filings/{}/tasks", filing["id"].as_str().unwrap());
    let (status, error) =
        s.call(&s.admin, Method::POST, &tasks, Some(json!({"title": "Run", "assignee": "someone"}))).await;
    assert_eq!((status, &error["field"]), (StatusCode::BAD_REQUEST, &json!("assignee")));
    let reviewer = json!({"title": "Run", "reviewer": s.bookkeeper_id.to_string()});
    let (status, error) = s.call(&s.admin, Method::POST, &tasks, Some(reviewer)).await;
    assert_eq!((status, &error["field"]), (StatusCode::BAD_REQUEST, &json!("reviewer")), "{error}");
    let (status, error) =
        s.call(&s.admin, Method::POST, &tasks, Some(json!({"title": "Run", "due": "2026-02-30"}))).await;
    assert_eq!((status, &error["field"]), (StatusCode::BAD_REQUEST, &json!("due")));
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let s = server().await;
    let unknown = new_id();
    for path in [
        format!("/filings/{unknown}"),
        "/filings/not-an-id".to_owned(),
        format!("/filings/{unknown}/tasks"),
        format!("/tasks/{unknown}"),
        format!("/clients/{unknown}"),
        format!("/clients/{unknown}/filings"),
    ] {
        let (status, error) = s.call(&s.admin, Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {error}");
        assert_eq!(error["code"], "not_found", "{path}");
    }
    let (status, _) = s.call(&s.admin, Method::POST, &format!("/filings/{unknown}/file"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
