use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::extract::ApiPath;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_store::escalation::{self, Notification};

#[derive(Serialize, ToSchema)]
pub struct NotificationDto {
    pub id: Uuid,
    /// case_overdue, or duplicate_closed (a case the caller reported was
    /// the same problem as `original_number`, now closed; `case_id` is the
    /// original).
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub original_number: Option<String>,
    /// 1: the unit's liaison was warned; 2: its head too.
    pub level: i64,
    pub overdue_hours: i64,
    pub created_at: String,
    pub read: bool,
}

fn dto(n: Notification) -> NotificationDto {
    NotificationDto {
        id: n.id,
        kind: n.kind,
        case_id: n.case_id,
        case_number: n.number,
        original_number: n.original,
        level: n.level,
        overdue_hours: n.overdue_hours,
        created_at: n.created_at.to_string(),
        read: n.read,
    }
}

/// The caller's notifications, newest first (at most 100).
#[utoipa::path(get, path = "/notifications", tag = "cases", responses((status = 200, body = Vec<NotificationDto>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<NotificationDto>>> {
    Ok(Json(
        escalation::notifications(&state.store, auth.user.id, 100)
            .await?
            .into_iter()
            .map(dto)
            .collect(),
    ))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<axum::http::StatusCode> {
    escalation::mark_read(&state.store, auth.user.id, Some(id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
