//! Whom files may be sent to, and who appears in which picker
//! (PRODUCT.md "File exchange" and "Bookkeeper portal").

use crate::access::{ClientFacts, ConnectionFacts, can_open_client};
use crate::ids::UserId;
use crate::people::{Actor, ClientRole, PracticeUser, Role};

/// A person a sender wants to send files to, with the facts that decide
/// whether they may receive them.
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    /// A practice user receiving from a client user: `facts` are the
    /// recipient's facts about the sender's client.
    PracticeUser {
        /// The recipient.
        user: &'a PracticeUser,
        /// The recipient's facts about the client the files come from.
        facts: &'a ClientFacts,
    },
    /// A practice user receiving from an outside party over `connection`.
    PracticeUserOverConnection {
        /// The recipient.
        user: &'a PracticeUser,
        /// The connection the files travel over.
        connection: &'a ConnectionFacts,
    },
    /// A user of the client the sender works on.
    ClientUser {
        /// The recipient.
        user: UserId,
        /// False once deactivated.
        active: bool,
        /// Their role in the client the files are for, if they belong to it.
        membership: Option<ClientRole>,
    },
    /// An outside party receiving from a practice user over `connection`.
    OutsideParty {
        /// The recipient.
        user: UserId,
        /// False once deactivated.
        active: bool,
        /// The connection the files travel over.
        connection: &'a ConnectionFacts,
    },
}

/// Why a recipient cannot be chosen. Messages speak to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecipientRefused {
    /// The sender may not send files at all (operators and bookkeepers).
    #[error("you cannot send files")]
    SenderCannotSend,
    /// The recipient is deactivated.
    #[error("that person's account is deactivated")]
    Inactive,
    /// Client users send to admins and staff, never to bookkeepers.
    #[error("files can be sent to a practice's admins and staff, not to its bookkeepers")]
    NotAdminOrStaff,
    /// The practice user cannot open the sender's client.
    #[error("that person does not work on your account")]
    CannotOpenClient,
    /// The client user does not belong to the client.
    #[error("that person is not a user of this client")]
    NotAUserOfClient,
    /// No active connection joins the sender and the recipient.
    #[error("there is no active file-sharing connection with that person")]
    NoActiveConnection,
    /// This kind of sender cannot send to this kind of recipient.
    #[error("you cannot send files to that person")]
    NotAllowedForSender,
}

/// Checks that `sender` may choose `recipient`.
///
/// - A client user sends to an admin or staff member of an engaged, approved
///   practice who can open the sender's client.
/// - An admin or staff member sends to a user of the client (the caller has
///   already checked their scope on it with [`crate::access::decide`]), or to
///   an outside party over an active connection of their practice.
/// - An outside party sends to an admin or staff member of a practice over an
///   active connection.
///
/// # Errors
/// [`RecipientRefused`] saying why.
pub fn check_recipient(sender: &Actor, recipient: &Recipient<'_>) -> Result<(), RecipientRefused> {
    match (sender, recipient) {
        (Actor::Operator, _) => Err(RecipientRefused::SenderCannotSend),
        (Actor::Practice(PracticeUser { role: Role::Bookkeeper, .. }), _) => Err(RecipientRefused::SenderCannotSend),
        (Actor::Client { .. }, Recipient::PracticeUser { user, facts }) => {
            practice_recipient(user)?;
            if can_open_client(&Actor::Practice(**user), facts) {
                Ok(())
            } else {
                Err(RecipientRefused::CannotOpenClient)
            }
        }
        (Actor::Practice(_), Recipient::ClientUser { active, membership, .. }) => {
            if !active {
                Err(RecipientRefused::Inactive)
            } else if membership.is_none() {
                Err(RecipientRefused::NotAUserOfClient)
            } else {
                Ok(())
            }
        }
        (Actor::Practice(sender), Recipient::OutsideParty { user, active, connection }) => {
            if !active {
                return Err(RecipientRefused::Inactive);
            }
            connected(connection.practice == sender.practice && connection.outside_party == *user, connection)
        }
        (Actor::Outside { user: sender, .. }, Recipient::PracticeUserOverConnection { user, connection }) => {
            practice_recipient(user)?;
            connected(connection.practice == user.practice && connection.outside_party == *sender, connection)
        }
        _ => Err(RecipientRefused::NotAllowedForSender),
    }
}

fn practice_recipient(user: &PracticeUser) -> Result<(), RecipientRefused> {
    if !user.active || !user.practice_status.is_approved() {
        Err(RecipientRefused::Inactive)
    } else if !user.role.is_staff_or_admin() {
        Err(RecipientRefused::NotAdminOrStaff)
    } else {
        Ok(())
    }
}

fn connected(parties_match: bool, connection: &ConnectionFacts) -> Result<(), RecipientRefused> {
    if parties_match && connection.state.is_active() { Ok(()) } else { Err(RecipientRefused::NoActiveConnection) }
}

/// The lists of practice users that screens offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Picker {
    /// Who can take a task: admins, staff and bookkeepers.
    Assignee,
    /// Who can review a task: admins and staff only.
    Reviewer,
    /// Who can approve a task: admins and staff only.
    Approver,
    /// The staff list: admins and staff only.
    StaffList,
    /// The admin's list of bookkeepers.
    BookkeeperList,
}

impl Picker {
    /// Whether an active-or-not user with `role` appears in this picker.
    /// Deactivated users appear in none.
    #[must_use]
    pub const fn includes(self, role: Role, active: bool) -> bool {
        active
            && match self {
                Self::Assignee => true,
                Self::Reviewer | Self::Approver | Self::StaffList => role.is_staff_or_admin(),
                Self::BookkeeperList => matches!(role, Role::Bookkeeper),
            }
    }

    /// Whether a practice user with `viewer` role may see this picker at all.
    /// Bookkeepers see none; only admins see the bookkeeper list.
    #[must_use]
    pub const fn visible_to(self, viewer: Role) -> bool {
        match self {
            Self::BookkeeperList => matches!(viewer, Role::Admin),
            Self::Assignee | Self::Reviewer | Self::Approver | Self::StaffList => viewer.is_staff_or_admin(),
        }
    }
}
