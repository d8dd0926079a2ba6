//! People: users, the members of practices, and clients with their users.

use async_trait::async_trait;
use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::{Actor, ClientRole, Role};
use ferry_domain::values::EmailAddress;
use time::OffsetDateTime;

use crate::records::{ClientMemberRecord, ClientRecord, MemberRecord, NewUser, Page, PageRequest, UserRecord};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// People: users, the members of practices, and clients with their users.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait PeopleStore: Send {
    // Users.

    /// Records a new user.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] with `what: "email"` when the address is taken.
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError>;

    /// A user by id.
    async fn user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError>;

    /// A user by email address.
    async fn user_by_email(&mut self, email: &EmailAddress) -> Result<Option<UserRecord>, StoreError>;

    /// Activates or deactivates a user.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_user_active(&mut self, id: UserId, active: bool) -> Result<(), StoreError>;

    /// Stores a new Argon2id password hash (PHC string).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn set_password_hash(&mut self, id: UserId, phc: &str) -> Result<(), StoreError>;

    /// The stored password hash, if a password was set.
    async fn password_hash(&mut self, id: UserId) -> Result<Option<String>, StoreError>;

    /// Records that the user accepted version `version` of the terms of use.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown user.
    async fn accept_terms(&mut self, id: UserId, version: u32, at: OffsetDateTime) -> Result<(), StoreError>;

    /// The latest version of the terms the user accepted.
    async fn accepted_terms(&mut self, id: UserId) -> Result<Option<u32>, StoreError>;

    /// Who `user` is, for a decision: loaded fresh for every request, with
    /// their active flag and (for practice users) their practice's status,
    /// so that deactivation and suspension apply at once.
    async fn actor(&mut self, user: UserId) -> Result<Option<Actor>, StoreError>;

    // Practice members.

    /// Makes a practice user a member of `practice` with `role`.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when they already belong to a practice;
    /// [`StoreError::DanglingReference`] for an unknown user or practice.
    async fn insert_member(&mut self, user: UserId, practice: PracticeId, role: Role) -> Result<(), StoreError>;

    /// A practice user's membership.
    async fn member(&mut self, user: UserId) -> Result<Option<MemberRecord>, StoreError>;

    /// Changes a member's role.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for someone who is not a practice member.
    async fn set_role(&mut self, user: UserId, role: Role) -> Result<(), StoreError>;

    /// The members of a practice with one of `roles`, in order of joining.
    async fn list_members(
        &mut self,
        practice: PracticeId,
        roles: &[Role],
        page: &PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError>;

    /// Active admins and staff: the seats taken (rule 7). Before a seat is
    /// taken on this count, hold [`PracticeStore::lock_practice`].
    async fn seats_in_use(&mut self, practice: PracticeId) -> Result<u32, StoreError>;

    // Clients.

    /// Records a new client.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] for a reused id.
    async fn insert_client(&mut self, client: &ClientRecord) -> Result<(), StoreError>;

    /// A client by id.
    async fn client(&mut self, id: ClientId) -> Result<Option<ClientRecord>, StoreError>;

    /// Adds a user to a client with a role.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when they already belong to it, or when a
    /// second owner is added; [`StoreError::DanglingReference`] for an unknown
    /// client or user.
    async fn add_client_member(&mut self, client: ClientId, user: UserId, role: ClientRole) -> Result<(), StoreError>;

    /// The users of a client, owner first.
    async fn client_members(&mut self, client: ClientId) -> Result<Vec<ClientMemberRecord>, StoreError>;

    /// Takes a user out of a client; returns whether they belonged to it.
    async fn remove_client_member(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError>;
}
