//! One case: its page with the timeline, photos and the steps this user
//! may take now, and the steps its forms post.

use super::refusal_message;
use crate::AppState;
use crate::auth::{Auth, CsrfMultipart};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, render};
use crate::routes::see_other;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_domain::case::{Refusal, Step, possible_steps};
use wenming_domain::org::Unit;
use wenming_domain::policy::{Action, may};
use wenming_store::case::{self, Case, CaseEvent, Category, StepError};
use wenming_store::{StoreError, org};

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
    /// A step sent back, with what was typed and what was wrong.
    attempt: Option<Attempt>,
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

/// A step the page sends back: the form it came from, what was typed in
/// it, and what was wrong, to be said beside the field it concerns (above
/// the forms when it concerns none).
pub(super) struct Attempt {
    step: String,
    field: Option<&'static str>,
    message: String,
    typed: Vec<(String, String)>,
}

impl Attempt {
    fn new(lang: crate::i18n::Lang, form: &[(String, String)], r: &Refusal) -> Self {
        let field = match r {
            Refusal::Invalid { field, .. } if *field != "step" => Some(*field),
            _ => None,
        };
        Attempt {
            step: form
                .iter()
                .find(|(k, _)| k == "step")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            field,
            message: refusal_message(lang, r),
            typed: form
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "csrf" | "version"))
                .cloned()
                .collect(),
        }
    }
    /// Whether it was sent by the form for one of `steps` ("a|b").
    fn from(&self, steps: &str) -> bool {
        steps.split('|').any(|s| s == self.step)
    }
}

impl ShowPage {
    /// What was typed in `field` of the form for `steps`, when that form was
    /// sent back: nobody types a reason twice.
    fn typed(&self, steps: &str, field: &str) -> &str {
        match &self.attempt {
            Some(a) if a.from(steps) => a
                .typed
                .iter()
                .find(|(k, _)| k == field)
                .map_or("", |(_, v)| v.as_str()),
            _ => "",
        }
    }
    /// The mistake in `field` of the form for `steps`, if that is where it is.
    fn error_at(&self, steps: &str, field: &str) -> &str {
        match &self.attempt {
            Some(a) if a.from(steps) && a.field == Some(field) => a.message.as_str(),
            _ => "",
        }
    }
    /// Whether the form for `steps` was sent back (its fold is opened).
    fn sent_back(&self, steps: &str) -> bool {
        self.attempt.as_ref().is_some_and(|a| a.from(steps))
    }
    /// A refusal that belongs to no field, said above the forms.
    fn general_error(&self) -> Option<&str> {
        self.attempt
            .as_ref()
            .filter(|a| a.field.is_none())
            .map(|a| a.message.as_str())
    }
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
    attempt: Option<Attempt>,
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
        attempt,
    };
    let status = if conflict {
        axum::http::StatusCode::CONFLICT
    } else if page.attempt.is_some() {
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
                    code: "invalid_datetime",
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
        ask.insert("kind".into(), Value::String(kind.clone()));
        match when("until")? {
            Some(u) => {
                ask.insert("until".into(), u);
            }
            // Said plainly, beside the date, rather than as a missing field.
            None if kind == "extend" => {
                return Err(Refusal::Invalid {
                    field: "until",
                    code: "extend_until_required",
                });
            }
            None => {}
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

/// The case page again, the step's form as it was sent and what was wrong.
async fn sent_back(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    form: &[(String, String)],
    r: &Refusal,
) -> AppResult<Response> {
    let attempt = Attempt::new(auth.lang, form, r);
    show_page(state, auth, id, None, Some(attempt), false).await
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
            return sent_back(&state, &auth, id, &f.form, &r).await;
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
            return sent_back(&state, &auth, id, &f.form, &r).await;
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
        Err(StepError::Refused(r)) => sent_back(&state, &auth, id, &f.form, &r).await,
        Err(StepError::Store(StoreError::Conflict)) => {
            show_page(&state, &auth, id, None, None, true).await
        }
        Err(StepError::Store(e)) => Err(AppError::from(e)),
    }
}
