//! The flow, end to end against the real server: a practice applies
//! and is approved, its people and a client join from mailed links, and a
//! bookkeeper's access follows the task assigned to them as the filing is
//! filed and reopened.

use ferry_e2e::{Client, Server, text};
use serde_json::{Value, json};

const PASSWORD: &str = "a long passphrase 1";

/// Sets a password from the newest mail to `email` and signs in.
async fn join(server: &Server, email: &str) -> Client {
    let token = server.mail_to(email).token();
    server.anonymous().ok_post("/auth/password", &json!({ "token": token, "password": PASSWORD })).await;
    server.sign_in(email, PASSWORD).await
}

/// The client ids in the account switcher.
async fn switcher(client: &Client) -> Vec<String> {
    let page = client.ok_get("/me/clients").await;
    page["items"].as_array().expect("items").iter().map(|entry| text(entry, "/client/id")).collect()
}

async fn invite_person(admin: &Client, practice: &str, name: &str, email: &str, role: &str) {
    let person = admin
        .ok_post(&format!("/practices/{practice}/people"), &json!({ "name": name, "email": email, "role": role }))
        .await;
    assert_eq!(text(&person, "/role"), role);
    assert_eq!(text(&person, "/status"), "invited");
}

async fn invite_client(admin: &Client, practice: &str, client_name: &str, name: &str, email: &str) -> Value {
    admin
        .ok_post(
            &format!("/practices/{practice}/engagements"),
            &json!({ "client_name": client_name, "name": name, "email": email }),
        )
        .await
}

#[tokio::test]
async fn a_bookkeepers_access_follows_the_work() {
    let server = Server::start();
    let anonymous = server.anonymous();

    // A practice applies, over HTTP.
    let applied = anonymous
        .ok_post(
            "/practices",
            &json!({ "practice_name": "Harbour Books", "admin_name": "Ada Admin", "admin_email": "ada@harbour.test" }),
        )
        .await;
    assert_eq!(text(&applied, "/status"), "pending");
    let practice = text(&applied, "/id");

    // The operator approves it with the admin CLI.
    let approved = server.approve_practice(&practice);
    assert_eq!(approved["status"], "approved");

    // The admin sets a password from the mailed link and signs in.
    let admin = join(&server, "ada@harbour.test").await;
    let me = admin.ok_get("/me").await;
    assert_eq!(text(&me, "/role"), "admin");
    assert_eq!(text(&me, "/practice/id"), practice);

    // Staff and a bookkeeper are invited; each sets a password and signs in.
    invite_person(&admin, &practice, "Sam Staff", "sam@harbour.test", "staff").await;
    invite_person(&admin, &practice, "Bea Bookkeeper", "bea@harbour.test", "bookkeeper").await;
    let staff = join(&server, "sam@harbour.test").await;
    assert_eq!(text(&staff.ok_get("/me").await, "/role"), "staff");
    let bookkeeper = join(&server, "bea@harbour.test").await;
    let bookkeeper_me = bookkeeper.ok_get("/me").await;
    assert_eq!(text(&bookkeeper_me, "/role"), "bookkeeper");
    let bookkeeper_id = text(&bookkeeper_me, "/user/id");

    // A client is invited and accepts from the mailed link, choosing a password.
    let invited = invite_client(&admin, &practice, "Northwind Trading", "Nora North", "nora@northwind.test").await;
    let client = text(&invited, "/client/id");
    let token = server.mail_to("nora@northwind.test").token();
    let accepted = anonymous.ok_post("/invitations/accept", &json!({ "token": token, "password": PASSWORD })).await;
    assert_eq!(text(&accepted, "/kind"), "engagement");
    assert_eq!(text(&accepted, "/engagement/state"), "active");
    let owner = server.sign_in("nora@northwind.test", PASSWORD).await;
    assert_eq!(switcher(&owner).await, vec![client.clone()]);

    // Another client, which the bookkeeper never works on.
    let other =
        text(&invite_client(&admin, &practice, "Contoso Ltd", "Carl Contoso", "carl@contoso.test").await, "/client/id");

    // Before any work: the bookkeeper sees no client.
    assert!(switcher(&bookkeeper).await.is_empty());
    assert_eq!(bookkeeper.get(&format!("/clients/{client}")).await.0, 404);

    // The admin opens a filing and assigns its task to the bookkeeper.
    let filing = admin.ok_post(&format!("/clients/{client}/filings"), &json!({ "kind": "bookkeeping" })).await;
    assert_eq!(text(&filing, "/status"), "active");
    let filing = text(&filing, "/id");
    let task = admin
        .ok_post(&format!("/filings/{filing}/tasks"), &json!({ "title": "Reconcile March", "assignee": bookkeeper_id }))
        .await;
    assert_eq!(text(&task, "/assignee"), bookkeeper_id);

    // The bookkeeper now sees exactly that client, and still not the other.
    assert_eq!(switcher(&bookkeeper).await, vec![client.clone()]);
    let (status, seen) = bookkeeper.get(&format!("/clients/{client}")).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(text(&seen, "/id"), client);
    assert_eq!(bookkeeper.get(&format!("/clients/{other}")).await.0, 404);

    // Layer 1: creating filings is outside the bookkeeper's portal, even for their client.
    let (status, refused) = bookkeeper.post(&format!("/clients/{client}/filings"), &json!({ "kind": "payroll" })).await;
    assert_eq!(status, 403, "{refused}");

    // Filing the work ends the bookkeeper's access on the very next request.
    let filed = admin.post_empty(&format!("/filings/{filing}/file")).await;
    assert_eq!(filed.0, 200, "{}", filed.1);
    assert_eq!(text(&filed.1, "/status"), "filed");
    assert_eq!(bookkeeper.get(&format!("/clients/{client}")).await.0, 404);
    assert!(switcher(&bookkeeper).await.is_empty());

    // Reopening it gives the access back.
    let reopened = admin.post_empty(&format!("/filings/{filing}/reopen")).await;
    assert_eq!(reopened.0, 200, "{}", reopened.1);
    assert_eq!(text(&reopened.1, "/status"), "active");
    assert_eq!(bookkeeper.get(&format!("/clients/{client}")).await.0, 200);
    assert_eq!(switcher(&bookkeeper).await, vec![client.clone()]);

    // The admin sees the client throughout; its owner sees it and nothing else.
    assert_eq!(admin.get(&format!("/clients/{client}")).await.0, 200);
    assert_eq!(owner.get(&format!("/clients/{client}")).await.0, 200);
    assert_eq!(owner.get(&format!("/clients/{other}")).await.0, 404);

    // No session, no API.
    assert_eq!(anonymous.get("/me/clients").await.0, 401);
    assert_eq!(anonymous.get(&format!("/clients/{client}")).await.0, 401);
}
