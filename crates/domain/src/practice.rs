//! Practices: the approval workflow, plans and branding (PRODUCT.md rule 1).

use std::fmt;

use crate::ids::PracticeId;
use crate::quota::Bytes;
use crate::values::{Colour, OrganisationName, PortalUrl};

/// Where a practice stands with the operator.
///
/// A practice signs up as [`Pending`](Self::Pending); only an
/// [`Approved`](Self::Approved) practice can invite, be granted access or move
/// files. [`Suspended`](Self::Suspended) locks its users out at once while
/// keeping its data; a [`Rejected`](Self::Rejected) application may re-apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum PracticeStatus {
    /// Applied, waiting for the operator.
    Pending,
    /// Approved by the operator: may work.
    Approved,
    /// Application refused; may re-apply.
    Rejected,
    /// Locked out by the operator; data kept.
    Suspended,
}

/// A change the operator (or the applicant, for re-applying) asks of a practice's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PracticeTransition {
    /// Pending → approved.
    Approve,
    /// Pending → rejected.
    Reject,
    /// Rejected → pending: the applicant applies again.
    Reapply,
    /// Approved → suspended.
    Suspend,
    /// Suspended → approved.
    Reinstate,
}

impl PracticeTransition {
    /// The verb, for messages.
    #[must_use]
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Reapply => "re-apply for",
            Self::Suspend => "suspend",
            Self::Reinstate => "reinstate",
        }
    }
}

/// A practice status change that its current status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a practice that is {from}", .transition.verb())]
pub struct PracticeTransitionError {
    /// The status the practice is in.
    pub from: PracticeStatus,
    /// What was asked.
    pub transition: PracticeTransition,
}

impl PracticeStatus {
    /// The status after `transition`, or why it is not allowed.
    ///
    /// ```
    /// use ferry_domain::practice::{PracticeStatus, PracticeTransition};
    /// let approved = PracticeStatus::Pending.apply(PracticeTransition::Approve).unwrap();
    /// assert_eq!(approved, PracticeStatus::Approved);
    /// let err = approved.apply(PracticeTransition::Approve).unwrap_err();
    /// assert_eq!(err.to_string(), "cannot approve a practice that is approved");
    /// ```
    ///
    /// # Errors
    /// [`PracticeTransitionError`] when the transition does not start from this status.
    pub fn apply(self, transition: PracticeTransition) -> Result<Self, PracticeTransitionError> {
        use PracticeStatus::{Approved, Pending, Rejected, Suspended};
        use PracticeTransition::{Approve, Reapply, Reinstate, Reject, Suspend};
        match (self, transition) {
            (Pending, Approve) | (Suspended, Reinstate) => Ok(Approved),
            (Pending, Reject) => Ok(Rejected),
            (Rejected, Reapply) => Ok(Pending),
            (Approved, Suspend) => Ok(Suspended),
            (from, transition) => Err(PracticeTransitionError { from, transition }),
        }
    }

    /// Whether the practice may work: invite, be granted access, move files,
    /// and let its users in.
    #[must_use]
    pub const fn is_approved(self) -> bool {
        matches!(self, Self::Approved)
    }

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Suspended => "suspended",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Suspended].into_iter().find(|s| s.as_str() == name)
    }
}

impl fmt::Display for PracticeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a practice's plan gives it: seats for admins and staff, and the base
/// storage and throughput allowances (add-ons come on top; see [`crate::quota`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Plan {
    /// How many admins and staff may be active at once.
    pub seat_limit: u32,
    /// Bytes that may be held at any one time.
    pub storage: Bytes,
    /// Bytes that may be uploaded plus downloaded per calendar month (UTC).
    pub throughput: Bytes,
}

impl Plan {
    /// Seats on the free plan.
    pub const DEFAULT_SEATS: u32 = 5;
}

impl Default for Plan {
    /// The free plan: five seats, 250 MB of storage and 500 MB of throughput
    /// a month (megabytes of 10^6 bytes, as the product advertises).
    fn default() -> Self {
        Self { seat_limit: Self::DEFAULT_SEATS, storage: Bytes::DEFAULT_STORAGE, throughput: Bytes::DEFAULT_THROUGHPUT }
    }
}

/// How a practice presents itself to its clients (white label).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Branding {
    /// The name shown instead of the legal name, if set.
    pub display_name: Option<OrganisationName>,
    /// The brand colour used in pages and emails.
    pub colour: Option<Colour>,
    /// The page of the practice's own site that embeds the portal; emails to
    /// its clients link here instead of to the operator's site.
    pub portal_url: Option<PortalUrl>,
}

/// A bookkeeping or accounting practice (firm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    /// Which practice.
    pub id: PracticeId,
    /// Its legal or trading name.
    pub name: OrganisationName,
    /// Where it stands with the operator.
    pub status: PracticeStatus,
    /// Its seats and base allowances.
    pub plan: Plan,
    /// How it presents itself.
    pub branding: Branding,
}

impl Practice {
    /// The name clients see: the display name when set, else the legal name.
    #[must_use]
    pub fn shown_name(&self) -> &OrganisationName {
        self.branding.display_name.as_ref().unwrap_or(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PracticeStatus::*;
    use PracticeTransition::*;

    const ALL_STATUSES: [PracticeStatus; 4] = [Pending, Approved, Rejected, Suspended];
    const ALL_TRANSITIONS: [PracticeTransition; 5] = [Approve, Reject, Reapply, Suspend, Reinstate];

    #[test]
    fn rule1_practice_approval_follows_the_workflow_and_refuses_everything_else() {
        let allowed = [
            (Pending, Approve, Approved),
            (Pending, Reject, Rejected),
            (Rejected, Reapply, Pending),
            (Approved, Suspend, Suspended),
            (Suspended, Reinstate, Approved),
        ];
        for from in ALL_STATUSES {
            for t in ALL_TRANSITIONS {
                let expected = allowed.iter().find(|(f, tr, _)| *f == from && *tr == t).map(|(_, _, to)| *to);
                match expected {
                    Some(to) => assert_eq!(from.apply(t), Ok(to), "{from} {t:?}"),
                    None => assert_eq!(from.apply(t), Err(PracticeTransitionError { from, transition: t })),
                }
            }
        }
    }

    #[test]
    fn rule1_only_an_approved_practice_may_work() {
        for s in ALL_STATUSES {
            assert_eq!(s.is_approved(), s == Approved, "{s}");
        }
    }

    #[test]
    fn status_names_round_trip() {
        for s in ALL_STATUSES {
            assert_eq!(PracticeStatus::from_name(s.as_str()), Some(s));
        }
        assert_eq!(PracticeStatus::from_name("archived"), None);
    }

    #[test]
    fn free_plan_matches_the_product() {
        let plan = Plan::default();
        assert_eq!(plan.storage, Bytes::new(250_000_000));
        assert_eq!(plan.throughput, Bytes::new(500_000_000));
    }
}
