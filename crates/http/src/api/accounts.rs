//! Signing in and out, passwords, first run, and the signed-in user.

use ferry_app::{App, Credentials, PracticeApplication, SecretToken};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::dto::{ClientOut, Page, PracticeOut, Str, UserOut, page_request, rfc3339};
use super::{Done, Tag};
use crate::HttpConfig;
use crate::error::ApiResult;
use crate::guard::{Caller, ClientAddress, cleared_cookie, csrf_token, session_cookie};

pub(crate) struct AccountsApi {
    pub(crate) app: App,
    pub(crate) config: HttpConfig,
}

/// Email and password.
#[derive(Object)]
struct SignInBody {
    /// The account's email address.
    #[oai(validator(max_length = 320))]
    email: Str,
    /// The password.
    #[oai(validator(max_length = 1024))]
    password: Str,
}

/// A new session.
#[derive(Debug, Object)]
struct SessionOut {
    /// The session token: send it as `Authorization: Bearer <token>`. Shown once.
    token: String,
    /// For browsers using the `ferry_session` cookie: send this in `X-CSRF-Token` on every change.
    csrf_token: String,
    /// When the session ends.
    expires_at: String,
    /// Who signed in.
    user: UserOut,
}

#[derive(ApiResponse)]
enum SignInResponse {
    /// Signed in; the cookie is set for browsers.
    #[oai(status = 200)]
    Ok(Json<SessionOut>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
enum SignOutResponse {
    /// Signed out; the cookie is removed.
    #[oai(status = 200)]
    Ok(Json<Done>, #[oai(header = "Set-Cookie")] String),
}

/// A new password from a mailed link.
#[derive(Object)]
struct SetPasswordBody {
    /// The token from the link.
    #[oai(validator(max_length = 256))]
    token: Str,
    /// The new password (at least 10 characters).
    #[oai(validator(max_length = 1024))]
    password: Str,
}

/// An address to mail a reset link to.
#[derive(Object)]
struct ResetBody {
    /// The account's email address.
    #[oai(validator(max_length = 320))]
    email: Str,
}

/// The first practice, from the link the server printed on first start.
#[derive(Object)]
struct SetupBody {
    /// The token from the printed link.
    #[oai(validator(max_length = 256))]
    token: Str,
    /// The practice's legal name.
    practice_name: Str,
    /// The first admin's name.
    admin_name: Str,
    /// The first admin's email address.
    admin_email: Str,
    /// The first admin's password.
    #[oai(validator(max_length = 1024))]
    password: Str,
}

/// How many sessions ended.
#[derive(Object)]
struct Ended {
    /// The number of sessions ended.
    sessions: u64,
}

/// A client the user belongs to.
#[derive(Object)]
struct Membership {
    /// The client.
    client: ClientOut,
    /// `owner` or `member`.
    role: String,
}

/// The terms of use.
#[derive(Object)]
struct TermsOut {
    /// The current version.
    version: u32,
    /// The text.
    text: String,
    /// Whether the user has accepted this version.
    accepted: bool,
}

/// The signed-in user.
#[derive(Object)]
struct MeOut {
    /// The account.
    user: UserOut,
    /// For practice users: their practice.
    practice: Option<PracticeOut>,
    /// For practice users: `admin`, `staff` or `bookkeeper`.
    role: Option<String>,
    /// For client users: their clients.
    clients: Vec<Membership>,
    /// The installation's terms of use, if any.
    terms: Option<TermsOut>,
}

/// Accepting the terms of use.
#[derive(Object)]
struct AcceptTermsBody {
    /// The version read.
    #[oai(validator(minimum(value = "1"), maximum(value = "4294967295")))]
    version: f64,
}

/// A client in the account switcher.
#[derive(Object)]
struct SwitcherEntry {
    /// The client.
    client: ClientOut,
    /// For client users: `owner` or `member`.
    membership: Option<String>,
    /// For practice users: whether an admin assigned it to them.
    assigned: bool,
    /// For practice users: tasks they hold on its active filings.
    active_tasks_held: u32,
}

#[OpenApi(tag = "Tag::Accounts")]
impl AccountsApi {
    /// Sign in with email and password.
    ///
    /// Returns a session token for `Authorization: Bearer`, and sets the
    /// `ferry_session` cookie (HttpOnly, SameSite=Lax) for browsers, which
    /// must then send `X-CSRF-Token` on every change. Repeated failures are
    /// throttled per account and per address.
    #[oai(path = "/auth/login", method = "post", operation_id = "sign_in")]
    async fn sign_in(&self, address: Data<&ClientAddress>, body: Json<SignInBody>) -> ApiResult<SignInResponse> {
        let body = body.0;
        let signed_in = self
            .app
            .sign_in(Credentials { email: body.email.0, password: body.password.0, address: address.0.0 })
            .await?;
        let max_age = (signed_in.expires_at - time::OffsetDateTime::now_utc()).whole_seconds().max(0);
        let cookie = session_cookie(&signed_in.token, max_age, self.config.secure_cookies);
        Ok(SignInResponse::Ok(
            Json(SessionOut {
                token: signed_in.token.expose().to_owned(),
                csrf_token: csrf_token(&signed_in.token),
                expires_at: rfc3339(signed_in.expires_at),
                user: UserOut::from(&signed_in.user),
            }),
            cookie,
        ))
    }

    /// End this session.
    #[oai(path = "/auth/logout", method = "post", operation_id = "sign_out")]
    async fn sign_out(&self, caller: Data<&Caller>) -> ApiResult<SignOutResponse> {
        self.app.sign_out(&caller.principal()?).await?;
        Ok(SignOutResponse::Ok(Json(Done::ok()), cleared_cookie(self.config.secure_cookies)))
    }

    /// End every session of this user, on every device.
    #[oai(path = "/auth/logout-all", method = "post", operation_id = "sign_out_everywhere")]
    async fn sign_out_everywhere(&self, caller: Data<&Caller>) -> ApiResult<Json<Ended>> {
        let sessions = self.app.sign_out_everywhere(&caller.principal()?).await?;
        Ok(Json(Ended { sessions }))
    }

    /// Set a password from a mailed single-use link.
    ///
    /// Ends every session of the account. The link works once and expires.
    #[oai(path = "/auth/password", method = "post", operation_id = "set_password")]
    async fn set_password(&self, body: Json<SetPasswordBody>) -> ApiResult<Json<Done>> {
        let body = body.0;
        self.app.set_password_with_link(&SecretToken::from_presented(&body.token), body.password.0).await?;
        Ok(Json(Done::ok()))
    }

    /// Mail a password reset link, if an active account has this address.
    ///
    /// Answers the same whether or not it does; earlier links stop working.
    /// Requests are throttled per email address and per network address.
    #[oai(path = "/auth/password-reset", method = "post", operation_id = "request_password_reset")]
    async fn request_password_reset(
        &self,
        address: Data<&ClientAddress>,
        body: Json<ResetBody>,
    ) -> ApiResult<Json<Done>> {
        self.app.request_password_reset(&body.0.email, address.0.0).await?;
        Ok(Json(Done::ok()))
    }

    /// Set up the installation's first practice with the link printed on first start.
    ///
    /// The practice is approved at once and its admin can sign in.
    #[oai(path = "/setup", method = "post", operation_id = "set_up_first_practice")]
    async fn set_up_first_practice(&self, body: Json<SetupBody>) -> ApiResult<Json<PracticeOut>> {
        let body = body.0;
        let application = PracticeApplication {
            practice_name: body.practice_name.0,
            admin_name: body.admin_name.0,
            admin_email: body.admin_email.0,
        };
        let practice = self
            .app
            .set_up_first_practice(&SecretToken::from_presented(&body.token), &application, body.password.0)
            .await?;
        Ok(Json(PracticeOut::from(&practice)))
    }

    /// The signed-in user: account, practice and role, or client memberships.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn me(&self, caller: Data<&Caller>) -> ApiResult<Json<MeOut>> {
        let me = self.app.me(&caller.principal()?).await?;
        Ok(Json(MeOut {
            user: UserOut::from(&me.user),
            role: me.practice.as_ref().map(|(_, role)| role.as_str().to_owned()),
            practice: me.practice.as_ref().map(|(p, _)| PracticeOut::from(p)),
            clients: me
                .clients
                .iter()
                .map(|(c, role)| Membership { client: ClientOut::from(c), role: role.as_str().to_owned() })
                .collect(),
            terms: me.terms.map(|t| TermsOut {
                accepted: me.accepted_terms.is_some_and(|v| v >= t.version),
                version: t.version,
                text: t.text,
            }),
        }))
    }

    /// Accept the installation's current terms of use.
    #[oai(path = "/me/terms", method = "post", operation_id = "accept_terms")]
    async fn accept_terms(&self, caller: Data<&Caller>, body: Json<AcceptTermsBody>) -> ApiResult<Json<Done>> {
        self.app.accept_terms(&caller.principal()?, super::dto::whole("version", body.0.version)?).await?;
        Ok(Json(Done::ok()))
    }

    /// The account switcher: the clients this user may open.
    #[oai(path = "/me/clients", method = "get", operation_id = "list_my_clients")]
    async fn my_clients(
        &self,
        caller: Data<&Caller>,
        limit: poem_openapi::param::Query<Option<u32>>,
        after: poem_openapi::param::Query<Option<String>>,
    ) -> ApiResult<Json<Page<SwitcherEntry>>> {
        let request = page_request(limit.0, after.0)?;
        let page = self.app.my_clients(&caller.principal()?, &request).await?;
        Ok(Json(Page::from_found(&page, |c| SwitcherEntry {
            client: ClientOut::from(&c.client),
            membership: c.facts.membership.map(|m| m.as_str().to_owned()),
            assigned: c.facts.assigned,
            active_tasks_held: c.facts.active_tasks_held,
        })))
    }
}
