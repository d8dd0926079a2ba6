//! A client's context, for anyone who may open it: its details, its
//! documents, its email log, and whom its users may send files to.

use ferry_domain::access::{Action, can_open_client};
use ferry_domain::ids::ClientId;
use ferry_domain::people::Role;
use ferry_ports::records::{ClientRecord, DocumentRecord, EmailLogRecord, Page, PageRequest};

use crate::views::RecipientView;
use crate::{App, AppError, Principal};

impl App {
    /// A client's details, for anyone who may open it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of the caller's scope.
    pub async fn client(&self, who: &Principal, client: ClientId) -> Result<ClientRecord, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ViewClient, client).await?;
        work.tx.client(client).await?.ok_or(AppError::not_found("client"))
    }

    /// A client's documents, newest first (metadata only). Practice users see
    /// their own practice's documents of the client; client users all of their client's.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of scope.
    pub async fn client_documents(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListDocuments, client).await?;
        let found = work.tx.list_documents_of_client(client, page).await?;
        let practice = work.practice_user().map(|p| p.practice);
        Ok(Page {
            items: found.items.into_iter().filter(|d| practice.is_none_or(|p| d.document.practice == p)).collect(),
            next: found.next,
        })
    }

    /// A client's email log, newest first.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of scope (and for client users).
    pub async fn client_emails(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<EmailLogRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ViewEmailLog, client).await?;
        let found = work.tx.email_log(client, page).await?;
        // A client may be engaged with several practices: each sees only its own mail.
        // (Filtering after the page keeps the cursor right; a page may come back short.)
        let own = work.practice_user().map(|p| p.practice);
        Ok(Page {
            items: found.items.into_iter().filter(|e| own.is_some() && e.practice == own).collect(),
            next: found.next,
        })
    }

    /// For a client user: the practice users they may send files to — the
    /// active admins and staff of every practice actively engaged with the
    /// client who can open it (admins always, staff when assigned the client
    /// or holding a task on its active filings).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for anyone but the client's users.
    pub async fn recipients(&self, who: &Principal, client: ClientId) -> Result<Vec<RecipientView>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListRecipients, client).await?;
        let all = PageRequest::MAX_LIMIT;
        let mut engagements = Vec::new();
        let mut page = PageRequest::first(all);
        loop {
            let found = work.tx.list_engagements_of_client(client, &page).await?;
            engagements.extend(found.items.into_iter().filter(|e| e.state.is_active()));
            match found.next {
                Some(next) => page = PageRequest::after(all, next),
                None => break,
            }
        }
        let mut recipients = Vec::new();
        for engagement in engagements {
            let Some(practice) = work.tx.practice(engagement.practice).await? else { continue };
            if !practice.status.is_approved() {
                continue;
            }
            let mut page = PageRequest::first(all);
            loop {
                let found = work.tx.list_members(practice.id, &[Role::Admin, Role::Staff], &page).await?;
                for member in found.items.into_iter().filter(|m| m.user.active) {
                    let Some(actor) = work.tx.actor(member.user.id).await? else { continue };
                    let facts = work.tx.client_facts(member.user.id, client).await?;
                    if can_open_client(&actor, &facts) {
                        recipients.push(RecipientView {
                            user: member.user,
                            role: member.role,
                            practice: practice.clone(),
                        });
                    }
                }
                match found.next {
                    Some(next) => page = PageRequest::after(all, next),
                    None => break,
                }
            }
        }
        Ok(recipients)
    }
}
