//! Contract tests: single-use tokens and sessions.

use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{ClientId, ConnectionId, EngagementId, UserId};
use ferry_domain::practice::PracticeStatus;
use ferry_ports::records::{ConnectionRecord, NewSession, NewToken, SessionRecord, TokenHash, TokenPurpose, UserKind};
use ferry_ports::{StoreError, Tx};

use crate::contract;
use crate::harness::{Fixture, at, id};

/// A fresh, unique token hash.
fn hash() -> TokenHash {
    let (a, b) = (id(), id());
    let mut bytes = [0; 32];
    bytes[..16].copy_from_slice(a.as_bytes());
    bytes[16..].copy_from_slice(b.as_bytes());
    TokenHash(bytes)
}

fn token(user: UserId, purpose: TokenPurpose, created: i64, expires: i64) -> NewToken {
    NewToken { hash: hash(), purpose, user, created_at: at(created), expires_at: at(expires) }
}

fn session_of(user: UserId, created: i64, expires: i64) -> NewSession {
    NewSession { id: id(), hash: hash(), user, created_at: at(created), expires_at: at(expires) }
}

fn record(session: &NewSession) -> SessionRecord {
    SessionRecord { id: session.id, user: session.user, created_at: session.created_at, expires_at: session.expires_at }
}

/// An engagement and a connection of a new approved practice, for tokens that accept them.
async fn engagement_and_connection(tx: &mut dyn Tx) -> (EngagementId, ConnectionId) {
    let practice = Fixture::practice(tx, PracticeStatus::Approved).await;
    let (client, _) = Fixture::client(tx).await;
    let requested = ConsentState::Requested { by: Side::Practice };
    let engagement = Fixture::engagement(tx, practice, client, requested).await;
    let outside = Fixture::user(tx, UserKind::Outside).await;
    let connection = ConnectionId::from_uuid(id());
    tx.insert_connection(&ConnectionRecord {
        id: connection,
        practice,
        outside_party: outside,
        state: requested,
        changed_at: at(0),
    })
    .await
    .expect("insert connection");
    (engagement, connection)
}

contract!(tokens_of_every_purpose_are_consumed_exactly_once, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    let (engagement, connection) = engagement_and_connection(&mut *tx).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let tokens = [
        token(user, TokenPurpose::SetPassword, 0, 100),
        token(user, TokenPurpose::AcceptEngagement(engagement), 0, 100),
        token(user, TokenPurpose::AcceptConnection(connection), 0, 100),
        token(user, TokenPurpose::JoinClient(client), 0, 100),
    ];
    for t in &tokens {
        tx.insert_token(t).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    for t in &tokens {
        let got = tx.consume_token(t.hash, at(50)).await.unwrap();
        assert_eq!(got, Some((user, t.purpose)), "{}: the first use gives the user and purpose", s.engine);
        let again = tx.consume_token(t.hash, at(51)).await.unwrap();
        assert_eq!(again, None, "{}: a second use in the same transaction finds nothing", s.engine);
    }
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    for t in &tokens {
        assert_eq!(tx.consume_token(t.hash, at(52)).await.unwrap(), None, "{}: used stays used", s.engine);
    }
});

contract!(expired_and_unknown_tokens_are_not_consumed, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    let t = token(user, TokenPurpose::SetPassword, 0, 100);
    tx.insert_token(&t).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.consume_token(t.hash, at(100)).await.unwrap(), None, "{}: expired at its expiry", s.engine);
    assert_eq!(tx.consume_token(t.hash, at(500)).await.unwrap(), None, "{}: expired after it", s.engine);
    assert_eq!(tx.consume_token(hash(), at(50)).await.unwrap(), None, "{}: unknown hash", s.engine);
    tx.commit().await.unwrap();
    // The refused uses did not use it up: just before expiry it still works once.
    let mut tx = s.begin().await;
    assert_eq!(tx.consume_token(t.hash, at(99)).await.unwrap(), Some((user, TokenPurpose::SetPassword)));
    assert_eq!(tx.consume_token(t.hash, at(99)).await.unwrap(), None);
});

contract!(tokens_with_unknown_references_are_refused_and_not_kept, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    tx.commit().await.unwrap();

    let cases = [
        (UserId::from_uuid(id()), TokenPurpose::SetPassword),
        (user, TokenPurpose::AcceptEngagement(EngagementId::from_uuid(id()))),
        (user, TokenPurpose::AcceptConnection(ConnectionId::from_uuid(id()))),
        (user, TokenPurpose::JoinClient(ClientId::from_uuid(id()))),
    ];
    for (owner, purpose) in cases {
        let t = token(owner, purpose, 0, 100);
        let mut tx = s.begin().await;
        let err = tx.insert_token(&t).await.unwrap_err();
        assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {purpose:?}: {err:?}", s.engine);
        drop(tx);
        let mut tx = s.begin().await;
        assert_eq!(tx.consume_token(t.hash, at(50)).await.unwrap(), None, "{}: {purpose:?} was not kept", s.engine);
    }
});

contract!(a_token_hash_is_stored_once, |s| {
    let mut tx = s.begin().await;
    let (first, second) =
        (Fixture::user(&mut *tx, UserKind::Client).await, Fixture::user(&mut *tx, UserKind::Client).await);
    let t = token(first, TokenPurpose::SetPassword, 0, 100);
    tx.insert_token(&t).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let err = tx.insert_token(&NewToken { user: second, ..t }).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{}: {err:?}", s.engine);
    drop(tx);
    let mut tx = s.begin().await;
    assert_eq!(
        tx.consume_token(t.hash, at(1)).await.unwrap(),
        Some((first, TokenPurpose::SetPassword)),
        "{}",
        s.engine
    );
});

contract!(revoking_password_tokens_uses_up_only_the_users_unused_set_password_tokens, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    let other = Fixture::user(&mut *tx, UserKind::Client).await;
    let (engagement, _) = engagement_and_connection(&mut *tx).await;
    let older = token(user, TokenPurpose::SetPassword, 0, 100);
    let newer = token(user, TokenPurpose::SetPassword, 10, 100);
    let used = token(user, TokenPurpose::SetPassword, 0, 100);
    let invitation = token(user, TokenPurpose::AcceptEngagement(engagement), 0, 100);
    let others = token(other, TokenPurpose::SetPassword, 0, 100);
    for t in [&older, &newer, &used, &invitation, &others] {
        tx.insert_token(t).await.unwrap();
    }
    assert!(tx.consume_token(used.hash, at(20)).await.unwrap().is_some());
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.revoke_password_tokens(user, at(30)).await.unwrap(), 2, "{}: the two unused ones", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.revoke_password_tokens(user, at(31)).await.unwrap(), 0, "{}: nothing left to revoke", s.engine);
    assert_eq!(tx.consume_token(older.hash, at(40)).await.unwrap(), None, "{}", s.engine);
    assert_eq!(tx.consume_token(newer.hash, at(40)).await.unwrap(), None, "{}", s.engine);
    assert_eq!(
        tx.consume_token(invitation.hash, at(40)).await.unwrap(),
        Some((user, TokenPurpose::AcceptEngagement(engagement))),
        "{}: other purposes are kept",
        s.engine
    );
    assert_eq!(
        tx.consume_token(others.hash, at(40)).await.unwrap(),
        Some((other, TokenPurpose::SetPassword)),
        "{}: other users' tokens are kept",
        s.engine
    );
});

contract!(sessions_are_live_until_they_expire_or_end, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    let kept = session_of(user, 10, 1000);
    let ended = session_of(user, 10, 1000);
    tx.insert_session(&kept).await.unwrap();
    tx.insert_session(&ended).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.session(kept.hash, at(10)).await.unwrap(), Some(record(&kept)), "{}: from its start", s.engine);
    assert_eq!(tx.session(kept.hash, at(999)).await.unwrap(), Some(record(&kept)), "{}: until expiry", s.engine);
    assert_eq!(tx.session(kept.hash, at(1000)).await.unwrap(), None, "{}: not at expiry", s.engine);
    assert_eq!(tx.session(hash(), at(20)).await.unwrap(), None, "{}: unknown hash", s.engine);
    drop(tx);

    let mut tx = s.begin().await;
    tx.end_session(ended.id, at(20)).await.unwrap();
    // Ending again, or ending an unknown session, is harmless.
    tx.end_session(ended.id, at(21)).await.unwrap();
    tx.end_session(id(), at(21)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.session(ended.hash, at(22)).await.unwrap(), None, "{}: an ended session is gone", s.engine);
    assert_eq!(tx.session(kept.hash, at(22)).await.unwrap(), Some(record(&kept)), "{}: others stay", s.engine);
});

contract!(sessions_of_deactivated_users_do_not_work, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    let session = session_of(user, 0, 1000);
    tx.insert_session(&session).await.unwrap();
    tx.set_user_active(user, false).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.session(session.hash, at(10)).await.unwrap(), None, "{}: inactive user", s.engine);
    drop(tx);
    let mut tx = s.begin().await;
    tx.set_user_active(user, true).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = s.store_read().await;
    assert_eq!(tx.session(session.hash, at(10)).await.unwrap(), Some(record(&session)), "{}: active again", s.engine);
});

contract!(ending_all_sessions_ends_and_counts_only_the_users_live_ones, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    let other = Fixture::user(&mut *tx, UserKind::Practice).await;
    let live = [session_of(user, 0, 1000), session_of(user, 5, 2000)];
    let ended = session_of(user, 0, 1000);
    let expired = session_of(user, 0, 50);
    let others = session_of(other, 0, 1000);
    for session in live.iter().chain([&ended, &expired, &others]) {
        tx.insert_session(session).await.unwrap();
    }
    tx.end_session(ended.id, at(10)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.end_all_sessions(user, at(100)).await.unwrap(), 2, "{}: the two live ones", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    for session in &live {
        assert_eq!(tx.session(session.hash, at(101)).await.unwrap(), None, "{}: ended", s.engine);
    }
    assert_eq!(tx.session(others.hash, at(101)).await.unwrap(), Some(record(&others)), "{}: others stay", s.engine);
    assert_eq!(tx.end_all_sessions(user, at(102)).await.unwrap(), 0, "{}: none left", s.engine);
    assert_eq!(tx.end_all_sessions(UserId::from_uuid(id()), at(102)).await.unwrap(), 0, "{}: unknown user", s.engine);
});

contract!(sessions_with_unknown_users_or_taken_hashes_are_refused_and_not_kept, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    let existing = session_of(user, 0, 1000);
    tx.insert_session(&existing).await.unwrap();
    tx.commit().await.unwrap();

    let stray = session_of(UserId::from_uuid(id()), 0, 1000);
    let mut tx = s.begin().await;
    let err = tx.insert_session(&stray).await.unwrap_err();
    assert!(matches!(err, StoreError::DanglingReference { .. }), "{}: {err:?}", s.engine);
    drop(tx);

    let same_hash = NewSession { id: id(), ..session_of(user, 1, 500) };
    let same_hash = NewSession { hash: existing.hash, ..same_hash };
    let mut tx = s.begin().await;
    let err = tx.insert_session(&same_hash).await.unwrap_err();
    assert!(matches!(err, StoreError::Duplicate { .. }), "{}: {err:?}", s.engine);
    drop(tx);

    let mut tx = s.store_read().await;
    assert_eq!(tx.session(stray.hash, at(10)).await.unwrap(), None, "{}", s.engine);
    assert_eq!(tx.session(existing.hash, at(10)).await.unwrap(), Some(record(&existing)), "{}: unchanged", s.engine);
});

contract!(join_invitations_are_revoked_per_user_and_client, |s| {
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Client).await;
    let (client, _) = Fixture::client(&mut *tx).await;
    let (other, _) = Fixture::client(&mut *tx).await;
    let tokens = [
        token(user, TokenPurpose::JoinClient(client), 0, 100),
        token(user, TokenPurpose::JoinClient(client), 0, 100),
        token(user, TokenPurpose::JoinClient(other), 0, 100),
        token(user, TokenPurpose::SetPassword, 0, 100),
    ];
    for t in &tokens {
        tx.insert_token(t).await.unwrap();
    }
    assert_eq!(tx.revoke_join_tokens(user, client, at(10)).await.unwrap(), 2, "{}", s.engine);
    assert_eq!(tx.revoke_join_tokens(user, client, at(11)).await.unwrap(), 0, "{}", s.engine);
    assert_eq!(tx.consume_token(tokens[0].hash, at(20)).await.unwrap(), None, "{}", s.engine);
    assert_eq!(tx.consume_token(tokens[1].hash, at(20)).await.unwrap(), None, "{}", s.engine);
    assert!(tx.consume_token(tokens[2].hash, at(20)).await.unwrap().is_some(), "{}: another client's", s.engine);
    assert!(tx.consume_token(tokens[3].hash, at(20)).await.unwrap().is_some(), "{}: another purpose", s.engine);
    tx.rollback().await.unwrap();
});
