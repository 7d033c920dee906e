//! Materials wenming builds from the records it already holds (自动生成材料):
//! case statistics, before/after photos of closed cases, round reports and
//! the task decomposition table. Each is dated, stamped with the SHA-256 of
//! the data it shows and when that data was read, and then offered for
//! review like any upload. The filing is in Chinese, so the materials are
//! written as the city files them, whatever the office's own language.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, t};
use jiff::civil::Date;
use sha2::Digest;
use std::fmt::Write;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::evidence::{Source, Window};
use wenming_domain::policy::{Permit, Scope, may};
use wenming_reports::table_xlsx::Cell;
use wenming_store::Ctx;
use wenming_store::evidence::{self as ev, Requirement};

/// Photo pairs one material shows at most: the newest closed cases.
const MAX_PAIRS: usize = 60;

/// A material as built, before it is filed.
struct Built {
    title: String,
    bytes: Vec<u8>,
    /// The data it shows, as text: what its hash is taken of.
    data: String,
}

/// Builds a requirement's material from its source and offers it for
/// review: the office's action, again on demand.
pub async fn generate(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<ev::Filed> {
    auth.permit::<may::ReviewEvidence>()?;
    let submit = auth.permit::<may::SubmitEvidence>()?;
    generate_as(state, &auth.ctx(), &submit, id).await
}

async fn generate_as(
    state: &AppState,
    ctx: &Ctx,
    submit: &Permit<may::SubmitEvidence>,
    id: Uuid,
) -> AppResult<ev::Filed> {
    let today = super::today(state);
    let q = ev::requirement(&state.store, submit.scope(), id, today).await?;
    let Some(source) = q.source.clone() else {
        return Err(FieldErrors::single("source", "no_source").into());
    };
    if !source.fits(q.evidence_type) {
        return Err(FieldErrors::single("source", "source_does_not_fit").into());
    }
    let w = ev::window(&state.store, q.framework_id, today).await?;
    let read_at = jiff::Timestamp::now();
    let scope = submit.scope();
    let built = match &source {
        Source::CaseStatistics { categories } => {
            case_statistics(state, scope, &w, today, categories).await?
        }
        Source::PhotoPairs { categories } => {
            photo_pairs(state, scope, &q, &w, today, categories).await?
        }
        Source::RoundReports { kinds } => round_reports(state, &q, &w, today, kinds).await?,
        Source::TaskTable { whole_framework } => {
            task_table(state, scope, &q, today, *whole_framework).await?
        }
        Source::SurveyResults => survey_results(state, &q, &w, today).await?,
    };
    let generated_from = serde_json::json!({
        "source": source,
        "data_sha256": hex::encode(sha2::Sha256::digest(built.data.as_bytes())),
        "data_at": read_at.to_string(),
        "window": [w.start.to_string(), w.end.to_string()],
    });
    let input = ev::MaterialInput {
        evidence_type: q.evidence_type,
        file_name: format!("{}.xlsx", built.title),
        title: built.title,
        doc_date: Some(today.min(w.last_day())),
        doc_number: None,
        requirement_ids: vec![id],
        generated_from: Some(generated_from),
    };
    Ok(ev::file_material(
        &state.store,
        &state.config.files,
        ctx,
        submit,
        &input,
        built.bytes.into(),
    )
    .await?)
}

/// Nothing in the window to build from: said rather than filing an empty
/// table.
fn nothing() -> AppError {
    FieldErrors::single("source", "nothing_to_build").into()
}

fn xlsx_failed<E>(_: E) -> AppError {
    AppError::Internal
}

/// The first and the last month of the window that have begun by today.
fn months(w: &Window, today: Date) -> (Date, Date) {
    (
        w.start,
        today.first_of_month().min(w.last_day().first_of_month()),
    )
}

/// The window so far, as instants in the city's time zone: [start, end).
fn window_instants(
    state: &AppState,
    w: &Window,
    today: Date,
) -> AppResult<(jiff::Timestamp, jiff::Timestamp)> {
    let tz = state.config.timezone.clone();
    let at = |d: Date| {
        d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|_| AppError::Internal)
    };
    let end = today.tomorrow().unwrap_or(today).min(w.end);
    Ok((at(w.start)?, at(end)?))
}

/// Category codes to ids; a code the catalogue does not have is refused.
async fn category_ids(state: &AppState, codes: &[String]) -> AppResult<(Vec<Uuid>, Vec<String>)> {
    let all = wenming_store::case::categories(&state.store).await?;
    let mut ids = vec![];
    let mut names = vec![];
    for code in codes {
        let c = all
            .iter()
            .find(|c| &c.code == code)
            .ok_or_else(|| FieldErrors::single("source", "unknown_category"))?;
        ids.push(c.id);
        names.push(c.name.clone());
    }
    Ok((ids, names))
}

fn scope_words(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!("（{}）", names.join("、"))
    }
}

/// The monthly case statistics of the window's months so far: per unit and
/// for the whole city, registered, due, closed and on time, for the cases
/// of the category codes given (all without).
async fn case_statistics(
    state: &AppState,
    scope: &Scope,
    w: &Window,
    today: Date,
    codes: &[String],
) -> AppResult<Built> {
    let (ids, names) = category_ids(state, codes).await?;
    let pct = |r: &wenming_domain::metrics::Rate| {
        r.value().map_or(Cell::Text("—".into()), |v| {
            Cell::Number((v * 1000.0).round() / 10.0)
        })
    };
    let mut rows: Vec<Vec<Cell>> = vec![];
    let mut data = String::new();
    let (mut month, last_month) = months(w, today);
    while month <= last_month {
        let key = month.strftime("%Y-%m").to_string();
        let m = super::metrics::month_metrics_in(state, scope, &key, &ids).await?;
        let lines = m
            .units
            .iter()
            .map(|(_, r)| (r.name.clone(), &r.m))
            .chain(std::iter::once(("全市".to_string(), &m.total)));
        for (name, x) in lines {
            let _ = writeln!(
                data,
                "{key}\t{name}\t{}\t{}\t{:?}\t{:?}\t{:?}\t{:?}",
                x.registered,
                x.due,
                x.close_rate.value(),
                x.on_time_close_rate.value(),
                x.handling_rate.value(),
                x.on_time_handling_rate.value()
            );
            rows.push(vec![
                Cell::Text(key.clone()),
                Cell::Text(name),
                Cell::Number(x.registered as f64),
                Cell::Number(x.due as f64),
                pct(&x.close_rate),
                pct(&x.on_time_close_rate),
                pct(&x.handling_rate),
                pct(&x.on_time_handling_rate),
            ]);
        }
        month = match month.last_of_month().tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    let title = format!(
        "案件处置月度统计表{}（{} 至 {}）",
        scope_words(&names),
        w.start.strftime("%Y-%m"),
        last_month.strftime("%Y-%m")
    );
    let header = [
        ("月份", 10.0),
        ("责任单位", 24.0),
        ("立案数", 10.0),
        ("应结案数", 10.0),
        ("结案率（%）", 12.0),
        ("按期结案率（%）", 14.0),
        ("处置率（%）", 12.0),
        ("按期处置率（%）", 14.0),
    ];
    let bytes = wenming_reports::table_xlsx::write("案件统计", &title, &header, &rows)
        .map_err(xlsx_failed)?;
    Ok(Built { title, bytes, data })
}

/// Before and after photos of the newest cases closed in the window so far,
/// of the categories given, or with none, of the cases filed against the
/// requirement's standard (by a finding, or a category mapped to it).
async fn photo_pairs(
    state: &AppState,
    scope: &Scope,
    q: &Requirement,
    w: &Window,
    today: Date,
    codes: &[String],
) -> AppResult<Built> {
    let (ids, names, standard) = if codes.is_empty() {
        let ids = wenming_store::case::categories(&state.store)
            .await?
            .into_iter()
            .filter(|c| c.standard_codes.contains(&q.standard_code))
            .map(|c| c.id)
            .collect();
        (ids, vec![], Some(q.standard_id))
    } else {
        let (ids, names) = category_ids(state, codes).await?;
        (ids, names, None)
    };
    let span = window_instants(state, w, today)?;
    let pairs = ev::photo_pairs(&state.store, scope, &ids, standard, span, MAX_PAIRS).await?;
    if pairs.is_empty() {
        return Err(nothing());
    }
    let tz = state.config.timezone.clone();
    let local = |t: jiff::Timestamp| {
        t.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let files = &state.config.files;
    let mut rows = vec![];
    let mut data = String::new();
    for p in &pairs {
        let (kb, ka) = (
            wenming_store::photo::thumbnail_key(p.before.id),
            wenming_store::photo::thumbnail_key(p.after.id),
        );
        let (before, after) = tokio::try_join!(files.get(&kb), files.get(&ka))?;
        let _ = writeln!(
            data,
            "{}\t{}\t{}\t{}",
            p.number,
            p.closed_at.as_microsecond(),
            p.before.sha256,
            p.after.sha256
        );
        rows.push(wenming_reports::photo_sheet::PairRow {
            number: p.number.clone(),
            category: p.category.clone(),
            place: p.address.clone().unwrap_or_default(),
            unit: p.unit_name.clone().unwrap_or_default(),
            found_at: local(p.before.taken_at.unwrap_or(p.reported_at)),
            closed_at: local(p.closed_at),
            before: before.to_vec(),
            after: after.to_vec(),
        });
    }
    let title = format!(
        "问题整改前后对比照片{}（{} {} 至 {}）",
        scope_words(&names),
        q.standard_code,
        w.start,
        today.min(w.last_day())
    );
    let bytes = wenming_reports::photo_sheet::write(&title, &rows).map_err(xlsx_failed)?;
    Ok(Built { title, bytes, data })
}

/// The rounds of the kinds given (all without) begun in the window so far:
/// each with its sites, its score rate, and the requirement's standard's.
async fn round_reports(
    state: &AppState,
    q: &Requirement,
    w: &Window,
    today: Date,
    kinds: &[wenming_domain::inspection::RoundKind],
) -> AppResult<Built> {
    use wenming_store::inspection;
    let last = today.min(w.last_day());
    let mut rounds: Vec<_> = inspection::list(&state.store)
        .await?
        .into_iter()
        .filter(|r| kinds.is_empty() || kinds.contains(&r.kind))
        .filter(|r| r.starts_on >= w.start && r.starts_on <= last)
        .collect();
    if rounds.is_empty() {
        return Err(nothing());
    }
    rounds.sort_by_key(|r| (r.starts_on, r.created_at));
    let pct = |s: wenming_domain::inspection::Score| {
        s.rate().map_or(Cell::Text("—".into()), |v| {
            Cell::Number((v * 1000.0).round() / 10.0)
        })
    };
    let mut rows = vec![];
    let mut data = String::new();
    for r in &rounds {
        let report = inspection::report(&state.store, r.id).await?;
        let own = report
            .standards
            .iter()
            .find(|l| l.key == q.standard_code)
            .map(|l| l.score)
            .unwrap_or_default();
        let _ = writeln!(
            data,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.sites,
            r.inspected,
            r.score.passed,
            r.score.observed,
            own.passed,
            own.observed,
            r.version
        );
        rows.push(vec![
            Cell::Text(r.name.clone()),
            Cell::Text(t(Lang::Zh, &format!("round_kind.{}", r.kind.code())).to_string()),
            Cell::Text(format!("{} 至 {}", r.starts_on, r.ends_on)),
            Cell::Number(r.sites as f64),
            Cell::Number(r.inspected as f64),
            Cell::Number(r.score.observed as f64),
            Cell::Number(r.score.passed as f64),
            pct(r.score),
            Cell::Number(own.observed as f64),
            Cell::Number(own.passed as f64),
            pct(own),
        ]);
    }
    let title = format!(
        "测评轮次结果统计（{} {} 至 {}）",
        q.standard_code, w.start, last
    );
    let header = [
        ("轮次", 24.0),
        ("类型", 12.0),
        ("起止日期", 24.0),
        ("抽查点位", 10.0),
        ("已检查点位", 10.0),
        ("观测项", 10.0),
        ("达标项", 10.0),
        ("达标率（%）", 12.0),
        ("本标准观测项", 12.0),
        ("本标准达标项", 12.0),
        ("本标准达标率（%）", 14.0),
    ];
    let bytes = wenming_reports::table_xlsx::write("测评轮次", &title, &header, &rows)
        .map_err(xlsx_failed)?;
    Ok(Built { title, bytes, data })
}

/// The task decomposition table of the requirement's standard (or the whole
/// framework): who leads, who helps, the target, the deadline, progress.
async fn task_table(
    state: &AppState,
    scope: &Scope,
    q: &Requirement,
    today: Date,
    whole_framework: bool,
) -> AppResult<Built> {
    use wenming_store::task;
    let filter = task::TaskFilter {
        framework_id: Some(q.framework_id),
        standard_id: (!whole_framework).then_some(q.standard_id),
        ..Default::default()
    };
    let tasks = task::list(&state.store, scope, &filter).await?;
    if tasks.is_empty() {
        return Err(nothing());
    }
    let mut data = String::new();
    let rows: Vec<wenming_reports::tasks_xlsx::Row> = tasks
        .into_iter()
        .map(|x| {
            let _ = writeln!(
                data,
                "{}\t{}\t{}\t{}\t{}\t{}",
                x.id, x.lead_unit.name, x.target, x.deadline, x.progress, x.version
            );
            super::tasks::table_row(x, Lang::Zh, today)
        })
        .collect();
    let title = if whole_framework {
        format!("创建工作任务分解表（{today}）")
    } else {
        format!("{} 任务分解表（{today}）", q.standard_code)
    };
    let bytes = wenming_reports::tasks_xlsx::write(&title, &rows).map_err(xlsx_failed)?;
    Ok(Built { title, bytes, data })
}

/// The survey waves begun in the window whose questions evidence the
/// requirement's standard, a sheet each: every region's rate for those
/// questions, all respondent groups together.
async fn survey_results(
    state: &AppState,
    q: &Requirement,
    w: &Window,
    today: Date,
) -> AppResult<Built> {
    use wenming_store::survey as sv;
    let last = today.min(w.last_day());
    let mut waves: Vec<_> = sv::waves(&state.store)
        .await?
        .into_iter()
        .filter(|x| x.opens_on >= w.start && x.opens_on <= last)
        .filter(|x| x.state != sv::WaveState::Draft)
        .collect();
    waves.sort_by_key(|x| (x.opens_on, x.id));
    let mut sheets = vec![];
    let mut data = String::new();
    for wave in waves {
        let r = super::surveys::results(state, wave.id).await?;
        let codes: Vec<String> = r
            .doc
            .questions
            .iter()
            .filter(|x| x.rate.is_some() && x.standards.contains(&q.standard_code))
            .map(|x| x.code.clone())
            .collect();
        if codes.is_empty() {
            continue;
        }
        let keep = |x: &wenming_domain::survey::results::RateResult| {
            x.group.is_none() && codes.contains(&x.question)
        };
        for x in r.results.rates.iter().filter(|x| keep(x)) {
            let _ = writeln!(
                data,
                "{}\t{}\t{}\t{}\t{}",
                wave.id, x.question, x.region_id, x.n, x.yes
            );
        }
        let (header, rows) = super::surveys::rate_sheet(&r, Lang::Zh, keep);
        sheets.push((wave.name.clone(), header, rows));
    }
    if sheets.is_empty() {
        return Err(nothing());
    }
    let title = format!(
        "问卷调查结果（{} {} 至 {}）",
        q.standard_code, w.start, last
    );
    let names: Vec<String> = (1..=sheets.len()).map(|i| format!("第{i}次问卷")).collect();
    let parts: Vec<wenming_reports::table_xlsx::Sheet> = sheets
        .iter()
        .zip(&names)
        .map(
            |((wave, header, rows), name)| wenming_reports::table_xlsx::Sheet {
                name,
                title: wave,
                header,
                rows,
            },
        )
        .collect();
    let bytes = wenming_reports::table_xlsx::write_sheets(&parts).map_err(xlsx_failed)?;
    Ok(Built { title, bytes, data })
}

/// The demo city's generated materials: every requirement that names a
/// source gets its material built and accepted, as the office would on its
/// first day. Returns how many were built.
pub async fn load_demo(
    store: &wenming_store::Store,
    config: &crate::WebConfig,
) -> AppResult<usize> {
    let state = AppState(std::sync::Arc::new(crate::Inner {
        store: store.clone(),
        config: config.clone(),
        public_limiter: crate::service::limits::Limiter::public_answers(),
        login_limiter: crate::service::limits::Limiter::sign_ins(),
        closed_results: Default::default(),
        projection: Default::default(),
        leader_summaries: crate::service::KeptFor::new(crate::service::queue::LEADER_KEPT_FOR),
    }));
    let Some(fw) = wenming_store::framework::active(store).await? else {
        return Ok(0);
    };
    let city = wenming_store::org::whole_city(store).await?;
    let root = city.region_paths.first().map_or("/", String::as_str);
    let (submit, review) = (
        Permit::<may::SubmitEvidence>::system(root),
        Permit::<may::ReviewEvidence>::system(root),
    );
    let ctx = Ctx::system("demo");
    let today = super::today(&state);
    let reqs = ev::requirements(store, &city, fw.id, &Default::default(), today).await?;
    let mut built = 0;
    for q in reqs.iter().filter(|q| q.source.is_some()) {
        let filed = match generate_as(&state, &ctx, &submit, q.id).await {
            Ok(f) => f,
            // A source with nothing behind it yet waits for the records.
            Err(AppError::Invalid(_)) => continue,
            Err(e) => return Err(e),
        };
        built += 1;
        let subs = ev::submissions(store, q).await?;
        if let Some(s) = subs.iter().find(|s| s.material.id == filed.material.id) {
            ev::decide(store, &ctx, &review, s.id, s.version, &ev::Decision::Accept).await?;
        }
    }
    Ok(built)
}
