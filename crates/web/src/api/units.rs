use super::dto::{ErrorBody, Page, PersonBody, PersonDto, UnitBody, UnitDto};
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::org::UnitKind;
use wenming_domain::policy::{Action, Resource, may};
use wenming_store::org::{self, UnitFilter};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Part of the name or short name.
    q: Option<String>,
    kind: Option<String>,
    /// Only units in this region's subtree.
    region_id: Option<Uuid>,
    active: Option<bool>,
    /// Cursor from the previous page's `next`.
    after: Option<String>,
    /// Page size, 1 to 500 (default 100).
    limit: Option<i64>,
}

/// Units visible to the caller, by name, a page at a time.
#[utoipa::path(get, path = "/units", tag = "organisation", params(UnitQuery),
    responses((status = 200, body = Page<UnitDto>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<UnitQuery>,
) -> AppResult<Json<Page<UnitDto>>> {
    let scope = auth.scope(Action::ViewUnits)?;
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k) => Some(
            UnitKind::parse(k)
                .ok_or_else(|| AppError::Invalid(FieldErrors::single("kind", "invalid_choice")))?,
        ),
    };
    let f = UnitFilter {
        q: q.q,
        kind,
        region_id: q.region_id,
        active: q.active,
        after: q.after,
        limit: q.limit.unwrap_or(100),
    };
    let page = org::list_units(&state.store, &scope, &f).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(UnitDto::from).collect(),
        total: page.total,
        next: page.next,
    }))
}

#[utoipa::path(get, path = "/units/{id}", tag = "organisation", params(("id" = Uuid, Path)),
    responses((status = 200, body = UnitDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<UnitDto>> {
    let scope = auth.scope(Action::ViewUnits)?;
    Ok(Json(org::get_unit(&state.store, &scope, id).await?.into()))
}

#[utoipa::path(post, path = "/units", tag = "organisation", request_body = UnitBody,
    responses((status = 201, body = UnitDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUnits>,
    ApiJson(body): ApiJson<UnitBody>,
) -> AppResult<(StatusCode, Json<UnitDto>)> {
    let input = body.form().parse()?;
    let u = org::create_unit(&state.store, &auth.ctx(), &permit, input).await?;
    Ok((StatusCode::CREATED, Json(u.into())))
}

#[utoipa::path(put, path = "/units/{id}", tag = "organisation", request_body = UnitBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = UnitDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUnits>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UnitBody>,
) -> AppResult<Json<UnitDto>> {
    let view = auth.scope(Action::ViewUnits)?;
    let unit = org::get_unit(&state.store, &view, id).await?;
    auth.check(
        Action::ManageUnits,
        Resource::Unit {
            id,
            region_path: &unit.region_path,
        },
    )?;
    let version = body
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let input = body.form().parse()?;
    Ok(Json(
        org::update_unit(&state.store, &auth.ctx(), &permit, id, version, input)
            .await?
            .into(),
    ))
}

/// The people of a unit.
#[utoipa::path(get, path = "/units/{id}/people", tag = "organisation", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PersonDto>), (status = 404, body = ErrorBody)))]
pub async fn people(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<PersonDto>>> {
    let scope = auth.scope(Action::ViewUnits)?;
    let people = org::list_people(&state.store, &scope, id).await?;
    Ok(Json(people.into_iter().map(PersonDto::from).collect()))
}

async fn managed(state: &AppState, auth: &Auth, unit_id: Uuid) -> AppResult<()> {
    let unit = org::get_unit(&state.store, &auth.scope(Action::ViewUnits)?, unit_id).await?;
    auth.check(
        Action::ManageUnits,
        Resource::Unit {
            id: unit.id,
            region_path: &unit.region_path,
        },
    )
}

#[utoipa::path(post, path = "/units/{id}/people", tag = "organisation", request_body = PersonBody, params(("id" = Uuid, Path)),
    responses((status = 201, body = PersonDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn add_person(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUnits>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PersonBody>,
) -> AppResult<(StatusCode, Json<PersonDto>)> {
    managed(&state, &auth, id).await?;
    let input = body.form().parse()?;
    let p = org::create_person(&state.store, &auth.ctx(), &permit, id, input).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

#[utoipa::path(put, path = "/people/{id}", tag = "organisation", request_body = PersonBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = PersonDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_person(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUnits>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PersonBody>,
) -> AppResult<Json<PersonDto>> {
    let (_, unit) = org::get_person(&state.store, &auth.scope(Action::ViewUnits)?, id).await?;
    managed(&state, &auth, unit.id).await?;
    let version = body
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let input = body.form().parse()?;
    let p = org::update_person(&state.store, &auth.ctx(), &permit, id, version, input).await?;
    Ok(Json(p.into()))
}
