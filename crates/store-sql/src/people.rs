//! Users, practice members and clients.

use ferry_domain::people::PracticeUser;
use ferry_domain::values::{OrganisationName, PersonName};
use ferry_ports::records::UserKind;

use crate::prelude::*;

/// The columns of `users` (aliased `u`), in the order of [`UserRow`]. The
/// password hash itself stays in the table: only whether there is one.
pub(crate) const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.kind, u.active, (u.password_hash IS NOT NULL) AS has_password, u.created_at";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    kind: String,
    active: bool,
    has_password: bool,
    created_at: i64,
}

impl UserRow {
    pub(crate) fn into_record(self) -> Result<UserRecord, StoreError> {
        Ok(UserRecord {
            id: UserId::from_uuid(self.id),
            email: parse("email", &self.email, EmailAddress::parse)?,
            name: parse("user name", &self.name, PersonName::parse)?,
            kind: name("user kind", &self.kind, UserKind::from_name)?,
            active: self.active,
            has_password: self.has_password,
            created_at: time(self.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    practice_id: Uuid,
    role: String,
}

impl MemberRow {
    fn into_record(self) -> Result<MemberRecord, StoreError> {
        Ok(MemberRecord {
            user: self.user.into_record()?,
            practice: PracticeId::from_uuid(self.practice_id),
            role: name("role", &self.role, Role::from_name)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: Uuid,
    name: String,
    created_at: i64,
}

impl ClientRow {
    fn into_record(self) -> Result<ClientRecord, StoreError> {
        Ok(ClientRecord {
            id: ClientId::from_uuid(self.id),
            name: parse("client name", &self.name, OrganisationName::parse)?,
            created_at: time(self.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ClientMemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    client_id: Uuid,
    role: String,
}

impl ClientMemberRow {
    fn into_record(self) -> Result<ClientMemberRecord, StoreError> {
        Ok(ClientMemberRecord {
            user: self.user.into_record()?,
            client: ClientId::from_uuid(self.client_id),
            role: name("client role", &self.role, ClientRole::from_name)?,
        })
    }
}

/// What [`PeopleStore::actor`] reads: the user, and their membership and practice if any.
#[derive(sqlx::FromRow)]
struct ActorRow {
    kind: String,
    active: bool,
    practice_id: Option<Uuid>,
    role: Option<String>,
    practice_status: Option<String>,
}

/// `role IN (...)` for `roles`, spelled from the domain's constant names (no
/// user text reaches the SQL); `None` when `roles` is empty.
fn role_filter(column: &str, roles: impl IntoIterator<Item = Role>) -> Option<String> {
    let names: Vec<String> = roles.into_iter().map(|r| format!("'{}'", r.as_str())).collect();
    (!names.is_empty()).then(|| format!("{column} IN ({})", names.join(", ")))
}

#[async_trait]
impl PeopleStore for SqlTx {
    async fn insert_user(&mut self, user: &NewUser) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query(
                "INSERT INTO users (id, email, name, kind, active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5)",
            )
            .bind(user.id.as_uuid())
            .bind(user.email.as_str())
            .bind(user.name.as_str())
            .bind(user.kind.as_str())
            .bind(micros(user.created_at))
            .execute(c)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(|e| {
            // Both the id and the address are unique; name the one that clashed.
            let id_clash =
                matches!(&e, sqlx::Error::Database(db) if db.is_unique_violation() && !db.message().contains("email"));
            map(if id_clash { "user id" } else { "email" })(e)
        })?;
        Ok(())
    }

    async fn user(&mut self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1");
        let row: Option<UserRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(c).await).map_err(map("user"))?;
        row.map(UserRow::into_record).transpose()
    }

    async fn user_by_email(&mut self, email: &EmailAddress) -> Result<Option<UserRecord>, StoreError> {
        // Addresses are stored normalised (lower case), as `EmailAddress` holds them.
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.email = $1");
        let row: Option<UserRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(email.as_str()).fetch_optional(c).await).map_err(map("user"))?;
        row.map(UserRow::into_record).transpose()
    }

    async fn set_user_active(&mut self, id: UserId, active: bool) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("user"))?;
        found(changed, "user")
    }

    async fn set_password_hash(&mut self, id: UserId, phc: &str) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(phc)
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("password hash"))?;
        found(changed, "user")
    }

    async fn password_hash(&mut self, id: UserId) -> Result<Option<String>, StoreError> {
        let hash: Option<Option<String>> = on!(self, |c| {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(c)
                .await
        })
        .map_err(map("password hash"))?;
        Ok(hash.flatten())
    }

    async fn accept_terms(&mut self, id: UserId, version: u32, at: OffsetDateTime) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE users SET terms_version_accepted = $1, terms_accepted_at = $2 WHERE id = $3")
                .bind(i64::from(version))
                .bind(micros(at))
                .bind(id.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("terms acceptance"))?;
        found(changed, "user")
    }

    async fn accepted_terms(&mut self, id: UserId) -> Result<Option<u32>, StoreError> {
        let version: Option<Option<i64>> = on!(self, |c| {
            sqlx::query_scalar("SELECT terms_version_accepted FROM users WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(c)
                .await
        })
        .map_err(map("terms acceptance"))?;
        version.flatten().map(|v| count("terms version", v)).transpose()
    }

    async fn actor(&mut self, user: UserId) -> Result<Option<Actor>, StoreError> {
        // One query: the user, their membership and their practice's status now.
        let row: Option<ActorRow> = on!(self, |c| {
            sqlx::query_as(
                "SELECT u.kind, u.active, m.practice_id, m.role, p.status AS practice_status \
                 FROM users u \
                 LEFT JOIN practice_members m ON m.user_id = u.id \
                 LEFT JOIN practices p ON p.id = m.practice_id \
                 WHERE u.id = $1",
            )
            .bind(user.as_uuid())
            .fetch_optional(c)
            .await
        })
        .map_err(map("actor"))?;
        let Some(row) = row else { return Ok(None) };
        let actor = match name("user kind", &row.kind, UserKind::from_name)? {
            UserKind::Client => Actor::Client { user, active: row.active },
            UserKind::Outside => Actor::Outside { user, active: row.active },
            UserKind::Practice => {
                let (Some(practice), Some(role), Some(status)) = (row.practice_id, row.role, row.practice_status)
                else {
                    return Err(StoreError::Corrupt {
                        what: "practice membership",
                        reason: format!("practice user {user} belongs to no practice"),
                    });
                };
                Actor::Practice(PracticeUser {
                    user,
                    practice: PracticeId::from_uuid(practice),
                    role: name("role", &role, Role::from_name)?,
                    active: row.active,
                    practice_status: name("practice status", &status, PracticeStatus::from_name)?,
                })
            }
        };
        Ok(Some(actor))
    }

    async fn insert_member(&mut self, user: UserId, practice: PracticeId, role: Role) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query("INSERT INTO practice_members (user_id, practice_id, role) VALUES ($1, $2, $3)")
                .bind(user.as_uuid())
                .bind(practice.as_uuid())
                .bind(role.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("practice member"))?;
        Ok(())
    }

    async fn member(&mut self, user: UserId) -> Result<Option<MemberRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, m.practice_id, m.role FROM practice_members m JOIN users u ON u.id = m.user_id \
             WHERE m.user_id = $1"
        );
        let row: Option<MemberRow> = on!(self, |c| sqlx::query_as(&sql).bind(user.as_uuid()).fetch_optional(c).await)
            .map_err(map("practice member"))?;
        row.map(MemberRow::into_record).transpose()
    }

    async fn set_role(&mut self, user: UserId, role: Role) -> Result<(), StoreError> {
        let changed = on!(self, |c| {
            sqlx::query("UPDATE practice_members SET role = $1 WHERE user_id = $2")
                .bind(role.as_str())
                .bind(user.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("role"))?;
        found(changed, "practice member")
    }

    async fn list_members(
        &mut self,
        practice: PracticeId,
        roles: &[Role],
        page: &PageRequest,
    ) -> Result<Page<MemberRecord>, StoreError> {
        let after = cursor_id(page)?;
        let Some(roles) = role_filter("m.role", roles.iter().copied()) else {
            return Ok(Page { items: Vec::new(), next: None });
        };
        let limit = fetch_limit(page);
        // User ids are time-ordered (v7), and a user joins as they are created.
        let sql = format!(
            "SELECT {USER_COLUMNS}, m.practice_id, m.role FROM practice_members m JOIN users u ON u.id = m.user_id \
             WHERE m.practice_id = $1 AND {roles} AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
        );
        let rows: Vec<MemberRow> =
            on!(self, |c| sqlx::query_as(&sql).bind(practice.as_uuid()).bind(after).bind(limit).fetch_all(c).await)
                .map_err(map("practice members"))?;
        let records = rows.into_iter().map(MemberRow::into_record).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(records, page, |m| m.user.id.to_string()))
    }

    async fn seats_in_use(&mut self, practice: PracticeId) -> Result<u32, StoreError> {
        let seated = role_filter("m.role", Role::ALL.into_iter().filter(|r| r.uses_seat()))
            .unwrap_or_else(|| "FALSE".to_owned());
        let sql = format!(
            "SELECT COUNT(*) FROM practice_members m JOIN users u ON u.id = m.user_id \
             WHERE m.practice_id = $1 AND {seated} AND u.active"
        );
        let n: i64 = on!(self, |c| sqlx::query_scalar(&sql).bind(practice.as_uuid()).fetch_one(c).await)
            .map_err(map("seats"))?;
        count("seats in use", n)
    }

    async fn insert_client(&mut self, client: &ClientRecord) -> Result<(), StoreError> {
        on!(self, |c| {
            sqlx::query("INSERT INTO clients (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(client.id.as_uuid())
                .bind(client.name.as_str())
                .bind(micros(client.created_at))
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("client"))?;
        Ok(())
    }

    async fn client(&mut self, id: ClientId) -> Result<Option<ClientRecord>, StoreError> {
        let row: Option<ClientRow> = on!(self, |c| {
            sqlx::query_as("SELECT id, name, created_at FROM clients WHERE id = $1")
                .bind(id.as_uuid())
                .fetch_optional(c)
                .await
        })
        .map_err(map("client"))?;
        row.map(ClientRow::into_record).transpose()
    }

    async fn add_client_member(&mut self, client: ClientId, user: UserId, role: ClientRole) -> Result<(), StoreError> {
        // The primary key refuses a second membership, the partial unique index
        // `client_members_one_owner` a second owner: both are duplicates.
        on!(self, |c| {
            sqlx::query("INSERT INTO client_members (client_id, user_id, role) VALUES ($1, $2, $3)")
                .bind(client.as_uuid())
                .bind(user.as_uuid())
                .bind(role.as_str())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("client member"))?;
        Ok(())
    }

    async fn client_members(&mut self, client: ClientId) -> Result<Vec<ClientMemberRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, cm.client_id, cm.role FROM client_members cm JOIN users u ON u.id = cm.user_id \
             WHERE cm.client_id = $1 ORDER BY CASE WHEN cm.role = 'owner' THEN 0 ELSE 1 END, cm.user_id"
        );
        let rows: Vec<ClientMemberRow> = on!(self, |c| sqlx::query_as(&sql).bind(client.as_uuid()).fetch_all(c).await)
            .map_err(map("client members"))?;
        rows.into_iter().map(ClientMemberRow::into_record).collect()
    }

    async fn remove_client_member(&mut self, client: ClientId, user: UserId) -> Result<bool, StoreError> {
        let removed = on!(self, |c| {
            sqlx::query("DELETE FROM client_members WHERE client_id = $1 AND user_id = $2")
                .bind(client.as_uuid())
                .bind(user.as_uuid())
                .execute(c)
                .await
                .map(|r| r.rows_affected())
        })
        .map_err(map("client member"))?;
        Ok(removed > 0)
    }
}
