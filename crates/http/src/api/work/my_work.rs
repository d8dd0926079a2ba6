//! My Tasks and the dashboard: the work assigned to the caller.

use ferry_app::{App, DashboardView, MyTaskView};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::{TaskOut, day};
use crate::api::Tag;
use crate::api::dto::{Page, page_request};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct MyWorkApi {
    pub(crate) app: App,
}

/// A row of My Tasks.
#[derive(Object)]
struct MyTaskOut {
    /// The task (with its filing's id and status and its client's id).
    task: TaskOut,
    /// What its filing is for.
    filing_kind: String,
    /// The client's name, only when you may open the client now.
    client_name: Option<String>,
}

impl From<&MyTaskView> for MyTaskOut {
    fn from(v: &MyTaskView) -> Self {
        Self {
            task: TaskOut::from(&v.task),
            filing_kind: v.filing_kind.as_str().to_owned(),
            client_name: v.client.as_ref().map(|c| c.name.as_str().to_owned()),
        }
    }
}

/// The dashboard.
#[derive(Object)]
struct DashboardOut {
    /// Tasks assigned to you and not done.
    assigned: u32,
    /// Of those, due within the next 7 days.
    due_soon: u32,
    /// Of those, past due.
    overdue: u32,
    /// The day counted from (UTC), `YYYY-MM-DD`.
    today: String,
}

impl From<&DashboardView> for DashboardOut {
    fn from(v: &DashboardView) -> Self {
        Self {
            assigned: v.dashboard.assigned,
            due_soon: v.dashboard.due_soon,
            overdue: v.dashboard.overdue,
            today: day(v.today),
        }
    }
}

#[OpenApi(tag = "Tag::Work")]
impl MyWorkApi {
    /// My Tasks: the tasks assigned to you, soonest due first (practice users).
    #[oai(path = "/me/tasks", method = "get", operation_id = "list_my_tasks")]
    async fn list_my_tasks(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<MyTaskOut>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.my_tasks(&caller.principal()?, &request).await?;
        Ok(Json(Page::from_found(&found, MyTaskOut::from)))
    }

    /// Your dashboard: tasks assigned, due within 7 days, and overdue (practice users).
    #[oai(path = "/me/dashboard", method = "get", operation_id = "get_my_dashboard")]
    async fn get_my_dashboard(&self, caller: Data<&Caller>) -> ApiResult<Json<DashboardOut>> {
        let view = self.app.my_dashboard(&caller.principal()?).await?;
        Ok(Json(DashboardOut::from(&view)))
    }
}
