//! The figures the anomaly flags test, read since a day: inspectors'
//! failures by site type, and each site's passes by inspector.

use crate::org::parse_uuid;
use crate::{Store, StoreError};
use sqlx::Row;
use wenming_domain::anomaly::{InspectorStratum, SiteInspector};

fn micros(day: jiff::civil::Date, tz: &jiff::tz::TimeZone) -> i64 {
    day.to_datetime(jiff::civil::Time::midnight())
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_microsecond())
        .unwrap_or(0)
}

fn count(r: &sqlx::any::AnyRow, c: &str) -> Result<u64, StoreError> {
    Ok(r.try_get::<i64, _>(c)?.max(0) as u64)
}

pub async fn inspector_strata(
    store: &Store,
    since: jiff::civil::Date,
) -> Result<Vec<InspectorStratum>, StoreError> {
    let rows = sqlx::query(
        "SELECT f.inspector_id, s.type_id, \
         CAST(SUM(CASE WHEN f.outcome = 'fail' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
         CAST(SUM(CASE WHEN f.outcome IN ('pass', 'fail') THEN 1 ELSE 0 END) AS BIGINT) AS judged \
         FROM finding f JOIN site s ON s.id = f.site_id \
         WHERE f.inspector_id IS NOT NULL AND f.observed_at >= $1 GROUP BY f.inspector_id, s.type_id",
    )
    .bind(micros(since, store.timezone()))
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(InspectorStratum {
                inspector: parse_uuid(&r.try_get::<String, _>("inspector_id")?)?,
                site_type: parse_uuid(&r.try_get::<String, _>("type_id")?)?,
                failed: count(r, "failed")?,
                judged: count(r, "judged")?,
            })
        })
        .collect()
}

pub async fn site_inspectors(
    store: &Store,
    since: jiff::civil::Date,
) -> Result<Vec<SiteInspector>, StoreError> {
    let rows = sqlx::query(
        "SELECT site_id, inspector_id, \
         CAST(SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END) AS BIGINT) AS passed, \
         CAST(SUM(CASE WHEN outcome IN ('pass', 'fail') THEN 1 ELSE 0 END) AS BIGINT) AS judged \
         FROM finding WHERE inspector_id IS NOT NULL AND observed_at >= $1 GROUP BY site_id, inspector_id",
    )
    .bind(micros(since, store.timezone()))
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SiteInspector {
                site: parse_uuid(&r.try_get::<String, _>("site_id")?)?,
                inspector: parse_uuid(&r.try_get::<String, _>("inspector_id")?)?,
                passed: count(r, "passed")?,
                judged: count(r, "judged")?,
            })
        })
        .collect()
}

/// Display names of accounts, units or sites by id, for the flags' page.
pub async fn names(
    store: &Store,
) -> Result<std::collections::HashMap<uuid::Uuid, String>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for sql in [
        "SELECT id, display_name AS name FROM app_user",
        "SELECT id, name FROM unit",
        "SELECT id, name FROM site",
    ] {
        for r in sqlx::query(sql).fetch_all(store.reader()).await? {
            out.insert(
                parse_uuid(&r.try_get::<String, _>("id")?)?,
                r.try_get("name")?,
            );
        }
    }
    Ok(out)
}
