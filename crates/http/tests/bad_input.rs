//! Bad input gets a clear error and changes nothing (PRODUCT.md, "Security
//! and privacy").
//!
//! For every write operation of the OpenAPI document, as a caller who may
//! perform it, on objects in their scope: malformed JSON, a body that is
//! not an object or not JSON at all, missing required fields, every
//! property with the wrong type (a number for a string, a string for a
//! boolean or a number), every string property far too long (30,000
//! characters: beyond every limit, the 20,000 of free text included), numbers
//! out of range, unknown ids and the other tenant's (Q's) ids in the path and
//! in the body. Each must answer a 4xx in the error shape `{code, message,
//! field?}` — naming the field where a value is too long or out of range, and
//! never naming another field than the one to blame — and leave the database
//! exactly as it was: the full contents of every table are compared before
//! and after (so an update shows, not only an insert).
//!
//! Two tables are left out of that comparison on purpose: `audit_log`,
//! because refusals are audited by design (the guard records every 403 and
//! 404 there), and `login_failures`, where failed sign-ins are counted by
//! design. `_sqlx_migrations` never changes anyway.
//!
//! After the bad input, the valid request (the matrix's example body, with a
//! working link for the two operations that take one) is sent on the same
//! world and must succeed, so every refusal above was about the input and
//! not about the caller or the object. (`sign_in` and `set_up_first_practice`
//! have no working credentials or link in the fixture: their valid requests
//! answer 401 and 400, and their errors may then name no field.)

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use ferry_http::operations::OPERATIONS;
use poem::http::Method;
use serde_json::{Value, json};
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use support::{
    Answer, Role, SpecOp, World, check_error_shape, example_body, parse_params, property_type, spec_ops, truncate,
};

/// Who performs each write operation, on what, and what the other tenant's
/// equivalent is. `control` is what the valid request answers (`ok` for a
/// 2xx; the public operations with made-up tokens answer 400 or 401).
struct Caller {
    op: &'static str,
    role: Role,
    params: &'static str,
    foreign: &'static str,
    control: &'static str,
}

const fn c(op: &'static str, role: Role, params: &'static str, foreign: &'static str, control: &'static str) -> Caller {
    Caller { op, role, params, foreign, control }
}

use Role::{Admin as A, Anonymous as AN, ClientOwner as CO, OutsideParty as OP, StaffAssigned as SA};

#[rustfmt::skip]
const CALLERS: &[Caller] = &[
    c("sign_in",                AN, "", "", "401"),
    c("sign_out",               A,  "", "", "ok"),
    c("sign_out_everywhere",    A,  "", "", "ok"),
    c("set_password",           AN, "", "", "ok"),
    c("request_password_reset", AN, "", "", "ok"),
    c("set_up_first_practice",  AN, "", "", "400"),
    c("accept_terms",           A,  "", "", "ok"),
    c("apply_for_practice",     AN, "", "", "ok"),
    c("accept_invitation",      AN, "", "", "ok"),
    c("edit_practice",          A,  "practice=P", "practice=Q", "ok"),
    c("invite_person",          A,  "practice=P", "practice=Q", "ok"),
    c("invite_client",          A,  "practice=P", "practice=Q", "ok"),
    c("invite_outside_party",   A,  "practice=P", "practice=Q", "ok"),
    c("change_person",          A,  "practice=P user=staff_unassigned", "practice=Q user=q_staff", "ok"),
    c("reset_person_password",  A,  "practice=P user=staff_unassigned", "practice=Q user=q_staff", "ok"),
    c("assign_client",          A,  "practice=P user=staff_unassigned client=C1", "practice=Q user=q_staff client=C3", "ok"),
    c("unassign_client",        A,  "practice=P user=staff_assigned client=C1", "practice=Q user=q_staff client=C3", "ok"),
    c("grant_practice_access",  CO, "client=C1", "client=C3", "ok"),
    c("invite_client_member",   CO, "client=C1", "client=C3", "ok"),
    c("remove_client_member",   CO, "client=C1 user=c1_member", "client=C3 user=c3_owner", "ok"),
    // The owner cannot leave (409), and the fixture has no signed-in member of C1.
    c("leave_client",           CO, "client=C1", "client=C3", "409"),
    c("accept_engagement",      A,  "engagement=E_P_C4", "engagement=E_Q_C3", "ok"),
    c("decline_engagement",     A,  "engagement=E_P_C4", "engagement=E_Q_C3", "ok"),
    c("revoke_engagement",      A,  "engagement=E_P_C1", "engagement=E_Q_C3", "ok"),
    c("accept_connection",      OP, "connection=X_R_OP", "connection=X_Q_OQ", "ok"),
    c("decline_connection",     OP, "connection=X_R_OP", "connection=X_Q_OQ", "ok"),
    c("revoke_connection",      A,  "connection=X_P_OP", "connection=X_Q_OQ", "ok"),
    c("create_filing",          A,  "client=C1", "client=C3", "ok"),
    c("file_filing",            A,  "filing=F1", "filing=FQ", "ok"),
    c("cancel_filing",          A,  "filing=F1", "filing=FQ", "ok"),
    c("reopen_filing",          A,  "filing=F_FILED", "filing=FQ_FILED", "ok"),
    c("create_task",            A,  "filing=F1", "filing=FQ", "ok"),
    c("post_discussion",        A,  "filing=F1", "filing=FQ", "ok"),
    c("change_task",            A,  "task=T1", "task=TQ", "ok"),
    c("set_task_status",        A,  "task=T1", "task=TQ", "ok"),
    c("add_checklist_item",     A,  "task=T1", "task=TQ", "ok"),
    c("tick_checklist_item",    A,  "task=T1 item=I1", "task=TQ item=IQ", "ok"),
    c("remove_checklist_item",  A,  "task=T1 item=I1", "task=TQ item=IQ", "ok"),
    c("log_time",               A,  "task=T1", "task=TQ", "ok"),
    c("comment_on_task",        A,  "task=T1", "task=TQ", "ok"),
    c("delete_document",        A,  "document=D1", "document=DQ", "ok"),
    // The open transfer holds no file: even its sender is told to upload one first.
    c("complete_transfer",      SA, "batch=B_OPEN", "batch=BQ_OPEN", "400"),
];

/// Body properties that hold ids, with the other tenant's (or otherwise
/// unusable) object to put there: Q's people as holder or reviewer of P's
/// task, a suspended practice to grant access to.
#[rustfmt::skip]
const BODY_IDS: &[(&str, &str, &str)] = &[
    ("create_task",           "assignee", "q_staff"),
    ("create_task",           "reviewer", "q_admin"),
    ("create_task",           "approver", "q_admin"),
    ("change_task",           "assignee", "q_staff"),
    ("change_task",           "reviewer", "q_admin"),
    ("change_task",           "approver", "q_admin"),
    ("grant_practice_access", "practice", "S"),
];

/// More than any text limit of the API (free text allows 20,000 characters).
const OVERSIZED: usize = 30_000;

/// How one bad request is sent.
#[derive(Debug, Clone)]
enum Payload {
    /// No body.
    None,
    /// A JSON value.
    Json(Value),
    /// These bytes, labelled as JSON.
    Raw(&'static str),
    /// A body labelled as plain text.
    Text(String),
}

/// One bad request and what it must answer.
#[derive(Debug, Clone)]
struct Case {
    name: String,
    params: String,
    payload: Payload,
    /// The exact status, where the contract names one.
    status: Option<u16>,
    /// The field the error must name.
    field: Option<String>,
    /// When the error names a field, it must be this one (without requiring it).
    field_if_any: Option<String>,
}

impl Case {
    fn new(name: impl Into<String>, params: &str, payload: Payload) -> Self {
        Self { name: name.into(), params: params.to_owned(), payload, status: None, field: None, field_if_any: None }
    }
    const fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }
    fn field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }
    fn field_if_any(mut self, field: &str) -> Self {
        self.field_if_any = Some(field.to_owned());
        self
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let started = Instant::now();
    let spec = World::new().await.spec();
    let mut failures = Vec::new();
    let mut cases_run = 0;

    let writes: Vec<SpecOp> = spec_ops(&spec).into_iter().filter(|op| !op.is_read()).collect();
    for o in OPERATIONS.iter().filter(|o| o.method != Method::GET) {
        if !writes.iter().any(|w| w.id == o.id) {
            failures.push(format!("{}: in operations.rs but not in the OpenAPI document (no handler yet?)", o.id));
        }
    }
    for op in &writes {
        let Some(caller) = CALLERS.iter().find(|c| c.op == op.id) else {
            failures.push(format!("{}: a write operation without a caller in CALLERS", op.id));
            continue;
        };
        let world = World::new().await;
        let cases = cases_for(&world, &spec, op, caller);
        let db = Snapshotter::open(&world).await;
        let mut before = db.snapshot().await;
        for case in &cases {
            cases_run += 1;
            let answer = send(&world, caller.role, op, case).await;
            let label = format!("{} {} `{}` [{}]", op.id, op.method, case.params, case.name);
            failures.extend(judge(&label, case, &answer));
            let after = db.snapshot().await;
            if let Some(change) = difference(&before, &after) {
                failures.push(format!(
                    "{label}: CHANGED THE DATABASE ({change}); answered {} {}",
                    answer.status,
                    truncate(&answer.text)
                ));
                // Compare the next cases with what is there now, so that each change is reported once.
                before = after;
            }
        }
        // The valid request still works: the refusals were about the input.
        let control =
            send(&world, caller.role, op, &Case::new("valid", caller.params, valid_payload(&world, op))).await;
        let ok = match caller.control {
            "ok" => control.status.is_success(),
            status => control.status.as_str() == status,
        };
        if !ok {
            failures.push(format!(
                "{} `{}` [the valid request]: expected {}, got {} {}",
                op.id,
                caller.params,
                caller.control,
                control.status,
                truncate(&control.text)
            ));
        }
        db.close().await;
    }
    eprintln!("bad input: {} write operations, {cases_run} cases in {:.1?}", writes.len(), started.elapsed());
    assert!(failures.is_empty(), "{} failures:\n  {}", failures.len(), failures.join("\n  "));
}

/// Unknown paths and methods answer in the error shape too.
#[tokio::test]
async fn unknown_paths_and_methods_answer_in_the_error_shape() {
    let world = World::new().await;
    let mut failures = Vec::new();
    for (role, method, path, status) in [
        (Role::Admin, Method::GET, "/no/such/thing", 404),
        (Role::Anonymous, Method::GET, "/no/such/thing", 404),
        (Role::Admin, Method::DELETE, "/me", 405),
        (Role::Admin, Method::GET, &*format!("/clients/{}/nothing", world.id("C1")), 404),
    ] {
        let answer = world.send(role, &method, path, None).await;
        if answer.status.as_u16() != status {
            failures.push(format!("{method} {path} as {}: expected {status}, got {}", role.short(), answer.status));
        }
        if let Err(e) = check_error_shape(&answer) {
            failures.push(format!("{method} {path} as {}: {e}", role.short()));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n  {}", failures.len(), failures.join("\n  "));
}

fn valid_payload(world: &World, op: &SpecOp) -> Payload {
    match valid_body(world, &op.id) {
        Some(body) if op.body.is_some() => Payload::Json(body),
        _ => Payload::None,
    }
}

/// The matrix's example body, with a working link where the operation takes
/// one, and new names and addresses each time (so that a case that
/// wrongly succeeds does not make the next one fail for another reason).
fn valid_body(world: &World, op: &str) -> Option<Value> {
    let mut body = example_body(op, world, unique())?;
    match op {
        "set_password" => body["token"] = json!(world.link("set_password_link")),
        "accept_invitation" => body["token"] = json!(world.link("invitation_link")),
        _ => {}
    }
    Some(body)
}

fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1_000_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Every bad request for `op`.
fn cases_for(world: &World, spec: &Value, op: &SpecOp, caller: &Caller) -> Vec<Case> {
    let mut cases = Vec::new();
    let valid = || valid_body(world, &op.id).unwrap_or_else(|| json!({}));
    let body = |value: Value| if op.body.is_some() { Payload::Json(value) } else { Payload::None };
    let own = caller.params;

    // The path: unknown ids, and the other tenant's ids (each alone, then all).
    let params = parse_params(own);
    let foreign = parse_params(caller.foreign);
    for name in params.keys() {
        let mut changed = params.clone();
        changed.insert(name.clone(), uuid_v7());
        cases.push(Case::new(format!("unknown {name} id in the path"), &join(&changed), body(valid())).status(404));
        changed.insert(name.clone(), "not-an-id".to_owned());
        cases.push(Case::new(format!("{name} in the path is not an id"), &join(&changed), body(valid())).status(404));
        let mut changed = params.clone();
        changed.insert(name.clone(), foreign[name].clone());
        cases.push(
            Case::new(format!("the other tenant's {name} in the path"), &join(&changed), body(valid())).status(404),
        );
    }
    if params.len() > 1 {
        cases.push(Case::new("the other tenant's ids in the whole path", caller.foreign, body(valid())).status(404));
    }

    let Some(schema) = &op.body else { return cases };
    // The body as a whole.
    cases.push(Case::new("malformed JSON", own, Payload::Raw("{\"oops\": ")).status(400));
    cases.push(Case::new("JSON that is not an object", own, Payload::Raw("[1, 2, 3]")).status(400));
    cases.push(Case::new("a body labelled text/plain", own, Payload::Text(valid().to_string())).status(415));
    let required: Vec<String> =
        schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    if !required.is_empty() {
        cases.push(Case::new("an empty object", own, Payload::Json(json!({}))).status(400));
    }
    for name in &required {
        let mut body = valid();
        body.as_object_mut().expect("an object").remove(name);
        cases.push(Case::new(format!("missing {name}"), own, Payload::Json(body)).status(400).field_if_any(name));
    }
    // Each property: the wrong type, and far too long where it is text.
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let kind = property_type(spec, property).unwrap_or_default();
        let wrong = match kind.as_str() {
            "string" => json!(12345),
            "boolean" => json!("yes"),
            "integer" | "number" => json!("many"),
            _ => json!(true),
        };
        let mut body = valid();
        body[name.as_str()] = wrong;
        // A type error is one field's fault too, but the JSON parser's message may not say which:
        // the field is required where the value is too long or invalid, checked where named.
        cases.push(
            Case::new(format!("{name} of the wrong type"), own, Payload::Json(body)).status(400).field_if_any(name),
        );
        if kind == "string" {
            let mut body = valid();
            body[name.as_str()] = json!("x".repeat(OVERSIZED));
            cases.push(
                Case::new(format!("{name} of {OVERSIZED} characters"), own, Payload::Json(body))
                    .status(400)
                    .field(name),
            );
        }
        if kind == "integer" {
            let mut body = valid();
            body[name.as_str()] = json!(-1);
            cases.push(Case::new(format!("{name} negative"), own, Payload::Json(body)).status(400).field(name));
            let mut body = valid();
            body[name.as_str()] = json!(u64::MAX);
            cases.push(Case::new(format!("{name} huge"), own, Payload::Json(body)).status(400).field(name));
        }
    }
    // Ids in the body: unknown, and the other tenant's.
    for &(_, field, other) in BODY_IDS.iter().filter(|(id, _, _)| *id == op.id) {
        let mut body = valid();
        body[field] = json!(uuid_v7());
        cases.push(Case::new(format!("unknown {field} id in the body"), own, Payload::Json(body)).field_if_any(field));
        let mut body = valid();
        body[field] = json!(world.id(other));
        cases.push(Case::new(format!("{field} = {other} in the body"), own, Payload::Json(body)).field_if_any(field));
    }
    // With a made-up link the link is refused before the other fields are
    // looked at: the error may then name no field (but never another one).
    if caller.control != "ok" {
        for case in &mut cases {
            if let Some(field) = case.field.take() {
                case.field_if_any = Some(field);
            }
        }
    }
    cases
}

fn join(params: &BTreeMap<String, String>) -> String {
    params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

fn uuid_v7() -> String {
    use ferry_ports::clock::IdGenerator;
    ferry_app::UuidV7.new_id().to_string()
}

async fn send(world: &World, role: Role, op: &SpecOp, case: &Case) -> Answer {
    let path = world.fill(&op.path, &case.params);
    match &case.payload {
        Payload::None => world.send(role, &op.method, &path, None).await,
        Payload::Json(body) => world.send(role, &op.method, &path, Some(body)).await,
        Payload::Raw(raw) => world.send_raw(role, &op.method, &path, raw).await,
        Payload::Text(text) => world.send_text(role, &op.method, &path, text).await,
    }
}

/// What is wrong with an answer to a bad request.
fn judge(label: &str, case: &Case, answer: &Answer) -> Vec<String> {
    let mut wrong = Vec::new();
    let status = answer.status.as_u16();
    let said = || format!("answered {status} {}", truncate(&answer.text));
    if !(400..500).contains(&status) {
        wrong.push(format!("{label}: expected a 4xx, {}", said()));
        return wrong;
    }
    if let Some(expected) = case.status
        && expected != status
    {
        wrong.push(format!("{label}: expected {expected}, {}", said()));
    }
    if let Err(e) = check_error_shape(answer) {
        wrong.push(format!("{label}: {e}"));
        return wrong;
    }
    let named = answer.json.get("field").and_then(Value::as_str);
    if let Some(field) = &case.field
        && named != Some(field.as_str())
    {
        wrong.push(format!("{label}: the error should name the field `{field}`, {}", said()));
    }
    if let (Some(field), Some(named)) = (&case.field_if_any, named)
        && named != field
    {
        wrong.push(format!("{label}: the error names `{named}`, not `{field}`: {}", said()));
    }
    wrong
}

// ---------------------------------------------------------------------------
// The database, seen raw.

/// Tables whose changes on a refusal are by design (see the module docs).
const NOT_COMPARED: &[&str] = &["audit_log", "login_failures", "_sqlx_migrations"];

/// Every row of every compared table, as text, sorted, by table.
type Snapshot = BTreeMap<String, Vec<String>>;

struct Snapshotter {
    pool: SqlitePool,
    queries: Vec<(String, String)>,
}

impl Snapshotter {
    async fn open(world: &World) -> Self {
        let options = SqliteConnectOptions::new().filename(&world.db).read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .expect("a raw look at the database");
        let tables: Vec<String> = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .expect("the tables")
        .iter()
        .map(|row| row.get::<String, _>(0))
        .filter(|name| !NOT_COMPARED.contains(&name.as_str()))
        .collect();
        assert!(tables.iter().any(|t| t == "users"), "the schema has the expected tables: {tables:?}");
        let mut queries = Vec::new();
        for table in tables {
            let columns: Vec<String> =
                sqlx::query(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))
                    .fetch_all(&pool)
                    .await
                    .expect("the columns")
                    .iter()
                    .map(|row| row.get::<String, _>(0))
                    .collect();
            let row = columns.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || '|' || ");
            queries.push((table.clone(), format!("SELECT {row} FROM \"{table}\"")));
        }
        Self { pool, queries }
    }

    async fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::new();
        for (table, query) in &self.queries {
            let mut rows: Vec<String> = sqlx::query(query)
                .fetch_all(&self.pool)
                .await
                .expect("read a table")
                .iter()
                .map(|row| row.get::<String, _>(0))
                .collect();
            rows.sort();
            snapshot.insert(table.clone(), rows);
        }
        snapshot
    }

    async fn close(self) {
        self.pool.close().await;
    }
}

/// The first difference between two snapshots, in words.
fn difference(before: &Snapshot, after: &Snapshot) -> Option<String> {
    for (table, rows) in before {
        let now = &after[table];
        if rows != now {
            let added = now.iter().find(|r| !rows.contains(r));
            let removed = rows.iter().find(|r| !now.contains(r));
            return Some(format!(
                "{table}: {} rows before, {} after; first new or changed row {:?}; first removed or old row {:?}",
                rows.len(),
                now.len(),
                added.map(|r| truncate(r)),
                removed.map(|r| truncate(r)),
            ));
        }
    }
    None
}
