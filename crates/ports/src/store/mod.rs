//! The storage port: a unit of work.
//!
//! A use case asks the [`Store`] for a transaction ([`Tx`]), does all its
//! reads and writes through it — the change, its audit entry and its outgoing
//! mail — and commits. Dropping a transaction without committing rolls it
//! back, so an error anywhere leaves nothing half-made.
//!
//! A transaction's methods come in one trait per aggregate, which [`Tx`]
//! combines: [`PracticeStore`], [`PeopleStore`] (users, practice members,
//! clients), [`ConsentStore`] (engagements, connections, client
//! assignments), [`AccessStore`] (access facts), [`WorkStore`] (filings and
//! tasks), [`SessionStore`] (tokens, sessions, sign-in throttling),
//! [`QuotaStore`], [`DocumentStore`], [`TransferStore`] (transfers and
//! resumable uploads), [`AuditStore`], [`OutboxStore`] (the mail outbox) and
//! [`OperatorStore`] (ferry-admin's tools, housekeeping). A `dyn Tx` has
//! every method of these traits without importing them (a trait object
//! carries its supertraits' methods); on a concrete type, such as
//! `ferry_store_sql::SqlTx` or a mock, bring them into scope with
//! `use ferry_ports::store::prelude::*;`.
//!
//! Nothing here caches: every call reads the database, so access facts are
//! always current (PRODUCT.md rule 6).

mod access;
mod audit;
mod consent;
mod documents;
mod operator;
mod outbox;
mod people;
mod practices;
mod quota;
mod sessions;
mod transfers;
mod work;

pub use access::AccessStore;
pub use audit::AuditStore;
pub use consent::ConsentStore;
pub use documents::DocumentStore;
pub use operator::OperatorStore;
pub use outbox::OutboxStore;
pub use people::PeopleStore;
pub use practices::PracticeStore;
pub use quota::QuotaStore;
pub use sessions::SessionStore;
pub use transfers::TransferStore;
pub use work::WorkStore;

use async_trait::async_trait;
use ferry_domain::quota::QuotaExceeded;

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing to change does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// What was missing, such as `practice`.
        entity: &'static str,
    },
    /// A unique value is already taken, such as an email address.
    #[error("{what} is already taken")]
    Duplicate {
        /// What was duplicated, such as `email`.
        what: &'static str,
    },
    /// The change refers to something that does not exist.
    #[error("{what} refers to something that does not exist")]
    DanglingReference {
        /// What referred, such as `task assignee`.
        what: &'static str,
    },
    /// The row changed since it was read (a conditional update found another state).
    #[error("{entity} was changed by someone else; reload and try again")]
    Conflict {
        /// What changed, such as `engagement`.
        entity: &'static str,
    },
    /// A stored value no longer parses into its domain type.
    #[error("stored {what} is invalid: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The database refused a value that breaks one of its rules (a CHECK
    /// constraint): the caller let invalid data through.
    #[error("the database refused {what}: {reason}")]
    Rejected {
        /// What was refused.
        what: &'static str,
        /// The database's reason.
        reason: String,
    },
    /// An earlier statement of this transaction failed, so it can only be
    /// rolled back (the same on every engine, as PostgreSQL requires).
    #[error("an earlier step of this transaction failed; it was not saved")]
    Aborted,
    /// The transaction was already committed or rolled back.
    #[error("the transaction is already finished")]
    Finished,
    /// The database cannot be reached or is overloaded; the operation may succeed later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("unexpected database error: {0}")]
    Unknown(String),
}

/// Why a reservation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    /// It does not fit in an allowance; nothing was reserved.
    #[error(transparent)]
    Exceeded(#[from] QuotaExceeded),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The database.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Store: Send + Sync {
    /// Starts a transaction for a use case that may write. On SQLite it takes
    /// the write lock at once (`BEGIN IMMEDIATE`), so a read-then-write never
    /// fails half-way with "database is busy".
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had in time.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;

    /// Starts a transaction for reading only (it does not block writers).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when no connection can be had in time.
    async fn read(&self) -> Result<Box<dyn Tx>, StoreError>;
}

/// One transaction: the methods of every aggregate trait it combines
/// ([`PracticeStore`], [`PeopleStore`], [`ConsentStore`], [`AccessStore`],
/// [`WorkStore`], [`SessionStore`], [`QuotaStore`], [`DocumentStore`],
/// [`TransferStore`], [`AuditStore`], [`OutboxStore`], [`OperatorStore`]).
/// Every method reads or writes within it; nothing is visible to others
/// until [`commit`](Tx::commit), and dropping it rolls back.
///
/// Unless a method says otherwise, its errors are [`StoreError::Unavailable`]
/// when the database fails, [`StoreError::Finished`] after commit or
/// rollback, and [`StoreError::Corrupt`] when a stored value no longer parses.
///
/// After a method returns a database error (such as
/// [`StoreError::Duplicate`]), the transaction is aborted: every later call
/// returns [`StoreError::Aborted`] and only rollback (or drop) remains. Check
/// first (`user_by_email`, ...) where a conflict is an expected outcome.
#[async_trait]
pub trait Tx:
    PracticeStore
    + PeopleStore
    + ConsentStore
    + AccessStore
    + WorkStore
    + SessionStore
    + QuotaStore
    + DocumentStore
    + TransferStore
    + AuditStore
    + OutboxStore
    + OperatorStore
    + Send
{
    /// Makes every change of this transaction visible, at once.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`]; nothing was changed then.
    async fn commit(&mut self) -> Result<(), StoreError>;

    /// Drops every change of this transaction.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`].
    async fn rollback(&mut self) -> Result<(), StoreError>;
}

/// Every store trait, for `use ferry_ports::store::prelude::*;` where the
/// methods are called on a concrete type (a `dyn Tx` needs no import).
pub mod prelude {
    pub use super::{
        AccessStore, AuditStore, ConsentStore, DocumentStore, OperatorStore, OutboxStore, PeopleStore, PracticeStore,
        QuotaStore, SessionStore, Store, TransferStore, Tx, WorkStore,
    };
}
