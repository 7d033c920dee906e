//! The city always keeps an active, city-wide administrator: the checks
//! account changes make inside their transaction.

use crate::{Store, StoreError};
use sqlx::AnyConnection;
use uuid::Uuid;

/// Changes that could leave the city without an administrator queue up
/// behind one another (PostgreSQL: a transaction-scoped advisory lock;
/// SQLite has a single writer already), so two revocations at once cannot
/// each see the other's administrator still there.
pub(super) async fn guard_administrators(
    store: &Store,
    tx: &mut AnyConnection,
) -> Result<(), StoreError> {
    if store.backend() == crate::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ADMINISTRATORS_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// An arbitrary key for the advisory lock above ("wm-admin").
const ADMINISTRATORS_LOCK: i64 = 0x776d_2d61_646d_696e;

pub(super) async fn administrator_grants(
    tx: &mut AnyConnection,
    user_id: Uuid,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM role_grant WHERE user_id = $1 AND role = 'administrator'",
    )
    .bind(user_id.to_string())
    .fetch_one(&mut *tx)
    .await?)
}

/// The city must keep an active administrator whose grant reaches all of
/// it, or nobody could manage accounts any more.
pub(super) async fn administrators_remain(
    tx: &mut AnyConnection,
    field: &str,
) -> Result<(), StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM role_grant g JOIN app_user u ON u.id = g.user_id \
         JOIN region r ON r.id = g.scope_id \
         WHERE g.role = 'administrator' AND g.scope_kind = 'region' AND r.parent_id IS NULL AND u.active = 1",
    )
    .fetch_one(&mut *tx)
    .await?;
    if n == 0 {
        return Err(StoreError::invalid(field, "last_administrator"));
    }
    Ok(())
}
