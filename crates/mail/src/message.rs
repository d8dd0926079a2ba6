//! Turning an [`OutgoingMail`] into an RFC 5322 message, shared by every
//! transport so that a `.eml` file and an SMTP delivery carry the same bytes.

use std::fmt;
use std::str::FromStr;

use ferry_ports::mail::MailError;
use ferry_ports::records::OutgoingMail;
use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use uuid::Uuid;

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The sender address does not parse.
    #[error("the sender address is not valid: {0}")]
    From(String),
    /// The SMTP URL does not parse or names something unsupported.
    #[error("the SMTP URL is not valid: {0}")]
    SmtpUrl(String),
    /// The SMTP transport was made outside a Tokio runtime.
    #[error("the SMTP transport must be created inside a Tokio runtime")]
    Runtime,
    /// The outbox sender's settings contradict each other.
    #[error("the outbox sender cannot work: {0}")]
    Sender(String),
    /// The outbox folder cannot be created or written.
    #[error("the outbox folder {path} cannot be used: {reason}")]
    Folder {
        /// The folder.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
}

/// The address every message is sent from, such as
/// `Ferry <ferry@example.com>` (the installation's, not a practice's: mail
/// from a practice's own domain would fail its SPF and DKIM checks).
#[derive(Clone, PartialEq, Eq)]
pub struct FromAddress(Mailbox);

impl FromAddress {
    /// Parses `Name <address>` or a bare address.
    ///
    /// # Errors
    /// [`ConfigError::From`] when it is not a valid mailbox.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        Mailbox::from_str(raw.trim()).map(Self).map_err(|e| ConfigError::From(format!("`{raw}`: {e}")))
    }

    /// The domain part, used for Message-IDs.
    fn domain(&self) -> &str {
        self.0.email.domain()
    }
}

impl fmt::Debug for FromAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FromAddress({})", self.0)
    }
}

impl fmt::Display for FromAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): tells mail servers and
/// out-of-office responders that no person wrote this, so they do not reply.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// A message ready to hand over, with the id that names it.
#[derive(Debug)]
pub(crate) struct Built {
    /// A new id, also the Message-ID's local part (and the `.eml` file name).
    pub(crate) id: Uuid,
    /// The message.
    pub(crate) message: Message,
}

/// Builds the message for `mail`.
///
/// # Errors
/// [`MailError::Rejected`] when the recipient cannot be written as an
/// address (the domain's rules are looser than RFC 5322's in places), since
/// no retry can help.
pub(crate) fn build(from: &FromAddress, mail: &OutgoingMail) -> Result<Built, MailError> {
    let to = mail.to.as_str().parse::<Mailbox>().map_err(|e| MailError::Rejected(format!("bad recipient: {e}")))?;
    let id = Uuid::now_v7();
    let message = Message::builder()
        .from(from.0.clone())
        .to(to)
        // INVARIANT: a header is one line. Templates already flatten their
        // subjects; this keeps any other caller from injecting headers.
        .subject(mail.subject.replace(|c: char| c.is_control(), " "))
        .message_id(Some(format!("<{}@{}>", id.simple(), from.domain())))
        .header(AutoSubmitted)
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| MailError::Rejected(format!("the message cannot be built: {e}")))?;
    Ok(Built { id, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_addresses_parse_with_or_without_a_name() {
        assert_eq!(FromAddress::parse("Ferry <ferry@example.com>").unwrap().to_string(), "Ferry <ferry@example.com>");
        assert_eq!(FromAddress::parse(" ferry@example.com ").unwrap().domain(), "example.com");
        assert!(matches!(FromAddress::parse("not an address"), Err(ConfigError::From(_))));
    }
}
