//! The authorization matrix: every operation of the OpenAPI document, called
//! by every role on objects inside and outside the caller's scope, against
//! an explicit table of what each call must answer.
//!
//! The table is written from PRODUCT.md ("Access rules", "Bookkeeper
//! portal"), API-MAP.md and the domain's role table and `decide`
//! (`crates/domain/src/access/`), not from what the server answers:
//!
//! * anonymous callers and deactivated users get 401 on every operation that
//!   needs a session (a deactivated user's session no longer authenticates,
//!   rule 6); public operations (no action in `operations.rs`) answer alike
//!   for everyone;
//! * bookkeepers get 403 on every operation outside the allowlist, whatever
//!   the object (layer 1 runs before any lookup);
//! * a suspended practice's users get 404 on everything (rule 1: `decide`
//!   answers "not approved" as not found, for their own account too);
//! * out of scope is 404, never 403 (another practice's objects, a client
//!   without an active engagement, a staff member without assignment or
//!   task, a bookkeeper without a task on an active filing — including one
//!   whose filing was filed —, client users on practice internals);
//! * 403 is for what the caller can see but may not do: a role the role
//!   table refuses on an object in scope (staff on admin work, practice
//!   users on client-side work), a bookkeeper on someone else's task, any
//!   task change on a closed filing; and account-level lists that are not
//!   for this kind of user;
//! * 409 where the caller may act but the object's state refuses the step
//!   (answering one's own request, filing a filed filing).
//!
//! Columns: A = P's admin, SA = staff assigned C1, SU = staff unassigned,
//! BT = bookkeeper with task T1 on active F1, BN = bookkeeper without task,
//! BF = bookkeeper whose only task is on filed F_FILED, CO = C1's owner,
//! OC = C2's owner (another client of P), QA = Q's admin, SS = suspended
//! S's admin, D = deactivated staff of P, AN = anonymous, OP = the outside
//! party connected to P. `ok` is any 2xx. See `support/mod.rs` for the world.
//!
//! Rows tagged `Out` target Q's objects (Q's practice, C3 engaged only with
//! Q, its filings and tasks, its engagements and connections): only Q's own
//! admin may get a 2xx there, and the table is checked for that before
//! anything is sent. `Mixed` rows combine an in-scope object with an
//! out-of-scope one in the same path (never a 2xx for anyone).
//!
//! Mutations: every world is a copy of one seeded template (a file copy).
//! Read-only operations run all their cells on one world. For a write, the
//! cells expected to be refused run first on one shared world (a refusal
//! changes nothing; should one unexpectedly succeed, the world is replaced
//! before the next cell), then every cell expected to succeed runs on a
//! fresh world of its own, so no success can change what another cell sees
//! (filing F1 twice, signing out a session another cell uses...).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ferry_http::operations::OPERATIONS;
use poem::http::Method;
use support::{ROLES, Role, SpecOp, World, check_body, check_error_shape, example_body, spec_ops, truncate};

/// What a row's objects are, relative to the caller's world (practice P).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// No object in the path: the caller's own account, lists, public operations.
    Own,
    /// P's objects, its clients' and their relations.
    In,
    /// Q's objects: only Q's admin may succeed.
    Out,
    /// An in-scope object with an out-of-scope one in the same path: nobody succeeds.
    Mixed,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
struct Row {
    op: &'static str,
    scope: Scope,
    params: &'static str,
    expect: &'static str,
    /// Another body than the operation's example (`support::variant_body`).
    body: Option<&'static str>,
}

const fn r(op: &'static str, scope: Scope, params: &'static str, expect: &'static str) -> Row {
    Row { op, scope, params, expect, body: None }
}

/// A row that sends the named variant of the operation's body.
const fn rb(op: &'static str, scope: Scope, params: &'static str, body: &'static str, expect: &'static str) -> Row {
    Row { op, scope, params, expect, body: Some(body) }
}

use Scope::{In, Mixed, Out, Own};

/// Every operation's rows. Columns: see the module docs.
#[rustfmt::skip]
const TABLE: &[Row] = &[
    // op                          scope  path parameters                                      A   SA  SU  BT  BN  BF  CO  OC  QA  SS  D   AN  OP
    // Accounts. Public: a wrong password is 401 for everyone, bad links 400; a reset request is always accepted.
    r("sign_in",                   Own,   "",                                                  "401 401 401 401 401 401 401 401 401 401 401 401 401"),
    r("set_password",              Own,   "",                                                  "400 400 400 400 400 400 400 400 400 400 400 400 400"),
    r("request_password_reset",    Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok "),
    r("set_up_first_practice",     Own,   "",                                                  "400 400 400 400 400 400 400 400 400 400 400 400 400"),
    // Own account: everyone signed in (rule 1 locks out the suspended practice).
    r("sign_out",                  Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401 401 ok "),
    r("sign_out_everywhere",       Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401 401 ok "),
    r("get_me",                    Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401 401 ok "),
    r("accept_terms",              Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401 401 ok "),
    // The account switcher is for practice and client users; outside parties open no client.
    r("list_my_clients",           Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  404 401 401 403"),
    // My Tasks: practice users only.
    r("list_my_tasks",             Own,   "",                                                  "ok  ok  ok  ok  ok  ok  403 403 ok  404 401 401 403"),
    r("get_my_dashboard",          Own,   "",                                                  "ok  ok  ok  ok  ok  ok  403 403 ok  404 401 401 403"),

    // Practices. Applying is public.
    r("apply_for_practice",        Own,   "",                                                  "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok "),
    // The directory is for client users (bookkeepers: layer 1).
    r("list_practice_directory",   Own,   "",                                                  "403 403 403 403 403 403 ok  ok  403 404 401 401 403"),
    // Admins and staff of the practice; bookkeepers never (layer 1); client users never see practice internals.
    r("get_practice",              In,    "practice=P",                                        "ok  ok  ok  403 403 403 404 404 404 404 401 401 404"),
    r("get_practice",              Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("list_staff",                In,    "practice=P",                                        "ok  ok  ok  403 403 403 404 404 404 404 401 401 404"),
    r("list_staff",                Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("list_assignee_candidates",  In,    "practice=P",                                        "ok  ok  ok  403 403 403 404 404 404 404 401 401 404"),
    r("list_assignee_candidates",  Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("list_reviewer_candidates",  In,    "practice=P",                                        "ok  ok  ok  403 403 403 404 404 404 404 401 401 404"),
    r("list_reviewer_candidates",  Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("list_practice_clients",     In,    "practice=P",                                        "ok  ok  ok  403 403 403 404 404 404 404 401 401 404"),
    r("list_practice_clients",     Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    // Admins only: staff can see the practice but may not (403).
    r("edit_practice",             In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("edit_practice",             Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("get_usage",                 In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("get_usage",                 Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("list_bookkeepers",          In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("list_bookkeepers",          Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("invite_person",             In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("invite_person",             Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    // One answer whichever way (issue 19): an address with an account of any kind answers as a new one.
    rb("invite_person",            In,    "practice=P", "person_with_client_account",          "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("invite_client",             In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("invite_client",             Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    rb("invite_client",            In,    "practice=P", "client_at_practice_address",          "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("list_connections",          In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("list_connections",          Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("invite_outside_party",      In,    "practice=P",                                        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("invite_outside_party",      Out,   "practice=Q",                                        "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    rb("invite_outside_party",     In,    "practice=P", "party_at_client_address",             "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    // People of a practice (admins); another practice's person is not found in this one.
    r("change_person",             In,    "practice=P user=staff_unassigned",                  "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("change_person",             Out,   "practice=Q user=q_staff",                           "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("change_person",             Mixed, "practice=P user=q_staff",                           "404 403 403 403 403 403 404 404 404 404 401 401 404"),
    r("reset_person_password",     In,    "practice=P user=staff_unassigned",                  "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("reset_person_password",     Out,   "practice=Q user=q_staff",                           "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("reset_person_password",     Mixed, "practice=P user=q_staff",                           "404 403 403 403 403 403 404 404 404 404 401 401 404"),
    r("list_assigned_clients",     In,    "practice=P user=staff_assigned",                    "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("list_assigned_clients",     Out,   "practice=Q user=q_staff",                           "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("list_assigned_clients",     Mixed, "practice=P user=q_staff",                           "404 403 403 403 403 403 404 404 404 404 401 401 404"),
    r("assign_client",             In,    "practice=P user=staff_unassigned client=C1",        "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("assign_client",             Out,   "practice=Q user=q_staff client=C3",                 "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("assign_client",             Mixed, "practice=P user=staff_unassigned client=C3",        "404 403 403 403 403 403 404 404 404 404 401 401 404"),
    r("assign_client",             Mixed, "practice=P user=q_staff client=C1",                 "404 403 403 403 403 403 404 404 404 404 401 401 404"),
    r("unassign_client",           In,    "practice=P user=staff_assigned client=C1",          "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("unassign_client",           Out,   "practice=Q user=q_staff client=C3",                 "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("unassign_client",           Mixed, "practice=P user=staff_assigned client=C3",          "404 403 403 403 403 403 404 404 404 404 401 401 404"),

    // Consent. My engagements: practice admins and client owners; my connections: practice admins and outside parties.
    r("list_my_engagements",       Own,   "",                                                  "ok  403 403 403 403 403 ok  ok  ok  404 401 401 403"),
    r("list_my_connections",       Own,   "",                                                  "ok  403 403 403 403 403 403 403 ok  404 401 401 ok "),
    r("accept_invitation",         Own,   "",                                                  "400 400 400 400 400 400 400 400 400 400 400 400 400"),
    // Granting access, and the client's colleagues: the client's owner only; practice users in scope see the client (403).
    r("grant_practice_access",     In,    "client=C1",                                         "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    r("grant_practice_access",     Out,   "client=C3",                                         "404 404 404 403 403 403 404 404 403 404 401 401 404"),
    r("list_client_members",       In,    "client=C1",                                         "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    r("list_client_members",       Out,   "client=C3",                                         "404 404 404 403 403 403 404 404 403 404 401 401 404"),
    r("invite_client_member",      In,    "client=C1",                                         "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    r("invite_client_member",      Out,   "client=C3",                                         "404 404 404 403 403 403 404 404 403 404 401 401 404"),
    // Membership is consent: inviting someone who already has an account (another client's owner,
    // a practice user) answers exactly as a new address does, and records nothing until they accept.
    rb("invite_client_member",     In,    "client=C1", "existing_client_user",                 "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    rb("invite_client_member",     In,    "client=C1", "practice_user",                        "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    // Removing a member: the owner only; the owner stays (409); a user who is not a member is not found.
    r("remove_client_member",      In,    "client=C1 user=c1_member",                          "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    r("remove_client_member",      In,    "client=C1 user=client_owner",                       "403 403 404 403 403 403 409 404 404 404 401 401 404"),
    r("remove_client_member",      Mixed, "client=C1 user=c3_owner",                           "403 403 404 403 403 403 404 404 404 404 401 401 404"),
    r("remove_client_member",      Out,   "client=C3 user=c3_owner",                           "404 404 404 403 403 403 404 404 403 404 401 401 404"),
    // Leaving: any user of the client but its owner (409); practice users in scope see the client (403).
    r("leave_client",              In,    "client=C1",                                         "403 403 404 403 403 403 409 404 404 404 401 401 404"),
    r("leave_client",              In,    "client=C2",                                         "403 404 404 403 403 403 404 409 404 404 401 401 404"),
    r("leave_client",              Out,   "client=C3",                                         "404 404 404 403 403 403 404 404 403 404 401 401 404"),
    // Answering an engagement: the asked side (P's admin for C4's request; C1's owner for Q's request).
    r("accept_engagement",         In,    "engagement=E_P_C4",                                 "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("accept_engagement",         In,    "engagement=E_Q_C1",                                 "404 404 404 403 403 403 ok  404 409 404 401 401 404"),
    r("accept_engagement",         Out,   "engagement=E_Q_C3",                                 "404 404 404 403 403 403 404 404 409 404 401 401 404"),
    r("decline_engagement",        In,    "engagement=E_P_C4",                                 "ok  403 403 403 403 403 404 404 404 404 401 401 404"),
    r("decline_engagement",        In,    "engagement=E_Q_C1",                                 "404 404 404 403 403 403 ok  404 409 404 401 401 404"),
    r("decline_engagement",        Out,   "engagement=E_Q_C3",                                 "404 404 404 403 403 403 404 404 409 404 401 401 404"),
    // Ending: either side of an active one; only the asker withdraws a request.
    r("revoke_engagement",         In,    "engagement=E_P_C1",                                 "ok  403 403 403 403 403 ok  404 404 404 401 401 404"),
    r("revoke_engagement",         In,    "engagement=E_Q_C1",                                 "404 404 404 403 403 403 409 404 ok  404 401 401 404"),
    r("revoke_engagement",         Out,   "engagement=E_Q_C3",                                 "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    // Connections: the practice's admins and the outside party; client users never see them.
    r("accept_connection",         In,    "connection=X_P_OP",                                 "409 403 403 403 403 403 404 404 404 404 401 401 409"),
    r("accept_connection",         In,    "connection=X_R_OP",                                 "404 404 404 403 403 403 404 404 404 404 401 401 ok "),
    r("accept_connection",         Out,   "connection=X_Q_OQ",                                 "404 404 404 403 403 403 404 404 409 404 401 401 404"),
    r("decline_connection",        In,    "connection=X_P_OP",                                 "409 403 403 403 403 403 404 404 404 404 401 401 409"),
    r("decline_connection",        In,    "connection=X_R_OP",                                 "404 404 404 403 403 403 404 404 404 404 401 401 ok "),
    r("decline_connection",        Out,   "connection=X_Q_OQ",                                 "404 404 404 403 403 403 404 404 409 404 401 401 404"),
    r("revoke_connection",         In,    "connection=X_P_OP",                                 "ok  403 403 403 403 403 404 404 404 404 401 401 ok "),
    r("revoke_connection",         In,    "connection=X_R_OP",                                 "404 404 404 403 403 403 404 404 404 404 401 401 409"),
    r("revoke_connection",         Out,   "connection=X_Q_OQ",                                 "404 404 404 403 403 403 404 404 ok  404 401 401 404"),

    // Clients and the work (rule 4: A all engaged clients; SA by assignment; BT by its task on an active filing).
    r("get_client",                In,    "client=C1",                                         "ok  ok  404 ok  404 404 ok  404 404 404 401 401 404"),
    r("get_client",                In,    "client=C4",                                         "404 404 404 404 404 404 404 404 404 404 401 401 404"),
    r("get_client",                Out,   "client=C3",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("list_client_documents",     In,    "client=C1",                                         "ok  ok  404 ok  404 404 ok  404 404 404 401 401 404"),
    r("list_client_documents",     Out,   "client=C3",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    // Practice side only (client users: practice internals are not found).
    r("list_filings",              In,    "client=C1",                                         "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("list_filings",              Out,   "client=C3",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("list_client_emails",        In,    "client=C1",                                         "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("list_client_emails",        Out,   "client=C3",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("create_filing",             In,    "client=C1",                                         "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("create_filing",             Out,   "client=C3",                                         "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    // Recipients: client users only; practice users who can open the client are refused openly.
    r("list_recipients",           In,    "client=C1",                                         "403 403 404 403 403 403 ok  404 404 404 401 401 404"),
    r("list_recipients",           Out,   "client=C3",                                         "404 404 404 403 403 403 404 404 403 404 401 401 404"),
    // Filings: BT sees every filing of C1 while holding T1 on active F1; BF lost C1 when F_FILED was filed (rule 6).
    r("get_filing",                In,    "filing=F1",                                         "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("get_filing",                In,    "filing=F_FILED",                                    "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("get_filing",                Out,   "filing=FQ",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("list_filing_tasks",         In,    "filing=F1",                                         "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("list_filing_tasks",         Out,   "filing=FQ",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("read_discussion",           In,    "filing=F1",                                         "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("read_discussion",           In,    "filing=F_FILED",                                    "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("read_discussion",           Out,   "filing=FQ",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("post_discussion",           In,    "filing=F1",                                         "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("post_discussion",           In,    "filing=F_FILED",                                    "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("post_discussion",           Out,   "filing=FQ",                                         "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    // Lifecycle and new tasks: admins and staff in scope; the filing's status may refuse the step (409).
    r("file_filing",               In,    "filing=F1",                                         "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("file_filing",               In,    "filing=F_FILED",                                    "409 409 404 403 403 403 404 404 404 404 401 401 404"),
    r("file_filing",               Out,   "filing=FQ",                                         "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("cancel_filing",             In,    "filing=F1",                                         "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("cancel_filing",             In,    "filing=F_FILED",                                    "409 409 404 403 403 403 404 404 404 404 401 401 404"),
    r("cancel_filing",             Out,   "filing=FQ",                                         "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("reopen_filing",             In,    "filing=F_FILED",                                    "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("reopen_filing",             In,    "filing=F1",                                         "409 409 404 403 403 403 404 404 404 404 401 401 404"),
    r("reopen_filing",             Out,   "filing=FQ_FILED",                                   "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("create_task",               In,    "filing=F1",                                         "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("create_task",               In,    "filing=F_FILED",                                    "409 409 404 403 403 403 404 404 404 404 401 401 404"),
    r("create_task",               Out,   "filing=FQ",                                         "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    // Reading a task is reading its client: BT reads every task of C1, its own or not, active filing or not.
    r("get_task",                  In,    "task=T1",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("get_task",                  In,    "task=T2",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("get_task",                  In,    "task=T_F",                                          "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("get_task",                  Out,   "task=TQ",                                           "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("list_time",                 In,    "task=T1",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("list_time",                 Out,   "task=TQ",                                           "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("list_comments",             In,    "task=T1",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("list_comments",             Out,   "task=TQ",                                           "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    // The bookkeeper's own work: their own task only (403 on T2), never on a closed filing (403 on T_F, for everyone).
    r("set_task_status",           In,    "task=T1",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("set_task_status",           In,    "task=T2",                                           "ok  ok  404 403 404 404 404 404 404 404 401 401 404"),
    r("set_task_status",           In,    "task=T_F",                                          "403 403 404 403 404 404 404 404 404 404 401 401 404"),
    r("set_task_status",           Out,   "task=TQ",                                           "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("log_time",                  In,    "task=T1",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("log_time",                  In,    "task=T2",                                           "ok  ok  404 403 404 404 404 404 404 404 401 401 404"),
    r("log_time",                  In,    "task=T_F",                                          "403 403 404 403 404 404 404 404 404 404 401 401 404"),
    r("log_time",                  Out,   "task=TQ",                                           "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("comment_on_task",           In,    "task=T1",                                           "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("comment_on_task",           In,    "task=T2",                                           "ok  ok  404 403 404 404 404 404 404 404 401 401 404"),
    r("comment_on_task",           In,    "task=T_F",                                          "403 403 404 403 404 404 404 404 404 404 401 401 404"),
    r("comment_on_task",           Out,   "task=TQ",                                           "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("tick_checklist_item",       In,    "task=T1 item=I1",                                   "ok  ok  404 ok  404 404 404 404 404 404 401 401 404"),
    r("tick_checklist_item",       In,    "task=T2 item=I2",                                   "ok  ok  404 403 404 404 404 404 404 404 401 401 404"),
    r("tick_checklist_item",       In,    "task=T_F item=I_F",                                 "403 403 404 403 404 404 404 404 404 404 401 401 404"),
    r("tick_checklist_item",       Out,   "task=TQ item=IQ",                                   "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    r("tick_checklist_item",       Mixed, "task=T1 item=IQ",                                   "404 404 404 404 404 404 404 404 404 404 401 401 404"),
    // Assigning, due dates, reviewers and the checklist's items: admins and staff in scope (bookkeepers: layer 1).
    r("change_task",               In,    "task=T1",                                           "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("change_task",               In,    "task=T_F",                                          "403 403 404 403 403 403 404 404 404 404 401 401 404"),
    r("change_task",               Out,   "task=TQ",                                           "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("add_checklist_item",        In,    "task=T1",                                           "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("add_checklist_item",        In,    "task=T_F",                                          "403 403 404 403 403 403 404 404 404 404 401 401 404"),
    r("add_checklist_item",        Out,   "task=TQ",                                           "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("remove_checklist_item",     In,    "task=T1 item=I1",                                   "ok  ok  404 403 403 403 404 404 404 404 401 401 404"),
    r("remove_checklist_item",     In,    "task=T_F item=I_F",                                 "403 403 404 403 403 403 404 404 404 404 401 401 404"),
    r("remove_checklist_item",     Out,   "task=TQ item=IQ",                                   "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("remove_checklist_item",     Mixed, "task=T1 item=IQ",                                   "404 404 404 403 403 403 404 404 404 404 401 401 404"),

    // Files. Inbox and outbox: admins, staff, client users and outside parties (bookkeepers: layer 1).
    r("list_my_inbox",             Own,   "",                                                  "ok  ok  ok  403 403 403 ok  ok  ok  404 401 401 ok "),
    r("list_my_outbox",            Own,   "",                                                  "ok  ok  ok  403 403 403 ok  ok  ok  404 401 401 ok "),
    // A client's document: anyone in scope of the client, bookkeepers included while they hold an active task.
    r("get_document",              In,    "document=D1",                                       "ok  ok  404 ok  404 404 ok  404 404 404 401 401 404"),
    r("get_document",              In,    "document=D_CO",                                     "ok  ok  404 ok  404 404 ok  404 404 404 401 401 404"),
    r("get_document",              Out,   "document=DQ",                                       "404 404 404 404 404 404 404 404 ok  404 401 401 404"),
    // Over a connection: the practice's admins, and the sender and recipients while it is active.
    r("get_document",              In,    "document=DX",                                       "ok  404 404 404 404 404 404 404 404 404 401 401 ok "),
    // Deleting: the uploader, or an admin in scope; others in scope are refused, bookkeepers at layer 1.
    r("delete_document",           In,    "document=D1",                                       "ok  ok  404 403 403 403 403 404 404 404 401 401 404"),
    r("delete_document",           In,    "document=D_CO",                                     "ok  403 404 403 403 403 ok  404 404 404 401 401 404"),
    r("delete_document",           Out,   "document=DQ",                                       "404 404 404 403 403 403 404 404 ok  404 401 401 404"),
    r("delete_document",           In,    "document=DX",                                       "ok  404 404 403 403 403 404 404 404 404 401 401 403"),
    // Completing a transfer: its sender only (this one holds no file yet, so even the sender is told so).
    r("complete_transfer",         In,    "batch=B_OPEN",                                      "404 400 404 403 403 403 404 404 404 404 401 401 404"),
    r("complete_transfer",         Out,   "batch=BQ_OPEN",                                     "404 404 404 403 403 403 404 404 404 404 401 401 404"),
];

/// What one cell expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any 2xx.
    Ok,
    /// Exactly this status.
    Status(u16),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ok => f.write_str("2xx"),
            Self::Status(s) => write!(f, "{s}"),
        }
    }
}

fn parse_expect(row: &Row) -> Vec<Expect> {
    let cells: Vec<Expect> = row
        .expect
        .split_whitespace()
        .map(|c| match c {
            "ok" => Expect::Ok,
            n => Expect::Status(n.parse().unwrap_or_else(|_| panic!("{}: `{n}` is not ok or a status", row.op))),
        })
        .collect();
    assert_eq!(cells.len(), ROLES.len(), "{} `{}`: one cell per role", row.op, row.params);
    cells
}

/// An operation to exercise: from the document, or (when the document lacks
/// it) from `operations.rs`.
struct Target {
    op: SpecOp,
    public: bool,
}

/// One call and what it must answer.
#[derive(Debug, Clone)]
struct Cell {
    row: Row,
    role: Role,
    expect: Expect,
}

#[derive(Default)]
struct Report {
    cells: usize,
    allows: Vec<String>,
    denials: Vec<String>,
    shapes: Vec<String>,
    table: Vec<String>,
}

static UNIQUE: AtomicUsize = AtomicUsize::new(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_every_role_as_the_rules_say() {
    let started = Instant::now();
    let world = World::new().await;
    let spec = world.spec();
    let mut report = Report::default();

    // The operations: the document's, and any of operations.rs it lacks (not implemented yet).
    let mut targets: BTreeMap<String, Target> = BTreeMap::new();
    for op in spec_ops(&spec) {
        let public = OPERATIONS.iter().find(|o| o.id == op.id).is_some_and(|o| o.action.is_none());
        if !OPERATIONS.iter().any(|o| o.id == op.id) {
            report.table.push(format!("{}: in the OpenAPI document but not in operations.rs", op.id));
        }
        targets.insert(op.id.clone(), Target { op, public });
    }
    for o in OPERATIONS {
        if !targets.contains_key(o.id) {
            report.table.push(format!(
                "{} {} {}: in operations.rs but not in the OpenAPI document (no handler yet?)",
                o.id, o.method, o.path
            ));
            let op = SpecOp { id: o.id.to_owned(), method: o.method.clone(), path: o.path.to_owned(), body: None };
            targets.insert(o.id.to_owned(), Target { op, public: o.action.is_none() });
        }
    }

    check_table(&targets, &spec, &world, &mut report);

    for (id, target) in &targets {
        let rows: Vec<Row> = TABLE.iter().filter(|r| r.op == id.as_str()).copied().collect();
        if rows.is_empty() {
            continue; // reported by check_table
        }
        run_operation(target, &rows, &mut report).await;
    }

    let elapsed = started.elapsed();
    eprintln!("authorization matrix: {} operations, {} cells in {elapsed:.1?}", targets.len(), report.cells);
    let mut failures = Vec::new();
    if !report.table.is_empty() {
        failures.push(format!("TABLE ({}):\n  {}", report.table.len(), report.table.join("\n  ")));
    }
    if !report.allows.is_empty() {
        failures.push(format!("UNEXPECTED ALLOWS ({}):\n  {}", report.allows.len(), report.allows.join("\n  ")));
    }
    if !report.denials.is_empty() {
        failures.push(format!("WRONG ANSWERS ({}):\n  {}", report.denials.len(), report.denials.join("\n  ")));
    }
    if !report.shapes.is_empty() {
        failures.push(format!("ERROR SHAPE ({}):\n  {}", report.shapes.len(), report.shapes.join("\n  ")));
    }
    assert!(failures.is_empty(), "the authorization matrix failed:\n{}", failures.join("\n"));
}

/// Checks the table itself before anything is sent.
fn check_table(targets: &BTreeMap<String, Target>, spec: &serde_json::Value, world: &World, report: &mut Report) {
    for (id, target) in targets {
        let rows: Vec<&Row> = TABLE.iter().filter(|r| r.op == id.as_str()).collect();
        if rows.is_empty() {
            report.table.push(format!("new operation without a row: {id} {} {}", target.op.method, target.op.path));
            continue;
        }
        let params: BTreeSet<&str> = target.op.path_params().into_iter().collect();
        for row in &rows {
            let given: BTreeSet<String> = support::parse_params(row.params).into_keys().collect();
            let given: BTreeSet<&str> = given.iter().map(String::as_str).collect();
            if given != params {
                report
                    .table
                    .push(format!("{id} `{}`: the path {} has parameters {params:?}", row.params, target.op.path));
            }
            if (row.scope == Own) != params.is_empty() {
                report.table.push(format!(
                    "{id} `{}`: rows of operations without path parameters are Own, others not",
                    row.params
                ));
            }
            let cells = parse_expect(row);
            for (role, expect) in ROLES.iter().zip(&cells) {
                let wrong = match (row.scope, role, expect) {
                    (Out, Role::OtherPracticeAdmin, _) => None,
                    (Out, _, Expect::Ok) => Some("an out-of-scope object may succeed only for Q's admin"),
                    (Mixed, _, Expect::Ok) => Some("a mixed path may never succeed"),
                    _ => None,
                }
                .or(match (target.public, role, expect) {
                    (false, Role::Anonymous | Role::Deactivated, e) if *e != Expect::Status(401) => {
                        Some("without a live session a private operation is 401")
                    }
                    (false, Role::SuspendedPracticeAdmin, e) if *e != Expect::Status(404) => {
                        Some("a suspended practice's users are locked out (404)")
                    }
                    _ => None,
                })
                .or(match (role, expect) {
                    (Role::BookkeeperWithTask | Role::BookkeeperWithout | Role::BookkeeperFiled, Expect::Ok)
                        if !target.public =>
                    {
                        OPERATIONS
                            .iter()
                            .find(|o| o.id == id.as_str())
                            .and_then(|o| o.action)
                            .filter(|a| !ferry_domain::access::BOOKKEEPER_ALLOWLIST.contains(a))
                            .map(|_| "a bookkeeper may succeed only on allowlisted operations")
                    }
                    _ => None,
                });
                if let Some(why) = wrong {
                    report.table.push(format!("{id} `{}` {}: {why}", row.params, role.short()));
                }
            }
        }
        if !params.is_empty() {
            for scope in [In, Out] {
                if !rows.iter().any(|r| r.scope == scope) {
                    report.table.push(format!("{id}: no {scope:?} row"));
                }
            }
        }
        match (&target.op.body, example_body(id, world, 0)) {
            (Some(schema), Some(body)) => {
                if let Err(e) = check_body(spec, schema, &body) {
                    report.table.push(format!("{id}: {e}"));
                }
            }
            (Some(_), None) => report.table.push(format!("{id}: takes a body but has no example body")),
            (None, _) => {}
        }
    }
    for row in TABLE {
        if !targets.contains_key(row.op) {
            report.table.push(format!("a row for {}, which is neither in the document nor in operations.rs", row.op));
        }
    }
}

async fn run_operation(target: &Target, rows: &[Row], report: &mut Report) {
    let cells: Vec<Cell> = rows
        .iter()
        .flat_map(|row| {
            ROLES.iter().zip(parse_expect(row)).map(move |(&role, expect)| Cell { row: *row, role, expect })
        })
        .collect();
    report.cells += cells.len();
    let (successes, refusals): (Vec<&Cell>, Vec<&Cell>) = cells.iter().partition(|c| c.expect == Expect::Ok);
    if target.op.is_read() {
        let world = World::new().await;
        for cell in &cells {
            run_cell(&world, target, cell, report).await;
        }
        return;
    }
    let mut shared = World::new().await;
    for cell in refusals {
        if run_cell(&shared, target, cell, report).await {
            shared = World::new().await;
        }
    }
    for cell in successes {
        let world = World::new().await;
        run_cell(&world, target, cell, report).await;
    }
}

/// Sends one cell and records what went wrong. Returns whether the call
/// succeeded against expectations (so the world may have changed).
async fn run_cell(world: &World, target: &Target, cell: &Cell, report: &mut Report) -> bool {
    let path = world.fill(&target.op.path, cell.row.params);
    // Reads send no body; writes send their example (none for those that take none).
    let body = if target.op.is_read() {
        None
    } else if let Some(variant) = cell.row.body {
        Some(support::variant_body(variant, world))
    } else {
        example_body(&target.op.id, world, UNIQUE.fetch_add(1, Ordering::Relaxed))
    };
    let answer = world.send(cell.role, &target.op.method, &path, body.as_ref()).await;
    let status = answer.status.as_u16();
    let what = format!(
        "{} {} {} [{}] as {} ({}): expected {}, got {status}",
        target.op.id,
        target.op.method,
        path_for_people(&target.op.path, cell.row.params),
        format!("{:?}", cell.row.scope).to_lowercase(),
        cell.role.short(),
        cell.role.name(),
        cell.expect,
    );
    let success = answer.status.is_success();
    match (cell.expect, success) {
        (Expect::Ok, true) => {}
        (Expect::Status(_), true) => report.allows.push(what),
        (Expect::Ok, false) => report.denials.push(format!("{what} {}", truncate(&answer.text))),
        (Expect::Status(s), false) if s == status => {}
        (Expect::Status(_), false) => report.denials.push(format!("{what} {}", truncate(&answer.text))),
    }
    // A HEAD answer has no body to check.
    if !success
        && target.op.method != Method::HEAD
        && let Err(e) = check_error_shape(&answer)
    {
        report.shapes.push(format!("{} as {}: {e}", target.op.id, cell.role.short()));
    }
    success && cell.expect != Expect::Ok
}

/// `/clients/{client}` with `client=C1` → `/clients/{C1}`, for messages.
fn path_for_people(template: &str, params: &str) -> String {
    let given = support::parse_params(params);
    template
        .split('/')
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => format!("{{{}}}", given.get(name).map_or(name, String::as_str)),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The audit entry of every refusal names the rule that decided it: layer 1
/// (the portal boundary) before any handler, and layer 2 (`decide`) for a
/// 404 as for a 403. A 404 no rule decided (nothing by that id) says so in
/// words. The answers themselves do not name a hidden rule.
#[tokio::test]
async fn refusals_are_audited_naming_the_deciding_rule() {
    use poem::http::StatusCode;
    use serde_json::json;

    let world = World::new().await;
    let practice = format!("/practices/{}", world.id("P"));
    let client = format!("/clients/{}", world.id("C1"));
    let branding = json!({"colour": "#112233"});
    let cases = [
        (
            Role::BookkeeperWithout,
            Method::GET,
            practice.clone(),
            None,
            StatusCode::FORBIDDEN,
            "not allowed: bookkeepers may only use the bookkeeper portal's operations",
            "practice.view.refused",
            "refused: not allowed: bookkeepers may only use the bookkeeper portal's operations \
             [bookkeeper_portal_boundary] (layer 1)",
        ),
        (
            Role::StaffAssigned,
            Method::PATCH,
            practice,
            Some(&branding),
            StatusCode::FORBIDDEN,
            "not allowed: a practice staff may not do this",
            "practice.edit.refused",
            "refused: not allowed: a practice staff may not do this [rule 4, role_may_not] (layer 2)",
        ),
        (
            Role::StaffUnassigned,
            Method::GET,
            client,
            None,
            StatusCode::NOT_FOUND,
            "client not found",
            "client.view.refused",
            "refused: out of scope: the staff member is not assigned the client and holds no task on its active \
             filings [rule 4, staff_not_assigned] (layer 2)",
        ),
        (
            Role::Admin,
            Method::GET,
            "/filings/00000000-0000-0000-0000-000000000000".to_owned(),
            None,
            StatusCode::NOT_FOUND,
            "filing not found",
            "filing.view.refused",
            "refused: not found or out of scope (layer 2)",
        ),
    ];
    for (role, method, path, body, status, message, action, detail) in cases {
        let answer = world.send(role, &method, &path, body).await;
        assert_eq!(answer.status, status, "{method} {path} as {}: {}", role.name(), answer.text);
        let code = if status == StatusCode::FORBIDDEN { "forbidden" } else { "not_found" };
        assert_eq!(answer.json, json!({"code": code, "message": message}), "{method} {path} as {}", role.name());

        let mut read = world.app.store().read().await.expect("a read transaction");
        let entries = read.audit_entries(0, 1000).await.expect("the audit log");
        let last = entries.last().expect("an audit entry").entry.clone();
        assert_eq!(last.action, action, "{method} {path} as {}", role.name());
        assert_eq!(last.detail, detail, "{method} {path} as {}", role.name());
        assert_eq!(last.actor.map(|u| u.to_string()), Some(world.id(role.user_key().expect("signed in"))));
    }
}

/// A `HEAD` of every JSON `GET` operation gets exactly its `GET`'s checks
/// (authentication, the terms gate, layer 1 with its audit entry, layer 2),
/// cell by cell of the same table; `OPTIONS`, and any method a path does not
/// answer, reaches no handler: 405 with the path's methods in `Allow`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_and_options_get_the_checks_of_their_operation() {
    use poem::http::StatusCode;

    let world = World::new().await;
    let mut report = Report::default();
    for o in OPERATIONS.iter().filter(|o| o.method == Method::GET) {
        let rows: Vec<Row> = TABLE.iter().filter(|r| r.op == o.id).copied().collect();
        assert!(!rows.is_empty(), "{} has no row in the table", o.id);
        let op = SpecOp { id: o.id.to_owned(), method: Method::HEAD, path: o.path.to_owned(), body: None };
        run_operation(&Target { op, public: o.action.is_none() }, &rows, &mut report).await;
    }
    let wrong = [&report.table, &report.allows, &report.denials, &report.shapes];
    assert!(wrong.iter().all(|w| w.is_empty()), "HEAD answered otherwise than GET:\n{wrong:#?}");

    // A bookkeeper's HEAD refused by layer 1 is audited like the GET.
    let practice = format!("/practices/{}", world.id("P"));
    let answer = world.send(Role::BookkeeperWithout, &Method::HEAD, &practice, None).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let mut read = world.app.store().read().await.expect("a read transaction");
    let entries = read.audit_entries(0, 1000).await.expect("the audit log");
    assert_eq!(entries.last().expect("an audit entry").entry.action, "practice.view.refused");
    drop(read);

    // OPTIONS (tus's own aside) and methods a path does not answer: 405, before any handler.
    let all: Vec<_> = OPERATIONS.iter().chain(ferry_http::operations::STREAMING).collect();
    let fits = |template: &str, path: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
    };
    let mut paths: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for o in &all {
        let any_id =
            o.path.split('/').map(|s| if s.starts_with('{') { "0190d8f4-0000-7000-8000-000000000000" } else { s });
        let concrete = any_id.collect::<Vec<_>>().join("/");
        let methods = all.iter().filter(|other| fits(other.path, &concrete)).map(|other| other.method.to_string());
        paths.entry(o.path).or_default().extend(methods);
    }
    for (template, methods) in &paths {
        let params: Vec<String> = template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| format!("{name}=0190d8f4-0000-7000-8000-000000000000"))
            .collect();
        let path = world.fill(template, &params.join(" "));
        for method in [Method::OPTIONS, Method::TRACE] {
            if methods.contains(method.as_str()) {
                continue;
            }
            for role in [Role::Admin, Role::Anonymous, Role::BookkeeperWithout] {
                let answer = world.send(role, &method, &path, None).await;
                assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {template} as {}", role.name());
                assert_eq!(answer.json["code"], "method_not_allowed", "{method} {template}: {}", answer.text);
                assert_eq!(answer.json["field"], "method", "{method} {template}");
                let allow: BTreeSet<String> =
                    answer.headers_allow().split(", ").filter(|m| !m.is_empty()).map(str::to_owned).collect();
                assert_eq!(&allow, methods, "{method} {template}: Allow");
            }
        }
    }
}
