//! The raw database, measured with no web stack, for the benchmark table:
//! what each goal is compared against in the same run.

use std::time::{Duration, Instant};
use wenming_store::{Store, StoreError};

/// Rows per second of a loop inserting one row per transaction, durably,
/// through the pool and settings the server writes with.
pub async fn raw_insert_rate(store: &Store, duration: Duration) -> Result<f64, StoreError> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS bench_raw (id TEXT PRIMARY KEY, payload TEXT NOT NULL, at BIGINT NOT NULL)",
    )
    .execute(store.writer())
    .await?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        sqlx::query("INSERT INTO bench_raw (id, payload, at) VALUES ($1, $2, $3)")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind("路边垃圾堆积：a payload of about the size of a case's text")
            .bind(n as i64)
            .execute(store.writer())
            .await?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw")
        .execute(store.writer())
        .await?;
    Ok(rate)
}

/// One statement outside a transaction (CREATE DATABASE cannot run in one).
pub async fn execute(store: &Store, sql: &str) -> Result<(), StoreError> {
    sqlx::query(sql).execute(store.writer()).await?;
    Ok(())
}
