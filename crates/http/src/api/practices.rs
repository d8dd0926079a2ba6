//! Practices: applying, details and settings, the directory, usage.

use ferry_app::{App, BrandingChange, PracticeApplication};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi};

use super::Tag;
use super::dto::{DirectoryEntry, Page, PracticeOut, Str, page_request, practice_id};
use crate::error::ApiResult;
use crate::guard::Caller;

pub(crate) struct PracticesApi {
    pub(crate) app: App,
}

/// An application for a practice.
#[derive(Object)]
struct ApplyBody {
    /// The practice's legal name.
    practice_name: Str,
    /// The first admin's name.
    admin_name: Str,
    /// The first admin's email address; the set-password link goes there on approval.
    admin_email: Str,
}

/// Changes to settings: a field left out is kept, `null` clears it.
#[derive(Object)]
struct PracticeChangeBody {
    /// The name shown instead of the legal name.
    display_name: MaybeUndefined<Str>,
    /// The brand colour, `#rrggbb`.
    colour: MaybeUndefined<Str>,
    /// The https page of the practice's site that embeds the portal.
    portal_url: MaybeUndefined<Str>,
}

/// One allowance.
#[derive(Object)]
struct AllowanceOut {
    /// `storage` or `throughput`.
    kind: String,
    /// Bytes committed (stored, or moved this month).
    used: u64,
    /// Bytes reserved by transfers in flight.
    reserved: u64,
    /// The allowance: plan plus current add-ons.
    limit: u64,
    /// Bytes still free.
    remaining: u64,
    /// Whether 80% or more is used.
    warning: bool,
}

/// Usage against allowances.
#[derive(Object)]
struct UsageOut {
    /// The practice.
    practice: String,
    /// One row per allowance.
    allowances: Vec<AllowanceOut>,
}

#[OpenApi(tag = "Tag::Practices")]
impl PracticesApi {
    /// Apply to run a practice on this installation.
    ///
    /// The practice starts pending; when the operator approves it, its admin
    /// is mailed a link to set a password.
    #[oai(path = "/practices", method = "post", operation_id = "apply_for_practice")]
    async fn apply(&self, body: Json<ApplyBody>) -> ApiResult<Json<PracticeOut>> {
        let body = body.0;
        let practice = self
            .app
            .apply_for_practice(&PracticeApplication {
                practice_name: body.practice_name.0,
                admin_name: body.admin_name.0,
                admin_email: body.admin_email.0,
            })
            .await?;
        Ok(Json(PracticeOut::from(&practice)))
    }

    /// Approved practices a client owner may grant access to.
    #[oai(path = "/practices/directory", method = "get", operation_id = "list_practice_directory")]
    async fn directory(
        &self,
        caller: Data<&Caller>,
        limit: Query<Option<u32>>,
        after: Query<Option<String>>,
    ) -> ApiResult<Json<Page<DirectoryEntry>>> {
        let request = page_request(limit.0, after.0)?;
        let found = self.app.practice_directory(&caller.principal()?, &request).await?;
        Ok(Json(Page::from_found(&found, |p| DirectoryEntry {
            id: p.id.to_string(),
            name: p.branding.display_name.as_ref().unwrap_or(&p.name).as_str().to_owned(),
        })))
    }

    /// A practice's details (its admins and staff).
    #[oai(path = "/practices/:practice", method = "get", operation_id = "get_practice")]
    async fn get(&self, caller: Data<&Caller>, practice: Path<String>) -> ApiResult<Json<PracticeOut>> {
        let record = self.app.practice(&caller.principal()?, practice_id(&practice.0)?).await?;
        Ok(Json(PracticeOut::from(&record)))
    }

    /// Change settings and branding (admins).
    #[oai(path = "/practices/:practice", method = "patch", operation_id = "edit_practice")]
    async fn edit(
        &self,
        caller: Data<&Caller>,
        practice: Path<String>,
        body: Json<PracticeChangeBody>,
    ) -> ApiResult<Json<PracticeOut>> {
        let body = body.0;
        let change = BrandingChange {
            display_name: patch(body.display_name),
            colour: patch(body.colour),
            portal_url: patch(body.portal_url),
        };
        let record = self.app.edit_practice(&caller.principal()?, practice_id(&practice.0)?, &change).await?;
        Ok(Json(PracticeOut::from(&record)))
    }

    /// Storage held and this month's throughput against allowances (admins).
    #[oai(path = "/practices/:practice/usage", method = "get", operation_id = "get_usage")]
    async fn usage(&self, caller: Data<&Caller>, practice: Path<String>) -> ApiResult<Json<UsageOut>> {
        let usage = self.app.usage(&caller.principal()?, practice_id(&practice.0)?).await?;
        Ok(Json(UsageOut {
            practice: usage.practice.id.to_string(),
            allowances: usage
                .allowances
                .iter()
                .map(|a| {
                    let used = a.usage.used.get();
                    let reserved = a.usage.reserved.get();
                    let limit = a.limit.get();
                    AllowanceOut {
                        kind: a.kind.as_str().to_owned(),
                        used,
                        reserved,
                        limit,
                        remaining: limit.saturating_sub(used.saturating_add(reserved)),
                        warning: ferry_domain::quota::at_warning_level(a.usage.used, a.limit),
                    }
                })
                .collect(),
        }))
    }
}

/// A PATCH field: left out keeps the value (`None`), `null` clears it (`Some(None)`).
fn patch(field: MaybeUndefined<Str>) -> Option<Option<String>> {
    match field {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v.0)),
    }
}
