//! Cases: intake, the list and role inboxes, one case with its timeline and
//! the steps this user may take now.

pub(super) mod categories;
pub(super) mod export;
pub(super) mod map;
pub(super) mod metrics;
pub(super) mod routing;
pub(super) mod show;

use crate::AppState;
use crate::auth::{Auth, CsrfForm, CsrfMultipart};
use crate::error::AppResult;
use crate::extract::ApiQuery;
use crate::page::{PageCtx, form_status, render, urlencode};
use crate::routes::see_other;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::account::Role;
use wenming_domain::case::{CaseActor, CaseState, IntakeForm, Refusal, Source};
use wenming_domain::org::{Region, RegionLevel, Unit};
use wenming_domain::policy::{Action, may};
use wenming_store::case::{self, Case, CaseFilter, Category, StepError};
use wenming_store::{StoreError, org};

pub fn refusal_message(lang: crate::i18n::Lang, r: &Refusal) -> String {
    let t = |k: &str| crate::i18n::t(lang, k);
    match r {
        Refusal::Illegal { state, step } => crate::i18n::fill(
            t("case.refused_illegal"),
            &[
                ("state", t(&format!("case_state.{}", state.code()))),
                ("step", t(&format!("case_step.{step}"))),
            ],
        ),
        Refusal::NotYours { step } => crate::i18n::fill(
            t("case.refused_not_yours"),
            &[("step", t(&format!("case_step.{step}")))],
        ),
        Refusal::OwnWork => t("case.refused_own_work").to_string(),
        Refusal::OwnUnit => t("case.refused_own_unit").to_string(),
        Refusal::NotAssigned => t("case.refused_not_assigned").to_string(),
        Refusal::Invalid { code, .. } => crate::i18n::field_message(lang, code),
    }
}

// ------------------------------------------------------------ list and inboxes

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    /// An inbox: to_register, to_dispatch, asks, overdue, to_handle, rework, to_verify.
    #[serde(default)]
    pub inbox: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub source: String,
    /// A case number, or words of the description or address.
    #[serde(default)]
    pub q: String,
    /// A district or street: cases placed in it.
    #[serde(default)]
    pub region: String,
    /// Reported on or after this day (YYYY-MM-DD).
    #[serde(default)]
    pub from: String,
    /// Reported on or before this day.
    #[serde(default)]
    pub until: String,
    /// "1": only cases past their deadline.
    #[serde(default)]
    pub overdue: String,
    /// "none": fixes put to no verifier.
    #[serde(default)]
    pub verifier: String,
    /// "deadline": earliest deadline first; "newest": newest report first.
    /// A unit's inboxes read by deadline unless asked otherwise.
    #[serde(default)]
    pub sort: String,
    pub after: Option<String>,
    pub done: Option<String>,
    /// Case numbers, comma-separated: the batch just registered or
    /// dispatched, shown with the unit each went to.
    #[serde(default)]
    pub batch: String,
    /// "all" or "none": tick every case of the page, or none; otherwise
    /// those with a suggested unit are ticked.
    #[serde(default)]
    pub pick: String,
}

impl ListQuery {
    fn query_string(&self) -> String {
        format!(
            "inbox={}&state={}&category={}&unit={}&source={}&q={}&region={}&from={}&until={}&overdue={}&verifier={}&sort={}",
            urlencode(&self.inbox),
            urlencode(&self.state),
            urlencode(&self.category),
            urlencode(&self.unit),
            urlencode(&self.source),
            urlencode(&self.q),
            urlencode(&self.region),
            urlencode(&self.from),
            urlencode(&self.until),
            urlencode(&self.overdue),
            urlencode(&self.verifier),
            urlencode(&self.sort)
        )
    }
}

pub struct Inbox {
    pub key: &'static str,
    pub count: i64,
}

/// What the list's query asks for, as a filter: the inbox, state, category,
/// unit, source, words, place, reporting days (the city's) and lateness.
/// The caller's scope still decides which cases are seen; the list and its
/// export read the same filter.
fn list_filter(state: &AppState, actor: &CaseActor, q: &ListQuery) -> CaseFilter {
    let batch = batch_numbers(&q.batch);
    if !batch.is_empty() {
        // The batch has left its inbox: it is shown whatever its state now.
        return CaseFilter {
            numbers: batch,
            ..Default::default()
        };
    }
    let mut f = inbox_filter(&q.inbox, actor).unwrap_or_default();
    f.order = match q.sort.as_str() {
        "deadline" => case::CaseOrder::Deadline,
        "newest" => case::CaseOrder::Newest,
        _ if matches!(q.inbox.as_str(), "to_handle" | "rework" | "overdue") => {
            case::CaseOrder::Deadline
        }
        _ => case::CaseOrder::Newest,
    };
    if let Some(s) = CaseState::parse(&q.state) {
        f.states = vec![s];
    }
    f.category_id = Uuid::parse_str(&q.category).ok();
    f.unit_id = Uuid::parse_str(&q.unit).ok();
    f.source = Source::parse(&q.source);
    f.words = Some(q.q.clone()).filter(|w| !w.trim().is_empty());
    f.region_id = Uuid::parse_str(&q.region).ok();
    let tz = &state.config.timezone;
    let day_start = |s: &str| -> Option<jiff::Timestamp> {
        let d: jiff::civil::Date = s.trim().parse().ok()?;
        d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(tz.clone())
            .ok()
            .map(|z| z.timestamp())
    };
    f.reported_from = day_start(&q.from);
    f.reported_before = day_start(&q.until).map(|t| t + jiff::SignedDuration::from_hours(24));
    if q.overdue == "1" {
        f.overdue_at = Some(jiff::Timestamp::now());
    }
    f.no_verifier = q.verifier == "none";
    f
}

fn batch_numbers(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .take(case::BULK_MAX)
        .map(str::to_string)
        .collect()
}

fn inbox_filter(key: &str, actor: &CaseActor) -> Option<CaseFilter> {
    let states = |s: &[CaseState]| CaseFilter {
        states: s.to_vec(),
        ..Default::default()
    };
    Some(match key {
        "to_register" => states(&[CaseState::Reported]),
        "to_dispatch" => states(&[CaseState::Registered]),
        "asks" => states(&[CaseState::AwaitingApproval]),
        "overdue" => CaseFilter {
            overdue_at: Some(jiff::Timestamp::now()),
            ..Default::default()
        },
        "to_handle" => states(&[CaseState::Dispatched]),
        "rework" => states(&[CaseState::Rework]),
        // An inspector's are the fixes put to them; the office sees all,
        // with whom each waits for.
        "to_verify" => CaseFilter {
            verifier_id: (!actor.office).then_some(actor.user_id),
            ..states(&[CaseState::Handled])
        },
        _ => return None,
    })
}

fn inboxes_for(actor: &CaseActor) -> Vec<&'static str> {
    let mut v = vec![];
    if actor.office {
        v.extend(["to_register", "to_dispatch", "asks", "overdue"]);
    }
    if !actor.units.is_empty() {
        v.extend(["to_handle", "rework", "overdue"]);
    }
    if actor.verifier {
        v.push("to_verify");
    }
    v.dedup();
    let mut seen = vec![];
    v.retain(|k| {
        if seen.contains(k) {
            false
        } else {
            seen.push(*k);
            true
        }
    });
    v
}

#[derive(Template)]
#[template(path = "cases/list.html")]
struct ListPage {
    p: PageCtx,
    cases: Vec<Case>,
    /// How many cases the filter finds, over all pages.
    total: i64,
    /// Districts and streets to narrow the list to.
    places: Vec<Region>,
    next: Option<String>,
    inboxes: Vec<Inbox>,
    query: ListQuery,
    query_string: String,
    categories: Vec<Category>,
    units: Vec<Unit>,
    can_report: bool,
    /// Reported cases may be ticked and registered together, registered
    /// ones dispatched together: the form's action, when it may.
    bulk: Option<&'static str>,
    /// The batch just registered or dispatched, when the list shows it.
    batch: bool,
    /// The office's own pages (catalogue, routing) are offered to it only.
    office: bool,
    alert: Option<String>,
    now: jiff::Timestamp,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    list_page(&state, &auth, q, None).await
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    q: ListQuery,
    alert: Option<(StatusCode, String)>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewCases)?;
    let actor = crate::service::case_actor(auth);
    let mut inboxes = vec![];
    for key in inboxes_for(&actor) {
        let f = inbox_filter(key, &actor).unwrap_or_default();
        inboxes.push(Inbox {
            key,
            count: case::count(&state.store, &scope, &f).await?,
        });
    }
    let mut f = list_filter(state, &actor, &q);
    let total = case::count(&state.store, &scope, &f).await?;
    f.after = q.after.as_deref().and_then(case::parse_cursor);
    f.limit = 50;
    let (cases, next) = case::list(&state.store, &scope, &f).await?;
    let city = org::whole_city(&state.store).await?;
    let page = ListPage {
        p: PageCtx::new(auth, state).with_flash(q.done.as_deref()),
        cases,
        total,
        next,
        inboxes,
        query_string: q.query_string(),
        categories: case::categories(&state.store).await?,
        places: org::list_regions(&state.store, &city)
            .await?
            .into_iter()
            .filter(|r| matches!(r.level, RegionLevel::District | RegionLevel::Street))
            .collect(),
        units: if actor.office {
            org::all_units(&state.store, &city, true).await?
        } else {
            vec![]
        },
        can_report: auth.may(Action::ReportCases),
        bulk: match q.inbox.as_str() {
            _ if !actor.office || !q.batch.is_empty() => None,
            "to_register" => Some("register"),
            "to_dispatch" => Some("dispatch"),
            _ => None,
        },
        batch: !q.batch.is_empty(),
        office: actor.office,
        now: jiff::Timestamp::now(),
        query: q,
        alert: alert.as_ref().map(|(_, m)| m.clone()),
    };
    let status = alert.map_or(StatusCode::OK, |(s, _)| s);
    Ok((status, render(&page)).into_response())
}

/// Registers the ticked reported cases, all or none.
pub async fn bulk_register(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    bulk(state, f, case::BulkStep::Register).await
}

/// Dispatches the ticked cases to their suggested units, all or none.
pub async fn bulk_dispatch(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    bulk(state, f, case::BulkStep::Dispatch).await
}

/// A batch step from the list's ticks; on success the list shows the batch
/// with the unit each case went to, so a wrong suggestion is seen at once.
async fn bulk(
    state: AppState,
    f: CsrfForm<Vec<(String, String)>>,
    what: case::BulkStep,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::WorkCases>()?;
    let items: Vec<(Uuid, i64)> = f
        .form
        .iter()
        .filter(|(k, _)| k == "case")
        .filter_map(|(_, v)| {
            let (id, version) = v.split_once(':')?;
            Some((Uuid::parse_str(id).ok()?, version.parse().ok()?))
        })
        .collect();
    let (inbox, done, failed) = match what {
        case::BulkStep::Register => (
            "to_register",
            "bulk_registered",
            "case.bulk_register_failed",
        ),
        case::BulkStep::Dispatch => ("to_dispatch", "bulk_dispatched", "case.bulk_failed"),
    };
    let q = ListQuery {
        inbox: inbox.into(),
        ..Default::default()
    };
    if items.is_empty() || items.len() > case::BULK_MAX {
        let key = if items.is_empty() {
            "case.bulk_none"
        } else {
            "case.bulk_too_many"
        };
        let msg = crate::i18n::t(auth.lang, key).to_string();
        // Nothing ticked is a mistake in the form, not a conflict.
        return list_page(
            &state,
            &auth,
            q,
            Some((StatusCode::UNPROCESSABLE_ENTITY, msg)),
        )
        .await;
    }
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
        Ok(done_cases) => {
            let numbers: Vec<&str> = done_cases.iter().map(|d| d.number.as_str()).collect();
            Ok(see_other(
                &format!("/cases?inbox={inbox}&batch={}", numbers.join(",")),
                done,
            ))
        }
        Err((number, e)) => {
            let (status, why) = match e {
                StepError::Refused(r) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    refusal_message(auth.lang, &r),
                ),
                StepError::Store(StoreError::Conflict) => (
                    StatusCode::CONFLICT,
                    crate::i18n::t(auth.lang, "case.conflict").to_string(),
                ),
                StepError::Store(e) => return Err(e.into()),
            };
            let msg = crate::i18n::fill(
                crate::i18n::t(auth.lang, failed),
                &[("number", number.as_deref().unwrap_or("")), ("why", &why)],
            );
            list_page(&state, &auth, q, Some((status, msg))).await
        }
    }
}

// ------------------------------------------------------------ intake

#[derive(Template)]
#[template(path = "cases/new.html")]
struct NewPage {
    p: PageCtx,
    form: IntakeForm,
    errors: FieldErrors,
    categories: Vec<Category>,
    sources: Vec<&'static str>,
}

fn new_page(
    state: &AppState,
    auth: &Auth,
    form: IntakeForm,
    errors: FieldErrors,
    categories: Vec<Category>,
) -> Response {
    let status = form_status(&errors, false);
    let page = NewPage {
        p: PageCtx::new(auth, state),
        form,
        errors,
        categories,
        sources: Source::ALL.iter().map(|s| s.code()).collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ReportCases)?;
    let form = IntakeForm {
        client_id: Uuid::new_v4().to_string(),
        source: if auth.actor.has_role(Role::Inspector) {
            "inspection"
        } else {
            "hotline"
        }
        .into(),
        ..Default::default()
    };
    Ok(new_page(
        &state,
        &auth,
        form,
        FieldErrors::new(),
        case::categories(&state.store).await?,
    ))
}

/// Reports a case from the form. Photos are staged first, whatever else
/// is wrong, so that a form sent back for a mistake keeps them (shown, and
/// carried in the form) instead of asking for them again.
pub async fn create(
    State(state): State<AppState>,
    f: CsrfMultipart<IntakeForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ReportCases)?;
    let categories = case::categories(&state.store).await?;
    let mut form = f.form;
    let mut staged = form.staged_ids();
    let mut errors = FieldErrors::new();
    match f.photo_error {
        Some(code) => errors.add("photos", code),
        None if staged.len() + f.photos.len() > crate::auth::MAX_PHOTOS => {
            errors.add("photos", "too_many_photos")
        }
        None => match crate::service::photos::stage_all(&state, &auth, "photos", f.photos).await {
            Ok(ids) => staged.extend(ids),
            Err(StoreError::Invalid(e)) => errors.0.extend(e.0),
            Err(e) => return Err(e.into()),
        },
    }
    form.staged = staged
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let result = match form.parse() {
        Ok(mut input) if errors.is_empty() => {
            input.photo_ids = staged.clone();
            case::intake(
                &state.store,
                &auth.ctx(),
                &auth.permit()?,
                &input,
                &state.config.photo_rules,
                &state.config.timezone,
            )
            .await
        }
        Ok(_) => Err(StoreError::Invalid(errors)),
        Err(mut e) => {
            e.0.extend(errors.0);
            Err(StoreError::Invalid(e))
        }
    };
    match result {
        Ok(c) => Ok(see_other(&format!("/cases/{}", c.id), "reported")),
        Err(StoreError::Invalid(e)) => {
            if e.for_field("photo_ids").is_some() {
                // A staged photo that is not this reporter's, or gone: start
                // the photos afresh rather than carry a bad id along.
                form.staged.clear();
            }
            Ok(new_page(&state, &auth, form, e, categories))
        }
        Err(e) => {
            crate::service::photos::discard(&state, &staged).await;
            Err(e.into())
        }
    }
}
