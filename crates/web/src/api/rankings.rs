//! Ranking lists (红黑榜) over JSON: define and draft, approve (a second
//! office account), publish frozen, correct with a reason, export, appeal
//! and decide appeals.

use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use crate::service::rankings as svc;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::policy::may;
use wenming_domain::ranking::ListSpec;
use wenming_store::ranking::{self as rk, Appeal, Edition, List};

#[derive(Deserialize, ToSchema)]
pub struct ListBody {
    pub name: String,
    /// unit_handling, street_on_site, community_on_site, site_on_site,
    /// community_satisfaction or unit_rating
    pub subject: String,
    /// YYYY-MM-DD
    pub period_from: String,
    pub period_to: String,
    #[serde(default)]
    pub round_kinds: Vec<String>,
    /// The wave or the 民评官 round read from.
    pub source_id: Option<Uuid>,
    /// The question whose rate ranks communities.
    pub question: Option<String>,
    pub min_n: i64,
    pub red: i64,
    pub black: i64,
    pub black_below: Option<f64>,
    #[serde(default)]
    pub public: bool,
    #[serde(default = "seven")]
    pub appeal_days: i64,
}

fn seven() -> i64 {
    7
}

fn spec_of(b: ListBody) -> AppResult<ListSpec> {
    svc::parse_spec(svc::RawSpec {
        name: &b.name,
        subject: &b.subject,
        period_from: &b.period_from,
        period_to: &b.period_to,
        round_kinds: b.round_kinds,
        source_id: b.source_id,
        question: b.question,
        min_n: b.min_n,
        red: b.red,
        black: b.black,
        appeal_days: b.appeal_days,
        black_below: b.black_below,
        public: b.public,
    })
}

#[derive(Serialize, ToSchema)]
pub struct ListDto {
    pub id: Uuid,
    #[schema(value_type = Object)]
    pub spec: ListSpec,
    /// Newest first; drafts only for the office.
    #[schema(value_type = Vec<Object>)]
    pub editions: Vec<Edition>,
    #[schema(value_type = Vec<Object>)]
    pub appeals: Vec<Appeal>,
}

fn list_dto(list: List, editions: Vec<Edition>, appeals: Vec<Appeal>) -> ListDto {
    ListDto {
        id: list.id,
        spec: list.spec,
        editions,
        appeals,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ListSummaryDto {
    pub id: Uuid,
    pub name: String,
    pub subject: String,
    /// The newest edition's state (the published one for non-office).
    pub state: Option<String>,
    pub public: bool,
}

/// The lists the caller may open.
#[utoipa::path(get, path = "/ranking-lists", tag = "rankings",
    responses((status = 200, body = [ListSummaryDto])))]
pub async fn lists(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<ListSummaryDto>>> {
    Ok(Json(
        svc::lists(&state, &auth)
            .await?
            .into_iter()
            .map(|(l, e)| ListSummaryDto {
                id: l.id,
                name: l.spec.name.clone(),
                subject: l.spec.subject.code().into(),
                state: e.map(|e| e.state.code().into()),
                public: l.spec.public,
            })
            .collect(),
    ))
}

/// Defines a list and drafts its first edition from the records.
#[utoipa::path(post, path = "/ranking-lists", tag = "rankings", request_body = ListBody,
    responses((status = 201, body = ListDto), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
    ApiJson(b): ApiJson<ListBody>,
) -> AppResult<(StatusCode, Json<ListDto>)> {
    let spec = spec_of(b)?;
    let entries = svc::compute(&state, &spec).await?;
    let (list, draft) = rk::create(&state.store, &auth.ctx(), &permit, &spec, entries).await?;
    Ok((
        StatusCode::CREATED,
        Json(list_dto(list, vec![draft], vec![])),
    ))
}

/// Drafts this week's 十佳十差 of sites from patrol rounds.
#[utoipa::path(post, path = "/ranking-lists/weekly-sites", tag = "rankings",
    responses((status = 201, body = ListDto)))]
pub async fn weekly_sites(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
) -> AppResult<(StatusCode, Json<ListDto>)> {
    let spec = svc::weekly_sites(crate::service::today(&state));
    let entries = svc::compute(&state, &spec).await?;
    let (list, draft) = rk::create(&state.store, &auth.ctx(), &permit, &spec, entries).await?;
    Ok((
        StatusCode::CREATED,
        Json(list_dto(list, vec![draft], vec![])),
    ))
}

/// A list with its editions and appeals.
#[utoipa::path(get, path = "/ranking-lists/{id}", tag = "rankings", params(("id" = Uuid, Path)),
    responses((status = 200, body = ListDto), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ListDto>> {
    let v = svc::view(&state, &auth, id).await?;
    Ok(Json(list_dto(v.list, v.editions, v.appeals)))
}

#[derive(Deserialize, ToSchema)]
pub struct VersionBody {
    pub version: i64,
}

/// Computes a draft again from the records as they stand.
#[utoipa::path(post, path = "/ranking-editions/{id}/redraft", tag = "rankings", params(("id" = Uuid, Path)),
    request_body = VersionBody,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn redraft(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Json<Edition>> {
    let e = rk::edition(&state.store, id).await?;
    let spec = rk::list(&state.store, e.list_id).await?.spec;
    let entries = svc::compute(&state, &spec).await?;
    Ok(Json(
        rk::redraft(&state.store, &auth.ctx(), &permit, id, b.version, entries).await?,
    ))
}

/// Approves a draft: a second office account, never its drafter.
#[utoipa::path(post, path = "/ranking-editions/{id}/approve", tag = "rankings", params(("id" = Uuid, Path)),
    request_body = VersionBody,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Json<Edition>> {
    Ok(Json(
        rk::approve(&state.store, &auth.ctx(), &permit, id, b.version).await?,
    ))
}

/// Publishes an approved edition, frozen.
#[utoipa::path(post, path = "/ranking-editions/{id}/publish", tag = "rankings", params(("id" = Uuid, Path)),
    request_body = VersionBody,
    responses((status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Json<Edition>> {
    Ok(Json(
        rk::publish(&state.store, &auth.ctx(), &permit, id, b.version).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct Struck {
    pub subject_id: Uuid,
    pub why: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CorrectionBody {
    pub reason: String,
    #[serde(default)]
    pub struck: Vec<Struck>,
}

/// Drafts a correction of a published edition; the published one stays
/// until the correction is approved and published.
#[utoipa::path(post, path = "/ranking-editions/{id}/corrections", tag = "rankings", params(("id" = Uuid, Path)),
    request_body = CorrectionBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
pub async fn correct(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<CorrectionBody>,
) -> AppResult<(StatusCode, Json<Edition>)> {
    let struck: Vec<(Uuid, String)> = b
        .struck
        .into_iter()
        .map(|s| (s.subject_id, s.why))
        .collect();
    let e = rk::correct(&state.store, &auth.ctx(), &permit, id, &b.reason, &struck).await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// An edition as a spreadsheet.
#[utoipa::path(get, path = "/ranking-editions/{id}/export.xlsx", tag = "rankings", params(("id" = Uuid, Path)),
    responses((status = 200, description = "XLSX"), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let e = rk::edition(&state.store, id).await?;
    let v = svc::view(&state, &auth, e.list_id).await?;
    let e = v
        .editions
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(AppError::NotFound)?;
    let bytes = svc::xlsx(&v.list, &e)?;
    Ok(crate::service::surveys::xlsx_download(
        &format!("{}-{}.xlsx", v.list.spec.name, e.number),
        bytes,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AppealBody {
    /// The unit's entry.
    pub subject_id: Uuid,
    pub reason: String,
}

/// A unit appeals its entry on a published edition, within the list's
/// days for appeals.
#[utoipa::path(post, path = "/ranking-editions/{id}/appeals", tag = "rankings", params(("id" = Uuid, Path)),
    request_body = AppealBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
pub async fn appeal(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::AppealRankings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<AppealBody>,
) -> AppResult<(StatusCode, Json<Appeal>)> {
    let a = rk::appeal(
        &state.store,
        &auth.ctx(),
        &permit,
        id,
        b.subject_id,
        &b.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    pub version: i64,
    pub upheld: bool,
    pub decision: String,
}

#[derive(Serialize, ToSchema)]
pub struct DecisionDto {
    #[schema(value_type = Object)]
    pub appeal: Appeal,
    /// The correction drafted when the appeal is upheld.
    #[schema(value_type = Option<Object>)]
    pub correction: Option<Edition>,
}

/// The office decides an appeal; upheld, it drafts the correction.
#[utoipa::path(post, path = "/ranking-appeals/{id}/decision", tag = "rankings", params(("id" = Uuid, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = DecisionDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRankings>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<Json<DecisionDto>> {
    let (appeal, correction) = rk::decide(
        &state.store,
        &auth.ctx(),
        &permit,
        id,
        b.version,
        b.upheld,
        &b.decision,
    )
    .await?;
    Ok(Json(DecisionDto { appeal, correction }))
}
