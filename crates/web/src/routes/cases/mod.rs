//! Cases: intake, the list and role inboxes, one case with its timeline and
//! the steps this user may take now.

pub(super) mod categories;
pub(super) mod export;
pub(super) mod map;
pub(super) mod metrics;
pub(super) mod routing;

use crate::AppState;
use crate::auth::{Auth, CsrfForm, CsrfMultipart};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
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
use wenming_domain::case::{
    CaseActor, CaseState, IntakeForm, Refusal, Source, Step, possible_steps,
};
use wenming_domain::org::{Region, RegionLevel, Unit};
use wenming_domain::policy::{Action, may};
use wenming_store::case::{self, Case, CaseEvent, CaseFilter, Category, StepError};
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
    /// Registered cases may be ticked and dispatched together.
    bulk: bool,
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
        bulk: actor.office && q.inbox == "to_dispatch",
        office: actor.office,
        now: jiff::Timestamp::now(),
        query: q,
        alert: alert.as_ref().map(|(_, m)| m.clone()),
    };
    let status = alert.map_or(StatusCode::OK, |(s, _)| s);
    Ok((status, render(&page)).into_response())
}

/// Dispatches the ticked cases to their suggested units, all or none.
pub async fn bulk_dispatch(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
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
    let q = ListQuery {
        inbox: "to_dispatch".into(),
        ..Default::default()
    };
    if items.is_empty() {
        let msg = crate::i18n::t(auth.lang, "case.bulk_none").to_string();
        // Nothing ticked is a mistake in the form, not a conflict.
        return list_page(
            &state,
            &auth,
            q,
            Some((StatusCode::UNPROCESSABLE_ENTITY, msg)),
        )
        .await;
    }
    match case::bulk_dispatch(
        &state.store,
        &auth.ctx(),
        &permit,
        &crate::service::case_actor(&auth),
        &items,
        state.config.timezone.clone(),
    )
    .await
    {
        Ok(_) => Ok(see_other("/cases?inbox=to_dispatch", "bulk_dispatched")),
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
                crate::i18n::t(auth.lang, "case.bulk_failed"),
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

pub async fn create(
    State(state): State<AppState>,
    f: CsrfMultipart<IntakeForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ReportCases)?;
    let categories = case::categories(&state.store).await?;
    let result = match (f.form.parse(), f.photo_error) {
        (_, Some(code)) => Err(StoreError::invalid("photos", code)),
        (Ok(mut input), None) => {
            match crate::service::photos::stage_all(&state, &auth, "photos", f.photos).await {
                Ok(ids) => {
                    input.photo_ids = ids;
                    let r = case::intake(
                        &state.store,
                        &auth.ctx(),
                        &auth.permit()?,
                        &input,
                        &state.config.photo_rules,
                        &state.config.timezone,
                    )
                    .await;
                    if r.is_err() {
                        crate::service::photos::discard(&state, &input.photo_ids).await;
                    }
                    r
                }
                Err(e) => Err(e),
            }
        }
        (Err(e), None) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(c) => Ok(see_other(&format!("/cases/{}", c.id), "reported")),
        Err(StoreError::Invalid(e)) => Ok(new_page(&state, &auth, f.form, e, categories)),
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------ one case

#[derive(Template)]
#[template(path = "cases/show.html")]
struct ShowPage {
    p: PageCtx,
    c: Case,
    events: Vec<CaseEvent>,
    steps: Vec<&'static str>,
    /// Open cases of the same kind nearby, with their distance in metres.
    duplicates: Vec<(Case, i64)>,
    units: Vec<Unit>,
    default_deadline: String,
    overdue: bool,
    refusal: Option<String>,
    conflict: bool,
    before: Vec<PhotoView>,
    after: Vec<PhotoView>,
    /// After photos carrying a warning, for the verifier.
    flagged: usize,
    /// The original this case is a duplicate of, by number.
    original: Option<(Uuid, String)>,
    /// The cases marked duplicates of this one.
    marked: Vec<Case>,
    /// Subcategories to file it under, when the office may classify it.
    subcategories: Vec<Category>,
    /// Registered without a category: the office must choose one.
    unclassified: bool,
    /// Why this account can take no step the case waits for.
    why_not: Option<String>,
    /// Inspectors the office may put the verification to.
    verifiers: Vec<case::VerifierChoice>,
    /// How long the case has waited for whoever acts next.
    waiting: Option<String>,
}

/// A photo as the case page shows it: when it was taken and what is
/// suspicious about it.
struct PhotoView {
    id: Uuid,
    /// The duplicate it came with, when it is not this case's own.
    of_duplicate: Option<String>,
    event_id: Option<Uuid>,
    taken: Option<String>,
    flags: Vec<FlagView>,
}

struct FlagView {
    text: String,
    /// The other case a re-used picture is on.
    case_link: Option<(Uuid, String)>,
}

fn flag_view(
    lang: crate::i18n::Lang,
    f: &wenming_domain::photo::Flag,
    numbers: &std::collections::HashMap<Uuid, String>,
    this_case: Uuid,
) -> FlagView {
    use wenming_domain::photo::{Flag, PhotoRole};
    let t = |k: &str| crate::i18n::t(lang, k);
    let role = |r: &PhotoRole| match r {
        PhotoRole::Before => t("case.before"),
        PhotoRole::After => t("case.after"),
    };
    let other = |c: &Uuid| {
        if *c == this_case {
            None
        } else {
            numbers.get(c).map(|n| (*c, n.clone()))
        }
    };
    // The same picture elsewhere: on this case ("…_here") or on another,
    // which is then linked.
    let reused = |case_id: &Uuid, r: &PhotoRole, key: &str| FlagView {
        text: crate::i18n::fill(
            t(&if *case_id == this_case {
                format!("photo_flag.{key}_here")
            } else {
                format!("photo_flag.{key}")
            }),
            &[("role", role(r))],
        ),
        case_link: other(case_id),
    };
    match f {
        Flag::TakenBeforeDispatch => FlagView {
            text: t("photo_flag.taken_before_dispatch").into(),
            case_link: None,
        },
        Flag::FarFromCase { metres } => FlagView {
            text: crate::i18n::fill(
                t("photo_flag.far_from_case"),
                &[("metres", &metres.to_string())],
            ),
            case_link: None,
        },
        Flag::NoCaptureTime => FlagView {
            text: t("photo_flag.no_capture_time").into(),
            case_link: None,
        },
        Flag::TakenInFuture => FlagView {
            text: t("photo_flag.taken_in_future").into(),
            case_link: None,
        },
        Flag::NoLocation => FlagView {
            text: t("photo_flag.no_location").into(),
            case_link: None,
        },
        Flag::SameFile { case_id, role: r } => reused(case_id, r, "same_file"),
        Flag::NearIdentical {
            case_id, role: r, ..
        } => reused(case_id, r, "near_identical"),
    }
}

impl ShowPage {
    fn can(&self, step: &str) -> bool {
        self.steps.contains(&step)
    }
    fn photos_of(&self, event: &Uuid) -> Vec<&PhotoView> {
        self.before
            .iter()
            .chain(self.after.iter())
            .filter(|p| p.event_id.as_ref() == Some(event))
            .collect()
    }
    fn suggested(&self, unit: &Uuid) -> bool {
        self.c.suggested_unit_id.as_ref() == Some(unit)
    }
}

async fn show_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    done: Option<&str>,
    refusal: Option<String>,
    conflict: bool,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewCases)?;
    let c = case::get(&state.store, &scope, id).await?;
    let actor = crate::service::case_actor(auth);
    let steps = if auth.may(Action::WorkCases) {
        possible_steps(c.facts(), &actor)
    } else {
        vec![]
    };
    let city = org::whole_city(&state.store).await?;
    let deadline = case::default_deadline(&state.store, &c, state.config.timezone.clone()).await?;
    let tz = state.config.timezone.clone();
    let duplicates = if steps.contains(&"mark_duplicate") {
        case::possible_duplicates(&state.store, &scope, &c)
            .await?
            .into_iter()
            .map(|(d, m)| (d, m.round() as i64))
            .collect()
    } else {
        vec![]
    };
    let photos = wenming_store::photo::of_case(&state.store, id).await?;
    let others: Vec<Uuid> = photos
        .iter()
        .flat_map(|ph| ph.flags.iter())
        .filter_map(|f| match f {
            wenming_domain::photo::Flag::SameFile { case_id, .. }
            | wenming_domain::photo::Flag::NearIdentical { case_id, .. } => Some(*case_id),
            _ => None,
        })
        .collect();
    let marked = case::duplicate::of(&state.store, &scope, id).await?;
    let numbers = case::numbers(
        &state.store,
        &others.into_iter().chain(c.duplicate_of).collect::<Vec<_>>(),
    )
    .await?;
    let (mut before, mut after) = (vec![], vec![]);
    for ph in photos {
        let view = PhotoView {
            id: ph.id,
            of_duplicate: ph
                .case_id
                .filter(|c| *c != id)
                .and_then(|c| marked.iter().find(|m| m.id == c))
                .map(|m| m.number.clone()),
            event_id: ph.event_id,
            taken: ph.taken_at.map(|t| {
                t.to_zoned_datetime(state.config.timezone.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            }),
            flags: ph
                .flags
                .iter()
                .map(|f| flag_view(auth.lang, f, &numbers, id))
                .collect(),
        };
        match ph.role {
            Some(wenming_domain::photo::PhotoRole::After) => after.push(view),
            _ => before.push(view),
        }
    }
    let flagged = after.iter().filter(|v| !v.flags.is_empty()).count();
    let now = jiff::Timestamp::now();
    // Said even beside other actions: the office that may reassign a fix
    // still learns why it may not verify it.
    let why_not = if auth.may(Action::WorkCases) {
        wenming_domain::case::why_not(c.facts(), &actor, now)
            .map(|r| refusal_message(auth.lang, &r))
    } else {
        None
    };
    let verifiers = if steps.contains(&"assign_verifier") {
        case::verifier_choices(&state.store, &c).await?
    } else {
        vec![]
    };
    let waiting = c
        .waiting_since()
        .map(|t| crate::page::elapsed(auth.lang, t, now));
    let page = ShowPage {
        why_not,
        verifiers,
        waiting,
        before,
        after,
        flagged,
        p: PageCtx::new(auth, state).with_flash(done),
        duplicates,
        events: case::events(&state.store, id).await?,
        units: if actor.office {
            org::all_units(&state.store, &city, true).await?
        } else {
            vec![]
        },
        default_deadline: deadline
            .map(|d| {
                d.to_zoned_datetime(tz)
                    .strftime("%Y-%m-%dT%H:%M")
                    .to_string()
            })
            .unwrap_or_default(),
        overdue: c.overdue(jiff::Timestamp::now()),
        original: c
            .duplicate_of
            .and_then(|o| numbers.get(&o).map(|n| (o, n.clone()))),
        marked,
        subcategories: if steps.contains(&"classify") {
            case::categories(&state.store)
                .await?
                .into_iter()
                .filter(|x| x.parent_id.is_some() && x.active)
                .collect()
        } else {
            vec![]
        },
        unclassified: case::category(&state.store, c.category_id).await?.code
            == case::UNCLASSIFIED_CODE,
        steps,
        c,
        conflict,
        refusal: refusal.clone(),
    };
    let status = if conflict {
        axum::http::StatusCode::CONFLICT
    } else if refusal.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, render(&page)).into_response())
}

/// One case, by its id or by its number as people quote it
/// (`/cases/2026-000123` opens the case page).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(key): ApiPath<String>,
    ApiQuery(d): ApiQuery<crate::routes::Done>,
) -> AppResult<Response> {
    let id = match Uuid::parse_str(&key) {
        Ok(id) => id,
        Err(_) => {
            let scope = auth.scope(Action::ViewCases)?;
            let id = case::duplicate::by_number(&state.store, &scope, &key)
                .await?
                .ok_or(AppError::NotFound)?;
            return Ok(axum::response::Redirect::to(&format!("/cases/{id}")).into_response());
        }
    };
    show_page(&state, &auth, id, d.done.as_deref(), None, false).await
}

/// A `datetime-local` value in the deployment's zone.
fn parse_local(value: &str, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
    let dt: jiff::civil::DateTime = value.trim().parse().ok()?;
    dt.to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp())
}

/// Reads the step a form asks for; fields it needs and lacks are refusals.
/// A step posted by the case page, in the API's vocabulary (the same
/// `step`, fields and values as the JSON body of POST /cases/{id}/steps):
/// the form's strings are typed (local times made instants, ids checked,
/// naming the field that is wrong) and the result read as the API reads it.
fn step_from(pairs: &[(String, String)], tz: &jiff::tz::TimeZone) -> Result<(Step, i64), Refusal> {
    use serde_json::{Map, Value};
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let version = one("version").and_then(|v| v.parse().ok()).unwrap_or(-1);
    let step = one("step").unwrap_or_default();
    let mut body = Map::new();
    body.insert("step".into(), Value::String(step.clone()));
    // Text the page may leave out is empty, as a blank box would send it.
    for k in ["reason", "note"] {
        body.insert(k.into(), Value::String(one(k).unwrap_or_default()));
    }
    for k in ["unit", "original", "category", "verifier"] {
        if let Some(v) = one(k) {
            let id = Uuid::parse_str(&v).map_err(|_| Refusal::Invalid {
                field: k,
                code: "invalid_choice",
            })?;
            body.insert(k.into(), Value::String(id.to_string()));
        }
    }
    let when = |k: &'static str| -> Result<Option<Value>, Refusal> {
        match one(k) {
            None => Ok(None),
            Some(v) => parse_local(&v, tz)
                .map(|t| Some(Value::String(t.to_string())))
                .ok_or(Refusal::Invalid {
                    field: k,
                    code: "invalid_date",
                }),
        }
    };
    if let Some(d) = when("deadline")? {
        body.insert("deadline".into(), d);
    }
    if let Some(p) = one("passed") {
        body.insert("passed".into(), Value::Bool(p == "true"));
    }
    if let Some(n) = one("score") {
        body.insert("score".into(), Value::from(n.parse::<i64>().unwrap_or(0)));
    }
    if let Some(kind) = one("ask") {
        let mut ask = Map::new();
        ask.insert("kind".into(), Value::String(kind));
        if let Some(u) = when("until")? {
            ask.insert("until".into(), u);
        }
        body.insert("ask".into(), Value::Object(ask));
    }
    let step: Step = serde_json::from_value(Value::Object(body)).map_err(|e| {
        // Serde names a missing field as `x`; anything else is the step.
        let text = e.to_string();
        let field = [
            "deadline", "until", "unit", "original", "category", "verifier", "passed", "ask",
        ]
        .into_iter()
        .find(|f| text.contains(&format!("`{f}`")))
        .unwrap_or("step");
        Refusal::Invalid {
            field,
            code: if field == "step" {
                "invalid_choice"
            } else {
                "required"
            },
        }
    })?;
    Ok((step, version))
}

pub async fn take_step(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    mut f: CsrfMultipart<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::WorkCases>()?;
    // An original may be named by its number, as people quote cases.
    if let Some((_, v)) = f.form.iter_mut().find(|(k, _)| k == "original")
        && !v.trim().is_empty()
        && Uuid::parse_str(v.trim()).is_err()
    {
        let seen = auth.scope(Action::ViewCases)?;
        *v = case::duplicate::by_number(&state.store, &seen, v)
            .await?
            .map(|u| u.to_string())
            .unwrap_or_default();
    }
    let parsed = match f.photo_error {
        Some(code) => Err(Refusal::Invalid {
            field: "photos",
            code,
        }),
        None => step_from(&f.form, &state.config.timezone),
    };
    let (step, version) = match parsed {
        Ok(s) => s,
        Err(r) => {
            return show_page(
                &state,
                &auth,
                id,
                None,
                Some(refusal_message(auth.lang, &r)),
                false,
            )
            .await;
        }
    };
    let photo_ids = match crate::service::photos::stage_all(&state, &auth, "photos", f.photos).await
    {
        Ok(ids) => ids,
        Err(StoreError::Invalid(e)) => {
            let code = e.0.first().map(|x| x.code).unwrap_or("invalid_choice");
            let r = Refusal::Invalid {
                field: "photos",
                code,
            };
            return show_page(
                &state,
                &auth,
                id,
                None,
                Some(refusal_message(auth.lang, &r)),
                false,
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let result = case::step(
        &state.store,
        &auth.ctx(),
        &permit,
        &crate::service::case_actor(&auth),
        id,
        version,
        &step,
        &case::StepPhotos {
            ids: &photo_ids,
            rules: &state.config.photo_rules,
        },
    )
    .await;
    if result.is_err() {
        crate::service::photos::discard(&state, &photo_ids).await;
    }
    match result {
        Ok(_) => Ok(see_other(&format!("/cases/{id}"), "step_taken")),
        Err(StepError::Refused(r)) => {
            show_page(
                &state,
                &auth,
                id,
                None,
                Some(refusal_message(auth.lang, &r)),
                false,
            )
            .await
        }
        Err(StepError::Store(StoreError::Conflict)) => {
            show_page(&state, &auth, id, None, None, true).await
        }
        Err(StepError::Store(e)) => Err(AppError::from(e)),
    }
}
