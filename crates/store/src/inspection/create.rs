//! Creating a round (its sample drawn and inspectors sent by the rotation
//! rules), reassigning a site, closing a round.

use super::{Round, get};
use crate::org::parse_uuid;
use crate::sql::{Sql, flag};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::inspection::RoundInput;
use wenming_domain::policy::{Permit, Resource, Scope, may};
use wenming_domain::site::{Assignment, InspectorRef, SampleSpec, SiteRef};

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
