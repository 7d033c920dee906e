//! Snapshots of the projection: its whole document kept as it stood, so
//! that a trend is history.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};

wenming_domain::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SnapshotKind {
        Monthly = "monthly",
        OnDemand = "on_demand",
    }
}

/// A stored projection; `doc` (the whole projection as JSON) is read only
/// when one is opened.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub taken_on: jiff::civil::Date,
    pub kind: SnapshotKind,
    pub score: f64,
    pub low: f64,
    pub high: f64,
    pub standing: String,
    #[serde(skip)]
    pub doc: Option<String>,
}

/// Keeps a projection. A monthly one already taken this month (by another
/// instance, or the job run twice) is not taken again: `None`.
pub async fn take_snapshot(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageScoring>,
    s: &Snapshot,
) -> Result<Option<Snapshot>, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    let put = sqlx::query(
        "INSERT INTO score_snapshot (id, framework_id, taken_on, kind, score, low, high, standing, doc, taken_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(s.id.to_string())
    .bind(s.framework_id.to_string())
    .bind(s.taken_on.to_string())
    .bind(s.kind.code())
    .bind(s.score)
    .bind(s.low)
    .bind(s.high)
    .bind(&s.standing)
    .bind(s.doc.as_deref().unwrap_or("{}"))
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now_micros())
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from);
    match put {
        Err(e) if e.is_unique_violation() && s.kind == SnapshotKind::Monthly => return Ok(None),
        other => other?,
    };
    #[derive(Serialize)]
    struct Taken<'a> {
        taken_on: String,
        kind: &'a str,
        score: f64,
        low: f64,
        high: f64,
    }
    audit::created(
        &mut tx,
        ctx,
        "score_snapshot",
        &s.id.to_string(),
        &Taken {
            taken_on: s.taken_on.to_string(),
            kind: s.kind.code(),
            score: s.score,
            low: s.low,
            high: s.high,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(s.clone()))
}

/// The framework's snapshots, oldest first, without their documents.
pub async fn snapshots(store: &Store, framework_id: Uuid) -> Result<Vec<Snapshot>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, framework_id, taken_on, kind, score, low, high, standing FROM score_snapshot \
         WHERE framework_id = $1 ORDER BY taken_on, created_at",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(|r| snapshot_from(r, false)).collect()
}

/// One snapshot with its document.
pub async fn snapshot(store: &Store, id: Uuid) -> Result<Snapshot, StoreError> {
    let r = sqlx::query("SELECT * FROM score_snapshot WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    snapshot_from(&r, true)
}

fn snapshot_from(r: &sqlx::any::AnyRow, with_doc: bool) -> Result<Snapshot, StoreError> {
    let on: String = r.try_get("taken_on")?;
    let kind: String = r.try_get("kind")?;
    Ok(Snapshot {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        framework_id: parse_uuid(&r.try_get::<String, _>("framework_id")?)?,
        taken_on: on
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("snapshot day {on}")))?,
        kind: SnapshotKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("snapshot kind {kind}")))?,
        score: r.try_get("score")?,
        low: r.try_get("low")?,
        high: r.try_get("high")?,
        standing: r.try_get("standing")?,
        doc: if with_doc {
            Some(r.try_get("doc")?)
        } else {
            None
        },
    })
}
