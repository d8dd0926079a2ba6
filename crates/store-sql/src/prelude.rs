//! The names every repository module uses.

pub(crate) use async_trait::async_trait;
pub(crate) use ferry_domain::access::ClientFacts;
pub(crate) use ferry_domain::consent::ConsentState;
pub(crate) use ferry_domain::ids::{
    AddOnId, ChecklistItemId, ClientId, ConnectionId, DocumentId, EngagementId, FilingId, PracticeId, TaskId, UserId,
};
pub(crate) use ferry_domain::people::{Actor, ClientRole, Role};
pub(crate) use ferry_domain::practice::{Branding, Plan, PracticeStatus};
pub(crate) use ferry_domain::quota::{AllowanceKind, UsageMonth};
pub(crate) use ferry_domain::values::EmailAddress;
pub(crate) use ferry_domain::work::{Assignee, FilingStatus, Reviewer, TaskStatus};
pub(crate) use ferry_ports::StoreError;
pub(crate) use ferry_ports::records::{
    AddOnRecord, AllowanceUsage, AssignedTask, AuditEntry, AuditRecord, ChecklistItemRecord, ClientMemberRecord,
    ClientRecord, ClientWithFacts, CommentRecord, ConnectionRecord, DocumentRecord, EmailLogRecord, EngagementRecord,
    FilingRecord, MemberRecord, NewDocument, NewPractice, NewSession, NewTask, NewToken, NewUser, OutboxRecord,
    OutboxStatus, OutgoingMail, Page, PageRequest, PracticeRecord, PurgeReport, ReservationId, ReservationRequest,
    SessionRecord, TaskRecord, Thread, ThrottleKey, TimeEntryRecord, TokenHash, TokenPurpose, UserRecord,
};
pub(crate) use ferry_ports::store::ReserveError;
pub(crate) use ferry_ports::store::prelude::*;
pub(crate) use time::{Date, OffsetDateTime};
pub(crate) use uuid::Uuid;

pub(crate) use crate::convert::{
    count, cursor_id, fetch_limit, found, micros, moved, name, opt_time, page_of, parse, time,
};
pub(crate) use crate::error::map;
pub(crate) use crate::tx::{SqlTx, on, on_each};
