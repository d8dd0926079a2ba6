//! Storage and throughput used across practices.

use ferry_domain::access::Action;
use ferry_ports::records::PageRequest;

use crate::views::UsageView;
use crate::{App, AppError, Principal};

impl App {
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
}
