//! File exchange (PRODUCT.md "File exchange" and rule 8): transfers streamed
//! in one request, resumable uploads, downloads, deletion, inbox and outbox.
//!
//! Bytes never pass through a database transaction: a transfer reserves its
//! quota in one short transaction (a [`crate::lease::Lease`]), streams into
//! the file store, and records its documents, mail and usage in a last one.
//! Whatever stops it half-way (a refusal, a dropped connection, a crash)
//! leaves no visible document: blobs that no document names are removed by
//! the caller or found by `ferry-admin check`, and a reservation nobody
//! settles expires.
//!
//! The rooms:
//! - `route.rs`: who may receive this file (destination and recipients, checked);
//! - `streamed.rs`: a transfer streamed in one request ([`Outgoing`]);
//! - `transfers.rs`: a transfer made of resumable uploads, opened and completed;
//! - `uploads.rs`: a resumable (tus) upload's life, and its assembly into a document;
//! - `appender.rs`: the bytes of one request of a resumable upload ([`Appender`]);
//! - `checksum.rs`: the checksum a request's bytes are checked against;
//! - `download.rs`: downloads, metered against throughput;
//! - `documents.rs`: a document's details, deletion, inbox and outbox;
//! - `notify.rs`: the mail file exchange sends;
//! - `views.rs`: what the use cases answer.
//!
//! The scope checks on documents, connections, transfers and uploads live
//! with every other scope check in the use-case frame (`context.rs`); the
//! parsers at a transfer's edge (names, content types, ranges) in
//! [`ferry_domain::exchange`].

mod appender;
mod checksum;
mod documents;
mod download;
mod notify;
mod route;
mod streamed;
mod transfers;
mod uploads;
mod views;

use ferry_domain::exchange::SNIFF_BYTES;
use ferry_domain::ids::DocumentId;
use ferry_ports::blob::{BlobKey, BlobReceipt};
use uuid::Uuid;

pub use appender::{Appended, Appender};
pub use checksum::{CHECKSUM_ALGORITHMS, Checksum};
pub use download::Download;
pub use ferry_domain::exchange::{MAX_NAME_CHARS, RangeRequest, display_name, sniff_content_type};
pub use route::{Destination, MAX_RECIPIENTS, SendRequest};
pub use streamed::{MULTIPART_FRAMING_ALLOWANCE, Outgoing};
pub use views::{DocumentView, TransferView, UploadView};

use crate::AppError;

/// A file whose bytes are stored, awaiting the record that makes it a document.
struct StoredFile {
    id: DocumentId,
    name: String,
    key: BlobKey,
    content_type: &'static str,
    receipt: BlobReceipt,
}

/// The key of a blob Ferry writes: `<prefix>/<id>`.
fn blob_key(prefix: &str, id: Uuid) -> Result<BlobKey, AppError> {
    BlobKey::parse(&format!("{prefix}/{id}")).map_err(|e| AppError::Internal(e.to_string()))
}

/// Keeps the first [`SNIFF_BYTES`] of a file in `head`, to tell its type from.
fn keep_head(head: &mut Vec<u8>, bytes: &[u8]) {
    if head.len() < SNIFF_BYTES {
        let take = (SNIFF_BYTES - head.len()).min(bytes.len());
        head.extend_from_slice(&bytes[..take]);
    }
}
