//! Persistence: one set of SQL for SQLite and PostgreSQL through sqlx's `Any`
//! driver, repositories that return domain types and take the caller's scope,
//! and the audit log written inside every changing transaction.

pub mod accounts;
pub mod anomaly;
pub mod audit;
pub mod backup;
pub mod case;
mod db;
pub mod demo;
pub mod dice;
mod error;
pub mod escalation;
pub mod evidence;
pub mod files;
pub mod framework;
mod group_commit;
pub mod inspection;
pub mod jobs;
mod migrate;
pub mod org;
pub mod photo;
pub mod ranking;
pub mod rating;
pub mod scoring;
pub mod site;
pub mod sql;
pub mod survey;
pub mod task;
pub mod third_party;
pub mod webhook;

pub use db::{Backend, Store, StoreConfig, redact_url};
pub use error::StoreError;
pub use migrate::{MigrationError, SCHEMA_VERSION};

use uuid::Uuid;

/// Who is making a change and through which request: copied into the audit
/// record of every write.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn system(what: &str) -> Self {
        Ctx {
            actor_id: None,
            actor_name: format!("system:{what}"),
            request_id: None,
        }
    }
}

pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

pub fn ts(micros: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(micros).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Keyset pagination: a page of rows and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next: Option<String>,
}
