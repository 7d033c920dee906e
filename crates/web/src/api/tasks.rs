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

use wenming_domain::policy::{Action, may};
use wenming_domain::task::{parse_date, parse_target};
use wenming_store::task::{self, Task, TaskFilter, TaskInput};

#[derive(Serialize, ToSchema)]
pub struct TaskDto {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    pub lead_unit_id: Uuid,
    pub lead_unit: String,
    pub cooperating_unit_ids: Vec<Uuid>,
    pub target: String,
    /// YYYY-MM-DD, local date.
    pub deadline: String,
    pub responsible_person_id: Option<Uuid>,
    pub progress: i64,
    pub progress_note: Option<String>,
    /// done, overdue, due_soon or in_progress, as of today.
    pub state: String,
    pub version: i64,
}

fn dto(t: Task, today: jiff::civil::Date) -> TaskDto {
    TaskDto {
        state: t.state(today).code().into(),
        id: t.id,
        framework_id: t.framework_id,
        standard_id: t.standard_id,
        standard_code: t.standard_code,
        standard_title: t.standard_title,
        lead_unit_id: t.lead_unit.id,
        lead_unit: t.lead_unit.name,
        cooperating_unit_ids: t.cooperating.iter().map(|u| u.id).collect(),
        target: t.target,
        deadline: t.deadline.to_string(),
        responsible_person_id: t.responsible.map(|r| r.id),
        progress: t.progress,
        progress_note: t.progress_note,
        version: t.version,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// Default: the active framework.
    framework_id: Option<Uuid>,
    /// Tasks this unit leads or cooperates on.
    unit_id: Option<Uuid>,
    #[serde(default)]
    overdue: bool,
    /// Standards under this code, e.g. "3".
    under_code: Option<String>,
}

/// Tasks the caller may see: their unit's, or those of units in their regions.
#[utoipa::path(get, path = "/tasks", tag = "tasks", params(TaskQuery), responses((status = 200, body = Vec<TaskDto>)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> AppResult<Json<Vec<TaskDto>>> {
    let scope = auth.scope(Action::ViewTasks)?;
    let today = crate::service::today(&state);
    let framework_id = match q.framework_id {
        Some(f) => Some(f),
        None => wenming_store::framework::active(&state.store)
            .await?
            .map(|f| f.id),
    };
    let Some(framework_id) = framework_id else {
        return Ok(Json(vec![]));
    };
    let f = TaskFilter {
        framework_id: Some(framework_id),
        unit_id: q.unit_id,
        overdue_on: q.overdue.then_some(today),
        q: None,
        under_code: q.under_code,
        standard_id: None,
    };
    Ok(Json(
        task::list(&state.store, &scope, &f)
            .await?
            .into_iter()
            .map(|t| dto(t, today))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", params(("id" = Uuid, Path)), responses((status = 200, body = TaskDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<TaskDto>> {
    let scope = auth.scope(Action::ViewTasks)?;
    Ok(Json(dto(
        task::get(&state.store, &scope, id).await?,
        crate::service::today(&state),
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct TaskBody {
    pub lead_unit_id: Uuid,
    #[serde(default)]
    pub cooperating_unit_ids: Vec<Uuid>,
    pub target: String,
    /// YYYY-MM-DD
    pub deadline: String,
    pub responsible_person_id: Option<Uuid>,
    /// Required when changing an existing task.
    pub version: Option<i64>,
}

impl TaskBody {
    fn input(&self) -> Result<TaskInput, AppError> {
        let mut e = FieldErrors::new();
        let target = parse_target(&mut e, &self.target);
        let deadline = parse_date(&mut e, "deadline", &self.deadline);
        match (target, deadline) {
            (Some(target), Some(deadline)) => Ok(TaskInput {
                lead_unit: self.lead_unit_id,
                cooperating: self.cooperating_unit_ids.clone(),
                target,
                deadline,
                responsible_person: self.responsible_person_id,
            }),
            _ => Err(AppError::Invalid(e)),
        }
    }
}

/// Assigns one standard to a lead unit (409 if it already has a task).
#[utoipa::path(post, path = "/standards/{id}/task", tag = "tasks", request_body = TaskBody, params(("id" = Uuid, Path)),
    responses((status = 201, body = TaskDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageTasks>,
    ApiPath(standard_id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<TaskBody>,
) -> AppResult<(StatusCode, Json<TaskDto>)> {
    let id = task::assign(&state.store, &auth.ctx(), &permit, standard_id, b.input()?).await?;
    let scope = auth.scope(Action::ViewTasks)?;
    Ok((
        StatusCode::CREATED,
        Json(dto(
            task::get(&state.store, &scope, id).await?,
            crate::service::today(&state),
        )),
    ))
}

#[utoipa::path(put, path = "/tasks/{id}", tag = "tasks", request_body = TaskBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageTasks>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<TaskBody>,
) -> AppResult<Json<TaskDto>> {
    let version = b
        .version
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("version", "required")))?;
    task::update(&state.store, &auth.ctx(), &permit, id, version, b.input()?).await?;
    let scope = auth.scope(Action::ViewTasks)?;
    Ok(Json(dto(
        task::get(&state.store, &scope, id).await?,
        crate::service::today(&state),
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct ProgressBody {
    pub percent: i64,
    pub note: Option<String>,
    pub version: i64,
}

/// The lead unit reports progress.
#[utoipa::path(post, path = "/tasks/{id}/progress", tag = "tasks", request_body = ProgressBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn progress(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ReportProgress>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<ProgressBody>,
) -> AppResult<Json<TaskDto>> {
    if !(0..=100).contains(&b.percent) {
        return Err(AppError::Invalid(FieldErrors::single(
            "percent",
            "invalid_percent",
        )));
    }
    let note = b.note.filter(|n| !n.trim().is_empty());
    task::report_progress(
        &state.store,
        &auth.ctx(),
        &permit,
        id,
        b.version,
        b.percent,
        note,
    )
    .await?;
    let view = auth.scope(Action::ViewTasks)?;
    Ok(Json(dto(
        task::get(&state.store, &view, id).await?,
        crate::service::today(&state),
    )))
}

#[derive(Deserialize, ToSchema)]
pub struct BulkBody {
    /// Standards under this code (an aspect, e.g. "3").
    pub under_code: Option<String>,
    /// A method code.
    pub method: Option<String>,
    /// Standards this unit leads in the framework.
    pub led_by: Option<Uuid>,
    /// Make this unit lead instead of the framework's lead.
    pub lead_unit_id: Option<Uuid>,
    pub target: String,
    pub deadline: String,
    #[serde(default)]
    pub overwrite: bool,
}

#[derive(Serialize, ToSchema)]
pub struct BulkDto {
    pub created: usize,
    pub updated: usize,
    pub kept: usize,
    /// Codes skipped for want of a lead unit.
    pub no_lead: Vec<String>,
    /// Codes skipped because their units lie outside the caller's district.
    pub outside: Vec<String>,
}

/// Assigns every selected standard at once, in one transaction.
#[utoipa::path(post, path = "/frameworks/{id}/tasks", tag = "tasks", request_body = BulkBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = BulkDto), (status = 422, body = ErrorBody)))]
pub async fn bulk(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageTasks>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<BulkBody>,
) -> AppResult<Json<BulkDto>> {
    let text = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    let o = crate::service::tasks::bulk_assign(
        &state,
        &auth,
        &permit,
        id,
        &crate::service::tasks::BulkRequest {
            under_code: b.under_code.unwrap_or_default(),
            method: b.method.unwrap_or_default(),
            led_by: text(b.led_by),
            lead_unit_id: text(b.lead_unit_id),
            target: b.target,
            deadline: b.deadline,
            overwrite: b.overwrite,
        },
    )
    .await?;
    Ok(Json(BulkDto {
        created: o.created,
        updated: o.updated,
        kept: o.kept,
        no_lead: o.no_lead,
        outside: o.outside,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UncoveredDto {
    pub standard_id: Uuid,
    pub code: String,
    pub title: String,
    /// The framework names no lead unit for it either.
    pub no_lead: bool,
}

/// Standards no task covers yet.
#[utoipa::path(get, path = "/frameworks/{id}/coverage", tag = "tasks", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<UncoveredDto>), (status = 404, body = ErrorBody)))]
pub async fn coverage(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<UncoveredDto>>> {
    auth.scope(Action::ViewTasks)?;
    wenming_store::framework::get(&state.store, id).await?;
    let rows = task::coverage(&state.store, id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|u| UncoveredDto {
                standard_id: u.standard_id,
                code: u.code,
                title: u.title,
                no_lead: u.no_lead,
            })
            .collect(),
    ))
}
