//! The site register (点位) and its types.

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
use wenming_domain::policy::{Action, Resource, may};
use wenming_domain::site::{SiteForm, SiteType};
use wenming_store::site::{self, Site, SiteFilter};

#[derive(Serialize, ToSchema)]
pub struct SiteTypeDto {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// point, line or area
    pub geometry: String,
    pub active: bool,
}

impl From<SiteType> for SiteTypeDto {
    fn from(t: SiteType) -> Self {
        SiteTypeDto {
            id: t.id,
            code: t.code,
            name: t.name,
            geometry: t.geometry.code().into(),
            active: t.active,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SiteDto {
    pub id: Uuid,
    pub code: String,
    pub type_id: Uuid,
    pub type_code: String,
    pub type_name: String,
    pub name: String,
    pub region_id: Uuid,
    pub region_name: String,
    /// 包保单位
    pub sponsor_unit_id: Option<Uuid>,
    pub sponsor_unit_name: Option<String>,
    /// 点位长
    pub chief_name: Option<String>,
    pub chief_phone: Option<String>,
    pub address: Option<String>,
    pub lon: f64,
    pub lat: f64,
    /// The line or area (GeoJSON), when the site has one.
    #[schema(value_type = Option<Object>)]
    pub shape: Option<serde_json::Value>,
    pub active: bool,
    pub version: i64,
}

impl From<Site> for SiteDto {
    fn from(s: Site) -> Self {
        SiteDto {
            id: s.id,
            code: s.code,
            type_id: s.type_id,
            type_code: s.type_code,
            type_name: s.type_name,
            name: s.name,
            region_id: s.region_id,
            region_name: s.region_name,
            sponsor_unit_id: s.sponsor_unit_id,
            sponsor_unit_name: s.sponsor_unit_name,
            chief_name: s.chief_name,
            chief_phone: s.chief_phone,
            address: s.address,
            lon: s.point.lon,
            lat: s.point.lat,
            shape: s.shape,
            active: s.active,
            version: s.version,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SiteBody {
    /// A short code for lists and spreadsheets, e.g. LJ-SC-003.
    pub code: String,
    pub type_id: Uuid,
    pub name: String,
    pub region_id: Uuid,
    pub sponsor_unit_id: Option<Uuid>,
    pub chief_name: Option<String>,
    pub chief_phone: Option<String>,
    pub address: Option<String>,
    pub lon: f64,
    pub lat: f64,
    #[serde(default = "super::dto::yes")]
    pub active: bool,
    /// The line or area as GeoJSON (LineString or Polygon), for roads and
    /// markets.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub shape: Option<serde_json::Value>,
    /// Required on update: the version that was read.
    pub version: Option<i64>,
}

impl SiteBody {
    fn form(&self) -> SiteForm {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        SiteForm {
            code: self.code.clone(),
            type_id: self.type_id.to_string(),
            name: self.name.clone(),
            region_id: self.region_id.to_string(),
            sponsor_unit_id: self
                .sponsor_unit_id
                .map(|u| u.to_string())
                .unwrap_or_default(),
            chief_name: s(&self.chief_name),
            chief_phone: s(&self.chief_phone),
            address: s(&self.address),
            lon: self.lon.to_string(),
            lat: self.lat.to_string(),
            active: self.active.then(|| "on".into()),
            shape: self
                .shape
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_default(),
        }
    }
}

/// The site types, in the office's order.
#[utoipa::path(get, path = "/site-types", tag = "sites",
    responses((status = 200, body = Vec<SiteTypeDto>)))]
pub async fn types(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<SiteTypeDto>>> {
    auth.scope(Action::ViewSites)?;
    Ok(Json(
        site::types(&state.store)
            .await?
            .into_iter()
            .map(SiteTypeDto::from)
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    type_id: Option<Uuid>,
    /// Only sites in this region's subtree.
    region_id: Option<Uuid>,
    /// Only the sites this unit sponsors.
    sponsor_unit_id: Option<Uuid>,
    /// Leave out retired sites.
    #[serde(default)]
    active_only: bool,
}

/// Sites the caller may see: in their regions, or sponsored by their unit.
#[utoipa::path(get, path = "/sites", tag = "sites", params(SiteQuery),
    responses((status = 200, body = Vec<SiteDto>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SiteQuery>,
) -> AppResult<Json<Vec<SiteDto>>> {
    let scope = auth.scope(Action::ViewSites)?;
    let f = SiteFilter {
        type_id: q.type_id,
        region_id: q.region_id,
        sponsor_unit_id: q.sponsor_unit_id,
        active_only: q.active_only,
    };
    let sites = site::list(&state.store, &scope, &f).await?;
    Ok(Json(sites.into_iter().map(SiteDto::from).collect()))
}

#[utoipa::path(get, path = "/sites/{id}", tag = "sites", params(("id" = Uuid, Path)),
    responses((status = 200, body = SiteDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<SiteDto>> {
    let scope = auth.scope(Action::ViewSites)?;
    Ok(Json(site::get(&state.store, &scope, id).await?.into()))
}

#[utoipa::path(post, path = "/sites", tag = "sites", request_body = SiteBody,
    responses((status = 201, body = SiteDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSites>,
    ApiJson(body): ApiJson<SiteBody>,
) -> AppResult<(StatusCode, Json<SiteDto>)> {
    let input = body.form().parse()?;
    let s = site::create(&state.store, &auth.ctx(), &permit, &input).await?;
    Ok((StatusCode::CREATED, Json(s.into())))
}

#[utoipa::path(put, path = "/sites/{id}", tag = "sites", request_body = SiteBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = SiteDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSites>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SiteBody>,
) -> AppResult<Json<SiteDto>> {
    let site = site::get(&state.store, &auth.scope(Action::ViewSites)?, id).await?;
    auth.check(
        Action::ManageSites,
        Resource::Held {
            region_path: &site.region_path,
            unit: site.sponsor_unit_id,
        },
    )?;
    let version = body
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let input = body.form().parse()?;
    Ok(Json(
        site::update(&state.store, &auth.ctx(), &permit, id, version, &input)
            .await?
            .into(),
    ))
}

/// The sites in the caller's scope as a workbook, names as people read
/// them; the same shape is taken back by `POST /sites/import`.
#[utoipa::path(get, path = "/sites/export", tag = "sites",
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<axum::response::Response> {
    crate::service::site_sheet::export(&state, &auth).await
}

#[derive(Serialize, ToSchema)]
pub struct ImportedSites {
    pub added: usize,
    pub changed: usize,
}

/// Adds and changes sites from a workbook (multipart field `file`): a row
/// whose code is registered changes that site, the others are added. All
/// rows or none; each problem names its row and column.
#[utoipa::path(post, path = "/sites/import", tag = "sites",
    request_body(content = Vec<u8>, content_type = "multipart/form-data"),
    responses((status = 200, body = ImportedSites), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Can { auth, .. }: Can<may::ManageSites>,
    crate::extract::ApiMultipart(multipart): crate::extract::ApiMultipart,
) -> AppResult<Json<ImportedSites>> {
    // A browser's session proved itself with its x-csrf-token header.
    let (_, file) = crate::service::site_sheet::read_upload(multipart).await?;
    let (added, changed) = crate::service::site_sheet::import(&state, &auth, file).await?;
    Ok(Json(ImportedSites { added, changed }))
}
