//! Engagements and connections: consent state machines (PRODUCT.md rules 2 and 3).
//!
//! An *engagement* joins a practice and a client; a *connection* joins a
//! practice and an outside party. Both are made by one side and accepted by
//! the other, may be declined by the side that was asked, and revoked by
//! either; after a decline or a revocation either side may ask again.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::practice::PracticeStatus;

/// One of the two sides of an engagement or connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(rename_all = "snake_case"))]
pub enum Side {
    /// The practice (acting through an admin).
    Practice,
    /// The client (through its owner) or the outside party.
    Counterparty,
}

impl Side {
    /// The side across from this one.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::Practice => Self::Counterparty,
            Self::Counterparty => Self::Practice,
        }
    }

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Practice => "practice",
            Self::Counterparty => "counterparty",
        }
    }
}

/// Where an engagement or connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case", tag = "state")
)]
pub enum ConsentState {
    /// Asked for by `by`, waiting for the other side.
    Requested {
        /// Who asked.
        by: Side,
    },
    /// Accepted by both sides: files may move, access rules apply.
    Active,
    /// Refused by `by`, the side that was asked.
    Declined {
        /// Who declined.
        by: Side,
    },
    /// Ended by `by`: a withdrawn request or an ended engagement.
    Revoked {
        /// Who ended it.
        by: Side,
    },
}

/// What one side does to an engagement or connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentEvent {
    /// Ask for (or ask again for) the relationship.
    Request,
    /// Accept the other side's request.
    Accept,
    /// Refuse the other side's request.
    Decline,
    /// End the relationship, or withdraw one's own request.
    Revoke,
}

/// A consent change that is not allowed from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// Asking again while it is already active.
    #[error("it is already active")]
    AlreadyActive,
    /// Asking while a request is already waiting.
    #[error("a request is already waiting for an answer")]
    AlreadyRequested,
    /// Accepting or declining one's own request.
    #[error("a request can only be answered by the other side")]
    OwnRequest,
    /// Accepting, declining or revoking when there is nothing to act on.
    #[error("there is no request waiting for an answer")]
    NothingToAnswer,
    /// Revoking what is not active and not a waiting request of one's own.
    #[error("there is nothing to end")]
    NothingToEnd,
    /// Asking or accepting while the practice is not approved (rule 1).
    #[error("the practice is {0}, and only an approved practice can be engaged")]
    PracticeNotApproved(PracticeStatus),
}

impl ConsentState {
    /// Applies `event` done by `by` to the current state (`None` when the two
    /// sides have never been related).
    ///
    /// ```
    /// use ferry_domain::consent::{ConsentEvent::*, ConsentState, Side};
    /// let asked = ConsentState::apply(None, Request, Side::Practice).unwrap();
    /// let active = ConsentState::apply(Some(asked), Accept, Side::Counterparty).unwrap();
    /// assert_eq!(active, ConsentState::Active);
    /// let ended = ConsentState::apply(Some(active), Revoke, Side::Counterparty).unwrap();
    /// // Either side may ask again after it ended.
    /// assert!(ConsentState::apply(Some(ended), Request, Side::Practice).is_ok());
    /// ```
    ///
    /// # Errors
    /// [`ConsentError`] naming why the event does not fit the state.
    pub fn apply(current: Option<Self>, event: ConsentEvent, by: Side) -> Result<Self, ConsentError> {
        use ConsentEvent::{Accept, Decline, Request, Revoke};
        match (current, event) {
            (None | Some(Self::Declined { .. } | Self::Revoked { .. }), Request) => Ok(Self::Requested { by }),
            (Some(Self::Active), Request) => Err(ConsentError::AlreadyActive),
            (Some(Self::Requested { .. }), Request) => Err(ConsentError::AlreadyRequested),
            (Some(Self::Requested { by: asker }), Accept | Decline) if asker == by => Err(ConsentError::OwnRequest),
            (Some(Self::Requested { .. }), Accept) => Ok(Self::Active),
            (Some(Self::Requested { .. }), Decline) => Ok(Self::Declined { by }),
            (_, Accept | Decline) => Err(ConsentError::NothingToAnswer),
            (Some(Self::Active), Revoke) => Ok(Self::Revoked { by }),
            (Some(Self::Requested { by: asker }), Revoke) if asker == by => Ok(Self::Revoked { by }),
            (Some(Self::Requested { .. }), Revoke) => Err(ConsentError::NothingToEnd),
            (None | Some(Self::Declined { .. } | Self::Revoked { .. }), Revoke) => Err(ConsentError::NothingToEnd),
        }
    }

    /// Like [`apply`](Self::apply), and also refuses to request or accept
    /// while the practice is not approved (rule 1). Declining and revoking
    /// stay possible whatever the practice's status, so a client can always
    /// end access.
    ///
    /// # Errors
    /// [`ConsentError::PracticeNotApproved`], or what [`apply`](Self::apply) returns.
    pub fn apply_for_practice(
        current: Option<Self>,
        event: ConsentEvent,
        by: Side,
        practice: PracticeStatus,
    ) -> Result<Self, ConsentError> {
        if matches!(event, ConsentEvent::Request | ConsentEvent::Accept) && !practice.is_approved() {
            return Err(ConsentError::PracticeNotApproved(practice));
        }
        Self::apply(current, event, by)
    }

    /// Whether files may move and practice-side access may follow.
    #[must_use]
    pub const fn is_active(self) -> bool {
        matches!(self, Self::Active)
    }

    /// The stable lower-case name used in storage and APIs.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Requested { .. } => "requested",
            Self::Active => "active",
            Self::Declined { .. } => "declined",
            Self::Revoked { .. } => "revoked",
        }
    }

    /// The side named with the state (who asked, declined or ended it).
    #[must_use]
    pub const fn by(self) -> Option<Side> {
        match self {
            Self::Requested { by } | Self::Declined { by } | Self::Revoked { by } => Some(by),
            Self::Active => None,
        }
    }

    /// Rebuilds a state from [`name`](Self::name) and [`by`](Self::by), as stored.
    #[must_use]
    pub fn from_parts(name: &str, by: Option<Side>) -> Option<Self> {
        match (name, by) {
            ("requested", Some(by)) => Some(Self::Requested { by }),
            ("active", None) => Some(Self::Active),
            ("declined", Some(by)) => Some(Self::Declined { by }),
            ("revoked", Some(by)) => Some(Self::Revoked { by }),
            _ => None,
        }
    }
}

impl fmt::Display for ConsentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.by() {
            Some(by) => write!(f, "{} by the {}", self.name(), by.as_str()),
            None => f.write_str(self.name()),
        }
    }
}

/// How long the files exchanged over an ended engagement or connection stay
/// available to the other side before they are deleted.
pub const RETENTION_AFTER_END: Duration = Duration::days(30);

/// When the files of a relationship that ended at `ended_at` are due for
/// deletion. Re-engaging before then keeps them.
#[must_use]
pub fn files_expire_at(ended_at: OffsetDateTime) -> OffsetDateTime {
    ended_at + RETENTION_AFTER_END
}

/// Whether the other side (a client's users, an outside party) still keeps
/// the files exchanged over a relationship in `state`, whose state last
/// changed at `changed_at`: while it is active, and until
/// [`files_expire_at`] after it left the active state ("Retention").
/// Re-engaging before then keeps them.
#[must_use]
pub fn files_kept(state: ConsentState, changed_at: OffsetDateTime, now: OffsetDateTime) -> bool {
    state.is_active() || now < files_expire_at(changed_at)
}

#[cfg(test)]
mod tests {
    use super::ConsentEvent::*;
    use super::Side::*;
    use super::*;

    fn states() -> Vec<Option<ConsentState>> {
        let mut all = vec![None, Some(ConsentState::Active)];
        for by in [Practice, Counterparty] {
            all.push(Some(ConsentState::Requested { by }));
            all.push(Some(ConsentState::Declined { by }));
            all.push(Some(ConsentState::Revoked { by }));
        }
        all
    }

    #[test]
    fn rule2_engagement_is_requested_by_one_side_and_accepted_by_the_other() {
        for asker in [Practice, Counterparty] {
            let asked = ConsentState::apply(None, Request, asker).unwrap();
            assert_eq!(ConsentState::apply(Some(asked), Accept, asker), Err(ConsentError::OwnRequest));
            assert_eq!(ConsentState::apply(Some(asked), Accept, asker.other()), Ok(ConsentState::Active));
            assert_eq!(
                ConsentState::apply(Some(asked), Decline, asker.other()),
                Ok(ConsentState::Declined { by: asker.other() })
            );
        }
    }

    #[test]
    fn rule2_either_side_may_end_an_active_engagement() {
        for by in [Practice, Counterparty] {
            assert_eq!(ConsentState::apply(Some(ConsentState::Active), Revoke, by), Ok(ConsentState::Revoked { by }));
        }
    }

    #[test]
    fn rule2_a_request_may_be_made_again_after_decline_or_revoke() {
        for state in states() {
            let again = ConsentState::apply(state, Request, Practice);
            match state {
                None | Some(ConsentState::Declined { .. } | ConsentState::Revoked { .. }) => {
                    assert_eq!(again, Ok(ConsentState::Requested { by: Practice }));
                }
                Some(ConsentState::Active) => assert_eq!(again, Err(ConsentError::AlreadyActive)),
                Some(ConsentState::Requested { .. }) => assert_eq!(again, Err(ConsentError::AlreadyRequested)),
            }
        }
    }

    #[test]
    fn rule2_only_the_asker_may_withdraw_a_waiting_request() {
        let asked = Some(ConsentState::Requested { by: Counterparty });
        assert_eq!(ConsentState::apply(asked, Revoke, Counterparty), Ok(ConsentState::Revoked { by: Counterparty }));
        assert_eq!(ConsentState::apply(asked, Revoke, Practice), Err(ConsentError::NothingToEnd));
    }

    #[test]
    fn rule2_answers_need_a_waiting_request() {
        for state in states() {
            if matches!(state, Some(ConsentState::Requested { .. })) {
                continue;
            }
            for by in [Practice, Counterparty] {
                assert_eq!(ConsentState::apply(state, Accept, by), Err(ConsentError::NothingToAnswer));
                assert_eq!(ConsentState::apply(state, Decline, by), Err(ConsentError::NothingToAnswer));
            }
        }
    }

    #[test]
    fn rule1_only_an_approved_practice_can_be_engaged() {
        for status in [PracticeStatus::Pending, PracticeStatus::Rejected, PracticeStatus::Suspended] {
            assert_eq!(
                ConsentState::apply_for_practice(None, Request, Counterparty, status),
                Err(ConsentError::PracticeNotApproved(status))
            );
            let asked = Some(ConsentState::Requested { by: Practice });
            assert_eq!(
                ConsentState::apply_for_practice(asked, Accept, Counterparty, status),
                Err(ConsentError::PracticeNotApproved(status))
            );
            // The client can always walk away.
            assert_eq!(
                ConsentState::apply_for_practice(Some(ConsentState::Active), Revoke, Counterparty, status),
                Ok(ConsentState::Revoked { by: Counterparty })
            );
        }
    }

    #[test]
    fn states_round_trip_through_their_stored_parts() {
        for state in states().into_iter().flatten() {
            assert_eq!(ConsentState::from_parts(state.name(), state.by()), Some(state));
        }
        assert_eq!(ConsentState::from_parts("active", Some(Practice)), None);
    }

    #[test]
    fn files_of_an_ended_relationship_are_kept_thirty_days() {
        let ended = time::macros::datetime!(2026-01-31 12:00 UTC);
        assert_eq!(files_expire_at(ended), time::macros::datetime!(2026-03-02 12:00 UTC));
    }

    #[test]
    fn retention_keeps_the_files_for_30_days_after_the_end() {
        let ended = time::macros::datetime!(2026-01-31 12:00 UTC);
        let revoked = ConsentState::Revoked { by: Practice };
        assert!(files_kept(ConsentState::Active, ended - Duration::days(400), ended));
        assert!(files_kept(revoked, ended, ended + Duration::days(29)));
        assert!(!files_kept(revoked, ended, files_expire_at(ended)));
        assert!(!files_kept(revoked, ended, ended + Duration::days(31)));
    }
}
