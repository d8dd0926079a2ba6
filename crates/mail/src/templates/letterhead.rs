//! Who a message comes from, and where its links point.

use std::fmt;

use ferry_domain::ids::PracticeId;
use ferry_domain::practice::Branding;
use ferry_domain::values::{Colour, OrganisationName, PortalUrl};
use ferry_ports::records::PracticeRecord;
use url::Url;
use url::form_urlencoded;

/// The pages of Ferry that messages link to. The HTTP layer serves them at
/// these paths (below the installation's base URL, or inside a practice's
/// portal page, see [`Letterhead::link`]).
pub mod pages {
    /// Accepts an invitation (`?token=`): a file-sharing request from a
    /// practice to a client or an outside party.
    pub const ACCEPT_INVITATION: &str = "/invitations/accept";
    /// Sets a password from a single-use link (`?token=`).
    pub const SET_PASSWORD: &str = "/password/set";
    /// What was sent to me (`?batch=` selects one batch).
    pub const INBOX: &str = "/inbox";
    /// What I sent, with who downloaded it.
    pub const SENT: &str = "/sent";
    /// The practice's allowances and how much of them is used.
    pub const USAGE: &str = "/practice/usage";
    /// The list of clients a user may open (the account switcher).
    pub const CLIENTS: &str = "/clients";
}

/// Why an installation base URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the base URL {reason}")]
pub struct BaseUrlError {
    reason: &'static str,
}

/// The address where the installation's web pages are served, such as
/// `https://ferry.example.com` or `http://127.0.0.1:8080` on a first run.
/// It may have a path (`https://example.com/ferry`), never a query, a
/// fragment or a user name.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Checks a base URL; a trailing `/` is dropped.
    ///
    /// # Errors
    /// [`BaseUrlError`] when it is not an absolute `http` or `https` address
    /// with a host, or has a user name, a query or a fragment.
    pub fn parse(raw: &str) -> Result<Self, BaseUrlError> {
        let url = Url::parse(raw.trim()).map_err(|_| BaseUrlError { reason: "is not an absolute address" })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(BaseUrlError { reason: "must start with http:// or https://" });
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(BaseUrlError { reason: "has no host" });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(BaseUrlError { reason: "must not contain a user name or password" });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BaseUrlError { reason: "must not have a query or a fragment" });
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The address, without a trailing `/`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({})", self.0)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose message it is: the practice's shown name and colour, and where
/// links lead. Build one per practice with [`Letterhead::for_practice`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letterhead {
    practice: Option<PracticeId>,
    name: OrganisationName,
    colour: Option<Colour>,
    portal_url: Option<PortalUrl>,
    base_url: BaseUrl,
}

impl Letterhead {
    /// A practice's letterhead: its display name (else its legal name), its
    /// colour, and its portal URL when it has one, else `base_url`.
    #[must_use]
    pub fn for_practice(
        practice: PracticeId,
        legal_name: &OrganisationName,
        branding: &Branding,
        base_url: &BaseUrl,
    ) -> Self {
        Self {
            practice: Some(practice),
            name: branding.display_name.clone().unwrap_or_else(|| legal_name.clone()),
            colour: branding.colour.clone(),
            portal_url: branding.portal_url.clone(),
            base_url: base_url.clone(),
        }
    }

    /// [`for_practice`](Self::for_practice) from a stored practice.
    #[must_use]
    pub fn from_record(practice: &PracticeRecord, base_url: &BaseUrl) -> Self {
        Self::for_practice(practice.id, &practice.name, &practice.branding, base_url)
    }

    /// The installation's own letterhead, for a message that belongs to no
    /// one practice (such as a password reset by the operator): `name` is
    /// the installation's name, links go to `base_url`.
    #[must_use]
    pub fn installation(name: OrganisationName, base_url: &BaseUrl) -> Self {
        Self { practice: None, name, colour: None, portal_url: None, base_url: base_url.clone() }
    }

    /// The name shown as the sender of the message.
    #[must_use]
    pub fn name(&self) -> &OrganisationName {
        &self.name
    }

    /// The practice, if the message belongs to one.
    #[must_use]
    pub fn practice(&self) -> Option<PracticeId> {
        self.practice
    }

    /// The brand colour, if set.
    #[must_use]
    pub fn colour(&self) -> Option<&Colour> {
        self.colour.as_ref()
    }

    /// The address of Ferry's page `path` (one of [`pages`]) with `query`.
    ///
    /// Without a portal URL it is `{base_url}{path}?{query}`. With one, the
    /// page is named in the fragment of the portal URL:
    /// `{portal_url}#{path}?{query}`; the portal's embedding snippet hands
    /// the fragment to the framed Ferry page. A fragment never reaches the
    /// practice's web server, so tokens in links never land in its logs.
    #[must_use]
    pub fn link(&self, path: &str, query: &[(&str, &str)]) -> String {
        let mut target = path.to_owned();
        if !query.is_empty() {
            target.push('?');
            target.push_str(&form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish());
        }
        match &self.portal_url {
            Some(portal) => {
                let page = portal.as_str().split_once('#').map_or(portal.as_str(), |(page, _)| page);
                format!("{page}#{target}")
            }
            None => format!("{}{target}", self.base_url.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn check_base(raw: &str, expect: Result<&str, &str>) {
        let got = BaseUrl::parse(raw).map(|u| u.0).map_err(|e| e.to_string());
        assert_eq!(got, expect.map(str::to_owned).map_err(str::to_owned), "{raw}");
    }

    #[test]
    fn base_urls_are_checked_and_lose_their_trailing_slash() {
        check_base("https://ferry.example.com/", Ok("https://ferry.example.com"));
        check_base("http://127.0.0.1:8080", Ok("http://127.0.0.1:8080"));
        check_base(" https://example.com/ferry/ ", Ok("https://example.com/ferry"));
        check_base("ftp://example.com", Err("the base URL must start with http:// or https://"));
        check_base("example.com", Err("the base URL is not an absolute address"));
        check_base("https://u:p@example.com", Err("the base URL must not contain a user name or password"));
        check_base("https://example.com/?a=1", Err("the base URL must not have a query or a fragment"));
        check_base("https://example.com/#x", Err("the base URL must not have a query or a fragment"));
    }

    fn letterhead(portal: Option<&str>) -> Letterhead {
        let branding =
            Branding { display_name: None, colour: None, portal_url: portal.map(|p| PortalUrl::parse(p).unwrap()) };
        Letterhead::for_practice(
            PracticeId::from_uuid(Uuid::nil()),
            &OrganisationName::parse("Acme Books").unwrap(),
            &branding,
            &BaseUrl::parse("https://ferry.example.com/").unwrap(),
        )
    }

    #[test]
    fn links_go_to_the_base_url_or_into_the_portal_fragment() {
        let query = [("token", "a b&c=d")];
        assert_eq!(
            letterhead(None).link(pages::SET_PASSWORD, &query),
            "https://ferry.example.com/password/set?token=a+b%26c%3Dd"
        );
        assert_eq!(letterhead(None).link(pages::INBOX, &[]), "https://ferry.example.com/inbox");
        assert_eq!(
            letterhead(Some("https://books.example.com/portal?x=1")).link(pages::SET_PASSWORD, &query),
            "https://books.example.com/portal?x=1#/password/set?token=a+b%26c%3Dd"
        );
        assert_eq!(
            letterhead(Some("https://books.example.com/portal#old")).link(pages::INBOX, &[]),
            "https://books.example.com/portal#/inbox",
            "a fragment already in the portal URL is replaced"
        );
    }
}
