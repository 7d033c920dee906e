//! Survey pages: the office's questionnaires and waves with their plans
//! and results, the entry form interviewers and clerks fill, and the public
//! link residents answer on their phones without an account.

use crate::AppState;
use crate::auth::{self, Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::i18n::Lang;
use crate::page::{PageCtx, form_status, render};
use crate::routes::{Done, see_other};
use crate::service::surveys::{self as svc, DEVICE_COOKIE};
use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, Permit, may};
use wenming_domain::survey::{AgeBand, Group, QuestionnaireDoc, Sex};
use wenming_store::survey::{self as sv, Channel, NewResponse, Questionnaire, Wave, WaveState};

#[derive(Template)]
#[template(path = "surveys/list.html")]
struct ListPage {
    p: PageCtx,
    questionnaires: Vec<Questionnaire>,
    waves: Vec<Wave>,
    titles: HashMap<Uuid, String>,
    can_manage: bool,
    errors: FieldErrors,
    design: String,
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    flash: Option<&str>,
    errors: FieldErrors,
    design: String,
) -> AppResult<Response> {
    auth.scope(Action::ViewSurveys)?;
    let questionnaires = sv::questionnaires(&state.store).await?;
    let titles = questionnaires
        .iter()
        .map(|q| (q.id, format!("{} · v{}", q.title, q.version_no)))
        .collect();
    let page = ListPage {
        p: PageCtx::new(auth, state).with_flash(flash),
        waves: sv::waves(&state.store).await?,
        questionnaires,
        titles,
        can_manage: auth.may(Action::ManageSurveys),
        design,
        errors: errors.clone(),
    };
    Ok((form_status(&errors, false), render(&page)).into_response())
}

/// Waves and questionnaires.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    list_page(
        &state,
        &auth,
        d.done.as_deref(),
        FieldErrors::new(),
        String::new(),
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct DesignForm {
    #[serde(default)]
    design: String,
}

/// A questionnaire from its design as JSON (the export of another).
pub async fn create_questionnaire(
    State(state): State<AppState>,
    f: CsrfForm<DesignForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageSurveys>()?;
    let doc: Result<QuestionnaireDoc, _> = serde_json::from_str(&f.form.design);
    let outcome: Result<(), FieldErrors> = match doc {
        Err(_) => Err(FieldErrors::single("design", "malformed")),
        Ok(doc) => match sv::create(&state.store, &auth.ctx(), &permit, &doc).await {
            Ok(q) => {
                return Ok(see_other(
                    &format!("/surveys/questionnaires/{}", q.id),
                    "created",
                ));
            }
            Err(wenming_store::StoreError::Invalid(e)) => Err(e),
            Err(e) => return Err(e.into()),
        },
    };
    let errors = outcome.err().unwrap_or_default();
    list_page(&state, &auth, None, errors, f.form.design).await
}

#[derive(Template)]
#[template(path = "surveys/questionnaire.html")]
struct QuestionnairePage {
    p: PageCtx,
    q: Questionnaire,
    json: String,
    can_manage: bool,
}

pub async fn questionnaire(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewSurveys)?;
    let q = sv::questionnaire(&state.store, id).await?;
    let page = QuestionnairePage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        json: serde_json::to_string_pretty(&q.doc).unwrap_or_default(),
        q,
        can_manage: auth.may(Action::ManageSurveys),
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize, Default)]
pub struct VersionForm {
    #[serde(default)]
    version: i64,
}

pub async fn publish(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<VersionForm>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageSurveys>()?;
    sv::publish(&state.store, &f.auth.ctx(), &permit, id, f.form.version).await?;
    Ok(see_other(
        &format!("/surveys/questionnaires/{id}"),
        "published",
    ))
}

/// The next version of a published questionnaire, as a draft.
pub async fn next_version(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<VersionForm>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageSurveys>()?;
    let q = sv::next_version(
        &state.store,
        &f.auth.ctx(),
        &permit,
        id,
        f.form.version,
        None,
    )
    .await?;
    Ok(see_other(
        &format!("/surveys/questionnaires/{}", q.id),
        "created",
    ))
}

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
    let names = svc::region_names(state).await?;
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
    drop(names);
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
    previous: Option<String>,
    can_manage: bool,
    can_answer: bool,
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
    let page = WavePage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
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

/// What the questionnaire form shows: the questions, the respondent's
/// fields, what was filled in and what is wrong.
pub struct Filled {
    pub values: Vec<(String, String)>,
    pub errors: FieldErrors,
}

impl Filled {
    pub fn has(&self, key: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == key && v == value)
    }
    pub fn get(&self, key: &str) -> String {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "surveys/entry.html")]
struct EntryPage {
    p: PageCtx,
    wave: Wave,
    doc: QuestionnaireDoc,
    communities: Vec<(Uuid, String)>,
    filled: Filled,
    groups: [Group; 4],
    ages: [AgeBand; 4],
    sexes: [Sex; 2],
    /// The public link: no account, the community fixed by the link.
    public: Option<Uuid>,
    action: String,
}

async fn entry_page(
    state: &AppState,
    p: PageCtx,
    wave: Wave,
    public: Option<Uuid>,
    filled: Filled,
) -> AppResult<Response> {
    let q = sv::questionnaire(&state.store, wave.questionnaire_id).await?;
    let names = svc::region_names(state).await?;
    let mut communities: Vec<(Uuid, String)> = wave
        .regions
        .iter()
        .map(|r| (*r, names.get(r).map(|n| n.0.clone()).unwrap_or_default()))
        .collect();
    communities.sort_by(|a, b| a.1.cmp(&b.1));
    let action = match public {
        Some(r) => format!("/s/{}/{r}", wave.id),
        None => format!("/surveys/waves/{}/entry", wave.id),
    };
    let status = form_status(&filled.errors, false);
    let page = EntryPage {
        p,
        doc: q.doc,
        wave,
        communities,
        filled,
        groups: Group::ALL,
        ages: AgeBand::ALL,
        sexes: Sex::ALL,
        public,
        action,
    };
    Ok((status, render(&page)).into_response())
}

/// The form interviewers and clerks fill for each questionnaire.
pub async fn entry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.permit::<may::AnswerSurveys>()?;
    let wave = sv::wave(&state.store, id).await?;
    let p = PageCtx::new(&auth, &state).with_flash(d.done.as_deref());
    let filled = Filled {
        values: vec![("channel".into(), "paper".into())],
        errors: FieldErrors::new(),
    };
    entry_page(&state, p, wave, None, filled).await
}

pub async fn enter(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::AnswerSurveys>()?;
    let wave = sv::wave(&state.store, id).await?;
    let q = sv::questionnaire(&state.store, wave.questionnaire_id).await?;
    let pairs = f.form;
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let region = one("region_id").and_then(|v| Uuid::parse_str(&v).ok());
    let channel = one("channel")
        .and_then(|c| Channel::parse(&c))
        .filter(|c| *c != Channel::Public);
    let read = svc::read_form(&q.doc, &pairs, None);
    let outcome = match (read, region, channel) {
        (Ok((who, answers)), Some(region_id), Some(channel)) => {
            let r = NewResponse {
                wave_id: id,
                region_id,
                group: who.group,
                age_band: who.age_band,
                sex: who.sex,
                channel,
                answers,
            };
            sv::submit(&state.store, &permit, &r, crate::service::today(&state))
                .await
                .map_err(|e| match e {
                    wenming_store::StoreError::Invalid(e) => Ok(e),
                    other => Err(other),
                })
        }
        (read, region, channel) => {
            let mut e = read.err().unwrap_or_default();
            if region.is_none() {
                e.add("region_id", "required");
            }
            if channel.is_none() {
                e.add("channel", "invalid_choice");
            }
            Err(Ok(e))
        }
    };
    match outcome {
        Ok(()) => Ok(see_other(
            &format!("/surveys/waves/{id}/entry"),
            "answer_saved",
        )),
        Err(Ok(errors)) => {
            let p = PageCtx::new(&auth, &state);
            entry_page(
                &state,
                p,
                wave,
                None,
                Filled {
                    values: pairs,
                    errors,
                },
            )
            .await
        }
        Err(Err(e)) => Err(e.into()),
    }
}

fn device_cookie(headers: &HeaderMap) -> Option<String> {
    auth::cookie(headers, DEVICE_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn with_device(state: &AppState, mut resp: Response, new: Option<&str>) -> Response {
    if let Some(v) = new
        && let Ok(h) = HeaderValue::from_str(&auth::set_cookie(
            DEVICE_COOKIE,
            v,
            Some(400 * 24 * 3600),
            state.config.secure_cookies,
        ))
    {
        resp.headers_mut().append(header::SET_COOKIE, h);
    }
    resp
}

#[derive(Template)]
#[template(path = "surveys/public_done.html")]
struct PublicDone {
    p: PageCtx,
    title: String,
    message: &'static str,
}

fn public_note(
    state: &AppState,
    lang: Lang,
    wave: &Wave,
    title: String,
    key: &str,
    status: StatusCode,
) -> Response {
    let _ = state;
    let page = PublicDone {
        p: PageCtx::anonymous(lang, &format!("/s/{}", wave.id)),
        title,
        message: crate::i18n::t(lang, key),
    };
    (status, render(&page)).into_response()
}

/// The public questionnaire of one community: no account; the phone gets
/// a cookie whose salted hash marks it as having answered.
pub async fn public_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ApiPath((wave_id, region_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let wave = sv::wave(&state.store, wave_id).await?;
    if !wave.regions.contains(&region_id) {
        return Err(AppError::NotFound);
    }
    let q = sv::questionnaire(&state.store, wave.questionnaire_id).await?;
    if !wave.takes_answers(crate::service::today(&state)) {
        return Ok(public_note(
            &state,
            lang,
            &wave,
            q.title,
            "survey.public_closed",
            StatusCode::OK,
        ));
    }
    let existing = device_cookie(&headers);
    let device = existing
        .clone()
        .unwrap_or_else(|| wenming_store::accounts::random_hex(32));
    let mut p = PageCtx::anonymous(lang, &format!("/s/{wave_id}/{region_id}"));
    p.csrf = device.clone();
    let filled = Filled {
        values: vec![("group".into(), "residents".into())],
        errors: FieldErrors::new(),
    };
    let resp = entry_page(&state, p, wave, Some(region_id), filled).await?;
    Ok(with_device(
        &state,
        resp,
        existing.is_none().then_some(device.as_str()),
    ))
}

pub async fn public_answer(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath((wave_id, region_id)): ApiPath<(Uuid, Uuid)>,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let wave = sv::wave(&state.store, wave_id).await?;
    if !wave.regions.contains(&region_id) {
        return Err(AppError::NotFound);
    }
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&body).map_err(|_| AppError::Csrf)?;
    // The form carries the device's cookie back: a page of another site
    // cannot read it, so cannot post for the phone.
    let device = device_cookie(&headers).ok_or(AppError::Csrf)?;
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    if token != Some(device.as_str()) {
        return Err(AppError::Csrf);
    }
    let q = sv::questionnaire(&state.store, wave.questionnaire_id).await?;
    if !state.public_limiter.allow(peer.ip()) {
        return Ok(public_note(
            &state,
            lang,
            &wave,
            q.title,
            "survey.public_busy",
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let read = svc::read_form(&q.doc, &pairs, None);
    let errors = match read {
        Ok((who, answers)) => {
            let r = NewResponse {
                wave_id,
                region_id,
                group: who.group,
                age_band: who.age_band,
                sex: who.sex,
                channel: Channel::Public,
                answers,
            };
            let root = wenming_store::org::root_region(&state.store)
                .await?
                .ok_or(AppError::NotFound)?;
            // No account answers here: the system's grant, after the
            // link's own checks (device, rate, the wave open).
            let permit = Permit::<may::AnswerSurveys>::system(&root.path);
            let hash = svc::device_hash(&wave, &device);
            match sv::submit_public(
                &state.store,
                &permit,
                &r,
                &hash,
                crate::service::today(&state),
            )
            .await
            {
                Ok(()) => {
                    return Ok(public_note(
                        &state,
                        lang,
                        &wave,
                        q.title,
                        "survey.public_thanks",
                        StatusCode::OK,
                    ));
                }
                Err(wenming_store::StoreError::Invalid(e)) => {
                    let key = match () {
                        _ if e.for_field("device").is_some() => Some("survey.public_again"),
                        _ if e.for_field("wave").is_some() => Some("survey.public_closed"),
                        _ if e.for_field("quota").is_some() => Some("survey.public_full"),
                        _ => None,
                    };
                    if let Some(key) = key {
                        return Ok(public_note(
                            &state,
                            lang,
                            &wave,
                            q.title,
                            key,
                            StatusCode::UNPROCESSABLE_ENTITY,
                        ));
                    }
                    e
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => e,
    };
    let mut p = PageCtx::anonymous(lang, &format!("/s/{wave_id}/{region_id}"));
    p.csrf = device;
    entry_page(
        &state,
        p,
        wave,
        Some(region_id),
        Filled {
            values: pairs,
            errors,
        },
    )
    .await
}
