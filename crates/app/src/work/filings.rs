//! Filings: listed, created, read with their first tasks, and moved through
//! their life (file, cancel, reopen).

use ferry_domain::access::Action;
use ferry_domain::ids::{ClientId, FilingId};
use ferry_domain::work::{FilingKind, FilingStatus, FilingTransition};
use ferry_ports::records::{FilingRecord, Page, PageRequest, TaskRecord};

use super::inputs::{FilingInput, optional_date, period};
use crate::error::parse;
use crate::views::FilingView;
use crate::{App, AppError, Principal};

/// How many tasks [`App::filing`] shows with the filing (the rest page through
/// [`App::filing_tasks`]).
const FILING_TASKS: u32 = 100;

impl App {
    /// The caller's practice's filings for a client, in order of creation.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for a client out of the caller's scope.
    pub async fn filings(
        &self,
        who: &Principal,
        client: ClientId,
        page: &PageRequest,
    ) -> Result<Page<FilingRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.client(Action::ListFilings, client).await?;
        let practice = work.practice_user().ok_or(AppError::not_found("client"))?.practice;
        Ok(work.tx.list_filings(practice, client, page).await?)
    }

    /// Admins and staff in scope create a filing for a client; it starts active.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field (`kind`, `period_start`,
    /// `period_end`, `due`); [`AppError::Forbidden`] for bookkeepers.
    pub async fn create_filing(
        &self,
        who: &Principal,
        client: ClientId,
        input: &FilingInput,
    ) -> Result<FilingRecord, AppError> {
        let kind = parse("kind", &input.kind, FilingKind::parse)?;
        let period = period(input.period_start.as_deref(), input.period_end.as_deref())?;
        let due = optional_date("due", input.due.as_deref())?;
        let mut work = self.write(who).await?;
        work.client(Action::CreateFiling, client).await?;
        let practice = work.practice_user().ok_or(AppError::not_found("client"))?.practice;
        let filing = FilingRecord {
            id: FilingId::from_uuid(work.new_id()),
            practice,
            client,
            kind,
            period,
            due,
            status: FilingStatus::Active,
            created_at: work.now,
        };
        work.tx.insert_filing(&filing).await?;
        work.audit(
            "filing.create",
            Some(practice),
            Some(client),
            Some(filing.id.as_uuid()),
            format!("kind {}", filing.kind.as_str()),
        )
        .await?;
        let filing = work.tx.filing(filing.id).await?.ok_or(AppError::not_found("filing"))?;
        work.commit().await?;
        Ok(filing)
    }

    /// A filing with the first page of its tasks.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for another practice's filing or a client out of scope.
    pub async fn filing(&self, who: &Principal, id: FilingId) -> Result<FilingView, AppError> {
        let mut work = self.read(who).await?;
        let (filing, _) = work.filing(Action::ViewFiling, id).await?;
        let tasks = work.tx.list_tasks_of_filing(id, &PageRequest::first(FILING_TASKS)).await?;
        Ok(FilingView { filing, tasks: tasks.items, next_tasks: tasks.next })
    }

    /// A filing's tasks, a page at a time, in order of creation.
    ///
    /// # Errors
    /// [`AppError::NotFound`] for another practice's filing or a client out of scope.
    pub async fn filing_tasks(
        &self,
        who: &Principal,
        id: FilingId,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, AppError> {
        let mut work = self.read(who).await?;
        work.filing(Action::ViewFiling, id).await?;
        Ok(work.tx.list_tasks_of_filing(id, page).await?)
    }

    /// Admins and staff in scope file, cancel or reopen a filing. Bookkeepers'
    /// access follows at once: tasks on a filed or cancelled filing grant none.
    ///
    /// # Errors
    /// [`AppError::Conflict`] when the filing's status does not allow the
    /// step (or it changed meanwhile); [`AppError::Forbidden`] for bookkeepers.
    pub async fn change_filing_status(
        &self,
        who: &Principal,
        id: FilingId,
        transition: FilingTransition,
    ) -> Result<FilingRecord, AppError> {
        let mut work = self.write(who).await?;
        let (filing, _) = work.filing(Action::ChangeFilingStatus, id).await?;
        let to = filing.status.apply(transition).map_err(|e| AppError::conflict(e.to_string()))?;
        work.tx.set_filing_status(id, filing.status, to, work.now).await?;
        let detail = format!("{} → {}", filing.status.as_str(), to.as_str());
        work.audit(
            &format!("filing.{}", transition_name(transition)),
            Some(filing.practice),
            Some(filing.client),
            Some(id.as_uuid()),
            detail,
        )
        .await?;
        let filing = work.tx.filing(id).await?.ok_or(AppError::not_found("filing"))?;
        work.commit().await?;
        Ok(filing)
    }
}

pub(super) const fn transition_name(transition: FilingTransition) -> &'static str {
    match transition {
        FilingTransition::File => "file",
        FilingTransition::Cancel => "cancel",
        FilingTransition::Reopen => "reopen",
    }
}
