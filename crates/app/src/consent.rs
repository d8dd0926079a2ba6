//! Consent: engagements with clients and connections with outside parties
//! (PRODUCT.md rules 2 and 3), and a client's own users.
//!
//! Every change of state goes through [`ConsentState::apply_for_practice`],
//! so the domain decides which transitions exist and that only an approved
//! practice can be asked or accept (rule 1). Who may make the change is
//! decided by [`ferry_domain::access::decide`] on the engagement's or
//! connection's facts.

use std::collections::HashMap;

use ferry_domain::access::{Action, EngagementFacts, Resource, Rule, can_open_client, decide};
use ferry_domain::consent::{ConsentError, ConsentEvent, ConsentState, Side, files_expire_at};
use ferry_domain::ids::{ClientId, ConnectionId, EngagementId, PracticeId, UserId};
use ferry_domain::people::{Actor, ClientRole, Role};
use ferry_domain::values::{EmailAddress, OrganisationName, PersonName};
use ferry_mail::templates::{
    AccessGranted, AccessRevoked, AddressInUse, Audience, Invitation, InvitationKind, InvitedAs, LinkToken,
};
use ferry_ports::Tx;
use ferry_ports::records::{
    ClientMemberRecord, ClientRecord, ClientWithFacts, ConnectionRecord, Cursor, EngagementRecord, NewToken, NewUser,
    Page, PageRequest, PracticeRecord, TokenPurpose, UserKind, UserRecord,
};
use uuid::Uuid;

use crate::accounts::after;
use crate::context::Work;
use crate::error::parse;
use crate::secret::SecretToken;
use crate::{App, AppError, Principal};

/// A practice admin invites a client by email (a "file sharing request").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteClient {
    /// The client business's name.
    pub client_name: String,
    /// The contact person's email address; the invitation goes there.
    pub email: String,
    /// The contact person's name, required whoever has the address (an
    /// existing client user keeps their own).
    pub name: Option<String>,
}

/// A practice admin invites an outside party (such as a client's accountant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteOutsideParty {
    /// Their name (used when the address has no Ferry account yet).
    pub name: String,
    /// Their email address; the invitation goes there.
    pub email: String,
}

/// A client owner invites a colleague to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteClientMember {
    /// Their name (used when the address has no Ferry account yet).
    pub name: String,
    /// Their email address.
    pub email: String,
}

/// What inviting a colleague answers: the same whoever the address belongs
/// to, so the answer tells nothing about the person (issue 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInvited {
    /// The client they are invited to.
    pub client: ClientId,
    /// The address invited.
    pub email: EmailAddress,
    /// The name given.
    pub name: PersonName,
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

/// An engagement with both of its sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementView {
    /// The engagement and its state.
    pub engagement: EngagementRecord,
    /// The practice side.
    pub practice: PracticeRecord,
    /// The client side.
    pub client: ClientRecord,
}

/// A connection with both of its sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionView {
    /// The connection and its state.
    pub connection: ConnectionRecord,
    /// The practice side.
    pub practice: PracticeRecord,
    /// The outside party.
    pub outside_party: UserRecord,
}

/// What accepting an invitation link started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcceptedInvitation {
    /// An engagement between a practice and the invitee's client, now active.
    Engagement(EngagementView),
    /// A connection between a practice and the invitee, now active.
    Connection(ConnectionView),
    /// The invitee's membership of a client, made now.
    Membership(ClientMemberRecord),
}

/// A consent change that does not fit the current state, as a conflict.
fn refused(what: &str, error: ConsentError) -> AppError {
    AppError::conflict(format!("the {what} cannot change: {error}"))
}

/// Which side the actor is on: practice users act for their practice,
/// everyone else (client owners, outside parties) for the counterparty.
const fn side_of(actor: &Actor) -> Side {
    match actor {
        Actor::Practice(_) => Side::Practice,
        _ => Side::Counterparty,
    }
}

const fn audit_name(event: ConsentEvent) -> &'static str {
    match event {
        ConsentEvent::Request => "request",
        ConsentEvent::Accept => "accept",
        ConsentEvent::Decline => "decline",
        ConsentEvent::Revoke => "revoke",
    }
}

async fn engagement_view(
    work: &mut Work,
    engagement: EngagementRecord,
    practices: &mut HashMap<PracticeId, PracticeRecord>,
) -> Result<EngagementView, AppError> {
    let practice = match practices.get(&engagement.practice) {
        Some(p) => p.clone(),
        None => {
            let p = work.practice_record(engagement.practice).await?;
            practices.insert(p.id, p.clone());
            p
        }
    };
    let client = work.tx.client(engagement.client).await?.ok_or(AppError::not_found("client"))?;
    Ok(EngagementView { engagement, practice, client })
}

async fn connection_view(
    work: &mut Work,
    connection: ConnectionRecord,
    practices: &mut HashMap<PracticeId, PracticeRecord>,
) -> Result<ConnectionView, AppError> {
    let practice = match practices.get(&connection.practice) {
        Some(p) => p.clone(),
        None => {
            let p = work.practice_record(connection.practice).await?;
            practices.insert(p.id, p.clone());
            p
        }
    };
    let outside_party = work.user_record(connection.outside_party).await?;
    Ok(ConnectionView { connection, practice, outside_party })
}

/// Every client `user` belongs to, with their role in it.
async fn clients_of(tx: &mut dyn Tx, user: UserId) -> Result<Vec<ClientWithFacts>, AppError> {
    let mut all = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let found = tx.clients_for_user(user, &page).await?;
        all.extend(found.items);
        match found.next {
            Some(next) => page = PageRequest::after(PageRequest::MAX_LIMIT, next),
            None => return Ok(all),
        }
    }
}

/// The active admins of a practice, who hear about its engagements.
async fn active_admins(tx: &mut dyn Tx, practice: PracticeId) -> Result<Vec<UserRecord>, AppError> {
    let mut admins = Vec::new();
    let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
    loop {
        let found = tx.list_members(practice, &[Role::Admin], &page).await?;
        admins.extend(found.items.into_iter().filter(|m| m.user.active).map(|m| m.user));
        match found.next {
            Some(next) => page = PageRequest::after(PageRequest::MAX_LIMIT, next),
            None => return Ok(admins),
        }
    }
}

/// Who on the `audience` side of an engagement hears about a change.
async fn other_side(
    work: &mut Work,
    audience: Audience,
    view: &EngagementView,
    owner_only: bool,
) -> Result<Vec<UserRecord>, AppError> {
    match audience {
        Audience::Practice => active_admins(&mut *work.tx, view.practice.id).await,
        Audience::Client => client_recipients(&mut *work.tx, view.client.id, owner_only).await,
    }
}

/// Who of the client hears about an engagement change: the owner only
/// (`owner_only`, for a new grant they manage) or every active user.
async fn client_recipients(tx: &mut dyn Tx, client: ClientId, owner_only: bool) -> Result<Vec<UserRecord>, AppError> {
    Ok(tx
        .client_members(client)
        .await?
        .into_iter()
        .filter(|m| m.user.active && (!owner_only || m.role == ClientRole::Owner))
        .map(|m| m.user)
        .collect())
}

/// The acting user's record (for "accepted by" and "invited by").
async fn acting_user(work: &mut Work) -> Result<UserRecord, AppError> {
    let id = work.user()?;
    work.tx.user(id).await?.ok_or(AppError::Unauthenticated)
}

/// Asks for the engagement between `practice` and `client` on behalf of
/// `side`: a new one, or again after a decline or revocation.
async fn request_engagement(
    work: &mut Work,
    practice: &PracticeRecord,
    client: ClientId,
    side: Side,
) -> Result<EngagementRecord, AppError> {
    let existing = work.tx.engagement_between(practice.id, client).await?;
    let to = ConsentState::apply_for_practice(existing.map(|e| e.state), ConsentEvent::Request, side, practice.status)
        .map_err(|e| refused("engagement", e))?;
    let id = match existing {
        Some(engagement) => {
            work.tx.set_engagement_state(engagement.id, engagement.state, to, work.now).await?;
            engagement.id
        }
        None => {
            let id = EngagementId::from_uuid(work.new_id());
            let record = EngagementRecord { id, practice: practice.id, client, state: to, changed_at: work.now };
            work.tx.insert_engagement(&record).await?;
            id
        }
    };
    work.tx.engagement(id).await?.ok_or(AppError::not_found("engagement"))
}

/// Mints an invitation token for `user`, stores its hash and returns it with its expiry.
async fn mint_invitation(
    work: &mut Work,
    user: UserId,
    purpose: TokenPurpose,
) -> Result<(SecretToken, time::OffsetDateTime), AppError> {
    let token = SecretToken::mint();
    let expires_at = after(work.now, work.app().config().invitation_ttl);
    work.tx.insert_token(&NewToken { hash: token.hash(), purpose, user, created_at: work.now, expires_at }).await?;
    Ok((token, expires_at))
}

/// Loads an engagement and decides `action` on it for the actor; returns it
/// with the side the actor acts for.
async fn engagement_in_scope(
    work: &mut Work,
    action: Action,
    id: EngagementId,
) -> Result<(EngagementRecord, Side), AppError> {
    let engagement = work.tx.engagement(id).await?.ok_or(AppError::not_found("engagement"))?;
    let membership = match work.actor {
        Actor::Client { user, .. } => work.tx.client_facts(user, engagement.client).await?.membership,
        _ => None,
    };
    work.allow(action, Resource::Engagement(&EngagementFacts { practice: engagement.practice, membership }))?;
    Ok((engagement, side_of(&work.actor)))
}

/// Loads a connection and decides `action` on it for the actor; returns it
/// with the side the actor acts for.
async fn connection_in_scope(
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

/// Applies `event` to an engagement for the actor, after the scope check,
/// and queues the mail that goes with it. Returns the engagement as it is now.
async fn change_engagement(work: &mut Work, id: EngagementId, event: ConsentEvent) -> Result<EngagementView, AppError> {
    let action = match event {
        ConsentEvent::Revoke => Action::RevokeEngagement,
        _ => Action::AnswerEngagement,
    };
    let (engagement, side) = engagement_in_scope(work, action, id).await?;
    let practice = work.practice_record(engagement.practice).await?;
    let to = ConsentState::apply_for_practice(Some(engagement.state), event, side, practice.status)
        .map_err(|e| refused("engagement", e))?;
    work.tx.set_engagement_state(engagement.id, engagement.state, to, work.now).await?;
    let updated = work.tx.engagement(id).await?.ok_or(AppError::not_found("engagement"))?;
    let client = work.tx.client(engagement.client).await?.ok_or(AppError::not_found("client"))?;
    let view = EngagementView { engagement: updated, practice, client };
    let by = acting_user(work).await?;
    let letterhead = work.app().letterhead(&view.practice);
    // The other side hears about it: the practice's admins, or the client's
    // owner (who manages access) when it starts and all its users when it ends.
    let audience = match side {
        Side::Practice => Audience::Client,
        Side::Counterparty => Audience::Practice,
    };
    match event {
        ConsentEvent::Accept => {
            for to in other_side(work, audience, &view, true).await? {
                let mail = AccessGranted {
                    to: to.email,
                    recipient_name: Some(to.name),
                    audience,
                    client: view.client.id,
                    client_name: view.client.name.clone(),
                    accepted_by: by.name.clone(),
                };
                work.mail(&mail, &letterhead).await?;
            }
        }
        // Only the end of an active engagement takes access away; a
        // withdrawn request never gave any.
        ConsentEvent::Revoke if engagement.state.is_active() => {
            let files_kept_until = files_expire_at(work.now).date();
            for to in other_side(work, audience, &view, false).await? {
                let mail = AccessRevoked {
                    to: to.email,
                    recipient_name: Some(to.name),
                    audience,
                    client: view.client.id,
                    client_name: view.client.name.clone(),
                    ended_by: by.name.clone(),
                    files_kept_until,
                };
                work.mail(&mail, &letterhead).await?;
            }
        }
        _ => {}
    }
    let detail = format!("{} → {} by the {}", engagement.state, to, side.as_str());
    work.audit(
        &format!("engagement.{}", audit_name(event)),
        Some(view.practice.id),
        Some(view.client.id),
        Some(id.as_uuid()),
        detail,
    )
    .await?;
    Ok(view)
}

/// Applies `event` to a connection for the actor, after the scope check.
async fn change_connection(work: &mut Work, id: ConnectionId, event: ConsentEvent) -> Result<ConnectionView, AppError> {
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

/// An invitation by `practice` to an address whose account cannot be used
/// that way: its owner is told by mail (the inviter is answered as for any
/// address), the attempt is audited, and nothing else is recorded.
pub(crate) async fn address_in_use(
    mut work: Work,
    practice: &PracticeRecord,
    email: EmailAddress,
    invited_as: InvitedAs,
    action: &str,
) -> Result<(), AppError> {
    let inviter = acting_user(&mut work).await?;
    let mail = AddressInUse { to: email, inviter: inviter.name, invited_as };
    work.mail(&mail, &work.app().letterhead(practice)).await?;
    work.audit(action, Some(practice.id), None, None, "the address has an account that cannot be used for this")
        .await?;
    work.commit().await
}

/// The invitee of a join link becomes a member of `client` (the link's
/// user is the actor of `work`), and older links to it stop working.
async fn join_client(work: &mut Work, client: ClientId) -> Result<ClientMemberRecord, AppError> {
    let user = work.user()?;
    if !matches!(work.actor, Actor::Client { active: true, .. }) {
        return Err(AppError::InvalidToken);
    }
    if work.tx.client_members(client).await?.iter().any(|m| m.user.id == user) {
        return Err(AppError::conflict("you already belong to this client"));
    }
    work.tx.add_client_member(client, user, ClientRole::Member).await?;
    work.tx.revoke_join_tokens(user, client, work.now).await?;
    work.audit("client.members.join", None, Some(client), Some(user.as_uuid()), "accepted an invitation to join")
        .await?;
    work.tx.client_members(client).await?.into_iter().find(|m| m.user.id == user).ok_or(AppError::not_found("member"))
}

/// The invitee of an engagement link (the actor of `work`) becomes the owner
/// of the invitation's client when it has no users yet: a practice's
/// invitation of someone who already had an account records them only now.
async fn claim_new_client(work: &mut Work, id: EngagementId) -> Result<(), AppError> {
    let user = work.user()?;
    let engagement = work.tx.engagement(id).await?.ok_or(AppError::InvalidToken)?;
    if matches!(work.actor, Actor::Client { active: true, .. })
        && work.tx.client_members(engagement.client).await?.is_empty()
    {
        work.tx.add_client_member(engagement.client, user, ClientRole::Owner).await?;
        work.audit(
            "client.owner.join",
            Some(engagement.practice),
            Some(engagement.client),
            Some(user.as_uuid()),
            "became the owner accepting the practice's invitation",
        )
        .await?;
    }
    Ok(())
}

/// Takes `user` out of `client`, and voids any invitation that would bring them back.
async fn end_membership(work: &mut Work, client: ClientId, user: UserId) -> Result<(), AppError> {
    work.tx.remove_client_member(client, user).await?;
    work.tx.revoke_join_tokens(user, client, work.now).await?;
    Ok(())
}

/// The items of `all` (sorted by `key`) after the page's cursor, at most its limit.
fn page_in_memory<T>(mut all: Vec<T>, page: &PageRequest, key: impl Fn(&T) -> Uuid) -> Result<Page<T>, AppError> {
    all.sort_by_key(|item| key(item));
    let after = match &page.after {
        Some(Cursor(raw)) => {
            Some(Uuid::parse_str(raw).map_err(|_| AppError::invalid("after", "after is not a cursor of this list"))?)
        }
        None => None,
    };
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let mut items: Vec<T> = all.into_iter().filter(|item| after.is_none_or(|a| key(item) > a)).collect();
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| Cursor(key(last).to_string()))
    } else {
        None
    };
    Ok(Page { items, next })
}

impl App {
    /// A practice admin invites a client by email: a file sharing request.
    ///
    /// For a new address this records the client, its owner (who has no
    /// password yet) and an engagement requested by the practice, and mails
    /// a single-use link that accepts it. For an existing client user it
    /// asks again about the client of theirs of that name that the practice
    /// already asked (after a decline or revocation), or records a new
    /// client with no users: they become its owner only when they accept
    /// (membership is consent).
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field (including an address of a
    /// practice user or outside party, and a missing `name` for a new
    /// address); [`AppError::NotFound`] outside the practice or while it is
    /// not approved; [`AppError::Conflict`] when the engagement is already
    /// active or waiting for an answer.
    pub async fn invite_client(
        &self,
        who: &Principal,
        practice: PracticeId,
        input: &InviteClient,
    ) -> Result<EngagementView, AppError> {
        let client_name = parse("client_name", &input.client_name, OrganisationName::parse)?;
        let email = parse("email", &input.email, EmailAddress::parse)?;
        // Required whoever has the address, so that its absence tells nothing.
        let name = match input.name.as_deref() {
            Some(name) if !name.trim().is_empty() => parse("name", name, PersonName::parse)?,
            _ => return Err(AppError::invalid("name", "name is required: the name of the client's contact person")),
        };
        let mut work = self.write(who).await?;
        let record = work.practice(Action::InviteClient, practice).await?;
        // Rule 1, before anything is recorded.
        ConsentState::apply_for_practice(None, ConsentEvent::Request, Side::Practice, record.status)
            .map_err(|e| refused("engagement", e))?;
        let inviter = acting_user(&mut work).await?;
        let (user, client) = match work.tx.user_by_email(&email).await? {
            None => {
                let user = UserId::from_uuid(work.new_id());
                work.tx
                    .insert_user(&NewUser {
                        id: user,
                        email: email.clone(),
                        name,
                        kind: UserKind::Client,
                        created_at: work.now,
                    })
                    .await?;
                let client =
                    ClientRecord { id: ClientId::from_uuid(work.new_id()), name: client_name, created_at: work.now };
                work.tx.insert_client(&client).await?;
                work.tx.add_client_member(client.id, user, ClientRole::Owner).await?;
                (Some(user), client)
            }
            Some(existing) if existing.kind == UserKind::Client => {
                // A client of theirs this practice already asked (it knows it): asked again.
                // Otherwise a new client with no users yet: nothing is recorded against
                // them until they accept, and they become its owner then.
                let wanted = client_name.as_str().to_lowercase();
                let mut known = None;
                for c in clients_of(&mut *work.tx, existing.id).await? {
                    if c.facts.membership == Some(ClientRole::Owner)
                        && c.client.name.as_str().to_lowercase() == wanted
                        && work.tx.engagement_between(practice, c.client.id).await?.is_some()
                    {
                        known = Some(c.client);
                        break;
                    }
                }
                let client = match known {
                    Some(found) => found,
                    None => {
                        let client = ClientRecord {
                            id: ClientId::from_uuid(work.new_id()),
                            name: client_name,
                            created_at: work.now,
                        };
                        work.tx.insert_client(&client).await?;
                        client
                    }
                };
                (Some(existing.id), client)
            }
            // A practice user's or an outside party's address cannot be a
            // client's: the answer is the same (a client with no users, asked),
            // and the owner of the address is told by mail.
            Some(_) => {
                let client =
                    ClientRecord { id: ClientId::from_uuid(work.new_id()), name: client_name, created_at: work.now };
                work.tx.insert_client(&client).await?;
                (None, client)
            }
        };
        let engagement = request_engagement(&mut work, &record, client.id, Side::Practice).await?;
        let letterhead = self.letterhead(&record);
        match user {
            Some(user) => {
                let (token, expires_at) =
                    mint_invitation(&mut work, user, TokenPurpose::AcceptEngagement(engagement.id)).await?;
                let mail = Invitation {
                    to: email,
                    inviter: inviter.name,
                    kind: InvitationKind::Client { client: Some(client.id), client_name: client.name.clone() },
                    token: LinkToken::new(token.expose()),
                    expires_at,
                };
                work.mail(&mail, &letterhead).await?;
            }
            None => {
                let invited_as = InvitedAs::Client { client_name: client.name.clone() };
                work.mail(&AddressInUse { to: email, inviter: inviter.name, invited_as }, &letterhead).await?;
            }
        }
        work.audit(
            "engagement.request",
            Some(practice),
            Some(client.id),
            Some(engagement.id.as_uuid()),
            "invited the client by email",
        )
        .await?;
        work.commit().await?;
        Ok(EngagementView { engagement, practice: record, client })
    }

    /// Accepts an invitation from its mailed single-use link: the engagement
    /// or connection becomes active (the practice's admins are told), or the
    /// invitee joins the client they were invited to. An invitee without a
    /// password chooses one here.
    ///
    /// # Errors
    /// [`AppError::InvalidToken`] for a wrong, used or expired link;
    /// [`AppError::Invalid`] naming `password` when one is needed and
    /// missing or too weak (the link then stays usable);
    /// [`AppError::Conflict`] when there is nothing to accept any more.
    pub async fn accept_invitation(
        &self,
        token: &SecretToken,
        password: Option<String>,
    ) -> Result<AcceptedInvitation, AppError> {
        let now = self.now();
        // Look at the link without using it up, so a weak password does not burn it.
        let mut tx = self.store().begin().await?;
        let (user, purpose) = match tx.consume_token(token.hash(), now).await? {
            Some((
                user,
                purpose @ (TokenPurpose::AcceptEngagement(_)
                | TokenPurpose::AcceptConnection(_)
                | TokenPurpose::JoinClient(_)),
            )) => (user, purpose),
            _ => return Err(AppError::InvalidToken),
        };
        let record = tx.user(user).await?.ok_or(AppError::InvalidToken)?;
        tx.rollback().await?;
        drop(tx);
        let phc = if record.has_password {
            None
        } else {
            let password = password
                .ok_or_else(|| AppError::invalid("password", "password is required: choose one to sign in with"))?;
            self.config().passwords.check_new(&password, record.email.as_str())?;
            Some(self.config().passwords.hash(password).await?)
        };

        let mut work = self.write(&Principal::User { user, session: None }).await?;
        match work.tx.consume_token(token.hash(), work.now).await? {
            Some(found) if found == (user, purpose) => {}
            _ => return Err(AppError::InvalidToken),
        }
        if let Some(phc) = &phc {
            work.tx.set_password_hash(user, phc).await?;
            work.audit(
                "auth.password_set",
                None,
                None,
                Some(user.as_uuid()),
                "chose a password accepting an invitation",
            )
            .await?;
        }
        let accepted = match purpose {
            TokenPurpose::AcceptEngagement(id) => {
                claim_new_client(&mut work, id).await?;
                AcceptedInvitation::Engagement(change_engagement(&mut work, id, ConsentEvent::Accept).await?)
            }
            TokenPurpose::AcceptConnection(id) => {
                AcceptedInvitation::Connection(change_connection(&mut work, id, ConsentEvent::Accept).await?)
            }
            TokenPurpose::JoinClient(client) => AcceptedInvitation::Membership(join_client(&mut work, client).await?),
            TokenPurpose::SetPassword => return Err(AppError::InvalidToken),
        };
        work.commit().await?;
        Ok(accepted)
    }

    /// A client owner grants an approved practice access: an engagement
    /// requested by the client, which the practice's admins accept.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client the caller does not belong to, or
    /// a practice that is not in the directory (unknown or not approved);
    /// [`AppError::Forbidden`] for members who are not the owner;
    /// [`AppError::Conflict`] when it is already active or waiting.
    pub async fn grant_practice_access(
        &self,
        who: &Principal,
        client: ClientId,
        practice: PracticeId,
    ) -> Result<EngagementView, AppError> {
        let mut work = self.write(who).await?;
        work.client(Action::GrantPracticeAccess, client).await?;
        let record = match work.tx.practice(practice).await? {
            Some(p) if p.status.is_approved() => p,
            _ => return Err(AppError::not_found("practice")),
        };
        let client_record = work.tx.client(client).await?.ok_or(AppError::not_found("client"))?;
        let engagement = request_engagement(&mut work, &record, client, Side::Counterparty).await?;
        work.audit(
            "engagement.request",
            Some(practice),
            Some(client),
            Some(engagement.id.as_uuid()),
            "granted access by the client",
        )
        .await?;
        work.commit().await?;
        Ok(EngagementView { engagement, practice: record, client: client_record })
    }

    /// The side that was asked accepts an engagement (a practice admin, or
    /// the client's owner); the other side is told.
    ///
    /// # Errors
    /// [`AppError::NotFound`] out of scope; [`AppError::Forbidden`] for
    /// roles that may not answer; [`AppError::Conflict`] for one's own
    /// request or nothing waiting.
    pub async fn accept_engagement(&self, who: &Principal, id: EngagementId) -> Result<EngagementView, AppError> {
        let mut work = self.write(who).await?;
        let view = change_engagement(&mut work, id, ConsentEvent::Accept).await?;
        work.commit().await?;
        Ok(view)
    }

    /// The side that was asked declines an engagement.
    ///
    /// # Errors
    /// As for [`App::accept_engagement`].
    pub async fn decline_engagement(&self, who: &Principal, id: EngagementId) -> Result<EngagementView, AppError> {
        let mut work = self.write(who).await?;
        let view = change_engagement(&mut work, id, ConsentEvent::Decline).await?;
        work.commit().await?;
        Ok(view)
    }

    /// Either side ends an active engagement (the practice loses every kind
    /// of access to the client at once, rule 2), or the asking side
    /// withdraws its request. Ending an active one tells the other side.
    ///
    /// # Errors
    /// As for [`App::accept_engagement`]; [`AppError::Conflict`] when there is nothing to end.
    pub async fn revoke_engagement(&self, who: &Principal, id: EngagementId) -> Result<EngagementView, AppError> {
        let mut work = self.write(who).await?;
        let view = change_engagement(&mut work, id, ConsentEvent::Revoke).await?;
        work.commit().await?;
        Ok(view)
    }

    /// The caller's engagements: a practice admin's practice's, or those of
    /// the clients a client user owns (a member of a client sees none of
    /// its engagements).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for practice roles other than admin and for
    /// outside parties; [`AppError::NotFound`] while the caller's practice
    /// is suspended; [`AppError::Invalid`] naming `after` for a cursor of
    /// another list.
    pub async fn list_my_engagements(
        &self,
        who: &Principal,
        page: &PageRequest,
    ) -> Result<Page<EngagementView>, AppError> {
        let mut work = self.read(who).await?;
        let actor = work.actor;
        let found = match actor {
            Actor::Practice(p) => {
                // Every engagement of the practice has these facts for a practice user.
                work.allow(
                    Action::ViewEngagement,
                    Resource::Engagement(&EngagementFacts { practice: p.practice, membership: None }),
                )?;
                work.tx.list_engagements_of_practice(p.practice, page).await?
            }
            Actor::Client { user, .. } => {
                let visible = |facts: &EngagementFacts| {
                    decide(&actor, Action::ViewEngagement, Resource::Engagement(facts)).is_allowed()
                };
                let mut all = Vec::new();
                for client in clients_of(&mut *work.tx, user).await? {
                    let membership = client.facts.membership;
                    let mut at = PageRequest::first(PageRequest::MAX_LIMIT);
                    loop {
                        let found = work.tx.list_engagements_of_client(client.client.id, &at).await?;
                        all.extend(
                            found
                                .items
                                .into_iter()
                                .filter(|e| visible(&EngagementFacts { practice: e.practice, membership })),
                        );
                        match found.next {
                            Some(next) => at = PageRequest::after(PageRequest::MAX_LIMIT, next),
                            None => break,
                        }
                    }
                }
                page_in_memory(all, page, |e| e.id.as_uuid())?
            }
            Actor::Outside { .. } => return Err(AppError::Forbidden { rule: Rule::NotForThisKindOfUser }),
            Actor::Operator => return Err(AppError::not_found("engagement")),
        };
        let mut practices = HashMap::new();
        let mut items = Vec::with_capacity(found.items.len());
        for engagement in found.items {
            items.push(engagement_view(&mut work, engagement, &mut practices).await?);
        }
        Ok(Page { items, next: found.next })
    }

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

    /// A client's users, owner first (the owner only).
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client the caller does not belong to;
    /// [`AppError::Forbidden`] for members; [`AppError::Invalid`] naming
    /// `after` for a cursor of another list.
    pub async fn list_client_members(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<ClientMemberRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListClientMembers, client).await?;
        let all = work.tx.client_members(client).await?;
        // Keep the store's order (owner first); the cursor is the last user shown.
        let start = match &page.after {
            Some(Cursor(raw)) => {
                let after: UserId =
                    raw.parse().map_err(|_| AppError::invalid("after", "after is not a cursor of this list"))?;
                all.iter().position(|m| m.user.id == after).map_or(all.len(), |i| i + 1)
            }
            None => 0,
        };
        let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let rest: Vec<ClientMemberRecord> = all.into_iter().skip(start).collect();
        let more = rest.len() > limit;
        let items: Vec<ClientMemberRecord> = rest.into_iter().take(limit).collect();
        let next = if more { items.last().map(|m| Cursor(m.user.id.to_string())) } else { None };
        Ok(Page { items, next })
    }

    /// A client owner invites a colleague. Membership is consent: the
    /// address is mailed a single-use link to join (a new address chooses a
    /// password there), and they are a member only once they accept it
    /// ([`App::accept_invitation`]); an address of a practice user or an
    /// outside party cannot join a client, and is sent nothing. The answer
    /// is the same in every case, and nothing shows in the client's users
    /// before they accept.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field; [`AppError::Conflict`] when
    /// they already belong to the client (the owner sees its users).
    pub async fn invite_client_member(
        &self,
        who: &Principal,
        client: ClientId,
        input: &InviteClientMember,
    ) -> Result<MemberInvited, AppError> {
        let name = parse("name", &input.name, PersonName::parse)?;
        let email = parse("email", &input.email, EmailAddress::parse)?;
        let mut work = self.write(who).await?;
        work.client(Action::InviteClientMember, client).await?;
        let record = work.tx.client(client).await?.ok_or(AppError::not_found("client"))?;
        let invited = MemberInvited { client, email: email.clone(), name: name.clone() };
        let invitee = match work.tx.user_by_email(&email).await? {
            None => {
                let id = UserId::from_uuid(work.new_id());
                work.tx.insert_user(&NewUser { id, email, name, kind: UserKind::Client, created_at: work.now }).await?;
                Some(work.user_record(id).await?)
            }
            Some(existing) if existing.kind == UserKind::Client => {
                if work.tx.client_members(client).await?.iter().any(|m| m.user.id == existing.id) {
                    return Err(AppError::conflict("they already belong to this client"));
                }
                Some(existing)
            }
            // A practice user or an outside party cannot be a client's user.
            Some(_) => None,
        };
        let detail = match invitee {
            Some(invitee) => {
                let inviter = acting_user(&mut work).await?;
                let (token, expires_at) =
                    mint_invitation(&mut work, invitee.id, TokenPurpose::JoinClient(client)).await?;
                let mail = Invitation {
                    to: invitee.email.clone(),
                    inviter: inviter.name,
                    kind: InvitationKind::ClientMember { client_name: record.name.clone() },
                    token: LinkToken::new(token.expose()),
                    expires_at,
                };
                let letterhead = self.installation_letterhead();
                work.mail(&mail, &letterhead).await?;
                (Some(invitee.id), "mailed a link to join")
            }
            None => (None, "the address belongs to a practice user or an outside party; nothing sent"),
        };
        work.audit("client.members.invite", None, Some(client), detail.0.map(|u| u.as_uuid()), detail.1).await?;
        work.commit().await?;
        Ok(invited)
    }

    /// A client's owner takes a member out of the client; they lose it at once.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client the caller does not belong to or
    /// a user who is not its member; [`AppError::Forbidden`] for members;
    /// [`AppError::Conflict`] for the owner (a client keeps its owner).
    pub async fn remove_client_member(&self, who: &Principal, client: ClientId, user: UserId) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        work.client(Action::RemoveClientMember, client).await?;
        match work.tx.client_members(client).await?.into_iter().find(|m| m.user.id == user) {
            None => return Err(AppError::not_found("member")),
            Some(m) if m.role == ClientRole::Owner => {
                return Err(AppError::conflict("the owner cannot be removed: a client keeps its owner"));
            }
            Some(_) => {}
        }
        end_membership(&mut work, client, user).await?;
        work.audit("client.members.remove", None, Some(client), Some(user.as_uuid()), "removed by the owner").await?;
        work.commit().await
    }

    /// A member leaves a client; they lose it at once.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client the caller does not belong to;
    /// [`AppError::Conflict`] for its owner (a client keeps its owner).
    pub async fn leave_client(&self, who: &Principal, client: ClientId) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        let facts = work.client(Action::LeaveClient, client).await?;
        if facts.membership == Some(ClientRole::Owner) {
            return Err(AppError::conflict("the owner cannot leave: a client keeps its owner"));
        }
        let user = work.user()?;
        end_membership(&mut work, client, user).await?;
        work.audit("client.leave", None, Some(client), Some(user.as_uuid()), "left the client").await?;
        work.commit().await
    }

    /// The engaged clients in the caller's scope (admins: every actively
    /// engaged client; staff: the assigned ones and those behind their tasks).
    ///
    /// # Errors
    /// [`AppError::NotFound`] outside the practice; [`AppError::Forbidden`] for bookkeepers.
    pub async fn list_practice_clients(
        &self,
        who: &Principal,
        practice: PracticeId,
        page: &PageRequest,
    ) -> Result<Page<ClientWithFacts>, AppError> {
        let mut work = self.read(who).await?;
        work.practice(Action::ListPracticeClients, practice).await?;
        let user = work.user()?;
        let found = work.tx.clients_for_user(user, page).await?;
        let actor = work.actor;
        Ok(Page {
            items: found
                .items
                .into_iter()
                .filter(|c| {
                    c.facts.engagement.is_some_and(ConsentState::is_active) && can_open_client(&actor, &c.facts)
                })
                .collect(),
            next: found.next,
        })
    }
}
