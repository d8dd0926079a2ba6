//! The work model: clients' context, filings, tasks, checklists, time,
//! comments and discussion, My Tasks and the dashboard.
//!
//! Every use case goes through the scope checks of [`Work`]: a filing or task
//! of another practice, or of a client out of the caller's scope, is not
//! found; a task action a bookkeeper may not take (someone else's task, a
//! closed filing) is forbidden. Access follows the work (rule 6): filing,
//! cancelling or reopening a filing changes nothing else, because the facts
//! are read afresh on every request.
//!
//! One room per idea: `filings.rs`, `tasks.rs`, `checklist.rs`,
//! `time_entries.rs`, `comments.rs` (task comments and filing discussion),
//! `client.rs` (a client's context), `my_tasks.rs` (My Tasks, the
//! dashboard), `inputs.rs` (what they take, parsed) and `pickers.rs`
//! (assignees and reviewers).

mod checklist;
mod client;
mod comments;
mod filings;
mod inputs;
mod my_tasks;
mod pickers;
mod tasks;
mod time_entries;

pub use inputs::{FilingInput, TaskChange, TaskInput, TimeInput};
