//! The command line: every command, its flags, and an example for `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::settings::AdminArgs;

/// Ferry's operator tool: approve practices, manage plans, add-ons and
/// users, export and verify the audit log, check and clean the data.
///
/// It works on the server's database and file store directly (the server
/// need not run) with the same settings as ferry-server; changes go through
/// the same rules, write the same audit entries and queue the same mail,
/// which the server sends.
#[derive(Debug, Parser)]
#[command(
    name = "ferry-admin",
    version,
    after_help = "Example:\n  FERRY_DATA_DIR=/srv/ferry ferry-admin practice list --status pending\n\n\
                  Exit codes: 0 success, 1 refused (or problems found), 2 bad usage or unreachable backend."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) settings: AdminArgs,

    /// Print data as JSON instead of tables (JSON lines for `audit export`).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Apply the database migrations this version carries (safe to repeat).
    #[command(after_help = "Example:\n  ferry-admin --data-dir /srv/ferry migrate")]
    Migrate,

    /// Schema version, counts, mail backlog and file store reachability.
    #[command(after_help = "Example:\n  ferry-admin status --json")]
    Status,

    /// Practices: list, show, the approval workflow and plans.
    #[command(subcommand)]
    Practice(PracticeCommand),

    /// Purchased add-ons of storage or throughput.
    #[command(subcommand)]
    Allowance(AllowanceCommand),

    /// Any user's account.
    #[command(subcommand)]
    User(UserCommand),

    /// Whether a user may do each action on a client, and the rule that decided.
    #[command(
        after_help = "Example:\n  ferry-admin explain --user sam@harbour.test --client 0190f1c2-7d3e-7000-8000-000000000001"
    )]
    Explain {
        /// The user: an id or an email address.
        #[arg(long, value_name = "USER")]
        user: String,
        /// The client's id.
        #[arg(long, value_name = "CLIENT_ID")]
        client: String,
    },

    /// Storage held and this month's throughput of every practice, against its allowances.
    #[command(after_help = "Example:\n  ferry-admin usage")]
    Usage,

    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),

    /// Consistency: stored bytes per practice, every document's file, no file without a document.
    #[command(after_help = "Examples:\n  ferry-admin check\n  ferry-admin check --repair --yes")]
    Check {
        /// Fix what is safe to fix: recount stored bytes, delete files without a document.
        #[arg(long)]
        repair: bool,
        /// Files without a document younger than this many hours are spared (an upload may be finishing).
        #[arg(long, value_name = "HOURS", default_value_t = 24)]
        grace_hours: u64,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },

    /// Remove expired sessions, links and reservations, abandoned uploads and orphan files.
    #[command(after_help = "Example:\n  ferry-admin gc --yes")]
    Gc {
        /// Uploads and files without a document younger than this many hours are spared.
        #[arg(long, value_name = "HOURS", default_value_t = 24)]
        grace_hours: u64,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },

    /// Mail that could not be sent.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

/// A practice by id.
#[derive(Debug, Args)]
pub(crate) struct PracticeArg {
    /// The practice's id (see `ferry-admin practice list`).
    #[arg(value_name = "PRACTICE_ID")]
    pub(crate) practice: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PracticeCommand {
    /// Practices in order of application.
    #[command(after_help = "Example:\n  ferry-admin practice list --status pending")]
    List {
        /// Only practices with this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// A practice with its admins, seats, add-ons and usage.
    #[command(after_help = "Example:\n  ferry-admin practice show 0190f1c2-7d3e-7000-8000-000000000001")]
    Show(PracticeArg),
    /// Approve a pending practice; its admin is mailed a link to set a password.
    #[command(after_help = "Example:\n  ferry-admin practice approve 0190f1c2-7d3e-7000-8000-000000000001")]
    Approve(PracticeArg),
    /// Reject a pending application.
    #[command(after_help = "Example:\n  ferry-admin practice reject 0190f1c2-7d3e-7000-8000-000000000001 --yes")]
    Reject {
        #[command(flatten)]
        practice: PracticeArg,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Suspend an approved practice: its users are locked out on their next request.
    #[command(after_help = "Example:\n  ferry-admin practice suspend 0190f1c2-7d3e-7000-8000-000000000001 --yes")]
    Suspend {
        #[command(flatten)]
        practice: PracticeArg,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Reinstate a suspended practice.
    #[command(after_help = "Example:\n  ferry-admin practice reinstate 0190f1c2-7d3e-7000-8000-000000000001")]
    Reinstate(PracticeArg),
    /// Set the seat limit and base allowances; what is not given stays.
    #[command(
        after_help = "Example:\n  ferry-admin practice set-plan 0190f1c2-7d3e-7000-8000-000000000001 --seats 10 --storage 5GB"
    )]
    SetPlan {
        #[command(flatten)]
        practice: PracticeArg,
        /// Admins and staff who may be active at once.
        #[arg(long)]
        seats: Option<u32>,
        /// Base storage allowance, such as 250MB or 5GB (decimal units).
        #[arg(long, value_name = "SIZE")]
        storage: Option<String>,
        /// Base monthly throughput allowance, such as 500MB or 10GB.
        #[arg(long, value_name = "SIZE")]
        throughput: Option<String>,
    },
}

/// A practice status.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum StatusArg {
    Pending,
    Approved,
    Rejected,
    Suspended,
}

/// An allowance kind.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum KindArg {
    Storage,
    Throughput,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AllowanceCommand {
    /// Record a purchased add-on; it counts from its start until its end.
    #[command(after_help = "Example:\n  ferry-admin allowance add 0190f1c2-7d3e-7000-8000-000000000001 \\\n      \
                      --kind storage --amount 10GB --starts 2026-01-01 --ends 2027-01-01")]
    Add {
        #[command(flatten)]
        practice: PracticeArg,
        /// What it adds to.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// How much, such as 10GB (decimal units).
        #[arg(long, value_name = "SIZE")]
        amount: String,
        /// When it starts: a date (UTC midnight) or an RFC 3339 time [default: now].
        #[arg(long, value_name = "DATE")]
        starts: Option<String>,
        /// When it ends (excluded): a date or an RFC 3339 time.
        #[arg(long, value_name = "DATE", required_unless_present = "months", conflicts_with = "months")]
        ends: Option<String>,
        /// Instead of --ends: it lasts this many calendar months.
        #[arg(long)]
        months: Option<u32>,
    },
    /// A practice's add-ons.
    #[command(after_help = "Example:\n  ferry-admin allowance list 0190f1c2-7d3e-7000-8000-000000000001")]
    List(PracticeArg),
    /// Remove an add-on recorded by mistake or refunded.
    #[command(after_help = "Example:\n  ferry-admin allowance remove 0190f1c2-7d3e-7000-8000-000000000001 \
                      0190f1c2-9999-7000-8000-000000000002 --yes")]
    Remove {
        #[command(flatten)]
        practice: PracticeArg,
        /// The add-on's id (see `ferry-admin allowance list`).
        #[arg(value_name = "ADD_ON_ID")]
        add_on: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// A user by id or email address.
#[derive(Debug, Args)]
pub(crate) struct UserArg {
    /// The user: an id or an email address.
    #[arg(value_name = "USER")]
    pub(crate) user: String,
}

/// A user kind.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum UserKindArg {
    Practice,
    Client,
    Outside,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Users in order of id, filtered.
    #[command(
        after_help = "Example:\n  ferry-admin user list --practice 0190f1c2-7d3e-7000-8000-000000000001 --inactive"
    )]
    List {
        /// Only members of this practice.
        #[arg(long, value_name = "PRACTICE_ID")]
        practice: Option<String>,
        /// Only users of this kind.
        #[arg(long, value_enum)]
        kind: Option<UserKindArg>,
        /// Only active users.
        #[arg(long, conflicts_with = "inactive")]
        active: bool,
        /// Only deactivated users.
        #[arg(long)]
        inactive: bool,
        /// Only addresses containing this text.
        #[arg(long, value_name = "TEXT")]
        email: Option<String>,
    },
    /// A user with their practice and the clients they may open.
    #[command(after_help = "Example:\n  ferry-admin user show ada@harbour.test")]
    Show(UserArg),
    /// Deactivate a user: their sessions end at once and they cannot sign in.
    #[command(after_help = "Example:\n  ferry-admin user deactivate sam@harbour.test --yes")]
    Deactivate {
        #[command(flatten)]
        user: UserArg,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Reactivate a user (an admin or staff member needs a free seat).
    #[command(after_help = "Example:\n  ferry-admin user reactivate sam@harbour.test")]
    Reactivate(UserArg),
    /// Mail a user a link to choose a new password (no password is ever shown).
    #[command(after_help = "Example:\n  ferry-admin user reset-password sam@harbour.test")]
    ResetPassword(UserArg),
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Audit entries since a time as JSON lines, one entry per line.
    #[command(after_help = "Example:\n  ferry-admin audit export --since 2026-01-01 \
                      --practice 0190f1c2-7d3e-7000-8000-000000000001 > audit.jsonl")]
    Export {
        /// From this date (UTC midnight) or RFC 3339 time on.
        #[arg(long, value_name = "DATE")]
        since: String,
        /// Only entries about this practice.
        #[arg(long, value_name = "PRACTICE_ID")]
        practice: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Walk the hash chain and report the first broken link.
    #[command(after_help = "Example:\n  ferry-admin audit verify")]
    Verify,
}

/// An outbox status.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OutboxStatusArg {
    Failed,
    Pending,
    Sent,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OutboxCommand {
    /// Messages of one status, oldest first [default: failed].
    #[command(after_help = "Example:\n  ferry-admin outbox list --status failed")]
    List {
        /// Which messages.
        #[arg(long, value_enum, default_value = "failed")]
        status: OutboxStatusArg,
    },
    /// Queue failed mail again; the server's sender delivers it.
    #[command(after_help = "Examples:\n  ferry-admin outbox retry --all\n  ferry-admin outbox retry 0190f1c2-…")]
    Retry {
        /// The message's id (see `ferry-admin outbox list`).
        #[arg(value_name = "MESSAGE_ID", required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Every failed message.
        #[arg(long)]
        all: bool,
    },
}
