//! `GET /documents/{document}/content`: a document's bytes, streamed, whole
//! or one `Range`, always as an attachment.

use ferry_app::files::{Download, RangeRequest};
use ferry_app::{App, AppError};
use ferry_domain::ids::DocumentId;
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};

use super::{PathId, Refusal, header_str, insert};
use crate::guard::SignedIn;

/// `Range: bytes=…` — one range; several are answered with the whole file.
fn range(headers: &HeaderMap) -> Result<Option<RangeRequest>, AppError> {
    let Some(raw) = header_str(headers, header::RANGE.as_str()) else { return Ok(None) };
    RangeRequest::parse(raw).map_err(|_| AppError::RangeNotSatisfiable { size: 0 })
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

#[handler]
pub(super) async fn get_content(
    SignedIn(who): SignedIn,
    PathId(id): PathId<DocumentId>,
    Data(app): Data<&App>,
    req: &Request,
) -> Result<Response, Refusal> {
    let requested = range(req.headers())?;
    match app.download(&who, id, requested).await {
        Ok(download) => Ok(stream_download(download)),
        Err(AppError::RangeNotSatisfiable { size }) => {
            let mut refusal =
                Refusal::with_status(AppError::RangeNotSatisfiable { size }, StatusCode::RANGE_NOT_SATISFIABLE);
            insert(&mut refusal.0, "content-range", &format!("bytes */{size}"));
            Err(refusal)
        }
        Err(e) => Err(e.into()),
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
    use poem::http::HeaderValue;

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
    fn a_range_header_is_read_by_the_domain_parser() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
            h
        };
        assert_eq!(range(&HeaderMap::new()).unwrap(), None);
        assert_eq!(range(&headers("bytes=100-")).unwrap(), Some(RangeRequest::From(100)));
        assert!(matches!(range(&headers("bytes=-")), Err(AppError::RangeNotSatisfiable { size: 0 })));
    }
}
