//! Practice settings over HTTP: PATCH keeps what is left out and clears what is `null`.

mod support;

use poem::http::{Method, StatusCode};
use serde_json::json;
use support::{Role, World};

#[tokio::test]
async fn patch_keeps_left_out_fields_and_clears_nulls() {
    let world = World::new().await;
    let path = format!("/practices/{}", world.id("P"));
    let set = json!({"display_name": "Acme", "colour": "#112233"});
    let answer = world.send(Role::Admin, &Method::PATCH, &path, Some(&set)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["branding"]["display_name"], "Acme");

    // Left out: kept.
    let answer = world.send(Role::Admin, &Method::PATCH, &path, Some(&json!({"colour": "#445566"}))).await;
    assert_eq!(answer.json["branding"]["display_name"], "Acme", "{}", answer.text);
    assert_eq!(answer.json["branding"]["colour"], "#445566");

    // null: cleared.
    let answer = world.send(Role::Admin, &Method::PATCH, &path, Some(&json!({"display_name": null}))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(answer.json["branding"]["display_name"].is_null(), "{}", answer.text);
    assert_eq!(answer.json["branding"]["colour"], "#445566");

    // A bad colour names the field and changes nothing.
    let answer = world.send(Role::Admin, &Method::PATCH, &path, Some(&json!({"colour": "red"}))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json["field"], "colour", "{}", answer.text);
}
