//! The projected score over JSON: the projection with its interval, weak
//! links and "what if"; snapshots; and what the office records beside the
//! measured data (assessments, negative-list events, gate and yearly
//! scores).

use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::service::scoring::{self as svc, Options};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::Method;
use wenming_domain::policy::may;
use wenming_store::scoring::{self as st, Snapshot, SnapshotKind, Statistic};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectionQuery {
    /// Round ids, comma-separated; default: the mock and third-party
    /// rounds of the last 90 days.
    rounds: Option<String>,
    /// The Monte Carlo seed (the same seed, the same interval).
    seed: Option<u64>,
    /// Monte Carlo draws, 100-100,000 (default 10,000).
    #[param(minimum = 100, maximum = 100000)]
    draws: Option<usize>,
    /// Standard codes, comma-separated, put at full marks for a "what if".
    full: Option<String>,
}

/// The projection: `estimate` holds every standard's share and the
/// methods and records it came from; `interval` the 90% interval;
/// `weak_links` the standards by points expected to be lost.
#[derive(Serialize, ToSchema)]
pub struct ProjectionDto {
    pub score: f64,
    pub low: f64,
    pub high: f64,
    /// eligible, blocked, nomination_stopped, suspended or revoked
    pub standing: String,
    #[schema(value_type = Object)]
    pub detail: svc::Projection,
}

pub fn options(q: &ProjectionQuery) -> AppResult<Options> {
    let list = |s: &Option<String>| -> Vec<String> {
        s.as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    };
    let rounds = match &q.rounds {
        None => None,
        Some(_) => Some(
            list(&q.rounds)
                .iter()
                .map(|r| r.parse::<Uuid>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| AppError::from(FieldErrors::single("rounds", "invalid_id")))?,
        ),
    };
    if let Some(d) = q.draws
        && !(100..=100_000).contains(&d)
    {
        return Err(FieldErrors::single("draws", "out_of_range").into());
    }
    Ok(Options {
        rounds,
        seed: q.seed,
        draws: q.draws,
        full: list(&q.full),
    })
}

/// The projected annual score as the records stand now.
#[utoipa::path(get, path = "/projection", tag = "scoring", params(ProjectionQuery),
    responses((status = 200, body = ProjectionDto), (status = 422, body = ErrorBody)))]
pub async fn projection(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ProjectionQuery>,
) -> AppResult<Json<ProjectionDto>> {
    let p = svc::projection(&state, &auth, &options(&q)?).await?;
    Ok(Json(ProjectionDto {
        score: p.estimate.annual.score,
        low: p.interval.low,
        high: p.interval.high,
        standing: p.estimate.annual.standing.code().into(),
        detail: p,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SnapshotDto {
    pub id: Uuid,
    pub taken_on: String,
    /// monthly or on_demand
    pub kind: String,
    pub score: f64,
    pub low: f64,
    pub high: f64,
    pub standing: String,
}

fn snapshot_dto(s: Snapshot) -> SnapshotDto {
    SnapshotDto {
        id: s.id,
        taken_on: s.taken_on.to_string(),
        kind: s.kind.code().into(),
        score: s.score,
        low: s.low,
        high: s.high,
        standing: s.standing,
    }
}

/// The projection's snapshots, oldest first: its history.
#[utoipa::path(get, path = "/projection/snapshots", tag = "scoring",
    responses((status = 200, body = [SnapshotDto])))]
pub async fn snapshots(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<SnapshotDto>>> {
    Ok(Json(
        svc::snapshots(&state, &auth)
            .await?
            .into_iter()
            .map(snapshot_dto)
            .collect(),
    ))
}

/// Keeps the projection as it stands now.
#[utoipa::path(post, path = "/projection/snapshots", tag = "scoring",
    responses((status = 201, body = SnapshotDto)))]
pub async fn take_snapshot(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageScoring>,
) -> AppResult<(StatusCode, Json<SnapshotDto>)> {
    let s = svc::take_snapshot(&state, &auth.ctx(), &permit, SnapshotKind::OnDemand)
        .await?
        .ok_or(AppError::Conflict)?;
    Ok((StatusCode::CREATED, Json(snapshot_dto(s))))
}

#[derive(Deserialize, ToSchema)]
pub struct AssessmentBody {
    pub standard_id: Uuid,
    pub year: i32,
    /// A method of the standard: material_review, briefing, statistics ...
    pub method: String,
    /// The share achieved, 0-1; or give `statistic` instead.
    pub share: Option<f64>,
    pub statistic: Option<StatisticBody>,
    pub note: String,
    pub evidence_url: Option<String>,
    /// The version replaced; absent for the first record.
    pub version: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct StatisticBody {
    pub value: f64,
    pub threshold: f64,
    #[serde(default = "yes")]
    pub higher_better: bool,
}

fn yes() -> bool {
    true
}

#[derive(Serialize, ToSchema)]
pub struct AssessmentDto {
    pub id: Uuid,
    pub standard_id: Uuid,
    pub year: i32,
    pub method: String,
    pub share: f64,
    pub note: String,
    pub version: i64,
}

/// Records the office's assessment of one method of a standard for a
/// year; replaces the one at `version`.
#[utoipa::path(post, path = "/score-assessments", tag = "scoring", request_body = AssessmentBody,
    responses((status = 201, body = AssessmentDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn record_assessment(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageScoring>,
    ApiJson(b): ApiJson<AssessmentBody>,
) -> AppResult<(StatusCode, Json<AssessmentDto>)> {
    let method = Method::parse(b.method.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("method", "invalid_choice")))?;
    let a = svc::record_assessment(
        &state,
        &auth.ctx(),
        &permit,
        &st::AssessmentInput {
            standard_id: b.standard_id,
            year: b.year,
            method,
            share: b.share,
            statistic: b.statistic.map(|s| Statistic {
                value: s.value,
                threshold: s.threshold,
                higher_better: s.higher_better,
            }),
            note: b.note,
            evidence_url: b.evidence_url.filter(|u| !u.trim().is_empty()),
            expected_version: b.version,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(AssessmentDto {
            id: a.id,
            standard_id: a.standard_id,
            year: a.year,
            method: a.method.code().into(),
            share: a.share,
            note: a.note,
            version: a.version,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct NegativeEventBody {
    /// A rule code of the framework's negative list.
    pub rule_code: String,
    /// YYYY-MM-DD
    pub occurred_on: String,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct NegativeEventDto {
    pub id: Uuid,
    pub rule_code: String,
    pub occurred_on: String,
    pub note: String,
}

fn event_dto(e: st::NegativeEvent) -> NegativeEventDto {
    NegativeEventDto {
        id: e.id,
        rule_code: e.rule_code,
        occurred_on: e.occurred_on.to_string(),
        note: e.note,
    }
}

async fn active_framework(state: &AppState) -> AppResult<Uuid> {
    Ok(wenming_store::framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?
        .id)
}

/// The negative-list events recorded against the framework in force.
#[utoipa::path(get, path = "/negative-events", tag = "scoring",
    responses((status = 200, body = [NegativeEventDto])))]
pub async fn negative_events(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<NegativeEventDto>>> {
    auth.scope(wenming_domain::policy::Action::ViewScoring)?;
    let fw = active_framework(&state).await?;
    Ok(Json(
        st::negative_events(&state.store, fw)
            .await?
            .into_iter()
            .map(event_dto)
            .collect(),
    ))
}

/// Records a negative-list event; it counts while inside its rule's
/// look-back.
#[utoipa::path(post, path = "/negative-events", tag = "scoring", request_body = NegativeEventBody,
    responses((status = 201, body = NegativeEventDto), (status = 422, body = ErrorBody)))]
pub async fn record_negative_event(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageScoring>,
    ApiJson(b): ApiJson<NegativeEventBody>,
) -> AppResult<(StatusCode, Json<NegativeEventDto>)> {
    let on: jiff::civil::Date = b
        .occurred_on
        .trim()
        .parse()
        .map_err(|_| AppError::from(FieldErrors::single("occurred_on", "invalid_date")))?;
    let fw = active_framework(&state).await?;
    let e = svc::record_negative_event(
        &state,
        &auth.ctx(),
        &permit,
        fw,
        &st::EventInput {
            rule_code: b.rule_code.trim(),
            occurred_on: on,
            note: &b.note,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(event_dto(e))))
}

/// Removes an event recorded in error (the audit log keeps it).
#[utoipa::path(delete, path = "/negative-events/{id}", tag = "scoring", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_negative_event(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageScoring>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    let fw = active_framework(&state).await?;
    svc::delete_negative_event(&state, &auth.ctx(), &permit, fw, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct YearScoreBody {
    /// A gate's name (the minors' evaluation); absent for the official
    /// annual score of the year.
    pub gate: Option<String>,
    pub year: i32,
    pub score: f64,
    #[serde(default)]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct YearScoreDto {
    pub gate: Option<String>,
    pub year: i32,
    pub score: f64,
    pub note: String,
}

/// Records a gate's score, or a year's official score, for a year.
#[utoipa::path(post, path = "/year-scores", tag = "scoring", request_body = YearScoreBody,
    responses((status = 201, body = YearScoreDto), (status = 422, body = ErrorBody)))]
pub async fn record_year_score(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageScoring>,
    ApiJson(b): ApiJson<YearScoreBody>,
) -> AppResult<(StatusCode, Json<YearScoreDto>)> {
    let fw = active_framework(&state).await?;
    let gate = b.gate.as_deref().map(str::trim).filter(|g| !g.is_empty());
    let y = svc::record_year_score(
        &state,
        &auth.ctx(),
        &permit,
        fw,
        st::ScoreInput {
            gate,
            year: b.year,
            score: b.score,
            note: &b.note,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(YearScoreDto {
            gate: gate.map(String::from),
            year: y.year,
            score: y.score,
            note: y.note,
        }),
    ))
}

/// The office's anomaly flags (anti-collusion prompts) with the test
/// behind each: prompts to look, never verdicts.
#[utoipa::path(get, path = "/anomalies", tag = "scoring",
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn anomalies(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<svc::FlagLine>>> {
    Ok(Json(svc::anomalies(&state, &auth).await?))
}
