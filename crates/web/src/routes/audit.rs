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
    /// What the record is called, and where its page is.
    pub entity_name: Option<String>,
    pub entity_href: Option<String>,
    pub changes: Vec<ChangeView>,
}

/// One field's change in words: the field's label, and each value as people
/// read it (names for ids, local times, labels for codes).
pub struct ChangeView {
    pub field: String,
    pub before: String,
    pub after: String,
}

type Names = std::collections::HashMap<String, (&'static str, String)>;

/// The page of a named record, where it has one.
fn href(kind: &str, id: &str) -> Option<String> {
    let base = match kind {
        "unit" => "/units",
        "region" => "/regions",
        "person" => "/people",
        "user" => "/users",
        "case" => "/cases",
        "category" => "/cases/categories",
        "framework" => "/frameworks",
        "standard" => "/standards",
        "inspection_round" => "/rounds",
        "site" => "/sites",
        "task" => "/tasks",
        _ => return None,
    };
    Some(format!("{base}/{id}"))
}

/// A value as people read it. Ids become the names of what they stand
/// for, instants the city's local time, codes of an enumeration its label.
fn value_words(p: &PageCtx, names: &Names, entity: &str, field: &str, v: &str) -> String {
    if v.is_empty() {
        return "—".into();
    }
    if let Some((_, name)) = names.get(v) {
        return name.clone();
    }
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return p.dt(&t);
    }
    // A shape, as `domain::audit::changes` sums it up: "Polygon · 5 · #ab12".
    if let [_, n, h] = v.split(" · ").collect::<Vec<_>>()[..]
        && let (Ok(_), Some(h)) = (n.parse::<u64>(), h.strip_prefix('#'))
    {
        return crate::i18n::fill(p.t("audit.shape"), &[("n", n), ("h", h)]);
    }
    let leaf = field.rsplit('.').next().unwrap_or(field);
    if (leaf.ends_with("_at") || leaf == "deadline")
        && let Ok(micros) = v.parse::<i64>()
    {
        return p.dt_micros(&micros);
    }
    let family = match (entity, leaf) {
        ("case", "state") => Some("case_state"),
        ("case", "source") => Some("case_source"),
        (_, "role") => Some("role"),
        ("framework", "status") => Some("framework_status"),
        ("inspection_round", "kind") => Some("round_kind"),
        ("region", "level") => Some("region_level"),
        ("unit", "kind") => Some("unit_kind"),
        _ => None,
    };
    if let Some(f) = family {
        let key = format!("{f}.{v}");
        if crate::i18n::has(p.lang, &key) {
            return p.t(&key).to_string();
        }
    }
    p.value_label(v)
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

/// The records in words, with every id they mention named in one query.
async fn entries(
    state: &AppState,
    p: &PageCtx,
    records: Vec<AuditRecord>,
) -> AppResult<Vec<Entry>> {
    let diffs: Vec<Vec<Change>> = records
        .iter()
        .map(|r| changes(r.before_json.as_deref(), r.after_json.as_deref()))
        .collect();
    let mut ids: Vec<String> = records.iter().map(|r| r.entity_id.clone()).collect();
    for c in diffs.iter().flatten() {
        ids.push(c.before.clone());
        ids.push(c.after.clone());
    }
    let names = audit::names(&state.store, &ids).await?;
    Ok(records
        .into_iter()
        .zip(diffs)
        .map(|(r, diff)| {
            let named = names.get(&r.entity_id);
            Entry {
                action_label: action_label(p, &r.action),
                // A day of the calendar is its own name; an id nothing
                // answers to is a record since removed.
                entity_name: named.map(|(_, n)| n.clone()).or_else(|| {
                    Uuid::parse_str(&r.entity_id)
                        .is_err()
                        .then(|| r.entity_id.clone())
                }),
                entity_href: named.and_then(|(k, _)| href(k, &r.entity_id)),
                changes: diff
                    .into_iter()
                    .map(|c| ChangeView {
                        before: value_words(p, &names, &r.entity_type, &c.field, &c.before),
                        after: value_words(p, &names, &r.entity_type, &c.field, &c.after),
                        field: p.field_label(&c.field),
                    })
                    .collect(),
                record: r,
            }
        })
        .collect())
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
        entries: entries(&state, &p, records).await?,
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
        entries: entries(&state, &p, records).await?,
        next: None,
        entity_type,
        show_entity: false,
        p,
    };
    Ok(render(&page))
}
