//! Contract tests: purging what can no longer be used.

use ferry_domain::ids::UserId;
use ferry_domain::values::EmailAddress;
use ferry_ports::Tx;
use ferry_ports::records::{
    NewSession, NewToken, PurgeReport, SessionRecord, ThrottleKey, TokenHash, TokenPurpose, UserKind,
};

use crate::contract;
use crate::harness::{Fixture, at, id, unique};

/// A fresh, unique token hash.
fn hash() -> TokenHash {
    let (a, b) = (id(), id());
    let mut bytes = [0; 32];
    bytes[..16].copy_from_slice(a.as_bytes());
    bytes[16..].copy_from_slice(b.as_bytes());
    TokenHash(bytes)
}

async fn session(tx: &mut dyn Tx, user: UserId, created: i64, expires: i64) -> NewSession {
    let session = NewSession { id: id(), hash: hash(), user, created_at: at(created), expires_at: at(expires) };
    tx.insert_session(&session).await.unwrap();
    session
}

async fn token(tx: &mut dyn Tx, user: UserId, created: i64, expires: i64) -> NewToken {
    let token = NewToken {
        hash: hash(),
        purpose: TokenPurpose::SetPassword,
        user,
        created_at: at(created),
        expires_at: at(expires),
    };
    tx.insert_token(&token).await.unwrap();
    token
}

fn record(session: &NewSession) -> SessionRecord {
    SessionRecord { id: session.id, user: session.user, created_at: session.created_at, expires_at: session.expires_at }
}

contract!(purging_removes_dead_sessions_tokens_and_old_failures_and_keeps_the_rest, |s| {
    let key = ThrottleKey::Account(EmailAddress::parse(&format!("ada{}@example.com", unique())).unwrap());
    let mut tx = s.begin().await;
    let user = Fixture::user(&mut *tx, UserKind::Practice).await;
    let other = Fixture::user(&mut *tx, UserKind::Client).await;

    // Sessions: dead at 100 (expired before, expiring at it, ended) and live.
    session(&mut *tx, user, 0, 50).await;
    session(&mut *tx, other, 0, 100).await;
    let ended = session(&mut *tx, user, 0, 1000).await;
    tx.end_session(ended.id, at(60)).await.unwrap();
    let ended_later = session(&mut *tx, user, 0, 1000).await;
    tx.end_session(ended_later.id, at(150)).await.unwrap();
    let live = [session(&mut *tx, user, 0, 101).await, session(&mut *tx, other, 90, 1000).await];

    // Tokens: dead at 100 (expired before, expiring at it, used, revoked) and live.
    token(&mut *tx, other, 0, 50).await;
    token(&mut *tx, other, 0, 100).await;
    let used = token(&mut *tx, other, 0, 1000).await;
    assert!(tx.consume_token(used.hash, at(70)).await.unwrap().is_some());
    token(&mut *tx, user, 0, 1000).await;
    assert_eq!(tx.revoke_password_tokens(user, at(80)).await.unwrap(), 1);
    let used_later = token(&mut *tx, other, 0, 1000).await;
    let unused = token(&mut *tx, user, 90, 1000).await;

    // Sign-in failures: two before the cut-off at 40, two from it on.
    for seconds in [10, 39, 40, 95] {
        tx.record_login_failure(std::slice::from_ref(&key), at(seconds)).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert!(tx.consume_token(used_later.hash, at(150)).await.unwrap().is_some(), "{}", s.engine);
    let report = tx.purge_expired(at(100), at(40)).await.unwrap();
    assert_eq!(
        report,
        PurgeReport { sessions: 3, tokens: 4, login_failures: 2 },
        "{}: what was dead at 100 and failures before 40",
        s.engine
    );
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    for session in &live {
        assert_eq!(tx.session(session.hash, at(100)).await.unwrap(), Some(record(session)), "{}: live", s.engine);
    }
    assert_eq!(tx.login_failures(&key, at(0)).await.unwrap(), 2, "{}: failures from the cut-off on", s.engine);
    assert_eq!(
        tx.consume_token(unused.hash, at(100)).await.unwrap(),
        Some((user, TokenPurpose::SetPassword)),
        "{}: an unused, unexpired token still works",
        s.engine
    );
    tx.rollback().await.unwrap();

    // What was purged is gone: a second purge at the same time finds nothing,
    // and a later one finds what has died since.
    let mut tx = s.begin().await;
    assert_eq!(tx.purge_expired(at(100), at(40)).await.unwrap(), PurgeReport::default(), "{}", s.engine);
    let later = tx.purge_expired(at(150), at(96)).await.unwrap();
    assert_eq!(
        later,
        PurgeReport { sessions: 2, tokens: 1, login_failures: 2 },
        "{}: the sessions that expired at 101 and ended at 150, the token used at 150, every failure left",
        s.engine
    );
    tx.commit().await.unwrap();
});

contract!(purging_an_empty_store_reports_nothing, |s| {
    let mut tx = s.begin().await;
    assert_eq!(tx.purge_expired(at(100), at(100)).await.unwrap(), PurgeReport::default(), "{}", s.engine);
    tx.commit().await.unwrap();
});
