//! The site register (点位): the list, filtered by type, district and
//! sponsor (kept in the URL), one site, create and edit.

use super::{Done, see_other};
use crate::AppState;
use crate::auth::{Auth, Can, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::org::{Region, RegionLevel};
use wenming_domain::policy::{Action, Resource, may};
use wenming_domain::site::{SiteForm, SiteType};
use wenming_store::site::{self, Site, SiteFilter};
use wenming_store::{StoreError, org};

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub r#type: String,
    #[serde(default)]
    pub region: String,
    pub done: Option<String>,
}

/// A site type and how many sites of it the list holds.
pub struct TypeCount {
    pub t: SiteType,
    pub n: usize,
}

#[derive(Template)]
#[template(path = "sites/list.html")]
struct ListPage {
    p: PageCtx,
    sites: Vec<Site>,
    types: Vec<TypeCount>,
    districts: Vec<Region>,
    query: ListQuery,
    can_manage: bool,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewSites)?;
    let p = PageCtx::new(&auth, &state).with_flash(q.done.as_deref());
    let regions = org::list_regions(&state.store, &scope)
        .await
        .unwrap_or_default();
    let all = site::list(
        &state.store,
        &scope,
        &SiteFilter {
            region_id: Uuid::parse_str(&q.region).ok(),
            ..Default::default()
        },
    )
    .await?;
    let types: Vec<TypeCount> = site::types(&state.store)
        .await?
        .into_iter()
        .map(|t| TypeCount {
            n: all.iter().filter(|s| s.type_id == t.id).count(),
            t,
        })
        .collect();
    let chosen = Uuid::parse_str(&q.r#type).ok();
    let sites = all
        .into_iter()
        .filter(|s| chosen.is_none_or(|t| s.type_id == t))
        .collect();
    let page = ListPage {
        can_manage: auth.may(Action::ManageSites),
        sites,
        types,
        districts: regions
            .into_iter()
            .filter(|r| r.level == RegionLevel::District)
            .collect(),
        query: q,
        p,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "sites/show.html")]
struct ShowPage {
    p: PageCtx,
    site: Site,
    can_edit: bool,
    can_audit: bool,
    /// Rounds that visited it, newest first (for those who see rounds).
    history: Vec<wenming_store::inspection::Visit>,
    open_cases: Vec<(Uuid, String, String, String)>,
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewSites)?;
    let site = site::get(&state.store, &scope, id).await?;
    let p = PageCtx::new(&auth, &state).with_flash(d.done.as_deref());
    let page = ShowPage {
        can_edit: auth
            .check(
                Action::ManageSites,
                Resource::Region {
                    path: &site.region_path,
                },
            )
            .is_ok(),
        can_audit: auth.may(Action::ViewAudit),
        history: if auth.may(Action::ViewRounds) {
            wenming_store::inspection::site_history(&state.store, site.id).await?
        } else {
            vec![]
        },
        open_cases: if auth.may(Action::ViewCases) {
            wenming_store::inspection::open_cases_of_site(&state.store, site.id).await?
        } else {
            vec![]
        },
        site,
        p,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "sites/form.html")]
struct FormPage {
    p: PageCtx,
    editing: Option<Site>,
    version: i64,
    form: SiteForm,
    errors: FieldErrors,
    conflict: bool,
    types: Vec<SiteType>,
    regions: Vec<Region>,
    units: Vec<(Uuid, String)>,
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    auth: &Auth,
    editing: Option<Site>,
    version: i64,
    form: SiteForm,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ManageSites)?;
    let regions = org::list_regions(&state.store, &scope)
        .await?
        .into_iter()
        .filter(|r| r.level <= RegionLevel::Community)
        .collect();
    let city = org::whole_city(&state.store).await?;
    let units = org::all_units(&state.store, &city, true)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let status = form_status(&errors, conflict);
    let page = FormPage {
        p: PageCtx::new(auth, state),
        types: site::types(&state.store).await?,
        editing,
        version,
        form,
        errors,
        conflict,
        regions,
        units,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.check(Action::ManageSites, Resource::Collection)?;
    let form = SiteForm {
        active: Some("on".into()),
        ..Default::default()
    };
    form_page(&state, &auth, None, 0, form, FieldErrors::new(), false).await
}

#[derive(Deserialize)]
pub struct PostedSite {
    #[serde(flatten)]
    form: SiteForm,
    /// Text, not a number: flattened urlencoded fields arrive as strings.
    #[serde(default)]
    version: String,
}

pub async fn create(State(state): State<AppState>, f: CsrfForm<PostedSite>) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageSites>()?;
    let form = f.form.form;
    let result = match form.parse() {
        Ok(input) => site::create(&state.store, &auth.ctx(), &permit, &input).await,
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(s) => Ok(see_other(&format!("/sites/{}", s.id), "created")),
        Err(StoreError::Invalid(e)) => form_page(&state, &auth, None, 0, form, e, false).await,
        Err(e) => Err(e.into()),
    }
}

fn form_of(s: &Site) -> SiteForm {
    SiteForm {
        code: s.code.clone(),
        type_id: s.type_id.to_string(),
        name: s.name.clone(),
        region_id: s.region_id.to_string(),
        sponsor_unit_id: s.sponsor_unit_id.map(|u| u.to_string()).unwrap_or_default(),
        chief_name: s.chief_name.clone().unwrap_or_default(),
        chief_phone: s.chief_phone.clone().unwrap_or_default(),
        address: s.address.clone().unwrap_or_default(),
        lon: s.point.lon.to_string(),
        lat: s.point.lat.to_string(),
        active: s.active.then(|| "on".to_string()),
        shape: s.shape.as_ref().map(|v| v.to_string()).unwrap_or_default(),
    }
}

async fn editable(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<Site> {
    let site = site::get(&state.store, &auth.scope(Action::ViewSites)?, id).await?;
    auth.check(
        Action::ManageSites,
        Resource::Held {
            region_path: &site.region_path,
            unit: site.sponsor_unit_id,
        },
    )?;
    Ok(site)
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let site = editable(&state, &auth, id).await?;
    let (form, version) = (form_of(&site), site.version);
    form_page(
        &state,
        &auth,
        Some(site),
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
    f: CsrfForm<PostedSite>,
) -> AppResult<Response> {
    let auth = f.auth;
    let site = editable(&state, &auth, id).await?;
    let permit = auth.permit::<may::ManageSites>()?;
    let PostedSite { form, version } = f.form;
    let version: i64 = version.trim().parse().unwrap_or(-1);
    let result = match form.parse() {
        Ok(input) => site::update(&state.store, &auth.ctx(), &permit, id, version, &input).await,
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(s) => Ok(see_other(&format!("/sites/{}", s.id), "saved")),
        Err(StoreError::Invalid(e)) => {
            form_page(&state, &auth, Some(site), version, form, e, false).await
        }
        Err(StoreError::Conflict) => {
            form_page(
                &state,
                &auth,
                Some(site),
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

pub async fn export(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    crate::service::site_sheet::export(&state, &auth).await
}

#[derive(Template)]
#[template(path = "sites/import.html")]
struct ImportPage {
    p: PageCtx,
    problems: Vec<String>,
}

pub async fn import_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ManageSites)?;
    Ok(render(&ImportPage {
        p: PageCtx::new(&auth, &state),
        problems: vec![],
    }))
}

pub async fn import(
    State(state): State<AppState>,
    // Before the body: a caller who may not import hears 403, not
    // what was wrong with the upload.
    Can { auth, .. }: Can<may::ManageSites>,
    multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    let (csrf, file) = crate::service::site_sheet::read_upload(multipart).await?;
    auth.check_csrf(&csrf)?;
    let problems = match crate::service::site_sheet::import(&state, &auth, file).await {
        Ok(_) => return Ok(see_other("/sites", "sites_imported")),
        Err(AppError::Problems(p)) => p
            .iter()
            .map(|x| crate::describe_problem(auth.lang, x))
            .collect(),
        Err(AppError::Invalid(e)) => {
            e.0.iter()
                .map(|f| crate::i18n::field_message(auth.lang, f.code).to_string())
                .collect()
        }
        Err(e) => return Err(e),
    };
    let page = ImportPage {
        p: PageCtx::new(&auth, &state),
        problems,
    };
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}
