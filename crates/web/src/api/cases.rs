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
use wenming_domain::case::{CaseState, IntakeForm, Refusal, Source, Step};
use wenming_domain::policy::{Action, may};
use wenming_store::case::{self, Case, CaseFilter, StepError};

#[derive(Serialize, ToSchema)]
pub struct CaseDto {
    pub id: Uuid,
    pub number: String,
    pub source: String,
    pub category_id: Uuid,
    pub category: String,
    pub description: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
    pub region_id: Option<Uuid>,
    pub state: String,
    pub unit_id: Option<Uuid>,
    pub suggested_unit_id: Option<Uuid>,
    /// The suggested unit's name, to check before dispatching.
    pub suggested_unit: Option<String>,
    /// Whom a handled case waits for (核查), and since when.
    pub verifier_id: Option<Uuid>,
    pub verifier: Option<String>,
    pub verifier_since: Option<String>,
    pub deadline: Option<String>,
    pub overdue: bool,
    pub reworks: i64,
    /// Extensions the office approved.
    pub extensions: i64,
    /// The original, when this case is a duplicate (GET
    /// /cases/{id}/duplicates lists an original's duplicates).
    pub duplicate_of: Option<Uuid>,
    pub reported_at: String,
    pub registered_at: Option<String>,
    /// When it was (last) dispatched.
    pub dispatched_at: Option<String>,
    /// When the unit first reported its fix.
    pub handled_at: Option<String>,
    pub closed_at: Option<String>,
    /// Send it back with a step, so a concurrent change is detected.
    pub version: i64,
}

fn dto(c: Case) -> CaseDto {
    CaseDto {
        overdue: c.overdue(jiff::Timestamp::now()),
        id: c.id,
        number: c.number,
        source: c.source.code().into(),
        category_id: c.category_id,
        category: c.category_name,
        description: c.description,
        lon: c.point.map(|p| p.lon),
        lat: c.point.map(|p| p.lat),
        address: c.address,
        region_id: c.region_id,
        state: c.state.code().into(),
        unit_id: c.unit_id,
        suggested_unit_id: c.suggested_unit_id,
        suggested_unit: c.suggested_unit_name,
        verifier_id: c.verifier_id,
        verifier: c.verifier_name,
        verifier_since: c.verifier_since.map(|d| d.to_string()),
        deadline: c.deadline.map(|d| d.to_string()),
        reworks: c.reworks,
        extensions: c.extensions,
        duplicate_of: c.duplicate_of,
        reported_at: c.reported_at.to_string(),
        registered_at: c.registered_at.map(|d| d.to_string()),
        dispatched_at: c.dispatched_at.map(|d| d.to_string()),
        handled_at: c.handled_at.map(|d| d.to_string()),
        closed_at: c.closed_at.map(|d| d.to_string()),
        version: c.version,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    state: Option<String>,
    unit_id: Option<Uuid>,
    category_id: Option<Uuid>,
    source: Option<String>,
    #[serde(default)]
    overdue: bool,
    /// A case number, or words of the description or address.
    q: Option<String>,
    /// A region (district, street …): cases placed in it or below.
    region_id: Option<Uuid>,
    /// Reported on or after this day (YYYY-MM-DD, the city's days).
    reported_from: Option<String>,
    /// Reported on or before this day.
    reported_until: Option<String>,
    /// Put to (or, after a rework, last put to) this verifier; with
    /// state=handled, the fixes waiting for them.
    verifier_id: Option<Uuid>,
    /// true: fixes put to no verifier (the office must choose one).
    #[serde(default)]
    no_verifier: bool,
    /// newest (the default: newest report first) or deadline (earliest
    /// deadline first, the most overdue at the top; none last).
    sort: Option<String>,
    after: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseDto>,
    /// How many cases the filter finds, over all pages.
    pub total: i64,
    pub next: Option<String>,
}

/// Cases in the caller's scope, newest first (or by deadline), a keyset
/// page at a time.
#[utoipa::path(get, path = "/cases", tag = "cases", params(CaseQuery), responses((status = 200, body = CasePage)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CaseQuery>,
) -> AppResult<Json<CasePage>> {
    let scope = auth.scope(Action::ViewCases)?;
    let mut f = CaseFilter {
        limit: q.limit.unwrap_or(50),
        unit_id: q.unit_id,
        category_id: q.category_id,
        ..Default::default()
    };
    if let Some(s) = q.state.as_deref().filter(|s| !s.is_empty()) {
        f.states =
            vec![CaseState::parse(s).ok_or_else(|| {
                AppError::Invalid(FieldErrors::single("state", "invalid_choice"))
            })?];
    }
    if let Some(s) = q.source.as_deref().filter(|s| !s.is_empty()) {
        f.source =
            Some(Source::parse(s).ok_or_else(|| {
                AppError::Invalid(FieldErrors::single("source", "invalid_choice"))
            })?);
    }
    if q.overdue {
        f.overdue_at = Some(jiff::Timestamp::now());
    }
    f.words = q.q.filter(|w| !w.trim().is_empty());
    f.region_id = q.region_id;
    f.verifier_id = q.verifier_id;
    f.no_verifier = q.no_verifier;
    f.order = match q.sort.as_deref().map(str::trim) {
        None | Some("") | Some("newest") => case::CaseOrder::Newest,
        Some("deadline") => case::CaseOrder::Deadline,
        Some(_) => {
            return Err(AppError::Invalid(FieldErrors::single(
                "sort",
                "invalid_choice",
            )));
        }
    };
    let tz = &state.config.timezone;
    let day = |field: &'static str, v: &Option<String>| -> AppResult<Option<jiff::Timestamp>> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse::<jiff::civil::Date>()
                .ok()
                .and_then(|d| {
                    d.to_datetime(jiff::civil::Time::midnight())
                        .to_zoned_datetime(tz.clone())
                        .ok()
                })
                .map(|z| Some(z.timestamp()))
                .ok_or_else(|| AppError::Invalid(FieldErrors::single(field, "invalid_date"))),
        }
    };
    f.reported_from = day("reported_from", &q.reported_from)?;
    f.reported_before =
        day("reported_until", &q.reported_until)?.map(|t| t + jiff::SignedDuration::from_hours(24));
    let total = case::count(&state.store, &scope, &f).await?;
    f.after = q.after.as_deref().and_then(case::parse_cursor);
    let (items, next) = case::list(&state.store, &scope, &f).await?;
    Ok(Json(CasePage {
        items: items.into_iter().map(dto).collect(),
        total,
        next,
    }))
}

#[utoipa::path(get, path = "/cases/{id}", tag = "cases", params(("id" = Uuid, Path)), responses((status = 200, body = CaseDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CaseDto>> {
    let scope = auth.scope(Action::ViewCases)?;
    Ok(Json(dto(case::get(&state.store, &scope, id).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct PossibleDuplicateDto {
    pub case: CaseDto,
    /// How far it is from this case, in metres.
    pub distance_m: f64,
}

/// Open cases of the same category within its duplicate radius: the ones
/// the office may mark this case a duplicate of.
#[utoipa::path(get, path = "/cases/{id}/possible-duplicates", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PossibleDuplicateDto>), (status = 404, body = ErrorBody)))]
pub async fn possible_duplicates(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<PossibleDuplicateDto>>> {
    let scope = auth.scope(Action::ViewCases)?;
    let c = case::get(&state.store, &scope, id).await?;
    Ok(Json(
        case::possible_duplicates(&state.store, &scope, &c)
            .await?
            .into_iter()
            .map(|(c, d)| PossibleDuplicateDto {
                case: dto(c),
                distance_m: d.round(),
            })
            .collect(),
    ))
}

/// The cases marked duplicates of this one, oldest first.
#[utoipa::path(get, path = "/cases/{id}/duplicates", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CaseDto>), (status = 404, body = ErrorBody)))]
pub async fn duplicates(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<CaseDto>>> {
    let scope = auth.scope(Action::ViewCases)?;
    case::get(&state.store, &scope, id).await?;
    Ok(Json(
        case::duplicate::of(&state.store, &scope, id)
            .await?
            .into_iter()
            .map(dto)
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CaseEventDto {
    pub id: Uuid,
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_name: String,
    pub note: Option<String>,
    pub at: String,
}

/// Every step taken on the case, oldest first.
#[utoipa::path(get, path = "/cases/{id}/timeline", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<CaseEventDto>), (status = 404, body = ErrorBody)))]
pub async fn timeline(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<CaseEventDto>>> {
    let scope = auth.scope(Action::ViewCases)?;
    case::get(&state.store, &scope, id).await?;
    Ok(Json(
        case::events(&state.store, id)
            .await?
            .into_iter()
            .map(|e| CaseEventDto {
                id: e.id,
                step: e.step,
                from_state: e.from_state,
                to_state: e.to_state,
                actor_name: e.actor_name,
                note: e.note,
                at: e.at.to_string(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct IntakeBody {
    /// Choose one, and a retry of the same report is not a second case.
    pub client_id: Option<Uuid>,
    /// inspection, third_party, public_report, hotline or leader
    pub source: String,
    pub category_id: Uuid,
    pub description: String,
    /// WGS-84.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    /// Photos of the problem, uploaded first with POST /photos.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
}

/// Reports a problem; the case starts as reported, with the unit routing suggests.
#[utoipa::path(post, path = "/cases", tag = "cases", request_body = IntakeBody,
    responses((status = 201, body = CaseDto), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ReportCases>,
    ApiJson(b): ApiJson<IntakeBody>,
) -> AppResult<(StatusCode, Json<CaseDto>)> {
    let s = |o: Option<String>| o.unwrap_or_default();
    let form = IntakeForm {
        client_id: b.client_id.map(|c| c.to_string()).unwrap_or_default(),
        source: b.source,
        category_id: b.category_id.to_string(),
        description: b.description,
        lon: b.lon.map(|v| v.to_string()).unwrap_or_default(),
        lat: b.lat.map(|v| v.to_string()).unwrap_or_default(),
        address: s(b.address),
        reporter_name: s(b.reporter_name),
        reporter_phone: s(b.reporter_phone),
        // The API sends photo ids itself.
        staged: String::new(),
    };
    let mut input = form.parse()?;
    input.photo_ids = b.photo_ids;
    let c = case::intake(
        &state.store,
        &auth.ctx(),
        &permit,
        &input,
        &state.config.photo_rules,
        &state.config.timezone,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(dto(c))))
}

#[derive(Deserialize, ToSchema)]
pub struct StepBody {
    /// The version the caller read.
    pub version: i64,
    /// e.g. {"step": "dispatch", "unit": "…", "deadline": "2026-12-01T09:00:00Z"}
    #[schema(value_type = Object)]
    pub step: serde_json::Value,
    /// Photos for this step, uploaded first with POST /photos; a
    /// rectification (handle) needs at least one.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
}

/// Takes one workflow step. A step the case's state does not allow, or one
/// not this caller's to take, is refused with the state and step named.
#[utoipa::path(post, path = "/cases/{id}/steps", tag = "cases", request_body = StepBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = CaseDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn step(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::WorkCases>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<StepBody>,
) -> AppResult<Json<CaseDto>> {
    let s: Step = serde_json::from_value(b.step)
        .map_err(|_| AppError::Invalid(FieldErrors::single("step", "invalid_choice")))?;
    match case::step(
        &state.store,
        &auth.ctx(),
        &permit,
        &crate::service::case_actor(&auth),
        id,
        b.version,
        &s,
        &case::StepPhotos {
            ids: &b.photo_ids,
            rules: &state.config.photo_rules,
        },
    )
    .await
    {
        Ok(c) => Ok(Json(dto(c))),
        Err(StepError::Refused(r)) => Err(refused(None, r)),
        Err(StepError::Store(e)) => Err(e.into()),
    }
}

/// A refused step as the API says it: on the step, or (for a batch) on the
/// case that stopped it, `cases[<number>]`.
fn refused(case: Option<&str>, r: Refusal) -> AppError {
    let on = |field: &str| match case {
        Some(n) => format!("cases[{n}]"),
        None => field.to_string(),
    };
    match r {
        Refusal::NotYours { .. } if case.is_none() => AppError::Forbidden,
        Refusal::NotYours { .. } => AppError::Invalid(FieldErrors::single(on("step"), "not_yours")),
        Refusal::Illegal { .. } => {
            AppError::Invalid(FieldErrors::single(on("step"), "illegal_step"))
        }
        Refusal::OwnWork => AppError::Invalid(FieldErrors::single(on("step"), "own_work")),
        Refusal::OwnUnit => AppError::Invalid(FieldErrors::single(on("step"), "own_unit")),
        Refusal::NotAssigned => AppError::Invalid(FieldErrors::single(on("step"), "not_assigned")),
        Refusal::Invalid { field, code } => AppError::Invalid(FieldErrors::single(on(field), code)),
    }
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum CaseBulkStep {
    /// Reported cases are registered, keeping the unit routing suggests.
    Register,
    /// Registered cases go to their suggested unit with their category's
    /// deadline.
    Dispatch,
}

#[derive(Deserialize, ToSchema)]
pub struct CaseBulkItem {
    pub id: Uuid,
    /// The version the caller read.
    pub version: i64,
}

#[derive(Deserialize, ToSchema)]
pub struct CaseBulkBody {
    pub step: CaseBulkStep,
    pub cases: Vec<CaseBulkItem>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseBulkDone {
    pub id: Uuid,
    pub number: String,
    pub state: String,
    /// The unit it went to (dispatch) or is suggested for (register).
    pub unit_id: Option<Uuid>,
    pub unit: Option<String>,
}

/// Registers or dispatches many cases at once, all or none: if one cannot
/// be (changed since it was read: 409; no suggested unit, or a state that
/// does not allow the step: 422 on `cases[<number>]`), nothing is written.
/// The answer names each case and the unit it went to.
#[utoipa::path(post, path = "/cases/bulk", tag = "cases", request_body = CaseBulkBody,
    responses((status = 200, body = [CaseBulkDone]), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn bulk(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::WorkCases>,
    ApiJson(b): ApiJson<CaseBulkBody>,
) -> AppResult<Json<Vec<CaseBulkDone>>> {
    if b.cases.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("cases", "required")));
    }
    if b.cases.len() > case::BULK_MAX {
        return Err(AppError::Invalid(FieldErrors::single("cases", "too_many")));
    }
    let items: Vec<(Uuid, i64)> = b.cases.iter().map(|c| (c.id, c.version)).collect();
    let what = match b.step {
        CaseBulkStep::Register => case::BulkStep::Register,
        CaseBulkStep::Dispatch => case::BulkStep::Dispatch,
    };
    match case::bulk(
        &state.store,
        &auth.ctx(),
        &permit,
        &crate::service::case_actor(&auth),
        &items,
        what,
        state.config.timezone.clone(),
    )
    .await
    {
        Ok(done) => Ok(Json(
            done.into_iter()
                .map(|d| CaseBulkDone {
                    id: d.id,
                    number: d.number,
                    state: d.state.code().into(),
                    unit_id: d.unit_id,
                    unit: d.unit_name,
                })
                .collect(),
        )),
        Err((number, StepError::Refused(r))) => {
            Err(refused(Some(number.as_deref().unwrap_or("")), r))
        }
        Err((_, StepError::Store(e))) => Err(e.into()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryDto {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    /// e.g. {"unit": "hours", "amount": 4}
    #[schema(value_type = Option<Object>)]
    pub handling_time: Option<serde_json::Value>,
    pub duplicate_radius_m: i64,
    pub standard_codes: Vec<String>,
    /// false once retired: it takes no new cases.
    pub active: bool,
    /// Send it back when changing the category.
    pub version: i64,
}

fn category_dto(c: case::Category) -> CategoryDto {
    CategoryDto {
        id: c.id,
        parent_id: c.parent_id,
        code: c.code,
        name: c.name,
        handling_time: c.handling_time.and_then(|h| serde_json::to_value(h).ok()),
        duplicate_radius_m: c.duplicate_radius_m,
        standard_codes: c.standard_codes,
        active: c.active,
        version: c.version,
    }
}

/// The problem catalogue, classes before subclasses.
#[utoipa::path(get, path = "/categories", tag = "cases", responses((status = 200, body = Vec<CategoryDto>)))]
pub async fn categories(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<CategoryDto>>> {
    auth.scope(Action::ViewCases)?;
    Ok(Json(
        case::categories(&state.store)
            .await?
            .into_iter()
            .map(category_dto)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryBody {
    /// The version the caller read.
    pub version: i64,
    pub name: String,
    /// e.g. {"unit": "days", "amount": 3}; required for a subclass.
    #[schema(value_type = Option<Object>)]
    pub handling_time: Option<serde_json::Value>,
    /// 1–5000 m; 50 when absent.
    pub duplicate_radius_m: Option<i64>,
    #[serde(default)]
    pub standard_codes: Vec<String>,
    pub active: bool,
}

/// Renames, re-times or retires a category; its code and class stay.
#[utoipa::path(put, path = "/categories/{id}", tag = "cases", request_body = CategoryBody, params(("id" = Uuid, Path)),
    responses((status = 200, body = CategoryDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_category(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<CategoryBody>,
) -> AppResult<Json<CategoryDto>> {
    let existing = case::category(&state.store, id).await?;
    let mut e = FieldErrors::new();
    let name = wenming_domain::validation::text(&mut e, "name", &b.name, true, 32);
    let handling_time = match b.handling_time {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => {
            match serde_json::from_value::<wenming_domain::case::HandlingTime>(v)
                .ok()
                .filter(|h| h.parts().0 > 0)
            {
                Some(h) => Some(h),
                None => {
                    e.add("handling_time", "invalid_choice");
                    None
                }
            }
        }
    };
    if existing.parent_id.is_some() && handling_time.is_none() && e.is_empty() {
        e.add("handling_time", "required");
    }
    if b.duplicate_radius_m
        .is_some_and(|r| !(1..=5000).contains(&r))
    {
        e.add("duplicate_radius_m", "invalid_number");
    }
    let Some(name) = name.filter(|_| e.is_empty()) else {
        return Err(AppError::Invalid(e));
    };
    let ch = case::CategoryChange {
        name,
        handling_time,
        duplicate_radius_m: b.duplicate_radius_m,
        standard_codes: b.standard_codes,
        active: b.active,
    };
    match case::update_category(&state.store, &auth.ctx(), &permit, id, b.version, ch).await {
        Ok(c) => Ok(Json(category_dto(c))),
        // The store speaks the form's field names; the API's is standard_codes.
        Err(wenming_store::StoreError::Invalid(e)) => {
            let mut named = FieldErrors::new();
            for f in e.0 {
                let field = if f.field == "standards" {
                    "standard_codes".to_string()
                } else {
                    f.field
                };
                named.add(field, f.code);
            }
            Err(AppError::Invalid(named))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct RoutingRuleDto {
    pub id: Uuid,
    /// Category name; none means any category.
    pub category: Option<String>,
    /// Region name; none means the whole city.
    pub region: Option<String>,
    pub unit: String,
}

/// The routing rules, most specific category first.
#[utoipa::path(get, path = "/routing-rules", tag = "cases", responses((status = 200, body = Vec<RoutingRuleDto>)))]
pub async fn routing_rules(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<RoutingRuleDto>>> {
    auth.scope(Action::ViewCases)?;
    Ok(Json(
        case::routing_rules(&state.store)
            .await?
            .into_iter()
            .map(|r| RoutingRuleDto {
                id: r.id,
                category: r.category,
                region: r.region,
                unit: r.unit,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RoutingRuleBody {
    /// A class or subclass; none matches every category.
    pub category_id: Option<Uuid>,
    /// A region; none matches the whole city.
    pub region_id: Option<Uuid>,
    pub unit_id: Uuid,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedDto {
    pub id: Uuid,
}

/// Adds a routing rule: cases of that category in that area go to that unit.
#[utoipa::path(post, path = "/routing-rules", tag = "cases", request_body = RoutingRuleBody,
    responses((status = 201, body = CreatedDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_routing_rule(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiJson(b): ApiJson<RoutingRuleBody>,
) -> AppResult<(StatusCode, Json<CreatedDto>)> {
    let id = case::add_routing_rule(
        &state.store,
        &auth.ctx(),
        &permit,
        b.category_id,
        b.region_id,
        b.unit_id,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedDto { id })))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarDayDto {
    /// YYYY-MM-DD
    pub day: String,
    /// true: a make-up working day on a weekend; false: a holiday.
    pub workday: bool,
    pub name: String,
}

/// Holidays and make-up working days on record; deadlines count around them.
#[utoipa::path(get, path = "/calendar-days", tag = "cases", responses((status = 200, body = Vec<CalendarDayDto>)))]
pub async fn calendar_days(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Vec<CalendarDayDto>>> {
    auth.scope(Action::ViewCases)?;
    Ok(Json(
        case::calendar_days(&state.store)
            .await?
            .into_iter()
            .map(|d| CalendarDayDto {
                day: d.day,
                workday: d.workday,
                name: d.name,
            })
            .collect(),
    ))
}

/// Records a holiday or make-up working day, replacing what that date had.
#[utoipa::path(post, path = "/calendar-days", tag = "cases", request_body = CalendarDayDto,
    responses((status = 200, body = CalendarDayDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_calendar_day(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiJson(b): ApiJson<CalendarDayDto>,
) -> AppResult<Json<CalendarDayDto>> {
    let mut e = FieldErrors::new();
    let day = wenming_domain::task::parse_date(&mut e, "day", &b.day);
    let name = wenming_domain::validation::text(&mut e, "name", &b.name, true, 32);
    match (day, name) {
        (Some(d), Some(n)) if e.is_empty() => {
            case::set_calendar_day(&state.store, &auth.ctx(), &permit, d, b.workday, &n).await?;
            Ok(Json(CalendarDayDto {
                day: d.to_string(),
                workday: b.workday,
                name: n,
            }))
        }
        _ => Err(AppError::Invalid(e)),
    }
}

/// Removes a routing rule; cases already routed keep their unit.
#[utoipa::path(delete, path = "/routing-rules/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_routing_rule(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<StatusCode> {
    case::remove_routing_rule(&state.store, &auth.ctx(), &permit, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a date off the calendar; deadlines already set do not move.
#[utoipa::path(delete, path = "/calendar-days/{day}", tag = "cases", params(("day" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_calendar_day(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ManageFramework>,
    ApiPath(day): ApiPath<String>,
) -> AppResult<StatusCode> {
    let day = day.parse().map_err(|_| AppError::NotFound)?;
    case::remove_calendar_day(&state.store, &auth.ctx(), &permit, day).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// YYYY-MM; the current month when absent.
    month: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UnitMetrics {
    pub unit_id: Uuid,
    pub unit: String,
    /// None for a unit with fewer cases due than `min_n`: listed, not ranked.
    pub rank: Option<usize>,
    /// Every rate as {num, den}; see docs for the formulas.
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct MetricsReport {
    pub month: String,
    pub min_n: u64,
    #[schema(value_type = Object)]
    pub total: serde_json::Value,
    /// Ranked units first (红榜 at the top), then the unranked.
    pub units: Vec<UnitMetrics>,
}

/// A month's case metrics per unit in the caller's scope, with the ranking.
#[utoipa::path(get, path = "/metrics", tag = "cases", params(MetricsQuery), responses((status = 200, body = MetricsReport)))]
pub async fn metrics(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MetricsQuery>,
) -> AppResult<Json<MetricsReport>> {
    let m = crate::service::metrics::month_metrics(&state, &auth, q.month.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(MetricsReport {
        month: m.first.strftime("%Y-%m").to_string(),
        min_n: crate::service::metrics::MIN_N,
        total: serde_json::to_value(&m.total).unwrap_or_default(),
        units: m
            .units
            .into_iter()
            .map(|(id, r)| UnitMetrics {
                unit_id: id,
                unit: r.name,
                rank: r.rank,
                metrics: serde_json::to_value(&r.m).unwrap_or_default(),
            })
            .collect(),
    }))
}
