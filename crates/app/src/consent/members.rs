//! A client's own users: listed, invited (they join by accepting a mailed
//! link), removed by the owner, or leaving.

use super::*;

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

/// The invitee of a join link becomes a member of `client` (the link's
/// user is the actor of `work`), and older links to it stop working.
pub(super) async fn join_client(work: &mut Work, client: ClientId) -> Result<ClientMemberRecord, AppError> {
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

/// Takes `user` out of `client`, and voids any invitation that would bring them back.
pub(super) async fn end_membership(work: &mut Work, client: ClientId, user: UserId) -> Result<(), AppError> {
    work.tx.remove_client_member(client, user).await?;
    work.tx.revoke_join_tokens(user, client, work.now).await?;
    Ok(())
}

impl App {
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
}
