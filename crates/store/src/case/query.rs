//! Finding cases: one by id, lists by filter with keyset pages, their
//! events and numbers, possible duplicates, and the records the metrics
//! count.

use super::calendar::*;
use super::catalogue::*;
use super::{CASE_COUNT, CASE_SELECT, Case, DEADLINE_RUNS, case_from_row, scope_cases};
use crate::db::Backend;
use crate::org::parse_uuid;
use crate::sql::Sql;
use crate::{Store, StoreError, ts};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::case::{CaseState, Source};
use wenming_domain::policy::Scope;

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub states: Vec<CaseState>,
    pub unit_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub source: Option<Source>,
    /// Open with a unit and past the deadline at this instant.
    pub overdue_at: Option<jiff::Timestamp>,
    /// Words of the description or address, or a case number.
    pub words: Option<String>,
    /// Placed in this region or below it (none for a region that is not).
    pub region_id: Option<Uuid>,
    /// Reported at or after this instant.
    pub reported_from: Option<jiff::Timestamp>,
    /// Reported before this instant.
    pub reported_before: Option<jiff::Timestamp>,
    /// Waiting for (or last waited for) this verifier.
    pub verifier_id: Option<Uuid>,
    /// Put to no verifier: the office must choose one.
    pub no_verifier: bool,
    /// Only these case numbers (a batch just registered or dispatched).
    pub numbers: Vec<String>,
    pub order: CaseOrder,
    /// Cursor: (reported_at micros, or the deadline's by deadline, id) of
    /// the last row seen.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// The order a list is read in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseOrder {
    /// Newest report first.
    #[default]
    Newest,
    /// Earliest deadline first (the most overdue at the top); cases
    /// without a deadline last.
    Deadline,
}

/// Where a case without a deadline sorts by deadline: after every other.
const NO_DEADLINE: i64 = i64::MAX;

/// Cases newest first (or by deadline), a keyset page at a time.
pub async fn list(
    store: &Store,
    scope: &Scope,
    f: &CaseFilter,
) -> Result<(Vec<Case>, Option<String>), StoreError> {
    let limit = f.limit.clamp(1, 500);
    let sql = list_sql(store.backend(), scope, f, CASE_SELECT);
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut cases: Vec<Case> = rows.iter().map(case_from_row).collect::<Result<_, _>>()?;
    let next = if cases.len() as i64 > limit {
        cases.truncate(limit as usize);
        cases.last().map(|c| {
            let key = match f.order {
                CaseOrder::Newest => c.reported_at.as_microsecond(),
                CaseOrder::Deadline => c.deadline.map_or(NO_DEADLINE, |d| d.as_microsecond()),
            };
            format!("{key}.{}", c.id)
        })
    } else {
        None
    };
    Ok((cases, next))
}

/// How SQLite would run the list query for this filter (`EXPLAIN QUERY
/// PLAN`), one line a step: tests check the hot lists use their index.
pub async fn list_plan(
    store: &Store,
    scope: &Scope,
    f: &CaseFilter,
) -> Result<Vec<String>, StoreError> {
    let sql = list_sql(
        store.backend(),
        scope,
        f,
        &format!("EXPLAIN QUERY PLAN {CASE_SELECT}"),
    );
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>("detail")?))
        .collect()
}

fn list_sql(backend: Backend, scope: &Scope, f: &CaseFilter, select: &str) -> Sql {
    let mut sql = filter_sql(backend, scope, f, select);
    let unit_first = unit_first(backend, f);
    let by_deadline = f.order == CaseOrder::Deadline;
    let deadline_key = format!("COALESCE(c.deadline, {NO_DEADLINE})");
    if let Some((at, id)) = &f.after {
        let pa = sql.int_arg(*at);
        let pi = sql.text_arg(id.clone());
        if by_deadline {
            sql.push(&format!(
                " AND ({deadline_key} > {pa} OR ({deadline_key} = {pa} AND c.id > {pi}))"
            ));
        } else {
            sql.push(&format!(
                " AND (c.reported_at < {pa} OR (c.reported_at = {pa} AND c.id < {pi}))"
            ));
        }
    }
    let limit = f.limit.clamp(1, 500);
    let pl = sql.int_arg(limit + 1);
    let by_deadline_order = format!("{deadline_key} ASC, c.id ASC");
    let order = if by_deadline {
        by_deadline_order.as_str()
    } else if unit_first {
        "c.unit_id DESC, c.reported_at DESC, c.id DESC"
    } else {
        "c.reported_at DESC, c.id DESC"
    };
    sql.push(&format!(" ORDER BY {order} LIMIT {pl}"));
    sql
}

/// With the unit and the state fixed, PostgreSQL is asked for the unit as
/// a range and the order starting with it: only the unit's own index
/// (`case_unit_list`) gives that order. Asked plainly, it may walk the
/// city's newest-first index and filter, expecting a unit's cases spread
/// evenly in time, and step over tens of thousands of fresh reports to find
/// a unit's closed cases. (SQLite picks the unit's index by itself and
/// could not use the state after a range.)
fn unit_first(backend: Backend, f: &CaseFilter) -> bool {
    backend == Backend::Postgres && f.unit_id.is_some() && f.states.len() == 1
}

/// The filter's conditions after `select` (which ends in the FROM clause).
fn filter_sql(backend: Backend, scope: &Scope, f: &CaseFilter, select: &str) -> Sql {
    let mut sql = Sql::new(&format!("{select} WHERE 1 = 1"));
    scope_cases(&mut sql, scope);
    if !f.states.is_empty() {
        let ph: Vec<String> = f.states.iter().map(|s| sql.text_arg(s.code())).collect();
        sql.push(&format!(" AND c.state IN ({})", ph.join(", ")));
    }
    if let Some(u) = f.unit_id {
        let p = sql.text_arg(u.to_string());
        if unit_first(backend, f) {
            sql.push(&format!(" AND c.unit_id >= {p} AND c.unit_id <= {p}"));
        } else {
            sql.push(&format!(" AND c.unit_id = {p}"));
        }
    }
    if let Some(c) = f.category_id {
        let p = sql.text_arg(c.to_string());
        sql.push(&format!(
            " AND (c.category_id = {p} OR cat.parent_id = {p})"
        ));
    }
    if let Some(s) = f.source {
        let p = sql.text_arg(s.code());
        sql.push(&format!(" AND c.source = {p}"));
    }
    if let Some(t) = f.overdue_at {
        let p = sql.int_arg(t.as_microsecond());
        sql.push(&format!(" AND {DEADLINE_RUNS} AND c.deadline < {p}"));
    }
    if let Some(id) = f.region_id {
        // Paths are made of ids, so they hold no LIKE wildcards.
        let p = sql.text_arg(id.to_string());
        sql.push(&format!(
            " AND r.path LIKE (SELECT path FROM region WHERE id = {p}) || '%'"
        ));
    }
    if let Some(v) = f.verifier_id {
        let p = sql.text_arg(v.to_string());
        sql.push(&format!(" AND c.verifier_id = {p}"));
    }
    if f.no_verifier {
        sql.push(" AND c.verifier_id IS NULL");
    }
    if !f.numbers.is_empty() {
        let ph: Vec<String> = f.numbers.iter().map(|n| sql.text_arg(n.clone())).collect();
        sql.push(&format!(" AND c.number IN ({})", ph.join(", ")));
    }
    if let Some(t) = f.reported_from {
        let p = sql.int_arg(t.as_microsecond());
        sql.push(&format!(" AND c.reported_at >= {p}"));
    }
    if let Some(t) = f.reported_before {
        let p = sql.int_arg(t.as_microsecond());
        sql.push(&format!(" AND c.reported_at < {p}"));
    }
    if let Some(w) = f.words.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        // A number as people quote it finds its case; otherwise the words
        // are looked for in the description and the address.
        let number = sql.text_arg(w.to_string());
        let like = sql.text_arg(crate::sql::contains_pattern(w));
        sql.push(&format!(
            " AND (c.number = {number} OR LOWER(c.description) LIKE {like} ESCAPE '\\' \
             OR LOWER(COALESCE(c.address, '')) LIKE {like} ESCAPE '\\')"
        ));
    }
    sql
}

/// How many cases the filter finds (its cursor and limit aside).
pub async fn count(store: &Store, scope: &Scope, f: &CaseFilter) -> Result<i64, StoreError> {
    let sql = filter_sql(store.backend(), scope, f, CASE_COUNT);
    Ok(sql.query().fetch_one(store.reader()).await?.try_get("n")?)
}

/// The list's statement for a filter, for measuring it without the web
/// stack.
pub fn list_statement(store: &Store, scope: &Scope, f: &CaseFilter) -> Sql {
    list_sql(store.backend(), scope, f, CASE_SELECT)
}

pub fn parse_cursor(c: &str) -> Option<(i64, String)> {
    let (a, id) = c.split_once('.')?;
    Some((a.parse().ok()?, Uuid::parse_str(id).ok()?.to_string()))
}

/// Case numbers by id, for naming other cases (a re-used photo's).
pub async fn numbers(
    store: &Store,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT id, number FROM case_record WHERE id IN ({})",
        crate::sql::marks(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.to_string());
    }
    q.fetch_all(store.reader())
        .await?
        .iter()
        .map(|r| {
            Ok((
                parse_uuid(&r.try_get::<String, _>("id")?)?,
                r.try_get("number")?,
            ))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: Uuid,
    pub step: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_name: String,
    pub note: Option<String>,
    pub at: jiff::Timestamp,
}

pub async fn events(store: &Store, id: Uuid) -> Result<Vec<CaseEvent>, StoreError> {
    let rows = sqlx::query("SELECT id, step, from_state, to_state, actor_name, note, at FROM case_event WHERE case_id = $1 ORDER BY at, id")
        .bind(id.to_string())
        .fetch_all(store.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CaseEvent {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                step: r.try_get("step")?,
                from_state: r.try_get("from_state")?,
                to_state: r.try_get("to_state")?,
                actor_name: r.try_get("actor_name")?,
                note: r.try_get("note")?,
                at: ts(r.try_get("at")?),
            })
        })
        .collect()
}

/// Why each of these cases was sent back: the latest failed verification's
/// note, by case.
pub async fn rework_reasons(
    store: &Store,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, String>, StoreError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT case_id, note FROM case_event WHERE step = 'verify' AND to_state = 'rework' \
         AND case_id IN ({}) ORDER BY at, id",
        crate::sql::marks(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.to_string());
    }
    let mut out = std::collections::HashMap::new();
    for r in q.fetch_all(store.reader()).await? {
        let note: Option<String> = r.try_get("note")?;
        if let Some(n) = note {
            // Later rows overwrite earlier: the latest reason stands.
            out.insert(parse_uuid(&r.try_get::<String, _>("case_id")?)?, n);
        }
    }
    Ok(out)
}

/// The deadline a dispatch now would get for this case's category.
pub async fn default_deadline(
    store: &Store,
    case: &Case,
    tz: jiff::tz::TimeZone,
) -> Result<Option<jiff::Timestamp>, StoreError> {
    let cat = category(store, case.category_id).await?;
    let cal = calendar(store, tz).await?;
    Ok(cat
        .handling_time
        .map(|h| h.deadline(jiff::Timestamp::now(), &cal)))
}

/// Open cases of the same subclass within its duplicate radius of this one:
/// offered to the office to link as duplicates.
pub async fn possible_duplicates(
    store: &Store,
    scope: &Scope,
    case: &Case,
) -> Result<Vec<(Case, f64)>, StoreError> {
    let Some(p) = case.point else {
        return Ok(vec![]);
    };
    let cat = category(store, case.category_id).await?;
    let radius = cat.duplicate_radius_m as f64;
    // A box around the point first (an index-friendly filter), then the
    // exact distance.
    let dlat = radius / 111_195.0;
    let dlon = dlat / p.lat.to_radians().cos().max(0.01);
    let mut sql = Sql::new(&format!("{CASE_SELECT} WHERE c.category_id = "));
    let pc = sql.text_arg(case.category_id.to_string());
    sql.push(&pc);
    let pid = sql.text_arg(case.id.to_string());
    sql.push(&format!(
        " AND c.id <> {pid} AND c.state NOT IN ('closed', 'rejected', 'voided', 'duplicate')"
    ));
    for (col, lo, hi) in [
        ("c.lon", p.lon - dlon, p.lon + dlon),
        ("c.lat", p.lat - dlat, p.lat + dlat),
    ] {
        let a = sql.text_arg(lo.to_string());
        let b = sql.text_arg(hi.to_string());
        sql.push(&format!(
            " AND {col} BETWEEN CAST({a} AS DOUBLE PRECISION) AND CAST({b} AS DOUBLE PRECISION)"
        ));
    }
    scope_cases(&mut sql, scope);
    sql.push(" ORDER BY c.reported_at LIMIT 20");
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut out = vec![];
    for r in &rows {
        let c = case_from_row(r)?;
        if let Some(q) = c.point {
            let d = p.distance_m(q);
            if d <= radius {
                out.push((c, d));
            }
        }
    }
    Ok(out)
}

/// What the metrics need of every case touching a period (reported,
/// dispatched, due or handled in it) or open past its deadline, with its unit.
pub async fn metric_records(
    store: &Store,
    scope: &Scope,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
) -> Result<Vec<wenming_domain::metrics::CaseRecord>, StoreError> {
    metric_records_in(store, scope, start, end, &[]).await
}

/// As `metric_records`, for the cases of these categories (a class takes
/// its subclasses) only, or of all with none named.
pub async fn metric_records_in(
    store: &Store,
    scope: &Scope,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
    categories: &[Uuid],
) -> Result<Vec<wenming_domain::metrics::CaseRecord>, StoreError> {
    let mut sql = Sql::new(
        "SELECT c.unit_id, c.source, c.state, c.registered_at, c.dispatched_at, c.deadline, c.handled_at, c.closed_at, \
         c.reworks, c.extensions FROM case_record c LEFT JOIN region r ON r.id = c.region_id \
         JOIN category cat ON cat.id = c.category_id WHERE (",
    );
    let (a, b) = (
        sql.int_arg(start.as_microsecond()),
        sql.int_arg(end.as_microsecond()),
    );
    let within = |col: &str| format!("({col} >= {a} AND {col} < {b})");
    sql.push(
        &[
            within("c.registered_at"),
            within("c.dispatched_at"),
            within("c.deadline"),
            within("c.handled_at"),
        ]
        .join(" OR "),
    );
    sql.push(&format!(
        " OR ({DEADLINE_RUNS} AND c.deadline IS NOT NULL))"
    ));
    scope_cases(&mut sql, scope);
    if !categories.is_empty() {
        let ph: Vec<String> = categories
            .iter()
            .map(|c| sql.text_arg(c.to_string()))
            .collect();
        let list = ph.join(", ");
        sql.push(&format!(
            " AND (c.category_id IN ({list}) OR cat.parent_id IN ({list}))"
        ));
    }
    // Streamed: a month at city scale is a hundred thousand rows, and each
    // is turned into its small record as it arrives instead of all being
    // held as database rows first.
    use futures_util::TryStreamExt;
    let query = sql.query();
    let mut rows = query.fetch(store.reader());
    let mut out = vec![];
    while let Some(r) = rows.try_next().await? {
        out.push(metric_record(&r)?);
    }
    Ok(out)
}

pub(crate) fn metric_record(r: &AnyRow) -> Result<wenming_domain::metrics::CaseRecord, StoreError> {
    let opt = |k: &str| -> Result<Option<jiff::Timestamp>, StoreError> {
        Ok(r.try_get::<Option<i64>, _>(k)?.map(ts))
    };
    let unit: Option<String> = r.try_get("unit_id")?;
    let source: String = r.try_get("source")?;
    let state: String = r.try_get("state")?;
    let state = CaseState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("case state {state}")))?;
    let reworks: i64 = r.try_get("reworks")?;
    let extensions: i64 = r.try_get("extensions")?;
    Ok(wenming_domain::metrics::CaseRecord {
        unit: unit.as_deref().map(parse_uuid).transpose()?,
        from_inspector: source == "inspection",
        registered_at: opt("registered_at")?,
        dispatched_at: opt("dispatched_at")?,
        deadline: opt("deadline")?,
        handled_at: opt("handled_at")?,
        closed_at: opt("closed_at")?,
        reworked: reworks > 0,
        extended: extensions > 0,
        deadline_runs: state.deadline_runs(),
        voided: state == CaseState::Voided,
        parked: state == CaseState::Parked,
    })
}
