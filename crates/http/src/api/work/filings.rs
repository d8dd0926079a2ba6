//! Filings: listed and created for a client, read with their tasks, moved
//! through their life, and their discussion.

use ferry_app::{App, FilingInput, FilingView};
use ferry_domain::work::FilingTransition;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{CommentBody, CommentOut, FilingOut, TaskOut, filing_id};
use crate::api::Tag;
use crate::api::dto::{Page, Str, client_id, page_request};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct FilingsApi {
    pub(crate) app: App,
}

/// A filing to create. Dates are `YYYY-MM-DD`.
#[derive(Object)]
struct FilingBody {
    /// What for: `gst_hst`, `bas`, `payroll`, `bookkeeping`, or any other name.
    #[oai(validator(max_length = 1000))]
    kind: Str,
    /// The first day of the period covered (give both ends or neither).
    #[oai(validator(max_length = 32))]
    period_start: Option<Str>,
    /// The last day of the period covered.
    #[oai(validator(max_length = 32))]
    period_end: Option<Str>,
    /// When it is due.
    #[oai(validator(max_length = 32))]
    due: Option<Str>,
}

/// A filing with its tasks.
#[derive(Object)]
struct FilingDetailOut {
    /// The filing.
    filing: FilingOut,
    /// Its first tasks, in order of creation.
    tasks: Vec<TaskOut>,
    /// The cursor for `GET /filings/{filing}/tasks?after=` when it has more.
    next_tasks: Option<String>,
}

impl From<&FilingView> for FilingDetailOut {
    fn from(v: &FilingView) -> Self {
        Self {
            filing: FilingOut::from(&v.filing),
            tasks: v.tasks.iter().map(TaskOut::from).collect(),
            next_tasks: v.next_tasks.as_ref().map(|c| c.0.clone()),
        }
    }
}

impl FilingsApi {
    async fn lifecycle(
        &self,
        caller: &Caller,
        filing: &str,
        transition: FilingTransition,
    ) -> ApiResult<Json<FilingOut>> {
        let filing = self.app.change_filing_status(&caller.principal()?, filing_id(filing)?, transition).await?;
        Ok(Json(FilingOut::from(&filing)))
    }
}

#[OpenApi(tag = "Tag::Work")]
impl FilingsApi {
    /// Your practice's filings for a client, in order of creation (practice users in scope).
    #[oai(path = "/clients/:client/filings", method = "get", operation_id = "list_filings")]
    async fn list_filings(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<FilingOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.filings(&caller.principal()?, client_id(&client.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, FilingOut::from)))
    }

    /// Create a filing for a client (admins and staff in scope); it starts active.
    #[oai(path = "/clients/:client/filings", method = "post", operation_id = "create_filing")]
    async fn create_filing(
        &self,
        caller: Data<&Caller>,
        client: Path<String>,
        body: Json<FilingBody>,
    ) -> ApiResult<Json<FilingOut>> {
        let body = body.0;
        let input = FilingInput {
            kind: body.kind.0,
            period_start: body.period_start.map(String::from),
            period_end: body.period_end.map(String::from),
            due: body.due.map(String::from),
        };
        let filing = self.app.create_filing(&caller.principal()?, client_id(&client.0)?, &input).await?;
        Ok(Json(FilingOut::from(&filing)))
    }

    /// A filing with its first tasks (practice users in scope).
    #[oai(path = "/filings/:filing", method = "get", operation_id = "get_filing")]
    async fn get_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingDetailOut>> {
        let view = self.app.filing(&caller.principal()?, filing_id(&filing.0)?).await?;
        Ok(Json(FilingDetailOut::from(&view)))
    }

    /// File an active filing (admins and staff in scope). Bookkeepers lose access through its tasks at once.
    #[oai(path = "/filings/:filing/file", method = "post", operation_id = "file_filing")]
    async fn file_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingOut>> {
        self.lifecycle(&caller, &filing.0, FilingTransition::File).await
    }

    /// Cancel an active filing (admins and staff in scope).
    #[oai(path = "/filings/:filing/cancel", method = "post", operation_id = "cancel_filing")]
    async fn cancel_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingOut>> {
        self.lifecycle(&caller, &filing.0, FilingTransition::Cancel).await
    }

    /// Reopen a filed or cancelled filing (admins and staff in scope); its tasks grant access again.
    #[oai(path = "/filings/:filing/reopen", method = "post", operation_id = "reopen_filing")]
    async fn reopen_filing(&self, caller: Data<&Caller>, filing: Path<String>) -> ApiResult<Json<FilingOut>> {
        self.lifecycle(&caller, &filing.0, FilingTransition::Reopen).await
    }

    /// A filing's discussion, oldest first (practice users in scope).
    #[oai(path = "/filings/:filing/discussion", method = "get", operation_id = "read_discussion")]
    async fn read_discussion(
        &self,
        caller: Data<&Caller>,
        filing: Path<String>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<CommentOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.discussion(&caller.principal()?, filing_id(&filing.0)?, &request).await?;
        Ok(Json(Page::from_found(&found, CommentOut::from)))
    }

    /// Post to a filing's discussion (practice users in scope, bookkeepers included).
    #[oai(path = "/filings/:filing/discussion", method = "post", operation_id = "post_discussion")]
    async fn post_discussion(
        &self,
        caller: Data<&Caller>,
        filing: Path<String>,
        body: Json<CommentBody>,
    ) -> ApiResult<Json<CommentOut>> {
        let comment = self.app.post_discussion(&caller.principal()?, filing_id(&filing.0)?, &body.0.body).await?;
        Ok(Json(CommentOut::from(&comment)))
    }
}
