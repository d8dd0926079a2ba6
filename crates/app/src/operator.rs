//! The operator's own use cases, for `ferry-admin`: the lists and details an
//! operator reads, add-ons, any user's account, access explanations, usage
//! across practices, audit exports, the consistency check and housekeeping.
//!
//! Each runs as the operator only (the domain refuses anyone else) and audits
//! its changes with no actor, as every operator action is.

use std::collections::HashSet;
use std::time::Duration;

use ferry_domain::access::{Action, Decision, can_open_client, explain_client};
use ferry_domain::ids::{AddOnId, ClientId, PracticeId, UserId};
use ferry_domain::people::Actor;
use ferry_domain::practice::PracticeStatus;
use ferry_domain::quota::{AddOn, AllowanceKind, Bytes};
use ferry_mail::templates::PasswordReason;
use ferry_ports::admin::{InstallationCounts, LiveDocument, StorageAccount, UserFilter};
use ferry_ports::blob::{BlobError, BlobKey};
use ferry_ports::records::{
    AddOnRecord, AllowanceUsage, AuditRecord, ClientRecord, MemberRecord, OutboxRecord, OutboxStatus, Page,
    PageRequest, PracticeRecord, PurgeReport, UserRecord,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::accounts::send_password_link;
use crate::people::take_seat;
use crate::views::UsageView;
use crate::{App, AppError, Principal};

/// How long a blob without a document is spared by default: an upload is
/// committed to the file store before the database records its document,
/// and abandoned uploads may still be finishing.
pub const BLOB_GRACE_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// The prefix of the keys of documents' content in the file store.
const DOCUMENT_PREFIX: &str = "documents";

/// How many rows the operator's walks read per transaction.
const BATCH: u32 = 500;

/// Reports how far a long operation is, for a progress bar. Every method
/// has a default that does nothing.
pub trait Progress: Send + Sync {
    /// A new phase starts, of `total` steps when known.
    fn phase(&self, name: &str, total: Option<u64>) {
        let _ = (name, total);
    }
    /// `steps` more steps of the current phase are done.
    fn advance(&self, steps: u64) {
        let _ = steps;
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A practice as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeDetail {
    /// The practice.
    pub practice: PracticeRecord,
    /// Its admins, active or not.
    pub admins: Vec<MemberRecord>,
    /// Seats taken (active admins and staff).
    pub seats_in_use: u32,
    /// Its add-ons, by start.
    pub add_ons: Vec<AddOnRecord>,
    /// Storage and this month's throughput against the allowances.
    pub usage: Vec<AllowanceUsage>,
}

/// An add-on to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAllowance {
    /// Storage or throughput.
    pub kind: AllowanceKind,
    /// How much it adds.
    pub amount: Bytes,
    /// When it starts counting.
    pub starts: OffsetDateTime,
    /// When it stops counting (excluded).
    pub ends: OffsetDateTime,
}

/// A user as the operator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    /// The account.
    pub user: UserRecord,
    /// Their practice and role, for a practice user.
    pub membership: Option<MemberRecord>,
    /// That practice.
    pub practice: Option<PracticeRecord>,
    /// The clients they may open now (at most the first 500).
    pub clients: Vec<ClientRecord>,
}

/// Why a user may or may not do each client-level action on a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessExplanation {
    /// The user.
    pub user: UserRecord,
    /// The client.
    pub client: ClientRecord,
    /// Each client-level action with the domain's decision and its rule.
    pub decisions: Vec<(Action, Decision)>,
}

/// A practice's storage whose recorded count differs from its documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageFinding {
    /// The account as found.
    pub account: StorageAccount,
    /// Whether `--repair` set the recorded count to the documents' total.
    pub repaired: bool,
}

/// A blob that no live document refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrayBlob {
    /// Its key.
    pub key: String,
    /// When it was committed.
    pub committed_at: OffsetDateTime,
    /// Whether it was deleted (repair, or housekeeping).
    pub deleted: bool,
}

/// What the consistency check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsistencyReport {
    /// Practices whose storage was compared.
    pub practices_checked: u64,
    /// Practices whose recorded storage is not the sum of their live documents.
    pub storage: Vec<StorageFinding>,
    /// Live documents checked for their blob.
    pub documents_checked: u64,
    /// Live documents whose blob is missing from the file store (not
    /// repairable: the content is lost; restore it from a backup).
    pub missing_blobs: Vec<LiveDocument>,
    /// Documents' blobs (keys under `documents/`) listed in the file store.
    pub blobs_checked: u64,
    /// Documents' blobs without a live document, older than the grace period.
    pub stray_blobs: Vec<StrayBlob>,
    /// Blobs without a live document, younger than the grace period (spared:
    /// they may belong to an upload that is finishing).
    pub recent_unreferenced: u64,
}

impl ConsistencyReport {
    /// Problems found, repaired or not.
    #[must_use]
    pub fn problems(&self) -> usize {
        self.storage.len() + self.missing_blobs.len() + self.stray_blobs.len()
    }

    /// Problems still there after this run.
    #[must_use]
    pub fn unresolved(&self) -> usize {
        self.storage.iter().filter(|s| !s.repaired).count()
            + self.missing_blobs.len()
            + self.stray_blobs.iter().filter(|b| !b.deleted).count()
    }
}

/// What housekeeping removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HousekeepingReport {
    /// Expired or ended sessions, used or expired links (set-password and
    /// invitations), and sign-in failures too old to count.
    pub purged: PurgeReport,
    /// Expired quota reservations given back.
    pub reservations: u64,
    /// Resumable uploads nobody continued before their expiry, removed with
    /// their bytes and reservations.
    pub expired_uploads: u64,
    /// Uploads to the file store that were never finished.
    pub abandoned_uploads: u64,
    /// Documents' blobs (keys under `documents/`) without a live document,
    /// older than the grace period.
    pub orphan_blobs: u64,
}

/// Status of the installation's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationStatus {
    /// Counts of everything.
    pub counts: InstallationCounts,
    /// The schema migrations applied, in order.
    pub applied_migrations: Vec<i64>,
}

fn operator_only(who: &Principal) -> Result<(), AppError> {
    // The domain refuses anyone else too; this keeps reads that need no
    // transaction of their own from starting one for a user.
    match who {
        Principal::Operator => Ok(()),
        Principal::User { .. } => Err(AppError::not_found("installation")),
    }
}

impl App {
    /// Counts of everything and the applied schema migrations.
    ///
    /// # Errors
    /// As for any store read.
    pub async fn installation_status(&self, who: &Principal) -> Result<InstallationStatus, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        let counts = work.tx.installation_counts(work.now).await?;
        let applied_migrations = work.tx.applied_migrations().await?;
        Ok(InstallationStatus { counts, applied_migrations })
    }

    /// Practices, optionally of one status, in order of application.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a cursor that is not from this list.
    pub async fn list_practices(
        &self,
        who: &Principal,
        status: Option<PracticeStatus>,
        page: &PageRequest,
    ) -> Result<Page<PracticeRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        Ok(work.tx.list_practices(status, page).await?)
    }

    /// A practice with its admins, seats, add-ons and usage.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown practice.
    pub async fn practice_detail(&self, who: &Principal, id: PracticeId) -> Result<PracticeDetail, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        let practice = work.practice_record(id).await?;
        let admins = work
            .tx
            .list_members(id, &[ferry_domain::people::Role::Admin], &PageRequest::first(PageRequest::MAX_LIMIT))
            .await?
            .items;
        let seats_in_use = work.tx.seats_in_use(id).await?;
        let add_ons = work.tx.add_ons(id).await?;
        let usage = work.tx.usage(id, work.now).await?;
        Ok(PracticeDetail { practice, admins, seats_in_use, add_ons, usage })
    }

    /// Records a purchased add-on of storage or throughput for a practice.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a zero amount or an end not after the start;
    /// [`AppError::NotFound`] for an unknown practice.
    pub async fn add_allowance(
        &self,
        who: &Principal,
        practice: PracticeId,
        allowance: &NewAllowance,
    ) -> Result<AddOnRecord, AppError> {
        if allowance.amount == Bytes::ZERO {
            return Err(AppError::invalid("amount", "amount must be more than 0 bytes"));
        }
        let mut work = self.write(who).await?;
        work.installation(Action::ManageAddOns)?;
        work.practice_record(practice).await?;
        let id = AddOnId::from_uuid(work.new_id());
        let add_on = AddOn::new(id, allowance.kind, allowance.amount, allowance.starts, allowance.ends)
            .map_err(|e| AppError::invalid("ends", e.to_string()))?;
        let record = AddOnRecord { practice, add_on };
        work.tx.insert_add_on(&record).await?;
        let detail = format!(
            "{} {} from {} until {}",
            allowance.kind.as_str(),
            allowance.amount,
            allowance.starts.date(),
            allowance.ends.date()
        );
        work.audit("practice.add_on.add", Some(practice), None, Some(id.as_uuid()), detail).await?;
        work.commit().await?;
        Ok(record)
    }

    /// A practice's add-ons, by start.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown practice.
    pub async fn list_allowances(&self, who: &Principal, practice: PracticeId) -> Result<Vec<AddOnRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAddOns)?;
        work.practice_record(practice).await?;
        Ok(work.tx.add_ons(practice).await?)
    }

    /// Removes an add-on of a practice (one recorded by mistake, or refunded).
    ///
    /// # Errors
    /// [`AppError::NotFound`] when the practice has no such add-on.
    pub async fn remove_allowance(
        &self,
        who: &Principal,
        practice: PracticeId,
        id: AddOnId,
    ) -> Result<AddOnRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::ManageAddOns)?;
        let record = work
            .tx
            .add_ons(practice)
            .await?
            .into_iter()
            .find(|a| a.add_on.id == id)
            .ok_or(AppError::not_found("add-on"))?;
        work.tx.remove_add_on(id).await?;
        let detail = format!("removed {} {}", record.add_on.kind.as_str(), record.add_on.amount);
        work.audit("practice.add_on.remove", Some(practice), None, Some(id.as_uuid()), detail).await?;
        work.commit().await?;
        Ok(record)
    }

    /// Users matching `filter`, in order of id.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a cursor that is not from this list.
    pub async fn list_users(
        &self,
        who: &Principal,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<UserRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAnyUser)?;
        Ok(work.tx.list_users(filter, page).await?)
    }

    /// Finds a user by id or email address.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when no account matches.
    pub async fn find_user(&self, who: &Principal, id_or_email: &str) -> Result<UserRecord, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAnyUser)?;
        find_user(&mut *work.tx, id_or_email).await
    }

    /// A user with their practice membership and the clients they may open.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user.
    pub async fn user_detail(&self, who: &Principal, user: UserId) -> Result<UserDetail, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAnyUser)?;
        let record = work.user_record(user).await?;
        let membership = work.tx.member(user).await?;
        let practice = match &membership {
            Some(m) => work.tx.practice(m.practice).await?,
            None => None,
        };
        let mut clients = Vec::new();
        if let Some(actor) = work.tx.actor(user).await? {
            let page = work.tx.clients_for_user(user, &PageRequest::first(PageRequest::MAX_LIMIT)).await?;
            clients = page.items.into_iter().filter(|c| can_open_client(&actor, &c.facts)).map(|c| c.client).collect();
        }
        Ok(UserDetail { user: record, membership, practice, clients })
    }

    /// Deactivates (ending every session at once) or reactivates any user.
    /// Reactivating an admin or staff member needs a free seat in their practice.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user; [`AppError::Conflict`]
    /// when the user already is as asked; [`AppError::SeatLimit`].
    pub async fn set_user_active(&self, who: &Principal, user: UserId, active: bool) -> Result<UserRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::ManageAnyUser)?;
        let record = work.user_record(user).await?;
        if record.active == active {
            let state = if active { "active" } else { "deactivated" };
            return Err(AppError::conflict(format!("{} is already {state}", record.email)));
        }
        let membership = work.tx.member(user).await?;
        let detail = if active {
            if let Some(member) = &membership {
                take_seat(&mut work, member.practice, member.role).await?;
            }
            work.tx.set_user_active(user, true).await?;
            "reactivated by the operator".to_owned()
        } else {
            work.tx.set_user_active(user, false).await?;
            let ended = work.tx.end_all_sessions(user, work.now).await?;
            format!("deactivated by the operator; ended {ended} sessions")
        };
        let action = if active { "user.reactivate" } else { "user.deactivate" };
        work.audit(action, membership.map(|m| m.practice), None, Some(user.as_uuid()), detail).await?;
        let record = work.user_record(user).await?;
        work.commit().await?;
        Ok(record)
    }

    /// Mails any active user a link to choose a new password (older links
    /// stop working). The link is never shown to the operator.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user; [`AppError::Conflict`] for
    /// a deactivated one.
    pub async fn reset_user_password(&self, who: &Principal, user: UserId) -> Result<UserRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::ManageAnyUser)?;
        let record = work.user_record(user).await?;
        if !record.active {
            return Err(AppError::conflict(format!(
                "{} is deactivated; reactivate them before resetting their password",
                record.email
            )));
        }
        work.tx.revoke_password_tokens(user, work.now).await?;
        send_password_link(&mut work, &record, PasswordReason::Reset).await?;
        let practice = work.tx.member(user).await?.map(|m| m.practice);
        work.audit("user.reset_password", practice, None, Some(user.as_uuid()), "mailed a reset link").await?;
        work.commit().await?;
        Ok(record)
    }

    /// For each client-level action, whether `user` may do it on `client`
    /// now, and the rule that decided.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user or client.
    pub async fn explain_access(
        &self,
        who: &Principal,
        user: UserId,
        client: ClientId,
    ) -> Result<AccessExplanation, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ExplainAccess)?;
        let record = work.user_record(user).await?;
        let client = work.tx.client(client).await?.ok_or(AppError::not_found("client"))?;
        let actor: Actor = work.tx.actor(user).await?.ok_or(AppError::not_found("user"))?;
        let facts = work.tx.client_facts(user, client.id).await?;
        let decisions = explain_client(&actor, &facts);
        Ok(AccessExplanation { user: record, client, decisions })
    }

    /// Every practice's storage and this month's throughput against its allowances.
    ///
    /// # Errors
    /// As for any store read.
    pub async fn usage_report(&self, who: &Principal) -> Result<Vec<UsageView>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        let mut views = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = work.tx.list_practices(None, &page).await?;
            for practice in found.items {
                let allowances = work.tx.usage(practice.id, work.now).await?;
                views.push(UsageView { practice, allowances });
            }
            match found.next {
                Some(cursor) => page = PageRequest::after(PageRequest::MAX_LIMIT, cursor),
                None => return Ok(views),
            }
        }
    }

    /// Up to `limit` audit entries after `after_seq`, in order: the whole
    /// chain, for verification.
    ///
    /// # Errors
    /// As for any store read.
    pub async fn audit_chain(&self, who: &Principal, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        Ok(work.tx.audit_entries(after_seq, limit).await?)
    }

    /// Up to `limit` audit entries after `after_seq` made at or after
    /// `since`, of `practice` when given, for export.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown practice.
    pub async fn audit_export(
        &self,
        who: &Principal,
        since: OffsetDateTime,
        practice: Option<PracticeId>,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        if let Some(p) = practice {
            work.practice_record(p).await?;
        }
        Ok(work.tx.audit_entries_since(since, practice, after_seq, limit).await?)
    }

    /// Outbox messages of one status, oldest first.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a cursor that is not from this list.
    pub async fn list_outbox(
        &self,
        who: &Principal,
        status: OutboxStatus,
        page: &PageRequest,
    ) -> Result<Page<OutboxRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::RunInstallation)?;
        Ok(work.tx.list_outbox(status, page).await?)
    }

    /// Puts failed mail back in the queue: one message, or all when `None`.
    /// The server's sender delivers it. Returns how many were queued again.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when `id` names no failed message.
    pub async fn retry_mail(&self, who: &Principal, id: Option<Uuid>) -> Result<u64, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::RunInstallation)?;
        let count = work.tx.retry_failed_mail(id, work.now).await?;
        if count > 0 {
            work.audit("installation.mail_retry", None, None, id, format!("queued {count} failed messages again"))
                .await?;
        }
        work.commit().await?;
        Ok(count)
    }

    /// Checks that each practice's recorded storage equals its live
    /// documents, that every live document's blob exists, and that no blob
    /// older than `grace` lacks a document. With `repair`, recounts drifted
    /// storage and deletes stray blobs; missing blobs are only reported.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the database or the file store fails.
    pub async fn check_consistency(
        &self,
        who: &Principal,
        repair: bool,
        grace: Duration,
        progress: &dyn Progress,
    ) -> Result<ConsistencyReport, AppError> {
        operator_only(who)?;
        let mut report = ConsistencyReport::default();

        // Storage accounts.
        progress.phase("storage per practice", None);
        let accounts = {
            let mut work = self.read(who).await?;
            work.installation(Action::RunInstallation)?;
            work.tx.storage_accounts().await?
        };
        report.practices_checked = u64::try_from(accounts.len()).unwrap_or(u64::MAX);
        for account in accounts {
            progress.advance(1);
            if account.is_consistent() {
                continue;
            }
            let mut repaired = false;
            if repair {
                let mut work = self.write(who).await?;
                work.installation(Action::RunInstallation)?;
                let before = work.tx.recount_storage(account.practice).await?;
                let detail = format!("recorded storage {} → {}", before.recorded, before.document_bytes);
                work.audit(
                    "installation.repair_storage",
                    Some(account.practice),
                    None,
                    Some(account.practice.as_uuid()),
                    detail,
                )
                .await?;
                work.commit().await?;
                repaired = true;
            }
            report.storage.push(StorageFinding { account, repaired });
        }

        // Every live document's blob exists; collect their keys.
        let live = self.live_blob_keys(who, progress, Some(&mut report.missing_blobs)).await?;
        report.documents_checked = u64::try_from(live.len()).unwrap_or(u64::MAX);

        // No blob without a document past the grace period.
        let (checked, stray, recent) = self.stray_blobs(&live, grace, progress).await?;
        report.blobs_checked = checked;
        report.recent_unreferenced = recent;
        let mut deleted = 0u64;
        for blob in stray {
            let mut blob = blob;
            if repair {
                self.delete_stray(&blob.key).await?;
                blob.deleted = true;
                deleted += 1;
            }
            report.stray_blobs.push(blob);
        }
        if deleted > 0 {
            let mut work = self.write(who).await?;
            work.audit("installation.repair_blobs", None, None, None, format!("deleted {deleted} stray blobs")).await?;
            work.commit().await?;
        }
        Ok(report)
    }

    /// Housekeeping: deletes expired sessions and used or expired links
    /// (set-password and invitations), old sign-in failures and expired
    /// quota reservations; removes uploads never finished and blobs without
    /// a document, both older than `grace`.
    ///
    /// # Errors
    /// [`AppError::Unavailable`] when the database or the file store fails;
    /// what was done before stays done.
    pub async fn housekeeping(
        &self,
        who: &Principal,
        grace: Duration,
        progress: &dyn Progress,
    ) -> Result<HousekeepingReport, AppError> {
        operator_only(who)?;
        let mut report = HousekeepingReport::default();

        progress.phase("expired sessions, links and reservations", None);
        {
            let mut work = self.write(who).await?;
            work.installation(Action::RunInstallation)?;
            let now = work.now;
            let window = time::Duration::try_from(self.config().throttle_window).unwrap_or(time::Duration::HOUR);
            report.purged = work.tx.purge_expired(now, now - window).await?;
            report.reservations = work.tx.reclaim_expired_reservations(now).await?;
            work.commit().await?;
        }

        progress.phase("expired resumable uploads", None);
        report.expired_uploads = self.reclaim_abandoned_uploads(who).await?;

        progress.phase("abandoned uploads", None);
        let cutoff = self.now() - time::Duration::try_from(grace).unwrap_or(time::Duration::DAY);
        report.abandoned_uploads = self.blobs().sweep(cutoff).await.map_err(blob_error)?;

        let live = self.live_blob_keys(who, progress, None).await?;
        let (_, stray, _) = self.stray_blobs(&live, grace, progress).await?;
        for blob in stray {
            self.delete_stray(&blob.key).await?;
            report.orphan_blobs += 1;
        }

        let total = report.purged.sessions
            + report.purged.tokens
            + report.purged.login_failures
            + report.reservations
            + report.expired_uploads
            + report.abandoned_uploads
            + report.orphan_blobs;
        if total > 0 {
            let mut work = self.write(who).await?;
            let detail = format!(
                "removed {} sessions, {} links, {} sign-in failures, {} reservations, {} expired resumable uploads, \
                 {} abandoned uploads, {} orphan blobs",
                report.purged.sessions,
                report.purged.tokens,
                report.purged.login_failures,
                report.reservations,
                report.expired_uploads,
                report.abandoned_uploads,
                report.orphan_blobs
            );
            work.audit("installation.gc", None, None, None, detail).await?;
            work.commit().await?;
        }
        Ok(report)
    }

    /// The blob keys of every live document, read in batches; when `missing`
    /// is given, documents whose blob does not exist are added to it.
    async fn live_blob_keys(
        &self,
        who: &Principal,
        progress: &dyn Progress,
        mut missing: Option<&mut Vec<LiveDocument>>,
    ) -> Result<HashSet<String>, AppError> {
        progress.phase("documents", None);
        let mut keys = HashSet::new();
        let mut after = None;
        loop {
            let batch = {
                let mut work = self.read(who).await?;
                work.installation(Action::RunInstallation)?;
                work.tx.live_documents(after, BATCH).await?
            };
            let Some(last) = batch.last() else { return Ok(keys) };
            after = Some(last.id);
            for document in batch {
                if let Some(missing) = missing.as_deref_mut() {
                    let exists = match BlobKey::parse(&document.blob_key) {
                        Ok(key) => self.blobs().exists(&key).await.map_err(blob_error)?,
                        Err(_) => false,
                    };
                    if !exists {
                        missing.push(document.clone());
                    }
                }
                keys.insert(document.blob_key);
                progress.advance(1);
            }
        }
    }

    /// Lists the blobs under `documents/`: how many there are, those without
    /// a live document older than `grace`, and how many younger ones were spared.
    async fn stray_blobs(
        &self,
        live: &HashSet<String>,
        grace: Duration,
        progress: &dyn Progress,
    ) -> Result<(u64, Vec<StrayBlob>, u64), AppError> {
        progress.phase("file store", None);
        let cutoff = self.now() - time::Duration::try_from(grace).unwrap_or(time::Duration::DAY);
        // Only documents' content: other prefixes (such as the segments of
        // resumable uploads under `uploads/`) are tracked by their own rows.
        let prefix = BlobKey::parse(DOCUMENT_PREFIX).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut listing = self.blobs().list(Some(&prefix)).await.map_err(blob_error)?;
        let (mut checked, mut stray, mut recent) = (0u64, Vec::new(), 0u64);
        while let Some(batch) = listing.next_batch().await.map_err(blob_error)? {
            for entry in batch {
                checked += 1;
                progress.advance(1);
                if live.contains(entry.key.as_str()) {
                    continue;
                }
                if entry.committed_at < cutoff {
                    stray.push(StrayBlob {
                        key: entry.key.as_str().to_owned(),
                        committed_at: entry.committed_at,
                        deleted: false,
                    });
                } else {
                    recent += 1;
                }
            }
        }
        stray.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((checked, stray, recent))
    }

    /// Deletes a stray blob, unless a live document came to refer to it meanwhile.
    async fn delete_stray(&self, key: &str) -> Result<(), AppError> {
        let blob = BlobKey::parse(key).map_err(|e| AppError::Internal(format!("listed blob key {key}: {e}")))?;
        let mut tx = self.store().read().await?;
        let in_use = tx.blob_in_use(key).await?;
        tx.rollback().await?;
        if !in_use {
            self.blobs().delete(&blob).await.map_err(blob_error)?;
        }
        Ok(())
    }
}

/// Finds a user by id or email address in `tx`.
async fn find_user(tx: &mut dyn ferry_ports::Tx, id_or_email: &str) -> Result<UserRecord, AppError> {
    let raw = id_or_email.trim();
    let found = if let Ok(id) = Uuid::try_parse(raw) {
        tx.user(UserId::from_uuid(id)).await?
    } else {
        let email = ferry_domain::values::EmailAddress::parse(raw)
            .map_err(|_| AppError::invalid("user", format!("`{raw}` is neither a user id nor an email address")))?;
        tx.user_by_email(&email).await?
    };
    found.ok_or(AppError::not_found("user"))
}

fn blob_error(error: BlobError) -> AppError {
    match error {
        BlobError::Unavailable(reason) => AppError::Unavailable(format!("file storage: {reason}")),
        other => AppError::Internal(format!("file storage: {other}")),
    }
}
