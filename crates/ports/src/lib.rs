//! Ferry's ports: the async traits through which the use cases reach the
//! world. Only domain types and the plain records defined here cross them; no
//! sqlx, object_store or lettre type ever appears in a port.
//!
//! - [`store`]: the database, as a unit of work ([`store::Store`] hands out
//!   [`store::Tx`] transactions; every change of a use case, its audit entry
//!   and its outgoing mail commit together or not at all). `Tx` combines one
//!   trait per aggregate ([`store::PracticeStore`], [`store::PeopleStore`],
//!   ...), all in scope with `use ferry_ports::store::prelude::*;`.
//! - [`blob`]: encrypted, streamed file storage.
//! - [`mail`]: sending one email.
//! - [`clock`]: the time and new ids, so that everything else can be tested
//!   with fixed values.
//!
//! With the `mock` feature the ports have `mockall` mocks, for the tests of
//! crates that call them: `MockStore`, `MockBlobStore`, `MockClock`, ...,
//! and one per aggregate trait of the store (`MockPracticeStore`,
//! `MockPeopleStore`, ...), for code that takes one of those traits (`&mut
//! impl PracticeStore`, `&mut dyn WorkStore`). [`Tx`] itself has no mock: one
//! would repeat every method of every aggregate.

pub mod admin;
pub mod blob;
pub mod clock;
pub mod mail;
pub mod records;
pub mod store;

pub use store::{Store, StoreError, Tx};
