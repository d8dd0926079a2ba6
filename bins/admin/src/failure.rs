//! Why a command did not succeed, and its exit code.

use std::process::ExitCode;

use ferry_app::AppError;

use crate::settings::SettingError;

/// A command's failure. Each message says what was wrong and what to do next.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The operation was refused: not found, not allowed now, a rule said no (exit code 1).
    Refused(String),
    /// The command line is wrong (exit code 2).
    Usage(String),
    /// A setting cannot be used, or the database or file store cannot be reached (exit code 2).
    Backend(String),
}

impl Failure {
    /// Prints the message on standard error and gives the exit code.
    pub(crate) fn report(self) -> ExitCode {
        let (message, code) = match self {
            Self::Refused(m) => (m, 1),
            Self::Usage(m) | Self::Backend(m) => (m, 2),
        };
        eprintln!("ferry-admin: {message}");
        ExitCode::from(code)
    }

    /// An application error, with a hint for the operator.
    pub(crate) fn app(error: AppError, hint: &str) -> Self {
        let message = error.to_string();
        match error {
            AppError::Invalid { .. } => Self::Usage(message),
            AppError::Unavailable(reason) => Self::Backend(format!(
                "the database or file store cannot be reached: {reason}; check the settings \
                 (--database-url, --blob-url) and that the backend is up, then try again"
            )),
            AppError::Internal(reason) => {
                Self::Refused(format!("unexpected failure: {reason}; run `ferry-admin check` and report it"))
            }
            AppError::NotFound { .. } if !hint.is_empty() => Self::Refused(format!("{message}; {hint}")),
            _ => Self::Refused(message),
        }
    }
}

impl From<SettingError> for Failure {
    fn from(error: SettingError) -> Self {
        Self::Backend(error.to_string())
    }
}

impl From<ferry_installation::OpenError> for Failure {
    fn from(error: ferry_installation::OpenError) -> Self {
        Self::Backend(error.to_string())
    }
}
