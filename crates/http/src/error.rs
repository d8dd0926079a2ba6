//! One error shape for every failure: `{"code", "message", "field"?}`.

use ferry_app::AppError;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// What every failed request answers.
#[derive(Debug, Clone, PartialEq, Eq, Object, serde::Serialize)]
pub struct ErrorBody {
    /// A stable machine code, such as `not_found`, `invalid`, `quota_exceeded`.
    pub code: String,
    /// What went wrong and what to do, for people.
    pub message: String,
    /// The request field to blame, where one is.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// A body with `code` and `message`.
    #[must_use]
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into(), field: None }
    }
}

/// A failed request, as documented in the OpenAPI document.
#[derive(Debug, ApiResponse)]
#[oai(bad_request_handler = "bad_request")]
pub enum Failure {
    /// The request is malformed or a field is invalid (`field` names it).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Sign in first, or the email or password is wrong.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Visible, but not allowed (the message names the rule).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Does not exist, or is out of your scope.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// Clashes with the current state, or a seat limit.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Does not fit in an allowance.
    #[oai(status = 413)]
    TooLarge(Json<ErrorBody>),
    /// Too many failed sign-ins.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Something broke on the server.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A backend is unavailable; try again.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

/// What handlers return.
pub type ApiResult<T> = Result<T, Failure>;

impl Failure {
    /// A 400 naming `field`.
    #[must_use]
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::BadRequest(Json(ErrorBody { code: "invalid".into(), message: message.into(), field: Some(field.into()) }))
    }

    /// The status this failure answers with.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        let body = ErrorBody {
            code: error.code().to_owned(),
            message: error.to_string(),
            field: error.field().map(str::to_owned),
        };
        crate::guard::note_rule(error.rule());
        match &error {
            AppError::Internal(detail) => tracing::error!(detail = %detail, "internal error"),
            AppError::Unavailable(detail) => tracing::warn!(detail = %detail, "backend unavailable"),
            _ => {}
        }
        match error {
            AppError::Invalid { .. }
            | AppError::InvalidToken
            | AppError::RangeNotSatisfiable { .. }
            | AppError::ChecksumMismatch => Self::BadRequest(Json(body)),
            AppError::Unauthenticated | AppError::BadCredentials => Self::Unauthorized(Json(body)),
            AppError::AccountLocked(_) | AppError::TermsNotAccepted { .. } | AppError::Forbidden { .. } => {
                Self::Forbidden(Json(body))
            }
            AppError::NotFound { .. } => Self::NotFound(Json(body)),
            AppError::Conflict { .. } | AppError::SeatLimit(_) => Self::Conflict(Json(body)),
            AppError::Quota(_) => Self::TooLarge(Json(body)),
            AppError::Throttled { retry_after_secs, .. } => Self::TooManyRequests(Json(body), retry_after_secs),
            AppError::Unavailable(_) => Self::Unavailable(Json(body)),
            AppError::Internal(_) => Self::Internal(Json(body)),
        }
    }
}

/// Turns poem-openapi's request parsing errors (missing or mistyped fields,
/// malformed JSON, bad path ids) into the error shape, naming the field.
fn bad_request(error: poem::Error) -> Failure {
    let message = error.to_string();
    let field = field_of(&message);
    Failure::BadRequest(Json(ErrorBody { code: "invalid".into(), message: tidy(&message), field }))
}

/// poem-openapi names the parameter in `(parameter: id)` forms and the JSON
/// field in `[field `name`]`-like forms; find whichever appears.
fn field_of(message: &str) -> Option<String> {
    for (open, close) in
        [("field `", "`"), ("parameter `", "`"), ("param `", "`"), ("field \"", "\""), ("parameter \"", "\"")]
    {
        if let Some(start) = message.find(open) {
            let rest = &message[start + open.len()..];
            if let Some(end) = rest.find(close) {
                return Some(rest[..end].to_owned());
            }
        }
    }
    None
}

fn tidy(message: &str) -> String {
    let mut message = message.trim().to_owned();
    if message.len() > 500 {
        message.truncate(message.char_indices().take_while(|(i, _)| *i < 500).last().map_or(0, |(i, _)| i));
        message.push('…');
    }
    message
}

/// Every other error the server can produce (unknown path, wrong method,
/// body too large) in the same shape.
pub(crate) async fn catch_all(error: poem::Error) -> Response {
    let status = error.status();
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_client_error() => "invalid",
        _ => "internal",
    };
    let message = if status.is_server_error() {
        tracing::error!(error = %error, "unhandled error");
        "something went wrong on our side; it has been logged".to_owned()
    } else if status == StatusCode::NOT_FOUND {
        "no such resource".to_owned()
    } else {
        tidy(&error.to_string())
    };
    let field = if status == StatusCode::BAD_REQUEST { field_of(&error.to_string()) } else { None };
    let body = ErrorBody { code: code.to_owned(), message, field };
    (status, poem::web::Json(body)).into_response()
}

/// A failure as a plain response (for middleware, outside handlers).
pub(crate) fn respond(failure: Failure) -> Response {
    failure.into_response()
}
