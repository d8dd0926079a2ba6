//! The tus 1.0 resumable upload protocol under `/uploads`: discovery
//! (`OPTIONS`), creation (`POST`), status (`HEAD`), appending (`PATCH`) and
//! termination (`DELETE`). Every answer but discovery's 412 carries
//! `Tus-Resumable`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ferry_app::files::{Appended, CHECKSUM_ALGORITHMS, Checksum, UploadView};
use ferry_app::{App, AppError, Principal};
use ferry_domain::ids::BatchId;
use ferry_ports::records::UploadId;
use futures_util::StreamExt;
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::Data;
use poem::{Body, FromRequest, Request, RequestBody, Response, handler};
use time::OffsetDateTime;

use super::{PathId, Refusal, content_length, header_str, insert};
use crate::guard::SignedIn;

/// The tus protocol version served.
const TUS_VERSION: &str = "1.0.0";
/// The tus extensions served.
const TUS_EXTENSIONS: &str = "creation,creation-defer-length,termination,expiration,checksum";

/// A refused tus request: the error shape with `Tus-Resumable`, and 460 for
/// a checksum that does not match.
#[derive(Debug)]
pub(super) struct TusRefusal(Response);

impl From<AppError> for TusRefusal {
    fn from(error: AppError) -> Self {
        let Refusal(mut response) = match error {
            AppError::ChecksumMismatch => {
                Refusal::with_status(error, StatusCode::from_u16(460).unwrap_or(StatusCode::BAD_REQUEST))
            }
            other => Refusal::from(other),
        };
        tus_headers(&mut response);
        Self(response)
    }
}

impl From<TusRefusal> for poem::Error {
    fn from(refusal: TusRefusal) -> Self {
        Self::from_response(refusal.0)
    }
}

/// `Tus-Resumable: 1.0.0`, which every tus request but discovery carries:
/// without it the request is refused with 412 and `Tus-Version`.
pub(super) struct TusResumable;

impl<'a> FromRequest<'a> for TusResumable {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        if header_str(req.headers(), "tus-resumable") == Some(TUS_VERSION) {
            return Ok(Self);
        }
        let mut refusal = Refusal::with_status(
            AppError::invalid("Tus-Resumable", "send Tus-Resumable: 1.0.0 with every tus request"),
            StatusCode::PRECONDITION_FAILED,
        );
        insert(&mut refusal.0, "tus-version", TUS_VERSION);
        Err(refusal.into())
    }
}

fn tus_headers(response: &mut Response) {
    insert(response, "tus-resumable", TUS_VERSION);
}

/// An answer of `status` with no body and `Tus-Resumable`.
fn answer(status: StatusCode) -> Response {
    let mut response = Response::builder().status(status).finish();
    tus_headers(&mut response);
    response
}

fn http_date(at: OffsetDateTime) -> String {
    let format = time::format_description::parse(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    );
    format.ok().and_then(|f| at.to_offset(time::UtcOffset::UTC).format(&f).ok()).unwrap_or_default()
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

/// `OPTIONS /uploads`: the versions, extensions and checksum algorithms served.
#[handler]
pub(super) fn options() -> Response {
    let mut response = answer(StatusCode::NO_CONTENT);
    insert(&mut response, "tus-version", TUS_VERSION);
    insert(&mut response, "tus-extension", TUS_EXTENSIONS);
    insert(&mut response, "tus-checksum-algorithm", CHECKSUM_ALGORITHMS);
    response
}

/// `POST /uploads`: a new upload into an open transfer.
#[handler]
pub(super) async fn create(
    _: TusResumable,
    SignedIn(who): SignedIn,
    Data(app): Data<&App>,
    req: &Request,
) -> Result<Response, TusRefusal> {
    let view = create_upload(app, &who, req.headers()).await?;
    let upload = &view.record.upload;
    let mut response = answer(StatusCode::CREATED);
    insert(&mut response, "location", &format!("/api/v1/uploads/{}", upload.id.0));
    insert(&mut response, "upload-offset", "0");
    match &view.document {
        Some(document) => insert(&mut response, "ferry-document", &document.document.id.to_string()),
        None => insert(&mut response, "upload-expires", &http_date(upload.expires_at)),
    }
    Ok(response)
}

async fn create_upload(app: &App, who: &Principal, headers: &HeaderMap) -> Result<UploadView, AppError> {
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

/// `HEAD /uploads/{upload}`: how far it got (the tus status).
#[handler]
pub(super) async fn head(
    _: TusResumable,
    SignedIn(who): SignedIn,
    PathId(id): PathId<UploadId>,
    Data(app): Data<&App>,
) -> Result<Response, TusRefusal> {
    let upload = app.upload_status(&who, id).await?;
    let mut response = answer(StatusCode::OK);
    insert(&mut response, "upload-offset", &upload.received.get().to_string());
    match upload.upload.length {
        Some(length) => insert(&mut response, "upload-length", &length.get().to_string()),
        None => insert(&mut response, "upload-defer-length", "1"),
    }
    insert(&mut response, "upload-expires", &http_date(upload.upload.expires_at));
    Ok(response)
}

/// `DELETE /uploads/{upload}`: given up.
#[handler]
pub(super) async fn terminate(
    _: TusResumable,
    SignedIn(who): SignedIn,
    PathId(id): PathId<UploadId>,
    Data(app): Data<&App>,
) -> Result<Response, TusRefusal> {
    app.terminate_upload(&who, id).await?;
    Ok(answer(StatusCode::NO_CONTENT))
}

/// `PATCH /uploads/{upload}`: the next bytes.
#[handler]
pub(super) async fn append(
    _: TusResumable,
    SignedIn(who): SignedIn,
    PathId(id): PathId<UploadId>,
    Data(app): Data<&App>,
    req: &Request,
    body: Body,
) -> Result<Response, TusRefusal> {
    let appended = patch_upload(app, &who, id, req.headers(), body).await?;
    let mut response = answer(StatusCode::NO_CONTENT);
    insert(&mut response, "upload-offset", &appended.offset.to_string());
    match &appended.document {
        Some(document) => insert(&mut response, "ferry-document", &document.document.id.to_string()),
        None => insert(&mut response, "upload-expires", &http_date(appended.expires_at)),
    }
    Ok(response)
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
        let known = app.upload_status(who, id).await?;
        match known.upload.length {
            Some(known) if known.get() == length => {}
            Some(_) => return Err(AppError::conflict("this upload's length was already declared")),
            None => {
                if let Some(document) = app.declare_upload_length(who, id, length).await? {
                    return Ok(Appended {
                        offset: known.received.get(),
                        expires_at: known.upload.expires_at,
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

#[cfg(test)]
mod tests {
    use super::*;

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
