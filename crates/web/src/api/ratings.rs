//! 民评官 over JSON: rounds, ratings entered by interviewers and clerks,
//! per-unit results with their intervals, and the office's moderation of
//! comments.

use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::service::ratings::{self as svc, RawRating};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, may};
use wenming_domain::rating::{CommentState, RoundInput, Scale};
use wenming_domain::survey::stats::IntervalMethod;
use wenming_store::rating::{self as rt, Channel, Comment, Round, RoundState};

#[derive(Serialize, ToSchema)]
pub struct RoundDto {
    pub id: Uuid,
    pub name: String,
    /// points100 or three_level
    pub scale: String,
    pub opens_on: String,
    pub closes_on: String,
    /// draft, open or closed
    pub state: String,
    pub min_n: i64,
    pub units: Vec<Uuid>,
    pub version: i64,
}

fn round_dto(r: Round) -> RoundDto {
    RoundDto {
        id: r.id,
        name: r.name,
        scale: r.scale.code().into(),
        opens_on: r.opens_on.to_string(),
        closes_on: r.closes_on.to_string(),
        state: r.state.code().into(),
        min_n: r.min_n,
        units: r.units,
        version: r.version,
    }
}

/// The rounds that rate a unit the caller may see, newest first.
#[utoipa::path(get, path = "/rating-rounds", tag = "ratings",
    responses((status = 200, body = [RoundDto])))]
pub async fn rounds(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<RoundDto>>> {
    Ok(Json(
        svc::rounds(&state, &auth)
            .await?
            .into_iter()
            .map(round_dto)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RoundBody {
    pub name: String,
    /// points100 or three_level
    pub scale: String,
    pub opens_on: String,
    pub closes_on: String,
    /// Units with fewer ratings are shown but not ranked.
    pub min_n: i64,
    pub units: Vec<Uuid>,
}

/// A new round, as a draft.
#[utoipa::path(post, path = "/rating-rounds", tag = "ratings", request_body = RoundBody,
    responses((status = 201, body = RoundDto), (status = 422, body = ErrorBody)))]
pub async fn create_round(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRatings>,
    ApiJson(b): ApiJson<RoundBody>,
) -> AppResult<(StatusCode, Json<RoundDto>)> {
    let scale = Scale::parse(b.scale.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("scale", "invalid_choice")))?;
    let (opens_on, closes_on) = crate::service::surveys::parse_dates(&b.opens_on, &b.closes_on)?;
    let r = rt::create_round(
        &state.store,
        &auth.ctx(),
        &permit,
        &RoundInput {
            name: b.name,
            scale,
            opens_on,
            closes_on,
            min_n: b.min_n,
            units: b.units,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(round_dto(r))))
}

#[derive(Deserialize, ToSchema)]
pub struct RoundStateBody {
    /// open or closed
    pub state: String,
    pub version: i64,
}

/// Opens a draft round or closes an open one.
#[utoipa::path(post, path = "/rating-rounds/{id}/state", tag = "ratings", params(("id" = Uuid, Path)), request_body = RoundStateBody,
    responses((status = 200, body = RoundDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_round_state(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRatings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<RoundStateBody>,
) -> AppResult<Json<RoundDto>> {
    let to = RoundState::parse(b.state.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?;
    let r = rt::set_state(&state.store, &auth.ctx(), &permit, id, b.version, to).await?;
    Ok(Json(round_dto(r)))
}

#[derive(Deserialize, ToSchema)]
pub struct RatingBody {
    pub unit_id: Uuid,
    /// Points 0-100, or satisfied, basic or dissatisfied.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub comment: String,
    /// interview or paper
    pub channel: String,
}

/// An interviewer's or a clerk's rating of one unit; the comment waits for
/// the office.
#[utoipa::path(post, path = "/rating-rounds/{id}/ratings", tag = "ratings", params(("id" = Uuid, Path)), request_body = RatingBody,
    responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    Can { permit, .. }: Can<may::AnswerSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<RatingBody>,
) -> AppResult<StatusCode> {
    let channel = Channel::parse(b.channel.trim())
        .filter(|c| *c != Channel::Public)
        .ok_or_else(|| AppError::from(FieldErrors::single("channel", "invalid_choice")))?;
    let value = match &b.value {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        _ => String::new(),
    };
    let round = rt::round(&state.store, id).await?;
    svc::rate(
        &state,
        &permit,
        &round,
        &RawRating {
            unit_id: b.unit_id,
            value: &value,
            comment: &b.comment,
            channel,
        },
        None,
    )
    .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Serialize, ToSchema)]
pub struct UnitResultDto {
    pub unit_id: Uuid,
    pub unit_name: String,
    pub n: u64,
    /// Share satisfied or basically satisfied (three levels), or at 60
    /// points or more (100 points), with its 95% interval.
    pub satisfied: f64,
    pub satisfied_low: f64,
    pub satisfied_high: f64,
    /// wilson or clopper_pearson
    pub interval_method: String,
    /// 100-point rounds: the mean score and its 95% t interval.
    pub mean: Option<f64>,
    pub mean_low: Option<f64>,
    pub mean_high: Option<f64>,
    /// None under the round's minimum n.
    pub rank: Option<u32>,
    /// [value, how many]: points, or 2 satisfied / 1 basic / 0 dissatisfied.
    pub counts: Vec<(i64, u64)>,
}

#[derive(Serialize, ToSchema)]
pub struct CommentDto {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub body: String,
    /// pending, approved or rejected
    pub state: String,
    pub submitted_on: String,
    pub version: i64,
}

fn comment_dto(c: Comment) -> CommentDto {
    CommentDto {
        id: c.id,
        unit_id: c.unit_id,
        body: c.body,
        state: c.state.code().into(),
        submitted_on: c.submitted_on.to_string(),
        version: c.version,
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoundResultsDto {
    pub round: RoundDto,
    /// How many units are ranked in all.
    pub ranked: usize,
    pub units: Vec<UnitResultDto>,
    /// Approved comments on the units the caller may see.
    pub comments: Vec<CommentDto>,
}

/// Per-unit results: every unit for the office and leaders, one's own
/// unit for its staff (with its place among all).
#[utoipa::path(get, path = "/rating-rounds/{id}/results", tag = "ratings", params(("id" = Uuid, Path)),
    responses((status = 200, body = RoundResultsDto), (status = 404, body = ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RoundResultsDto>> {
    let r = svc::results(&state, &auth, id).await?;
    Ok(Json(RoundResultsDto {
        ranked: r.ranked,
        units: r
            .rows
            .into_iter()
            .map(|(u, x)| UnitResultDto {
                unit_id: u.id,
                unit_name: u.name,
                n: x.n,
                satisfied: x.satisfied.p,
                satisfied_low: x.satisfied.low,
                satisfied_high: x.satisfied.high,
                interval_method: match x.satisfied.method {
                    IntervalMethod::Wilson => "wilson",
                    IntervalMethod::ClopperPearson => "clopper_pearson",
                }
                .into(),
                mean: x.mean.map(|m| m.mean),
                mean_low: x.mean.map(|m| m.low),
                mean_high: x.mean.map(|m| m.high),
                rank: x.rank,
                counts: x.counts,
            })
            .collect(),
        comments: r.approved.into_iter().map(comment_dto).collect(),
        round: round_dto(r.round),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommentQuery {
    /// pending (default), approved or rejected
    #[serde(default)]
    pub state: Option<String>,
}

/// The round's comments in one state: the office's moderation queue.
#[utoipa::path(get, path = "/rating-rounds/{id}/comments", tag = "ratings", params(("id" = Uuid, Path), CommentQuery),
    responses((status = 200, body = [CommentDto]), (status = 403, body = ErrorBody)))]
pub async fn comments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<CommentQuery>,
) -> AppResult<Json<Vec<CommentDto>>> {
    if !auth.may(Action::ManageRatings) {
        return Err(AppError::Forbidden);
    }
    let s = match q.state.as_deref().map(str::trim) {
        None | Some("") => CommentState::Pending,
        Some(s) => CommentState::parse(s)
            .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?,
    };
    rt::round(&state.store, id).await?;
    Ok(Json(
        rt::comments(&state.store, id, s)
            .await?
            .into_iter()
            .map(comment_dto)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ModerationBody {
    /// approved or rejected
    pub state: String,
    pub version: i64,
}

/// Approves a comment (the unit and everyone who sees the results then
/// read it) or rejects it.
#[utoipa::path(post, path = "/rating-comments/{id}/moderation", tag = "ratings", params(("id" = Uuid, Path)), request_body = ModerationBody,
    responses((status = 200, body = CommentDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn moderate(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRatings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<ModerationBody>,
) -> AppResult<Json<CommentDto>> {
    let to = CommentState::parse(b.state.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?;
    let c = rt::moderate(&state.store, &auth.ctx(), &permit, id, b.version, to).await?;
    Ok(Json(comment_dto(c)))
}
