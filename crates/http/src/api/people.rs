//! A practice's people: staff and bookkeeper lists, invitations, changes,
//! password resets, client assignments and pickers.

use ferry_app::{App, InvitePerson, PersonChange};
use ferry_domain::exchange::Picker;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::dto::{Done, InvitedOut, Page, PersonOut, Str, client_id, page_request, practice_id, user_id};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct PeopleApi {
    pub(crate) app: App,
}

/// An employee to invite.
#[derive(Object)]
struct InviteBody {
    /// Their name.
    name: Str,
    /// Their email address; the set-password link goes there.
    email: Str,
    /// `admin`, `staff` (both use a seat) or `bookkeeper` (no seat).
    role: Str,
}

/// Changes to a person: a field left out is kept.
#[derive(Object)]
struct ChangeBody {
    /// A new role.
    role: Option<Str>,
    /// `false` deactivates (ending their sessions at once), `true` reactivates.
    active: Option<bool>,
}

/// Clients assigned to a person.
#[derive(Object)]
struct AssignedOut {
    /// Client ids.
    clients: Vec<String>,
}

impl PeopleApi {
    async fn list(
        &self,
        caller: &Caller,
        practice: &str,
        picker: Picker,
        limit: Option<u32>,
        after: Option<String>,
    ) -> ApiResult<Json<Page<PersonOut>>> {
        let request = page_request(limit, after)?;
        let found = self.app.list_people(&caller.principal()?, practice_id(practice)?, picker, &request).await?;
        Ok(Json(Page::from_found(&found, PersonOut::from)))
    }
}

#[OpenApi(tag = "Tag::People")]
impl PeopleApi {
    /// The staff list: admins and staff (never bookkeepers).
    #[oai(path = "/practices/:practice/people", method = "get", operation_id = "list_staff")]
    async fn list_staff(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<PersonOut>>> {
        self.list(&caller, &practice.0, Picker::StaffList, limit.0, after.0).await
    }

    /// The practice's bookkeepers (admins only).
    #[oai(path = "/practices/:practice/bookkeepers", method = "get", operation_id = "list_bookkeepers")]
    async fn list_bookkeepers(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<PersonOut>>> {
        self.list(&caller, &practice.0, Picker::BookkeeperList, limit.0, after.0).await
    }

    /// Invite an employee (admins). Admins and staff need a free seat.
    ///
    /// A new address is mailed a link to set a password; an address that
    /// already has a Ferry account is told by mail that it cannot be
    /// invited, and nothing is recorded. The answer is the same either way.
    #[oai(path = "/practices/:practice/people", method = "post", operation_id = "invite_person")]
    async fn invite(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        body: Json<InviteBody>,
    ) -> ApiResult<Json<InvitedOut>> {
        let body = body.0;
        let input = InvitePerson { name: body.name.0, email: body.email.0, role: body.role.0 };
        let invited = self.app.invite_person(&caller.principal()?, practice_id(&practice.0)?, &input).await?;
        Ok(Json(InvitedOut {
            practice: Some(invited.practice.to_string()),
            role: Some(invited.role.as_str().to_owned()),
            ..InvitedOut::new(&invited.email, &invited.name)
        }))
    }

    /// Change a person's role, or deactivate or reactivate them (admins).
    #[oai(path = "/practices/:practice/people/:user", method = "patch", operation_id = "change_person")]
    async fn change(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        user: Path<String>,
        body: Json<ChangeBody>,
    ) -> ApiResult<Json<PersonOut>> {
        let change = PersonChange { role: body.0.role.map(String::from), active: body.0.active };
        let member =
            self.app.change_person(&caller.principal()?, practice_id(&practice.0)?, user_id(&user.0)?, &change).await?;
        Ok(Json(PersonOut::from(&member)))
    }

    /// Mail a person a link to choose a new password (admins).
    #[oai(
        path = "/practices/:practice/people/:user/password-reset",
        method = "post",
        operation_id = "reset_person_password"
    )]
    async fn reset(&self, caller: Data<&Caller>, practice: Path<String>, user: Path<String>) -> ApiResult<Json<Done>> {
        self.app.reset_person_password(&caller.principal()?, practice_id(&practice.0)?, user_id(&user.0)?).await?;
        Ok(Json(Done::ok()))
    }

    /// The clients assigned to a person (admins).
    #[oai(path = "/practices/:practice/people/:user/clients", method = "get", operation_id = "list_assigned_clients")]
    async fn assigned(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        user: Path<String>,
    ) -> ApiResult<Json<AssignedOut>> {
        let clients =
            self.app.assigned_clients(&caller.principal()?, practice_id(&practice.0)?, user_id(&user.0)?).await?;
        Ok(Json(AssignedOut { clients: clients.iter().map(ToString::to_string).collect() }))
    }

    /// Assign a client to a staff member (admins); applies at once.
    #[oai(path = "/practices/:practice/people/:user/clients/:client", method = "put", operation_id = "assign_client")]
    async fn assign(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        user: Path<String>,
        client: Path<String>,
    ) -> ApiResult<Json<Done>> {
        let (p, u, c) = (practice_id(&practice.0)?, user_id(&user.0)?, client_id(&client.0)?);
        self.app.assign_client(&caller.principal()?, p, u, c).await?;
        Ok(Json(Done::ok()))
    }

    /// Take a client away from a staff member (admins); applies at once.
    #[oai(
        path = "/practices/:practice/people/:user/clients/:client",
        method = "delete",
        operation_id = "unassign_client"
    )]
    async fn unassign(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        user: Path<String>,
        client: Path<String>,
    ) -> ApiResult<Json<Done>> {
        let (p, u, c) = (practice_id(&practice.0)?, user_id(&user.0)?, client_id(&client.0)?);
        self.app.unassign_client(&caller.principal()?, p, u, c).await?;
        Ok(Json(Done::ok()))
    }

    /// Who can take a task: admins, staff and bookkeepers (admins and staff).
    #[oai(path = "/practices/:practice/pickers/assignees", method = "get", operation_id = "list_assignee_candidates")]
    async fn assignees(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<PersonOut>>> {
        self.list(&caller, &practice.0, Picker::Assignee, limit.0, after.0).await
    }

    /// Who can review or approve: admins and staff only (admins and staff).
    #[oai(path = "/practices/:practice/pickers/reviewers", method = "get", operation_id = "list_reviewer_candidates")]
    async fn reviewers(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<PersonOut>>> {
        self.list(&caller, &practice.0, Picker::Reviewer, limit.0, after.0).await
    }
}
