//! The messages Ferry sends, as plain data rendered into
//! [`OutgoingMail`]: a short subject, a plain-text body and an HTML body.
//!
//! Each message is a struct with public fields holding what it needs to say;
//! [`Template::render`] turns it into mail under a practice's
//! [`Letterhead`] (its shown name and colour; links into its portal page when
//! it has one). Rendering is pure: the app layer calls it in the transaction
//! that queues the message.
//!
//! Rules every template keeps:
//! - every user-provided string (names, file names) is escaped in HTML, and
//!   flattened to one line where it appears in a subject;
//! - no password and no file content, ever: a message carries names, sizes
//!   and a link, and a secret token only inside that link;
//! - one message, one recipient, one link to act on.
//!
//! ```
//! use ferry_domain::ids::PracticeId;
//! use ferry_domain::practice::Branding;
//! use ferry_domain::values::{EmailAddress, OrganisationName, PersonName};
//! use ferry_mail::templates::{BaseUrl, Letterhead, LinkToken, PasswordReason, SetPassword, Template};
//! use time::macros::datetime;
//! use uuid::Uuid;
//!
//! let base = BaseUrl::parse("https://ferry.example.com").unwrap();
//! let letterhead = Letterhead::for_practice(
//!     PracticeId::from_uuid(Uuid::nil()),
//!     &OrganisationName::parse("Acme Books").unwrap(),
//!     &Branding::default(),
//!     &base,
//! );
//! let mail = SetPassword {
//!     to: EmailAddress::parse("ada@example.com").unwrap(),
//!     name: PersonName::parse("Ada Lovelace").unwrap(),
//!     reason: PasswordReason::NewEmployee,
//!     token: LinkToken::new("s3cr3t"),
//!     expires_at: datetime!(2026-05-12 14:05 UTC),
//! }
//! .render(&letterhead);
//! assert_eq!(mail.subject, "Set your password for Acme Books");
//! assert!(mail.text.contains("https://ferry.example.com/password/set?token=s3cr3t"));
//! ```

mod layout;
mod letterhead;

use std::fmt;

use ferry_domain::ids::{BatchId, ClientId};
use ferry_domain::quota::{AllowanceKind, Bytes, UsageMonth};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName};
use ferry_ports::records::OutgoingMail;
use time::{Date, OffsetDateTime};

use self::layout::{Doc, Palette, b, clip, count, day, t, when};
pub use self::letterhead::{BaseUrl, BaseUrlError, Letterhead, pages};

/// How many characters of a user-provided text a subject may carry.
const SUBJECT_PART: usize = 60;

/// A message that can be rendered into mail.
pub trait Template {
    /// The message under `letterhead`, ready to queue.
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail;
}

/// A secret token for a single-use link (an invitation, a set-password
/// link). It appears in the rendered message only inside its link, and its
/// `Debug` output hides it so that logging a template never leaks it.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl LinkToken {
    /// Wraps a raw token, as minted by the app (its hash is what is stored).
    #[must_use]
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }
}

impl fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkToken(<redacted>)")
    }
}

/// Which side of an engagement a message is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// A user of the practice.
    Practice,
    /// A user of the client.
    Client,
}

/// Who is being invited to share files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitationKind {
    /// A client of the practice: accepting starts an engagement (a "file
    /// sharing request").
    Client {
        /// The client, when it is already recorded (its email log then shows the invitation).
        client: Option<ClientId>,
        /// The client's name, as the practice entered it.
        client_name: OrganisationName,
    },
    /// An outside party, such as the client's accountant: accepting starts a
    /// file-sharing connection.
    OutsideParty,
    /// A colleague invited by a client's owner: accepting makes them a
    /// member of the client (sent under the installation's letterhead).
    ClientMember {
        /// The client's name.
        client_name: OrganisationName,
    },
}

/// A practice invites someone to share files with it, or a client's owner
/// a colleague to join the client. The link accepts the invitation
/// (creating a login if the invitee has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// The invitee.
    pub to: EmailAddress,
    /// The practice user (or the client's owner) who sent it.
    pub inviter: PersonName,
    /// A client, an outside party or a client's colleague.
    pub kind: InvitationKind,
    /// The invitation's single-use token.
    pub token: LinkToken,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

impl Template for Invitation {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let practice = letterhead.name().as_str();
        let link = letterhead.link(pages::ACCEPT_INVITATION, &[("token", &self.token.0)]);
        let mut doc = Doc::default();
        doc.para(&[t("Hello,")]);
        let client = match &self.kind {
            InvitationKind::Client { client, client_name } => {
                doc.para(&[
                    b(self.inviter.as_str()),
                    t(" of "),
                    b(practice),
                    t(" invites "),
                    b(client_name.as_str()),
                    t(" to exchange files securely through Ferry, instead of by email attachment."),
                ]);
                doc.para(&[
                    t("When you accept, "),
                    t(practice),
                    t(" can send you finished work and you can send it your documents. You can end the \
                       arrangement at any time."),
                ]);
                *client
            }
            InvitationKind::OutsideParty => {
                doc.para(&[
                    b(self.inviter.as_str()),
                    t(" of "),
                    b(practice),
                    t(" invites you to exchange files securely through Ferry, instead of by email attachment."),
                ]);
                doc.para(&[t("Files move only while you are both connected; either of you can end it at any time.")]);
                None
            }
            InvitationKind::ClientMember { client_name } => {
                doc.para(&[
                    b(self.inviter.as_str()),
                    t(" invites you to join "),
                    b(client_name.as_str()),
                    t(" on Ferry, to exchange files with its accountants securely."),
                ]);
                doc.para(&[t("Nothing changes unless you accept; once you have joined, you can leave at any time.")]);
                None
            }
        };
        doc.action("Accept the invitation", &link, &palette(letterhead));
        let expiry = when(self.expires_at);
        doc.note(&[
            t("The link works once and expires on "),
            t(&expiry),
            t(". If you did not expect this invitation, ignore this message."),
        ]);
        let subject = match &self.kind {
            InvitationKind::ClientMember { client_name } => format!(
                "{} invites you to join {}",
                clip(self.inviter.as_str(), SUBJECT_PART),
                clip(client_name.as_str(), SUBJECT_PART)
            ),
            _ => format!("{} invites you to share files", clip(practice, SUBJECT_PART)),
        };
        finish(letterhead, &self.to, subject, doc, client)
    }
}

/// What an invitation that could not be sent would have made the invitee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvitedAs {
    /// A person of the practice (admin, staff or bookkeeper).
    Employee,
    /// The contact person of a client.
    Client {
        /// The client's name, as the practice entered it.
        client_name: OrganisationName,
    },
    /// An outside party sharing files with the practice.
    OutsideParty,
}

/// A practice invited an address that already belongs to a Ferry account
/// which cannot be used that way. The inviter is answered as for any
/// address; the owner of the address learns it here, and no link is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressInUse {
    /// The address invited.
    pub to: EmailAddress,
    /// The practice user who tried.
    pub inviter: PersonName,
    /// What the invitation was for.
    pub invited_as: InvitedAs,
}

impl Template for AddressInUse {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let practice = letterhead.name().as_str();
        let mut doc = Doc::default();
        doc.para(&[t("Hello,")]);
        let mut what = vec![b(self.inviter.as_str()), t(" of "), b(practice), t(" tried to invite this address ")];
        match &self.invited_as {
            InvitedAs::Employee => what.push(t("to its team on Ferry")),
            InvitedAs::Client { client_name } => {
                what.extend([t("as the contact of "), b(client_name.as_str()), t(" on Ferry")]);
            }
            InvitedAs::OutsideParty => what.push(t("to share files with it on Ferry")),
        }
        what.push(t(", but the address already belongs to a Ferry account that cannot be used for that."));
        doc.para(&what);
        doc.para(&[t("If the invitation was meant for you, ask them to invite another address of yours.")]);
        doc.note(&[t("Nothing was changed in your account. If you did not expect this message, ignore it.")]);
        let subject = format!("{} tried to invite you", clip(practice, SUBJECT_PART));
        finish(letterhead, &self.to, subject, doc, None)
    }
}

/// Why a set-password link is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PasswordReason {
    /// An admin invited a new employee, who chooses their first password.
    NewEmployee,
    /// A password was reset (by the user's admin or the operator).
    Reset,
}

/// A single-use, expiring link to set one's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPassword {
    /// The user.
    pub to: EmailAddress,
    /// The user's name.
    pub name: PersonName,
    /// First password or reset.
    pub reason: PasswordReason,
    /// The link's single-use token.
    pub token: LinkToken,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

impl Template for SetPassword {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let practice = letterhead.name().as_str();
        let link = letterhead.link(pages::SET_PASSWORD, &[("token", &self.token.0)]);
        let mut doc = Doc::default();
        doc.greeting(Some(&self.name));
        let (subject, label) = match self.reason {
            PasswordReason::NewEmployee => {
                doc.para(&[
                    b(practice),
                    t(" has given you an account on Ferry, where it exchanges files with its clients. \
                       Choose your password to sign in."),
                ]);
                (format!("Set your password for {}", clip(practice, SUBJECT_PART)), "Set your password")
            }
            PasswordReason::Reset => {
                doc.para(&[
                    t("Your password for "),
                    b(practice),
                    t(" on Ferry was reset. Choose a new one to sign in again."),
                ]);
                (format!("Choose a new password for {}", clip(practice, SUBJECT_PART)), "Choose a new password")
            }
        };
        doc.action(label, &link, &palette(letterhead));
        let expiry = when(self.expires_at);
        doc.note(&[
            t("The link works once and expires on "),
            t(&expiry),
            t(". Ferry never sends passwords by email. If you did not expect this message, ignore it."),
        ]);
        finish(letterhead, &self.to, subject, doc, None)
    }
}

/// A file in a batch, as named in a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFile {
    /// The name shown (as uploaded).
    pub name: String,
    /// Its size.
    pub size: Bytes,
}

/// One notification per recipient per batch of uploaded files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadNotification {
    /// The recipient.
    pub to: EmailAddress,
    /// The recipient's name, for the greeting.
    pub recipient_name: Option<PersonName>,
    /// Who sent the files.
    pub sender: PersonName,
    /// The client the files belong to (`None` over a connection with an outside party).
    pub client: Option<ClientId>,
    /// That client's name.
    pub client_name: Option<OrganisationName>,
    /// The batch, so the link can open it.
    pub batch: BatchId,
    /// Every file of the batch, in the order sent.
    pub files: Vec<SharedFile>,
}

impl Template for UploadNotification {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let batch = self.batch.to_string();
        let link = letterhead.link(pages::INBOX, &[("batch", &batch)]);
        let files = count(self.files.len(), "file", "files");
        let mut doc = Doc::default();
        doc.greeting(self.recipient_name.as_ref());
        let mut intro = vec![b(self.sender.as_str()), t(" sent you "), t(&files)];
        if let Some(client) = &self.client_name {
            intro.extend([t(" for "), b(client.as_str())]);
        }
        intro.push(t(":"));
        doc.para(&intro);
        let names: Vec<String> = self.files.iter().map(|f| format!("{} ({})", f.name, f.size)).collect();
        doc.list(&names);
        doc.action("Open your files", &link, &palette(letterhead));
        doc.note(&[t("For your security the files are not attached: sign in to download them.")]);
        let sender = clip(self.sender.as_str(), SUBJECT_PART);
        let subject = match self.files.as_slice() {
            [only] => format!("{sender} sent you “{}”", clip(&only.name, SUBJECT_PART)),
            _ => format!("{sender} sent you {files}"),
        };
        finish(letterhead, &self.to, subject, doc, self.client)
    }
}

/// Tells a practice user that a recipient downloaded a file they sent, the
/// first time it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReceipt {
    /// The sender of the file.
    pub to: EmailAddress,
    /// The sender's name, for the greeting.
    pub sender_name: Option<PersonName>,
    /// Who downloaded it.
    pub downloaded_by: PersonName,
    /// The file's name.
    pub file_name: String,
    /// The client the file belongs to (`None` over a connection).
    pub client: Option<ClientId>,
    /// That client's name.
    pub client_name: Option<OrganisationName>,
    /// When it was first downloaded.
    pub downloaded_at: OffsetDateTime,
}

impl Template for DownloadReceipt {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let link = letterhead.link(pages::SENT, &[]);
        let at = when(self.downloaded_at);
        let mut doc = Doc::default();
        doc.greeting(self.sender_name.as_ref());
        let mut line = vec![b(self.downloaded_by.as_str()), t(" downloaded "), b(&self.file_name)];
        if let Some(client) = &self.client_name {
            line.extend([t(" ("), t(client.as_str()), t(")")]);
        }
        line.extend([t(" on "), t(&at), t(".")]);
        doc.para(&line);
        doc.action("See what you sent", &link, &palette(letterhead));
        let subject = format!(
            "{} downloaded “{}”",
            clip(self.downloaded_by.as_str(), SUBJECT_PART),
            clip(&self.file_name, SUBJECT_PART)
        );
        finish(letterhead, &self.to, subject, doc, self.client)
    }
}

/// Tells a practice's admins that an allowance is at least 80% used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaWarning {
    /// An admin of the practice.
    pub to: EmailAddress,
    /// The admin's name, for the greeting.
    pub recipient_name: Option<PersonName>,
    /// Which allowance.
    pub allowance: AllowanceKind,
    /// How much of it is used (for throughput, in `month`).
    pub used: Bytes,
    /// The whole allowance, add-ons included.
    pub limit: Bytes,
    /// The month counted, for throughput.
    pub month: Option<UsageMonth>,
}

impl QuotaWarning {
    /// Used as a whole percentage of the limit, rounded down.
    fn percent(&self) -> u64 {
        let limit = self.limit.get();
        if limit == 0 {
            100
        } else {
            u64::try_from(u128::from(self.used.get()) * 100 / u128::from(limit)).unwrap_or(u64::MAX)
        }
    }
}

impl Template for QuotaWarning {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let practice = letterhead.name().as_str();
        let link = letterhead.link(pages::USAGE, &[]);
        let percent = format!("{}%", self.percent());
        let amounts = format!("{} of {}", self.used, self.limit);
        let mut doc = Doc::default();
        doc.greeting(self.recipient_name.as_ref());
        match self.allowance {
            AllowanceKind::Storage => {
                doc.para(&[
                    b(practice),
                    t(" has used "),
                    b(&percent),
                    t(" of its storage allowance: "),
                    t(&amounts),
                    t(" held at once."),
                ]);
                doc.para(&[t(
                    "When it is full, uploads are refused until files are deleted or the allowance is raised.",
                )]);
            }
            AllowanceKind::Throughput => {
                let month = self.month.map(|m| format!(" for {} {}", m.month, m.year)).unwrap_or_default();
                doc.para(&[
                    b(practice),
                    t(" has used "),
                    b(&percent),
                    t(" of its monthly transfer allowance"),
                    t(&month),
                    t(": "),
                    t(&amounts),
                    t(" uploaded and downloaded."),
                ]);
                doc.para(&[t(
                    "When it is used up, uploads and downloads are refused until the next month (UTC) or until \
                     the allowance is raised.",
                )]);
            }
        }
        doc.action("See your usage", &link, &palette(letterhead));
        let kind = match self.allowance {
            AllowanceKind::Storage => "storage",
            AllowanceKind::Throughput => "monthly transfer",
        };
        let subject = format!("{} has used {percent} of its {kind} allowance", clip(practice, SUBJECT_PART));
        finish(letterhead, &self.to, subject, doc, None)
    }
}

/// Tells one side that an engagement was accepted: the practice may now
/// serve the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGranted {
    /// The recipient.
    pub to: EmailAddress,
    /// The recipient's name, for the greeting.
    pub recipient_name: Option<PersonName>,
    /// Which side the recipient is on.
    pub audience: Audience,
    /// The client.
    pub client: ClientId,
    /// The client's name.
    pub client_name: OrganisationName,
    /// Who accepted.
    pub accepted_by: PersonName,
}

impl Template for AccessGranted {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let practice = letterhead.name().as_str();
        let client = self.client_name.as_str();
        let link = letterhead.link(pages::CLIENTS, &[]);
        let mut doc = Doc::default();
        doc.greeting(self.recipient_name.as_ref());
        doc.para(&[
            b(self.accepted_by.as_str()),
            t(" accepted the engagement between "),
            b(client),
            t(" and "),
            b(practice),
            t("."),
        ]);
        let subject = match self.audience {
            Audience::Practice => {
                doc.para(&[t("You can now exchange files with "), t(client), t(".")]);
                format!("{} is now connected to {}", clip(client, SUBJECT_PART), clip(practice, SUBJECT_PART))
            }
            Audience::Client => {
                doc.para(&[
                    t(practice),
                    t(" can now exchange files with "),
                    t(client),
                    t(". You can end its access at any time."),
                ]);
                format!("{} now has access to {}", clip(practice, SUBJECT_PART), clip(client, SUBJECT_PART))
            }
        };
        doc.action("Open Ferry", &link, &palette(letterhead));
        finish(letterhead, &self.to, subject, doc, Some(self.client))
    }
}

/// Tells one side that an engagement ended: the practice lost every kind of
/// access to the client at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRevoked {
    /// The recipient.
    pub to: EmailAddress,
    /// The recipient's name, for the greeting.
    pub recipient_name: Option<PersonName>,
    /// Which side the recipient is on.
    pub audience: Audience,
    /// The client.
    pub client: ClientId,
    /// The client's name.
    pub client_name: OrganisationName,
    /// Who ended it.
    pub ended_by: PersonName,
    /// Until when the client keeps the files exchanged over the engagement
    /// (after that they are deleted).
    pub files_kept_until: Date,
}

impl Template for AccessRevoked {
    fn render(&self, letterhead: &Letterhead) -> OutgoingMail {
        let practice = letterhead.name().as_str();
        let client = self.client_name.as_str();
        let until = day(self.files_kept_until);
        let link = letterhead.link(pages::CLIENTS, &[]);
        let mut doc = Doc::default();
        doc.greeting(self.recipient_name.as_ref());
        doc.para(&[
            b(self.ended_by.as_str()),
            t(" ended the engagement between "),
            b(client),
            t(" and "),
            b(practice),
            t("."),
        ]);
        let subject = match self.audience {
            Audience::Practice => {
                doc.para(&[
                    t("You can no longer open "),
                    t(client),
                    t(" or its files. "),
                    t(client),
                    t(" keeps the files you exchanged until "),
                    t(&until),
                    t("; then they are deleted."),
                ]);
                format!("Your access to {} has ended", clip(client, SUBJECT_PART))
            }
            Audience::Client => {
                doc.para(&[
                    t(practice),
                    t(" can no longer see "),
                    t(client),
                    t(" or its files. The files you exchanged stay available to you until "),
                    b(&until),
                    t("; then they are deleted, so download what you want to keep."),
                ]);
                format!("{} no longer has access to {}", clip(practice, SUBJECT_PART), clip(client, SUBJECT_PART))
            }
        };
        doc.action("Open Ferry", &link, &palette(letterhead));
        finish(letterhead, &self.to, subject, doc, Some(self.client))
    }
}

fn palette(letterhead: &Letterhead) -> Palette {
    Palette::new(letterhead.colour().map(ferry_domain::values::Colour::as_str))
}

/// Wraps a written message in the letterhead's layout.
fn finish(
    letterhead: &Letterhead,
    to: &EmailAddress,
    subject: String,
    doc: Doc,
    client: Option<ClientId>,
) -> OutgoingMail {
    let sender = letterhead.name().as_str();
    let footer =
        format!("Sent by {sender} through Ferry. Ferry never sends files or passwords by email: sign in to see them.");
    let (text, html) = doc.finish(&subject, sender, &footer, &palette(letterhead));
    OutgoingMail { to: to.clone(), subject, text, html, practice: letterhead.practice(), client }
}

#[cfg(test)]
mod tests;
