//! Signing in and out, sessions, passwords, and the signed-in user's own account.

use std::net::IpAddr;

use ferry_domain::access::{Action, can_open_client};
use ferry_domain::ids::UserId;
use ferry_domain::people::Actor;
use ferry_domain::practice::PracticeStatus;
use ferry_domain::values::{EmailAddress, PersonName};
use ferry_mail::templates::{LinkToken, PasswordReason, SetPassword, Template};
use ferry_ports::Tx;
use ferry_ports::records::{
    ClientWithFacts, NewSession, NewToken, OutgoingMail, Page, PageRequest, ThrottleKey, TokenPurpose, UserKind,
    UserRecord,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::context::Work;
use crate::error::parse;
use crate::secret::{MAX_PASSWORD_CHARS, SecretToken};
use crate::views::{Authenticated, MeView};
use crate::{App, AppError, Principal};

/// What a person types to sign in.
#[derive(Clone)]
pub struct Credentials {
    /// Their email address.
    pub email: String,
    /// Their password.
    pub password: String,
    /// Where the attempt came from, for throttling per address.
    pub address: Option<IpAddr>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("email", &self.email)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// A new session.
#[derive(Debug)]
pub struct SignedIn {
    /// The session's secret token: give it to the user once, never store it.
    pub token: SecretToken,
    /// The session's id.
    pub session: Uuid,
    /// Who signed in.
    pub user: UserRecord,
    /// When the session ends unless ended before.
    pub expires_at: OffsetDateTime,
}

pub(crate) fn after(at: OffsetDateTime, duration: std::time::Duration) -> OffsetDateTime {
    at + time::Duration::try_from(duration).unwrap_or(time::Duration::DAY)
}

impl App {
    /// Signs in with email and password.
    ///
    /// # Errors
    /// [`AppError::Throttled`] after too many failures for the account or the
    /// address; [`AppError::BadCredentials`] for a wrong address or password
    /// (which is counted); [`AppError::AccountLocked`] for a deactivated
    /// account or a suspended practice.
    pub async fn sign_in(&self, credentials: Credentials) -> Result<SignedIn, AppError> {
        let config = self.config();
        let Ok(email) = EmailAddress::parse(&credentials.email) else {
            return Err(AppError::BadCredentials);
        };
        if credentials.password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(AppError::BadCredentials);
        }
        let mut keys = vec![ThrottleKey::Account(email.clone())];
        keys.extend(credentials.address.map(ThrottleKey::Address));
        let now = self.now();
        // Counted as a failure before the password is checked, until it is found right.
        let attempt = self.admit_attempt(&keys, now).await?;

        // Read: the user and their hash.
        let mut tx = self.store().read().await?;
        let user = tx.user_by_email(&email).await?;
        let phc = match &user {
            Some(user) => tx.password_hash(user.id).await?,
            None => None,
        };
        let actor = match &user {
            Some(user) => tx.actor(user.id).await?,
            None => None,
        };
        tx.rollback().await?;
        drop(tx);

        let matches = config.passwords.verify(credentials.password, phc).await?;
        let mut tx = self.store().begin().await?;
        let (Some(user), true) = (user, matches) else {
            // The attempt admitted above stays counted: it is the failure.
            audit_plain(&mut *tx, now, None, "auth.login_failed", "wrong email or password").await?;
            tx.commit().await?;
            return Err(AppError::BadCredentials);
        };
        tx.forget_login_attempt(attempt).await?;
        if let Some(reason) = locked(&user, actor.as_ref()) {
            audit_plain(&mut *tx, now, Some(user.id), "auth.login_refused", reason).await?;
            tx.commit().await?;
            return Err(AppError::AccountLocked(reason.to_owned()));
        }
        tx.clear_login_failures(&keys[0]).await?;
        let token = SecretToken::mint();
        let session = self.new_id();
        let expires_at = after(now, config.session_ttl);
        tx.insert_session(&NewSession { id: session, hash: token.hash(), user: user.id, created_at: now, expires_at })
            .await?;
        audit_plain(&mut *tx, now, Some(user.id), "auth.login", "signed in").await?;
        tx.commit().await?;
        Ok(SignedIn { token, session, user, expires_at })
    }

    /// Finds the live session of `token`: its user must be active, and the
    /// actor is loaded fresh (for the portal boundary, layer 1).
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] for an unknown, ended or expired session.
    pub async fn authenticate(&self, token: &SecretToken) -> Result<Authenticated, AppError> {
        let now = self.now();
        let mut tx = self.store().read().await?;
        let session = tx.session(token.hash(), now).await?.ok_or(AppError::Unauthenticated)?;
        let actor = tx.actor(session.user).await?.ok_or(AppError::Unauthenticated)?;
        let terms_pending = match &self.config().terms {
            Some(terms) if tx.accepted_terms(session.user).await?.is_none_or(|v| v < terms.version) => {
                Some(terms.version)
            }
            _ => None,
        };
        tx.rollback().await?;
        Ok(Authenticated {
            principal: Principal::User { user: session.user, session: Some(session.id) },
            actor,
            expires_at: session.expires_at,
            terms_pending,
        })
    }

    /// Ends the caller's session.
    ///
    /// # Errors
    /// [`AppError::Unauthenticated`] without a session.
    pub async fn sign_out(&self, who: &Principal) -> Result<(), AppError> {
        let Principal::User { session: Some(session), .. } = who else { return Err(AppError::Unauthenticated) };
        let mut work = self.write(who).await?;
        let user = work.account(Action::SignOut)?;
        work.tx.end_session(*session, work.now).await?;
        work.audit("auth.logout", None, None, Some(user.as_uuid()), "ended this session").await?;
        work.commit().await
    }

    /// Ends every session of the caller; returns how many.
    ///
    /// # Errors
    /// As for any use case.
    pub async fn sign_out_everywhere(&self, who: &Principal) -> Result<u64, AppError> {
        let mut work = self.write(who).await?;
        let user = work.account(Action::SignOut)?;
        let ended = work.tx.end_all_sessions(user, work.now).await?;
        work.audit("auth.logout_all", None, None, Some(user.as_uuid()), format!("ended {ended} sessions")).await?;
        work.commit().await?;
        Ok(ended)
    }

    /// Sets a password from a mailed single-use link; ends every session of
    /// the user (a stolen session does not survive a reset).
    ///
    /// # Errors
    /// [`AppError::InvalidToken`] for a wrong, used or expired link (nothing
    /// is used up then); [`AppError::Invalid`] for a weak password (the link
    /// stays usable).
    pub async fn set_password_with_link(&self, token: &SecretToken, password: String) -> Result<(), AppError> {
        let now = self.now();
        // Check the password before the link is used up.
        let mut tx = self.store().begin().await?;
        let Some((user, TokenPurpose::SetPassword)) = peek_token(&mut *tx, token, now).await? else {
            return Err(AppError::InvalidToken);
        };
        let record = tx.user(user).await?.ok_or(AppError::InvalidToken)?;
        self.config().passwords.check_new(&password, record.email.as_str())?;
        tx.rollback().await?;
        drop(tx);
        let phc = self.config().passwords.hash(password).await?;

        let mut tx = self.store().begin().await?;
        match tx.consume_token(token.hash(), now).await? {
            Some((consumed, TokenPurpose::SetPassword)) if consumed == user => {}
            _ => return Err(AppError::InvalidToken),
        }
        tx.set_password_hash(user, &phc).await?;
        tx.revoke_password_tokens(user, now).await?;
        tx.end_all_sessions(user, now).await?;
        audit_plain(&mut *tx, now, Some(user), "auth.password_set", "set a password from a mailed link").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mails a set-password link to `email` if an active account has it;
    /// earlier links of that account stop working. The answer is the same
    /// either way, and so is the work behind it (the throttle's count, the
    /// revocation, a link minted and its mail rendered, an audit entry and
    /// the commit; only a real account's link is stored and mailed), so that
    /// neither tells who has an account. Requests are throttled per email
    /// address, whether or not an account has it, and per network address.
    ///
    /// # Errors
    /// [`AppError::Invalid`] when `email` is not an email address (nothing
    /// is counted); [`AppError::Throttled`] after too many requests for the
    /// email address or from `address`.
    pub async fn request_password_reset(&self, email: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let email = parse("email", email, EmailAddress::parse)?;
        let mut keys = vec![ThrottleKey::ResetEmail(email.clone())];
        keys.extend(address.map(ThrottleKey::ResetAddress));
        self.admit_attempt(&keys, self.now()).await?;

        let mut work = self.write(&Principal::Operator).await?;
        let account = work.tx.user_by_email(&email).await?.filter(|user| user.active);
        // For nobody, a stand-in goes through the same steps; no row has its id.
        let user = account.clone().unwrap_or_else(|| UserRecord {
            id: UserId::from_uuid(Uuid::nil()),
            email: email.clone(),
            name: PersonName::parse("Ferry user").expect("a valid name"),
            kind: UserKind::Client,
            active: true,
            has_password: true,
            created_at: work.now,
        });
        work.tx.revoke_password_tokens(user.id, work.now).await?;
        let link = password_link(&mut work, &user, PasswordReason::Reset).await?;
        let detail = if account.is_some() {
            link.store(&mut work).await?;
            "mailed a reset link"
        } else {
            "no active account has the address; nothing was mailed"
        };
        let subject = account.map(|user| user.id.as_uuid());
        work.audit("auth.password_reset_requested", None, None, subject, detail).await?;
        work.commit().await
    }

    /// The signed-in user: their account, practice and role, or client memberships.
    ///
    /// # Errors
    /// As for any use case.
    pub async fn me(&self, who: &Principal) -> Result<MeView, AppError> {
        let mut work = self.read(who).await?;
        let user_id = work.account(Action::ViewSelf)?;
        let user = work.tx.user(user_id).await?.ok_or(AppError::Unauthenticated)?;
        let practice = match work.actor {
            Actor::Practice(p) => {
                let record = work.practice_record(p.practice).await?;
                Some((record, p.role))
            }
            _ => None,
        };
        let mut clients = Vec::new();
        if user.kind == UserKind::Client {
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            loop {
                let found = work.tx.clients_for_user(user_id, &page).await?;
                clients.extend(found.items.into_iter().filter_map(|c| c.facts.membership.map(|role| (c.client, role))));
                match found.next {
                    Some(next) => page = PageRequest::after(PageRequest::MAX_LIMIT, next),
                    None => break,
                }
            }
        }
        let accepted_terms = work.tx.accepted_terms(user_id).await?;
        let terms = self.config().terms.clone();
        Ok(MeView { user, practice, clients, accepted_terms, terms })
    }

    /// The account switcher: the clients the caller may open, a page at a time.
    ///
    /// # Errors
    /// As for any use case.
    pub async fn my_clients(&self, who: &Principal, page: &PageRequest) -> Result<Page<ClientWithFacts>, AppError> {
        let mut work = self.read(who).await?;
        let user = work.account(Action::ListMyClients)?;
        let found = work.tx.clients_for_user(user, page).await?;
        let actor = work.actor;
        Ok(Page {
            items: found.items.into_iter().filter(|c| can_open_client(&actor, &c.facts)).collect(),
            next: found.next,
        })
    }

    /// Records that the caller accepted the terms of use of `version`.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when `version` is not the current version.
    pub async fn accept_terms(&self, who: &Principal, version: u32) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        let user = work.account(Action::AcceptTerms)?;
        let current = self.config().terms.as_ref().map(|t| t.version);
        if current != Some(version) {
            return Err(AppError::conflict(match current {
                Some(v) => format!("the current terms are version {v}; read and accept those"),
                None => "this installation has no terms of use to accept".to_owned(),
            }));
        }
        work.tx.accept_terms(user, version, work.now).await?;
        work.audit("me.accept_terms", None, None, Some(user.as_uuid()), format!("accepted terms version {version}"))
            .await?;
        work.commit().await
    }

    /// Writes a refusal to the audit log (in its own transaction: the refused
    /// use case changed nothing). Failures to write are logged, not raised.
    pub async fn record_refusal(&self, who: &Principal, action: Action, reason: &str) {
        let now = self.now();
        let result = async {
            let mut tx = self.store().begin().await?;
            let detail = format!("refused: {reason}");
            audit_plain(&mut *tx, now, who.user(), &format!("{}.refused", action.as_str()), &detail).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, action = action.as_str(), "could not audit a refusal");
        }
    }
}

/// Why `user` may not sign in now, if they may not.
fn locked(user: &UserRecord, actor: Option<&Actor>) -> Option<&'static str> {
    if !user.active {
        return Some("this account is deactivated; ask your practice's admin or the operator");
    }
    match actor {
        Some(Actor::Practice(p)) if p.practice_status == PracticeStatus::Suspended => {
            Some("your practice is suspended; its admin can ask the operator to reinstate it")
        }
        _ => None,
    }
}

/// Looks at a single-use token without using it up (the transaction is rolled back by the caller).
async fn peek_token(
    tx: &mut dyn Tx,
    token: &SecretToken,
    now: OffsetDateTime,
) -> Result<Option<(ferry_domain::ids::UserId, TokenPurpose)>, AppError> {
    Ok(tx.consume_token(token.hash(), now).await?)
}

pub(crate) async fn audit_plain(
    tx: &mut dyn Tx,
    at: OffsetDateTime,
    actor: Option<ferry_domain::ids::UserId>,
    action: &str,
    detail: &str,
) -> Result<(), AppError> {
    let entry = ferry_ports::records::AuditEntry {
        at,
        actor,
        action: action.to_owned(),
        practice: None,
        client: None,
        subject: actor.map(|u| u.as_uuid()),
        detail: detail.to_owned(),
    };
    tx.append_audit(&entry).await?;
    Ok(())
}

/// Mints a set-password link for `user`, stores its hash, and queues the
/// mail under their practice's letterhead (or the installation's).
pub(crate) async fn send_password_link(
    work: &mut Work,
    user: &UserRecord,
    reason: PasswordReason,
) -> Result<(), AppError> {
    password_link(work, user, reason).await?.store(work).await
}

/// A set-password link minted for a user, with its mail rendered, not yet
/// stored or queued.
struct PasswordLink {
    token: NewToken,
    mail: OutgoingMail,
}

impl PasswordLink {
    /// Stores the link's hash and queues its mail.
    async fn store(&self, work: &mut Work) -> Result<(), AppError> {
        work.tx.insert_token(&self.token).await?;
        work.enqueue(&self.mail).await
    }
}

/// Mints a set-password link for `user` and renders its mail under their
/// practice's letterhead (or the installation's).
async fn password_link(work: &mut Work, user: &UserRecord, reason: PasswordReason) -> Result<PasswordLink, AppError> {
    let token = SecretToken::mint();
    let expires_at = after(work.now, work.app().config().password_link_ttl);
    let letterhead = match work.tx.member(user.id).await? {
        Some(member) => match work.tx.practice(member.practice).await? {
            Some(practice) => work.app().letterhead(&practice),
            None => work.app().installation_letterhead(),
        },
        None => work.app().installation_letterhead(),
    };
    let mail = SetPassword {
        to: user.email.clone(),
        name: user.name.clone(),
        reason,
        token: LinkToken::new(token.expose()),
        expires_at,
    }
    .render(&letterhead);
    let token = NewToken {
        hash: token.hash(),
        purpose: TokenPurpose::SetPassword,
        user: user.id,
        created_at: work.now,
        expires_at,
    };
    Ok(PasswordLink { token, mail })
}
