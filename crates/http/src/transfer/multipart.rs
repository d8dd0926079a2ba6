//! `POST /transfers`: files sent as multipart/form-data, streamed part by
//! part into a transfer; or, with a JSON body, a transfer opened for
//! resumable uploads ([`super::tus`]).

use ferry_app::files::{Destination, MAX_RECIPIENTS, Outgoing, SendRequest, TransferView};
use ferry_app::{App, AppError, Principal};
use ferry_domain::ids::{ClientId, ConnectionId, UserId};
use ferry_ports::records::{DocumentRecord, TransferRecord};
use poem::http::{StatusCode, header};
use poem::web::{Data, Multipart};
use poem::{Body, FromRequest, Request, RequestBody, Response, handler};
use poem_openapi::Object;
use poem_openapi::types::ToJSON;
use tokio::io::AsyncReadExt;

use super::{Refusal, content_length, header_str};
use crate::api::DocumentOut;
use crate::guard::SignedIn;

/// The longest text field of a multipart transfer (ids are 36 characters).
const MAX_TEXT_FIELD: u64 = 256;
/// How much of a multipart file part is read at a time.
const READ_BUFFER: usize = 256 * 1024;

/// A transfer as `POST /transfers` answers it.
#[derive(Object)]
pub(crate) struct StreamedTransfer {
    /// The transfer (batch) id.
    batch: String,
    /// The client it is about (absent when sent over a connection).
    client: Option<String>,
    /// The connection it travels over (absent between a practice and a client).
    connection: Option<String>,
    /// Its recipients' user ids.
    recipients: Vec<String>,
    /// Whether its recipients were told.
    completed: bool,
    /// Its documents (none yet for a transfer opened for resumable uploads).
    documents: Vec<DocumentOut>,
}

impl StreamedTransfer {
    fn new(transfer: &TransferRecord, documents: &[DocumentRecord]) -> Self {
        Self {
            batch: transfer.id.to_string(),
            client: transfer.client.map(|c| c.to_string()),
            connection: transfer.connection.map(|c| c.to_string()),
            recipients: transfer.recipients.iter().map(ToString::to_string).collect(),
            completed: transfer.completed_at.is_some(),
            documents: documents.iter().map(DocumentOut::from).collect(),
        }
    }

    /// The 201 answer.
    fn created(&self) -> Response {
        let body = self.to_json().unwrap_or_default().to_string();
        Response::builder().status(StatusCode::CREATED).content_type("application/json; charset=utf-8").body(body)
    }
}

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

/// `POST /transfers`.
#[handler]
pub(super) async fn post_transfers(
    SignedIn(who): SignedIn,
    Data(app): Data<&App>,
    req: &Request,
    body: Body,
) -> Result<Response, Refusal> {
    let content_type =
        header_str(req.headers(), header::CONTENT_TYPE.as_str()).unwrap_or_default().to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        return open_transfer(app, &who, body).await;
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(Refusal::with_status(
            AppError::invalid(
                "Content-Type",
                "send the files as multipart/form-data (or JSON to open a transfer for resumable uploads)",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ));
    }
    let expected = content_length(req.headers());
    let multipart = Multipart::from_request(req, &mut RequestBody::new(body))
        .await
        .map_err(|e| AppError::invalid("body", format!("the multipart body cannot be read: {e}")))?;
    let view = stream_transfer(app, &who, multipart, expected).await?;
    Ok(StreamedTransfer::new(&view.transfer, &view.documents).created())
}

async fn open_transfer(app: &App, who: &Principal, body: Body) -> Result<Response, Refusal> {
    let bytes = body
        .into_bytes_limit(64 * 1024)
        .await
        .map_err(|e| AppError::invalid("body", format!("the body cannot be read: {e}")))?;
    let fields: DestinationFields = serde_json::from_slice(&bytes)
        .map_err(|e| AppError::invalid("body", format!("the body is not a transfer: {e}")))?;
    let transfer = app.open_transfer(who, &fields.request()?).await?;
    Ok(StreamedTransfer::new(&transfer, &[]).created())
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
    outgoing: &mut Option<Outgoing>,
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
