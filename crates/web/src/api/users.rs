use super::dto::{ErrorBody, GrantBody, GrantDto, MeDto, Page, UserBody, UserDto};
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
use wenming_domain::account::{Role, ScopeRef};
use wenming_domain::policy::{Action, may};
use wenming_store::accounts;

/// The caller: account, grants and what they may do.
#[utoipa::path(get, path = "/me", tag = "accounts", responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> AppResult<Json<MeDto>> {
    let grants = accounts::grants_of(&state.store, auth.user.id).await?;
    let may = Action::ALL
        .iter()
        .filter(|a| auth.may(**a))
        .map(|a| {
            serde_json::to_value(a)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    Ok(Json(MeDto {
        read_only: auth.actor.read_only,
        user: auth.user.into(),
        grants: grants.into_iter().map(GrantDto::from).collect(),
        may,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username, display name or phone.
    q: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/users", tag = "accounts", params(UserQuery),
    responses((status = 200, body = Page<UserDto>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<UserQuery>,
) -> AppResult<Json<Page<UserDto>>> {
    auth.scope(Action::ViewUsers)?;
    let page = accounts::list_users(
        &state.store,
        q.q.as_deref(),
        q.after.as_deref(),
        q.limit.unwrap_or(100),
    )
    .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(UserDto::from).collect(),
        total: page.total,
        next: page.next,
    }))
}

#[utoipa::path(get, path = "/users/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<UserDto>> {
    auth.scope(Action::ViewUsers)?;
    Ok(Json(accounts::get_user(&state.store, id).await?.into()))
}

/// Creates an account; its holder must choose a new password at first login.
#[utoipa::path(post, path = "/users", tag = "accounts", request_body = UserBody,
    responses((status = 201, body = UserDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUsers>,
    ApiJson(body): ApiJson<UserBody>,
) -> AppResult<(StatusCode, Json<UserDto>)> {
    let input = body.form().parse(true)?;
    let u = accounts::create_user(&state.store, &auth.ctx(), &permit, input, true).await?;
    Ok((StatusCode::CREATED, Json(u.into())))
}

#[utoipa::path(put, path = "/users/{id}", tag = "accounts", request_body = UserBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = UserDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUsers>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<UserBody>,
) -> AppResult<Json<UserDto>> {
    let version = body
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    let input = body.form().parse(false)?;
    Ok(Json(
        accounts::update_user(&state.store, &auth.ctx(), &permit, id, version, input)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/users/{id}/grants", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<GrantDto>), (status = 404, body = ErrorBody)))]
pub async fn grants(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<GrantDto>>> {
    auth.scope(Action::ViewUsers)?;
    accounts::get_user(&state.store, id).await?;
    let g = accounts::grants_of(&state.store, id).await?;
    Ok(Json(g.into_iter().map(GrantDto::from).collect()))
}

/// Grants a role over a region subtree or (for unit staff) a unit.
#[utoipa::path(post, path = "/users/{id}/grants", tag = "accounts", request_body = GrantBody, params(("id" = Uuid, Path)),
    responses((status = 201, body = GrantDto), (status = 422, body = ErrorBody)))]
pub async fn add_grant(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUsers>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<GrantBody>,
) -> AppResult<(StatusCode, Json<GrantDto>)> {
    let mut e = FieldErrors::new();
    let role = Role::parse(&body.role);
    if role.is_none() {
        e.add("role", "invalid_choice");
    }
    let scope = ScopeRef::from_parts(&body.scope_kind, body.scope_id);
    if scope.is_none() {
        e.add("scope_kind", "invalid_choice");
    }
    let (Some(role), Some(scope)) = (role, scope) else {
        return Err(AppError::Invalid(e));
    };
    let g = accounts::add_grant(&state.store, &auth.ctx(), &permit, id, role, scope).await?;
    Ok((StatusCode::CREATED, Json(g.into())))
}

#[utoipa::path(delete, path = "/users/{id}/grants/{grant_id}", tag = "accounts",
    params(("id" = Uuid, Path), ("grant_id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove_grant(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageUsers>,
    ApiPath((id, grant_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    // The store refuses, inside its transaction, to take away one's own
    // last administrator grant or the city's last administrator.
    accounts::remove_grant(&state.store, &auth.ctx(), &permit, id, grant_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
