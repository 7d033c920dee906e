use super::dto::{ErrorBody, PlacementDto, RegionBody, RegionDto};
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, Resource, may};
use wenming_store::org;

/// Regions visible to the caller, parents before children.
#[utoipa::path(get, path = "/regions", tag = "organisation",
    responses((status = 200, body = Vec<RegionDto>), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<RegionDto>>> {
    let scope = auth.scope(Action::ViewRegions)?;
    let regions = org::list_regions(&state.store, &scope).await?;
    Ok(Json(regions.into_iter().map(RegionDto::from).collect()))
}

#[utoipa::path(get, path = "/regions/{id}", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RegionDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RegionDto>> {
    let scope = auth.scope(Action::ViewRegions)?;
    Ok(Json(
        org::get_region(&state.store, &scope, id).await?.into(),
    ))
}

/// Where the region sat in the tree, and under which name, over time.
#[utoipa::path(get, path = "/regions/{id}/history", tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PlacementDto>), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<PlacementDto>>> {
    let scope = auth.scope(Action::ViewRegions)?;
    org::get_region(&state.store, &scope, id).await?;
    let rows = org::placements(&state.store, id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| PlacementDto {
                parent_id: p.parent_id,
                name: p.name,
                valid_from: p.valid_from.to_string(),
                valid_to: p.valid_to.map(|t| t.to_string()),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/regions", tag = "organisation", request_body = RegionBody,
    responses((status = 201, body = RegionDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRegions>,
    ApiJson(body): ApiJson<RegionBody>,
) -> AppResult<(StatusCode, Json<RegionDto>)> {
    let input = body.form().parse()?;
    let r = org::create_region(&state.store, &auth.ctx(), &permit, input).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Renames, re-draws or moves a region (with its whole subtree).
#[utoipa::path(put, path = "/regions/{id}", tag = "organisation", request_body = RegionBody,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RegionDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRegions>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RegionBody>,
) -> AppResult<Json<RegionDto>> {
    let view = auth.scope(Action::ViewRegions)?;
    let region = org::get_region(&state.store, &view, id).await?;
    auth.check(
        Action::ManageRegions,
        Resource::Region { path: &region.path },
    )?;
    let version = body
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let input = body.form().parse()?;
    Ok(Json(
        org::update_region(&state.store, &auth.ctx(), &permit, id, version, input)
            .await?
            .into(),
    ))
}
