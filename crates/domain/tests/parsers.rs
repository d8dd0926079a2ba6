//! Every parser at the edge of the domain takes any input without panicking,
//! and whatever it accepts is normalised and parses again to itself.

use ferry_domain::access::Action;
use ferry_domain::ids::ClientId;
use ferry_domain::values::{Colour, EmailAddress, OrganisationName, PersonName, PortalUrl, Text, Title};
use ferry_domain::work::FilingKind;
use proptest::prelude::*;

proptest! {
    #[test]
    fn email_parse_doesnt_crash_and_is_idempotent(raw in "\\PC{0,80}|[a-zA-Z0-9.+_-]{1,20}@[a-zA-Z0-9-]{1,10}\\.[a-z]{2,4}") {
        if let Ok(email) = EmailAddress::parse(&raw) {
            prop_assert_eq!(EmailAddress::parse(email.as_str()), Ok(email.clone()));
            prop_assert_eq!(email.as_str().to_lowercase(), email.as_str());
        }
    }

    #[test]
    fn portal_url_parse_doesnt_crash_and_is_idempotent(raw in "\\PC{0,60}|https://[a-zA-Z0-9.-]{1,20}(:[0-9]{1,5})?(/\\PC{0,20})?") {
        if let Ok(url) = PortalUrl::parse(&raw) {
            prop_assert_eq!(PortalUrl::parse(url.as_str()), Ok(url.clone()));
            prop_assert!(url.as_str().starts_with(url.origin()));
            prop_assert!(url.origin().starts_with("https://") || url.origin().starts_with("http://localhost"));
        }
    }

    #[test]
    fn names_and_texts_parse_doesnt_crash(raw in "\\PC*|[\\x00-\\x20]{0,5}") {
        let accepted = [
            PersonName::parse(&raw).map(|v| v.to_string()),
            OrganisationName::parse(&raw).map(|v| v.to_string()),
            Title::parse(&raw).map(|v| v.to_string()),
            Text::parse(&raw).map(|v| v.to_string()),
        ];
        for text in accepted.into_iter().flatten() {
            prop_assert_eq!(text.trim(), text.as_str());
            prop_assert!(!text.is_empty());
            prop_assert!(!text.chars().any(char::is_control));
        }
    }

    #[test]
    fn other_parsers_doesnt_crash(raw in "\\PC{0,50}") {
        let _ = Colour::parse(&raw);
        let _ = FilingKind::parse(&raw);
        let _ = raw.parse::<ClientId>();
        let _ = Action::from_name(&raw);
    }
}
