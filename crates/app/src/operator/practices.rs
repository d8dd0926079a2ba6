//! Practices as the operator sees them: the list and one practice's detail.

use ferry_domain::access::Action;
use ferry_domain::ids::PracticeId;
use ferry_domain::practice::PracticeStatus;
use ferry_ports::records::{AddOnRecord, AllowanceUsage, MemberRecord, Page, PageRequest, PracticeRecord};

use crate::{App, AppError, Principal};

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

impl App {
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
}
