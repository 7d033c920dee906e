//! Responsible units: the filtered list (kept in the URL), one unit, create
//! and edit, and CSV export of the filtered list.

use super::{Done, see_other};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render, urlencode};
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::org::{Person, Region, Unit, UnitForm, UnitKind};
use wenming_domain::policy::{Action, Resource, may};
use wenming_store::org::UnitFilter;
use wenming_store::{StoreError, org};

pub struct KindOption {
    pub value: &'static str,
    pub label: &'static str,
}

fn kind_options(p: &PageCtx) -> Vec<KindOption> {
    UnitKind::ALL
        .iter()
        .map(|k| KindOption {
            value: k.code(),
            label: p.t(&format!("unit_kind.{}", k.code())),
        })
        .collect()
}

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub active: String,
    pub after: Option<String>,
    pub done: Option<String>,
}

impl ListQuery {
    pub fn filter(&self, limit: i64) -> UnitFilter {
        UnitFilter {
            q: Some(self.q.clone()).filter(|q| !q.trim().is_empty()),
            kind: UnitKind::parse(&self.kind),
            region_id: Uuid::parse_str(&self.region).ok(),
            active: match self.active.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            after: self.after.clone(),
            limit,
        }
    }
    /// The filters as a query string, for "next page" and export links.
    pub fn query_string(&self) -> String {
        format!(
            "q={}&kind={}&region={}&active={}",
            urlencode(&self.q),
            urlencode(&self.kind),
            urlencode(&self.region),
            urlencode(&self.active)
        )
    }
}

pub struct UnitRow {
    pub unit: Unit,
    pub kind_label: &'static str,
}

#[derive(Template)]
#[template(path = "units/list.html")]
struct ListPage {
    p: PageCtx,
    rows: Vec<UnitRow>,
    total: i64,
    next: Option<String>,
    query: ListQuery,
    query_string: String,
    kinds: Vec<KindOption>,
    regions: Vec<Region>,
    can_manage: bool,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewUnits)?;
    let p = PageCtx::new(&auth, &state).with_flash(q.done.as_deref());
    let page = org::list_units(&state.store, &scope, &q.filter(50)).await?;
    let regions = match auth.scope(Action::ViewRegions) {
        Ok(rs) => org::list_regions(&state.store, &rs)
            .await?
            .into_iter()
            .filter(|r| r.level <= wenming_domain::org::RegionLevel::Street)
            .collect(),
        Err(_) => vec![],
    };
    let rows = page
        .items
        .into_iter()
        .map(|u| UnitRow {
            kind_label: p.t(&format!("unit_kind.{}", u.kind.code())),
            unit: u,
        })
        .collect();
    let page = ListPage {
        kinds: kind_options(&p),
        can_manage: auth.may(Action::ManageUnits),
        rows,
        total: page.total,
        next: page.next,
        query_string: q.query_string(),
        query: q,
        regions,
        p,
    };
    Ok(render(&page))
}

pub async fn export_csv(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewUnits)?;
    let lang = auth.lang;
    let t = |k: &str| crate::i18n::t(lang, k);
    let mut rows = vec![];
    let mut filter = q.filter(500);
    loop {
        let page = org::list_units(&state.store, &scope, &filter).await?;
        for u in page.items {
            rows.push(vec![
                u.name,
                u.short_name.unwrap_or_default(),
                t(&format!("unit_kind.{}", u.kind.code())).to_string(),
                u.region_name,
                u.liaison.name.unwrap_or_default(),
                u.liaison.phone.unwrap_or_default(),
                u.head.name.unwrap_or_default(),
                u.head.phone.unwrap_or_default(),
                t(if u.active { "common.yes" } else { "common.no" }).to_string(),
            ]);
        }
        match page.next {
            Some(n) => filter.after = Some(n),
            None => break,
        }
    }
    let header_row = [
        t("unit.name"),
        t("unit.short_name"),
        t("unit.kind"),
        t("unit.region"),
        t("unit.liaison_name"),
        t("unit.liaison_phone"),
        t("unit.head_name"),
        t("unit.head_phone"),
        t("unit.active"),
    ];
    let body = wenming_reports::csv::write(&header_row, &rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"units.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "units/show.html")]
struct ShowPage {
    p: PageCtx,
    unit: Unit,
    kind_label: &'static str,
    people: Vec<Person>,
    can_edit: bool,
    can_audit: bool,
    /// 民评官: (round id, round name, n, result, place, units ranked).
    ratings: Vec<RatingLine>,
}

struct RatingLine {
    round_id: Uuid,
    round: String,
    n: u64,
    value: String,
    interval: String,
    rank: Option<u32>,
    ranked: usize,
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewUnits)?;
    let unit = org::get_unit(&state.store, &scope, id).await?;
    let p = PageCtx::new(&auth, &state).with_flash(d.done.as_deref());
    let ratings = crate::service::ratings::of_unit(&state, &auth, id)
        .await?
        .into_iter()
        .map(|(round, x, ranked)| {
            let (value, low, high) = match x.mean {
                Some(m) => (format!("{:.1}", m.mean), m.low, m.high),
                None => (
                    format!("{:.1}%", x.satisfied.p * 100.0),
                    x.satisfied.low * 100.0,
                    x.satisfied.high * 100.0,
                ),
            };
            RatingLine {
                round_id: round.id,
                round: round.name,
                n: x.n,
                interval: if x.n == 0 {
                    String::new()
                } else {
                    format!("{low:.1} – {high:.1}")
                },
                value: if x.n == 0 { "—".into() } else { value },
                rank: x.rank,
                ranked,
            }
        })
        .collect();
    let page = ShowPage {
        ratings,
        people: org::list_people(&state.store, &scope, id).await?,
        kind_label: p.t(&format!("unit_kind.{}", unit.kind.code())),
        can_edit: auth
            .check(
                Action::ManageUnits,
                Resource::Unit {
                    id,
                    region_path: &unit.region_path,
                },
            )
            .is_ok(),
        can_audit: auth.may(Action::ViewAudit),
        unit,
        p,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "units/form.html")]
struct FormPage {
    p: PageCtx,
    editing: Option<Unit>,
    version: i64,
    form: UnitForm,
    errors: FieldErrors,
    conflict: bool,
    regions: Vec<Region>,
    kinds: Vec<KindOption>,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    auth: &Auth,
    editing: Option<Unit>,
    version: i64,
    form: UnitForm,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ManageUnits)?;
    let regions = org::list_regions(&state.store, &scope)
        .await?
        .into_iter()
        .filter(|r| r.level <= wenming_domain::org::RegionLevel::Community)
        .collect();
    let p = PageCtx::new(auth, state);
    let status = form_status(&errors, conflict);
    let page = FormPage {
        kinds: kind_options(&p),
        p,
        editing,
        version,
        form,
        errors,
        conflict,
        regions,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.check(Action::ManageUnits, Resource::Collection)?;
    let form = UnitForm {
        kind: UnitKind::Department.code().into(),
        active: Some("on".into()),
        ..Default::default()
    };
    form_page(&state, &auth, None, 0, form, FieldErrors::new(), false).await
}

#[derive(Deserialize)]
pub struct PostedUnit {
    #[serde(flatten)]
    form: UnitForm,
    /// Text, not a number: flattened urlencoded fields arrive as strings.
    #[serde(default)]
    version: String,
}

pub async fn create(State(state): State<AppState>, f: CsrfForm<PostedUnit>) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageUnits>()?;
    let form = f.form.form;
    let result = match form.parse() {
        Ok(input) => org::create_unit(&state.store, &auth.ctx(), &permit, input).await,
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(u) => Ok(see_other(&format!("/units/{}", u.id), "created")),
        Err(StoreError::Invalid(e)) => form_page(&state, &auth, None, 0, form, e, false).await,
        Err(e) => Err(e.into()),
    }
}

fn form_of(u: &Unit) -> UnitForm {
    UnitForm {
        name: u.name.clone(),
        short_name: u.short_name.clone().unwrap_or_default(),
        kind: u.kind.code().into(),
        region_id: u.region_id.to_string(),
        liaison_name: u.liaison.name.clone().unwrap_or_default(),
        liaison_phone: u.liaison.phone.clone().unwrap_or_default(),
        head_name: u.head.name.clone().unwrap_or_default(),
        head_phone: u.head.phone.clone().unwrap_or_default(),
        active: u.active.then(|| "on".to_string()),
    }
}

async fn editable(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<Unit> {
    let view = auth.scope(Action::ViewUnits)?;
    let unit = org::get_unit(&state.store, &view, id).await?;
    auth.check(
        Action::ManageUnits,
        Resource::Unit {
            id,
            region_path: &unit.region_path,
        },
    )?;
    Ok(unit)
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let unit = editable(&state, &auth, id).await?;
    let form = form_of(&unit);
    let version = unit.version;
    form_page(
        &state,
        &auth,
        Some(unit),
        version,
        form,
        FieldErrors::new(),
        false,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<PostedUnit>,
) -> AppResult<Response> {
    let auth = f.auth;
    let unit = editable(&state, &auth, id).await?;
    let permit = auth.permit::<may::ManageUnits>()?;
    let PostedUnit { form, version } = f.form;
    let version: i64 = version.trim().parse().unwrap_or(-1);
    let result = match form.parse() {
        Ok(input) => org::update_unit(&state.store, &auth.ctx(), &permit, id, version, input).await,
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(u) => Ok(see_other(&format!("/units/{}", u.id), "saved")),
        Err(StoreError::Invalid(e)) => {
            form_page(&state, &auth, Some(unit), version, form, e, false).await
        }
        Err(StoreError::Conflict) => {
            form_page(
                &state,
                &auth,
                Some(unit),
                version,
                form,
                FieldErrors::new(),
                true,
            )
            .await
        }
        Err(e) => Err(AppError::from(e)),
    }
}
