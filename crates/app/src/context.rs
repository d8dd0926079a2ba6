//! The frame every use case runs in: a transaction, the actor loaded fresh
//! in it, and the scope checks (layer 2) on the objects acted on. Every
//! object a use case acts on is loaded here, by the one loader of its kind,
//! which asks the domain before it answers: out of scope is not found.

use ferry_domain::access::{Action, ClientFacts, DocumentFacts, Resource, Rule, TaskFacts, decide};
use ferry_domain::consent::files_kept;
use ferry_domain::ids::{BatchId, ClientId, ConnectionId, DocumentId, FilingId, PracticeId, TaskId, UserId};
use ferry_domain::people::{Actor, PracticeUser};
use ferry_mail::templates::{Letterhead, Template};
use ferry_ports::Tx;
use ferry_ports::records::{
    AuditEntry, ConnectionRecord, DocumentRecord, FilingRecord, NewDocument, OutgoingMail, PracticeRecord, TaskRecord,
    TransferRecord, UploadId, UploadRecord, UserRecord,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{App, AppError, Principal};

/// One use case in progress.
pub(crate) struct Work {
    pub(crate) tx: Box<dyn Tx>,
    pub(crate) actor: Actor,
    pub(crate) now: OffsetDateTime,
    app: App,
}

impl App {
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    pub(crate) fn new_id(&self) -> Uuid {
        self.inner.ids.new_id()
    }

    /// Starts a use case that may write.
    pub(crate) async fn write(&self, who: &Principal) -> Result<Work, AppError> {
        let tx = self.inner.store.begin().await?;
        self.frame(tx, who).await
    }

    /// Starts a use case that only reads.
    pub(crate) async fn read(&self, who: &Principal) -> Result<Work, AppError> {
        let tx = self.inner.store.read().await?;
        self.frame(tx, who).await
    }

    async fn frame(&self, mut tx: Box<dyn Tx>, who: &Principal) -> Result<Work, AppError> {
        let actor = match who {
            Principal::Operator => Actor::Operator,
            Principal::User { user, .. } => tx.actor(*user).await?.ok_or(AppError::Unauthenticated)?,
        };
        Ok(Work { tx, actor, now: self.now(), app: self.clone() })
    }

    /// The letterhead of `practice` for mail.
    pub(crate) fn letterhead(&self, practice: &PracticeRecord) -> Letterhead {
        Letterhead::from_record(practice, &self.inner.config.base_url)
    }

    /// The installation's letterhead, for mail that belongs to no practice.
    pub(crate) fn installation_letterhead(&self) -> Letterhead {
        Letterhead::installation(self.inner.config.installation_name.clone(), &self.inner.config.base_url)
    }
}

/// The name of what a scope check looked for, for "not found" answers.
const fn what(action: Action) -> &'static str {
    use ferry_domain::access::Scope;
    match action.scope() {
        Scope::Installation => "installation",
        Scope::Account => "account",
        Scope::Practice => "practice",
        Scope::Engagement => "engagement",
        Scope::Connection => "connection",
        Scope::Client => "client",
        Scope::Task => "task",
        Scope::Document => "document",
    }
}

impl Work {
    /// The acting user (the operator has none).
    pub(crate) fn user(&self) -> Result<UserId, AppError> {
        self.actor.user().ok_or(AppError::not_found("account"))
    }

    /// The acting practice user, if the actor is one.
    pub(crate) fn practice_user(&self) -> Option<PracticeUser> {
        match self.actor {
            Actor::Practice(p) => Some(p),
            _ => None,
        }
    }

    /// Asks the domain; a refusal becomes the error to answer.
    pub(crate) fn allow(&self, action: Action, resource: Resource<'_>) -> Result<Rule, AppError> {
        decide(&self.actor, action, resource).into_result().map_err(|denied| AppError::denied(what(action), denied))
    }

    /// An action on the actor's own account.
    pub(crate) fn account(&self, action: Action) -> Result<UserId, AppError> {
        self.allow(action, Resource::Account)?;
        self.user()
    }

    /// An action on the installation (the operator's work).
    pub(crate) fn installation(&self, action: Action) -> Result<(), AppError> {
        self.allow(action, Resource::Installation).map(|_| ())
    }

    /// An action on a practice; returns it.
    pub(crate) async fn practice(&mut self, action: Action, id: PracticeId) -> Result<PracticeRecord, AppError> {
        self.allow(action, Resource::Practice(id))?;
        self.practice_record(id).await
    }

    /// The record of a practice already decided on (the actor's own, or
    /// the practice of an object in scope).
    pub(crate) async fn practice_record(&mut self, id: PracticeId) -> Result<PracticeRecord, AppError> {
        self.tx.practice(id).await?.ok_or(AppError::not_found("practice"))
    }

    /// The record of a user already decided on (the actor, or someone
    /// around an object in scope).
    pub(crate) async fn user_record(&mut self, id: UserId) -> Result<UserRecord, AppError> {
        self.tx.user(id).await?.ok_or(AppError::not_found("user"))
    }

    /// An action on a connection; returns it.
    pub(crate) async fn connection(&mut self, action: Action, id: ConnectionId) -> Result<ConnectionRecord, AppError> {
        let connection = self.tx.connection(id).await?.ok_or(AppError::not_found("connection"))?;
        self.allow(action, Resource::Connection(&connection.facts()))?;
        Ok(connection)
    }

    /// An action on a live document; anything out of scope is not found.
    pub(crate) async fn document(&mut self, action: Action, id: DocumentId) -> Result<DocumentRecord, AppError> {
        let not_found = || AppError::not_found("document");
        let record = self.tx.document(id).await?.ok_or_else(not_found)?;
        let user = self.user().map_err(|_| not_found())?;
        let document = &record.document;
        match (document.client, document.connection) {
            (Some(client), _) => {
                if self.practice_user().is_some_and(|p| p.practice != document.practice) {
                    return Err(not_found());
                }
                let facts = self.tx.client_facts(user, client).await?;
                let resource = Resource::Document(&facts, &DocumentFacts { uploader: document.uploader });
                self.allow(action, resource).map_err(|e| rename(e, "document"))?;
            }
            (None, Some(connection)) => {
                let connection = self.tx.connection(connection).await?.ok_or_else(not_found)?;
                let (admin, party) = self.connection_document_access(&connection, document, user);
                if !(party || admin) {
                    return Err(not_found());
                }
                if action == Action::DeleteDocument && !(admin || document.uploader == user) {
                    return Err(AppError::Forbidden { rule: Rule::OnlyUploaderOrAdmin });
                }
            }
            (None, None) => return Err(not_found()),
        }
        Ok(record)
    }

    /// Who may reach a document sent over a connection: the practice's
    /// admins always (`.0`), and its sender and recipients while the
    /// connection is active (`.1`) — never anyone else, whatever their role.
    /// When it ends, the outside party keeps the files it sent or received
    /// for 30 days (PRODUCT.md "Retention"), as a client's users keep an
    /// ended engagement's.
    pub(crate) fn connection_document_access(
        &self,
        connection: &ConnectionRecord,
        document: &NewDocument,
        user: UserId,
    ) -> (bool, bool) {
        let facts = connection.facts();
        let resource = Resource::Connection(&facts);
        let admin = self.practice_user().is_some_and(|p| p.practice == connection.practice)
            && self.allow(Action::ViewConnection, resource).is_ok();
        let involved = document.uploader == user || document.recipients.contains(&user);
        let carries = self.allow(Action::SendOverConnection, resource).is_ok();
        let kept = connection.outside_party == user
            && self.allow(Action::ViewConnection, resource).is_ok()
            && files_kept(connection.state, connection.changed_at, self.now);
        (admin, involved && (carries || kept))
    }

    /// A transfer the actor sent; anyone else's is not found.
    pub(crate) async fn own_transfer(&mut self, batch: BatchId) -> Result<TransferRecord, AppError> {
        let user = self.user()?;
        match self.tx.transfer(batch).await? {
            Some(transfer) if transfer.sender == user => Ok(transfer),
            _ => Err(AppError::not_found("transfer")),
        }
    }

    /// An unexpired resumable upload of the actor's; anything else is not found.
    pub(crate) async fn own_upload(&mut self, id: UploadId) -> Result<UploadRecord, AppError> {
        let user = self.user()?;
        match self.tx.upload(id).await? {
            Some(upload) if upload.upload.uploader == user && upload.upload.expires_at > self.now => Ok(upload),
            _ => Err(AppError::not_found("upload")),
        }
    }

    /// An action on a client; returns the facts it was decided on.
    pub(crate) async fn client(&mut self, action: Action, client: ClientId) -> Result<ClientFacts, AppError> {
        let facts = match self.actor.user() {
            Some(user) => self.tx.client_facts(user, client).await?,
            None => ClientFacts::unrelated(client),
        };
        self.allow(action, Resource::Client(&facts))?;
        Ok(facts)
    }

    /// An action on a filing (decided on its client); returns both.
    pub(crate) async fn filing(
        &mut self,
        action: Action,
        id: FilingId,
    ) -> Result<(FilingRecord, ClientFacts), AppError> {
        let filing = self.tx.filing(id).await?.ok_or(AppError::not_found("filing"))?;
        // Another practice's filing for the same client is never in scope.
        if self.practice_user().is_none_or(|p| p.practice != filing.practice) {
            return Err(AppError::not_found("filing"));
        }
        let facts = self.client(action, filing.client).await.map_err(|e| rename(e, "filing"))?;
        Ok((filing, facts))
    }

    /// An action on a task: client-level actions are decided on its client,
    /// task actions on the task's facts too. Returns the task and the facts.
    pub(crate) async fn task(&mut self, action: Action, id: TaskId) -> Result<(TaskRecord, ClientFacts), AppError> {
        let task = self.tx.task(id).await?.ok_or(AppError::not_found("task"))?;
        if self.practice_user().is_none_or(|p| p.practice != task.practice) {
            return Err(AppError::not_found("task"));
        }
        let user = self.user()?;
        let facts = self.tx.client_facts(user, task.client).await?;
        let resource_task = TaskFacts { assignee: task.assignee, filing: task.filing_status };
        let decision = match action.scope() {
            ferry_domain::access::Scope::Task => self.allow(action, Resource::Task(&facts, &resource_task)),
            _ => self.allow(action, Resource::Client(&facts)),
        };
        decision.map_err(|e| rename(e, "task"))?;
        Ok((task, facts))
    }

    /// Appends an audit entry for this use case.
    pub(crate) async fn audit(
        &mut self,
        action: &str,
        practice: Option<PracticeId>,
        client: Option<ClientId>,
        subject: Option<Uuid>,
        detail: impl Into<String>,
    ) -> Result<(), AppError> {
        let entry = AuditEntry {
            at: self.now,
            actor: self.actor.user(),
            action: action.to_owned(),
            practice,
            client,
            subject,
            detail: detail.into(),
        };
        self.tx.append_audit(&entry).await?;
        Ok(())
    }

    /// Queues a message, sent after commit by the outbox sender.
    pub(crate) async fn mail(&mut self, template: &impl Template, letterhead: &Letterhead) -> Result<(), AppError> {
        self.enqueue(&template.render(letterhead)).await
    }

    /// Queues a message already rendered.
    pub(crate) async fn enqueue(&mut self, mail: &OutgoingMail) -> Result<(), AppError> {
        let id = self.app.new_id();
        self.tx.enqueue_mail(id, mail, self.now).await?;
        Ok(())
    }

    /// A new id.
    pub(crate) fn new_id(&self) -> Uuid {
        self.app.new_id()
    }

    /// The app, for settings and letterheads.
    pub(crate) fn app(&self) -> &App {
        &self.app
    }

    /// Makes everything visible at once.
    pub(crate) async fn commit(mut self) -> Result<(), AppError> {
        self.tx.commit().await?;
        Ok(())
    }
}

fn rename(error: AppError, what: &'static str) -> AppError {
    match error {
        AppError::NotFound { rule, .. } => AppError::NotFound { what, rule },
        other => other,
    }
}
