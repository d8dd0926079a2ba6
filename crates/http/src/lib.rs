//! Ferry's web server: the JSON API under `/api/v1`, its OpenAPI document at
//! `/api/openapi.json`, interactive docs at `/api/docs`, and `/healthz`,
//! `/readyz`.
//!
//! Every request to the API passes, in order:
//! 1. authentication ([`guard`]): a bearer token or the session cookie
//!    (with its CSRF token on unsafe methods), resolved against the database;
//! 2. layer 1, the portal boundary ([`guard`]): the operation's
//!    [`Action`](ferry_domain::access::Action) is looked up in
//!    [`operations::OPERATIONS`] and refused for bookkeepers unless it is in
//!    the domain's allowlist, before any handler runs;
//! 3. the handler, which calls one ferry-app use case, which re-checks scope
//!    (layer 2).
//!
//! Errors have one JSON shape ([`error::ErrorBody`]): a stable `code`, a
//! `message` for people, and the `field` to blame where there is one.

pub mod api;
pub mod error;
pub mod guard;
pub mod operations;
mod security_doc;
mod streaming_doc;
mod transfer;

use ferry_app::App;
use poem::endpoint::make_sync;
use poem::http::StatusCode;
use poem::web::Json;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Response, Route, get, handler};
use poem_openapi::OpenApiService;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Whether clients reach the server over HTTPS (directly or through a
    /// TLS-terminating proxy): session cookies are then marked `Secure`.
    pub secure_cookies: bool,
    /// The address the server is reached at, for the OpenAPI document's server list.
    pub public_url: String,
}

/// The OpenAPI document of the whole API, as JSON.
#[must_use]
pub fn spec_json(app: &App, config: &HttpConfig) -> String {
    document(&openapi(app, config).spec())
}

/// The document served: the one poem-openapi generated, with the streaming
/// operations and the security schemes added.
fn document(generated: &str) -> String {
    security_doc::declare(&streaming_doc::merge(generated))
}

fn openapi(app: &App, config: &HttpConfig) -> OpenApiService<api::Apis, ()> {
    OpenApiService::new(api::apis(app, config), "Ferry", env!("CARGO_PKG_VERSION"))
        .server(format!("{}/api/v1", config.public_url.trim_end_matches('/')))
        .description(
            "Secure file exchange and delegated access for bookkeeping practices. \
             Authenticate with `Authorization: Bearer <token>` from `POST /auth/login`, \
             or with the `ferry_session` cookie plus the `X-CSRF-Token` header on unsafe methods. \
             Errors are `{\"code\", \"message\", \"field\"?}`; out-of-scope objects are 404.",
        )
}

/// The whole web server as one endpoint.
pub fn router(app: App, config: HttpConfig) -> impl Endpoint {
    let service = openapi(&app, &config);
    // The streaming operations and the security schemes are added to the
    // generated document, which Swagger UI's page carries verbatim.
    let generated = service.spec();
    let spec = document(&generated);
    let docs_page = service.swagger_ui_html().replacen(&generated, &spec, 1);
    let ready_app = app.clone();
    Route::new()
        .nest(
            "/api/v1",
            guard::Guard::new(transfer::routes().nest("/", service.into_endpoint()).data(app.clone()), app),
        )
        .at(
            "/api/openapi.json",
            make_sync(move |_| spec.clone()).map_to_response().with(ContentType("application/json")),
        )
        .nest("/api/docs", Route::new().at("/", make_sync(move |_| poem::web::Html(docs_page.clone()))))
        .at("/healthz", get(healthz))
        .at("/readyz", get(make_readyz(ready_app)))
        .catch_all_error(error::catch_all)
        .with(guard::SecurityHeaders)
}

struct ContentType(&'static str);

impl<E: Endpoint> poem::Middleware<E> for ContentType {
    type Output = ContentTypeEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        ContentTypeEndpoint(ep, self.0)
    }
}

struct ContentTypeEndpoint<E>(E, &'static str);

impl<E: Endpoint> Endpoint for ContentTypeEndpoint<E> {
    type Output = Response;
    async fn call(&self, req: poem::Request) -> poem::Result<Response> {
        let mut resp = self.0.call(req).await?.into_response();
        resp.headers_mut().insert(poem::http::header::CONTENT_TYPE, poem::http::HeaderValue::from_static(self.1));
        Ok(resp)
    }
}

/// Liveness: the process answers.
#[handler]
fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

fn make_readyz(app: App) -> impl Endpoint {
    poem::endpoint::make(move |_| {
        let app = app.clone();
        async move {
            match app.store().read().await {
                Ok(mut tx) => {
                    let _ = tx.rollback().await;
                    Json(serde_json::json!({ "status": "ready" })).into_response()
                }
                Err(e) => {
                    tracing::warn!(error = %e, "not ready: database unavailable");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Json(serde_json::json!({ "status": "unavailable", "reason": "database" })),
                    )
                        .into_response()
                }
            }
        }
    })
}
