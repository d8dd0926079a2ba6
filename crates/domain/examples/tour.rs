//! A walk through Ferry's access rules: one practice, one client, a staff
//! member and a bookkeeper, and what each may do as the work changes.
//!
//! Run it with `cargo run -p ferry-domain --example tour`.

use std::io::{self, Write};

use ferry_domain::access::{Action, ClientFacts, Resource, decide};
use ferry_domain::consent::{ConsentEvent, ConsentState, Side};
use ferry_domain::ids::{ClientId, PracticeId, UserId};
use ferry_domain::people::{Actor, ClientRole, PracticeUser, Role};
use ferry_domain::practice::{PracticeStatus, PracticeTransition};
use ferry_domain::quota::{AllowanceKind, Bytes, Usage, check_reservation};
use ferry_domain::work::{FilingStatus, FilingTransition};
use uuid::Uuid;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = io::stdout().lock();
    let id = Uuid::from_u128;
    let practice = PracticeId::from_uuid(id(1));
    let client = ClientId::from_uuid(id(2));

    writeln!(out, "Maple Books applies to the installation...")?;
    let status = PracticeStatus::Pending.apply(PracticeTransition::Approve)?;
    writeln!(out, "  the operator approves it: practice is {status}")?;

    let member = |user: u128, role| PracticeUser {
        user: UserId::from_uuid(id(user)),
        practice,
        role,
        active: true,
        practice_status: status,
    };
    let admin = Actor::Practice(member(10, Role::Admin));
    let staff = Actor::Practice(member(11, Role::Staff));
    let bookkeeper = Actor::Practice(member(12, Role::Bookkeeper));
    let owner = Actor::Client { user: UserId::from_uuid(id(20)), active: true };

    writeln!(out, "\nMaple Books invites River Valley Dental; the client's owner accepts.")?;
    let asked = ConsentState::apply_for_practice(None, ConsentEvent::Request, Side::Practice, status)?;
    let engagement = ConsentState::apply_for_practice(Some(asked), ConsentEvent::Accept, Side::Counterparty, status)?;
    writeln!(out, "  engagement is {engagement}")?;

    let mut practice_facts = ClientFacts::unrelated(client);
    practice_facts.engagement = Some(engagement);
    let client_facts = ClientFacts { membership: Some(ClientRole::Owner), ..ClientFacts::unrelated(client) };

    let show = |out: &mut dyn Write, who: &str, actor: &Actor, action, facts: &ClientFacts| {
        writeln!(out, "  {who:<11} {:<24} {}", Action::as_str(action), decide(actor, action, Resource::Client(facts)))
    };

    writeln!(out, "\nBefore any work is assigned:")?;
    show(&mut out, "admin", &admin, Action::ViewClient, &practice_facts)?;
    show(&mut out, "staff", &staff, Action::ViewClient, &practice_facts)?;
    show(&mut out, "bookkeeper", &bookkeeper, Action::ViewClient, &practice_facts)?;
    show(&mut out, "owner", &owner, Action::SendToPractice, &client_facts)?;
    show(&mut out, "owner", &owner, Action::ListFilings, &client_facts)?;

    writeln!(out, "\nThe admin creates a GST/HST filing and assigns its first task to the bookkeeper:")?;
    let mut filing = FilingStatus::Active;
    let mut bookkeeper_facts = practice_facts;
    bookkeeper_facts.active_tasks_held = 1;
    show(&mut out, "bookkeeper", &bookkeeper, Action::ViewClient, &bookkeeper_facts)?;
    show(&mut out, "bookkeeper", &bookkeeper, Action::ListDocuments, &bookkeeper_facts)?;
    show(&mut out, "bookkeeper", &bookkeeper, Action::CreateFiling, &bookkeeper_facts)?;

    filing = filing.apply(FilingTransition::File)?;
    writeln!(out, "\nThe filing is {filing}; the bookkeeper's task no longer counts:")?;
    bookkeeper_facts.active_tasks_held = 0;
    show(&mut out, "bookkeeper", &bookkeeper, Action::ViewClient, &bookkeeper_facts)?;

    filing = filing.apply(FilingTransition::Reopen)?;
    writeln!(out, "\nThe filing is reopened ({filing}); access comes back on the next request:")?;
    bookkeeper_facts.active_tasks_held = 1;
    show(&mut out, "bookkeeper", &bookkeeper, Action::ViewClient, &bookkeeper_facts)?;

    writeln!(out, "\nThe client ends the engagement:")?;
    let ended = ConsentState::apply(Some(engagement), ConsentEvent::Revoke, Side::Counterparty)?;
    bookkeeper_facts.engagement = Some(ended);
    practice_facts.engagement = Some(ended);
    show(&mut out, "admin", &admin, Action::ViewClient, &practice_facts)?;
    show(&mut out, "bookkeeper", &bookkeeper, Action::ViewClient, &bookkeeper_facts)?;

    writeln!(out, "\nQuotas: the practice holds 240 MB and someone uploads 20 MB more:")?;
    let usage = Usage { used: Bytes::new(240_000_000), reserved: Bytes::ZERO };
    match check_reservation(AllowanceKind::Storage, Bytes::new(20_000_000), usage, Bytes::DEFAULT_STORAGE) {
        Ok(()) => writeln!(out, "  accepted")?,
        Err(refused) => writeln!(out, "  refused: {refused}")?,
    }
    Ok(())
}
