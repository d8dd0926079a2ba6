//! Engagements and connections as their two sides see them.

use super::*;

/// An engagement with both of its sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementView {
    /// The engagement and its state.
    pub engagement: EngagementRecord,
    /// The practice side.
    pub practice: PracticeRecord,
    /// The client side.
    pub client: ClientRecord,
}

/// A connection with both of its sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionView {
    /// The connection and its state.
    pub connection: ConnectionRecord,
    /// The practice side.
    pub practice: PracticeRecord,
    /// The outside party.
    pub outside_party: UserRecord,
}

pub(super) async fn engagement_view(
    work: &mut Work,
    engagement: EngagementRecord,
    practices: &mut HashMap<PracticeId, PracticeRecord>,
) -> Result<EngagementView, AppError> {
    let practice = match practices.get(&engagement.practice) {
        Some(p) => p.clone(),
        None => {
            let p = work.practice_record(engagement.practice).await?;
            practices.insert(p.id, p.clone());
            p
        }
    };
    let client = work.tx.client(engagement.client).await?.ok_or(AppError::not_found("client"))?;
    Ok(EngagementView { engagement, practice, client })
}

pub(super) async fn connection_view(
    work: &mut Work,
    connection: ConnectionRecord,
    practices: &mut HashMap<PracticeId, PracticeRecord>,
) -> Result<ConnectionView, AppError> {
    let practice = match practices.get(&connection.practice) {
        Some(p) => p.clone(),
        None => {
            let p = work.practice_record(connection.practice).await?;
            practices.insert(p.id, p.clone());
            p
        }
    };
    let outside_party = work.user_record(connection.outside_party).await?;
    Ok(ConnectionView { connection, practice, outside_party })
}
