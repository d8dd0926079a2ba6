//! The rules that explain every answer, each with its PRODUCT.md number,
//! stable code and sentence, declared once.

use std::fmt;

use super::Scope;
use crate::consent::ConsentState;
use crate::people::Role;
use crate::practice::PracticeStatus;
use crate::work::FilingStatus;

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
