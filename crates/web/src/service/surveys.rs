//! Surveys as pages and the API share them: a wave's results with the
//! change since the wave before, answers read from a form, and the public
//! link's device and rate checks.

use crate::AppState;
use crate::error::{AppError, AppResult};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::survey::results::{Results, compute};
use wenming_domain::survey::stats::{Change, Dispositions, change};
use wenming_domain::survey::{
    AgeBand, Answer, Disposition, Group, QuestionKind, QuestionnaireDoc, Sex,
};
use wenming_store::survey::{self as sv, Wave};

/// The cookie a phone keeps for the public link; only its salted hash is
/// stored, apart from the answers.
pub const DEVICE_COOKIE: &str = "wm_device";

/// A wave's results, its region names, and for each rate and region the
/// change since the previous wave of the same questionnaire series.
pub struct WaveResults {
    pub wave: Wave,
    pub doc: QuestionnaireDoc,
    pub results: std::sync::Arc<Results>,
    pub names: HashMap<Uuid, (String, String)>,
    pub previous: Option<Wave>,
    /// (question, region) → change of the all-groups rate.
    pub changes: HashMap<(String, Uuid), Change>,
    /// Each community's contact dispositions, and the wave's in total.
    pub dispositions: Vec<(Uuid, Dispositions)>,
    pub all_dispositions: Dispositions,
}

/// The results of closed waves, computed once: a closed wave takes no more
/// answers, so its tallies (and so its results) are final. Each is kept
/// with how many answers the wave had, read again every time, so that an
/// answer whose transaction committed just after the close is never
/// missed. Per process, a few dozen waves at most; contacts and region
/// names, which can still change, are read afresh each time.
#[derive(Default)]
pub struct ClosedResults {
    kept: Mutex<HashMap<(Uuid, i64), std::sync::Arc<Results>>>,
}

/// How many closed waves' results a process keeps.
const CLOSED_KEPT: usize = 64;

impl ClosedResults {
    fn get(&self, wave: (Uuid, i64)) -> Option<std::sync::Arc<Results>> {
        self.kept.lock().ok()?.get(&wave).cloned()
    }
    fn put(&self, wave: (Uuid, i64), r: std::sync::Arc<Results>) {
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() >= CLOSED_KEPT {
                kept.clear();
            }
            kept.insert(wave, r);
        }
    }
}

async fn compute_wave(
    state: &AppState,
    wave: &Wave,
) -> AppResult<(QuestionnaireDoc, std::sync::Arc<Results>)> {
    let q = sv::questionnaire(&state.store, wave.questionnaire_id).await?;
    let key = if wave.state == sv::WaveState::Closed {
        Some((wave.id, sv::answered(&state.store, wave.id).await?))
    } else {
        None
    };
    if let Some(r) = key.and_then(|k| state.closed_results.get(k)) {
        return Ok((q.doc, r));
    }
    let t = sv::tallies(&state.store, wave.id).await?;
    let r = compute(
        &q.doc,
        &t.rates,
        &t.answers,
        &t.strata,
        &t.above,
        wave.min_n.max(0) as u64,
        wave.clustered,
    );
    let r = std::sync::Arc::new(r);
    if let Some(k) = key {
        state.closed_results.put(k, r.clone());
    }
    Ok((q.doc, r))
}

pub async fn results(state: &AppState, wave_id: Uuid) -> AppResult<WaveResults> {
    let wave = sv::wave(&state.store, wave_id).await?;
    let (doc, results) = compute_wave(state, &wave).await?;
    let series = sv::questionnaire(&state.store, wave.questionnaire_id)
        .await?
        .series_id;
    // The latest wave of the same series that opened before this one.
    let mut previous = None;
    for w in sv::waves(&state.store).await? {
        if w.id == wave.id || w.opens_on >= wave.opens_on {
            continue;
        }
        let s = sv::questionnaire(&state.store, w.questionnaire_id)
            .await?
            .series_id;
        if s == series
            && previous
                .as_ref()
                .is_none_or(|p: &Wave| w.opens_on > p.opens_on)
        {
            previous = Some(w);
        }
    }
    let mut changes = HashMap::new();
    if let Some(p) = &previous {
        let (_, before) = compute_wave(state, p).await?;
        let key =
            |r: &wenming_domain::survey::results::RateResult| (r.question.clone(), r.region_id);
        let old: HashMap<_, _> = before
            .rates
            .iter()
            .filter(|r| r.group.is_none())
            .map(|r| (key(r), r))
            .collect();
        for r in results.rates.iter().filter(|r| r.group.is_none()) {
            if let Some(o) = old.get(&key(r))
                && r.n > 0
                && o.n > 0
            {
                changes.insert(
                    key(r),
                    change((r.estimate.p, r.n as f64), (o.estimate.p, o.n as f64)),
                );
            }
        }
    }
    let names = region_names(state).await?;
    let by_region = sv::dispositions(&state.store, wave_id).await?;
    let mut all_dispositions = Dispositions::default();
    for d in by_region.values() {
        for (k, n) in [
            (Disposition::Complete, d.complete),
            (Disposition::Partial, d.partial),
            (Disposition::Refusal, d.refusal),
            (Disposition::NonContact, d.non_contact),
            (Disposition::Other, d.other),
            (Disposition::Unknown, d.unknown),
            (Disposition::NotEligible, d.not_eligible),
        ] {
            all_dispositions.add(k, n);
        }
    }
    Ok(WaveResults {
        dispositions: by_region.into_iter().collect(),
        all_dispositions,
        wave,
        doc,
        results,
        names,
        previous,
        changes,
    })
}

/// Every region's name and level code.
pub async fn region_names(state: &AppState) -> AppResult<HashMap<Uuid, (String, String)>> {
    let root = wenming_store::org::root_region(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let all = wenming_store::org::list_regions(
        &state.store,
        &wenming_domain::policy::Scope::everything(&root.path),
    )
    .await?;
    Ok(all
        .into_iter()
        .map(|r| (r.id, (r.name, r.level.code().to_string())))
        .collect())
}

/// A wave's period as the API and the wave form read it.
pub fn parse_dates(opens: &str, closes: &str) -> AppResult<(jiff::civil::Date, jiff::civil::Date)> {
    let mut e = FieldErrors::new();
    let o = opens
        .trim()
        .parse()
        .map_err(|_| e.add("opens_on", "invalid_date"))
        .ok();
    let c = closes
        .trim()
        .parse()
        .map_err(|_| e.add("closes_on", "invalid_date"))
        .ok();
    match (o, c) {
        (Some(o), Some(c)) => Ok((o, c)),
        _ => Err(e.into()),
    }
}

/// Who answered, as the quota fields give it.
pub struct Respondent {
    pub group: Group,
    pub age_band: AgeBand,
    pub sex: Sex,
}

/// The respondent's fields and answers from form pairs (`group`,
/// `age_band`, `sex`, and `q.<code>` once per value); each problem named by
/// its field or question.
pub fn read_form(
    doc: &QuestionnaireDoc,
    pairs: &[(String, String)],
    group_fixed: Option<Group>,
) -> Result<(Respondent, BTreeMap<String, Answer>), FieldErrors> {
    let mut e = FieldErrors::new();
    let one = |k: &str| {
        pairs
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let group = group_fixed.or_else(|| one("group").and_then(Group::parse));
    if group.is_none() {
        e.add("group", "required");
    }
    let age_band = one("age_band").and_then(AgeBand::parse);
    if age_band.is_none() {
        e.add("age_band", "required");
    }
    let sex = one("sex").and_then(Sex::parse);
    if sex.is_none() {
        e.add("sex", "required");
    }
    let mut answers = BTreeMap::new();
    // A form shows every question; what was filled in for questions the
    // respondent's group is not asked is dropped, not refused.
    for q in doc
        .questions
        .iter()
        .filter(|q| group.is_none_or(|g| q.asks(g)))
    {
        let key = format!("q.{}", q.code);
        let values: Vec<String> = pairs
            .iter()
            .filter(|(f, v)| f == &key && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect();
        if values.is_empty() {
            continue;
        }
        let a = match q.kind {
            QuestionKind::Multiple => Answer::Choices(values),
            QuestionKind::Scale5 | QuestionKind::Scale100 => match values[0].parse::<u32>() {
                Ok(v) => Answer::Scale(v),
                Err(_) => {
                    e.add(q.code.clone(), "out_of_range");
                    continue;
                }
            },
            _ => Answer::Text(values[0].clone()),
        };
        answers.insert(q.code.clone(), a);
    }
    match (group, age_band, sex) {
        (Some(group), Some(age_band), Some(sex)) if e.is_empty() => {
            doc.check(group, &answers)?;
            Ok((
                Respondent {
                    group,
                    age_band,
                    sex,
                },
                answers,
            ))
        }
        _ => {
            if let Some(g) = group
                && let Err(more) = doc.check(g, &answers)
            {
                e.0.extend(more.0);
            }
            Err(e)
        }
    }
}

/// The salted hash of a device's cookie under a wave's or a rating
/// round's salt: the same device gives the same hash there, and hashes of
/// two waves cannot be matched.
pub fn device_hash(salt: &str, cookie: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key length");
    mac.update(cookie.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Public answers a network address may send in a window; a community
/// meeting's phones behind one router still fit.
pub const PUBLIC_ANSWERS_PER_WINDOW: u32 = 60;
pub const PUBLIC_WINDOW: Duration = Duration::from_secs(600);

/// The wave as a workbook for the office: every rate (cells under the
/// minimum n carry their n only) and every questionnaire, anonymous.
pub async fn export(
    state: &AppState,
    auth: &crate::auth::Auth,
    wave_id: Uuid,
) -> AppResult<axum::response::Response> {
    use wenming_reports::table_xlsx::{Cell, Sheet, write_sheets};
    auth.permit::<wenming_domain::policy::may::ManageSurveys>()?;
    let r = results(state, wave_id).await?;
    let lang = auth.lang;
    let t = |k: &str| crate::i18n::t(lang, k);
    let name = |id: &Uuid| r.names.get(id).map(|n| n.0.clone()).unwrap_or_default();
    let (rate_header, rates) = rate_sheet(&r, lang, |_| true);
    let questions: Vec<_> = r.doc.questions.iter().collect();
    let mut answers = vec![];
    for a in wenming_store::survey::answers(&state.store, wave_id).await? {
        let mut row = vec![
            Cell::Text(name(&a.region_id)),
            Cell::Text(t(&format!("survey_group.{}", a.group.code())).to_string()),
            Cell::Text(a.age_band.code().to_string()),
            Cell::Text(t(&format!("survey_sex.{}", a.sex.code())).to_string()),
            Cell::Text(t(&format!("survey_channel.{}", a.channel)).to_string()),
        ];
        for q in &questions {
            let label = |c: &str| {
                q.choices
                    .iter()
                    .find(|x| x.code == c)
                    .map_or(c.to_string(), |x| x.label.clone())
            };
            row.push(match a.answers.get(&q.code) {
                None => Cell::Text(String::new()),
                Some(Answer::Scale(v)) => Cell::Number(*v as f64),
                Some(Answer::Choices(cs)) => {
                    Cell::Text(cs.iter().map(|c| label(c)).collect::<Vec<_>>().join("、"))
                }
                Some(Answer::Text(v)) => Cell::Text(label(v)),
            });
        }
        answers.push(row);
    }
    let codes: Vec<String> = questions.iter().map(|q| q.code.clone()).collect();
    let mut answer_header: Vec<(&str, f64)> = vec![
        (t("survey.community"), 18.0),
        (t("survey.group"), 14.0),
        (t("survey.age_band"), 8.0),
        (t("survey.sex"), 6.0),
        (t("survey.channel"), 14.0),
    ];
    answer_header.extend(codes.iter().map(|c| (c.as_str(), 14.0)));
    let bytes = write_sheets(&[
        Sheet {
            name: t("survey.sheet_results"),
            title: &r.wave.name,
            header: &rate_header,
            rows: &rates,
        },
        Sheet {
            name: t("survey.sheet_answers"),
            title: &r.wave.name,
            header: &answer_header,
            rows: &answers,
        },
    ])
    .map_err(|_| AppError::Internal)?;
    Ok(xlsx_download(&format!("{}.xlsx", r.wave.name), bytes))
}

/// A questionnaire as the office's workbook (one row a question).
pub fn questionnaire_xlsx(q: &sv::Questionnaire) -> AppResult<axum::response::Response> {
    let bytes =
        wenming_reports::questionnaire_xlsx::write(&q.doc).map_err(|_| AppError::Internal)?;
    Ok(xlsx_download(
        &format!("{}-v{}.xlsx", q.title, q.version_no),
        bytes,
    ))
}

/// A new draft questionnaire from the office's workbook: all of it or, with
/// every problem named by its cell, nothing.
pub async fn import_questionnaire(
    state: &AppState,
    auth: &crate::auth::Auth,
    bytes: Vec<u8>,
) -> AppResult<sv::Questionnaire> {
    let permit = auth.permit::<wenming_domain::policy::may::ManageSurveys>()?;
    if bytes.is_empty() {
        return Err(FieldErrors::single("file", "required").into());
    }
    let doc = tokio::task::spawn_blocking(move || {
        wenming_reports::questionnaire_xlsx::read(
            &bytes,
            &wenming_reports::workbook::Limits::default(),
        )
    })
    .await
    .map_err(|_| AppError::Internal)?
    .map_err(AppError::Problems)?;
    Ok(sv::create(&state.store, &auth.ctx(), &permit, &doc).await?)
}

/// The results sheet of a wave, the rates `keep` keeps: a row a rate,
/// region and group; a cell under the minimum n carries its n only.
pub fn rate_sheet(
    r: &WaveResults,
    lang: crate::i18n::Lang,
    keep: impl Fn(&wenming_domain::survey::results::RateResult) -> bool,
) -> (
    Vec<(&'static str, f64)>,
    Vec<Vec<wenming_reports::table_xlsx::Cell>>,
) {
    use wenming_reports::table_xlsx::Cell;
    let t = |k: &str| crate::i18n::t(lang, k);
    let name = |id: &Uuid| r.names.get(id).map(|n| n.0.clone()).unwrap_or_default();
    let pct = |v: f64| Cell::Number((v * 1000.0).round() / 10.0);
    let mut rates = vec![];
    for x in r.results.rates.iter().filter(|x| keep(x)) {
        let mut row = vec![
            Cell::Text(x.question.clone()),
            Cell::Text(t(&format!("survey_rate.{}", x.rate.code())).to_string()),
            Cell::Text(name(&x.region_id)),
            Cell::Text(x.group.map_or(String::new(), |g| {
                t(&format!("survey_group.{}", g.code())).to_string()
            })),
            Cell::Number(x.n as f64),
        ];
        if x.ranked {
            row.extend([pct(x.estimate.p), pct(x.estimate.low), pct(x.estimate.high)]);
            match &x.weighted {
                Some(w) => row.extend([
                    pct(w.estimate.p),
                    pct(w.estimate.low),
                    pct(w.estimate.high),
                    Cell::Number(w.estimate.n.round()),
                ]),
                None => row.extend((0..4).map(|_| Cell::Text(String::new()))),
            }
        } else {
            row.push(Cell::Text(t("survey.too_few").to_string()));
        }
        rates.push(row);
    }
    let header: Vec<(&'static str, f64)> = vec![
        (t("survey.question"), 8.0),
        (t("survey.rate"), 14.0),
        (t("survey.region"), 18.0),
        (t("survey.group"), 14.0),
        ("n", 8.0),
        (t("survey.rate_pct"), 10.0),
        (t("survey.low_pct"), 10.0),
        (t("survey.high_pct"), 10.0),
        (t("survey.weighted_pct"), 10.0),
        (t("survey.weighted_low"), 10.0),
        (t("survey.weighted_high"), 10.0),
        (t("survey.effective_n"), 10.0),
    ];
    (header, rates)
}

pub fn xlsx_download(file: &str, bytes: Vec<u8>) -> axum::response::Response {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    crate::page::urlencode(file)
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}
