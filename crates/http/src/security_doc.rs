//! The security schemes in the OpenAPI document: the bearer session token,
//! the `ferry_session` cookie, and the CSRF header the cookie needs on
//! changes. Every operation that needs a session (an [`Action`] in
//! [`operations`]) refers to them; the guard in front of the handlers stays
//! the authority, and this only tells clients what it asks for.
//!
//! [`Action`]: ferry_domain::access::Action

use poem::http::Method;
use serde_json::{Value, json};

use crate::guard::{SESSION_COOKIE, unsafe_method};
use crate::operations::{self, OPERATIONS, STREAMING};

/// The name of the bearer scheme.
const BEARER: &str = "bearer";
/// The name of the cookie scheme.
const COOKIE: &str = SESSION_COOKIE;
/// The name of the CSRF header scheme.
const CSRF: &str = "csrf_token";

/// Adds the security schemes to `spec` (the generated document, streaming
/// operations merged), and to each operation that needs a session the ways
/// to present one.
pub(crate) fn declare(spec: &str) -> String {
    let mut document: Value = serde_json::from_str(spec).expect("the document is JSON");
    if let Some(components) = document.get_mut("components").and_then(Value::as_object_mut) {
        components.insert("securitySchemes".to_owned(), schemes());
    }
    let paths = document.get_mut("paths").and_then(Value::as_object_mut).into_iter().flatten();
    for operation in paths.filter_map(|(_, item)| item.as_object_mut()).flat_map(|item| item.values_mut()) {
        let Some(found) = operation["operationId"].as_str().and_then(operation_of) else { continue };
        if found.action.is_some() {
            operation["security"] = requirements(&found.method);
        }
    }
    document.to_string()
}

fn operation_of(id: &str) -> Option<&'static operations::Operation> {
    OPERATIONS.iter().chain(STREAMING).find(|op| op.id == id)
}

fn schemes() -> Value {
    json!({
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "description": "The session `token` from `POST /auth/login`, as `Authorization: Bearer <token>`."
        },
        COOKIE: {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The session cookie `POST /auth/login` sets, for browsers (HttpOnly, SameSite=Lax)."
        },
        CSRF: {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRF-Token",
            "description": "The `csrf_token` from `POST /auth/login`: with the cookie, on every change \
                (POST, PUT, PATCH, DELETE)."
        }
    })
}

/// Either the bearer token, or the cookie (with the CSRF header on changes).
fn requirements(method: &Method) -> Value {
    let cookie = if unsafe_method(method) { json!({ COOKIE: [], CSRF: [] }) } else { json!({ COOKIE: [] }) };
    json!([{ BEARER: [] }, cookie])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_that_need_a_session_say_how_to_present_one() {
        let spec = json!({
            "paths": {
                "/auth/login": { "post": { "operationId": "sign_in" } },
                "/me": { "get": { "operationId": "get_me" } },
                "/me/terms": { "post": { "operationId": "accept_terms" } },
                "/uploads": { "options": { "operationId": "tus_options" } }
            },
            "components": { "schemas": {} }
        });
        let declared: Value = serde_json::from_str(&declare(&spec.to_string())).expect("JSON");
        assert!(declared["paths"]["/auth/login"]["post"].get("security").is_none());
        assert!(declared["paths"]["/uploads"]["options"].get("security").is_none());
        assert_eq!(declared["paths"]["/me"]["get"]["security"], json!([{ "bearer": [] }, { "ferry_session": [] }]));
        assert_eq!(
            declared["paths"]["/me/terms"]["post"]["security"],
            json!([{ "bearer": [] }, { "ferry_session": [], "csrf_token": [] }])
        );
        let schemes = &declared["components"]["securitySchemes"];
        for requirement in declared.to_string().split("\"security\":").skip(1) {
            for name in ["bearer", "ferry_session", "csrf_token"] {
                if requirement.split(']').next().is_some_and(|r| r.contains(name)) {
                    assert!(schemes.get(name).is_some(), "{name} is required but not declared");
                }
            }
        }
    }
}
