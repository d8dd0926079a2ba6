//! The access facts queries of DESIGN.md: "facts for (user, client)" in one
//! indexed query, and "facts for every client this user could open" for the
//! account switcher and client lists. The domain decides; these only gather.
//! Nothing is cached: each call reads the current rows.

use ferry_domain::values::OrganisationName;

use crate::convert::consent;
use crate::prelude::*;

/// The facts columns, as one row.
#[derive(sqlx::FromRow)]
pub(crate) struct FactsRow {
    engagement_state: Option<String>,
    engagement_by: Option<String>,
    assigned: bool,
    active_tasks: i64,
    membership: Option<String>,
}

impl FactsRow {
    pub(crate) fn into_facts(self, client: ClientId) -> Result<ClientFacts, StoreError> {
        Ok(ClientFacts {
            client,
            engagement: self
                .engagement_state
                .as_deref()
                .map(|s| consent(s, self.engagement_by.as_deref()))
                .transpose()?,
            assigned: self.assigned,
            active_tasks_held: count("task count", self.active_tasks)?,
            membership: self
                .membership
                .as_deref()
                .map(|r| name("client role", r, ClientRole::from_name))
                .transpose()?,
        })
    }
}

/// One row per (user, client): the engagement between the user's practice
/// (if any) and the client, the assignment, the number of tasks the user
/// holds on the client's active filings of that practice, and the user's
/// client membership (if any). Every lookup is by primary key or index:
/// practice_members (user_id), engagements (practice_id, client_id),
/// client_assignments (user_id, client_id), tasks (assignee_id, filing_id),
/// client_members (client_id, user_id).
const FACTS_SQL: &str = "\
SELECT e.state AS engagement_state, e.state_by AS engagement_by,
       EXISTS (SELECT 1 FROM client_assignments a WHERE a.user_id = $1 AND a.client_id = $2) AS assigned,
       (SELECT COUNT(*) FROM tasks t JOIN filings f ON f.id = t.filing_id
         WHERE t.assignee_id = $1 AND f.client_id = $2 AND f.practice_id = m.practice_id
           AND f.status = 'active') AS active_tasks,
       (SELECT cm.role FROM client_members cm WHERE cm.client_id = $2 AND cm.user_id = $1) AS membership
  FROM (SELECT 1 AS one) AS anchor
  LEFT JOIN practice_members m ON m.user_id = $1
  LEFT JOIN engagements e ON e.practice_id = m.practice_id AND e.client_id = $2";

#[derive(sqlx::FromRow)]
struct ClientFactsRow {
    id: Uuid,
    name: String,
    created_at: i64,
    #[sqlx(flatten)]
    facts: FactsRow,
}

/// Admins: every actively engaged client of the practice, after the cursor
/// ($1 user, $2 cursor, $3 limit, $4 practice). Every engaged client is a
/// match, so this reads one page of the engagement index.
const ADMIN_CLIENTS_SQL: &str = "\
SELECT c.id, c.name, c.created_at, e.state AS engagement_state, e.state_by AS engagement_by,
       EXISTS (SELECT 1 FROM client_assignments a WHERE a.user_id = $1 AND a.client_id = c.id) AS assigned,
       (SELECT COUNT(*) FROM tasks t JOIN filings f ON f.id = t.filing_id
         WHERE t.assignee_id = $1 AND f.client_id = c.id AND f.practice_id = $4
           AND f.status = 'active') AS active_tasks,
       NULL AS membership
  FROM engagements e
  JOIN clients c ON c.id = e.client_id
 WHERE e.practice_id = $4 AND e.state = 'active' AND e.client_id > $2
 ORDER BY e.client_id
 LIMIT $3";

/// Staff and bookkeepers: the clients behind their own assignments and their
/// tasks on active filings, driven from those rows so that the cost follows
/// the person's work, not the size of the practice. The facts are counted in
/// the same pass. `$5` is true for bookkeepers, whom an assignment alone
/// does not let in (rule 4), so they need at least one task.
///
/// `CROSS JOIN` pins the join order on SQLite: the candidates drive, then
/// one index lookup each into engagements and clients. Without it SQLite
/// 3.46 chose to scan the practice's every engagement and probe the
/// candidates (7–10 ms instead of ~1 ms with 10,000 clients; see
/// docs/BENCHMARKS.md). PostgreSQL plans a CROSS JOIN with WHERE freely.
const WORKER_CLIENTS_SQL: &str = "\
SELECT c.id, c.name, c.created_at, e.state AS engagement_state, e.state_by AS engagement_by,
       cand.assigned, cand.active_tasks, NULL AS membership
  FROM (SELECT work.client_id,
               MAX(work.assigned) > 0 AS assigned,
               CAST(SUM(work.active) AS BIGINT) AS active_tasks
          FROM (SELECT a.client_id, 1 AS assigned, 0 AS active
                  FROM client_assignments a WHERE a.user_id = $1 AND a.client_id > $2
                UNION ALL
                SELECT f.client_id, 0 AS assigned, 1 AS active
                  FROM tasks t JOIN filings f ON f.id = t.filing_id
                 WHERE t.assignee_id = $1 AND f.practice_id = $4 AND f.status = 'active'
                   AND f.client_id > $2) AS work
         GROUP BY work.client_id
        HAVING SUM(work.active) > 0 OR NOT $5) AS cand
 CROSS JOIN engagements e
 CROSS JOIN clients c
 WHERE e.practice_id = $4 AND e.client_id = cand.client_id AND e.state = 'active' AND c.id = cand.client_id
 ORDER BY cand.client_id
 LIMIT $3";

/// The clients a client user belongs to.
const MEMBER_CLIENTS_SQL: &str = "\
SELECT c.id, c.name, c.created_at, NULL AS engagement_state, NULL AS engagement_by,
       FALSE AS assigned, CAST(0 AS BIGINT) AS active_tasks, cm.role AS membership
  FROM client_members cm
  JOIN clients c ON c.id = cm.client_id
 WHERE cm.user_id = $1 AND cm.client_id > $2
 ORDER BY cm.client_id
 LIMIT $3";

#[async_trait]
impl AccessStore for SqlTx {
    async fn client_facts(&mut self, user: UserId, client: ClientId) -> Result<ClientFacts, StoreError> {
        let row: FactsRow =
            on!(self, |c| sqlx::query_as(FACTS_SQL).bind(user.as_uuid()).bind(client.as_uuid()).fetch_one(c).await)
                .map_err(map("client facts"))?;
        row.into_facts(client)
    }

    async fn clients_for_user(
        &mut self,
        user: UserId,
        page: &PageRequest,
    ) -> Result<Page<ClientWithFacts>, StoreError> {
        let after = cursor_id(page)?;
        let limit = fetch_limit(page);
        // Who is asking decides where the candidates come from. These narrow the
        // candidates with the conditions of rule 4 so that a page is a page; the
        // caller still decides each row with the domain, and the contract tests
        // check that the two agree.
        let Some(actor) = self.actor(user).await? else {
            return Ok(Page { items: Vec::new(), next: None });
        };
        let rows: Vec<ClientFactsRow> = match actor {
            Actor::Practice(member) if member.role == Role::Admin => {
                let practice = member.practice.as_uuid();
                on!(self, |c| {
                    sqlx::query_as(ADMIN_CLIENTS_SQL)
                        .bind(user.as_uuid())
                        .bind(after)
                        .bind(limit)
                        .bind(practice)
                        .fetch_all(c)
                        .await
                })
            }
            Actor::Practice(member) => {
                let practice = member.practice.as_uuid();
                let needs_task = member.role == Role::Bookkeeper;
                on!(self, |c| {
                    sqlx::query_as(WORKER_CLIENTS_SQL)
                        .bind(user.as_uuid())
                        .bind(after)
                        .bind(limit)
                        .bind(practice)
                        .bind(needs_task)
                        .fetch_all(c)
                        .await
                })
            }
            Actor::Client { .. } => on!(self, |c| {
                sqlx::query_as(MEMBER_CLIENTS_SQL).bind(user.as_uuid()).bind(after).bind(limit).fetch_all(c).await
            }),
            // The operator and outside parties open no client.
            Actor::Operator | Actor::Outside { .. } => return Ok(Page { items: Vec::new(), next: None }),
        }
        .map_err(map("clients for user"))?;
        let items = rows
            .into_iter()
            .map(|row| {
                let id = ClientId::from_uuid(row.id);
                Ok(ClientWithFacts {
                    client: ClientRecord {
                        id,
                        name: parse("client name", &row.name, OrganisationName::parse)?,
                        created_at: time(row.created_at)?,
                    },
                    facts: row.facts.into_facts(id)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page_of(items, page, |c| c.client.id.to_string()))
    }
}
