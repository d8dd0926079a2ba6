//! Why a user may or may not open a client, rule by rule.

use ferry_domain::access::{Action, Decision, explain_client};
use ferry_domain::ids::{ClientId, UserId};
use ferry_domain::people::Actor;
use ferry_ports::records::{ClientRecord, UserRecord};

use crate::{App, AppError, Principal};

/// Why a user may or may not do each client-level action on a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessExplanation {
    /// The user.
    pub user: UserRecord,
    /// The client.
    pub client: ClientRecord,
    /// Each client-level action with the domain's decision and its rule.
    pub decisions: Vec<(Action, Decision)>,
}

impl App {
    /// For each client-level action, whether `user` may do it on `client`
    /// now, and the rule that decided.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user or client.
    pub async fn explain_access(
        &self,
        who: &Principal,
        user: UserId,
        client: ClientId,
    ) -> Result<AccessExplanation, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ExplainAccess)?;
        let record = work.user_record(user).await?;
        let client = work.tx.client(client).await?.ok_or(AppError::not_found("client"))?;
        let actor: Actor = work.tx.actor(user).await?.ok_or(AppError::not_found("user"))?;
        let facts = work.tx.client_facts(user, client.id).await?;
        let decisions = explain_client(&actor, &facts);
        Ok(AccessExplanation { user: record, client, decisions })
    }
}
