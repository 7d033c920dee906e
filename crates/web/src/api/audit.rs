use super::dto::{AuditDto, ErrorBody, VerifyDto};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::ApiPath;
use axum::Json;
use axum::extract::State;
use uuid::Uuid;
use wenming_domain::policy::Action;
use wenming_store::{accounts, audit, org};

/// The history of one record: region, unit or user.
#[utoipa::path(get, path = "/audit/{entity_type}/{id}", tag = "audit",
    params(("entity_type" = String, Path, description = "region, unit, person or user"), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<AuditDto>), (status = 404, body = ErrorBody)))]
pub async fn trail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((entity_type, id)): ApiPath<(String, Uuid)>,
) -> AppResult<Json<Vec<AuditDto>>> {
    auth.scope(Action::ViewAudit)?;
    match entity_type.as_str() {
        "region" => {
            org::get_region(&state.store, &auth.scope(Action::ViewRegions)?, id).await?;
        }
        "unit" => {
            org::get_unit(&state.store, &auth.scope(Action::ViewUnits)?, id).await?;
        }
        "user" => {
            auth.scope(Action::ViewUsers)?;
            accounts::get_user(&state.store, id).await?;
        }
        "person" => {
            org::get_person(&state.store, &auth.scope(Action::ViewUnits)?, id).await?;
        }
        _ => return Err(AppError::NotFound),
    }
    let rows = audit::for_entity(&state.store, &entity_type, &id.to_string()).await?;
    Ok(Json(rows.into_iter().map(AuditDto::from).collect()))
}

/// Re-computes the hash chain and reports the first broken link.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, body = VerifyDto), (status = 403, body = ErrorBody)))]
pub async fn verify(State(state): State<AppState>, auth: Auth) -> AppResult<Json<VerifyDto>> {
    auth.scope(Action::ViewUsers)?;
    let v = audit::verify(&state.store).await?;
    Ok(Json(VerifyDto {
        intact: v.broken.is_none(),
        checked: v.checked,
        problem: v.broken.map(|b| b.to_string()),
    }))
}
