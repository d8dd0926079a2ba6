//! Purchased allowances (add-ons) of a practice: added, listed, removed.

use ferry_domain::access::Action;
use ferry_domain::ids::{AddOnId, PracticeId};
use ferry_domain::quota::{AddOn, AllowanceKind, Bytes};
use ferry_ports::records::AddOnRecord;
use time::OffsetDateTime;

use crate::{App, AppError, Principal};

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

impl App {
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
}
