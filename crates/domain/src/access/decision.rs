//! What a decision says: the outcome, the rule that decided, and a
//! refusal as an error for `?`.

use super::Rule;
use std::fmt;

/// What happens to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Go ahead.
    Allow,
    /// Refuse as if the resource did not exist: it is out of the actor's
    /// scope, and its existence must not leak.
    NotFound,
    /// Refuse openly: the actor can see the resource but may not do this.
    Forbidden,
}

/// The answer of [`decide`]: what happens, and the rule that decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Decision {
    /// Allow, or how to refuse.
    pub outcome: Outcome,
    /// The rule that decided.
    pub rule: Rule,
}

impl Decision {
    pub(super) const fn allow(rule: Rule) -> Self {
        Self { outcome: Outcome::Allow, rule }
    }

    pub(super) const fn not_found(rule: Rule) -> Self {
        Self { outcome: Outcome::NotFound, rule }
    }

    pub(super) const fn forbidden(rule: Rule) -> Self {
        Self { outcome: Outcome::Forbidden, rule }
    }

    /// Whether the action may go ahead.
    #[must_use]
    pub const fn is_allowed(&self) -> bool {
        matches!(self.outcome, Outcome::Allow)
    }

    /// `Ok` with the granting rule, or the refusal as an error.
    ///
    /// # Errors
    /// [`Denied`] carrying whether to answer "not found" or "forbidden", and why.
    pub const fn into_result(self) -> Result<Rule, Denied> {
        match self.outcome {
            Outcome::Allow => Ok(self.rule),
            Outcome::NotFound => Err(Denied::NotFound(self.rule)),
            Outcome::Forbidden => Err(Denied::Forbidden(self.rule)),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.outcome {
            Outcome::Allow => "allow",
            Outcome::NotFound => "deny (not found)",
            Outcome::Forbidden => "deny (forbidden)",
        };
        write!(f, "{verdict}: {}", self.rule.cited())
    }
}

/// A refused request, as an error for `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// Out of scope: answer as if it did not exist.
    #[error("not found")]
    NotFound(Rule),
    /// Visible, but the action is not allowed.
    #[error("not allowed: {0}")]
    Forbidden(Rule),
}
