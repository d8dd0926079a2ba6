//! Connections (rule 3) with outside parties: invited by a practice,
//! accepted, declined or revoked.

use super::*;

/// A practice admin invites an outside party (such as a client's accountant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteOutsideParty {
    /// Their name (used when the address has no Ferry account yet).
    pub name: String,
    /// Their email address; the invitation goes there.
    pub email: String,
}

/// What inviting an outside party answers: the same whoever has the
/// address, so the answer tells nothing about it (issue 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsidePartyInvited {
    /// The practice.
    pub practice: PracticeId,
    /// The address invited.
    pub email: EmailAddress,
    /// The name given.
    pub name: PersonName,
}

/// Loads a connection and decides `action` on it for the actor; returns it
/// with the side the actor acts for.
pub(super) async fn connection_in_scope(
    work: &mut Work,
    action: Action,
    id: ConnectionId,
) -> Result<(ConnectionRecord, Side), AppError> {
    let connection = work.connection(action, id).await?;
    // A practice user acts for their practice only on its own connections;
    // on another practice's connection they are its outside party.
    let side = match work.practice_user() {
        Some(p) if p.practice == connection.practice => Side::Practice,
        _ => Side::Counterparty,
    };
    Ok((connection, side))
}

/// Applies `event` to a connection for the actor, after the scope check.
pub(super) async fn change_connection(
    work: &mut Work,
    id: ConnectionId,
    event: ConsentEvent,
) -> Result<ConnectionView, AppError> {
    let action = match event {
        ConsentEvent::Revoke => Action::RevokeConnection,
        _ => Action::AnswerConnection,
    };
    let (connection, side) = connection_in_scope(work, action, id).await?;
    let practice = work.practice_record(connection.practice).await?;
    let to = ConsentState::apply_for_practice(Some(connection.state), event, side, practice.status)
        .map_err(|e| refused("connection", e))?;
    work.tx.set_connection_state(connection.id, connection.state, to, work.now).await?;
    let updated = work.tx.connection(id).await?.ok_or(AppError::not_found("connection"))?;
    let outside_party = work.user_record(connection.outside_party).await?;
    let detail = format!("{} → {} by the {}", connection.state, to, side.as_str());
    work.audit(&format!("connection.{}", audit_name(event)), Some(practice.id), None, Some(id.as_uuid()), detail)
        .await?;
    Ok(ConnectionView { connection: updated, practice, outside_party })
}

impl App {
    /// A practice admin invites an outside party (such as a client's
    /// accountant) by email: a connection requested by the practice, and a
    /// single-use link that accepts it. The address of a practice or client
    /// user cannot be an outside party: nothing is recorded and its owner is
    /// told by mail. The answer is the same whoever has the address.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field; [`AppError::NotFound`]
    /// outside the practice or while it is not approved;
    /// [`AppError::Conflict`] when the connection is already active or
    /// waiting (the practice sees its connections).
    pub async fn invite_outside_party(
        &self,
        who: &Principal,
        practice: PracticeId,
        input: &InviteOutsideParty,
    ) -> Result<OutsidePartyInvited, AppError> {
        let name = parse("name", &input.name, PersonName::parse)?;
        let email = parse("email", &input.email, EmailAddress::parse)?;
        let invited = OutsidePartyInvited { practice, email: email.clone(), name: name.clone() };
        let mut work = self.write(who).await?;
        let record = work.practice(Action::InviteOutsideParty, practice).await?;
        ConsentState::apply_for_practice(None, ConsentEvent::Request, Side::Practice, record.status)
            .map_err(|e| refused("connection", e))?;
        let inviter = acting_user(&mut work).await?;
        let party = match work.tx.user_by_email(&email).await? {
            None => {
                let id = UserId::from_uuid(work.new_id());
                work.tx
                    .insert_user(&NewUser {
                        id,
                        email: email.clone(),
                        name,
                        kind: UserKind::Outside,
                        created_at: work.now,
                    })
                    .await?;
                work.user_record(id).await?
            }
            Some(existing) if existing.kind == UserKind::Outside => existing,
            Some(_) => {
                address_in_use(work, &record, email, InvitedAs::OutsideParty, "connection.request").await?;
                return Ok(invited);
            }
        };
        // The party's connection with this practice, if one was ever made.
        let mut existing = None;
        let mut at = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = work.tx.list_connections_of_party(party.id, &at).await?;
            if let Some(c) = found.items.into_iter().find(|c| c.practice == practice) {
                existing = Some(c);
                break;
            }
            match found.next {
                Some(next) => at = PageRequest::after(PageRequest::MAX_LIMIT, next),
                None => break,
            }
        }
        let to = ConsentState::apply_for_practice(
            existing.map(|c| c.state),
            ConsentEvent::Request,
            Side::Practice,
            record.status,
        )
        .map_err(|e| refused("connection", e))?;
        let id = match existing {
            Some(c) => {
                work.tx.set_connection_state(c.id, c.state, to, work.now).await?;
                c.id
            }
            None => {
                let id = ConnectionId::from_uuid(work.new_id());
                let connection =
                    ConnectionRecord { id, practice, outside_party: party.id, state: to, changed_at: work.now };
                work.tx.insert_connection(&connection).await?;
                id
            }
        };
        let (token, expires_at) = mint_invitation(&mut work, party.id, TokenPurpose::AcceptConnection(id)).await?;
        let mail = Invitation {
            to: email,
            inviter: inviter.name,
            kind: InvitationKind::OutsideParty,
            token: LinkToken::new(token.expose()),
            expires_at,
        };
        let letterhead = self.letterhead(&record);
        work.mail(&mail, &letterhead).await?;
        work.audit("connection.request", Some(practice), None, Some(id.as_uuid()), "invited an outside party by email")
            .await?;
        work.commit().await?;
        Ok(invited)
    }

    /// A practice's connections with outside parties (admins).
    ///
    /// # Errors
    /// [`AppError::NotFound`] outside the practice; [`AppError::Forbidden`] for non-admins.
    pub async fn list_connections(
        &self,
        who: &Principal,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<ConnectionView>, AppError> {
        let mut work = self.read(who).await?;
        let record = work.practice(Action::ListConnections, practice).await?;
        let found = work.tx.list_connections_of_practice(practice, page).await?;
        let mut practices = HashMap::from([(record.id, record)]);
        let mut items = Vec::with_capacity(found.items.len());
        for connection in found.items {
            items.push(connection_view(&mut work, connection, &mut practices).await?);
        }
        Ok(Page { items, next: found.next })
    }

    /// The caller's connections: a practice admin's practice's, or an
    /// outside party's own.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for practice roles other than admin and for
    /// client users; [`AppError::NotFound`] while the caller's practice is suspended.
    pub async fn list_my_connections(
        &self,
        who: &Principal,
        page: &PageRequest,
    ) -> Result<Page<ConnectionView>, AppError> {
        let mut work = self.read(who).await?;
        let actor = work.actor;
        let found = match actor {
            Actor::Practice(p) => {
                // The practice's connections are the admins' list of them.
                work.allow(Action::ListConnections, Resource::Practice(p.practice))?;
                work.tx.list_connections_of_practice(p.practice, page).await?
            }
            Actor::Outside { user, .. } => work.tx.list_connections_of_party(user, page).await?,
            Actor::Client { .. } => return Err(AppError::Forbidden { rule: Rule::NotForThisKindOfUser }),
            Actor::Operator => return Err(AppError::not_found("connection")),
        };
        let mut practices = HashMap::new();
        let mut items = Vec::with_capacity(found.items.len());
        for connection in found.items {
            work.allow(Action::ViewConnection, Resource::Connection(&connection.facts()))?;
            items.push(connection_view(&mut work, connection, &mut practices).await?);
        }
        Ok(Page { items, next: found.next })
    }

    /// The side that was asked (the outside party, or a practice admin)
    /// accepts a connection.
    ///
    /// # Errors
    /// [`AppError::NotFound`] out of scope; [`AppError::Conflict`] for one's
    /// own request or nothing waiting.
    pub async fn accept_connection(&self, who: &Principal, id: ConnectionId) -> Result<ConnectionView, AppError> {
        let mut work = self.write(who).await?;
        let view = change_connection(&mut work, id, ConsentEvent::Accept).await?;
        work.commit().await?;
        Ok(view)
    }

    /// The side that was asked declines a connection.
    ///
    /// # Errors
    /// As for [`App::accept_connection`].
    pub async fn decline_connection(&self, who: &Principal, id: ConnectionId) -> Result<ConnectionView, AppError> {
        let mut work = self.write(who).await?;
        let view = change_connection(&mut work, id, ConsentEvent::Decline).await?;
        work.commit().await?;
        Ok(view)
    }

    /// Either side ends a connection, or the asking side withdraws its request.
    ///
    /// # Errors
    /// As for [`App::accept_connection`]; [`AppError::Conflict`] when there is nothing to end.
    pub async fn revoke_connection(&self, who: &Principal, id: ConnectionId) -> Result<ConnectionView, AppError> {
        let mut work = self.write(who).await?;
        let view = change_connection(&mut work, id, ConsentEvent::Revoke).await?;
        work.commit().await?;
        Ok(view)
    }
}
