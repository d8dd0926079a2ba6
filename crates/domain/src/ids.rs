//! Typed identifiers.
//!
//! Every entity has its own id type so that a client id can never be passed
//! where a user id is expected. Ids are UUIDs (the adapters mint UUIDv7 so they
//! sort by creation time); this crate never generates one itself, because it
//! has no source of randomness or time.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// The error returned when text is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a valid {kind} id")]
pub struct ParseIdError {
    /// Which kind of id was expected, such as `client`.
    pub kind: &'static str,
    /// The text that was given.
    pub input: String,
}

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps a UUID minted by the caller (an id generator port).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// What kind of entity this id names, for messages.
            pub const KIND: &'static str = $kind;
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(s).map(Self).map_err(|_| ParseIdError {
                    kind: $kind,
                    input: s.chars().take(64).collect(),
                })
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

typed_id!(
    /// A practice (firm): a bookkeeping or accounting business.
    PracticeId,
    "practice"
);
typed_id!(
    /// A person who signs in: a practice user, a client user or an outside party.
    UserId,
    "user"
);
typed_id!(
    /// A client business served by practices.
    ClientId,
    "client"
);
typed_id!(
    /// An engagement between a practice and a client.
    EngagementId,
    "engagement"
);
typed_id!(
    /// A file-sharing connection between a practice and an outside party.
    ConnectionId,
    "connection"
);
typed_id!(
    /// A filing (GST/HST, BAS, payroll, ...) of a client.
    FilingId,
    "filing"
);
typed_id!(
    /// A task (filing step) on a filing.
    TaskId,
    "task"
);
typed_id!(
    /// An item of a task's checklist.
    ChecklistItemId,
    "checklist item"
);
typed_id!(
    /// A time entry logged on a task.
    TimeEntryId,
    "time entry"
);
typed_id!(
    /// A comment on a task or a post in a filing's discussion.
    CommentId,
    "comment"
);
typed_id!(
    /// A file exchanged through Ferry.
    DocumentId,
    "document"
);
typed_id!(
    /// A batch of files sent together (one notification per recipient).
    BatchId,
    "batch"
);
typed_id!(
    /// A purchased allowance add-on recorded by the operator.
    AddOnId,
    "add-on"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let uuid = Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001);
        let id = ClientId::from_uuid(uuid);
        let parsed: ClientId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.as_uuid(), uuid);
    }

    #[test]
    fn bad_id_text_names_the_kind_and_input() {
        let err = "not-a-uuid".parse::<TaskId>().unwrap_err();
        assert_eq!(err.to_string(), "`not-a-uuid` is not a valid task id");
    }
}
