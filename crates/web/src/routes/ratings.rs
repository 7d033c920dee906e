//! 民评官 pages: the office's rounds with per-unit results and the
//! comment queue, a unit's own result, the interviewer's rating form, and
//! the public rating page residents open on their phones.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::page::{PageCtx, form_status, render};
use crate::routes::surveys::{device_cookie, public_note, with_device};
use crate::routes::{Done, see_other};
use crate::service::ratings::{self as svc, RawRating, RoundResults};
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, Permit, may};
use wenming_domain::rating::{CommentState, Level, RoundInput, Scale};
use wenming_store::rating::{self as rt, Channel, Round, RoundState};

/// The fields a form sent back, to fill it again beside its errors.
#[derive(Default)]
pub struct Filled {
    pub values: Vec<(String, String)>,
    pub errors: FieldErrors,
}

impl Filled {
    pub fn get(&self, key: &str) -> String {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == key && v == value)
    }
}

#[derive(Template)]
#[template(path = "ratings/list.html")]
struct ListPage {
    p: PageCtx,
    rounds: Vec<Round>,
    can_manage: bool,
    units: Vec<(Uuid, String)>,
    scales: [Scale; 2],
    filled: Filled,
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    flash: Option<&str>,
    filled: Filled,
) -> AppResult<Response> {
    let rounds = svc::rounds(state, auth).await?;
    let can_manage = auth.may(Action::ManageRatings);
    let units = if can_manage {
        let scope = auth.scope(Action::ViewUnits)?;
        wenming_store::org::list_units(
            &state.store,
            &scope,
            &wenming_store::org::UnitFilter {
                active: Some(true),
                limit: 500,
                ..Default::default()
            },
        )
        .await?
        .items
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect()
    } else {
        vec![]
    };
    let status = form_status(&filled.errors, false);
    let page = ListPage {
        p: PageCtx::new(auth, state).with_flash(flash),
        rounds,
        can_manage,
        units,
        scales: Scale::ALL,
        filled,
    };
    Ok((status, render(&page)).into_response())
}

/// The rounds the viewer has a unit in; the office also starts new ones.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    list_page(&state, &auth, d.done.as_deref(), Filled::default()).await
}

pub async fn create(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRatings>()?;
    let pairs = f.form;
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut e = FieldErrors::new();
    let scale = Scale::parse(&one("scale"));
    if scale.is_none() {
        e.add("scale", "invalid_choice");
    }
    let dates = crate::service::surveys::parse_dates(&one("opens_on"), &one("closes_on"));
    let min_n = one("min_n").parse::<i64>().unwrap_or(0);
    let units: Vec<Uuid> = pairs
        .iter()
        .filter(|(k, _)| k == "units")
        .filter_map(|(_, v)| Uuid::parse_str(v.trim()).ok())
        .collect();
    let outcome = match (scale, dates) {
        (Some(scale), Ok((opens_on, closes_on))) if e.is_empty() => rt::create_round(
            &state.store,
            &f.auth.ctx(),
            &permit,
            &RoundInput {
                name: one("name"),
                scale,
                opens_on,
                closes_on,
                min_n,
                units,
            },
        )
        .await
        .map_err(AppError::from),
        (_, Err(AppError::Invalid(more))) => {
            e.0.extend(more.0);
            Err(AppError::Invalid(e))
        }
        (_, Err(other)) => Err(other),
        _ => Err(AppError::Invalid(e)),
    };
    match outcome {
        Ok(r) => Ok(see_other(&format!("/ratings/{}", r.id), "round_created")),
        Err(AppError::Invalid(errors)) => {
            list_page(
                &state,
                &f.auth,
                None,
                Filled {
                    values: pairs,
                    errors,
                },
            )
            .await
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "ratings/round.html")]
struct RoundPage {
    p: PageCtx,
    r: RoundResults,
    rows: Vec<Row>,
    names: std::collections::HashMap<Uuid, String>,
    can_answer: bool,
    public_link: String,
}

/// One unit's line, formatted for the table.
struct Row {
    rank: String,
    unit: String,
    n: u64,
    value: String,
    interval: String,
    low: f64,
    high: f64,
    p: f64,
    ranked: bool,
    levels: String,
}

fn rows(p: &PageCtx, r: &RoundResults) -> Vec<Row> {
    r.rows
        .iter()
        .map(|(u, x)| {
            let (value, low, high, pt) = match x.mean {
                Some(m) => (format!("{:.1}", m.mean), m.low, m.high, m.mean),
                None => (
                    format!("{:.1}%", x.satisfied.p * 100.0),
                    x.satisfied.low * 100.0,
                    x.satisfied.high * 100.0,
                    x.satisfied.p * 100.0,
                ),
            };
            let levels = match r.round.scale {
                Scale::ThreeLevel => Level::ALL
                    .iter()
                    .map(|l| {
                        let k = x
                            .counts
                            .iter()
                            .find(|c| c.0 == l.value())
                            .map_or(0, |c| c.1);
                        format!("{} {k}", p.label("rating_level", l.code()))
                    })
                    .collect::<Vec<_>>()
                    .join(" · "),
                Scale::Points100 => format!(
                    "{} {:.1}%",
                    p.t("rating.at_least_60"),
                    x.satisfied.p * 100.0
                ),
            };
            Row {
                rank: x.rank.map(|k| k.to_string()).unwrap_or_default(),
                unit: u.name.clone(),
                n: x.n,
                interval: if x.n == 0 {
                    String::new()
                } else {
                    format!("{low:.1} – {high:.1}")
                },
                value: if x.n == 0 { "—".into() } else { value },
                low,
                high,
                p: pt,
                ranked: x.rank.is_some(),
                levels,
            }
        })
        .collect()
}

/// A round's per-unit results; the office also sees the comment queue.
pub async fn round(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    let r = svc::results(&state, &auth, id).await?;
    let p = PageCtx::new(&auth, &state).with_flash(d.done.as_deref());
    let names = r.rows.iter().map(|(u, _)| (u.id, u.name.clone())).collect();
    let page = RoundPage {
        rows: rows(&p, &r),
        names,
        can_answer: auth.may(Action::AnswerSurveys),
        public_link: format!("/r/{id}"),
        p,
        r,
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize, Default)]
pub struct StateForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    version: i64,
}

pub async fn set_state(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<StateForm>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRatings>()?;
    let to = RoundState::parse(f.form.state.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?;
    rt::set_state(&state.store, &f.auth.ctx(), &permit, id, f.form.version, to).await?;
    Ok(see_other(
        &format!("/ratings/{id}"),
        &format!("round_{}", to.code()),
    ))
}

#[derive(serde::Deserialize, Default)]
pub struct ModerationForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    round_id: String,
}

pub async fn moderate(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<ModerationForm>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRatings>()?;
    let to = CommentState::parse(f.form.state.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?;
    rt::moderate(&state.store, &f.auth.ctx(), &permit, id, f.form.version, to).await?;
    let back = Uuid::parse_str(f.form.round_id.trim())
        .map(|r| format!("/ratings/{r}"))
        .unwrap_or_else(|_| "/ratings".into());
    Ok(see_other(&back, &format!("comment_{}", to.code())))
}

#[derive(Template)]
#[template(path = "ratings/rate.html")]
struct RatePage {
    p: PageCtx,
    round: Round,
    units: Vec<(Uuid, String)>,
    levels: [Level; 3],
    filled: Filled,
    public: bool,
    action: String,
}

async fn rate_page(
    state: &AppState,
    p: PageCtx,
    round: Round,
    public: bool,
    filled: Filled,
) -> AppResult<Response> {
    let units = rt::units(&state.store, round.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let action = if public {
        format!("/r/{}", round.id)
    } else {
        format!("/ratings/{}/entry", round.id)
    };
    let status = form_status(&filled.errors, false);
    let page = RatePage {
        p,
        round,
        units,
        levels: Level::ALL,
        filled,
        public,
        action,
    };
    Ok((status, render(&page)).into_response())
}

/// The interviewer's or clerk's rating form.
pub async fn entry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.permit::<may::AnswerSurveys>()?;
    let round = rt::round(&state.store, id).await?;
    let p = PageCtx::new(&auth, &state).with_flash(d.done.as_deref());
    let filled = Filled {
        values: vec![("channel".into(), "interview".into())],
        errors: FieldErrors::new(),
    };
    rate_page(&state, p, round, false, filled).await
}

fn raw<'a>(pairs: &'a [(String, String)], channel: Channel) -> Result<RawRating<'a>, FieldErrors> {
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(f, _)| f == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let unit_id = Uuid::parse_str(one("unit_id").trim())
        .map_err(|_| FieldErrors::single("unit_id", "required"))?;
    Ok(RawRating {
        unit_id,
        value: one("value"),
        comment: one("comment"),
        channel,
    })
}

fn errors_of(e: AppError) -> Result<FieldErrors, AppError> {
    match e {
        AppError::Invalid(f) => Ok(f),
        other => Err(other),
    }
}

pub async fn enter(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::AnswerSurveys>()?;
    let round = rt::round(&state.store, id).await?;
    let pairs = f.form;
    let channel = pairs
        .iter()
        .find(|(k, _)| k == "channel")
        .and_then(|(_, v)| Channel::parse(v.trim()))
        .filter(|c| *c != Channel::Public);
    let outcome = match (raw(&pairs, channel.unwrap_or(Channel::Interview)), channel) {
        (Ok(r), Some(_)) => svc::rate(&state, &permit, &round, &r, None).await,
        (Ok(_), None) => Err(FieldErrors::single("channel", "invalid_choice").into()),
        (Err(e), _) => Err(e.into()),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/ratings/{id}/entry"), "rating_saved")),
        Err(e) => {
            let errors = errors_of(e)?;
            let p = PageCtx::new(&f.auth, &state);
            rate_page(
                &state,
                p,
                round,
                false,
                Filled {
                    values: pairs,
                    errors,
                },
            )
            .await
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct UnitQuery {
    #[serde(default)]
    unit: Option<Uuid>,
}

/// The public rating page: no account; the phone's cookie marks each unit
/// it has rated in this round.
pub async fn public_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<UnitQuery>,
) -> AppResult<Response> {
    let round = rt::round(&state.store, id).await?;
    let path = format!("/r/{id}");
    if !round.takes_ratings(crate::service::today(&state)) {
        return Ok(public_note(
            lang,
            &path,
            round.name,
            "survey.public_closed",
            StatusCode::OK,
        ));
    }
    let existing = device_cookie(&headers);
    let device = existing
        .clone()
        .unwrap_or_else(|| wenming_store::accounts::random_hex(32));
    let mut p = PageCtx::anonymous(lang, &path);
    p.csrf = device.clone();
    let mut values = vec![];
    if let Some(u) = q.unit.filter(|u| round.units.contains(u)) {
        values.push(("unit_id".to_string(), u.to_string()));
    }
    let filled = Filled {
        values,
        errors: FieldErrors::new(),
    };
    let resp = rate_page(&state, p, round, true, filled).await?;
    Ok(with_device(
        &state,
        resp,
        existing.is_none().then_some(device.as_str()),
    ))
}

pub async fn public_rate(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let round = rt::round(&state.store, id).await?;
    let path = format!("/r/{id}");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&body).map_err(|_| AppError::Csrf)?;
    // The form carries the device's cookie back, as the public
    // questionnaire does: another site's page cannot read it.
    let device = device_cookie(&headers).ok_or(AppError::Csrf)?;
    if pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        != Some(device.as_str())
    {
        return Err(AppError::Csrf);
    }
    if !state.public_limiter.allow(peer.ip()) {
        return Ok(public_note(
            lang,
            &path,
            round.name,
            "survey.public_busy",
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let root = wenming_store::org::root_region(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    // No account rates here: the system's grant, after the page's own
    // checks (device, rate, the round open).
    let permit = Permit::<may::AnswerSurveys>::system(&root.path);
    let hash = crate::service::surveys::device_hash(&round.salt, &device);
    let outcome = match raw(&pairs, Channel::Public) {
        Ok(r) => svc::rate(&state, &permit, &round, &r, Some(&hash)).await,
        Err(e) => Err(e.into()),
    };
    let errors = match outcome {
        Ok(()) => {
            return Ok(public_note(
                lang,
                &path,
                round.name,
                "rating.public_thanks",
                StatusCode::OK,
            ));
        }
        Err(e) => errors_of(e)?,
    };
    let key = match () {
        _ if errors.for_field("device").is_some() => Some("rating.public_again"),
        _ if errors.for_field("round").is_some() => Some("survey.public_closed"),
        _ => None,
    };
    if let Some(key) = key {
        return Ok(public_note(
            lang,
            &path,
            round.name,
            key,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let mut p = PageCtx::anonymous(lang, &path);
    p.csrf = device;
    rate_page(
        &state,
        p,
        round,
        true,
        Filled {
            values: pairs,
            errors,
        },
    )
    .await
}

/// A poster a unit (for its service window): the round's public page for
/// that unit as a QR code, to print.
pub async fn posters(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.permit::<may::ManageRatings>()?;
    let round = rt::round(&state.store, id).await?;
    let links = rt::units(&state.store, id)
        .await?
        .into_iter()
        .map(|u| (u.name, format!("/r/{id}?unit={}", u.id)))
        .collect();
    Ok(crate::routes::posters::page(
        PageCtx::new(&auth, &state),
        &crate::routes::posters::base_url(&state, &headers),
        round.name,
        links,
        "poster.rating_call",
        format!("/ratings/{id}"),
    ))
}
