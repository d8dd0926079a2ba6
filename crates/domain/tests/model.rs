//! Model test of the access rules (PRODUCT.md "Access rules" and "Bookkeeper
//! portal"), in the style of cedar's `PolicySetModel` + `check_equiv`.
//!
//! A small *world* — practices and their people, clients and their users,
//! engagements, client assignments, filings and tasks — evolves under random
//! events. After every event, for every person, client and action, two
//! answers must agree:
//!
//! - the domain's [`decide`], fed with facts derived from the world the way a
//!   SQL store would derive them ([`store_client_facts`], [`store_task_facts`]);
//! - a naive [`reference`] written straight from PRODUCT.md and API-MAP.md,
//!   which looks at the world directly. It shares nothing with the domain's
//!   decision code: not its role table, not `ClientFacts`, not its helpers
//!   such as `is_active()`. Where the two were written from the same text by
//!   different hands, a disagreement is a bug in one of them.
//!
//! Besides allow/deny, whenever the reference says the person cannot open the
//! client at all, the domain must answer "not found", so that the client's
//! existence does not leak (API-MAP.md: "an object out of the caller's scope
//! is 404, never 403").

use std::collections::BTreeSet;
use std::fmt::Write as _;

use Outcome::{Allow, Forbidden, NotFound};
use ferry_domain::access::{
    Action, BOOKKEEPER_ALLOWLIST, ClientFacts, Decision, Outcome, Resource, Scope, TaskFacts, decide,
};
use ferry_domain::consent::{ConsentState, Side};
use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::{Actor, ClientRole, PracticeUser, Role};
use ferry_domain::practice::PracticeStatus;
use ferry_domain::work::FilingStatus;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use uuid::Uuid;

// ---------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------

/// Caps that keep each step's exhaustive check cheap.
const MAX_FILINGS: usize = 6;
const MAX_TASKS: usize = 10;

/// A user of a practice.
#[derive(Debug, Clone)]
struct PracticeMember {
    practice: usize,
    role: Role,
    active: bool,
}

/// A user of one or more clients.
#[derive(Debug, Clone)]
struct ClientMember {
    /// Indexed by client: this user's role there, if they belong to it.
    memberships: Vec<Option<ClientRole>>,
    active: bool,
}

/// A piece of a practice's work for one client.
#[derive(Debug, Clone)]
struct Filing {
    practice: usize,
    client: usize,
    status: FilingStatus,
}

/// A step of a filing, held by at most one practice user.
#[derive(Debug, Clone)]
struct Task {
    filing: usize,
    assignee: Option<usize>,
}

/// Everything the access rules depend on, as plain rows. Every reference to
/// another row is an index into the matching `Vec`.
#[derive(Debug, Clone)]
struct World {
    practices: Vec<PracticeStatus>,
    practice_users: Vec<PracticeMember>,
    clients: usize,
    client_users: Vec<ClientMember>,
    outside_party_active: bool,
    /// `engagements[practice][client]`: `None` when the two never had one.
    engagements: Vec<Vec<Option<ConsentState>>>,
    /// (practice user, client) pairs an admin assigned.
    client_assignments: BTreeSet<(usize, usize)>,
    filings: Vec<Filing>,
    tasks: Vec<Task>,
}

/// Someone who may ask for something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Person {
    Operator,
    Practice(usize),
    Client(usize),
    Outside,
}

impl World {
    /// Everyone, including the operator and the outside party, who must never
    /// open a client.
    fn people(&self) -> Vec<Person> {
        let mut people = vec![Person::Operator, Person::Outside];
        people.extend((0..self.practice_users.len()).map(Person::Practice));
        people.extend((0..self.client_users.len()).map(Person::Client));
        people
    }

    /// The people an admin or the operator can deactivate and reactivate.
    fn accounts(&self) -> Vec<Person> {
        self.people().into_iter().filter(|p| *p != Person::Operator).collect()
    }

    fn users_of(&self, practice: usize) -> Vec<usize> {
        (0..self.practice_users.len()).filter(|&u| self.practice_users[u].practice == practice).collect()
    }

    fn label(&self, person: Person) -> String {
        match person {
            Person::Operator => "the operator".to_owned(),
            Person::Outside => {
                format!("the outside party{}", if self.outside_party_active { "" } else { " (inactive)" })
            }
            Person::Practice(u) => {
                let user = &self.practice_users[u];
                let inactive = if user.active { "" } else { ", inactive" };
                format!("u{u} ({} of p{}{inactive})", user.role, user.practice)
            }
            Person::Client(u) => {
                let user = &self.client_users[u];
                let roles: Vec<String> = (0..self.clients)
                    .filter_map(|c| user.memberships[c].map(|r| format!("{} of c{c}", r.as_str())))
                    .collect();
                let inactive = if user.active { "" } else { ", inactive" };
                format!(
                    "cu{u} ({}{inactive})",
                    if roles.is_empty() { "no client".to_owned() } else { roles.join(", ") }
                )
            }
        }
    }

    fn filing_label(&self, f: usize) -> String {
        let filing = &self.filings[f];
        format!("filing #{f} (p{}/c{}, {})", filing.practice, filing.client, filing.status)
    }

    fn task_label(&self, t: usize) -> String {
        let task = &self.tasks[t];
        let holder = task.assignee.map_or_else(|| "nobody".to_owned(), |u| format!("u{u}"));
        format!("task #{t} on {}, held by {holder}", self.filing_label(task.filing))
    }

    /// The whole world, one row a line, for failure reports.
    fn summary(&self) -> String {
        let mut out = String::new();
        for (p, status) in self.practices.iter().enumerate() {
            let _ = writeln!(out, "  practice p{p}: {status}");
        }
        for person in self.people() {
            let _ = writeln!(out, "  person: {}", self.label(person));
        }
        for (p, row) in self.engagements.iter().enumerate() {
            for (c, state) in row.iter().enumerate() {
                if let Some(state) = state {
                    let _ = writeln!(out, "  engagement p{p}–c{c}: {state}");
                }
            }
        }
        for (u, c) in &self.client_assignments {
            let _ = writeln!(out, "  client assignment: u{u} → c{c}");
        }
        for f in 0..self.filings.len() {
            let _ = writeln!(out, "  {}", self.filing_label(f));
        }
        for t in 0..self.tasks.len() {
            let _ = writeln!(out, "  {}", self.task_label(t));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// Something that happens to the world. Every number is a *pick*: it is
/// reduced modulo the size of what it picks from when the event is applied,
/// so any sequence applies to any world (which grows as it goes) and shrinks
/// toward the first row.
///
/// The world does not police *who* performs an event: access depends only on
/// the resulting state, and odd-looking states (a filing of a client no
/// longer engaged, a client assignment left behind when staff became a
/// bookkeeper) arise anyway. It does refuse what the product itself refuses
/// whoever asks (engaging an unapproved practice, filing a filed filing).
#[derive(Debug, Clone, Copy)]
enum Event {
    /// Either side accepts: the engagement becomes active.
    Engage {
        practice: usize,
        client: usize,
    },
    /// One side asks (again): the engagement waits for an answer.
    Request {
        practice: usize,
        client: usize,
        by: Side,
    },
    /// One side ends the engagement or withdraws its request.
    Revoke {
        practice: usize,
        client: usize,
        by: Side,
    },
    AssignClient {
        user: usize,
        client: usize,
    },
    UnassignClient {
        user: usize,
        client: usize,
    },
    CreateFiling {
        practice: usize,
        client: usize,
    },
    /// `assignee` picks among the users of the filing's practice.
    CreateTask {
        filing: usize,
        assignee: Option<usize>,
    },
    /// Assign, reassign (`to` picks among the users of the filing's practice) or unassign.
    AssignTask {
        task: usize,
        to: Option<usize>,
    },
    File {
        filing: usize,
    },
    Cancel {
        filing: usize,
    },
    Reopen {
        filing: usize,
    },
    ApprovePractice {
        practice: usize,
    },
    SuspendPractice {
        practice: usize,
    },
    ReinstatePractice {
        practice: usize,
    },
    /// `account` picks among [`World::accounts`].
    Deactivate {
        account: usize,
    },
    Reactivate {
        account: usize,
    },
    ChangeRole {
        user: usize,
        role: Role,
    },
}

impl World {
    /// Applies `event` and says what happened, with every pick resolved, for
    /// the history printed on failure.
    fn apply(&mut self, event: Event) -> String {
        match event {
            Event::Engage { practice, client } => {
                let (p, c) = (practice % self.practices.len(), client % self.clients);
                // Rule 1: only an approved practice can be granted access.
                if self.practices[p] != PracticeStatus::Approved {
                    return format!("engage p{p}–c{c}: refused, p{p} is {}", self.practices[p]);
                }
                self.engagements[p][c] = Some(ConsentState::Active);
                format!("engage p{p}–c{c}: active")
            }
            Event::Request { practice, client, by } => {
                let (p, c) = (practice % self.practices.len(), client % self.clients);
                if self.practices[p] != PracticeStatus::Approved {
                    return format!("request p{p}–c{c}: refused, p{p} is {}", self.practices[p]);
                }
                match self.engagements[p][c] {
                    Some(ConsentState::Active | ConsentState::Requested { .. }) => {
                        format!("request p{p}–c{c}: no change, already active or asked for")
                    }
                    _ => {
                        self.engagements[p][c] = Some(ConsentState::Requested { by });
                        format!("request p{p}–c{c} by the {}", by.as_str())
                    }
                }
            }
            Event::Revoke { practice, client, by } => {
                let (p, c) = (practice % self.practices.len(), client % self.clients);
                match self.engagements[p][c] {
                    Some(ConsentState::Active | ConsentState::Requested { .. }) => {
                        self.engagements[p][c] = Some(ConsentState::Revoked { by });
                        format!("revoke p{p}–c{c} by the {}", by.as_str())
                    }
                    _ => format!("revoke p{p}–c{c}: no change, nothing to end"),
                }
            }
            Event::AssignClient { user, client } => {
                let (u, c) = (user % self.practice_users.len(), client % self.clients);
                self.client_assignments.insert((u, c));
                format!("assign c{c} to {}", self.label(Person::Practice(u)))
            }
            Event::UnassignClient { user, client } => {
                let (u, c) = (user % self.practice_users.len(), client % self.clients);
                self.client_assignments.remove(&(u, c));
                format!("unassign c{c} from {}", self.label(Person::Practice(u)))
            }
            Event::CreateFiling { practice, client } => {
                let (p, c) = (practice % self.practices.len(), client % self.clients);
                if self.filings.len() >= MAX_FILINGS {
                    return "create filing: skipped, enough filings".to_owned();
                }
                self.filings.push(Filing { practice: p, client: c, status: FilingStatus::Active });
                format!("create {}", self.filing_label(self.filings.len() - 1))
            }
            Event::CreateTask { filing, assignee } => {
                if self.filings.is_empty() || self.tasks.len() >= MAX_TASKS {
                    return "create task: skipped, no filing or enough tasks".to_owned();
                }
                let f = filing % self.filings.len();
                let assignee = assignee.map(|pick| self.pick_assignee(f, pick));
                self.tasks.push(Task { filing: f, assignee });
                format!("create {}", self.task_label(self.tasks.len() - 1))
            }
            Event::AssignTask { task, to } => {
                if self.tasks.is_empty() {
                    return "assign task: skipped, no task".to_owned();
                }
                let t = task % self.tasks.len();
                let before = self.task_label(t);
                self.tasks[t].assignee = to.map(|pick| self.pick_assignee(self.tasks[t].filing, pick));
                let holder = self.tasks[t].assignee.map_or_else(|| "nobody".to_owned(), |u| format!("u{u}"));
                format!("reassign {before} → {holder}")
            }
            Event::File { filing } => self.move_filing(filing, "file", FilingStatus::Filed),
            Event::Cancel { filing } => self.move_filing(filing, "cancel", FilingStatus::Cancelled),
            Event::Reopen { filing } => self.move_filing(filing, "reopen", FilingStatus::Active),
            Event::ApprovePractice { practice } => {
                self.move_practice(practice, "approve", PracticeStatus::Pending, PracticeStatus::Approved)
            }
            Event::SuspendPractice { practice } => {
                self.move_practice(practice, "suspend", PracticeStatus::Approved, PracticeStatus::Suspended)
            }
            Event::ReinstatePractice { practice } => {
                self.move_practice(practice, "reinstate", PracticeStatus::Suspended, PracticeStatus::Approved)
            }
            Event::Deactivate { account } => self.set_active(account, false),
            Event::Reactivate { account } => self.set_active(account, true),
            Event::ChangeRole { user, role } => {
                let u = user % self.practice_users.len();
                let before = self.label(Person::Practice(u));
                self.practice_users[u].role = role;
                format!("make {before} a {role}")
            }
        }
    }

    /// A task goes to a user of its filing's practice, as the assignee picker
    /// offers; every practice has at least its admin, staff member and bookkeeper.
    fn pick_assignee(&self, filing: usize, pick: usize) -> usize {
        let users = self.users_of(self.filings[filing].practice);
        users[pick % users.len()]
    }

    fn move_filing(&mut self, filing: usize, verb: &str, to: FilingStatus) -> String {
        if self.filings.is_empty() {
            return format!("{verb} filing: skipped, no filing");
        }
        let f = filing % self.filings.len();
        let before = self.filing_label(f);
        // File and cancel start from active; reopen starts from filed or cancelled.
        let fits = (self.filings[f].status == FilingStatus::Active) != (to == FilingStatus::Active);
        if !fits {
            return format!("{verb} {before}: refused");
        }
        self.filings[f].status = to;
        format!("{verb} {before}")
    }

    fn move_practice(&mut self, practice: usize, verb: &str, from: PracticeStatus, to: PracticeStatus) -> String {
        let p = practice % self.practices.len();
        if self.practices[p] != from {
            return format!("{verb} p{p}: refused, it is {}", self.practices[p]);
        }
        self.practices[p] = to;
        format!("{verb} p{p}")
    }

    fn set_active(&mut self, account: usize, active: bool) -> String {
        let accounts = self.accounts();
        let person = accounts[account % accounts.len()];
        let before = self.label(person);
        match person {
            Person::Practice(u) => self.practice_users[u].active = active,
            Person::Client(u) => self.client_users[u].active = active,
            Person::Outside => self.outside_party_active = active,
            Person::Operator => unreachable!("the operator is not an account"),
        }
        format!("{} {before}", if active { "reactivate" } else { "deactivate" })
    }
}

// ---------------------------------------------------------------------------
// The store: facts as a SQL adapter would load them for one request
// ---------------------------------------------------------------------------

fn user_id(person: Person) -> UserId {
    let n = match person {
        Person::Operator => unreachable!("the operator has no user id"),
        Person::Practice(u) => 1_000 + u,
        Person::Client(u) => 2_000 + u,
        Person::Outside => 3_000,
    };
    UserId::from_uuid(Uuid::from_u128(n as u128))
}

fn practice_id(p: usize) -> PracticeId {
    PracticeId::from_uuid(Uuid::from_u128(100 + p as u128))
}

fn client_id(c: usize) -> ClientId {
    ClientId::from_uuid(Uuid::from_u128(200 + c as u128))
}

/// The signed-in person, with their practice's status joined in.
fn store_actor(world: &World, person: Person) -> Actor {
    match person {
        Person::Operator => Actor::Operator,
        Person::Practice(u) => {
            let user = &world.practice_users[u];
            Actor::Practice(PracticeUser {
                user: user_id(person),
                practice: practice_id(user.practice),
                role: user.role,
                active: user.active,
                practice_status: world.practices[user.practice],
            })
        }
        Person::Client(u) => Actor::Client { user: user_id(person), active: world.client_users[u].active },
        Person::Outside => Actor::Outside { user: user_id(person), active: world.outside_party_active },
    }
}

/// One row per (person, client), as the store's single indexed query would
/// return it:
///
/// ```sql
/// SELECT e.state,
///        EXISTS (SELECT 1 FROM client_assignments a WHERE a.user_id = $u AND a.client_id = $c),
///        (SELECT count(*) FROM tasks t JOIN filings f ON f.id = t.filing_id
///          WHERE t.assignee = $u AND f.client_id = $c AND f.practice_id = $p AND f.status = 'active'),
///        m.role
///   FROM ... LEFT JOIN engagements e ON (e.practice_id, e.client_id) = ($p, $c)
///            LEFT JOIN client_members m ON (m.user_id, m.client_id) = ($u, $c)
/// ```
fn store_client_facts(world: &World, person: Person, client: usize) -> ClientFacts {
    let (engagement, assigned, active_tasks_held, membership) = match person {
        Person::Practice(u) => {
            let practice = world.practice_users[u].practice;
            let held = world
                .tasks
                .iter()
                .filter(|t| t.assignee == Some(u))
                .map(|t| &world.filings[t.filing])
                .filter(|f| f.client == client && f.practice == practice && f.status == FilingStatus::Active)
                .count();
            (
                world.engagements[practice][client],
                world.client_assignments.contains(&(u, client)),
                u32::try_from(held).expect("a handful of tasks"),
                None,
            )
        }
        Person::Client(u) => (None, false, 0, world.client_users[u].memberships[client]),
        Person::Operator | Person::Outside => (None, false, 0, None),
    };
    // A struct literal rather than `ClientFacts::unrelated`, so that a new
    // fact fails to compile here instead of silently defaulting.
    ClientFacts { client: client_id(client), engagement, assigned, active_tasks_held, membership }
}

fn store_task_facts(world: &World, task: usize) -> TaskFacts {
    let task = &world.tasks[task];
    TaskFacts {
        assignee: task.assignee.map(|u| user_id(Person::Practice(u))),
        filing: world.filings[task.filing].status,
    }
}

fn decision_on_client(world: &World, person: Person, client: usize, action: Action) -> Decision {
    let facts = store_client_facts(world, person, client);
    decide(&store_actor(world, person), action, Resource::Client(&facts))
}

fn decision_on_task(world: &World, person: Person, task: usize, action: Action) -> Decision {
    let client = world.filings[world.tasks[task].filing].client;
    let facts = store_client_facts(world, person, client);
    let task_facts = store_task_facts(world, task);
    decide(&store_actor(world, person), action, Resource::Task(&facts, &task_facts))
}

// ---------------------------------------------------------------------------
// The reference: PRODUCT.md and API-MAP.md, read naively
// ---------------------------------------------------------------------------

mod reference {
    use super::{Action, ClientRole, ConsentState, FilingStatus, Person, PracticeStatus, Role, World};

    /// Rules 4 and 5: may `person` open `client` at all?
    pub(super) fn can_open(world: &World, person: Person, client: usize) -> bool {
        match person {
            // The operator works through the admin CLI; outside parties are
            // reached over connections (rule 3). Neither opens a client.
            Person::Operator | Person::Outside => false,
            // Rule 5: a client user sees their own client; rule 6: a
            // deactivated user is out at once.
            Person::Client(u) => {
                let user = &world.client_users[u];
                user.active && user.memberships[client].is_some()
            }
            Person::Practice(u) => {
                let user = &world.practice_users[u];
                // Rule 4: "an assigned task on an active filing of C".
                let holds_active_task = world.tasks.iter().any(|task| {
                    let filing = &world.filings[task.filing];
                    task.assignee == Some(u) && filing.client == client && filing.status == FilingStatus::Active
                });
                let by_role = match user.role {
                    Role::Admin => true,
                    Role::Staff => world.client_assignments.contains(&(u, client)) || holds_active_task,
                    Role::Bookkeeper => holds_active_task,
                };
                user.active // rule 6
                    && world.practices[user.practice] == PracticeStatus::Approved // rule 1
                    && world.engagements[user.practice][client] == Some(ConsentState::Active) // rule 2
                    && by_role // rule 4
            }
        }
    }

    /// How a bookkeeper may take an action.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) enum Bookkeeper {
        /// Not marked **bk** in API-MAP.md: refused at the portal boundary.
        Never,
        /// Marked **bk**: read-only context of a client in scope, or posting to a discussion.
        InScope,
        /// "On their own tasks: change status, tick checklist items, log time, add comments."
        OwnTasksOnly,
    }

    /// Who may take an action on a client they can open.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Who {
        admin: bool,
        staff: bool,
        pub(super) bookkeeper: Bookkeeper,
        owner: bool,
        member: bool,
    }

    /// Client details and documents: "in scope" on both sides.
    const EVERYONE_IN_SCOPE: Who =
        Who { admin: true, staff: true, bookkeeper: Bookkeeper::InScope, owner: true, member: true };
    /// Practice internals (rule 5), read-only for bookkeepers.
    const PRACTICE_SIDE: Who =
        Who { admin: true, staff: true, bookkeeper: Bookkeeper::InScope, owner: false, member: false };
    /// "Admins and staff in scope create filings and tasks, assign, set due dates, file, cancel and reopen."
    const ADMIN_AND_STAFF: Who =
        Who { admin: true, staff: true, bookkeeper: Bookkeeper::Never, owner: false, member: false };
    /// Task work the assignee does, and admins and staff too.
    const TASK_WORK: Who =
        Who { admin: true, staff: true, bookkeeper: Bookkeeper::OwnTasksOnly, owner: false, member: false };
    const CLIENT_USERS: Who =
        Who { admin: false, staff: false, bookkeeper: Bookkeeper::Never, owner: true, member: true };
    /// "an owner (grants and revokes practice access, invites colleagues)".
    const CLIENT_OWNER: Who =
        Who { admin: false, staff: false, bookkeeper: Bookkeeper::Never, owner: true, member: false };

    /// The role table, by hand from API-MAP.md's "who" column and **bk** marks.
    pub(super) fn who_may(action: Action) -> Who {
        use Action::*;
        match action {
            // GET /clients/{c}, GET /clients/{c}/documents: "in scope", **bk**.
            ViewClient | ListDocuments => EVERYONE_IN_SCOPE,
            // "in scope (practice side)", **bk**: filings, tasks, the email log
            // and the discussion are practice internals (rule 5).
            ListFilings | ViewFiling | ViewTask | ViewEmailLog | ReadDiscussion | PostDiscussion => PRACTICE_SIDE,
            // "They cannot file, cancel or reopen filings, upload, send ...".
            CreateFiling | ChangeFilingStatus | CreateTask | SendToClient => ADMIN_AND_STAFF,
            // GET, POST /clients/{c}/members: "client owner", for listing as for inviting;
            // granting practice access is the owner's too.
            // DELETE /clients/{c}/members/{u}: the owner removes a member.
            ListClientMembers | InviteClientMember | RemoveClientMember | GrantPracticeAccess => CLIENT_OWNER,
            // GET /clients/{c}/recipients and POST /transfers: "client users";
            // POST /clients/{c}/leave: any user of the client leaves it.
            ListRecipients | SendToPractice | LeaveClient => CLIENT_USERS,
            ChangeTaskStatus | TickChecklistItem | LogTime | CommentOnTask => TASK_WORK,
            // "They cannot ... assign or reassign tasks, or set due dates."
            AssignTask | SetTaskDueDate | SetTaskReviewers | EditChecklist => ADMIN_AND_STAFF,
            other => panic!("the reference has no row for {other}: add one from API-MAP.md"),
        }
    }

    /// Layer 1: is this a bookkeeper asking for an action not marked **bk**?
    /// Such a request is refused whatever the resource.
    pub(super) fn at_portal_boundary(world: &World, person: Person, action: Action) -> bool {
        matches!(person, Person::Practice(u) if world.practice_users[u].role == Role::Bookkeeper)
            && who_may(action).bookkeeper == Bookkeeper::Never
    }

    /// May `person` take `action` on `client`, or on task `task` of it?
    pub(super) fn allows(world: &World, person: Person, client: usize, action: Action, task: Option<usize>) -> bool {
        if !can_open(world, person, client) {
            return false;
        }
        let who = who_may(action);
        let role_may = match person {
            Person::Operator | Person::Outside => false,
            Person::Practice(u) => match world.practice_users[u].role {
                Role::Admin => who.admin,
                Role::Staff => who.staff,
                Role::Bookkeeper => match who.bookkeeper {
                    Bookkeeper::Never => false,
                    Bookkeeper::InScope => true,
                    Bookkeeper::OwnTasksOnly => task.is_some_and(|t| world.tasks[t].assignee == Some(u)),
                },
            },
            Person::Client(u) => match world.client_users[u].memberships[client] {
                Some(ClientRole::Owner) => who.owner,
                Some(ClientRole::Member) => who.member,
                None => false,
            },
        };
        // Every task action changes the task; a filed or cancelled filing's
        // tasks are left alone until it is reopened.
        let task_open = task.is_none_or(|t| world.filings[world.tasks[t].filing].status == FilingStatus::Active);
        role_may && task_open
    }
}

// ---------------------------------------------------------------------------
// check_equiv
// ---------------------------------------------------------------------------

fn actions_of(scope: Scope) -> Vec<Action> {
    Action::ALL.iter().copied().filter(|a| a.scope() == scope).collect()
}

/// One question put to both sides.
#[derive(Debug, Clone, Copy)]
struct Question {
    person: Person,
    client: usize,
    task: Option<usize>,
    action: Action,
}

/// Compares the domain with the reference on every (person, client, action)
/// and every (person, task, task action) of the world.
fn check_equiv(world: &World, history: &[String]) -> Result<(), String> {
    let client_actions = actions_of(Scope::Client);
    let task_actions = actions_of(Scope::Task);
    for person in world.people() {
        for client in 0..world.clients {
            for &action in &client_actions {
                let decision = decision_on_client(world, person, client, action);
                compare(world, history, Question { person, client, task: None, action }, decision)?;
            }
        }
        for task in 0..world.tasks.len() {
            let client = world.filings[world.tasks[task].filing].client;
            for &action in &task_actions {
                let decision = decision_on_task(world, person, task, action);
                compare(world, history, Question { person, client, task: Some(task), action }, decision)?;
            }
        }
    }
    Ok(())
}

fn compare(world: &World, history: &[String], q: Question, decision: Decision) -> Result<(), String> {
    let can_open = reference::can_open(world, q.person, q.client);
    let expected = reference::allows(world, q.person, q.client, q.action, q.task);
    // Out of scope must read as "not found" — except at the portal boundary
    // (layer 1), which refuses a bookkeeper's non-**bk** action before any
    // resource is loaded: that answer is the same for every client, so it
    // cannot leak one's existence, and it must be an open refusal.
    let wrong_refusal = if reference::at_portal_boundary(world, q.person, q.action) {
        decision.outcome != Outcome::Forbidden
    } else {
        !can_open && decision.outcome != Outcome::NotFound
    };
    if decision.is_allowed() == expected && !wrong_refusal {
        return Ok(());
    }
    let mut report = String::from("the domain disagrees with the reference\n");
    let _ = writeln!(report, "  who:       {}", world.label(q.person));
    let _ = writeln!(report, "  client:    c{}", q.client);
    if let Some(task) = q.task {
        let _ = writeln!(report, "  task:      {}", world.task_label(task));
    }
    let _ = writeln!(report, "  action:    {}", q.action);
    let _ = writeln!(report, "  decide:    {decision}");
    let _ = writeln!(
        report,
        "  reference: {} (can open c{}: {can_open}){}",
        if expected { "allow" } else { "deny" },
        q.client,
        match (wrong_refusal, reference::at_portal_boundary(world, q.person, q.action)) {
            (false, _) => "",
            (true, true) => " — the portal boundary must refuse openly, whatever the client",
            (true, false) => " — out of scope must be \"not found\"",
        },
    );
    let _ = writeln!(report, "  facts:     {:?}", store_client_facts(world, q.person, q.client));
    let _ = writeln!(report, "world now:\n{}events:", world.summary());
    for (i, event) in history.iter().enumerate() {
        let _ = writeln!(report, "  {:>2}. {event}", i + 1);
    }
    Err(report)
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Practice), Just(Side::Counterparty)]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Admin), Just(Role::Staff), Just(Role::Bookkeeper)]
}

fn practice_status() -> impl Strategy<Value = PracticeStatus> {
    // Mostly approved, so that most worlds have someone to let in.
    prop_oneof![
        6 => Just(PracticeStatus::Approved),
        1 => Just(PracticeStatus::Pending),
        1 => Just(PracticeStatus::Rejected),
        1 => Just(PracticeStatus::Suspended),
    ]
}

fn engagement() -> impl Strategy<Value = Option<ConsentState>> {
    prop_oneof![
        4 => Just(Some(ConsentState::Active)),
        1 => Just(None),
        1 => side().prop_map(|by| Some(ConsentState::Requested { by })),
        1 => side().prop_map(|by| Some(ConsentState::Declined { by })),
        1 => side().prop_map(|by| Some(ConsentState::Revoked { by })),
    ]
}

fn membership() -> impl Strategy<Value = Option<ClientRole>> {
    prop_oneof![2 => Just(None), 1 => Just(Some(ClientRole::Owner)), 1 => Just(Some(ClientRole::Member))]
}

fn filing_status() -> impl Strategy<Value = FilingStatus> {
    prop_oneof![3 => Just(FilingStatus::Active), 1 => Just(FilingStatus::Filed), 1 => Just(FilingStatus::Cancelled)]
}

fn active() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

/// 1–2 practices, each with an admin, a staff member and a bookkeeper plus up
/// to two more people; 2–3 clients and 1–3 client users; some engagements,
/// client assignments, filings and tasks to start from.
fn world() -> impl Strategy<Value = World> {
    let pick = || 0..8usize;
    (
        vec(practice_status(), 1..=2),
        vec((pick(), role()), 0..=2),
        vec(active(), 8),
        2..=3usize,
        vec((vec(membership(), 3), active()), 1..=3),
        vec(engagement(), 6),
        vec((pick(), pick()), 0..=3),
        vec((pick(), pick(), filing_status()), 0..=3),
        vec((pick(), proptest::option::of(pick())), 0..=5),
        active(),
    )
        .prop_map(
            |(
                practices,
                extra_people,
                active,
                clients,
                client_users,
                engagements,
                assignments,
                filings,
                tasks,
                outside,
            )| {
                let mut roster: Vec<(usize, Role)> = (0..practices.len())
                    .flat_map(|p| [(p, Role::Admin), (p, Role::Staff), (p, Role::Bookkeeper)])
                    .collect();
                roster.extend(extra_people.into_iter().map(|(p, role)| (p % practices.len(), role)));
                let practice_users = roster
                    .into_iter()
                    .zip(active)
                    .map(|((practice, role), active)| PracticeMember { practice, role, active })
                    .collect::<Vec<_>>();
                let mut world = World {
                    engagements: (0..practices.len())
                        .map(|p| (0..clients).map(|c| engagements[p * 3 + c]).collect())
                        .collect(),
                    client_assignments: assignments
                        .into_iter()
                        .map(|(u, c)| (u % practice_users.len(), c % clients))
                        .collect(),
                    filings: filings
                        .into_iter()
                        .map(|(p, c, status)| Filing { practice: p % practices.len(), client: c % clients, status })
                        .collect(),
                    practices,
                    practice_users,
                    clients,
                    client_users: client_users
                        .into_iter()
                        .map(|(mut memberships, active)| {
                            memberships.truncate(clients);
                            ClientMember { memberships, active }
                        })
                        .collect(),
                    outside_party_active: outside,
                    tasks: Vec::new(),
                };
                if !world.filings.is_empty() {
                    for (filing, assignee) in tasks {
                        let filing = filing % world.filings.len();
                        let assignee = assignee.map(|pick| world.pick_assignee(filing, pick));
                        world.tasks.push(Task { filing, assignee });
                    }
                }
                world
            },
        )
}

fn event() -> impl Strategy<Value = Event> {
    let pick = || 0..8usize;
    // Weighted toward the events that move access around the most.
    prop_oneof![
        2 => (pick(), pick()).prop_map(|(practice, client)| Event::Engage { practice, client }),
        1 => (pick(), pick(), side()).prop_map(|(practice, client, by)| Event::Request { practice, client, by }),
        2 => (pick(), pick(), side()).prop_map(|(practice, client, by)| Event::Revoke { practice, client, by }),
        2 => (pick(), pick()).prop_map(|(user, client)| Event::AssignClient { user, client }),
        2 => (pick(), pick()).prop_map(|(user, client)| Event::UnassignClient { user, client }),
        2 => (pick(), pick()).prop_map(|(practice, client)| Event::CreateFiling { practice, client }),
        3 => (pick(), proptest::option::weighted(0.9, pick()))
            .prop_map(|(filing, assignee)| Event::CreateTask { filing, assignee }),
        4 => (pick(), proptest::option::weighted(0.8, pick())).prop_map(|(task, to)| Event::AssignTask { task, to }),
        2 => pick().prop_map(|filing| Event::File { filing }),
        2 => pick().prop_map(|filing| Event::Cancel { filing }),
        3 => pick().prop_map(|filing| Event::Reopen { filing }),
        1 => pick().prop_map(|practice| Event::ApprovePractice { practice }),
        1 => pick().prop_map(|practice| Event::SuspendPractice { practice }),
        1 => pick().prop_map(|practice| Event::ReinstatePractice { practice }),
        1 => (0..16usize).prop_map(|account| Event::Deactivate { account }),
        1 => (0..16usize).prop_map(|account| Event::Reactivate { account }),
        1 => (pick(), role()).prop_map(|(user, role)| Event::ChangeRole { user, role }),
    ]
}

proptest! {
    // 256 worlds × up to 30 events, each step checking every person, client,
    // task and action exhaustively: a few seconds in a debug build.
    // Failures are saved beside this file, to be replayed first next time.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn decide_agrees_with_the_reference_after_every_event(
        start in world(),
        events in vec(event(), 0..=30),
    ) {
        let mut world = start;
        let mut history = Vec::with_capacity(events.len());
        check_equiv(&world, &history).map_err(TestCaseError::fail)?;
        for event in events {
            history.push(world.apply(event));
            check_equiv(&world, &history).map_err(TestCaseError::fail)?;
        }
    }
}

// ---------------------------------------------------------------------------
// Scenarios: the rules, step by step, on a fixed world
// ---------------------------------------------------------------------------

const ADMIN: Person = Person::Practice(0);
const STAFF: Person = Person::Practice(1);
const BOOKKEEPER: Person = Person::Practice(2);
/// Picks into `users_of(p0)` for task assignment.
const STAFF_PICK: usize = 1;
const BOOKKEEPER_PICK: usize = 2;
const C0_OWNER: Person = Person::Client(0);
const C0_MEMBER: Person = Person::Client(1);

/// One approved practice p0 with admin u0, staff u1 and bookkeeper u2; two
/// clients c0 and c1, both engaged with p0; cu0 owns c0, cu1 is a member of
/// c0, cu2 owns c1. No filings, tasks or client assignments yet.
fn small_practice() -> World {
    let member = |role| PracticeMember { practice: 0, role, active: true };
    let client_user = |memberships| ClientMember { memberships, active: true };
    World {
        practices: vec![PracticeStatus::Approved],
        practice_users: vec![member(Role::Admin), member(Role::Staff), member(Role::Bookkeeper)],
        clients: 2,
        client_users: vec![
            client_user(vec![Some(ClientRole::Owner), None]),
            client_user(vec![Some(ClientRole::Member), None]),
            client_user(vec![None, Some(ClientRole::Owner)]),
        ],
        outside_party_active: true,
        engagements: vec![vec![Some(ConsentState::Active), Some(ConsentState::Active)]],
        client_assignments: BTreeSet::new(),
        filings: Vec::new(),
        tasks: Vec::new(),
    }
}

/// A world with the history that built it. Each expectation, stated by hand
/// from PRODUCT.md, is checked against the domain *and* the reference, so
/// these scenarios also pin the reference down. (The exhaustive comparison is
/// the property test's job; repeating it here would make one disagreement
/// fail every scenario.)
#[derive(Debug)]
struct Scenario {
    world: World,
    history: Vec<String>,
}

impl Scenario {
    fn new(world: World) -> Self {
        Self { world, history: Vec::new() }
    }

    fn then(&mut self, event: Event) -> &mut Self {
        self.history.push(self.world.apply(event));
        self
    }

    /// Asserts the outcome of `action` by `person` on `client`.
    fn expect(&mut self, person: Person, client: usize, action: Action, expected: Outcome) -> &mut Self {
        let decision = decision_on_client(&self.world, person, client, action);
        let reference = reference::allows(&self.world, person, client, action, None);
        assert_eq!(
            (decision.outcome, reference),
            (expected, expected == Allow),
            "(domain, reference) for {} {action} on c{client}; domain: {decision}\nafter:\n{}",
            self.world.label(person),
            self.history.join("\n")
        );
        self
    }

    /// Asserts the outcome of a task action by `person` on task `task`.
    fn expect_task(&mut self, person: Person, task: usize, action: Action, expected: Outcome) -> &mut Self {
        let decision = decision_on_task(&self.world, person, task, action);
        let client = self.world.filings[self.world.tasks[task].filing].client;
        let reference = reference::allows(&self.world, person, client, action, Some(task));
        assert_eq!(
            (decision.outcome, reference),
            (expected, expected == Allow),
            "(domain, reference) for {} {action} on {}; domain: {decision}\nafter:\n{}",
            self.world.label(person),
            self.world.task_label(task),
            self.history.join("\n")
        );
        self
    }
}

#[test]
fn rule6_reassigning_the_last_task_removes_bookkeeper_access_and_reopen_restores_it() {
    Scenario::new(small_practice())
        .expect(BOOKKEEPER, 0, Action::ViewClient, NotFound)
        .then(Event::CreateFiling { practice: 0, client: 0 })
        .then(Event::CreateTask { filing: 0, assignee: Some(BOOKKEEPER_PICK) })
        .then(Event::CreateTask { filing: 0, assignee: Some(BOOKKEEPER_PICK) })
        // In scope, read-only: no lifecycle changes, no work on others' tasks.
        .expect(BOOKKEEPER, 0, Action::ViewClient, Allow)
        .expect(BOOKKEEPER, 0, Action::ChangeFilingStatus, Forbidden)
        .expect(BOOKKEEPER, 1, Action::ViewClient, NotFound)
        .expect_task(BOOKKEEPER, 0, Action::ChangeTaskStatus, Allow)
        .expect_task(BOOKKEEPER, 0, Action::AssignTask, Forbidden)
        // Reassigning one of two tasks keeps the client in scope ...
        .then(Event::AssignTask { task: 0, to: Some(STAFF_PICK) })
        .expect(BOOKKEEPER, 0, Action::ViewClient, Allow)
        .expect_task(BOOKKEEPER, 0, Action::ChangeTaskStatus, Forbidden)
        // ... reassigning the last one takes it away on the next request.
        .then(Event::AssignTask { task: 1, to: None })
        .expect(BOOKKEEPER, 0, Action::ViewClient, NotFound)
        .expect_task(BOOKKEEPER, 1, Action::CommentOnTask, NotFound)
        // Filing the filing ends access too, and reopening restores it.
        .then(Event::AssignTask { task: 1, to: Some(BOOKKEEPER_PICK) })
        .expect(BOOKKEEPER, 0, Action::ListDocuments, Allow)
        .then(Event::File { filing: 0 })
        .expect(BOOKKEEPER, 0, Action::ListDocuments, NotFound)
        .then(Event::Reopen { filing: 0 })
        .expect(BOOKKEEPER, 0, Action::ListDocuments, Allow)
        .expect_task(BOOKKEEPER, 1, Action::LogTime, Allow);
}

#[test]
fn rule4_staff_open_assigned_clients_and_the_clients_behind_their_tasks_on_active_filings() {
    Scenario::new(small_practice())
        .expect(ADMIN, 0, Action::ViewClient, Allow)
        .expect(STAFF, 0, Action::ViewClient, NotFound)
        .then(Event::AssignClient { user: 1, client: 0 })
        .expect(STAFF, 0, Action::CreateFiling, Allow)
        .then(Event::UnassignClient { user: 1, client: 0 })
        .expect(STAFF, 0, Action::CreateFiling, NotFound)
        .then(Event::CreateFiling { practice: 0, client: 0 })
        .then(Event::CreateTask { filing: 0, assignee: Some(STAFF_PICK) })
        .expect(STAFF, 0, Action::CreateFiling, Allow)
        // Unlike a bookkeeper, staff in scope work any task and change filings.
        .then(Event::CreateTask { filing: 0, assignee: Some(BOOKKEEPER_PICK) })
        .expect_task(STAFF, 1, Action::AssignTask, Allow)
        .then(Event::Cancel { filing: 0 })
        .expect(STAFF, 0, Action::ViewClient, NotFound)
        .expect_task(ADMIN, 1, Action::AssignTask, Forbidden);
}

#[test]
fn rule2_ending_the_engagement_ends_every_kind_of_access_at_once() {
    let mut scenario = Scenario::new(small_practice());
    scenario
        .then(Event::AssignClient { user: 1, client: 0 })
        .then(Event::CreateFiling { practice: 0, client: 0 })
        .then(Event::CreateTask { filing: 0, assignee: Some(BOOKKEEPER_PICK) })
        .then(Event::Revoke { practice: 0, client: 0, by: Side::Counterparty });
    for person in [ADMIN, STAFF, BOOKKEEPER] {
        scenario.expect(person, 0, Action::ViewClient, NotFound);
        scenario.expect_task(person, 0, Action::CommentOnTask, NotFound);
    }
    scenario
        .expect(ADMIN, 1, Action::ViewClient, Allow)
        .expect(C0_OWNER, 0, Action::ListDocuments, Allow)
        .then(Event::Engage { practice: 0, client: 0 })
        .expect(BOOKKEEPER, 0, Action::ViewClient, Allow);
}

#[test]
fn rule1_and_rule6_suspension_and_deactivation_lock_users_out_at_once() {
    Scenario::new(small_practice())
        .then(Event::SuspendPractice { practice: 0 })
        .expect(ADMIN, 0, Action::ViewClient, NotFound)
        .then(Event::ReinstatePractice { practice: 0 })
        .expect(ADMIN, 0, Action::ViewClient, Allow)
        // Accounts: outside party, then u0, u1, u2, then cu0, ...
        .then(Event::Deactivate { account: 1 })
        .expect(ADMIN, 0, Action::ViewClient, NotFound)
        .then(Event::Deactivate { account: 4 })
        .expect(C0_OWNER, 0, Action::ViewClient, NotFound)
        .then(Event::Reactivate { account: 1 })
        .expect(ADMIN, 0, Action::ViewClient, Allow);
}

#[test]
fn rule5_a_client_member_sees_their_own_client_but_none_of_its_filings_or_tasks() {
    Scenario::new(small_practice())
        .expect(C0_MEMBER, 0, Action::ViewClient, Allow)
        .expect(C0_MEMBER, 0, Action::SendToPractice, Allow)
        .expect(C0_MEMBER, 1, Action::ViewClient, NotFound)
        .expect(C0_MEMBER, 0, Action::ListFilings, NotFound)
        .expect(C0_MEMBER, 0, Action::ViewEmailLog, NotFound)
        .expect(C0_MEMBER, 0, Action::InviteClientMember, Forbidden)
        .expect(C0_OWNER, 0, Action::InviteClientMember, Allow)
        .expect(C0_OWNER, 0, Action::GrantPracticeAccess, Allow)
        .then(Event::CreateFiling { practice: 0, client: 0 })
        .then(Event::CreateTask { filing: 0, assignee: None })
        .expect_task(C0_OWNER, 0, Action::CommentOnTask, NotFound)
        .expect(Person::Outside, 0, Action::ViewClient, NotFound)
        .expect(Person::Operator, 0, Action::ViewClient, NotFound);
}

/// API-MAP.md: "GET, POST /clients/{c}/members | client owner | colleagues: list, invite".
#[test]
fn rule5_only_the_client_owner_lists_and_invites_colleagues() {
    Scenario::new(small_practice())
        .expect(C0_OWNER, 0, Action::ListClientMembers, Allow)
        .expect(C0_OWNER, 0, Action::InviteClientMember, Allow)
        .expect(C0_MEMBER, 0, Action::InviteClientMember, Forbidden)
        .expect(C0_MEMBER, 0, Action::ListClientMembers, Forbidden);
}

/// Layer 1 as data must match the **bk** marks the reference was written
/// from, for every client and task action.
#[test]
fn bookkeeper_allowlist_matches_the_api_maps_bk_marks() {
    for action in actions_of(Scope::Client).into_iter().chain(actions_of(Scope::Task)) {
        let marked = reference::who_may(action).bookkeeper != reference::Bookkeeper::Never;
        assert_eq!(BOOKKEEPER_ALLOWLIST.contains(&action), marked, "{action}");
    }
}
