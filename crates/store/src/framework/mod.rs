//! Framework versions: import whole (all or nothing), export, clone, edit a
//! standard, browse the tree with filters.

mod node;
mod transfer;

pub use node::{
    Node, NodeFilter, StandardEdit, StoredStandard, UnitRef, filtered_nodes, matching_standards,
    node, nodes, update_standard,
};
pub use transfer::{
    AspectSummary, ImportPlan, clone, discard_upload, export, import, import_with_progress, plan,
    save_upload, upload,
};

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::framework::{FrameworkStatus, Points, Settings};
use wenming_domain::policy::{Permit, may};

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary {
    pub id: Uuid,
    pub name: String,
    pub year: i32,
    pub status: FrameworkStatus,
    pub basic_total: Option<Points>,
    pub featured_total: Option<Points>,
    pub settings: Settings,
    pub cloned_from: Option<Uuid>,
    pub version: i64,
    pub updated_at: jiff::Timestamp,
    /// Counted from the standards as they are now.
    pub standards: i64,
    pub basic: Points,
    pub featured: Points,
}

impl FrameworkSummary {
    /// Declared totals that the standards no longer add up to (after edits).
    pub fn totals_off(&self) -> bool {
        self.basic_total.is_some_and(|b| b != self.basic)
            || self.featured_total.is_some_and(|f| f != self.featured)
    }
}

const SUMMARY: &str = "SELECT f.id, f.name, f.year, f.status, f.basic_total, f.featured_total, f.settings, f.cloned_from, \
    f.version, f.updated_at, \
    (SELECT COUNT(*) FROM framework_node n WHERE n.framework_id = f.id AND n.kind = 'standard') AS standards, \
    (SELECT CAST(COALESCE(SUM(n.points), 0) AS BIGINT) FROM framework_node n WHERE n.framework_id = f.id AND n.kind = 'standard' AND n.featured = 0) AS basic, \
    (SELECT CAST(COALESCE(SUM(n.points), 0) AS BIGINT) FROM framework_node n WHERE n.framework_id = f.id AND n.kind = 'standard' AND n.featured = 1) AS featured \
    FROM framework f";

fn summary_from_row(r: &AnyRow) -> Result<FrameworkSummary, StoreError> {
    let id: String = r.try_get("id")?;
    let status: String = r.try_get("status")?;
    let settings: String = r.try_get("settings")?;
    let cloned: Option<String> = r.try_get("cloned_from")?;
    let bt: Option<i64> = r.try_get("basic_total")?;
    let ft: Option<i64> = r.try_get("featured_total")?;
    let year: i64 = r.try_get("year")?;
    Ok(FrameworkSummary {
        id: parse_uuid(&id)?,
        name: r.try_get("name")?,
        year: year as i32,
        status: FrameworkStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("framework status {status}")))?,
        basic_total: bt.map(Points),
        featured_total: ft.map(Points),
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("framework settings: {e}")))?,
        cloned_from: cloned.as_deref().map(parse_uuid).transpose()?,
        version: r.try_get("version")?,
        updated_at: ts(r.try_get("updated_at")?),
        standards: r.try_get("standards")?,
        basic: Points(r.try_get("basic")?),
        featured: Points(r.try_get("featured")?),
    })
}

pub async fn list(store: &Store) -> Result<Vec<FrameworkSummary>, StoreError> {
    let rows = sqlx::query(&format!("{SUMMARY} ORDER BY f.year DESC, f.name"))
        .fetch_all(store.reader())
        .await?;
    rows.iter().map(summary_from_row).collect()
}

pub async fn get(store: &Store, id: Uuid) -> Result<FrameworkSummary, StoreError> {
    let row = sqlx::query(&format!("{SUMMARY} WHERE f.id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?;
    row.as_ref()
        .map(summary_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// The framework in force: the newest active one.
pub async fn active(store: &Store) -> Result<Option<FrameworkSummary>, StoreError> {
    let row = sqlx::query(&format!(
        "{SUMMARY} WHERE f.status = 'active' ORDER BY f.year DESC, f.updated_at DESC LIMIT 1"
    ))
    .fetch_optional(store.reader())
    .await?;
    row.as_ref().map(summary_from_row).transpose()
}

pub async fn set_status(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    id: Uuid,
    expected_version: i64,
    status: FrameworkStatus,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = get(store, id).await?;
    if status == FrameworkStatus::Active && before.totals_off() {
        return Err(StoreError::invalid("status", "totals_do_not_add_up"));
    }
    let mut tx = store.begin().await?;
    let n = sqlx::query("UPDATE framework SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
        .bind(status.code())
        .bind(now_micros())
        .bind(id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    // In force, its standards reviewed by materials ask for them.
    if status == FrameworkStatus::Active {
        crate::evidence::ensure_defaults(&mut tx, ctx, id).await?;
    }
    #[derive(Serialize)]
    struct S {
        status: FrameworkStatus,
    }
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "framework",
        &id.to_string(),
        &S {
            status: before.status,
        },
        &S { status },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) fn join_codes<T: Copy>(items: &[T], code: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| code(*i)).collect::<Vec<_>>().join(",")
}
