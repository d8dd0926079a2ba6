//! Turning sqlx errors into port errors.

use ferry_ports::StoreError;

/// The error for a failure to reach the database at all.
pub(crate) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Maps an error of a statement about `what` (a noun for messages, such as
/// `email` or `task assignee`) to the port's error.
pub(crate) fn map(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate { what },
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::DanglingReference { what },
        sqlx::Error::Database(db) if db.is_check_violation() => {
            StoreError::Rejected { what, reason: db.message().to_owned() }
        }
        sqlx::Error::Database(db) if is_busy_or_serialization(db.code().as_deref()) => {
            StoreError::Unavailable(db.message().to_owned())
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt { what, reason: e.to_string() }
        }
        other => StoreError::Unknown(format!("{what}: {other}")),
    }
}

/// SQLite's busy and locked codes, and PostgreSQL's serialization and
/// deadlock codes: conditions that may pass if tried again.
fn is_busy_or_serialization(code: Option<&str>) -> bool {
    matches!(code, Some("5" | "6" | "517" | "40001" | "40P01"))
}
