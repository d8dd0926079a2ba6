//! The facts a decision is taken on: about a client, a task, a document,
//! an engagement or a connection, as the store loads them.

use super::Scope;
use crate::consent::ConsentState;
use crate::ids::{ClientId, PracticeId, UserId};
use crate::people::ClientRole;
use crate::work::FilingStatus;

/// The facts about one client, as seen by one actor: everything [`decide`]
/// needs, loaded in one query by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientFacts {
    /// The client.
    pub client: ClientId,
    /// For a practice user: the engagement between their practice and this
    /// client, if one was ever made.
    pub engagement: Option<ConsentState>,
    /// For a practice user: an admin assigned this client to them.
    pub assigned: bool,
    /// For a practice user: how many tasks on this client's *active* filings
    /// are assigned to them now.
    pub active_tasks_held: u32,
    /// For a client user: their role in this client, if they belong to it.
    pub membership: Option<ClientRole>,
}

impl ClientFacts {
    /// Facts for a client the actor has no relation with at all.
    #[must_use]
    pub const fn unrelated(client: ClientId) -> Self {
        Self { client, engagement: None, assigned: false, active_tasks_held: 0, membership: None }
    }
}

/// The facts about one task, beside its client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskFacts {
    /// Who holds the task now.
    pub assignee: Option<UserId>,
    /// The status of the task's filing.
    pub filing: FilingStatus,
}

/// The facts about one document, beside its client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentFacts {
    /// Who uploaded it.
    pub uploader: UserId,
}

/// The facts about one engagement, as seen by one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngagementFacts {
    /// The practice side.
    pub practice: PracticeId,
    /// For a client user: their role in the engagement's client.
    pub membership: Option<ClientRole>,
}

/// The facts about one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionFacts {
    /// The practice side.
    pub practice: PracticeId,
    /// The outside party's user.
    pub outside_party: UserId,
    /// Where the connection stands.
    pub state: ConsentState,
}

/// What an action is applied to, with the facts the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The installation.
    Installation,
    /// The actor's own account.
    Account,
    /// A practice.
    Practice(PracticeId),
    /// An engagement.
    Engagement(&'a EngagementFacts),
    /// A connection.
    Connection(&'a ConnectionFacts),
    /// A client.
    Client(&'a ClientFacts),
    /// A task of a client.
    Task(&'a ClientFacts, &'a TaskFacts),
    /// A document of a client.
    Document(&'a ClientFacts, &'a DocumentFacts),
}

impl Resource<'_> {
    pub(super) const fn scope(&self) -> Scope {
        match self {
            Self::Installation => Scope::Installation,
            Self::Account => Scope::Account,
            Self::Practice(_) => Scope::Practice,
            Self::Engagement(_) => Scope::Engagement,
            Self::Connection(_) => Scope::Connection,
            Self::Client(_) => Scope::Client,
            Self::Task(..) => Scope::Task,
            Self::Document(..) => Scope::Document,
        }
    }
}
