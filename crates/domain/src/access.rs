//! The access decision: facts in, decision out (PRODUCT.md "Access rules").
//!
//! [`decide`] takes who is asking ([`Actor`]), what they want to do
//! ([`Action`]) and the facts about the thing they want to do it to
//! ([`Resource`]), and returns a [`Decision`] that names the [`Rule`] that
//! decided. It never fetches anything: the caller loads the facts fresh for
//! every request, so every change applies on the next request (rule 6).
//!
//! Two layers enforce the bookkeeper portal. Layer 1, the portal boundary, is
//! [`portal_boundary`]: a bookkeeper may only ever perform the actions in
//! [`BOOKKEEPER_ALLOWLIST`], whatever the resource. Layer 2 is the scope
//! check of [`decide`], which also re-applies layer 1 so that it holds even
//! for a caller that forgot the boundary.

use std::fmt;

use crate::consent::ConsentState;
use crate::ids::{ClientId, PracticeId, UserId};
use crate::people::{Actor, ClientRole, PracticeUser, Role};
use crate::practice::PracticeStatus;
use crate::work::FilingStatus;

/// What a resource an action applies to is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The installation itself: operator work.
    Installation,
    /// The signed-in user's own account and lists.
    Account,
    /// One practice: its settings, people and lists.
    Practice,
    /// An engagement between one practice and one client.
    Engagement,
    /// A connection between one practice and one outside party.
    Connection,
    /// One client and its context.
    Client,
    /// One task of a client's filing.
    Task,
    /// One document of a client.
    Document,
}

macro_rules! actions {
    ($($(#[$meta:meta])* $name:ident = $text:literal, $scope:ident;)*) => {
        /// Everything a person can ask Ferry to do. Each operation of the API
        /// maps to exactly one action.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$meta])* $name,)*
        }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Self] = &[$(Self::$name,)*];

            /// The stable name, as used in the API, logs and `explain`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$name => $text,)* }
            }

            /// What kind of resource the action applies to.
            #[must_use]
            pub const fn scope(self) -> Scope {
                match self { $(Self::$name => Scope::$scope,)* }
            }
        }
    };
}

actions! {
    // The operator's work, through the admin CLI.
    /// Approve, reject, suspend or reinstate a practice.
    DecidePracticeApplication = "practice.decide", Installation;
    /// Set a practice's plan: seats and base allowances.
    SetPlan = "practice.set_plan", Installation;
    /// Record, list or remove purchased add-ons.
    ManageAddOns = "practice.add_ons", Installation;
    /// List, deactivate, reactivate or reset any user.
    ManageAnyUser = "user.manage_any", Installation;
    /// Explain any user's access to any client.
    ExplainAccess = "access.explain", Installation;
    /// Export and verify the audit log; check consistency; collect garbage.
    RunInstallation = "installation.run", Installation;

    // The signed-in user's own account.
    /// End this session or every session.
    SignOut = "auth.sign_out", Account;
    /// Read one's own profile, role and memberships.
    ViewSelf = "me.view", Account;
    /// Accept the installation's current terms of use.
    AcceptTerms = "me.accept_terms", Account;
    /// The account switcher: the clients one may open.
    ListMyClients = "me.clients", Account;
    /// My Tasks: the tasks assigned to me.
    ListMyTasks = "me.tasks", Account;
    /// The dashboard: assigned, due soon, overdue.
    ViewMyDashboard = "me.dashboard", Account;
    /// Files sent to me.
    ListMyInbox = "me.inbox", Account;
    /// Files I sent.
    ListMyOutbox = "me.outbox", Account;
    /// The directory of approved practices a client may grant access to.
    ViewPracticeDirectory = "practices.directory", Account;

    // One practice.
    /// Read the practice's details.
    ViewPractice = "practice.view", Practice;
    /// Change settings, branding and the portal URL.
    EditPracticeSettings = "practice.edit", Practice;
    /// Storage and throughput against allowances.
    ViewUsage = "practice.usage", Practice;
    /// The staff list: admins and staff.
    ListStaff = "practice.staff", Practice;
    /// The admin's list of bookkeepers.
    ListBookkeepers = "practice.bookkeepers", Practice;
    /// Invite an employee with a role.
    InvitePerson = "practice.people.invite", Practice;
    /// Change a person's role, deactivate or reactivate them.
    ChangePerson = "practice.people.change", Practice;
    /// Mail a person a set-password link.
    ResetPersonPassword = "practice.people.reset_password", Practice;
    /// Read and change which clients are assigned to whom.
    ManageClientAssignments = "practice.assignments", Practice;
    /// The task assignee picker (admins, staff and bookkeepers).
    ListAssigneeCandidates = "practice.pickers.assignees", Practice;
    /// The reviewer and approver pickers (admins and staff only).
    ListReviewerCandidates = "practice.pickers.reviewers", Practice;
    /// The engaged clients in my scope.
    ListPracticeClients = "practice.clients", Practice;
    /// Invite a client by email (a file sharing request).
    InviteClient = "practice.engagements.invite", Practice;
    /// List the practice's connections with outside parties.
    ListConnections = "practice.connections.list", Practice;
    /// Invite an outside party by email.
    InviteOutsideParty = "practice.connections.invite", Practice;

    // One engagement or connection.
    /// Read an engagement and its state.
    ViewEngagement = "engagement.view", Engagement;
    /// Accept or decline the other side's request.
    AnswerEngagement = "engagement.answer", Engagement;
    /// End the engagement, or withdraw one's own request.
    RevokeEngagement = "engagement.revoke", Engagement;
    /// Read a connection and its state.
    ViewConnection = "connection.view", Connection;
    /// Accept or decline the other side's request.
    AnswerConnection = "connection.answer", Connection;
    /// End the connection, or withdraw one's own request.
    RevokeConnection = "connection.revoke", Connection;
    /// Send files over an active connection.
    SendOverConnection = "connection.send", Connection;

    // One client: read-only context.
    /// Client details.
    ViewClient = "client.view", Client;
    /// The client's filings.
    ListFilings = "client.filings.list", Client;
    /// One filing with its tasks.
    ViewFiling = "filing.view", Client;
    /// A task with its checklist, time entries and comments.
    ViewTask = "task.view", Client;
    /// The client's documents.
    ListDocuments = "client.documents.list", Client;
    /// The client's email log.
    ViewEmailLog = "client.emails", Client;
    /// Read a filing's discussion.
    ReadDiscussion = "filing.discussion.read", Client;
    /// Post to a filing's discussion.
    PostDiscussion = "filing.discussion.post", Client;

    // One client: practice-side changes.
    /// Create a filing.
    CreateFiling = "client.filings.create", Client;
    /// File, cancel or reopen a filing.
    ChangeFilingStatus = "filing.lifecycle", Client;
    /// Create a task on a filing.
    CreateTask = "filing.tasks.create", Client;
    /// Upload files to a client's users.
    SendToClient = "client.send", Client;

    // One client: client-side.
    /// The client's users.
    ListClientMembers = "client.members.list", Client;
    /// Invite a colleague to the client (they join by accepting a mailed link).
    InviteClientMember = "client.members.invite", Client;
    /// Remove a member from the client.
    RemoveClientMember = "client.members.remove", Client;
    /// Leave a client one belongs to.
    LeaveClient = "client.leave", Client;
    /// Grant an approved practice access (start an engagement).
    GrantPracticeAccess = "client.engagements.grant", Client;
    /// The practice users one may send files to.
    ListRecipients = "client.recipients", Client;
    /// Upload files to a practice user.
    SendToPractice = "client.send_to_practice", Client;

    // One task.
    /// Change a task's status.
    ChangeTaskStatus = "task.status", Task;
    /// Tick or untick a checklist item.
    TickChecklistItem = "task.checklist.tick", Task;
    /// Log time.
    LogTime = "task.time.log", Task;
    /// Comment on a task.
    CommentOnTask = "task.comment", Task;
    /// Assign or reassign the task.
    AssignTask = "task.assign", Task;
    /// Set the due date.
    SetTaskDueDate = "task.due_date", Task;
    /// Set the reviewer and approver.
    SetTaskReviewers = "task.reviewers", Task;
    /// Add, rename or remove checklist items.
    EditChecklist = "task.checklist.edit", Task;

    // One document.
    /// Metadata: name, size, type, SHA-256, sender, recipients, first downloads.
    ViewDocument = "document.view", Document;
    /// The bytes.
    DownloadDocument = "document.download", Document;
    /// Delete the document, freeing storage.
    DeleteDocument = "document.delete", Document;
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Action {
    /// Finds an action by its stable name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == name)
    }
}

/// Layer 1 as data: every action a bookkeeper may ever perform. Anything not
/// listed is refused at the portal boundary, whatever the resource.
pub const BOOKKEEPER_ALLOWLIST: &[Action] = &[
    Action::SignOut,
    Action::ViewSelf,
    Action::AcceptTerms,
    Action::ListMyClients,
    Action::ListMyTasks,
    Action::ViewMyDashboard,
    Action::ViewClient,
    Action::ListFilings,
    Action::ViewFiling,
    Action::ViewTask,
    Action::ListDocuments,
    Action::ViewDocument,
    Action::DownloadDocument,
    Action::ViewEmailLog,
    Action::ReadDiscussion,
    Action::PostDiscussion,
    Action::ChangeTaskStatus,
    Action::TickChecklistItem,
    Action::LogTime,
    Action::CommentOnTask,
];

/// Which practice roles an action is open to (before scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PracticeRoles {
    /// No practice user.
    None,
    /// Admins only.
    Admin,
    /// Admins and staff.
    AdminAndStaff,
    /// Every role; bookkeepers only where the allowlist lets them.
    All,
}

/// Which client users an action is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientRoles {
    /// No client user: practice internals (rule 5).
    None,
    /// The client's owner.
    Owner,
    /// Every user of the client.
    All,
}

/// The role table: who may perform each action, scope aside.
const fn roles(action: Action) -> (PracticeRoles, ClientRoles) {
    use Action::*;
    use ClientRoles as C;
    use PracticeRoles as P;
    match action {
        DecidePracticeApplication | SetPlan | ManageAddOns | ManageAnyUser | ExplainAccess | RunInstallation => {
            (P::None, C::None)
        }
        SignOut | ViewSelf | AcceptTerms | ListMyClients => (P::All, C::All),
        ListMyTasks | ViewMyDashboard => (P::All, C::None),
        ListMyInbox | ListMyOutbox => (P::AdminAndStaff, C::All),
        ViewPracticeDirectory => (P::None, C::All),
        ViewPractice | ListStaff | ListAssigneeCandidates | ListReviewerCandidates | ListPracticeClients => {
            (P::AdminAndStaff, C::None)
        }
        EditPracticeSettings
        | ViewUsage
        | ListBookkeepers
        | InvitePerson
        | ChangePerson
        | ResetPersonPassword
        | ManageClientAssignments
        | InviteClient
        | ListConnections
        | InviteOutsideParty => (P::Admin, C::None),
        ViewEngagement | AnswerEngagement | RevokeEngagement => (P::Admin, C::Owner),
        ViewConnection | AnswerConnection | RevokeConnection => (P::Admin, C::None),
        SendOverConnection => (P::AdminAndStaff, C::None),
        ViewClient | ListDocuments => (P::All, C::All),
        ListFilings | ViewFiling | ViewTask | ViewEmailLog | ReadDiscussion | PostDiscussion => (P::All, C::None),
        CreateFiling | ChangeFilingStatus | CreateTask | SendToClient => (P::AdminAndStaff, C::None),
        ListRecipients | SendToPractice => (P::None, C::All),
        ListClientMembers | InviteClientMember | RemoveClientMember | GrantPracticeAccess => (P::None, C::Owner),
        LeaveClient => (P::None, C::All),
        ChangeTaskStatus | TickChecklistItem | LogTime | CommentOnTask => (P::All, C::None),
        AssignTask | SetTaskDueDate | SetTaskReviewers | EditChecklist => (P::AdminAndStaff, C::None),
        ViewDocument | DownloadDocument => (P::All, C::All),
        DeleteDocument => (P::AdminAndStaff, C::All),
    }
}

/// Task actions a bookkeeper may take only on tasks assigned to them.
const fn own_task_only(action: Action) -> bool {
    matches!(action, Action::ChangeTaskStatus | Action::TickChecklistItem | Action::LogTime | Action::CommentOnTask)
}

/// The facts about one client, as seen by one actor: everything [`decide`]
/// needs, loaded in one query by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientFacts {
    /// The client.
    pub client: ClientId,
    /// For a practice user: the engagement between their practice and this
    /// client, if one was ever made.
    pub engagement: Option<ConsentState>,
    /// For a practice user: an admin assigned this client to them.
    pub assigned: bool,
    /// For a practice user: how many tasks on this client's *active* filings
    /// are assigned to them now.
    pub active_tasks_held: u32,
    /// For a client user: their role in this client, if they belong to it.
    pub membership: Option<ClientRole>,
}

impl ClientFacts {
    /// Facts for a client the actor has no relation with at all.
    #[must_use]
    pub const fn unrelated(client: ClientId) -> Self {
        Self { client, engagement: None, assigned: false, active_tasks_held: 0, membership: None }
    }
}

/// The facts about one task, beside its client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskFacts {
    /// Who holds the task now.
    pub assignee: Option<UserId>,
    /// The status of the task's filing.
    pub filing: FilingStatus,
}

/// The facts about one document, beside its client's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentFacts {
    /// Who uploaded it.
    pub uploader: UserId,
}

/// The facts about one engagement, as seen by one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EngagementFacts {
    /// The practice side.
    pub practice: PracticeId,
    /// For a client user: their role in the engagement's client.
    pub membership: Option<ClientRole>,
}

/// The facts about one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionFacts {
    /// The practice side.
    pub practice: PracticeId,
    /// The outside party's user.
    pub outside_party: UserId,
    /// Where the connection stands.
    pub state: ConsentState,
}

/// What an action is applied to, with the facts the decision needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The installation.
    Installation,
    /// The actor's own account.
    Account,
    /// A practice.
    Practice(PracticeId),
    /// An engagement.
    Engagement(&'a EngagementFacts),
    /// A connection.
    Connection(&'a ConnectionFacts),
    /// A client.
    Client(&'a ClientFacts),
    /// A task of a client.
    Task(&'a ClientFacts, &'a TaskFacts),
    /// A document of a client.
    Document(&'a ClientFacts, &'a DocumentFacts),
}

impl Resource<'_> {
    const fn scope(&self) -> Scope {
        match self {
            Self::Installation => Scope::Installation,
            Self::Account => Scope::Account,
            Self::Practice(_) => Scope::Practice,
            Self::Engagement(_) => Scope::Engagement,
            Self::Connection(_) => Scope::Connection,
            Self::Client(_) => Scope::Client,
            Self::Task(..) => Scope::Task,
            Self::Document(..) => Scope::Document,
        }
    }
}

macro_rules! rules {
    ($($(#[$meta:meta])* $name:ident $(($field:ident: $ty:ty))? => $product_rule:literal, $code:literal,
        $text:literal $(, $arg:expr)*;)*) => {
        /// The rule that decided. Each names the part of PRODUCT.md it comes from
        /// ([`Rule::product_rule`]) and explains itself in a sentence (`Display`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $($(#[$meta])* $name $(($ty))?,)*
        }

        impl Rule {
            /// The number of the PRODUCT.md access rule this comes from (0 for the
            /// operator's and the portal's own rules).
            #[must_use]
            pub const fn product_rule(self) -> u8 {
                match self { $(Self::$name { .. } => $product_rule,)* }
            }

            /// A stable machine name, for logs, audit entries and `explain --json`.
            #[must_use]
            pub const fn code(self) -> &'static str {
                match self { $(Self::$name { .. } => $code,)* }
            }
        }

        impl fmt::Display for Rule {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self { $(Self::$name $(($field))? => write!(f, $text $(, $arg)*),)* }
            }
        }
    };
}

// Each rule: its PRODUCT.md rule number (0 for the operator's and the
// portal's own rules), its stable code and its sentence, which may name the
// rule's fact.
rules! {
    /// Allow: the operator runs the installation.
    OperatorRunsTheInstallation => 0, "operator_runs_the_installation", "the operator runs the installation";
    /// Deny: installation work is the operator's alone.
    OperatorOnly => 0, "operator_only", "only the operator may do this, with the admin CLI";
    /// Deny: the operator works through the admin CLI and has no portal scope.
    OperatorHasNoPortalScope => 0, "operator_has_no_portal_scope",
        "the operator works through the admin CLI and opens no client";
    /// Deny: the user was deactivated.
    UserDeactivated => 6, "user_deactivated", "the user is deactivated";
    /// Deny: the user's practice is not approved (pending, rejected or suspended).
    PracticeNotApproved(status: PracticeStatus) => 1, "practice_not_approved",
        "the practice is {status}, and only an approved practice may work";
    /// Deny: the action is outside the bookkeeper allowlist (layer 1).
    BookkeeperPortalBoundary => 0, "bookkeeper_portal_boundary",
        "bookkeepers may only use the bookkeeper portal's operations";
    /// Allow: any signed-in user may do this to their own account.
    OwnAccount => 0, "own_account", "signed-in users manage their own account";
    /// Deny: this is for another kind of user.
    NotForThisKindOfUser => 0, "not_for_this_kind_of_user", "this is not available to this kind of user";
    /// Allow: a member of the practice.
    PracticeMember => 4, "practice_member", "the user is a member of the practice with a role that may do this";
    /// Deny: the user does not belong to that practice.
    NotAMemberOfPractice => 4, "not_a_member_of_practice", "the user does not belong to the practice";
    /// Deny: the user's role may not do this.
    RoleMayNot(role: Role) => 4, "role_may_not", "a practice {role} may not do this";
    /// Deny: the practice has no active engagement with the client.
    NoActiveEngagement(state: Option<ConsentState>) => 2, "no_active_engagement", "{}", EngagementNotActive(*state);
    /// Allow: admins open every engaged client, current and future.
    AdminSeesAllEngagedClients => 4, "admin_sees_all_engaged_clients",
        "admins open every engaged client, current and future";
    /// Allow: staff open the clients assigned to them.
    StaffAssignedToClient => 4, "staff_assigned_to_client", "an admin assigned the client to this staff member";
    /// Allow: staff open the clients behind tasks they hold on active filings.
    StaffHoldsTaskOnActiveFiling => 4, "staff_holds_task_on_active_filing",
        "the staff member holds a task on an active filing of the client";
    /// Deny: staff without an assignment or a task on an active filing.
    StaffNotAssigned => 4, "staff_not_assigned",
        "the staff member is not assigned the client and holds no task on its active filings";
    /// Allow: bookkeepers open the clients behind their tasks on active filings, read-only.
    BookkeeperHoldsTaskOnActiveFiling => 4, "bookkeeper_holds_task_on_active_filing",
        "the bookkeeper holds a task on an active filing of the client (read-only access)";
    /// Deny: a bookkeeper holds no task on an active filing of this client.
    BookkeeperHoldsNoActiveTask => 4, "bookkeeper_holds_no_active_task",
        "the bookkeeper holds no task on an active filing of the client";
    /// Deny: bookkeepers may work only tasks assigned to them.
    OnlyTheAssignee => 4, "only_the_assignee", "bookkeepers work only the tasks assigned to them";
    /// Deny: the task's filing is filed or cancelled; reopen it first.
    FilingNotActive(status: FilingStatus) => 4, "filing_not_active",
        "the filing is {status}; reopen it to change its tasks";
    /// Deny: only the uploader or an admin may delete a document.
    OnlyUploaderOrAdmin => 4, "only_uploader_or_admin", "only the uploader or an admin may delete a document";
    /// Allow: a client user acts within their own client.
    ClientUserOwnClient => 5, "client_user_own_client", "client users act within their own client";
    /// Deny: the client user does not belong to this client.
    NotAMemberOfClient => 5, "not_a_member_of_client", "the user does not belong to the client";
    /// Deny: only the client's owner may do this.
    ClientOwnerOnly => 5, "client_owner_only", "only the client's owner may do this";
    /// Deny: practice internals are never shown to client users.
    PracticeInternalsHidden => 5, "practice_internals_hidden", "practice internals are not shown to client users";
    /// Deny: this is done by the client's own users.
    ClientUsersOnly => 5, "client_users_only", "only the client's own users do this";
    /// Allow: a party to the connection.
    ConnectionParty => 3, "connection_party", "the user is a party to the connection";
    /// Deny: the connection is not active.
    ConnectionNotActive(state: ConsentState) => 3, "connection_not_active", "the connection is {state}, not active";
    /// Deny: outside parties reach practices over connections, never clients.
    OutsidePartyHasNoClientScope => 3, "outside_party_has_no_client_scope",
        "outside parties exchange files over connections and open no client";
    /// Deny: the action does not apply to that kind of resource (a caller bug).
    WrongResource(scope: Scope) => 0, "wrong_resource", "this action does not apply to a {scope:?} resource";
}

impl Rule {
    /// The rule as decisions and audit entries cite it: its sentence, then its
    /// PRODUCT.md rule number (where it has one) and its code in brackets, as in
    /// `the user is deactivated [rule 6, user_deactivated]`.
    #[must_use]
    pub const fn cited(self) -> impl fmt::Display {
        Cited(self)
    }
}

/// See [`Rule::cited`].
struct Cited(Rule);

impl fmt::Display for Cited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = self.0;
        match rule.product_rule() {
            0 => write!(f, "{rule} [{}]", rule.code()),
            n => write!(f, "{rule} [rule {n}, {}]", rule.code()),
        }
    }
}

/// How [`Rule::NoActiveEngagement`] words the engagement it found, if any.
struct EngagementNotActive(Option<ConsentState>);

impl fmt::Display for EngagementNotActive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("the practice has no engagement with the client"),
            Some(state) => write!(f, "the practice's engagement with the client is {state}, not active"),
        }
    }
}

/// What happens to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Go ahead.
    Allow,
    /// Refuse as if the resource did not exist: it is out of the actor's
    /// scope, and its existence must not leak.
    NotFound,
    /// Refuse openly: the actor can see the resource but may not do this.
    Forbidden,
}

/// The answer of [`decide`]: what happens, and the rule that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Decision {
    /// Allow, or how to refuse.
    pub outcome: Outcome,
    /// The rule that decided.
    pub rule: Rule,
}

impl Decision {
    const fn allow(rule: Rule) -> Self {
        Self { outcome: Outcome::Allow, rule }
    }

    const fn not_found(rule: Rule) -> Self {
        Self { outcome: Outcome::NotFound, rule }
    }

    const fn forbidden(rule: Rule) -> Self {
        Self { outcome: Outcome::Forbidden, rule }
    }

    /// Whether the action may go ahead.
    #[must_use]
    pub const fn is_allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allow)
    }

    /// `Ok` with the granting rule, or the refusal as an error.
    ///
    /// # Errors
    /// [`Denied`] carrying whether to answer "not found" or "forbidden", and why.
    pub const fn into_result(self) -> Result<Rule, Denied> {
        match self.outcome {
            Outcome::Allow => Ok(self.rule),
            Outcome::NotFound => Err(Denied::NotFound(self.rule)),
            Outcome::Forbidden => Err(Denied::Forbidden(self.rule)),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.outcome {
            Outcome::Allow => "allow",
            Outcome::NotFound => "deny (not found)",
            Outcome::Forbidden => "deny (forbidden)",
        };
        write!(f, "{verdict}: {}", self.rule.cited())
    }
}

/// A refused request, as an error for `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Out of scope: answer as if it did not exist.
    #[error("not found")]
    NotFound(Rule),
    /// Visible, but the action is not allowed.
    #[error("not allowed: {0}")]
    Forbidden(Rule),
}

/// Layer 1, the portal boundary: refuses any action outside
/// [`BOOKKEEPER_ALLOWLIST`] for bookkeepers, before any resource is looked at.
/// Everyone else passes (their limits are layer 2's business).
///
/// ```
/// use ferry_domain::access::{portal_boundary, Action};
/// use ferry_domain::people::{Actor, PracticeUser, Role};
/// # use ferry_domain::{ids::*, practice::PracticeStatus};
/// # let id = uuid::Uuid::nil();
/// let bookkeeper = Actor::Practice(PracticeUser {
///     user: UserId::from_uuid(id), practice: PracticeId::from_uuid(id),
///     role: Role::Bookkeeper, active: true, practice_status: PracticeStatus::Approved,
/// });
/// assert!(portal_boundary(&bookkeeper, Action::ListMyTasks).is_ok());
/// assert!(portal_boundary(&bookkeeper, Action::ChangeFilingStatus).is_err());
/// ```
///
/// # Errors
/// A forbidding [`Decision`] with [`Rule::BookkeeperPortalBoundary`].
pub fn portal_boundary(actor: &Actor, action: Action) -> Result<(), Decision> {
    match actor {
        Actor::Practice(PracticeUser { role: Role::Bookkeeper, .. }) if !BOOKKEEPER_ALLOWLIST.contains(&action) => {
            Err(Decision::forbidden(Rule::BookkeeperPortalBoundary))
        }
        _ => Ok(()),
    }
}

/// Decides whether `actor` may perform `action` on `resource`.
///
/// This is layer 2, and it re-applies layer 1 ([`portal_boundary`]). It is
/// pure and cheap: call it on every request with facts loaded fresh.
///
/// ```
/// use ferry_domain::access::{decide, Action, ClientFacts, Outcome, Resource, Rule};
/// use ferry_domain::consent::ConsentState;
/// use ferry_domain::people::{Actor, PracticeUser, Role};
/// # use ferry_domain::{ids::*, practice::PracticeStatus};
/// # let id = |n| uuid::Uuid::from_u128(n);
/// let bookkeeper = Actor::Practice(PracticeUser {
///     user: UserId::from_uuid(id(1)), practice: PracticeId::from_uuid(id(2)),
///     role: Role::Bookkeeper, active: true, practice_status: PracticeStatus::Approved,
/// });
/// let mut facts = ClientFacts::unrelated(ClientId::from_uuid(id(3)));
/// facts.engagement = Some(ConsentState::Active);
/// facts.active_tasks_held = 1;
///
/// let decision = decide(&bookkeeper, Action::ViewClient, Resource::Client(&facts));
/// assert_eq!(decision.rule, Rule::BookkeeperHoldsTaskOnActiveFiling);
/// assert!(decision.is_allowed());
///
/// // The filing was filed: the task no longer counts, and the client is not found.
/// facts.active_tasks_held = 0;
/// let decision = decide(&bookkeeper, Action::ViewClient, Resource::Client(&facts));
/// assert_eq!(decision.outcome, Outcome::NotFound);
/// ```
pub fn decide(actor: &Actor, action: Action, resource: Resource<'_>) -> Decision {
    if action.scope() != resource.scope() {
        return Decision::forbidden(Rule::WrongResource(resource.scope()));
    }
    if let Err(refused) = portal_boundary(actor, action) {
        return refused;
    }
    match actor {
        Actor::Operator => decide_operator(action),
        Actor::Practice(user) => decide_practice_user(user, action, resource),
        Actor::Client { user, active } => decide_client_user(*user, *active, action, resource),
        Actor::Outside { user, active } => decide_outside_party(*user, *active, action, resource),
    }
}

fn decide_operator(action: Action) -> Decision {
    if action.scope() == Scope::Installation {
        Decision::allow(Rule::OperatorRunsTheInstallation)
    } else {
        Decision::not_found(Rule::OperatorHasNoPortalScope)
    }
}

/// Whether `role` passes the role table's practice column.
fn role_allows(allowed: PracticeRoles, role: Role) -> bool {
    match allowed {
        PracticeRoles::None => false,
        PracticeRoles::Admin => role == Role::Admin,
        PracticeRoles::AdminAndStaff => role.is_staff_or_admin(),
        // INVARIANT: bookkeepers reaching here passed the portal boundary.
        PracticeRoles::All => true,
    }
}

fn decide_practice_user(user: &PracticeUser, action: Action, resource: Resource<'_>) -> Decision {
    if !user.active {
        return Decision::not_found(Rule::UserDeactivated);
    }
    if !user.practice_status.is_approved() && !open_while_unapproved(user.practice_status, action) {
        return Decision::not_found(Rule::PracticeNotApproved(user.practice_status));
    }
    let (practice_roles, client_roles) = roles(action);
    let role_ok = role_allows(practice_roles, user.role);
    match resource {
        Resource::Installation => Decision::forbidden(Rule::OperatorOnly),
        Resource::Account => {
            if role_ok {
                Decision::allow(Rule::OwnAccount)
            } else {
                Decision::forbidden(Rule::NotForThisKindOfUser)
            }
        }
        Resource::Practice(practice) | Resource::Engagement(&EngagementFacts { practice, .. }) => {
            if practice != user.practice {
                Decision::not_found(Rule::NotAMemberOfPractice)
            } else if role_ok {
                Decision::allow(Rule::PracticeMember)
            } else {
                Decision::forbidden(Rule::RoleMayNot(user.role))
            }
        }
        Resource::Connection(connection) => {
            if connection.practice == user.practice && role_ok {
                connection_may_carry(action, connection.state)
            } else if connection.practice == user.practice {
                Decision::forbidden(Rule::RoleMayNot(user.role))
            } else if connection.outside_party == user.user {
                // A practice user may be the outside party of another practice's connection.
                decide_connection_party(action, connection)
            } else {
                Decision::not_found(Rule::NotAMemberOfPractice)
            }
        }
        Resource::Client(facts) | Resource::Task(facts, _) | Resource::Document(facts, _) => {
            let scope = practice_scope(user, facts);
            if !scope.is_allowed() {
                return scope;
            }
            if !role_ok {
                return if client_roles == ClientRoles::None {
                    Decision::forbidden(Rule::RoleMayNot(user.role))
                } else {
                    Decision::forbidden(Rule::ClientUsersOnly)
                };
            }
            match resource {
                Resource::Task(_, task) => task_rules(user, action, task, scope),
                Resource::Document(_, document) => {
                    if action == Action::DeleteDocument && user.role != Role::Admin && document.uploader != user.user {
                        Decision::forbidden(Rule::OnlyUploaderOrAdmin)
                    } else {
                        scope
                    }
                }
                _ => scope,
            }
        }
    }
}

/// What the users of a pending or rejected practice may still do: see their
/// own account and their practice's application, and fix its details.
/// A suspended practice's users are locked out of everything (rule 1).
const fn open_while_unapproved(status: PracticeStatus, action: Action) -> bool {
    matches!(status, PracticeStatus::Pending | PracticeStatus::Rejected)
        && matches!(
            action,
            Action::SignOut
                | Action::ViewSelf
                | Action::AcceptTerms
                | Action::ViewPractice
                | Action::EditPracticeSettings
        )
}

/// Rule 4: may this practice user open this client at all? The allowing
/// decision names the rule that puts the client in scope.
fn practice_scope(user: &PracticeUser, facts: &ClientFacts) -> Decision {
    if !facts.engagement.is_some_and(ConsentState::is_active) {
        return Decision::not_found(Rule::NoActiveEngagement(facts.engagement));
    }
    match user.role {
        Role::Admin => Decision::allow(Rule::AdminSeesAllEngagedClients),
        Role::Staff if facts.assigned => Decision::allow(Rule::StaffAssignedToClient),
        Role::Staff if facts.active_tasks_held > 0 => Decision::allow(Rule::StaffHoldsTaskOnActiveFiling),
        Role::Staff => Decision::not_found(Rule::StaffNotAssigned),
        Role::Bookkeeper if facts.active_tasks_held > 0 => Decision::allow(Rule::BookkeeperHoldsTaskOnActiveFiling),
        Role::Bookkeeper => Decision::not_found(Rule::BookkeeperHoldsNoActiveTask),
    }
}

fn task_rules(user: &PracticeUser, action: Action, task: &TaskFacts, scope: Decision) -> Decision {
    if user.role == Role::Bookkeeper && own_task_only(action) && task.assignee != Some(user.user) {
        return Decision::forbidden(Rule::OnlyTheAssignee);
    }
    // Every task action changes the task; a closed filing's tasks stay as they were.
    if !task.filing.is_active() {
        return Decision::forbidden(Rule::FilingNotActive(task.filing));
    }
    scope
}

fn connection_may_carry(action: Action, state: ConsentState) -> Decision {
    if action == Action::SendOverConnection && !state.is_active() {
        Decision::forbidden(Rule::ConnectionNotActive(state))
    } else {
        Decision::allow(Rule::ConnectionParty)
    }
}

/// The outside party's side of a connection: they may see it, answer it,
/// end it and send over it (rule 3).
fn decide_connection_party(action: Action, connection: &ConnectionFacts) -> Decision {
    match action {
        Action::ViewConnection | Action::AnswerConnection | Action::RevokeConnection | Action::SendOverConnection => {
            connection_may_carry(action, connection.state)
        }
        _ => Decision::forbidden(Rule::NotForThisKindOfUser),
    }
}

fn decide_client_user(user: UserId, active: bool, action: Action, resource: Resource<'_>) -> Decision {
    if !active {
        return Decision::not_found(Rule::UserDeactivated);
    }
    let (_, client_roles) = roles(action);
    let membership = match resource {
        Resource::Installation => return Decision::forbidden(Rule::OperatorOnly),
        Resource::Account => {
            return match client_roles {
                ClientRoles::None => Decision::forbidden(Rule::NotForThisKindOfUser),
                ClientRoles::Owner | ClientRoles::All => Decision::allow(Rule::OwnAccount),
            };
        }
        Resource::Practice(_) | Resource::Connection(_) => return Decision::not_found(Rule::PracticeInternalsHidden),
        Resource::Engagement(engagement) => engagement.membership,
        Resource::Client(facts) | Resource::Task(facts, _) | Resource::Document(facts, _) => facts.membership,
    };
    let Some(role) = membership else {
        return Decision::not_found(Rule::NotAMemberOfClient);
    };
    match (client_roles, role) {
        (ClientRoles::None, _) => Decision::not_found(Rule::PracticeInternalsHidden),
        (ClientRoles::Owner, ClientRole::Member) => Decision::forbidden(Rule::ClientOwnerOnly),
        _ => match resource {
            Resource::Document(_, document) if action == Action::DeleteDocument && document.uploader != user => {
                Decision::forbidden(Rule::OnlyUploaderOrAdmin)
            }
            _ => Decision::allow(Rule::ClientUserOwnClient),
        },
    }
}

fn decide_outside_party(user: UserId, active: bool, action: Action, resource: Resource<'_>) -> Decision {
    if !active {
        return Decision::not_found(Rule::UserDeactivated);
    }
    match resource {
        Resource::Installation => Decision::forbidden(Rule::OperatorOnly),
        Resource::Account => match action {
            Action::SignOut | Action::ViewSelf | Action::AcceptTerms | Action::ListMyInbox | Action::ListMyOutbox => {
                Decision::allow(Rule::OwnAccount)
            }
            _ => Decision::forbidden(Rule::NotForThisKindOfUser),
        },
        Resource::Connection(connection) if connection.outside_party == user => {
            decide_connection_party(action, connection)
        }
        Resource::Connection(_) | Resource::Practice(_) | Resource::Engagement(_) => {
            Decision::not_found(Rule::NotAMemberOfPractice)
        }
        Resource::Client(_) | Resource::Task(..) | Resource::Document(..) => {
            Decision::not_found(Rule::OutsidePartyHasNoClientScope)
        }
    }
}

/// For `explain`: the decision for every action of a client-level scope that
/// `actor` could take on a client with `facts`, in a stable order.
#[must_use]
pub fn explain_client(actor: &Actor, facts: &ClientFacts) -> Vec<(Action, Decision)> {
    Action::ALL
        .iter()
        .filter(|a| a.scope() == Scope::Client)
        .map(|&a| (a, decide(actor, a, Resource::Client(facts))))
        .collect()
}

/// Whether `actor` may open the client at all (the account switcher and lists).
#[must_use]
pub fn can_open_client(actor: &Actor, facts: &ClientFacts) -> bool {
    decide(actor, Action::ViewClient, Resource::Client(facts)).is_allowed()
}
