//! Signing in: single-use tokens, sessions and sign-in throttling.

use async_trait::async_trait;
use ferry_domain::ids::{ClientId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::records::{NewSession, NewToken, SessionRecord, ThrottleKey, TokenHash, TokenPurpose};

/// Why a store operation failed. Adapters translate their driver's errors
/// into these; no driver type crosses the port.
use super::StoreError;

/// Signing in: single-use tokens, sessions and sign-in throttling.
///
/// Part of a [`Tx`]; unless a method says otherwise, its errors are those
/// described there.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SessionStore: Send {
    // Tokens and sessions.

    /// Stores a single-use token.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown user.
    async fn insert_token(&mut self, token: &NewToken) -> Result<(), StoreError>;

    /// Uses up the token with `hash` if it exists, is unused and has not
    /// expired at `at`; returns its user and purpose. A second use finds nothing.
    async fn consume_token(
        &mut self,
        hash: TokenHash,
        at: OffsetDateTime,
    ) -> Result<Option<(UserId, TokenPurpose)>, StoreError>;

    /// Uses up every unused set-password token of `user` (a new link replaces older ones).
    async fn revoke_password_tokens(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Uses up every unused invitation of `user` to join `client` (they
    /// joined, left or were removed: an older link must not bring them back).
    async fn revoke_join_tokens(
        &mut self,
        user: UserId,
        client: ClientId,
        at: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError::DanglingReference`] for an unknown user.
    async fn insert_session(&mut self, session: &NewSession) -> Result<(), StoreError>;

    /// The live session with token hash `hash` at `at`: not ended, not
    /// expired, and its user still active.
    async fn session(&mut self, hash: TokenHash, at: OffsetDateTime) -> Result<Option<SessionRecord>, StoreError>;

    /// Ends one session.
    async fn end_session(&mut self, id: Uuid, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Ends every session of `user` ("log out everywhere", deactivation);
    /// returns how many were live.
    async fn end_all_sessions(&mut self, user: UserId, at: OffsetDateTime) -> Result<u64, StoreError>;

    // Sign-in throttling. Failures are rows, so every server process counts
    // the same ones.

    /// Records one failed sign-in at `at` against each of `keys` (typically
    /// the account and the address it came from). A key given twice counts
    /// once; no keys records nothing.
    async fn record_login_failure(&mut self, keys: &[ThrottleKey], at: OffsetDateTime) -> Result<(), StoreError>;

    /// How many failures count against `key` at or after `since` (the start
    /// of the throttling window).
    async fn login_failures(&mut self, key: &ThrottleKey, since: OffsetDateTime) -> Result<u32, StoreError>;

    /// Forgets every failure counted against `key` (after a successful
    /// sign-in, or when the operator lifts a lock).
    async fn clear_login_failures(&mut self, key: &ThrottleKey) -> Result<(), StoreError>;

    /// Counts and records an attempt at once, before it is checked: returns,
    /// for each of `keys` in the order given, how many failures count
    /// against it at or after `since` before this attempt, and records one
    /// more at `at` against each (named `attempt`, a key given twice counting
    /// once). Counting and recording take turns per key until the
    /// transaction ends (on PostgreSQL a lock per key, on SQLite the write
    /// lock of a transaction from [`Store::begin`]), so attempts made in
    /// parallel each count the ones before them. The caller refuses an
    /// attempt whose count is at its limit by rolling back (nothing is
    /// recorded then), and otherwise commits before the slow check.
    async fn reserve_login_attempt(
        &mut self,
        attempt: Uuid,
        keys: &[ThrottleKey],
        since: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<u32>, StoreError>;

    /// Takes back what [`SessionStore::reserve_login_attempt`] recorded for
    /// `attempt` (a sign-in whose password was right is no failure). Taking
    /// back an unknown or already forgotten attempt is harmless.
    async fn forget_login_attempt(&mut self, attempt: Uuid) -> Result<(), StoreError>;
}
