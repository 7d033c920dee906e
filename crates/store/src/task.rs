//! Task decomposition: standards assigned to units, progress reports, and the
//! coverage check (standards nobody owns yet).

use crate::framework::UnitRef;
use crate::org::parse_uuid;
use crate::sql::{Sql, contains_pattern};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use jiff::civil::Date;
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::framework::Method;
use wenming_domain::policy::{Permit, Scope, may};
use wenming_domain::task::{TaskState, state};

#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    pub lead_unit: UnitRef,
    pub cooperating: Vec<UnitRef>,
    pub target: String,
    pub deadline: Date,
    pub responsible: Option<UnitRef>,
    pub progress: i64,
    pub progress_note: Option<String>,
    pub progress_at: Option<jiff::Timestamp>,
    pub version: i64,
}

impl Task {
    pub fn state(&self, today: Date) -> TaskState {
        state(self.progress, self.deadline, today)
    }
}

const SELECT: &str = "SELECT t.id, t.framework_id, t.standard_id, n.code AS standard_code, n.title AS standard_title, \
    t.lead_unit_id, lu.name AS lead_name, t.target, t.deadline, t.responsible_person_id, p.name AS responsible_name, \
    t.progress, t.progress_note, t.progress_at, t.version \
    FROM task t JOIN framework_node n ON n.id = t.standard_id JOIN unit lu ON lu.id = t.lead_unit_id \
    LEFT JOIN person p ON p.id = t.responsible_person_id";

fn from_row(r: &AnyRow) -> Result<Task, StoreError> {
    let s = |k: &str| -> Result<String, StoreError> { Ok(r.try_get::<String, _>(k)?) };
    let deadline = s("deadline")?;
    let resp: Option<String> = r.try_get("responsible_person_id")?;
    let resp_name: Option<String> = r.try_get("responsible_name")?;
    let at: Option<i64> = r.try_get("progress_at")?;
    Ok(Task {
        id: parse_uuid(&s("id")?)?,
        framework_id: parse_uuid(&s("framework_id")?)?,
        standard_id: parse_uuid(&s("standard_id")?)?,
        standard_code: s("standard_code")?,
        standard_title: s("standard_title")?,
        lead_unit: UnitRef {
            id: parse_uuid(&s("lead_unit_id")?)?,
            name: s("lead_name")?,
        },
        cooperating: vec![],
        target: s("target")?,
        deadline: deadline
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("task deadline {deadline}")))?,
        responsible: match (resp, resp_name) {
            (Some(id), Some(name)) => Some(UnitRef {
                id: parse_uuid(&id)?,
                name,
            }),
            _ => None,
        },
        progress: r.try_get("progress")?,
        progress_note: r.try_get("progress_note")?,
        progress_at: at.map(ts),
        version: r.try_get("version")?,
    })
}

async fn attach_cooperating(
    conn: impl sqlx::Executor<'_, Database = sqlx::Any>,
    tasks: &mut [Task],
) -> Result<(), StoreError> {
    if tasks.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(
        "SELECT tu.task_id, u.id, u.name FROM task_unit tu JOIN unit u ON u.id = tu.unit_id WHERE tu.task_id IN (",
    );
    let ph: Vec<String> = tasks
        .iter()
        .map(|t| sql.text_arg(t.id.to_string()))
        .collect();
    sql.push(&ph.join(", "));
    sql.push(") ORDER BY u.name");
    for r in sql.query().fetch_all(conn).await? {
        let tid: String = r.try_get("task_id")?;
        let tid = parse_uuid(&tid)?;
        let uid: String = r.try_get("id")?;
        if let Some(t) = tasks.iter_mut().find(|t| t.id == tid) {
            t.cooperating.push(UnitRef {
                id: parse_uuid(&uid)?,
                name: r.try_get("name")?,
            });
        }
    }
    Ok(())
}

/// Limits tasks to those whose lead or a cooperating unit is in `scope`.
fn scope_tasks(sql: &mut Sql, scope: &Scope) {
    if scope.is_everything() {
        return;
    }
    sql.push(" AND (t.lead_unit_id IN (SELECT u.id FROM unit u JOIN region r ON r.id = u.region_id WHERE 1 = 1");
    sql.scope(scope, "r.path", Some("u.id"));
    sql.push(") OR t.id IN (SELECT tu.task_id FROM task_unit tu JOIN unit u ON u.id = tu.unit_id JOIN region r ON r.id = u.region_id WHERE 1 = 1");
    sql.scope(scope, "r.path", Some("u.id"));
    sql.push("))");
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub framework_id: Option<Uuid>,
    /// Tasks this unit leads or cooperates on.
    pub unit_id: Option<Uuid>,
    /// Only tasks not done whose deadline is before this day.
    pub overdue_on: Option<Date>,
    /// Part of the standard's code or text.
    pub q: Option<String>,
    /// Standards under this code (an aspect, say: "3" covers 3.x.y).
    pub under_code: Option<String>,
    /// One standard's tasks.
    pub standard_id: Option<Uuid>,
}

pub async fn list(store: &Store, scope: &Scope, f: &TaskFilter) -> Result<Vec<Task>, StoreError> {
    let mut sql = Sql::new(&format!("{SELECT} WHERE 1 = 1"));
    scope_tasks(&mut sql, scope);
    if let Some(fid) = f.framework_id {
        let p = sql.text_arg(fid.to_string());
        sql.push(&format!(" AND t.framework_id = {p}"));
    }
    if let Some(u) = f.unit_id {
        let p = sql.text_arg(u.to_string());
        sql.push(&format!(" AND (t.lead_unit_id = {p} OR t.id IN (SELECT task_id FROM task_unit WHERE unit_id = {p}))"));
    }
    if let Some(d) = f.overdue_on {
        let p = sql.text_arg(d.to_string());
        sql.push(&format!(" AND t.progress < 100 AND t.deadline < {p}"));
    }
    if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let p = sql.text_arg(contains_pattern(q.trim()));
        sql.push(&format!(
            " AND (LOWER(n.code) LIKE {p} ESCAPE '\\' OR LOWER(n.title) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(c) = f.under_code.as_deref().filter(|c| !c.is_empty()) {
        let p = sql.text_arg(format!("{}.%", crate::sql::like_escape(c)));
        sql.push(&format!(" AND n.code LIKE {p} ESCAPE '\\'"));
    }
    if let Some(s) = f.standard_id {
        let p = sql.text_arg(s.to_string());
        sql.push(&format!(" AND t.standard_id = {p}"));
    }
    sql.push(" ORDER BY t.deadline, n.code");
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut tasks: Vec<Task> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    attach_cooperating(store.reader(), &mut tasks).await?;
    Ok(tasks)
}

pub async fn get(store: &Store, scope: &Scope, id: Uuid) -> Result<Task, StoreError> {
    let mut sql = Sql::new(&format!("{SELECT} WHERE t.id = "));
    let p = sql.text_arg(id.to_string());
    sql.push(&p);
    scope_tasks(&mut sql, scope);
    let row = sql.query().fetch_optional(store.reader()).await?;
    let mut t = vec![
        row.as_ref()
            .map(from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?,
    ];
    attach_cooperating(store.reader(), &mut t).await?;
    Ok(t.remove(0))
}

pub async fn for_standard(store: &Store, standard_id: Uuid) -> Result<Option<Task>, StoreError> {
    let row = sqlx::query(&format!("{SELECT} WHERE t.standard_id = $1"))
        .bind(standard_id.to_string())
        .fetch_optional(store.reader())
        .await?;
    let Some(t) = row.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    let mut v = vec![t];
    attach_cooperating(store.reader(), &mut v).await?;
    Ok(v.pop())
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskInput {
    pub lead_unit: Uuid,
    pub cooperating: Vec<Uuid>,
    pub target: String,
    pub deadline: Date,
    pub responsible_person: Option<Uuid>,
}

/// The responsible person must work for the lead unit.
async fn check_person(conn: &mut AnyConnection, input: &TaskInput) -> Result<(), StoreError> {
    if let Some(p) = input.responsible_person {
        let unit: Option<String> =
            sqlx::query_scalar("SELECT unit_id FROM person WHERE id = $1 AND active = 1")
                .bind(p.to_string())
                .fetch_optional(&mut *conn)
                .await?;
        if unit.as_deref() != Some(input.lead_unit.to_string().as_str()) {
            return Err(StoreError::invalid(
                "responsible_person_id",
                "not_of_lead_unit",
            ));
        }
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unit WHERE id = $1 AND active = 1")
        .bind(input.lead_unit.to_string())
        .fetch_one(&mut *conn)
        .await?;
    if n == 0 {
        return Err(StoreError::invalid("lead_unit_id", "invalid_choice"));
    }
    Ok(())
}

/// Whether a unit lies within what a permit reaches (its region's subtree).
async fn unit_reached(
    conn: &mut AnyConnection,
    scope: &Scope,
    unit_id: Uuid,
) -> Result<bool, StoreError> {
    let path: Option<String> = sqlx::query_scalar(
        "SELECT r.path FROM unit u JOIN region r ON r.id = u.region_id WHERE u.id = $1",
    )
    .bind(unit_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(path.is_some_and(|p| scope.covers_unit(unit_id, &p)))
}

/// A district's office assigns work to the units of its district only: the
/// lead and every cooperating unit must be within its permit.
async fn check_units_reached(
    conn: &mut AnyConnection,
    scope: &Scope,
    input: &TaskInput,
) -> Result<(), StoreError> {
    if !unit_reached(conn, scope, input.lead_unit).await? {
        return Err(StoreError::invalid("lead_unit_id", "invalid_choice"));
    }
    for u in &input.cooperating {
        if !unit_reached(conn, scope, *u).await? {
            return Err(StoreError::invalid(
                "cooperating_unit_ids",
                "invalid_choice",
            ));
        }
    }
    Ok(())
}

async fn write_cooperating(
    conn: &mut AnyConnection,
    task_id: Uuid,
    input: &TaskInput,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM task_unit WHERE task_id = $1")
        .bind(task_id.to_string())
        .execute(&mut *conn)
        .await?;
    let mut seen = vec![input.lead_unit];
    for u in &input.cooperating {
        if seen.contains(u) {
            continue;
        }
        seen.push(*u);
        sqlx::query("INSERT INTO task_unit (task_id, unit_id) VALUES ($1, $2)")
            .bind(task_id.to_string())
            .bind(u.to_string())
            .execute(&mut *conn)
            .await
            .map_err(|_| StoreError::invalid("cooperating_unit_ids", "invalid_choice"))?;
    }
    Ok(())
}

async fn insert(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    framework_id: Uuid,
    standard_id: Uuid,
    input: &TaskInput,
) -> Result<Uuid, StoreError> {
    let id = wenming_domain::new_id();
    let now = now_micros();
    sqlx::query(
        "INSERT INTO task (id, framework_id, standard_id, lead_unit_id, target, deadline, responsible_person_id, progress, \
         version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 1, $8, $8)",
    )
    .bind(id.to_string())
    .bind(framework_id.to_string())
    .bind(standard_id.to_string())
    .bind(input.lead_unit.to_string())
    .bind(input.target.trim())
    .bind(input.deadline.to_string())
    .bind(input.responsible_person.map(|p| p.to_string()))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() { StoreError::Conflict } else { e }
    })?;
    write_cooperating(conn, id, input).await?;
    audit::created(conn, ctx, "task", &id.to_string(), input).await?;
    Ok(id)
}

async fn standard_framework(
    conn: &mut AnyConnection,
    standard_id: Uuid,
) -> Result<Uuid, StoreError> {
    let fid: Option<String> = sqlx::query_scalar(
        "SELECT framework_id FROM framework_node WHERE id = $1 AND kind = 'standard'",
    )
    .bind(standard_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    parse_uuid(&fid.ok_or(StoreError::NotFound)?)
}

/// Assigns one standard. A standard has at most one task; assigning one that
/// has a task already is a conflict (edit the task instead).
pub async fn assign(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageTasks>,
    standard_id: Uuid,
    input: TaskInput,
) -> Result<Uuid, StoreError> {
    let mut tx = store.begin().await?;
    let fid = standard_framework(&mut tx, standard_id).await?;
    check_person(&mut tx, &input).await?;
    check_units_reached(&mut tx, permit.scope(), &input).await?;
    let id = insert(&mut tx, ctx, fid, standard_id, &input).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageTasks>,
    id: Uuid,
    expected_version: i64,
    input: TaskInput,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    check_person(&mut tx, &input).await?;
    let before: Option<(String, String, String)> =
        sqlx::query_as("SELECT lead_unit_id, target, deadline FROM task WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
    let before = before.ok_or(StoreError::NotFound)?;
    // A task led outside the permit is not this office's to change.
    if !unit_reached(&mut tx, permit.scope(), parse_uuid(&before.0)?).await? {
        return Err(StoreError::NotFound);
    }
    check_units_reached(&mut tx, permit.scope(), &input).await?;
    let n = sqlx::query(
        "UPDATE task SET lead_unit_id = $1, target = $2, deadline = $3, responsible_person_id = $4, version = version + 1, \
         updated_at = $5 WHERE id = $6 AND version = $7",
    )
    .bind(input.lead_unit.to_string())
    .bind(input.target.trim())
    .bind(input.deadline.to_string())
    .bind(input.responsible_person.map(|p| p.to_string()))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    write_cooperating(&mut tx, id, &input).await?;
    #[derive(Serialize)]
    struct Before {
        lead_unit: String,
        target: String,
        deadline: String,
    }
    let b = Before {
        lead_unit: before.0,
        target: before.1,
        deadline: before.2,
    };
    audit::append(
        &mut tx,
        ctx,
        "update",
        "task",
        &id.to_string(),
        Some(&b),
        Some(&input),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Which standards a bulk assignment covers.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Standards under this code, e.g. an aspect's "3".
    pub under_code: Option<String>,
    pub method: Option<Method>,
    /// Standards this unit leads (per the framework).
    pub lead_unit: Option<Uuid>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BulkOutcome {
    pub created: usize,
    pub updated: usize,
    /// Already had a task and `overwrite` was off.
    pub kept: usize,
    /// Codes of standards with no lead unit in the framework (and none given).
    pub no_lead: Vec<String>,
    /// Codes of standards whose units (or whose current task's lead) lie
    /// outside the permit: a district's office assigns its district's.
    pub outside: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
/// Assigns every selected standard of a framework to its lead and
/// cooperating units (as the framework names them, unless `lead_unit`
/// overrides), with one target and deadline, in one transaction.
pub async fn bulk_assign(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageTasks>,
    framework_id: Uuid,
    selection: &Selection,
    target: &str,
    deadline: Date,
    lead_override: Option<Uuid>,
    overwrite: bool,
) -> Result<BulkOutcome, StoreError> {
    let nodes = crate::framework::nodes(store, framework_id).await?;
    let filter = crate::framework::NodeFilter {
        method: selection.method,
        unit_id: selection.lead_unit,
        ..Default::default()
    };
    let hits: std::collections::HashSet<Uuid> =
        crate::framework::matching_standards(store, framework_id, &filter)
            .await?
            .into_iter()
            .collect();
    let mut out = BulkOutcome::default();
    let mut tx = store.begin().await?;
    for n in &nodes {
        let Some(s) = &n.standard else { continue };
        if !hits.contains(&n.id) {
            continue;
        }
        if let Some(c) = &selection.under_code
            && !(n.code == *c || n.code.starts_with(&format!("{c}.")))
        {
            continue;
        }
        if let Some(lu) = selection.lead_unit
            && s.lead.as_ref().map(|l| l.id) != Some(lu)
        {
            continue;
        }
        let Some(lead) = lead_override.or(s.lead.as_ref().map(|l| l.id)) else {
            out.no_lead.push(n.code.clone());
            continue;
        };
        let input = TaskInput {
            lead_unit: lead,
            cooperating: s.cooperating.iter().map(|u| u.id).collect(),
            target: target.to_string(),
            deadline,
            responsible_person: None,
        };
        match check_units_reached(&mut tx, permit.scope(), &input).await {
            Ok(()) => {}
            Err(StoreError::Invalid(_)) => {
                out.outside.push(n.code.clone());
                continue;
            }
            Err(e) => return Err(e),
        }
        let existing: Option<(String, String)> =
            sqlx::query_as("SELECT id, lead_unit_id FROM task WHERE standard_id = $1")
                .bind(n.id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((_, lead_now)) = &existing
            && overwrite
            && !unit_reached(&mut tx, permit.scope(), parse_uuid(lead_now)?).await?
        {
            out.outside.push(n.code.clone());
            continue;
        }
        match existing {
            None => {
                insert(&mut tx, ctx, framework_id, n.id, &input).await?;
                out.created += 1;
            }
            Some((id, _)) if overwrite => {
                sqlx::query("UPDATE task SET lead_unit_id = $1, target = $2, deadline = $3, version = version + 1, updated_at = $4 WHERE id = $5")
                    .bind(lead.to_string())
                    .bind(target.trim())
                    .bind(deadline.to_string())
                    .bind(now_micros())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                let id = parse_uuid(&id)?;
                write_cooperating(&mut tx, id, &input).await?;
                audit::append(
                    &mut tx,
                    ctx,
                    "update",
                    "task",
                    &id.to_string(),
                    None::<&()>,
                    Some(&input),
                )
                .await?;
                out.updated += 1;
            }
            Some(_) => out.kept += 1,
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// A unit reports how far it has got. The latest report is on the task; all
/// of them stay in the history.
pub async fn report_progress(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReportProgress>,
    id: Uuid,
    expected_version: i64,
    percent: i64,
    note: Option<String>,
) -> Result<(), StoreError> {
    let scope = permit.scope();
    let task = get(store, scope, id).await?;
    // Reporting belongs to the lead unit (or the office, whose scope covers it).
    if !scope.is_everything() && !scope.unit_ids.contains(&task.lead_unit.id) {
        let lead_in_regions: i64 = {
            let mut sql = Sql::new(
                "SELECT COUNT(*) FROM unit u JOIN region r ON r.id = u.region_id WHERE u.id = ",
            );
            let p = sql.text_arg(task.lead_unit.id.to_string());
            sql.push(&p);
            sql.scope(
                &Scope {
                    region_paths: scope.region_paths.clone(),
                    unit_ids: vec![],
                },
                "r.path",
                None,
            );
            sql.query().fetch_one(store.reader()).await?.try_get(0)?
        };
        if lead_in_regions == 0 {
            return Err(StoreError::invalid("percent", "only_lead_reports"));
        }
    }
    let now = now_micros();
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE task SET progress = $1, progress_note = $2, progress_at = $3, version = version + 1, updated_at = $3 \
         WHERE id = $4 AND version = $5",
    )
    .bind(percent)
    .bind(&note)
    .bind(now)
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    sqlx::query("INSERT INTO task_progress (id, task_id, percent, note, reported_by, reported_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(wenming_domain::new_id().to_string())
        .bind(id.to_string())
        .bind(percent)
        .bind(&note)
        .bind(&ctx.actor_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    #[derive(Serialize)]
    struct Progress<'a> {
        progress: i64,
        note: &'a Option<String>,
    }
    audit::changed(
        &mut tx,
        ctx,
        "progress",
        "task",
        &id.to_string(),
        &Progress {
            progress: task.progress,
            note: &task.progress_note,
        },
        &Progress {
            progress: percent,
            note: &note,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgressReport {
    pub percent: i64,
    pub note: Option<String>,
    pub reported_by: String,
    pub reported_at: jiff::Timestamp,
}

pub async fn history(store: &Store, id: Uuid) -> Result<Vec<ProgressReport>, StoreError> {
    let rows = sqlx::query("SELECT percent, note, reported_by, reported_at FROM task_progress WHERE task_id = $1 ORDER BY reported_at")
        .bind(id.to_string())
        .fetch_all(store.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ProgressReport {
                percent: r.try_get("percent")?,
                note: r.try_get("note")?,
                reported_by: r.try_get("reported_by")?,
                reported_at: ts(r.try_get("reported_at")?),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Uncovered {
    pub standard_id: Uuid,
    pub code: String,
    pub title: String,
    /// No lead unit in the framework either.
    pub no_lead: bool,
}

/// Standards of a framework that no task covers yet.
pub async fn coverage(store: &Store, framework_id: Uuid) -> Result<Vec<Uncovered>, StoreError> {
    let rows = sqlx::query(
        "SELECT n.id, n.code, n.title, (SELECT COUNT(*) FROM standard_unit su WHERE su.node_id = n.id AND su.role = 'lead') AS leads \
         FROM framework_node n WHERE n.framework_id = $1 AND n.kind = 'standard' \
         AND NOT EXISTS (SELECT 1 FROM task t WHERE t.standard_id = n.id) ORDER BY n.depth, n.position",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut out: Vec<Uncovered> = rows
        .iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let leads: i64 = r.try_get("leads")?;
            Ok(Uncovered {
                standard_id: parse_uuid(&id)?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                no_lead: leads == 0,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    out.sort_by_key(|u| code_order(&u.code));
    Ok(out)
}

/// "2.10.1" after "2.9.3": codes compare number by number.
pub fn code_order(code: &str) -> Vec<u64> {
    code.split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}
