//! A month's case metrics per unit, ranked: the metrics page and the API.

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use std::collections::BTreeMap;
use uuid::Uuid;
use wenming_domain::metrics::{
    DEFAULT_COMPOSITE, Metrics, Period, Tally, compute, from_tally, month_key, rank,
};
use wenming_domain::policy::Action;
use wenming_store::case::{self, tally};
use wenming_store::org;

/// Units with fewer cases due than this are listed but not ranked.
pub const MIN_N: u64 = 10;

pub struct Row {
    pub name: String,
    pub m: Metrics,
    pub rank: Option<usize>,
}

/// One month's metrics per unit, ranked, and the total: what the page and
/// the API show.
pub struct MonthMetrics {
    pub first: jiff::civil::Date,
    pub prev_first: jiff::civil::Date,
    pub next_first: jiff::civil::Date,
    pub units: Vec<(Uuid, Row)>,
    pub total: Metrics,
}

pub async fn month_metrics(state: &AppState, auth: &Auth, month: &str) -> AppResult<MonthMetrics> {
    month_metrics_of(state, auth, month, &[]).await
}

/// As `month_metrics`, for the cases of these categories only (the sums are
/// kept for all categories together, so a category set is counted from the
/// cases).
pub async fn month_metrics_of(
    state: &AppState,
    auth: &Auth,
    month: &str,
    categories: &[Uuid],
) -> AppResult<MonthMetrics> {
    let scope = auth.scope(Action::ViewCases)?;
    month_metrics_in(state, &scope, month, categories).await
}

/// As `month_metrics_of`, inside a scope already granted (a generated
/// material's, say).
pub async fn month_metrics_in(
    state: &AppState,
    scope: &wenming_domain::policy::Scope,
    month: &str,
    categories: &[Uuid],
) -> AppResult<MonthMetrics> {
    let tz = state.config.timezone.clone();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let first = format!("{}-01", month.trim())
        .parse::<jiff::civil::Date>()
        .unwrap_or_else(|_| today.first_of_month());
    let next_first = first.last_of_month().tomorrow().unwrap_or(first);
    let prev_first = first.yesterday().unwrap_or(first).first_of_month();
    let at = |d: jiff::civil::Date| {
        d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
    };
    let (start, end) = (
        at(first).map_err(|_| crate::error::AppError::Internal)?,
        at(next_first).map_err(|_| crate::error::AppError::Internal)?,
    );
    let now = jiff::Timestamp::now();
    let key = month_key(start, &tz);
    let sums = if categories.is_empty() {
        tally::month(&state.store, scope, key).await?
    } else {
        None
    };
    let (per_unit, total) = match sums {
        Some(sums) => {
            let overdue = tally::overdue_by_unit(&state.store, scope, now).await?;
            let mut per_unit: BTreeMap<Uuid, Tally> =
                overdue.keys().map(|u| (*u, Tally::default())).collect();
            let mut all = Tally::default();
            for (unit, t) in sums {
                all += t;
                if let Some(u) = unit {
                    *per_unit.entry(u).or_default() += t;
                }
            }
            let at = |u: &Uuid| overdue.get(u).copied().unwrap_or(0);
            (
                per_unit
                    .into_iter()
                    .map(|(u, t)| (u, from_tally(t, at(&u), &DEFAULT_COMPOSITE)))
                    .collect::<Vec<_>>(),
                from_tally(all, overdue.values().sum(), &DEFAULT_COMPOSITE),
            )
        }
        // The sums are being rebuilt (a calendar change, or a database that
        // had cases before they existed): the same figures from the cases.
        None => {
            let mut records =
                case::metric_records_in(&state.store, scope, start, end, categories).await?;
            let calendar = case::calendar(&state.store, tz).await?;
            let period = Period { start, end };
            // Sorted by unit, each unit's records are one slice: no copies.
            records.sort_by_key(|r| r.unit);
            let per_unit: Vec<(Uuid, Metrics)> = records
                .chunk_by(|a, b| a.unit == b.unit)
                .filter_map(|rs| {
                    rs[0]
                        .unit
                        .map(|u| (u, compute(rs, period, now, &calendar, &DEFAULT_COMPOSITE)))
                })
                .collect();
            let total = compute(&records, period, now, &calendar, &DEFAULT_COMPOSITE);
            (per_unit, total)
        }
    };
    // A unit is listed when it had something to count this month or is
    // late now, however its figures were reached.
    let per_unit: Vec<(Uuid, Metrics)> = per_unit
        .into_iter()
        .filter(|(_, m)| {
            m.registered + m.due + m.handled_in_period + m.extension_rate.den + m.overdue_now > 0
        })
        .collect();
    let ranking = rank(&per_unit, MIN_N);
    let city = org::whole_city(&state.store).await?;
    let names: BTreeMap<Uuid, String> = org::all_units(&state.store, &city, false)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut units: Vec<(Uuid, Row)> = per_unit
        .into_iter()
        .map(|(u, m)| {
            (
                u,
                Row {
                    name: names.get(&u).cloned().unwrap_or_default(),
                    rank: ranking.ranked.iter().find(|r| r.unit == u).map(|r| r.rank),
                    m,
                },
            )
        })
        .collect();
    units.sort_by_key(|(_, r)| (r.rank.is_none(), r.rank.unwrap_or(usize::MAX)));
    Ok(MonthMetrics {
        first,
        prev_first,
        next_first,
        units,
        total,
    })
}
