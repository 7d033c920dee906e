//! Inspection rounds: drawing a round's sample and sending inspectors,
//! checklists from the round's framework, recording findings (a failure
//! opens a case for the site's sponsor unit), and the round's scores.

mod checklist;
mod create;
mod finding;
mod report;
mod sites;

pub use checklist::*;
pub use create::*;
pub use finding::*;
pub use report::*;
pub use sites::*;

use crate::org::parse_uuid;
use crate::sql::Sql;
use crate::{Store, StoreError, ts};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::inspection::{RoundKind, Score};
use wenming_domain::site::{Outcome, RotationRules};

#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub id: Uuid,
    pub kind: RoundKind,
    pub name: String,
    pub framework_id: Uuid,
    pub starts_on: jiff::civil::Date,
    pub ends_on: jiff::civil::Date,
    pub seed: u64,
    pub sample_size: i64,
    pub skip_days: Option<i64>,
    pub rules: RotationRules,
    /// open or closed
    pub status: String,
    pub version: i64,
    pub created_at: jiff::Timestamp,
    /// Sites sampled, and those with findings.
    pub sites: i64,
    pub inspected: i64,
    pub score: Score,
}

const ROUND_SELECT: &str = "SELECT r.*, \
    (SELECT COUNT(*) FROM round_site rs WHERE rs.round_id = r.id) AS n_sites, \
    (SELECT COUNT(*) FROM round_site rs WHERE rs.round_id = r.id AND rs.inspected_at IS NOT NULL) AS n_inspected \
    FROM inspection_round r";

fn round_from_row(r: &AnyRow, score: Score) -> Result<Round, StoreError> {
    let id: String = r.try_get("id")?;
    let kind: String = r.try_get("kind")?;
    let fid: String = r.try_get("framework_id")?;
    let day = |k: &str| -> Result<jiff::civil::Date, StoreError> {
        let s: String = r.try_get(k)?;
        s.parse()
            .map_err(|_| StoreError::Corrupt(format!("round {id} {k} {s}")))
    };
    let seed: i64 = r.try_get("seed")?;
    Ok(Round {
        id: parse_uuid(&id)?,
        kind: RoundKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("round kind {kind}")))?,
        name: r.try_get("name")?,
        framework_id: parse_uuid(&fid)?,
        starts_on: day("starts_on")?,
        ends_on: day("ends_on")?,
        seed: seed as u64,
        sample_size: r.try_get("sample_size")?,
        skip_days: r.try_get("skip_days")?,
        rules: RotationRules {
            not_where_they_work: r.try_get::<i64, _>("not_where_they_work")? != 0,
            not_twice_in_a_row: r.try_get::<i64, _>("not_twice_in_a_row")? != 0,
        },
        status: r.try_get("status")?,
        version: r.try_get("version")?,
        created_at: ts(r.try_get("created_at")?),
        sites: r.try_get("n_sites")?,
        inspected: r.try_get("n_inspected")?,
        score,
    })
}

/// Passed and observed findings of each round (or of the given ones): one
/// grouped read of the findings' index, a row a round.
pub async fn scores_by_round(
    store: &Store,
    round_ids: Option<&[Uuid]>,
) -> Result<HashMap<Uuid, Score>, StoreError> {
    let mut sql = Sql::new(
        "SELECT round_id, CAST(SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) AS BIGINT) AS passed, \
         CAST(SUM(CASE WHEN outcome = 'na' THEN 0 ELSE 1 END) AS BIGINT) AS observed FROM finding",
    );
    if let Some(ids) = round_ids {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ph: Vec<String> = ids.iter().map(|i| sql.text_arg(i.to_string())).collect();
        sql.push(&format!(" WHERE round_id IN ({})", ph.join(", ")));
    }
    sql.push(" GROUP BY round_id");
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_uuid(&r.try_get::<String, _>("round_id")?)?,
                Score {
                    passed: r.try_get("passed")?,
                    observed: r.try_get("observed")?,
                },
            ))
        })
        .collect()
}

/// Adds `(k, outcome, n)` rows into scores per key.
fn tally<K: std::str::FromStr + std::hash::Hash + Eq>(
    rows: &[AnyRow],
) -> Result<HashMap<K, Score>, StoreError> {
    let mut out: HashMap<K, Score> = HashMap::new();
    for r in rows {
        let k: String = r.try_get("k")?;
        let k = k
            .parse::<K>()
            .map_err(|_| StoreError::Corrupt(format!("score key {k}")))?;
        let o: String = r.try_get("outcome")?;
        let n: i64 = r.try_get("n")?;
        let s = out.entry(k).or_default();
        match Outcome::parse(&o) {
            Some(Outcome::Pass) => {
                s.passed += n;
                s.observed += n;
            }
            Some(Outcome::Fail) => s.observed += n,
            Some(Outcome::NotApplicable) => {}
            None => return Err(StoreError::Corrupt(format!("finding outcome {o}"))),
        }
    }
    Ok(out)
}

/// Rounds, newest first.
pub async fn list(store: &Store) -> Result<Vec<Round>, StoreError> {
    // The newest 200 first, then their counts: counting every round's
    // sites before the sort took 0.6 s at 8,000 daily patrol rounds.
    let rows = sqlx::query(&ROUND_SELECT.replace(
        "FROM inspection_round r",
        "FROM (SELECT * FROM inspection_round ORDER BY starts_on DESC, created_at DESC LIMIT 200) r \
         ORDER BY r.starts_on DESC, r.created_at DESC",
    ))
    .fetch_all(store.reader())
    .await?;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| parse_uuid(&r.try_get::<String, _>("id")?))
        .collect::<Result<_, _>>()?;
    let scores = scores_by_round(store, Some(&ids)).await?;
    rows.iter()
        .zip(&ids)
        .map(|(r, id)| round_from_row(r, scores.get(id).copied().unwrap_or_default()))
        .collect()
}

pub async fn get(store: &Store, id: Uuid) -> Result<Round, StoreError> {
    let row = sqlx::query(&format!("{ROUND_SELECT} WHERE r.id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    let scores = scores_by_round(store, Some(&[id])).await?;
    round_from_row(&row, scores.get(&id).copied().unwrap_or_default())
}
