//! Access facts: what the domain needs to decide what a user may do with a

use async_trait::async_trait;
use ferry_domain::access::ClientFacts;
use ferry_domain::ids::{ClientId, UserId};

use crate::records::{ClientWithFacts, Page, PageRequest};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Access facts: what the domain needs to decide what a user may do with a
/// client, gathered fresh on every call.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait AccessStore: Send {
    /// The facts about one client for one user, in one indexed query.
    async fn client_facts(&mut self, user: UserId, client: ClientId) -> Result<ClientFacts, StoreError>;

    /// Every client `user` could open, with its facts, ordered by client id:
    /// for admins every actively engaged client of their practice; for staff
    /// the assigned ones and those behind their tasks on active filings; for
    /// bookkeepers those behind their tasks on active filings; for client
    /// users the clients they belong to. The caller still decides each row
    /// with the domain.
    async fn clients_for_user(&mut self, user: UserId, page: &PageRequest)
    -> Result<Page<ClientWithFacts>, StoreError>;
}
