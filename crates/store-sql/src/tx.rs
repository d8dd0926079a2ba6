//! The transaction type and the engine dispatch.

use async_trait::async_trait;
use ferry_ports::Tx;
use sqlx::{Postgres, Sqlite, Transaction};

use crate::prelude::*;
use crate::{
    admin, audit, error, facts, files, housekeeping, mail, people, practices, quota, relations, sessions, throttle,
    transfers, work,
};

/// An open database transaction on one of the two engines.
#[derive(Debug)]
pub(crate) enum Conn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A transaction of [`crate::SqlStore`]. Dropping it without committing rolls back.
#[derive(Debug)]
pub struct SqlTx {
    conn: Option<Conn>,
    /// A statement failed: PostgreSQL refuses everything after that until
    /// rollback, and SQLite is made to behave the same so that both engines
    /// keep one contract.
    failed: bool,
}

impl SqlTx {
    pub(crate) const fn new(conn: Conn) -> Self {
        Self { conn: Some(conn), failed: false }
    }

    /// The open transaction: [`StoreError::Finished`] after commit or
    /// rollback, [`StoreError::Aborted`] after a failed statement.
    pub(crate) fn conn(&mut self) -> Result<&mut Conn, StoreError> {
        if self.failed {
            return Err(StoreError::Aborted);
        }
        self.conn.as_mut().ok_or(StoreError::Finished)
    }

    /// Records the outcome of a statement: an error aborts the transaction.
    pub(crate) fn check<T, E>(&mut self, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

/// Runs `$body` with `$c` bound to the transaction's connection, whichever
/// engine it is on. The body is compiled once per engine, so the same SQL text
/// and binds serve both; it must evaluate to an engine-independent type (map
/// an `execute` result to `rows_affected()` inside the body).
macro_rules! on {
    ($tx:expr, |$c:ident| $body:expr) => {{
        let result = match $tx.conn()? {
            $crate::tx::Conn::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut **t;
                $body
            }
            $crate::tx::Conn::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut **t;
                $body
            }
        };
        $tx.check(result)
    }};
}

/// Like [`on!`], with a different body per engine, for the few statements
/// whose dialects differ.
macro_rules! on_each {
    ($tx:expr, sqlite: |$s:ident| $sqlite:expr, postgres: |$p:ident| $postgres:expr $(,)?) => {{
        let result = match $tx.conn()? {
            $crate::tx::Conn::Sqlite(t) => {
                let $s: &mut sqlx::SqliteConnection = &mut **t;
                $sqlite
            }
            $crate::tx::Conn::Postgres(t) => {
                let $p: &mut sqlx::PgConnection = &mut **t;
                $postgres
            }
        };
        $tx.check(result)
    }};
}

pub(crate) use {on, on_each};

#[async_trait]
impl Tx for SqlTx {
    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.failed {
            // Nothing of an aborted transaction may be saved.
            self.rollback().await?;
            return Err(StoreError::Aborted);
        }
        match self.conn.take().ok_or(StoreError::Finished)? {
            Conn::Sqlite(t) => t.commit().await,
            Conn::Postgres(t) => t.commit().await,
        }
        .map_err(error::map("commit"))
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        self.failed = false;
        match self.conn.take().ok_or(StoreError::Finished)? {
            Conn::Sqlite(t) => t.rollback().await,
            Conn::Postgres(t) => t.rollback().await,
        }
        .map_err(error::map("rollback"))
    }

    async fn insert_practice(&mut self, practice: &NewPractice) -> Result<(), StoreError> {
        practices::insert_practice(self, practice).await
    }
    async fn practice(&mut self, id: PracticeId) -> Result<Option<PracticeRecord>, StoreError> {
        practices::practice(self, id).await
    }
    async fn set_practice_status(
        &mut self,
        id: PracticeId,
        from: PracticeStatus,
        to: PracticeStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        practices::set_practice_status(self, id, from, to, at).await
    }
    async fn set_plan(&mut self, id: PracticeId, plan: Plan) -> Result<(), StoreError> {
        practices::set_plan(self, id, plan).await
    }
    async fn set_branding(&mut self, id: PracticeId, branding: &Branding) -> Result<(), StoreError> {
        practices::set_branding(self, id, branding).await
    }
    async fn list_practices(
        &mut self,
        status: Option<PracticeStatus>,
        page: &PageRequest,
    ) -> Result<Page<PracticeRecord>, StoreError> {
        practices::list_practices(self, status, page).await
    }
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        people::insert_user(self, user).await
    }
    async fn user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        people::user(self, id).await
    }
    async fn user_by_email(&mut self, email: &EmailAddress) -> Result<Option<UserRecord>, StoreError> {
        people::user_by_email(self, email).await
    }
    async fn set_user_active(&mut self, id: UserId, active: bool) -> Result<(), StoreError> {
        people::set_user_active(self, id, active).await
    }
    async fn set_password_hash(&mut self, id: UserId, phc: &str) -> Result<(), StoreError> {
        people::set_password_hash(self, id, phc).await
    }
    async fn password_hash(&mut self, id: UserId) -> Result<Option<String>, StoreError> {
        people::password_hash(self, id).await
    }
    async fn accept_terms(&mut self, id: UserId, version: u32, at: OffsetDateTime) -> Result<(), StoreError> {
        people::accept_terms(self, id, version, at).await
    }
    async fn accepted_terms(&mut self, id: UserId) -> Result<Option<u32>, StoreError> {
        people::accepted_terms(self, id).await
    }
    async fn actor(&mut self, user: UserId) -> Result<Option<Actor>, StoreError> {
        people::actor(self, user).await
    }
    async fn insert_member(&mut self, user: UserId, practice: PracticeId, role: Role) -> Result<(), StoreError> {
        people::insert_member(self, user, practice, role).await
    }
    async fn member(&mut self, user: UserId) -> Result<Option<MemberRecord>, StoreError> {
        people::member(self, user).await
    }
    async fn set_role(&mut self, user: UserId, role: Role) -> Result<(), StoreError> {
        people::set_role(self, user, role).await
    }
    async fn list_members(
        &mut self,
        practice: PracticeId,
        roles: &[Role],
        page: &PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError> {
        people::list_members(self, practice, roles, page).await
    }
    async fn seats_in_use(&mut self, practice: PracticeId) -> Result<u32, StoreError> {
        people::seats_in_use(self, practice).await
    }
    async fn insert_client(&mut self, client: &ClientRecord) -> Result<(), StoreError> {
        people::insert_client(self, client).await
    }
    async fn client(&mut self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        people::client(self, id).await
    }
    async fn add_client_member(&mut self, client: ClientId, user: UserId, role: ClientRole) -> Result<(), StoreError> {
        people::add_client_member(self, client, user, role).await
    }
    async fn client_members(&mut self, client: ClientId) -> Result<Vec<ClientMemberRecord>, StoreError> {
        people::client_members(self, client).await
    }
    async fn insert_engagement(&mut self, engagement: &EngagementRecord) -> Result<(), StoreError> {
        relations::insert_engagement(self, engagement).await
    }
    async fn engagement(&mut self, id: EngagementId) -> Result<Option<EngagementRecord>, StoreError> {
        relations::engagement(self, id).await
    }
    async fn engagement_between(
        &mut self,
        practice: PracticeId,
        client: ClientId,
    ) -> Result<Option<EngagementRecord>, StoreError> {
        relations::engagement_between(self, practice, client).await
    }
    async fn set_engagement_state(
        &mut self,
        id: EngagementId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        relations::set_engagement_state(self, id, from, to, at).await
    }
    async fn list_engagements_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError> {
        relations::list_engagements_of_practice(self, practice, page).await
    }
    async fn list_engagements_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError> {
        relations::list_engagements_of_client(self, client, page).await
    }
    async fn insert_connection(&mut self, connection: &ConnectionRecord) -> Result<(), StoreError> {
        relations::insert_connection(self, connection).await
    }
    async fn connection(&mut self, id: ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        relations::connection(self, id).await
    }
    async fn set_connection_state(
        &mut self,
        id: ConnectionId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        relations::set_connection_state(self, id, from, to, at).await
    }
    async fn list_connections_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError> {
        relations::list_connections_of_practice(self, practice, page).await
    }
    async fn list_connections_of_party(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError> {
        relations::list_connections_of_party(self, user, page).await
    }
    async fn assign_client(&mut self, user: UserId, client: ClientId, at: OffsetDateTime) -> Result<(), StoreError> {
        relations::assign_client(self, user, client, at).await
    }
    async fn unassign_client(&mut self, user: UserId, client: ClientId) -> Result<bool, StoreError> {
        relations::unassign_client(self, user, client).await
    }
    async fn assigned_clients(&mut self, user: UserId) -> Result<Vec<ClientId>, StoreError> {
        relations::assigned_clients(self, user).await
    }
    async fn client_facts(&mut self, user: UserId, client: ClientId) -> Result<ClientFacts, StoreError> {
        facts::client_facts(self, user, client).await
    }
    async fn clients_for_user(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ClientWithFacts>, StoreError> {
        facts::clients_for_user(self, user, page).await
    }
    async fn insert_filing(&mut self, filing: &FilingRecord) -> Result<(), StoreError> {
        work::insert_filing(self, filing).await
    }
    async fn filing(&mut self, id: FilingId) -> Result<Option<FilingRecord>, StoreError> {
        work::filing(self, id).await
    }
    async fn set_filing_status(
        &mut self,
        id: FilingId,
        from: FilingStatus,
        to: FilingStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        work::set_filing_status(self, id, from, to, at).await
    }
    async fn list_filings(
        &mut self,
        practice: PracticeId,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<FilingRecord>, StoreError> {
        work::list_filings(self, practice, client, page).await
    }
    async fn insert_task(&mut self, task: &NewTask) -> Result<(), StoreError> {
        work::insert_task(self, task).await
    }
    async fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        work::task(self, id).await
    }
    async fn set_task_status(&mut self, id: TaskId, status: TaskStatus, at: OffsetDateTime) -> Result<(), StoreError> {
        work::set_task_status(self, id, status, at).await
    }
    async fn set_task_assignee(&mut self, id: TaskId, assignee: Option<Assignee>) -> Result<(), StoreError> {
        work::set_task_assignee(self, id, assignee).await
    }
    async fn set_task_due(&mut self, id: TaskId, due: Option<Date>) -> Result<(), StoreError> {
        work::set_task_due(self, id, due).await
    }
    async fn set_task_reviewers(
        &mut self,
        id: TaskId,
        reviewer: Option<Reviewer>,
        approver: Option<Reviewer>,
    ) -> Result<(), StoreError> {
        work::set_task_reviewers(self, id, reviewer, approver).await
    }
    async fn list_tasks_of_filing(
        &mut self,
        filing: FilingId,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError> {
        work::list_tasks_of_filing(self, filing, page).await
    }
    async fn list_tasks_of_assignee(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ferry_ports::records::AssignedTask>, StoreError> {
        work::list_tasks_of_assignee(self, user, page).await
    }
    async fn assigned_task_dues(&mut self, user: UserId) -> Result<Vec<(TaskStatus, Option<Date>)>, StoreError> {
        work::assigned_task_dues(self, user).await
    }
    async fn add_checklist_item(&mut self, item: &ChecklistItemRecord) -> Result<ChecklistItemRecord, StoreError> {
        work::add_checklist_item(self, item).await
    }
    async fn checklist(&mut self, task: TaskId) -> Result<Vec<ChecklistItemRecord>, StoreError> {
        work::checklist(self, task).await
    }
    async fn tick_checklist_item(&mut self, task: TaskId, item: ChecklistItemId, done: bool) -> Result<(), StoreError> {
        work::tick_checklist_item(self, task, item, done).await
    }
    async fn remove_checklist_item(&mut self, task: TaskId, item: ChecklistItemId) -> Result<(), StoreError> {
        work::remove_checklist_item(self, task, item).await
    }
    async fn add_time_entry(&mut self, entry: &TimeEntryRecord) -> Result<(), StoreError> {
        work::add_time_entry(self, entry).await
    }
    async fn time_entries(&mut self, task: TaskId) -> Result<Vec<TimeEntryRecord>, StoreError> {
        work::time_entries(self, task).await
    }
    async fn add_comment(&mut self, comment: &CommentRecord) -> Result<(), StoreError> {
        work::add_comment(self, comment).await
    }
    async fn comments(&mut self, thread: Thread, page: &PageRequest) -> Result<Page<CommentRecord>, StoreError> {
        work::comments(self, thread, page).await
    }
    async fn insert_token(&mut self, token: &NewToken) -> Result<(), StoreError> {
        sessions::insert_token(self, token).await
    }
    async fn consume_token(
        &mut self,
        hash: TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<(UserId, TokenPurpose)>, StoreError> {
        sessions::consume_token(self, hash, at).await
    }
    async fn revoke_password_tokens(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError> {
        sessions::revoke_password_tokens(self, user, at).await
    }
    async fn insert_session(&mut self, session: &NewSession) -> Result<(), StoreError> {
        sessions::insert_session(self, session).await
    }
    async fn session(&mut self, hash: TokenHash, at: OffsetDateTime) -> Result<Option<SessionRecord>, StoreError> {
        sessions::session(self, hash, at).await
    }
    async fn end_session(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        sessions::end_session(self, id, at).await
    }
    async fn end_all_sessions(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError> {
        sessions::end_all_sessions(self, user, at).await
    }
    async fn record_login_failure(&mut self, keys: &[ThrottleKey], at: OffsetDateTime) -> Result<(), StoreError> {
        throttle::record_login_failure(self, keys, at).await
    }
    async fn login_failures(&mut self, key: &ThrottleKey, since: OffsetDateTime) -> Result<u32, StoreError> {
        throttle::login_failures(self, key, since).await
    }
    async fn clear_login_failures(&mut self, key: &ThrottleKey) -> Result<(), StoreError> {
        throttle::clear_login_failures(self, key).await
    }
    async fn purge_expired(
        &mut self,
        at: OffsetDateTime,
        failures_before: OffsetDateTime,
    ) -> Result<PurgeReport, StoreError> {
        housekeeping::purge_expired(self, at, failures_before).await
    }
    async fn insert_add_on(&mut self, add_on: &AddOnRecord) -> Result<(), StoreError> {
        quota::insert_add_on(self, add_on).await
    }
    async fn add_ons(&mut self, practice: PracticeId) -> Result<Vec<AddOnRecord>, StoreError> {
        quota::add_ons(self, practice).await
    }
    async fn remove_add_on(&mut self, id: AddOnId) -> Result<(), StoreError> {
        quota::remove_add_on(self, id).await
    }
    async fn reserve(&mut self, request: &ReservationRequest) -> Result<(), ReserveError> {
        quota::reserve(self, request).await
    }
    async fn commit_reservation(&mut self, id: ReservationId) -> Result<(), StoreError> {
        quota::commit_reservation(self, id).await
    }
    async fn release_reservation(&mut self, id: ReservationId) -> Result<(), StoreError> {
        quota::release_reservation(self, id).await
    }
    async fn reclaim_expired_reservations(&mut self, at: OffsetDateTime) -> Result<u64, StoreError> {
        quota::reclaim_expired_reservations(self, at).await
    }
    async fn usage(&mut self, practice: PracticeId, at: OffsetDateTime) -> Result<Vec<AllowanceUsage>, StoreError> {
        quota::usage(self, practice, at).await
    }
    async fn mark_quota_warning(
        &mut self,
        practice: PracticeId,
        kind: AllowanceKind,
        month: UsageMonth,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        quota::mark_quota_warning(self, practice, kind, month, at).await
    }
    async fn insert_document(&mut self, document: &NewDocument) -> Result<(), StoreError> {
        files::insert_document(self, document).await
    }
    async fn document(&mut self, id: DocumentId) -> Result<Option<DocumentRecord>, StoreError> {
        files::document(self, id).await
    }
    async fn list_documents_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError> {
        files::list_documents_of_client(self, client, page).await
    }
    async fn record_download(&mut self, id: DocumentId, user: UserId, at: OffsetDateTime) -> Result<bool, StoreError> {
        files::record_download(self, id, user, at).await
    }
    async fn delete_document(&mut self, id: DocumentId, at: OffsetDateTime) -> Result<(), StoreError> {
        files::delete_document(self, id, at).await
    }
    async fn list_documents_of_user(
        &mut self,
        user: UserId,
        mailbox: ferry_ports::records::Mailbox,
        page: &PageRequest,
    ) -> Result<Page<DocumentRecord>, StoreError> {
        files::list_documents_of_user(self, user, mailbox, page).await
    }
    async fn list_documents_of_transfer(
        &mut self,
        id: ferry_domain::ids::BatchId,
    ) -> Result<Vec<DocumentRecord>, StoreError> {
        files::list_documents_of_transfer(self, id).await
    }
    async fn insert_transfer(&mut self, transfer: &ferry_ports::records::TransferRecord) -> Result<(), StoreError> {
        transfers::insert_transfer(self, transfer).await
    }
    async fn transfer(
        &mut self,
        id: ferry_domain::ids::BatchId,
    ) -> Result<Option<ferry_ports::records::TransferRecord>, StoreError> {
        transfers::transfer(self, id).await
    }
    async fn complete_transfer(
        &mut self,
        id: ferry_domain::ids::BatchId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        transfers::complete_transfer(self, id, at).await
    }
    async fn insert_upload(&mut self, upload: &ferry_ports::records::NewUpload) -> Result<(), StoreError> {
        transfers::insert_upload(self, upload).await
    }
    async fn upload(
        &mut self,
        id: ferry_ports::records::UploadId,
    ) -> Result<Option<ferry_ports::records::UploadRecord>, StoreError> {
        transfers::upload(self, id).await
    }
    async fn uploads_of_transfer(
        &mut self,
        id: ferry_domain::ids::BatchId,
    ) -> Result<Vec<ferry_ports::records::UploadRecord>, StoreError> {
        transfers::uploads_of_transfer(self, id).await
    }
    async fn add_upload_segment(
        &mut self,
        id: ferry_ports::records::UploadId,
        segment: &ferry_ports::records::UploadSegment,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        transfers::add_upload_segment(self, id, segment, expires_at).await
    }
    async fn set_upload_length(
        &mut self,
        id: ferry_ports::records::UploadId,
        length: ferry_domain::quota::Bytes,
    ) -> Result<(), StoreError> {
        transfers::set_upload_length(self, id, length).await
    }
    async fn upload_segments(
        &mut self,
        id: ferry_ports::records::UploadId,
    ) -> Result<Vec<ferry_ports::records::UploadSegment>, StoreError> {
        transfers::upload_segments(self, id).await
    }
    async fn delete_upload(
        &mut self,
        id: ferry_ports::records::UploadId,
    ) -> Result<Vec<ferry_ports::records::UploadSegment>, StoreError> {
        transfers::delete_upload(self, id).await
    }
    async fn expired_uploads(
        &mut self,
        at: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<ferry_ports::records::UploadRecord>, StoreError> {
        transfers::expired_uploads(self, at, limit).await
    }
    async fn grow_reservation(
        &mut self,
        id: ReservationId,
        storage: ferry_domain::quota::Bytes,
        throughput: ferry_domain::quota::Bytes,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), ReserveError> {
        quota::grow_reservation(self, id, storage, throughput, at, expires_at).await
    }
    async fn shrink_reservation(
        &mut self,
        id: ReservationId,
        storage: ferry_domain::quota::Bytes,
        throughput: ferry_domain::quota::Bytes,
    ) -> Result<(), StoreError> {
        quota::shrink_reservation(self, id, storage, throughput).await
    }
    async fn settle_reservation(
        &mut self,
        id: ReservationId,
        storage: ferry_domain::quota::Bytes,
        throughput: ferry_domain::quota::Bytes,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        quota::settle_reservation(self, id, storage, throughput, at).await
    }
    async fn append_audit(&mut self, entry: &AuditEntry) -> Result<AuditRecord, StoreError> {
        audit::append_audit(self, entry).await
    }
    async fn audit_entries(&mut self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        audit::audit_entries(self, after_seq, limit).await
    }
    async fn enqueue_mail(&mut self, id: Uuid, mail: &OutgoingMail, at: OffsetDateTime) -> Result<(), StoreError> {
        mail::enqueue_mail(self, id, mail, at).await
    }
    async fn claim_mail(
        &mut self,
        at: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxRecord>, StoreError> {
        mail::claim_mail(self, at, lease_until, limit).await
    }
    async fn mark_mail_sent(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError> {
        mail::mark_mail_sent(self, id, at).await
    }
    async fn mark_mail_failed(
        &mut self,
        id: Uuid,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> Result<(), StoreError> {
        mail::mark_mail_failed(self, id, error, retry_at).await
    }
    async fn retry_failed_mail(&mut self, id: Option<Uuid>, at: OffsetDateTime) -> Result<u64, StoreError> {
        mail::retry_failed_mail(self, id, at).await
    }
    async fn list_outbox(
        &mut self,
        status: OutboxStatus,
        page: &PageRequest,
    ) -> Result<Page<OutboxRecord>, StoreError> {
        mail::list_outbox(self, status, page).await
    }
    async fn email_log(&mut self, client: ClientId, page: &PageRequest) -> Result<Page<EmailLogRecord>, StoreError> {
        mail::email_log(self, client, page).await
    }

    // Operator tools (ferry-admin).
    async fn list_users(
        &mut self,
        filter: &ferry_ports::admin::UserFilter,
        page: &PageRequest,
    ) -> Result<Page<UserRecord>, StoreError> {
        admin::list_users(self, filter, page).await
    }
    async fn live_documents(
        &mut self,
        after: Option<DocumentId>,
        limit: u32,
    ) -> Result<Vec<ferry_ports::admin::LiveDocument>, StoreError> {
        admin::live_documents(self, after, limit).await
    }
    async fn blob_in_use(&mut self, key: &str) -> Result<bool, StoreError> {
        admin::blob_in_use(self, key).await
    }
    async fn storage_accounts(&mut self) -> Result<Vec<ferry_ports::admin::StorageAccount>, StoreError> {
        admin::storage_accounts(self).await
    }
    async fn recount_storage(
        &mut self,
        practice: PracticeId,
    ) -> Result<ferry_ports::admin::StorageAccount, StoreError> {
        admin::recount_storage(self, practice).await
    }
    async fn audit_entries_since(
        &mut self,
        since: OffsetDateTime,
        practice: Option<PracticeId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        admin::audit_entries_since(self, since, practice, after_seq, limit).await
    }
    async fn installation_counts(
        &mut self,
        at: OffsetDateTime,
    ) -> Result<ferry_ports::admin::InstallationCounts, StoreError> {
        admin::installation_counts(self, at).await
    }
    async fn applied_migrations(&mut self) -> Result<Vec<i64>, StoreError> {
        admin::applied_migrations(self).await
    }
}
