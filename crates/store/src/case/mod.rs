//! Cases in the database: the category catalogue, routing rules, the
//! calendar, intake, and steps through the workflow. The state itself is
//! only ever changed by `step`, which asks `domain::case::apply`.

pub mod duplicate;

use crate::db::Backend;
use crate::org::parse_uuid;
use crate::sql::Sql;
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::calendar::Calendar;
use wenming_domain::case::{
    Ask, CaseActor, CaseFacts, CaseState, DeadlineState, HandlingTime, IntakeInput, Refusal,
    Source, Step, apply, deadline_state,
};
use wenming_domain::geo::{Point, Shape};
use wenming_domain::photo::PhotoRole;
use wenming_domain::policy::{Permit, Scope, may};

mod catalogue;
mod routing;
pub use catalogue::*;
pub use routing::*;

// ------------------------------------------------------------ cases

#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: Uuid,
    pub number: String,
    pub source: Source,
    pub category_id: Uuid,
    pub category_name: String,
    pub description: String,
    pub point: Option<Point>,
    pub address: Option<String>,
    pub region_id: Option<Uuid>,
    pub region_name: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    pub state: CaseState,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    /// Where routing would send it, before dispatch.
    pub suggested_unit_id: Option<Uuid>,
    pub deadline: Option<jiff::Timestamp>,
    pub pending_ask: Option<Ask>,
    pub reworks: i64,
    pub extensions: i64,
    pub duplicate_of: Option<Uuid>,
    pub reported_at: jiff::Timestamp,
    pub registered_at: Option<jiff::Timestamp>,
    pub dispatched_at: Option<jiff::Timestamp>,
    /// When the unit first reported its fix.
    pub handled_at: Option<jiff::Timestamp>,
    pub closed_at: Option<jiff::Timestamp>,
    /// 0 until the overdue job warns someone; 1 the liaison, 2 the head.
    pub escalation_level: i64,
    pub escalated_at: Option<jiff::Timestamp>,
    pub version: i64,
    #[serde(skip)]
    facts: CaseFacts,
}

impl Case {
    pub fn facts(&self) -> &CaseFacts {
        &self.facts
    }
    pub fn deadline_state(&self, now: jiff::Timestamp) -> DeadlineState {
        deadline_state(self.state, self.deadline, now)
    }
    pub fn overdue(&self, now: jiff::Timestamp) -> bool {
        self.deadline_state(now) == DeadlineState::Overdue
    }
}

/// Cases whose deadline runs (`CaseState::deadline_runs`), the ones a
/// passed deadline makes overdue; written as the overdue index's condition
/// is (migration 0012), so that the index serves the queries that use it.
pub(crate) const DEADLINE_RUNS: &str = "c.state IN ('dispatched', 'rework')";

const CASE_SELECT: &str = "SELECT c.*, cat.name AS category_name, r.name AS region_name, r.path AS region_path, \
    u.name AS unit_name FROM case_record c JOIN category cat ON cat.id = c.category_id \
    LEFT JOIN region r ON r.id = c.region_id LEFT JOIN unit u ON u.id = c.unit_id";

fn ids(s: &str) -> Vec<Uuid> {
    serde_json::from_str(s).unwrap_or_default()
}

fn case_from_row(r: &AnyRow) -> Result<Case, StoreError> {
    let s = |k: &str| -> Result<String, StoreError> { Ok(r.try_get::<String, _>(k)?) };
    let o =
        |k: &str| -> Result<Option<String>, StoreError> { Ok(r.try_get::<Option<String>, _>(k)?) };
    let state_s = s("state")?;
    let state = CaseState::parse(&state_s)
        .ok_or_else(|| StoreError::Corrupt(format!("case state {state_s}")))?;
    let source_s = s("source")?;
    let lon: Option<f64> = r.try_get("lon")?;
    let lat: Option<f64> = r.try_get("lat")?;
    let deadline: Option<i64> = r.try_get("deadline")?;
    let closed: Option<i64> = r.try_get("closed_at")?;
    let pending: Option<Ask> = o("pending_ask")?.and_then(|j| serde_json::from_str(&j).ok());
    let before: Option<CaseState> = o("before_ask")?.as_deref().and_then(CaseState::parse);
    let unit = o("unit_id")?.as_deref().map(parse_uuid).transpose()?;
    let reworks: i64 = r.try_get("reworks")?;
    let extensions: i64 = r.try_get("extensions")?;
    let evaluated: i64 = r.try_get("evaluated")?;
    let facts = CaseFacts {
        state: Some(state),
        unit,
        deadline: deadline.map(ts),
        pending_ask: pending.clone(),
        before_ask: before,
        dispatched_by: ids(&s("dispatched_by")?),
        handled_by: ids(&s("handled_by")?),
        reworks: reworks as u32,
        extensions: extensions as u32,
        evaluated: evaluated != 0,
    };
    Ok(Case {
        id: parse_uuid(&s("id")?)?,
        number: s("number")?,
        source: Source::parse(&source_s)
            .ok_or_else(|| StoreError::Corrupt(format!("case source {source_s}")))?,
        category_id: parse_uuid(&s("category_id")?)?,
        category_name: s("category_name")?,
        description: s("description")?,
        point: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
        address: o("address")?,
        region_id: o("region_id")?.as_deref().map(parse_uuid).transpose()?,
        region_name: o("region_name")?,
        reporter_name: o("reporter_name")?,
        reporter_phone: o("reporter_phone")?,
        state,
        unit_id: unit,
        unit_name: o("unit_name")?,
        suggested_unit_id: o("suggested_unit_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        deadline: deadline.map(ts),
        pending_ask: pending,
        reworks,
        extensions,
        duplicate_of: o("duplicate_of")?.as_deref().map(parse_uuid).transpose()?,
        reported_at: ts(r.try_get("reported_at")?),
        registered_at: r.try_get::<Option<i64>, _>("registered_at")?.map(ts),
        dispatched_at: r.try_get::<Option<i64>, _>("dispatched_at")?.map(ts),
        handled_at: r.try_get::<Option<i64>, _>("handled_at")?.map(ts),
        closed_at: closed.map(ts),
        escalation_level: r.try_get("escalation_level")?,
        escalated_at: r.try_get::<Option<i64>, _>("escalated_at")?.map(ts),
        version: r.try_get("version")?,
        facts,
    })
}

/// Cases in scope: by the region they lie in, or the unit they are with.
pub(crate) fn scope_cases(sql: &mut Sql, scope: &Scope) {
    if scope.is_everything() {
        return;
    }
    let mut ors = vec![];
    for p in &scope.region_paths {
        let ph = sql.text_arg(format!("{}%", crate::sql::like_escape(p)));
        ors.push(format!("r.path LIKE {ph} ESCAPE '\\'"));
        ors.push(format!("c.unit_id IN (SELECT u2.id FROM unit u2 JOIN region r2 ON r2.id = u2.region_id WHERE r2.path LIKE {ph} ESCAPE '\\')"));
    }
    for u in &scope.unit_ids {
        let ph = sql.text_arg(u.to_string());
        ors.push(format!("c.unit_id = {ph}"));
    }
    if ors.is_empty() {
        sql.push(" AND 1 = 0");
    } else {
        sql.push(&format!(" AND ({})", ors.join(" OR ")));
    }
}

/// A case read back by whoever just wrote it (their scope was checked
/// before the write), without asking for the whole city's scope first.
async fn get_written(store: &Store, id: Uuid) -> Result<Case, StoreError> {
    let row = sqlx::query(&format!("{CASE_SELECT} WHERE c.id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?;
    row.as_ref()
        .map(case_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

pub async fn get(store: &Store, scope: &Scope, id: Uuid) -> Result<Case, StoreError> {
    let mut sql = Sql::new(&format!("{CASE_SELECT} WHERE c.id = "));
    let p = sql.text_arg(id.to_string());
    sql.push(&p);
    scope_cases(&mut sql, scope);
    let row = sql.query().fetch_optional(store.reader()).await?;
    row.as_ref()
        .map(case_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub states: Vec<CaseState>,
    pub unit_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub source: Option<Source>,
    /// Open with a unit and past the deadline at this instant.
    pub overdue_at: Option<jiff::Timestamp>,
    /// Cursor: (reported_at micros, id) of the last row seen.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// Cases newest first, a keyset page at a time.
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
        cases
            .last()
            .map(|c| format!("{}.{}", c.reported_at.as_microsecond(), c.id))
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
    let mut sql = Sql::new(&format!("{select} WHERE 1 = 1"));
    scope_cases(&mut sql, scope);
    if !f.states.is_empty() {
        let ph: Vec<String> = f.states.iter().map(|s| sql.text_arg(s.code())).collect();
        sql.push(&format!(" AND c.state IN ({})", ph.join(", ")));
    }
    // With the unit and the state fixed, PostgreSQL is asked for the unit
    // as a range and the order starting with it: only the unit's own index
    // (`case_unit_list`) gives that order. Asked plainly, it may walk the
    // city's newest-first index and filter, expecting a unit's cases spread
    // evenly in time, and step over tens of thousands of fresh reports to
    // find a unit's closed cases. (SQLite picks the unit's index by itself
    // and could not use the state after a range.)
    let unit_first = backend == Backend::Postgres && f.unit_id.is_some() && f.states.len() == 1;
    if let Some(u) = f.unit_id {
        let p = sql.text_arg(u.to_string());
        if unit_first {
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
    if let Some((at, id)) = &f.after {
        let pa = sql.int_arg(*at);
        let pi = sql.text_arg(id.clone());
        sql.push(&format!(
            " AND (c.reported_at < {pa} OR (c.reported_at = {pa} AND c.id < {pi}))"
        ));
    }
    let limit = f.limit.clamp(1, 500);
    let pl = sql.int_arg(limit + 1);
    let order = if unit_first {
        "c.unit_id DESC, c.reported_at DESC, c.id DESC"
    } else {
        "c.reported_at DESC, c.id DESC"
    };
    sql.push(&format!(" ORDER BY {order} LIMIT {pl}"));
    sql
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

/// Region boundaries, finest first (grid cells before communities ...),
/// read and parsed once and kept until a region changes.
async fn shapes(conn: &mut AnyConnection, cache: &ShapeCache) -> Result<Shapes, StoreError> {
    let stamp = sqlx::query("SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS at FROM region")
        .fetch_one(&mut *conn)
        .await?;
    let stamp: (i64, i64) = (stamp.try_get("n")?, stamp.try_get("at")?);
    {
        let cached = cache.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, v)) = cached.as_ref()
            && *s == stamp
        {
            return Ok(v.clone());
        }
    }
    let rows = sqlx::query("SELECT id, path, boundary FROM region WHERE boundary IS NOT NULL ORDER BY LENGTH(path) DESC, code")
        .fetch_all(&mut *conn)
        .await?;
    let mut v = vec![];
    for r in rows {
        let b: String = r.try_get("boundary")?;
        let Ok(geometry) = serde_json::from_str::<serde_json::Value>(&b) else {
            continue;
        };
        let id: String = r.try_get("id")?;
        v.push((
            parse_uuid(&id)?,
            r.try_get::<String, _>("path")?,
            Shape::of(&geometry),
        ));
    }
    let v = std::sync::Arc::new(v);
    *cache.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((stamp, v.clone()));
    Ok(v)
}

type Shapes = std::sync::Arc<Vec<(Uuid, String, Shape)>>;

/// What every report in a batch is placed and routed by, read once a batch.
pub(crate) struct IntakeWorld {
    shapes: Shapes,
    rules: Vec<Rule>,
}

/// Boundaries and routing rules as they stand, for a batch of reports.
pub(crate) async fn intake_world_now(store: &Store) -> Result<IntakeWorld, StoreError> {
    let mut conn = store.reader().acquire().await?;
    Ok(IntakeWorld {
        shapes: shapes(&mut conn, store.shape_cache()).await?,
        rules: routing_table(&mut conn).await?,
    })
}

/// Parsed region boundaries and the (count, last change) they were read
/// at, kept per store.
#[derive(Clone, Default)]
pub(crate) struct ShapeCache(std::sync::Arc<std::sync::Mutex<Option<CachedShapes>>>);

type CachedShapes = ((i64, i64), Shapes);

/// Takes the next `n` case numbers of `year`; returns the first.
pub(crate) async fn take_numbers(
    conn: &mut AnyConnection,
    year: i16,
    n: i64,
) -> Result<i64, StoreError> {
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO case_number (year, last) VALUES ($1, $2) \
         ON CONFLICT (year) DO UPDATE SET last = case_number.last + $2 RETURNING last",
    )
    .bind(year as i64)
    .bind(n)
    .fetch_one(&mut *conn)
    .await?;
    Ok(last - n + 1)
}

pub(crate) fn case_number(year: i16, n: i64) -> String {
    format!("{year}-{n:06}")
}

/// Takes in a reported problem. A retry with the same client id returns the
/// case made the first time instead of a second one.
pub async fn intake(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReportCases>,
    input: &IntakeInput,
    photo_rules: &crate::photo::PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Case, StoreError> {
    if let Some(cid) = input.client_id {
        let by: Option<Option<String>> =
            sqlx::query_scalar("SELECT reported_by FROM case_record WHERE id = $1")
                .bind(cid.to_string())
                .fetch_optional(store.reader())
                .await?;
        // A retry by the same reporter gets its case back; anyone else
        // reusing the id learns nothing about it.
        match by {
            Some(by) if by == ctx.actor_id.map(|u| u.to_string()) => {
                return get_written(store, cid).await;
            }
            Some(_) => return Err(StoreError::invalid("client_id", "duplicate")),
            None => {}
        }
    }
    let cat = category(store, input.category_id)
        .await
        .map_err(|_| StoreError::invalid("category_id", "invalid_choice"))?;
    if cat.parent_id.is_none() || !cat.active {
        return Err(StoreError::invalid("category_id", "choose_subclass"));
    }
    let id = crate::group_commit::submit(
        store,
        crate::group_commit::Work::Intake(Box::new(crate::group_commit::Job {
            ctx: ctx.clone(),
            reach: permit.scope().clone(),
            input: input.clone(),
            category: cat,
            rules: photo_rules.clone(),
            tz: tz.clone(),
        })),
    )
    .await?;
    get_written(store, id).await
}

/// Where a report goes, decided before anything is written: a report
/// outside the city is refused here.
pub(crate) struct Planned {
    located: Option<(Uuid, String)>,
    suggested: Option<Uuid>,
}

impl Planned {
    /// Refuses a report placed outside where the reporter's permit reaches
    /// (an inspector of one district reporting in another's).
    pub(crate) fn within(self, reach: &Scope) -> Result<Planned, StoreError> {
        match &self.located {
            Some((_, path)) if !reach.covers_region(path) => {
                Err(StoreError::invalid("lon", "outside_scope"))
            }
            _ => Ok(self),
        }
    }

    /// Sent to this unit instead of where the routing rules would send it
    /// (a failed inspection goes to the site's sponsor unit).
    pub(crate) fn sent_to(self, unit: Option<Uuid>) -> Planned {
        Planned {
            suggested: unit.or(self.suggested),
            ..self
        }
    }
}

pub(crate) fn intake_plan(
    world: &IntakeWorld,
    input: &IntakeInput,
    cat: &Category,
) -> Result<Planned, StoreError> {
    let located = match input.point {
        Some(p) => {
            // The finest region whose boundary holds the point.
            let l = world
                .shapes
                .iter()
                .find(|(_, _, shape)| shape.contains(p))
                .map(|(id, path, _)| (*id, path.clone()));
            if l.is_none() {
                return Err(StoreError::invalid("lon", "outside_city"));
            }
            l
        }
        None => None,
    };
    let suggested = route(&world.rules, cat, located.as_ref().map(|l| l.1.as_str()));
    Ok(Planned { located, suggested })
}

/// The year a report made now is numbered in.
pub(crate) fn number_year(now: i64, tz: &jiff::tz::TimeZone) -> i16 {
    ts(now).to_zoned_datetime(tz.clone()).year()
}

/// One planned report to write.
pub(crate) struct ReportWrite<'a> {
    pub planned: &'a Planned,
    pub number: String,
    pub ctx: &'a Ctx,
    pub input: &'a IntakeInput,
    pub cat: &'a Category,
    pub photo_rules: &'a crate::photo::PhotoRules,
}

/// The writes of planned reports, inside the caller's transaction (the
/// group commit's, which commits many writes at once): the cases, their
/// report events and their audit records each with one statement per few
/// dozen reports, then the photos each report brought. Returns the cases'
/// ids in order.
pub(crate) async fn intake_write(
    tx: &mut AnyConnection,
    reports: &[ReportWrite<'_>],
    now: i64,
    chain: &mut audit::Chain,
) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<(Uuid, Uuid)> = reports
        .iter()
        .map(|r| {
            (
                r.input.client_id.unwrap_or_else(wenming_domain::new_id),
                wenming_domain::new_id(),
            )
        })
        .collect();
    let rows: Vec<(&ReportWrite, &(Uuid, Uuid))> = reports.iter().zip(&ids).collect();
    const CASE_COLS: usize = 14;
    for chunk in rows.chunks(30) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let m = |k: usize| format!("${}", i * CASE_COLS + k);
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'reported', NULL, {}, NULL, NULL, NULL, '[]', '[]', 0, 0, 0, NULL, {}, 1, {})",
                    m(1), m(2), m(3), m(4), m(5), m(6), m(7), m(8), m(9), m(10), m(11), m(12), m(13), m(14), m(14)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO case_record (id, number, source, category_id, description, lon, lat, address, region_id, reporter_name, \
             reporter_phone, reported_by, state, unit_id, suggested_unit_id, deadline, pending_ask, before_ask, dispatched_by, \
             handled_by, reworks, extensions, evaluated, duplicate_of, reported_at, version, updated_at) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (r, (id, _)) in chunk {
            q = q
                .bind(id.to_string())
                .bind(&r.number)
                .bind(r.input.source.code())
                .bind(r.cat.id.to_string())
                .bind(&r.input.description)
                .bind(r.input.point.map(|p| p.lon))
                .bind(r.input.point.map(|p| p.lat))
                .bind(&r.input.address)
                .bind(r.planned.located.as_ref().map(|l| l.0.to_string()))
                .bind(&r.input.reporter_name)
                .bind(&r.input.reporter_phone)
                .bind(r.ctx.actor_id.map(|u| u.to_string()))
                .bind(r.planned.suggested.map(|u| u.to_string()))
                .bind(now);
        }
        q.execute(&mut *tx).await.map_err(|e| {
            let e = StoreError::from(e);
            // Two retries racing with one client id: the loser is told, not duplicated.
            if e.is_unique_violation() {
                StoreError::Conflict
            } else {
                e
            }
        })?;
    }
    const EVENT_COLS: usize = 6;
    for chunk in rows.chunks(60) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let m = |k: usize| format!("${}", i * EVENT_COLS + k);
                format!(
                    "({}, {}, 'report', NULL, 'reported', {}, {}, {}, NULL, {})",
                    m(1),
                    m(2),
                    m(3),
                    m(4),
                    m(5),
                    m(6)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO case_event (id, case_id, step, from_state, to_state, actor_id, actor_name, note, data, at) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (r, (id, event)) in chunk {
            q = q
                .bind(event.to_string())
                .bind(id.to_string())
                .bind(r.ctx.actor_id.map(|u| u.to_string()))
                .bind(&r.ctx.actor_name)
                .bind(&r.input.description)
                .bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    for (r, (id, event)) in &rows {
        if r.input.photo_ids.is_empty() {
            continue;
        }
        crate::photo::attach(
            &mut *tx,
            r.ctx,
            &StepPhotos {
                ids: &r.input.photo_ids,
                rules: r.photo_rules,
            },
            *id,
            *event,
            PhotoRole::Before,
            &crate::photo::CaseWhere {
                point: r.input.point,
                dispatched_at: None,
            },
        )
        .await?;
    }
    #[derive(Serialize)]
    struct Reported<'a> {
        number: &'a str,
        source: &'a str,
        category: &'a str,
    }
    let entries: Vec<audit::Entry> = rows
        .iter()
        .map(|(r, (id, _))| audit::Entry {
            ctx: r.ctx,
            action: "create",
            entity_type: "case",
            entity_id: id.to_string(),
            before_json: None,
            after_json: serde_json::to_string(&Reported {
                number: &r.number,
                source: r.input.source.code(),
                category: &r.cat.name,
            })
            .ok(),
        })
        .collect();
    audit::append_entries(&mut *tx, chain, &entries).await?;
    Ok(ids.into_iter().map(|(id, _)| id).collect())
}

#[allow(clippy::too_many_arguments)]
async fn record_event(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    case_id: Uuid,
    step: &str,
    from: Option<CaseState>,
    to: CaseState,
    note: Option<&str>,
    data: Option<String>,
    at: i64,
) -> Result<Uuid, StoreError> {
    let event_id = wenming_domain::new_id();
    sqlx::query(
        "INSERT INTO case_event (id, case_id, step, from_state, to_state, actor_id, actor_name, note, data, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(event_id.to_string())
    .bind(case_id.to_string())
    .bind(step)
    .bind(from.map(CaseState::code))
    .bind(to.code())
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(&ctx.actor_name)
    .bind(note)
    .bind(data)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(event_id)
}

#[derive(Debug)]
pub enum StepError {
    Refused(Refusal),
    Store(StoreError),
}

impl From<StoreError> for StepError {
    fn from(e: StoreError) -> Self {
        StepError::Store(e)
    }
}

impl From<sqlx::Error> for StepError {
    fn from(e: sqlx::Error) -> Self {
        StepError::Store(e.into())
    }
}

fn note_of(step: &Step) -> Option<String> {
    match step {
        Step::Reject { reason }
        | Step::Void { reason }
        | Step::Refuse { reason }
        | Step::Ask { reason, .. } => Some(reason.clone()),
        Step::UnmarkDuplicate { reason } => Some(reason.clone()),
        Step::MarkDuplicate { reason, .. } => Some(reason.clone()).filter(|n| !n.is_empty()),
        Step::Handle { note } | Step::Verify { note, .. } | Step::Evaluate { note, .. } => {
            Some(note.clone()).filter(|n| !n.is_empty())
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
/// Takes one step, as the workflow allows, on the version the actor saw:
/// if someone else acted first the update matches nothing and the actor is
/// told (Conflict) instead of overwriting.
pub async fn step(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::WorkCases>,
    actor: &CaseActor,
    id: Uuid,
    expected_version: i64,
    s: &Step,
    photos: &StepPhotos<'_>,
) -> Result<Case, StepError> {
    let scope = permit.scope();
    let case = get(store, scope, id).await?;
    if case.version != expected_version {
        return Err(StoreError::Conflict.into());
    }
    let cal = crate::tally::calendar(store).await?;
    // Classifying files the case anew: routing suggests a unit again.
    let classified = match s {
        Step::Classify { category: c } => {
            let cat = category(store, *c)
                .await
                .ok()
                .filter(|x| x.parent_id.is_some() && x.active && x.code != UNCLASSIFIED_CODE)
                .ok_or(StepError::Refused(Refusal::Invalid {
                    field: "category",
                    code: "choose_subclass",
                }))?;
            let world = intake_world_now(store).await?;
            let input = IntakeInput {
                client_id: None,
                source: case.source,
                category_id: cat.id,
                description: String::new(),
                point: case.point,
                address: None,
                reporter_name: None,
                reporter_phone: None,
                photo_ids: vec![],
            };
            // A failed inspection's case keeps its sponsor unit.
            let routed = intake_plan(&world, &input, &cat)?.suggested;
            Some((cat.id, case.suggested_unit_id.or(routed)))
        }
        _ => None,
    };
    let mut tx = store.begin().await?;
    let written = write_step(&mut tx, ctx, &cal, &case, actor, s, photos).await;
    if let Err(StepError::Store(e)) = &written {
        store.note_write::<()>(&Err(StoreError::Corrupt(e.to_string())));
    }
    written?;
    if let Some((cat, suggested)) = classified {
        sqlx::query(
            "UPDATE case_record SET category_id = $1, suggested_unit_id = $2 WHERE id = $3",
        )
        .bind(cat.to_string())
        .bind(suggested.map(|u| u.to_string()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    }
    let committed = tx.commit().await.map_err(StoreError::from);
    store.note_write(&committed);
    committed?;
    Ok(get_written(store, id).await?)
}

/// Photos that come with a step (uploaded beforehand, by the same person).
pub struct StepPhotos<'a> {
    pub ids: &'a [Uuid],
    pub rules: &'a crate::photo::PhotoRules,
}

/// Decides and writes one step on a case as it was read, inside the
/// caller's transaction; the update matches only that version.
#[allow(clippy::too_many_arguments)]
async fn write_step(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    cal: &Calendar,
    case: &Case,
    actor: &CaseActor,
    s: &Step,
    photos: &StepPhotos<'_>,
) -> Result<(), StepError> {
    let (id, expected_version) = (case.id, case.version);
    let now_ts = jiff::Timestamp::now();
    let after = apply(case.facts(), actor, s, now_ts).map_err(StepError::Refused)?;
    // A rectification is reported with pictures of the fixed place.
    if matches!(s, Step::Handle { .. }) && photos.ids.is_empty() {
        return Err(StepError::Refused(Refusal::Invalid {
            field: "photo_ids",
            code: "photo_required",
        }));
    }
    let now = now_micros();
    let to = after.state.unwrap_or(CaseState::Reported);
    // Where the case's duplicate mark points after this step.
    let (duplicate_of, root_closed) = match s {
        Step::MarkDuplicate { original, reason } => {
            let root = duplicate::resolve(conn, case, *original, reason).await?;
            (Some(root.id), root.state == CaseState::Closed)
        }
        Step::UnmarkDuplicate { .. } => (None, false),
        _ => (case.duplicate_of, false),
    };
    // An unclassified case has no deadline to give: the office files it
    // under a category first.
    if matches!(s, Step::Dispatch { .. }) {
        let code: String = sqlx::query_scalar("SELECT code FROM category WHERE id = $1")
            .bind(case.category_id.to_string())
            .fetch_one(&mut *conn)
            .await?;
        if code == UNCLASSIFIED_CODE {
            return Err(StepError::Refused(Refusal::Invalid {
                field: "category",
                code: "choose_category",
            }));
        }
    }
    // A case others are marked duplicates of cannot be voided: they would
    // stay closed with nothing open for the problem they report.
    if matches!(s, Step::Void { .. }) && duplicate::count_of(conn, id).await? > 0 {
        return Err(StepError::Refused(Refusal::Invalid {
            field: "step",
            code: "has_duplicates",
        }));
    }
    // Duplicates close with their original; every case this step changes
    // has its month tallies corrected.
    let mut touched = vec![id.to_string()];
    if to == CaseState::Closed {
        touched.extend(
            sqlx::query_scalar::<_, String>(
                "SELECT id FROM case_record WHERE duplicate_of = $1 AND state = 'duplicate'",
            )
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await?,
        );
    }
    let before = crate::tally::of_cases(conn, cal, &touched).await?;
    let stamp = |col: &str, when: bool| {
        if when {
            format!(", {col} = COALESCE({col}, $12)")
        } else {
            String::new()
        }
    };
    let sql = format!(
        "UPDATE case_record SET state = $1, unit_id = $2, deadline = $3, pending_ask = $4, before_ask = $5, dispatched_by = $6, \
         handled_by = $7, reworks = $8, extensions = $9, evaluated = $10, duplicate_of = $11{}{}{}{}, \
         version = version + 1, updated_at = $12 WHERE id = $13 AND version = $14",
        stamp(
            "registered_at",
            matches!(s, Step::Register | Step::UnmarkDuplicate { .. })
        ),
        // Each dispatch (again after a return, or on resuming a parked
        // case) starts a handling period: the unit's time and the photo
        // checks count from it, and its first fix report is its own.
        if matches!(s, Step::Dispatch { .. } | Step::Resume { .. }) {
            ", dispatched_at = $12, handled_at = NULL".to_string()
        } else {
            stamp("handled_at", matches!(s, Step::Handle { .. }))
        },
        // A duplicate of a closed case is closed with it; one taken back
        // is open again.
        if matches!(s, Step::UnmarkDuplicate { .. }) {
            ", closed_at = NULL".to_string()
        } else {
            stamp("closed_at", to == CaseState::Closed || root_closed)
        },
        // A new deadline starts the overdue warnings over.
        if after.deadline != case.deadline {
            ", escalation_level = 0, next_escalation_at = NULL"
        } else {
            ""
        },
    );
    let n = sqlx::query(&sql)
        .bind(to.code())
        .bind(after.unit.map(|u| u.to_string()))
        .bind(after.deadline.map(|d| d.as_microsecond()))
        .bind(
            after
                .pending_ask
                .as_ref()
                .map(|a| serde_json::to_string(a).unwrap_or_default()),
        )
        .bind(after.before_ask.map(CaseState::code))
        .bind(serde_json::to_string(&after.dispatched_by).unwrap_or_default())
        .bind(serde_json::to_string(&after.handled_by).unwrap_or_default())
        .bind(after.reworks as i64)
        .bind(after.extensions as i64)
        .bind(crate::sql::flag(after.evaluated))
        .bind(duplicate_of.map(|d| d.to_string()))
        .bind(now)
        .bind(id.to_string())
        .bind(expected_version)
        .execute(&mut *conn)
        .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict.into());
    }
    if to == CaseState::Closed {
        sqlx::query("UPDATE case_record SET closed_at = COALESCE(closed_at, $1), version = version + 1, updated_at = $1 WHERE duplicate_of = $2 AND state = 'duplicate'")
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        duplicate::tell_reporters(conn, id, None, now).await?;
    }
    if let Some(root) = duplicate_of.filter(|_| matches!(s, Step::MarkDuplicate { .. })) {
        // Duplicates of this case now belong to its root: no chains.
        sqlx::query("UPDATE case_record SET duplicate_of = $1, version = version + 1, updated_at = $2 WHERE duplicate_of = $3 AND state = 'duplicate'")
            .bind(root.to_string())
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        if root_closed {
            duplicate::tell_reporters(conn, root, Some(id), now).await?;
        }
    }
    let after_tallies = crate::tally::of_cases(conn, cal, &touched).await?;
    crate::tally::apply(conn, &before, &after_tallies).await?;
    let data = serde_json::to_string(s).ok();
    let event_id = record_event(
        conn,
        ctx,
        id,
        s.code(),
        Some(case.state),
        to,
        note_of(s).as_deref(),
        data,
        now,
    )
    .await?;
    // Pictures taken before dispatch show the problem; after it, the fix.
    let role = if case.dispatched_at.is_some() || matches!(s, Step::Dispatch { .. }) {
        PhotoRole::After
    } else {
        PhotoRole::Before
    };
    crate::photo::attach(
        conn,
        ctx,
        photos,
        id,
        event_id,
        role,
        &crate::photo::CaseWhere {
            point: case.point,
            dispatched_at: case.dispatched_at,
        },
    )
    .await?;
    #[derive(Serialize)]
    struct Snapshot<'a> {
        state: &'a str,
        unit: Option<Uuid>,
        deadline: Option<jiff::Timestamp>,
    }
    audit::changed(
        conn,
        ctx,
        s.code(),
        "case",
        &id.to_string(),
        &Snapshot {
            state: case.state.code(),
            unit: case.unit_id,
            deadline: case.deadline,
        },
        &Snapshot {
            state: to.code(),
            unit: after.unit,
            deadline: after.deadline,
        },
    )
    .await?;
    Ok(())
}

/// Dispatches many registered cases at once, each to the unit routing
/// suggested, with its category's deadline: all of them or, if any cannot
/// be (changed meanwhile, no suggestion), none. Returns the number dispatched.
pub async fn bulk_dispatch(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::WorkCases>,
    actor: &CaseActor,
    items: &[(Uuid, i64)],
    tz: jiff::tz::TimeZone,
) -> Result<usize, (Option<String>, StepError)> {
    let scope = permit.scope();
    let cal = calendar(store, tz).await.map_err(|e| (None, e.into()))?;
    let tally_cal = crate::tally::calendar(store)
        .await
        .map_err(|e| (None, e.into()))?;
    let mut planned = vec![];
    for (id, version) in items {
        let c = get(store, scope, *id).await.map_err(|e| (None, e.into()))?;
        if c.version != *version {
            return Err((Some(c.number), StoreError::Conflict.into()));
        }
        let cat = category(store, c.category_id)
            .await
            .map_err(|e| (Some(c.number.clone()), e.into()))?;
        let (Some(unit), Some(ht)) = (c.suggested_unit_id, cat.handling_time) else {
            return Err((
                Some(c.number),
                StepError::Refused(Refusal::Invalid {
                    field: "unit",
                    code: "no_suggested_unit",
                }),
            ));
        };
        let deadline = ht.deadline(jiff::Timestamp::now(), &cal);
        planned.push((c, Step::Dispatch { unit, deadline }));
    }
    let mut tx = store.begin().await.map_err(|e| (None, e.into()))?;
    for (c, s) in &planned {
        write_step(
            &mut tx,
            ctx,
            &tally_cal,
            c,
            actor,
            s,
            &StepPhotos {
                ids: &[],
                rules: &crate::photo::PhotoRules::default(),
            },
        )
        .await
        .map_err(|e| (Some(c.number.clone()), e))?;
    }
    tx.commit().await.map_err(|e| (None, e.into()))?;
    Ok(planned.len())
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
    let mut sql = Sql::new(
        "SELECT c.unit_id, c.source, c.state, c.registered_at, c.dispatched_at, c.deadline, c.handled_at, c.closed_at, \
         c.reworks, c.extensions FROM case_record c LEFT JOIN region r ON r.id = c.region_id WHERE (",
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
