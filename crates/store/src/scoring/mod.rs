//! What the projected score is made from besides the measured data (the
//! office's assessments, negative-list events, gates' and past years'
//! results, survey rules), the reads that gather the measured data by
//! standard, and the snapshots of the projection.

use crate::org::parse_uuid;
use crate::sql::rows_for_ids;
use crate::{Store, StoreError};
use serde::Serialize;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;
use wenming_domain::framework::{Method, NodeKind, Points};

mod records;
mod snapshot;

pub use records::*;
pub use snapshot::*;

/// A scored standard of a framework, as the projection needs it.
#[derive(Debug, Clone, Serialize)]
pub struct StandardRow {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub points: Points,
    pub featured: bool,
    pub methods: Vec<Method>,
    pub lead_unit: Option<String>,
}

pub async fn standards(store: &Store, framework_id: Uuid) -> Result<Vec<StandardRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT n.id, n.code, n.title, n.points, n.methods, n.featured, \
         (SELECT u.name FROM standard_unit su JOIN unit u ON u.id = su.unit_id \
          WHERE su.node_id = n.id AND su.role = 'lead' ORDER BY su.position LIMIT 1) AS lead \
         FROM framework_node n WHERE n.framework_id = $1 AND n.kind = $2",
    )
    .bind(framework_id.to_string())
    .bind(NodeKind::Standard.code())
    .fetch_all(store.reader())
    .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            let methods: Option<String> = r.try_get("methods")?;
            Ok(StandardRow {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                points: Points(r.try_get::<Option<i64>, _>("points")?.unwrap_or(0)),
                featured: r.try_get::<Option<i64>, _>("featured")?.unwrap_or(0) == 1,
                methods: methods
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(Method::parse)
                    .collect(),
                lead_unit: r.try_get("lead")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by_cached_key(|s| crate::evidence::code_key(&s.code));
    Ok(out)
}

/// A round whose findings may count for the on-site share.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRef {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub ends_on: jiff::civil::Date,
}

/// The framework's rounds, newest first; `counting` keeps the mock and
/// third-party ones ending on or after `since` (the projection's default).
pub async fn rounds(
    store: &Store,
    framework_id: Uuid,
    counting: Option<jiff::civil::Date>,
) -> Result<Vec<RoundRef>, StoreError> {
    // The counted ones are picked by the database: a city's daily patrol
    // rounds run to thousands.
    let rows = match counting {
        Some(since) => {
            sqlx::query(
                "SELECT id, name, kind, ends_on FROM inspection_round WHERE framework_id = $1 \
                 AND kind IN ('mock', 'third_party') AND ends_on >= $2 ORDER BY ends_on DESC, id",
            )
            .bind(framework_id.to_string())
            .bind(since.to_string())
            .fetch_all(store.reader())
            .await?
        }
        None => {
            sqlx::query(
                "SELECT id, name, kind, ends_on FROM inspection_round WHERE framework_id = $1 \
                 ORDER BY ends_on DESC, id",
            )
            .bind(framework_id.to_string())
            .fetch_all(store.reader())
            .await?
        }
    };
    let mut out = vec![];
    for r in &rows {
        let ends: String = r.try_get("ends_on")?;
        let round = RoundRef {
            id: parse_uuid(&r.try_get::<String, _>("id")?)?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            ends_on: ends
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("round day {ends}")))?,
        };
        let keep = match counting {
            Some(since) => {
                matches!(round.kind.as_str(), "mock" | "third_party") && round.ends_on >= since
            }
            None => true,
        };
        if keep {
            out.push(round);
        }
    }
    Ok(out)
}

/// Findings of the rounds by site and standard: (site, standard, passed,
/// judged); not-applicable findings are not judged.
pub async fn site_findings(
    store: &Store,
    rounds: &[Uuid],
) -> Result<Vec<(Uuid, Uuid, u32, u32)>, StoreError> {
    let rows = rows_for_ids(
        store,
        "SELECT site_id, standard_id, \
         CAST(SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) AS BIGINT) AS met, \
         CAST(SUM(CASE WHEN outcome IN ('pass', 'fail') THEN 1 ELSE 0 END) AS BIGINT) AS made \
         FROM finding WHERE round_id IN ({ids}) GROUP BY site_id, standard_id",
        rounds,
    )
    .await?;
    let mut sum: BTreeMap<(Uuid, Uuid), (u32, u32)> = BTreeMap::new();
    for r in &rows {
        let key = (
            parse_uuid(&r.try_get::<String, _>("site_id")?)?,
            parse_uuid(&r.try_get::<String, _>("standard_id")?)?,
        );
        add(sum.entry(key).or_default(), r)?;
    }
    Ok(sum
        .into_iter()
        .map(|((site, standard), (met, made))| (site, standard, met, made))
        .collect())
}

/// Adds a row's `met` and `made` to a running (passed, judged).
fn add(to: &mut (u32, u32), r: &sqlx::any::AnyRow) -> Result<(), StoreError> {
    let count = |c: &str| -> Result<u32, StoreError> {
        Ok(u32::try_from(r.try_get::<i64, _>(c)?).unwrap_or(u32::MAX))
    };
    to.0 = to.0.saturating_add(count("met")?);
    to.1 = to.1.saturating_add(count("made")?);
    Ok(())
}

/// Open cases a standard's failed findings opened, by standard.
pub async fn open_cases(
    store: &Store,
    framework_id: Uuid,
) -> Result<HashMap<Uuid, i64>, StoreError> {
    let rows = sqlx::query(
        "SELECT f.standard_id, CAST(COUNT(DISTINCT c.id) AS BIGINT) AS n FROM finding f \
         JOIN case_record c ON c.id = f.case_id JOIN framework_node n ON n.id = f.standard_id \
         WHERE n.framework_id = $1 AND c.state NOT IN ('rejected', 'voided', 'duplicate', 'closed') \
         GROUP BY f.standard_id",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_uuid(&r.try_get::<String, _>("standard_id")?)?,
                r.try_get("n")?,
            ))
        })
        .collect()
}

/// The city's root regions: where a survey's city-wide rates are kept.
pub async fn root_regions(store: &Store) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM region WHERE parent_id IS NULL")
        .fetch_all(store.reader())
        .await?;
    ids.iter().map(|s| parse_uuid(s)).collect()
}

/// Findings of the rounds by the region of their site: (region, passed,
/// judged).
pub async fn region_findings(
    store: &Store,
    rounds: &[Uuid],
) -> Result<Vec<(Uuid, u32, u32)>, StoreError> {
    let rows = rows_for_ids(
        store,
        "SELECT s.region_id, \
         CAST(SUM(CASE WHEN f.outcome = 'pass' THEN 1 ELSE 0 END) AS BIGINT) AS met, \
         CAST(SUM(CASE WHEN f.outcome IN ('pass', 'fail') THEN 1 ELSE 0 END) AS BIGINT) AS made \
         FROM finding f JOIN site s ON s.id = f.site_id WHERE f.round_id IN ({ids}) GROUP BY s.region_id",
        rounds,
    )
    .await?;
    let mut sum: BTreeMap<Uuid, (u32, u32)> = BTreeMap::new();
    for r in &rows {
        let region = parse_uuid(&r.try_get::<String, _>("region_id")?)?;
        add(sum.entry(region).or_default(), r)?;
    }
    Ok(sum
        .into_iter()
        .map(|(region, (met, made))| (region, met, made))
        .collect())
}
