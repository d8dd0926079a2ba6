//! A client's context: its details, its documents (metadata), its email
//! log and whom its users may send files to.

use ferry_app::{App, RecipientView};
use ferry_ports::records::EmailLogRecord;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::api::Tag;
use crate::api::dto::{ClientOut, DocumentOut, Page, UserOut, client_id, page_request, rfc3339};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct ClientsApi {
    pub(crate) app: App,
}

/// An entry of a client's email log.
#[derive(Object)]
struct EmailOut {
    /// The message's id.
    id: String,
    /// The recipient.
    to: String,
    /// The subject line.
    subject: String,
    /// When it was written.
    created_at: String,
}

impl From<&EmailLogRecord> for EmailOut {
    fn from(e: &EmailLogRecord) -> Self {
        Self {
            id: e.outbox_id.to_string(),
            to: e.to.as_str().to_owned(),
            subject: e.subject.clone(),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// A practice, by name.
#[derive(Object)]
struct RecipientPractice {
    /// The practice's id.
    id: String,
    /// The name shown.
    name: String,
}

/// A practice user a client user may send files to.
#[derive(Object)]
struct RecipientOut {
    /// The user.
    user: UserOut,
    /// Their practice.
    practice: RecipientPractice,
}

impl From<&RecipientView> for RecipientOut {
    fn from(r: &RecipientView) -> Self {
        let p = &r.practice;
        Self {
            user: UserOut::from(&r.user),
            practice: RecipientPractice {
                id: p.id.to_string(),
                name: p.branding.display_name.as_ref().unwrap_or(&p.name).as_str().to_owned(),
            },
        }
    }
}

/// The recipients a client user may choose.
#[derive(Object)]
struct RecipientList {
    /// Admins and staff of engaged practices who can open the client.
    items: Vec<RecipientOut>,
}

#[OpenApi(tag = "Tag::Work")]
impl ClientsApi {
    /// A client's details (anyone who may open the client).
    #[oai(path = "/clients/:client", method = "get", operation_id = "get_client")]
    async fn get_client(&self, caller: Data<&Caller>, client: Path<String>) -> ApiResult<Json<ClientOut>> {
        let client = self.app.client(&caller.principal()?, client_id(&client.0)?).await?;
        Ok(Json(ClientOut::from(&client)))
    }

    /// A client's documents, newest first: metadata only (anyone in scope).
    #[oai(path = "/clients/:client/documents", method = "get", operation_id = "list_client_documents")]
    async fn list_client_documents(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<DocumentOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.client_documents(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, DocumentOut::from)))
    }

    /// A client's email log, newest first (practice users in scope).
    #[oai(path = "/clients/:client/emails", method = "get", operation_id = "list_client_emails")]
    async fn list_client_emails(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<EmailOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.client_emails(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, EmailOut::from)))
    }

    /// Whom you may send files to (client users): admins and staff of engaged practices who can open the client.
    #[oai(path = "/clients/:client/recipients", method = "get", operation_id = "list_recipients")]
    async fn list_recipients(&self, caller: Data<&Caller>, client: Path<String>) -> ApiResult<Json<RecipientList>> {
        let found = self.app.recipients(&caller.principal()?, client_id(&client.0)?).await?;
        Ok(Json(RecipientList { items: found.iter().map(RecipientOut::from).collect() }))
    }
}
