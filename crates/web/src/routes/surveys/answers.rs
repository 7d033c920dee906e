//! The questionnaire as a form: the entry page interviewers and clerks fill,
//! and the public link residents answer without an account.

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
use std::net::SocketAddr;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Permit, may};
use wenming_domain::survey::{AgeBand, Group, QuestionnaireDoc, Sex};
use wenming_store::survey::{self as sv, Channel, NewResponse, Wave};

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
    /// The interviewer's offline page: what its script needs.
    offline: Option<Offline>,
}

/// The interviewer's page keeps what is entered on the phone until it can
/// be sent (static/interview.js).
pub struct Offline {
    user_id: String,
    /// The script's words, as JSON.
    strings: String,
}

/// Keys of the words the interviewer's script shows.
const OFFLINE_STRINGS: &[(&str, &str)] = &[
    ("all_sent", "survey.offline_all_sent"),
    ("waiting", "survey.offline_waiting"),
    ("refused", "survey.offline_refused"),
];

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
        offline: None,
    };
    Ok((status, render(&page)).into_response())
}

/// The interviewer's page for the street or the door: the same form, kept
/// on the phone by the service worker, with what is entered waiting in
/// the phone's outbox until the network is back.
pub async fn interview(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.permit::<may::AnswerSurveys>()?;
    let wave = sv::wave(&state.store, id).await?;
    let q = sv::questionnaire(&state.store, wave.questionnaire_id).await?;
    let names = svc::region_names(&state).await?;
    let mut communities: Vec<(Uuid, String)> = wave
        .regions
        .iter()
        .map(|r| (*r, names.get(r).map(|n| n.0.clone()).unwrap_or_default()))
        .collect();
    communities.sort_by(|a, b| a.1.cmp(&b.1));
    let strings: serde_json::Map<String, serde_json::Value> = OFFLINE_STRINGS
        .iter()
        .map(|(k, key)| ((*k).to_string(), crate::i18n::t(auth.lang, key).into()))
        .collect();
    let page = EntryPage {
        p: PageCtx::new(&auth, &state),
        doc: q.doc,
        action: format!("/surveys/waves/{id}/entry"),
        wave,
        communities,
        filled: Filled {
            values: vec![("channel".into(), "interview".into())],
            errors: FieldErrors::new(),
        },
        groups: Group::ALL,
        ages: AgeBand::ALL,
        sexes: Sex::ALL,
        public: None,
        offline: Some(Offline {
            user_id: auth.user.id.to_string(),
            strings: serde_json::Value::Object(strings).to_string(),
        }),
    };
    // The offline shell: kept by the browser for this person only (it
    // carries their CSRF token).
    let mut r = render(&page);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(r)
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

#[derive(serde::Deserialize, Default)]
pub struct ContactForm {
    #[serde(default)]
    region_id: String,
    #[serde(default)]
    disposition: String,
}

/// A contact that gave no questionnaire (refused, nobody home ...).
pub async fn contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<ContactForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::AnswerSurveys>()?;
    let wave = sv::wave(&state.store, id).await?;
    let mut e = FieldErrors::new();
    let region = Uuid::parse_str(f.form.region_id.trim()).ok();
    if region.is_none() {
        e.add("contact_region_id", "required");
    }
    let d = wenming_domain::survey::Disposition::parse(f.form.disposition.trim());
    if d.is_none() {
        e.add("disposition", "required");
    }
    if let (Some(region), Some(d)) = (region, d) {
        match sv::record_contact(
            &state.store,
            &permit,
            id,
            region,
            d,
            crate::service::today(&state),
        )
        .await
        {
            Ok(()) => {
                return Ok(see_other(
                    &format!("/surveys/waves/{id}/entry"),
                    "contact_saved",
                ));
            }
            Err(wenming_store::StoreError::Invalid(more)) => e.0.extend(more.0),
            Err(other) => return Err(other.into()),
        }
    }
    let p = PageCtx::new(&auth, &state);
    entry_page(
        &state,
        p,
        wave,
        None,
        Filled {
            values: vec![("channel".into(), "interview".into())],
            errors: e,
        },
    )
    .await
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

pub(crate) fn device_cookie(headers: &HeaderMap) -> Option<String> {
    auth::cookie(headers, DEVICE_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn with_device(state: &AppState, mut resp: Response, new: Option<&str>) -> Response {
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

/// A public page's last word (thanks, closed, already answered).
pub(crate) fn public_note(
    lang: Lang,
    path: &str,
    title: String,
    key: &str,
    status: StatusCode,
) -> Response {
    let page = PublicDone {
        p: PageCtx::anonymous(lang, path),
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
            lang,
            &format!("/s/{}", wave.id),
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
            lang,
            &format!("/s/{}", wave.id),
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
            let hash = svc::device_hash(&wave.salt, &device);
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
                        lang,
                        &format!("/s/{}", wave.id),
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
                            lang,
                            &format!("/s/{}", wave.id),
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
