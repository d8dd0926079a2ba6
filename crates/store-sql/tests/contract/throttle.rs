//! Contract tests: sign-in throttling.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ferry_domain::values::EmailAddress;
use ferry_ports::records::ThrottleKey;

use crate::contract;
use crate::harness::{at, unique};

fn account() -> ThrottleKey {
    ThrottleKey::Account(EmailAddress::parse(&format!("ada{}@example.com", unique())).unwrap())
}

fn address(last: u8) -> ThrottleKey {
    ThrottleKey::Address(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
}

contract!(login_failures_count_only_within_the_window, |s| {
    let key = account();
    let mut tx = s.begin().await;
    for seconds in [10, 20, 30] {
        tx.record_login_failure(std::slice::from_ref(&key), at(seconds)).await.unwrap();
    }
    assert_eq!(tx.login_failures(&key, at(0)).await.unwrap(), 3, "{}: seen in the same transaction", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.login_failures(&key, at(0)).await.unwrap(), 3, "{}: every one", s.engine);
    assert_eq!(tx.login_failures(&key, at(20)).await.unwrap(), 2, "{}: the window includes its start", s.engine);
    assert_eq!(tx.login_failures(&key, at(21)).await.unwrap(), 1, "{}: older ones do not count", s.engine);
    assert_eq!(tx.login_failures(&key, at(31)).await.unwrap(), 0, "{}: none after the last", s.engine);
    assert_eq!(tx.login_failures(&account(), at(0)).await.unwrap(), 0, "{}: an unknown key", s.engine);
});

contract!(login_failures_count_against_each_key_independently, |s| {
    let (ada, bob) = (account(), account());
    let (home, office) = (address(1), address(2));
    let mut tx = s.begin().await;
    tx.record_login_failure(&[ada.clone(), home.clone()], at(10)).await.unwrap();
    tx.record_login_failure(&[ada.clone(), office.clone()], at(11)).await.unwrap();
    tx.record_login_failure(&[bob.clone(), home.clone()], at(12)).await.unwrap();
    // A key given twice counts once; no keys records nothing.
    tx.record_login_failure(&[bob.clone(), bob.clone()], at(13)).await.unwrap();
    tx.record_login_failure(&[], at(14)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    let counts = [(&ada, 2), (&bob, 2), (&home, 2), (&office, 1), (&address(3), 0)];
    for (key, want) in counts {
        assert_eq!(tx.login_failures(key, at(0)).await.unwrap(), want, "{}: {key:?}", s.engine);
    }
    // The same account however it was typed, the same address however it connected.
    let ThrottleKey::Account(email) = &ada else { unreachable!() };
    let shouted = ThrottleKey::Account(EmailAddress::parse(&email.as_str().to_uppercase()).unwrap());
    assert_eq!(tx.login_failures(&shouted, at(0)).await.unwrap(), 2, "{}: addresses are lower-cased", s.engine);
    let mapped = ThrottleKey::Address(IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped()));
    assert_eq!(tx.login_failures(&mapped, at(0)).await.unwrap(), 2, "{}: an IPv4-mapped address", s.engine);
    let v6 = ThrottleKey::Address(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
    assert_eq!(tx.login_failures(&v6, at(0)).await.unwrap(), 0, "{}: another address", s.engine);
});

contract!(clearing_login_failures_forgets_only_that_key, |s| {
    let (ada, bob, home) = (account(), account(), address(7));
    let mut tx = s.begin().await;
    for seconds in 0..3 {
        tx.record_login_failure(&[ada.clone(), home.clone()], at(seconds)).await.unwrap();
        tx.record_login_failure(std::slice::from_ref(&bob), at(seconds)).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    tx.clear_login_failures(&ada).await.unwrap();
    // Clearing again, or a key with no failures, is harmless.
    tx.clear_login_failures(&ada).await.unwrap();
    tx.clear_login_failures(&account()).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.login_failures(&ada, at(0)).await.unwrap(), 0, "{}: cleared", s.engine);
    assert_eq!(tx.login_failures(&home, at(0)).await.unwrap(), 3, "{}: its address still counts", s.engine);
    assert_eq!(tx.login_failures(&bob, at(0)).await.unwrap(), 3, "{}: other accounts still count", s.engine);
    // Counting starts again from nothing.
    tx.record_login_failure(std::slice::from_ref(&ada), at(10)).await.unwrap();
    assert_eq!(tx.login_failures(&ada, at(0)).await.unwrap(), 1, "{}: counting again", s.engine);
});

contract!(a_cleared_key_rolled_back_keeps_its_failures, |s| {
    let key = account();
    let mut tx = s.begin().await;
    tx.record_login_failure(std::slice::from_ref(&key), at(1)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    tx.clear_login_failures(&key).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = s.begin().await;
    tx.record_login_failure(std::slice::from_ref(&key), at(2)).await.unwrap();
    drop(tx);

    let mut tx = s.store_read().await;
    assert_eq!(tx.login_failures(&key, at(0)).await.unwrap(), 1, "{}: only the committed failure", s.engine);
});

contract!(a_reserved_attempt_counts_until_it_is_forgotten, |s| {
    let (ada, home) = (account(), address(9));
    let (first, second) = (crate::harness::id(), crate::harness::id());
    let mut tx = s.begin().await;
    tx.record_login_failure(std::slice::from_ref(&ada), at(1)).await.unwrap();
    // The counts are those before the attempt, in the order of the keys; a key given twice counts once.
    let counts = tx.reserve_login_attempt(first, &[ada.clone(), home.clone(), ada.clone()], at(0), at(2)).await;
    assert_eq!(counts.unwrap(), vec![1, 0, 1], "{}", s.engine);
    tx.commit().await.unwrap();

    let mut tx = s.begin().await;
    let counts = tx.reserve_login_attempt(second, &[ada.clone(), home.clone()], at(0), at(3)).await.unwrap();
    assert_eq!(counts, vec![2, 1], "{}: the first attempt counts", s.engine);
    tx.rollback().await.unwrap();

    let mut tx = s.begin().await;
    assert_eq!(tx.login_failures(&ada, at(0)).await.unwrap(), 2, "{}: a rolled back attempt is not kept", s.engine);
    tx.forget_login_attempt(first).await.unwrap();
    tx.forget_login_attempt(second).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = s.store_read().await;
    assert_eq!(tx.login_failures(&ada, at(0)).await.unwrap(), 1, "{}: only the plain failure stays", s.engine);
    assert_eq!(tx.login_failures(&home, at(0)).await.unwrap(), 0, "{}: forgotten on every key", s.engine);
});
