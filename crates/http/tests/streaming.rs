//! The authorization matrix of the streaming operations (`operations::STREAMING`):
//! multipart transfers, the tus protocol and downloads, called by every role
//! on objects inside and outside the caller's scope, against an explicit
//! table written from PRODUCT.md and the domain's rules (see `matrix.rs` for
//! the columns and the world). A success is checked for what it must do
//! (the bytes downloaded, the document recorded); every cell that changes
//! something runs on a fresh world.

mod support;

use std::collections::BTreeMap;

use ferry_http::operations::STREAMING;
use poem::http::{Method, StatusCode};
use poem::test::{TestForm, TestFormField};
use support::{DOCUMENT_CONTENT, ROLES, Role, World};

/// What a cell expects: a status code.
fn expected(row: &str) -> Vec<u16> {
    row.split_whitespace().map(|cell| if cell == "ok" { 200 } else { cell.parse().expect("a status") }).collect()
}

fn matches(expect: u16, got: StatusCode) -> bool {
    if expect == 200 { got.is_success() } else { got.as_u16() == expect }
}

/// One request of a streaming operation.
#[derive(Debug, Clone)]
enum Call {
    /// `GET /documents/{key}/content`.
    Download(&'static str),
    /// `POST /transfers` multipart, with `client` or `connection` and `to` (fixture keys).
    Send { client: Option<&'static str>, connection: Option<&'static str>, to: Option<&'static str> },
    /// tus `POST /uploads` into a transfer (fixture key), 5 bytes long.
    TusCreate(&'static str),
    /// tus `HEAD`, `PATCH` or `DELETE` on an upload `staff_assigned` created in `B_OPEN`.
    TusOn(Method),
    /// tus `OPTIONS /uploads`.
    TusOptions,
}

const TUS: (&str, &str) = ("tus-resumable", "1.0.0");

async fn bearer(
    world: &World,
    role: Role,
    builder: poem::test::TestRequestBuilder<'_, impl poem::Endpoint>,
) -> poem::test::TestResponse {
    let builder = match world.token(role) {
        Some(token) => builder.header("authorization", format!("Bearer {token}")),
        None => builder,
    };
    builder.send().await
}

/// Creates an upload as `staff_assigned` in `B_OPEN`; returns its path under `/api/v1`.
async fn staff_upload(world: &World) -> String {
    let response = bearer(
        world,
        Role::StaffAssigned,
        world
            .client
            .post("/api/v1/uploads")
            .header(TUS.0, TUS.1)
            .header("upload-length", "5")
            .header("upload-metadata", tus_metadata(&world.id("B_OPEN"), "notes.txt")),
    )
    .await;
    response.assert_status(StatusCode::CREATED);
    let location = response.0.headers().get("location").expect("a location").to_str().expect("text").to_owned();
    location.strip_prefix("/api/v1").expect("under the API").to_owned()
}

fn tus_metadata(batch: &str, name: &str) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    format!("batch {},filename {}", b64(batch), b64(name))
}

/// Sends `call` as `role` on `world`; returns the status and the body.
async fn call(world: &World, role: Role, call: Call, upload: Option<&str>) -> (StatusCode, Vec<u8>) {
    let client = &world.client;
    let response = match call {
        Call::Download(key) => {
            bearer(world, role, client.get(format!("/api/v1/documents/{}/content", world.id(key)))).await
        }
        Call::Send { client: c, connection, to } => {
            let mut form = TestForm::new();
            if let Some(c) = c {
                form = form.text("client", world.id(c));
            }
            if let Some(x) = connection {
                form = form.text("connection", world.id(x));
            }
            if let Some(to) = to {
                form = form.text("to", world.id(to));
            }
            form = form.field(TestFormField::bytes(b"a,b\n1,2\n".to_vec()).name("file").filename("sheet.csv"));
            bearer(world, role, client.post("/api/v1/transfers").multipart(form)).await
        }
        Call::TusCreate(batch) => {
            bearer(
                world,
                role,
                client
                    .post("/api/v1/uploads")
                    .header(TUS.0, TUS.1)
                    .header("upload-length", "5")
                    .header("upload-metadata", tus_metadata(&world.id(batch), "notes.txt")),
            )
            .await
        }
        Call::TusOn(method) => {
            let path = format!("/api/v1{}", upload.expect("an upload"));
            let builder = client.request(method.clone(), path).header(TUS.0, TUS.1);
            let builder = if method == Method::PATCH {
                builder
                    .header("content-type", "application/offset+octet-stream")
                    .header("upload-offset", "0")
                    .body(b"hello".to_vec())
            } else {
                builder
            };
            bearer(world, role, builder).await
        }
        Call::TusOptions => bearer(world, role, client.request(Method::OPTIONS, "/api/v1/uploads")).await,
    };
    let status = response.0.status();
    let body = response.0.into_body().into_vec().await.unwrap_or_default();
    (status, body)
}

/// Every row: the operation id (from `operations::STREAMING`), the call, and what each role gets.
#[rustfmt::skip]
fn table() -> Vec<(&'static str, Call, &'static str)> {
    vec![
        // op                    call                                                                                   A   SA  SU  BT  BN  BF  CO  OC  QA  SS  D   AN  OP
        ("download_document", Call::Download("D1"),                                                                 "ok  ok  404 ok  404 404 ok  404 404 404 401 401 404"),
        ("download_document", Call::Download("D_CO"),                                                               "ok  ok  404 ok  404 404 ok  404 404 404 401 401 404"),
        ("download_document", Call::Download("DQ"),                                                                 "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
        ("download_document", Call::Download("DX"),                                                                 "ok  404 404 404 404 404 404 404 404 404 401 401 ok "),
        // Practice users in scope send to a client's users (all of them when no `to`); client users must name a recipient.
        ("send_transfer",     Call::Send { client: Some("C1"), connection: None, to: None },                        "ok  ok  404 403 403 403 400 404 404 404 401 401 404"),
        // A client user sends to an admin or staff member who can open the client; the admin is no user of the client.
        ("send_transfer",     Call::Send { client: Some("C1"), connection: None, to: Some("admin") },               "400 400 404 403 403 403 ok  404 404 404 401 401 404"),
        ("send_transfer",     Call::Send { client: Some("C1"), connection: None, to: Some("staff_unassigned") },    "400 400 404 403 403 403 400 404 404 404 401 401 404"),
        ("send_transfer",     Call::Send { client: Some("C3"), connection: None, to: None },                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
        // Over a connection: the practice's admins and staff send to the outside party; it must name whom it sends to.
        ("send_transfer",     Call::Send { client: None, connection: Some("X_P_OP"), to: None },                    "ok  ok  ok  403 403 403 404 404 404 404 401 401 400"),
        ("send_transfer",     Call::Send { client: None, connection: Some("X_P_OP"), to: Some("staff_assigned") },  "400 400 400 403 403 403 404 404 404 404 401 401 ok "),
        ("send_transfer",     Call::Send { client: None, connection: Some("X_Q_OQ"), to: None },                    "404 404 404 403 403 403 404 404 403 404 401 401 404"),
        // Resumable uploads belong to their transfer's sender alone.
        ("tus_create",        Call::TusCreate("B_OPEN"),                                                            "404 ok  404 403 403 403 404 404 404 404 401 401 404"),
        ("tus_create",        Call::TusCreate("BQ_OPEN"),                                                           "404 404 404 403 403 403 404 404 404 404 401 401 404"),
        ("tus_status",        Call::TusOn(Method::HEAD),                                                            "404 ok  404 403 403 403 404 404 404 404 401 401 404"),
        ("tus_append",        Call::TusOn(Method::PATCH),                                                           "404 ok  404 403 403 403 404 404 404 404 401 401 404"),
        ("tus_terminate",     Call::TusOn(Method::DELETE),                                                          "404 ok  404 403 403 403 404 404 404 404 401 401 404"),
        // Discovery is public.
        ("tus_options",       Call::TusOptions,                                                                     "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok "),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_streaming_operation_answers_every_role_as_the_rules_say() {
    let rows = table();
    let mut failures = Vec::new();
    let covered: BTreeMap<&str, usize> = rows.iter().fold(BTreeMap::new(), |mut m, (op, _, _)| {
        *m.entry(*op).or_default() += 1;
        m
    });
    for op in STREAMING {
        if !covered.contains_key(op.id) {
            failures.push(format!("{}: no row", op.id));
        }
    }
    let mut cells = 0;
    for (op, request, row) in &rows {
        let expect = expected(row);
        assert_eq!(expect.len(), ROLES.len(), "{op}: one cell per role");
        for (role, want) in ROLES.iter().zip(expect) {
            // A fresh world per cell: a success may change what the next cell sees.
            let world = World::new().await;
            let upload = match request {
                Call::TusOn(_) => Some(staff_upload(&world).await),
                _ => None,
            };
            let (status, body) = call(&world, *role, request.clone(), upload.as_deref()).await;
            cells += 1;
            if !matches(want, status) {
                failures.push(format!(
                    "{op} {request:?} as {} ({}): want {want}, got {status}: {}",
                    role.short(),
                    role.name(),
                    String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
                ));
                continue;
            }
            if status.is_success() {
                match request {
                    Call::Download(_) if body != DOCUMENT_CONTENT => {
                        failures.push(format!("{op} {request:?} as {}: the bytes differ", role.short()));
                    }
                    Call::Send { .. } => {
                        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                        let documents = json["documents"].as_array().map_or(0, Vec::len);
                        if documents != 1 || json["documents"][0]["size"] != 8 {
                            failures
                                .push(format!("{op} {request:?} as {}: not one 8-byte document: {json}", role.short()));
                        }
                    }
                    _ => {}
                }
            } else if !body.is_empty() && status != StatusCode::METHOD_NOT_ALLOWED {
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if json["code"].as_str().is_none() || json["message"].as_str().is_none() {
                    failures.push(format!("{op} as {}: error without the JSON shape", role.short()));
                }
            }
        }
    }
    eprintln!("streaming matrix: {} rows, {cells} cells", rows.len());
    assert!(failures.is_empty(), "the streaming matrix failed ({}):\n  {}", failures.len(), failures.join("\n  "));
}

/// A refused transfer keeps nothing: no document, no reservation, no mail.
#[tokio::test]
async fn a_refused_transfer_changes_nothing() {
    let world = World::new().await;
    let before = world.send(Role::Admin, &Method::GET, &format!("/clients/{}/documents", world.id("C1")), None).await;
    let (status, _) =
        call(&world, Role::ClientOwner, Call::Send { client: Some("C1"), connection: None, to: Some("admin") }, None)
            .await;
    assert!(status.is_success());
    let (status, _) =
        call(&world, Role::Admin, Call::Send { client: Some("C1"), connection: None, to: Some("admin") }, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let after = world.send(Role::Admin, &Method::GET, &format!("/clients/{}/documents", world.id("C1")), None).await;
    let count = |a: &support::Answer| a.json["items"].as_array().map_or(0, Vec::len);
    assert_eq!(count(&after), count(&before) + 1, "only the client's transfer was kept");
}

async fn documents(world: &World) -> usize {
    let path = format!("/clients/{}/documents", world.id("C1"));
    let answer = world.send(Role::Admin, &Method::GET, &path, None).await;
    answer.json["items"].as_array().map_or(0, Vec::len)
}

/// Bad input to the streaming operations answers a clear error naming what
/// was wrong, and keeps nothing.
#[tokio::test]
async fn bad_streaming_input_is_refused_clearly_and_keeps_nothing() {
    let world = World::new().await;
    let before = documents(&world).await;
    let file = || TestFormField::bytes(b"x".to_vec()).name("file").filename("x.csv");
    let token = world.token(Role::Admin).expect("a session");
    let auth = format!("Bearer {token}");
    let cases: Vec<(&str, TestForm, u16, &str)> = vec![
        ("no destination", TestForm::new().field(file()), 400, "client"),
        ("a bad client id", TestForm::new().text("client", "nope").field(file()), 400, "client"),
        (
            "both destinations",
            TestForm::new().text("client", world.id("C1")).text("connection", world.id("X_P_OP")).field(file()),
            400,
            "client",
        ),
        (
            "a bad recipient id",
            TestForm::new().text("client", world.id("C1")).text("to", "nope").field(file()),
            400,
            "to",
        ),
        (
            "an unknown field",
            TestForm::new().text("client", world.id("C1")).text("colour", "red").field(file()),
            400,
            "colour",
        ),
        ("no file", TestForm::new().text("client", world.id("C1")), 400, "file"),
        (
            "a field after the files",
            TestForm::new().text("client", world.id("C1")).field(file()).text("to", world.id("client_owner")),
            400,
            "to",
        ),
        ("an overlong field", TestForm::new().text("client", "x".repeat(100_000)).field(file()), 400, "client"),
        (
            "too many recipients",
            (0..=100)
                .fold(TestForm::new().text("client", world.id("C1")), |form, _| {
                    form.text("to", world.id("client_owner"))
                })
                .field(file()),
            400,
            "to",
        ),
    ];
    for (name, form, status, field) in cases {
        let response =
            world.client.post("/api/v1/transfers").header("authorization", &auth).multipart(form).send().await;
        assert_eq!(response.0.status().as_u16(), status, "{name}");
        let json: serde_json::Value =
            serde_json::from_slice(&response.0.into_body().into_vec().await.unwrap()).expect("a JSON error");
        assert_eq!(json["field"], field, "{name}: {json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
    }
    // Not multipart at all.
    let response = world
        .client
        .post("/api/v1/transfers")
        .header("authorization", &auth)
        .content_type("text/plain")
        .body("hi")
        .send()
        .await;
    response.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // tus: no version, no length, a bad metadata, a bad offset, a wrong content type.
    world
        .client
        .post("/api/v1/uploads")
        .header("authorization", &auth)
        .header("upload-length", "5")
        .send()
        .await
        .assert_status(StatusCode::PRECONDITION_FAILED);
    world
        .client
        .post("/api/v1/uploads")
        .header("authorization", &auth)
        .header(TUS.0, TUS.1)
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    world
        .client
        .post("/api/v1/uploads")
        .header("authorization", &auth)
        .header(TUS.0, TUS.1)
        .header("upload-length", "5")
        .header("upload-metadata", "batch ???")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    let upload = staff_upload(&world).await;
    let staff = format!("Bearer {}", world.token(Role::StaffAssigned).expect("a session"));
    let patch = |offset: &str, content_type: &str| {
        world
            .client
            .patch(format!("/api/v1{upload}"))
            .header("authorization", &staff)
            .header(TUS.0, TUS.1)
            .header("upload-offset", offset)
            .header("content-type", content_type)
            .body(b"hello".to_vec())
    };
    patch("3", "application/offset+octet-stream").send().await.assert_status(StatusCode::CONFLICT);
    patch("0", "application/octet-stream").send().await.assert_status(StatusCode::BAD_REQUEST);
    patch("zero", "application/offset+octet-stream").send().await.assert_status(StatusCode::BAD_REQUEST);
    // A checksum that does not match keeps nothing: the offset stays at 0.
    let response = patch("0", "application/offset+octet-stream")
        .header("upload-checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .send()
        .await;
    assert_eq!(response.0.status().as_u16(), 460);
    let head =
        world.client.head(format!("/api/v1{upload}")).header("authorization", &staff).header(TUS.0, TUS.1).send().await;
    head.assert_status_is_ok();
    head.assert_header("upload-offset", "0");
    // Too many bytes for the declared length.
    let response = world
        .client
        .patch(format!("/api/v1{upload}"))
        .header("authorization", &staff)
        .header(TUS.0, TUS.1)
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(b"hello world".to_vec())
        .send()
        .await;
    response.assert_status(StatusCode::BAD_REQUEST);
    // A range outside the file.
    let response = world
        .client
        .get(format!("/api/v1/documents/{}/content", world.id("D1")))
        .header("authorization", &auth)
        .header("range", "bytes=1000-")
        .send()
        .await;
    response.assert_status(StatusCode::RANGE_NOT_SATISFIABLE);
    response.assert_header("content-range", format!("bytes */{}", DOCUMENT_CONTENT.len()));
    assert_eq!(documents(&world).await, before, "nothing was kept");
}

/// A range download answers 206 with exactly the bytes asked for, and the
/// headers that keep a browser from running the file.
#[tokio::test]
async fn downloads_are_ranged_attachments_never_inline() {
    let world = World::new().await;
    let auth = format!("Bearer {}", world.token(Role::Admin).expect("a session"));
    let url = format!("/api/v1/documents/{}/content", world.id("D1"));
    let whole = world.client.get(&url).header("authorization", &auth).send().await;
    whole.assert_status_is_ok();
    whole.assert_header("content-type", "text/csv");
    whole.assert_header("x-content-type-options", "nosniff");
    whole.assert_header("accept-ranges", "bytes");
    whole.assert_header("content-disposition", "attachment; filename=\"D1.csv\"; filename*=UTF-8''D1.csv");
    whole.assert_bytes(DOCUMENT_CONTENT).await;
    let part = world.client.get(&url).header("authorization", &auth).header("range", "bytes=5-10").send().await;
    part.assert_status(StatusCode::PARTIAL_CONTENT);
    part.assert_header("content-range", format!("bytes 5-10/{}", DOCUMENT_CONTENT.len()));
    part.assert_bytes(&DOCUMENT_CONTENT[5..=10]).await;
    let tail = world.client.get(&url).header("authorization", &auth).header("range", "bytes=-4").send().await;
    tail.assert_status(StatusCode::PARTIAL_CONTENT);
    tail.assert_bytes(&DOCUMENT_CONTENT[DOCUMENT_CONTENT.len() - 4..]).await;
}

/// A wrong method on a streaming path answers 405 in the error shape with
/// `Allow`; `HEAD` is no `GET` on a download (it would count one).
#[tokio::test]
async fn wrong_methods_answer_405_with_allow() {
    let world = World::new().await;
    let auth = format!("Bearer {}", world.token(Role::Admin).expect("a session"));
    let content = format!("/api/v1/documents/{}/content", world.id("D1"));
    let upload = format!("/api/v1/uploads/{}", uuid_like());
    for (method, path, allow) in [
        (Method::GET, "/api/v1/transfers".to_owned(), "POST"),
        (Method::PUT, "/api/v1/uploads".to_owned(), "POST, OPTIONS"),
        (Method::GET, upload, "HEAD, PATCH, DELETE"),
        (Method::HEAD, content.clone(), "GET"),
        (Method::DELETE, content, "GET"),
    ] {
        let response = world.client.request(method.clone(), &path).header("authorization", &auth).send().await;
        response.assert_status(StatusCode::METHOD_NOT_ALLOWED);
        response.assert_header("allow", allow);
        if method != Method::HEAD {
            let json: serde_json::Value =
                serde_json::from_slice(&response.0.into_body().into_vec().await.unwrap()).expect("a JSON error");
            assert_eq!(json["field"], "method", "{method} {path}: {json}");
        }
    }
}

fn uuid_like() -> &'static str {
    "0190d8f4-0000-7000-8000-000000000000"
}

/// `POST /transfers` answers its documents in the shape `GET /documents/{id}` does.
#[tokio::test]
async fn a_transfer_answers_its_documents_as_documents_are_read() {
    let world = World::new().await;
    let (status, body) =
        call(&world, Role::Admin, Call::Send { client: Some("C1"), connection: None, to: None }, None).await;
    assert_eq!(status, StatusCode::CREATED);
    let sent: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let document = &sent["documents"][0];
    let recipient = &document["recipients"][0];
    assert!(recipient["user"].is_string() && recipient["first_downloaded_at"].is_null(), "{sent}");
    let id = document["id"].as_str().expect("an id");
    let read = world.send(Role::Admin, &Method::GET, &format!("/documents/{id}"), None).await;
    // The same fields and values; only `created_at` may be finer before it is stored.
    let without_time = |d: &serde_json::Value| {
        let mut d = d.as_object().expect("an object").clone();
        d.remove("created_at").filter(serde_json::Value::is_string).expect("a time");
        d
    };
    assert_eq!(without_time(&read.json["document"]), without_time(document));
}
