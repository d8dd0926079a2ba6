//! Engagements, connections and client colleagues, through the use cases
//! over a real SQLite store.

use ferry_app::{
    AcceptedInvitation, App, AppError, ConnectionView, EngagementView, InviteClient, InviteClientMember,
    InviteOutsideParty, InvitePerson, PracticeApplication, Principal, SecretToken,
};
use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::ClientRole;
use ferry_domain::practice::PracticeTransition;
use ferry_domain::values::EmailAddress;
use ferry_ports::Store;
use ferry_ports::records::PageRequest;
use ferry_store_sql::SqlStore;

const PASSWORD: &str = "a fine long passphrase";

mod common;

use common::{SqliteApp as World, mails_to, sign_in, sqlite_app as world};

/// The token of the newest queued mail to `to`.
async fn mailed_token(store: &SqlStore, to: &str) -> SecretToken {
    SecretToken::from_presented(&common::mailed_token(store, to).await)
}

async fn user_id(store: &SqlStore, email: &str) -> UserId {
    let mut tx = store.read().await.unwrap();
    tx.user_by_email(&EmailAddress::parse(email).unwrap()).await.unwrap().expect("a user with that address").id
}

/// A user acting without a session (as the use cases allow for tests and the CLI).
async fn as_user(store: &SqlStore, email: &str) -> Principal {
    Principal::User { user: user_id(store, email).await, session: None }
}

/// An approved practice named `name` with a signed-in admin at `admin`.
async fn approved_practice(w: &World, name: &str, admin: &str) -> (PracticeId, Principal) {
    let application =
        PracticeApplication { practice_name: name.into(), admin_name: "Ada Admin".into(), admin_email: admin.into() };
    let practice = w.app.apply_for_practice(&application).await.unwrap();
    w.app.decide_practice(&Principal::Operator, practice.id, PracticeTransition::Approve).await.unwrap();
    let token = mailed_token(&w.store, admin).await;
    w.app.set_password_with_link(&token, PASSWORD.into()).await.unwrap();
    (practice.id, sign_in(&w.app, admin, PASSWORD).await.unwrap())
}

fn client_invite(client_name: &str, email: &str, name: Option<&str>) -> InviteClient {
    InviteClient { client_name: client_name.into(), email: email.into(), name: name.map(Into::into) }
}

fn engagement(accepted: AcceptedInvitation) -> EngagementView {
    match accepted {
        AcceptedInvitation::Engagement(view) => view,
        other => panic!("expected an engagement, got {other:?}"),
    }
}

fn connection(accepted: AcceptedInvitation) -> ConnectionView {
    match accepted {
        AcceptedInvitation::Connection(view) => view,
        other => panic!("expected a connection, got {other:?}"),
    }
}

async fn my_client_ids(app: &App, who: &Principal) -> Vec<ClientId> {
    app.my_clients(who, &PageRequest::first(100)).await.unwrap().items.iter().map(|c| c.client.id).collect()
}

/// Practice A with a client C engaged through an accepted invitation; the
/// client's owner is signed in.
async fn engaged(w: &World) -> (PracticeId, Principal, EngagementView, Principal) {
    let (practice, admin) = approved_practice(w, "Acme Books", "ada@acme.test").await;
    w.app
        .invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora Owner")))
        .await
        .unwrap();
    let token = mailed_token(&w.store, "cora@cafe.test").await;
    let view = engagement(w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap());
    let owner = sign_in(&w.app, "cora@cafe.test", PASSWORD).await.unwrap();
    (practice, admin, view, owner)
}

#[tokio::test]
async fn a_practice_invites_a_client_who_accepts_with_a_password() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w, "Acme Books", "ada@acme.test").await;
    let invited = w
        .app
        .invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora Owner")))
        .await
        .unwrap();
    assert_eq!(invited.engagement.state, ConsentState::Requested { by: Side::Practice });
    assert_eq!(invited.client.name.as_str(), "Corner Café");
    assert_eq!(invited.practice.id, practice);
    // Nothing is open to the practice before the client accepts.
    assert!(my_client_ids(&w.app, &admin).await.is_empty());
    let invitation = mails_to(&w.store, "cora@cafe.test").await;
    assert_eq!(invitation.len(), 1);
    assert!(invitation[0].text.contains("/invitations/accept?token="));
    assert_eq!(invitation[0].client, Some(invited.client.id), "the invitation is in the client's email log");

    let token = mailed_token(&w.store, "cora@cafe.test").await;
    let accepted = engagement(w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap());
    assert_eq!(accepted.engagement.id, invited.engagement.id);
    assert_eq!(accepted.engagement.state, ConsentState::Active);

    // The owner signs in with the password they chose; the admin now opens the client.
    let owner = sign_in(&w.app, "cora@cafe.test", PASSWORD).await.unwrap();
    let me = w.app.me(&owner).await.unwrap();
    assert_eq!(
        me.clients.iter().map(|(c, r)| (c.id, *r)).collect::<Vec<_>>(),
        vec![(invited.client.id, ClientRole::Owner)]
    );
    assert_eq!(my_client_ids(&w.app, &admin).await, vec![invited.client.id]);
    // The admins are told.
    let told = mails_to(&w.store, "ada@acme.test").await;
    assert!(told.iter().any(|m| m.subject.contains("is now connected")), "{told:?}");
    // Both sides see the engagement; the link works once.
    for who in [&admin, &owner] {
        let mine = w.app.list_my_engagements(who, &PageRequest::first(10)).await.unwrap();
        assert_eq!(mine.items.iter().map(|v| v.engagement.id).collect::<Vec<_>>(), vec![invited.engagement.id]);
    }
    assert!(matches!(w.app.accept_invitation(&token, None).await, Err(AppError::InvalidToken)));
    // The admin lists the engaged client among the practice's clients.
    let clients = w.app.list_practice_clients(&admin, practice, &PageRequest::first(10)).await.unwrap();
    assert_eq!(clients.items.iter().map(|c| c.client.id).collect::<Vec<_>>(), vec![invited.client.id]);
}

#[tokio::test]
async fn invitations_check_their_input() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w, "Acme Books", "ada@acme.test").await;
    // The contact's name is needed (whoever has the address).
    let err =
        w.app.invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", None)).await.unwrap_err();
    assert_eq!(err.field(), Some("name"));
    let err =
        w.app.invite_client(&admin, practice, &client_invite(" ", "cora@cafe.test", Some("Cora"))).await.unwrap_err();
    assert_eq!(err.field(), Some("client_name"));
    // A practice user's address is not a client's: answered as any other,
    // and its owner is told by mail (issue 19, item 7).
    w.app.invite_client(&admin, practice, &client_invite("Acme", "ada@acme.test", Some("Ada"))).await.unwrap();
    assert!(mails_to(&w.store, "ada@acme.test").await.last().unwrap().subject.contains("tried to invite"));
    assert!(mails_to(&w.store, "cora@cafe.test").await.is_empty());
}

#[tokio::test]
async fn a_pending_practice_cannot_invite() {
    let w = world().await;
    let application = PracticeApplication {
        practice_name: "Pending Books".into(),
        admin_name: "Pat Pending".into(),
        admin_email: "pat@pending.test".into(),
    };
    let practice = w.app.apply_for_practice(&application).await.unwrap();
    let admin = as_user(&w.store, "pat@pending.test").await;
    let refused =
        w.app.invite_client(&admin, practice.id, &client_invite("Corner Café", "cora@cafe.test", Some("Cora"))).await;
    assert!(matches!(refused, Err(AppError::NotFound { .. } | AppError::Conflict { .. })), "{refused:?}");
    let refused = w
        .app
        .invite_outside_party(
            &admin,
            practice.id,
            &InviteOutsideParty { name: "Otto".into(), email: "otto@out.test".into() },
        )
        .await;
    assert!(refused.is_err());
    assert!(mails_to(&w.store, "cora@cafe.test").await.is_empty());
    assert!(mails_to(&w.store, "otto@out.test").await.is_empty());
}

#[tokio::test]
async fn a_client_grants_access_and_the_practice_admin_accepts() {
    let w = world().await;
    let (_, _, first, owner) = engaged(&w).await;
    let client = first.client.id;
    let (second, second_admin) = approved_practice(&w, "Second Books", "sid@second.test").await;

    let granted = w.app.grant_practice_access(&owner, client, second).await.unwrap();
    assert_eq!(granted.engagement.state, ConsentState::Requested { by: Side::Counterparty });
    // Not yet open to the second practice; its admin sees the request.
    assert!(my_client_ids(&w.app, &second_admin).await.is_empty());
    let waiting = w.app.list_my_engagements(&second_admin, &PageRequest::first(10)).await.unwrap();
    assert_eq!(waiting.items.len(), 1);
    // Nobody answers their own request; asking twice is a conflict.
    assert!(matches!(w.app.accept_engagement(&owner, granted.engagement.id).await, Err(AppError::Conflict { .. })));
    assert!(matches!(w.app.grant_practice_access(&owner, client, second).await, Err(AppError::Conflict { .. })));

    let accepted = w.app.accept_engagement(&second_admin, granted.engagement.id).await.unwrap();
    assert_eq!(accepted.engagement.state, ConsentState::Active);
    assert_eq!(my_client_ids(&w.app, &second_admin).await, vec![client]);
    let told = mails_to(&w.store, "cora@cafe.test").await;
    assert!(told.iter().any(|m| m.subject.contains("now has access to")), "{told:?}");
    // The owner now sees both engagements.
    let mine = w.app.list_my_engagements(&owner, &PageRequest::first(10)).await.unwrap();
    assert_eq!(mine.items.len(), 2);
    // Paging walks them one at a time.
    let page1 = w.app.list_my_engagements(&owner, &PageRequest::first(1)).await.unwrap();
    let next = page1.next.clone().expect("a second page");
    let page2 = w.app.list_my_engagements(&owner, &PageRequest::after(1, next)).await.unwrap();
    assert_eq!(page2.items.len(), 1);
    assert!(page2.next.is_none());
    assert_ne!(page1.items[0].engagement.id, page2.items[0].engagement.id);
}

#[tokio::test]
async fn an_unapproved_practice_is_not_in_the_directory_to_grant() {
    let w = world().await;
    let (_, _, first, owner) = engaged(&w).await;
    let application = PracticeApplication {
        practice_name: "Pending Books".into(),
        admin_name: "Pat Pending".into(),
        admin_email: "pat@pending.test".into(),
    };
    let pending = w.app.apply_for_practice(&application).await.unwrap();
    assert!(matches!(
        w.app.grant_practice_access(&owner, first.client.id, pending.id).await,
        Err(AppError::NotFound { what: "practice", .. })
    ));
    // A practice admin cannot grant on a client's behalf.
    let admin = sign_in(&w.app, "ada@acme.test", PASSWORD).await.unwrap();
    assert!(w.app.grant_practice_access(&admin, first.client.id, first.practice.id).await.is_err());
}

#[tokio::test]
async fn either_side_revokes_and_the_practice_loses_access_at_once() {
    let w = world().await;
    let (practice, admin, view, owner) = engaged(&w).await;
    let client = view.client.id;
    assert_eq!(my_client_ids(&w.app, &admin).await, vec![client]);

    // The client ends it: the practice loses access on the next call and is told.
    let revoked = w.app.revoke_engagement(&owner, view.engagement.id).await.unwrap();
    assert_eq!(revoked.engagement.state, ConsentState::Revoked { by: Side::Counterparty });
    assert!(my_client_ids(&w.app, &admin).await.is_empty());
    assert!(mails_to(&w.store, "ada@acme.test").await.iter().any(|m| m.subject.contains("Your access to")));
    assert!(w.app.list_practice_clients(&admin, practice, &PageRequest::first(10)).await.unwrap().items.is_empty());
    // Nothing left to end.
    assert!(matches!(w.app.revoke_engagement(&admin, view.engagement.id).await, Err(AppError::Conflict { .. })));

    // The practice asks again (the owner already has a password) and the same client is reused.
    let again = w
        .app
        .invite_client(&admin, practice, &client_invite("corner café", "cora@cafe.test", Some("Cora")))
        .await
        .unwrap();
    assert_eq!(again.engagement.id, view.engagement.id);
    assert_eq!(again.client.id, client);
    assert_eq!(again.engagement.state, ConsentState::Requested { by: Side::Practice });
    let token = mailed_token(&w.store, "cora@cafe.test").await;
    engagement(w.app.accept_invitation(&token, None).await.unwrap());
    assert_eq!(my_client_ids(&w.app, &admin).await, vec![client]);

    // Now the practice ends it: the client is told, and keeps its files for 30 days.
    let before = mails_to(&w.store, "cora@cafe.test").await.len();
    let revoked = w.app.revoke_engagement(&admin, view.engagement.id).await.unwrap();
    assert_eq!(revoked.engagement.state, ConsentState::Revoked { by: Side::Practice });
    assert!(my_client_ids(&w.app, &admin).await.is_empty());
    let told = mails_to(&w.store, "cora@cafe.test").await;
    assert_eq!(told.len(), before + 1);
    assert!(told.last().unwrap().subject.contains("no longer has access"));
}

#[tokio::test]
async fn a_declined_request_can_be_made_again() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w, "Acme Books", "ada@acme.test").await;
    let invited = w
        .app
        .invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora Owner")))
        .await
        .unwrap();
    let first_token = mailed_token(&w.store, "cora@cafe.test").await;
    // The practice cannot answer its own request.
    assert!(matches!(w.app.decline_engagement(&admin, invited.engagement.id).await, Err(AppError::Conflict { .. })));
    let owner = as_user(&w.store, "cora@cafe.test").await;
    let declined = w.app.decline_engagement(&owner, invited.engagement.id).await.unwrap();
    assert_eq!(declined.engagement.state, ConsentState::Declined { by: Side::Counterparty });
    // The old link has nothing left to accept.
    assert!(matches!(
        w.app.accept_invitation(&first_token, Some(PASSWORD.into())).await,
        Err(AppError::Conflict { .. })
    ));

    let again = w
        .app
        .invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora Owner")))
        .await
        .unwrap();
    assert_eq!(again.engagement.id, invited.engagement.id);
    assert_eq!(again.engagement.state, ConsentState::Requested { by: Side::Practice });
    // A second request while one waits is a conflict.
    assert!(matches!(
        w.app.invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora"))).await,
        Err(AppError::Conflict { .. })
    ));
    let token = mailed_token(&w.store, "cora@cafe.test").await;
    let accepted = engagement(w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap());
    assert_eq!(accepted.engagement.state, ConsentState::Active);
}

#[tokio::test]
async fn wrong_tokens_and_weak_passwords_are_refused_without_using_the_link() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w, "Acme Books", "ada@acme.test").await;
    w.app
        .invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora Owner")))
        .await
        .unwrap();
    let token = mailed_token(&w.store, "cora@cafe.test").await;

    assert!(matches!(
        w.app.accept_invitation(&SecretToken::from_presented("not-a-token"), Some(PASSWORD.into())).await,
        Err(AppError::InvalidToken)
    ));
    assert!(matches!(w.app.accept_invitation(&SecretToken::mint(), None).await, Err(AppError::InvalidToken)));
    // A new invitee must choose a password, and a good one.
    assert_eq!(w.app.accept_invitation(&token, None).await.unwrap_err().field(), Some("password"));
    assert_eq!(w.app.accept_invitation(&token, Some("short".into())).await.unwrap_err().field(), Some("password"));
    assert_eq!(
        w.app.accept_invitation(&token, Some("cora@cafe.test".into())).await.unwrap_err().field(),
        Some("password")
    );
    // The link still works.
    let accepted = engagement(w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap());
    assert_eq!(accepted.engagement.state, ConsentState::Active);
    sign_in(&w.app, "cora@cafe.test", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn an_outside_party_accepts_and_revokes_a_connection() {
    let w = world().await;
    let (practice, admin) = approved_practice(&w, "Acme Books", "ada@acme.test").await;
    let invite = InviteOutsideParty { name: "Otto Outside".into(), email: "otto@out.test".into() };
    let answer = w.app.invite_outside_party(&admin, practice, &invite).await.unwrap();
    assert_eq!(
        (answer.practice, answer.email.as_str(), answer.name.as_str()),
        (practice, "otto@out.test", "Otto Outside")
    );
    // Asking twice while waiting is a conflict.
    assert!(matches!(w.app.invite_outside_party(&admin, practice, &invite).await, Err(AppError::Conflict { .. })));
    let listed = w.app.list_connections(&admin, practice, &PageRequest::first(10)).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].outside_party.name.as_str(), "Otto Outside");
    let invited = listed.items[0].clone();
    assert_eq!(invited.connection.state, ConsentState::Requested { by: Side::Practice });

    let token = mailed_token(&w.store, "otto@out.test").await;
    assert_eq!(w.app.accept_invitation(&token, Some("tiny".into())).await.unwrap_err().field(), Some("password"));
    let accepted = connection(w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap());
    assert_eq!(accepted.connection.id, invited.connection.id);
    assert_eq!(accepted.connection.state, ConsentState::Active);

    let otto = sign_in(&w.app, "otto@out.test", PASSWORD).await.unwrap();
    for who in [&otto, &admin] {
        let mine = w.app.list_my_connections(who, &PageRequest::first(10)).await.unwrap();
        assert_eq!(mine.items.iter().map(|c| c.connection.id).collect::<Vec<_>>(), vec![invited.connection.id]);
    }
    // An outside party has no engagements to list, and opens no client.
    assert!(matches!(w.app.list_my_engagements(&otto, &PageRequest::first(10)).await, Err(AppError::Forbidden { .. })));
    assert!(w.app.my_clients(&otto, &PageRequest::first(10)).await.is_err());

    let revoked = w.app.revoke_connection(&otto, invited.connection.id).await.unwrap();
    assert_eq!(revoked.connection.state, ConsentState::Revoked { by: Side::Counterparty });
    assert!(matches!(w.app.revoke_connection(&admin, invited.connection.id).await, Err(AppError::Conflict { .. })));
    // Another practice's admin does not find it.
    let (_, stranger) = approved_practice(&w, "Second Books", "sid@second.test").await;
    assert!(matches!(w.app.accept_connection(&stranger, invited.connection.id).await, Err(AppError::NotFound { .. })));

    // The practice asks again; the party accepts while signed in.
    w.app.invite_outside_party(&admin, practice, &invite).await.unwrap();
    let again = w.app.accept_connection(&otto, invited.connection.id).await.unwrap();
    assert_eq!(again.connection.state, ConsentState::Active);
    // A client's address cannot be an outside party: answered as any other,
    // nothing is recorded, and its owner is told by mail (issue 19, item 7).
    w.app.invite_client(&admin, practice, &client_invite("Corner Café", "cora@cafe.test", Some("Cora"))).await.unwrap();
    w.app
        .invite_outside_party(
            &admin,
            practice,
            &InviteOutsideParty { name: "Cora".into(), email: "cora@cafe.test".into() },
        )
        .await
        .unwrap();
    assert!(mails_to(&w.store, "cora@cafe.test").await.last().unwrap().subject.contains("tried to invite"));
    assert_eq!(w.app.list_connections(&admin, practice, &PageRequest::first(10)).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn a_client_owner_invites_a_colleague() {
    let w = world().await;
    let (_, admin, view, owner) = engaged(&w).await;
    let client = view.client.id;
    let invite = InviteClientMember { name: "Max Member".into(), email: "max@cafe.test".into() };
    let invited = w.app.invite_client_member(&owner, client, &invite).await.unwrap();
    assert_eq!((invited.client, invited.email.as_str()), (client, "max@cafe.test"));
    // Nothing shows before they accept: they get a link to join, choosing a
    // password there (it is not a set-password link), and then sign in to the client.
    let listed = w.app.list_client_members(&owner, client, &PageRequest::first(10)).await.unwrap();
    assert_eq!(listed.items.len(), 1, "only the owner until they accept");
    let token = mailed_token(&w.store, "max@cafe.test").await;
    assert!(matches!(w.app.set_password_with_link(&token, PASSWORD.into()).await, Err(AppError::InvalidToken)));
    assert_eq!(w.app.accept_invitation(&token, None).await.unwrap_err().field(), Some("password"));
    match w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap() {
        AcceptedInvitation::Membership(member) => {
            assert_eq!((member.client, member.role), (client, ClientRole::Member))
        }
        other => panic!("expected a membership, got {other:?}"),
    }
    let max = sign_in(&w.app, "max@cafe.test", PASSWORD).await.unwrap();
    assert_eq!(my_client_ids(&w.app, &max).await, vec![client]);

    let members = w.app.list_client_members(&owner, client, &PageRequest::first(10)).await.unwrap();
    assert_eq!(
        members.items.iter().map(|m| (m.user.email.as_str(), m.role)).collect::<Vec<_>>(),
        vec![("cora@cafe.test", ClientRole::Owner), ("max@cafe.test", ClientRole::Member)]
    );
    let first = w.app.list_client_members(&owner, client, &PageRequest::first(1)).await.unwrap();
    let rest = w.app.list_client_members(&owner, client, &PageRequest::after(1, first.next.unwrap())).await.unwrap();
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].user.email.as_str(), "max@cafe.test");

    // Twice is a conflict. A practice user's address cannot join a client, but
    // the answer is the one any address gets, and nothing is recorded or sent.
    assert!(matches!(w.app.invite_client_member(&owner, client, &invite).await, Err(AppError::Conflict { .. })));
    let mails = mails_to(&w.store, "ada@acme.test").await.len();
    let ada = InviteClientMember { name: "Ada".into(), email: "ada@acme.test".into() };
    let answer = w.app.invite_client_member(&owner, client, &ada).await.unwrap();
    assert_eq!((answer.client, answer.email.as_str(), answer.name.as_str()), (client, "ada@acme.test", "Ada"));
    assert_eq!(mails_to(&w.store, "ada@acme.test").await.len(), mails);
    assert_eq!(w.app.list_client_members(&owner, client, &PageRequest::first(10)).await.unwrap().items.len(), 2);
    // Members do not manage the client; the practice does not see its users.
    assert!(matches!(
        w.app.list_client_members(&max, client, &PageRequest::first(10)).await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(
        w.app
            .invite_client_member(&max, client, &InviteClientMember { name: "X".into(), email: "x@cafe.test".into() })
            .await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(matches!(w.app.revoke_engagement(&max, view.engagement.id).await, Err(AppError::Forbidden { .. })));
    assert!(w.app.list_my_engagements(&max, &PageRequest::first(10)).await.unwrap().items.is_empty());
    // Client users have no connections to list.
    assert!(matches!(
        w.app.list_my_connections(&owner, &PageRequest::first(10)).await,
        Err(AppError::Forbidden { .. })
    ));
    assert!(w.app.list_client_members(&admin, client, &PageRequest::first(10)).await.is_err());
}

/// Issue 19, item 1: membership is consent. A client owner who names the
/// address of someone who already has an account (here the owner of another
/// client) records nothing against them and learns nothing about them: they
/// join only by accepting the mailed link.
#[tokio::test]
async fn an_existing_user_joins_a_client_only_by_accepting_the_mailed_link() {
    let w = world().await;
    let (practice, admin, view, owner) = engaged(&w).await;
    let client = view.client.id;
    w.app
        .invite_client(&admin, practice, &client_invite("Bistro Bella", "bella@bistro.test", Some("Bella Owner")))
        .await
        .unwrap();
    let token = mailed_token(&w.store, "bella@bistro.test").await;
    let bistro = engagement(w.app.accept_invitation(&token, Some(PASSWORD.into())).await.unwrap()).client.id;
    let bella = sign_in(&w.app, "bella@bistro.test", PASSWORD).await.unwrap();
    let before = mails_to(&w.store, "bella@bistro.test").await.len();

    let invite = InviteClientMember { name: "Whoever".into(), email: "bella@bistro.test".into() };
    w.app.invite_client_member(&owner, client, &invite).await.unwrap();
    // Nothing is recorded against her: not a member, the client is not hers to open.
    let members = w.app.list_client_members(&owner, client, &PageRequest::first(10)).await.unwrap();
    assert_eq!(members.items.iter().map(|m| m.user.email.as_str()).collect::<Vec<_>>(), vec!["cora@cafe.test"]);
    assert_eq!(my_client_ids(&w.app, &bella).await, vec![bistro]);
    // She is asked by mail.
    let asked = mails_to(&w.store, "bella@bistro.test").await;
    assert_eq!(asked.len(), before + 1);
    assert!(asked.last().unwrap().subject.contains("Corner Café"), "{}", asked.last().unwrap().subject);
    // The answer is the one a new address gets: the client, the address and the name given.
    let answer = w.app.invite_client_member(&owner, client, &invite).await.unwrap();
    assert_eq!((answer.client, answer.email.as_str(), answer.name.as_str()), (client, "bella@bistro.test", "Whoever"));
    let first = mailed_token(&w.store, "bella@bistro.test").await;

    // She accepts from the link (she has a password: none is asked) and joins as a member.
    let joined = match w.app.accept_invitation(&first, None).await.unwrap() {
        AcceptedInvitation::Membership(member) => member,
        other => panic!("expected a membership, got {other:?}"),
    };
    assert_eq!(
        (joined.client, joined.user.email.as_str(), joined.role),
        (client, "bella@bistro.test", ClientRole::Member)
    );
    assert_eq!(joined.user.name.as_str(), "Bella Owner", "she keeps her own name");
    let mut mine = my_client_ids(&w.app, &bella).await;
    mine.sort();
    let mut expected = vec![client, bistro];
    expected.sort();
    assert_eq!(mine, expected);
    // The link works once.
    assert!(matches!(w.app.accept_invitation(&first, None).await, Err(AppError::InvalidToken)));

    // A member leaves; an owner cannot.
    w.app.leave_client(&bella, client).await.unwrap();
    assert_eq!(my_client_ids(&w.app, &bella).await, vec![bistro]);
    assert!(matches!(w.app.leave_client(&bella, client).await, Err(AppError::NotFound { .. })));
    assert!(matches!(w.app.leave_client(&owner, client).await, Err(AppError::Conflict { .. })));

    // Asked again, she joins again; the owner removes her, and an old link does not bring her back.
    w.app.invite_client_member(&owner, client, &invite).await.unwrap();
    let second = mailed_token(&w.store, "bella@bistro.test").await;
    w.app.invite_client_member(&owner, client, &invite).await.unwrap();
    let third = mailed_token(&w.store, "bella@bistro.test").await;
    w.app.accept_invitation(&second, None).await.unwrap();
    let bella_id = user_id(&w.store, "bella@bistro.test").await;
    // A member may not remove anyone (the owner manages the client's users).
    assert!(matches!(w.app.remove_client_member(&bella, client, bella_id).await, Err(AppError::Forbidden { .. })));
    w.app.remove_client_member(&owner, client, bella_id).await.unwrap();
    assert_eq!(my_client_ids(&w.app, &bella).await, vec![bistro]);
    assert!(matches!(w.app.accept_invitation(&third, None).await, Err(AppError::InvalidToken)));
    assert!(matches!(
        w.app.remove_client_member(&owner, client, bella_id).await,
        Err(AppError::NotFound { what: "member", .. })
    ));
    let cora = user_id(&w.store, "cora@cafe.test").await;
    assert!(matches!(w.app.remove_client_member(&owner, client, cora).await, Err(AppError::Conflict { .. })));
    // Another client's owner neither removes nor leaves what is not theirs.
    assert!(matches!(w.app.remove_client_member(&bella, client, cora).await, Err(AppError::NotFound { .. })));
}

/// Issue 19, item 1: a practice's invitation of someone who already has a
/// client account records nothing against them either: the client it names
/// has no users until they accept, and then they are its owner.
#[tokio::test]
async fn a_practice_invitation_of_an_existing_client_user_records_nothing_until_accepted() {
    let w = world().await;
    let (_, _, view, owner) = engaged(&w).await;
    let cafe = view.client.id;
    let (other, other_admin) = approved_practice(&w, "Quill Partners", "quinn@quill.test").await;

    let invite = client_invite("Cora's Catering", "cora@cafe.test", Some("Cora Owner"));
    let invited = w.app.invite_client(&other_admin, other, &invite).await.unwrap();
    assert_eq!(invited.client.name.as_str(), "Cora's Catering");
    assert_eq!(invited.engagement.state, ConsentState::Requested { by: Side::Practice });
    // Nothing is hers yet: she does not belong to the new client.
    assert_eq!(my_client_ids(&w.app, &owner).await, vec![cafe]);
    assert!(matches!(
        w.app.list_client_members(&owner, invited.client.id, &PageRequest::first(10)).await,
        Err(AppError::NotFound { .. })
    ));

    // She accepts from the link: she owns the new client, and the engagement is active.
    let token = mailed_token(&w.store, "cora@cafe.test").await;
    let accepted = engagement(w.app.accept_invitation(&token, None).await.unwrap());
    assert_eq!((accepted.client.id, accepted.engagement.state), (invited.client.id, ConsentState::Active));
    let mut mine = my_client_ids(&w.app, &owner).await;
    mine.sort();
    let mut expected = vec![cafe, invited.client.id];
    expected.sort();
    assert_eq!(mine, expected);
    let members = w.app.list_client_members(&owner, invited.client.id, &PageRequest::first(10)).await.unwrap();
    assert_eq!(
        members.items.iter().map(|m| (m.user.email.as_str(), m.role)).collect::<Vec<_>>(),
        vec![("cora@cafe.test", ClientRole::Owner)]
    );
}

/// Issue 19, item 7: a practice admin inviting a person, a client or an
/// outside party gets one answer whichever way: it does not tell whether the
/// address has an account, nor of which kind. Where it matters, the invitee
/// hears of it by mail.
#[tokio::test]
async fn invitations_answer_alike_whoever_has_the_address() {
    let w = world().await;
    let (practice, admin, _, _) = engaged(&w).await;
    let (_, _) = approved_practice(&w, "Quill Partners", "quinn@quill.test").await;
    w.app
        .invite_outside_party(
            &admin,
            practice,
            &InviteOutsideParty { name: "Otto".into(), email: "otto@out.test".into() },
        )
        .await
        .unwrap();
    let taken = ["cora@cafe.test", "quinn@quill.test", "otto@out.test"];

    // A person: an address with an account of any kind is answered as a new one,
    // and its owner is told by mail; nothing is recorded.
    for email in taken {
        let before = mails_to(&w.store, email).await.len();
        let invite = InvitePerson { name: "Sam Person".into(), email: email.into(), role: "staff".into() };
        assert!(w.app.invite_person(&admin, practice, &invite).await.is_ok(), "{email}");
        let told = mails_to(&w.store, email).await;
        assert_eq!(told.len(), before + 1, "{email}");
        assert!(told.last().unwrap().subject.contains("tried to invite"), "{}", told.last().unwrap().subject);
    }

    // A client: the contact's name is required whoever has the address.
    for email in ["new@client.test", "cora@cafe.test", "quinn@quill.test"] {
        let without = client_invite("Some Client", email, None);
        let err = w.app.invite_client(&admin, practice, &without).await.unwrap_err();
        assert_eq!(err.field(), Some("name"), "{email}");
    }
    // A practice user's or an outside party's address is answered as any other.
    for email in ["quinn@quill.test", "otto@out.test"] {
        let invite = client_invite("Another Client", email, Some("Some Contact"));
        assert!(w.app.invite_client(&admin, practice, &invite).await.is_ok(), "{email}");
    }
    // An outside party: a practice or client user's address is answered as any other.
    for email in ["quinn@quill.test", "cora@cafe.test"] {
        let invite = InviteOutsideParty { name: "Some Party".into(), email: email.into() };
        assert!(w.app.invite_outside_party(&admin, practice, &invite).await.is_ok(), "{email}");
    }
}
