//! Documents: one document's details, deletion, and the inbox and outbox
//! (each document still in the caller's scope).

use std::collections::HashMap;

use ferry_domain::access::{Action, ClientFacts, DocumentFacts, Resource};
use ferry_domain::ids::{ClientId, ConnectionId, DocumentId};
use ferry_ports::blob::BlobKey;
use ferry_ports::records::{ConnectionRecord, DocumentRecord, Mailbox, Page, PageRequest};

use super::DocumentView;
use crate::{App, AppError, Principal};

impl App {
    /// A document's details, for anyone in scope.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a document out of scope.
    pub async fn document(&self, who: &Principal, id: DocumentId) -> Result<DocumentView, AppError> {
        let mut work = self.read(who).await?;
        let record = work.document(Action::ViewDocument, id).await?;
        let sender = work.user_record(record.document.uploader).await?;
        let mut recipients = Vec::with_capacity(record.first_downloads.len());
        for (user, _) in &record.first_downloads {
            recipients.extend(work.tx.user(*user).await?);
        }
        Ok(DocumentView { record, sender, recipients })
    }

    /// Deletes a document: the uploader, or an admin in scope. Its storage
    /// is freed at once.
    ///
    /// # Errors
    /// [`AppError::NotFound`] out of scope; [`AppError::Forbidden`] for
    /// others in scope.
    pub async fn delete_document(&self, who: &Principal, id: DocumentId) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        let record = work.document(Action::DeleteDocument, id).await?;
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
