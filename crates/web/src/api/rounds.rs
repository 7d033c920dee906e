//! Inspection rounds: drawing them, the inspector's assignments and
//! checklists, recording findings, and the round report.

use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::AppResult;
use crate::extract::{ApiJson, ApiPath};
use crate::service::rounds as service;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::inspection::{FindingDraft, RoundForm, Score};
use wenming_domain::policy::{Action, may};
use wenming_store::inspection::{self, CheckItem, Finding, Round, RoundSite};

#[derive(Serialize, ToSchema)]
pub struct ScoreDto {
    pub passed: i64,
    /// Observed: passed and failed (not-applicable ones left out).
    pub observed: i64,
    /// 得分率, 0..1; none before anything is observed.
    pub rate: Option<f64>,
}

impl From<Score> for ScoreDto {
    fn from(s: Score) -> Self {
        ScoreDto {
            passed: s.passed,
            observed: s.observed,
            rate: s.rate(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoundDto {
    pub id: Uuid,
    /// patrol, supervision, mock or third_party
    pub kind: String,
    pub name: String,
    pub framework_id: Uuid,
    pub starts_on: String,
    pub ends_on: String,
    /// The seed the sample was drawn with: the same seed and sites give the
    /// same sample.
    pub seed: u64,
    pub sample_size: i64,
    pub skip_days: Option<i64>,
    pub not_where_they_work: bool,
    pub not_twice_in_a_row: bool,
    /// open or closed
    pub status: String,
    pub version: i64,
    pub sites: i64,
    pub inspected: i64,
    pub score: ScoreDto,
}

impl From<Round> for RoundDto {
    fn from(r: Round) -> Self {
        RoundDto {
            id: r.id,
            kind: r.kind.code().into(),
            name: r.name,
            framework_id: r.framework_id,
            starts_on: r.starts_on.to_string(),
            ends_on: r.ends_on.to_string(),
            seed: r.seed,
            sample_size: r.sample_size,
            skip_days: r.skip_days,
            not_where_they_work: r.rules.not_where_they_work,
            not_twice_in_a_row: r.rules.not_twice_in_a_row,
            status: r.status,
            version: r.version,
            sites: r.sites,
            inspected: r.inspected,
            score: r.score.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoundSiteDto {
    pub round_id: Uuid,
    pub site_id: Uuid,
    pub site_code: String,
    pub site_name: String,
    pub type_name: String,
    pub region_name: String,
    pub sponsor_unit_name: Option<String>,
    /// None when rotation could send nobody; the office chooses.
    pub inspector_id: Option<Uuid>,
    pub inspector_name: Option<String>,
    pub inspected_at: Option<String>,
    pub score: ScoreDto,
    /// Findings recorded beyond the site's vicinity.
    pub away: i64,
}

impl From<RoundSite> for RoundSiteDto {
    fn from(s: RoundSite) -> Self {
        RoundSiteDto {
            round_id: s.round_id,
            site_id: s.site_id,
            site_code: s.site_code,
            site_name: s.site_name,
            type_name: s.type_name,
            region_name: s.region_name,
            sponsor_unit_name: s.sponsor_unit_name,
            inspector_id: s.inspector_id,
            inspector_name: s.inspector_name,
            inspected_at: s.inspected_at.map(|t| t.to_string()),
            score: s.score.into(),
            away: s.away,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CheckItemDto {
    pub standard_id: Uuid,
    pub code: String,
    pub title: String,
    pub indicator: String,
    /// {"kind":"pass_fail"}, {"kind":"at_least","count":5} or
    /// {"kind":"percent","at_least":95.0}
    #[schema(value_type = Object)]
    pub observation: serde_json::Value,
}

impl From<CheckItem> for CheckItemDto {
    fn from(c: CheckItem) -> Self {
        CheckItemDto {
            standard_id: c.standard_id,
            code: c.code,
            title: c.title,
            indicator: c.indicator,
            observation: serde_json::to_value(c.observation).unwrap_or_default(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FindingDto {
    pub id: Uuid,
    pub round_id: Uuid,
    pub site_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    /// pass, fail or not_applicable
    pub outcome: String,
    #[schema(value_type = Object)]
    pub recorded: serde_json::Value,
    pub note: Option<String>,
    pub inspector_name: Option<String>,
    pub observed_at: String,
    pub distance_m: Option<f64>,
    /// Recorded beyond the site's vicinity.
    pub away: bool,
    /// Recorded by someone whose own unit sponsors the site (sent by hand:
    /// rotation never does it), so the result is not independent.
    pub own_unit: bool,
    /// The case a failure opened.
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub photo_ids: Vec<Uuid>,
}

impl From<Finding> for FindingDto {
    fn from(f: Finding) -> Self {
        FindingDto {
            id: f.id,
            round_id: f.round_id,
            site_id: f.site_id,
            standard_id: f.standard_id,
            standard_code: f.standard_code,
            standard_title: f.standard_title,
            outcome: serde_json::to_value(f.outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            recorded: serde_json::to_value(f.recorded).unwrap_or_default(),
            note: f.note,
            inspector_name: f.inspector_name,
            observed_at: f.observed_at.to_string(),
            distance_m: f.distance_m,
            away: f.away,
            own_unit: f.own_unit,
            case_id: f.case_id,
            case_number: f.case_number,
            photo_ids: f.photo_ids,
        }
    }
}

/// Rounds, newest first, with their progress and score rate.
#[utoipa::path(get, path = "/rounds", tag = "inspections",
    responses((status = 200, body = Vec<RoundDto>), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<RoundDto>>> {
    auth.scope(Action::ViewRounds)?;
    Ok(Json(
        inspection::list(&state.store)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RoundBody {
    pub name: String,
    /// patrol, supervision, mock or third_party
    pub kind: String,
    /// YYYY-MM-DD
    pub starts_on: String,
    pub ends_on: String,
    pub sample_size: i64,
    /// Leave out to have one drawn (and kept with the round).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Leave out sites inspected within so many days.
    #[serde(default)]
    pub skip_days: Option<i64>,
    #[serde(default = "yes")]
    pub not_where_they_work: bool,
    #[serde(default = "yes")]
    pub not_twice_in_a_row: bool,
    /// Inspectors to send; empty sends every active inspector.
    #[serde(default)]
    pub inspector_ids: Vec<Uuid>,
}

fn yes() -> bool {
    true
}

impl RoundBody {
    fn form(&self) -> RoundForm {
        let on = |b: bool| b.then(|| "on".to_string());
        RoundForm {
            name: self.name.clone(),
            kind: self.kind.clone(),
            starts_on: self.starts_on.clone(),
            ends_on: self.ends_on.clone(),
            sample_size: self.sample_size.to_string(),
            seed: self.seed.map(|s| s.to_string()).unwrap_or_default(),
            skip_days: self.skip_days.map(|s| s.to_string()).unwrap_or_default(),
            not_where_they_work: on(self.not_where_they_work),
            not_twice_in_a_row: on(self.not_twice_in_a_row),
            inspector_ids: self.inspector_ids.iter().map(Uuid::to_string).collect(),
        }
    }
}

/// Draws a round: a sample of active sites stratified by site type and
/// district, reproducible from its seed, and an inspector for each site by
/// rotation.
#[utoipa::path(post, path = "/rounds", tag = "inspections", request_body = RoundBody,
    responses((status = 201, body = RoundDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRounds>,
    ApiJson(body): ApiJson<RoundBody>,
) -> AppResult<(StatusCode, Json<RoundDto>)> {
    let input = body.form().parse()?;
    let r = inspection::create(&state.store, &auth.ctx(), &permit, &input).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[utoipa::path(get, path = "/rounds/{id}", tag = "inspections", params(("id" = Uuid, Path)),
    responses((status = 200, body = RoundDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RoundDto>> {
    auth.scope(Action::ViewRounds)?;
    Ok(Json(inspection::get(&state.store, id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct CloseBody {
    pub version: i64,
}

/// Closes a round: no more findings are taken.
#[utoipa::path(post, path = "/rounds/{id}/close", tag = "inspections", params(("id" = Uuid, Path)), request_body = CloseBody,
    responses((status = 200, body = RoundDto), (status = 409, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRounds>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CloseBody>,
) -> AppResult<Json<RoundDto>> {
    Ok(Json(
        inspection::close(&state.store, &auth.ctx(), &permit, id, body.version)
            .await?
            .into(),
    ))
}

/// The sites a round sampled, with inspector, progress and score.
#[utoipa::path(get, path = "/rounds/{id}/sites", tag = "inspections", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<RoundSiteDto>), (status = 404, body = ErrorBody)))]
pub async fn sites(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<RoundSiteDto>>> {
    auth.scope(Action::ViewRounds)?;
    inspection::get(&state.store, id).await?;
    Ok(Json(
        inspection::round_sites(&state.store, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct InspectorBody {
    pub inspector_id: Uuid,
}

/// Sends another inspector to a site of an open round.
#[utoipa::path(put, path = "/rounds/{id}/sites/{site_id}/inspector", tag = "inspections",
    params(("id" = Uuid, Path), ("site_id" = Uuid, Path)), request_body = InspectorBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reassign(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRounds>,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<InspectorBody>,
) -> AppResult<StatusCode> {
    inspection::reassign(
        &state.store,
        &auth.ctx(),
        &permit,
        id,
        site_id,
        body.inspector_id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentDto {
    pub round: RoundDto,
    pub site: RoundSiteDto,
    pub lon: f64,
    pub lat: f64,
    pub address: Option<String>,
    pub checklist: Vec<CheckItemDto>,
}

/// The sites of open rounds the caller is sent to, each with its checklist:
/// what a phone caches to work offline.
#[utoipa::path(get, path = "/assignments", tag = "inspections",
    responses((status = 200, body = Vec<AssignmentDto>), (status = 403, body = ErrorBody)))]
pub async fn assignments(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<AssignmentDto>>> {
    auth.scope(Action::Inspect)?;
    Ok(Json(assignments_of(&state, auth.user.id).await?))
}

pub async fn assignments_of(state: &AppState, user: Uuid) -> AppResult<Vec<AssignmentDto>> {
    // Each framework's on-site standards read once, not once a site.
    let mut standards = std::collections::HashMap::new();
    let mut out = vec![];
    for (round, rs) in inspection::assignments(&state.store, user).await? {
        if let std::collections::hash_map::Entry::Vacant(e) = standards.entry(round.framework_id) {
            e.insert(inspection::standards_of(&state.store, round.framework_id).await?);
        }
        let checklist = inspection::checklist_for(
            &standards[&round.framework_id],
            &rs.type_code,
            &rs.type_name,
        );
        out.push(AssignmentDto {
            round: round.into(),
            lon: rs.point.lon,
            lat: rs.point.lat,
            address: rs.address.clone(),
            site: rs.into(),
            checklist: checklist.into_iter().map(Into::into).collect(),
        });
    }
    Ok(out)
}

async fn checklist_of(
    state: &AppState,
    round: &Round,
    site: &wenming_store::site::Site,
) -> AppResult<Vec<CheckItem>> {
    let all = inspection::standards_of(&state.store, round.framework_id).await?;
    Ok(inspection::checklist_for(
        &all,
        &site.type_code,
        &site.type_name,
    ))
}

/// A site's checklist in a round.
#[utoipa::path(get, path = "/rounds/{id}/sites/{site_id}/checklist", tag = "inspections",
    params(("id" = Uuid, Path), ("site_id" = Uuid, Path)),
    responses((status = 200, body = Vec<CheckItemDto>), (status = 404, body = ErrorBody)))]
pub async fn checklist(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<Vec<CheckItemDto>>> {
    auth.scope(Action::ViewRounds)?;
    service::visible_round_site(&state, &auth, id, site_id).await?;
    let round = inspection::get(&state.store, id).await?;
    let city = wenming_store::org::whole_city(&state.store).await?;
    let site = wenming_store::site::get(&state.store, &city, site_id).await?;
    Ok(Json(
        checklist_of(&state, &round, &site)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// The findings recorded at a site in a round.
#[utoipa::path(get, path = "/rounds/{id}/sites/{site_id}/findings", tag = "inspections",
    params(("id" = Uuid, Path), ("site_id" = Uuid, Path)),
    responses((status = 200, body = Vec<FindingDto>), (status = 404, body = ErrorBody)))]
pub async fn findings(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<Vec<FindingDto>>> {
    auth.scope(Action::ViewRounds)?;
    service::visible_round_site(&state, &auth, id, site_id).await?;
    Ok(Json(
        inspection::findings(&state.store, id, site_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct FindingsBody {
    /// Each: {"id": uuid made on the device, "standard_id", "recorded":
    /// {"result":"pass"|"fail"|"not_applicable"} or {"result":"count","count":n}
    /// or {"result":"share","observed":n,"of":m}, "note", "photo_ids",
    /// "observed_at", "lon", "lat"}
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<FindingDraft>,
}

#[derive(Serialize, ToSchema)]
pub struct SubmittedDto {
    pub findings: Vec<FindingDto>,
    /// How many were new; 0 when everything had arrived before.
    pub created: usize,
    pub cases_opened: usize,
}

/// Records findings at a site. Sending the same findings again (same ids)
/// changes nothing; each new failure opens a case for the site's sponsor
/// unit. All or nothing: a bad finding names its field and nothing is kept.
#[utoipa::path(post, path = "/rounds/{id}/sites/{site_id}/findings", tag = "inspections",
    params(("id" = Uuid, Path), ("site_id" = Uuid, Path)), request_body = FindingsBody,
    responses((status = 200, body = SubmittedDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Can {
        auth,
        permit: inspect,
    }: Can<may::Inspect>,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<FindingsBody>,
) -> AppResult<Json<SubmittedDto>> {
    let manage = auth.permit::<may::ManageRounds>().ok();
    let ctx = auth.ctx();
    // The office records at any site its permit reaches; an inspector at
    // the sites they were sent to.
    let who = match &manage {
        Some(permit) => inspection::Submitter::Office { ctx: &ctx, permit },
        None => inspection::Submitter::Inspector {
            ctx: &ctx,
            permit: &inspect,
        },
    };
    let done = inspection::submit(
        &state.store,
        &who,
        id,
        site_id,
        &body.findings,
        &state.config.photo_rules,
        &state.config.timezone,
    )
    .await?;
    Ok(Json(SubmittedDto {
        findings: done.findings.into_iter().map(Into::into).collect(),
        created: done.created,
        cases_opened: done.cases_opened,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct LineDto {
    pub key: String,
    pub label: String,
    pub score: ScoreDto,
    pub previous: Option<ScoreDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ReportDto {
    pub round: RoundDto,
    pub previous_round: Option<RoundDto>,
    pub standards_observed: usize,
    /// Worst first.
    pub standards: Vec<LineDto>,
    pub site_types: Vec<LineDto>,
    pub districts: Vec<LineDto>,
    /// [indicator, failures], most first.
    #[schema(value_type = Vec<Object>)]
    pub problems: Vec<(String, i64)>,
    pub sites: Vec<RoundSiteDto>,
}

fn lines(v: Vec<inspection::Line>) -> Vec<LineDto> {
    v.into_iter()
        .map(|l| LineDto {
            key: l.key,
            label: l.label,
            score: l.score.into(),
            previous: l.previous.map(Into::into),
        })
        .collect()
}

/// The round report: score rates by standard (worst first), site type and
/// district, problems by kind, and the previous round of the same kind.
#[utoipa::path(get, path = "/rounds/{id}/report", tag = "inspections", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReportDto), (status = 404, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ReportDto>> {
    auth.scope(Action::ViewRounds)?;
    let r = inspection::report(&state.store, id).await?;
    Ok(Json(ReportDto {
        round: r.round.into(),
        previous_round: r.previous.map(Into::into),
        standards_observed: r.standards_observed,
        standards: lines(r.standards),
        site_types: lines(r.site_types),
        districts: lines(r.districts),
        problems: r.problems,
        sites: r.sites.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UnmatchedDto {
    pub id: Uuid,
    /// The row number as the sheet shows it.
    pub row: u32,
    pub place: String,
    pub standard: String,
    pub result: String,
    pub note: Option<String>,
    pub photos: Vec<String>,
    /// What did not match: site, standard, result, photo or duplicate.
    pub reason: String,
}

impl From<wenming_store::third_party::Unmatched> for UnmatchedDto {
    fn from(u: wenming_store::third_party::Unmatched) -> Self {
        UnmatchedDto {
            id: u.id,
            row: u.row,
            place: u.place,
            standard: u.standard,
            result: u.result,
            note: u.note,
            photos: u.photos,
            reason: u.reason,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ImportedDto {
    pub round: RoundDto,
    pub findings: usize,
    pub cases_opened: usize,
    /// Rows kept for mapping by hand.
    pub unmatched: Vec<UnmatchedDto>,
}

/// Takes in a third-party evaluation as a round. Multipart fields: name,
/// starts_on, ends_on, file (the result sheet: columns 点位/place,
/// 测评标准/standard, 结果/result, optional 备注/note and 照片/photos) and
/// photos (a zip holding the files the rows name). Matching rows become
/// findings (failures open cases); the others are returned and kept.
#[utoipa::path(post, path = "/rounds/import", tag = "inspections",
    request_body(content = Vec<u8>, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportedDto), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    Can { auth, .. }: Can<may::ManageRounds>,
    crate::extract::ApiMultipart(multipart): crate::extract::ApiMultipart,
) -> AppResult<(StatusCode, Json<ImportedDto>)> {
    let upload = crate::service::third_party::read_upload(multipart).await?;
    let i = crate::service::third_party::run(&state, &auth, upload).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportedDto {
            round: i.round.into(),
            findings: i.findings,
            cases_opened: i.cases_opened,
            unmatched: i.unmatched.into_iter().map(Into::into).collect(),
        }),
    ))
}

/// The rows of an imported round that matched nothing, still to be mapped.
#[utoipa::path(get, path = "/rounds/{id}/unmatched", tag = "inspections", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<UnmatchedDto>), (status = 404, body = ErrorBody)))]
pub async fn unmatched(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<UnmatchedDto>>> {
    auth.scope(Action::ViewRounds)?;
    inspection::get(&state.store, id).await?;
    Ok(Json(
        wenming_store::third_party::unmatched(&state.store, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Maps a row that matched nothing to a site and standard by hand; it is
/// recorded as a finding of the round (a failure opens a case).
#[utoipa::path(post, path = "/rounds/{id}/unmatched/{row_id}/map", tag = "inspections",
    params(("id" = Uuid, Path), ("row_id" = Uuid, Path)), request_body = service::MapBody,
    responses((status = 200, body = FindingDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn map(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageRounds>,
    ApiPath((id, row_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<service::MapBody>,
) -> AppResult<Json<FindingDto>> {
    Ok(Json(
        service::map_row(&state, &auth, &permit, id, row_id, body)
            .await?
            .into(),
    ))
}
