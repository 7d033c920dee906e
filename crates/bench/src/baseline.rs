//! The raw database, measured with no web stack, for the benchmark table:
//! what each goal is compared against in the same run.

use std::io::Write;
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

/// A file written and synced with its folder, as the file store does.
fn write_durably(dir: &std::path::Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    let mut f = std::fs::File::create(dir.join(name)).map_err(|e| e.to_string())?;
    f.write_all(bytes).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| e.to_string())
}

/// Files per second of a loop writing `bytes` to a new file, durably (the
/// file and its folder synced, as the file store does), and hashing them.
pub fn raw_file_rate(
    dir: &std::path::Path,
    bytes: &[u8],
    duration: Duration,
) -> Result<f64, String> {
    use sha2::Digest;
    let dir = dir.join("raw-files");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < duration {
        write_durably(&dir, &format!("f{n}"), bytes)?;
        std::hint::black_box(sha2::Sha256::digest(bytes));
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rate)
}

/// Flushes written pages to the database files, so that a latency run is
/// not measured against a checkpoint the earlier write loads left due.
pub(crate) async fn settle(store: &Store) -> Result<(), String> {
    let sql = match store.backend() {
        wenming_store::Backend::Sqlite => "PRAGMA wal_checkpoint(PASSIVE)",
        wenming_store::Backend::Postgres => "CHECKPOINT",
    };
    crate::baseline::execute(store, sql)
        .await
        .map_err(|e| e.to_string())
}

/// Uploads a second, without the web stack: each picture examined as the
/// server examines it (decoded, a thumbnail made, hashed), then written and
/// synced, on as many threads as there are cores.
pub fn raw_photo_rate(
    dir: &std::path::Path,
    bytes: &[u8],
    duration: Duration,
) -> Result<f64, String> {
    let dir = dir.join("raw-photos");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let done: Result<Vec<u64>, String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let dir = &dir;
                s.spawn(move || -> Result<u64, String> {
                    let mut n = 0u64;
                    while started.elapsed() < duration {
                        let thumb =
                            wenming_store::photo::examine(bytes).map_err(|e| e.to_string())?;
                        std::hint::black_box(thumb);
                        write_durably(dir, &format!("t{t}-{n}"), bytes)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| "a baseline thread panicked".to_string())?
            })
            .collect()
    });
    let n: u64 = done?.into_iter().sum();
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rate)
}

/// Milliseconds (p50, p99) of the statements run `times` times in turn with
/// no web stack.
pub async fn raw_query_ms(
    store: &Store,
    statements: &[wenming_store::sql::Sql],
    times: usize,
) -> Result<(f64, f64), String> {
    let mut lat = vec![];
    for sql in statements.iter().cycle().take(times) {
        let t0 = Instant::now();
        sql.query()
            .fetch_all(store.reader())
            .await
            .map_err(|e| e.to_string())?;
        lat.push(t0.elapsed().as_micros() as u64);
    }
    lat.sort_unstable();
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}

pub(crate) fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}
