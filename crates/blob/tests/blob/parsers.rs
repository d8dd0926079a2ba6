//! Parsers of configuration never panic, whatever they are given.

use ferry_blob::{BlobLocation, Keyring};
use ferry_ports::blob::BlobKey;
use proptest::prelude::*;

proptest! {
    #[test]
    fn keyring_parser_doesnt_crash(config in "\\PC*") {
        let _ = Keyring::parse(&config);
    }

    #[test]
    fn keyring_parser_doesnt_crash_on_near_misses(
        entries in prop::collection::vec(("[a-z0-9:._ -]{0,40}", "[A-Za-z0-9+/=:]{0,60}"), 0..4),
    ) {
        let config = entries.iter().map(|(id, key)| format!("{id}:{key}")).collect::<Vec<_>>().join(",");
        if let Ok(ring) = Keyring::parse(&config) {
            prop_assert!(ring.ids().count() >= 1);
        }
    }

    #[test]
    fn location_parser_doesnt_crash(url in "(file|s3|memory|http)?(:/{0,3})?\\PC*") {
        let _ = BlobLocation::parse(&url);
    }

    #[test]
    fn blob_key_parser_doesnt_crash(key in "\\PC*") {
        if let Ok(parsed) = BlobKey::parse(&key) {
            prop_assert_eq!(parsed.as_str(), key.as_str());
        }
    }
}
