//! Every parser at the edge of the domain takes any input without panicking,
//! and whatever it accepts is normalised and parses again to itself.

use ferry_domain::access::Action;
use ferry_domain::exchange::{MAX_NAME_CHARS, RangeRequest, SNIFF_BYTES, display_name, sniff_content_type};
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

proptest! {
    #[test]
    fn display_name_doesnt_crash_and_is_idempotent(raw in "\\PC{0,300}|[\\x00-\\x7f]{0,40}|.{0,600}") {
        let name = display_name(&raw);
        prop_assert!(!name.is_empty());
        prop_assert!(name.chars().count() <= MAX_NAME_CHARS);
        prop_assert!(!name.contains(['/', '\\']));
        prop_assert!(!name.chars().any(char::is_control));
        prop_assert_eq!(display_name(&name), name.clone());
    }

    #[test]
    fn sniff_content_type_doesnt_crash_and_never_says_html(
        head in proptest::collection::vec(any::<u8>(), 0..SNIFF_BYTES),
        name in "\\PC{0,40}\\.(html|svg|htm|xhtml|js|csv|txt|pdf|xlsx|[a-z]{0,5})",
    ) {
        let kind = sniff_content_type(&head, &name);
        prop_assert!(!kind.contains("html") && !kind.contains("svg") && !kind.contains("javascript"));
    }

    #[test]
    fn range_parse_doesnt_crash_and_resolves_within_the_file(
        raw in "\\PC{0,40}|bytes=[0-9]{0,21}-[0-9]{0,21}|bytes=-[0-9]{0,21}",
        size in 0u64..=u64::MAX,
    ) {
        if let Ok(Some(range)) = RangeRequest::parse(&raw)
            && let Ok(resolved) = range.resolve(size)
        {
            prop_assert!(resolved.start < resolved.end);
            prop_assert!(resolved.end <= size);
        }
    }
}
