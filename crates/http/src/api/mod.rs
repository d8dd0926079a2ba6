//! The operations of `/api/v1`, grouped as in `docs/API.md`. Each handler
//! parses its input, calls one ferry-app use case with the caller, and maps
//! the result; it holds no rule of its own.

mod accounts;
mod consent;
mod dto;
mod files;
mod people;
mod practices;
mod work;

pub use dto::*;

use ferry_app::App;
use poem_openapi::Tags;

use crate::HttpConfig;

/// Groups of operations in the OpenAPI document.
#[derive(Debug, Tags)]
pub enum Tag {
    /// Signing in and out, passwords, and the signed-in user.
    Accounts,
    /// Practices: applying, settings, usage.
    Practices,
    /// A practice's people, assignments and pickers.
    People,
    /// Engagements with clients, connections with outside parties, client colleagues.
    Consent,
    /// Clients, filings, tasks and discussion.
    Work,
    /// Files: inbox, outbox, documents, transfers.
    Files,
}

/// Every API group.
pub(crate) type Apis = (
    accounts::AccountsApi,
    practices::PracticesApi,
    people::PeopleApi,
    consent::ConsentApi,
    work::ClientsApi,
    work::FilingsApi,
    work::TasksApi,
    work::MyWorkApi,
    files::FilesApi,
);

/// Builds every API group over `app`.
#[must_use]
pub(crate) fn apis(app: &App, config: &HttpConfig) -> Apis {
    (
        accounts::AccountsApi { app: app.clone(), config: config.clone() },
        practices::PracticesApi { app: app.clone() },
        people::PeopleApi { app: app.clone() },
        consent::ConsentApi { app: app.clone() },
        work::ClientsApi { app: app.clone() },
        work::FilingsApi { app: app.clone() },
        work::TasksApi { app: app.clone() },
        work::MyWorkApi { app: app.clone() },
        files::FilesApi { app: app.clone() },
    )
}
