//! What file exchange tells people by mail: the recipients of a transfer,
//! the sender of a first download, and a practice's admins when usage
//! reaches 80% of an allowance.

use ferry_domain::ids::{BatchId, UserId};
use ferry_domain::people::Role;
use ferry_domain::quota::{AllowanceKind, UsageMonth, at_warning_level};
use ferry_mail::templates::{DownloadReceipt, QuotaWarning, SharedFile, UploadNotification};
use ferry_ports::records::{DocumentRecord, PageRequest, PracticeRecord};

use super::route::Route;
use crate::AppError;
use crate::context::Work;

impl Work {
    /// Tells each recipient once about the transfer's files.
    pub(super) async fn notify_recipients(
        &mut self,
        route: &Route,
        batch: BatchId,
        documents: &[DocumentRecord],
    ) -> Result<(), AppError> {
        let sender = self.user_record(route.sender).await?;
        let client_name = match route.client {
            Some(client) => self.tx.client(client).await?.map(|c| c.name),
            None => None,
        };
        let letterhead = self.app().letterhead(&route.practice);
        let files: Vec<SharedFile> =
            documents.iter().map(|d| SharedFile { name: d.document.name.clone(), size: d.document.size }).collect();
        for recipient in &route.recipients {
            let notification = UploadNotification {
                to: recipient.email.clone(),
                recipient_name: Some(recipient.name.clone()),
                sender: sender.name.clone(),
                client: route.client,
                client_name: client_name.clone(),
                batch,
                files: files.clone(),
            };
            self.mail(&notification, &letterhead).await?;
        }
        Ok(())
    }

    /// Warns the practice's admins once a month per allowance when usage reaches 80%.
    pub(super) async fn warn_at_80_percent(&mut self, practice: &PracticeRecord) -> Result<(), AppError> {
        let usage = self.tx.usage(practice.id, self.now).await?;
        let month = UsageMonth::containing(self.now);
        for allowance in usage {
            if !at_warning_level(allowance.usage.used, allowance.limit) {
                continue;
            }
            if !self.tx.mark_quota_warning(practice.id, allowance.kind, month, self.now).await? {
                continue;
            }
            let letterhead = self.app().letterhead(practice);
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            loop {
                let admins = self.tx.list_members(practice.id, &[Role::Admin], &page).await?;
                for admin in admins.items.iter().filter(|m| m.user.active) {
                    let warning = QuotaWarning {
                        to: admin.user.email.clone(),
                        recipient_name: Some(admin.user.name.clone()),
                        allowance: allowance.kind,
                        used: allowance.usage.used,
                        limit: allowance.limit,
                        month: (allowance.kind == AllowanceKind::Throughput).then_some(month),
                    };
                    self.mail(&warning, &letterhead).await?;
                }
                match admins.next {
                    Some(next) => page = PageRequest::after(PageRequest::MAX_LIMIT, next),
                    None => break,
                }
            }
            self.audit(
                "quota.warning",
                Some(practice.id),
                None,
                None,
                format!("{} allowance at {} of {}", allowance.kind.as_str(), allowance.usage.used, allowance.limit),
            )
            .await?;
        }
        Ok(())
    }

    /// The download receipt, when the sender is a practice user.
    pub(super) async fn send_receipt(&mut self, record: &DocumentRecord, by: UserId) -> Result<(), AppError> {
        let document = &record.document;
        if self.tx.member(document.uploader).await?.is_none() {
            return Ok(());
        }
        let (Some(sender), Some(downloader)) = (self.tx.user(document.uploader).await?, self.tx.user(by).await?) else {
            return Ok(());
        };
        let practice = self.practice_record(document.practice).await?;
        let client_name = match document.client {
            Some(client) => self.tx.client(client).await?.map(|c| c.name),
            None => None,
        };
        let receipt = DownloadReceipt {
            to: sender.email,
            sender_name: Some(sender.name),
            downloaded_by: downloader.name,
            file_name: document.name.clone(),
            client: document.client,
            client_name,
            downloaded_at: self.now,
        };
        let letterhead = self.app().letterhead(&practice);
        self.mail(&receipt, &letterhead).await
    }
}
