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
    /// case_overdue; duplicate_closed (a case the caller reported was the
    /// same problem as `original_number`, now closed; `case_id` is the
    /// original); case_dispatched (to the unit, with `deadline`);
    /// case_rework (to the unit, with the verifier's `reason`);
    /// ask_decided (to the unit: `ask` extend, park or return, `approved`,
    /// the office's `reason` when refused, the new `deadline` when an
    /// extension is granted); verify_assigned (to the verifier, with the
    /// handling `unit`); ask_waiting (to the office: `ask`, `reason`,
    /// `unit`); material_returned (to the unit: the office's `reason`, the
    /// material's `title`, its `requirement_id`); requirement_overdue (to
    /// the unit: the requirement's `title`, its `requirement_id` and the
    /// `due_on` it missed).
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub original_number: Option<String>,
    /// 1: the unit's liaison was warned; 2: its head too.
    pub level: i64,
    pub overdue_hours: i64,
    pub reason: Option<String>,
    pub ask: Option<String>,
    pub approved: Option<bool>,
    pub deadline: Option<String>,
    pub unit: Option<String>,
    pub requirement_id: Option<Uuid>,
    pub title: Option<String>,
    /// YYYY-MM-DD
    pub due_on: Option<String>,
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
        reason: n.reason,
        ask: n.ask,
        approved: n.approved,
        deadline: n.deadline.map(|d| d.to_string()),
        unit: n.unit,
        requirement_id: n.requirement,
        title: n.title,
        due_on: n.due_on,
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
