//! Quotas: add-ons, atomic reservations of storage and throughput, usage

use async_trait::async_trait;
use ferry_domain::ids::{AddOnId, PracticeId};
use ferry_domain::quota::{AllowanceKind, Bytes, UsageMonth};
use time::OffsetDateTime;

use crate::records::{AddOnRecord, AllowanceUsage, ReservationId, ReservationRequest};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::{ReserveError, StoreError};

/// Quotas: add-ons, atomic reservations of storage and throughput, usage
/// and warnings (PRODUCT.md rule 8).
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait QuotaStore: Send {
    // Add-ons, reservations and usage.

    /// Records a purchased add-on.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown practice.
    async fn insert_add_on(&mut self, add_on: &AddOnRecord) -> Result<(), StoreError>;

    /// A practice's add-ons, by start.
    async fn add_ons(&mut self, practice: PracticeId) -> Result<Vec<AddOnRecord>, StoreError>;

    /// Removes an add-on.
    ///
    /// # Errors
    /// [`StoreError::NotFound`].
    async fn remove_add_on(&mut self, id: AddOnId) -> Result<(), StoreError>;

    /// Reserves storage and throughput for a transfer, atomically: either
    /// both fit in the practice's allowances at `request.at` (counting
    /// committed bytes and unexpired reservations) and both are reserved, or
    /// nothing is. Concurrent reservations never together exceed an allowance.
    ///
    /// # Errors
    /// [`ReserveError::Exceeded`] naming the allowance and what is left.
    async fn reserve(&mut self, request: &ReservationRequest) -> Result<(), ReserveError>;

    /// Turns a reservation into usage: its storage bytes become held and its
    /// throughput bytes count for the month it was made in.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it expired and was reclaimed, or was already committed or released.
    async fn commit_reservation(&mut self, id: ReservationId) -> Result<(), StoreError>;

    /// Gives a reservation's bytes back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is already gone.
    async fn release_reservation(&mut self, id: ReservationId) -> Result<(), StoreError>;

    /// Deletes reservations that expired before `at`; returns how many.
    async fn reclaim_expired_reservations(&mut self, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Storage held now and throughput of the month of `at`, against allowances.
    async fn usage(&mut self, practice: PracticeId, at: OffsetDateTime) -> Result<Vec<AllowanceUsage>, StoreError>;

    /// Marks that the 80% warning for `kind` in `month` was sent; returns
    /// false when it already was (so one warning goes per allowance per month).
    async fn mark_quota_warning(
        &mut self,
        practice: PracticeId,
        kind: AllowanceKind,
        month: UsageMonth,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // Reservations that follow a stream (a resumable upload, a body of
    // unknown length): grown as bytes arrive, settled to what was moved.

    /// Adds to an unexpired reservation, atomically like [`QuotaStore::reserve`]
    /// (the extra bytes must fit), and moves its expiry to `expires_at`.
    ///
    /// # Errors
    /// [`ReserveError::Exceeded`] naming the allowance and what is left
    /// (nothing changes); [`StoreError::NotFound`] when the reservation
    /// expired or is gone.
    async fn grow_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), ReserveError>;

    /// Gives back part of a reservation that will not be needed (the unused
    /// rest of a request cut short), so that others may use it at once; its
    /// expiry stays as it is.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it is gone, or holds fewer bytes than
    /// `storage` or `throughput` (nothing changes).
    async fn shrink_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
    ) -> Result<(), StoreError>;

    /// Turns an unexpired reservation into usage of the bytes actually
    /// moved (at most what it holds); the rest is given back.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it expired, is gone, or holds fewer
    /// bytes than `storage` or `throughput`.
    async fn settle_reservation(
        &mut self,
        id: ReservationId,
        storage: Bytes,
        throughput: Bytes,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
