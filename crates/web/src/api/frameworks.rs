use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::{EvidenceType, FrameworkStatus, Method, Points};
use wenming_domain::policy::{Action, may};
use wenming_store::framework::{self, FrameworkSummary, NodeFilter, StandardEdit};

#[derive(Serialize, ToSchema)]
pub struct FrameworkDto {
    pub id: Uuid,
    pub name: String,
    pub year: i32,
    /// draft, active or retired
    pub status: String,
    pub standards: i64,
    pub basic_points: f64,
    pub featured_points: f64,
    pub basic_total: Option<f64>,
    pub featured_total: Option<f64>,
    /// Method weights, cycle weights, gates and the negative list.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    pub cloned_from: Option<Uuid>,
    pub version: i64,
}

impl From<FrameworkSummary> for FrameworkDto {
    fn from(f: FrameworkSummary) -> Self {
        FrameworkDto {
            id: f.id,
            name: f.name,
            year: f.year,
            status: f.status.code().into(),
            standards: f.standards,
            basic_points: f.basic.as_f64(),
            featured_points: f.featured.as_f64(),
            basic_total: f.basic_total.map(Points::as_f64),
            featured_total: f.featured_total.map(Points::as_f64),
            settings: serde_json::to_value(&f.settings).unwrap_or_default(),
            cloned_from: f.cloned_from,
            version: f.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UnitRefDto {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct NodeDto {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    /// aspect, indicator, content or standard
    pub kind: String,
    pub code: String,
    pub title: String,
    pub depth: i64,
    /// Standards only.
    pub points: Option<f64>,
    pub methods: Vec<String>,
    pub featured: bool,
    pub site_types: Vec<String>,
    pub evidence_types: Vec<String>,
    pub lead_unit: Option<UnitRefDto>,
    pub cooperating_units: Vec<UnitRefDto>,
    /// How it is observed on site: {"kind":"pass_fail"}, {"kind":"at_least",
    /// "count":5} or {"kind":"percent","at_least":95.0}; none for met or not.
    #[schema(value_type = Option<Object>)]
    pub observation: Option<serde_json::Value>,
    pub version: i64,
}

impl From<framework::Node> for NodeDto {
    fn from(n: framework::Node) -> Self {
        let s = n.standard;
        let unit = |u: framework::UnitRef| UnitRefDto {
            id: u.id,
            name: u.name,
        };
        NodeDto {
            id: n.id,
            parent_id: n.parent_id,
            kind: n.kind.code().into(),
            code: n.code,
            title: n.title,
            depth: n.depth,
            points: s
                .as_ref()
                .map(|s| s.points.as_f64())
                .or(n.declared_points.map(Points::as_f64)),
            methods: s
                .as_ref()
                .map(|s| s.methods.iter().map(|m| m.code().to_string()).collect())
                .unwrap_or_default(),
            featured: s.as_ref().is_some_and(|s| s.featured),
            site_types: s.as_ref().map(|s| s.site_types.clone()).unwrap_or_default(),
            evidence_types: s
                .as_ref()
                .map(|s| {
                    s.evidence_types
                        .iter()
                        .map(|e| e.code().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            lead_unit: s.as_ref().and_then(|s| s.lead.clone()).map(unit),
            observation: s
                .as_ref()
                .and_then(|s| s.observation)
                .and_then(|o| serde_json::to_value(o).ok()),
            cooperating_units: s
                .map(|s| s.cooperating.into_iter().map(unit).collect())
                .unwrap_or_default(),
            version: n.version,
        }
    }
}

/// Framework versions, newest year first.
#[utoipa::path(get, path = "/frameworks", tag = "framework", responses((status = 200, body = Vec<FrameworkDto>)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<FrameworkDto>>> {
    auth.scope(Action::ViewFramework)?;
    Ok(Json(
        framework::list(&state.store)
            .await?
            .into_iter()
            .map(FrameworkDto::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/frameworks/{id}", tag = "framework", params(("id" = Uuid, Path)),
    responses((status = 200, body = FrameworkDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<FrameworkDto>> {
    auth.scope(Action::ViewFramework)?;
    Ok(Json(framework::get(&state.store, id).await?.into()))
}

/// The whole version in the portable JSON form (the same as the file export).
#[utoipa::path(get, path = "/frameworks/{id}/document", tag = "framework", params(("id" = Uuid, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn document(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<serde_json::Value>> {
    auth.scope(Action::ViewFramework)?;
    let doc = framework::export(&state.store, id).await?;
    Ok(Json(
        serde_json::to_value(doc).map_err(|_| AppError::Internal)?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NodeQuery {
    /// Part of a code or text: standards that match, with their ancestors.
    q: Option<String>,
    /// A method code, e.g. site_inspection.
    method: Option<String>,
    unit_id: Option<Uuid>,
    site_type: Option<String>,
}

/// The tree, flat and in order (parents first); filters keep the matching
/// standards and the nodes above them.
#[utoipa::path(get, path = "/frameworks/{id}/nodes", tag = "framework", params(("id" = Uuid, Path), NodeQuery),
    responses((status = 200, body = Vec<NodeDto>), (status = 404, body = ErrorBody)))]
pub async fn nodes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<NodeQuery>,
) -> AppResult<Json<Vec<NodeDto>>> {
    auth.scope(Action::ViewFramework)?;
    framework::get(&state.store, id).await?;
    let method =
        match q.method.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => Some(Method::parse(m).ok_or_else(|| {
                AppError::Invalid(FieldErrors::single("method", "invalid_choice"))
            })?),
            None => None,
        };
    let filter = NodeFilter {
        q: q.q.filter(|s| !s.trim().is_empty()),
        method,
        unit_id: q.unit_id,
        site_type: q.site_type.filter(|s| !s.is_empty()),
    };
    let kept = framework::filtered_nodes(&state.store, id, &filter).await?;
    Ok(Json(kept.into_iter().map(NodeDto::from).collect()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check and report what would change; save nothing.
    #[serde(default)]
    dry_run: bool,
    /// Add unknown unit names to the registry instead of refusing.
    #[serde(default)]
    create_units: bool,
    /// For an XLSX without a settings sheet.
    name: Option<String>,
    year: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    /// Absent on a dry run.
    pub id: Option<Uuid>,
    /// What the import does: counts, totals, unknown units, the draft it replaces and the diff against it.
    #[schema(value_type = Object)]
    pub plan: serde_json::Value,
}

/// Imports a framework from an XLSX table (official layout) or our JSON
/// form, all or nothing. Problems come back with the sheet and cell (or JSON
/// line) in `field`.
#[utoipa::path(post, path = "/frameworks/import", tag = "framework", params(ImportQuery),
    request_body(content = Vec<u8>, description = "An .xlsx file or the JSON form", content_type = "application/octet-stream"),
    responses((status = 201, body = ImportResult), (status = 200, body = ImportResult, description = "dry run"), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: axum::body::Body,
) -> AppResult<(StatusCode, Json<ImportResult>)> {
    // Official tables run past axum's 2 MB default; the API takes what the
    // upload page and the CLI take, and says so when a file is bigger.
    let body = axum::body::to_bytes(body, crate::extract::MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| AppError::Invalid(FieldErrors::single("file", "file_too_large")))?;
    let name = q.name.unwrap_or_default();
    let year = q
        .year
        .unwrap_or_else(|| jiff::ZonedDateTime::now().year() as i32);
    let doc = tokio::task::spawn_blocking(move || {
        wenming_reports::framework_xlsx::read_upload(&body, &name, year, &Default::default())
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(AppError::Problems)?;
    let plan = framework::plan(&state.store, &doc).await?;
    if q.dry_run {
        return Ok((
            StatusCode::OK,
            Json(ImportResult {
                id: None,
                plan: serde_json::to_value(&plan).unwrap_or_default(),
            }),
        ));
    }
    let (id, plan) =
        framework::import(&state.store, &auth.ctx(), &permit, &doc, q.create_units).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            id: Some(id),
            plan: serde_json::to_value(&plan).unwrap_or_default(),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct StatusBody {
    /// draft, active or retired
    pub status: String,
    pub version: i64,
}

#[utoipa::path(put, path = "/frameworks/{id}/status", tag = "framework", request_body = StatusBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = FrameworkDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<StatusBody>,
) -> AppResult<Json<FrameworkDto>> {
    let status = FrameworkStatus::parse(&b.status)
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("status", "invalid_choice")))?;
    framework::set_status(&state.store, &auth.ctx(), &permit, id, b.version, status).await?;
    Ok(Json(framework::get(&state.store, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct CloneBody {
    pub name: String,
    pub year: i32,
}

/// A new draft copied from this version.
#[utoipa::path(post, path = "/frameworks/{id}/clone", tag = "framework", request_body = CloneBody, params(("id" = Uuid, Path)),
    responses((status = 201, body = FrameworkDto), (status = 422, body = ErrorBody)))]
pub async fn clone(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<CloneBody>,
) -> AppResult<(StatusCode, Json<FrameworkDto>)> {
    let new = framework::clone(&state.store, &auth.ctx(), &permit, id, &b.name, b.year).await?;
    Ok((
        StatusCode::CREATED,
        Json(framework::get(&state.store, new).await?.into()),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct DiffDto {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Code and the fields that differ.
    #[schema(value_type = Vec<Object>)]
    pub changed: Vec<(String, Vec<&'static str>)>,
}

/// What changed from version `other` to version `id`, by code.
#[utoipa::path(get, path = "/frameworks/{id}/diff/{other}", tag = "framework", params(("id" = Uuid, Path), ("other" = Uuid, Path)),
    responses((status = 200, body = DiffDto), (status = 404, body = ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, other)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<DiffDto>> {
    auth.scope(Action::ViewFramework)?;
    let d = wenming_domain::framework::diff(
        &framework::export(&state.store, other).await?,
        &framework::export(&state.store, id).await?,
    );
    Ok(Json(DiffDto {
        added: d.added,
        removed: d.removed,
        changed: d.changed,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct StandardBody {
    pub title: String,
    pub points: f64,
    /// Method codes, e.g. ["material_review", "survey"].
    pub methods: Vec<String>,
    #[serde(default)]
    pub featured: bool,
    #[serde(default)]
    pub site_types: Vec<String>,
    #[serde(default)]
    pub evidence_types: Vec<String>,
    pub lead_unit_id: Option<Uuid>,
    #[serde(default)]
    pub cooperating_unit_ids: Vec<Uuid>,
    pub version: i64,
}

#[utoipa::path(put, path = "/standards/{id}", tag = "framework", request_body = StandardBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = NodeDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_standard(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<StandardBody>,
) -> AppResult<Json<NodeDto>> {
    let mut e = FieldErrors::new();
    let points = Points::from_f64(b.points).unwrap_or_else(|| {
        e.add("points", "invalid_points");
        Points(0)
    });
    let mut methods = vec![];
    for m in &b.methods {
        match Method::parse(m) {
            Some(x) => methods.push(x),
            None => e.add("methods", "invalid_choice"),
        }
    }
    let mut evidence_types = vec![];
    for x in &b.evidence_types {
        match EvidenceType::parse(x) {
            Some(v) => evidence_types.push(v),
            None => e.add("evidence_types", "invalid_choice"),
        }
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let edit = StandardEdit {
        title: b.title,
        points,
        methods,
        featured: b.featured,
        site_types: b.site_types,
        evidence_types,
        lead_unit: b.lead_unit_id,
        cooperating_units: b.cooperating_unit_ids,
    };
    Ok(Json(
        framework::update_standard(&state.store, &auth.ctx(), &permit, id, b.version, edit)
            .await?
            .into(),
    ))
}
