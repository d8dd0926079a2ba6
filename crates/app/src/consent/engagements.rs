//! Engagements (rule 2): a practice invites a client or a client grants a
//! practice access; either side accepts, declines or revokes; the
//! practice's clients are those it is engaged with.

use super::*;

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

/// Asks for the engagement between `practice` and `client` on behalf of
/// `side`: a new one, or again after a decline or revocation.
pub(super) async fn request_engagement(
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

/// Loads an engagement and decides `action` on it for the actor; returns it
/// with the side the actor acts for.
pub(super) async fn engagement_in_scope(
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

/// Applies `event` to an engagement for the actor, after the scope check,
/// and queues the mail that goes with it. Returns the engagement as it is now.
pub(super) async fn change_engagement(
    work: &mut Work,
    id: EngagementId,
    event: ConsentEvent,
) -> Result<EngagementView, AppError> {
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

/// The invitee of an engagement link (the actor of `work`) becomes the owner
/// of the invitation's client when it has no users yet: a practice's
/// invitation of someone who already had an account records them only now.
pub(super) async fn claim_new_client(work: &mut Work, id: EngagementId) -> Result<(), AppError> {
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

/// Every client `user` belongs to, with their role in it.
pub(super) async fn clients_of(tx: &mut dyn Tx, user: UserId) -> Result<Vec<ClientWithFacts>, AppError> {
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
