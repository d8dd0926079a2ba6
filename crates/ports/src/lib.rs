//! Ferry's ports: the async traits through which the use cases reach the
//! world. Only domain types and the plain records defined here cross them; no
//! sqlx, object_store or lettre type ever appears in a port.
//!
//! - [`store`]: the database, as a unit of work ([`store::Store`] hands out
//!   [`store::Tx`] transactions; every change of a use case, its audit entry
//!   and its outgoing mail commit together or not at all).
//! - [`blob`]: encrypted, streamed file storage.
//! - [`mail`]: sending one email.
//! - [`clock`]: the time and new ids, so that everything else can be tested
//!   with fixed values.
//!
//! With the `mock` feature every trait has a `mockall` mock (`MockStore`,
//! `MockTx`, `MockBlobStore`, ...), for the tests of crates that call them.

pub mod admin;
pub mod blob;
pub mod clock;
pub mod mail;
pub mod records;
pub mod store;

pub use store::{Store, StoreError, Tx};
