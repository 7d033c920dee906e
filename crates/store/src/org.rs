//! Regions and responsible units. Reads take the caller's scope; rows outside
//! it are reported as not found.

use crate::sql::{Sql, contains_pattern, flag};
use crate::{Ctx, Page, Store, StoreError, audit, now_micros, ts};
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::org::{
    Contact, Person, PersonInput, Region, RegionInput, RegionLevel, RegionPlacement, Unit,
    UnitInput, UnitKind,
};
use wenming_domain::policy::{Permit, Scope, may};
use wenming_domain::validation::match_key;

const REGION_COLUMNS: &str =
    "id, parent_id, level, code, name, path, boundary, population, version, updated_at";

fn region_from_row(r: &AnyRow) -> Result<Region, StoreError> {
    let id: String = r.try_get("id")?;
    let parent: Option<String> = r.try_get("parent_id")?;
    let level: String = r.try_get("level")?;
    let boundary: Option<String> = r.try_get("boundary")?;
    Ok(Region {
        id: parse_uuid(&id)?,
        parent_id: parent.as_deref().map(parse_uuid).transpose()?,
        level: RegionLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("region {id} has unknown level {level}")))?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        path: r.try_get("path")?,
        boundary: crate::error::stored_json_opt("region boundary", boundary)?,
        population: r
            .try_get::<Option<i64>, _>("population")?
            .map(|n| n.max(0) as u64),
        version: r.try_get("version")?,
        updated_at: ts(r.try_get("updated_at")?),
    })
}

pub(crate) fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("bad id {s} in the database")))
}

/// Regions visible in `scope`, parents before children, siblings by code.
pub async fn list_regions(store: &Store, scope: &Scope) -> Result<Vec<Region>, StoreError> {
    let mut sql = Sql::new(&format!("SELECT {REGION_COLUMNS} FROM region WHERE 1 = 1"));
    sql.scope(scope, "path", None);
    sql.push(" ORDER BY code");
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut regions: Vec<Region> = rows.iter().map(region_from_row).collect::<Result<_, _>>()?;
    sort_as_tree(&mut regions);
    Ok(regions)
}

/// Depth-first order, so a list reads as an indented tree.
fn sort_as_tree(regions: &mut Vec<Region>) {
    use std::collections::HashMap;
    let mut children: HashMap<Option<Uuid>, Vec<Region>> = HashMap::new();
    let ids: std::collections::HashSet<Uuid> = regions.iter().map(|r| r.id).collect();
    for r in regions.drain(..) {
        // A region whose parent is outside the scope is a root of this view.
        let key = r.parent_id.filter(|p| ids.contains(p));
        children.entry(key).or_default().push(r);
    }
    fn walk(
        key: Option<Uuid>,
        children: &mut HashMap<Option<Uuid>, Vec<Region>>,
        out: &mut Vec<Region>,
    ) {
        let Some(mut kids) = children.remove(&key) else {
            return;
        };
        kids.sort_by(|a, b| a.code.cmp(&b.code));
        for k in kids {
            let id = k.id;
            out.push(k);
            walk(Some(id), children, out);
        }
    }
    walk(None, &mut children, regions);
}

pub async fn get_region(store: &Store, scope: &Scope, id: Uuid) -> Result<Region, StoreError> {
    let mut sql = Sql::new(&format!("SELECT {REGION_COLUMNS} FROM region WHERE id = "));
    let p = sql.text_arg(id.to_string());
    sql.push(&p);
    sql.scope(scope, "path", None);
    let row = sql.query().fetch_optional(store.reader()).await?;
    row.as_ref()
        .map(region_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

async fn region_in_tx(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Region>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {REGION_COLUMNS} FROM region WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(region_from_row).transpose()
}

pub async fn root_region(store: &Store) -> Result<Option<Region>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {REGION_COLUMNS} FROM region WHERE parent_id IS NULL ORDER BY code LIMIT 1"
    ))
    .fetch_optional(store.reader())
    .await?;
    row.as_ref().map(region_from_row).transpose()
}

/// Checks the parent for a region being placed under it: it must exist, be
/// in the caller's manage scope, and sit exactly one level up.
async fn checked_parent(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &RegionInput,
) -> Result<Option<Region>, StoreError> {
    let Some(pid) = input.parent_id else {
        // Only one city per deployment: the root of every scope.
        let (roots,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM region WHERE parent_id IS NULL")
                .fetch_one(&mut *conn)
                .await?;
        if roots > 0 {
            return Err(StoreError::invalid("level", "second_city"));
        }
        return Ok(None);
    };
    let parent = region_in_tx(conn, pid)
        .await?
        .filter(|p| scope.covers_region(&p.path))
        .ok_or_else(|| StoreError::invalid("parent_id", "invalid_choice"))?;
    if !input.level.may_be_child_of(parent.level) {
        return Err(StoreError::invalid("level", "level_mismatch"));
    }
    Ok(Some(parent))
}

fn unique_code(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::invalid("code", "duplicate")
    } else {
        e
    }
}

pub async fn create_region(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRegions>,
    input: RegionInput,
) -> Result<Region, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let parent = checked_parent(&mut tx, scope, &input).await?;
    let id = wenming_domain::new_id();
    let path = format!("{}{id}/", parent.as_ref().map_or("/", |p| p.path.as_str()));
    let now = now_micros();
    sqlx::query(
        "INSERT INTO region (id, parent_id, level, code, name, path, boundary, population, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
    )
    .bind(id.to_string())
    .bind(input.parent_id.map(|p| p.to_string()))
    .bind(input.level.code())
    .bind(&input.code)
    .bind(&input.name)
    .bind(&path)
    .bind(input.boundary.as_ref().map(|b| b.to_string()))
    .bind(input.population.map(|n| n as i64))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_code(e.into()))?;
    open_placement(&mut tx, id, input.parent_id, &input.name, now).await?;
    let region = region_in_tx(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    audit::created(&mut tx, ctx, "region", &id.to_string(), &region).await?;
    tx.commit().await?;
    Ok(region)
}

async fn open_placement(
    conn: &mut AnyConnection,
    region_id: Uuid,
    parent_id: Option<Uuid>,
    name: &str,
    from: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO region_placement (id, region_id, parent_id, name, valid_from, valid_to) \
         VALUES ($1, $2, $3, $4, $5, NULL)",
    )
    .bind(wenming_domain::new_id().to_string())
    .bind(region_id.to_string())
    .bind(parent_id.map(|p| p.to_string()))
    .bind(name)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Renames, re-draws or moves a region. A move re-roots the whole subtree;
/// a move or rename closes the current placement and opens a new one.
pub async fn update_region(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRegions>,
    id: Uuid,
    expected_version: i64,
    input: RegionInput,
) -> Result<Region, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let before = region_in_tx(&mut tx, id)
        .await?
        .filter(|r| scope.covers_region(&r.path))
        .ok_or(StoreError::NotFound)?;
    if before.version != expected_version {
        return Err(StoreError::Conflict);
    }
    if input.level != before.level {
        return Err(StoreError::invalid("level", "level_fixed"));
    }
    let moved = input.parent_id != before.parent_id;
    let mut new_path = before.path.clone();
    if moved {
        if before.parent_id.is_none() {
            return Err(StoreError::invalid("parent_id", "city_has_no_parent"));
        }
        let parent = checked_parent(&mut tx, scope, &input)
            .await?
            .ok_or_else(|| StoreError::invalid("parent_id", "required"))?;
        if parent.path.starts_with(&before.path) {
            return Err(StoreError::invalid("parent_id", "parent_in_subtree"));
        }
        new_path = format!("{}{id}/", parent.path);
    }
    let now = now_micros();
    let updated = sqlx::query(
        "UPDATE region SET parent_id = $1, code = $2, name = $3, boundary = $4, population = $8, \
         version = version + 1, updated_at = $5 WHERE id = $6 AND version = $7",
    )
    .bind(input.parent_id.map(|p| p.to_string()))
    .bind(&input.code)
    .bind(&input.name)
    .bind(input.boundary.as_ref().map(|b| b.to_string()))
    .bind(now)
    .bind(id.to_string())
    .bind(expected_version)
    .bind(input.population.map(|n| n as i64))
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_code(e.into()))?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    if moved {
        let prefix_len = before.path.chars().count() as i64;
        sqlx::query(
            "UPDATE region SET path = $1 || SUBSTR(path, CAST($2 AS INTEGER)) WHERE path LIKE $3 ESCAPE '\\'",
        )
        .bind(&new_path)
        .bind(prefix_len + 1)
        .bind(format!("{}%", crate::sql::like_escape(&before.path)))
        .execute(&mut *tx)
        .await?;
    }
    if moved || input.name != before.name {
        sqlx::query(
            "UPDATE region_placement SET valid_to = $1 WHERE region_id = $2 AND valid_to IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        open_placement(&mut tx, id, input.parent_id, &input.name, now).await?;
    }
    let after = region_in_tx(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let action = if moved { "move" } else { "update" };
    audit::changed(
        &mut tx,
        ctx,
        action,
        "region",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn placements(
    store: &Store,
    region_id: Uuid,
) -> Result<Vec<RegionPlacement>, StoreError> {
    let rows = sqlx::query(
        "SELECT region_id, parent_id, name, valid_from, valid_to FROM region_placement \
         WHERE region_id = $1 ORDER BY valid_from",
    )
    .bind(region_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(placement_from_row).collect()
}

fn placement_from_row(r: &AnyRow) -> Result<RegionPlacement, StoreError> {
    let region_id: String = r.try_get("region_id")?;
    let parent_id: Option<String> = r.try_get("parent_id")?;
    let valid_to: Option<i64> = r.try_get("valid_to")?;
    Ok(RegionPlacement {
        region_id: parse_uuid(&region_id)?,
        parent_id: parent_id.as_deref().map(parse_uuid).transpose()?,
        name: r.try_get("name")?,
        valid_from: ts(r.try_get("valid_from")?),
        valid_to: valid_to.map(ts),
    })
}

/// The tree as it stood at an instant: each region's parent and name then.
/// Period totals group by this, so a street moved to another district in
/// June still counts for its old district in a report on May.
pub async fn tree_at(
    store: &Store,
    at: jiff::Timestamp,
) -> Result<Vec<RegionPlacement>, StoreError> {
    let t = at.as_microsecond();
    let rows = sqlx::query(
        "SELECT region_id, parent_id, name, valid_from, valid_to FROM region_placement \
         WHERE valid_from <= $1 AND (valid_to IS NULL OR valid_to > $1) ORDER BY region_id",
    )
    .bind(t)
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(placement_from_row).collect()
}

// ---------------------------------------------------------------- units

const UNIT_SELECT: &str = "SELECT u.id, u.name, u.short_name, u.kind, u.region_id, u.liaison_name, \
    u.liaison_phone, u.head_name, u.head_phone, u.active, u.version, u.updated_at, \
    r.name AS region_name, r.path AS region_path FROM unit u JOIN region r ON r.id = u.region_id";

fn unit_from_row(r: &AnyRow) -> Result<Unit, StoreError> {
    let id: String = r.try_get("id")?;
    let kind: String = r.try_get("kind")?;
    let region_id: String = r.try_get("region_id")?;
    let active: i64 = r.try_get("active")?;
    Ok(Unit {
        id: parse_uuid(&id)?,
        name: r.try_get("name")?,
        short_name: r.try_get("short_name")?,
        kind: UnitKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("unit {id} has unknown kind {kind}")))?,
        region_id: parse_uuid(&region_id)?,
        region_name: r.try_get("region_name")?,
        region_path: r.try_get("region_path")?,
        liaison: Contact {
            name: r.try_get("liaison_name")?,
            phone: r.try_get("liaison_phone")?,
        },
        head: Contact {
            name: r.try_get("head_name")?,
            phone: r.try_get("head_phone")?,
        },
        active: active != 0,
        version: r.try_get("version")?,
        updated_at: ts(r.try_get("updated_at")?),
    })
}

#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub q: Option<String>,
    pub kind: Option<UnitKind>,
    /// Units in this region's subtree.
    pub region_id: Option<Uuid>,
    pub active: Option<bool>,
    /// Cursor from the previous page.
    pub after: Option<String>,
    pub limit: i64,
}

/// Units in scope, by name, one page at a time (keyset on name and id, so a
/// page is as fast at the end of the list as at the start).
pub async fn list_units(
    store: &Store,
    scope: &Scope,
    f: &UnitFilter,
) -> Result<Page<Unit>, StoreError> {
    let mut sql = Sql::new(&format!("{UNIT_SELECT} WHERE 1 = 1"));
    sql.scope(scope, "r.path", Some("u.id"));
    if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let p = sql.text_arg(contains_pattern(q.trim()));
        sql.push(&format!(
            " AND (LOWER(u.name) LIKE {p} ESCAPE '\\' OR LOWER(COALESCE(u.short_name, '')) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(k) = f.kind {
        let p = sql.text_arg(k.code());
        sql.push(&format!(" AND u.kind = {p}"));
    }
    if let Some(rid) = f.region_id {
        let p = sql.text_arg(rid.to_string());
        sql.push(&format!(
            " AND r.path LIKE (SELECT path FROM region WHERE id = {p}) || '%'"
        ));
    }
    if let Some(a) = f.active {
        let p = sql.int_arg(flag(a));
        sql.push(&format!(" AND u.active = {p}"));
    }
    let count_sql = sql.with_select(
        UNIT_SELECT,
        "SELECT COUNT(*) FROM unit u JOIN region r ON r.id = u.region_id",
    );
    let total: i64 = count_sql
        .query()
        .fetch_one(store.reader())
        .await?
        .try_get(0)?;
    if let Some((name, id)) = f.after.as_deref().and_then(decode_cursor) {
        let pn = sql.text_arg(name);
        let pi = sql.text_arg(id);
        sql.push(&format!(
            " AND (u.name > {pn} OR (u.name = {pn} AND u.id > {pi}))"
        ));
    }
    let limit = f.limit.clamp(1, 500);
    let pl = sql.int_arg(limit + 1);
    sql.push(&format!(" ORDER BY u.name, u.id LIMIT {pl}"));
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut items: Vec<Unit> = rows.iter().map(unit_from_row).collect::<Result<_, _>>()?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|u| encode_cursor(&u.name, &u.id.to_string()))
    } else {
        None
    };
    Ok(Page { items, total, next })
}

fn encode_cursor(name: &str, id: &str) -> String {
    hex::encode(format!("{name}\u{1f}{id}"))
}

fn decode_cursor(c: &str) -> Option<(String, String)> {
    let bytes = hex::decode(c).ok()?;
    let s = String::from_utf8(bytes).ok()?;
    let (n, i) = s.split_once('\u{1f}')?;
    Some((n.to_string(), i.to_string()))
}

pub async fn get_unit(store: &Store, scope: &Scope, id: Uuid) -> Result<Unit, StoreError> {
    let mut sql = Sql::new(&format!("{UNIT_SELECT} WHERE u.id = "));
    let p = sql.text_arg(id.to_string());
    sql.push(&p);
    sql.scope(scope, "r.path", Some("u.id"));
    let row = sql.query().fetch_optional(store.reader()).await?;
    row.as_ref()
        .map(unit_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

async fn unit_in_tx(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Unit>, StoreError> {
    let row = sqlx::query(&format!("{UNIT_SELECT} WHERE u.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(unit_from_row).transpose()
}

/// A unit whose name matches, tolerating spacing and full-width letters.
pub async fn find_unit_by_name(store: &Store, name: &str) -> Result<Option<Unit>, StoreError> {
    let row = sqlx::query(&format!("{UNIT_SELECT} WHERE u.name_key = $1"))
        .bind(match_key(name))
        .fetch_optional(store.reader())
        .await?;
    row.as_ref().map(unit_from_row).transpose()
}

async fn check_unit_region(
    conn: &mut AnyConnection,
    scope: &Scope,
    region_id: Uuid,
) -> Result<(), StoreError> {
    region_in_tx(conn, region_id)
        .await?
        .filter(|r| scope.covers_region(&r.path))
        .map(|_| ())
        .ok_or_else(|| StoreError::invalid("region_id", "invalid_choice"))
}

fn unique_name(e: StoreError) -> StoreError {
    if e.is_unique_violation() {
        StoreError::invalid("name", "duplicate")
    } else {
        e
    }
}

pub async fn create_unit(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUnits>,
    input: UnitInput,
) -> Result<Unit, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    check_unit_region(&mut tx, scope, input.region_id).await?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    sqlx::query(
        "INSERT INTO unit (id, name, name_key, short_name, kind, region_id, liaison_name, liaison_phone, \
         head_name, head_phone, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12)",
    )
    .bind(id.to_string())
    .bind(&input.name)
    .bind(match_key(&input.name))
    .bind(&input.short_name)
    .bind(input.kind.code())
    .bind(input.region_id.to_string())
    .bind(&input.liaison.name)
    .bind(&input.liaison.phone)
    .bind(&input.head.name)
    .bind(&input.head.phone)
    .bind(flag(input.active))
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_name(e.into()))?;
    let unit = unit_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    audit::created(&mut tx, ctx, "unit", &id.to_string(), &unit).await?;
    tx.commit().await?;
    Ok(unit)
}

pub async fn update_unit(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUnits>,
    id: Uuid,
    expected_version: i64,
    input: UnitInput,
) -> Result<Unit, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let before = unit_in_tx(&mut tx, id)
        .await?
        .filter(|u| scope.covers_unit(u.id, &u.region_path))
        .ok_or(StoreError::NotFound)?;
    if before.version != expected_version {
        return Err(StoreError::Conflict);
    }
    check_unit_region(&mut tx, scope, input.region_id).await?;
    let updated = sqlx::query(
        "UPDATE unit SET name = $1, name_key = $2, short_name = $3, kind = $4, region_id = $5, \
         liaison_name = $6, liaison_phone = $7, head_name = $8, head_phone = $9, active = $10, \
         version = version + 1, updated_at = $11 WHERE id = $12 AND version = $13",
    )
    .bind(&input.name)
    .bind(match_key(&input.name))
    .bind(&input.short_name)
    .bind(input.kind.code())
    .bind(input.region_id.to_string())
    .bind(&input.liaison.name)
    .bind(&input.liaison.phone)
    .bind(&input.head.name)
    .bind(&input.head.phone)
    .bind(flag(input.active))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(|e| unique_name(e.into()))?;
    if updated.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = unit_in_tx(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "unit",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Counts for dashboards: regions per level and active units, in scope.
pub async fn counts(store: &Store, scope: &Scope) -> Result<OrgCounts, StoreError> {
    let mut sql = Sql::new("SELECT level, COUNT(*) AS n FROM region WHERE 1 = 1");
    sql.scope(scope, "path", None);
    sql.push(" GROUP BY level");
    let mut c = OrgCounts::default();
    for row in sql.query().fetch_all(store.reader()).await? {
        let level: String = row.try_get("level")?;
        let n: i64 = row.try_get("n")?;
        if let Some(l) = RegionLevel::parse(&level) {
            c.regions.push((l, n));
        }
    }
    c.regions.sort();
    let mut sql = Sql::new(
        "SELECT COUNT(*) FROM unit u JOIN region r ON r.id = u.region_id WHERE u.active = 1",
    );
    sql.scope(scope, "r.path", Some("u.id"));
    c.active_units = sql.query().fetch_one(store.reader()).await?.try_get(0)?;
    Ok(c)
}

#[derive(Debug, Clone, Default)]
pub struct OrgCounts {
    pub regions: Vec<(RegionLevel, i64)>,
    pub active_units: i64,
}

/// Active units in scope that an escalation could not reach by phone.
pub async fn units_without_liaison_phone(store: &Store, scope: &Scope) -> Result<i64, StoreError> {
    let mut sql = Sql::new(
        "SELECT COUNT(*) FROM unit u JOIN region r ON r.id = u.region_id \
         WHERE u.active = 1 AND u.liaison_phone IS NULL",
    );
    sql.scope(scope, "r.path", Some("u.id"));
    Ok(sql.query().fetch_one(store.reader()).await?.try_get(0)?)
}

// ---------------------------------------------------------------- people

const PERSON_COLUMNS: &str = "id, unit_id, name, title, phone, active, version";

fn person_from_row(r: &AnyRow) -> Result<Person, StoreError> {
    let id: String = r.try_get("id")?;
    let unit_id: String = r.try_get("unit_id")?;
    let active: i64 = r.try_get("active")?;
    Ok(Person {
        id: parse_uuid(&id)?,
        unit_id: parse_uuid(&unit_id)?,
        name: r.try_get("name")?,
        title: r.try_get("title")?,
        phone: r.try_get("phone")?,
        active: active != 0,
        version: r.try_get("version")?,
    })
}

/// The people of a unit the caller can see (the unit's scope decides).
pub async fn list_people(
    store: &Store,
    scope: &Scope,
    unit_id: Uuid,
) -> Result<Vec<Person>, StoreError> {
    get_unit(store, scope, unit_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM person WHERE unit_id = $1 ORDER BY active DESC, name, id"
    ))
    .bind(unit_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(person_from_row).collect()
}

/// A person and their unit, if the unit is in scope.
pub async fn get_person(
    store: &Store,
    scope: &Scope,
    id: Uuid,
) -> Result<(Person, Unit), StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM person WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(store.reader())
    .await?;
    let person = row
        .as_ref()
        .map(person_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    let unit = get_unit(store, scope, person.unit_id).await?;
    Ok((person, unit))
}

async fn person_in_tx(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM person WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(person_from_row).transpose()
}

async fn unit_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    unit_id: Uuid,
) -> Result<Unit, StoreError> {
    unit_in_tx(conn, unit_id)
        .await?
        .filter(|u| scope.covers_unit(u.id, &u.region_path))
        .ok_or(StoreError::NotFound)
}

pub async fn create_person(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUnits>,
    unit_id: Uuid,
    input: PersonInput,
) -> Result<Person, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    unit_in_scope(&mut tx, scope, unit_id).await?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    sqlx::query(
        "INSERT INTO person (id, unit_id, name, title, phone, active, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
    )
    .bind(id.to_string())
    .bind(unit_id.to_string())
    .bind(&input.name)
    .bind(&input.title)
    .bind(&input.phone)
    .bind(flag(input.active))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let person = person_in_tx(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    audit::created(&mut tx, ctx, "person", &id.to_string(), &person).await?;
    tx.commit().await?;
    Ok(person)
}

pub async fn update_person(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageUnits>,
    id: Uuid,
    expected_version: i64,
    input: PersonInput,
) -> Result<Person, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let before = person_in_tx(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    unit_in_scope(&mut tx, scope, before.unit_id).await?;
    if before.version != expected_version {
        return Err(StoreError::Conflict);
    }
    let n = sqlx::query(
        "UPDATE person SET name = $1, title = $2, phone = $3, active = $4, version = version + 1, \
         updated_at = $5 WHERE id = $6 AND version = $7",
    )
    .bind(&input.name)
    .bind(&input.title)
    .bind(&input.phone)
    .bind(flag(input.active))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = person_in_tx(&mut tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "person",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Every unit in scope, following the pages to the end; for pick-lists.
pub async fn all_units(
    store: &Store,
    scope: &Scope,
    active_only: bool,
) -> Result<Vec<Unit>, StoreError> {
    let mut f = UnitFilter {
        limit: 500,
        active: active_only.then_some(true),
        ..Default::default()
    };
    let mut out = vec![];
    loop {
        let page = list_units(store, scope, &f).await?;
        out.extend(page.items);
        match page.next {
            Some(n) => f.after = Some(n),
            None => return Ok(out),
        }
    }
}

/// The scope that covers the whole city: for city-wide pick-lists.
pub async fn whole_city(store: &Store) -> Result<Scope, StoreError> {
    let root = root_region(store).await?.ok_or(StoreError::NotFound)?;
    Ok(Scope::everything(&root.path))
}
