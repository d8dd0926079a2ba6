//! Ferry's rules, as a pure library.
//!
//! Ferry is secure file exchange and delegated access for bookkeeping
//! practices and the businesses they serve. This crate holds the rules of the
//! product — who may see and do what, consent between practices and clients,
//! the work model, seats and quotas — with no async, no I/O, no clock and no
//! randomness: time and ids come in as arguments, and facts come in from
//! whatever store the embedding service has. The same inputs always give the
//! same answer, and every answer names the rule that gave it.
//!
//! # Embedding the access rules
//!
//! Load the facts about one (user, client) pair from your own store, then ask:
//!
//! ```
//! use ferry_domain::access::{decide, Action, ClientFacts, Outcome, Resource};
//! use ferry_domain::consent::ConsentState;
//! use ferry_domain::ids::{ClientId, PracticeId, UserId};
//! use ferry_domain::people::{Actor, PracticeUser, Role};
//! use ferry_domain::practice::PracticeStatus;
//! use uuid::Uuid;
//!
//! // Your service looks these up per request (never cache them: access
//! // follows the work, and a change must apply on the next request).
//! let staff = Actor::Practice(PracticeUser {
//!     user: UserId::from_uuid(Uuid::from_u128(1)),
//!     practice: PracticeId::from_uuid(Uuid::from_u128(2)),
//!     role: Role::Staff,
//!     active: true,
//!     practice_status: PracticeStatus::Approved,
//! });
//! let facts = ClientFacts {
//!     client: ClientId::from_uuid(Uuid::from_u128(3)),
//!     engagement: Some(ConsentState::Active),
//!     assigned: true,
//!     active_tasks_held: 0,
//!     membership: None,
//! };
//!
//! let decision = decide(&staff, Action::CreateFiling, Resource::Client(&facts));
//! assert!(decision.is_allowed());
//! assert_eq!(decision.to_string(),
//!     "allow: an admin assigned the client to this staff member [rule 4, staff_assigned_to_client]");
//!
//! // Out-of-scope objects are "not found", so their existence does not leak.
//! let stranger = ClientFacts::unrelated(ClientId::from_uuid(Uuid::from_u128(4)));
//! let decision = decide(&staff, Action::ViewClient, Resource::Client(&stranger));
//! assert_eq!(decision.outcome, Outcome::NotFound);
//! ```
//!
//! # Map
//!
//! - [`access`]: the decision ([`access::decide`]), the bookkeeper allowlist
//!   (layer 1) and the rules that explain every answer.
//! - [`people`]: roles, actors and seats.
//! - [`practice`]: the approval workflow, plans and branding.
//! - [`consent`]: engagements and connections as consent state machines.
//! - [`work`]: filings, tasks, reviewers, time and the dashboard.
//! - [`quota`]: storage and throughput allowances and reservations.
//! - [`exchange`]: whom a sender may send files to, who appears in which
//!   picker, and the parsers at a transfer's edge (file names, content
//!   types, byte ranges).
//! - [`values`]: validated emails, names, colours and portal addresses.
//! - [`ids`]: typed identifiers.

pub mod access;
pub mod consent;
pub mod exchange;
pub mod ids;
pub mod people;
pub mod practice;
pub mod quota;
pub mod values;
pub mod work;
