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
    Migration {
        version: 13,
        name: "public reports",
        sql: include_str!("../migrations/0013_public_report.sql"),
    },
    Migration {
        version: 14,
        name: "verifier",
        sql: include_str!("../migrations/0014_verifier.sql"),
    },
    Migration {
        version: 15,
        name: "evidence archive",
        sql: include_str!("../migrations/0015_evidence.sql"),
    },
    Migration {
        version: 16,
        name: "requirements overdue told",
        sql: include_str!("../migrations/0016_requirement_overdue.sql"),
    },
    Migration {
        version: 17,
        name: "material photo checks",
        sql: include_str!("../migrations/0017_material_photo_checks.sql"),
    },
    Migration {
        version: 18,
        name: "package jobs",
        sql: include_str!("../migrations/0018_package_job.sql"),
    },
    Migration {
        version: 19,
        name: "submission tally index",
        sql: include_str!("../migrations/0019_submission_tally_index.sql"),
    },
    Migration {
        version: 20,
        name: "material date index",
        sql: include_str!("../migrations/0020_material_date_index.sql"),
    },
    Migration {
        version: 21,
        name: "surveys",
        sql: include_str!("../migrations/0021_surveys.sql"),
    },
    Migration {
        version: 22,
        name: "submission document date",
        sql: include_str!("../migrations/0022_submission_doc_date.sql"),
    },
    Migration {
        version: 23,
        name: "survey tally split",
        sql: include_str!("../migrations/0023_survey_tally_split.sql"),
    },
    Migration {
        version: 24,
        name: "unit ratings",
        sql: include_str!("../migrations/0024_unit_ratings.sql"),
    },
    Migration {
        version: 25,
        name: "survey contacts sent once",
        sql: include_str!("../migrations/0025_survey_contact_sent.sql"),
    },
    Migration {
        version: 26,
        name: "scoring",
        sql: include_str!("../migrations/0026_scoring.sql"),
    },
    Migration {
        version: 27,
        name: "rankings",
        sql: include_str!("../migrations/0027_rankings.sql"),
    },
    Migration {
        version: 28,
        name: "finding case index",
        sql: include_str!("../migrations/0028_finding_case_index.sql"),
    },
];

/// The schema version this build brings a database to: its last migration.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

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

/// Runs a migration's file as it is, inside the caller's transaction: the
/// database parses it (quotes, comments, trigger and function bodies with
/// semicolons of their own), not a split on line ends.
async fn apply(conn: &mut sqlx::AnyConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(&mut *conn).await?;
    Ok(())
}

const CREATE_HISTORY: &str = "CREATE TABLE IF NOT EXISTS schema_migration (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)";

async fn current_version(store: &Store) -> Result<i64, sqlx::Error> {
    sqlx::query(CREATE_HISTORY).execute(store.writer()).await?;
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migration")
        .fetch_one(store.reader())
        .await?;
    Ok(v.unwrap_or(0))
}

async fn run(store: &Store) -> Result<(), MigrationError> {
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
        apply(&mut tx, m.sql).await.map_err(failed)?;
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

impl Store {
    /// Brings the schema up to this build's version; refuses a database
    /// made by a newer build.
    pub async fn migrate(&self) -> Result<(), MigrationError> {
        run(self).await
    }

    /// Schema version the database is at (0 for an empty one).
    pub async fn schema_version(&self) -> Result<i64, sqlx::Error> {
        current_version(self).await
    }
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

    /// An empty SQLite database of its own.
    async fn scratch() -> crate::Store {
        let dir = std::env::temp_dir().join(format!("wenming-migrate-{}", uuid::Uuid::new_v4()));
        crate::Store::connect(&crate::StoreConfig {
            url: format!("sqlite://{}", dir.join("m.db").display()),
            max_connections: 2,
            timezone: jiff::tz::TimeZone::UTC,
        })
        .await
        .unwrap()
    }

    /// A trigger's body holds semicolons at line ends; the whole file runs,
    /// in the transaction, and the trigger works.
    #[tokio::test]
    async fn a_trigger_body_is_not_split() {
        let store = scratch().await;
        let mut conn = store.writer().acquire().await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        super::apply(
            &mut tx,
            "-- a comment; with a semicolon\n\
             CREATE TABLE a (x TEXT);\n\
             CREATE TABLE log (x TEXT);\n\
             CREATE TRIGGER a_log AFTER INSERT ON a BEGIN\n\
               INSERT INTO log VALUES (NEW.x);\n\
               INSERT INTO log VALUES ('1;2');\n\
             END;\n\
             INSERT INTO a VALUES ('first');\n",
        )
        .await
        .unwrap();
        let logged: Vec<String> = sqlx::query_scalar("SELECT x FROM log ORDER BY x")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        assert_eq!(logged, ["1;2", "first"]);
    }

    /// A failing statement in the middle fails the file, and nothing of it
    /// stays once the transaction is dropped.
    #[tokio::test]
    async fn a_failing_file_leaves_nothing() {
        let store = scratch().await;
        let mut conn = store.writer().acquire().await.unwrap();
        {
            let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
            let r = super::apply(
                &mut tx,
                "CREATE TABLE b (x TEXT);\nINSERT INTO nowhere VALUES (1);\n",
            )
            .await;
            assert!(r.is_err());
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(n, 0);
    }

    /// A database made before the public-report rename keeps its cases,
    /// their source now named as the glossary names it.
    #[tokio::test]
    async fn citizen_reports_become_public_reports() {
        let store = scratch().await;
        let mut conn = store.writer().acquire().await.unwrap();
        for m in super::MIGRATIONS.iter().filter(|m| m.version <= 12) {
            super::apply(&mut conn, m.sql).await.unwrap();
        }
        sqlx::query(
            "INSERT INTO category (id, code, name, standard_codes, site_types, active, version, updated_at) \
             VALUES ('c', '01', 'x', '[]', '[]', 1, 1, 0)",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO case_record (id, number, source, category_id, description, state, dispatched_by, \
             handled_by, reworks, extensions, evaluated, reported_at, version, updated_at) \
             VALUES ('k', '2026-000001', 'citizen', 'c', 'x', 'reported', '[]', '[]', 0, 0, 0, 0, 1, 0)",
        )
        .execute(&mut *conn)
        .await
        .unwrap();
        let m13 = super::MIGRATIONS.iter().find(|m| m.version == 13).unwrap();
        super::apply(&mut conn, m13.sql).await.unwrap();
        let source: String = sqlx::query_scalar("SELECT source FROM case_record WHERE id = 'k'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(source, "public_report");
        assert_eq!(
            wenming_domain::case::Source::parse(&source),
            Some(wenming_domain::case::Source::PublicReport)
        );
    }
}
