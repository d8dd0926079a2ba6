//! Contract tests: work — filings, tasks, My Tasks, checklists, time entries,
//! task comments and filing discussion.

use ferry_domain::consent::ConsentState;
use ferry_domain::ids::{ChecklistItemId, ClientId, CommentId, FilingId, PracticeId, TaskId, TimeEntryId, UserId};
use ferry_domain::people::{PracticeUser, Role};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::values::{Text, Title};
use ferry_domain::work::{Assignee, FilingKind, FilingStatus, Minutes, Period, Reviewer, TaskStatus};
use ferry_ports::records::{
    ChecklistItemRecord, CommentRecord, Cursor, FilingRecord, NewTask, Page, PageRequest, TaskRecord, Thread,
    TimeEntryRecord, UserKind,
};
use ferry_ports::{StoreError, Tx};
use time::{Date, Month};

use crate::contract;
use crate::harness::{Fixture, TestStore, at, id};

/// A calendar date.
fn day(year: i32, month: u8, day: u8) -> Date {
    Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).unwrap()
}

/// The candidate record the domain checks before a user may hold or review a task.
fn candidate(user: UserId, practice: PracticeId, role: Role) -> PracticeUser {
    PracticeUser { user, practice, role, active: true, practice_status: PracticeStatus::Approved }
}

fn assignee(user: UserId, practice: PracticeId) -> Assignee {
    Assignee::new(&candidate(user, practice, Role::Staff), practice).unwrap()
}

fn reviewer(user: UserId, practice: PracticeId) -> Reviewer {
    Reviewer::new(&candidate(user, practice, Role::Staff), practice).unwrap()
}

/// An approved practice, a client and an active filing, committed.
struct World {
    practice: PracticeId,
    client: ClientId,
    filing: FilingId,
}

async fn world(s: &TestStore) -> World {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let filing = Fixture::filing(&mut *tx, practice, client).await;
    tx.commit().await.unwrap();
    World { practice, client, filing }
}

fn new_filing(practice: PracticeId, client: ClientId) -> FilingRecord {
    FilingRecord {
        id: FilingId::from_uuid(id()),
        practice,
        client,
        kind: FilingKind::Bas,
        period: None,
        due: None,
        status: FilingStatus::Active,
        created_at: at(3),
    }
}

fn new_task(filing: FilingId, title: &str, due: Option<Date>) -> NewTask {
    NewTask { id: TaskId::from_uuid(id()), filing, title: Title::parse(title).unwrap(), due, created_at: at(4) }
}

/// Reads every page of a list with pages of `limit`, checking each page's size
/// and that only the last one has no cursor.
async fn all_pages<T, F>(tx: &mut dyn Tx, limit: u32, engine: &str, mut read: F) -> Vec<T>
where
    F: for<'a> FnMut(&'a mut dyn Tx, PageRequest) -> BoxFuture<'a, Page<T>>,
{
    let mut request = PageRequest { limit, after: None };
    let mut items = Vec::new();
    for _ in 0..100 {
        let page = read(&mut *tx, request.clone()).await;
        assert!(page.items.len() <= limit as usize, "{engine}: a page holds at most the limit");
        items.extend(page.items);
        match page.next {
            Some(cursor) => request = PageRequest { limit, after: Some(cursor) },
            None => return items,
        }
    }
    panic!("{engine}: the pages never ended");
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

// Filings.

contract!(filings_are_created_and_read_back, |s| {
    let mut tx = s.begin().await;
    let practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let full = FilingRecord {
        id: FilingId::from_uuid(id()),
        practice,
        client,
        kind: FilingKind::Other(Title::parse("Year-end accounts").unwrap()),
        period: Some(Period::new(day(2026, 1, 1), day(2026, 3, 31)).unwrap()),
        due: Some(day(2026, 4, 30)),
        status: FilingStatus::Active,
        created_at: at(10),
    };
    let bare = FilingRecord { kind: FilingKind::Payroll, created_at: at(11), ..new_filing(practice, client) };
    tx.insert_filing(&full).await.unwrap();
    tx.insert_filing(&bare).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.filing(full.id).await.unwrap(), Some(full.clone()), "{}", s.engine);
    assert_eq!(tx.filing(bare.id).await.unwrap(), Some(bare), "{}", s.engine);
    assert_eq!(tx.filing(FilingId::from_uuid(id())).await.unwrap(), None, "{}", s.engine);
});

contract!(filings_of_unknown_practices_or_clients_are_refused_and_nothing_is_written, |s| {
    let w = world(&s).await;
    let orphans =
        [new_filing(PracticeId::from_uuid(id()), w.client), new_filing(w.practice, ClientId::from_uuid(id()))];
    for orphan in &orphans {
        let mut tx = s.begin().await;
        let err = tx.insert_filing(orphan).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
        drop(tx);
        let mut tx = s.store_read().await;
        assert_eq!(tx.filing(orphan.id).await.unwrap(), None, "{}: nothing was written", s.engine);
    }
});

contract!(filing_status_changes_only_from_the_expected_status, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    tx.set_filing_status(w.filing, FilingStatus::Active, FilingStatus::Filed, at(30)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.filing(w.filing).await.unwrap().unwrap().status, FilingStatus::Filed, "{}", s.engine);
    // Someone else already moved it: the stale transition is a conflict and changes nothing.
    let err = tx.set_filing_status(w.filing, FilingStatus::Active, FilingStatus::Cancelled, at(31)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { entity: "filing" }), "{}: {err:?}", s.engine);
    assert_eq!(tx.filing(w.filing).await.unwrap().unwrap().status, FilingStatus::Filed, "{}", s.engine);
    let missing = FilingId::from_uuid(id());
    let err = tx.set_filing_status(missing, FilingStatus::Active, FilingStatus::Filed, at(32)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "filing" }), "{}: {err:?}", s.engine);
    assert_eq!(tx.filing(missing).await.unwrap(), None, "{}", s.engine);
    // And back again from the status it really has.
    tx.set_filing_status(w.filing, FilingStatus::Filed, FilingStatus::Active, at(33)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    assert_eq!(tx.filing(w.filing).await.unwrap().unwrap().status, FilingStatus::Active, "{}", s.engine);
});

contract!(filings_are_listed_per_practice_and_client_in_order_of_creation_across_pages, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let other_practice = Fixture::practice(&mut *tx, PracticeStatus::Approved).await;
    let (other_client, _) = Fixture::client(&mut *tx).await;
    let mut expected = vec![w.filing];
    for _ in 0..4 {
        expected.push(Fixture::filing(&mut *tx, w.practice, w.client).await);
        // Filings of the same client by another practice, and of another client, stay out.
        Fixture::filing(&mut *tx, other_practice, w.client).await;
        Fixture::filing(&mut *tx, w.practice, other_client).await;
    }
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let (practice, client) = (w.practice, w.client);
    let got = all_pages(&mut *tx, 2, s.engine, |tx, page| {
        Box::pin(async move { tx.list_filings(practice, client, &page).await.unwrap() })
    })
    .await;
    let ids: Vec<FilingId> = got.iter().map(|f| f.id).collect();
    assert_eq!(ids, expected, "{}: every filing once, in order of creation", s.engine);
    assert!(got.iter().all(|f| f.practice == practice && f.client == client), "{}", s.engine);
    let first = tx.list_filings(practice, client, &PageRequest { limit: 5, after: None }).await.unwrap();
    assert_eq!((first.items.len(), first.next), (5, None), "{}: an exact last page has no cursor", s.engine);
});

// Tasks.

contract!(tasks_are_created_to_do_and_unassigned_with_their_filing, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let new = NewTask {
        id: TaskId::from_uuid(id()),
        filing: w.filing,
        title: Title::parse("Reconcile the bank").unwrap(),
        due: Some(day(2026, 5, 15)),
        created_at: at(40),
    };
    tx.insert_task(&new).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let expected = TaskRecord {
        id: new.id,
        filing: w.filing,
        practice: w.practice,
        client: w.client,
        filing_status: FilingStatus::Active,
        title: new.title.clone(),
        status: TaskStatus::ToDo,
        assignee: None,
        due: Some(day(2026, 5, 15)),
        reviewer: None,
        approver: None,
        created_at: at(40),
    };
    assert_eq!(tx.task(new.id).await.unwrap(), Some(expected.clone()), "{}", s.engine);
    assert_eq!(tx.task(TaskId::from_uuid(id())).await.unwrap(), None, "{}", s.engine);
    drop(tx);

    // The task carries its filing's status as it is now.
    let mut tx = s.begin().await;
    tx.set_filing_status(w.filing, FilingStatus::Active, FilingStatus::Cancelled, at(41)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    let got = tx.task(new.id).await.unwrap().unwrap();
    assert_eq!(got, TaskRecord { filing_status: FilingStatus::Cancelled, ..expected }, "{}", s.engine);
});

contract!(tasks_of_unknown_filings_are_refused_and_nothing_is_written, |s| {
    let orphan = new_task(FilingId::from_uuid(id()), "Orphan", None);
    let mut tx = s.begin().await;
    let err = tx.insert_task(&orphan).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.store_read().await;
    assert_eq!(tx.task(orphan.id).await.unwrap(), None, "{}: nothing was written", s.engine);
});

contract!(task_status_and_due_date_are_set_and_cleared, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    tx.set_task_status(task, TaskStatus::WaitingOnClient, at(50)).await.unwrap();
    tx.set_task_due(task, Some(day(2026, 6, 30))).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.task(task).await.unwrap().unwrap();
    assert_eq!((got.status, got.due), (TaskStatus::WaitingOnClient, Some(day(2026, 6, 30))), "{}", s.engine);
    tx.set_task_status(task, TaskStatus::Done, at(51)).await.unwrap();
    tx.set_task_due(task, None).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.task(task).await.unwrap().unwrap();
    assert_eq!((got.status, got.due), (TaskStatus::Done, None), "{}", s.engine);
    let missing = TaskId::from_uuid(id());
    let err = tx.set_task_status(missing, TaskStatus::Done, at(52)).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "task" }), "{}: {err:?}", s.engine);
    let err = tx.set_task_due(missing, Some(day(2026, 1, 1))).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "task" }), "{}: {err:?}", s.engine);
    assert_eq!(tx.task(missing).await.unwrap(), None, "{}", s.engine);
});

contract!(task_assignee_is_set_changed_and_cleared, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    let bookkeeper = Fixture::member(&mut *tx, w.practice, Role::Bookkeeper).await;
    tx.set_task_assignee(task, Some(assignee(staff, w.practice))).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.task(task).await.unwrap().unwrap().assignee, Some(staff), "{}", s.engine);
    let as_bookkeeper = Assignee::new(&candidate(bookkeeper, w.practice, Role::Bookkeeper), w.practice).unwrap();
    tx.set_task_assignee(task, Some(as_bookkeeper)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.task(task).await.unwrap().unwrap().assignee, Some(bookkeeper), "{}", s.engine);
    tx.set_task_assignee(task, None).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.task(task).await.unwrap().unwrap().assignee, None, "{}", s.engine);
    let err = tx.set_task_assignee(TaskId::from_uuid(id()), Some(assignee(staff, w.practice))).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "task" }), "{}: {err:?}", s.engine);
    tx.set_task_assignee(task, Some(assignee(staff, w.practice))).await.unwrap();
    tx.commit().await.unwrap();
});

contract!(tasks_are_not_assigned_to_unknown_users_or_non_members, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    tx.set_task_assignee(task, Some(assignee(staff, w.practice))).await.unwrap();
    // A user who exists but is not a practice member.
    let outsider = Fixture::user(&mut *tx, UserKind::Outside).await;
    tx.commit().await.unwrap();

    for stranger in [UserId::from_uuid(id()), outsider] {
        let mut tx = s.begin().await;
        let err = tx.set_task_assignee(task, Some(assignee(stranger, w.practice))).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
        drop(tx);
        let mut tx = s.store_read().await;
        assert_eq!(tx.task(task).await.unwrap().unwrap().assignee, Some(staff), "{}: unchanged", s.engine);
    }
});

contract!(task_reviewer_and_approver_are_set_and_cleared, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    let admin = Fixture::member(&mut *tx, w.practice, Role::Admin).await;
    let as_admin = Reviewer::new(&candidate(admin, w.practice, Role::Admin), w.practice).unwrap();
    tx.set_task_reviewers(task, Some(reviewer(staff, w.practice)), Some(as_admin)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.task(task).await.unwrap().unwrap();
    assert_eq!((got.reviewer, got.approver), (Some(staff), Some(admin)), "{}", s.engine);
    tx.set_task_reviewers(task, None, Some(reviewer(staff, w.practice))).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.task(task).await.unwrap().unwrap();
    assert_eq!((got.reviewer, got.approver), (None, Some(staff)), "{}", s.engine);
    let err = tx.set_task_reviewers(TaskId::from_uuid(id()), None, None).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "task" }), "{}: {err:?}", s.engine);
    drop(tx);

    for (r, a) in [(Some(UserId::from_uuid(id())), None), (None, Some(UserId::from_uuid(id())))] {
        let mut tx = s.begin().await;
        let err = tx
            .set_task_reviewers(task, r.map(|u| reviewer(u, w.practice)), a.map(|u| reviewer(u, w.practice)))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
        drop(tx);
        let mut tx = s.store_read().await;
        let got = tx.task(task).await.unwrap().unwrap();
        assert_eq!((got.reviewer, got.approver), (None, Some(staff)), "{}: unchanged", s.engine);
    }
});

contract!(tasks_of_a_filing_are_listed_in_order_of_creation_across_pages, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let other = Fixture::filing(&mut *tx, w.practice, w.client).await;
    let mut expected = Vec::new();
    for _ in 0..5 {
        expected.push(Fixture::task(&mut *tx, w.filing).await);
        Fixture::task(&mut *tx, other).await;
    }
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let filing = w.filing;
    let got = all_pages(&mut *tx, 2, s.engine, |tx, page| {
        Box::pin(async move { tx.list_tasks_of_filing(filing, &page).await.unwrap() })
    })
    .await;
    assert_eq!(got.iter().map(|t| t.id).collect::<Vec<_>>(), expected, "{}", s.engine);
    assert!(
        got.iter().all(|t| t.filing == filing && t.practice == w.practice && t.client == w.client),
        "{}: tasks carry their filing's practice and client",
        s.engine
    );
});

/// A user with tasks due on mixed dates (some undated, some sharing a date)
/// on two active filings, plus tasks that My Tasks must leave out.
/// Returns the user and the tasks in My Tasks order.
async fn my_tasks_world(s: &TestStore) -> (UserId, Vec<(TaskId, Option<Date>, TaskStatus)>) {
    let w = world(s).await;
    let mut tx = s.begin().await;
    let me = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    let colleague = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    // The second filing is another client's, engaged and assigned to me, so
    // that the rows carry two different kinds, clients and sets of facts.
    let (other, _) = Fixture::client(&mut *tx).await;
    Fixture::engagement(&mut *tx, w.practice, other, ConsentState::Active).await;
    tx.assign_client(me, other, at(5)).await.unwrap();
    let second = new_filing(w.practice, other);
    tx.insert_filing(&second).await.unwrap();
    let second = second.id;
    let filed = Fixture::filing(&mut *tx, w.practice, w.client).await;
    let cancelled = Fixture::filing(&mut *tx, w.practice, w.client).await;
    // Created in an order unlike the due order.
    let dues = [
        (w.filing, None, TaskStatus::ToDo),
        (second, Some(day(2026, 5, 1)), TaskStatus::InProgress),
        (w.filing, Some(day(2026, 4, 22)), TaskStatus::ToDo),
        (second, None, TaskStatus::WaitingOnClient),
        (w.filing, Some(day(2026, 5, 1)), TaskStatus::Done),
        (second, Some(day(2025, 12, 31)), TaskStatus::ToDo),
        (w.filing, Some(day(2026, 5, 1)), TaskStatus::ToDo),
        (second, None, TaskStatus::ToDo),
    ];
    let mut mine = Vec::new();
    for (n, (filing, due, status)) in dues.into_iter().enumerate() {
        let task = new_task(filing, &format!("Mine {n}"), due);
        tx.insert_task(&task).await.unwrap();
        tx.set_task_assignee(task.id, Some(assignee(me, w.practice))).await.unwrap();
        tx.set_task_status(task.id, status, at(60)).await.unwrap();
        mine.push((task.id, due, status));
    }
    // Left out: someone else's, unassigned, and mine on filed or cancelled filings.
    let theirs = new_task(w.filing, "Theirs", Some(day(2026, 1, 1)));
    tx.insert_task(&theirs).await.unwrap();
    tx.set_task_assignee(theirs.id, Some(assignee(colleague, w.practice))).await.unwrap();
    tx.insert_task(&new_task(w.filing, "Nobody's", Some(day(2026, 1, 1)))).await.unwrap();
    for filing in [filed, cancelled] {
        let task = new_task(filing, "Closed", Some(day(2026, 1, 1)));
        tx.insert_task(&task).await.unwrap();
        tx.set_task_assignee(task.id, Some(assignee(me, w.practice))).await.unwrap();
    }
    tx.set_filing_status(filed, FilingStatus::Active, FilingStatus::Filed, at(61)).await.unwrap();
    tx.set_filing_status(cancelled, FilingStatus::Active, FilingStatus::Cancelled, at(61)).await.unwrap();
    tx.commit().await.unwrap();

    // Soonest due first, undated last, then in order of creation (ids are time-ordered).
    mine.sort_by_key(|(task, due, _)| (due.is_none(), *due, *task));
    (me, mine)
}

contract!(my_tasks_are_soonest_due_first_undated_last_on_active_filings_across_pages, |s| {
    let (me, expected) = my_tasks_world(&s).await;
    let expected_ids: Vec<TaskId> = expected.iter().map(|(t, _, _)| *t).collect();
    assert_eq!(expected_ids.len(), 8);
    let mut tx = s.store_read().await;
    for limit in [1, 2, 3, 8, 50] {
        let got = all_pages(&mut *tx, limit, s.engine, |tx, page| {
            Box::pin(async move { tx.list_tasks_of_assignee(me, &page).await.unwrap() })
        })
        .await;
        // Beside each task, what the per-item reads say of its filing, client and facts.
        for row in &got {
            let filing = tx.filing(row.task.filing).await.unwrap().expect("the task's filing");
            assert_eq!(row.filing_kind, filing.kind, "{}", s.engine);
            assert_eq!(Some(&row.client), tx.client(row.task.client).await.unwrap().as_ref(), "{}", s.engine);
            assert_eq!(row.facts, tx.client_facts(me, row.task.client).await.unwrap(), "{}", s.engine);
        }
        let kinds: std::collections::HashSet<&str> = got.iter().map(|row| row.filing_kind.as_str()).collect();
        assert_eq!(kinds.len(), 2, "{}: both filings' kinds", s.engine);
        let assigned: Vec<bool> = got.iter().map(|row| row.facts.assigned).collect();
        assert!(assigned.contains(&true) && assigned.contains(&false), "{}: {assigned:?}", s.engine);
        let got: Vec<TaskRecord> = got.into_iter().map(|row| row.task).collect();
        let ids: Vec<TaskId> = got.iter().map(|t| t.id).collect();
        assert_eq!(ids, expected_ids, "{}: pages of {limit}", s.engine);
        let dues: Vec<Option<Date>> = got.iter().map(|t| t.due).collect();
        assert_eq!(
            dues,
            vec![
                Some(day(2025, 12, 31)),
                Some(day(2026, 4, 22)),
                Some(day(2026, 5, 1)),
                Some(day(2026, 5, 1)),
                Some(day(2026, 5, 1)),
                None,
                None,
                None
            ],
            "{}",
            s.engine
        );
        assert!(got.iter().all(|t| t.assignee == Some(me) && t.filing_status == FilingStatus::Active), "{}", s.engine);
    }
    let first = tx.list_tasks_of_assignee(me, &PageRequest { limit: 3, after: None }).await.unwrap();
    assert!(first.next.is_some(), "{}: more pages follow", s.engine);
    // Nobody's tasks: an empty list.
    let nobody = tx.list_tasks_of_assignee(UserId::from_uuid(id()), &PageRequest { limit: 10, after: None }).await;
    assert_eq!(nobody.unwrap().items, vec![], "{}", s.engine);
});

contract!(my_tasks_refuse_a_cursor_that_is_not_theirs, |s| {
    let (me, _) = my_tasks_world(&s).await;
    let mut tx = s.store_read().await;
    for bad in ["nonsense", "2026-13-01/0190a0e0-0000-7000-8000-000000000000", "2026-04-22/not-a-uuid"] {
        let page = PageRequest { limit: 2, after: Some(Cursor(bad.to_owned())) };
        let err = tx.list_tasks_of_assignee(me, &page).await.unwrap_err();
        assert!(matches!(err, StoreError::Rejected { .. }), "{}: {bad}: {err:?}", s.engine);
    }
});

contract!(assigned_task_dues_cover_only_tasks_on_active_filings, |s| {
    let (me, expected) = my_tasks_world(&s).await;
    let mut tx = s.store_read().await;
    let mut got = tx.assigned_task_dues(me).await.unwrap();
    let mut want: Vec<(TaskStatus, Option<Date>)> = expected.iter().map(|(_, due, status)| (*status, *due)).collect();
    let key = |(status, due): &(TaskStatus, Option<Date>)| (status.as_str(), *due);
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want, "{}", s.engine);
    assert_eq!(tx.assigned_task_dues(UserId::from_uuid(id())).await.unwrap(), vec![], "{}", s.engine);
});

// Checklists.

fn item(task: TaskId, text: &str) -> ChecklistItemRecord {
    // The position given is ignored: the store appends.
    ChecklistItemRecord {
        id: ChecklistItemId::from_uuid(id()),
        task,
        position: 99,
        text: Title::parse(text).unwrap(),
        done: false,
    }
}

contract!(checklist_items_are_appended_in_order_and_returned_as_stored, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let other = Fixture::task(&mut *tx, w.filing).await;
    let mut stored = Vec::new();
    for (n, text) in ["Bank statements", "Receipts", "Payroll summary"].into_iter().enumerate() {
        let added = tx.add_checklist_item(&item(task, text)).await.unwrap();
        assert_eq!((added.position, added.text.as_str(), added.task), (n as u32, text, task), "{}", s.engine);
        stored.push(added);
    }
    // Another task's list starts at 0 on its own.
    let elsewhere = tx.add_checklist_item(&item(other, "Elsewhere")).await.unwrap();
    assert_eq!(elsewhere.position, 0, "{}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.checklist(task).await.unwrap(), stored, "{}", s.engine);
    assert_eq!(tx.checklist(other).await.unwrap(), vec![elsewhere], "{}", s.engine);
    assert_eq!(tx.checklist(TaskId::from_uuid(id())).await.unwrap(), vec![], "{}", s.engine);
});

contract!(checklist_items_of_unknown_tasks_are_refused_and_nothing_is_written, |s| {
    let missing = TaskId::from_uuid(id());
    let mut tx = s.begin().await;
    let err = tx.add_checklist_item(&item(missing, "Orphan")).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.store_read().await;
    assert_eq!(tx.checklist(missing).await.unwrap(), vec![], "{}: nothing was written", s.engine);
});

contract!(checklist_items_are_ticked_and_removed_only_on_their_own_task, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let other = Fixture::task(&mut *tx, w.filing).await;
    let first = tx.add_checklist_item(&item(task, "First")).await.unwrap();
    let second = tx.add_checklist_item(&item(task, "Second")).await.unwrap();
    let third = tx.add_checklist_item(&item(task, "Third")).await.unwrap();
    tx.tick_checklist_item(task, second.id, true).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let done: Vec<bool> = tx.checklist(task).await.unwrap().iter().map(|i| i.done).collect();
    assert_eq!(done, vec![false, true, false], "{}", s.engine);
    tx.tick_checklist_item(task, second.id, false).await.unwrap();
    tx.tick_checklist_item(task, third.id, true).await.unwrap();
    // Through another task, or an unknown item: not found, and nothing changes.
    let err = tx.tick_checklist_item(other, first.id, true).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "checklist item" }), "{}: {err:?}", s.engine);
    let err = tx.tick_checklist_item(task, ChecklistItemId::from_uuid(id()), true).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "checklist item" }), "{}: {err:?}", s.engine);
    let err = tx.remove_checklist_item(other, first.id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "checklist item" }), "{}: {err:?}", s.engine);
    tx.remove_checklist_item(task, second.id).await.unwrap();
    let err = tx.remove_checklist_item(task, second.id).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { entity: "checklist item" }), "{}: {err:?}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let got = tx.checklist(task).await.unwrap();
    let expected = vec![ChecklistItemRecord { done: false, ..first }, ChecklistItemRecord { done: true, ..third }];
    assert_eq!(got, expected, "{}", s.engine);
    // A new item still goes after the last one.
    let fourth = tx.add_checklist_item(&item(task, "Fourth")).await.unwrap();
    assert_eq!(fourth.position, 3, "{}", s.engine);
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    let order: Vec<String> = tx.checklist(task).await.unwrap().iter().map(|i| i.text.as_str().to_owned()).collect();
    assert_eq!(order, ["First", "Third", "Fourth"], "{}", s.engine);
    assert_eq!(tx.checklist(other).await.unwrap(), vec![], "{}", s.engine);
});

// Time entries.

fn entry(task: TaskId, user: UserId, on: Date, minutes: u32, note: Option<&str>, seconds: i64) -> TimeEntryRecord {
    TimeEntryRecord {
        id: TimeEntryId::from_uuid(id()),
        task,
        user,
        on,
        minutes: Minutes::new(minutes).unwrap(),
        note: note.map(|n| Text::parse(n).unwrap()),
        created_at: at(seconds),
    }
}

contract!(time_entries_are_logged_and_listed_in_order_of_logging, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let other = Fixture::task(&mut *tx, w.filing).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    let bookkeeper = Fixture::member(&mut *tx, w.practice, Role::Bookkeeper).await;
    let entries = [
        entry(task, staff, day(2026, 4, 2), 90, Some("Matched the March statements"), 70),
        entry(task, bookkeeper, day(2026, 4, 1), 1, None, 71),
        entry(task, staff, day(2026, 4, 3), 1440, Some("All day"), 72),
    ];
    for e in &entries {
        tx.add_time_entry(e).await.unwrap();
    }
    tx.add_time_entry(&entry(other, staff, day(2026, 4, 2), 15, None, 73)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.time_entries(task).await.unwrap(), entries.to_vec(), "{}", s.engine);
    assert_eq!(tx.time_entries(other).await.unwrap().len(), 1, "{}", s.engine);
    assert_eq!(tx.time_entries(TaskId::from_uuid(id())).await.unwrap(), vec![], "{}", s.engine);
});

contract!(time_entries_of_unknown_tasks_or_users_are_refused_and_nothing_is_written, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    tx.commit().await.unwrap();

    let missing_task = TaskId::from_uuid(id());
    for bad in [
        entry(missing_task, staff, day(2026, 4, 1), 30, None, 80),
        entry(task, UserId::from_uuid(id()), day(2026, 4, 1), 30, None, 80),
    ] {
        let mut tx = s.begin().await;
        let err = tx.add_time_entry(&bad).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
        drop(tx);
    }
    let mut tx = s.store_read().await;
    assert_eq!(tx.time_entries(task).await.unwrap(), vec![], "{}: nothing was written", s.engine);
    assert_eq!(tx.time_entries(missing_task).await.unwrap(), vec![], "{}: nothing was written", s.engine);
});

// Comments and discussion.

fn comment(thread: Thread, author: UserId, body: &str, seconds: i64) -> CommentRecord {
    CommentRecord {
        id: CommentId::from_uuid(id()),
        thread,
        author,
        body: Text::parse(body).unwrap(),
        created_at: at(seconds),
    }
}

contract!(task_comments_and_filing_discussion_are_separate_threads_oldest_first_across_pages, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let other_task = Fixture::task(&mut *tx, w.filing).await;
    let other_filing = Fixture::filing(&mut *tx, w.practice, w.client).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    let (_, owner) = Fixture::client(&mut *tx).await;
    let mut on_task = Vec::new();
    let mut on_filing = Vec::new();
    for n in 0..5 {
        let c = comment(Thread::Task(task), staff, &format!("Task note {n}"), 90 + n);
        tx.add_comment(&c).await.unwrap();
        on_task.push(c);
        // A client user may post in a filing's discussion.
        let author = if n % 2 == 0 { staff } else { owner };
        let p = comment(Thread::Filing(w.filing), author, &format!("Discussion {n}"), 90 + n);
        tx.add_comment(&p).await.unwrap();
        on_filing.push(p);
    }
    tx.add_comment(&comment(Thread::Task(other_task), staff, "Elsewhere", 99)).await.unwrap();
    tx.add_comment(&comment(Thread::Filing(other_filing), staff, "Elsewhere", 99)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    for (thread, expected) in [(Thread::Task(task), &on_task), (Thread::Filing(w.filing), &on_filing)] {
        let got = all_pages(&mut *tx, 2, s.engine, |tx, page| {
            Box::pin(async move { tx.comments(thread, &page).await.unwrap() })
        })
        .await;
        assert_eq!(&got, expected, "{}: {thread:?}", s.engine);
    }
    // A filing's discussion is not its tasks' comments.
    let page = PageRequest { limit: 50, after: None };
    assert_eq!(tx.comments(Thread::Filing(other_filing), &page).await.unwrap().items.len(), 1, "{}", s.engine);
    assert_eq!(tx.comments(Thread::Task(TaskId::from_uuid(id())), &page).await.unwrap().items, vec![], "{}", s.engine);
});

contract!(comments_of_unknown_tasks_filings_or_authors_are_refused_and_nothing_is_written, |s| {
    let w = world(&s).await;
    let mut tx = s.begin().await;
    let task = Fixture::task(&mut *tx, w.filing).await;
    let staff = Fixture::member(&mut *tx, w.practice, Role::Staff).await;
    tx.commit().await.unwrap();

    let bad = [
        comment(Thread::Task(TaskId::from_uuid(id())), staff, "Nowhere", 100),
        comment(Thread::Filing(FilingId::from_uuid(id())), staff, "Nowhere", 100),
        comment(Thread::Task(task), UserId::from_uuid(id()), "Nobody", 100),
        comment(Thread::Filing(w.filing), UserId::from_uuid(id()), "Nobody", 100),
    ];
    for c in &bad {
        let mut tx = s.begin().await;
        let err = tx.add_comment(c).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {:?}: {err:?}", s.engine, c.thread);
        drop(tx);
        let mut tx = s.store_read().await;
        let page = PageRequest { limit: 50, after: None };
        assert_eq!(tx.comments(c.thread, &page).await.unwrap().items, vec![], "{}: nothing was written", s.engine);
    }
});
