//! Where a report goes (routing rules) and the working calendar that
//! deadlines count in.

use super::Category;
use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};

pub async fn add_routing_rule(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    category: Option<Uuid>,
    region: Option<Uuid>,
    unit: Uuid,
) -> Result<Uuid, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let id = wenming_domain::new_id();
    let mut tx = store.begin().await?;
    // Name the field that points nowhere rather than fail on the foreign key.
    for (field, table, value) in [
        ("category_id", "category", category),
        ("region_id", "region", region),
        ("unit_id", "unit", Some(unit)),
    ] {
        let Some(v) = value else { continue };
        let found: Option<String> =
            sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(v.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Err(StoreError::invalid(field, "invalid_choice"));
        }
    }
    sqlx::query("INSERT INTO routing_rule (id, category_id, region_id, unit_id, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.to_string())
        .bind(category.map(|c| c.to_string()))
        .bind(region.map(|r| r.to_string()))
        .bind(unit.to_string())
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
    #[derive(Serialize)]
    struct Rule {
        category: Option<Uuid>,
        region: Option<Uuid>,
        unit: Uuid,
    }
    audit::created(
        &mut tx,
        ctx,
        "routing_rule",
        &id.to_string(),
        &Rule {
            category,
            region,
            unit,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Removes a rule; cases already routed keep their unit.
pub async fn remove_routing_rule(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    id: Uuid,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    let before: Option<(Option<String>, Option<String>, String)> =
        sqlx::query_as("SELECT category_id, region_id, unit_id FROM routing_rule WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or(StoreError::NotFound)?;
    sqlx::query("DELETE FROM routing_rule WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    audit::append(
        &mut tx,
        ctx,
        "delete",
        "routing_rule",
        &id.to_string(),
        Some(&before),
        None::<&()>,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The unit a case goes to: the most specific rule for its subclass (or its
/// class) and the deepest region containing it wins. Specific category
/// beats region depth.
/// A routing rule as intake weighs it: (category, unit, region path).
pub(crate) type Rule = (Option<Uuid>, Uuid, Option<String>);

pub(crate) async fn routing_table(conn: &mut AnyConnection) -> Result<Vec<Rule>, StoreError> {
    let rows = sqlx::query(
        "SELECT rr.category_id, rr.unit_id, r.path FROM routing_rule rr LEFT JOIN region r ON r.id = rr.region_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let cat: Option<String> = row.try_get("category_id")?;
            let unit: String = row.try_get("unit_id")?;
            Ok((
                cat.as_deref().map(parse_uuid).transpose()?,
                parse_uuid(&unit)?,
                row.try_get("path")?,
            ))
        })
        .collect()
}

/// The most specific rule: subclass over class over any, deeper region
/// over shallower.
pub(crate) fn route(
    rules: &[Rule],
    category: &Category,
    region_path: Option<&str>,
) -> Option<Uuid> {
    let mut best: Option<(u8, usize, Uuid)> = None;
    for (cat, unit, path) in rules {
        let cat_score = match cat {
            None => 0,
            Some(c) if *c == category.id => 2,
            Some(c) if Some(*c) == category.parent_id => 1,
            Some(_) => continue,
        };
        let depth = match (path, region_path) {
            (None, _) => 0,
            (Some(p), Some(rp)) if rp.starts_with(p.as_str()) => p.matches('/').count(),
            _ => continue,
        };
        if best.is_none_or(|(c, d, _)| (cat_score, depth) > (c, d)) {
            best = Some((cat_score, depth, *unit));
        }
    }
    best.map(|b| b.2)
}

#[derive(Debug, Clone, Serialize)]
pub struct RoutingRule {
    pub id: Uuid,
    pub category: Option<String>,
    pub region: Option<String>,
    pub unit: String,
}

/// The routing rules in words, most specific first.
pub async fn routing_rules(store: &Store) -> Result<Vec<RoutingRule>, StoreError> {
    let rows = sqlx::query(
        "SELECT rr.id, c.name AS category, r.name AS region, u.name AS unit FROM routing_rule rr \
         LEFT JOIN category c ON c.id = rr.category_id LEFT JOIN region r ON r.id = rr.region_id \
         JOIN unit u ON u.id = rr.unit_id ORDER BY c.code, r.path",
    )
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            Ok(RoutingRule {
                id: parse_uuid(&id)?,
                category: r.try_get("category")?,
                region: r.try_get("region")?,
                unit: r.try_get("unit")?,
            })
        })
        .collect()
}
