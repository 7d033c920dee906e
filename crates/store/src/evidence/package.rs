//! Filing packages written in the background: a row per request with its
//! progress, the zip kept in the file store until newer ones replace it.
//! The zip itself is written by the web layer, which names its parts.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, now_micros, ts};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};

/// Packages kept; older zips are deleted as new ones are finished.
pub const PACKAGES_KEPT: usize = 5;

/// A running package that has not moved for this long was cut off (its
/// server stopped) and is shown as failed.
const STALLED_AFTER_MICROS: i64 = 10 * 60 * 1_000_000;

#[derive(Debug, Clone, Serialize)]
pub struct PackageJob {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub file_name: String,
    /// running, done or failed
    pub state: &'static str,
    pub files_total: i64,
    pub files_done: i64,
    pub bytes_total: i64,
    pub bytes_done: i64,
    pub size: Option<i64>,
    pub error: Option<String>,
    pub created_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
}

impl PackageJob {
    /// Done, by bytes, in whole percent.
    pub fn percent(&self) -> i64 {
        match self.state {
            "done" => 100,
            _ if self.bytes_total > 0 => (self.bytes_done * 100 / self.bytes_total).min(99),
            _ => 0,
        }
    }
}

/// Where a package's zip is kept.
pub fn package_key(id: Uuid) -> String {
    format!("packages/{id}.zip")
}

fn from_row(r: &AnyRow, now: i64) -> Result<PackageJob, StoreError> {
    let state: String = r.try_get("state")?;
    let updated: i64 = r.try_get("updated_at")?;
    let mut error: Option<String> = r.try_get("error")?;
    let state = match state.as_str() {
        "done" => "done",
        "running" if now - updated > STALLED_AFTER_MICROS => {
            error = Some("interrupted".into());
            "failed"
        }
        "running" => "running",
        _ => "failed",
    };
    Ok(PackageJob {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        framework_id: parse_uuid(&r.try_get::<String, _>("framework_id")?)?,
        file_name: r.try_get("file_name")?,
        state,
        files_total: r.try_get("files_total")?,
        files_done: r.try_get("files_done")?,
        bytes_total: r.try_get("bytes_total")?,
        bytes_done: r.try_get("bytes_done")?,
        size: r.try_get("size")?,
        error,
        created_at: ts(r.try_get("created_at")?),
        updated_at: ts(updated),
    })
}

/// Records a package about to be written (the office's).
pub async fn start_package(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReviewEvidence>,
    framework_id: Uuid,
    file_name: &str,
    (files_total, bytes_total): (i64, i64),
) -> Result<PackageJob, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    sqlx::query(
        "INSERT INTO package_job (id, framework_id, requested_by, file_name, state, files_total, files_done, \
         bytes_total, bytes_done, size, error, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'running', $5, 0, $6, 0, NULL, NULL, $7, $7)",
    )
    .bind(id.to_string())
    .bind(framework_id.to_string())
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(file_name)
    .bind(files_total)
    .bind(bytes_total)
    .bind(now)
    .execute(store.writer())
    .await?;
    package_job(store, id).await
}

/// How far a package has been written.
pub async fn package_progress(
    store: &Store,
    id: Uuid,
    files_done: i64,
    bytes_done: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE package_job SET files_done = $1, bytes_done = $2, updated_at = $3 WHERE id = $4 AND state = 'running'",
    )
    .bind(files_done)
    .bind(bytes_done)
    .bind(now_micros())
    .bind(id.to_string())
    .execute(store.writer())
    .await?;
    Ok(())
}

/// A package written (its size) or failed (why). Returns the keys of the
/// zips no longer kept, for the caller to delete.
pub async fn finish_package(
    store: &Store,
    id: Uuid,
    outcome: Result<u64, String>,
) -> Result<Vec<String>, StoreError> {
    let (state, size, error) = match outcome {
        Ok(n) => ("done", Some(n as i64), None),
        Err(e) => ("failed", None, Some(e)),
    };
    sqlx::query(
        "UPDATE package_job SET state = $1, size = $2, error = $3, files_done = CASE WHEN $1 = 'done' THEN files_total ELSE files_done END, \
         bytes_done = CASE WHEN $1 = 'done' THEN bytes_total ELSE bytes_done END, updated_at = $4 WHERE id = $5",
    )
    .bind(state)
    .bind(size)
    .bind(error)
    .bind(now_micros())
    .bind(id.to_string())
    .execute(store.writer())
    .await?;
    let done: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM package_job WHERE state = 'done' ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(store.reader())
    .await?;
    let mut gone = vec![];
    for old in done.iter().skip(PACKAGES_KEPT) {
        sqlx::query("UPDATE package_job SET state = 'failed', error = 'replaced' WHERE id = $1")
            .bind(old)
            .execute(store.writer())
            .await?;
        gone.push(package_key(parse_uuid(old)?));
    }
    Ok(gone)
}

pub async fn package_job(store: &Store, id: Uuid) -> Result<PackageJob, StoreError> {
    let r = sqlx::query("SELECT * FROM package_job WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&r, now_micros())
}

/// The newest packages first.
pub async fn package_jobs(store: &Store, limit: i64) -> Result<Vec<PackageJob>, StoreError> {
    let rows = sqlx::query("SELECT * FROM package_job ORDER BY created_at DESC, id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(store.reader())
        .await?;
    let now = now_micros();
    rows.iter().map(|r| from_row(r, now)).collect()
}
