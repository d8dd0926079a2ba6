//! Accounts, practices and people, through the use cases over a real SQLite store.

use std::net::{IpAddr, Ipv4Addr};

use ferry_app::{AppError, InvitePerson, PersonChange, PracticeApplication, Principal, SecretToken};
use ferry_domain::exchange::Picker;
use ferry_domain::ids::PracticeId;
use ferry_domain::practice::{PracticeStatus, PracticeTransition};
use ferry_ports::Store;
use ferry_ports::records::PageRequest;
use ferry_store_sql::SqlStore;

mod common;

use common::{SqliteApp as World, mailed_token, sign_in, sqlite_app as world};

async fn mail_count(store: &SqlStore) -> usize {
    common::queued(store).await.len()
}

fn application(email: &str) -> PracticeApplication {
    PracticeApplication {
        practice_name: "Acme Books".into(),
        admin_name: "Ada Admin".into(),
        admin_email: email.into(),
    }
}

/// An approved practice with a signed-in admin.
async fn approved_practice(w: &World) -> (PracticeId, Principal) {
    let practice = w.app.apply_for_practice(&application("ada@acme.test")).await.unwrap();
    w.app.decide_practice(&Principal::Operator, practice.id, PracticeTransition::Approve).await.unwrap();
    let token = mailed_token(&w.store, "ada@acme.test").await;
    w.app.set_password_with_link(&SecretToken::from_presented(&token), "a fine admin passphrase".into()).await.unwrap();
    (practice.id, sign_in(&w.app, "ada@acme.test", "a fine admin passphrase").await.unwrap())
}

async fn invite(
    w: &World,
    admin: &Principal,
    practice: PracticeId,
    email: &str,
    role: &str,
) -> Result<Principal, AppError> {
    w.app
        .invite_person(
            admin,
            practice,
            &InvitePerson { name: "Sam Person".into(), email: email.into(), role: role.into() },
        )
        .await?;
    let token = mailed_token(&w.store, email).await;
    w.app.set_password_with_link(&SecretToken::from_presented(&token), "another fine passphrase".into()).await?;
    sign_in(&w.app, email, "another fine passphrase").await
}

#[tokio::test]
async fn an_application_waits_for_the_operator_and_approval_mails_the_admin() {
    let w = world().await;
    let practice = w.app.apply_for_practice(&application("ada@acme.test")).await.unwrap();
    assert_eq!(practice.status, PracticeStatus::Pending);
    assert_eq!(mail_count(&w.store).await, 0, "nothing is mailed before approval");
    // Nobody can sign in yet: no password was ever mailed.
    assert!(matches!(sign_in(&w.app, "ada@acme.test", "whatever it is").await, Err(AppError::BadCredentials)));

    let approved = w.app.decide_practice(&Principal::Operator, practice.id, PracticeTransition::Approve).await.unwrap();
    assert_eq!(approved.status, PracticeStatus::Approved);
    let token = mailed_token(&w.store, "ada@acme.test").await;
    w.app.set_password_with_link(&SecretToken::from_presented(&token), "a fine admin passphrase".into()).await.unwrap();
    let admin = sign_in(&w.app, "ada@acme.test", "a fine admin passphrase").await.unwrap();
    let me = w.app.me(&admin).await.unwrap();
    assert_eq!(me.practice.map(|(p, role)| (p.id, role.as_str())), Some((practice.id, "admin")));

    // Approving twice is a conflict, and a user cannot decide applications.
    assert!(matches!(
        w.app.decide_practice(&Principal::Operator, practice.id, PracticeTransition::Approve).await,
        Err(AppError::Conflict { .. })
    ));
    assert!(matches!(
        w.app.decide_practice(&admin, practice.id, PracticeTransition::Suspend).await,
        Err(AppError::Forbidden { .. } | AppError::NotFound { .. })
    ));
}

#[tokio::test]
async fn bad_applications_name_the_field_and_change_nothing() {
    let w = world().await;
    let mut bad = application("not-an-email");
    let err = w.app.apply_for_practice(&bad).await.unwrap_err();
    assert_eq!(err.field(), Some("admin_email"));
    bad = application("ada@acme.test");
    bad.practice_name = "  ".into();
    assert_eq!(w.app.apply_for_practice(&bad).await.unwrap_err().field(), Some("practice_name"));
    let mut tx = w.store.read().await.unwrap();
    assert!(tx.list_practices(None, &PageRequest::first(10)).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn links_work_once_and_a_weak_password_does_not_use_them_up() {
    let w = world().await;
    let practice = w.app.apply_for_practice(&application("ada@acme.test")).await.unwrap();
    w.app.decide_practice(&Principal::Operator, practice.id, PracticeTransition::Approve).await.unwrap();
    let token = SecretToken::from_presented(&mailed_token(&w.store, "ada@acme.test").await);
    let weak = w.app.set_password_with_link(&token, "short".into()).await.unwrap_err();
    assert_eq!(weak.field(), Some("password"));
    w.app.set_password_with_link(&token, "a fine admin passphrase".into()).await.unwrap();
    assert!(matches!(
        w.app.set_password_with_link(&token, "a second passphrase".into()).await,
        Err(AppError::InvalidToken)
    ));
    assert!(matches!(
        w.app.set_password_with_link(&SecretToken::mint(), "a second passphrase".into()).await,
        Err(AppError::InvalidToken)
    ));
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account() {
    let w = world().await;
    let (_, _) = approved_practice(&w).await;
    for _ in 0..5 {
        assert!(matches!(sign_in(&w.app, "ada@acme.test", "wrong password!").await, Err(AppError::BadCredentials)));
    }
    // Even the right password is refused now, and the refusal says when to retry.
    assert!(matches!(
        sign_in(&w.app, "ada@acme.test", "a fine admin passphrase").await,
        Err(AppError::Throttled { retry_after_secs, .. }) if retry_after_secs > 0
    ));
    // Unknown addresses fail the same way as wrong passwords.
    assert!(matches!(sign_in(&w.app, "nobody@acme.test", "whatever it is").await, Err(AppError::BadCredentials)));
}

#[tokio::test]
async fn sessions_end_on_sign_out_everywhere_and_on_deactivation() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w).await;
    let staff = invite(&w, &admin, practice, "sam@acme.test", "staff").await.unwrap();
    let second = sign_in(&w.app, "sam@acme.test", "another fine passphrase").await.unwrap();
    assert!(w.app.me(&staff).await.is_ok());

    let Principal::User { user: staff_id, .. } = staff else { unreachable!() };
    w.app.change_person(&admin, practice, staff_id, &PersonChange { role: None, active: Some(false) }).await.unwrap();
    // Deactivated: their actor is refused, their sessions are gone, they cannot sign in.
    assert!(w.app.me(&second).await.is_err());
    assert!(matches!(
        sign_in(&w.app, "sam@acme.test", "another fine passphrase").await,
        Err(AppError::AccountLocked(_))
    ));
    // An admin cannot lock themselves out.
    let Principal::User { user: admin_id, .. } = admin else { unreachable!() };
    assert!(matches!(
        w.app.change_person(&admin, practice, admin_id, &PersonChange { role: None, active: Some(false) }).await,
        Err(AppError::Conflict { .. })
    ));
    assert_eq!(w.app.sign_out_everywhere(&admin).await.unwrap(), 1);
}

#[tokio::test]
async fn seats_limit_admins_and_staff_but_not_bookkeepers() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w).await;
    // The free plan has 5 seats; the admin holds one.
    for n in 0..4 {
        invite(&w, &admin, practice, &format!("staff{n}@acme.test"), "staff").await.unwrap();
    }
    let over = w
        .app
        .invite_person(
            &admin,
            practice,
            &InvitePerson { name: "One Toomany".into(), email: "x@acme.test".into(), role: "admin".into() },
        )
        .await;
    assert!(matches!(over, Err(AppError::SeatLimit(_))));
    for n in 0..3 {
        invite(&w, &admin, practice, &format!("bk{n}@acme.test"), "bookkeeper").await.unwrap();
    }
    let bad_role = w
        .app
        .invite_person(
            &admin,
            practice,
            &InvitePerson { name: "A B".into(), email: "y@acme.test".into(), role: "boss".into() },
        )
        .await
        .unwrap_err();
    assert_eq!(bad_role.field(), Some("role"));
}

#[tokio::test]
async fn pickers_never_offer_bookkeepers_as_reviewers_and_bookkeepers_see_no_lists() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w).await;
    invite(&w, &admin, practice, "sam@acme.test", "staff").await.unwrap();
    let bookkeeper = invite(&w, &admin, practice, "bo@acme.test", "bookkeeper").await.unwrap();
    let page = PageRequest::first(50);
    let roles = |items: Vec<ferry_ports::records::MemberRecord>| {
        let mut r: Vec<&str> = items.iter().map(|m| m.role.as_str()).collect();
        r.sort_unstable();
        r
    };
    let reviewers = w.app.list_people(&admin, practice, Picker::Reviewer, &page).await.unwrap();
    assert_eq!(roles(reviewers.items), ["admin", "staff"]);
    let assignees = w.app.list_people(&admin, practice, Picker::Assignee, &page).await.unwrap();
    assert_eq!(roles(assignees.items), ["admin", "bookkeeper", "staff"]);
    for picker in [Picker::Reviewer, Picker::Assignee, Picker::StaffList, Picker::BookkeeperList] {
        let refused = w.app.list_people(&bookkeeper, practice, picker, &page).await.unwrap_err();
        assert!(matches!(refused, AppError::Forbidden { .. } | AppError::NotFound { .. }), "{picker:?}: {refused:?}");
    }
}

#[tokio::test]
async fn a_suspended_practice_is_locked_out_and_another_practice_sees_nothing() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w).await;
    let other = w.app.apply_for_practice(&application("eve@other.test")).await.unwrap();
    assert!(matches!(w.app.practice(&admin, other.id).await, Err(AppError::NotFound { .. })));
    w.app.decide_practice(&Principal::Operator, practice, PracticeTransition::Suspend).await.unwrap();
    assert!(w.app.practice(&admin, practice).await.is_err());
    assert!(matches!(
        sign_in(&w.app, "ada@acme.test", "a fine admin passphrase").await,
        Err(AppError::AccountLocked(_))
    ));
}

#[tokio::test]
async fn the_first_run_link_sets_up_one_approved_practice_once() {
    let w = world().await;
    let token = w.app.first_run_token().await.unwrap().expect("a fresh installation offers the link");
    let wrong = w
        .app
        .set_up_first_practice(&SecretToken::mint(), &application("ada@acme.test"), "a fine passphrase".into())
        .await;
    assert!(matches!(wrong, Err(AppError::InvalidToken)));
    let practice = w
        .app
        .set_up_first_practice(&token, &application("ada@acme.test"), "a fine admin passphrase".into())
        .await
        .unwrap();
    assert_eq!(practice.status, PracticeStatus::Approved);
    sign_in(&w.app, "ada@acme.test", "a fine admin passphrase").await.unwrap();
    assert!(matches!(
        w.app.set_up_first_practice(&token, &application("bob@acme.test"), "a fine admin passphrase".into()).await,
        Err(AppError::InvalidToken)
    ));
    assert!(w.app.first_run_token().await.unwrap().is_none());
}

/// The audit entries written so far.
async fn audit_actions(store: &SqlStore) -> Vec<(String, Option<uuid::Uuid>)> {
    let mut tx = store.read().await.unwrap();
    let entries = tx.audit_entries(0, 1000).await.unwrap();
    entries.into_iter().map(|e| (e.entry.action, e.entry.subject)).collect()
}

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));

#[tokio::test]
async fn a_new_reset_link_revokes_the_earlier_ones() {
    let w = world().await;
    let (_, _) = approved_practice(&w).await;
    w.app.request_password_reset("ada@acme.test", None).await.unwrap();
    let first = SecretToken::from_presented(&mailed_token(&w.store, "ada@acme.test").await);
    w.app.request_password_reset("ada@acme.test", None).await.unwrap();
    let second = SecretToken::from_presented(&mailed_token(&w.store, "ada@acme.test").await);
    assert_ne!(first, second);
    assert!(matches!(
        w.app.set_password_with_link(&first, "a replaced passphrase".into()).await,
        Err(AppError::InvalidToken)
    ));
    w.app.set_password_with_link(&second, "the newest passphrase".into()).await.unwrap();
    assert!(sign_in(&w.app, "ada@acme.test", "the newest passphrase").await.is_ok());
}

#[tokio::test]
async fn reset_requests_are_throttled_per_email_whether_or_not_it_has_an_account() {
    let w = world().await;
    let (_, _) = approved_practice(&w).await;
    let limit = w.app.config().reset_email_requests;
    for email in ["ada@acme.test", "nobody@acme.test"] {
        for n in 0..limit {
            assert!(w.app.request_password_reset(email, None).await.is_ok(), "{email}: request {n}");
        }
        let refused = w.app.request_password_reset(email, None).await;
        assert!(
            matches!(refused, Err(AppError::Throttled { retry_after_secs, .. }) if retry_after_secs > 0),
            "{email}"
        );
        // The same answer however the address is typed.
        let shouted = w.app.request_password_reset(&email.to_uppercase(), None).await;
        assert!(matches!(shouted, Err(AppError::Throttled { .. })), "{email}");
    }
    // Only the admitted requests for the account were mailed, and the throttle's
    // message is about resets, not sign-ins.
    let mails = common::mails_to(&w.store, "ada@acme.test").await.len();
    assert_eq!(mails, 1 + usize::try_from(limit).unwrap(), "the approval's link and one per admitted request");
    let message = w.app.request_password_reset("ada@acme.test", None).await.unwrap_err().to_string();
    assert!(message.contains("password reset requests"), "{message}");
}

#[tokio::test]
async fn reset_requests_are_throttled_per_network_address() {
    let w = world().await;
    let limit = w.app.config().reset_address_requests;
    for n in 0..limit {
        w.app.request_password_reset(&format!("someone{n}@acme.test"), Some(HOME)).await.unwrap();
    }
    let refused = w.app.request_password_reset("someone.else@acme.test", Some(HOME)).await;
    assert!(matches!(refused, Err(AppError::Throttled { .. })), "{refused:?}");
    // Another address is not held back.
    let elsewhere = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    w.app.request_password_reset("someone.else@acme.test", Some(elsewhere)).await.unwrap();
    // Bad input is refused by name before it counts.
    let bad = w.app.request_password_reset("not an email", Some(elsewhere)).await.unwrap_err();
    assert_eq!(bad.field(), Some("email"));
}

#[tokio::test]
async fn a_reset_for_an_unknown_address_does_the_same_work_as_for_an_account() {
    let w = world().await;
    let (_, _) = approved_practice(&w).await;
    let before = audit_actions(&w.store).await.len();
    w.app.request_password_reset("ada@acme.test", None).await.unwrap();
    w.app.request_password_reset("nobody@acme.test", None).await.unwrap();
    // Both paths append to the audit chain and commit; only a real account is mailed.
    let after = audit_actions(&w.store).await;
    let actions: Vec<&str> = after[before..].iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(actions, ["auth.password_reset_requested", "auth.password_reset_requested"]);
    assert!(after[before].1.is_some(), "the account's entry names it");
    assert_eq!(after[before + 1].1, None, "the unknown address names nobody");
    assert!(common::mails_to(&w.store, "nobody@acme.test").await.is_empty());
}
