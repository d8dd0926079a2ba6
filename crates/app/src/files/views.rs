//! What file exchange answers: transfers, documents and uploads as their
//! senders and recipients see them.

use ferry_ports::records::{DocumentRecord, TransferRecord, UploadRecord, UserRecord};

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

/// The state of a resumable upload, as the tus protocol reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadView {
    /// The upload.
    pub record: UploadRecord,
    /// The document it became, once the last byte arrived.
    pub document: Option<DocumentRecord>,
}
