//! The audit trail: the whole log (administrators) and one record's history
//! (whoever may see the record and read audit trails).

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::audit::{AuditRecord, Change, changes};
use wenming_domain::policy::Action;
use wenming_store::{accounts, audit, org};

pub struct Entry {
    pub record: AuditRecord,
    pub action_label: &'static str,
    pub changes: Vec<Change>,
}

/// An action in words: its own name, or, for a step on a case, the step's
/// name as the case's timeline gives it.
fn action_label(p: &PageCtx, action: &str) -> &'static str {
    let own = format!("audit_action.{action}");
    if crate::i18n::has(p.lang, &own) {
        p.t(&own)
    } else {
        p.t(&format!("case_step.{action}"))
    }
}

fn entries(p: &PageCtx, records: Vec<AuditRecord>) -> Vec<Entry> {
    records
        .into_iter()
        .map(|r| Entry {
            action_label: action_label(p, &r.action),
            changes: changes(r.before_json.as_deref(), r.after_json.as_deref()),
            record: r,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    p: PageCtx,
    title: String,
    entries: Vec<Entry>,
    next: Option<i64>,
    entity_type: String,
    show_entity: bool,
}

#[derive(Deserialize, Default)]
pub struct RecentQuery {
    #[serde(default)]
    entity_type: String,
    before: Option<i64>,
}

pub async fn recent(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> AppResult<Response> {
    // The whole log spans every unit and district.
    auth.scope(Action::ViewUsers)?;
    let p = PageCtx::new(&auth, &state);
    let kind = Some(q.entity_type.as_str()).filter(|t| !t.is_empty());
    let records = audit::recent(&state.store, kind, q.before, 100).await?;
    let next = (records.len() == 100)
        .then(|| records.last().map(|r| r.seq))
        .flatten();
    let page = AuditPage {
        title: p.t("audit.title").to_string(),
        entries: entries(&p, records),
        next,
        entity_type: q.entity_type,
        show_entity: true,
        p,
    };
    Ok(render(&page))
}

pub async fn trail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((entity_type, id)): ApiPath<(String, Uuid)>,
) -> AppResult<Response> {
    auth.scope(Action::ViewAudit)?;
    let name = match entity_type.as_str() {
        "region" => {
            org::get_region(&state.store, &auth.scope(Action::ViewRegions)?, id)
                .await?
                .name
        }
        "unit" => {
            org::get_unit(&state.store, &auth.scope(Action::ViewUnits)?, id)
                .await?
                .name
        }
        "user" => {
            auth.scope(Action::ViewUsers)?;
            accounts::get_user(&state.store, id).await?.display_name
        }
        "site" => {
            wenming_store::site::get(&state.store, &auth.scope(Action::ViewSites)?, id)
                .await?
                .name
        }
        _ => return Err(AppError::NotFound),
    };
    let p = PageCtx::new(&auth, &state);
    let records = audit::for_entity(&state.store, &entity_type, &id.to_string()).await?;
    let page = AuditPage {
        title: format!("{} · {name}", p.t("audit.trail_of")),
        entries: entries(&p, records),
        next: None,
        entity_type,
        show_entity: false,
        p,
    };
    Ok(render(&page))
}
