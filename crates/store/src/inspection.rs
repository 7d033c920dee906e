//! Inspection rounds: drawing a round's sample and sending inspectors,
//! checklists from the round's framework, recording findings (a failure
//! opens a case for the site's sponsor unit), and the round's scores.

use crate::case::{self, Category, ReportWrite};
use crate::org::parse_uuid;
use crate::site::Site;
use crate::sql::{Sql, flag, marks};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::case::{IntakeInput, Source};
use wenming_domain::framework::Method;
use wenming_domain::inspection::{
    FindingDraft, Judged, RoundInput, RoundKind, Score, check, outcome_code, parse_outcome,
};
use wenming_domain::policy::{Permit, Resource, Scope, may};
use wenming_domain::site::{
    Assignment, InspectorRef, Observation, Outcome, Recorded, RotationRules, SampleSpec, SiteRef,
};

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
        match parse_outcome(&o) {
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
    let rows = sqlx::query(&format!(
        "{ROUND_SELECT} ORDER BY r.starts_on DESC, r.created_at DESC LIMIT 200"
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

// ------------------------------------------------------------ checklists

/// One standard on a site's checklist.
#[derive(Debug, Clone, Serialize)]
pub struct CheckItem {
    pub standard_id: Uuid,
    pub code: String,
    pub title: String,
    /// The indicator it belongs to: the kind of problem a failure is.
    pub indicator: String,
    pub observation: Observation,
}

/// The standards of a framework inspected on site, with the site types each
/// names: read once, matched to each site's type.
pub async fn site_standards(
    conn: &mut AnyConnection,
    framework_id: Uuid,
) -> Result<Vec<(CheckItem, Vec<String>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT n.id, n.code, n.title, n.methods, n.site_types, n.observation, p.title AS indicator \
         FROM framework_node n LEFT JOIN framework_node p ON p.id = n.parent_id \
         WHERE n.framework_id = $1 AND n.kind = 'standard' ORDER BY n.depth, n.code",
    )
    .bind(framework_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in &rows {
        let methods: Option<String> = r.try_get("methods")?;
        let on_site = methods
            .unwrap_or_default()
            .split(',')
            .any(|m| Method::parse(m.trim()) == Some(Method::SiteInspection));
        if !on_site {
            continue;
        }
        let types: Vec<String> = r
            .try_get::<Option<String>, _>("site_types")?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let id: String = r.try_get("id")?;
        out.push((
            CheckItem {
                standard_id: parse_uuid(&id)?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                indicator: r
                    .try_get::<Option<String>, _>("indicator")?
                    .unwrap_or_default(),
                observation: r
                    .try_get::<Option<String>, _>("observation")?
                    .and_then(|o| serde_json::from_str(&o).ok())
                    .unwrap_or(Observation::PassFail),
            },
            types,
        ));
    }
    out.sort_by_key(|a| code_order(&a.0.code));
    Ok(out)
}

/// Codes like 5.2.10 in their natural order.
fn code_order(code: &str) -> Vec<u32> {
    code.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

/// `site_standards` on a connection of the store's own.
pub async fn standards_of(
    store: &Store,
    framework_id: Uuid,
) -> Result<Vec<(CheckItem, Vec<String>)>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    site_standards(&mut conn, framework_id).await
}

/// The checklist for a site of this type under a framework.
pub fn checklist_for(
    standards: &[(CheckItem, Vec<String>)],
    type_code: &str,
    type_name: &str,
) -> Vec<CheckItem> {
    standards
        .iter()
        .filter(|(_, types)| wenming_domain::site::applies(types, type_code, type_name))
        .map(|(c, _)| c.clone())
        .collect()
}

/// A site's checklist under the active framework.
pub async fn checklist(store: &Store, site: &Site) -> Result<Vec<CheckItem>, StoreError> {
    let Some(f) = crate::framework::active(store).await? else {
        return Ok(vec![]);
    };
    let fid = f.id;
    let all = standards_of(store, fid).await?;
    Ok(checklist_for(&all, &site.type_code, &site.type_name))
}

// ------------------------------------------------------------ creating a round

/// Inspectors as rotation sees them: active accounts with the inspector
/// role, with the regions they work in — their grants' regions and their
/// unit's, leaving out the city itself (a city-wide grant says where they
/// may look, not that they work everywhere).
async fn inspectors(conn: &mut AnyConnection) -> Result<Vec<(InspectorRef, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, g.scope_kind, u.unit_id AS own_unit, gu.id AS grant_unit, \
         CASE WHEN g.scope_kind = 'region' THEN gr.path ELSE ur.path END AS grant_path, own.path AS unit_path \
         FROM app_user u JOIN role_grant g ON g.user_id = u.id AND g.role = 'inspector' \
         LEFT JOIN region gr ON g.scope_kind = 'region' AND gr.id = g.scope_id \
         LEFT JOIN unit gu ON g.scope_kind = 'unit' AND gu.id = g.scope_id \
         LEFT JOIN region ur ON ur.id = gu.region_id \
         LEFT JOIN unit uu ON uu.id = u.unit_id LEFT JOIN region own ON own.id = uu.region_id \
         WHERE u.active = 1 ORDER BY u.username",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(InspectorRef, String)> = vec![];
    for r in &rows {
        let id = parse_uuid(&r.try_get::<String, _>("id")?)?;
        let paths: Vec<String> = [
            r.try_get::<Option<String>, _>("grant_path")?,
            r.try_get("unit_path")?,
        ]
        .into_iter()
        .flatten()
        .filter(|p| p.matches('/').count() > 2)
        .collect();
        let units: Vec<Uuid> = [
            r.try_get::<Option<String>, _>("own_unit")?,
            r.try_get("grant_unit")?,
        ]
        .into_iter()
        .flatten()
        .map(|u| parse_uuid(&u))
        .collect::<Result<_, _>>()?;
        match out.iter_mut().find(|(i, _)| i.id == id) {
            Some((i, _)) => {
                for p in paths {
                    if !i.works_in.contains(&p) {
                        i.works_in.push(p);
                    }
                }
                for u in units {
                    if !i.units.contains(&u) {
                        i.units.push(u);
                    }
                }
            }
            None => out.push((
                InspectorRef {
                    id,
                    works_in: paths,
                    units,
                },
                r.try_get("display_name")?,
            )),
        }
    }
    Ok(out)
}

/// Inspectors a round may send, with their names.
pub async fn inspector_choices(store: &Store) -> Result<Vec<(Uuid, String)>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    Ok(inspectors(&mut conn)
        .await?
        .into_iter()
        .map(|(i, n)| (i.id, n))
        .collect())
}

/// Active sites in a scope as sampling sees them, with when and by whom
/// each was last inspected.
async fn site_refs(conn: &mut AnyConnection, scope: &Scope) -> Result<Vec<SiteRef>, StoreError> {
    let mut sql = Sql::new(
        "SELECT s.id, t.code AS type_code, r.path, s.sponsor_unit_id, \
         (SELECT MAX(rs.inspected_at) FROM round_site rs WHERE rs.site_id = s.id) AS last_at, \
         (SELECT rs.inspector_id FROM round_site rs WHERE rs.site_id = s.id AND rs.inspector_id IS NOT NULL \
          ORDER BY rs.inspected_at DESC, rs.round_id DESC LIMIT 1) AS last_by \
         FROM site s JOIN site_type t ON t.id = s.type_id JOIN region r ON r.id = s.region_id \
         WHERE s.active = 1",
    );
    sql.scope(scope, "r.path", Some("s.sponsor_unit_id"));
    let rows = sql.query().fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(SiteRef {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                type_code: r.try_get("type_code")?,
                region_path: r.try_get("path")?,
                last_inspected: r.try_get::<Option<i64>, _>("last_at")?.map(ts),
                last_inspector: r
                    .try_get::<Option<String>, _>("last_by")?
                    .as_deref()
                    .map(parse_uuid)
                    .transpose()?,
                sponsor_unit: r
                    .try_get::<Option<String>, _>("sponsor_unit_id")?
                    .as_deref()
                    .map(parse_uuid)
                    .transpose()?,
            })
        })
        .collect()
}

/// Draws a round's sample from the sites in `scope`, sends inspectors, and
/// writes it all in one transaction.
pub async fn create(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRounds>,
    input: &RoundInput,
) -> Result<Round, StoreError> {
    let scope = permit.scope();
    let framework_id = crate::framework::active(store)
        .await?
        .ok_or_else(|| StoreError::invalid("kind", "no_active_framework"))?
        .id;
    let seed = input.seed.unwrap_or_else(|| {
        let id = wenming_domain::new_id().as_u128();
        (id as u64) ^ ((id >> 64) as u64) & 0x7FFF_FFFF_FFFF_FFFF
    }) & 0x7FFF_FFFF_FFFF_FFFF;
    let now = now_micros();
    let mut tx = store.begin().await?;
    let sites = site_refs(&mut tx, scope).await?;
    let mut people = inspectors(&mut tx).await?;
    if !input.inspector_ids.is_empty() {
        for id in &input.inspector_ids {
            if !people.iter().any(|(i, _)| i.id == *id) {
                return Err(StoreError::invalid("inspector_ids", "not_an_inspector"));
            }
        }
        people.retain(|(i, _)| input.inspector_ids.contains(&i.id));
    }
    let spec = SampleSpec {
        size: input.sample_size,
        seed,
        skip_inspected_since: input
            .skip_days
            .map(|d| ts(now) - jiff::SignedDuration::from_hours(24 * d)),
    };
    let picked = wenming_domain::site::sample(&sites, &spec);
    if picked.is_empty() {
        return Err(StoreError::invalid("sample_size", "no_sites_to_sample"));
    }
    let by_id: HashMap<Uuid, &SiteRef> = sites.iter().map(|s| (s.id, s)).collect();
    let chosen: Vec<&SiteRef> = picked
        .iter()
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    let refs: Vec<InspectorRef> = people.into_iter().map(|(i, _)| i).collect();
    let assigned = wenming_domain::site::assign(&chosen, &refs, input.rules, seed);
    let id = insert_round(&mut tx, ctx, input, framework_id, seed, &assigned, now).await?;
    tx.commit().await?;
    get(store, id).await
}

/// Writes a drawn round and its sites, inside the caller's transaction.
pub(crate) async fn insert_round(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    input: &RoundInput,
    framework_id: Uuid,
    seed: u64,
    assigned: &[(Uuid, Assignment)],
    now: i64,
) -> Result<Uuid, StoreError> {
    let id = wenming_domain::new_id();
    sqlx::query(
        "INSERT INTO inspection_round (id, kind, name, framework_id, starts_on, ends_on, seed, sample_size, skip_days, \
         not_where_they_work, not_twice_in_a_row, status, created_by, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, 1, $13, $13)",
    )
    .bind(id.to_string())
    .bind(input.kind.code())
    .bind(&input.name)
    .bind(framework_id.to_string())
    .bind(input.starts_on.to_string())
    .bind(input.ends_on.to_string())
    .bind(seed as i64)
    .bind(input.sample_size as i64)
    .bind(input.skip_days)
    .bind(flag(input.rules.not_where_they_work))
    .bind(flag(input.rules.not_twice_in_a_row))
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_round_sites(&mut *tx, id, assigned).await?;
    #[derive(Serialize)]
    struct Created<'a> {
        name: &'a str,
        kind: &'a str,
        seed: u64,
        sites: usize,
        unassigned: usize,
    }
    audit::created(
        &mut *tx,
        ctx,
        "inspection_round",
        &id.to_string(),
        &Created {
            name: &input.name,
            kind: input.kind.code(),
            seed,
            sites: assigned.len(),
            unassigned: assigned
                .iter()
                .filter(|(_, a)| *a == Assignment::NoneEligible)
                .count(),
        },
    )
    .await?;
    Ok(id)
}

async fn insert_round_sites(
    tx: &mut AnyConnection,
    round_id: Uuid,
    assigned: &[(Uuid, Assignment)],
) -> Result<(), StoreError> {
    for (k, chunk) in assigned.chunks(200).enumerate() {
        let sql = format!(
            "INSERT INTO round_site (round_id, site_id, position, inspector_id) VALUES {}",
            crate::sql::rows(chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (i, (site, a)) in chunk.iter().enumerate() {
            q = q
                .bind(round_id.to_string())
                .bind(site.to_string())
                .bind((k * 200 + i) as i64)
                .bind(match a {
                    Assignment::To(u) => Some(u.to_string()),
                    Assignment::NoneEligible => None,
                });
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Sends another inspector to a site of an open round (the office's choice
/// where rotation found nobody, or a change of plan).
pub async fn reassign(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRounds>,
    round_id: Uuid,
    site_id: Uuid,
    inspector_id: Uuid,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    let is_inspector = inspectors(&mut tx)
        .await?
        .iter()
        .any(|(i, _)| i.id == inspector_id);
    if !is_inspector {
        return Err(StoreError::invalid("inspector_id", "not_an_inspector"));
    }
    let row: Option<(Option<String>, String)> = sqlx::query_as(
        "SELECT rs.inspector_id, g.path FROM round_site rs JOIN inspection_round r ON r.id = rs.round_id \
         JOIN site s ON s.id = rs.site_id JOIN region g ON g.id = s.region_id \
         WHERE rs.round_id = $1 AND rs.site_id = $2 AND r.status = 'open'",
    )
    .bind(round_id.to_string())
    .bind(site_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((before, path)) = row else {
        return Err(StoreError::NotFound);
    };
    if !permit.covers(Resource::Region { path: &path }) {
        return Err(StoreError::NotFound);
    }
    sqlx::query("UPDATE round_site SET inspector_id = $1 WHERE round_id = $2 AND site_id = $3")
        .bind(inspector_id.to_string())
        .bind(round_id.to_string())
        .bind(site_id.to_string())
        .execute(&mut *tx)
        .await?;
    audit::changed(
        &mut tx,
        ctx,
        "reassign",
        "round_site",
        &format!("{round_id}/{site_id}"),
        &before,
        &Some(inspector_id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Closes a round: no more findings are taken. Only a permit that reaches
/// every site of the round closes it (a district's office cannot end a
/// city-wide round under the other districts' inspectors).
pub async fn close(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRounds>,
    id: Uuid,
    version: i64,
) -> Result<Round, StoreError> {
    let mut tx = store.begin().await?;
    let paths: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT g.path FROM round_site rs JOIN site s ON s.id = rs.site_id \
         JOIN region g ON g.id = s.region_id WHERE rs.round_id = $1",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    if paths
        .iter()
        .any(|p| !permit.covers(Resource::Region { path: p }))
    {
        return Err(StoreError::Forbidden);
    }
    let n = sqlx::query(
        "UPDATE inspection_round SET status = 'closed', version = version + 1, updated_at = $1 \
         WHERE id = $2 AND version = $3 AND status = 'open'",
    )
    .bind(now_micros())
    .bind(id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    audit::changed(
        &mut tx,
        ctx,
        "close",
        "inspection_round",
        &id.to_string(),
        &"open",
        &"closed",
    )
    .await?;
    tx.commit().await?;
    get(store, id).await
}

// ------------------------------------------------------------ the sites of a round

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

// ------------------------------------------------------------ findings

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: Uuid,
    pub round_id: Uuid,
    pub site_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    pub outcome: Outcome,
    pub recorded: Recorded,
    pub note: Option<String>,
    pub inspector_name: Option<String>,
    pub observed_at: jiff::Timestamp,
    pub distance_m: Option<f64>,
    pub away: bool,
    /// Recorded by someone whose own unit sponsors the site.
    pub own_unit: bool,
    pub case_id: Option<Uuid>,
    pub case_number: Option<String>,
    pub photo_ids: Vec<Uuid>,
}

impl Finding {
    pub fn outcome_code(&self) -> &'static str {
        outcome_code(self.outcome)
    }
}

const FINDING_SELECT: &str = "SELECT f.*, n.code AS standard_code, n.title AS standard_title, \
    u.display_name AS inspector_name, c.number AS case_number FROM finding f \
    JOIN framework_node n ON n.id = f.standard_id LEFT JOIN app_user u ON u.id = f.inspector_id \
    LEFT JOIN case_record c ON c.id = f.case_id";

fn finding_from_row(r: &AnyRow) -> Result<Finding, StoreError> {
    let id: String = r.try_get("id")?;
    let o: String = r.try_get("outcome")?;
    let rec: String = r.try_get("recorded")?;
    Ok(Finding {
        id: parse_uuid(&id)?,
        round_id: parse_uuid(&r.try_get::<String, _>("round_id")?)?,
        site_id: parse_uuid(&r.try_get::<String, _>("site_id")?)?,
        standard_id: parse_uuid(&r.try_get::<String, _>("standard_id")?)?,
        standard_code: r.try_get("standard_code")?,
        standard_title: r.try_get("standard_title")?,
        outcome: parse_outcome(&o).ok_or_else(|| StoreError::Corrupt(format!("outcome {o}")))?,
        recorded: serde_json::from_str(&rec)
            .map_err(|_| StoreError::Corrupt(format!("finding {id} recorded {rec}")))?,
        note: r.try_get("note")?,
        inspector_name: r.try_get("inspector_name")?,
        observed_at: ts(r.try_get("observed_at")?),
        distance_m: r.try_get("distance_m")?,
        away: r.try_get::<i64, _>("away")? != 0,
        own_unit: r.try_get::<i64, _>("own_unit")? != 0,
        case_id: r
            .try_get::<Option<String>, _>("case_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        case_number: r.try_get("case_number")?,
        photo_ids: vec![],
    })
}

async fn with_photos(store: &Store, mut fs: Vec<Finding>) -> Result<Vec<Finding>, StoreError> {
    if fs.is_empty() {
        return Ok(fs);
    }
    let ids: Vec<String> = fs.iter().map(|f| f.id.to_string()).collect();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, finding_id FROM photo WHERE finding_id IN ({}) ORDER BY uploaded_at",
            marks(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        for r in q.fetch_all(store.reader()).await? {
            let fid = parse_uuid(&r.try_get::<String, _>("finding_id")?)?;
            let pid = parse_uuid(&r.try_get::<String, _>("id")?)?;
            if let Some(f) = fs.iter_mut().find(|f| f.id == fid) {
                f.photo_ids.push(pid);
            }
        }
    }
    Ok(fs)
}

/// The findings recorded at one site in one round, by standard.
pub async fn findings(
    store: &Store,
    round_id: Uuid,
    site_id: Uuid,
) -> Result<Vec<Finding>, StoreError> {
    let rows = sqlx::query(&format!(
        "{FINDING_SELECT} WHERE f.round_id = $1 AND f.site_id = $2"
    ))
    .bind(round_id.to_string())
    .bind(site_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut fs: Vec<Finding> = rows
        .iter()
        .map(finding_from_row)
        .collect::<Result<_, _>>()?;
    fs.sort_by_key(|a| code_order(&a.standard_code));
    with_photos(store, fs).await
}

/// What a submission did: the findings as stored (new and already there)
/// and how many were new.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub findings: Vec<Finding>,
    pub created: usize,
    pub cases_opened: usize,
}

/// Who is submitting: the inspector sent to the site, or the office (which
/// may record for any site of a round, as for a third-party result).
/// Who records findings: an inspector at the sites they were sent to, or
/// the office (for a round, or importing a third party's results) at any
/// site of a round its grant reaches.
pub enum Submitter<'a> {
    Inspector {
        ctx: &'a Ctx,
        permit: &'a Permit<may::Inspect>,
    },
    Office {
        ctx: &'a Ctx,
        permit: &'a Permit<may::ManageRounds>,
    },
}

impl Submitter<'_> {
    pub fn ctx(&self) -> &Ctx {
        match self {
            Submitter::Inspector { ctx, .. } | Submitter::Office { ctx, .. } => ctx,
        }
    }

    /// The account recorded as having made the findings.
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Submitter::Inspector { permit, .. } => permit.user_id(),
            Submitter::Office { permit, .. } => permit.user_id(),
        }
    }

    fn may_record_at(&self, rs: &RoundSite) -> bool {
        match self {
            Submitter::Inspector { permit, .. } => {
                rs.inspector_id.is_some() && rs.inspector_id == permit.user_id()
            }
            Submitter::Office { permit, .. } => permit.covers(Resource::Region {
                path: &rs.region_path,
            }),
        }
    }
}

/// The category a failed standard's case is filed under: the active
/// subcategory that names the standard. None names it: the case is
/// registered unclassified and the office chooses (a guess would give a
/// hospital window's problem a street-litter deadline).
fn category_for<'a>(cats: &'a [Category], standard_code: &str) -> Option<&'a Category> {
    cats.iter()
        .filter(|c| c.active && c.parent_id.is_some())
        .find(|c| c.standard_codes.iter().any(|s| s == standard_code))
}

/// Records findings at a site of a round in one transaction. A finding
/// whose id is already stored is left as it is (a device sending again);
/// each new failure opens a case for the site's sponsor unit, linked to it.
pub async fn submit(
    store: &Store,
    who: &Submitter<'_>,
    round_id: Uuid,
    site_id: Uuid,
    drafts: &[FindingDraft],
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Submitted, StoreError> {
    // Two devices sending the same findings at once: the loser of the race
    // finds the winner's rows on its second try and changes nothing.
    match submit_once(store, who, round_id, site_id, drafts, photo_rules, tz).await {
        Err(e) if e.is_unique_violation() || matches!(e, StoreError::Conflict) => {
            submit_once(store, who, round_id, site_id, drafts, photo_rules, tz).await
        }
        other => other,
    }
}

async fn submit_once(
    store: &Store,
    who: &Submitter<'_>,
    round_id: Uuid,
    site_id: Uuid,
    drafts: &[FindingDraft],
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Submitted, StoreError> {
    if drafts.is_empty() {
        return Err(StoreError::invalid("findings", "required"));
    }
    if drafts.len() > 200 {
        return Err(StoreError::invalid("findings", "too_many"));
    }
    let round = get(store, round_id).await?;
    let rs = round_site(store, round_id, site_id).await?;
    if !who.may_record_at(&rs) {
        return Err(StoreError::NotFound);
    }
    let city = crate::org::whole_city(store).await?;
    let site = crate::site::get(store, &city, site_id).await?;
    let standards = standards_of(store, round.framework_id).await?;
    let list = checklist_for(&standards, &site.type_code, &site.type_name);
    let now = now_micros();

    // Sent before: the same ids at the same site are left as they are.
    let ids: Vec<String> = drafts.iter().map(|d| d.id.to_string()).collect();
    let sql = format!(
        "SELECT id, round_id, site_id, standard_id FROM finding WHERE id IN ({})",
        marks(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &ids {
        q = q.bind(id.clone());
    }
    let stored: HashMap<String, (String, String, String)> = q
        .fetch_all(store.reader())
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("id")?,
                (
                    r.try_get("round_id")?,
                    r.try_get("site_id")?,
                    r.try_get("standard_id")?,
                ),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let taken: Vec<String> =
        sqlx::query_scalar("SELECT standard_id FROM finding WHERE round_id = $1 AND site_id = $2")
            .bind(round_id.to_string())
            .bind(site_id.to_string())
            .fetch_all(store.reader())
            .await?;

    let mut e = FieldErrors::new();
    let mut fresh = vec![];
    let mut seen_standards = vec![];
    for (i, d) in drafts.iter().enumerate() {
        if let Some((r, s, st)) = stored.get(&d.id.to_string()) {
            if *r != round_id.to_string()
                || *s != site_id.to_string()
                || *st != d.standard_id.to_string()
            {
                e.add(format!("findings[{i}].id"), "duplicate");
            }
            continue;
        }
        if round.status != "open" {
            e.add("round_id", "round_closed");
            break;
        }
        let Some(item) = list.iter().find(|c| c.standard_id == d.standard_id) else {
            e.add(format!("findings[{i}].standard_id"), "not_on_checklist");
            continue;
        };
        if taken.contains(&d.standard_id.to_string()) || seen_standards.contains(&d.standard_id) {
            e.add(format!("findings[{i}].standard_id"), "already_recorded");
            continue;
        }
        seen_standards.push(d.standard_id);
        if let Some(j) = check(&mut e, i, d, item.observation, site.point, ts(now)) {
            fresh.push((d, item, j));
        }
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }

    let mut created = 0;
    let mut cases_opened = 0;
    if !fresh.is_empty() {
        let world = Intake::now(store).await?;
        let mut tx = store.begin().await?;
        (created, cases_opened) = write_findings(
            &mut tx,
            &Writing {
                who,
                round_id,
                kind: round.kind,
                site: &site,
                world: &world,
                photo_rules,
                tz,
                now,
            },
            &fresh,
        )
        .await?;
        tx.commit().await?;
    }
    let all = findings(store, round_id, site_id).await?;
    let wanted: Vec<Uuid> = drafts.iter().map(|d| d.id).collect();
    Ok(Submitted {
        findings: all.into_iter().filter(|f| wanted.contains(&f.id)).collect(),
        created,
        cases_opened,
    })
}

/// What every finding write of a submission (or an import) shares.
pub(crate) struct Writing<'a> {
    pub(crate) who: &'a Submitter<'a>,
    pub(crate) round_id: Uuid,
    pub(crate) kind: RoundKind,
    pub(crate) site: &'a Site,
    pub(crate) world: &'a Intake,
    pub(crate) photo_rules: &'a crate::photo::PhotoRules,
    pub(crate) tz: &'a jiff::tz::TimeZone,
    pub(crate) now: i64,
}

/// Case categories, boundaries and routing rules, read once for a batch of
/// findings whose failures become cases.
pub(crate) struct Intake {
    cats: Vec<Category>,
    world: case::IntakeWorld,
}

impl Intake {
    pub(crate) async fn now(store: &Store) -> Result<Intake, StoreError> {
        Ok(Intake {
            cats: case::categories(store).await?,
            world: case::intake_world_now(store).await?,
        })
    }
}

/// Writes checked findings at one site inside the caller's transaction:
/// the findings, their photos, a case for each failure (for the site's
/// sponsor unit), the site marked inspected, an audit record. Returns how
/// many findings and cases were written.
pub(crate) async fn write_findings(
    tx: &mut AnyConnection,
    w: &Writing<'_>,
    fresh: &[(&FindingDraft, &CheckItem, Judged)],
) -> Result<(usize, usize), StoreError> {
    let (who, round_id, site, now) = (w.who, w.round_id, w.site, w.now);
    let site_id = site.id;
    let source = if w.kind == RoundKind::ThirdParty {
        Source::ThirdParty
    } else {
        Source::Inspection
    };
    let mut created = 0;
    let mut cases_opened = 0;
    let own_unit = match site.sponsor_unit_id {
        Some(unit) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM app_user u WHERE u.id = $1 AND (u.unit_id = $2 OR EXISTS \
                 (SELECT 1 FROM role_grant g WHERE g.user_id = u.id AND g.scope_kind = 'unit' AND g.scope_id = $2))",
            )
            .bind(who.user_id().map(|u| u.to_string()))
            .bind(unit.to_string())
            .fetch_one(&mut *tx)
            .await?
                > 0
        }
        None => false,
    };
    for (i, (d, item, j)) in fresh.iter().enumerate() {
        sqlx::query(
            "INSERT INTO finding (id, round_id, site_id, standard_id, outcome, recorded, note, inspector_id, observed_at, \
             lon, lat, distance_m, away, own_unit, case_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15)",
        )
        .bind(d.id.to_string())
        .bind(round_id.to_string())
        .bind(site_id.to_string())
        .bind(d.standard_id.to_string())
        .bind(outcome_code(j.outcome))
        .bind(serde_json::to_string(&d.recorded).unwrap_or_default())
        .bind(d.note.as_deref().map(str::trim).filter(|n| !n.is_empty()))
        .bind(who.user_id().map(|u| u.to_string()))
        .bind(d.observed_at.as_microsecond())
        .bind(j.point.map(|p| p.lon))
        .bind(j.point.map(|p| p.lat))
        .bind(j.distance_m)
        .bind(flag(j.away))
        .bind(flag(own_unit))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for p in &d.photo_ids {
            let n = sqlx::query(
                "UPDATE photo SET finding_id = $1 WHERE id = $2 AND uploaded_by = $3 \
                 AND finding_id IS NULL AND case_id IS NULL",
            )
            .bind(d.id.to_string())
            .bind(p.to_string())
            .bind(who.user_id().map(|u| u.to_string()))
            .execute(&mut *tx)
            .await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::invalid(
                    &format!("findings[{i}].photo_ids"),
                    "invalid_choice",
                ));
            }
        }
        created += 1;
        if j.outcome != Outcome::Fail {
            continue;
        }
        let unclassified;
        let cat = match category_for(&w.world.cats, &item.code) {
            Some(c) => c,
            None => {
                unclassified = case::unclassified(&mut *tx).await?;
                &unclassified
            }
        };
        let description = match d.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => format!("【{}】{} {}：{}", site.name, item.code, item.title, n),
            None => format!("【{}】{} {}", site.name, item.code, item.title),
        };
        let input = IntakeInput {
            client_id: None,
            source,
            category_id: cat.id,
            description: description.chars().take(500).collect(),
            point: Some(site.point),
            address: Some(site.address.clone().unwrap_or_else(|| site.name.clone())),
            reporter_name: None,
            reporter_phone: None,
            photo_ids: d.photo_ids.clone(),
        };
        let planned = case::intake_plan(&w.world.world, &input, cat)?.sent_to(site.sponsor_unit_id);
        let year = case::number_year(now, w.tz);
        let n = case::take_numbers(&mut *tx, year, 1).await?;
        let write = ReportWrite {
            planned: &planned,
            number: case::case_number(year, n),
            ctx: who.ctx(),
            input: &input,
            cat,
            photo_rules: w.photo_rules,
        };
        let case_ids =
            case::intake_write(&mut *tx, &[write], now, &mut audit::Chain::Direct).await?;
        sqlx::query("UPDATE finding SET case_id = $1 WHERE id = $2")
            .bind(case_ids.first().map(|c| c.to_string()))
            .bind(d.id.to_string())
            .execute(&mut *tx)
            .await?;
        cases_opened += 1;
    }
    sqlx::query("UPDATE round_site SET inspected_at = $1 WHERE round_id = $2 AND site_id = $3")
        .bind(now)
        .bind(round_id.to_string())
        .bind(site_id.to_string())
        .execute(&mut *tx)
        .await?;
    #[derive(Serialize)]
    struct Recorded<'a> {
        site: &'a str,
        findings: usize,
        failed: usize,
    }
    audit::created(
        &mut *tx,
        who.ctx(),
        "inspection",
        &format!("{round_id}/{site_id}"),
        &Recorded {
            site: &site.code,
            findings: created,
            failed: cases_opened,
        },
    )
    .await?;
    Ok((created, cases_opened))
}

// ------------------------------------------------------------ the round report

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
