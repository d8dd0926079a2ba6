//! Consent: engagements with clients and connections with outside parties
//! (PRODUCT.md rules 2 and 3), and a client's own users.
//!
//! Every change of state goes through [`ConsentState::apply_for_practice`],
//! so the domain decides which transitions exist and that only an approved
//! practice can be asked or accept (rule 1). Who may make the change is
//! decided by [`ferry_domain::access::decide`] on the engagement's or
//! connection's facts.
//!
//! One room per idea: `engagements.rs`, `connections.rs`, `members.rs` (a
//! client's own users), `invitations.rs` (accepting a mailed link),
//! `views.rs`; what they share is here.

mod connections;
mod engagements;
mod invitations;
mod members;
mod views;

use connections::*;
pub use connections::{InviteOutsideParty, OutsidePartyInvited};
pub use engagements::InviteClient;
use engagements::*;
pub use invitations::AcceptedInvitation;
use members::*;
pub use members::{InviteClientMember, MemberInvited};
use views::*;
pub use views::{ConnectionView, EngagementView};

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

/// A consent change that does not fit the current state, as a conflict.
pub(super) fn refused(what: &str, error: ConsentError) -> AppError {
    AppError::conflict(format!("the {what} cannot change: {error}"))
}

/// Which side the actor is on: practice users act for their practice,
/// everyone else (client owners, outside parties) for the counterparty.
pub(super) const fn side_of(actor: &Actor) -> Side {
    match actor {
        Actor::Practice(_) => Side::Practice,
        _ => Side::Counterparty,
    }
}

pub(super) const fn audit_name(event: ConsentEvent) -> &'static str {
    match event {
        ConsentEvent::Request => "request",
        ConsentEvent::Accept => "accept",
        ConsentEvent::Decline => "decline",
        ConsentEvent::Revoke => "revoke",
    }
}

/// The active admins of a practice, who hear about its engagements.
pub(super) async fn active_admins(tx: &mut dyn Tx, practice: PracticeId) -> Result<Vec<UserRecord>, AppError> {
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
pub(super) async fn other_side(
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
pub(super) async fn client_recipients(
    tx: &mut dyn Tx,
    client: ClientId,
    owner_only: bool,
) -> Result<Vec<UserRecord>, AppError> {
    Ok(tx
        .client_members(client)
        .await?
        .into_iter()
        .filter(|m| m.user.active && (!owner_only || m.role == ClientRole::Owner))
        .map(|m| m.user)
        .collect())
}

/// The acting user's record (for "accepted by" and "invited by").
pub(super) async fn acting_user(work: &mut Work) -> Result<UserRecord, AppError> {
    let id = work.user()?;
    work.tx.user(id).await?.ok_or(AppError::Unauthenticated)
}

/// Mints an invitation token for `user`, stores its hash and returns it with its expiry.
pub(super) async fn mint_invitation(
    work: &mut Work,
    user: UserId,
    purpose: TokenPurpose,
) -> Result<(SecretToken, time::OffsetDateTime), AppError> {
    let token = SecretToken::mint();
    let expires_at = after(work.now, work.app().config().invitation_ttl);
    work.tx.insert_token(&NewToken { hash: token.hash(), purpose, user, created_at: work.now, expires_at }).await?;
    Ok((token, expires_at))
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

/// The items of `all` (sorted by `key`) after the page's cursor, at most its limit.
pub(super) fn page_in_memory<T>(
    mut all: Vec<T>,
    page: &PageRequest,
    key: impl Fn(&T) -> Uuid,
) -> Result<Page<T>, AppError> {
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
