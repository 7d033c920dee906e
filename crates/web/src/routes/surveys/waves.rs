//! A wave's form, its page with the plan, links and results, its state and its workbook.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use crate::routes::{Done, see_other};
use crate::service::surveys::{self as svc};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, may};
use wenming_store::survey::{self as sv, Questionnaire, Wave, WaveState};

#[derive(Template)]
#[template(path = "surveys/wave_form.html")]
struct WaveFormPage {
    p: PageCtx,
    questionnaires: Vec<Questionnaire>,
    communities: Vec<(Uuid, String, Option<u64>)>,
    form: WaveForm,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default, Clone)]
pub struct WaveForm {
    #[serde(default)]
    questionnaire_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    closes_on: String,
    #[serde(default)]
    margin: String,
    #[serde(default)]
    min_n: String,
    #[serde(default)]
    clustered: Option<String>,
    #[serde(default)]
    per_community: Option<String>,
    /// Community ids, comma-joined by the form's checkboxes (read from the
    /// raw pairs).
    #[serde(skip)]
    regions: Vec<Uuid>,
}

async fn wave_form_page(
    state: &AppState,
    auth: &Auth,
    form: WaveForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let root = wenming_store::org::root_region(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut communities: Vec<(Uuid, String, Option<u64>)> = wenming_store::org::list_regions(
        &state.store,
        &wenming_domain::policy::Scope::everything(&root.path),
    )
    .await?
    .into_iter()
    .filter(|r| r.level == wenming_domain::org::RegionLevel::Community)
    .map(|r| (r.id, r.name, r.population))
    .collect();
    communities.sort_by(|a, b| a.1.cmp(&b.1));
    let page = WaveFormPage {
        p: PageCtx::new(auth, state),
        questionnaires: sv::questionnaires(&state.store)
            .await?
            .into_iter()
            .filter(|q| q.published_at.is_some())
            .collect(),
        communities,
        form,
        errors: errors.clone(),
    };
    Ok((form_status(&errors, false), render(&page)).into_response())
}

pub async fn new_wave(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.permit::<may::ManageSurveys>()?;
    let today = crate::service::today(&state);
    let form = WaveForm {
        opens_on: today.to_string(),
        closes_on: today
            .checked_add(jiff::Span::new().days(30))
            .unwrap_or(today)
            .to_string(),
        margin: "5".into(),
        min_n: "30".into(),
        clustered: Some("on".into()),
        ..Default::default()
    };
    wave_form_page(&state, &auth, form, FieldErrors::new()).await
}

pub async fn create_wave(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageSurveys>()?;
    let pairs = f.form;
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let form = WaveForm {
        questionnaire_id: one("questionnaire_id"),
        name: one("name"),
        opens_on: one("opens_on"),
        closes_on: one("closes_on"),
        margin: one("margin"),
        min_n: one("min_n"),
        clustered: pairs
            .iter()
            .any(|(k, _)| k == "clustered")
            .then(|| "on".into()),
        per_community: pairs
            .iter()
            .any(|(k, _)| k == "per_community")
            .then(|| "on".into()),
        regions: pairs
            .iter()
            .filter(|(k, _)| k == "regions")
            .filter_map(|(_, v)| Uuid::parse_str(v).ok())
            .collect(),
    };
    let mut e = FieldErrors::new();
    let qid = Uuid::parse_str(form.questionnaire_id.trim()).ok();
    if qid.is_none() {
        e.add("questionnaire_id", "required");
    }
    let margin = form
        .margin
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|m| (1.0..=20.0).contains(m));
    if margin.is_none() {
        e.add("margin", "margin_out_of_range");
    }
    let min_n = form.min_n.trim().parse::<i64>().ok();
    if min_n.is_none() {
        e.add("min_n", "invalid_number");
    }
    let dates = svc::parse_dates(&form.opens_on, &form.closes_on);
    if let Err(AppError::Invalid(d)) = &dates {
        e.0.extend(d.0.clone());
    }
    let (Some(qid), Some(margin), Some(min_n), Ok((opens_on, closes_on))) =
        (qid, margin, min_n, dates)
    else {
        return wave_form_page(&state, &auth, form, e).await;
    };
    let made = sv::create_wave(
        &state.store,
        &auth.ctx(),
        &permit,
        &sv::NewWave {
            questionnaire_id: qid,
            name: form.name.clone(),
            opens_on,
            closes_on,
            margin_permille: (margin * 10.0).round() as i64,
            min_n,
            clustered: form.clustered.is_some(),
            per_community: form.per_community.is_some(),
            regions: form.regions.clone(),
        },
    )
    .await;
    match made {
        Ok(w) => Ok(see_other(&format!("/surveys/waves/{}", w.id), "created")),
        Err(wenming_store::StoreError::Invalid(e)) => wave_form_page(&state, &auth, form, e).await,
        Err(e) => Err(e.into()),
    }
}

/// One rate's line of the results table.
pub struct RateLine {
    pub region: String,
    pub level: String,
    pub n: u64,
    pub ranked: bool,
    pub pct: String,
    pub interval: String,
    pub weighted: String,
    pub change: String,
    pub beyond_noise: Option<bool>,
    /// Bar from low to high on a 0-100 scale, for the SVG.
    pub low: f64,
    pub high: f64,
    pub p: f64,
}

pub struct RateTable {
    pub question: String,
    pub text: String,
    pub rate: String,
    pub lines: Vec<RateLine>,
}

#[derive(Template)]
#[template(path = "surveys/wave.html")]
struct WavePage {
    p: PageCtx,
    wave: Wave,
    questionnaire: Questionnaire,
    quotas: Vec<sv::Quota>,
    links: Vec<(Uuid, String, i64, i64)>,
    tables: Vec<RateTable>,
    charts: Vec<Chart>,
    /// The whole wave first (empty name), then each community with contacts.
    response: Vec<ResponseLine>,
    previous: Option<String>,
    can_manage: bool,
    can_answer: bool,
}

/// A line of the response-rate table.
pub struct ResponseLine {
    pub region: String,
    pub d: wenming_domain::survey::stats::Dispositions,
    pub rr1: String,
    pub rr3: String,
}

fn response_line(region: String, d: &wenming_domain::survey::stats::Dispositions) -> ResponseLine {
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
    ResponseLine {
        region,
        d: *d,
        rr1: pct(d.rr1()),
        rr3: pct(d.rr3(d.eligible_share())),
    }
}

/// A question's answers over the whole wave, as bars.
pub struct Chart {
    pub question: String,
    pub text: String,
    /// (answer, how many, share in percent)
    pub bars: Vec<(String, u64, f64)>,
}

/// Bars of the city-wide distribution of each choice and scale question.
fn charts(r: &svc::WaveResults) -> Vec<Chart> {
    let city = r
        .names
        .iter()
        .find(|(_, (_, level))| level == "city")
        .map(|(id, _)| *id);
    r.doc
        .questions
        .iter()
        .filter_map(|q| {
            let d = r
                .results
                .distributions
                .iter()
                .find(|d| d.question == q.code && Some(d.region_id) == city)?;
            let answered: u64 = d.counts.iter().map(|c| c.1).sum();
            let label = |v: &str| {
                q.choices
                    .iter()
                    .find(|c| c.code == v)
                    .map_or(v.to_string(), |c| c.label.clone())
            };
            let mut bars: Vec<(String, u64, f64)> = d
                .counts
                .iter()
                .map(|(v, n)| (label(v), *n, *n as f64 * 100.0 / answered.max(1) as f64))
                .collect();
            if q.choices.is_empty() {
                bars.sort_by_key(|b| b.0.parse::<u32>().unwrap_or(u32::MAX));
            }
            Some(Chart {
                question: q.code.clone(),
                text: q.text.clone(),
                bars,
            })
        })
        .collect()
}

fn pct(v: f64) -> String {
    format!("{:.1}", v * 100.0)
}

pub async fn wave(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewSurveys)?;
    let r = svc::results(&state, id).await?;
    let questionnaire = sv::questionnaire(&state.store, r.wave.questionnaire_id).await?;
    let quotas = sv::quotas(&state.store, id).await?;
    let mut links: BTreeMap<Uuid, (String, i64, i64)> = BTreeMap::new();
    for q in &quotas {
        let e = links
            .entry(q.region_id)
            .or_insert((q.region_name.clone(), 0, 0));
        e.1 += q.filled;
        e.2 += q.target;
    }
    let mut links: Vec<(Uuid, String, i64, i64)> = links
        .into_iter()
        .map(|(k, (n, f, t))| (k, n, f, t))
        .collect();
    links.sort_by(|a, b| a.1.cmp(&b.1));
    let level_rank = |l: &str| match l {
        "city" => 0,
        "district" => 1,
        "street" => 2,
        _ => 3,
    };
    let lang = auth.lang;
    let mut tables = vec![];
    for q in r.doc.questions.iter().filter(|q| q.rate.is_some()) {
        let mut lines: Vec<RateLine> = r
            .results
            .rates
            .iter()
            .filter(|x| x.question == q.code && x.group.is_none())
            .map(|x| {
                let (name, level) = r.names.get(&x.region_id).cloned().unwrap_or_default();
                let ch = r.changes.get(&(q.code.clone(), x.region_id));
                RateLine {
                    region: name,
                    level,
                    n: x.n,
                    ranked: x.ranked,
                    pct: pct(x.estimate.p),
                    interval: format!("{}–{}", pct(x.estimate.low), pct(x.estimate.high)),
                    weighted: x.weighted.as_ref().map_or(String::new(), |w| {
                        format!(
                            "{} ({}–{}) n≈{:.0}",
                            pct(w.estimate.p),
                            pct(w.estimate.low),
                            pct(w.estimate.high),
                            w.estimate.n
                        )
                    }),
                    change: ch.map_or(String::new(), |c| {
                        format!(
                            "{:+.1} ({:+.1}…{:+.1})",
                            c.diff * 100.0,
                            c.low * 100.0,
                            c.high * 100.0
                        )
                    }),
                    beyond_noise: ch.map(|c| c.beyond_noise()),
                    low: x.estimate.low * 100.0,
                    high: x.estimate.high * 100.0,
                    p: x.estimate.p * 100.0,
                }
            })
            .collect();
        lines.sort_by(|a, b| {
            level_rank(&a.level)
                .cmp(&level_rank(&b.level))
                .then(b.ranked.cmp(&a.ranked))
                .then(b.p.total_cmp(&a.p))
        });
        tables.push(RateTable {
            question: q.code.clone(),
            text: q.text.clone(),
            rate: crate::i18n::t(
                lang,
                &format!(
                    "survey_rate.{}",
                    q.rate.as_ref().map_or("", |x| x.kind.code())
                ),
            )
            .to_string(),
            lines,
        });
    }
    let charts = charts(&r);
    let mut response = vec![response_line(String::new(), &r.all_dispositions)];
    response.extend(
        r.dispositions.iter().map(|(id, d)| {
            response_line(r.names.get(id).map(|n| n.0.clone()).unwrap_or_default(), d)
        }),
    );
    let page = WavePage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        charts,
        response,
        previous: r.previous.as_ref().map(|p| p.name.clone()),
        wave: r.wave,
        questionnaire,
        quotas,
        links,
        tables,
        can_manage: auth.may(Action::ManageSurveys),
        can_answer: auth.may(Action::AnswerSurveys),
    };
    Ok(render(&page))
}

/// The wave's results and anonymous answers as a workbook.
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    svc::export(&state, &auth, id).await
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
    let permit = f.auth.permit::<may::ManageSurveys>()?;
    let to = WaveState::parse(f.form.state.trim())
        .ok_or_else(|| AppError::from(FieldErrors::single("state", "invalid_choice")))?;
    sv::set_state(&state.store, &f.auth.ctx(), &permit, id, f.form.version, to).await?;
    Ok(see_other(&format!("/surveys/waves/{id}"), to.code()))
}

/// A poster a community: the wave's public link as a QR code, to print.
pub async fn posters(
    State(state): State<AppState>,
    auth: Auth,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.permit::<may::ManageSurveys>()?;
    let wave = sv::wave(&state.store, id).await?;
    let names = svc::region_names(&state).await?;
    let mut links: Vec<(String, String)> = wave
        .regions
        .iter()
        .map(|r| {
            (
                names.get(r).map(|n| n.0.clone()).unwrap_or_default(),
                format!("/s/{id}/{r}"),
            )
        })
        .collect();
    links.sort();
    Ok(crate::routes::posters::page(
        PageCtx::new(&auth, &state),
        &crate::routes::posters::base_url(&state, &headers),
        wave.name,
        links,
        "poster.survey_call",
        format!("/surveys/waves/{id}"),
    ))
}
