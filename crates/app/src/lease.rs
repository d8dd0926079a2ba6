//! A quota reservation's life (PRODUCT.md rule 8), in one owner.
//!
//! Bytes that move are reserved against the practice's allowances before
//! they move, so that concurrent transfers never together exceed one. A
//! [`Lease`] is that reservation as the transfer holding it sees it: it is
//! opened (refused when it does not fit), grows as bytes of unknown length
//! arrive, is renewed while they flow, and ends settled to the bytes really
//! moved or released. One nobody settles lapses at its expiry and stops
//! counting. Every change of a reservation goes through [`Lease::apply`], and
//! every refusal becomes an [`AppError`] through one conversion
//! (`From<ReserveError>` in `error.rs`).
//!
//! A refusal aborts the transaction it happened in (both engines keep that
//! contract, see `ferry_ports::store`), so the changes a lease makes on its
//! own each run in a transaction of their own ([`Lease::alone`]): a second
//! attempt after a refusal is simply another one.

use std::time::Duration;

use ferry_domain::ids::PracticeId;
use ferry_domain::quota::{Bytes, QuotaExceeded};
use ferry_ports::StoreError;
use ferry_ports::records::{ReservationId, ReservationRequest, UploadRecord};
use ferry_ports::store::ReserveError;
use time::OffsetDateTime;

use crate::context::Work;
use crate::{App, AppError, Principal};

/// How much a lease grows at a time when the bytes to come are not known.
pub(crate) const GROWTH_STEP: u64 = 8 * 1024 * 1024;

/// What a lease's bytes count against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counts {
    /// An upload: storage, and the month's throughput.
    Upload,
    /// A download of `practice`'s file: the month's throughput only.
    Download {
        /// Whose throughput, to count a lapsed download afresh.
        practice: PracticeId,
    },
}

impl Counts {
    /// `bytes` as (storage, throughput).
    const fn split(self, bytes: u64) -> (Bytes, Bytes) {
        match self {
            Self::Upload => (Bytes::new(bytes), Bytes::new(bytes)),
            Self::Download { .. } => (Bytes::ZERO, Bytes::new(bytes)),
        }
    }
}

/// One change of a reservation.
#[derive(Debug, Clone, Copy)]
enum Change {
    /// Reserve `bytes` for the practice.
    Open { practice: PracticeId, bytes: u64 },
    /// Add `bytes` (none: only renew).
    Grow(u64),
    /// Give back `bytes` that will not be needed.
    Shrink(u64),
    /// Turn it into usage of the `bytes` really moved.
    Settle(u64),
    /// Give all of it back; one already gone is not an error.
    Release,
}

/// A reservation held by one transfer, upload or download while its bytes move.
#[derive(Debug)]
pub(crate) struct Lease {
    app: App,
    who: Principal,
    id: ReservationId,
    counts: Counts,
    /// How long it lasts after each renewal.
    lasting: Duration,
    /// The bytes reserved through this lease.
    held: u64,
    /// When it was last opened, grown or renewed.
    renewed_at: OffsetDateTime,
}

/// `now` plus `lasting`.
pub(crate) fn expiry(now: OffsetDateTime, lasting: Duration) -> OffsetDateTime {
    now + time::Duration::try_from(lasting).unwrap_or(time::Duration::HOUR)
}

impl Lease {
    /// Reserves `bytes` for `practice` inside the use case's transaction, as
    /// `work`'s principal `who`, lasting `lasting` from now.
    ///
    /// # Errors
    /// [`AppError::Quota`] naming the allowance and what is left.
    pub(crate) async fn open(
        work: &mut Work,
        who: &Principal,
        practice: PracticeId,
        counts: Counts,
        bytes: u64,
        lasting: Duration,
    ) -> Result<Self, AppError> {
        let mut lease = Self {
            app: work.app().clone(),
            who: *who,
            id: ReservationId(work.new_id()),
            counts,
            lasting,
            held: 0,
            renewed_at: work.now,
        };
        lease.apply(work, Change::Open { practice, bytes }).await?;
        lease.held = bytes;
        Ok(lease)
    }

    /// Reserves `wanted` bytes of an upload for `practice` in a transaction
    /// of its own; when they do not fit, `fallback` may name fewer to
    /// reserve instead (the request's length counts more than its files).
    ///
    /// # Errors
    /// [`AppError::Quota`] when neither fits.
    pub(crate) async fn open_fitting(
        app: &App,
        who: &Principal,
        practice: PracticeId,
        wanted: u64,
        fallback: impl FnOnce(&QuotaExceeded) -> Option<u64>,
    ) -> Result<Self, AppError> {
        let mut lease = Self {
            app: app.clone(),
            who: *who,
            id: ReservationId(app.new_id()),
            counts: Counts::Upload,
            lasting: app.inner.config.reservation_ttl,
            held: 0,
            renewed_at: app.now(),
        };
        let bytes = match lease.alone(Change::Open { practice, bytes: wanted }).await {
            Ok(()) => wanted,
            Err(AppError::Quota(exceeded)) => {
                let fewer = fallback(&exceeded).ok_or(AppError::Quota(exceeded))?;
                lease.alone(Change::Open { practice, bytes: fewer }).await?;
                fewer
            }
            Err(other) => return Err(other),
        };
        lease.held = bytes;
        Ok(lease)
    }

    /// The reservation of a resumable upload, as one of its requests holds
    /// it: nothing reserved through it yet.
    pub(crate) fn of_upload(app: &App, who: &Principal, upload: &UploadRecord) -> Self {
        Self {
            app: app.clone(),
            who: *who,
            id: upload.upload.reservation,
            counts: Counts::Upload,
            lasting: app.inner.config.upload_ttl,
            held: 0,
            renewed_at: app.now(),
        }
    }

    /// Its id, for the upload row that names it.
    pub(crate) const fn id(&self) -> ReservationId {
        self.id
    }

    /// The bytes reserved through this lease.
    pub(crate) const fn held(&self) -> u64 {
        self.held
    }

    /// When a lease renewed at `now` lapses.
    pub(crate) fn expiry(&self, now: OffsetDateTime) -> OffsetDateTime {
        expiry(now, self.lasting)
    }

    /// Adds `bytes` inside the use case's transaction, renewing it.
    ///
    /// # Errors
    /// [`AppError::Quota`] when they do not fit; [`AppError::NotFound`] when it lapsed.
    pub(crate) async fn grow_in(&mut self, work: &mut Work, bytes: u64) -> Result<(), AppError> {
        self.apply(work, Change::Grow(bytes)).await?;
        self.held += bytes;
        Ok(())
    }

    /// Settles it inside the use case's transaction to the `bytes` really moved.
    ///
    /// # Errors
    /// [`AppError::Conflict`] saying `lapsed` when it lapsed meanwhile.
    pub(crate) async fn settle_in(&self, work: &mut Work, bytes: u64, lapsed: &'static str) -> Result<(), AppError> {
        match self.apply(work, Change::Settle(bytes)).await {
            Err(ReserveError::Store(StoreError::NotFound { .. })) => Err(AppError::conflict(lapsed)),
            other => other.map_err(AppError::from),
        }
    }

    /// Releases it inside the use case's transaction.
    ///
    /// # Errors
    /// What the store answers.
    pub(crate) async fn release_in(&self, work: &mut Work) -> Result<(), AppError> {
        Ok(self.apply(work, Change::Release).await?)
    }

    /// Makes room for `held() + missing` bytes: grows by a whole step when
    /// it fits, else by exactly the `missing` bytes; renews it.
    ///
    /// # Errors
    /// [`AppError::Quota`] when not even the missing bytes fit.
    pub(crate) async fn grow(&mut self, missing: u64) -> Result<(), AppError> {
        let step = missing.max(GROWTH_STEP);
        let added = match self.alone(Change::Grow(step)).await {
            Ok(()) => step,
            Err(AppError::Quota(_)) if step > missing => {
                self.alone(Change::Grow(missing)).await?;
                missing
            }
            Err(other) => return Err(other),
        };
        self.held += added;
        self.renewed_at = self.app.now();
        Ok(())
    }

    /// Renews it once half its life has passed, so that a long transfer keeps it.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when it lapsed meanwhile.
    pub(crate) async fn keep_alive(&mut self) -> Result<(), AppError> {
        if self.app.now() - self.renewed_at > time::Duration::try_from(self.lasting / 2).unwrap_or_default() {
            self.alone(Change::Grow(0)).await?;
            self.renewed_at = self.app.now();
        }
        Ok(())
    }

    /// Gives back what it reserved beyond the `kept` bytes (an upload of
    /// unknown length reserves as bytes arrive), so that a request cut short
    /// or refused holds nothing it did not keep. This is the installation's
    /// bookkeeping, whoever holds the lease: it runs as the operator.
    pub(crate) async fn give_back_beyond(&mut self, kept: u64) {
        let unused = std::mem::take(&mut self.held).saturating_sub(kept);
        if unused == 0 {
            return;
        }
        let as_installation = Self { who: Principal::Operator, ..self.handle() };
        if let Err(e) = as_installation.alone(Change::Shrink(unused)).await {
            tracing::warn!(error = %e, "could not give back the unused part of a reservation; it lapses on its own");
        }
    }

    /// Releases it in a transaction of its own; a failure only means it lapses later.
    pub(crate) async fn release(&self) {
        if let Err(e) = self.alone(Change::Release).await {
            tracing::warn!(error = %e, "could not give a reservation back; it lapses on its own");
        }
    }

    /// Counts the `read` bytes of a download against throughput (at most
    /// what it holds; the rest is given back). A lease that lapsed meanwhile
    /// (a download stalled for longer than it lasts) is counted afresh. This
    /// is the installation's bookkeeping, not an act of the downloader (who
    /// may have been deactivated meanwhile): it runs as the operator.
    pub(crate) async fn count_download(&self, read: u64) {
        let read = read.min(self.held);
        let as_installation = Self { who: Principal::Operator, ..self.handle() };
        let counted = match as_installation.alone(Change::Settle(read)).await {
            Err(AppError::NotFound { .. }) => match self.counts {
                Counts::Download { practice } if read > 0 => as_installation.count_afresh(practice, read).await,
                _ => Ok(()),
            },
            other => other,
        };
        if let Err(e) = counted {
            tracing::warn!(error = %e, bytes = read, "could not count a download's bytes against throughput");
        }
    }

    /// Moves what this lease holds into a new handle, to end it in the
    /// background when the transfer holding it is dropped half-way.
    pub(crate) fn take(&mut self) -> Self {
        let held = std::mem::take(&mut self.held);
        Self { held, ..self.handle() }
    }

    /// A copy of this handle (the reservation is the same).
    fn handle(&self) -> Self {
        Self { app: self.app.clone(), ..*self }
    }

    /// Reserves and commits `read` bytes of throughput in one new transaction.
    async fn count_afresh(&self, practice: PracticeId, read: u64) -> Result<(), AppError> {
        let mut work = self.app.write(&self.who).await?;
        let again = Self { id: ReservationId(work.new_id()), lasting: Duration::from_secs(60), ..self.handle() };
        again.apply(&mut work, Change::Open { practice, bytes: read }).await?;
        work.tx.commit_reservation(again.id).await?;
        work.commit().await
    }

    /// Makes `change` in a transaction of its own, as the lease's principal.
    async fn alone(&self, change: Change) -> Result<(), AppError> {
        let mut work = self.app.write(&self.who).await?;
        self.apply(&mut work, change).await?;
        work.commit().await
    }

    /// The one place a reservation changes.
    async fn apply(&self, work: &mut Work, change: Change) -> Result<(), ReserveError> {
        let now = work.now;
        let tx = &mut work.tx;
        match change {
            Change::Open { practice, bytes } => {
                let (storage, throughput) = self.counts.split(bytes);
                let request = ReservationRequest {
                    id: self.id,
                    practice,
                    storage,
                    throughput,
                    at: now,
                    expires_at: self.expiry(now),
                };
                tx.reserve(&request).await
            }
            Change::Grow(bytes) => {
                let (storage, throughput) = self.counts.split(bytes);
                tx.grow_reservation(self.id, storage, throughput, now, self.expiry(now)).await
            }
            Change::Shrink(bytes) => {
                let (storage, throughput) = self.counts.split(bytes);
                Ok(tx.shrink_reservation(self.id, storage, throughput).await?)
            }
            Change::Settle(bytes) => {
                let (storage, throughput) = self.counts.split(bytes);
                Ok(tx.settle_reservation(self.id, storage, throughput, now).await?)
            }
            Change::Release => match tx.release_reservation(self.id).await {
                Ok(()) | Err(StoreError::NotFound { .. }) => Ok(()),
                Err(other) => Err(other.into()),
            },
        }
    }
}
