//! The consistency check: storage accounts against documents, every live
//! document's blob, and blobs no document names (shared with housekeeping).

use std::collections::HashSet;
use std::time::Duration;

use ferry_domain::access::Action;
use ferry_ports::admin::{LiveDocument, StorageAccount};
use ferry_ports::blob::{BlobError, BlobKey};
use time::OffsetDateTime;

use super::Progress;
use crate::{App, AppError, Principal};

/// The prefix of the keys of documents' content in the file store.
pub(super) const DOCUMENT_PREFIX: &str = "documents";

/// How many rows the operator's walks read per transaction.
pub(super) const BATCH: u32 = 500;

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

pub(super) fn blob_error(error: BlobError) -> AppError {
    match error {
        BlobError::Unavailable(reason) => AppError::Unavailable(format!("file storage: {reason}")),
        other => AppError::Internal(format!("file storage: {other}")),
    }
}

impl App {
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

    /// The blob keys of every live document, read in batches; when `missing`
    /// is given, documents whose blob does not exist are added to it.
    pub(super) async fn live_blob_keys(
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
    pub(super) async fn stray_blobs(
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
    pub(super) async fn delete_stray(&self, key: &str) -> Result<(), AppError> {
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
