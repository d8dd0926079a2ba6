//! Each command: read its arguments, call the use case as the operator,
//! print the outcome.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ferry_app::{App, AppConfig, AppError, Principal, SystemClock, UsageView, UuidV7};
use ferry_domain::ids::{AddOnId, ClientId, PracticeId};
use ferry_domain::practice::{PracticeStatus, PracticeTransition};
use ferry_domain::quota::{AllowanceKind, Bytes, at_warning_level};
use ferry_installation::Setup;
use ferry_ports::Store;
use ferry_ports::admin::UserFilter;
use ferry_ports::blob::{BlobError, BlobKey};
use ferry_ports::records::{
    AddOnRecord, AuditRecord, OutboxStatus, Page, PageRequest, PracticeRecord, UserKind, UserRecord,
};
use ferry_store_sql::SqlStore;
use serde_json::{Value, json};

use crate::cli::{
    AllowanceCommand, AuditCommand, Cli, Command, KindArg, OutboxCommand, OutboxStatusArg, PracticeArg,
    PracticeCommand, StatusArg, UserCommand, UserKindArg,
};
use crate::failure::Failure;
use crate::output::{Bar, Table, confirm, fields, json, note, say};
use crate::parse::{add_months, id, moment, rfc3339, show_time, size};
use crate::settings::Settings;

const WHO: Principal = Principal::Operator;

/// How many rows a list reads per page.
const PAGE: u32 = PageRequest::MAX_LIMIT;

/// Runs the command; `Ok` carries the exit code of a command that ran
/// (a check that found problems exits 1 without an error message).
pub(crate) async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let as_json = cli.json;
    let is_migrate = matches!(cli.command, Command::Migrate);
    let settings = cli.settings.resolve(if is_migrate { Setup::Create } else { Setup::Existing })?;
    let store = connect(&settings).await?;
    if is_migrate {
        return migrate(&store, as_json).await;
    }
    let is_status = matches!(cli.command, Command::Status);
    if !is_status {
        schema_is_current(&store).await?;
    }
    let app = open_app(&settings, &store)?;
    let out = Out { json: as_json };
    let result = match cli.command {
        Command::Migrate => unreachable!("handled above"),
        Command::Status => status(&app, &store, &settings, out).await,
        Command::Practice(command) => practice(&app, command, out).await,
        Command::Allowance(command) => allowance(&app, command, out).await,
        Command::User(command) => user(&app, command, out).await,
        Command::Explain { user, client } => explain(&app, &user, &client, out).await,
        Command::Usage => usage(&app, out).await,
        Command::Audit(command) => audit(&app, command, out).await,
        Command::Check { repair, grace_hours, yes } => check(&app, repair, hours(grace_hours)?, yes, out).await,
        Command::Gc { grace_hours, yes } => gc(&app, hours(grace_hours)?, yes, out).await,
        Command::Outbox(command) => outbox(&app, command, out).await,
    };
    store.close().await;
    result
}

/// How output is wanted.
#[derive(Debug, Clone, Copy)]
struct Out {
    json: bool,
}

fn hours(hours: u64) -> Result<Duration, Failure> {
    hours
        .checked_mul(3600)
        .map(Duration::from_secs)
        .ok_or_else(|| Failure::Usage(format!("--grace-hours: {hours} hours is too long")))
}

async fn connect(settings: &Settings) -> Result<SqlStore, Failure> {
    Ok(settings.installation.open_store().await?)
}

async fn migrate(store: &SqlStore, as_json: bool) -> Result<ExitCode, Failure> {
    store.migrate().await.map_err(|e| {
        Failure::Backend(format!("cannot bring the database schema up to date: {e}; nothing was half-applied"))
    })?;
    let applied = applied_migrations(store).await?;
    if as_json {
        json(&json!({ "applied_migrations": applied }));
    } else {
        say(&format!("database schema up to date (migrations {})", list(&applied)));
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn applied_migrations(store: &SqlStore) -> Result<Vec<i64>, Failure> {
    let unreachable = |e: ferry_ports::StoreError| Failure::Backend(format!("cannot read the database: {e}"));
    let mut tx = store.read().await.map_err(unreachable)?;
    let applied = tx.applied_migrations().await.map_err(unreachable)?;
    tx.rollback().await.map_err(unreachable)?;
    Ok(applied)
}

/// Refuses to work on a schema older or newer than this build's.
async fn schema_is_current(store: &SqlStore) -> Result<(), Failure> {
    let applied = applied_migrations(store).await?;
    let known = store.known_migrations();
    if let Some(newer) = applied.iter().find(|v| !known.contains(v)) {
        return Err(Failure::Backend(format!(
            "the database has migration {newer}, which this ferry-admin does not know: \
             use the ferry-admin of the same release as the server"
        )));
    }
    if applied.len() < known.len() {
        return Err(Failure::Backend(format!(
            "the database schema is not up to date (migrations {} of {}): run `ferry-admin migrate` \
             (or start the server, which migrates)",
            list(&applied),
            list(&known)
        )));
    }
    Ok(())
}

fn open_app(settings: &Settings, store: &SqlStore) -> Result<App, Failure> {
    let (blobs, source) = settings.installation.open_files()?;
    if let ferry_blob::KeySource::Created(path) = source {
        note(&format!(
            "made a new master key at {}: keep a copy apart from the backups of the files, \
             in a password manager or a vault (or set FERRY_MASTER_KEYS as the server has it)",
            path.display()
        ));
    }
    let config = AppConfig::new(settings.public_url.clone());
    let store: Arc<dyn Store> = Arc::new(store.clone());
    Ok(App::new(store, Arc::new(blobs), Arc::new(SystemClock), Arc::new(UuidV7), config))
}

fn list(versions: &[i64]) -> String {
    if versions.is_empty() {
        return "none".to_owned();
    }
    versions.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

// Status.

async fn status(app: &App, store: &SqlStore, settings: &Settings, out: Out) -> Result<ExitCode, Failure> {
    let status = app.installation_status(&WHO).await.map_err(|e| Failure::app(e, ""))?;
    let known = store.known_migrations();
    let up_to_date = status.applied_migrations == known;
    let blob_store = match BlobKey::parse("ferry-admin/status-probe") {
        Ok(key) => match app.blobs().exists(&key).await {
            Ok(_) => Ok(()),
            Err(BlobError::Unavailable(reason)) => Err(reason),
            Err(other) => Err(other.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    let c = status.counts;
    let key_warning = settings.installation.key_file_warning();
    let key_file = (!settings.installation.master_keys_set()).then(|| settings.installation.key_file());
    if out.json {
        json(&json!({
            "version": env!("CARGO_PKG_VERSION"),
            "database": { "engine": format!("{:?}", store.engine()).to_lowercase(), "applied_migrations": status.applied_migrations, "known_migrations": known, "up_to_date": up_to_date },
            "blob_store": { "location": settings.installation.blob().to_string(), "reachable": blob_store.is_ok(), "error": blob_store.as_ref().err() },
            "practices": { "pending": c.practices_pending, "approved": c.practices_approved, "suspended": c.practices_suspended, "rejected": c.practices_rejected },
            "users": { "active": c.users_active, "inactive": c.users_inactive },
            "clients": c.clients,
            "documents": { "count": c.documents, "bytes": c.document_bytes.get() },
            "outbox": { "pending": c.mail_pending, "failed": c.mail_failed },
            "audit_entries": c.audit_entries,
            "live_sessions": c.live_sessions,
            "master_keys": { "file": key_file.as_ref().map(|f| f.display().to_string()), "warning": key_warning },
        }));
    } else {
        let schema = if up_to_date {
            format!("up to date (migrations {})", list(&status.applied_migrations))
        } else {
            format!(
                "NOT up to date: migrations {} of {}; run `ferry-admin migrate`",
                list(&status.applied_migrations),
                list(&known)
            )
        };
        let blobs = match &blob_store {
            Ok(()) => format!("{} (reachable)", settings.installation.blob()),
            Err(reason) => format!("{} UNREACHABLE: {reason}", settings.installation.blob()),
        };
        fields(&[
            ("ferry-admin", env!("CARGO_PKG_VERSION").to_owned()),
            ("database", format!("{:?}", store.engine()).to_lowercase()),
            ("schema", schema),
            ("file store", blobs),
            (
                "practices",
                format!(
                    "{} pending, {} approved, {} suspended, {} rejected",
                    c.practices_pending, c.practices_approved, c.practices_suspended, c.practices_rejected
                ),
            ),
            ("users", format!("{} active, {} deactivated", c.users_active, c.users_inactive)),
            ("clients", c.clients.to_string()),
            ("documents", format!("{} ({})", c.documents, c.document_bytes)),
            ("outbox", format!("{} waiting, {} failed", c.mail_pending, c.mail_failed)),
            ("audit entries", c.audit_entries.to_string()),
            ("live sessions", c.live_sessions.to_string()),
            (
                "master keys",
                key_file.as_ref().map_or_else(|| "from FERRY_MASTER_KEYS".to_owned(), |f| f.display().to_string()),
            ),
        ]);
        if c.mail_failed > 0 {
            note("some mail failed: see `ferry-admin outbox list`, then `ferry-admin outbox retry --all`");
        }
        if let Some(warning) = &key_warning {
            note(&format!("warning: {warning}"));
        }
    }
    Ok(if blob_store.is_ok() && up_to_date { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

// Practices.

const PRACTICE_HINT: &str = "run `ferry-admin practice list` to see the practices";

fn practice_id(arg: &PracticeArg) -> Result<PracticeId, Failure> {
    practice_id_of(&arg.practice)
}

fn practice_id_of(raw: &str) -> Result<PracticeId, Failure> {
    id("practice", raw, PRACTICE_HINT).map(PracticeId::from_uuid)
}

fn practice_json(p: &PracticeRecord) -> Value {
    json!({
        "id": p.id.to_string(),
        "name": p.name.as_str(),
        "display_name": p.branding.display_name.as_ref().map(|n| n.as_str()),
        "status": p.status.as_str(),
        "plan": {
            "seat_limit": p.plan.seat_limit,
            "storage_bytes": p.plan.storage.get(),
            "throughput_bytes": p.plan.throughput.get(),
        },
        "created_at": rfc3339(p.created_at),
        "status_changed_at": rfc3339(p.status_changed_at),
    })
}

fn user_json(u: &UserRecord) -> Value {
    json!({
        "id": u.id.to_string(),
        "email": u.email.as_str(),
        "name": u.name.as_str(),
        "kind": u.kind.as_str(),
        "active": u.active,
        "has_password": u.has_password,
        "created_at": rfc3339(u.created_at),
    })
}

fn add_on_json(a: &AddOnRecord) -> Value {
    let now = time::OffsetDateTime::now_utc();
    json!({
        "id": a.add_on.id.to_string(),
        "practice": a.practice.to_string(),
        "kind": a.add_on.kind.as_str(),
        "amount_bytes": a.add_on.amount.get(),
        "starts": rfc3339(a.add_on.starts),
        "ends": rfc3339(a.add_on.ends),
        "current": a.add_on.is_current(now),
    })
}

/// Every page of a list.
async fn all<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, Failure>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, AppError>>,
{
    let mut items = Vec::new();
    let mut page = PageRequest::first(PAGE);
    loop {
        let found = fetch(page).await.map_err(|e| Failure::app(e, ""))?;
        items.extend(found.items);
        match found.next {
            Some(cursor) => page = PageRequest::after(PAGE, cursor),
            None => return Ok(items),
        }
    }
}

async fn practice(app: &App, command: PracticeCommand, out: Out) -> Result<ExitCode, Failure> {
    match command {
        PracticeCommand::List { status } => {
            let status = status.map(|s| match s {
                StatusArg::Pending => PracticeStatus::Pending,
                StatusArg::Approved => PracticeStatus::Approved,
                StatusArg::Rejected => PracticeStatus::Rejected,
                StatusArg::Suspended => PracticeStatus::Suspended,
            });
            let practices = all(|page| async move { app.list_practices(&WHO, status, &page).await }).await?;
            if out.json {
                json(&Value::Array(practices.iter().map(practice_json).collect()));
            } else {
                let mut table = Table::new(&["ID", "NAME", "STATUS", "APPLIED", "SEATS", "STORAGE", "THROUGHPUT"]);
                for p in &practices {
                    table.row(vec![
                        p.id.to_string(),
                        p.name.as_str().to_owned(),
                        p.status.as_str().to_owned(),
                        show_time(p.created_at),
                        p.plan.seat_limit.to_string(),
                        p.plan.storage.to_string(),
                        format!("{}/month", p.plan.throughput),
                    ]);
                }
                table.print("no practices");
            }
        }
        PracticeCommand::Show(arg) => {
            let id = practice_id(&arg)?;
            let detail = app.practice_detail(&WHO, id).await.map_err(|e| Failure::app(e, PRACTICE_HINT))?;
            if out.json {
                let mut value = practice_json(&detail.practice);
                value["seats_in_use"] = json!(detail.seats_in_use);
                value["admins"] = Value::Array(detail.admins.iter().map(|m| user_json(&m.user)).collect());
                value["add_ons"] = Value::Array(detail.add_ons.iter().map(add_on_json).collect());
                value["usage"] = Value::Array(detail.usage.iter().map(allowance_json).collect());
                json(&value);
            } else {
                let p = &detail.practice;
                fields(&[
                    ("id", p.id.to_string()),
                    ("name", p.name.as_str().to_owned()),
                    ("shown as", p.branding.display_name.as_ref().map_or("-", |n| n.as_str()).to_owned()),
                    ("status", format!("{} (since {})", p.status.as_str(), show_time(p.status_changed_at))),
                    ("applied", show_time(p.created_at)),
                    ("seats", format!("{} of {} in use", detail.seats_in_use, p.plan.seat_limit)),
                    ("plan storage", p.plan.storage.to_string()),
                    ("plan throughput", format!("{}/month", p.plan.throughput)),
                ]);
                say("");
                let mut admins = Table::new(&["ADMIN", "EMAIL", "ACTIVE", "PASSWORD"]);
                for m in &detail.admins {
                    admins.row(vec![
                        m.user.name.as_str().to_owned(),
                        m.user.email.as_str().to_owned(),
                        yes_no(m.user.active),
                        if m.user.has_password { "set" } else { "not set yet" }.to_owned(),
                    ]);
                }
                admins.print("no admins");
                say("");
                add_on_table(&detail.add_ons);
                say("");
                usage_table(&[UsageView { practice: detail.practice.clone(), allowances: detail.usage.clone() }]);
            }
        }
        PracticeCommand::Approve(arg) => decide(app, &arg, PracticeTransition::Approve, true, out).await?,
        PracticeCommand::Reject { practice, yes } => {
            decide(app, &practice, PracticeTransition::Reject, yes, out).await?;
        }
        PracticeCommand::Suspend { practice, yes } => {
            decide(app, &practice, PracticeTransition::Suspend, yes, out).await?;
        }
        PracticeCommand::Reinstate(arg) => decide(app, &arg, PracticeTransition::Reinstate, true, out).await?,
        PracticeCommand::SetPlan { practice, seats, storage, throughput } => {
            let id = practice_id(&practice)?;
            if seats.is_none() && storage.is_none() && throughput.is_none() {
                return Err(Failure::Usage(
                    "give at least one of --seats, --storage and --throughput (what is not given stays)".to_owned(),
                ));
            }
            let storage = storage.map(|s| size("--storage", &s)).transpose()?;
            let throughput = throughput.map(|s| size("--throughput", &s)).transpose()?;
            let current = app.practice_detail(&WHO, id).await.map_err(|e| Failure::app(e, PRACTICE_HINT))?;
            let mut plan = current.practice.plan;
            plan.seat_limit = seats.unwrap_or(plan.seat_limit);
            plan.storage = storage.unwrap_or(plan.storage);
            plan.throughput = throughput.unwrap_or(plan.throughput);
            let record = app.set_plan(&WHO, id, plan).await.map_err(|e| Failure::app(e, PRACTICE_HINT))?;
            if out.json {
                json(&practice_json(&record));
            } else {
                say(&format!(
                    "{}: {} seats, {} storage, {}/month throughput",
                    record.name.as_str(),
                    record.plan.seat_limit,
                    record.plan.storage,
                    record.plan.throughput
                ));
                if current.seats_in_use > record.plan.seat_limit {
                    note(&format!(
                        "note: {} seats are in use, more than the new limit; no one is removed, \
                         but no one more can be added until seats are freed",
                        current.seats_in_use
                    ));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn decide(
    app: &App,
    arg: &PracticeArg,
    transition: PracticeTransition,
    yes: bool,
    out: Out,
) -> Result<(), Failure> {
    let id = practice_id(arg)?;
    if !yes {
        let detail = app.practice_detail(&WHO, id).await.map_err(|e| Failure::app(e, PRACTICE_HINT))?;
        let question = match transition {
            PracticeTransition::Suspend => format!(
                "Suspend {} ({id})? Its {} active seat holders and every other user are locked out on their next request.",
                detail.practice.name.as_str(),
                detail.seats_in_use
            ),
            _ => format!(
                "{} the application of {} ({id})?",
                capitalise(transition.verb()),
                detail.practice.name.as_str()
            ),
        };
        if !confirm(&question, false)? {
            note("nothing was changed");
            return Err(Failure::Refused("not confirmed".to_owned()));
        }
    }
    let record = app.decide_practice(&WHO, id, transition).await.map_err(|e| match e {
        AppError::Conflict { message } => {
            Failure::Refused(format!("{message}; see `ferry-admin practice show {id}` for its status"))
        }
        other => Failure::app(other, PRACTICE_HINT),
    })?;
    if out.json {
        json(&practice_json(&record));
    } else {
        say(&format!("{} ({}) is now {}", record.name.as_str(), record.id, record.status.as_str()));
        match transition {
            PracticeTransition::Approve => note(
                "its admin is mailed a link to set a password; the server sends queued mail (see `ferry-admin outbox list --status pending`)",
            ),
            PracticeTransition::Suspend => note("its users are locked out on their next request"),
            _ => {}
        }
    }
    Ok(())
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

// Add-ons.

fn add_on_table(add_ons: &[AddOnRecord]) {
    let now = time::OffsetDateTime::now_utc();
    let mut table = Table::new(&["ADD-ON", "KIND", "AMOUNT", "STARTS", "ENDS", "CURRENT"]);
    for a in add_ons {
        table.row(vec![
            a.add_on.id.to_string(),
            a.add_on.kind.as_str().to_owned(),
            a.add_on.amount.to_string(),
            show_time(a.add_on.starts),
            show_time(a.add_on.ends),
            yes_no(a.add_on.is_current(now)),
        ]);
    }
    table.print("no add-ons");
}

async fn allowance(app: &App, command: AllowanceCommand, out: Out) -> Result<ExitCode, Failure> {
    match command {
        AllowanceCommand::Add { practice, kind, amount, starts, ends, months } => {
            let id = practice_id(&practice)?;
            let kind = match kind {
                KindArg::Storage => AllowanceKind::Storage,
                KindArg::Throughput => AllowanceKind::Throughput,
            };
            let amount = size("--amount", &amount)?;
            let starts = match starts {
                Some(raw) => moment("--starts", &raw)?,
                None => time::OffsetDateTime::now_utc(),
            };
            let ends = match (ends, months) {
                (Some(raw), _) => moment("--ends", &raw)?,
                (None, Some(months)) => add_months(starts, months)?,
                (None, None) => return Err(Failure::Usage("give --ends or --months".to_owned())),
            };
            let allowance = ferry_app::NewAllowance { kind, amount, starts, ends };
            let record = app.add_allowance(&WHO, id, &allowance).await.map_err(|e| Failure::app(e, PRACTICE_HINT))?;
            if out.json {
                json(&add_on_json(&record));
            } else {
                say(&format!(
                    "recorded add-on {}: {} {} from {} until {}",
                    record.add_on.id,
                    record.add_on.kind.as_str(),
                    record.add_on.amount,
                    show_time(record.add_on.starts),
                    show_time(record.add_on.ends)
                ));
            }
        }
        AllowanceCommand::List(arg) => {
            let id = practice_id(&arg)?;
            let add_ons = app.list_allowances(&WHO, id).await.map_err(|e| Failure::app(e, PRACTICE_HINT))?;
            if out.json {
                json(&Value::Array(add_ons.iter().map(add_on_json).collect()));
            } else {
                add_on_table(&add_ons);
            }
        }
        AllowanceCommand::Remove { practice, add_on, yes } => {
            let practice = practice_id(&practice)?;
            let hint = format!("run `ferry-admin allowance list {practice}` to see its add-ons");
            let add_on = AddOnId::from_uuid(id("add-on", &add_on, &hint)?);
            if !confirm(&format!("Remove add-on {add_on} of practice {practice}?"), yes)? {
                note("nothing was changed");
                return Err(Failure::Refused("not confirmed".to_owned()));
            }
            let record = app.remove_allowance(&WHO, practice, add_on).await.map_err(|e| Failure::app(e, &hint))?;
            if out.json {
                json(&add_on_json(&record));
            } else {
                say(&format!("removed add-on {}: {} {}", add_on, record.add_on.kind.as_str(), record.add_on.amount));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

// Users.

const USER_HINT: &str = "run `ferry-admin user list` to see the users";

async fn find_user(app: &App, raw: &str) -> Result<UserRecord, Failure> {
    app.find_user(&WHO, raw).await.map_err(|e| Failure::app(e, USER_HINT))
}

async fn user(app: &App, command: UserCommand, out: Out) -> Result<ExitCode, Failure> {
    match command {
        UserCommand::List { practice, kind, active, inactive, email } => {
            let filter = UserFilter {
                practice: practice.as_deref().map(practice_id_of).transpose()?,
                kind: kind.map(|k| match k {
                    UserKindArg::Practice => UserKind::Practice,
                    UserKindArg::Client => UserKind::Client,
                    UserKindArg::Outside => UserKind::Outside,
                }),
                active: match (active, inactive) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                email_contains: email.filter(|e| !e.trim().is_empty()),
            };
            let filter = &filter;
            let users = all(|page| async move { app.list_users(&WHO, filter, &page).await }).await?;
            if out.json {
                json(&Value::Array(users.iter().map(user_json).collect()));
            } else {
                let mut table = Table::new(&["ID", "EMAIL", "NAME", "KIND", "ACTIVE", "PASSWORD"]);
                for u in &users {
                    table.row(vec![
                        u.id.to_string(),
                        u.email.as_str().to_owned(),
                        u.name.as_str().to_owned(),
                        u.kind.as_str().to_owned(),
                        yes_no(u.active),
                        if u.has_password { "set" } else { "not set" }.to_owned(),
                    ]);
                }
                table.print("no users match");
            }
        }
        UserCommand::Show(arg) => {
            let found = find_user(app, &arg.user).await?;
            let detail = app.user_detail(&WHO, found.id).await.map_err(|e| Failure::app(e, USER_HINT))?;
            if out.json {
                let mut value = user_json(&detail.user);
                value["practice"] = match (&detail.membership, &detail.practice) {
                    (Some(m), Some(p)) => {
                        json!({ "id": p.id.to_string(), "name": p.name.as_str(), "status": p.status.as_str(), "role": m.role.as_str() })
                    }
                    _ => Value::Null,
                };
                value["clients"] = Value::Array(
                    detail.clients.iter().map(|c| json!({ "id": c.id.to_string(), "name": c.name.as_str() })).collect(),
                );
                json(&value);
            } else {
                let u = &detail.user;
                let practice = match (&detail.membership, &detail.practice) {
                    (Some(m), Some(p)) => {
                        format!("{} ({}), {}, {}", p.name.as_str(), p.id, m.role.as_str(), p.status.as_str())
                    }
                    _ => "-".to_owned(),
                };
                fields(&[
                    ("id", u.id.to_string()),
                    ("email", u.email.as_str().to_owned()),
                    ("name", u.name.as_str().to_owned()),
                    ("kind", u.kind.as_str().to_owned()),
                    ("active", yes_no(u.active)),
                    ("password", if u.has_password { "set" } else { "not set" }.to_owned()),
                    ("created", show_time(u.created_at)),
                    ("practice", practice),
                ]);
                say("");
                let mut clients = Table::new(&["CLIENT", "NAME"]);
                for c in &detail.clients {
                    clients.row(vec![c.id.to_string(), c.name.as_str().to_owned()]);
                }
                clients.print("opens no client");
            }
        }
        UserCommand::Deactivate { user, yes } => {
            let found = find_user(app, &user.user).await?;
            let question = format!(
                "Deactivate {} ({})? Their sessions end at once and they cannot sign in.",
                found.email, found.id
            );
            if !confirm(&question, yes)? {
                note("nothing was changed");
                return Err(Failure::Refused("not confirmed".to_owned()));
            }
            let record = app.set_user_active(&WHO, found.id, false).await.map_err(|e| Failure::app(e, USER_HINT))?;
            print_user_change(&record, "deactivated; their sessions were ended", out);
        }
        UserCommand::Reactivate(arg) => {
            let found = find_user(app, &arg.user).await?;
            let record = app.set_user_active(&WHO, found.id, true).await.map_err(|e| match e {
                AppError::SeatLimit(limit) => Failure::Refused(format!(
                    "{limit}; raise the seat limit with `ferry-admin practice set-plan PRACTICE_ID --seats N` first"
                )),
                other => Failure::app(other, USER_HINT),
            })?;
            print_user_change(&record, "reactivated", out);
        }
        UserCommand::ResetPassword(arg) => {
            let found = find_user(app, &arg.user).await?;
            let record = app.reset_user_password(&WHO, found.id).await.map_err(|e| Failure::app(e, USER_HINT))?;
            print_user_change(
                &record,
                "will be mailed a link to choose a new password (older links stop working); the server sends queued mail",
                out,
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_user_change(user: &UserRecord, what: &str, out: Out) {
    if out.json {
        json(&user_json(user));
    } else {
        say(&format!("{} ({}) {what}", user.email, user.id));
    }
}

// Explain.

async fn explain(app: &App, user: &str, client: &str, out: Out) -> Result<ExitCode, Failure> {
    let found = find_user(app, user).await?;
    let client = ClientId::from_uuid(id("client", client, "use the id shown in the firm portal or the API")?);
    let explanation = app.explain_access(&WHO, found.id, client).await.map_err(|e| Failure::app(e, ""))?;
    if out.json {
        let decisions: Vec<Value> = explanation
            .decisions
            .iter()
            .map(|(action, decision)| {
                let outcome = match decision.outcome {
                    ferry_domain::access::Outcome::Allow => "allow",
                    ferry_domain::access::Outcome::NotFound => "not_found",
                    ferry_domain::access::Outcome::Forbidden => "forbidden",
                };
                json!({
                    "action": action.as_str(),
                    "allowed": decision.is_allowed(),
                    "outcome": outcome,
                    "rule": decision.rule.code(),
                    "product_rule": decision.rule.product_rule(),
                    "reason": decision.rule.to_string(),
                })
            })
            .collect();
        json(&json!({
            "user": user_json(&explanation.user),
            "client": { "id": explanation.client.id.to_string(), "name": explanation.client.name.as_str() },
            "decisions": decisions,
        }));
    } else {
        say(&format!(
            "{} ({}) on client {} ({}):",
            explanation.user.email,
            explanation.user.id,
            explanation.client.name.as_str(),
            explanation.client.id
        ));
        let mut table = Table::new(&["ACTION", "DECISION", "RULE", "WHY"]);
        for (action, decision) in &explanation.decisions {
            let verdict = match decision.outcome {
                ferry_domain::access::Outcome::Allow => "allow",
                ferry_domain::access::Outcome::NotFound => "deny (not found)",
                ferry_domain::access::Outcome::Forbidden => "deny (forbidden)",
            };
            let rule = match decision.rule.product_rule() {
                0 => decision.rule.code().to_owned(),
                n => format!("rule {n}: {}", decision.rule.code()),
            };
            table.row(vec![action.as_str().to_owned(), verdict.to_owned(), rule, decision.rule.to_string()]);
        }
        table.print("no client-level actions");
    }
    Ok(ExitCode::SUCCESS)
}

// Usage.

fn percent(taken: Bytes, limit: Bytes) -> u64 {
    if limit.get() == 0 {
        return if taken.get() == 0 { 0 } else { 100 };
    }
    u64::try_from(u128::from(taken.get()) * 100 / u128::from(limit.get())).unwrap_or(u64::MAX)
}

fn allowance_json(a: &ferry_ports::records::AllowanceUsage) -> Value {
    let taken = a.usage.taken();
    json!({
        "kind": a.kind.as_str(),
        "used_bytes": a.usage.used.get(),
        "reserved_bytes": a.usage.reserved.get(),
        "limit_bytes": a.limit.get(),
        "percent": percent(taken, a.limit),
        "warning": at_warning_level(taken, a.limit),
    })
}

fn usage_table(views: &[UsageView]) -> usize {
    let mut warnings = 0;
    let mut table = Table::new(&["PRACTICE", "NAME", "ALLOWANCE", "USED", "RESERVED", "LIMIT", "%", ""]);
    for view in views {
        for a in &view.allowances {
            let taken = a.usage.taken();
            let warn = at_warning_level(taken, a.limit);
            warnings += usize::from(warn);
            let limit = match a.kind {
                AllowanceKind::Storage => a.limit.to_string(),
                AllowanceKind::Throughput => format!("{}/month", a.limit),
            };
            table.row(vec![
                view.practice.id.to_string(),
                view.practice.name.as_str().to_owned(),
                a.kind.as_str().to_owned(),
                a.usage.used.to_string(),
                a.usage.reserved.to_string(),
                limit,
                percent(taken, a.limit).to_string(),
                if warn { "WARNING: 80% or more" } else { "" }.to_owned(),
            ]);
        }
    }
    table.print("no practices");
    warnings
}

async fn usage(app: &App, out: Out) -> Result<ExitCode, Failure> {
    let views = app.usage_report(&WHO).await.map_err(|e| Failure::app(e, ""))?;
    if out.json {
        let rows: Vec<Value> = views
            .iter()
            .map(|v| {
                json!({
                    "practice": { "id": v.practice.id.to_string(), "name": v.practice.name.as_str(), "status": v.practice.status.as_str() },
                    "allowances": v.allowances.iter().map(allowance_json).collect::<Vec<_>>(),
                })
            })
            .collect();
        json(&Value::Array(rows));
    } else {
        let warnings = usage_table(&views);
        if warnings > 0 {
            note(&format!(
                "{warnings} allowances are at 80% or more: sell an add-on with `ferry-admin allowance add`, \
                 or raise the plan with `ferry-admin practice set-plan`"
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

// Audit.

/// How many audit entries are read per transaction.
const AUDIT_BATCH: u32 = 1000;

fn audit_json(record: &AuditRecord) -> Value {
    let e = &record.entry;
    json!({
        "seq": record.seq,
        "at": rfc3339(e.at),
        "actor": e.actor.map(|a| a.to_string()),
        "action": e.action,
        "practice": e.practice.map(|p| p.to_string()),
        "client": e.client.map(|c| c.to_string()),
        "subject": e.subject.map(|s| s.to_string()),
        "detail": e.detail,
        "prev_hash": hex::encode(record.prev_hash),
        "hash": hex::encode(record.hash),
    })
}

async fn audit(app: &App, command: AuditCommand, out: Out) -> Result<ExitCode, Failure> {
    match command {
        AuditCommand::Export { since, practice, output } => {
            let since = moment("--since", &since)?;
            let practice = practice.as_deref().map(practice_id_of).transpose()?;
            let mut sink: Box<dyn std::io::Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .map_err(|e| Failure::Usage(format!("--output: cannot create {}: {e}", path.display())))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let bar = Bar::new();
            ferry_app::Progress::phase(&bar, "exporting audit entries", None);
            let mut after = 0;
            let mut exported = 0u64;
            loop {
                let batch = app
                    .audit_export(&WHO, since, practice, after, AUDIT_BATCH)
                    .await
                    .map_err(|e| Failure::app(e, PRACTICE_HINT))?;
                let Some(last) = batch.last() else { break };
                after = last.seq;
                for record in &batch {
                    writeln!(sink, "{}", audit_json(record))
                        .map_err(|e| Failure::Usage(format!("cannot write the export: {e}")))?;
                }
                exported += batch.len() as u64;
                ferry_app::Progress::advance(&bar, batch.len() as u64);
            }
            sink.flush().map_err(|e| Failure::Usage(format!("cannot write the export: {e}")))?;
            bar.finish();
            if output.is_some() || !out.json {
                note(&format!("exported {exported} audit entries"));
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify => verify(app, out).await,
    }
}

use std::io::Write as _;

/// The first break in the chain.
struct Broken {
    seq: i64,
    problem: String,
}

async fn verify(app: &App, out: Out) -> Result<ExitCode, Failure> {
    let total = app.installation_status(&WHO).await.map_err(|e| Failure::app(e, ""))?.counts.audit_entries;
    let bar = Bar::new();
    ferry_app::Progress::phase(&bar, "verifying the audit chain", Some(total));
    let mut prev = [0u8; 32];
    let mut after = 0;
    let mut checked = 0u64;
    let mut broken = None;
    'walk: loop {
        let batch = app.audit_chain(&WHO, after, AUDIT_BATCH).await.map_err(|e| Failure::app(e, ""))?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for record in &batch {
            checked += 1;
            ferry_app::Progress::advance(&bar, 1);
            if record.prev_hash != prev {
                broken = Some(Broken {
                    seq: record.seq,
                    problem: "it does not link to the entry before it: an entry before it was removed, \
                              or the one before was altered and re-hashed"
                        .to_owned(),
                });
                break 'walk;
            }
            if ferry_store_sql::audit_hash(&record.prev_hash, &record.entry) != record.hash {
                broken = Some(Broken {
                    seq: record.seq,
                    problem: "its content does not match its hash: the entry was altered".to_owned(),
                });
                break 'walk;
            }
            prev = record.hash;
        }
    }
    bar.finish();
    if out.json {
        json(&json!({
            "intact": broken.is_none(),
            "entries_checked": checked,
            "last_hash": if broken.is_none() && checked > 0 { Some(hex::encode(prev)) } else { None },
            "first_broken": broken.as_ref().map(|b| json!({ "seq": b.seq, "problem": b.problem })),
        }));
    } else {
        match &broken {
            None => say(&format!(
                "audit log intact: {checked} entries, each linked to the one before{}",
                if checked > 0 { format!("; last hash {}", hex::encode(prev)) } else { String::new() }
            )),
            Some(b) => say(&format!(
                "audit log BROKEN at entry {}: {}. Entries before it verified ({}). \
                 Keep the database as it is and compare it with a backup to find what changed.",
                b.seq,
                b.problem,
                checked.saturating_sub(1)
            )),
        }
    }
    Ok(if broken.is_none() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// Check and gc.

async fn check(app: &App, repair: bool, grace: Duration, yes: bool, out: Out) -> Result<ExitCode, Failure> {
    if repair {
        let question = format!(
            "Repair: recount stored bytes that differ from the documents, and delete files that no document \
             refers to (older than {} h)?",
            grace.as_secs() / 3600
        );
        if !confirm(&question, yes)? {
            note("nothing was changed");
            return Err(Failure::Refused("not confirmed".to_owned()));
        }
    }
    let bar = Bar::new();
    let report = app.check_consistency(&WHO, repair, grace, &bar).await.map_err(|e| Failure::app(e, ""))?;
    bar.finish();
    if out.json {
        json(&json!({
            "consistent": report.problems() == 0,
            "unresolved": report.unresolved(),
            "practices_checked": report.practices_checked,
            "documents_checked": report.documents_checked,
            "blobs_checked": report.blobs_checked,
            "recent_unreferenced_blobs": report.recent_unreferenced,
            "storage_mismatches": report.storage.iter().map(|s| json!({
                "practice": s.account.practice.to_string(),
                "recorded_bytes": s.account.recorded.get(),
                "document_bytes": s.account.document_bytes.get(),
                "documents": s.account.documents,
                "repaired": s.repaired,
            })).collect::<Vec<_>>(),
            "missing_blobs": report.missing_blobs.iter().map(|d| json!({
                "document": d.id.to_string(),
                "practice": d.practice.to_string(),
                "blob_key": d.blob_key,
                "size_bytes": d.size.get(),
            })).collect::<Vec<_>>(),
            "stray_blobs": report.stray_blobs.iter().map(|b| json!({
                "blob_key": b.key,
                "committed_at": rfc3339(b.committed_at),
                "deleted": b.deleted,
            })).collect::<Vec<_>>(),
        }));
    } else {
        say(&format!(
            "checked {} practices, {} documents, {} files",
            report.practices_checked, report.documents_checked, report.blobs_checked
        ));
        for s in &report.storage {
            say(&format!(
                "storage of practice {}: recorded {}, but its {} live documents hold {}{}",
                s.account.practice,
                s.account.recorded,
                s.account.documents,
                s.account.document_bytes,
                if s.repaired { " — REPAIRED (recounted)" } else { " (repairable: --repair)" }
            ));
        }
        for d in &report.missing_blobs {
            say(&format!(
                "document {} of practice {}: its file {} is MISSING from the file store (not repairable: restore \
                 the file store from a backup, or have the practice upload it again)",
                d.id, d.practice, d.blob_key
            ));
        }
        for b in &report.stray_blobs {
            say(&format!(
                "file {} (stored {}) belongs to no document{}",
                b.key,
                show_time(b.committed_at),
                if b.deleted { " — REPAIRED (deleted)" } else { " (repairable: --repair)" }
            ));
        }
        if report.recent_unreferenced > 0 {
            note(&format!(
                "{} recent files belong to no document yet; spared for the grace period (an upload may be finishing)",
                report.recent_unreferenced
            ));
        }
        if report.problems() == 0 {
            say("consistent: no problems found");
        } else if report.unresolved() == 0 {
            say(&format!("{} problems found, all repaired", report.problems()));
        } else {
            say(&format!("{} problems found, {} unresolved", report.problems(), report.unresolved()));
        }
    }
    Ok(if report.unresolved() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn gc(app: &App, grace: Duration, yes: bool, out: Out) -> Result<ExitCode, Failure> {
    let question = format!(
        "Delete expired sessions, used or expired links and reservations, and unfinished uploads and \
         document files without a document older than {} h?",
        grace.as_secs() / 3600
    );
    if !confirm(&question, yes)? {
        note("nothing was changed");
        return Err(Failure::Refused("not confirmed".to_owned()));
    }
    let bar = Bar::new();
    let report = app.housekeeping(&WHO, grace, &bar).await.map_err(|e| Failure::app(e, ""))?;
    bar.finish();
    if out.json {
        json(&json!({
            "sessions": report.purged.sessions,
            "links": report.purged.tokens,
            "login_failures": report.purged.login_failures,
            "reservations": report.reservations,
            "expired_uploads": report.expired_uploads,
            "abandoned_uploads": report.abandoned_uploads,
            "orphan_blobs": report.orphan_blobs,
        }));
    } else {
        fields(&[
            ("sessions", report.purged.sessions.to_string()),
            ("links", report.purged.tokens.to_string()),
            ("sign-in failures", report.purged.login_failures.to_string()),
            ("reservations", report.reservations.to_string()),
            ("expired resumable uploads", report.expired_uploads.to_string()),
            ("abandoned uploads", report.abandoned_uploads.to_string()),
            ("orphan files", report.orphan_blobs.to_string()),
        ]);
    }
    Ok(ExitCode::SUCCESS)
}

// Outbox.

async fn outbox(app: &App, command: OutboxCommand, out: Out) -> Result<ExitCode, Failure> {
    match command {
        OutboxCommand::List { status } => {
            let status = match status {
                OutboxStatusArg::Failed => OutboxStatus::Failed,
                OutboxStatusArg::Pending => OutboxStatus::Pending,
                OutboxStatusArg::Sent => OutboxStatus::Sent,
            };
            let messages = all(|page| async move { app.list_outbox(&WHO, status, &page).await }).await?;
            // Bodies carry single-use links: never printed.
            if out.json {
                json(&Value::Array(
                    messages
                        .iter()
                        .map(|m| {
                            json!({
                                "id": m.id.to_string(),
                                "to": m.mail.to.as_str(),
                                "subject": m.mail.subject,
                                "status": m.status.as_str(),
                                "attempts": m.attempts,
                                "next_attempt_at": rfc3339(m.next_attempt_at),
                                "last_error": m.last_error,
                                "created_at": rfc3339(m.created_at),
                            })
                        })
                        .collect(),
                ));
            } else {
                let mut table = Table::new(&["ID", "TO", "SUBJECT", "TRIES", "CREATED", "LAST ERROR"]);
                for m in &messages {
                    table.row(vec![
                        m.id.to_string(),
                        m.mail.to.as_str().to_owned(),
                        m.mail.subject.clone(),
                        m.attempts.to_string(),
                        show_time(m.created_at),
                        m.last_error.clone().unwrap_or_else(|| "-".to_owned()),
                    ]);
                }
                table.print(&format!("no {} mail", status.as_str()));
                if status == OutboxStatus::Failed && !messages.is_empty() {
                    note("fix the cause (see LAST ERROR), then `ferry-admin outbox retry --all`");
                }
            }
        }
        OutboxCommand::Retry { id: message, all: _ } => {
            let message = message
                .as_deref()
                .map(|raw| id("message", raw, "run `ferry-admin outbox list` to see the failed mail"))
                .transpose()?;
            let count = app
                .retry_mail(&WHO, message)
                .await
                .map_err(|e| Failure::app(e, "run `ferry-admin outbox list` to see the failed mail"))?;
            if out.json {
                json(&json!({ "queued": count }));
            } else {
                say(&format!("queued {count} messages again; the server's sender delivers them"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
