//! What a use case can answer instead of a result.

use ferry_domain::access::{Denied, Rule};
use ferry_domain::people::SeatLimitReached;
use ferry_domain::quota::QuotaExceeded;
use ferry_domain::values::ValueError;
use ferry_ports::StoreError;

/// Why a use case did not happen. Nothing was changed in every case.
///
/// Each variant has a stable machine [`code`](AppError::code); the message
/// is for people and never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session: sign in first.
    #[error("sign in first: the session is missing, expired or ended")]
    Unauthenticated,
    /// Wrong email or password.
    #[error("the email address or password is wrong")]
    BadCredentials,
    /// Too many attempts of one kind: failed sign-ins for this account or
    /// address, or password reset requests for this email or network address.
    #[error("too many {of}; try again in {retry_after_secs} seconds")]
    Throttled {
        /// When to try again.
        retry_after_secs: u64,
        /// Which attempts.
        of: Attempts,
    },
    /// A single-use link was wrong, used or expired.
    #[error("the link is invalid, already used or expired; ask for a new one")]
    InvalidToken,
    /// The account is deactivated, or its practice is not open for use.
    #[error("{0}")]
    AccountLocked(String),
    /// The user must accept the current terms of use first.
    #[error("accept the terms of use (version {version}) first")]
    TermsNotAccepted {
        /// The version to accept.
        version: u32,
    },
    /// The object does not exist or is out of the caller's scope; which one is not told.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, such as `client`.
        what: &'static str,
        /// The rule that put the object out of scope, when the domain decided
        /// (`None` for nothing by that id, or a check of the use case's own).
        /// For the audit log; never told to the caller.
        rule: Option<Rule>,
    },
    /// The caller can see the object but may not do this.
    #[error("not allowed: {rule}")]
    Forbidden {
        /// The rule that refused.
        rule: Rule,
    },
    /// The input is wrong; `field` names it where one field is to blame.
    #[error("{message}")]
    Invalid {
        /// The field to blame, as named in the request.
        field: Option<String>,
        /// What is wrong, in words.
        message: String,
    },
    /// The change clashes with the current state (taken, already done, changed meanwhile).
    #[error("{message}")]
    Conflict {
        /// What clashed, in words.
        message: String,
    },
    /// Adding the person would go over the seat limit (rule 7).
    #[error(transparent)]
    SeatLimit(#[from] SeatLimitReached),
    /// A transfer does not fit in an allowance (rule 8).
    #[error(transparent)]
    Quota(#[from] QuotaExceeded),
    /// A backend is down or overloaded; the same call may succeed later.
    #[error("the service is temporarily unavailable; try again shortly")]
    Unavailable(String),
    /// The requested byte range lies outside the file.
    #[error("the requested range is outside the file of {size} bytes")]
    RangeNotSatisfiable {
        /// The file's size.
        size: u64,
    },
    /// The bytes received do not match the checksum sent with them; they were not kept.
    #[error("the bytes received do not match the checksum sent with them; nothing was kept, send them again")]
    ChecksumMismatch,
    /// A bug or broken data; details go to the log, not to the caller.
    #[error("something went wrong on our side; it has been logged")]
    Internal(String),
}

/// What kind of attempts were throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempts {
    /// Failed sign-ins.
    SignIn,
    /// Password reset requests.
    PasswordReset,
}

impl std::fmt::Display for Attempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::SignIn => "failed sign-ins",
            Self::PasswordReset => "password reset requests",
        })
    }
}

impl AppError {
    /// The stable machine code of the error.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad_credentials",
            Self::Throttled { .. } => "throttled",
            Self::InvalidToken => "invalid_token",
            Self::AccountLocked(_) => "account_locked",
            Self::TermsNotAccepted { .. } => "terms_not_accepted",
            Self::NotFound { .. } => "not_found",
            Self::Forbidden { .. } => "forbidden",
            Self::Invalid { .. } => "invalid",
            Self::Conflict { .. } => "conflict",
            Self::SeatLimit(_) => "seat_limit_reached",
            Self::Quota(_) => "quota_exceeded",
            Self::Unavailable(_) => "unavailable",
            Self::RangeNotSatisfiable { .. } => "range_not_satisfiable",
            Self::ChecksumMismatch => "checksum_mismatch",
            Self::Internal(_) => "internal",
        }
    }

    /// The field to blame, if any.
    #[must_use]
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// An input error on `field`.
    #[must_use]
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid { field: Some(field.to_owned()), message: message.into() }
    }

    /// A clash with the current state.
    #[must_use]
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into() }
    }

    /// Nothing called `what` was found, with no domain rule behind it.
    #[must_use]
    pub const fn not_found(what: &'static str) -> Self {
        Self::NotFound { what, rule: None }
    }

    /// A refusal of the domain, for the object called `what`; it keeps the rule that decided.
    #[must_use]
    pub const fn denied(what: &'static str, denied: Denied) -> Self {
        match denied {
            Denied::NotFound(rule) => Self::NotFound { what, rule: Some(rule) },
            Denied::Forbidden(rule) => Self::Forbidden { rule },
        }
    }

    /// The domain rule that decided this refusal, for the audit log: the one
    /// a `forbidden` names, or the one that hid a `not_found` object.
    #[must_use]
    pub const fn rule(&self) -> Option<Rule> {
        match self {
            Self::Forbidden { rule } => Some(*rule),
            Self::NotFound { rule, .. } => *rule,
            _ => None,
        }
    }

    /// A domain value error, renamed to the request's field name.
    #[must_use]
    pub fn value(field: &str, error: &ValueError) -> Self {
        let message = error.to_string();
        // The domain names its own field ("name", "email"); the request may call it otherwise.
        let message = match error {
            ValueError::Empty { field: f }
            | ValueError::TooLong { field: f, .. }
            | ValueError::ControlCharacter { field: f }
            | ValueError::Invalid { field: f, .. } => message.replacen(f, field, 1),
        };
        Self::invalid(field, message)
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound { entity } => Self::not_found(entity),
            StoreError::Duplicate { what } => Self::conflict(format!("{what} is already taken")),
            StoreError::Conflict { entity } => {
                Self::conflict(format!("the {entity} was changed by someone else; reload and try again"))
            }
            StoreError::DanglingReference { what } => Self::invalid(what, format!("{what} does not exist")),
            StoreError::Unavailable(reason) => Self::Unavailable(reason),
            StoreError::Rejected { what, .. } if what.contains("cursor") => {
                Self::invalid("after", "after is not a cursor returned by this list; start from the first page")
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<ferry_ports::store::ReserveError> for AppError {
    fn from(error: ferry_ports::store::ReserveError) -> Self {
        match error {
            ferry_ports::store::ReserveError::Exceeded(exceeded) => Self::Quota(exceeded),
            ferry_ports::store::ReserveError::Store(store) => store.into(),
        }
    }
}

impl From<ferry_ports::blob::BlobError> for AppError {
    fn from(error: ferry_ports::blob::BlobError) -> Self {
        use ferry_ports::blob::BlobError;
        match error {
            BlobError::Unavailable(reason) => Self::Unavailable(format!("file storage: {reason}")),
            BlobError::RangeNotSatisfiable => Self::Internal("a checked range was refused by file storage".into()),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Parses a domain value, naming the request's `field` on failure.
pub(crate) fn parse<T>(
    field: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, ValueError>,
) -> Result<T, AppError> {
    parse(raw).map_err(|e| AppError::value(field, &e))
}
