//! The projected score as pages, the API and the monthly job share it:
//! the records gathered standard by standard (materials, on-site
//! findings by site, survey rates, the office's assessments), the
//! domain's estimate and interval over them, the weak links with what
//! stands behind each, and the snapshots that make a trend.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;
use wenming_domain::framework::Method;
use wenming_domain::policy::{Action, Permit, Scope, may};
use wenming_domain::scoring::{
    self as sc, Estimate, GateInput, Known, MethodInput, NegativeInput, Rules, SitePanel,
    StandardInput,
    draws::{self, Interval, Spec},
};
use wenming_store::scoring::{self as st, RoundRef, Snapshot, SnapshotKind};

/// Which rounds count, how many draws, and which standards a "what if"
/// puts at full marks.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// None: the mock and third-party rounds of the last 90 days.
    pub rounds: Option<Vec<Uuid>>,
    pub seed: Option<u64>,
    pub draws: Option<usize>,
    /// Standard codes.
    pub full: Vec<String>,
}

/// Days back whose mock and third-party rounds count by default.
pub const ROUND_DAYS: i64 = 90;

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkRef {
    pub id: Uuid,
    pub name: String,
    pub year: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeakLink {
    pub standard_id: Uuid,
    pub code: String,
    pub title: String,
    pub points: f64,
    pub share: f64,
    pub lost: f64,
    pub lead_unit: Option<String>,
    pub open_cases: i64,
    pub missing_materials: i64,
    /// Change of its share since the last snapshot.
    pub trend: Option<f64>,
    pub unmeasured: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpreadLine {
    pub code: String,
    pub title: String,
    /// Standard deviation of its points earned across the draws.
    pub sd: f64,
    /// Its part of the interval's variance.
    pub part: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    pub full: Vec<String>,
    pub score: f64,
    pub gain: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Projection {
    pub framework: FrameworkRef,
    pub as_of: jiff::civil::Date,
    /// When it was computed: the default one is kept for a minute.
    pub computed_at: jiff::Timestamp,
    pub rounds: Vec<RoundRef>,
    pub estimate: Estimate,
    /// Aligned with `estimate.standards`.
    pub standard_ids: Vec<Uuid>,
    pub interval: Interval,
    pub spread: Vec<SpreadLine>,
    pub weak_links: Vec<WeakLink>,
    pub what_if: Option<WhatIf>,
    pub cycle: sc::Cycle,
    pub gates: Vec<GateInput>,
    pub negatives: Vec<NegativeInput>,
    /// The snapshot the trends are measured against.
    pub previous: Option<Snapshot>,
    /// On-site findings of the counted rounds by the region of their site:
    /// (region, passed, judged).
    pub regions: Vec<(Uuid, u32, u32)>,
    /// The city's satisfaction rate of the latest wave that asks it.
    pub satisfaction: Option<Satisfaction>,
    /// Material requirements met, of required, over the framework.
    pub evidence: (u32, u32),
}

impl Projection {
    /// The on-site score rate of the counted rounds inside a region (its
    /// path a prefix of the sites' regions' paths), if anything was judged
    /// there.
    pub fn on_site_rate_within<'a>(
        &self,
        path_of: impl Fn(Uuid) -> Option<&'a str>,
        path: &str,
    ) -> Option<f64> {
        let (met, made) = self
            .regions
            .iter()
            .filter(|(id, _, _)| path_of(*id).is_some_and(|p| p.starts_with(path)))
            .fold((0u64, 0u64), |a, (_, m, n)| {
                (a.0 + u64::from(*m), a.1 + u64::from(*n))
            });
        (made > 0).then(|| met as f64 / made as f64)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Satisfaction {
    pub wave: String,
    pub p: f64,
    pub low: f64,
    pub high: f64,
    pub n: u64,
}

/// The projection's reader must see the whole city: it is made of every
/// unit's records.
fn city_scope(auth: &Auth) -> AppResult<Scope> {
    let scope = auth.scope(Action::ViewScoring)?;
    if !scope.is_everything() {
        return Err(AppError::Forbidden);
    }
    Ok(scope)
}

pub async fn projection(state: &AppState, auth: &Auth, opts: &Options) -> AppResult<Projection> {
    let scope = city_scope(auth)?;
    if opts.rounds.is_some() || opts.seed.is_some() || opts.draws.is_some() {
        return compute(state, &scope, opts).await;
    }
    let kept = state.projection.get(state, &scope).await?;
    let mut p = (*kept.projection).clone();
    p.what_if = what_if(&p.estimate, &opts.full, &kept.rules);
    Ok(p)
}

/// How long the default projection (the counted rounds, the seed, 10,000
/// draws) is kept: the cockpit and the wall screen read it rather than
/// the million rows behind it.
pub const KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The default projection as last computed, for every reader in the
/// process. A write the projection is made of that passes through this
/// module (an assessment, an event, a score, a snapshot) makes it stale at
/// once; other data (cases, findings, materials, answers) shows within
/// `KEPT_FOR`.
#[derive(Default)]
pub struct KeptProjection {
    slot: tokio::sync::Mutex<Option<Kept>>,
    generation: std::sync::atomic::AtomicU64,
}

#[derive(Clone)]
struct Kept {
    at: std::time::Instant,
    generation: u64,
    projection: std::sync::Arc<Projection>,
    rules: std::sync::Arc<Rules>,
}

impl KeptProjection {
    /// The kept projection, computed again when stale; readers arriving
    /// while it is computed wait for that one computation.
    async fn get(&self, state: &AppState, scope: &Scope) -> AppResult<Kept> {
        use std::sync::atomic::Ordering;
        let mut slot = self.slot.lock().await;
        let generation = self.generation.load(Ordering::Acquire);
        let today = super::today(state);
        if let Some(k) = slot.as_ref()
            && k.generation == generation
            && k.at.elapsed() < KEPT_FOR
            && k.projection.as_of == today
        {
            return Ok(k.clone());
        }
        let (projection, rules) = compute_with_rules(state, scope, &Options::default()).await?;
        let k = Kept {
            at: std::time::Instant::now(),
            generation,
            projection: std::sync::Arc::new(projection),
            rules: std::sync::Arc::new(rules),
        };
        *slot = Some(k.clone());
        Ok(k)
    }

    /// Something the projection is made of changed.
    pub fn forget(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

/// The projected score if the named standards reached full marks.
fn what_if(estimate: &Estimate, codes: &[String], rules: &Rules) -> Option<WhatIf> {
    let full: Vec<usize> = codes
        .iter()
        .filter_map(|c| estimate.standards.iter().position(|s| &s.code == c))
        .collect();
    (!full.is_empty()).then(|| {
        let a = sc::what_if(estimate, &full, rules);
        WhatIf {
            full: full
                .iter()
                .map(|&i| estimate.standards[i].code.clone())
                .collect(),
            gain: a.score - estimate.annual.score,
            score: a.score,
        }
    })
}

/// The office's writes the projection is made of, each forgetting the
/// kept projection; pages and the API both record through these.
pub async fn record_assessment(
    state: &AppState,
    ctx: &wenming_store::Ctx,
    permit: &Permit<may::ManageScoring>,
    input: &st::AssessmentInput,
) -> Result<st::Assessment, wenming_store::StoreError> {
    let a = st::record_assessment(&state.store, ctx, permit, input).await?;
    state.projection.forget();
    Ok(a)
}

pub async fn record_negative_event(
    state: &AppState,
    ctx: &wenming_store::Ctx,
    permit: &Permit<may::ManageScoring>,
    framework_id: Uuid,
    input: &st::EventInput<'_>,
) -> Result<st::NegativeEvent, wenming_store::StoreError> {
    let today = super::today(state);
    let e =
        st::record_negative_event(&state.store, ctx, permit, framework_id, input, today).await?;
    state.projection.forget();
    Ok(e)
}

pub async fn delete_negative_event(
    state: &AppState,
    ctx: &wenming_store::Ctx,
    permit: &Permit<may::ManageScoring>,
    framework_id: Uuid,
    id: Uuid,
) -> Result<(), wenming_store::StoreError> {
    st::delete_negative_event(&state.store, ctx, permit, framework_id, id).await?;
    state.projection.forget();
    Ok(())
}

pub async fn record_year_score(
    state: &AppState,
    ctx: &wenming_store::Ctx,
    permit: &Permit<may::ManageScoring>,
    framework_id: Uuid,
    input: st::ScoreInput<'_>,
) -> Result<st::YearScore, wenming_store::StoreError> {
    let y = st::record_year_score(&state.store, ctx, permit, framework_id, input).await?;
    state.projection.forget();
    Ok(y)
}

async fn compute(state: &AppState, scope: &Scope, opts: &Options) -> AppResult<Projection> {
    Ok(compute_with_rules(state, scope, opts).await?.0)
}

async fn compute_with_rules(
    state: &AppState,
    scope: &Scope,
    opts: &Options,
) -> AppResult<(Projection, Rules)> {
    let store = &state.store;
    let today = super::today(state);
    let fw = wenming_store::framework::active(store)
        .await?
        .ok_or(AppError::NotFound)?;
    let standards = st::standards(store, fw.id).await?;
    let index: HashMap<Uuid, usize> = standards
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    // On-site: the chosen rounds' findings, site by site.
    let rounds: Vec<RoundRef> = match &opts.rounds {
        Some(ids) => {
            let all_rounds = st::rounds(store, fw.id, None).await?;
            for id in ids {
                if !all_rounds.iter().any(|r| r.id == *id) {
                    return Err(wenming_domain::FieldErrors::single("rounds", "not_found").into());
                }
            }
            all_rounds
                .into_iter()
                .filter(|r| ids.contains(&r.id))
                .collect()
        }
        None => {
            let since = today
                .checked_sub(jiff::Span::new().days(ROUND_DAYS))
                .unwrap_or(today);
            st::rounds(store, fw.id, Some(since)).await?
        }
    };
    let ids: Vec<Uuid> = rounds.iter().map(|r| r.id).collect();
    let mut by_site: BTreeMap<Uuid, Vec<(usize, u32, u32)>> = BTreeMap::new();
    for (site, standard, met, made) in st::site_findings(store, &ids).await? {
        if let Some(&i) = index.get(&standard)
            && made > 0
        {
            by_site.entry(site).or_default().push((i, met, made));
        }
    }
    let panel = SitePanel {
        sites: by_site.into_values().collect(),
    };
    // Materials: requirements met of required, per standard.
    let reqs =
        wenming_store::evidence::requirements(store, scope, fw.id, &Default::default(), today)
            .await?;
    let mut materials: HashMap<Uuid, (u32, u32)> = HashMap::new();
    for q in &reqs {
        let m = materials.entry(q.standard_id).or_default();
        m.1 += 1;
        if q.state == wenming_domain::evidence::RequirementState::Met {
            m.0 += 1;
        }
    }
    let (surveys, satisfaction) = survey_rates(state).await?;
    let rules_of = st::survey_rules(store, fw.id).await?;
    let assessed: HashMap<(Uuid, Method), f64> = st::assessments(store, fw.id, today.year().into())
        .await?
        .into_iter()
        .map(|a| ((a.standard_id, a.method), a.share))
        .collect();
    let inputs: Vec<StandardInput> = standards
        .iter()
        .enumerate()
        .map(|(i, s)| StandardInput {
            code: s.code.clone(),
            title: s.title.clone(),
            points: s.points.as_f64(),
            featured: s.featured,
            lead_unit: s.lead_unit.clone(),
            methods: s
                .methods
                .iter()
                .map(|&method| {
                    let known = if let Some(&share) = assessed.get(&(s.id, method)) {
                        Known::Recorded { share }
                    } else {
                        match method {
                            Method::MaterialReview => {
                                let (met, required) =
                                    materials.get(&s.id).copied().unwrap_or((0, 0));
                                if required == 0 {
                                    Known::Unknown
                                } else {
                                    Known::Materials { met, required }
                                }
                            }
                            Method::SiteInspection => {
                                let (met, made, sites) = panel.of(i);
                                if made == 0 {
                                    Known::Unknown
                                } else {
                                    Known::OnSite { met, made, sites }
                                }
                            }
                            Method::Survey | Method::OnlineSurvey => match surveys.get(&s.code) {
                                Some(&(rate, n_eff)) => {
                                    let (floor, target) = rules_of
                                        .get(&s.id)
                                        .copied()
                                        .unwrap_or((sc::SURVEY_FLOOR, sc::SURVEY_TARGET));
                                    Known::SurveyRate {
                                        rate,
                                        n_eff,
                                        floor,
                                        target,
                                    }
                                }
                                None => Known::Unknown,
                            },
                            _ => Known::Unknown,
                        }
                    };
                    MethodInput { method, known }
                })
                .collect(),
        })
        .collect();
    // The annual rule.
    let year: i32 = today.year().into();
    let gate_scores = st::gate_results(store, fw.id).await?;
    let gates: Vec<GateInput> = fw
        .settings
        .gates
        .iter()
        .map(|g| GateInput {
            name: g.name.clone(),
            min_score: g.min_score.as_f64(),
            weight: g.weight.as_f64() / 100.0,
            score: gate_scores
                .iter()
                .find(|x| x.name == g.name && x.year == year)
                .map(|x| x.score),
        })
        .collect();
    let negatives: Vec<NegativeInput> = st::negative_events(store, fw.id)
        .await?
        .into_iter()
        .filter_map(|e| {
            let rule = fw
                .settings
                .negative_list
                .iter()
                .find(|r| r.code == e.rule_code)?;
            Some(NegativeInput {
                code: rule.code.clone(),
                rule: rule.rule.clone(),
                sanction: rule.sanction,
                deduct: rule.deduct.map(|p| p.as_f64()).unwrap_or(0.0),
                occurred_on: e.occurred_on,
                applies: sc::inside_lookback(e.occurred_on, today, rule.lookback_months),
            })
        })
        .collect();
    let rules = Rules {
        basic_total: fw.basic_total.map(|p| p.as_f64()).unwrap_or(100.0),
        gates: gates.clone(),
        negatives: negatives.clone(),
    };
    let weights = sc::method_weights(&fw.settings);
    let estimate = sc::estimate(&inputs, &weights, &rules);
    let spec = Spec {
        draws: opts.draws.unwrap_or(10_000).clamp(100, 100_000),
        seed: opts.seed.unwrap_or(Spec::default().seed),
    };
    let u = draws::simulate(&inputs, &panel, &weights, &rules, spec);
    // Weak links, with what stands behind each and its trend.
    let previous = st::snapshots(store, fw.id).await?.pop();
    let before: HashMap<String, f64> = match &previous {
        Some(p) => previous_shares(store, p.id).await?,
        None => HashMap::new(),
    };
    let cases = st::open_cases(store, fw.id).await?;
    let missing: HashMap<Uuid, i64> = materials
        .iter()
        .map(|(id, (met, req))| (*id, i64::from(req - met)))
        .collect();
    let weak_links = sc::weak_links(&estimate)
        .into_iter()
        .map(|i| {
            let s = &estimate.standards[i];
            let id = standards[i].id;
            WeakLink {
                standard_id: id,
                code: s.code.clone(),
                title: s.title.clone(),
                points: s.points,
                share: s.share,
                lost: s.lost,
                lead_unit: s.lead_unit.clone(),
                open_cases: cases.get(&id).copied().unwrap_or(0),
                missing_materials: missing.get(&id).copied().unwrap_or(0),
                trend: before.get(&s.code).map(|b| s.share - b),
                unmeasured: s.unmeasured,
            }
        })
        .collect();
    let what_if = what_if(&estimate, &opts.full, &rules);
    let official: BTreeMap<i32, f64> = st::annual_results(store)
        .await?
        .into_iter()
        .map(|y| (y.year, y.score))
        .collect();
    let cycle_weights: Vec<f64> = if fw.settings.cycle_weights.is_empty() {
        vec![1.0]
    } else {
        fw.settings
            .cycle_weights
            .iter()
            .map(|w| w.as_f64() / 100.0)
            .collect()
    };
    let cycle = sc::cycle(&cycle_weights, year, estimate.annual.score, &official);
    let p = Projection {
        framework: FrameworkRef {
            id: fw.id,
            name: fw.name.clone(),
            year: fw.year,
        },
        as_of: today,
        computed_at: jiff::Timestamp::now(),
        rounds,
        spread: u
            .spread
            .iter()
            .map(|x| SpreadLine {
                code: inputs[x.standard].code.clone(),
                title: inputs[x.standard].title.clone(),
                sd: x.sd,
                part: x.part,
            })
            .collect(),
        interval: u.interval,
        standard_ids: standards.iter().map(|s| s.id).collect(),
        estimate,
        weak_links,
        what_if,
        cycle,
        gates,
        negatives,
        previous,
        regions: st::region_findings(store, &ids).await?,
        satisfaction,
        evidence: materials
            .values()
            .fold((0, 0), |a, (met, req)| (a.0 + met, a.1 + req)),
    };
    Ok((p, rules))
}

/// Each standard's share as a snapshot kept it.
async fn previous_shares(
    store: &wenming_store::Store,
    id: Uuid,
) -> AppResult<HashMap<String, f64>> {
    let s = st::snapshot(store, id).await?;
    let doc: serde_json::Value =
        serde_json::from_str(s.doc.as_deref().unwrap_or("{}")).unwrap_or_default();
    Ok(doc["estimate"]["standards"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| Some((x["code"].as_str()?.to_string(), x["share"].as_f64()?)))
        .collect())
}

/// For each standard code, the city-wide rate (and its effective n) of
/// the latest wave whose questionnaire links rate questions to it; a
/// standard with several such questions takes their mean rate and the
/// smallest effective n.
async fn survey_rates(
    state: &AppState,
) -> AppResult<(HashMap<String, (f64, f64)>, Option<Satisfaction>)> {
    use wenming_store::survey as sv;
    let mut waves: Vec<_> = sv::waves(&state.store)
        .await?
        .into_iter()
        .filter(|w| w.state != sv::WaveState::Draft)
        .collect();
    waves.sort_by_key(|w| std::cmp::Reverse((w.opens_on, w.id)));
    let roots = st::root_regions(&state.store).await?;
    let mut out: HashMap<String, (f64, f64)> = HashMap::new();
    let mut satisfaction = None;
    for wave in waves {
        let r = super::surveys::results(state, wave.id).await?;
        if satisfaction.is_none()
            && let Some(x) = r.results.rates.iter().find(|x| {
                x.rate == wenming_domain::survey::RateKind::Satisfaction
                    && x.group.is_none()
                    && roots.contains(&x.region_id)
            })
        {
            let e = x.weighted.as_ref().map_or(&x.estimate, |w| &w.estimate);
            satisfaction = Some(Satisfaction {
                wave: wave.name.clone(),
                p: e.p,
                low: e.low,
                high: e.high,
                n: x.n,
            });
        }
        let mut found: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
        for q in r.doc.questions.iter().filter(|q| q.rate.is_some()) {
            let Some(x) = r.results.rates.iter().find(|x| {
                x.question == q.code && x.group.is_none() && roots.contains(&x.region_id)
            }) else {
                continue;
            };
            let (rate, n_eff) = match &x.weighted {
                Some(w) => (w.estimate.p, w.kish_n / w.design_effect.max(1.0)),
                None => (x.estimate.p, x.n as f64),
            };
            for code in &q.standards {
                if !out.contains_key(code) {
                    found.entry(code.clone()).or_default().push((rate, n_eff));
                }
            }
        }
        for (code, xs) in found {
            let rate = xs.iter().map(|x| x.0).sum::<f64>() / xs.len() as f64;
            let n = xs.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
            out.insert(code, (rate, n));
        }
    }
    Ok((out, satisfaction))
}

/// Keeps the projection as it stands now.
pub async fn take_snapshot(
    state: &AppState,
    ctx: &wenming_store::Ctx,
    permit: &Permit<may::ManageScoring>,
    kind: SnapshotKind,
) -> AppResult<Option<Snapshot>> {
    let scope = permit.scope().clone();
    if !scope.is_everything() {
        return Err(AppError::Forbidden);
    }
    let p = compute(state, &scope, &Options::default()).await?;
    let doc = serde_json::to_string(&p).map_err(|_| AppError::Internal)?;
    let s = Snapshot {
        id: wenming_domain::new_id(),
        framework_id: p.framework.id,
        taken_on: p.as_of,
        kind,
        score: p.estimate.annual.score,
        low: p.interval.low,
        high: p.interval.high,
        standing: p.estimate.annual.standing.code().into(),
        doc: Some(doc),
    };
    let taken = st::take_snapshot(&state.store, ctx, permit, &s).await?;
    // The trends are measured against the newest snapshot.
    state.projection.forget();
    Ok(taken)
}

pub async fn snapshots(state: &AppState, auth: &Auth) -> AppResult<Vec<Snapshot>> {
    city_scope(auth)?;
    let fw = wenming_store::framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(st::snapshots(&state.store, fw.id).await?)
}

/// Takes this month's snapshot unless one is kept already (by this
/// instance or another: the job's lease and the one-a-month index both
/// see to it). Returns the snapshot taken, if any.
pub async fn monthly(state: &AppState, holder: &str) -> AppResult<Option<Snapshot>> {
    let store = &state.store;
    let now = jiff::Timestamp::now();
    let lease = jiff::SignedDuration::from_hours(2);
    if !wenming_store::jobs::try_lease(store, "score_snapshot", holder, lease, now).await? {
        return Ok(None);
    }
    let Some(fw) = wenming_store::framework::active(store).await? else {
        return Ok(None);
    };
    let today = super::today(state);
    let month = |d: jiff::civil::Date| (d.year(), d.month());
    if st::snapshots(store, fw.id)
        .await?
        .iter()
        .any(|s| s.kind == SnapshotKind::Monthly && month(s.taken_on) == month(today))
    {
        return Ok(None);
    }
    let city = wenming_store::org::whole_city(store).await?;
    let root = city.region_paths.first().cloned().unwrap_or_default();
    let permit = Permit::<may::ManageScoring>::system(&root);
    let ctx = wenming_store::Ctx::system("monthly snapshot");
    take_snapshot(state, &ctx, &permit, SnapshotKind::Monthly).await
}

/// Looks hourly whether this month's snapshot is due.
pub fn spawn_monthly(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let holder = wenming_domain::new_id().to_string();
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            ticker.tick().await;
            match monthly(&state, &holder).await {
                Ok(Some(s)) => tracing::info!(score = s.score, "monthly projection kept"),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = ?e, "monthly projection failed; next hour retries")
                }
            }
        }
    })
}

/// A flag with the names the office reads.
#[derive(Debug, Clone, Serialize)]
pub struct FlagLine {
    pub flag: wenming_domain::anomaly::Flag,
    pub name: String,
    pub with_name: Option<String>,
}

/// Days back the anomaly flags look at.
pub const ANOMALY_DAYS: i64 = 90;

/// The office's anomaly flags over the last 90 days (cases: the last three
/// months), each with the test that raised it. Prompts to look, never
/// verdicts; for the office only.
pub async fn anomalies(state: &AppState, auth: &Auth) -> AppResult<Vec<FlagLine>> {
    use wenming_domain::anomaly as an;
    let permit = auth.permit::<may::ManageScoring>()?;
    if !permit.scope().is_everything() {
        return Err(AppError::Forbidden);
    }
    let store = &state.store;
    let today = super::today(state);
    let since = today
        .checked_sub(jiff::Span::new().days(ANOMALY_DAYS))
        .unwrap_or(today);
    let mut cases: BTreeMap<Uuid, an::UnitCases> = BTreeMap::new();
    let mut month = today.first_of_month();
    for _ in 0..3 {
        let key = format!("{:04}-{:02}", month.year(), month.month());
        let m = super::metrics::month_metrics_in(state, permit.scope(), &key, &[]).await?;
        for (unit, row) in m.units {
            let c = cases.entry(unit).or_insert(an::UnitCases {
                unit,
                closed: 0,
                due: 0,
                reworked: 0,
                handled: 0,
            });
            c.closed += row.m.close_rate.num;
            c.due += row.m.close_rate.den;
            c.reworked += row.m.rework_rate.num;
            c.handled += row.m.rework_rate.den;
        }
        month = month.yesterday().unwrap_or(month).first_of_month();
    }
    let cases: Vec<an::UnitCases> = cases.into_values().collect();
    let mut flags = an::units(&cases);
    flags.extend(an::inspectors(
        &wenming_store::anomaly::inspector_strata(store, since).await?,
    ));
    flags.extend(an::sites(
        &wenming_store::anomaly::site_inspectors(store, since).await?,
    ));
    let names = wenming_store::anomaly::names(store).await?;
    Ok(flags
        .into_iter()
        .map(|flag| FlagLine {
            name: names.get(&flag.subject).cloned().unwrap_or_default(),
            with_name: flag.with.and_then(|w| names.get(&w).cloned()),
            flag,
        })
        .collect())
}
