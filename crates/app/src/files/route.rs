//! Who may receive this file: a transfer's destination and recipients,
//! checked against the sender's scope and the domain's recipient rules
//! (`ferry_domain::exchange::check_recipient`) when it starts and again when
//! it is recorded.

use ferry_domain::access::{Action, Rule};
use ferry_domain::exchange::{Recipient, RecipientRefused, check_recipient};
use ferry_domain::ids::{BatchId, ClientId, ConnectionId, PracticeId, UserId};
use ferry_domain::people::Actor;
use ferry_domain::quota::Bytes;
use ferry_ports::records::{NewDocument, PracticeRecord, TransferRecord, UserRecord};
use time::OffsetDateTime;

use super::StoredFile;
use crate::AppError;
use crate::context::Work;

/// Where files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// Between a practice and one of its clients.
    Client(ClientId),
    /// Between a practice and an outside party, over their connection.
    Connection(ConnectionId),
}

/// What a sender asks for: where the files go and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// The client or connection.
    pub destination: Destination,
    /// The recipients. A practice user sending to a client may leave it
    /// empty for every user of the client; over a connection it may be empty
    /// for the other party. A client user names the admins or staff to send to.
    pub to: Vec<UserId>,
}

/// The most people one transfer may name in [`SendRequest::to`].
pub const MAX_RECIPIENTS: usize = 100;

/// A transfer's destination and recipients, checked.
#[derive(Debug, Clone)]
pub(super) struct Route {
    pub(super) practice: PracticeRecord,
    pub(super) client: Option<ClientId>,
    pub(super) connection: Option<ConnectionId>,
    pub(super) sender: UserId,
    pub(super) recipients: Vec<UserRecord>,
}

impl Route {
    /// The record of a transfer `id` along this route, made `now`.
    pub(super) fn transfer(
        &self,
        id: BatchId,
        now: OffsetDateTime,
        completed: Option<OffsetDateTime>,
    ) -> TransferRecord {
        TransferRecord {
            id,
            practice: self.practice.id,
            client: self.client,
            connection: self.connection,
            sender: self.sender,
            recipients: self.recipients.iter().map(|u| u.id).collect(),
            created_at: now,
            completed_at: completed,
        }
    }

    /// The document a stored file becomes in transfer `batch`, for `recipients`.
    pub(super) fn document(
        &self,
        batch: BatchId,
        recipients: &[UserId],
        file: &StoredFile,
        now: OffsetDateTime,
    ) -> NewDocument {
        NewDocument {
            id: file.id,
            batch,
            practice: self.practice.id,
            client: self.client,
            connection: self.connection,
            uploader: self.sender,
            name: file.name.clone(),
            size: Bytes::new(file.receipt.size),
            content_type: file.content_type.to_owned(),
            sha256: file.receipt.sha256,
            blob_key: file.key.as_str().to_owned(),
            recipients: recipients.to_vec(),
            created_at: now,
        }
    }
}

fn refused(refusal: RecipientRefused) -> AppError {
    AppError::invalid("to", refusal.to_string())
}

impl Work {
    /// Checks that the actor may send to `request` now, and who receives.
    pub(super) async fn route(&mut self, request: &SendRequest) -> Result<Route, AppError> {
        let sender = self.user()?;
        let mut to = request.to.clone();
        to.sort_unstable();
        to.dedup();
        if to.len() > MAX_RECIPIENTS {
            return Err(AppError::invalid("to", format!("a transfer goes to at most {MAX_RECIPIENTS} people")));
        }
        match (self.actor, request.destination) {
            (Actor::Practice(me), Destination::Client(client)) => {
                self.client(Action::SendToClient, client).await?;
                let members = self.tx.client_members(client).await?;
                let chosen: Vec<UserRecord> = if to.is_empty() {
                    members.iter().filter(|m| m.user.active).map(|m| m.user.clone()).collect()
                } else {
                    let mut chosen = Vec::with_capacity(to.len());
                    for id in &to {
                        let member = members.iter().find(|m| m.user.id == *id);
                        let recipient = Recipient::ClientUser {
                            user: *id,
                            active: member.is_some_and(|m| m.user.active),
                            membership: member.map(|m| m.role),
                        };
                        check_recipient(&self.actor, &recipient).map_err(refused)?;
                        chosen.extend(member.map(|m| m.user.clone()));
                    }
                    chosen
                };
                if chosen.is_empty() {
                    return Err(AppError::invalid("to", "this client has no active user to send files to"));
                }
                let practice = self.practice_record(me.practice).await?;
                Ok(Route { practice, client: Some(client), connection: None, sender, recipients: chosen })
            }
            (Actor::Client { .. }, Destination::Client(client)) => {
                self.client(Action::SendToPractice, client).await?;
                if to.is_empty() {
                    return Err(AppError::invalid(
                        "to",
                        "choose whom to send the files to: GET /clients/{client}/recipients lists them",
                    ));
                }
                let mut practice: Option<PracticeId> = None;
                let mut chosen = Vec::with_capacity(to.len());
                for id in &to {
                    let Some(Actor::Practice(user)) = self.tx.actor(*id).await? else {
                        return Err(refused(RecipientRefused::CannotOpenClient));
                    };
                    let facts = self.tx.client_facts(*id, client).await?;
                    check_recipient(&self.actor, &Recipient::PracticeUser { user: &user, facts: &facts })
                        .map_err(refused)?;
                    if practice.is_some_and(|p| p != user.practice) {
                        return Err(AppError::invalid("to", "send to the people of one practice at a time"));
                    }
                    practice = Some(user.practice);
                    chosen.push(self.user_record(*id).await?);
                }
                let practice = practice.ok_or(AppError::invalid("to", "choose at least one recipient"))?;
                let practice = self.practice_record(practice).await?;
                Ok(Route { practice, client: Some(client), connection: None, sender, recipients: chosen })
            }
            (Actor::Practice(_) | Actor::Outside { .. }, Destination::Connection(id)) => {
                let connection = self.connection(Action::SendOverConnection, id).await?;
                let facts = connection.facts();
                let mut chosen = Vec::new();
                if self.practice_user().is_some_and(|p| p.practice == connection.practice) {
                    // The practice side sends to the outside party.
                    let party = self.user_record(connection.outside_party).await?;
                    if to.iter().any(|id| *id != party.id) {
                        return Err(AppError::invalid("to", "files over a connection go to its outside party only"));
                    }
                    let recipient =
                        Recipient::OutsideParty { user: party.id, active: party.active, connection: &facts };
                    check_recipient(&self.actor, &recipient).map_err(refused)?;
                    chosen.push(party);
                } else {
                    if to.is_empty() {
                        return Err(AppError::invalid("to", "choose the admins or staff of the practice to send to"));
                    }
                    for id in &to {
                        let Some(Actor::Practice(user)) = self.tx.actor(*id).await? else {
                            return Err(refused(RecipientRefused::NoActiveConnection));
                        };
                        let recipient = Recipient::PracticeUserOverConnection { user: &user, connection: &facts };
                        check_recipient(&self.actor, &recipient).map_err(refused)?;
                        chosen.push(self.user_record(*id).await?);
                    }
                }
                let practice = self.practice_record(connection.practice).await?;
                Ok(Route { practice, client: None, connection: Some(id), sender, recipients: chosen })
            }
            (Actor::Outside { .. }, Destination::Client(_)) => Err(AppError::not_found("client")),
            (Actor::Client { .. }, Destination::Connection(_)) => Err(AppError::not_found("connection")),
            (Actor::Operator, _) => Err(AppError::Forbidden { rule: Rule::NotForThisKindOfUser }),
        }
    }

    /// The same route as `transfer` was made for, checked again now.
    pub(super) async fn route_of(&mut self, transfer: &TransferRecord) -> Result<Route, AppError> {
        let destination = match (transfer.client, transfer.connection) {
            (Some(client), _) => Destination::Client(client),
            (None, Some(connection)) => Destination::Connection(connection),
            (None, None) => return Err(AppError::Internal("a transfer without a destination".into())),
        };
        self.route(&SendRequest { destination, to: transfer.recipients.clone() }).await
    }
}
