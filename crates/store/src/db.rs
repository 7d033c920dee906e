use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Transaction};
use std::any::TypeId;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub url: String,
    pub max_connections: u32,
    /// The city's zone: months and working days are counted in it.
    pub timezone: jiff::tz::TimeZone,
}

/// The database. On SQLite all writes go through one connection, so writers
/// queue in the process instead of failing with "database is locked"; reads
/// use a pool. On PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    timezone: jiff::tz::TimeZone,
    kept: Kept,
    /// When a write last failed for want of space (microseconds, 0 if it
    /// has not since the last write that succeeded).
    out_of_space: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

/// What modules keep per store, by type.
#[derive(Clone, Default)]
struct Kept(Arc<Mutex<HashMap<TypeId, Arc<dyn std::any::Any + Send + Sync>>>>);

/// A URL with its password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
    {
        let user = userinfo.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

impl Store {
    pub async fn connect(cfg: &StoreConfig) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if cfg.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if cfg.url.starts_with("postgres://") || cfg.url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(sqlx::Error::Configuration(
                "the database URL must start with sqlite: or postgres://".into(),
            ));
        };
        let url = match backend {
            Backend::Sqlite => sqlite_url(&cfg.url)?,
            Backend::Postgres => cfg.url.clone(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .min_connections(0)
                .acquire_timeout(Duration::from_secs(10))
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        if conn.backend_name() == "SQLite" {
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 10000",
                                "PRAGMA synchronous = FULL",
                            ] {
                                sqlx::query(pragma).execute(&mut *conn).await?;
                            }
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let store = match backend {
            Backend::Sqlite => {
                let write = pool(1).await?;
                let read = pool(cfg.max_connections.max(2)).await?;
                Store {
                    read,
                    write,
                    backend,
                    timezone: cfg.timezone.clone(),
                    kept: Default::default(),
                    out_of_space: Default::default(),
                }
            }
            Backend::Postgres => {
                let p = pool(cfg.max_connections.max(2)).await?;
                Store {
                    read: p.clone(),
                    write: p,
                    backend,
                    timezone: cfg.timezone.clone(),
                    kept: Default::default(),
                    out_of_space: Default::default(),
                }
            }
        };
        // Fail now, with the real reason, rather than at the first request.
        sqlx::query("SELECT 1").execute(&store.write).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.write.begin().await
    }

    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    pub fn timezone(&self) -> &jiff::tz::TimeZone {
        &self.timezone
    }

    /// The state a module keeps for this store (a cache, a queue), made
    /// the first time the module asks. The type is the module's own, so no
    /// other module sees into it, and the store need not know it.
    pub(crate) fn kept<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut kept = self.kept.0.lock().unwrap_or_else(|p| p.into_inner());
        let slot = kept
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()));
        match slot.clone().downcast::<T>() {
            Ok(t) => t,
            // Keyed by the type's id, the slot holds that type.
            Err(_) => unreachable!("a kept slot holds the type it is keyed by"),
        }
    }

    /// The pool writes go through (on SQLite its one connection): for bulk
    /// loads and maintenance statements outside the repositories.
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// Keeps the query planner's statistics fresh. SQLite gathers them only
    /// when asked (a sample of each index, bounded by `analysis_limit`);
    /// PostgreSQL's autovacuum does it on its own.
    pub async fn optimize(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            let mut conn = self.write.acquire().await?;
            sqlx::query("PRAGMA analysis_limit = 1000")
                .execute(&mut *conn)
                .await?;
            sqlx::query("PRAGMA optimize = 0x10002")
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Notes how a write ended: one that failed for want of space makes
    /// the store not ready (and is logged with its cause) until a write
    /// succeeds again.
    pub fn note_write<T>(&self, r: &Result<T, crate::StoreError>) {
        use std::sync::atomic::Ordering;
        match r {
            Err(e) if e.is_out_of_space() => {
                if self
                    .out_of_space
                    .swap(crate::now_micros(), Ordering::Relaxed)
                    == 0
                {
                    tracing::error!(error = %e, "writes fail: the database has no space left");
                }
            }
            Ok(_) => {
                if self.out_of_space.swap(0, Ordering::Relaxed) != 0 {
                    tracing::warn!("writes succeed again");
                }
            }
            Err(_) => {}
        }
    }

    /// Whether writes have been failing for want of space. Half a minute
    /// after the last such failure it is tried again, so an instance taken
    /// out of rotation is not kept out forever once space returns.
    pub fn writes_failing(&self) -> bool {
        let at = self.out_of_space.load(std::sync::atomic::Ordering::Relaxed);
        at != 0 && crate::now_micros() - at < 30_000_000
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// `sqlite:path` or `sqlite://path`; creates the folder and the file.
fn sqlite_url(url: &str) -> Result<String, sqlx::Error> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let mut q: Vec<&str> = query.split('&').filter(|s| !s.is_empty()).collect();
    if !q.iter().any(|p| p.starts_with("mode=")) {
        q.push("mode=rwc");
    }
    Ok(format!("sqlite://{path}?{}", q.join("&")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://app:s3cret@db:5432/w"),
            "postgres://app:***@db:5432/w"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
