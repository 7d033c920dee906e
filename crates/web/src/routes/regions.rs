//! The region tree: browse, look at one region and its history, create, edit
//! and move.

use super::{Done, see_other};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::org::{Region, RegionForm, RegionLevel, RegionPlacement, Unit};
use wenming_domain::policy::{Action, Resource, may};
use wenming_store::{StoreError, org};

pub struct LevelOption {
    pub value: &'static str,
    pub label: &'static str,
}

fn level_options(p: &PageCtx) -> Vec<LevelOption> {
    RegionLevel::ALL
        .iter()
        .map(|l| LevelOption {
            value: l.code(),
            label: p.t(&format!("region_level.{}", l.code())),
        })
        .collect()
}

pub struct RegionRow {
    pub region: Region,
    pub depth: usize,
    pub level_label: &'static str,
}

#[derive(Template)]
#[template(path = "regions/list.html")]
struct ListPage {
    p: PageCtx,
    rows: Vec<RegionRow>,
    total: i64,
    q: String,
    level: String,
    levels: Vec<LevelOption>,
    can_manage: bool,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    level: String,
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewRegions)?;
    let p = PageCtx::new(&auth, &state).with_flash(q.done.as_deref());
    let regions = org::list_regions(&state.store, &scope).await?;
    let level = RegionLevel::parse(&q.level);
    let needle = q.q.trim().to_lowercase();
    let top_depth = regions.first().map_or(0, |r| r.path.matches('/').count());
    let rows = regions
        .into_iter()
        .filter(|r| level.is_none_or(|l| r.level == l))
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.code.to_lowercase().contains(&needle)
        })
        .map(|r| RegionRow {
            depth: if level.is_some() || !needle.is_empty() {
                0
            } else {
                r.path.matches('/').count().saturating_sub(top_depth)
            },
            level_label: p.t(&format!("region_level.{}", r.level.code())),
            region: r,
        })
        .collect::<Vec<_>>();
    let page = ListPage {
        total: rows.len() as i64,
        levels: level_options(&p),
        can_manage: auth.may(Action::ManageRegions),
        rows,
        q: q.q,
        level: q.level,
        p,
    };
    Ok(render(&page))
}

/// The regions in scope as CSV, parents before children, with boundaries as
/// GeoJSON text so they can be taken into a GIS.
pub async fn export_csv(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewRegions)?;
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    let regions = org::list_regions(&state.store, &scope).await?;
    let codes: std::collections::HashMap<Uuid, String> =
        regions.iter().map(|r| (r.id, r.code.clone())).collect();
    let rows: Vec<Vec<String>> = regions
        .iter()
        .map(|r| {
            vec![
                r.code.clone(),
                r.name.clone(),
                t(&format!("region_level.{}", r.level.code())).to_string(),
                r.parent_id
                    .and_then(|p| codes.get(&p).cloned())
                    .unwrap_or_default(),
                r.boundary
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let header = [
        t("region.code"),
        t("region.name"),
        t("region.level"),
        t("region.parent_code"),
        t("region.boundary"),
    ];
    let body = wenming_reports::csv::write(&header, &rows);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"regions.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "regions/show.html")]
struct ShowPage {
    p: PageCtx,
    region: Region,
    level_label: &'static str,
    parent: Option<Region>,
    children: Vec<Region>,
    units: Vec<Unit>,
    history: Vec<RegionPlacement>,
    boundary_svg: String,
    can_edit: bool,
    can_audit: bool,
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewRegions)?;
    let region = org::get_region(&state.store, &scope, id).await?;
    let p = PageCtx::new(&auth, &state).with_flash(d.done.as_deref());
    let parent = match region.parent_id {
        Some(pid) => org::get_region(&state.store, &scope, pid).await.ok(),
        None => None,
    };
    let all = org::list_regions(&state.store, &scope).await?;
    let children = all
        .into_iter()
        .filter(|r| r.parent_id == Some(id))
        .collect();
    let units = match auth.scope(Action::ViewUnits) {
        Ok(us) => {
            let f = org::UnitFilter {
                region_id: Some(id),
                limit: 50,
                ..Default::default()
            };
            org::list_units(&state.store, &us, &f).await?.items
        }
        Err(_) => vec![],
    };
    let history = org::placements(&state.store, id).await?;
    let page = ShowPage {
        level_label: p.t(&format!("region_level.{}", region.level.code())),
        boundary_svg: region
            .boundary
            .as_ref()
            .map(boundary_svg)
            .unwrap_or_default(),
        can_edit: auth
            .check(
                Action::ManageRegions,
                Resource::Region { path: &region.path },
            )
            .is_ok(),
        can_audit: auth.may(Action::ViewAudit),
        region,
        parent,
        children,
        units,
        history,
        p,
    };
    Ok(render(&page))
}

/// The boundary drawn as an SVG outline, north up, scaled to fit.
fn boundary_svg(geometry: &serde_json::Value) -> String {
    let mut rings: Vec<Vec<(f64, f64)>> = vec![];
    let polys: Vec<&serde_json::Value> = match geometry["type"].as_str() {
        Some("Polygon") => vec![&geometry["coordinates"]],
        Some("MultiPolygon") => geometry["coordinates"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        _ => vec![],
    };
    for poly in polys {
        for ring in poly.as_array().into_iter().flatten() {
            rings.push(
                ring.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                    .collect(),
            );
        }
    }
    let pts = rings.iter().flatten();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return String::new();
    }
    let span = (x1 - x0).max(y1 - y0).max(1e-9);
    let path: String = rings
        .iter()
        .map(|ring| {
            let mut d = String::new();
            for (i, (x, y)) in ring.iter().enumerate() {
                let px = 10.0 + (x - x0) / span * 180.0;
                let py = 10.0 + (y1 - y) / span * 180.0;
                d.push_str(&format!(
                    "{}{px:.1},{py:.1} ",
                    if i == 0 { "M" } else { "L" }
                ));
            }
            d.push('Z');
            d
        })
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "<svg class=\"boundary\" viewBox=\"0 0 200 200\" role=\"img\" aria-label=\"boundary\"><path d=\"{path}\" /></svg>"
    )
}

#[derive(Template)]
#[template(path = "regions/form.html")]
struct FormPage {
    p: PageCtx,
    editing: Option<Region>,
    version: i64,
    form: RegionForm,
    errors: FieldErrors,
    conflict: bool,
    parents: Vec<Region>,
    levels: Vec<LevelOption>,
}

async fn form_page(
    state: &AppState,
    auth: &Auth,
    editing: Option<Region>,
    version: i64,
    form: RegionForm,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ManageRegions)?;
    let parents = org::list_regions(&state.store, &scope)
        .await?
        .into_iter()
        .filter(|r| r.level != RegionLevel::Grid)
        .filter(|r| {
            editing
                .as_ref()
                .is_none_or(|e| !r.path.starts_with(&e.path))
        })
        .collect();
    let p = PageCtx::new(auth, state);
    let status = form_status(&errors, conflict);
    let page = FormPage {
        levels: level_options(&p),
        p,
        editing,
        version,
        form,
        errors,
        conflict,
        parents,
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    parent: Option<Uuid>,
}

pub async fn new_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<NewQuery>,
) -> AppResult<Response> {
    auth.check(Action::ManageRegions, Resource::Collection)?;
    let mut form = RegionForm::default();
    if let Some(pid) = q.parent {
        let scope = auth.scope(Action::ManageRegions)?;
        if let Ok(parent) = org::get_region(&state.store, &scope, pid).await {
            form.parent_id = parent.id.to_string();
            if let Some(child) = RegionLevel::ALL
                .iter()
                .find(|l| l.may_be_child_of(parent.level))
            {
                form.level = child.code().into();
            }
        }
    }
    form_page(&state, &auth, None, 0, form, FieldErrors::new(), false).await
}

#[derive(Deserialize)]
pub struct PostedRegion {
    #[serde(flatten)]
    form: RegionForm,
    /// Text, not a number: flattened urlencoded fields arrive as strings.
    #[serde(default)]
    version: String,
}

pub async fn create(
    State(state): State<AppState>,
    f: CsrfForm<PostedRegion>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageRegions>()?;
    let form = f.form.form;
    let result = match form.parse() {
        Ok(input) => org::create_region(&state.store, &auth.ctx(), &permit, input).await,
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(r) => Ok(see_other(&format!("/regions/{}", r.id), "created")),
        Err(StoreError::Invalid(e)) => form_page(&state, &auth, None, 0, form, e, false).await,
        Err(e) => Err(e.into()),
    }
}

fn form_of(r: &Region) -> RegionForm {
    RegionForm {
        parent_id: r.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        level: r.level.code().into(),
        code: r.code.clone(),
        name: r.name.clone(),
        boundary: r
            .boundary
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_default(),
        population: r.population.map(|n| n.to_string()).unwrap_or_default(),
    }
}

async fn editable(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<Region> {
    let view = auth.scope(Action::ViewRegions)?;
    let region = org::get_region(&state.store, &view, id).await?;
    auth.check(
        Action::ManageRegions,
        Resource::Region { path: &region.path },
    )?;
    Ok(region)
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let region = editable(&state, &auth, id).await?;
    let form = form_of(&region);
    let version = region.version;
    form_page(
        &state,
        &auth,
        Some(region),
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
    f: CsrfForm<PostedRegion>,
) -> AppResult<Response> {
    let auth = f.auth;
    let region = editable(&state, &auth, id).await?;
    let permit = auth.permit::<may::ManageRegions>()?;
    let PostedRegion { form, version } = f.form;
    let version: i64 = version.trim().parse().unwrap_or(-1);
    let result = match form.parse() {
        Ok(input) => {
            org::update_region(&state.store, &auth.ctx(), &permit, id, version, input).await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(r) => Ok(see_other(&format!("/regions/{}", r.id), "saved")),
        Err(StoreError::Invalid(e)) => {
            form_page(&state, &auth, Some(region), version, form, e, false).await
        }
        Err(StoreError::Conflict) => {
            form_page(
                &state,
                &auth,
                Some(region),
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
