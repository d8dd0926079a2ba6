//! The consent operations over HTTP, in process: status codes, the JSON
//! shapes and the error shape on bad input.

use std::sync::Arc;

use ferry_app::{App, AppConfig, PasswordPolicy, PracticeApplication, SystemClock, UuidV7};
use ferry_http::HttpConfig;
use ferry_mail::templates::BaseUrl;
use ferry_ports::Store;
use ferry_ports::records::{OutboxStatus, PageRequest};
use ferry_store_sql::SqlStore;
use poem::http::StatusCode;
use poem::test::TestClient;
use poem::{Endpoint, EndpointExt, Response};
use serde_json::{Value, json};

const PASSWORD: &str = "a fine long passphrase";

struct World<E> {
    client: TestClient<E>,
    store: Arc<SqlStore>,
    practice: String,
    _dir: tempfile::TempDir,
}

/// A fresh installation with its first practice set up (approved, its admin with a password).
async fn world() -> World<impl Endpoint<Output = Response>> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&format!("sqlite://{}/ferry.db", dir.path().display())).await.unwrap();
    store.migrate().await.unwrap();
    let store = Arc::new(store);
    let mut config = AppConfig::new(BaseUrl::parse("http://localhost:8080").unwrap());
    config.passwords = PasswordPolicy { memory_kib: 64, iterations: 1, ..PasswordPolicy::default() };
    let app = App::new(
        store.clone(),
        Arc::new(ferry_blob::EncryptedBlobStore::in_memory()),
        Arc::new(SystemClock),
        Arc::new(UuidV7),
        config,
    );
    let token = app.first_run_token().await.unwrap().expect("a fresh installation");
    let application = PracticeApplication {
        practice_name: "Acme Books".into(),
        admin_name: "Ada Admin".into(),
        admin_email: "ada@acme.test".into(),
    };
    let practice = app.set_up_first_practice(&token, &application, PASSWORD.into()).await.unwrap();
    let http = HttpConfig { secure_cookies: false, public_url: "http://localhost:8080".to_owned() };
    let client = TestClient::new(ferry_http::router(app, http).map_to_response());
    World { client, store, practice: practice.id.to_string(), _dir: dir }
}

/// Status and JSON body of a call.
async fn call<E: Endpoint<Output = Response>>(
    w: &World<E>,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let method = poem::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = w.client.request(method, format!("/api/v1{path}"));
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if let Some(body) = body {
        request = request.body_json(&body);
    }
    let response = request.send().await;
    let status = response.0.status();
    let text = response.0.into_body().into_string().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn sign_in<E: Endpoint<Output = Response>>(w: &World<E>, email: &str) -> String {
    let (status, body) =
        call(w, "POST", "/auth/login", None, Some(json!({ "email": email, "password": PASSWORD }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// The token of the newest queued mail to `to`.
async fn mailed_token(store: &SqlStore, to: &str) -> String {
    let mut tx = store.read().await.unwrap();
    let outbox = tx.list_outbox(OutboxStatus::Pending, &PageRequest::first(500)).await.unwrap();
    let mail = outbox.items.iter().rev().find(|m| m.mail.to.as_str() == to).expect("a mail to the invitee");
    let start = mail.mail.text.find("token=").expect("a link with a token") + "token=".len();
    mail.mail.text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[tokio::test]
async fn invite_accept_list_and_revoke_an_engagement() {
    let w = world().await;
    let admin = sign_in(&w, "ada@acme.test").await;
    let invite_path = format!("/practices/{}/engagements", w.practice);

    // A new address needs the contact's name.
    let (status, body) = call(
        &w,
        "POST",
        &invite_path,
        Some(&admin),
        Some(json!({ "client_name": "Corner Café", "email": "cora@cafe.test" })),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(body["field"], "name");
    // Without a session: 401.
    let invite = json!({ "client_name": "Corner Café", "email": "cora@cafe.test", "name": "Cora Owner" });
    let (status, body) = call(&w, "POST", &invite_path, None, Some(invite.clone())).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");

    let (status, body) = call(&w, "POST", &invite_path, Some(&admin), Some(invite)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "requested");
    assert_eq!(body["requested_by"], "practice");
    assert_eq!(body["practice"]["name"], "Acme Books");
    assert_eq!(body["client"]["name"], "Corner Café");
    let engagement = body["id"].as_str().unwrap().to_owned();

    // A wrong token, then a weak password, leave the link usable.
    let (status, body) =
        call(&w, "POST", "/invitations/accept", None, Some(json!({ "token": "not-a-token", "password": PASSWORD })))
            .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_token");
    let token = mailed_token(&w.store, "cora@cafe.test").await;
    let (status, body) =
        call(&w, "POST", "/invitations/accept", None, Some(json!({ "token": token, "password": "short" }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(body["field"], "password");
    let (status, body) =
        call(&w, "POST", "/invitations/accept", None, Some(json!({ "token": token, "password": PASSWORD }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "engagement");
    assert_eq!(body["engagement"]["id"], engagement.as_str());
    assert_eq!(body["engagement"]["state"], "active");
    assert!(body["engagement"].get("requested_by").is_none(), "{body}");

    // Both sides list it.
    let owner = sign_in(&w, "cora@cafe.test").await;
    for who in [&admin, &owner] {
        let (status, body) = call(&w, "GET", "/engagements", Some(who), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["items"].as_array().map(Vec::len), Some(1), "{body}");
    }
    let (status, body) = call(&w, "GET", &format!("/practices/{}/clients", w.practice), Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["name"], "Corner Café");

    // A path id that is no id, and an id of nothing, are 404.
    let (status, body) = call(&w, "POST", "/engagements/not-an-id/revoke", Some(&admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) =
        call(&w, "POST", "/engagements/01900000-0000-7000-8000-000000000000/revoke", Some(&admin), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // The client ends it; ending it again is a conflict.
    let (status, body) = call(&w, "POST", &format!("/engagements/{engagement}/revoke"), Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "revoked");
    assert_eq!(body["changed_by"], "client");
    let (status, body) = call(&w, "POST", &format!("/engagements/{engagement}/revoke"), Some(&admin), None).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let (_, body) = call(&w, "GET", &format!("/practices/{}/clients", w.practice), Some(&admin), None).await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(0), "{body}");
}

#[tokio::test]
async fn a_missing_field_is_a_400_in_the_error_shape() {
    let w = world().await;
    let admin = sign_in(&w, "ada@acme.test").await;
    let invite_path = format!("/practices/{}/engagements", w.practice);
    let (status, body) =
        call(&w, "POST", &invite_path, Some(&admin), Some(json!({ "email": "cora@cafe.test", "name": "Cora" }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    let (status, body) = call(&w, "POST", "/invitations/accept", None, Some(json!({ "password": PASSWORD }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
}

#[tokio::test]
async fn outside_parties_and_client_members() {
    let w = world().await;
    let admin = sign_in(&w, "ada@acme.test").await;
    let connections = format!("/practices/{}/connections", w.practice);
    // An address that is not one names the field.
    let (status, body) =
        call(&w, "POST", &connections, Some(&admin), Some(json!({ "name": "Otto", "email": "otto" }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(body["field"], "email");
    let (status, body) =
        call(&w, "POST", &connections, Some(&admin), Some(json!({ "name": "Otto Outside", "email": "otto@out.test" })))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "practice": w.practice.to_string(), "email": "otto@out.test", "name": "Otto Outside", "status": "invited" })
    );
    let (status, body) = call(&w, "GET", &connections, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["items"][0]["requested_by"], "practice");
    let token = mailed_token(&w.store, "otto@out.test").await;
    let (status, body) =
        call(&w, "POST", "/invitations/accept", None, Some(json!({ "token": token, "password": PASSWORD }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "connection");
    assert_eq!(body["connection"]["state"], "active");
    let otto = sign_in(&w, "otto@out.test").await;
    let (status, body) = call(&w, "GET", "/connections", Some(&otto), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    // An outside party does not reach the practice's list.
    let (status, _) = call(&w, "GET", &connections, Some(&otto), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A client with an owner, who invites a colleague.
    let invite = json!({ "client_name": "Corner Café", "email": "cora@cafe.test", "name": "Cora Owner" });
    let (_, body) =
        call(&w, "POST", &format!("/practices/{}/engagements", w.practice), Some(&admin), Some(invite)).await;
    let client = body["client"]["id"].as_str().unwrap().to_owned();
    let token = mailed_token(&w.store, "cora@cafe.test").await;
    call(&w, "POST", "/invitations/accept", None, Some(json!({ "token": token, "password": PASSWORD }))).await;
    let owner = sign_in(&w, "cora@cafe.test").await;
    let members = format!("/clients/{client}/members");
    let (status, body) =
        call(&w, "POST", &members, Some(&owner), Some(json!({ "name": "Max Member", "email": "max@cafe.test" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "member");
    let token = mailed_token(&w.store, "max@cafe.test").await;
    let (status, body) =
        call(&w, "POST", "/invitations/accept", None, Some(json!({ "token": token, "password": PASSWORD }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["kind"], &body["membership"]["role"]), (&json!("membership"), &json!("member")), "{body}");
    // Membership is consent, and the answer tells nothing about the person: a
    // new address, an outside party's and a practice user's get the same answer
    // (the client, the address and the name given, the role, "invited").
    for email in ["max@cafe.test", "nina@new.test", "otto@out.test", "ada@acme.test"] {
        let (status, answer) =
            call(&w, "POST", &members, Some(&owner), Some(json!({ "name": "Some Name", "email": email }))).await;
        if email == "max@cafe.test" {
            // Already a member: the owner sees the client's users anyway.
            assert_error(status, &answer, StatusCode::CONFLICT, "conflict");
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{answer}");
        let expected = json!({
            "client": client, "email": email, "name": "Some Name", "role": "member", "status": "invited",
        });
        assert_eq!(answer, expected, "{email}");
    }
    let (status, body) = call(&w, "GET", &members, Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"][0]["role"], "owner");
    assert_eq!(body["items"][1]["user"]["email"], "max@cafe.test");
    // None of them is a member before accepting.
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, _) = call(&w, "GET", &members, Some(&admin), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Granting needs a practice id in the body.
    let (status, body) =
        call(&w, "POST", &format!("/clients/{client}/engagements"), Some(&owner), Some(json!({ "practice": "x" })))
            .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(body["field"], "practice");
}
