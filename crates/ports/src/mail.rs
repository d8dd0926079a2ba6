//! Sending mail. The use cases never call this directly: they write to the
//! outbox in their transaction, and a sender drains it through this port.

use async_trait::async_trait;

use crate::records::OutgoingMail;

/// Why a message could not be handed over.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The server or folder cannot be reached now; try again later.
    #[error("the mail transport is unavailable: {0}")]
    Unavailable(String),
    /// The message was refused and retrying will not help (such as a bad address).
    #[error("the message was refused: {0}")]
    Rejected(String),
}

/// A way to deliver one message: SMTP, or an outbox folder of `.eml` files.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait MailTransport: Send + Sync {
    /// Delivers `mail`. An adapter bounds the time this takes (a timeout
    /// that ends in [`MailError::Unavailable`]): the outbox sender leases
    /// each message only for a while, and a send still running when the
    /// lease ends could be repeated by another sender.
    ///
    /// # Errors
    /// [`MailError::Unavailable`] when delivery may succeed later (the sender
    /// retries with backoff): the server or folder cannot be reached, timed
    /// out, answered 4xx, or refused the adapter's own credentials.
    /// [`MailError::Rejected`] when it never will: the message itself was
    /// refused (a 5xx about it, a recipient that cannot be written as an address).
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
