//! Practices: applying, the operator's decisions, settings and branding,
//! the directory, usage, and the installation's first run.

use ferry_domain::access::Action;
use ferry_domain::ids::{PracticeId, UserId};
use ferry_domain::people::Role;
use ferry_domain::practice::{Branding, Plan, PracticeStatus, PracticeTransition};
use ferry_domain::values::{Colour, EmailAddress, OrganisationName, PersonName, PortalUrl};
use ferry_mail::templates::PasswordReason;
use ferry_ports::records::{NewPractice, NewUser, Page, PageRequest, PracticeRecord, UserKind};

use crate::accounts::{audit_plain, send_password_link};
use crate::error::parse;
use crate::secret::SecretToken;
use crate::views::UsageView;
use crate::{App, AppError, Principal};

/// An application to run a practice on the installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeApplication {
    /// The practice's legal name.
    pub practice_name: String,
    /// Its first admin's name.
    pub admin_name: String,
    /// Its first admin's email address.
    pub admin_email: String,
}

/// Changes to a practice's settings. `None` keeps a value; `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrandingChange {
    /// The name shown instead of the legal name.
    pub display_name: Option<Option<String>>,
    /// The brand colour, `#rrggbb`.
    pub colour: Option<Option<String>>,
    /// The page of the practice's site that embeds the portal.
    pub portal_url: Option<Option<String>>,
}

struct Applicant {
    name: OrganisationName,
    admin: PersonName,
    email: EmailAddress,
}

fn check(application: &PracticeApplication) -> Result<Applicant, AppError> {
    Ok(Applicant {
        name: parse("practice_name", &application.practice_name, OrganisationName::parse)?,
        admin: parse("admin_name", &application.admin_name, PersonName::parse)?,
        email: parse("admin_email", &application.admin_email, EmailAddress::parse)?,
    })
}

impl App {
    /// Applies for a practice: it starts pending, with its applicant as its
    /// first admin (who gets a set-password link when the operator approves).
    /// An applicant whose earlier application was rejected re-applies.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field; [`AppError::Conflict`] when
    /// the address already has an account (other than a rejected applicant's).
    pub async fn apply_for_practice(&self, application: &PracticeApplication) -> Result<PracticeRecord, AppError> {
        let applicant = check(application)?;
        let mut work = self.write(&Principal::Operator).await?;
        if let Some(existing) = work.tx.user_by_email(&applicant.email).await? {
            // A rejected applicant re-applies with the same address.
            if let Some(member) = work.tx.member(existing.id).await?
                && member.role == Role::Admin
                && let Some(practice) = work.tx.practice(member.practice).await?
                && practice.status == PracticeStatus::Rejected
            {
                let to = practice
                    .status
                    .apply(PracticeTransition::Reapply)
                    .map_err(|e| AppError::conflict(e.to_string()))?;
                work.tx.set_practice_status(practice.id, practice.status, to, work.now).await?;
                work.audit("practice.reapply", Some(practice.id), None, Some(practice.id.as_uuid()), "re-applied")
                    .await?;
                let practice = work.tx.practice(practice.id).await?.ok_or(AppError::not_found("practice"))?;
                work.commit().await?;
                return Ok(practice);
            }
            return Err(AppError::Invalid {
                field: Some("admin_email".to_owned()),
                message: "admin_email already has a Ferry account; sign in, or use another address".to_owned(),
            });
        }
        let practice = PracticeId::from_uuid(work.new_id());
        let admin = UserId::from_uuid(work.new_id());
        let now = work.now;
        work.tx
            .insert_practice(&NewPractice {
                id: practice,
                name: applicant.name,
                plan: Plan::default(),
                created_at: now,
            })
            .await?;
        work.tx
            .insert_user(&NewUser {
                id: admin,
                email: applicant.email,
                name: applicant.admin,
                kind: UserKind::Practice,
                created_at: now,
            })
            .await?;
        work.tx.insert_member(admin, practice, Role::Admin).await?;
        work.audit("practice.apply", Some(practice), None, Some(practice.as_uuid()), "applied; pending approval")
            .await?;
        let record = work.tx.practice(practice).await?.ok_or(AppError::not_found("practice"))?;
        work.commit().await?;
        Ok(record)
    }

    /// The operator decides on a practice: approve (the applicant gets a
    /// set-password link), reject, suspend (its users are locked out on their
    /// next request) or reinstate.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when the transition does not apply to the current status.
    pub async fn decide_practice(
        &self,
        who: &Principal,
        id: PracticeId,
        transition: PracticeTransition,
    ) -> Result<PracticeRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::DecidePracticeApplication)?;
        let practice = work.tx.practice(id).await?.ok_or(AppError::not_found("practice"))?;
        let to = practice.status.apply(transition).map_err(|e| AppError::conflict(e.to_string()))?;
        work.tx.set_practice_status(id, practice.status, to, work.now).await?;
        if transition == PracticeTransition::Approve {
            // Every admin without a password yet (the applicant) gets a link.
            let admins = work.tx.list_members(id, &[Role::Admin], &PageRequest::first(PageRequest::MAX_LIMIT)).await?;
            for admin in admins.items.into_iter().filter(|m| m.user.active && !m.user.has_password) {
                send_password_link(&mut work, &admin.user, PasswordReason::NewEmployee).await?;
            }
        }
        let detail = format!("{} → {}", practice.status.as_str(), to.as_str());
        work.audit(&format!("practice.{}", transition_name(transition)), Some(id), None, Some(id.as_uuid()), detail)
            .await?;
        let record = work.tx.practice(id).await?.ok_or(AppError::not_found("practice"))?;
        work.commit().await?;
        Ok(record)
    }

    /// The operator sets a practice's plan: seats and base allowances.
    ///
    /// # Errors
    /// As for any use case.
    pub async fn set_plan(&self, who: &Principal, id: PracticeId, plan: Plan) -> Result<PracticeRecord, AppError> {
        let mut work = self.write(who).await?;
        work.installation(Action::SetPlan)?;
        work.tx.practice(id).await?.ok_or(AppError::not_found("practice"))?;
        work.tx.set_plan(id, plan).await?;
        let detail = format!("seats {}, storage {}, throughput {}", plan.seat_limit, plan.storage, plan.throughput);
        work.audit("practice.set_plan", Some(id), None, Some(id.as_uuid()), detail).await?;
        let record = work.tx.practice(id).await?.ok_or(AppError::not_found("practice"))?;
        work.commit().await?;
        Ok(record)
    }

    /// A practice's details, for its admins and staff.
    ///
    /// # Errors
    /// [`AppError::NotFound`] outside the practice.
    pub async fn practice(&self, who: &Principal, id: PracticeId) -> Result<PracticeRecord, AppError> {
        let mut work = self.read(who).await?;
        work.practice(Action::ViewPractice, id).await
    }

    /// An admin changes the practice's shown name, colour or portal URL.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field.
    pub async fn edit_practice(
        &self,
        who: &Principal,
        id: PracticeId,
        change: &BrandingChange,
    ) -> Result<PracticeRecord, AppError> {
        let mut work = self.write(who).await?;
        let practice = work.practice(Action::EditPracticeSettings, id).await?;
        let mut branding: Branding = practice.branding.clone();
        if let Some(name) = &change.display_name {
            branding.display_name =
                name.as_deref().map(|n| parse("display_name", n, OrganisationName::parse)).transpose()?;
        }
        if let Some(colour) = &change.colour {
            branding.colour = colour.as_deref().map(|c| parse("colour", c, Colour::parse)).transpose()?;
        }
        if let Some(url) = &change.portal_url {
            branding.portal_url = url.as_deref().map(|u| parse("portal_url", u, PortalUrl::parse)).transpose()?;
        }
        work.tx.set_branding(id, &branding).await?;
        work.audit("practice.edit", Some(id), None, Some(id.as_uuid()), "changed settings").await?;
        let record = work.tx.practice(id).await?.ok_or(AppError::not_found("practice"))?;
        work.commit().await?;
        Ok(record)
    }

    /// The directory of approved practices, for client owners choosing whom to grant access.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for anyone but client users.
    pub async fn practice_directory(
        &self,
        who: &Principal,
        page: &PageRequest,
    ) -> Result<Page<PracticeRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.account(Action::ViewPracticeDirectory)?;
        Ok(work.tx.list_practices(Some(PracticeStatus::Approved), page).await?)
    }

    /// Storage held and this month's throughput against the allowances.
    ///
    /// # Errors
    /// [`AppError::NotFound`] outside the practice; [`AppError::Forbidden`] for non-admins.
    pub async fn usage(&self, who: &Principal, id: PracticeId) -> Result<UsageView, AppError> {
        let mut work = self.read(who).await?;
        let practice = work.practice(Action::ViewUsage, id).await?;
        let allowances = work.tx.usage(id, work.now).await?;
        Ok(UsageView { practice, allowances })
    }

    /// On a fresh installation (no practice yet), a one-time token for the
    /// link that sets up the first practice; `None` once one exists. Each call
    /// replaces the previous token.
    ///
    /// # Errors
    /// As for any store read.
    pub async fn first_run_token(&self) -> Result<Option<SecretToken>, AppError> {
        let mut tx = self.store().read().await?;
        let any = tx.list_practices(None, &PageRequest::first(1)).await?;
        tx.rollback().await?;
        if !any.items.is_empty() {
            return Ok(None);
        }
        let token = SecretToken::mint();
        *self.inner.first_run.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(token.hash());
        Ok(Some(token))
    }

    /// Sets up the installation's first practice from the first-run link:
    /// approved at once (whoever holds the link runs the installation), with
    /// its admin's password set.
    ///
    /// # Errors
    /// [`AppError::InvalidToken`] for a wrong or used link, or once any
    /// practice exists; [`AppError::Invalid`] naming the field.
    pub async fn set_up_first_practice(
        &self,
        token: &SecretToken,
        application: &PracticeApplication,
        password: String,
    ) -> Result<PracticeRecord, AppError> {
        let expected = *self.inner.first_run.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if expected != Some(token.hash()) {
            return Err(AppError::InvalidToken);
        }
        let applicant = check(application)?;
        self.config().passwords.check_new(&password, applicant.email.as_str())?;
        let phc = self.config().passwords.hash(password).await?;
        let mut work = self.write(&Principal::Operator).await?;
        if !work.tx.list_practices(None, &PageRequest::first(1)).await?.items.is_empty() {
            return Err(AppError::InvalidToken);
        }
        let practice = PracticeId::from_uuid(work.new_id());
        let admin = UserId::from_uuid(work.new_id());
        let now = work.now;
        work.tx
            .insert_practice(&NewPractice {
                id: practice,
                name: applicant.name,
                plan: Plan::default(),
                created_at: now,
            })
            .await?;
        work.tx.set_practice_status(practice, PracticeStatus::Pending, PracticeStatus::Approved, now).await?;
        work.tx
            .insert_user(&NewUser {
                id: admin,
                email: applicant.email,
                name: applicant.admin,
                kind: UserKind::Practice,
                created_at: now,
            })
            .await?;
        work.tx.insert_member(admin, practice, Role::Admin).await?;
        work.tx.set_password_hash(admin, &phc).await?;
        audit_plain(&mut *work.tx, now, Some(admin), "installation.first_run", "set up the first practice").await?;
        let record = work.tx.practice(practice).await?.ok_or(AppError::not_found("practice"))?;
        work.commit().await?;
        *self.inner.first_run.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        Ok(record)
    }
}

const fn transition_name(transition: PracticeTransition) -> &'static str {
    match transition {
        PracticeTransition::Approve => "approve",
        PracticeTransition::Reject => "reject",
        PracticeTransition::Reapply => "reapply",
        PracticeTransition::Suspend => "suspend",
        PracticeTransition::Reinstate => "reinstate",
    }
}
