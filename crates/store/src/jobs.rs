//! Leases for background jobs: with several instances on one database, the
//! instance holding a job's lease runs it and the others skip it. A lease
//! expires, so a crashed holder is replaced after at most its lifetime.

use crate::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};

/// Takes or renews the lease on `job` for `holder` until `now + ttl`.
/// True when this holder has it.
pub async fn try_lease(
    store: &Store,
    job: &str,
    holder: &str,
    ttl: SignedDuration,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let until = (now + ttl).as_microsecond();
    let mut tx = store.begin().await?;
    sqlx::query("INSERT INTO job_lease (name, holder, until) VALUES ($1, $2, 0) ON CONFLICT (name) DO NOTHING")
        .bind(job)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
    let n = sqlx::query(
        "UPDATE job_lease SET holder = $1, until = $2 WHERE name = $3 AND (holder = $1 OR until < $4)",
    )
    .bind(holder)
    .bind(until)
    .bind(job)
    .bind(now.as_microsecond())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n.rows_affected() == 1)
}

/// Gives a lease up before it expires (a long job that finished), so that
/// another instance may take the next run at once.
pub async fn release(store: &Store, job: &str, holder: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE job_lease SET until = 0 WHERE name = $1 AND holder = $2")
        .bind(job)
        .bind(holder)
        .execute(store.writer())
        .await?;
    Ok(())
}
