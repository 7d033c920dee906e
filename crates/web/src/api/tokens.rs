use super::dto::{ErrorBody, NewTokenDto, TokenBody, TokenDto};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_store::accounts;

/// The caller's own API tokens (secrets are never shown again).
#[utoipa::path(get, path = "/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenDto>)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<TokenDto>>> {
    let t = accounts::list_tokens(&state.store, auth.user.id).await?;
    Ok(Json(t.into_iter().map(TokenDto::from).collect()))
}

/// Issues a token acting as the caller, optionally read-only.
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = TokenBody,
    responses((status = 201, body = NewTokenDto), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<TokenBody>,
) -> AppResult<(StatusCode, Json<NewTokenDto>)> {
    if auth.actor.read_only {
        // A read-only token must not mint a stronger one.
        return Err(AppError::Forbidden);
    }
    let mut e = FieldErrors::new();
    let name = wenming_domain::validation::text(&mut e, "name", &body.name, true, 64);
    if body.valid_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        e.add("valid_days", "invalid_number");
    }
    let Some(name) = name.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let (token, secret) = accounts::create_token(
        &state.store,
        &auth.ctx(),
        auth.user.id,
        &name,
        body.read_only,
        body.valid_days,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewTokenDto {
            token: token.into(),
            secret,
        }),
    ))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    accounts::revoke_token(&state.store, &auth.ctx(), auth.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
