//! File exchange (PRODUCT.md "File exchange" and rule 8): transfers streamed
//! in one request, resumable uploads, downloads, deletion, inbox and outbox.
//!
//! Bytes never pass through a database transaction: a transfer reserves its
//! quota in one short transaction, streams into the file store, and records
//! its documents, mail and usage in a last one. Whatever stops it half-way
//! (a refusal, a dropped connection, a crash) leaves no visible document:
//! blobs that no document names are removed by the caller or found by
//! `ferry-admin check`, and a reservation nobody settles expires.

use std::collections::HashMap;
use std::time::Duration;

use ferry_domain::access::{Action, ClientFacts, ConnectionFacts, DocumentFacts, Resource};
use ferry_domain::exchange::{Recipient, check_recipient};
use ferry_domain::ids::{BatchId, ClientId, ConnectionId, DocumentId, PracticeId, UserId};
use ferry_domain::people::{Actor, Role};
use ferry_domain::quota::{AllowanceKind, Bytes, UsageMonth, at_warning_level};
use ferry_mail::templates::{DownloadReceipt, QuotaWarning, SharedFile, UploadNotification};
use ferry_ports::blob::{BlobKey, BlobRead, BlobReceipt, BlobUpload, ByteRange};
use ferry_ports::records::{
    ConnectionRecord, DocumentRecord, Mailbox, NewDocument, NewUpload, Page, PageRequest, PracticeRecord,
    ReservationId, ReservationRequest, TransferRecord, UploadId, UploadRecord, UploadSegment, UserRecord,
};
use ferry_ports::store::ReserveError;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::context::Work;
use crate::{App, AppError, Principal};

/// The longest name kept for a file, in characters.
pub const MAX_NAME_CHARS: usize = 255;

/// How much a streamed transfer's reservation grows at a time when its size
/// was not known in advance.
const GROWTH_STEP: u64 = 8 * 1024 * 1024;

/// Bytes of a multipart request that are not file content (boundaries and
/// part headers), tolerated when the request's length is checked against
/// what is left of an allowance.
pub const MULTIPART_FRAMING_ALLOWANCE: u64 = 64 * 1024;

/// How many leading bytes are kept to tell a file's type.
const SNIFF_BYTES: usize = 512;

/// Where files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Between a practice and one of its clients.
    Client(ClientId),
    /// Between a practice and an outside party, over their connection.
    Connection(ConnectionId),
}

/// What a sender asks for: where the files go and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// The client or connection.
    pub destination: Destination,
    /// The recipients. A practice user sending to a client may leave it
    /// empty for every user of the client; over a connection it may be empty
    /// for the other party. A client user names the admins or staff to send to.
    pub to: Vec<UserId>,
}

/// The most people one transfer may name in [`SendRequest::to`].
pub const MAX_RECIPIENTS: usize = 100;

/// A transfer as its sender and recipients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferView {
    /// The transfer.
    pub transfer: TransferRecord,
    /// Its documents so far.
    pub documents: Vec<DocumentRecord>,
}

/// A document with the names of the people around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentView {
    /// The document.
    pub record: DocumentRecord,
    /// Who sent it.
    pub sender: UserRecord,
    /// Who received it, in the order of `record.first_downloads`.
    pub recipients: Vec<UserRecord>,
}

/// A byte range as a request names it, before the file's size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=a-b`: from `a` to `b`, both included.
    Closed(u64, u64),
    /// `bytes=a-`: from `a` to the end.
    From(u64),
    /// `bytes=-n`: the last `n` bytes.
    Last(u64),
}

impl RangeRequest {
    /// The range of a file of `size` bytes, `end` excluded.
    ///
    /// # Errors
    /// [`AppError::RangeNotSatisfiable`] when it selects no byte of the file.
    pub fn resolve(self, size: u64) -> Result<ByteRange, AppError> {
        let refused = AppError::RangeNotSatisfiable { size };
        let (start, end) = match self {
            Self::Closed(a, b) if a <= b && a < size => (a, b.saturating_add(1).min(size)),
            Self::From(a) if a < size => (a, size),
            Self::Last(n) if n > 0 && size > 0 => (size - n.min(size), size),
            _ => return Err(refused),
        };
        Ok(ByteRange { start, end })
    }
}

/// A download, ready to stream.
pub struct Download {
    /// The document.
    pub document: DocumentRecord,
    /// The bytes served, when a range was asked for.
    pub range: Option<ByteRange>,
    /// The plaintext, chunk by chunk.
    pub body: Box<dyn BlobRead>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download").field("document", &self.document.document.id).field("range", &self.range).finish()
    }
}

/// The state of a resumable upload, as the tus protocol reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadView {
    /// The upload.
    pub record: UploadRecord,
    /// The document it became, once the last byte arrived.
    pub document: Option<DocumentRecord>,
}

/// A checksum sent with a request's bytes (tus checksum extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// SHA-1.
    Sha1(Vec<u8>),
    /// SHA-256.
    Sha256(Vec<u8>),
    /// MD5.
    Md5(Vec<u8>),
}

/// The names of the checksum algorithms [`Checksum`] knows, for `Tus-Checksum-Algorithm`.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256,md5";

/// The name a file is shown with: the last segment of what the sender's
/// system called it, without control or direction-changing characters, at
/// most [`MAX_NAME_CHARS`] characters (the extension kept). Never used as a
/// storage path.
#[must_use]
pub fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let trimmed = cleaned.trim();
    let name = if trimmed.is_empty() || trimmed == "." || trimmed == ".." { "unnamed file" } else { trimmed };
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_owned();
    }
    let extension = name.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| ext.chars().count() <= 16);
    match extension {
        Some(ext) => {
            let keep = MAX_NAME_CHARS - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name.chars().take(MAX_NAME_CHARS).collect(),
    }
}

/// The type of a file, told from its first bytes (and, for formats that are
/// zip or plain text inside, its name). Anything a browser could run (HTML,
/// SVG, scripts) is `application/octet-stream`.
#[must_use]
pub fn sniff_content_type(head: &[u8], name: &str) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
        (b"\x1f\x8b", "application/gzip"),
        (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
        (b"Rar!\x1a\x07", "application/vnd.rar"),
    ];
    let extension = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return match extension.as_str() {
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "ods" => "application/vnd.oasis.opendocument.spreadsheet",
            "odt" => "application/vnd.oasis.opendocument.text",
            _ => "application/zip",
        };
    }
    if let Some((_, kind)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return match (*kind, extension.as_str()) {
            ("application/x-ole-storage", "xls") => "application/vnd.ms-excel",
            ("application/x-ole-storage", "doc") => "application/msword",
            (kind, _) => kind,
        };
    }
    let text = !head.is_empty() && !head.contains(&0) && looks_like_utf8(head);
    match (text, extension.as_str()) {
        (true, "csv") => "text/csv",
        (true, "tsv") => "text/tab-separated-values",
        (true, "txt" | "qif" | "iif" | "ofx" | "qfx") => "text/plain",
        (true, "json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Whether `head` is UTF-8, allowing a character cut at its end.
fn looks_like_utf8(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// A transfer's destination and recipients, checked.
#[derive(Debug, Clone)]
struct Route {
    practice: PracticeRecord,
    client: Option<ClientId>,
    connection: Option<ConnectionId>,
    sender: UserId,
    recipients: Vec<UserRecord>,
}

fn refused(refusal: ferry_domain::exchange::RecipientRefused) -> AppError {
    AppError::invalid("to", refusal.to_string())
}

impl Work {
    /// Checks that the actor may send to `request` now, and who receives.
    async fn route(&mut self, request: &SendRequest) -> Result<Route, AppError> {
        let sender = self.user()?;
        let mut to = request.to.clone();
        to.sort_unstable();
        to.dedup();
        if to.len() > MAX_RECIPIENTS {
            return Err(AppError::invalid("to", format!("a transfer goes to at most {MAX_RECIPIENTS} people")));
        }
        match (self.actor, request.destination) {
            (Actor::Practice(me), Destination::Client(client)) => {
                self.client(Action::SendToClient, client).await?;
                let members = self.tx.client_members(client).await?;
                let chosen: Vec<UserRecord> = if to.is_empty() {
                    members.iter().filter(|m| m.user.active).map(|m| m.user.clone()).collect()
                } else {
                    let mut chosen = Vec::with_capacity(to.len());
                    for id in &to {
                        let member = members.iter().find(|m| m.user.id == *id);
                        let recipient = Recipient::ClientUser {
                            user: *id,
                            active: member.is_some_and(|m| m.user.active),
                            membership: member.map(|m| m.role),
                        };
                        check_recipient(&self.actor, &recipient).map_err(refused)?;
                        chosen.extend(member.map(|m| m.user.clone()));
                    }
                    chosen
                };
                if chosen.is_empty() {
                    return Err(AppError::invalid("to", "this client has no active user to send files to"));
                }
                let practice = self.tx.practice(me.practice).await?.ok_or(AppError::not_found("practice"))?;
                Ok(Route { practice, client: Some(client), connection: None, sender, recipients: chosen })
            }
            (Actor::Client { .. }, Destination::Client(client)) => {
                self.client(Action::SendToPractice, client).await?;
                if to.is_empty() {
                    return Err(AppError::invalid(
                        "to",
                        "choose whom to send the files to: GET /clients/{client}/recipients lists them",
                    ));
                }
                let mut practice: Option<PracticeId> = None;
                let mut chosen = Vec::with_capacity(to.len());
                for id in &to {
                    let Some(Actor::Practice(user)) = self.tx.actor(*id).await? else {
                        return Err(refused(ferry_domain::exchange::RecipientRefused::CannotOpenClient));
                    };
                    let facts = self.tx.client_facts(*id, client).await?;
                    check_recipient(&self.actor, &Recipient::PracticeUser { user: &user, facts: &facts })
                        .map_err(refused)?;
                    if practice.is_some_and(|p| p != user.practice) {
                        return Err(AppError::invalid("to", "send to the people of one practice at a time"));
                    }
                    practice = Some(user.practice);
                    chosen.push(self.tx.user(*id).await?.ok_or(AppError::not_found("user"))?);
                }
                let practice = practice.ok_or(AppError::invalid("to", "choose at least one recipient"))?;
                let practice = self.tx.practice(practice).await?.ok_or(AppError::not_found("practice"))?;
                Ok(Route { practice, client: Some(client), connection: None, sender, recipients: chosen })
            }
            (Actor::Practice(_) | Actor::Outside { .. }, Destination::Connection(id)) => {
                let connection = self.connection_in_scope(Action::SendOverConnection, id).await?;
                let facts = connection_facts(&connection);
                let mut chosen = Vec::new();
                if self.practice_user().is_some_and(|p| p.practice == connection.practice) {
                    // The practice side sends to the outside party.
                    let party = self.tx.user(connection.outside_party).await?.ok_or(AppError::not_found("user"))?;
                    if to.iter().any(|id| *id != party.id) {
                        return Err(AppError::invalid("to", "files over a connection go to its outside party only"));
                    }
                    let recipient =
                        Recipient::OutsideParty { user: party.id, active: party.active, connection: &facts };
                    check_recipient(&self.actor, &recipient).map_err(refused)?;
                    chosen.push(party);
                } else {
                    if to.is_empty() {
                        return Err(AppError::invalid("to", "choose the admins or staff of the practice to send to"));
                    }
                    for id in &to {
                        let Some(Actor::Practice(user)) = self.tx.actor(*id).await? else {
                            return Err(refused(ferry_domain::exchange::RecipientRefused::NoActiveConnection));
                        };
                        let recipient = Recipient::PracticeUserOverConnection { user: &user, connection: &facts };
                        check_recipient(&self.actor, &recipient).map_err(refused)?;
                        chosen.push(self.tx.user(*id).await?.ok_or(AppError::not_found("user"))?);
                    }
                }
                let practice = self.tx.practice(connection.practice).await?.ok_or(AppError::not_found("practice"))?;
                Ok(Route { practice, client: None, connection: Some(id), sender, recipients: chosen })
            }
            (Actor::Outside { .. }, Destination::Client(_)) => Err(AppError::not_found("client")),
            (Actor::Client { .. }, Destination::Connection(_)) => Err(AppError::not_found("connection")),
            (Actor::Operator, _) => Err(AppError::Forbidden { rule: ferry_domain::access::Rule::NotForThisKindOfUser }),
        }
    }

    /// A connection the actor may act on with `action`.
    async fn connection_in_scope(&mut self, action: Action, id: ConnectionId) -> Result<ConnectionRecord, AppError> {
        let connection = self.tx.connection(id).await?.ok_or(AppError::not_found("connection"))?;
        self.allow(action, Resource::Connection(&connection_facts(&connection)))?;
        Ok(connection)
    }

    /// The same route as `transfer` was made for, checked again now.
    async fn route_of(&mut self, transfer: &TransferRecord) -> Result<Route, AppError> {
        let destination = match (transfer.client, transfer.connection) {
            (Some(client), _) => Destination::Client(client),
            (None, Some(connection)) => Destination::Connection(connection),
            (None, None) => return Err(AppError::Internal("a transfer without a destination".into())),
        };
        self.route(&SendRequest { destination, to: transfer.recipients.clone() }).await
    }

    /// A live document the actor may act on with `action`; anything else is not found.
    async fn document_in_scope(&mut self, action: Action, id: DocumentId) -> Result<DocumentRecord, AppError> {
        let not_found = || AppError::not_found("document");
        let record = self.tx.document(id).await?.ok_or_else(not_found)?;
        let user = self.user().map_err(|_| not_found())?;
        let document = &record.document;
        match (document.client, document.connection) {
            (Some(client), _) => {
                if self.practice_user().is_some_and(|p| p.practice != document.practice) {
                    return Err(not_found());
                }
                let facts = self.tx.client_facts(user, client).await?;
                let resource = Resource::Document(&facts, &DocumentFacts { uploader: document.uploader });
                self.allow(action, resource).map_err(|e| rename_not_found(e, "document"))?;
            }
            (None, Some(connection)) => {
                let connection = self.tx.connection(connection).await?.ok_or_else(not_found)?;
                let (admin, party) = self.connection_document_access(&connection, document, user);
                if !(party || admin) {
                    return Err(not_found());
                }
                if action == Action::DeleteDocument && !(admin || document.uploader == user) {
                    return Err(AppError::Forbidden { rule: ferry_domain::access::Rule::OnlyUploaderOrAdmin });
                }
            }
            (None, None) => return Err(not_found()),
        }
        Ok(record)
    }

    /// Who may reach a document sent over a connection: the practice's
    /// admins always (`.0`), and its sender and recipients while the
    /// connection is active (`.1`) — never anyone else, whatever their role.
    fn connection_document_access(
        &self,
        connection: &ConnectionRecord,
        document: &NewDocument,
        user: UserId,
    ) -> (bool, bool) {
        let facts = connection_facts(connection);
        let resource = Resource::Connection(&facts);
        let admin = self.practice_user().is_some_and(|p| p.practice == connection.practice)
            && self.allow(Action::ViewConnection, resource).is_ok();
        let involved = document.uploader == user || document.recipients.contains(&user);
        let party = involved && self.allow(Action::SendOverConnection, resource).is_ok();
        (admin, party)
    }

    /// Tells each recipient once about the transfer's files.
    async fn notify_recipients(
        &mut self,
        route: &Route,
        batch: BatchId,
        documents: &[DocumentRecord],
    ) -> Result<(), AppError> {
        let sender = self.tx.user(route.sender).await?.ok_or(AppError::not_found("user"))?;
        let client_name = match route.client {
            Some(client) => self.tx.client(client).await?.map(|c| c.name),
            None => None,
        };
        let letterhead = self.app().letterhead(&route.practice);
        let files: Vec<SharedFile> =
            documents.iter().map(|d| SharedFile { name: d.document.name.clone(), size: d.document.size }).collect();
        for recipient in &route.recipients {
            let notification = UploadNotification {
                to: recipient.email.clone(),
                recipient_name: Some(recipient.name.clone()),
                sender: sender.name.clone(),
                client: route.client,
                client_name: client_name.clone(),
                batch,
                files: files.clone(),
            };
            self.mail(&notification, &letterhead).await?;
        }
        Ok(())
    }

    /// Warns the practice's admins once a month per allowance when usage reaches 80%.
    async fn warn_at_80_percent(&mut self, practice: &PracticeRecord) -> Result<(), AppError> {
        let usage = self.tx.usage(practice.id, self.now).await?;
        let month = UsageMonth::containing(self.now);
        for allowance in usage {
            if !at_warning_level(allowance.usage.used, allowance.limit) {
                continue;
            }
            if !self.tx.mark_quota_warning(practice.id, allowance.kind, month, self.now).await? {
                continue;
            }
            let letterhead = self.app().letterhead(practice);
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            loop {
                let admins = self.tx.list_members(practice.id, &[Role::Admin], &page).await?;
                for admin in admins.items.iter().filter(|m| m.user.active) {
                    let warning = QuotaWarning {
                        to: admin.user.email.clone(),
                        recipient_name: Some(admin.user.name.clone()),
                        allowance: allowance.kind,
                        used: allowance.usage.used,
                        limit: allowance.limit,
                        month: (allowance.kind == AllowanceKind::Throughput).then_some(month),
                    };
                    self.mail(&warning, &letterhead).await?;
                }
                match admins.next {
                    Some(next) => page = PageRequest::after(PageRequest::MAX_LIMIT, next),
                    None => break,
                }
            }
            self.audit(
                "quota.warning",
                Some(practice.id),
                None,
                None,
                format!("{} allowance at {} of {}", allowance.kind.as_str(), allowance.usage.used, allowance.limit),
            )
            .await?;
        }
        Ok(())
    }
}

fn rename_not_found(error: AppError, what: &'static str) -> AppError {
    match error {
        AppError::NotFound { rule, .. } => AppError::NotFound { what, rule },
        other => other,
    }
}

const fn connection_facts(connection: &ConnectionRecord) -> ConnectionFacts {
    ConnectionFacts { practice: connection.practice, outside_party: connection.outside_party, state: connection.state }
}

fn blob_key(prefix: &str, id: Uuid) -> Result<BlobKey, AppError> {
    BlobKey::parse(&format!("{prefix}/{id}")).map_err(|e| AppError::Internal(e.to_string()))
}

fn reserve_error(error: ReserveError) -> AppError {
    match error {
        ReserveError::Exceeded(exceeded) => AppError::Quota(exceeded),
        ReserveError::Store(store) => store.into(),
    }
}

fn ttl(now: OffsetDateTime, ttl: Duration) -> OffsetDateTime {
    now + time::Duration::try_from(ttl).unwrap_or(time::Duration::HOUR)
}

/// Keeps a reservation for another `reservation_ttl` from now; returns now.
async fn renew_reservation(app: &App, who: &Principal, reservation: ReservationId) -> Result<OffsetDateTime, AppError> {
    let mut work = app.write(who).await?;
    let (now, expires) = (work.now, ttl(work.now, app.inner.config.reservation_ttl));
    work.tx.grow_reservation(reservation, Bytes::ZERO, Bytes::ZERO, now, expires).await.map_err(reserve_error)?;
    work.commit().await?;
    Ok(now)
}

/// Grows a reservation by a whole step when it fits, else by exactly the
/// `missing` bytes, and renews it for `lasting`. Returns the bytes added and now.
async fn grow_by(
    app: &App,
    who: &Principal,
    reservation: ReservationId,
    missing: u64,
    lasting: Duration,
) -> Result<(u64, OffsetDateTime), AppError> {
    let mut work = app.write(who).await?;
    let now = work.now;
    let expires = ttl(now, lasting);
    let step = missing.max(GROWTH_STEP);
    let added = match work.tx.grow_reservation(reservation, Bytes::new(step), Bytes::new(step), now, expires).await {
        Ok(()) => step,
        Err(ReserveError::Exceeded(_)) if step > missing => {
            // A whole step does not fit; exactly what is missing might. The
            // refusal aborted the transaction: start a new one.
            drop(work);
            work = app.write(who).await?;
            work.tx
                .grow_reservation(reservation, Bytes::new(missing), Bytes::new(missing), now, expires)
                .await
                .map_err(reserve_error)?;
            missing
        }
        Err(other) => return Err(reserve_error(other)),
    };
    work.commit().await?;
    Ok((added, now))
}

/// One file of a streamed transfer, stored and awaiting the transfer's end.
struct StoredFile {
    id: DocumentId,
    name: String,
    key: BlobKey,
    content_type: &'static str,
    receipt: BlobReceipt,
}

/// The file being written.
struct FileInProgress {
    id: DocumentId,
    name: String,
    key: BlobKey,
    upload: Box<dyn BlobUpload>,
    head: Vec<u8>,
}

/// A transfer being streamed in one request: begin each file, write its
/// bytes, end it, and finish the transfer (or abort it). Dropping it
/// unfinished gives its reservation back and removes its files.
pub struct Outgoing {
    app: App,
    who: Principal,
    request: SendRequest,
    batch: BatchId,
    reservation: ReservationId,
    reserved: u64,
    written: u64,
    renewed_at: OffsetDateTime,
    files: Vec<StoredFile>,
    current: Option<FileInProgress>,
    settled: bool,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outgoing").field("batch", &self.batch).field("written", &self.written).finish_non_exhaustive()
    }
}

impl App {
    /// Starts a transfer streamed in one request. `expected` is the
    /// request's length when known: a transfer that cannot fit is refused
    /// now, before any byte is kept (allowing [`MULTIPART_FRAMING_ALLOWANCE`]
    /// for the request's framing).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client or connection out of scope,
    /// [`AppError::Forbidden`] for senders who may not send (bookkeepers),
    /// [`AppError::Invalid`] naming `to` for a recipient who cannot receive,
    /// [`AppError::Quota`] naming the allowance and what is left.
    pub async fn start_transfer(
        &self,
        who: &Principal,
        request: SendRequest,
        expected: Option<u64>,
    ) -> Result<Outgoing, AppError> {
        let mut work = self.write(who).await?;
        let route = work.route(&request).await?;
        let reservation = ReservationId(work.new_id());
        let mut reserved = expected.unwrap_or(GROWTH_STEP);
        let (now, expires_at) = (work.now, ttl(work.now, self.inner.config.reservation_ttl));
        let ask = |bytes: u64| ReservationRequest {
            id: reservation,
            practice: route.practice.id,
            storage: Bytes::new(bytes),
            throughput: Bytes::new(bytes),
            at: now,
            expires_at,
        };
        match work.tx.reserve(&ask(reserved)).await {
            Ok(()) => {}
            Err(ReserveError::Exceeded(exceeded)) => {
                // The request's length counts its framing too: what is left
                // may still hold its files. Reserve what is left; the stream
                // is stopped if its files need more.
                let left = exceeded.remaining.get();
                let fits = expected.is_none_or(|e| e <= left.saturating_add(MULTIPART_FRAMING_ALLOWANCE));
                if !fits || left == 0 {
                    return Err(AppError::Quota(exceeded));
                }
                // The failed attempt aborted the transaction: start again.
                drop(work);
                work = self.write(who).await?;
                let route_again = work.route(&request).await?;
                reserved = left.min(expected.unwrap_or(left));
                work.tx
                    .reserve(&ReservationRequest { practice: route_again.practice.id, ..ask(reserved) })
                    .await
                    .map_err(reserve_error)?;
            }
            Err(other) => return Err(reserve_error(other)),
        }
        work.commit().await?;
        Ok(Outgoing {
            app: self.clone(),
            who: *who,
            request,
            batch: BatchId::from_uuid(self.new_id()),
            reservation,
            reserved,
            written: 0,
            renewed_at: now,
            files: Vec::new(),
            current: None,
            settled: false,
        })
    }
}

impl Outgoing {
    /// The batch id the documents will carry.
    #[must_use]
    pub const fn batch(&self) -> BatchId {
        self.batch
    }

    /// Starts the next file, named as the sender's system named it.
    ///
    /// # Errors
    /// [`AppError::Invalid`] past [`crate::AppConfig::max_files_per_transfer`];
    /// [`AppError::Unavailable`] when file storage fails.
    pub async fn begin_file(&mut self, name: &str) -> Result<(), AppError> {
        self.end_file().await?;
        if self.files.len() >= self.app.inner.config.max_files_per_transfer {
            return Err(AppError::invalid(
                "file",
                format!("a transfer carries at most {} files", self.app.inner.config.max_files_per_transfer),
            ));
        }
        let id = DocumentId::from_uuid(self.app.new_id());
        let key = blob_key("documents", id.as_uuid())?;
        let upload = self.app.inner.blobs.begin_upload(&key).await?;
        self.current = Some(FileInProgress { id, name: display_name(name), key, upload, head: Vec::new() });
        Ok(())
    }

    /// Appends bytes to the current file, reserving more quota as needed.
    ///
    /// # Errors
    /// [`AppError::Quota`] when the transfer runs past an allowance (then
    /// nothing of it is kept once it is aborted or dropped);
    /// [`AppError::Invalid`] when no file was begun.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        if self.current.is_none() {
            return Err(AppError::invalid("file", "file content came before its part began"));
        }
        let needed = self.written + bytes.len() as u64;
        if needed > self.reserved {
            self.grow(needed).await?;
        } else if self.app.now() - self.renewed_at > time::Duration::minutes(10) {
            self.renew().await?;
        }
        let current = self.current.as_mut().ok_or_else(|| AppError::invalid("file", "no file begun"))?;
        if current.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - current.head.len()).min(bytes.len());
            current.head.extend_from_slice(&bytes[..take]);
        }
        current.upload.write(bytes).await?;
        self.written = needed;
        Ok(())
    }

    async fn grow(&mut self, needed: u64) -> Result<(), AppError> {
        let ttl = self.app.inner.config.reservation_ttl;
        let (extra, now) = grow_by(&self.app, &self.who, self.reservation, needed - self.reserved, ttl).await?;
        self.reserved += extra;
        self.renewed_at = now;
        Ok(())
    }

    async fn renew(&mut self) -> Result<(), AppError> {
        self.renewed_at = renew_reservation(&self.app, &self.who, self.reservation).await?;
        Ok(())
    }

    /// Ends the current file, if any: its bytes are stored (not yet visible).
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when file storage fails.
    pub async fn end_file(&mut self) -> Result<(), AppError> {
        let Some(file) = self.current.take() else { return Ok(()) };
        let receipt = file.upload.commit().await?;
        let content_type = sniff_content_type(&file.head, &file.name);
        self.files.push(StoredFile { id: file.id, name: file.name, key: file.key, content_type, receipt });
        Ok(())
    }

    /// Records the transfer: its documents become visible, usage is
    /// counted, and each recipient is told once. Scope is checked again.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming `file` when no file was sent; the
    /// errors of [`App::start_transfer`] when scope changed meanwhile. The
    /// transfer is aborted then: nothing is kept.
    pub async fn finish(mut self) -> Result<TransferView, AppError> {
        match self.record().await {
            Ok(view) => {
                self.settled = true;
                Ok(view)
            }
            Err(error) => {
                self.abort().await;
                Err(error)
            }
        }
    }

    async fn record(&mut self) -> Result<TransferView, AppError> {
        self.end_file().await?;
        if self.files.is_empty() {
            return Err(AppError::invalid("file", "send at least one file"));
        }
        let mut work = self.app.write(&self.who).await?;
        let route = work.route(&self.request).await?;
        let now = work.now;
        let total = Bytes::new(self.written);
        work.tx.settle_reservation(self.reservation, total, total, now).await.map_err(|e| match e {
            ferry_ports::StoreError::NotFound { .. } => {
                AppError::conflict("the transfer took too long and its reservation lapsed; send it again")
            }
            other => other.into(),
        })?;
        let transfer = TransferRecord {
            id: self.batch,
            practice: route.practice.id,
            client: route.client,
            connection: route.connection,
            sender: route.sender,
            recipients: route.recipients.iter().map(|u| u.id).collect(),
            created_at: now,
            completed_at: Some(now),
        };
        work.tx.insert_transfer(&transfer).await?;
        let mut documents = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let document = NewDocument {
                id: file.id,
                batch: self.batch,
                practice: route.practice.id,
                client: route.client,
                connection: route.connection,
                uploader: route.sender,
                name: file.name.clone(),
                size: Bytes::new(file.receipt.size),
                content_type: file.content_type.to_owned(),
                sha256: file.receipt.sha256,
                blob_key: file.key.as_str().to_owned(),
                recipients: transfer.recipients.clone(),
                created_at: now,
            };
            work.tx.insert_document(&document).await?;
            documents.push(DocumentRecord {
                first_downloads: document.recipients.iter().map(|r| (*r, None)).collect(),
                document,
            });
        }
        work.audit(
            "transfer.send",
            Some(route.practice.id),
            route.client,
            Some(self.batch.as_uuid()),
            format!("{} files, {} bytes, {} recipients", documents.len(), self.written, route.recipients.len()),
        )
        .await?;
        work.notify_recipients(&route, self.batch, &documents).await?;
        work.warn_at_80_percent(&route.practice).await?;
        work.commit().await?;
        Ok(TransferView { transfer, documents })
    }

    /// Gives up: the files written are removed and the reservation given back.
    pub async fn abort(mut self) {
        self.settled = true;
        let current = self.current.take();
        let keys: Vec<BlobKey> = self.files.drain(..).map(|f| f.key).collect();
        cleanup(self.app.clone(), self.who, self.reservation, current, keys).await;
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Dropped mid-way (the request's task was cancelled): clean up in the background.
        let current = self.current.take();
        let keys: Vec<BlobKey> = self.files.drain(..).map(|f| f.key).collect();
        let (app, who, reservation) = (self.app.clone(), self.who, self.reservation);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(cleanup(app, who, reservation, current, keys));
        }
    }
}

async fn cleanup(
    app: App,
    who: Principal,
    reservation: ReservationId,
    current: Option<FileInProgress>,
    keys: Vec<BlobKey>,
) {
    if let Some(file) = current
        && let Err(e) = file.upload.abort().await
    {
        tracing::warn!(error = %e, "an aborted upload left bytes behind; the next sweep removes them");
    }
    for key in keys {
        if let Err(e) = app.inner.blobs.delete(&key).await {
            tracing::warn!(error = %e, key = %key, "could not remove an abandoned file; ferry-admin check finds it");
        }
    }
    release(&app, &who, reservation).await;
}

async fn release(app: &App, who: &Principal, reservation: ReservationId) {
    let released = async {
        let mut work = app.write(who).await?;
        match work.tx.release_reservation(reservation).await {
            Ok(()) | Err(ferry_ports::StoreError::NotFound { .. }) => {}
            Err(other) => return Err(AppError::from(other)),
        }
        work.commit().await
    };
    if let Err(e) = released.await {
        tracing::warn!(error = %e, "could not give a reservation back; it lapses on its own");
    }
}

/// A download's bytes, counted against throughput as they are read from
/// storage (the web layer reads them as the client takes them): the
/// download's reservation is settled with what was read, at the last byte,
/// or when the download is dropped half-way (the client went away), so a
/// broken download counts only what it moved.
struct Metered {
    body: Box<dyn BlobRead>,
    app: App,
    who: Principal,
    practice: PracticeId,
    reservation: ReservationId,
    /// The bytes reserved: the file or the range.
    expected: u64,
    read: u64,
    /// When the reservation was last renewed, so that a long download keeps it.
    renewed: std::time::Instant,
    settled: bool,
}

#[async_trait::async_trait]
impl BlobRead for Metered {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ferry_ports::blob::BlobError> {
        let chunk = self.body.next_chunk().await?;
        match &chunk {
            // Settled before the last bytes leave, so that whoever has read
            // them all also sees them counted.
            Some(bytes) => {
                self.read += bytes.len() as u64;
                if self.read >= self.expected {
                    self.settle().await;
                } else if self.renewed.elapsed() > self.app.inner.config.reservation_ttl / 2 {
                    self.renew().await;
                }
            }
            None => self.settle().await,
        }
        Ok(chunk)
    }
}

impl Metered {
    async fn settle(&mut self) {
        if !std::mem::replace(&mut self.settled, true) {
            let read = self.read.min(self.expected);
            count_download(&self.app, self.practice, self.reservation, read).await;
        }
    }

    async fn renew(&mut self) {
        self.renewed = std::time::Instant::now();
        if let Err(e) = renew_reservation(&self.app, &self.who, self.reservation).await {
            tracing::warn!(error = %e, "could not renew a long download's reservation; its bytes are counted at its end");
        }
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (app, practice, reservation) = (self.app.clone(), self.practice, self.reservation);
        let read = self.read.min(self.expected);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { count_download(&app, practice, reservation, read).await });
        }
    }
}

/// Turns a download's reservation into usage of the `read` bytes (the
/// rest is given back). A reservation that lapsed meanwhile (a download
/// stalled for longer than it lasts) is counted afresh. This is the
/// installation's bookkeeping, not an act of the downloader (who may have
/// been deactivated meanwhile): it runs as the operator.
async fn count_download(app: &App, practice: PracticeId, reservation: ReservationId, read: u64) {
    let who = &Principal::Operator;
    let counted = async {
        let mut work = app.write(who).await?;
        match work.tx.settle_reservation(reservation, Bytes::ZERO, Bytes::new(read), work.now).await {
            Ok(()) => {}
            Err(ferry_ports::StoreError::NotFound { .. }) if read > 0 => {
                // The failed settle may have ended the transaction: count in a new one.
                drop(work);
                work = app.write(who).await?;
                let again = ReservationId(work.new_id());
                let at = work.now;
                let request = ReservationRequest {
                    id: again,
                    practice,
                    storage: Bytes::ZERO,
                    throughput: Bytes::new(read),
                    at,
                    expires_at: ttl(at, Duration::from_secs(60)),
                };
                work.tx.reserve(&request).await.map_err(reserve_error)?;
                work.tx.commit_reservation(again).await?;
            }
            Err(ferry_ports::StoreError::NotFound { .. }) => {}
            Err(other) => return Err(AppError::from(other)),
        }
        work.commit().await
    };
    if let Err(e) = counted.await {
        tracing::warn!(error = %e, bytes = read, "could not count a download's bytes against throughput");
    }
}

/// Gives back `bytes` of a reservation that will not be filled (the
/// installation's bookkeeping: it runs as the operator, whoever uploads).
async fn give_back(app: &App, reservation: ReservationId, bytes: u64) {
    let given = async {
        let mut work = app.write(&Principal::Operator).await?;
        work.tx.shrink_reservation(reservation, Bytes::new(bytes), Bytes::new(bytes)).await?;
        work.commit().await
    };
    if let Err(e) = given.await {
        tracing::warn!(error = %e, "could not give back the unused part of a reservation; it lapses with its upload");
    }
}

impl App {
    /// Opens a transfer for resumable uploads: its files arrive through
    /// [`App::create_upload`], and [`App::complete_transfer`] tells its
    /// recipients once.
    ///
    /// # Errors
    /// As [`App::start_transfer`].
    pub async fn open_transfer(&self, who: &Principal, request: &SendRequest) -> Result<TransferRecord, AppError> {
        let mut work = self.write(who).await?;
        let route = work.route(request).await?;
        let transfer = TransferRecord {
            id: BatchId::from_uuid(work.new_id()),
            practice: route.practice.id,
            client: route.client,
            connection: route.connection,
            sender: route.sender,
            recipients: route.recipients.iter().map(|u| u.id).collect(),
            created_at: work.now,
            completed_at: None,
        };
        work.tx.insert_transfer(&transfer).await?;
        work.audit("transfer.open", Some(route.practice.id), route.client, Some(transfer.id.as_uuid()), "").await?;
        work.commit().await?;
        Ok(transfer)
    }

    /// Closes a transfer made of resumable uploads and tells each recipient
    /// once about all its files.
    ///
    /// # Errors
    /// [`AppError::NotFound`] unless the caller is its sender;
    /// [`AppError::Conflict`] while uploads are unfinished or when it was
    /// already completed; [`AppError::Invalid`] when it holds no file.
    pub async fn complete_transfer(&self, who: &Principal, batch: BatchId) -> Result<TransferView, AppError> {
        let mut work = self.write(who).await?;
        let transfer = own_transfer(&mut work, batch).await?;
        let route = work.route_of(&transfer).await?;
        let pending = work.tx.uploads_of_transfer(batch).await?;
        if !pending.is_empty() {
            return Err(AppError::conflict(format!(
                "{} of this transfer's uploads are unfinished: finish or terminate them first",
                pending.len()
            )));
        }
        let documents = work.tx.list_documents_of_transfer(batch).await?;
        if documents.is_empty() {
            return Err(AppError::invalid("batch", "this transfer holds no file yet: upload at least one"));
        }
        if !work.tx.complete_transfer(batch, work.now).await? {
            return Err(AppError::conflict("this transfer was already completed and its recipients told"));
        }
        work.audit(
            "transfer.complete",
            Some(route.practice.id),
            route.client,
            Some(batch.as_uuid()),
            format!("{} files", documents.len()),
        )
        .await?;
        work.notify_recipients(&route, batch, &documents).await?;
        let transfer = TransferRecord { completed_at: Some(work.now), ..transfer };
        work.commit().await?;
        Ok(TransferView { transfer, documents })
    }

    /// Starts a resumable upload of one file into an open transfer of the
    /// caller's. A declared `length` is reserved now (refused if it does not
    /// fit); without one, quota is reserved as bytes arrive.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a transfer that is not the caller's;
    /// [`AppError::Conflict`] for a completed one; [`AppError::Quota`].
    pub async fn create_upload(
        &self,
        who: &Principal,
        batch: BatchId,
        name: &str,
        length: Option<u64>,
    ) -> Result<UploadView, AppError> {
        let mut work = self.write(who).await?;
        let transfer = own_transfer(&mut work, batch).await?;
        if transfer.completed_at.is_some() {
            return Err(AppError::conflict("this transfer is complete: open a new one to send more files"));
        }
        let route = work.route_of(&transfer).await?;
        let reservation = ReservationId(work.new_id());
        let expires_at = ttl(work.now, self.inner.config.upload_ttl);
        let bytes = Bytes::new(length.unwrap_or(0));
        work.tx
            .reserve(&ReservationRequest {
                id: reservation,
                practice: route.practice.id,
                storage: bytes,
                throughput: bytes,
                at: work.now,
                expires_at,
            })
            .await
            .map_err(reserve_error)?;
        let upload = NewUpload {
            id: UploadId(work.new_id()),
            transfer: batch,
            uploader: route.sender,
            name: display_name(name),
            length: length.map(Bytes::new),
            reservation,
            created_at: work.now,
            expires_at,
        };
        work.tx.insert_upload(&upload).await?;
        work.commit().await?;
        let id = upload.id;
        let record = UploadRecord { upload, received: Bytes::ZERO };
        // An empty file is complete as soon as it is announced.
        let document = if length == Some(0) { Some(self.assemble(who, id).await?) } else { None };
        Ok(UploadView { record, document })
    }

    /// Where a resumable upload of the caller's stands.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an upload that is not the caller's, finished or abandoned.
    pub async fn upload_status(&self, who: &Principal, id: UploadId) -> Result<UploadRecord, AppError> {
        let mut work = self.read(who).await?;
        own_upload(&mut work, id).await
    }

    /// Declares the length of an upload created without one, reserving it;
    /// returns the document when every byte is already here.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when a length was already declared or more
    /// bytes arrived; [`AppError::Quota`].
    pub async fn declare_upload_length(
        &self,
        who: &Principal,
        id: UploadId,
        length: u64,
    ) -> Result<Option<DocumentRecord>, AppError> {
        let mut work = self.write(who).await?;
        let upload = own_upload(&mut work, id).await?;
        if upload.upload.length.is_some() {
            return Err(AppError::conflict("this upload's length was already declared"));
        }
        let more = length.saturating_sub(upload.received.get());
        let expires = ttl(work.now, self.inner.config.upload_ttl);
        work.tx
            .grow_reservation(upload.upload.reservation, Bytes::new(more), Bytes::new(more), work.now, expires)
            .await
            .map_err(reserve_error)?;
        work.tx.set_upload_length(id, Bytes::new(length)).await?;
        work.commit().await?;
        // Declaring the length of what already arrived finishes the file.
        if length == upload.received.get() { Ok(Some(self.assemble(who, id).await?)) } else { Ok(None) }
    }

    /// Starts receiving the bytes of one request of a resumable upload at
    /// `offset`: `length` of them when the request says, to be checked
    /// against `checksum` when it carries one (only that digest is computed).
    ///
    /// # Errors
    /// [`AppError::NotFound`]; [`AppError::Conflict`] when `offset` is not
    /// where the upload stands; [`AppError::Invalid`] when `length` runs
    /// past the upload's declared length; [`AppError::Quota`].
    pub async fn append_upload(
        &self,
        who: &Principal,
        id: UploadId,
        offset: u64,
        length: Option<u64>,
        checksum: Option<Checksum>,
    ) -> Result<Appender, AppError> {
        let mut work = self.write(who).await?;
        let upload = own_upload(&mut work, id).await?;
        if upload.received.get() != offset {
            return Err(AppError::conflict(format!(
                "this upload stands at byte {}, not {offset}: ask where it stands (HEAD) and continue from there",
                upload.received.get()
            )));
        }
        if let (Some(total), Some(length)) = (upload.upload.length, length)
            && offset.saturating_add(length) > total.get()
        {
            return Err(AppError::invalid(
                "Content-Length",
                format!("{length} bytes from byte {offset} run past the upload's length of {}", total.get()),
            ));
        }
        // Without a declared length, quota is reserved as bytes arrive: this
        // request's bytes now, when it says how many.
        let mut reserved_extra = 0;
        if upload.upload.length.is_none()
            && let Some(length) = length
        {
            let expires = ttl(work.now, self.inner.config.upload_ttl);
            work.tx
                .grow_reservation(upload.upload.reservation, Bytes::new(length), Bytes::new(length), work.now, expires)
                .await
                .map_err(reserve_error)?;
            reserved_extra = length;
            work.commit().await?;
        } else {
            work.tx.rollback().await?;
        }
        let key = blob_key(&format!("uploads/{}", id.0), self.new_id())?;
        let blob = self.inner.blobs.begin_upload(&key).await?;
        Ok(Appender {
            app: self.clone(),
            who: *who,
            upload,
            key,
            blob: Some(blob),
            written: 0,
            reserved_extra,
            check: checksum.map(RunningChecksum::new),
        })
    }

    /// Gives up a resumable upload: its bytes are removed and its quota given back.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an upload that is not the caller's.
    pub async fn terminate_upload(&self, who: &Principal, id: UploadId) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        // An expired upload not yet reclaimed may be terminated too: it would
        // otherwise hold its transfer open until housekeeping runs.
        let user = work.user()?;
        let upload = match work.tx.upload(id).await? {
            Some(upload) if upload.upload.uploader == user => upload,
            _ => return Err(AppError::not_found("upload")),
        };
        let segments = work.tx.delete_upload(id).await?;
        match work.tx.release_reservation(upload.upload.reservation).await {
            Ok(()) | Err(ferry_ports::StoreError::NotFound { .. }) => {}
            Err(other) => return Err(other.into()),
        }
        work.commit().await?;
        self.delete_segments(&segments).await;
        Ok(())
    }

    /// Removes resumable uploads nobody continued before their expiry, with
    /// their bytes and reservations; returns how many.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but the operator (the server's housekeeping runs as it).
    pub async fn reclaim_abandoned_uploads(&self, who: &Principal) -> Result<u64, AppError> {
        if !matches!(who, Principal::Operator) {
            return Err(AppError::Forbidden { rule: ferry_domain::access::Rule::OperatorOnly });
        }
        let mut reclaimed = 0;
        loop {
            let mut work = self.write(who).await?;
            let expired = work.tx.expired_uploads(work.now, 100).await?;
            if expired.is_empty() {
                return Ok(reclaimed);
            }
            let mut segments = Vec::new();
            for upload in &expired {
                segments.extend(work.tx.delete_upload(upload.upload.id).await?);
                match work.tx.release_reservation(upload.upload.reservation).await {
                    Ok(()) | Err(ferry_ports::StoreError::NotFound { .. }) => {}
                    Err(other) => return Err(other.into()),
                }
            }
            work.audit("upload.reclaim", None, None, None, format!("{} abandoned uploads", expired.len())).await?;
            work.commit().await?;
            self.delete_segments(&segments).await;
            reclaimed += expired.len() as u64;
        }
    }

    async fn delete_segments(&self, segments: &[UploadSegment]) {
        for segment in segments {
            let deleted = match BlobKey::parse(&segment.blob_key) {
                Ok(key) => self.inner.blobs.delete(&key).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = deleted {
                tracing::warn!(error = %e, key = %segment.blob_key, "could not remove an upload's bytes; ferry-admin check finds them");
            }
        }
    }

    /// Turns a fully received upload into a document of its transfer.
    async fn assemble(&self, who: &Principal, id: UploadId) -> Result<DocumentRecord, AppError> {
        let mut work = self.read(who).await?;
        own_upload(&mut work, id).await?;
        let segments = work.tx.upload_segments(id).await?;
        work.tx.rollback().await?;
        let document_id = DocumentId::from_uuid(self.new_id());
        let key = blob_key("documents", document_id.as_uuid())?;
        let mut target = self.inner.blobs.begin_upload(&key).await?;
        let mut head = Vec::new();
        let copied = async {
            for segment in &segments {
                let source = BlobKey::parse(&segment.blob_key).map_err(|e| AppError::Internal(e.to_string()))?;
                let mut reader = self.inner.blobs.open(&source, None).await?;
                while let Some(chunk) = reader.next_chunk().await? {
                    if head.len() < SNIFF_BYTES {
                        let take = (SNIFF_BYTES - head.len()).min(chunk.len());
                        head.extend_from_slice(&chunk[..take]);
                    }
                    target.write(&chunk).await?;
                }
            }
            Ok::<(), AppError>(())
        }
        .await;
        if let Err(e) = copied {
            let _ = target.abort().await;
            return Err(e);
        }
        let receipt = target.commit().await?;
        let recorded = async {
            let mut work = self.write(who).await?;
            let upload = own_upload(&mut work, id).await?;
            let transfer = own_transfer(&mut work, upload.upload.transfer).await?;
            let route = work.route_of(&transfer).await?;
            let size = Bytes::new(receipt.size);
            if upload.upload.length != Some(size) {
                return Err(AppError::Internal("an upload's stored bytes do not add up to its length".into()));
            }
            work.tx.settle_reservation(upload.upload.reservation, size, size, work.now).await.map_err(|e| match e {
                ferry_ports::StoreError::NotFound { .. } => {
                    AppError::conflict("this upload was abandoned and its reservation lapsed; upload the file again")
                }
                other => other.into(),
            })?;
            let document = NewDocument {
                id: document_id,
                batch: transfer.id,
                practice: route.practice.id,
                client: route.client,
                connection: route.connection,
                uploader: route.sender,
                name: upload.upload.name.clone(),
                size,
                content_type: sniff_content_type(&head, &upload.upload.name).to_owned(),
                sha256: receipt.sha256,
                blob_key: key.as_str().to_owned(),
                recipients: transfer.recipients.clone(),
                created_at: work.now,
            };
            work.tx.insert_document(&document).await?;
            work.tx.delete_upload(id).await?;
            work.audit(
                "upload.finish",
                Some(route.practice.id),
                route.client,
                Some(document_id.as_uuid()),
                format!("{} bytes in transfer {}", receipt.size, transfer.id),
            )
            .await?;
            work.warn_at_80_percent(&route.practice).await?;
            work.commit().await?;
            Ok(DocumentRecord { first_downloads: document.recipients.iter().map(|r| (*r, None)).collect(), document })
        }
        .await;
        match recorded {
            Ok(document) => {
                self.delete_segments(&segments).await;
                Ok(document)
            }
            Err(e) => {
                if let Err(error) = self.inner.blobs.delete(&key).await {
                    tracing::warn!(error = %error, "could not remove an unrecorded file; ferry-admin check finds it");
                }
                Err(e)
            }
        }
    }
}

async fn own_transfer(work: &mut Work, batch: BatchId) -> Result<TransferRecord, AppError> {
    let user = work.user()?;
    match work.tx.transfer(batch).await? {
        Some(transfer) if transfer.sender == user => Ok(transfer),
        _ => Err(AppError::not_found("transfer")),
    }
}

async fn own_upload(work: &mut Work, id: UploadId) -> Result<UploadRecord, AppError> {
    let user = work.user()?;
    match work.tx.upload(id).await? {
        Some(upload) if upload.upload.uploader == user && upload.upload.expires_at > work.now => Ok(upload),
        _ => Err(AppError::not_found("upload")),
    }
}

/// The digest of a request's bytes in the algorithm of the checksum sent
/// with them (only that one is computed), and the checksum to match.
struct RunningChecksum {
    digest: RunningDigest,
    expected: Vec<u8>,
}

enum RunningDigest {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Md5(md5::Md5),
}

impl RunningChecksum {
    fn new(checksum: Checksum) -> Self {
        let (digest, expected) = match checksum {
            Checksum::Sha1(want) => (RunningDigest::Sha1(sha1::Sha1::default()), want),
            Checksum::Sha256(want) => (RunningDigest::Sha256(sha2::Sha256::default()), want),
            Checksum::Md5(want) => (RunningDigest::Md5(md5::Md5::default()), want),
        };
        Self { digest, expected }
    }

    fn update(&mut self, bytes: &[u8]) {
        match &mut self.digest {
            RunningDigest::Sha1(d) => sha1::Digest::update(d, bytes),
            RunningDigest::Sha256(d) => sha2::Digest::update(d, bytes),
            RunningDigest::Md5(d) => md5::Digest::update(d, bytes),
        }
    }

    fn matches(self) -> bool {
        let got = match self.digest {
            RunningDigest::Sha1(d) => sha1::Digest::finalize(d).to_vec(),
            RunningDigest::Sha256(d) => sha2::Digest::finalize(d).to_vec(),
            RunningDigest::Md5(d) => md5::Digest::finalize(d).to_vec(),
        };
        got == self.expected
    }
}

/// The bytes of one request of a resumable upload, arriving.
pub struct Appender {
    app: App,
    who: Principal,
    upload: UploadRecord,
    key: BlobKey,
    blob: Option<Box<dyn BlobUpload>>,
    written: u64,
    reserved_extra: u64,
    check: Option<RunningChecksum>,
}

impl Drop for Appender {
    fn drop(&mut self) {
        // Dropped before `finish` (the request's task was cancelled): nothing
        // of this request is kept, so give back all it reserved.
        let unused = std::mem::take(&mut self.reserved_extra);
        if unused > 0
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (app, reservation) = (self.app.clone(), self.upload.upload.reservation);
            runtime.spawn(async move { give_back(&app, reservation, unused).await });
        }
    }
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender").field("upload", &self.upload.upload.id).field("written", &self.written).finish()
    }
}

/// What one request of a resumable upload achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Where the upload stands now.
    pub offset: u64,
    /// When it stays open, when it expires.
    pub expires_at: OffsetDateTime,
    /// The document, when this request delivered the last byte.
    pub document: Option<DocumentRecord>,
}

impl Appender {
    /// Gives back what this request reserved beyond the `kept` bytes (an
    /// upload of unknown length reserves as bytes arrive), so that a request
    /// cut short or refused holds nothing it did not keep.
    async fn return_unused(&mut self, kept: u64) {
        let unused = std::mem::take(&mut self.reserved_extra).saturating_sub(kept);
        if unused > 0 {
            give_back(&self.app, self.upload.upload.reservation, unused).await;
        }
    }

    /// Takes the next bytes of the request.
    ///
    /// # Errors
    /// [`AppError::Invalid`] when they run past the upload's length;
    /// [`AppError::Quota`] when an upload of unknown length runs past an allowance.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        let offset = self.upload.received.get() + self.written + bytes.len() as u64;
        match self.upload.upload.length {
            Some(total) if offset > total.get() => {
                return Err(AppError::invalid(
                    "Content-Length",
                    format!("the bytes run past the upload's length of {}", total.get()),
                ));
            }
            None if self.written + bytes.len() as u64 > self.reserved_extra => {
                let missing = self.written + bytes.len() as u64 - self.reserved_extra;
                let lasting = self.app.inner.config.upload_ttl;
                let (added, _) =
                    grow_by(&self.app, &self.who, self.upload.upload.reservation, missing, lasting).await?;
                self.reserved_extra += added;
            }
            _ => {}
        }
        let blob = self.blob.as_mut().ok_or_else(|| AppError::Internal("bytes after the end".into()))?;
        blob.write(bytes).await?;
        if let Some(check) = &mut self.check {
            check.update(bytes);
        }
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Keeps what arrived. With a checksum, only when the bytes match it
    /// and arrived whole (`complete`); a request cut short keeps what
    /// arrived only without one, as tus asks. When the last byte of the
    /// file arrived, the file becomes a document of its transfer.
    ///
    /// # Errors
    /// [`AppError::ChecksumMismatch`] (nothing kept); [`AppError::Conflict`]
    /// when another request moved the upload meanwhile (nothing kept).
    pub async fn finish(mut self, complete: bool) -> Result<Appended, AppError> {
        let Some(blob) = self.blob.take() else { return Err(AppError::Internal("finished twice".into())) };
        let matches = match self.check.take() {
            None => true,
            // A checksum covers the whole request: a request cut short cannot match it.
            Some(_) if !complete => false,
            Some(check) => check.matches(),
        };
        if !matches || self.written == 0 {
            let _ = blob.abort().await;
            self.return_unused(0).await;
            if !matches {
                return Err(AppError::ChecksumMismatch);
            }
            // Nothing new; but an upload whose every byte is already here
            // (an empty file) is finished by this request.
            let offset = self.upload.received.get();
            let document = if self.upload.upload.length.is_some_and(|l| l.get() == offset) {
                Some(self.app.assemble(&self.who, self.upload.upload.id).await?)
            } else {
                None
            };
            return Ok(Appended { offset, expires_at: self.upload.upload.expires_at, document });
        }
        let receipt = blob.commit().await?;
        let segment = UploadSegment {
            first_byte: self.upload.received.get(),
            size: receipt.size,
            blob_key: self.key.as_str().to_owned(),
        };
        let kept = async {
            let mut work = self.app.write(&self.who).await?;
            own_upload(&mut work, self.upload.upload.id).await?;
            let expires_at = ttl(work.now, self.app.inner.config.upload_ttl);
            work.tx.add_upload_segment(self.upload.upload.id, &segment, expires_at).await?;
            work.commit().await?;
            Ok::<OffsetDateTime, AppError>(expires_at)
        }
        .await;
        let expires_at = match kept {
            Ok(expires_at) => expires_at,
            Err(e) => {
                let _ = self.app.inner.blobs.delete(&self.key).await;
                self.return_unused(0).await;
                return Err(e);
            }
        };
        self.return_unused(segment.size).await;
        let offset = segment.first_byte + segment.size;
        let document = if self.upload.upload.length.is_some_and(|l| l.get() == offset) {
            Some(self.app.assemble(&self.who, self.upload.upload.id).await?)
        } else {
            None
        };
        Ok(Appended { offset, expires_at, document })
    }
}

impl App {
    /// A document's details, for anyone in scope.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a document out of scope.
    pub async fn document(&self, who: &Principal, id: DocumentId) -> Result<DocumentView, AppError> {
        let mut work = self.read(who).await?;
        let record = work.document_in_scope(Action::ViewDocument, id).await?;
        let sender = work.tx.user(record.document.uploader).await?.ok_or(AppError::not_found("user"))?;
        let mut recipients = Vec::with_capacity(record.first_downloads.len());
        for (user, _) in &record.first_downloads {
            recipients.extend(work.tx.user(*user).await?);
        }
        Ok(DocumentView { record, sender, recipients })
    }

    /// Opens a document for download, the whole or `range`: counts its bytes
    /// against the practice's throughput, records a recipient's first
    /// download and sends its sender a receipt then.
    ///
    /// # Errors
    /// [`AppError::NotFound`] out of scope; [`AppError::RangeNotSatisfiable`];
    /// [`AppError::Quota`] when the month's throughput is used up.
    pub async fn download(
        &self,
        who: &Principal,
        id: DocumentId,
        range: Option<RangeRequest>,
    ) -> Result<Download, AppError> {
        // Scope first, in a read transaction; the file is opened (its header
        // read from storage) outside any write transaction, which on SQLite
        // would hold the database's one write lock across that I/O.
        let checked = {
            let mut work = self.read(who).await?;
            work.document_in_scope(Action::DownloadDocument, id).await?
        };
        let size = checked.document.size.get();
        let range = range.map(|r| r.resolve(size)).transpose()?;
        let bytes = range.map_or(size, |r| r.end - r.start);
        let key = BlobKey::parse(&checked.document.blob_key).map_err(|e| AppError::Internal(e.to_string()))?;
        let body = self.inner.blobs.open(&key, range).await.map_err(|e| match e {
            ferry_ports::blob::BlobError::NotFound => {
                tracing::error!(document = %id, "a document's content is missing from file storage");
                AppError::Unavailable("this file's content is missing from storage; the operator has been told".into())
            }
            other => other.into(),
        })?;
        // Then the accounting, with scope checked again in the same
        // transaction: the bytes are reserved against throughput now (refused
        // when they do not fit) and counted as they are read (`Metered`).
        let mut work = self.write(who).await?;
        let record = work.document_in_scope(Action::DownloadDocument, id).await?;
        let document = &record.document;
        let mut reservation = None;
        if bytes > 0 {
            let id = ReservationId(work.new_id());
            work.tx
                .reserve(&ReservationRequest {
                    id,
                    practice: document.practice,
                    storage: Bytes::ZERO,
                    throughput: Bytes::new(bytes),
                    at: work.now,
                    expires_at: ttl(work.now, self.inner.config.reservation_ttl),
                })
                .await
                .map_err(reserve_error)?;
            reservation = Some(id);
        }
        let user = work.user()?;
        if work.tx.record_download(id, user, work.now).await? && document.uploader != user {
            self.send_receipt(&mut work, &record, user).await?;
        }
        work.audit(
            "document.download",
            Some(document.practice),
            document.client,
            Some(id.as_uuid()),
            match range {
                Some(r) => format!("bytes {}-{} of {size}", r.start, r.end.saturating_sub(1)),
                None => format!("{size} bytes"),
            },
        )
        .await?;
        if bytes > 0 {
            let practice = work.tx.practice(document.practice).await?.ok_or(AppError::not_found("practice"))?;
            work.warn_at_80_percent(&practice).await?;
        }
        work.commit().await?;
        let body = match reservation {
            Some(reservation) => Box::new(Metered {
                body,
                app: self.clone(),
                who: *who,
                practice: record.document.practice,
                reservation,
                expected: bytes,
                read: 0,
                renewed: std::time::Instant::now(),
                settled: false,
            }),
            None => body,
        };
        Ok(Download { document: record, range, body })
    }

    /// The download receipt, when the sender is a practice user.
    async fn send_receipt(&self, work: &mut Work, record: &DocumentRecord, by: UserId) -> Result<(), AppError> {
        let document = &record.document;
        if work.tx.member(document.uploader).await?.is_none() {
            return Ok(());
        }
        let (Some(sender), Some(downloader)) = (work.tx.user(document.uploader).await?, work.tx.user(by).await?) else {
            return Ok(());
        };
        let practice = work.tx.practice(document.practice).await?.ok_or(AppError::not_found("practice"))?;
        let client_name = match document.client {
            Some(client) => work.tx.client(client).await?.map(|c| c.name),
            None => None,
        };
        let receipt = DownloadReceipt {
            to: sender.email,
            sender_name: Some(sender.name),
            downloaded_by: downloader.name,
            file_name: document.name.clone(),
            client: document.client,
            client_name,
            downloaded_at: work.now,
        };
        let letterhead = self.letterhead(&practice);
        work.mail(&receipt, &letterhead).await
    }

    /// Deletes a document: the uploader, or an admin in scope. Its storage
    /// is freed at once.
    ///
    /// # Errors
    /// [`AppError::NotFound`] out of scope; [`AppError::Forbidden`] for
    /// others in scope.
    pub async fn delete_document(&self, who: &Principal, id: DocumentId) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        let record = work.document_in_scope(Action::DeleteDocument, id).await?;
        let document = &record.document;
        work.tx.delete_document(id, work.now).await?;
        work.audit(
            "document.delete",
            Some(document.practice),
            document.client,
            Some(id.as_uuid()),
            format!("{} bytes freed", document.size.get()),
        )
        .await?;
        work.commit().await?;
        if let Ok(key) = BlobKey::parse(&document.blob_key)
            && let Err(e) = self.inner.blobs.delete(&key).await
        {
            tracing::warn!(error = %e, "a deleted document's bytes stay until ferry-admin check --repair");
        }
        Ok(())
    }

    /// Files sent to the caller (`Inbox`) or by them (`Outbox`), newest
    /// first, each still in the caller's scope.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for the operator.
    pub async fn my_documents(
        &self,
        who: &Principal,
        mailbox: Mailbox,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, AppError> {
        let mut work = self.read(who).await?;
        let action = match mailbox {
            Mailbox::Inbox => Action::ListMyInbox,
            Mailbox::Outbox => Action::ListMyOutbox,
        };
        let user = work.account(action)?;
        let found = work.tx.list_documents_of_user(user, mailbox, page).await?;
        let mut facts: HashMap<ClientId, ClientFacts> = HashMap::new();
        let mut connections: HashMap<ConnectionId, ConnectionRecord> = HashMap::new();
        let mut items = Vec::with_capacity(found.items.len());
        for record in found.items {
            let document = &record.document;
            let visible = match document.client {
                Some(client) => {
                    if work.practice_user().is_some_and(|p| p.practice != document.practice) {
                        false
                    } else {
                        let client_facts = match facts.get(&client) {
                            Some(f) => *f,
                            None => {
                                let f = work.tx.client_facts(user, client).await?;
                                facts.insert(client, f);
                                f
                            }
                        };
                        let resource =
                            Resource::Document(&client_facts, &DocumentFacts { uploader: document.uploader });
                        work.allow(Action::ViewDocument, resource).is_ok()
                    }
                }
                None => match document.connection {
                    Some(id) => {
                        let connection = match connections.get(&id) {
                            Some(c) => *c,
                            None => {
                                let Some(c) = work.tx.connection(id).await? else { continue };
                                connections.insert(id, c);
                                c
                            }
                        };
                        let (admin, party) = work.connection_document_access(&connection, document, user);
                        admin || party
                    }
                    None => false,
                },
            };
            if visible {
                items.push(record);
            }
        }
        Ok(Page { items, next: found.next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_length_but_keep_unicode() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\ada\\Q3 VAT.xlsx"), "Q3 VAT.xlsx");
        assert_eq!(display_name("Bilanz 2025 — Müller & Söhne.pdf"), "Bilanz 2025 — Müller & Söhne.pdf");
        assert_eq!(display_name("報告書.pdf"), "報告書.pdf");
        assert_eq!(display_name("evil\u{202e}fdp.exe"), "evilfdp.exe");
        assert_eq!(display_name("a\r\nb\u{0}.txt"), "ab.txt");
        assert_eq!(display_name(""), "unnamed file");
        assert_eq!(display_name(".."), "unnamed file");
        assert_eq!(display_name("dir/"), "unnamed file");
        let long = format!("{}.pdf", "é".repeat(400));
        let kept = display_name(&long);
        assert_eq!(kept.chars().count(), MAX_NAME_CHARS);
        assert!(kept.ends_with(".pdf"));
        assert_eq!(display_name(&"x".repeat(300)).chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn content_types_come_from_the_bytes_and_never_say_html() {
        assert_eq!(sniff_content_type(b"%PDF-1.7\n", "x.bin"), "application/pdf");
        assert_eq!(sniff_content_type(b"%PDF-1.7\n", "x.html"), "application/pdf");
        assert_eq!(
            sniff_content_type(b"PK\x03\x04....", "ledger.xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        assert_eq!(sniff_content_type(b"PK\x03\x04....", "ledger.pdf"), "application/zip");
        assert_eq!(sniff_content_type(b"date,amount\n2025-01-01,3.50\n", "bank.csv"), "text/csv");
        assert_eq!(sniff_content_type(b"<html><script>alert(1)</script>", "page.html"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"<svg onload=alert(1)>", "x.svg"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"<html>", "trick.csv"), "text/csv");
        assert_eq!(sniff_content_type(b"\x00\x01binary", "data.csv"), "application/octet-stream");
        assert_eq!(sniff_content_type(b"", "empty.txt"), "application/octet-stream");
        // A multi-byte character cut at the end of the sniffed bytes is still text.
        assert_eq!(sniff_content_type("Müller".as_bytes().get(..2).unwrap(), "n.txt"), "text/plain");
    }

    #[test]
    fn ranges_resolve_against_the_size_or_are_refused() {
        let r = |start, end| Ok::<_, ()>(ByteRange { start, end });
        let ok = |req: RangeRequest, size| req.resolve(size).map_err(|_| ());
        assert_eq!(ok(RangeRequest::Closed(0, 0), 10), r(0, 1));
        assert_eq!(ok(RangeRequest::Closed(2, 100), 10), r(2, 10));
        assert_eq!(ok(RangeRequest::From(9), 10), r(9, 10));
        assert_eq!(ok(RangeRequest::Last(3), 10), r(7, 10));
        assert_eq!(ok(RangeRequest::Last(30), 10), r(0, 10));
        assert!(ok(RangeRequest::From(10), 10).is_err());
        assert!(ok(RangeRequest::Closed(5, 4), 10).is_err());
        assert!(ok(RangeRequest::Last(0), 10).is_err());
        assert!(ok(RangeRequest::Last(1), 0).is_err());
        assert!(matches!(RangeRequest::From(0).resolve(0), Err(AppError::RangeNotSatisfiable { size: 0 })));
    }
}
