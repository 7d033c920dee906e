//! The cockpit (领导驾驶舱): the projected score with its interval and
//! standing, the weakest standards with a "what if", where the interval's
//! width comes from, the cycle and the snapshots; and, for the office, the
//! forms that record what the projection cannot measure.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::ApiQuery;
use crate::page::{PageCtx, form_status, render};
use crate::routes::see_other;
use crate::service::scoring::{self as svc, Options, Projection};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use wenming_domain::FieldErrors;
use wenming_domain::framework::{Method, NegativeListRule};
use wenming_domain::policy::{Action, may};
use wenming_reports::chart::TrendPoint;
use wenming_store::scoring::{self as st, Snapshot, SnapshotKind};

#[derive(Template)]
#[template(path = "scoring/cockpit.html")]
struct CockpitPage {
    p: PageCtx,
    pr: Projection,
    snapshots: Vec<Snapshot>,
    can_manage: bool,
    rules: Vec<NegativeListRule>,
    methods: Vec<Method>,
    errors: FieldErrors,
    /// Streets shaded by their on-site score rate, as SVG.
    map: Option<String>,
    /// The snapshots' projected score and interval over time, as SVG for
    /// a desktop and for a phone (empty before the first snapshot).
    trend: [String; 2],
    /// The wall screen: no navigation or forms, refreshed every few minutes.
    wall: bool,
    tz: jiff::tz::TimeZone,
    /// Cases this month and last, and the latest round (for whoever sees
    /// cases).
    cases: Option<std::sync::Arc<crate::service::queue::LeaderSummary>>,
}

impl CockpitPage {
    fn num(&self, v: impl Figure) -> String {
        let v = v.value();
        format!("{v:.1}")
    }
    fn pct(&self, v: impl Figure) -> String {
        let v = v.value();
        format!("{:.0}%", v * 100.0)
    }
    fn signed(&self, v: impl Figure) -> String {
        let v = v.value();
        format!("{v:+.1}")
    }
    /// Where a score falls on the bar, in percent of the scale.
    fn at(&self, v: impl Figure) -> String {
        let v = v.value();
        let most = (self.pr.estimate.basic_points + self.pr.estimate.featured_points).max(1.0);
        format!("{:.1}", (v / most * 100.0).clamp(0.0, 100.0))
    }
    /// When the shown projection was computed, in the city's time.
    fn computed(&self) -> String {
        self.pr
            .computed_at
            .to_zoned_datetime(self.tz.clone())
            .strftime("%H:%M")
            .to_string()
    }
    /// Ten weakest standards.
    fn top(&self) -> usize {
        self.pr.weak_links.len().min(10)
    }
    /// A rate as a percentage, or a dash.
    fn rate(&self, r: &wenming_domain::metrics::Rate) -> String {
        r.value()
            .map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
    }
    /// The latest round's score rate and its change from the one before.
    fn round_line(&self) -> Option<(String, String, String)> {
        let (r, before) = self.cases.as_ref()?.round.as_ref()?;
        let now = r.score.rate()?;
        let change = before
            .and_then(|b| b.rate())
            .map_or("—".into(), |b| format!("{:+.1} pp", (now - b) * 100.0));
        Some((r.name.clone(), format!("{:.1}%", now * 100.0), change))
    }
    fn chosen(&self, code: &str) -> bool {
        self.pr
            .what_if
            .as_ref()
            .is_some_and(|w| w.full.iter().any(|c| c == code))
    }
}

/// A number as the template hands it over (by value or by reference).
trait Figure {
    fn value(&self) -> f64;
}

impl Figure for f64 {
    fn value(&self) -> f64 {
        *self
    }
}

impl<T: Figure> Figure for &T {
    fn value(&self) -> f64 {
        (**self).value()
    }
}

/// Every grid cell shaded by its street's on-site score rate (the darker,
/// the more points lost there: from 100% to 50% and below, where the
/// rates of a campaigning city lie), each street named with its rate:
/// shade and number, never colour alone.
async fn street_map(state: &AppState, auth: &Auth, pr: &Projection) -> AppResult<Option<String>> {
    use wenming_domain::org::RegionLevel;
    use wenming_reports::map::{Area, Label, middle, svg};
    let city = wenming_store::org::whole_city(&state.store).await?;
    let regions = wenming_store::org::list_regions(&state.store, &city).await?;
    let path_of: std::collections::HashMap<uuid::Uuid, &str> =
        regions.iter().map(|r| (r.id, r.path.as_str())).collect();
    let streets: Vec<_> = regions
        .iter()
        .filter(|r| r.level == RegionLevel::Street)
        .collect();
    let rate: Vec<Option<f64>> = streets
        .iter()
        .map(|st| pr.on_site_rate_within(|id| path_of.get(&id).copied(), &st.path))
        .collect();
    let cells: Vec<_> = regions
        .iter()
        .filter(|r| r.level == RegionLevel::Grid && r.boundary.is_some())
        .collect();
    if cells.is_empty() {
        return Ok(None);
    }
    let street_of = |cell: &str| streets.iter().position(|s| cell.starts_with(&s.path));
    let areas: Vec<Area> = cells
        .iter()
        .map(|c| Area {
            geometry: c.boundary.as_ref().expect("filtered on boundary"),
            label: &c.name,
            intensity: street_of(&c.path)
                .and_then(|i| rate[i])
                .map_or(0.0, |r| ((1.0 - r) * 2.0).clamp(0.0, 1.0)),
            href: None,
        })
        .collect();
    let texts: Vec<(String, (f64, f64))> = streets
        .iter()
        .enumerate()
        .filter_map(|(i, st)| {
            let inside: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.path.starts_with(&st.path))
                .filter_map(|c| middle(c.boundary.as_ref()?))
                .collect();
            if inside.is_empty() {
                return None;
            }
            let n = inside.len() as f64;
            let at = (
                inside.iter().map(|p| p.0).sum::<f64>() / n,
                inside.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let shown = rate[i].map_or("—".to_string(), |r| format!("{:.0}%", r * 100.0));
            Some((format!("{} {shown}", st.name), at))
        })
        .collect();
    let labels: Vec<Label> = texts
        .iter()
        .map(|(text, (lon, lat))| Label {
            lon: *lon,
            lat: *lat,
            text,
            class: "street",
        })
        .collect();
    Ok(Some(svg(
        &areas,
        &[],
        &labels,
        800.0,
        crate::i18n::t(auth.lang, "cockpit.map"),
    )))
}

async fn page(
    state: &AppState,
    auth: &Auth,
    full: Vec<String>,
    flash: Option<&str>,
    errors: FieldErrors,
    wall: bool,
) -> AppResult<Response> {
    let pr = svc::projection(
        state,
        auth,
        &Options {
            full,
            ..Options::default()
        },
    )
    .await?;
    let snapshots = svc::snapshots(state, auth).await?;
    let fw = wenming_store::framework::get(&state.store, pr.framework.id).await?;
    let status = form_status(&errors, false);
    let map = street_map(state, auth, &pr).await?;
    let cases = if auth.may(Action::ViewCases) {
        Some(crate::service::queue::leader(state, auth).await?)
    } else {
        None
    };
    let dates: Vec<String> = snapshots.iter().map(|s| s.taken_on.to_string()).collect();
    let points: Vec<TrendPoint> = snapshots
        .iter()
        .zip(&dates)
        .map(|(s, label)| TrendPoint {
            label,
            value: s.score,
            low: s.low,
            high: s.high,
        })
        .collect();
    let axis = crate::i18n::t(auth.lang, "cockpit.projected");
    // A phone gets its own drawing: the desktop's scaled down would write
    // its numbers too small to read.
    let trend = [
        wenming_reports::chart::trend(&points, axis, 720, 240),
        wenming_reports::chart::trend(&points, axis, 360, 220),
    ];
    let page = CockpitPage {
        cases,
        map,
        trend,
        wall,
        tz: state.config.timezone.clone(),
        p: PageCtx::new(auth, state).with_flash(flash),
        pr,
        snapshots,
        can_manage: auth.may(Action::ManageScoring),
        rules: fw.settings.negative_list,
        methods: Method::ALL.to_vec(),
        errors,
    };
    Ok((status, render(&page)).into_response())
}

/// `?full=A1&full=B2` puts those standards at full marks.
pub async fn cockpit(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<Vec<(String, String)>>,
) -> AppResult<Response> {
    let full = q
        .iter()
        .filter(|(k, _)| k == "full")
        .map(|(_, v)| v.clone())
        .collect();
    let done = q.iter().find(|(k, _)| k == "done").map(|(_, v)| v.as_str());
    let wall = q.iter().any(|(k, v)| k == "wall" && v == "1");
    page(&state, &auth, full, done, FieldErrors::new(), wall).await
}

fn field<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs
        .iter()
        .find(|(f, _)| f == k)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// Keeps the projection as it stands (a snapshot on demand).
pub async fn snapshot(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageScoring>()?;
    svc::take_snapshot(&state, &f.auth.ctx(), &permit, SnapshotKind::OnDemand)
        .await?
        .ok_or(AppError::Conflict)?;
    Ok(see_other("/cockpit", "snapshot_taken"))
}

/// Records a negative-list event, a gate's score or a year's score from
/// the office's forms; an error shows beside its field.
pub async fn record(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageScoring>()?;
    let pairs = &f.form;
    let fw = wenming_store::framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let ctx = f.auth.ctx();
    let number = |k: &str| field(pairs, k).parse::<f64>().ok();
    let year = || field(pairs, "year").parse::<i32>().unwrap_or(0);
    let outcome = match field(pairs, "what") {
        "negative_event" => match field(pairs, "occurred_on").parse::<jiff::civil::Date>() {
            Ok(on) => svc::record_negative_event(
                &state,
                &ctx,
                &permit,
                fw.id,
                &st::EventInput {
                    rule_code: field(pairs, "rule_code"),
                    occurred_on: on,
                    note: field(pairs, "note"),
                },
            )
            .await
            .map(|_| "negative_event_recorded"),
            Err(_) => Err(wenming_store::StoreError::invalid(
                "occurred_on",
                "invalid_date",
            )),
        },
        "gate" | "annual" => match number("score") {
            Some(score) => {
                let gate = (field(pairs, "what") == "gate").then(|| field(pairs, "gate"));
                svc::record_year_score(
                    &state,
                    &ctx,
                    &permit,
                    fw.id,
                    st::ScoreInput {
                        gate,
                        year: year(),
                        score,
                        note: field(pairs, "note"),
                    },
                )
                .await
                .map(|_| "score_recorded")
            }
            None => Err(wenming_store::StoreError::invalid("score", "not_a_number")),
        },
        "assessment" => {
            let standard = svc_standard(&state, fw.id, field(pairs, "standard_code")).await?;
            match (standard, Method::parse(field(pairs, "method"))) {
                (Some(standard_id), Some(method)) => {
                    let existing = st::assessments(&state.store, fw.id, year())
                        .await?
                        .into_iter()
                        .find(|a| a.standard_id == standard_id && a.method == method);
                    svc::record_assessment(
                        &state,
                        &ctx,
                        &permit,
                        &st::AssessmentInput {
                            standard_id,
                            year: year(),
                            method,
                            share: number("share_percent").map(|p| p / 100.0),
                            statistic: None,
                            note: field(pairs, "note").into(),
                            evidence_url: Some(field(pairs, "evidence_url"))
                                .filter(|u| !u.is_empty())
                                .map(String::from),
                            expected_version: existing.map(|a| a.version),
                        },
                    )
                    .await
                    .map(|_| "assessment_recorded")
                }
                (None, _) => Err(wenming_store::StoreError::invalid(
                    "standard_code",
                    "not_found",
                )),
                (_, None) => Err(wenming_store::StoreError::invalid(
                    "method",
                    "invalid_choice",
                )),
            }
        }
        _ => Err(wenming_store::StoreError::invalid("what", "invalid_choice")),
    };
    match outcome {
        Ok(done) => Ok(see_other("/cockpit", done)),
        Err(wenming_store::StoreError::Invalid(e)) => {
            page(&state, &f.auth, vec![], None, e, false).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn svc_standard(
    state: &AppState,
    framework_id: uuid::Uuid,
    code: &str,
) -> AppResult<Option<uuid::Uuid>> {
    Ok(st::standards(&state.store, framework_id)
        .await?
        .into_iter()
        .find(|s| s.code == code)
        .map(|s| s.id))
}

#[derive(Template)]
#[template(path = "scoring/anomalies.html")]
struct AnomalyPage {
    p: PageCtx,
    flags: Vec<svc::FlagLine>,
    days: i64,
}

/// The office's anomaly flags.
pub async fn anomalies(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let page = AnomalyPage {
        flags: svc::anomalies(&state, &auth).await?,
        p: PageCtx::new(&auth, &state),
        days: svc::ANOMALY_DAYS,
    };
    Ok(render(&page))
}
