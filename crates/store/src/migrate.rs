//! Schema migrations: one ordered set for both databases, each applied whole
//! in one transaction, refused when the database is newer than this binary.

use crate::{Backend, Store};
use sha2::{Digest, Sha256};
use sqlx::Acquire;

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sql: include_str!("../migrations/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "people",
        sql: include_str!("../migrations/0002_people.sql"),
    },
    Migration {
        version: 3,
        name: "framework",
        sql: include_str!("../migrations/0003_framework.sql"),
    },
    Migration {
        version: 4,
        name: "tasks",
        sql: include_str!("../migrations/0004_tasks.sql"),
    },
    Migration {
        version: 5,
        name: "cases",
        sql: include_str!("../migrations/0005_cases.sql"),
    },
    Migration {
        version: 6,
        name: "photos",
        sql: include_str!("../migrations/0006_photos.sql"),
    },
    Migration {
        version: 7,
        name: "escalation",
        sql: include_str!("../migrations/0007_escalation.sql"),
    },
    Migration {
        version: 8,
        name: "list and metrics indexes",
        sql: include_str!("../migrations/0008_list_index.sql"),
    },
    Migration {
        version: 9,
        name: "monthly case tallies",
        sql: include_str!("../migrations/0009_case_tally.sql"),
    },
    Migration {
        version: 10,
        name: "sites",
        sql: include_str!("../migrations/0010_sites.sql"),
    },
    Migration {
        version: 11,
        name: "inspection rounds and findings",
        sql: include_str!("../migrations/0011_inspections.sql"),
    },
    Migration {
        version: 12,
        name: "integrity repairs",
        sql: include_str!("../migrations/0012_integrity.sql"),
    },
];

pub const SCHEMA_VERSION: i64 = 12;

/// Any number; it names the lock two instances starting together take.
const PG_MIGRATION_LOCK: i64 = 0x0077_656e_6d69_6e67;

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "the database schema is at version {database}, newer than this wenming understands (version {binary}); run a newer wenming"
    )]
    NewerThanBinary { database: i64, binary: i64 },
    #[error("migration {version} ({name}) differs from the one applied to this database")]
    Changed { version: i64, name: &'static str },
    #[error("migration {version} ({name}) failed: {source}")]
    Failed {
        version: i64,
        name: &'static str,
        source: sqlx::Error,
    },
    #[error("cannot read the migration history: {0}")]
    Db(#[from] sqlx::Error),
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

fn statements(sql: &str) -> impl Iterator<Item = String> + '_ {
    let without_comments: String = sql
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(";\n")
        .map(|s| s.trim().trim_end_matches(';').trim().to_string())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
}

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_migration (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";

pub(crate) async fn current_version(store: &Store) -> Result<i64, sqlx::Error> {
    sqlx::query(CREATE_HISTORY).execute(store.writer()).await?;
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migration")
        .fetch_one(store.reader())
        .await?;
    Ok(v.unwrap_or(0))
}

pub(crate) async fn run(store: &Store) -> Result<(), MigrationError> {
    let mut conn = store.writer().acquire().await?;
    sqlx::query(CREATE_HISTORY).execute(&mut *conn).await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let result = apply_pending(&mut conn).await;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    result
}

async fn apply_pending(conn: &mut sqlx::AnyConnection) -> Result<(), MigrationError> {
    let applied: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, checksum FROM schema_migration ORDER BY version")
            .fetch_all(&mut *conn)
            .await?;
    if let Some((newest, _)) = applied.last()
        && *newest > SCHEMA_VERSION
    {
        return Err(MigrationError::NewerThanBinary {
            database: *newest,
            binary: SCHEMA_VERSION,
        });
    }
    for m in MIGRATIONS {
        if let Some((_, sum)) = applied.iter().find(|(v, _)| *v == m.version) {
            if *sum != checksum(m.sql) {
                return Err(MigrationError::Changed {
                    version: m.version,
                    name: m.name,
                });
            }
            continue;
        }
        let failed = |source| MigrationError::Failed {
            version: m.version,
            name: m.name,
            source,
        };
        let mut tx = conn.begin().await.map_err(failed)?;
        for stmt in statements(m.sql) {
            sqlx::query(&stmt).execute(&mut *tx).await.map_err(failed)?;
        }
        sqlx::query(
            "INSERT INTO schema_migration (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(m.sql))
        .bind(crate::now_micros())
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_migration_is_the_schema_version() {
        assert_eq!(
            super::MIGRATIONS.last().unwrap().version,
            super::SCHEMA_VERSION
        );
        for (i, m) in super::MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version,
                i as i64 + 1,
                "migrations are numbered without gaps"
            );
        }
    }

    #[test]
    fn statements_split_on_line_ends_and_drop_comments() {
        let s: Vec<String> =
            super::statements("-- c\nCREATE TABLE a (x TEXT);\nINSERT INTO a VALUES ('1;2');\n")
                .collect();
        assert_eq!(
            s,
            vec!["CREATE TABLE a (x TEXT)", "INSERT INTO a VALUES ('1;2')"]
        );
    }
}
