//! The JSON shapes shared by several groups (and the streaming operations),
//! the one page of every list, and helpers to parse ids and page requests.

use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::values::{EmailAddress, PersonName};
use ferry_ports::records::{
    self, ClientRecord, Cursor, DocumentRecord, MemberRecord, PageRequest, PracticeRecord, UserRecord,
};
use poem_openapi::Object;
use poem_openapi::types::{ParseFromJSON, ToJSON, Type};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Failure;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 50;

/// The page `?limit=&after=` asks for: `limit` 1 to 500 (default
/// [`DEFAULT_LIMIT`]), after the cursor `after` (the first page without one).
///
/// # Errors
/// 400 naming `limit` outside 1 to 500.
pub fn page_request(limit: Option<u32>, after: Option<String>) -> Result<PageRequest, Failure> {
    if let Some(l) = limit
        && (l == 0 || l > PageRequest::MAX_LIMIT)
    {
        return Err(Failure::invalid("limit", format!("limit must be between 1 and {}", PageRequest::MAX_LIMIT)));
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    Ok(match after {
        Some(after) if !after.is_empty() => PageRequest::after(limit, Cursor(after)),
        _ => PageRequest::first(limit),
    })
}

/// A page of a list (each list's operation says its order).
#[derive(Debug, Clone, Object)]
pub struct Page<T: Type + ParseFromJSON + ToJSON> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page (`?after=`), if there is one.
    pub next: Option<String>,
}

impl<T: Type + ParseFromJSON + ToJSON> Page<T> {
    /// The page `found`, each item shown with `show` (such as `ItemOut::from`).
    pub fn from_found<'a, R>(found: &'a records::Page<R>, show: impl FnMut(&'a R) -> T) -> Self {
        Self { items: found.items.iter().map(show).collect(), next: found.next.as_ref().map(|c| c.0.clone()) }
    }
}

/// Parses a typed id from a path or body field.
///
/// # Errors
/// 404 for a path id that is not one (nothing by that id exists), 400 for a body field.
pub fn id<T: std::str::FromStr>(field: &str, raw: &str, in_path: bool) -> Result<T, Failure> {
    raw.trim().parse::<T>().map_err(|_| {
        if in_path {
            Failure::from(ferry_app::AppError::not_found("object"))
        } else {
            Failure::invalid(field, format!("{field} is not a valid id"))
        }
    })
}

/// A practice id from the path.
///
/// # Errors
/// 404 when it is not an id.
pub fn practice_id(raw: &str) -> Result<PracticeId, Failure> {
    id("practice", raw, true)
}

/// A user id from the path.
///
/// # Errors
/// 404 when it is not an id.
pub fn user_id(raw: &str) -> Result<UserId, Failure> {
    id("user", raw, true)
}

/// A client id from the path.
///
/// # Errors
/// 404 when it is not an id.
pub fn client_id(raw: &str) -> Result<ClientId, Failure> {
    id("client", raw, true)
}

/// RFC 3339 in UTC.
#[must_use]
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A user as shown to others.
#[derive(Debug, Clone, Object)]
pub struct UserOut {
    /// The user's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// `practice`, `client` or `outside`.
    pub kind: String,
    /// False once deactivated.
    pub active: bool,
    /// Whether they have chosen a password yet.
    pub has_password: bool,
}

impl From<&UserRecord> for UserOut {
    fn from(user: &UserRecord) -> Self {
        Self {
            id: user.id.to_string(),
            name: user.name.as_str().to_owned(),
            email: user.email.as_str().to_owned(),
            kind: user.kind.as_str().to_owned(),
            active: user.active,
            has_password: user.has_password,
        }
    }
}

/// A practice user with their role.
#[derive(Debug, Clone, Object)]
pub struct PersonOut {
    /// The user.
    pub user: UserOut,
    /// Their practice.
    pub practice: String,
    /// `admin`, `staff` or `bookkeeper`.
    pub role: String,
}

impl From<&MemberRecord> for PersonOut {
    fn from(member: &MemberRecord) -> Self {
        Self {
            user: UserOut::from(&member.user),
            practice: member.practice.to_string(),
            role: member.role.as_str().into(),
        }
    }
}

/// A practice's white label.
#[derive(Debug, Clone, Object)]
pub struct BrandingOut {
    /// The name shown instead of the legal name.
    pub display_name: Option<String>,
    /// The brand colour.
    pub colour: Option<String>,
    /// The page of the practice's site that embeds the portal.
    pub portal_url: Option<String>,
}

/// A practice's plan.
#[derive(Debug, Clone, Object)]
pub struct PlanOut {
    /// Seats for admins and staff.
    pub seat_limit: u32,
    /// Base storage allowance in bytes.
    pub storage: u64,
    /// Base monthly throughput allowance in bytes.
    pub throughput: u64,
}

/// A practice.
#[derive(Debug, Clone, Object)]
pub struct PracticeOut {
    /// The practice's id.
    pub id: String,
    /// Its legal name.
    pub name: String,
    /// The name shown (display name, else legal name).
    pub shown_name: String,
    /// `pending`, `approved`, `rejected` or `suspended`.
    pub status: String,
    /// White label.
    pub branding: BrandingOut,
    /// Seats and base allowances.
    pub plan: PlanOut,
    /// When it applied.
    pub created_at: String,
}

impl From<&PracticeRecord> for PracticeOut {
    fn from(p: &PracticeRecord) -> Self {
        Self {
            id: p.id.to_string(),
            name: p.name.as_str().to_owned(),
            shown_name: p.branding.display_name.as_ref().unwrap_or(&p.name).as_str().to_owned(),
            status: p.status.as_str().to_owned(),
            branding: BrandingOut {
                display_name: p.branding.display_name.as_ref().map(|n| n.as_str().to_owned()),
                colour: p.branding.colour.as_ref().map(|c| c.as_str().to_owned()),
                portal_url: p.branding.portal_url.as_ref().map(|u| u.as_str().to_owned()),
            },
            plan: PlanOut {
                seat_limit: p.plan.seat_limit,
                storage: p.plan.storage.get(),
                throughput: p.plan.throughput.get(),
            },
            created_at: rfc3339(p.created_at),
        }
    }
}

/// A practice as listed in the directory (only what a client needs to choose).
#[derive(Debug, Clone, Object)]
pub struct DirectoryEntry {
    /// The practice's id.
    pub id: String,
    /// The name shown.
    pub name: String,
}

/// A client.
#[derive(Debug, Clone, Object)]
pub struct ClientOut {
    /// The client's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was recorded.
    pub created_at: String,
}

impl From<&ClientRecord> for ClientOut {
    fn from(c: &ClientRecord) -> Self {
        Self { id: c.id.to_string(), name: c.name.as_str().to_owned(), created_at: rfc3339(c.created_at) }
    }
}

/// A recipient of a document and when they first downloaded it.
#[derive(Debug, Clone, Object)]
pub struct DeliveryOut {
    /// The recipient's user id.
    pub user: String,
    /// Their first download, if any.
    pub first_downloaded_at: Option<String>,
}

/// A document's metadata.
#[derive(Debug, Clone, Object)]
pub struct DocumentOut {
    /// The document's id.
    id: String,
    /// The transfer (batch) it was sent in.
    batch: String,
    /// Its name, as sent (never a storage path).
    name: String,
    /// Its size in bytes.
    size: u64,
    /// The content type told from its bytes.
    content_type: String,
    /// SHA-256 of the content, in hex: compare it with your copy.
    sha256: String,
    /// The user id of who uploaded it.
    uploader: String,
    /// The client it belongs to (absent when sent over a connection).
    client: Option<String>,
    /// The connection it travelled over (absent between a practice and a client).
    connection: Option<String>,
    /// Its recipients and their first downloads.
    recipients: Vec<DeliveryOut>,
    /// When it was uploaded.
    created_at: String,
}

impl From<&DocumentRecord> for DocumentOut {
    fn from(record: &DocumentRecord) -> Self {
        let d = &record.document;
        Self {
            id: d.id.to_string(),
            batch: d.batch.to_string(),
            name: d.name.clone(),
            size: d.size.get(),
            content_type: d.content_type.clone(),
            sha256: hex::encode(d.sha256),
            uploader: d.uploader.to_string(),
            client: d.client.map(|c| c.to_string()),
            connection: d.connection.map(|c| c.to_string()),
            recipients: record
                .first_downloads
                .iter()
                .map(|(user, at)| DeliveryOut { user: user.to_string(), first_downloaded_at: at.map(rfc3339) })
                .collect(),
            created_at: rfc3339(d.created_at),
        }
    }
}

/// An invitation as sent (a person, an outside party, a client's colleague):
/// the same answer whoever has the address, so it tells nothing about them.
#[derive(Debug, Clone, Object)]
pub struct InvitedOut {
    /// The inviting practice's id (a person, an outside party).
    #[oai(skip_serializing_if_is_none)]
    pub practice: Option<String>,
    /// The client's id (a client's colleague).
    #[oai(skip_serializing_if_is_none)]
    pub client: Option<String>,
    /// The address invited.
    pub email: String,
    /// The name given.
    pub name: String,
    /// The role they get: `admin`, `staff` or `bookkeeper` in a practice, `member` of a client.
    #[oai(skip_serializing_if_is_none)]
    pub role: Option<String>,
    /// `invited`: nothing starts before they accept the mailed link.
    pub status: String,
}

impl InvitedOut {
    /// An invitation of `email` by the name `name`.
    #[must_use]
    pub fn new(email: &EmailAddress, name: &PersonName) -> Self {
        Self {
            practice: None,
            client: None,
            email: email.as_str().to_owned(),
            name: name.as_str().to_owned(),
            role: None,
            status: "invited".to_owned(),
        }
    }
}

/// Nothing to say but success.
#[derive(Debug, Clone, Object)]
pub struct Done {
    /// Always true.
    pub ok: bool,
}

impl Done {
    /// Success.
    #[must_use]
    pub const fn ok() -> Self {
        Self { ok: true }
    }
}

/// A JSON string in a request body, strictly: poem-openapi's `String`
/// accepts a number or a boolean and turns it into text, which would let a
/// mistyped field through; this refuses anything but a string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Str(pub String);

impl Str {
    /// The text.
    #[must_use]
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl From<Str> for String {
    fn from(s: Str) -> Self {
        s.0
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl poem_openapi::types::Type for Str {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(poem_openapi::registry::MetaSchema::new("string")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl poem_openapi::types::ParseFromJSON for Str {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value.unwrap_or_default() {
            serde_json::Value::String(s) => Ok(Self(s)),
            other => Err(poem_openapi::types::ParseError::expected_type(other)),
        }
    }
}

impl poem_openapi::types::ToJSON for Str {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.clone()))
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A JSON number that must be a whole number within `u32` (its range is
/// checked by the field's validator, which names the field).
///
/// # Errors
/// 400 naming `field` for a fraction.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn whole(field: &str, value: f64) -> Result<u32, Failure> {
    if value.fract() != 0.0 || !(0.0..=f64::from(u32::MAX)).contains(&value) {
        return Err(Failure::invalid(field, format!("{field} must be a whole number")));
    }
    Ok(value as u32)
}
