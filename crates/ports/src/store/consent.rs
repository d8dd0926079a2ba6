//! Consent and assignment: the engagements between practices and clients,

use async_trait::async_trait;
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, ConnectionId, EngagementId, PracticeId, UserId};
use time::OffsetDateTime;

use crate::records::{ConnectionRecord, EngagementRecord, Page, PageRequest};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Consent and assignment: the engagements between practices and clients,
/// the connections with outside parties, and which clients are assigned to
/// which practice users.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ConsentStore: Send {
    // Engagements and connections.

    /// Records a new engagement.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the practice and client already have
    /// one (update its state instead); [`StoreError::DanglingReference`].
    async fn insert_engagement(&mut self, engagement: &EngagementRecord) -> Result<(), StoreError>;

    /// An engagement by id.
    async fn engagement(&mut self, id: EngagementId) -> Result<Option<EngagementRecord>, StoreError>;

    /// The engagement between a practice and a client, if any was ever made.
    async fn engagement_between(
        &mut self,
        practice: PracticeId,
        client: ClientId,
    ) -> Result<Option<EngagementRecord>, StoreError>;

    /// Moves an engagement from `from` to `to`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer `from`.
    async fn set_engagement_state(
        &mut self,
        id: EngagementId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A practice's engagements, in order of creation.
    async fn list_engagements_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError>;

    /// A client's engagements, in order of creation.
    async fn list_engagements_of_client(
        &mut self,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<EngagementRecord>, StoreError>;

    /// Records a new connection.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the two already have one; [`StoreError::DanglingReference`].
    async fn insert_connection(&mut self, connection: &ConnectionRecord) -> Result<(), StoreError>;

    /// A connection by id.
    async fn connection(&mut self, id: ConnectionId) -> Result<Option<ConnectionRecord>, StoreError>;

    /// Moves a connection from `from` to `to`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`]; [`StoreError::Conflict`] when it is no longer `from`.
    async fn set_connection_state(
        &mut self,
        id: ConnectionId,
        from: ConsentState,
        to: ConsentState,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// A practice's connections, in order of creation.
    async fn list_connections_of_practice(
        &mut self,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError>;

    /// An outside party's connections, in order of creation.
    async fn list_connections_of_party(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionRecord>, StoreError>;

    // Client assignments.

    /// Assigns a client to a practice user. Assigning twice is not an error.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown user or client.
    async fn assign_client(&mut self, user: UserId, client: ClientId, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Removes an assignment; returns whether there was one.
    async fn unassign_client(&mut self, user: UserId, client: ClientId) -> Result<bool, StoreError>;

    /// The clients assigned to a user.
    async fn assigned_clients(&mut self, user: UserId) -> Result<Vec<ClientId>, StoreError>;
}
