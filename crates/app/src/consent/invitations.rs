//! Accepting an invitation from a mailed link: an engagement, a connection
//! or a client's membership, with a login made for a new address.

use super::*;

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

impl App {
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
}
