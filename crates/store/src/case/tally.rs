//! Monthly case tallies (migration 0009): what each month's cases count for
//! in the metrics, summed per unit and region, corrected in the same
//! transaction as every change to a case by its new tally less its old.
//! The metrics page reads a month from these few hundred rows instead of
//! the hundred thousand cases behind them. The definition of what a case
//! counts for is `domain::metrics::tally`, the same one the page uses when
//! it computes a month from the cases themselves.

use super::{metric_record, scope_cases};
use crate::sql::Sql;
use crate::{Backend, Store, StoreError};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::calendar::Calendar;
use wenming_domain::metrics::{self, Tally};
use wenming_domain::policy::Scope;

/// (month `yyyymm`, unit id or '', region id or '').
type Key = (i32, String, String);

fn zone_name(store: &Store) -> String {
    store.timezone().iana_name().unwrap_or("fixed").to_string()
}

const RECORD_COLUMNS: &str = "c.unit_id, c.region_id, c.source, c.state, c.registered_at, c.dispatched_at, \
    c.deadline, c.handled_at, c.closed_at, c.reworks, c.extensions";

fn add_row(
    sums: &mut HashMap<Key, Tally>,
    r: &sqlx::any::AnyRow,
    cal: &Calendar,
) -> Result<(), StoreError> {
    let record = metric_record(r)?;
    let unit: Option<String> = r.try_get("unit_id")?;
    let region: Option<String> = r.try_get("region_id")?;
    for (month, t) in metrics::monthly(&record, &cal.tz, cal) {
        *sums
            .entry((
                month,
                unit.clone().unwrap_or_default(),
                region.clone().unwrap_or_default(),
            ))
            .or_default() += t;
    }
    Ok(())
}

/// The tallies of these cases as they stand in `conn`'s transaction.
pub(crate) async fn of_cases(
    conn: &mut AnyConnection,
    cal: &Calendar,
    ids: &[String],
) -> Result<HashMap<Key, Tally>, StoreError> {
    let mut sums = HashMap::new();
    if ids.is_empty() {
        return Ok(sums);
    }
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM case_record c WHERE c.id IN ({})",
        crate::sql::marks(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    for r in q.fetch_all(&mut *conn).await? {
        add_row(&mut sums, &r, cal)?;
    }
    Ok(sums)
}

const COLUMNS: [&str; metrics::TALLY_COUNTS] = [
    "registered",
    "from_inspector",
    "due",
    "closed",
    "closed_on_time",
    "handled_of_due",
    "handled_on_time",
    "handled",
    "reworked",
    "handling_secs",
    "dispatched",
    "extended",
    "voided",
    "parked",
];

/// Adds `after - before` to the stored sums.
pub(crate) async fn apply(
    conn: &mut AnyConnection,
    before: &HashMap<Key, Tally>,
    after: &HashMap<Key, Tally>,
) -> Result<(), StoreError> {
    let mut deltas: HashMap<&Key, Tally> = HashMap::new();
    for (k, t) in after {
        *deltas.entry(k).or_default() += *t;
    }
    for (k, t) in before {
        let d = deltas.entry(k).or_default();
        *d = *d - *t;
    }
    let marks: Vec<String> = (4..4 + COLUMNS.len()).map(|i| format!("${i}")).collect();
    let sums: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("{c} = case_tally.{c} + excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO case_tally (month, unit_id, region_id, {}) VALUES ($1, $2, $3, {}) \
         ON CONFLICT (month, unit_id, region_id) DO UPDATE SET {}",
        COLUMNS.join(", "),
        marks.join(", "),
        sums.join(", ")
    );
    for ((month, unit, region), d) in deltas {
        if d.is_zero() {
            continue;
        }
        let mut q = sqlx::query(&sql).bind(*month).bind(unit).bind(region);
        for c in d.counts() {
            q = q.bind(c);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether the stored sums hold for the store's zone and calendar.
pub async fn is_built(store: &Store) -> Result<bool, StoreError> {
    let zone: Option<String> = sqlx::query_scalar("SELECT zone FROM case_tally_built WHERE id = 1")
        .fetch_optional(store.reader())
        .await?;
    Ok(zone.is_some_and(|z| z == zone_name(store)))
}

/// Builds every month's sums again from the cases. Case changes wait until
/// it is done, so none is counted twice or missed (on SQLite they queue for
/// the one writer; on PostgreSQL the table is locked against writes).
pub async fn rebuild(store: &Store) -> Result<usize, StoreError> {
    use futures_util::TryStreamExt;
    super::calendar::forget(store);
    let cal = super::calendar::cached(store).await?;
    let mut tx = store.begin().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("LOCK TABLE case_record IN SHARE MODE")
            .execute(&mut *tx)
            .await?;
    }
    let mut sums = HashMap::new();
    {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM case_record c");
        let mut rows = sqlx::query(&sql).fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            add_row(&mut sums, &r, &cal)?;
        }
    }
    sqlx::query("DELETE FROM case_tally")
        .execute(&mut *tx)
        .await?;
    let rows: Vec<(Key, Tally)> = sums.into_iter().filter(|(_, t)| !t.is_zero()).collect();
    // 40 rows of 15 values a statement: sqlx's SQLite driver slows down
    // sharply with the number of parameters in one statement.
    for chunk in rows.chunks(40) {
        let sql = format!(
            "INSERT INTO case_tally (month, unit_id, region_id, {}) VALUES {}",
            COLUMNS.join(", "),
            crate::sql::rows(chunk.len(), 3 + COLUMNS.len())
        );
        let mut q = sqlx::query(&sql);
        for ((month, unit, region), t) in chunk {
            q = q.bind(*month).bind(unit).bind(region);
            for c in t.counts() {
                q = q.bind(c);
            }
        }
        q.execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM case_tally_built")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO case_tally_built (id, zone, built_at) VALUES (1, $1, $2)")
        .bind(zone_name(store))
        .bind(crate::now_micros())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// A month's sums per unit (`None`: not yet dispatched) within the scope,
/// or `None` when the sums must be rebuilt first.
pub async fn month(
    store: &Store,
    scope: &Scope,
    month: i32,
) -> Result<Option<Vec<(Option<Uuid>, Tally)>>, StoreError> {
    if !is_built(store).await? {
        return Ok(None);
    }
    let sql = month_sql("", scope, month);
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter()
        .map(|r| {
            let unit: String = r.try_get("unit_id")?;
            let mut counts = [0i64; metrics::TALLY_COUNTS];
            for (i, c) in COLUMNS.iter().enumerate() {
                counts[i] = r.try_get(*c)?;
            }
            let unit = if unit.is_empty() {
                None
            } else {
                Some(crate::org::parse_uuid(&unit)?)
            };
            Ok((unit, Tally::from_counts(counts)))
        })
        .collect::<Result<Vec<_>, StoreError>>()
        .map(Some)
}

/// Cases with their unit past the deadline at `now`, per unit, within the
/// scope: asked of the cases themselves, since it changes by the minute.
pub async fn overdue_by_unit(
    store: &Store,
    scope: &Scope,
    now: jiff::Timestamp,
) -> Result<HashMap<Uuid, u64>, StoreError> {
    let sql = overdue_sql("", scope, now);
    let mut out = HashMap::new();
    for r in sql.query().fetch_all(store.reader()).await? {
        let unit: Option<String> = r.try_get("unit_id")?;
        let n: i64 = r.try_get("n")?;
        if let Some(u) = unit {
            out.insert(crate::org::parse_uuid(&u)?, n.max(0) as u64);
        }
    }
    Ok(out)
}

fn month_sql(prefix: &str, scope: &Scope, month: i32) -> Sql {
    let sums: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("CAST(SUM(c.{c}) AS BIGINT) AS {c}"))
        .collect();
    let mut sql = Sql::new(&format!(
        "{prefix}SELECT c.unit_id, {} FROM case_tally c LEFT JOIN region r ON r.id = c.region_id WHERE c.month = ",
        sums.join(", ")
    ));
    let m = sql.int_arg(i64::from(month));
    sql.push(&m);
    scope_cases(&mut sql, scope);
    sql.push(" GROUP BY c.unit_id");
    sql
}

fn overdue_sql(prefix: &str, scope: &Scope, now: jiff::Timestamp) -> Sql {
    let mut sql = Sql::new(&format!(
        "{prefix}SELECT c.unit_id, COUNT(*) AS n FROM case_record c LEFT JOIN region r ON r.id = c.region_id \
         WHERE {} AND c.deadline < ",
        super::DEADLINE_RUNS
    ));
    let at = sql.int_arg(now.as_microsecond());
    sql.push(&at);
    scope_cases(&mut sql, scope);
    sql.push(" GROUP BY c.unit_id");
    sql
}

/// SQLite's plans for a month's sums and the overdue count, for the test
/// that they read their indexes.
pub async fn query_plans(store: &Store, scope: &Scope) -> Result<[Vec<String>; 2], StoreError> {
    let mut out: [Vec<String>; 2] = Default::default();
    let now = jiff::Timestamp::now();
    for (i, sql) in [
        month_sql("EXPLAIN QUERY PLAN ", scope, 202611),
        overdue_sql("EXPLAIN QUERY PLAN ", scope, now),
    ]
    .into_iter()
    .enumerate()
    {
        for r in sql.query().fetch_all(store.reader()).await? {
            out[i].push(r.try_get("detail")?);
        }
    }
    Ok(out)
}
