//! Questionnaires, survey waves, answers entered by interviewers and
//! clerks, and results with their intervals, over JSON.

use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, may};
use wenming_domain::survey::{AgeBand, Answer, Group, QuestionnaireDoc, Sex};
use wenming_store::survey::{
    self as sv, Channel, NewResponse, NewWave, Questionnaire, Wave, WaveState,
};

#[derive(Serialize, ToSchema)]
pub struct QuestionnaireDto {
    pub id: Uuid,
    pub series_id: Uuid,
    pub version_no: i64,
    pub title: String,
    /// The design: {title, intro, questions: [{code, text, kind, choices,
    /// required, groups, rate: {kind, counts, excluded, keep_excluded}, standards}]}.
    #[schema(value_type = Object)]
    pub doc: serde_json::Value,
    pub published_at: Option<String>,
    pub version: i64,
}

fn q_dto(q: Questionnaire) -> QuestionnaireDto {
    QuestionnaireDto {
        id: q.id,
        series_id: q.series_id,
        version_no: q.version_no,
        title: q.title,
        doc: serde_json::to_value(&q.doc).unwrap_or_default(),
        published_at: q.published_at.map(|t| t.to_string()),
        version: q.version,
    }
}

fn read_doc(v: serde_json::Value) -> AppResult<QuestionnaireDoc> {
    serde_json::from_value(v).map_err(|_| FieldErrors::single("doc", "malformed").into())
}

/// Every questionnaire, each series' newest version first.
#[utoipa::path(get, path = "/questionnaires", tag = "surveys",
    responses((status = 200, body = [QuestionnaireDto])))]
pub async fn questionnaires(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<QuestionnaireDto>>> {
    auth.scope(Action::ViewSurveys)?;
    Ok(Json(
        sv::questionnaires(&state.store)
            .await?
            .into_iter()
            .map(q_dto)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct QuestionnaireBody {
    #[schema(value_type = Object)]
    pub doc: serde_json::Value,
    /// The version read (updates and publishing).
    #[serde(default)]
    pub version: i64,
}

/// A new questionnaire, as a draft.
#[utoipa::path(post, path = "/questionnaires", tag = "surveys", request_body = QuestionnaireBody,
    responses((status = 201, body = QuestionnaireDto), (status = 422, body = ErrorBody)))]
pub async fn create_questionnaire(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSurveys>,
    ApiJson(b): ApiJson<QuestionnaireBody>,
) -> AppResult<(StatusCode, Json<QuestionnaireDto>)> {
    let doc = read_doc(b.doc)?;
    let q = sv::create(&state.store, &auth.ctx(), &permit, &doc).await?;
    Ok((StatusCode::CREATED, Json(q_dto(q))))
}

#[utoipa::path(get, path = "/questionnaires/{id}", tag = "surveys", params(("id" = Uuid, Path)),
    responses((status = 200, body = QuestionnaireDto), (status = 404, body = ErrorBody)))]
pub async fn questionnaire(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<QuestionnaireDto>> {
    auth.scope(Action::ViewSurveys)?;
    Ok(Json(q_dto(sv::questionnaire(&state.store, id).await?)))
}

/// Replaces a draft's design; a published questionnaire is locked.
#[utoipa::path(put, path = "/questionnaires/{id}", tag = "surveys", params(("id" = Uuid, Path)), request_body = QuestionnaireBody,
    responses((status = 200, body = QuestionnaireDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_questionnaire(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<QuestionnaireBody>,
) -> AppResult<Json<QuestionnaireDto>> {
    let doc = read_doc(b.doc)?;
    let q = sv::update(&state.store, &auth.ctx(), &permit, id, b.version, &doc).await?;
    Ok(Json(q_dto(q)))
}

#[derive(Deserialize, ToSchema)]
pub struct VersionBody {
    pub version: i64,
}

/// Locks a draft so that waves may use it.
#[utoipa::path(post, path = "/questionnaires/{id}/publish", tag = "surveys", params(("id" = Uuid, Path)), request_body = VersionBody,
    responses((status = 200, body = QuestionnaireDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<VersionBody>,
) -> AppResult<Json<QuestionnaireDto>> {
    let q = sv::publish(&state.store, &auth.ctx(), &permit, id, b.version).await?;
    Ok(Json(q_dto(q)))
}

/// The questionnaire as a workbook: the title, the introduction, then one
/// row a question with its options in columns.
#[utoipa::path(get, path = "/questionnaires/{id}/export.xlsx", tag = "surveys", params(("id" = Uuid, Path)),
    responses((status = 200, description = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
pub async fn export_questionnaire(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<axum::response::Response> {
    auth.scope(Action::ViewSurveys)?;
    let q = sv::questionnaire(&state.store, id).await?;
    crate::service::surveys::questionnaire_xlsx(&q)
}

/// A new draft questionnaire from a workbook (multipart field `file`, the
/// layout the export writes). All of it or nothing: each problem names its
/// cell ("问卷!C5").
#[utoipa::path(post, path = "/questionnaires/import", tag = "surveys",
    request_body(content = Vec<u8>, content_type = "multipart/form-data"),
    responses((status = 201, body = QuestionnaireDto), (status = 422, body = ErrorBody)))]
pub async fn import_questionnaire(
    State(state): State<AppState>,
    Can { auth, .. }: Can<may::ManageSurveys>,
    crate::extract::ApiMultipart(multipart): crate::extract::ApiMultipart,
) -> AppResult<(StatusCode, Json<QuestionnaireDto>)> {
    // A browser's session proved itself with its x-csrf-token header.
    let (_, file) = crate::service::site_sheet::read_upload(multipart).await?;
    let q = crate::service::surveys::import_questionnaire(&state, &auth, file).await?;
    Ok((StatusCode::CREATED, Json(q_dto(q))))
}

#[derive(Deserialize, ToSchema)]
pub struct NextVersionBody {
    /// The changed design; none copies the published one.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub doc: Option<serde_json::Value>,
    /// The version of the questionnaire it starts from, as read.
    pub version: i64,
}

/// The series' next version as a draft: how a published questionnaire
/// changes.
#[utoipa::path(post, path = "/questionnaires/{id}/versions", tag = "surveys", params(("id" = Uuid, Path)), request_body = NextVersionBody,
    responses((status = 201, body = QuestionnaireDto), (status = 422, body = ErrorBody)))]
pub async fn next_version(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<NextVersionBody>,
) -> AppResult<(StatusCode, Json<QuestionnaireDto>)> {
    let doc = b.doc.map(read_doc).transpose()?;
    let q = sv::next_version(
        &state.store,
        &auth.ctx(),
        &permit,
        id,
        b.version,
        doc.as_ref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(q_dto(q))))
}

#[derive(Serialize, ToSchema)]
pub struct QuotaDto {
    pub region_id: Uuid,
    pub region: String,
    pub age_band: String,
    pub sex: String,
    pub population: i64,
    pub target: i64,
    pub filled: i64,
}

#[derive(Serialize, ToSchema)]
pub struct WaveDto {
    pub id: Uuid,
    pub questionnaire_id: Uuid,
    pub name: String,
    pub opens_on: String,
    pub closes_on: String,
    /// draft, open or closed
    pub state: String,
    /// Target margin at 95%, in thousandths.
    pub margin_permille: i64,
    pub min_n: i64,
    pub clustered: bool,
    pub regions: Vec<Uuid>,
    pub version: i64,
    /// The plan's strata (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotas: Option<Vec<QuotaDto>>,
}

fn w_dto(w: Wave, quotas: Option<Vec<sv::Quota>>) -> WaveDto {
    WaveDto {
        id: w.id,
        questionnaire_id: w.questionnaire_id,
        name: w.name,
        opens_on: w.opens_on.to_string(),
        closes_on: w.closes_on.to_string(),
        state: w.state.code().into(),
        margin_permille: w.margin_permille,
        min_n: w.min_n,
        clustered: w.clustered,
        regions: w.regions,
        version: w.version,
        quotas: quotas.map(|qs| {
            qs.into_iter()
                .map(|q| QuotaDto {
                    region_id: q.region_id,
                    region: q.region_name,
                    age_band: q.age_band.code().into(),
                    sex: q.sex.code().into(),
                    population: q.population,
                    target: q.target,
                    filled: q.filled,
                })
                .collect()
        }),
    }
}

#[utoipa::path(get, path = "/waves", tag = "surveys", responses((status = 200, body = [WaveDto])))]
pub async fn waves(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<WaveDto>>> {
    auth.scope(Action::ViewSurveys)?;
    Ok(Json(
        sv::waves(&state.store)
            .await?
            .into_iter()
            .map(|w| w_dto(w, None))
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct WaveBody {
    pub questionnaire_id: Uuid,
    pub name: String,
    /// YYYY-MM-DD
    pub opens_on: String,
    pub closes_on: String,
    /// Target margin at 95%, in thousandths (50: ±5 points).
    #[serde(default = "default_margin")]
    pub margin_permille: i64,
    #[serde(default = "default_min_n")]
    pub min_n: i64,
    /// Sampled by community: intervals carry the design effect.
    #[serde(default)]
    pub clustered: bool,
    /// Each community gets the margin on its own (to rank communities).
    #[serde(default)]
    pub per_community: bool,
    /// The communities covered.
    pub regions: Vec<Uuid>,
}

fn default_margin() -> i64 {
    50
}
fn default_min_n() -> i64 {
    wenming_domain::survey::stats::MIN_N as i64
}

/// A wave of a published questionnaire, its quotas planned for the margin.
#[utoipa::path(post, path = "/waves", tag = "surveys", request_body = WaveBody,
    responses((status = 201, body = WaveDto), (status = 422, body = ErrorBody)))]
pub async fn create_wave(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSurveys>,
    ApiJson(b): ApiJson<WaveBody>,
) -> AppResult<(StatusCode, Json<WaveDto>)> {
    let (opens_on, closes_on) = crate::service::surveys::parse_dates(&b.opens_on, &b.closes_on)?;
    let w = sv::create_wave(
        &state.store,
        &auth.ctx(),
        &permit,
        &NewWave {
            questionnaire_id: b.questionnaire_id,
            name: b.name,
            opens_on,
            closes_on,
            margin_permille: b.margin_permille,
            min_n: b.min_n,
            clustered: b.clustered,
            per_community: b.per_community,
            regions: b.regions,
        },
    )
    .await?;
    let quotas = sv::quotas(&state.store, w.id).await?;
    Ok((StatusCode::CREATED, Json(w_dto(w, Some(quotas)))))
}

#[utoipa::path(get, path = "/waves/{id}", tag = "surveys", params(("id" = Uuid, Path)),
    responses((status = 200, body = WaveDto), (status = 404, body = ErrorBody)))]
pub async fn wave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<WaveDto>> {
    auth.scope(Action::ViewSurveys)?;
    let w = sv::wave(&state.store, id).await?;
    let quotas = sv::quotas(&state.store, id).await?;
    Ok(Json(w_dto(w, Some(quotas))))
}

#[derive(Deserialize, ToSchema)]
pub struct WaveStateBody {
    /// open or closed
    pub state: String,
    pub version: i64,
}

/// Opens a draft wave or closes an open one.
#[utoipa::path(post, path = "/waves/{id}/state", tag = "surveys", params(("id" = Uuid, Path)), request_body = WaveStateBody,
    responses((status = 200, body = WaveDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_wave_state(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<WaveStateBody>,
) -> AppResult<Json<WaveDto>> {
    let to = WaveState::parse(b.state.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?;
    let w = sv::set_state(&state.store, &auth.ctx(), &permit, id, b.version, to).await?;
    Ok(Json(w_dto(w, None)))
}

#[derive(Deserialize, ToSchema)]
pub struct ResponseBody {
    /// The community the answer was taken in.
    pub region_id: Uuid,
    /// residents, students, business or visitors
    pub group: String,
    /// 18-29, 30-44, 45-59 or 60+
    pub age_band: String,
    /// male or female
    pub sex: String,
    /// interview or paper
    pub channel: String,
    /// Question code → answer: a choice code, a list of codes, a number or text.
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, serde_json::Value>,
    /// A random (v4) id made on the phone: the same questionnaire sent
    /// again under it is stored once.
    #[serde(default)]
    pub client_id: Option<Uuid>,
}

/// An interviewer's or a clerk's filled questionnaire; nothing records who
/// answered.
#[utoipa::path(post, path = "/waves/{id}/responses", tag = "surveys", params(("id" = Uuid, Path)), request_body = ResponseBody,
    responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    Can { permit, .. }: Can<may::AnswerSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<ResponseBody>,
) -> AppResult<StatusCode> {
    let mut e = FieldErrors::new();
    let group = Group::parse(b.group.trim());
    if group.is_none() {
        e.add("group", "invalid_choice");
    }
    let age_band = AgeBand::parse(b.age_band.trim());
    if age_band.is_none() {
        e.add("age_band", "invalid_choice");
    }
    let sex = Sex::parse(b.sex.trim());
    if sex.is_none() {
        e.add("sex", "invalid_choice");
    }
    let channel = Channel::parse(b.channel.trim()).filter(|c| *c != Channel::Public);
    if channel.is_none() {
        e.add("channel", "invalid_choice");
    }
    let mut answers = BTreeMap::new();
    for (k, v) in b.answers {
        match serde_json::from_value::<Answer>(v) {
            Ok(a) => {
                answers.insert(k, a);
            }
            Err(_) => e.add(k, "unknown_choice"),
        }
    }
    let (Some(group), Some(age_band), Some(sex), Some(channel)) = (group, age_band, sex, channel)
    else {
        return Err(e.into());
    };
    if !e.is_empty() {
        return Err(e.into());
    }
    let r = NewResponse {
        wave_id: id,
        region_id: b.region_id,
        group,
        age_band,
        sex,
        channel,
        answers,
    };
    let today = crate::service::today(&state);
    match b.client_id {
        Some(c) => sv::submit_once(&state.store, &permit, &r, c, today).await?,
        None => sv::submit(&state.store, &permit, &r, today).await?,
    }
    Ok(StatusCode::CREATED)
}

/// The wave's results (suppressed cells with their n only) and its
/// anonymous answers, as a workbook.
#[utoipa::path(get, path = "/waves/{id}/export.xlsx", tag = "surveys", params(("id" = Uuid, Path)),
    responses((status = 200, description = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<axum::response::Response> {
    crate::service::surveys::export(&state, &auth, id).await
}

#[derive(Deserialize, ToSchema)]
pub struct ContactBody {
    pub region_id: Uuid,
    /// partial, refusal, non_contact, other, unknown or not_eligible (a
    /// complete is the questionnaire itself, sent to /responses)
    pub disposition: String,
    /// A random (v4) id made on the phone: the same contact sent again
    /// under it is counted once.
    #[serde(default)]
    pub client_id: Option<Uuid>,
}

/// A contact attempt that gave no questionnaire, for the response rates.
#[utoipa::path(post, path = "/waves/{id}/contacts", tag = "surveys", params(("id" = Uuid, Path)), request_body = ContactBody,
    responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    Can { permit, .. }: Can<may::AnswerSurveys>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<ContactBody>,
) -> AppResult<StatusCode> {
    let d = wenming_domain::survey::Disposition::parse(b.disposition.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("disposition", "invalid_choice")))?;
    sv::record_contact_once(
        &state.store,
        &permit,
        id,
        b.region_id,
        d,
        b.client_id,
        crate::service::today(&state),
    )
    .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Serialize, ToSchema)]
pub struct ResponseRateDto {
    /// None: the whole wave.
    pub region_id: Option<Uuid>,
    pub region: String,
    pub complete: u64,
    pub partial: u64,
    pub refusal: u64,
    pub non_contact: u64,
    pub other: u64,
    pub unknown: u64,
    pub not_eligible: u64,
    /// AAPOR RR1.
    pub rr1: Option<f64>,
    /// AAPOR RR3, the unknowns counted at the eligible share of the known.
    pub rr3: Option<f64>,
    pub eligible_share: f64,
}

fn rr_dto(
    region_id: Option<Uuid>,
    region: String,
    d: &wenming_domain::survey::stats::Dispositions,
) -> ResponseRateDto {
    ResponseRateDto {
        region_id,
        region,
        complete: d.complete,
        partial: d.partial,
        refusal: d.refusal,
        non_contact: d.non_contact,
        other: d.other,
        unknown: d.unknown,
        not_eligible: d.not_eligible,
        rr1: d.rr1(),
        rr3: d.rr3(d.eligible_share()),
        eligible_share: d.eligible_share(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct IntervalDto {
    pub p: f64,
    /// n, or the effective n of a weighted rate.
    pub n: f64,
    pub low: f64,
    pub high: f64,
    /// wilson or clopper_pearson
    pub method: String,
}

fn i_dto(e: &wenming_domain::survey::stats::Estimate) -> IntervalDto {
    IntervalDto {
        p: e.p,
        n: e.n,
        low: e.low,
        high: e.high,
        method: match e.method {
            wenming_domain::survey::stats::IntervalMethod::Wilson => "wilson",
            wenming_domain::survey::stats::IntervalMethod::ClopperPearson => "clopper_pearson",
        }
        .into(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct WeightedDto {
    pub interval: IntervalDto,
    pub kish_n: f64,
    pub design_effect: f64,
    pub raked: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeDto {
    pub diff: f64,
    pub low: f64,
    pub high: f64,
    pub beyond_noise: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RateDto {
    pub question: String,
    /// awareness, support, satisfaction, participation or service_satisfaction
    pub rate: String,
    pub region_id: Uuid,
    pub region: String,
    /// None: every group together.
    pub group: Option<String>,
    pub n: u64,
    /// Answers that count for the rate; withheld below the minimum n.
    pub yes: Option<u64>,
    /// Withheld below the minimum n (suppressed).
    pub interval: Option<IntervalDto>,
    pub weighted: Option<WeightedDto>,
    pub ranked: bool,
    /// Since the previous wave of the questionnaire (every group together).
    pub change: Option<ChangeDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ResultsDto {
    pub wave_id: Uuid,
    pub previous_wave_id: Option<Uuid>,
    pub min_n: i64,
    pub rates: Vec<RateDto>,
    /// The wave's response rates, then each community's.
    pub response_rates: Vec<ResponseRateDto>,
}

/// Every rate of the wave, per region and group: n, the rate with its 95%
/// interval, the post-stratified rate with its effective n, and the change
/// since the previous wave. Below the minimum n a region is shown with its
/// n only.
#[utoipa::path(get, path = "/waves/{id}/results", tag = "surveys", params(("id" = Uuid, Path)),
    responses((status = 200, body = ResultsDto), (status = 404, body = ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ResultsDto>> {
    auth.scope(Action::ViewSurveys)?;
    let r = crate::service::surveys::results(&state, id).await?;
    let rates = r
        .results
        .rates
        .iter()
        .map(|x| {
            let shown = x.ranked;
            RateDto {
                question: x.question.clone(),
                rate: x.rate.code().into(),
                region_id: x.region_id,
                region: r
                    .names
                    .get(&x.region_id)
                    .map(|n| n.0.clone())
                    .unwrap_or_default(),
                group: x.group.map(|g| g.code().into()),
                n: x.n,
                yes: shown.then_some(x.yes),
                interval: shown.then(|| i_dto(&x.estimate)),
                weighted: x.weighted.as_ref().filter(|_| shown).map(|w| WeightedDto {
                    interval: i_dto(&w.estimate),
                    kish_n: w.kish_n,
                    design_effect: w.design_effect,
                    raked: w.raked,
                }),
                ranked: x.ranked,
                change: r
                    .changes
                    .get(&(x.question.clone(), x.region_id))
                    .filter(|_| shown && x.group.is_none())
                    .map(|c| ChangeDto {
                        diff: c.diff,
                        low: c.low,
                        high: c.high,
                        beyond_noise: c.beyond_noise(),
                    }),
            }
        })
        .collect();
    let mut response_rates = vec![rr_dto(None, String::new(), &r.all_dispositions)];
    response_rates.extend(r.dispositions.iter().map(|(region, d)| {
        rr_dto(
            Some(*region),
            r.names.get(region).map(|n| n.0.clone()).unwrap_or_default(),
            d,
        )
    }));
    Ok(Json(ResultsDto {
        response_rates,
        wave_id: id,
        previous_wave_id: r.previous.map(|p| p.id),
        min_n: r.wave.min_n,
        rates,
    }))
}
