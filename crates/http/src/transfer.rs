//! The streaming operations, outside the OpenAPI service (and described in
//! its document by [`crate::streaming_doc`]) because their bodies are never
//! held in memory: `POST /transfers` (multipart, streamed
//! part by part), the tus 1.0 resumable upload protocol under `/uploads`,
//! and `GET /documents/{document}/content` (streamed, with `Range`).
//!
//! They sit behind the same guard as every other operation (authentication,
//! CSRF, layer 1 from [`crate::operations::STREAMING`]) and call one
//! ferry-app use case each, which checks scope (layer 2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ferry_app::files::{
    Appended, CHECKSUM_ALGORITHMS, Checksum, Destination, Download, MAX_RECIPIENTS, RangeRequest, SendRequest,
    TransferView, UploadView,
};
use ferry_app::{App, AppError, Principal};
use ferry_domain::ids::{BatchId, ClientId, ConnectionId, DocumentId, UserId};
use ferry_ports::records::{DocumentRecord, TransferRecord, UploadId};
use futures_util::StreamExt;
use poem::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use poem::web::Multipart;
use poem::{Body, FromRequest, IntoResponse, Request, Response, Route};
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;

use crate::error::{Failure, respond};
use crate::guard::Caller;

/// The tus protocol version served.
const TUS_VERSION: &str = "1.0.0";
/// The tus extensions served.
const TUS_EXTENSIONS: &str = "creation,creation-defer-length,termination,expiration,checksum";
/// The longest text field of a multipart transfer (ids are 36 characters).
const MAX_TEXT_FIELD: u64 = 256;
/// How much of a multipart file part is read at a time.
const READ_BUFFER: usize = 256 * 1024;

/// The streaming routes, to nest under `/api/v1` beside the OpenAPI service.
pub(crate) fn routes(app: &App) -> Route {
    let transfers = app.clone();
    let uploads = app.clone();
    let upload = app.clone();
    let content = app.clone();
    Route::new()
        .at(
            "/transfers",
            poem::endpoint::make(move |req| {
                let app = transfers.clone();
                async move { post_transfers(&app, req).await }
            }),
        )
        .at(
            "/uploads",
            poem::endpoint::make(move |req| {
                let app = uploads.clone();
                async move { tus_collection(&app, req).await }
            }),
        )
        .at(
            "/uploads/:upload",
            poem::endpoint::make(move |req| {
                let app = upload.clone();
                async move { tus_upload(&app, req).await }
            }),
        )
        .at(
            "/documents/:document/content",
            poem::endpoint::make(move |req| {
                let app = content.clone();
                async move { get_content(&app, req).await }
            }),
        )
}

fn fail(error: AppError) -> Response {
    respond(Failure::from(error))
}

fn principal(req: &Request) -> Result<Principal, AppError> {
    req.extensions().get::<Caller>().and_then(|c| c.0).map(|a| a.principal).ok_or(AppError::Unauthenticated)
}

fn method_not_allowed(allowed: &'static str) -> Response {
    let mut response = fail(AppError::invalid("method", format!("this path answers {allowed} only")));
    response.set_status(StatusCode::METHOD_NOT_ALLOWED);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
    response
}

fn uuid_param<T: std::str::FromStr>(req: &Request, name: &str, what: &'static str) -> Result<T, AppError> {
    req.raw_path_param(name).and_then(|raw| raw.parse().ok()).ok_or(AppError::not_found(what))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    header_str(headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse().ok())
}

/// A document as the streaming operations answer it.
pub(crate) fn document_json(record: &DocumentRecord) -> serde_json::Value {
    let d = &record.document;
    serde_json::json!({
        "id": d.id.to_string(),
        "batch": d.batch.to_string(),
        "name": d.name,
        "size": d.size.get(),
        "content_type": d.content_type,
        "sha256": hex::encode(d.sha256),
        "uploader": d.uploader.to_string(),
        "client": d.client.map(|c| c.to_string()),
        "connection": d.connection.map(|c| c.to_string()),
        "recipients": d.recipients.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "created_at": crate::api::rfc3339(d.created_at),
    })
}

fn transfer_json(transfer: &TransferRecord, documents: &[DocumentRecord]) -> serde_json::Value {
    serde_json::json!({
        "batch": transfer.id.to_string(),
        "client": transfer.client.map(|c| c.to_string()),
        "connection": transfer.connection.map(|c| c.to_string()),
        "recipients": transfer.recipients.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "completed": transfer.completed_at.is_some(),
        "documents": documents.iter().map(document_json).collect::<Vec<_>>(),
    })
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    Response::builder().status(status).content_type("application/json; charset=utf-8").body(value.to_string())
}

// POST /transfers.

/// The destination fields of a transfer, as text fields or JSON.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DestinationFields {
    client: Option<String>,
    connection: Option<String>,
    #[serde(default)]
    to: Vec<String>,
}

impl DestinationFields {
    fn request(&self) -> Result<SendRequest, AppError> {
        let destination = match (&self.client, &self.connection) {
            (Some(client), None) => Destination::Client(
                client
                    .trim()
                    .parse::<ClientId>()
                    .map_err(|_| AppError::invalid("client", "client is not a valid id"))?,
            ),
            (None, Some(connection)) => Destination::Connection(
                connection
                    .trim()
                    .parse::<ConnectionId>()
                    .map_err(|_| AppError::invalid("connection", "connection is not a valid id"))?,
            ),
            (Some(_), Some(_)) => {
                return Err(AppError::invalid("client", "name a client or a connection, not both"));
            }
            (None, None) => {
                return Err(AppError::invalid("client", "name the client (or the connection) the files are for"));
            }
        };
        let to = self
            .to
            .iter()
            .map(|raw| raw.trim().parse::<UserId>().map_err(|_| AppError::invalid("to", "to is not a valid user id")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SendRequest { destination, to })
    }
}

async fn post_transfers(app: &App, req: Request) -> Response {
    if req.method() != Method::POST {
        return method_not_allowed("POST");
    }
    let who = match principal(&req) {
        Ok(who) => who,
        Err(error) => return fail(error),
    };
    let content_type =
        header_str(req.headers(), header::CONTENT_TYPE.as_str()).unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        return open_transfer(app, &who, req).await;
    }
    if !content_type.starts_with("multipart/form-data") {
        let mut response = fail(AppError::invalid(
            "Content-Type",
            "send the files as multipart/form-data (or JSON to open a transfer for resumable uploads)",
        ));
        response.set_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        return response;
    }
    let expected = content_length(req.headers());
    let (req, mut body) = req.split();
    let multipart = match Multipart::from_request(&req, &mut body).await {
        Ok(m) => m,
        Err(e) => return fail(AppError::invalid("body", format!("the multipart body cannot be read: {e}"))),
    };
    match stream_transfer(app, &who, multipart, expected).await {
        Ok(view) => json(StatusCode::CREATED, &transfer_json(&view.transfer, &view.documents)),
        Err(error) => fail(error),
    }
}

async fn open_transfer(app: &App, who: &Principal, req: Request) -> Response {
    let bytes = match req.into_body().into_bytes_limit(64 * 1024).await {
        Ok(bytes) => bytes,
        Err(e) => return fail(AppError::invalid("body", format!("the body cannot be read: {e}"))),
    };
    let fields: DestinationFields = match serde_json::from_slice(&bytes) {
        Ok(fields) => fields,
        Err(e) => return fail(AppError::invalid("body", format!("the body is not a transfer: {e}"))),
    };
    let request = match fields.request() {
        Ok(request) => request,
        Err(e) => return fail(e),
    };
    match app.open_transfer(who, &request).await {
        Ok(transfer) => json(StatusCode::CREATED, &transfer_json(&transfer, &[])),
        Err(e) => fail(e),
    }
}

/// Reads the text fields, then streams each file part into the transfer.
/// Whatever fails part-way aborts the transfer: nothing of it is kept.
async fn stream_transfer(
    app: &App,
    who: &Principal,
    mut multipart: Multipart,
    expected: Option<u64>,
) -> Result<TransferView, AppError> {
    let mut outgoing = None;
    let fields = match read_parts(app, who, &mut multipart, expected, &mut outgoing).await {
        Ok(fields) => fields,
        Err(error) => {
            if let Some(o) = outgoing {
                o.abort().await;
            }
            return Err(error);
        }
    };
    match outgoing {
        Some(o) => o.finish().await,
        None => {
            // Check the destination first, so its errors come before "no file".
            fields.request()?;
            Err(AppError::invalid("file", "send at least one file part named file"))
        }
    }
}

/// A text field of a transfer.
enum TextField {
    Client,
    Connection,
    To,
}

/// Reads every part: the text fields into the returned fields, and each file
/// into `outgoing`, which the first file starts.
async fn read_parts(
    app: &App,
    who: &Principal,
    multipart: &mut Multipart,
    expected: Option<u64>,
    outgoing: &mut Option<ferry_app::files::Outgoing>,
) -> Result<DestinationFields, AppError> {
    let mut fields = DestinationFields::default();
    let mut buffer = vec![0u8; READ_BUFFER];
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::invalid("body", format!("the multipart body is broken: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            if outgoing.is_some() {
                return Err(AppError::invalid(&name, "send the client, connection and to fields before the files"));
            }
            let slot = match name.as_str() {
                "client" => TextField::Client,
                "connection" => TextField::Connection,
                "to" => TextField::To,
                _ => {
                    let shown = if name.is_empty() { "field" } else { name.as_str() };
                    return Err(AppError::invalid(shown, format!("{shown} is not a field of a transfer")));
                }
            };
            // An id is 36 characters: a longer text field is refused without reading it all.
            let mut text = String::new();
            let read = field.into_async_read().take(MAX_TEXT_FIELD + 1).read_to_string(&mut text).await;
            read.map_err(|_| AppError::invalid(&name, format!("{name} must be an id in UTF-8 text")))?;
            if text.len() as u64 > MAX_TEXT_FIELD {
                return Err(AppError::invalid(
                    &name,
                    format!("{name} must be an id, not {MAX_TEXT_FIELD}+ characters"),
                ));
            }
            match slot {
                TextField::Client => fields.client = Some(text),
                TextField::Connection => fields.connection = Some(text),
                // Bounded as they arrive (the use case refuses more than
                // MAX_RECIPIENTS too), so that a body of endless `to`
                // fields is not collected.
                TextField::To if fields.to.len() >= MAX_RECIPIENTS => {
                    return Err(AppError::invalid("to", format!("a transfer goes to at most {MAX_RECIPIENTS} people")));
                }
                TextField::To => fields.to.push(text),
            }
            continue;
        }
        let o = match outgoing {
            Some(o) => o,
            None => outgoing.insert(app.start_transfer(who, fields.request()?, expected).await?),
        };
        o.begin_file(field.file_name().unwrap_or_default()).await?;
        let mut reader = field.into_async_read();
        loop {
            let n = reader
                .read(&mut buffer)
                .await
                .map_err(|e| AppError::invalid("file", format!("the upload was cut off: {e}")))?;
            if n == 0 {
                break;
            }
            o.write(&buffer[..n]).await?;
        }
        o.end_file().await?;
    }
    Ok(fields)
}

// tus 1.0.

fn tus_headers(response: &mut Response) {
    response.headers_mut().insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
}

fn tus_fail(error: AppError) -> Response {
    let mut response = match error {
        AppError::ChecksumMismatch => {
            let mut r = fail(error);
            r.set_status(StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST));
            r
        }
        other => fail(other),
    };
    tus_headers(&mut response);
    response
}

/// The refusal of a tus request without `Tus-Resumable: 1.0.0`, if it lacks it.
fn tus_version_refused(req: &Request) -> Option<Response> {
    if header_str(req.headers(), "tus-resumable") == Some(TUS_VERSION) {
        return None;
    }
    let mut response = fail(AppError::invalid("Tus-Resumable", "send Tus-Resumable: 1.0.0 with every tus request"));
    response.set_status(StatusCode::PRECONDITION_FAILED);
    response.headers_mut().insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    Some(response)
}

fn http_date(at: OffsetDateTime) -> String {
    let format = time::format_description::parse(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    );
    format.ok().and_then(|f| at.to_offset(time::UtcOffset::UTC).format(&f).ok()).unwrap_or_default()
}

fn insert(response: &mut Response, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs.
fn metadata(raw: &str) -> Result<Vec<(String, String)>, AppError> {
    let bad = || AppError::invalid("Upload-Metadata", "send key base64value pairs separated by commas");
    raw.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
            let value = BASE64.decode(value.trim()).map_err(|_| bad())?;
            let value = String::from_utf8(value).map_err(|_| bad())?;
            Ok((key.to_owned(), value))
        })
        .collect()
}

async fn tus_collection(app: &App, req: Request) -> Response {
    if req.method() == Method::OPTIONS {
        let mut response = Response::builder().status(StatusCode::NO_CONTENT).finish();
        tus_headers(&mut response);
        insert(&mut response, "tus-version", TUS_VERSION);
        insert(&mut response, "tus-extension", TUS_EXTENSIONS);
        insert(&mut response, "tus-checksum-algorithm", CHECKSUM_ALGORITHMS);
        return response;
    }
    if req.method() != Method::POST {
        return method_not_allowed("POST, OPTIONS");
    }
    if let Some(response) = tus_version_refused(&req) {
        return response;
    }
    let who = match principal(&req) {
        Ok(who) => who,
        Err(error) => return fail(error),
    };
    match create_upload(app, &who, &req).await {
        Ok(view) => {
            let upload = &view.record.upload;
            let mut response = Response::builder().status(StatusCode::CREATED).finish();
            tus_headers(&mut response);
            insert(&mut response, "location", &format!("/api/v1/uploads/{}", upload.id.0));
            insert(&mut response, "upload-offset", "0");
            match &view.document {
                Some(document) => insert(&mut response, "ferry-document", &document.document.id.to_string()),
                None => insert(&mut response, "upload-expires", &http_date(upload.expires_at)),
            }
            response
        }
        Err(e) => tus_fail(e),
    }
}

async fn create_upload(app: &App, who: &Principal, req: &Request) -> Result<UploadView, AppError> {
    let headers = req.headers();
    if content_length(headers).is_some_and(|n| n > 0) {
        return Err(AppError::invalid(
            "Content-Length",
            "create the upload with an empty body, then send its bytes with PATCH",
        ));
    }
    let length = match (header_str(headers, "upload-length"), header_str(headers, "upload-defer-length")) {
        (Some(raw), None) => Some(
            raw.parse::<u64>()
                .map_err(|_| AppError::invalid("Upload-Length", "Upload-Length must be a whole number of bytes"))?,
        ),
        (None, Some("1")) => None,
        (None, Some(_)) => return Err(AppError::invalid("Upload-Defer-Length", "Upload-Defer-Length must be 1")),
        (Some(_), Some(_)) => {
            return Err(AppError::invalid("Upload-Length", "send Upload-Length or Upload-Defer-Length, not both"));
        }
        (None, None) => {
            return Err(AppError::invalid(
                "Upload-Length",
                "send Upload-Length (or Upload-Defer-Length: 1 when the size is not known yet)",
            ));
        }
    };
    let meta = metadata(header_str(headers, "upload-metadata").unwrap_or_default())?;
    let get = |key: &str| meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let batch = get("batch")
        .ok_or_else(|| {
            AppError::invalid(
                "Upload-Metadata",
                "name the transfer: batch <base64 id> (open one with POST /transfers and a JSON body)",
            )
        })?
        .trim()
        .parse::<BatchId>()
        .map_err(|_| AppError::invalid("Upload-Metadata", "batch is not a valid transfer id"))?;
    let name = get("filename").or_else(|| get("name")).unwrap_or_default();
    app.create_upload(who, batch, name, length).await
}

async fn tus_upload(app: &App, mut req: Request) -> Response {
    let method = req.method().clone();
    if !matches!(method, Method::HEAD | Method::PATCH | Method::DELETE) {
        return method_not_allowed("HEAD, PATCH, DELETE");
    }
    if let Some(response) = tus_version_refused(&req) {
        return response;
    }
    let who = match principal(&req) {
        Ok(who) => who,
        Err(error) => return fail(error),
    };
    let id = match uuid_param::<uuid::Uuid>(&req, "upload", "upload") {
        Ok(id) => UploadId(id),
        Err(error) => return fail(error),
    };
    match method {
        Method::HEAD => match app.upload_status(&who, id).await {
            Ok(upload) => {
                let mut response = Response::builder().status(StatusCode::OK).finish();
                tus_headers(&mut response);
                insert(&mut response, "upload-offset", &upload.received.get().to_string());
                match upload.upload.length {
                    Some(length) => insert(&mut response, "upload-length", &length.get().to_string()),
                    None => insert(&mut response, "upload-defer-length", "1"),
                }
                insert(&mut response, "upload-expires", &http_date(upload.upload.expires_at));
                response
            }
            Err(e) => tus_fail(e),
        },
        Method::DELETE => match app.terminate_upload(&who, id).await {
            Ok(()) => {
                let mut response = Response::builder().status(StatusCode::NO_CONTENT).finish();
                tus_headers(&mut response);
                response
            }
            Err(e) => tus_fail(e),
        },
        _ => {
            let body = req.take_body();
            match patch_upload(app, &who, id, req.headers(), body).await {
                Ok(appended) => {
                    let mut response = Response::builder().status(StatusCode::NO_CONTENT).finish();
                    tus_headers(&mut response);
                    insert(&mut response, "upload-offset", &appended.offset.to_string());
                    if appended.document.is_none() {
                        insert(&mut response, "upload-expires", &http_date(appended.expires_at));
                    }
                    if let Some(document) = &appended.document {
                        insert(&mut response, "ferry-document", &document.document.id.to_string());
                    }
                    response
                }
                Err(e) => tus_fail(e),
            }
        }
    }
}

fn checksum(raw: &str) -> Result<Checksum, AppError> {
    let bad = |message: &str| AppError::invalid("Upload-Checksum", message.to_owned());
    let (algorithm, digest) = raw.split_once(' ').ok_or_else(|| bad("send the algorithm and the base64 digest"))?;
    let digest = BASE64.decode(digest.trim()).map_err(|_| bad("the digest is not base64"))?;
    match algorithm.to_ascii_lowercase().as_str() {
        "sha1" => Ok(Checksum::Sha1(digest)),
        "sha256" => Ok(Checksum::Sha256(digest)),
        "md5" => Ok(Checksum::Md5(digest)),
        _ => Err(bad("the algorithm is not one of sha1, sha256, md5")),
    }
}

async fn patch_upload(
    app: &App,
    who: &Principal,
    id: UploadId,
    headers: &HeaderMap,
    body: Body,
) -> Result<Appended, AppError> {
    if header_str(headers, header::CONTENT_TYPE.as_str()) != Some("application/offset+octet-stream") {
        return Err(AppError::invalid("Content-Type", "send the bytes as application/offset+octet-stream"));
    }
    let offset = header_str(headers, "upload-offset")
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| AppError::invalid("Upload-Offset", "send Upload-Offset: the byte the bytes start at"))?;
    let checksum = header_str(headers, "upload-checksum").map(checksum).transpose()?;
    if let Some(raw) = header_str(headers, "upload-length") {
        let length = raw
            .parse::<u64>()
            .map_err(|_| AppError::invalid("Upload-Length", "Upload-Length must be a whole number"))?;
        let status = app.upload_status(who, id).await?;
        match status.upload.length {
            Some(known) if known.get() == length => {}
            Some(_) => return Err(AppError::conflict("this upload's length was already declared")),
            None => {
                if let Some(document) = app.declare_upload_length(who, id, length).await? {
                    return Ok(Appended {
                        offset: status.received.get(),
                        expires_at: status.upload.expires_at,
                        document: Some(document),
                    });
                }
            }
        }
    }
    let mut appender = app.append_upload(who, id, offset, content_length(headers), checksum).await?;
    let mut stream = body.into_bytes_stream();
    let mut complete = true;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if let Err(e) = appender.write(&bytes).await {
                    // Keep what arrived before the refusal; the client resumes from there.
                    let _ = appender.finish(false).await;
                    return Err(e);
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "a resumable upload's request was cut off; keeping what arrived");
                complete = false;
                break;
            }
        }
    }
    appender.finish(complete).await
}

// Downloads.

/// `Range: bytes=…` — one range; several are answered with the whole file.
fn range(headers: &HeaderMap) -> Result<Option<RangeRequest>, AppError> {
    let Some(raw) = header_str(headers, header::RANGE.as_str()) else { return Ok(None) };
    let unsatisfiable = || AppError::RangeNotSatisfiable { size: 0 };
    let Some(spec) = raw.strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let number = |s: &str| s.trim().parse::<u64>().map_err(|_| unsatisfiable());
    Ok(Some(match (start.trim().is_empty(), end.trim().is_empty()) {
        (true, false) => RangeRequest::Last(number(end)?),
        (false, true) => RangeRequest::From(number(start)?),
        (false, false) => RangeRequest::Closed(number(start)?, number(end)?),
        (true, true) => return Err(unsatisfiable()),
    }))
}

/// `Content-Disposition: attachment` with an ASCII fallback name and the
/// RFC 6266 / RFC 8187 encoded original.
fn disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

async fn get_content(app: &App, req: Request) -> Response {
    if req.method() != Method::GET {
        return method_not_allowed("GET");
    }
    let who = match principal(&req) {
        Ok(who) => who,
        Err(error) => return fail(error),
    };
    let id = match uuid_param::<DocumentId>(&req, "document", "document") {
        Ok(id) => id,
        Err(error) => return fail(error),
    };
    let requested = match range(req.headers()) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    match app.download(&who, id, requested).await {
        Ok(download) => stream_download(download),
        Err(AppError::RangeNotSatisfiable { size }) => {
            let mut response = fail(AppError::RangeNotSatisfiable { size });
            response.set_status(StatusCode::RANGE_NOT_SATISFIABLE);
            insert(&mut response, "content-range", &format!("bytes */{size}"));
            response
        }
        Err(e) => fail(e),
    }
}

fn stream_download(download: Download) -> Response {
    let Download { document, range, body } = download;
    let d = &document.document;
    let size = d.size.get();
    let (status, length) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, size),
    };
    let stream = futures_util::stream::unfold(Some(body), |reader| async move {
        let mut reader = reader?;
        match reader.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), Some(reader))),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "a download stopped: the stored file could not be read");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, d.content_type.as_str())
        .header(header::CONTENT_LENGTH, length)
        .header(header::ACCEPT_RANGES, "bytes")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'none'; sandbox")
        .body(Body::from_bytes_stream(stream));
    insert(&mut response, "content-disposition", &disposition(&d.name));
    insert(&mut response, "etag", &format!("\"{}\"", hex::encode(d.sha256)));
    insert(&mut response, "ferry-sha256", &hex::encode(d.sha256));
    if let Some(r) = range {
        insert(&mut response, "content-range", &format!("bytes {}-{}/{size}", r.start, r.end - 1));
    }
    response.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_keep_any_name_safely() {
        assert_eq!(disposition("report.pdf"), "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
        assert_eq!(
            disposition("Bilan Müller.pdf"),
            "attachment; filename=\"Bilan M_ller.pdf\"; filename*=UTF-8''Bilan%20M%C3%BCller.pdf"
        );
        assert_eq!(disposition("a\"b;c.txt"), "attachment; filename=\"a_b;c.txt\"; filename*=UTF-8''a%22b%3Bc.txt");
    }

    #[test]
    fn ranges_parse_or_are_ignored() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
            h
        };
        assert_eq!(range(&HeaderMap::new()).unwrap(), None);
        assert_eq!(range(&headers("bytes=0-99")).unwrap(), Some(RangeRequest::Closed(0, 99)));
        assert_eq!(range(&headers("bytes=100-")).unwrap(), Some(RangeRequest::From(100)));
        assert_eq!(range(&headers("bytes=-5")).unwrap(), Some(RangeRequest::Last(5)));
        assert_eq!(range(&headers("bytes=0-1,5-6")).unwrap(), None);
        assert_eq!(range(&headers("items=0-1")).unwrap(), None);
        assert!(range(&headers("bytes=x-1")).is_err());
        assert!(range(&headers("bytes=-")).is_err());
    }

    #[test]
    fn upload_metadata_is_base64_pairs() {
        let parsed = metadata("batch MTIz,filename 0LDQsdCy0LMucGRm,empty").unwrap();
        assert_eq!(parsed[0], ("batch".to_owned(), "123".to_owned()));
        assert_eq!(parsed[1], ("filename".to_owned(), "абвг.pdf".to_owned()));
        assert_eq!(parsed[2], ("empty".to_owned(), String::new()));
        assert!(metadata("batch !!!").is_err());
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        let at = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
