//! Every operation of the API with the domain action it performs: the table
//! layer 1 (the portal boundary) reads before any handler runs.
//!
//! A test checks that this table and the OpenAPI document list exactly the
//! same operations, so an operation cannot be added without deciding its
//! action (and the authorization matrix test then demands its row).

use ferry_domain::access::Action;
use poem::http::Method;

/// One operation of `/api/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The OpenAPI `operationId`.
    pub id: &'static str,
    /// The HTTP method.
    pub method: Method,
    /// The path template under `/api/v1`, such as `/clients/{client}`.
    pub path: &'static str,
    /// The action it performs; `None` for the few public operations
    /// (signing in, applying, links from mail), which need no session.
    pub action: Option<Action>,
}

macro_rules! ops {
    ($(#[$doc:meta])* $name:ident { $($id:literal $method:ident $path:literal => $action:expr;)* }) => {
        $(#[$doc])*
        pub const $name: &[Operation] = &[
            $(Operation { id: $id, method: Method::$method, path: $path, action: $action },)*
        ];
    };
}

use Action as A;

ops! {
    /// Every operation of the OpenAPI document.
    OPERATIONS {
    // Accounts.
    "sign_in" POST "/auth/login" => None;
    "sign_out" POST "/auth/logout" => Some(A::SignOut);
    "sign_out_everywhere" POST "/auth/logout-all" => Some(A::SignOut);
    "set_password" POST "/auth/password" => None;
    "request_password_reset" POST "/auth/password-reset" => None;
    "set_up_first_practice" POST "/setup" => None;
    "get_me" GET "/me" => Some(A::ViewSelf);
    "accept_terms" POST "/me/terms" => Some(A::AcceptTerms);
    "list_my_clients" GET "/me/clients" => Some(A::ListMyClients);
    "list_my_tasks" GET "/me/tasks" => Some(A::ListMyTasks);
    "get_my_dashboard" GET "/me/dashboard" => Some(A::ViewMyDashboard);

    // Practices and their people.
    "apply_for_practice" POST "/practices" => None;
    "list_practice_directory" GET "/practices/directory" => Some(A::ViewPracticeDirectory);
    "get_practice" GET "/practices/{practice}" => Some(A::ViewPractice);
    "edit_practice" PATCH "/practices/{practice}" => Some(A::EditPracticeSettings);
    "get_usage" GET "/practices/{practice}/usage" => Some(A::ViewUsage);
    "list_staff" GET "/practices/{practice}/people" => Some(A::ListStaff);
    "list_bookkeepers" GET "/practices/{practice}/bookkeepers" => Some(A::ListBookkeepers);
    "invite_person" POST "/practices/{practice}/people" => Some(A::InvitePerson);
    "change_person" PATCH "/practices/{practice}/people/{user}" => Some(A::ChangePerson);
    "reset_person_password" POST "/practices/{practice}/people/{user}/password-reset" => Some(A::ResetPersonPassword);
    "list_assigned_clients" GET "/practices/{practice}/people/{user}/clients" => Some(A::ManageClientAssignments);
    "assign_client" PUT "/practices/{practice}/people/{user}/clients/{client}" => Some(A::ManageClientAssignments);
    "unassign_client" DELETE "/practices/{practice}/people/{user}/clients/{client}" => Some(A::ManageClientAssignments);
    "list_assignee_candidates" GET "/practices/{practice}/pickers/assignees" => Some(A::ListAssigneeCandidates);
    "list_reviewer_candidates" GET "/practices/{practice}/pickers/reviewers" => Some(A::ListReviewerCandidates);
    "list_practice_clients" GET "/practices/{practice}/clients" => Some(A::ListPracticeClients);
    "invite_client" POST "/practices/{practice}/engagements" => Some(A::InviteClient);
    "list_connections" GET "/practices/{practice}/connections" => Some(A::ListConnections);
    "invite_outside_party" POST "/practices/{practice}/connections" => Some(A::InviteOutsideParty);

    // Consent.
    "list_my_engagements" GET "/engagements" => Some(A::ViewEngagement);
    "list_my_connections" GET "/connections" => Some(A::ViewConnection);
    "accept_invitation" POST "/invitations/accept" => None;
    "grant_practice_access" POST "/clients/{client}/engagements" => Some(A::GrantPracticeAccess);
    "accept_engagement" POST "/engagements/{engagement}/accept" => Some(A::AnswerEngagement);
    "decline_engagement" POST "/engagements/{engagement}/decline" => Some(A::AnswerEngagement);
    "revoke_engagement" POST "/engagements/{engagement}/revoke" => Some(A::RevokeEngagement);
    "accept_connection" POST "/connections/{connection}/accept" => Some(A::AnswerConnection);
    "decline_connection" POST "/connections/{connection}/decline" => Some(A::AnswerConnection);
    "revoke_connection" POST "/connections/{connection}/revoke" => Some(A::RevokeConnection);
    "list_client_members" GET "/clients/{client}/members" => Some(A::ListClientMembers);
    "invite_client_member" POST "/clients/{client}/members" => Some(A::InviteClientMember);
    "remove_client_member" DELETE "/clients/{client}/members/{user}" => Some(A::RemoveClientMember);
    "leave_client" POST "/clients/{client}/leave" => Some(A::LeaveClient);

    // Clients and the work.
    "get_client" GET "/clients/{client}" => Some(A::ViewClient);
    "list_filings" GET "/clients/{client}/filings" => Some(A::ListFilings);
    "create_filing" POST "/clients/{client}/filings" => Some(A::CreateFiling);
    "list_client_documents" GET "/clients/{client}/documents" => Some(A::ListDocuments);
    "list_client_emails" GET "/clients/{client}/emails" => Some(A::ViewEmailLog);
    "list_recipients" GET "/clients/{client}/recipients" => Some(A::ListRecipients);
    "get_filing" GET "/filings/{filing}" => Some(A::ViewFiling);
    "file_filing" POST "/filings/{filing}/file" => Some(A::ChangeFilingStatus);
    "cancel_filing" POST "/filings/{filing}/cancel" => Some(A::ChangeFilingStatus);
    "reopen_filing" POST "/filings/{filing}/reopen" => Some(A::ChangeFilingStatus);
    "list_filing_tasks" GET "/filings/{filing}/tasks" => Some(A::ViewFiling);
    "create_task" POST "/filings/{filing}/tasks" => Some(A::CreateTask);
    "read_discussion" GET "/filings/{filing}/discussion" => Some(A::ReadDiscussion);
    "post_discussion" POST "/filings/{filing}/discussion" => Some(A::PostDiscussion);
    "get_task" GET "/tasks/{task}" => Some(A::ViewTask);
    "change_task" PATCH "/tasks/{task}" => Some(A::AssignTask);
    "set_task_status" PUT "/tasks/{task}/status" => Some(A::ChangeTaskStatus);
    "add_checklist_item" POST "/tasks/{task}/checklist" => Some(A::EditChecklist);
    "tick_checklist_item" PATCH "/tasks/{task}/checklist/{item}" => Some(A::TickChecklistItem);
    "remove_checklist_item" DELETE "/tasks/{task}/checklist/{item}" => Some(A::EditChecklist);
    "list_time" GET "/tasks/{task}/time" => Some(A::ViewTask);
    "log_time" POST "/tasks/{task}/time" => Some(A::LogTime);
    "list_comments" GET "/tasks/{task}/comments" => Some(A::ViewTask);
    "comment_on_task" POST "/tasks/{task}/comments" => Some(A::CommentOnTask);

    // Files (metadata and lists; the bytes move through STREAMING).
    "list_my_inbox" GET "/me/inbox" => Some(A::ListMyInbox);
    "list_my_outbox" GET "/me/outbox" => Some(A::ListMyOutbox);
    "get_document" GET "/documents/{document}" => Some(A::ViewDocument);
    "delete_document" DELETE "/documents/{document}" => Some(A::DeleteDocument);
    "complete_transfer" POST "/transfers/{batch}/complete" => Some(A::SendToClient);
    }
}

ops! {
    /// The streaming operations (crate::transfer), outside the OpenAPI
    /// service because their bodies are streams: multipart transfers, the
    /// tus protocol and downloads; `streaming_doc.rs` describes them in the
    /// OpenAPI document, and `docs/API.md` shows them in use. Sending is
    /// checked as `SendToClient` at layer 1 (no bookkeeper may send); the use
    /// case decides the exact action (to a client, to a practice, over a
    /// connection) at layer 2.
    STREAMING {
    "send_transfer" POST "/transfers" => Some(A::SendToClient);
    "tus_options" OPTIONS "/uploads" => None;
    "tus_create" POST "/uploads" => Some(A::SendToClient);
    "tus_status" HEAD "/uploads/{upload}" => Some(A::SendToClient);
    "tus_append" PATCH "/uploads/{upload}" => Some(A::SendToClient);
    "tus_terminate" DELETE "/uploads/{upload}" => Some(A::SendToClient);
    "download_document" GET "/documents/{document}/content" => Some(A::DownloadDocument);
    }
}

/// The operation a request is for: `path` is under `/api/v1` (without it).
/// Literal segments win over parameters (`/practices/directory` is not
/// `/practices/{practice}`).
#[must_use]
pub fn find(method: &Method, path: &str) -> Option<&'static Operation> {
    best_match(OPERATIONS.iter().chain(STREAMING).filter(|op| op.method == *method), path)
}

/// What the table says of a request, before any handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// The operation it is. A `HEAD` of a JSON operation's path is its
    /// `GET` (which answers it without a body), with the same checks.
    Operation(&'static Operation),
    /// The path is an operation's, but not with this method: the methods it has.
    WrongMethod(Vec<Method>),
    /// No operation has this path.
    Unknown,
}

/// The row a request is checked by; a request no row matches is refused
/// before any handler runs.
#[must_use]
pub fn route(method: &Method, path: &str) -> Routed {
    if let Some(op) = find(method, path) {
        return Routed::Operation(op);
    }
    // The JSON operations' `GET` answers `HEAD` (poem-openapi drops the
    // body); a streaming `GET` does not (a download would be counted).
    if method == Method::HEAD
        && let Some(op) = best_match(OPERATIONS.iter().filter(|op| op.method == Method::GET), path)
    {
        return Routed::Operation(op);
    }
    let mut allowed: Vec<Method> = Vec::new();
    for op in OPERATIONS.iter().chain(STREAMING) {
        if !allowed.contains(&op.method) && find(&op.method, path).is_some_and(|found| found.path == op.path) {
            allowed.push(op.method.clone());
        }
    }
    const ORDER: [Method; 7] =
        [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS];
    allowed.sort_by_key(|m| ORDER.iter().position(|o| o == m));
    if allowed.is_empty() { Routed::Unknown } else { Routed::WrongMethod(allowed) }
}

/// The operation among `candidates` whose path template matches `path`,
/// the one with the most literal segments when several do.
fn best_match<'a>(candidates: impl Iterator<Item = &'a Operation>, path: &str) -> Option<&'a Operation> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(&Operation, usize)> = None;
    for op in candidates {
        let template: Vec<&str> = op.path.split('/').collect();
        if template.len() != segments.len() {
            continue;
        }
        let mut literals = 0;
        let matches = template.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                !s.is_empty()
            } else {
                literals += 1;
                t == s
            }
        });
        if matches && best.is_none_or(|(_, l)| literals > l) {
            best = Some((op, literals));
        }
    }
    best.map(|(op, _)| op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_unique() {
        let all: Vec<&Operation> = OPERATIONS.iter().chain(STREAMING).collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.id, b.id, "operation id used twice");
                assert!(!(a.method == b.method && a.path == b.path), "{} {} listed twice", a.method, a.path);
            }
        }
    }

    #[test]
    fn literal_segments_win() {
        assert_eq!(find(&Method::GET, "/practices/directory").map(|o| o.id), Some("list_practice_directory"));
        assert_eq!(find(&Method::GET, "/practices/abc").map(|o| o.id), Some("get_practice"));
        assert_eq!(find(&Method::PATCH, "/tasks/t1/checklist/i1").map(|o| o.id), Some("tick_checklist_item"));
        assert_eq!(find(&Method::GET, "/nothing/here"), None);
        assert_eq!(find(&Method::GET, "/clients//filings"), None);
    }
}
