//! Files: inbox and outbox, a document's details, deletion, and completing a
//! transfer made of resumable uploads. The bytes themselves move through the
//! streaming operations (`crate::transfer`): `POST /transfers`, `/uploads`
//! (tus) and `GET /documents/{document}/content`.

use ferry_app::App;
use ferry_domain::ids::{BatchId, DocumentId};
use ferry_ports::records::Mailbox;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::dto::{DocumentOut, Done, Page, UserOut, id, page_request};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct FilesApi {
    pub(crate) app: App,
}

/// A document with the people around it.
#[derive(Object)]
struct DocumentDetailOut {
    /// The document.
    document: DocumentOut,
    /// Who sent it.
    sender: UserOut,
    /// Who received it.
    recipients: Vec<UserOut>,
}

/// A completed transfer.
#[derive(Object)]
struct TransferOut {
    /// The transfer (batch) id.
    batch: String,
    /// Its recipients' user ids; each was told once.
    recipients: Vec<String>,
    /// Its documents.
    documents: Vec<DocumentOut>,
}

impl FilesApi {
    async fn mailbox(
        &self,
        caller: &Caller,
        mailbox: Mailbox,
        limit: Option<u32>,
        after: Option<String>,
    ) -> ApiResult<Json<Page<DocumentOut>>> {
        let request = page_request(limit, after)?;
        let found = self.app.my_documents(&caller.principal()?, mailbox, &request).await?;
        Ok(Json(Page::from_found(&found, DocumentOut::from)))
    }
}

#[OpenApi(tag = "Tag::Files")]
impl FilesApi {
    /// Files sent to me, newest first, with their download state.
    #[oai(path = "/me/inbox", method = "get", operation_id = "list_my_inbox")]
    async fn list_my_inbox(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<DocumentOut>>> {
        self.mailbox(&caller, Mailbox::Inbox, limit.0, after.0).await
    }

    /// Files I sent, newest first, with each recipient's first download.
    #[oai(path = "/me/outbox", method = "get", operation_id = "list_my_outbox")]
    async fn list_my_outbox(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<DocumentOut>>> {
        self.mailbox(&caller, Mailbox::Outbox, limit.0, after.0).await
    }

    /// A document's metadata: name, size, type, SHA-256, sender, recipients
    /// and first downloads (anyone in scope).
    #[oai(path = "/documents/:document", method = "get", operation_id = "get_document")]
    async fn get_document(&self, caller: Data<&Caller>, document: Path<String>) -> ApiResult<Json<DocumentDetailOut>> {
        let id: DocumentId = id("document", &document.0, true)?;
        let view = self.app.document(&caller.principal()?, id).await?;
        Ok(Json(DocumentDetailOut {
            document: DocumentOut::from(&view.record),
            sender: UserOut::from(&view.sender),
            recipients: view.recipients.iter().map(UserOut::from).collect(),
        }))
    }

    /// Deletes a document (its uploader, or an admin in scope); its storage is freed at once.
    #[oai(path = "/documents/:document", method = "delete", operation_id = "delete_document")]
    async fn delete_document(&self, caller: Data<&Caller>, document: Path<String>) -> ApiResult<Json<Done>> {
        let id: DocumentId = id("document", &document.0, true)?;
        self.app.delete_document(&caller.principal()?, id).await?;
        Ok(Json(Done::ok()))
    }

    /// Closes a transfer made of resumable uploads: each recipient is told
    /// once about all its files.
    #[oai(path = "/transfers/:batch/complete", method = "post", operation_id = "complete_transfer")]
    async fn complete_transfer(&self, caller: Data<&Caller>, batch: Path<String>) -> ApiResult<Json<TransferOut>> {
        let batch: BatchId = id("batch", &batch.0, true)?;
        let view = self.app.complete_transfer(&caller.principal()?, batch).await?;
        Ok(Json(TransferOut {
            batch: view.transfer.id.to_string(),
            recipients: view.transfer.recipients.iter().map(ToString::to_string).collect(),
            documents: view.documents.iter().map(DocumentOut::from).collect(),
        }))
    }
}
