//! My Tasks and the dashboard: the work assigned to the caller.

use ferry_domain::access::{Action, can_open_client};
use ferry_domain::work::Dashboard;
use ferry_ports::records::{Page, PageRequest};
use time::UtcOffset;

use crate::views::{DashboardView, MyTaskView};
use crate::{App, AppError, Principal};

impl App {
    /// My Tasks: the tasks assigned to the caller, soonest due first, each
    /// with its filing's kind and status, and its client's name only where
    /// the caller may open the client.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but practice users.
    pub async fn my_tasks(&self, who: &Principal, page: &PageRequest) -> Result<Page<MyTaskView>, AppError> {
        let mut work = self.read(who).await?;
        let user = work.account(Action::ListMyTasks)?;
        let found = work.tx.list_tasks_of_assignee(user, page).await?;
        let actor = work.actor;
        let items = found
            .items
            .into_iter()
            .map(|row| MyTaskView {
                client: can_open_client(&actor, &row.facts).then_some(row.client),
                filing_kind: row.filing_kind,
                task: row.task,
            })
            .collect();
        Ok(Page { items, next: found.next })
    }

    /// The dashboard of My Tasks: assigned (not done), due in the next 7
    /// days, overdue — as of today in UTC.
    ///
    /// # Errors
    /// [`AppError::Forbidden`] for anyone but practice users.
    pub async fn my_dashboard(&self, who: &Principal) -> Result<DashboardView, AppError> {
        let mut work = self.read(who).await?;
        let user = work.account(Action::ViewMyDashboard)?;
        let today = work.now.to_offset(UtcOffset::UTC).date();
        let dues = work.tx.assigned_task_dues(user).await?;
        Ok(DashboardView { dashboard: Dashboard::of(dues, today), today })
    }
}
