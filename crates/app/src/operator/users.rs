//! Any user's account: listed, found, read, deactivated or reactivated,
//! sent a set-password link.

use ferry_domain::access::{Action, can_open_client};
use ferry_domain::ids::UserId;

use ferry_mail::templates::PasswordReason;
use ferry_ports::admin::UserFilter;
use ferry_ports::records::{ClientRecord, MemberRecord, Page, PageRequest, PracticeRecord, UserRecord};
use uuid::Uuid;

use crate::accounts::send_password_link;
use crate::people::take_seat;
use crate::{App, AppError, Principal};

/// Finds a user by id or email address in `tx`.
pub(super) async fn find_user(tx: &mut dyn ferry_ports::Tx, id_or_email: &str) -> Result<UserRecord, AppError> {
    let raw = id_or_email.trim();
    let found = if let Ok(id) = Uuid::try_parse(raw) {
        tx.user(UserId::from_uuid(id)).await?
    } else {
        let email = ferry_domain::values::EmailAddress::parse(raw)
            .map_err(|_| AppError::invalid("user", format!("`{raw}` is neither a user id nor an email address")))?;
        tx.user_by_email(&email).await?
    };
    found.ok_or(AppError::not_found("user"))
}

/// A user as the operator sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    /// The account.
    pub user: UserRecord,
    /// Their practice and role, for a practice user.
    pub membership: Option<MemberRecord>,
    /// That practice.
    pub practice: Option<PracticeRecord>,
    /// The clients they may open now (at most the first 500).
    pub clients: Vec<ClientRecord>,
}

impl App {
    /// Users matching `filter`, in order of id.
    ///
    /// # Errors
    /// [`AppError::Invalid`] for a cursor that is not from this list.
    pub async fn list_users(
        &self,
        who: &Principal,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<UserRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAnyUser)?;
        Ok(work.tx.list_users(filter, page).await?)
    }

    /// Finds a user by id or email address.
    ///
    /// # Errors
    /// [`AppError::NotFound`] when no account matches.
    pub async fn find_user(&self, who: &Principal, id_or_email: &str) -> Result<UserRecord, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAnyUser)?;
        find_user(&mut *work.tx, id_or_email).await
    }

    /// A user with their practice membership and the clients they may open.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user.
    pub async fn user_detail(&self, who: &Principal, user: UserId) -> Result<UserDetail, AppError> {
        let mut work = self.read(who).await?;
        work.installation(Action::ManageAnyUser)?;
        let record = work.user_record(user).await?;
        let membership = work.tx.member(user).await?;
        let practice = match &membership {
            Some(m) => work.tx.practice(m.practice).await?,
            None => None,
        };
        let mut clients = Vec::new();
        if let Some(actor) = work.tx.actor(user).await? {
            let page = work.tx.clients_for_user(user, &PageRequest::first(PageRequest::MAX_LIMIT)).await?;
            clients = page.items.into_iter().filter(|c| can_open_client(&actor, &c.facts)).map(|c| c.client).collect();
        }
        Ok(UserDetail { user: record, membership, practice, clients })
    }

    /// Deactivates (ending every session at once) or reactivates any user.
    /// Reactivating an admin or staff member needs a free seat in their practice.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user; [`AppError::Conflict`]
    /// when the user already is as asked; [`AppError::SeatLimit`].
    pub async fn set_user_active(&self, who: &Principal, user: UserId, active: bool) -> Result<UserRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::ManageAnyUser)?;
        let record = work.user_record(user).await?;
        if record.active == active {
            let state = if active { "active" } else { "deactivated" };
            return Err(AppError::conflict(format!("{} is already {state}", record.email)));
        }
        let membership = work.tx.member(user).await?;
        let detail = if active {
            if let Some(member) = &membership {
                take_seat(&mut work, member.practice, member.role).await?;
            }
            work.tx.set_user_active(user, true).await?;
            "reactivated by the operator".to_owned()
        } else {
            work.tx.set_user_active(user, false).await?;
            let ended = work.tx.end_all_sessions(user, work.now).await?;
            format!("deactivated by the operator; ended {ended} sessions")
        };
        let action = if active { "user.reactivate" } else { "user.deactivate" };
        work.audit(action, membership.map(|m| m.practice), None, Some(user.as_uuid()), detail).await?;
        let record = work.user_record(user).await?;
        work.commit().await?;
        Ok(record)
    }

    /// Mails any active user a link to choose a new password (older links
    /// stop working). The link is never shown to the operator.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for an unknown user; [`AppError::Conflict`] for
    /// a deactivated one.
    pub async fn reset_user_password(&self, who: &Principal, user: UserId) -> Result<UserRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::ManageAnyUser)?;
        let record = work.user_record(user).await?;
        if !record.active {
            return Err(AppError::conflict(format!(
                "{} is deactivated; reactivate them before resetting their password",
                record.email
            )));
        }
        work.tx.revoke_password_tokens(user, work.now).await?;
        send_password_link(&mut work, &record, PasswordReason::Reset).await?;
        let practice = work.tx.member(user).await?.map(|m| m.practice);
        work.audit("user.reset_password", practice, None, Some(user.as_uuid()), "mailed a reset link").await?;
        work.commit().await?;
        Ok(record)
    }
}
