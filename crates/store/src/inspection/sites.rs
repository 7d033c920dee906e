//! The sites of a round, and each inspector's assignments.

use super::{Round, get, tally};
use crate::org::parse_uuid;
use crate::{Store, StoreError, ts};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::inspection::Score;

#[derive(Debug, Clone, Serialize)]
pub struct RoundSite {
    pub round_id: Uuid,
    pub site_id: Uuid,
    pub site_code: String,
    pub site_name: String,
    pub type_code: String,
    pub type_name: String,
    pub region_name: String,
    pub region_path: String,
    pub sponsor_unit_name: Option<String>,
    /// Where the inspector stands, and the address.
    pub point: wenming_domain::geo::Point,
    pub address: Option<String>,
    pub inspector_id: Option<Uuid>,
    pub inspector_name: Option<String>,
    pub inspected_at: Option<jiff::Timestamp>,
    pub score: Score,
    /// Findings recorded beyond the site's vicinity.
    pub away: i64,
}

const ROUND_SITE_SELECT: &str = "SELECT rs.round_id, rs.site_id, rs.inspector_id, rs.inspected_at, \
    s.code AS site_code, s.name AS site_name, s.lon, s.lat, s.address, t.code AS type_code, t.name AS type_name, r.name AS region_name, r.path AS region_path, \
    un.name AS sponsor_unit_name, u.display_name AS inspector_name, \
    (SELECT COUNT(*) FROM finding f WHERE f.round_id = rs.round_id AND f.site_id = rs.site_id AND f.away = 1) AS away \
    FROM round_site rs JOIN site s ON s.id = rs.site_id JOIN site_type t ON t.id = s.type_id \
    JOIN region r ON r.id = s.region_id LEFT JOIN unit un ON un.id = s.sponsor_unit_id \
    LEFT JOIN app_user u ON u.id = rs.inspector_id";

fn round_site_from_row(r: &AnyRow, score: Score) -> Result<RoundSite, StoreError> {
    Ok(RoundSite {
        round_id: parse_uuid(&r.try_get::<String, _>("round_id")?)?,
        site_id: parse_uuid(&r.try_get::<String, _>("site_id")?)?,
        site_code: r.try_get("site_code")?,
        site_name: r.try_get("site_name")?,
        type_code: r.try_get("type_code")?,
        type_name: r.try_get("type_name")?,
        point: wenming_domain::geo::Point {
            lon: r.try_get("lon")?,
            lat: r.try_get("lat")?,
        },
        address: r.try_get("address")?,
        region_name: r.try_get("region_name")?,
        region_path: r.try_get("region_path")?,
        sponsor_unit_name: r.try_get("sponsor_unit_name")?,
        inspector_id: r
            .try_get::<Option<String>, _>("inspector_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        inspector_name: r.try_get("inspector_name")?,
        inspected_at: r.try_get::<Option<i64>, _>("inspected_at")?.map(ts),
        score,
        away: r.try_get("away")?,
    })
}

/// The sites of a round in its order, with each one's score so far.
pub async fn round_sites(store: &Store, round_id: Uuid) -> Result<Vec<RoundSite>, StoreError> {
    let rows = sqlx::query(&format!(
        "{ROUND_SITE_SELECT} WHERE rs.round_id = $1 ORDER BY rs.position"
    ))
    .bind(round_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let scores = site_scores(store, round_id).await?;
    rows.iter()
        .map(|r| {
            let sid: String = r.try_get("site_id")?;
            let id = parse_uuid(&sid)?;
            round_site_from_row(r, scores.get(&id).copied().unwrap_or_default())
        })
        .collect()
}

async fn site_scores(store: &Store, round_id: Uuid) -> Result<HashMap<Uuid, Score>, StoreError> {
    let rows = sqlx::query(
        "SELECT site_id AS k, outcome, COUNT(*) AS n FROM finding WHERE round_id = $1 GROUP BY site_id, outcome",
    )
    .bind(round_id.to_string())
    .fetch_all(store.reader())
    .await?;
    tally(&rows)
}

/// The sites of open rounds an inspector is sent to, soonest round first.
pub async fn assignments(
    store: &Store,
    inspector_id: Uuid,
) -> Result<Vec<(Round, RoundSite)>, StoreError> {
    let rows = sqlx::query(&format!(
        "{ROUND_SITE_SELECT} JOIN inspection_round ir ON ir.id = rs.round_id \
         WHERE rs.inspector_id = $1 AND ir.status = 'open' ORDER BY ir.starts_on, rs.position"
    ))
    .bind(inspector_id.to_string())
    .fetch_all(store.reader())
    .await?;
    // Each round and its sites' scores read once, not once a site.
    let mut rounds: HashMap<Uuid, (Round, HashMap<Uuid, Score>)> = HashMap::new();
    let mut out = vec![];
    for r in &rows {
        let rid = parse_uuid(&r.try_get::<String, _>("round_id")?)?;
        if let std::collections::hash_map::Entry::Vacant(e) = rounds.entry(rid) {
            e.insert((get(store, rid).await?, site_scores(store, rid).await?));
        }
        let sid = parse_uuid(&r.try_get::<String, _>("site_id")?)?;
        let (round, scores) = &rounds[&rid];
        let score = scores.get(&sid).copied().unwrap_or_default();
        out.push((round.clone(), round_site_from_row(r, score)?));
    }
    Ok(out)
}

async fn site_score(store: &Store, round_id: Uuid, site_id: Uuid) -> Result<Score, StoreError> {
    let rows = sqlx::query(
        "SELECT site_id AS k, outcome, COUNT(*) AS n FROM finding WHERE round_id = $1 AND site_id = $2 GROUP BY site_id, outcome",
    )
    .bind(round_id.to_string())
    .bind(site_id.to_string())
    .fetch_all(store.reader())
    .await?;
    Ok(tally::<Uuid>(&rows)?.remove(&site_id).unwrap_or_default())
}

/// One site of a round: who may see it is decided by the caller (the
/// inspector sent there, or someone who sees the round).
pub async fn round_site(
    store: &Store,
    round_id: Uuid,
    site_id: Uuid,
) -> Result<RoundSite, StoreError> {
    let row = sqlx::query(&format!(
        "{ROUND_SITE_SELECT} WHERE rs.round_id = $1 AND rs.site_id = $2"
    ))
    .bind(round_id.to_string())
    .bind(site_id.to_string())
    .fetch_optional(store.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    round_site_from_row(&row, site_score(store, round_id, site_id).await?)
}
