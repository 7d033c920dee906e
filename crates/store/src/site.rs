//! Sites (点位) and site types. Reads take the caller's scope: a site is
//! visible to those who see its region or sponsor it.

use crate::org::parse_uuid;
use crate::sql::{Sql, flag};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::geo::Point;
use wenming_domain::policy::{Permit, Scope, may};
use wenming_domain::site::{Geometry, SiteInput, SiteType};

fn type_from_row(r: &AnyRow) -> Result<SiteType, StoreError> {
    let id: String = r.try_get("id")?;
    let geometry: String = r.try_get("geometry")?;
    let active: i64 = r.try_get("active")?;
    Ok(SiteType {
        id: parse_uuid(&id)?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        position: r.try_get("position")?,
        geometry: Geometry::parse(&geometry).ok_or_else(|| {
            StoreError::Corrupt(format!("site type {id} has geometry {geometry}"))
        })?,
        active: active != 0,
    })
}

/// Every site type, in the office's order.
pub async fn types(store: &Store) -> Result<Vec<SiteType>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, code, name, position, geometry, active FROM site_type ORDER BY position, code",
    )
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(type_from_row).collect()
}

pub async fn create_type(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSites>,
    code: &str,
    name: &str,
    geometry: Geometry,
) -> Result<SiteType, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    let t = create_type_in(&mut tx, ctx, code, name, geometry).await?;
    tx.commit().await?;
    Ok(t)
}

pub(crate) async fn create_type_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    code: &str,
    name: &str,
    geometry: Geometry,
) -> Result<SiteType, StoreError> {
    let position: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM site_type")
        .fetch_one(&mut *tx)
        .await?;
    let id = wenming_domain::new_id();
    sqlx::query(
        "INSERT INTO site_type (id, code, name, position, geometry, active, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, 1, $6)",
    )
    .bind(id.to_string())
    .bind(code)
    .bind(name)
    .bind(position)
    .bind(geometry.code())
    .bind(now_micros())
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::invalid("code", "duplicate")
        } else {
            e
        }
    })?;
    let t = SiteType {
        id,
        code: code.into(),
        name: name.into(),
        position,
        geometry,
        active: true,
    };
    audit::created(&mut *tx, ctx, "site_type", &id.to_string(), &t).await?;
    Ok(t)
}

#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub id: Uuid,
    pub code: String,
    pub type_id: Uuid,
    pub type_code: String,
    pub type_name: String,
    pub name: String,
    pub region_id: Uuid,
    pub region_name: String,
    pub region_path: String,
    pub sponsor_unit_id: Option<Uuid>,
    pub sponsor_unit_name: Option<String>,
    pub chief_name: Option<String>,
    pub chief_phone: Option<String>,
    pub address: Option<String>,
    pub point: Point,
    /// The line or area (GeoJSON), for roads and markets.
    pub shape: Option<serde_json::Value>,
    pub active: bool,
    pub version: i64,
    pub updated_at: jiff::Timestamp,
}

impl Site {
    /// "line" or "area" when the site has a shape.
    pub fn shape_kind(&self) -> Option<&'static str> {
        match self.shape.as_ref()?.get("type")?.as_str()? {
            "LineString" => Some("line"),
            "Polygon" | "MultiPolygon" => Some("area"),
            _ => None,
        }
    }
}

const SITE_SELECT: &str = "SELECT s.*, t.code AS type_code, t.name AS type_name, r.name AS region_name, \
    r.path AS region_path, u.name AS sponsor_unit_name FROM site s JOIN site_type t ON t.id = s.type_id \
    JOIN region r ON r.id = s.region_id LEFT JOIN unit u ON u.id = s.sponsor_unit_id";

fn site_from_row(r: &AnyRow) -> Result<Site, StoreError> {
    let id: String = r.try_get("id")?;
    let type_id: String = r.try_get("type_id")?;
    let region_id: String = r.try_get("region_id")?;
    let sponsor: Option<String> = r.try_get("sponsor_unit_id")?;
    let active: i64 = r.try_get("active")?;
    Ok(Site {
        id: parse_uuid(&id)?,
        code: r.try_get("code")?,
        type_id: parse_uuid(&type_id)?,
        type_code: r.try_get("type_code")?,
        type_name: r.try_get("type_name")?,
        name: r.try_get("name")?,
        region_id: parse_uuid(&region_id)?,
        region_name: r.try_get("region_name")?,
        region_path: r.try_get("region_path")?,
        sponsor_unit_id: sponsor.as_deref().map(parse_uuid).transpose()?,
        sponsor_unit_name: r.try_get("sponsor_unit_name")?,
        chief_name: r.try_get("chief_name")?,
        chief_phone: r.try_get("chief_phone")?,
        address: r.try_get("address")?,
        point: Point {
            lon: r.try_get("lon")?,
            lat: r.try_get("lat")?,
        },
        shape: crate::error::stored_json_opt(
            "site shape",
            r.try_get::<Option<String>, _>("shape")?,
        )?,
        active: active != 0,
        version: r.try_get("version")?,
        updated_at: ts(r.try_get("updated_at")?),
    })
}

#[derive(Debug, Clone, Default)]
pub struct SiteFilter {
    pub type_id: Option<Uuid>,
    /// Only sites in this region's subtree.
    pub region_id: Option<Uuid>,
    pub sponsor_unit_id: Option<Uuid>,
    pub active_only: bool,
}

/// Sites in the scope matching the filter, by type and code.
pub async fn list(store: &Store, scope: &Scope, f: &SiteFilter) -> Result<Vec<Site>, StoreError> {
    let mut sql = Sql::new(&format!("{SITE_SELECT} WHERE 1 = 1"));
    // Seen by a region scope (the site's region inside it) or a unit scope
    // (the units sponsoring it).
    sql.scope(scope, "r.path", Some("s.sponsor_unit_id"));
    if let Some(t) = f.type_id {
        let p = sql.text_arg(t.to_string());
        sql.push(&format!(" AND s.type_id = {p}"));
    }
    if let Some(region) = f.region_id {
        let p = sql.text_arg(region.to_string());
        sql.push(&format!(
            " AND r.path LIKE (SELECT path FROM region WHERE id = {p}) || '%'"
        ));
    }
    if let Some(u) = f.sponsor_unit_id {
        let p = sql.text_arg(u.to_string());
        sql.push(&format!(" AND s.sponsor_unit_id = {p}"));
    }
    if f.active_only {
        sql.push(" AND s.active = 1");
    }
    sql.push(" ORDER BY t.position, s.code");
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter().map(site_from_row).collect()
}

pub async fn get(store: &Store, scope: &Scope, id: Uuid) -> Result<Site, StoreError> {
    let mut sql = Sql::new(&format!("{SITE_SELECT} WHERE s.id = "));
    let p = sql.text_arg(id.to_string());
    sql.push(&p);
    sql.scope(scope, "r.path", Some("s.sponsor_unit_id"));
    let row = sql.query().fetch_optional(store.reader()).await?;
    row.as_ref()
        .map(site_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

async fn site_in_tx(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Site>, StoreError> {
    let row = sqlx::query(&format!("{SITE_SELECT} WHERE s.id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(site_from_row).transpose()
}

/// The references a site input names must exist, and its region must be in
/// the caller's scope.
async fn check_refs(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &SiteInput,
) -> Result<(), StoreError> {
    let t: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM site_type WHERE id = $1")
        .bind(input.type_id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    if t == 0 {
        return Err(StoreError::invalid("type_id", "invalid_choice"));
    }
    let path: Option<String> = sqlx::query_scalar("SELECT path FROM region WHERE id = $1")
        .bind(input.region_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match path {
        Some(p) if scope.covers_region(&p) => {}
        _ => return Err(StoreError::invalid("region_id", "invalid_choice")),
    }
    if let Some(u) = input.sponsor_unit_id {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unit WHERE id = $1")
            .bind(u.to_string())
            .fetch_one(&mut *conn)
            .await?;
        if n == 0 {
            return Err(StoreError::invalid("sponsor_unit_id", "invalid_choice"));
        }
    }
    Ok(())
}

/// Binds the input's twelve fields as `$1`..`$12`, in the order both the
/// insert and the update name them.
fn bind_input<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    input: &'q SiteInput,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&input.code)
        .bind(input.type_id.to_string())
        .bind(&input.name)
        .bind(input.region_id.to_string())
        .bind(input.sponsor_unit_id.map(|u| u.to_string()))
        .bind(&input.chief.name)
        .bind(&input.chief.phone)
        .bind(&input.address)
        .bind(input.point.lon)
        .bind(input.point.lat)
        .bind(flag(input.active))
        .bind(input.shape.as_ref().map(|s| s.to_string()))
}

fn unique_code(e: sqlx::Error) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::invalid("code", "duplicate")
    } else {
        e
    }
}

pub async fn create(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSites>,
    input: &SiteInput,
) -> Result<Site, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let site = create_in(&mut tx, ctx, scope, input).await?;
    tx.commit().await?;
    Ok(site)
}

pub(crate) async fn create_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    scope: &Scope,
    input: &SiteInput,
) -> Result<Site, StoreError> {
    check_refs(&mut *tx, scope, input).await?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    bind_input(
        sqlx::query(
            "INSERT INTO site (code, type_id, name, region_id, sponsor_unit_id, chief_name, chief_phone, \
             address, lon, lat, active, shape, id, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14)",
        ),
        input,
    )
    .bind(id.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(unique_code)?;
    let site = site_in_tx(&mut *tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    audit::created(&mut *tx, ctx, "site", &id.to_string(), &site).await?;
    Ok(site)
}

/// Changes a site as it was read (`expected_version`); someone else's
/// change in between is a conflict, not overwritten.
pub async fn update(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSites>,
    id: Uuid,
    expected_version: i64,
    input: &SiteInput,
) -> Result<Site, StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let (after, _) = update_in(&mut tx, ctx, scope, id, expected_version, input).await?;
    tx.commit().await?;
    Ok(after)
}

pub(crate) async fn update_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    scope: &Scope,
    id: Uuid,
    expected_version: i64,
    input: &SiteInput,
) -> Result<(Site, bool), StoreError> {
    let before = site_in_tx(&mut *tx, id)
        .await?
        .filter(|s| scope.covers_region(&s.region_path))
        .ok_or(StoreError::NotFound)?;
    if before.version != expected_version {
        return Err(StoreError::Conflict);
    }
    // Saving what is already there changes nothing: no new version for
    // others to conflict with, no audit record.
    if unchanged(&before, input) {
        return Ok((before, false));
    }
    check_refs(&mut *tx, scope, input).await?;
    let n = bind_input(
        sqlx::query(
            "UPDATE site SET code = $1, type_id = $2, name = $3, region_id = $4, sponsor_unit_id = $5, \
             chief_name = $6, chief_phone = $7, address = $8, lon = $9, lat = $10, active = $11, shape = $12, \
             version = version + 1, updated_at = $13 WHERE id = $14 AND version = $15",
        ),
        input,
    )
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(unique_code)?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = site_in_tx(&mut *tx, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    audit::changed(
        &mut *tx,
        ctx,
        "update",
        "site",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    Ok((after, true))
}

fn unchanged(site: &Site, input: &SiteInput) -> bool {
    // Coordinates pass through a workbook's decimal text and back.
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
    site.code == input.code
        && site.type_id == input.type_id
        && site.name == input.name
        && site.region_id == input.region_id
        && site.sponsor_unit_id == input.sponsor_unit_id
        && site.chief_name == input.chief.name
        && site.chief_phone == input.chief.phone
        && site.address == input.address
        && near(site.point.lon, input.point.lon)
        && near(site.point.lat, input.point.lat)
        && site.active == input.active
        && site.shape == input.shape
}

/// Adds or changes many sites at once (a spreadsheet): a row whose code is
/// registered changes that site, the others are added. One transaction:
/// a row refused (its reference, a duplicate code) refuses them all, and
/// the error names the row.
pub async fn import(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSites>,
    rows: &[(u32, SiteInput)],
) -> Result<(usize, usize), StoreError> {
    let scope = permit.scope();
    let mut tx = store.begin().await?;
    let (mut added, mut changed) = (0, 0);
    for (row, input) in rows {
        let existing: Option<(String, i64)> =
            sqlx::query_as("SELECT id, version FROM site WHERE code = $1")
                .bind(&input.code)
                .fetch_optional(&mut *tx)
                .await?;
        let done = match existing {
            Some((id, version)) => update_in(&mut tx, ctx, scope, parse_uuid(&id)?, version, input)
                .await
                .map(|(_, did)| changed += usize::from(did)),
            None => create_in(&mut tx, ctx, scope, input)
                .await
                .map(|_| added += 1),
        };
        if let Err(e) = done {
            return Err(match e {
                StoreError::Invalid(fe) => StoreError::Problems(
                    fe.0.iter()
                        .map(|f| wenming_domain::framework::Problem {
                            place: format!("{row}:{}", f.field),
                            code: f.code,
                            detail: String::new(),
                        })
                        .collect(),
                ),
                StoreError::NotFound => {
                    StoreError::Problems(vec![wenming_domain::framework::Problem {
                        place: format!("{row}:code"),
                        code: "not_in_scope",
                        detail: input.code.clone(),
                    }])
                }
                other => other,
            });
        }
    }
    tx.commit().await?;
    Ok((added, changed))
}
