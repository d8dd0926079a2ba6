//! The work use cases on SQLite: filings, tasks and access that follows the
//! work (rules 4 and 6), checked through the app layer.

use std::sync::Arc;

use ferry_app::{App, AppError, FilingInput, Principal, TaskChange, TaskInput, TimeInput};
use ferry_domain::access::Rule;
use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ClientId, EngagementId, FilingId, PracticeId, TaskId, UserId};
use ferry_domain::people::{ClientRole, Role};
use ferry_domain::values::{EmailAddress, OrganisationName};
use ferry_domain::work::{FilingStatus, FilingTransition, TaskStatus};
use ferry_ports::Store;
use ferry_ports::records::{ClientRecord, EngagementRecord, PageRequest, UserKind};
use ferry_store_sql::SqlStore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

mod common;

struct World {
    app: App,
    store: Arc<SqlStore>,
    _dir: tempfile::TempDir,
    practice: PracticeId,
    admin: Principal,
    staff: Principal,
    bookkeeper: Principal,
    other_bookkeeper: Principal,
    client: ClientId,
    client_user: Principal,
}

fn who(user: UserId) -> Principal {
    Principal::User { user, session: None }
}

fn uid(p: &Principal) -> UserId {
    p.user().expect("a user")
}

fn new_id() -> Uuid {
    Uuid::now_v7()
}

fn page() -> PageRequest {
    PageRequest::first(100)
}

async fn user(store: &SqlStore, name: &str, kind: UserKind) -> UserId {
    common::insert_user(store, name, kind).await.id
}

async fn member(store: &SqlStore, practice: PracticeId, name: &str, role: Role) -> Principal {
    common::insert_member(store, practice, name, role).await.who
}

/// A practice approved by the operator, with its first admin.
async fn practice(app: &App, store: &SqlStore, name: &str) -> (PracticeId, Principal) {
    let (id, admin) = common::approved_practice(app, store, name, "Admin").await;
    (id, admin.who)
}

async fn engage(store: &SqlStore, practice: PracticeId, client: ClientId) {
    let mut tx = store.begin().await.unwrap();
    tx.insert_engagement(&EngagementRecord {
        id: EngagementId::from_uuid(new_id()),
        practice,
        client,
        state: ConsentState::Active,
        changed_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn world() -> World {
    let (app, store, dir) = common::sqlite_app().await.into_parts();
    let (practice, admin) = practice(&app, &store, "Ledger & Co").await;
    let staff = member(&store, practice, "Staff", Role::Staff).await;
    let bookkeeper = member(&store, practice, "Bookkeeper", Role::Bookkeeper).await;
    let other_bookkeeper = member(&store, practice, "Other Bookkeeper", Role::Bookkeeper).await;
    let client = ClientId::from_uuid(new_id());
    let mut tx = store.begin().await.unwrap();
    tx.insert_client(&ClientRecord {
        id: client,
        name: OrganisationName::parse("Acme Widgets").unwrap(),
        created_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    engage(&store, practice, client).await;
    let owner = user(&store, "Owner", UserKind::Client).await;
    let mut tx = store.begin().await.unwrap();
    tx.add_client_member(client, owner, ClientRole::Owner).await.unwrap();
    tx.commit().await.unwrap();
    World {
        app,
        store,
        _dir: dir,
        practice,
        admin,
        staff,
        bookkeeper,
        other_bookkeeper,
        client,
        client_user: who(owner),
    }
}

fn filing_input() -> FilingInput {
    FilingInput {
        kind: "gst_hst".into(),
        period_start: Some("2026-01-01".into()),
        period_end: Some("2026-03-31".into()),
        due: Some("2026-04-30".into()),
    }
}

fn task_input(title: &str, assignee: Option<&Principal>) -> TaskInput {
    TaskInput { title: title.into(), assignee: assignee.map(uid), ..TaskInput::default() }
}

impl World {
    async fn filing(&self) -> FilingId {
        self.app.create_filing(&self.admin, self.client, &filing_input()).await.unwrap().id
    }

    async fn task(&self, filing: FilingId, assignee: Option<&Principal>) -> TaskId {
        self.app.create_task(&self.admin, filing, &task_input("Reconcile the bank", assignee)).await.unwrap().id
    }

    async fn audit_actions(&self) -> Vec<String> {
        let mut tx = self.store.read().await.unwrap();
        let entries = tx.audit_entries(0, 10_000).await.unwrap();
        entries.into_iter().map(|e| e.entry.action).collect()
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, AppError>) -> bool {
    matches!(result, Err(AppError::NotFound { .. }))
}

fn forbidden_by<T: std::fmt::Debug>(result: Result<T, AppError>) -> Rule {
    match result {
        Err(AppError::Forbidden { rule }) => rule,
        other => panic!("expected forbidden, got {other:?}"),
    }
}

fn invalid_field<T: std::fmt::Debug>(result: Result<T, AppError>) -> String {
    match result {
        Err(AppError::Invalid { field: Some(field), .. }) => field,
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn admins_create_filings_that_start_active_and_are_audited() {
    let w = world().await;
    let filing = w.app.create_filing(&w.admin, w.client, &filing_input()).await.unwrap();
    assert_eq!(filing.status, FilingStatus::Active);
    assert_eq!(filing.practice, w.practice);
    assert_eq!(filing.kind.as_str(), "gst_hst");
    assert_eq!(filing.due.map(|d| d.to_string()), Some("2026-04-30".to_owned()));
    let listed = w.app.filings(&w.admin, w.client, &page()).await.unwrap();
    assert_eq!(listed.items.iter().map(|f| f.id).collect::<Vec<_>>(), vec![filing.id]);
    let view = w.app.filing(&w.admin, filing.id).await.unwrap();
    assert!(view.tasks.is_empty());
    assert!(w.audit_actions().await.contains(&"filing.create".to_owned()));
}

#[tokio::test]
async fn bad_filing_input_names_the_field() {
    let w = world().await;
    let bad_due = FilingInput { due: Some("30/04/2026".into()), ..filing_input() };
    assert_eq!(invalid_field(w.app.create_filing(&w.admin, w.client, &bad_due).await), "due");
    let half_period = FilingInput { period_end: None, ..filing_input() };
    assert_eq!(invalid_field(w.app.create_filing(&w.admin, w.client, &half_period).await), "period_end");
    let reversed = FilingInput { period_start: Some("2026-05-01".into()), ..filing_input() };
    assert_eq!(invalid_field(w.app.create_filing(&w.admin, w.client, &reversed).await), "period_end");
    let no_kind = FilingInput { kind: "  ".into(), ..filing_input() };
    assert_eq!(invalid_field(w.app.create_filing(&w.admin, w.client, &no_kind).await), "kind");
    assert!(w.app.filings(&w.admin, w.client, &page()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn bookkeeper_sees_the_client_only_while_holding_a_task_on_an_active_filing() {
    let w = world().await;
    let filing = w.filing().await;
    // No task yet: the client does not exist for the bookkeeper.
    assert!(is_not_found(w.app.client(&w.bookkeeper, w.client).await));
    assert!(is_not_found(w.app.filing(&w.bookkeeper, filing).await));

    let task = w.task(filing, Some(&w.bookkeeper)).await;
    assert_eq!(w.app.client(&w.bookkeeper, w.client).await.unwrap().id, w.client);
    assert_eq!(w.app.filing(&w.bookkeeper, filing).await.unwrap().tasks.len(), 1);
    assert_eq!(w.app.task(&w.bookkeeper, task).await.unwrap().task.id, task);
    assert_eq!(w.app.filings(&w.bookkeeper, w.client, &page()).await.unwrap().items.len(), 1);
    assert!(w.app.client_documents(&w.bookkeeper, w.client, &page()).await.unwrap().items.is_empty());
    w.app.client_emails(&w.bookkeeper, w.client, &page()).await.unwrap();
    w.app.discussion(&w.bookkeeper, filing, &page()).await.unwrap();

    // Filing it ends the access on the very next call (rule 6).
    let filed = w.app.change_filing_status(&w.admin, filing, FilingTransition::File).await.unwrap();
    assert_eq!(filed.status, FilingStatus::Filed);
    assert!(is_not_found(w.app.client(&w.bookkeeper, w.client).await));
    assert!(is_not_found(w.app.filing(&w.bookkeeper, filing).await));
    assert!(is_not_found(w.app.task(&w.bookkeeper, task).await));
    assert!(is_not_found(w.app.set_task_status(&w.bookkeeper, task, "done").await));
    assert!(is_not_found(w.app.client_documents(&w.bookkeeper, w.client, &page()).await));

    // Reopening brings it back.
    w.app.change_filing_status(&w.admin, filing, FilingTransition::Reopen).await.unwrap();
    assert_eq!(w.app.client(&w.bookkeeper, w.client).await.unwrap().id, w.client);
    assert_eq!(w.app.task(&w.bookkeeper, task).await.unwrap().task.filing_status, FilingStatus::Active);

    // Cancelling ends it again; so does taking the task away.
    w.app.change_filing_status(&w.admin, filing, FilingTransition::Cancel).await.unwrap();
    assert!(is_not_found(w.app.client(&w.bookkeeper, w.client).await));
    w.app.change_filing_status(&w.admin, filing, FilingTransition::Reopen).await.unwrap();
    let unassign = TaskChange { assignee: Some(None), ..TaskChange::default() };
    w.app.change_task(&w.admin, task, &unassign).await.unwrap();
    assert!(is_not_found(w.app.client(&w.bookkeeper, w.client).await));

    let actions = w.audit_actions().await;
    for action in ["filing.file", "filing.reopen", "filing.cancel", "task.create", "task.assign"] {
        assert!(actions.contains(&action.to_owned()), "{action} audited");
    }
}

#[tokio::test]
async fn filing_steps_the_status_does_not_allow_are_conflicts() {
    let w = world().await;
    let filing = w.filing().await;
    let reopen = w.app.change_filing_status(&w.admin, filing, FilingTransition::Reopen).await;
    assert!(matches!(reopen, Err(AppError::Conflict { .. })), "{reopen:?}");
    w.app.change_filing_status(&w.admin, filing, FilingTransition::File).await.unwrap();
    for step in [FilingTransition::File, FilingTransition::Cancel] {
        let result = w.app.change_filing_status(&w.admin, filing, step).await;
        assert!(matches!(result, Err(AppError::Conflict { .. })), "{step:?}: {result:?}");
    }
    // No new task on a closed filing.
    let task = w.app.create_task(&w.admin, filing, &task_input("Late", None)).await;
    assert!(matches!(task, Err(AppError::Conflict { .. })), "{task:?}");
}

#[tokio::test]
async fn bookkeepers_cannot_create_or_manage_the_work() {
    let w = world().await;
    let filing = w.filing().await;
    let task = w.task(filing, Some(&w.bookkeeper)).await;
    assert_eq!(
        forbidden_by(w.app.create_filing(&w.bookkeeper, w.client, &filing_input()).await),
        Rule::BookkeeperPortalBoundary
    );
    assert_eq!(
        forbidden_by(w.app.create_task(&w.bookkeeper, filing, &task_input("Mine", None)).await),
        Rule::BookkeeperPortalBoundary
    );
    assert_eq!(
        forbidden_by(w.app.change_filing_status(&w.bookkeeper, filing, FilingTransition::File).await),
        Rule::BookkeeperPortalBoundary
    );
    let due = TaskChange { due: Some(Some("2026-05-01".into())), ..TaskChange::default() };
    assert_eq!(forbidden_by(w.app.change_task(&w.bookkeeper, task, &due).await), Rule::BookkeeperPortalBoundary);
    assert_eq!(
        forbidden_by(w.app.add_checklist_item(&w.bookkeeper, task, "More").await),
        Rule::BookkeeperPortalBoundary
    );
    // Holding a task, they read the rest of the client's work.
    let other_filing = w.filing().await;
    let other = w.task(other_filing, Some(&w.staff)).await;
    assert!(w.app.task(&w.bookkeeper, other).await.is_ok(), "same client: read-only context");
    assert!(w.app.filing(&w.bookkeeper, other_filing).await.is_ok());
    assert_eq!(w.app.filing(&w.bookkeeper, filing).await.unwrap().filing.status, FilingStatus::Active);
}

#[tokio::test]
async fn bookkeepers_work_their_own_tasks_and_not_others() {
    let w = world().await;
    let filing = w.filing().await;
    let mine = w.task(filing, Some(&w.bookkeeper)).await;
    let theirs = w.task(filing, Some(&w.other_bookkeeper)).await;
    let item = w.app.add_checklist_item(&w.admin, mine, "Bank statements").await.unwrap();
    let their_item = w.app.add_checklist_item(&w.admin, theirs, "Receipts").await.unwrap();
    let time = TimeInput { on: "2026-04-20".into(), minutes: 90, note: Some("Matched March".into()) };

    // Own task: status, tick, time, comment.
    assert_eq!(w.app.set_task_status(&w.bookkeeper, mine, "in_progress").await.unwrap().status, TaskStatus::InProgress);
    assert!(w.app.tick_checklist_item(&w.bookkeeper, mine, item.id, true).await.unwrap().done);
    let entry = w.app.log_time(&w.bookkeeper, mine, &time).await.unwrap();
    assert_eq!((entry.user, entry.minutes.get()), (uid(&w.bookkeeper), 90));
    let comment = w.app.comment_on_task(&w.bookkeeper, mine, "Waiting on March statement").await.unwrap();
    assert_eq!(comment.author, uid(&w.bookkeeper));
    w.app.post_discussion(&w.bookkeeper, filing, "Question for the team").await.unwrap();
    let view = w.app.task(&w.bookkeeper, mine).await.unwrap();
    assert_eq!((view.checklist.len(), view.time.len(), view.comments.len()), (1, 1, 1));
    assert!(view.checklist[0].done);
    assert_eq!(w.app.time_entries(&w.bookkeeper, mine).await.unwrap().len(), 1);
    assert_eq!(w.app.task_comments(&w.bookkeeper, mine, &page()).await.unwrap().items.len(), 1);
    assert_eq!(w.app.discussion(&w.bookkeeper, filing, &page()).await.unwrap().items.len(), 1);

    // Someone else's task on the same filing: visible, not workable.
    assert!(w.app.task(&w.bookkeeper, theirs).await.is_ok());
    assert_eq!(forbidden_by(w.app.set_task_status(&w.bookkeeper, theirs, "done").await), Rule::OnlyTheAssignee);
    assert_eq!(
        forbidden_by(w.app.tick_checklist_item(&w.bookkeeper, theirs, their_item.id, true).await),
        Rule::OnlyTheAssignee
    );
    assert_eq!(forbidden_by(w.app.log_time(&w.bookkeeper, theirs, &time).await), Rule::OnlyTheAssignee);
    assert_eq!(forbidden_by(w.app.comment_on_task(&w.bookkeeper, theirs, "Hi").await), Rule::OnlyTheAssignee);

    // Bad input names its field; an item of another task is not found.
    assert_eq!(invalid_field(w.app.set_task_status(&w.bookkeeper, mine, "finished").await), "status");
    let bad_time = TimeInput { minutes: 0, ..time.clone() };
    assert_eq!(invalid_field(w.app.log_time(&w.bookkeeper, mine, &bad_time).await), "minutes");
    let bad_day = TimeInput { on: "yesterday".into(), ..time.clone() };
    assert_eq!(invalid_field(w.app.log_time(&w.bookkeeper, mine, &bad_day).await), "on");
    assert!(is_not_found(w.app.tick_checklist_item(&w.bookkeeper, mine, their_item.id, true).await));

    let actions = w.audit_actions().await;
    for action in [
        "task.status",
        "task.checklist.add",
        "task.checklist.tick",
        "task.time.log",
        "task.comment",
        "filing.discussion.post",
    ] {
        assert!(actions.contains(&action.to_owned()), "{action} audited");
    }
}

#[tokio::test]
async fn admins_and_staff_edit_checklists_and_tasks_of_active_filings_only() {
    let w = world().await;
    let filing = w.filing().await;
    let task = w.task(filing, Some(&w.staff)).await;
    let a = w.app.add_checklist_item(&w.staff, task, "First").await.unwrap();
    let b = w.app.add_checklist_item(&w.staff, task, "Second").await.unwrap();
    assert_eq!((a.position, b.position), (0, 1));
    w.app.remove_checklist_item(&w.staff, task, a.id).await.unwrap();
    assert!(is_not_found(w.app.remove_checklist_item(&w.staff, task, a.id).await));
    assert_eq!(w.app.task(&w.staff, task).await.unwrap().checklist.len(), 1);

    let change = TaskChange {
        assignee: Some(Some(uid(&w.bookkeeper))),
        due: Some(Some("2026-06-30".into())),
        reviewer: Some(Some(uid(&w.staff))),
        approver: Some(Some(uid(&w.admin))),
    };
    let changed = w.app.change_task(&w.admin, task, &change).await.unwrap();
    assert_eq!(changed.assignee, Some(uid(&w.bookkeeper)));
    assert_eq!(changed.due.map(|d| d.to_string()), Some("2026-06-30".to_owned()));
    assert_eq!((changed.reviewer, changed.approver), (Some(uid(&w.staff)), Some(uid(&w.admin))));
    // Clearing one keeps the other.
    let clear = TaskChange { reviewer: Some(None), due: Some(None), ..TaskChange::default() };
    let cleared = w.app.change_task(&w.admin, task, &clear).await.unwrap();
    assert_eq!((cleared.reviewer, cleared.approver, cleared.due), (None, Some(uid(&w.admin)), None));
    let bad_due = TaskChange { due: Some(Some("2026-02-30".into())), ..TaskChange::default() };
    assert_eq!(invalid_field(w.app.change_task(&w.admin, task, &bad_due).await), "due");

    // A closed filing's tasks stay as they were.
    w.app.change_filing_status(&w.admin, filing, FilingTransition::File).await.unwrap();
    assert!(matches!(
        forbidden_by(w.app.add_checklist_item(&w.admin, task, "Third").await),
        Rule::FilingNotActive(FilingStatus::Filed)
    ));
    let due = TaskChange { due: Some(Some("2026-07-01".into())), ..TaskChange::default() };
    assert!(matches!(forbidden_by(w.app.change_task(&w.admin, task, &due).await), Rule::FilingNotActive(_)));
    assert!(w.app.task(&w.admin, task).await.is_ok(), "still readable");

    let actions = w.audit_actions().await;
    for action in ["task.assign", "task.due_date", "task.reviewers", "task.checklist.remove"] {
        assert!(actions.contains(&action.to_owned()), "{action} audited");
    }
}

#[tokio::test]
async fn reviewers_and_approvers_are_never_bookkeepers() {
    let w = world().await;
    let filing = w.filing().await;
    let input = TaskInput { reviewer: Some(uid(&w.bookkeeper)), ..task_input("Review", None) };
    assert_eq!(invalid_field(w.app.create_task(&w.admin, filing, &input).await), "reviewer");
    let input = TaskInput { approver: Some(uid(&w.other_bookkeeper)), ..task_input("Approve", None) };
    assert_eq!(invalid_field(w.app.create_task(&w.admin, filing, &input).await), "approver");
    assert!(w.app.filing(&w.admin, filing).await.unwrap().tasks.is_empty(), "nothing half-made");

    let task = w.task(filing, None).await;
    let change = TaskChange { approver: Some(Some(uid(&w.bookkeeper))), ..TaskChange::default() };
    assert_eq!(invalid_field(w.app.change_task(&w.admin, task, &change).await), "approver");
    // Bookkeepers may hold tasks, though; strangers may not.
    let (_, stranger) = practice(&w.app, &w.store, "Elsewhere LLP").await;
    let input = TaskInput { assignee: Some(uid(&stranger)), ..task_input("Stranger", None) };
    assert_eq!(invalid_field(w.app.create_task(&w.admin, filing, &input).await), "assignee");
    let input = TaskInput { reviewer: Some(uid(&w.client_user)), ..task_input("Client", None) };
    assert_eq!(invalid_field(w.app.create_task(&w.admin, filing, &input).await), "reviewer");
    let input = TaskInput {
        reviewer: Some(uid(&w.staff)),
        approver: Some(uid(&w.admin)),
        ..task_input("Fine", Some(&w.bookkeeper))
    };
    let task = w.app.create_task(&w.admin, filing, &input).await.unwrap();
    assert_eq!(
        (task.assignee, task.reviewer, task.approver),
        (Some(uid(&w.bookkeeper)), Some(uid(&w.staff)), Some(uid(&w.admin)))
    );
}

#[tokio::test]
async fn staff_see_clients_assigned_to_them_or_behind_their_tasks() {
    let w = world().await;
    let filing = w.filing().await;
    assert!(is_not_found(w.app.client(&w.staff, w.client).await));
    assert!(is_not_found(w.app.filing(&w.staff, filing).await));
    assert!(is_not_found(w.app.create_filing(&w.staff, w.client, &filing_input()).await));

    let task = w.task(filing, Some(&w.staff)).await;
    assert!(w.app.client(&w.staff, w.client).await.is_ok());
    w.app.create_filing(&w.staff, w.client, &filing_input()).await.unwrap();
    w.app.change_task(&w.admin, task, &TaskChange { assignee: Some(None), ..TaskChange::default() }).await.unwrap();
    assert!(is_not_found(w.app.client(&w.staff, w.client).await));

    // An assignment lets them in without a task.
    let mut tx = w.store.begin().await.unwrap();
    tx.assign_client(uid(&w.staff), w.client, OffsetDateTime::now_utc()).await.unwrap();
    tx.commit().await.unwrap();
    assert!(w.app.filing(&w.staff, filing).await.is_ok());
}

#[tokio::test]
async fn another_practices_filings_are_not_found() {
    let w = world().await;
    let filing = w.filing().await;
    let task = w.task(filing, None).await;
    let (other, other_admin) = practice(&w.app, &w.store, "Rival Partners").await;
    engage(&w.store, other, w.client).await;
    // Their admin opens the client, but never our filings or tasks.
    assert!(w.app.client(&other_admin, w.client).await.is_ok());
    assert!(w.app.filings(&other_admin, w.client, &page()).await.unwrap().items.is_empty());
    assert!(is_not_found(w.app.filing(&other_admin, filing).await));
    assert!(is_not_found(w.app.filing_tasks(&other_admin, filing, &page()).await));
    assert!(is_not_found(w.app.task(&other_admin, task).await));
    assert!(is_not_found(w.app.change_filing_status(&other_admin, filing, FilingTransition::File).await));
    assert!(is_not_found(w.app.create_task(&other_admin, filing, &task_input("Sneaky", None)).await));
    assert!(is_not_found(w.app.discussion(&other_admin, filing, &page()).await));
    // Their own filing lists only for them.
    let theirs = w.app.create_filing(&other_admin, w.client, &filing_input()).await.unwrap();
    assert_eq!(w.app.filings(&other_admin, w.client, &page()).await.unwrap().items, vec![theirs.clone()]);
    assert!(!w.app.filings(&w.admin, w.client, &page()).await.unwrap().items.contains(&theirs));
    // Client users never see practice internals.
    assert!(is_not_found(w.app.filing(&w.client_user, filing).await));
    assert!(is_not_found(w.app.task(&w.client_user, task).await));
    assert!(is_not_found(w.app.filings(&w.client_user, w.client, &page()).await));
    assert!(w.app.client(&w.client_user, w.client).await.is_ok());
    assert!(w.app.client_documents(&w.client_user, w.client, &page()).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn my_tasks_and_the_dashboard_count_what_is_assigned() {
    let w = world().await;
    let filing = w.filing().await;
    let today = OffsetDateTime::now_utc().date();
    let day = |offset: i64| (today + Duration::days(offset)).to_string();
    let mut ids = Vec::new();
    for due in [Some(day(-2)), Some(day(3)), Some(day(30)), None, Some(day(-10))] {
        let input = TaskInput { due, ..task_input("Step", Some(&w.bookkeeper)) };
        ids.push(w.app.create_task(&w.admin, filing, &input).await.unwrap().id);
    }
    w.app.set_task_status(&w.bookkeeper, ids[4], "done").await.unwrap();
    w.task(filing, Some(&w.other_bookkeeper)).await;

    let dashboard = w.app.my_dashboard(&w.bookkeeper).await.unwrap();
    assert_eq!(dashboard.today, today);
    assert_eq!((dashboard.dashboard.assigned, dashboard.dashboard.due_soon, dashboard.dashboard.overdue), (4, 1, 1));

    let mine = w.app.my_tasks(&w.bookkeeper, &page()).await.unwrap();
    assert_eq!(mine.items.len(), 5);
    assert_eq!(mine.items[0].task.id, ids[4], "soonest due first");
    assert!(mine.items.last().unwrap().task.due.is_none(), "undated last");
    for row in &mine.items {
        assert_eq!(row.filing_kind.as_str(), "gst_hst");
        assert_eq!(row.task.filing, filing);
        assert_eq!(row.client.as_ref().map(|c| c.id), Some(w.client));
    }
    // Paging.
    let first = w.app.my_tasks(&w.bookkeeper, &PageRequest::first(2)).await.unwrap();
    let next = first.next.clone().expect("a second page");
    let second = w.app.my_tasks(&w.bookkeeper, &PageRequest::after(2, next)).await.unwrap();
    assert_eq!(second.items[0].task.id, mine.items[2].task.id);

    // The engagement ends: the tasks stay theirs, but the client's name is not shown.
    let mut tx = w.store.begin().await.unwrap();
    let engagement = tx.engagement_between(w.practice, w.client).await.unwrap().unwrap();
    let revoked = ConsentState::Revoked { by: ferry_domain::consent::Side::Counterparty };
    tx.set_engagement_state(engagement.id, ConsentState::Active, revoked, OffsetDateTime::now_utc()).await.unwrap();
    tx.commit().await.unwrap();
    let rows = w.app.my_tasks(&w.bookkeeper, &page()).await.unwrap().items;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|row| row.client.is_none()), "no client name for a client the bookkeeper cannot open");
    assert!(is_not_found(w.app.task(&w.bookkeeper, rows[0].task.id).await));
    let mut tx = w.store.begin().await.unwrap();
    tx.set_engagement_state(engagement.id, revoked, ConsentState::Active, OffsetDateTime::now_utc()).await.unwrap();
    tx.commit().await.unwrap();

    // Filed: access and the dashboard follow.
    w.app.change_filing_status(&w.admin, filing, FilingTransition::File).await.unwrap();
    let dashboard = w.app.my_dashboard(&w.bookkeeper).await.unwrap();
    assert_eq!(dashboard.dashboard.assigned, 0);
    for row in w.app.my_tasks(&w.bookkeeper, &page()).await.unwrap().items {
        assert_eq!(row.task.filing_status, FilingStatus::Filed);
        assert!(row.client.is_none(), "no client name for a client the bookkeeper cannot open");
    }
    // Not for client users.
    assert!(w.app.my_tasks(&w.client_user, &page()).await.is_err());
    assert!(w.app.my_dashboard(&w.client_user).await.is_err());
}

#[tokio::test]
async fn client_users_send_to_admins_and_staff_who_can_open_their_client() {
    let w = world().await;
    let names = |found: Vec<ferry_app::RecipientView>| {
        let mut ids: Vec<UserId> = found.into_iter().map(|r| r.user.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<UserId>| {
        ids.sort();
        ids
    };
    assert_eq!(names(w.app.recipients(&w.client_user, w.client).await.unwrap()), vec![uid(&w.admin)]);
    // Staff with a task on an active filing become recipients; bookkeepers never do.
    let filing = w.filing().await;
    w.task(filing, Some(&w.staff)).await;
    w.task(filing, Some(&w.bookkeeper)).await;
    assert_eq!(
        names(w.app.recipients(&w.client_user, w.client).await.unwrap()),
        sorted(vec![uid(&w.admin), uid(&w.staff)])
    );
    // A second engaged practice adds its admin; a revoked one does not.
    let (other, other_admin) = practice(&w.app, &w.store, "Second Practice").await;
    engage(&w.store, other, w.client).await;
    let (third, _) = practice(&w.app, &w.store, "Third Practice").await;
    let mut tx = w.store.begin().await.unwrap();
    tx.insert_engagement(&EngagementRecord {
        id: EngagementId::from_uuid(new_id()),
        practice: third,
        client: w.client,
        state: ConsentState::Revoked { by: ferry_domain::consent::Side::Counterparty },
        changed_at: OffsetDateTime::now_utc(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let found = w.app.recipients(&w.client_user, w.client).await.unwrap();
    assert!(found.iter().any(|r| r.user.id == uid(&other_admin) && r.practice.id == other));
    assert_eq!(found.len(), 3);
    // Practice users do not use this list.
    assert!(w.app.recipients(&w.admin, w.client).await.is_err());
}

#[tokio::test]
async fn each_practice_sees_only_its_own_mail_in_a_shared_clients_email_log() {
    let w = world().await;
    let (other, other_admin) = practice(&w.app, &w.store, "Rival Partners").await;
    engage(&w.store, other, w.client).await;
    let to = EmailAddress::parse("client@example.com").unwrap();
    let mut tx = w.store.begin().await.unwrap();
    for (practice, subject) in [(w.practice, "ours"), (other, "theirs")] {
        let mail = ferry_ports::records::OutgoingMail {
            to: to.clone(),
            subject: subject.into(),
            text: String::new(),
            html: String::new(),
            practice: Some(practice),
            client: Some(w.client),
        };
        tx.enqueue_mail(new_id(), &mail, OffsetDateTime::now_utc()).await.unwrap();
    }
    tx.commit().await.unwrap();
    let subjects = |log: ferry_ports::records::Page<ferry_ports::records::EmailLogRecord>| {
        log.items.into_iter().map(|e| e.subject).filter(|s| s == "ours" || s == "theirs").collect::<Vec<_>>()
    };
    assert_eq!(subjects(w.app.client_emails(&w.admin, w.client, &page()).await.unwrap()), ["ours"]);
    assert_eq!(subjects(w.app.client_emails(&other_admin, w.client, &page()).await.unwrap()), ["theirs"]);
}
