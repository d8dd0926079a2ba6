//! Authentication, CSRF and layer 1 (the portal boundary), in front of every
//! handler; the audit entry of every refused request (403 or 404), naming the
//! domain rule that refused it where one did; and the security headers of
//! every response.

use std::cell::Cell;
use std::net::IpAddr;

use ferry_app::{App, AppError, Authenticated, Principal, SecretToken};
use ferry_domain::access::{Action, Rule, portal_boundary};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::RemoteAddr;
use poem::{Endpoint, FromRequest, IntoResponse, Middleware, Request, RequestBody, Response};
use poem_openapi::payload::Json;

use crate::error::{ErrorBody, Failure, respond};
use crate::operations::{self, Routed};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "ferry_session";
/// The header browsers echo the CSRF token in, on unsafe methods.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The purpose string the CSRF token is derived with.
pub(crate) const CSRF_PURPOSE: &str = "csrf";

/// The caller of a request, as the guard resolved it: handlers read it with
/// `Data<&Caller>`. `None` on public operations called without a session.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Option<Authenticated>);

impl Caller {
    /// The principal of a signed-in caller.
    ///
    /// # Errors
    /// 401 when there is none (the guard already refuses that for private operations).
    pub fn principal(&self) -> Result<Principal, Failure> {
        self.0.map(|a| a.principal).ok_or_else(|| Failure::from(AppError::Unauthenticated))
    }
}

tokio::task_local! {
    /// The domain rule behind the error a handler answers with, for the
    /// audit entry of a refusal (see [`note_rule`]).
    static DECIDING_RULE: Cell<Option<Rule>>;
}

/// Notes the domain rule behind the error being answered (`None` when no
/// rule decided it), for the guard to name in the refusal's audit entry.
/// Every error answered goes through here ([`Failure`]'s `From<AppError>`);
/// the last one noted is the answer's.
pub(crate) fn note_rule(rule: Option<Rule>) {
    // Outside a guarded request (the guard's own answers) there is nothing to note it for.
    let _ = DECIDING_RULE.try_with(|noted| noted.set(rule));
}

/// What the audit entry of a refusal the domain decided says: the verdict,
/// the rule cited (sentence, PRODUCT.md number, code) and the layer.
fn decided_by(status: StatusCode, rule: Rule, layer: u8) -> String {
    let verdict = if status == StatusCode::FORBIDDEN { "not allowed" } else { "out of scope" };
    format!("{verdict}: {} (layer {layer})", rule.cited())
}

/// The signed-in caller's principal, for poem handlers (the streaming
/// operations): read from the [`Caller`] the guard stored; without one the
/// request answers 401, as [`Caller::principal`] does (the guard already
/// refuses that for private operations).
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub Principal);

impl<'a> FromRequest<'a> for SignedIn {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let caller = req.extensions().get::<Caller>().copied().unwrap_or(Caller(None));
        caller.principal().map(Self).map_err(|failure| poem::Error::from_response(respond(failure)))
    }
}

/// Where the request came from, for throttling.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

/// The guard around the API.
pub struct Guard<E> {
    inner: E,
    app: App,
}

impl<E> std::fmt::Debug for Guard<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

impl<E> Guard<E> {
    /// Guards `inner` with `app`'s sessions.
    pub const fn new(inner: E, app: App) -> Self {
        Self { inner, app }
    }
}

/// Whether `method` changes something (and so needs CSRF with the cookie).
pub(crate) fn unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The session token: the bearer token, else the session cookie (which then needs CSRF).
fn presented_token(req: &Request) -> Option<(SecretToken, bool)> {
    if let Some(auth) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let (scheme, token) = auth.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| (SecretToken::from_presented(token), false));
    }
    req.headers().get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
        |pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then(|| (SecretToken::from_presented(value), true))
        },
    )
}

/// An error answer of the guard's own, in the one error shape.
fn answer(status: StatusCode, body: ErrorBody) -> Response {
    (status, poem::web::Json(body)).into_response()
}

/// 405, naming the methods the path answers (in `Allow` too).
fn method_not_allowed(allowed: &[Method]) -> Response {
    let allowed = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    let body = ErrorBody::new("method_not_allowed", format!("this path answers {allowed} only"));
    let mut response = answer(StatusCode::METHOD_NOT_ALLOWED, ErrorBody { field: Some("method".to_owned()), ..body });
    if let Ok(allowed) = HeaderValue::from_str(&allowed) {
        response.headers_mut().insert(header::ALLOW, allowed);
    }
    response
}

fn failure(code: &str, status: StatusCode, message: &str) -> Response {
    let body = Json(ErrorBody::new(code, message));
    match status {
        StatusCode::UNAUTHORIZED => respond(Failure::Unauthorized(body)),
        StatusCode::FORBIDDEN => respond(Failure::Forbidden(body)),
        _ => respond(Failure::BadRequest(body)),
    }
}

impl<E: Endpoint> Endpoint for Guard<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        // A request no row of the operations table matches reaches no handler.
        let operation = match operations::route(req.method(), req.uri().path()) {
            Routed::Operation(operation) => Some(operation),
            Routed::WrongMethod(allowed) => return Ok(method_not_allowed(&allowed)),
            Routed::Unknown => {
                return Ok(answer(StatusCode::NOT_FOUND, ErrorBody::new("not_found", "no such resource")));
            }
        };
        let address = match req.remote_addr().0 {
            poem::Addr::SocketAddr(addr) => Some(addr.ip()),
            _ => None,
        };
        req.extensions_mut().insert(ClientAddress(address));

        let mut caller = None;
        if let Some((token, from_cookie)) = presented_token(&req) {
            if from_cookie && unsafe_method(req.method()) {
                let expected = token.derive(CSRF_PURPOSE);
                let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if sent != Some(expected.as_str()) {
                    return Ok(failure(
                        "csrf",
                        StatusCode::FORBIDDEN,
                        "send the X-CSRF-Token header given at sign-in with every change made with the session cookie",
                    ));
                }
            }
            match self.app.authenticate(&token).await {
                Ok(found) => caller = Some(found),
                // A stale token on a public operation is ignored; elsewhere it is refused below.
                Err(AppError::Unauthenticated) => {}
                Err(other) => return Ok(respond(Failure::from(other))),
            }
        }
        let action = operation.and_then(|op| op.action);
        if let Some(action) = action {
            let Some(found) = caller else {
                return Ok(failure(
                    "unauthenticated",
                    StatusCode::UNAUTHORIZED,
                    "sign in first: send `Authorization: Bearer <token>` from POST /auth/login",
                ));
            };
            if let Some(version) = found.terms_pending
                && !matches!(action, Action::ViewSelf | Action::AcceptTerms | Action::SignOut)
            {
                return Ok(respond(Failure::from(AppError::TermsNotAccepted { version })));
            }
            // Layer 1: the portal boundary, before any handler.
            if let Err(decision) = portal_boundary(&found.actor, action) {
                let reason = decided_by(StatusCode::FORBIDDEN, decision.rule, 1);
                self.app.record_refusal(&found.principal, action, &reason).await;
                return Ok(respond(Failure::from(AppError::Forbidden { rule: decision.rule })));
            }
        }
        req.extensions_mut().insert(Caller(caller));
        let (rule, mut response) = DECIDING_RULE
            .scope(Cell::new(None), async {
                let response = match self.inner.call(req).await {
                    Ok(response) => response.into_response(),
                    Err(error) if error.is_from_response() => error.into_response(),
                    // Request parsing errors, unknown paths, wrong methods: the one error shape.
                    Err(error) => crate::error::catch_all(error).await,
                };
                (DECIDING_RULE.with(Cell::get), response)
            })
            .await;
        if let (Some(action), Some(found)) = (action, caller)
            && matches!(response.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
        {
            let reason = match rule {
                Some(rule) => decided_by(response.status(), rule, 2),
                // Refused with no domain rule: an object that does not exist, a locked account.
                None if response.status() == StatusCode::FORBIDDEN => "not allowed by the scope check (layer 2)".into(),
                None => "not found or out of scope (layer 2)".into(),
            };
            self.app.record_refusal(&found.principal, action, &reason).await;
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    }
}

/// Headers on every response: no sniffing, no referrer, no framing of API
/// responses.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders;

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        SecurityHeadersEndpoint(ep)
    }
}

/// See [`SecurityHeaders`].
#[derive(Debug)]
pub struct SecurityHeadersEndpoint<E>(E);

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;
    async fn call(&self, req: Request) -> poem::Result<Response> {
        let mut response = match self.0.call(req).await {
            Ok(r) => r.into_response(),
            Err(e) => e.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.entry("x-frame-options").or_insert(HeaderValue::from_static("DENY"));
        Ok(response)
    }
}

/// The `Set-Cookie` value of a new session.
#[must_use]
pub fn session_cookie(token: &SecretToken, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}", token.expose())
}

/// The `Set-Cookie` value that removes the session cookie.
#[must_use]
pub fn cleared_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// The CSRF token that goes with a session token.
#[must_use]
pub fn csrf_token(token: &SecretToken) -> String {
    token.derive(CSRF_PURPOSE)
}

#[allow(dead_code)]
fn _assert_remote_addr(_: RemoteAddr) {}
