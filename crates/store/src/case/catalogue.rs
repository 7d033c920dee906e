//! The case catalogue: categories (大类 and 小类), their deadlines and
//! duplicate radii, and the standards each files failures of.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::case::HandlingTime;
use wenming_domain::policy::{Permit, may};

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub handling_time: Option<HandlingTime>,
    pub duplicate_radius_m: i64,
    pub standard_codes: Vec<String>,
    pub site_types: Vec<String>,
    pub active: bool,
    pub version: i64,
}

pub const DEFAULT_DUPLICATE_RADIUS_M: i64 = 50;

/// The code of the category a case is registered under when nothing names
/// one (a failed standard no category lists): it has no deadline, and the
/// office must classify the case before dispatch.
pub const UNCLASSIFIED_CODE: &str = "00";

/// The unclassified category, made the first time it is needed.
pub(crate) async fn unclassified(conn: &mut AnyConnection) -> Result<Category, StoreError> {
    let now = now_micros();
    let made = sqlx::query(
        "INSERT INTO category (id, parent_id, code, name, deadline_amount, deadline_unit, duplicate_radius_m, standard_codes, \
         site_types, active, version, updated_at) VALUES ($1, NULL, $2, '待分类', NULL, NULL, NULL, '[]', '[]', 1, 1, $3) \
         ON CONFLICT (code) DO NOTHING",
    )
    .bind(wenming_domain::new_id().to_string())
    .bind(UNCLASSIFIED_CODE)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let r = sqlx::query(&format!(
        "SELECT {CATEGORY_COLUMNS} FROM category WHERE code = $1"
    ))
    .bind(UNCLASSIFIED_CODE)
    .fetch_one(&mut *conn)
    .await?;
    let cat = category_from_row(&r)?;
    // Made by the system, recorded like any category.
    if made == 1 {
        let ctx = Ctx::system("inspection");
        audit::created(&mut *conn, &ctx, "category", &cat.id.to_string(), &cat).await?;
    }
    Ok(cat)
}

fn category_from_row(r: &AnyRow) -> Result<Category, StoreError> {
    let id: String = r.try_get("id")?;
    let parent: Option<String> = r.try_get("parent_id")?;
    let amount: Option<i64> = r.try_get("deadline_amount")?;
    let unit: Option<String> = r.try_get("deadline_unit")?;
    let radius: Option<i64> = r.try_get("duplicate_radius_m")?;
    let codes: String = r.try_get("standard_codes")?;
    let sites: String = r.try_get("site_types")?;
    let active: i64 = r.try_get("active")?;
    Ok(Category {
        id: parse_uuid(&id)?,
        parent_id: parent.as_deref().map(parse_uuid).transpose()?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        handling_time: HandlingTime::from_parts(amount, unit.as_deref()),
        duplicate_radius_m: radius.unwrap_or(DEFAULT_DUPLICATE_RADIUS_M),
        standard_codes: crate::error::stored_json("category standard codes", &codes)?,
        site_types: crate::error::stored_json("category site types", &sites)?,
        active: active != 0,
        version: r.try_get("version")?,
    })
}

const CATEGORY_COLUMNS: &str = "id, parent_id, code, name, deadline_amount, deadline_unit, duplicate_radius_m, \
    standard_codes, site_types, active, version";

/// The whole catalogue, classes before their subclasses, by code (the
/// unclassified placeholder is no choice, and is left out).
pub async fn categories(store: &Store) -> Result<Vec<Category>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {CATEGORY_COLUMNS} FROM category WHERE code <> $1 ORDER BY code"
    ))
    .bind(UNCLASSIFIED_CODE)
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(category_from_row).collect()
}

pub async fn category(store: &Store, id: Uuid) -> Result<Category, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {CATEGORY_COLUMNS} FROM category WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(store.reader())
    .await?;
    row.as_ref()
        .map(category_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone)]
pub struct CategoryInput {
    pub parent_id: Option<Uuid>,
    pub code: String,
    pub name: String,
    pub handling_time: Option<HandlingTime>,
    pub duplicate_radius_m: Option<i64>,
    pub standard_codes: Vec<String>,
    pub site_types: Vec<String>,
    pub active: bool,
}

/// A category maps to standards of the framework in force, so a typo in a
/// code is caught here rather than in a half-year report. With no framework
/// active yet there is nothing to check against.
async fn check_standard_codes(
    conn: &mut AnyConnection,
    codes: &[String],
) -> Result<(), StoreError> {
    if codes.is_empty() {
        return Ok(());
    }
    let active: Option<String> = sqlx::query_scalar(
        "SELECT id FROM framework WHERE status = 'active' ORDER BY year DESC, updated_at DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(framework) = active else {
        return Ok(());
    };
    let known: std::collections::HashSet<String> = sqlx::query_scalar(
        "SELECT code FROM framework_node WHERE framework_id = $1 AND kind = 'standard'",
    )
    .bind(&framework)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    if codes.iter().any(|c| !known.contains(c)) {
        return Err(StoreError::invalid("standards", "unknown_standard"));
    }
    Ok(())
}

pub async fn create_category(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    input: CategoryInput,
) -> Result<Category, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    if let Some(p) = input.parent_id {
        let parent: Option<Option<String>> =
            sqlx::query_scalar("SELECT parent_id FROM category WHERE id = $1")
                .bind(p.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        match parent {
            None => return Err(StoreError::invalid("parent_id", "invalid_choice")),
            Some(Some(_)) => return Err(StoreError::invalid("parent_id", "two_levels_only")),
            Some(None) => {}
        }
    }
    // Deadlines belong to subclasses; a class only groups them.
    if input.parent_id.is_some() && input.handling_time.is_none() {
        return Err(StoreError::invalid("deadline_amount", "required"));
    }
    check_standard_codes(&mut tx, &input.standard_codes).await?;
    let id = wenming_domain::new_id();
    let (amount, unit) = input
        .handling_time
        .map(|h| h.parts())
        .map_or((None, None), |(a, u)| (Some(a), Some(u)));
    sqlx::query(
        "INSERT INTO category (id, parent_id, code, name, deadline_amount, deadline_unit, duplicate_radius_m, standard_codes, \
         site_types, active, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11)",
    )
    .bind(id.to_string())
    .bind(input.parent_id.map(|p| p.to_string()))
    .bind(input.code.trim())
    .bind(input.name.trim())
    .bind(amount)
    .bind(unit)
    .bind(input.duplicate_radius_m)
    .bind(serde_json::to_string(&input.standard_codes).unwrap_or_default())
    .bind(serde_json::to_string(&input.site_types).unwrap_or_default())
    .bind(crate::sql::flag(input.active))
    .bind(now_micros())
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() { StoreError::invalid("code", "duplicate") } else { e }
    })?;
    let row = sqlx::query(&format!(
        "SELECT {CATEGORY_COLUMNS} FROM category WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let c = category_from_row(&row)?;
    audit::created(&mut tx, ctx, "category", &id.to_string(), &c).await?;
    tx.commit().await?;
    Ok(c)
}

/// What may change in a category once cases refer to it: code and class
/// stay, since case numbers, routing rules and reports are keyed on them.
#[derive(Debug, Clone)]
pub struct CategoryChange {
    pub name: String,
    pub handling_time: Option<HandlingTime>,
    pub duplicate_radius_m: Option<i64>,
    pub standard_codes: Vec<String>,
    pub active: bool,
}

/// Renames, re-times or retires a category. A retired subclass takes no new
/// cases; its open cases keep their deadlines. A class with subclasses still
/// taking cases cannot be retired, so nothing is left without a class.
pub async fn update_category(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    id: Uuid,
    expected_version: i64,
    ch: CategoryChange,
) -> Result<Category, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    let select = format!("SELECT {CATEGORY_COLUMNS} FROM category WHERE id = $1");
    let before = sqlx::query(&select)
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(category_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    if before.version != expected_version {
        return Err(StoreError::Conflict);
    }
    if before.parent_id.is_some() && ch.handling_time.is_none() {
        return Err(StoreError::invalid("amount", "required"));
    }
    check_standard_codes(&mut tx, &ch.standard_codes).await?;
    if before.parent_id.is_none() && !ch.active {
        let live: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM category WHERE parent_id = $1 AND active = 1")
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        if live > 0 {
            return Err(StoreError::invalid("active", "has_active_subclasses"));
        }
    }
    let (amount, unit) = ch
        .handling_time
        .map(|h| h.parts())
        .map_or((None, None), |(a, u)| (Some(a), Some(u)));
    let n = sqlx::query(
        "UPDATE category SET name = $1, deadline_amount = $2, deadline_unit = $3, duplicate_radius_m = $4, \
         standard_codes = $5, active = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9",
    )
    .bind(ch.name.trim())
    .bind(amount)
    .bind(unit)
    .bind(ch.duplicate_radius_m)
    .bind(serde_json::to_string(&ch.standard_codes).unwrap_or_default())
    .bind(crate::sql::flag(ch.active))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let row = sqlx::query(&select)
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
    let after = category_from_row(&row)?;
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "category",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
