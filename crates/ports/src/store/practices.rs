//! Practices: the approval workflow, plans and branding.

use async_trait::async_trait;
use ferry_domain::ids::PracticeId;
use ferry_domain::practice::{Branding, Plan, PracticeStatus};
use time::OffsetDateTime;

use crate::records::{NewPractice, Page, PageRequest, PracticeRecord};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Practices: the approval workflow, plans and branding.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PracticeStore: Send {
    /// Records a new, pending practice.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] for a reused id.
    async fn insert_practice(&mut self, practice: &NewPractice) -> Result<(), StoreError>;

    /// A practice by id.
    async fn practice(&mut self, id: PracticeId) -> Result<Option<PracticeRecord>, StoreError>;

    /// Moves a practice from `from` to `to` (the caller checked the
    /// transition with the domain).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice; [`StoreError::Conflict`]
    /// when its status is no longer `from`.
    async fn set_practice_status(
        &mut self,
        id: PracticeId,
        from: PracticeStatus,
        to: PracticeStatus,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Takes the practice's lock, held until the transaction ends: on
    /// PostgreSQL a row lock on the practice, on SQLite the write lock a
    /// transaction from [`Store::begin`] already holds. Whatever is counted
    /// and then written for one practice under it (the seats in use before a
    /// seat is taken, rule 7; the bytes reserved, rule 8) cannot interleave
    /// with another transaction doing the same. Call it in a transaction
    /// from [`Store::begin`] only, before counting.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn lock_practice(&mut self, id: PracticeId) -> Result<(), StoreError>;

    /// Replaces a practice's plan.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn set_plan(&mut self, id: PracticeId, plan: Plan) -> Result<(), StoreError>;

    /// Replaces a practice's branding.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown practice.
    async fn set_branding(&mut self, id: PracticeId, branding: &Branding) -> Result<(), StoreError>;

    /// Practices, optionally of one status (the directory lists approved
    /// ones), in order of application.
    async fn list_practices(
        &mut self,
        status: Option<PracticeStatus>,
        page: &PageRequest,
    ) -> Result<Page<PracticeRecord>, StoreError>;
}
