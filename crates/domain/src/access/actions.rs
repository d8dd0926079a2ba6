//! Every action Ferry knows, with its stable name and the scope of the
//! resource it applies to.

use std::fmt;

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
