//! The firm portal: a practice's people, their roles, client assignments and pickers.

use ferry_domain::access::Action;
use ferry_domain::exchange::Picker;
use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::{Role, check_seat};
use ferry_domain::values::{EmailAddress, PersonName};
use ferry_mail::templates::{InvitedAs, PasswordReason};
use ferry_ports::records::{MemberRecord, NewUser, Page, PageRequest, UserKind};

use crate::accounts::send_password_link;
use crate::consent::address_in_use;
use crate::context::Work;
use crate::error::parse;
use crate::{App, AppError, Principal};

/// An admin invites an employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitePerson {
    /// Their name.
    pub name: String,
    /// Their email address.
    pub email: String,
    /// Their role: `admin`, `staff` or `bookkeeper`.
    pub role: String,
}

/// What inviting a person answers: the same whether the address already has
/// an account or not, so the answer tells nothing about it (issue 19).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInvited {
    /// The practice.
    pub practice: PracticeId,
    /// The address invited.
    pub email: EmailAddress,
    /// The name given.
    pub name: PersonName,
    /// The role they get.
    pub role: Role,
}

/// An admin changes a person. `None` keeps a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonChange {
    /// A new role.
    pub role: Option<String>,
    /// Deactivate (`false`) or reactivate (`true`).
    pub active: Option<bool>,
}

fn role(raw: &str) -> Result<Role, AppError> {
    Role::from_name(raw.trim()).ok_or_else(|| AppError::invalid("role", "role must be one of admin, staff, bookkeeper"))
}

/// Loads a member of `practice`, or not found (another practice's user does not exist here).
async fn member_of(work: &mut Work, practice: PracticeId, user: UserId) -> Result<MemberRecord, AppError> {
    match work.tx.member(user).await? {
        Some(member) if member.practice == practice => Ok(member),
        _ => Err(AppError::not_found("person")),
    }
}

/// Refuses to give `role` a new seat in `practice` when none is free (rule
/// 7). The seats are counted under the practice's lock, held until the
/// transaction ends, so that requests racing for the last seat cannot both
/// take it; the limit is read under it too.
pub(crate) async fn take_seat(work: &mut Work, practice: PracticeId, role: Role) -> Result<(), AppError> {
    work.tx.lock_practice(practice).await?;
    let limit = work.practice_record(practice).await?.plan.seat_limit;
    let in_use = work.tx.seats_in_use(practice).await?;
    check_seat(role, None, in_use, limit)?;
    Ok(())
}

impl App {
    /// An admin invites an employee by name, email and role; they get a
    /// single-use link to set their password. Admins and staff need a free seat.
    /// An address that already has a Ferry account (of any kind) cannot be
    /// invited: nothing is recorded and its owner is told by mail, and the
    /// answer is the same as for a new address.
    ///
    /// # Errors
    /// [`AppError::SeatLimit`] when no seat is free; [`AppError::Invalid`]
    /// naming the field.
    pub async fn invite_person(
        &self,
        who: &Principal,
        practice: PracticeId,
        input: &InvitePerson,
    ) -> Result<PersonInvited, AppError> {
        let name = parse("name", &input.name, PersonName::parse)?;
        let email = parse("email", &input.email, EmailAddress::parse)?;
        let role = role(&input.role)?;
        let mut work = self.write(who).await?;
        let record = work.practice(Action::InvitePerson, practice).await?;
        take_seat(&mut work, practice, role).await?;
        let invited = PersonInvited { practice, email: email.clone(), name: name.clone(), role };
        if work.tx.user_by_email(&email).await?.is_some() {
            address_in_use(work, &record, email, InvitedAs::Employee, "practice.people.invite").await?;
            return Ok(invited);
        }
        let user = UserId::from_uuid(work.new_id());
        work.tx.insert_user(&NewUser { id: user, email, name, kind: UserKind::Practice, created_at: work.now }).await?;
        work.tx.insert_member(user, practice, role).await?;
        let member = work.tx.member(user).await?.ok_or(AppError::not_found("person"))?;
        send_password_link(&mut work, &member.user, PasswordReason::NewEmployee).await?;
        work.audit(
            "practice.people.invite",
            Some(practice),
            None,
            Some(user.as_uuid()),
            format!("invited as {}", role.as_str()),
        )
        .await?;
        work.commit().await?;
        Ok(invited)
    }

    /// An admin changes a person's role, or deactivates or reactivates them.
    /// Deactivation ends their sessions at once; a role or reactivation that
    /// takes a seat needs a free one. An admin cannot lock themselves out.
    ///
    /// # Errors
    /// [`AppError::SeatLimit`]; [`AppError::Conflict`] for a change to oneself
    /// that would leave the practice without an active admin.
    pub async fn change_person(
        &self,
        who: &Principal,
        practice: PracticeId,
        user: UserId,
        change: &PersonChange,
    ) -> Result<MemberRecord, AppError> {
        let new_role = change.role.as_deref().map(role).transpose()?;
        let mut work = self.write(who).await?;
        work.practice(Action::ChangePerson, practice).await?;
        let member = member_of(&mut work, practice, user).await?;
        let role = new_role.unwrap_or(member.role);
        let active = change.active.unwrap_or(member.user.active);
        if Some(user) == work.actor.user() && (role != Role::Admin || !active) {
            return Err(AppError::conflict("you cannot demote or deactivate yourself; ask another admin"));
        }
        let took_seat = member.user.active && member.role.uses_seat();
        if active && role.uses_seat() && !took_seat {
            take_seat(&mut work, practice, role).await?;
        }
        let mut changes = Vec::new();
        if role != member.role {
            work.tx.set_role(user, role).await?;
            changes.push(format!("role {} → {}", member.role.as_str(), role.as_str()));
        }
        if active != member.user.active {
            work.tx.set_user_active(user, active).await?;
            if active {
                changes.push("reactivated".to_owned());
            } else {
                let ended = work.tx.end_all_sessions(user, work.now).await?;
                changes.push(format!("deactivated; ended {ended} sessions"));
            }
        }
        if !changes.is_empty() {
            work.audit("practice.people.change", Some(practice), None, Some(user.as_uuid()), changes.join("; "))
                .await?;
        }
        let member = member_of(&mut work, practice, user).await?;
        work.commit().await?;
        Ok(member)
    }

    /// An admin mails a person a link to choose a new password.
    ///
    /// # Errors
    /// [`AppError::Conflict`] for a deactivated person.
    pub async fn reset_person_password(
        &self,
        who: &Principal,
        practice: PracticeId,
        user: UserId,
    ) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        work.practice(Action::ResetPersonPassword, practice).await?;
        let member = member_of(&mut work, practice, user).await?;
        if !member.user.active {
            return Err(AppError::conflict("reactivate the person before resetting their password"));
        }
        work.tx.revoke_password_tokens(user, work.now).await?;
        send_password_link(&mut work, &member.user, PasswordReason::Reset).await?;
        work.audit("practice.people.reset_password", Some(practice), None, Some(user.as_uuid()), "mailed a reset link")
            .await?;
        work.commit().await
    }

    /// The practice's people as one picker or list shows them: the staff list
    /// and reviewer pickers never include bookkeepers; the bookkeeper list is
    /// the admin's.
    ///
    /// # Errors
    /// [`AppError::NotFound`] outside the practice; [`AppError::Forbidden`]
    /// when the caller's role may not see this list.
    pub async fn list_people(
        &self,
        who: &Principal,
        practice: PracticeId,
        picker: Picker,
        page: &PageRequest,
    ) -> Result<Page<MemberRecord>, AppError> {
        let action = match picker {
            Picker::Assignee => Action::ListAssigneeCandidates,
            Picker::Reviewer | Picker::Approver => Action::ListReviewerCandidates,
            Picker::StaffList => Action::ListStaff,
            Picker::BookkeeperList => Action::ListBookkeepers,
        };
        let mut work = self.read(who).await?;
        work.practice(action, practice).await?;
        let roles: Vec<Role> =
            [Role::Admin, Role::Staff, Role::Bookkeeper].into_iter().filter(|r| picker.includes(*r, true)).collect();
        let found = work.tx.list_members(practice, &roles, page).await?;
        // Pickers offer only active people; lists for admins show everyone of those roles.
        let keep_inactive = matches!(picker, Picker::StaffList | Picker::BookkeeperList)
            && work.practice_user().is_some_and(|p| p.role == Role::Admin);
        Ok(Page {
            items: found
                .items
                .into_iter()
                .filter(|m| keep_inactive || picker.includes(m.role, m.user.active))
                .collect(),
            next: found.next,
        })
    }

    /// The clients assigned to a person.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a person of another practice.
    pub async fn assigned_clients(
        &self,
        who: &Principal,
        practice: PracticeId,
        user: UserId,
    ) -> Result<Vec<ClientId>, AppError> {
        let mut work = self.read(who).await?;
        work.practice(Action::ManageClientAssignments, practice).await?;
        member_of(&mut work, practice, user).await?;
        Ok(work.tx.assigned_clients(user).await?)
    }

    /// An admin assigns a client to a staff member (at once; rule 6).
    ///
    /// # Errors
    /// [`AppError::Invalid`] when the person is not staff; [`AppError::NotFound`]
    /// for a client the practice is not engaged with.
    pub async fn assign_client(
        &self,
        who: &Principal,
        practice: PracticeId,
        user: UserId,
        client: ClientId,
    ) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        work.practice(Action::ManageClientAssignments, practice).await?;
        let member = member_of(&mut work, practice, user).await?;
        if member.role != Role::Staff {
            return Err(AppError::invalid(
                "user",
                "only staff are assigned clients: admins open every client, bookkeepers follow their tasks",
            ));
        }
        let engaged = work.tx.engagement_between(practice, client).await?;
        if !engaged.is_some_and(|e| e.state.is_active()) {
            return Err(AppError::not_found("client"));
        }
        if !work.tx.assigned_clients(user).await?.contains(&client) {
            work.tx.assign_client(user, client, work.now).await?;
            work.audit("practice.assignments.assign", Some(practice), Some(client), Some(user.as_uuid()), "assigned")
                .await?;
        }
        work.commit().await
    }

    /// An admin takes a client away from a staff member (at once).
    ///
    /// # Errors
    /// [`AppError::NotFound`] when it was not assigned.
    pub async fn unassign_client(
        &self,
        who: &Principal,
        practice: PracticeId,
        user: UserId,
        client: ClientId,
    ) -> Result<(), AppError> {
        let mut work = self.write(who).await?;
        work.practice(Action::ManageClientAssignments, practice).await?;
        member_of(&mut work, practice, user).await?;
        if !work.tx.unassign_client(user, client).await? {
            return Err(AppError::not_found("assignment"));
        }
        work.audit("practice.assignments.unassign", Some(practice), Some(client), Some(user.as_uuid()), "unassigned")
            .await?;
        work.commit().await
    }
}
