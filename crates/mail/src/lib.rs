//! Ferry's mail: what the messages say, how they leave, and the sender that
//! makes sure none is lost.
//!
//! - [`templates`]: one plain data struct per message the product sends
//!   (invitation, set-your-password link, upload notification, download
//!   receipt, quota warning, access granted and revoked), each rendered into
//!   an [`OutgoingMail`](ferry_ports::records::OutgoingMail) with a plain-text
//!   and an HTML body, branded by a [`templates::Letterhead`]. Rendering is
//!   pure and needs no I/O, so the app layer calls it inside the transaction
//!   that writes the message to the outbox.
//! - [`SmtpTransport`] and [`OutboxFolder`] (feature `transport`, on by
//!   default): the two [`MailTransport`](ferry_ports::mail::MailTransport)
//!   adapters. The folder of `.eml` files is the default, so a first run needs
//!   no mail server; `FERRY_SMTP_URL` selects SMTP ([`SmtpConfig::parse`]).
//! - [`OutboxSender`] (feature `transport`): drains the database outbox
//!   through a transport, with leases, retries with backoff, and a final
//!   "failed" after the last try.
//!
//! No `lettre` type crosses the public API: transports take and return port
//! types, and configuration is plain text parsed here.

pub mod templates;

#[cfg(feature = "transport")]
mod folder;
#[cfg(feature = "transport")]
mod message;
#[cfg(feature = "transport")]
mod sender;
#[cfg(feature = "transport")]
mod smtp;

#[cfg(feature = "transport")]
pub use folder::OutboxFolder;
#[cfg(feature = "transport")]
pub use message::{ConfigError, FromAddress};
#[cfg(feature = "transport")]
pub use sender::{DrainReport, OutboxSender, SenderConfig};
#[cfg(feature = "transport")]
pub use smtp::{SmtpConfig, SmtpTransport, TlsMode};
