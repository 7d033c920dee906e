//! Intake: a reported problem placed in its region, routed to a unit,
//! numbered and written, many reports to one commit (the group commit).

use super::catalogue::*;
use super::routing::*;
use super::{Case, get_written};
use crate::audit::Chain;
use crate::group_commit::{self, Grouped};
use crate::org::parse_uuid;
use crate::photo::{PhotoRules, StepPhotos};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::case::IntakeInput;
use wenming_domain::geo::Shape;
use wenming_domain::photo::PhotoRole;
use wenming_domain::policy::{Permit, Scope, may};

/// A report on its way through the group commit.
struct Report {
    ctx: Ctx,
    /// Where the reporter's permit reaches: a report placed outside it is
    /// refused.
    reach: Scope,
    input: IntakeInput,
    category: Category,
    rules: PhotoRules,
    tz: jiff::tz::TimeZone,
}

impl Grouped for Report {
    type Ready = Planned;
    const AUDITED: bool = true;

    /// Every report of a batch is placed and routed by one reading of the
    /// boundaries and rules.
    async fn ready(
        store: &Store,
        batch: &[Report],
    ) -> Result<Vec<Result<Planned, StoreError>>, StoreError> {
        let world = intake_world_now(store).await?;
        Ok(batch
            .iter()
            .map(|r| intake_plan(&world, &r.input, &r.category).and_then(|p| p.within(&r.reach)))
            .collect())
    }

    async fn write(
        tx: &mut AnyConnection,
        batch: &[(&Report, &Planned)],
        chain: &mut Chain,
    ) -> Result<Vec<Uuid>, StoreError> {
        let Some((first, _)) = batch.first() else {
            return Ok(vec![]);
        };
        let now = now_micros();
        // One year for the batch: a batch straddling New Year's midnight
        // numbers its reports in the year it started.
        let year = number_year(now, &first.tz);
        let n = take_numbers(&mut *tx, year, batch.len() as i64).await?;
        let writes: Vec<ReportWrite> = batch
            .iter()
            .enumerate()
            .map(|(k, (report, planned))| ReportWrite {
                planned,
                number: case_number(year, n + k as i64),
                ctx: &report.ctx,
                input: &report.input,
                cat: &report.category,
                photo_rules: &report.rules,
            })
            .collect();
        intake_write(&mut *tx, &writes, now, chain).await
    }
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
        let geometry: serde_json::Value = crate::error::stored_json("region boundary", &b)?;
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
        shapes: shapes(&mut conn, &store.kept::<ShapeCache>()).await?,
        rules: routing_table(&mut conn).await?,
    })
}

/// Parsed region boundaries and the (count, last change) they were read
/// at, kept per store.
#[derive(Default)]
struct ShapeCache(std::sync::Mutex<Option<CachedShapes>>);

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
    photo_rules: &PhotoRules,
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
    let id = group_commit::submit(
        store,
        Report {
            ctx: ctx.clone(),
            reach: permit.scope().clone(),
            input: input.clone(),
            category: cat,
            rules: photo_rules.clone(),
            tz: tz.clone(),
        },
    )
    .await?;
    get_written(store, id).await
}

/// Where a report goes, decided before anything is written: a report
/// outside the city is refused here.
pub(crate) struct Planned {
    pub(super) located: Option<(Uuid, String)>,
    pub(super) suggested: Option<Uuid>,
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
    pub photo_rules: &'a PhotoRules,
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
