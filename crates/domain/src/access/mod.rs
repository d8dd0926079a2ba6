//! The access decision: facts in, decision out (PRODUCT.md "Access rules").
//!
//! [`decide`] takes who is asking ([`Actor`]), what they want to do
//! ([`Action`]) and the facts about the thing they want to do it to
//! ([`Resource`]), and returns a [`Decision`] that names the [`Rule`] that
//! decided. It never fetches anything: the caller loads the facts fresh for
//! every request, so every change applies on the next request (rule 6).
//!
//! Two layers enforce the bookkeeper portal. Layer 1, the portal boundary, is
//! [`portal_boundary`]: a bookkeeper may only ever perform the actions in
//! [`BOOKKEEPER_ALLOWLIST`], whatever the resource. Layer 2 is the scope
//! check of [`decide`], which also re-applies layer 1 so that it holds even
//! for a caller that forgot the boundary.
//!
//! The rooms: `actions.rs` (every action and its scope), `roles.rs` (the
//! role table), `facts.rs` (what decisions are taken on), `rules.rs` (the
//! rules that explain them), `decision.rs`, `boundary.rs` (layer 1) and
//! `decide.rs` (layer 2).

mod actions;
mod boundary;
mod decide;
mod decision;
mod facts;
mod roles;
mod rules;

pub use actions::{Action, Scope};
pub use boundary::{BOOKKEEPER_ALLOWLIST, portal_boundary};
pub use decide::{can_open_client, decide, explain_client};
pub use decision::{Decision, Denied, Outcome};
pub use facts::{ClientFacts, ConnectionFacts, DocumentFacts, EngagementFacts, Resource, TaskFacts};
pub use rules::Rule;
