//! Validated value types.
//!
//! Each is built by `parse` returning a `Result`, so an invalid email, name,
//! colour or portal address cannot exist past the edge of the system.

use std::fmt;

/// Why a value was refused. The message names the field and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value was empty or only whitespace.
    #[error("{field} must not be empty")]
    Empty {
        /// The field that was empty.
        field: &'static str,
    },
    /// The value was longer than allowed.
    #[error("{field} must be at most {max} characters")]
    TooLong {
        /// The field that was too long.
        field: &'static str,
        /// The most characters it may have.
        max: usize,
    },
    /// The value contained control characters such as line breaks.
    #[error("{field} must not contain control characters")]
    ControlCharacter {
        /// The field with the control character.
        field: &'static str,
    },
    /// The value had the wrong shape.
    #[error("{field} is not valid: {reason}")]
    Invalid {
        /// The field that was invalid.
        field: &'static str,
        /// What was wrong, in words.
        reason: &'static str,
    },
}

fn check_text(field: &'static str, raw: &str, max: usize) -> Result<String, ValueError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ValueError::Empty { field });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValueError::ControlCharacter { field });
    }
    if trimmed.chars().count() > max {
        return Err(ValueError::TooLong { field, max });
    }
    Ok(trimmed.to_owned())
}

/// An email address, trimmed and lower-cased so that one person has one
/// address whatever case they type it in.
///
/// ```
/// use ferry_domain::values::EmailAddress;
/// let email = EmailAddress::parse("  Ada@Example.COM ").unwrap();
/// assert_eq!(email.as_str(), "ada@example.com");
/// assert!(EmailAddress::parse("ada.example.com").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The longest address SMTP can carry (RFC 5321 path limit less brackets).
    pub const MAX_LEN: usize = 254;

    /// Checks and normalises an email address.
    ///
    /// # Errors
    /// [`ValueError`] naming the field `email` when the address is empty, too
    /// long, has control characters or whitespace, or is not `local@domain`
    /// with a dotted domain.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        const FIELD: &str = "email";
        let text = check_text(FIELD, raw, Self::MAX_LEN)?;
        if text.chars().any(char::is_whitespace) {
            return Err(ValueError::Invalid { field: FIELD, reason: "it contains spaces" });
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(ValueError::Invalid { field: FIELD, reason: "it has no @" });
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(ValueError::Invalid {
                field: FIELD,
                reason: "the part before @ must be 1 to 64 characters without another @",
            });
        }
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(ValueError::Invalid {
                field: FIELD,
                reason: "the part after @ must be a domain such as example.com",
            });
        }
        Ok(Self(text.to_lowercase()))
    }

    /// The normalised address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $field:literal, $max:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
        pub struct $name(String);

        impl $name {
            /// The most characters it may have.
            pub const MAX_CHARS: usize = $max;

            /// Trims and checks the text.
            ///
            /// # Errors
            #[doc = concat!("[`ValueError`] naming the field `", $field, "` when the text is empty, too long or has control characters.")]
            pub fn parse(raw: &str) -> Result<Self, ValueError> {
                check_text($field, raw, $max).map(Self)
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A person's display name.
    PersonName,
    "name",
    200
);
name_type!(
    /// The name of a practice, client or other organisation.
    OrganisationName,
    "organisation name",
    200
);
name_type!(
    /// A short title, such as a task's or a filing's.
    Title,
    "title",
    300
);
name_type!(
    /// Free text written by a person: a comment, a discussion post, a note.
    Text,
    "text",
    20_000
);

/// A practice's brand colour, `#rrggbb`, stored lower-case.
///
/// ```
/// use ferry_domain::values::Colour;
/// assert_eq!(Colour::parse("#1A73E8").unwrap().as_str(), "#1a73e8");
/// assert!(Colour::parse("blue").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct Colour(String);

impl Colour {
    /// Checks a `#rrggbb` colour.
    ///
    /// # Errors
    /// [`ValueError`] naming the field `colour` when it is not `#` and six hex digits.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let text = raw.trim();
        let ok = text.len() == 7 && text.starts_with('#') && text[1..].chars().all(|c| c.is_ascii_hexdigit());
        if ok {
            Ok(Self(text.to_ascii_lowercase()))
        } else {
            Err(ValueError::Invalid { field: "colour", reason: "it must be # and six hex digits, such as #1a73e8" })
        }
    }

    /// The colour as `#rrggbb`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The page of a practice's own web site that embeds the Ferry portal.
///
/// Only `https` addresses are accepted (plain `http` only for `localhost`,
/// for development), because notification emails link to it and the
/// portal lets only its origin frame Ferry's pages.
///
/// ```
/// use ferry_domain::values::PortalUrl;
/// let url = PortalUrl::parse("https://books.example.com/portal?x=1").unwrap();
/// assert_eq!(url.origin(), "https://books.example.com");
/// assert!(PortalUrl::parse("javascript:alert(1)").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortalUrl {
    url: String,
    origin_len: usize,
}

impl PortalUrl {
    /// The longest address accepted.
    pub const MAX_LEN: usize = 2048;

    /// Checks a portal address.
    ///
    /// # Errors
    /// [`ValueError`] naming the field `portal URL` when it is not an
    /// `https://host[:port][/path]` address.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        const FIELD: &str = "portal URL";
        let text = check_text(FIELD, raw, Self::MAX_LEN)?;
        if text.chars().any(|c| c.is_whitespace() || c == '\\') {
            return Err(ValueError::Invalid { field: FIELD, reason: "it contains spaces or backslashes" });
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(ValueError::Invalid { field: FIELD, reason: "it must start with https://" })?;
        let scheme = scheme.to_ascii_lowercase();
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if authority.contains('@') {
            return Err(ValueError::Invalid { field: FIELD, reason: "it must not contain a user name or password" });
        }
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => host,
            Some(_) => return Err(ValueError::Invalid { field: FIELD, reason: "its port is not a number" }),
            None => authority,
        };
        let host_ok = !host.is_empty()
            && host.split('.').all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'));
        if !host_ok {
            return Err(ValueError::Invalid { field: FIELD, reason: "it has no valid host name" });
        }
        let local = host.eq_ignore_ascii_case("localhost");
        if !(scheme == "https" || (scheme == "http" && local)) {
            return Err(ValueError::Invalid { field: FIELD, reason: "it must start with https://" });
        }
        let origin_len = scheme.len() + 3 + authority.len();
        let url = format!("{scheme}://{}{}", authority.to_ascii_lowercase(), &rest[authority_end..]);
        Ok(Self { url, origin_len })
    }

    /// The whole address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// `scheme://host[:port]`: the only origin allowed to frame the portal.
    #[must_use]
    pub fn origin(&self) -> &str {
        &self.url[..self.origin_len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_email(input: &str, expect: Result<&str, &str>) {
        let got = EmailAddress::parse(input);
        match expect {
            Ok(normal) => assert_eq!(got.map(|e| e.0), Ok(normal.to_owned()), "{input}"),
            Err(message) => assert_eq!(got.map_err(|e| e.to_string()), Err(message.to_owned()), "{input}"),
        }
    }

    #[test]
    fn emails_are_normalised_or_refused_with_the_reason() {
        check_email("Ada@Example.com", Ok("ada@example.com"));
        check_email(" bob.smith+tax@books.co.uk\t", Ok("bob.smith+tax@books.co.uk"));
        check_email("", Err("email must not be empty"));
        check_email("a b@example.com", Err("email is not valid: it contains spaces"));
        check_email("ada.example.com", Err("email is not valid: it has no @"));
        check_email("ada@localhost", Err("email is not valid: the part after @ must be a domain such as example.com"));
        check_email("ada@-x.com", Err("email is not valid: the part after @ must be a domain such as example.com"));
        check_email(
            "a@b@c.com",
            Err("email is not valid: the part before @ must be 1 to 64 characters without another @"),
        );
        check_email("a\n@b.com", Err("email must not contain control characters"));
        let long = format!("{}@example.com", "a".repeat(250));
        check_email(&long, Err("email must be at most 254 characters"));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Ada Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert_eq!(PersonName::parse("   "), Err(ValueError::Empty { field: "name" }));
        assert_eq!(
            OrganisationName::parse(&"x".repeat(201)),
            Err(ValueError::TooLong { field: "organisation name", max: 200 })
        );
        assert_eq!(Title::parse("a\u{7}b"), Err(ValueError::ControlCharacter { field: "title" }));
        assert_eq!(PersonName::parse("Zoë Ωmega").unwrap().as_str(), "Zoë Ωmega");
    }

    #[test]
    fn colours_must_be_six_hex_digits() {
        assert!(Colour::parse("#00ff00").is_ok());
        for bad in ["#0f0", "00ff00", "#00ff0g", "#00ff000", ""] {
            assert!(Colour::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn portal_urls_must_be_https_and_expose_their_origin() {
        let url = PortalUrl::parse("HTTPS://Books.Example.com:8443/client-portal").unwrap();
        assert_eq!(url.as_str(), "https://books.example.com:8443/client-portal");
        assert_eq!(url.origin(), "https://books.example.com:8443");
        assert_eq!(PortalUrl::parse("http://localhost:3000").unwrap().origin(), "http://localhost:3000");
        for bad in [
            "http://books.example.com",
            "ftp://books.example.com",
            "https://",
            "https://user:pw@books.example.com",
            "https://books.example.com:port",
            "books.example.com",
            "https://bad host.com",
            "https://a..b",
        ] {
            assert!(PortalUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
