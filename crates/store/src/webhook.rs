//! The webhook outbox: deliveries written in the same transaction as the
//! event they tell of, sent and retried by the delivery job. Sending is the
//! web crate's (it owns HTTP); what is due and what happened is kept here.

use crate::org::parse_uuid;
use crate::{Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// After this many failed attempts a delivery is given up (kept, with its
/// last error, for the administrator to see).
pub const MAX_ATTEMPTS: i64 = 12;

pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    event: &str,
    payload: &str,
    now: Timestamp,
) -> Result<Uuid, StoreError> {
    let id = wenming_domain::new_id();
    sqlx::query(
        "INSERT INTO webhook_delivery (id, event, payload, attempts, next_attempt_at, delivered_at, last_error, created_at) \
         VALUES ($1, $2, $3, 0, $4, NULL, NULL, $4)",
    )
    .bind(id.to_string())
    .bind(event)
    .bind(payload)
    .bind(now.as_microsecond())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        event: r.try_get("event")?,
        payload: r.try_get("payload")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r
            .try_get::<Option<i64>, _>("next_attempt_at")?
            .map(crate::ts),
        delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(crate::ts),
        last_error: r.try_get("last_error")?,
    })
}

/// Deliveries whose time has come, oldest first.
pub async fn due(store: &Store, now: Timestamp, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    let rows = sqlx::query(
        "SELECT * FROM webhook_delivery WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now.as_microsecond())
    .bind(limit)
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn recent(store: &Store, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    let rows =
        sqlx::query("SELECT * FROM webhook_delivery ORDER BY created_at DESC, id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(store.reader())
            .await?;
    rows.iter().map(from_row).collect()
}

pub async fn delivered(store: &Store, id: Uuid, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhook_delivery SET attempts = attempts + 1, delivered_at = $1, next_attempt_at = NULL, \
         last_error = NULL WHERE id = $2",
    )
    .bind(now.as_microsecond())
    .bind(id.to_string())
    .execute(store.writer())
    .await?;
    Ok(())
}

/// The wait before attempt `n + 1` after `n` failures: 30 s, doubling, at
/// most six hours.
pub fn backoff(failures: i64) -> SignedDuration {
    let secs = 30i64.saturating_mul(1i64 << failures.clamp(0, 20) as u32 >> 1);
    SignedDuration::from_secs(secs.min(6 * 3600))
}

/// Records a failed attempt and when to try again (or that it is given up).
pub async fn failed(
    store: &Store,
    d: &Delivery,
    error: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let failures = d.attempts + 1;
    let next = (failures < MAX_ATTEMPTS).then(|| (now + backoff(failures)).as_microsecond());
    let error: String = error.chars().take(500).collect();
    sqlx::query(
        "UPDATE webhook_delivery SET attempts = $1, next_attempt_at = $2, last_error = $3 WHERE id = $4",
    )
    .bind(failures)
    .bind(next)
    .bind(error)
    .bind(d.id.to_string())
    .execute(store.writer())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_doubling_up_to_six_hours() {
        let secs: Vec<i64> = (1..=5).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480]);
        assert_eq!(backoff(30).as_secs(), 6 * 3600);
    }
}
