//! The server as an operator meets it: health checks, the API document, the
//! first run, restarts, bad settings and a graceful shutdown.

use std::process::Command;

use ferry_e2e::{Server, server_binary, text, token_in};
use serde_json::{Value, json};

#[tokio::test]
async fn health_readiness_and_the_api_document_answer() {
    let server = Server::start();
    let health = server.get_raw("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.expect("JSON")["status"], "ok");
    let ready = server.get_raw("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.expect("JSON")["status"], "ready");

    let spec = server.get_raw("/api/openapi.json").await;
    assert_eq!(spec.status(), 200);
    assert!(
        spec.headers()["content-type"].to_str().expect("a header").starts_with("application/json"),
        "{:?}",
        spec.headers()
    );
    let spec: Value = spec.json().await.expect("JSON");
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/auth/login"), "{:?}", paths.keys().collect::<Vec<_>>());
    assert!(paths.contains_key("/clients/{client}"), "{:?}", paths.keys().collect::<Vec<_>>());
    assert_eq!(spec["servers"][0]["url"], format!("{}/api/v1", server.base()));
    // The streaming operations are in it too, and in the interactive docs.
    assert_eq!(spec["paths"]["/uploads/{upload}"]["patch"]["operationId"], "tus_append");
    assert_eq!(spec["paths"]["/documents/{document}/content"]["get"]["operationId"], "download_document");
    let docs = server.get_raw("/api/docs").await;
    assert_eq!(docs.status(), 200);
    let page = docs.text().await.expect("the docs page");
    assert!(page.contains("tus_append") && page.contains("list_my_inbox"), "the docs page lacks operations");
}

#[tokio::test]
async fn the_first_run_prints_a_link_that_sets_up_an_approved_practice() {
    let server = Server::start();
    let stdout = server.stdout().join("\n");
    let link_prefix = format!("{}/setup?token=", server.base());
    let link = stdout.lines().map(str::trim).find(|l| l.starts_with(&link_prefix)).unwrap_or_else(|| {
        panic!("no setup link in the output:\n{stdout}");
    });
    let token = token_in(link).expect("a token in the link");
    assert!(
        stdout.contains(&format!("curl -X POST {}/api/v1/setup -H 'content-type: application/json'", server.base())),
        "{stdout}"
    );
    assert!(!server.log().contains(&token), "the token must not be logged");

    let anonymous = server.anonymous();
    let setup = json!({
        "token": token,
        "practice_name": "First Light Accounting",
        "admin_name": "Fay First",
        "admin_email": "fay@firstlight.test",
        "password": "a long passphrase 1",
    });
    let practice = anonymous.ok_post("/setup", &setup).await;
    assert_eq!(text(&practice, "/status"), "approved");
    let admin = server.sign_in("fay@firstlight.test", "a long passphrase 1").await;
    let me = admin.ok_get("/me").await;
    assert_eq!(text(&me, "/role"), "admin");
    assert_eq!(text(&me, "/practice/id"), text(&practice, "/id"));

    // The link works once.
    let mut replay = setup.clone();
    replay["admin_email"] = json!("eve@evil.test");
    let (status, answer) = anonymous.post("/setup", &replay).await;
    assert_ne!(status, 200, "{answer}");

    // Once a practice exists, a restart prints no link, and the data is still there.
    let data = server.stop();
    let again = Server::start_with(data, &[]);
    let stdout = again.stdout().join("\n");
    assert!(!stdout.contains("setup?token="), "{stdout}");
    assert!(stdout.contains("Ferry listening on http://127.0.0.1:"), "{stdout}");
    again.sign_in("fay@firstlight.test", "a long passphrase 1").await;
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let mut server = Server::start();
    assert_eq!(server.get_raw("/healthz").await.status(), 200);
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}; log:\n{}", server.log());
    let log = server.log();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[test]
fn a_bad_setting_is_one_line_naming_it_and_exit_code_2() {
    let data = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(server_binary())
        .args(["--listen", "127.0.0.1:0", "--blob-url", "ftp://example.com/x", "--data-dir"])
        .arg(data.path())
        .env_remove("FERRY_BLOB_URL")
        .output()
        .expect("ferry-server runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("ferry-server: --blob-url (FERRY_BLOB_URL): "), "{stderr}");

    let output = Command::new(server_binary())
        .args(["--listen", "127.0.0.1:0", "--tls-cert", "cert.pem", "--data-dir"])
        .arg(data.path())
        .env_remove("FERRY_TLS_KEY")
        .output()
        .expect("ferry-server runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-key (FERRY_TLS_KEY)"));
}
