//! Consent: engagements with clients (invitations, grants, answers, ends),
//! connections with outside parties, a client's colleagues, and the
//! practice's engaged clients.

use ferry_app::{
    AcceptedInvitation, App, ConnectionView, EngagementView, InviteClient, InviteClientMember, InviteOutsideParty,
    SecretToken,
};
use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{ConnectionId, EngagementId, PracticeId};
use ferry_ports::records::{ClientMemberRecord, PracticeRecord};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::dto::{
    ClientOut, Done, InvitedOut, Page, Str, UserOut, client_id, id, page_request, practice_id, rfc3339, user_id,
};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct ConsentApi {
    pub(crate) app: App,
}

/// A client to invite: a file sharing request.
#[derive(Object)]
struct InviteClientBody {
    /// The client business's name.
    #[oai(validator(max_length = 1000))]
    client_name: Str,
    /// The contact person's email address; the invitation goes there.
    #[oai(validator(max_length = 320))]
    email: Str,
    /// The contact person's name: required, whoever has the address (an
    /// existing client user keeps their own).
    #[oai(validator(max_length = 1000))]
    name: Option<Str>,
}

/// An invitation link to accept.
#[derive(Object)]
struct AcceptInvitationBody {
    /// The token from the link.
    #[oai(validator(max_length = 256))]
    token: Str,
    /// A password to sign in with: required when the invitee has none yet
    /// (at least 10 characters); ignored otherwise.
    #[oai(validator(max_length = 1024))]
    password: Option<Str>,
}

/// A practice to grant access to.
#[derive(Object)]
struct GrantBody {
    /// The practice's id, from the directory.
    #[oai(validator(max_length = 100))]
    practice: Str,
}

/// An outside party to invite.
#[derive(Object)]
struct InviteOutsideBody {
    /// Their name (kept for an existing account).
    #[oai(validator(max_length = 1000))]
    name: Str,
    /// Their email address; the invitation goes there.
    #[oai(validator(max_length = 320))]
    email: Str,
}

/// A colleague to invite to the client.
#[derive(Object)]
struct InviteMemberBody {
    /// Their name (an existing account keeps its own).
    #[oai(validator(max_length = 1000))]
    name: Str,
    /// Their email address; the link to join goes there.
    #[oai(validator(max_length = 320))]
    email: Str,
}

/// A practice, as named on an engagement or connection.
#[derive(Debug, Clone, Object)]
struct ConsentPractice {
    /// The practice's id.
    id: String,
    /// The name shown (display name, else legal name).
    name: String,
}

impl From<&PracticeRecord> for ConsentPractice {
    fn from(p: &PracticeRecord) -> Self {
        Self { id: p.id.to_string(), name: p.branding.display_name.as_ref().unwrap_or(&p.name).as_str().to_owned() }
    }
}

/// An engagement between a practice and a client.
#[derive(Debug, Clone, Object)]
struct EngagementOut {
    /// The engagement's id.
    id: String,
    /// The practice side.
    practice: ConsentPractice,
    /// The client side.
    client: ClientOut,
    /// `requested`, `active`, `declined` or `revoked`.
    state: String,
    /// While requested: who asked, `practice` or `client`.
    #[oai(skip_serializing_if_is_none)]
    requested_by: Option<String>,
    /// The side named with the state (who asked, declined or ended it), `practice` or `client`.
    #[oai(skip_serializing_if_is_none)]
    changed_by: Option<String>,
    /// When the state last changed.
    changed_at: String,
}

/// The name of a side of an engagement or connection, as the API shows it.
const fn side_name(side: Side, counterparty: &'static str) -> &'static str {
    match side {
        Side::Practice => "practice",
        Side::Counterparty => counterparty,
    }
}

fn requested_by(state: ConsentState, counterparty: &'static str) -> Option<String> {
    match state {
        ConsentState::Requested { by } => Some(side_name(by, counterparty).to_owned()),
        _ => None,
    }
}

impl From<&EngagementView> for EngagementOut {
    fn from(v: &EngagementView) -> Self {
        let state = v.engagement.state;
        Self {
            id: v.engagement.id.to_string(),
            practice: ConsentPractice::from(&v.practice),
            client: ClientOut::from(&v.client),
            state: state.name().to_owned(),
            requested_by: requested_by(state, "client"),
            changed_by: state.by().map(|by| side_name(by, "client").to_owned()),
            changed_at: rfc3339(v.engagement.changed_at),
        }
    }
}

/// A connection between a practice and an outside party.
#[derive(Debug, Clone, Object)]
struct ConnectionOut {
    /// The connection's id.
    id: String,
    /// The practice side.
    practice: ConsentPractice,
    /// The outside party.
    outside_party: UserOut,
    /// `requested`, `active`, `declined` or `revoked`.
    state: String,
    /// While requested: who asked, `practice` or `outside_party`.
    #[oai(skip_serializing_if_is_none)]
    requested_by: Option<String>,
    /// The side named with the state (who asked, declined or ended it), `practice` or `outside_party`.
    #[oai(skip_serializing_if_is_none)]
    changed_by: Option<String>,
    /// When the state last changed.
    changed_at: String,
}

impl From<&ConnectionView> for ConnectionOut {
    fn from(v: &ConnectionView) -> Self {
        let state = v.connection.state;
        Self {
            id: v.connection.id.to_string(),
            practice: ConsentPractice::from(&v.practice),
            outside_party: UserOut::from(&v.outside_party),
            state: state.name().to_owned(),
            requested_by: requested_by(state, "outside_party"),
            changed_by: state.by().map(|by| side_name(by, "outside_party").to_owned()),
            changed_at: rfc3339(v.connection.changed_at),
        }
    }
}

/// What accepting an invitation started.
#[derive(Debug, Clone, Object)]
struct AcceptedOut {
    /// `engagement`, `connection` or `membership`.
    kind: String,
    /// The engagement, now active (for `engagement`).
    #[oai(skip_serializing_if_is_none)]
    engagement: Option<EngagementOut>,
    /// The connection, now active (for `connection`).
    #[oai(skip_serializing_if_is_none)]
    connection: Option<ConnectionOut>,
    /// The invitee's membership of the client they joined (for `membership`).
    #[oai(skip_serializing_if_is_none)]
    membership: Option<ClientMemberOut>,
}

/// A user of a client with their role.
#[derive(Debug, Clone, Object)]
struct ClientMemberOut {
    /// The user.
    user: UserOut,
    /// The client's id.
    client: String,
    /// `owner` or `member`.
    role: String,
}

impl From<&ClientMemberRecord> for ClientMemberOut {
    fn from(m: &ClientMemberRecord) -> Self {
        Self { user: UserOut::from(&m.user), client: m.client.to_string(), role: m.role.as_str().to_owned() }
    }
}

fn engagement_id(raw: &str) -> ApiResult<EngagementId> {
    id("engagement", raw, true)
}

fn connection_id(raw: &str) -> ApiResult<ConnectionId> {
    id("connection", raw, true)
}

#[OpenApi(tag = "Tag::Consent")]
impl ConsentApi {
    /// Invite a client by email: a file sharing request (admins of an approved practice).
    ///
    /// A new address gets a client record and an invitation link that
    /// accepts it (choosing a password). For an existing client user, their
    /// client of that name that this practice already asked is asked again
    /// (after a decline or revocation); otherwise the client is recorded with
    /// no users, and they become its owner only when they accept.
    #[oai(path = "/practices/:practice/engagements", method = "post", operation_id = "invite_client")]
    async fn invite_client(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        body: Json<InviteClientBody>,
    ) -> ApiResult<Json<EngagementOut>> {
        let body = body.0;
        let input =
            InviteClient { client_name: body.client_name.0, email: body.email.0, name: body.name.map(String::from) };
        let view = self.app.invite_client(&caller.principal()?, practice_id(&practice.0)?, &input).await?;
        Ok(Json(EngagementOut::from(&view)))
    }

    /// The practice's connections with outside parties (admins).
    #[oai(path = "/practices/:practice/connections", method = "get", operation_id = "list_connections")]
    async fn list_connections(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<ConnectionOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.list_connections(&caller.principal()?, practice_id(&practice.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, ConnectionOut::from)))
    }

    /// Invite an outside party (such as a client's accountant) by email (admins of an approved practice).
    ///
    /// The connection is requested and the invitee mailed a link that
    /// accepts it; an address of a practice or client user is told by mail
    /// that it cannot be one, and nothing is recorded. The answer is the
    /// same either way; the connection shows in the practice's list.
    #[oai(path = "/practices/:practice/connections", method = "post", operation_id = "invite_outside_party")]
    async fn invite_outside_party(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        body: Json<InviteOutsideBody>,
    ) -> ApiResult<Json<InvitedOut>> {
        let body = body.0;
        let input = InviteOutsideParty { name: body.name.0, email: body.email.0 };
        let invited = self.app.invite_outside_party(&caller.principal()?, practice_id(&practice.0)?, &input).await?;
        Ok(Json(InvitedOut {
            practice: Some(invited.practice.to_string()),
            ..InvitedOut::new(&invited.email, &invited.name)
        }))
    }

    /// The engaged clients in the caller's scope (admins: all; staff: assigned
    /// and those behind their tasks).
    #[oai(path = "/practices/:practice/clients", method = "get", operation_id = "list_practice_clients")]
    async fn list_practice_clients(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<ClientOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.list_practice_clients(&caller.principal()?, practice_id(&practice.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, |c| ClientOut::from(&c.client))))
    }

    /// My engagements, with their state: a practice admin's practice's, or
    /// those of the clients a client user owns.
    #[oai(path = "/engagements", method = "get", operation_id = "list_my_engagements")]
    async fn list_my_engagements(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<EngagementOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.list_my_engagements(&caller.principal()?, &request).await?;
        Ok(Json(Page::from_found(&found, EngagementOut::from)))
    }

    /// My connections, with their state: a practice admin's practice's, or an outside party's own.
    #[oai(path = "/connections", method = "get", operation_id = "list_my_connections")]
    async fn list_my_connections(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<ConnectionOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.list_my_connections(&caller.principal()?, &request).await?;
        Ok(Json(Page::from_found(&found, ConnectionOut::from)))
    }

    /// Accept an invitation from its mailed link (no session needed).
    ///
    /// An invitee without a password chooses one here; a weak or missing
    /// password leaves the link usable.
    #[oai(path = "/invitations/accept", method = "post", operation_id = "accept_invitation")]
    async fn accept_invitation(&self, body: Json<AcceptInvitationBody>) -> ApiResult<Json<AcceptedOut>> {
        let body = body.0;
        let accepted = self
            .app
            .accept_invitation(&SecretToken::from_presented(&body.token), body.password.map(String::from))
            .await?;
        Ok(Json(match accepted {
            AcceptedInvitation::Engagement(view) => AcceptedOut {
                kind: "engagement".to_owned(),
                engagement: Some(EngagementOut::from(&view)),
                connection: None,
                membership: None,
            },
            AcceptedInvitation::Connection(view) => AcceptedOut {
                kind: "connection".to_owned(),
                engagement: None,
                connection: Some(ConnectionOut::from(&view)),
                membership: None,
            },
            AcceptedInvitation::Membership(member) => AcceptedOut {
                kind: "membership".to_owned(),
                engagement: None,
                connection: None,
                membership: Some(ClientMemberOut::from(&member)),
            },
        }))
    }

    /// Grant an approved practice access to the client (the owner); its admins accept it.
    #[oai(path = "/clients/:client/engagements", method = "post", operation_id = "grant_practice_access")]
    async fn grant_practice_access(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        body: Json<GrantBody>,
    ) -> ApiResult<Json<EngagementOut>> {
        let practice: PracticeId = id("practice", &body.0.practice, false)?;
        let view = self.app.grant_practice_access(&caller.principal()?, client_id(&client.0)?, practice).await?;
        Ok(Json(EngagementOut::from(&view)))
    }

    /// Accept the other side's engagement request (a practice admin, or the client's owner).
    #[oai(path = "/engagements/:engagement/accept", method = "post", operation_id = "accept_engagement")]
    async fn accept_engagement(
        &self,
        caller: Data<&Caller>,
        engagement: Path<String>,
    ) -> ApiResult<Json<EngagementOut>> {
        let view = self.app.accept_engagement(&caller.principal()?, engagement_id(&engagement.0)?).await?;
        Ok(Json(EngagementOut::from(&view)))
    }

    /// Decline the other side's engagement request.
    #[oai(path = "/engagements/:engagement/decline", method = "post", operation_id = "decline_engagement")]
    async fn decline_engagement(
        &self,
        caller: Data<&Caller>,
        engagement: Path<String>,
    ) -> ApiResult<Json<EngagementOut>> {
        let view = self.app.decline_engagement(&caller.principal()?, engagement_id(&engagement.0)?).await?;
        Ok(Json(EngagementOut::from(&view)))
    }

    /// End an engagement (either side; the practice loses access at once), or withdraw one's own request.
    #[oai(path = "/engagements/:engagement/revoke", method = "post", operation_id = "revoke_engagement")]
    async fn revoke_engagement(
        &self,
        caller: Data<&Caller>,
        engagement: Path<String>,
    ) -> ApiResult<Json<EngagementOut>> {
        let view = self.app.revoke_engagement(&caller.principal()?, engagement_id(&engagement.0)?).await?;
        Ok(Json(EngagementOut::from(&view)))
    }

    /// Accept the other side's connection request (the outside party, or a practice admin).
    #[oai(path = "/connections/:connection/accept", method = "post", operation_id = "accept_connection")]
    async fn accept_connection(
        &self,
        caller: Data<&Caller>,
        connection: Path<String>,
    ) -> ApiResult<Json<ConnectionOut>> {
        let view = self.app.accept_connection(&caller.principal()?, connection_id(&connection.0)?).await?;
        Ok(Json(ConnectionOut::from(&view)))
    }

    /// Decline the other side's connection request.
    #[oai(path = "/connections/:connection/decline", method = "post", operation_id = "decline_connection")]
    async fn decline_connection(
        &self,
        caller: Data<&Caller>,
        connection: Path<String>,
    ) -> ApiResult<Json<ConnectionOut>> {
        let view = self.app.decline_connection(&caller.principal()?, connection_id(&connection.0)?).await?;
        Ok(Json(ConnectionOut::from(&view)))
    }

    /// End a connection (either side), or withdraw one's own request.
    #[oai(path = "/connections/:connection/revoke", method = "post", operation_id = "revoke_connection")]
    async fn revoke_connection(
        &self,
        caller: Data<&Caller>,
        connection: Path<String>,
    ) -> ApiResult<Json<ConnectionOut>> {
        let view = self.app.revoke_connection(&caller.principal()?, connection_id(&connection.0)?).await?;
        Ok(Json(ConnectionOut::from(&view)))
    }

    /// The client's users, owner first (the owner).
    #[oai(path = "/clients/:client/members", method = "get", operation_id = "list_client_members")]
    async fn list_client_members(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<ClientMemberOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.list_client_members(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, ClientMemberOut::from)))
    }

    /// Invite a colleague to the client (the owner). Membership is consent:
    /// the address is mailed a link to join (a new address chooses a password
    /// there), and they are a member only once they accept it. The answer is
    /// the same whoever the address belongs to.
    #[oai(path = "/clients/:client/members", method = "post", operation_id = "invite_client_member")]
    async fn invite_client_member(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        body: Json<InviteMemberBody>,
    ) -> ApiResult<Json<InvitedOut>> {
        let body = body.0;
        let input = InviteClientMember { name: body.name.0, email: body.email.0 };
        let invited = self.app.invite_client_member(&caller.principal()?, client_id(&client.0)?, &input).await?;
        Ok(Json(InvitedOut {
            client: Some(invited.client.to_string()),
            role: Some("member".to_owned()),
            ..InvitedOut::new(&invited.email, &invited.name)
        }))
    }

    /// Remove a member from the client (the owner); they lose it at once. The owner cannot be removed.
    #[oai(path = "/clients/:client/members/:user", method = "delete", operation_id = "remove_client_member")]
    async fn remove_client_member(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        user: Path<String>,
    ) -> ApiResult<Json<Done>> {
        let (c, u) = (client_id(&client.0)?, user_id(&user.0)?);
        self.app.remove_client_member(&caller.principal()?, c, u).await?;
        Ok(Json(Done::ok()))
    }

    /// Leave a client one belongs to (any of its users but the owner); it is gone at once.
    #[oai(path = "/clients/:client/leave", method = "post", operation_id = "leave_client")]
    async fn leave_client(&self, caller: Data<&Caller>, client: Path<String>) -> ApiResult<Json<Done>> {
        self.app.leave_client(&caller.principal()?, client_id(&client.0)?).await?;
        Ok(Json(Done::ok()))
    }
}
