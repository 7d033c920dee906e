//! The round's report: scores per standard against the previous round of
//! its kind, worst first; and a site's history of visits.

use super::checklist::*;
use super::sites::*;
use super::{Round, get, tally};
use crate::org::parse_uuid;
use crate::{Store, StoreError, ts};
use serde::Serialize;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;
use wenming_domain::inspection::{RoundKind, Score};

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub key: String,
    pub label: String,
    pub score: Score,
    /// The same line in the previous round, when there is one.
    pub previous: Option<Score>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub round: Round,
    pub previous: Option<Round>,
    pub standards_observed: usize,
    /// Worst first (找准薄弱环节).
    pub standards: Vec<Line>,
    pub site_types: Vec<Line>,
    pub districts: Vec<Line>,
    /// Failures grouped by indicator, most first.
    pub problems: Vec<(String, i64)>,
    pub sites: Vec<RoundSite>,
}

fn worst_first(lines: &mut [Line]) {
    lines.sort_by(|a, b| {
        let r = |l: &Line| l.score.rate().unwrap_or(2.0);
        r(a).partial_cmp(&r(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.score.failed().cmp(&a.score.failed()))
            .then_with(|| a.key.cmp(&b.key))
    });
}

async fn standard_scores(
    store: &Store,
    round_id: Uuid,
) -> Result<HashMap<Uuid, Score>, StoreError> {
    let rows = sqlx::query(
        "SELECT standard_id AS k, outcome, COUNT(*) AS n FROM finding WHERE round_id = $1 GROUP BY standard_id, outcome",
    )
    .bind(round_id.to_string())
    .fetch_all(store.reader())
    .await?;
    tally(&rows)
}

/// The previous round of the same kind, for comparison.
async fn previous(store: &Store, round: &Round) -> Result<Option<Round>, StoreError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM inspection_round WHERE kind = $1 AND id <> $2 \
         AND (starts_on < $3 OR (starts_on = $3 AND created_at < $4)) \
         ORDER BY starts_on DESC, created_at DESC LIMIT 1",
    )
    .bind(round.kind.code())
    .bind(round.id.to_string())
    .bind(round.starts_on.to_string())
    .bind(round.created_at.as_microsecond())
    .fetch_optional(store.reader())
    .await?;
    match id {
        Some(id) => Ok(Some(get(store, parse_uuid(&id)?).await?)),
        None => Ok(None),
    }
}

/// A round's report, as published mock evaluations are laid out.
pub async fn report(store: &Store, round_id: Uuid) -> Result<Report, StoreError> {
    let round = get(store, round_id).await?;
    let previous = previous(store, &round).await?;
    let items = standards_of(store, round.framework_id).await?;
    let by_standard = standard_scores(store, round_id).await?;
    let before = match &previous {
        Some(p) => standard_scores(store, p.id).await?,
        None => HashMap::new(),
    };
    let mut standards = vec![];
    let mut problems: BTreeMap<String, i64> = BTreeMap::new();
    for (item, _) in &items {
        let Some(s) = by_standard.get(&item.standard_id) else {
            continue;
        };
        if s.failed() > 0 {
            *problems.entry(item.indicator.clone()).or_default() += s.failed();
        }
        standards.push(Line {
            key: item.code.clone(),
            label: item.title.clone(),
            score: *s,
            previous: before.get(&item.standard_id).copied(),
        });
    }
    worst_first(&mut standards);
    let sites = round_sites(store, round_id).await?;
    let prev_sites = match &previous {
        Some(p) => round_sites(store, p.id).await?,
        None => vec![],
    };
    let group = |sites: &[RoundSite], key: &dyn Fn(&RoundSite) -> (String, String)| {
        let mut m: BTreeMap<String, (String, Score)> = BTreeMap::new();
        for s in sites {
            let (k, label) = key(s);
            let e = m.entry(k).or_insert((label, Score::default()));
            e.1.passed += s.score.passed;
            e.1.observed += s.score.observed;
        }
        m
    };
    let lines = |now: BTreeMap<String, (String, Score)>,
                 then: BTreeMap<String, (String, Score)>| {
        let mut v: Vec<Line> = now
            .into_iter()
            .filter(|(_, (_, s))| s.observed > 0)
            .map(|(k, (label, score))| Line {
                previous: then.get(&k).map(|t| t.1).filter(|s| s.observed > 0),
                key: k,
                label,
                score,
            })
            .collect();
        worst_first(&mut v);
        v
    };
    let by_type = |s: &RoundSite| (s.type_name.clone(), s.type_name.clone());
    let site_types = lines(group(&sites, &by_type), group(&prev_sites, &by_type));
    let names: HashMap<String, String> = sqlx::query_as("SELECT path, name FROM region")
        .fetch_all(store.reader())
        .await?
        .into_iter()
        .collect();
    let by_district = |s: &RoundSite| {
        let d = wenming_domain::site::district_of(&s.region_path);
        let label = names
            .get(&d)
            .cloned()
            .unwrap_or_else(|| s.region_name.clone());
        (d, label)
    };
    let districts = lines(
        group(&sites, &by_district),
        group(&prev_sites, &by_district),
    );
    let mut problems: Vec<(String, i64)> = problems.into_iter().collect();
    problems.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Report {
        standards_observed: standards.len(),
        round,
        previous,
        standards,
        site_types,
        districts,
        problems,
        sites,
    })
}

// ------------------------------------------------------------ a site's history

#[derive(Debug, Clone, Serialize)]
pub struct Visit {
    pub round_id: Uuid,
    pub round_name: String,
    pub kind: RoundKind,
    pub starts_on: jiff::civil::Date,
    pub inspector_name: Option<String>,
    pub inspected_at: Option<jiff::Timestamp>,
    pub score: Score,
}

/// A site's rounds, newest first, with its score in each.
pub async fn site_history(store: &Store, site_id: Uuid) -> Result<Vec<Visit>, StoreError> {
    let rows = sqlx::query(
        "SELECT ir.id, ir.name, ir.kind, ir.starts_on, rs.inspected_at, u.display_name AS inspector_name, \
         (SELECT COUNT(*) FROM finding f WHERE f.round_id = ir.id AND f.site_id = rs.site_id AND f.outcome = 'pass') AS passed, \
         (SELECT COUNT(*) FROM finding f WHERE f.round_id = ir.id AND f.site_id = rs.site_id AND f.outcome <> 'na') AS observed \
         FROM round_site rs JOIN inspection_round ir ON ir.id = rs.round_id LEFT JOIN app_user u ON u.id = rs.inspector_id \
         WHERE rs.site_id = $1 ORDER BY ir.starts_on DESC, ir.created_at DESC LIMIT 50",
    )
    .bind(site_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            let day: String = r.try_get("starts_on")?;
            Ok(Visit {
                round_id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                round_name: r.try_get("name")?,
                kind: RoundKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("round kind {kind}")))?,
                starts_on: day
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("round day {day}")))?,
                inspector_name: r.try_get("inspector_name")?,
                inspected_at: r.try_get::<Option<i64>, _>("inspected_at")?.map(ts),
                score: Score {
                    passed: r.try_get("passed")?,
                    observed: r.try_get("observed")?,
                },
            })
        })
        .collect()
}

/// Cases opened by a site's findings that are not closed yet.
pub async fn open_cases_of_site(
    store: &Store,
    site_id: Uuid,
) -> Result<Vec<(Uuid, String, String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.number, c.state, c.description FROM finding f JOIN case_record c ON c.id = f.case_id \
         WHERE f.site_id = $1 AND c.state NOT IN ('closed', 'rejected', 'voided', 'duplicate') ORDER BY c.reported_at DESC LIMIT 50",
    )
    .bind(site_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_uuid(&r.try_get::<String, _>("id")?)?,
                r.try_get("number")?,
                r.try_get("state")?,
                r.try_get("description")?,
            ))
        })
        .collect()
}
