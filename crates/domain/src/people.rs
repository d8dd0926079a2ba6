//! The people of an installation and who is acting (PRODUCT.md "People and
//! organisations"), and the seat rule (rule 7).

use std::fmt;

use crate::ids::{ClientId, PracticeId, UserId};
use crate::practice::PracticeStatus;
use crate::values::OrganisationName;

/// A practice user's one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum Role {
    /// Manages the practice; opens every engaged client, current and future.
    Admin,
    /// Uses a seat; opens assigned clients and the clients behind their tasks.
    Staff,
    /// Restricted portal login; no seat; read-only access that follows their tasks.
    Bookkeeper,
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Self; 3] = [Self::Admin, Self::Staff, Self::Bookkeeper];

    /// Whether an active user of this role takes one of the practice's seats
    /// (rule 7): admins and staff do, bookkeepers never do.
    #[must_use]
    pub const fn uses_seat(self) -> bool {
        matches!(self, Self::Admin | Self::Staff)
    }

    /// Whether this role may review or approve a task, and appear in staff
    /// lists and reviewer and approver pickers. Bookkeepers never do.
    #[must_use]
    pub const fn is_staff_or_admin(self) -> bool {
        matches!(self, Self::Admin | Self::Staff)
    }

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Staff => "staff",
            Self::Bookkeeper => "bookkeeper",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client user's role in their client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum ClientRole {
    /// Grants and revokes practice access and invites colleagues.
    Owner,
    /// A colleague invited by the owner.
    Member,
}

impl ClientRole {
    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Owner, Self::Member].into_iter().find(|r| r.as_str() == name)
    }
}

/// A business served by one or more practices. Its users are one owner and
/// any number of members (see [`ClientRole`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Which client.
    pub id: ClientId,
    /// Its name.
    pub name: OrganisationName,
}

/// A signed-in user of a practice, as loaded fresh for each request.
///
/// The practice's status travels with the user so that a suspension locks
/// everyone out on their next request (rule 1), and `active` so that a
/// deactivation does too (rule 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PracticeUser {
    /// Who.
    pub user: UserId,
    /// Their practice.
    pub practice: PracticeId,
    /// Their one role.
    pub role: Role,
    /// False once an admin or the operator deactivated them.
    pub active: bool,
    /// The practice's status now.
    pub practice_status: PracticeStatus,
}

/// Who is asking. Every decision and every use case takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The operator of the installation, through the admin CLI.
    Operator,
    /// A user of a practice.
    Practice(PracticeUser),
    /// A user of one or more clients; their membership of a given client is a
    /// fact about that client (see [`crate::access::ClientFacts`]).
    Client {
        /// Who.
        user: UserId,
        /// False once deactivated.
        active: bool,
    },
    /// An outside party (such as a client's accountant) reached over
    /// connections with practices.
    Outside {
        /// Who.
        user: UserId,
        /// False once deactivated.
        active: bool,
    },
}

impl Actor {
    /// The signed-in user, if this is not the operator.
    #[must_use]
    pub const fn user(&self) -> Option<UserId> {
        match self {
            Self::Operator => None,
            Self::Practice(p) => Some(p.user),
            Self::Client { user, .. } | Self::Outside { user, .. } => Some(*user),
        }
    }

    /// The practice role, for practice users.
    #[must_use]
    pub const fn role(&self) -> Option<Role> {
        match self {
            Self::Practice(p) => Some(p.role),
            _ => None,
        }
    }
}

/// Adding someone would go over the practice's seat limit (rule 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the practice's plan has {limit} seats for admins and staff and all are taken; \
     deactivate someone, make them a bookkeeper, or ask the operator for more seats"
)]
pub struct SeatLimitReached {
    /// Seats on the plan.
    pub limit: u32,
    /// Active admins and staff now.
    pub in_use: u32,
}

/// Checks that a user may take `new_role` when `seats_in_use` active admins
/// and staff already hold seats, the user held `current_role` (if any, and
/// was active), and the plan has `limit` seats.
///
/// Use it for invitations (`current_role: None`), role changes and
/// reactivations (`current_role: None` too, since an inactive user holds no
/// seat). Bookkeepers never need a seat, so they always fit; moving from
/// admin to staff or back keeps the same seat.
///
/// ```
/// use ferry_domain::people::{check_seat, Role};
/// assert!(check_seat(Role::Bookkeeper, None, 3, 3).is_ok());
/// assert!(check_seat(Role::Staff, None, 3, 3).is_err());
/// assert!(check_seat(Role::Admin, Some(Role::Staff), 3, 3).is_ok());
/// ```
///
/// # Errors
/// [`SeatLimitReached`] when the user would need a seat and none is free.
pub fn check_seat(
    new_role: Role,
    current_role: Option<Role>,
    seats_in_use: u32,
    limit: u32,
) -> Result<(), SeatLimitReached> {
    let already_seated = current_role.is_some_and(Role::uses_seat);
    if !new_role.uses_seat() || already_seated || seats_in_use < limit {
        Ok(())
    } else {
        Err(SeatLimitReached { limit, in_use: seats_in_use })
    }
}

/// Counts the seats taken by a practice's users, given each one's role and
/// whether they are active.
#[must_use]
pub fn seats_in_use(users: impl IntoIterator<Item = (Role, bool)>) -> u32 {
    let count = users.into_iter().filter(|(role, active)| *active && role.uses_seat()).count();
    u32::try_from(count).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule7_admins_and_staff_use_seats_bookkeepers_never_do() {
        assert!(Role::Admin.uses_seat());
        assert!(Role::Staff.uses_seat());
        assert!(!Role::Bookkeeper.uses_seat());
    }

    #[test]
    fn rule7_seats_count_only_active_admins_and_staff() {
        let users = [
            (Role::Admin, true),
            (Role::Staff, true),
            (Role::Staff, false),
            (Role::Bookkeeper, true),
            (Role::Bookkeeper, true),
        ];
        assert_eq!(seats_in_use(users), 2);
    }

    #[test]
    fn rule7_going_over_the_seat_limit_is_refused_with_a_clear_error() {
        let err = check_seat(Role::Staff, None, 2, 2).unwrap_err();
        assert_eq!(err, SeatLimitReached { limit: 2, in_use: 2 });
        assert!(err.to_string().starts_with("the practice's plan has 2 seats for admins and staff and all are taken"));
        assert!(check_seat(Role::Admin, None, 1, 2).is_ok());
        // Promoting a bookkeeper needs a free seat; demoting to bookkeeper frees one.
        assert!(check_seat(Role::Staff, Some(Role::Bookkeeper), 2, 2).is_err());
        assert!(check_seat(Role::Bookkeeper, Some(Role::Staff), 2, 2).is_ok());
    }

    #[test]
    fn rule7_bookkeepers_are_unlimited() {
        assert!(check_seat(Role::Bookkeeper, None, 0, 0).is_ok());
        assert!(check_seat(Role::Bookkeeper, None, u32::MAX, 1).is_ok());
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.as_str()), Some(role));
        }
        for role in [ClientRole::Owner, ClientRole::Member] {
            assert_eq!(ClientRole::from_name(role.as_str()), Some(role));
        }
    }
}
