//! The streaming operations, outside the OpenAPI service (and described in
//! its document by [`crate::streaming_doc`]) because their bodies are never
//! held in memory: `POST /transfers` ([`multipart`]: multipart, streamed part
//! by part, or JSON to open a transfer), the tus 1.0 resumable upload
//! protocol under `/uploads` ([`tus`]), and `GET /documents/{document}/content`
//! ([`download`]: streamed, with `Range`).
//!
//! They sit behind the same guard as every other operation (authentication,
//! CSRF, layer 1 from [`crate::operations::STREAMING`]) and call one
//! ferry-app use case each, which checks scope (layer 2). Handlers take the
//! app as `Data<&App>` and the caller as [`crate::guard::SignedIn`]; this module holds what
//! they share: the per-method routes (a method a path does not answer is
//! refused by the guard, from the operations table, with `Allow`), the
//! error answer ([`Refusal`]), path ids ([`PathId`]) and header helpers.

mod download;
mod multipart;
mod tus;

pub(crate) use multipart::StreamedTransfer;

use ferry_app::AppError;
use ferry_domain::ids::DocumentId;
use ferry_ports::records::UploadId;
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::{FromRequest, Request, RequestBody, Response, Route, RouteMethod};

use crate::error::{Failure, respond};

/// The streaming routes, to nest under `/api/v1` beside the OpenAPI service
/// (with the app as data), behind the guard.
pub(crate) fn routes() -> Route {
    Route::new()
        .at("/transfers", RouteMethod::new().post(multipart::post_transfers))
        .at("/uploads", RouteMethod::new().post(tus::create).options(tus::options))
        .at("/uploads/:upload", RouteMethod::new().head(tus::head).patch(tus::append).delete(tus::terminate))
        .at("/documents/:document/content", RouteMethod::new().get(download::get_content))
}

/// A refused streaming request, answered in the one error shape.
#[derive(Debug)]
pub(crate) struct Refusal(Response);

impl Refusal {
    /// The error answer of `error`, with `status` instead of its own.
    fn with_status(error: AppError, status: StatusCode) -> Self {
        let mut response = respond(Failure::from(error));
        response.set_status(status);
        Self(response)
    }
}

impl From<AppError> for Refusal {
    fn from(error: AppError) -> Self {
        Self(respond(Failure::from(error)))
    }
}

impl From<Refusal> for poem::Error {
    fn from(refusal: Refusal) -> Self {
        Self::from_response(refusal.0)
    }
}

/// An id from the path, of a kind [`PathParam`] names: one that is not an id
/// is not found, like one nobody has.
struct PathId<T>(T);

/// A kind of id the streaming paths carry.
trait PathParam: Sized {
    /// The path parameter, which is also what is not found.
    const NAME: &'static str;
    /// Parses the raw segment.
    fn parse(raw: &str) -> Option<Self>;
}

impl PathParam for DocumentId {
    const NAME: &'static str = "document";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl PathParam for UploadId {
    const NAME: &'static str = "upload";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse::<uuid::Uuid>().ok().map(UploadId)
    }
}

impl<'a, T: PathParam> FromRequest<'a> for PathId<T> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let found = req.raw_path_param(T::NAME).and_then(T::parse);
        Ok(Self(found.ok_or(Refusal::from(AppError::not_found(T::NAME)))?))
    }
}

// Headers.

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    header_str(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse().ok())
}

fn insert(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}
