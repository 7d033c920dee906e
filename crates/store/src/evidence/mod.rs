//! The evidence archive in the database: requirements per standard (made
//! when a framework is activated, copied when it is cloned), the filing
//! window, materials and their files, and the office's review. Materials are
//! in `material`, decisions in `review`.

mod material;
mod overdue;
mod package;
mod review;
mod sources;

pub use material::*;
pub use overdue::*;
pub use package::*;
pub use review::*;
pub use sources::*;

use crate::org::parse_uuid;
use crate::sql::Sql;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::evidence::{self as rules, RequirementState, Tally, Window};
use wenming_domain::framework::{EvidenceType, Method};
use wenming_domain::policy::{Permit, Scope, may};

/// A material requirement of a standard, with how it stands.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    pub evidence_type: EvidenceType,
    pub title: String,
    pub needed: i64,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
    pub due_on: Option<jiff::civil::Date>,
    /// Built by wenming from this source, when one is named.
    pub source: Option<rules::Source>,
    pub version: i64,
    pub tally: Tally,
    pub state: RequirementState,
    /// Not met and past its due date.
    pub overdue: bool,
}

/// Which requirements a list shows.
#[derive(Debug, Clone, Default)]
pub struct RequirementFilter {
    pub standard_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub state: Option<RequirementState>,
    pub overdue_only: bool,
}

/// The filing window of a framework: the months before its evaluation
/// date, or, with none set yet, the months up to the end of this one.
pub async fn window(
    store: &Store,
    framework_id: Uuid,
    today: jiff::civil::Date,
) -> Result<Window, StoreError> {
    let row = sqlx::query("SELECT evaluation_on, window_months FROM framework WHERE id = $1")
        .bind(framework_id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    let on: Option<String> = row.try_get("evaluation_on")?;
    let months: i64 = row.try_get("window_months")?;
    let evaluation = on
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .unwrap_or_else(|| today.last_of_month().tomorrow().unwrap_or(today));
    Ok(Window::before(evaluation, months))
}

/// The evaluation date and how many months the window covers.
#[derive(Debug, Clone, Serialize)]
pub struct FilingDate {
    pub evaluation_on: Option<jiff::civil::Date>,
    pub window_months: i64,
}

pub async fn filing_date(store: &Store, framework_id: Uuid) -> Result<FilingDate, StoreError> {
    let row = sqlx::query("SELECT evaluation_on, window_months FROM framework WHERE id = $1")
        .bind(framework_id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    let on: Option<String> = row.try_get("evaluation_on")?;
    Ok(FilingDate {
        evaluation_on: on.and_then(|d| d.parse().ok()),
        window_months: row.try_get("window_months")?,
    })
}

/// Sets the evaluation date (and window length) the filing is judged by.
pub async fn set_filing_date(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReviewEvidence>,
    framework_id: Uuid,
    date: &FilingDate,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    if !(1..=60).contains(&date.window_months) {
        return Err(StoreError::invalid("window_months", "out_of_range"));
    }
    let before = filing_date(store, framework_id).await?;
    let mut tx = store.begin().await?;
    sqlx::query("UPDATE framework SET evaluation_on = $1, window_months = $2, updated_at = $3 WHERE id = $4")
        .bind(date.evaluation_on.map(|d| d.to_string()))
        .bind(date.window_months)
        .bind(now_micros())
        .bind(framework_id.to_string())
        .execute(&mut *tx)
        .await?;
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "framework",
        &framework_id.to_string(),
        &before,
        date,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Creates the default requirements of every standard reviewed by
/// materials that has none yet (one per evidence type it names, provided
/// by its lead unit), inside the caller's transaction. A framework cloned
/// from another keeps the requirements copied with it.
pub(crate) async fn ensure_defaults(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    framework_id: Uuid,
) -> Result<usize, StoreError> {
    let rows = sqlx::query(
        "SELECT n.id, n.methods, n.evidence_types, \
         (SELECT su.unit_id FROM standard_unit su WHERE su.node_id = n.id AND su.role = 'lead') AS lead \
         FROM framework_node n WHERE n.framework_id = $1 AND n.kind = 'standard' \
         AND NOT EXISTS (SELECT 1 FROM evidence_requirement q WHERE q.standard_id = n.id) \
         ORDER BY n.position",
    )
    .bind(framework_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let now = now_micros();
    let mut made = 0;
    for r in rows {
        let codes = |k: &str| -> Result<String, StoreError> {
            Ok(r.try_get::<Option<String>, _>(k)?.unwrap_or_default())
        };
        let spec = wenming_domain::framework::StandardSpec {
            points: Default::default(),
            methods: codes("methods")?
                .split(',')
                .filter_map(|c| Method::parse(c.trim()))
                .collect(),
            featured: false,
            site_types: vec![],
            evidence_types: codes("evidence_types")?
                .split(',')
                .filter_map(|c| EvidenceType::parse(c.trim()))
                .collect(),
            lead_unit: None,
            cooperating_units: vec![],
            observation: None,
            requirements: vec![],
        };
        let standard: String = r.try_get("id")?;
        let lead: Option<String> = r.try_get("lead")?;
        for (i, d) in rules::defaults(&spec).into_iter().enumerate() {
            let id = wenming_domain::new_id();
            insert(
                conn,
                id,
                framework_id,
                &standard,
                &d,
                lead.as_deref(),
                None,
                i as i64,
                now,
            )
            .await?;
            made += 1;
        }
    }
    if made > 0 {
        #[derive(Serialize)]
        struct Made {
            requirements: usize,
        }
        audit::append(
            conn,
            ctx,
            "create",
            "evidence_requirement",
            &framework_id.to_string(),
            None::<&()>,
            Some(&Made { requirements: made }),
        )
        .await?;
    }
    Ok(made)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert(
    conn: &mut AnyConnection,
    id: Uuid,
    framework_id: Uuid,
    standard_id: &str,
    d: &rules::RequirementDraft,
    unit_id: Option<&str>,
    due_on: Option<&str>,
    position: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO evidence_requirement (id, framework_id, standard_id, evidence_type, title, needed, \
         unit_id, due_on, position, source, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, 1, $10, $10)",
    )
    .bind(id.to_string())
    .bind(framework_id.to_string())
    .bind(standard_id)
    .bind(d.evidence_type.code())
    .bind(&d.title)
    .bind(d.needed)
    .bind(unit_id)
    .bind(due_on)
    .bind(position)
    .bind(now)
    .bind(
        d.source
            .as_ref()
            .map(|s| serde_json::to_string(s).unwrap_or_default()),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A framework's requirements as its portable form carries them, by
/// standard, in their order.
pub(crate) async fn specs_of(
    store: &Store,
    framework_id: Uuid,
) -> Result<
    std::collections::HashMap<Uuid, Vec<wenming_domain::framework::RequirementSpec>>,
    StoreError,
> {
    let rows = sqlx::query(
        "SELECT standard_id, evidence_type, title, needed, source FROM evidence_requirement \
         WHERE framework_id = $1 ORDER BY standard_id, position, id",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut out: std::collections::HashMap<Uuid, Vec<_>> = Default::default();
    for r in rows {
        let t: String = r.try_get("evidence_type")?;
        let source: Option<String> = r.try_get("source")?;
        out.entry(parse_uuid(&r.try_get::<String, _>("standard_id")?)?)
            .or_default()
            .push(wenming_domain::framework::RequirementSpec {
                evidence_type: EvidenceType::parse(&t)
                    .ok_or_else(|| StoreError::Corrupt(format!("evidence type {t}")))?,
                title: r.try_get("title")?,
                needed: r.try_get("needed")?,
                source: source
                    .map(|s| crate::error::stored_json("requirement source", &s))
                    .transpose()?,
            });
    }
    Ok(out)
}

/// Copies a framework's requirements to its clone, standard by code.
pub(crate) async fn copy_requirements(
    conn: &mut AnyConnection,
    from: Uuid,
    to: Uuid,
) -> Result<usize, StoreError> {
    let rows = sqlx::query(
        "SELECT nn.id AS standard_id, q.evidence_type, q.title, q.needed, q.unit_id, q.due_on, q.source, q.position \
         FROM evidence_requirement q JOIN framework_node o ON o.id = q.standard_id \
         JOIN framework_node nn ON nn.framework_id = $2 AND nn.code = o.code \
         WHERE q.framework_id = $1 ORDER BY o.code, q.position",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let now = now_micros();
    for r in &rows {
        let t: String = r.try_get("evidence_type")?;
        let d = rules::RequirementDraft {
            evidence_type: EvidenceType::parse(&t)
                .ok_or_else(|| StoreError::Corrupt(format!("evidence type {t}")))?,
            title: r.try_get("title")?,
            needed: r.try_get("needed")?,
            source: r
                .try_get::<Option<String>, _>("source")?
                .map(|s| crate::error::stored_json("requirement source", &s))
                .transpose()?,
        };
        let standard: String = r.try_get("standard_id")?;
        let unit: Option<String> = r.try_get("unit_id")?;
        let due: Option<String> = r.try_get("due_on")?;
        let id = wenming_domain::new_id();
        insert(
            conn,
            id,
            to,
            &standard,
            &d,
            unit.as_deref(),
            due.as_deref(),
            r.try_get("position")?,
            now,
        )
        .await?;
    }
    Ok(rows.len())
}

const SELECT: &str = "SELECT q.id, q.framework_id, q.standard_id, q.evidence_type, q.title, q.needed, \
     q.unit_id, q.due_on, q.source, q.version, n.code AS standard_code, n.title AS standard_title, u.name AS unit_name, \
     (SELECT COUNT(*) FROM submission s WHERE s.requirement_id = q.id \
        AND s.state = 'accepted' AND s.doc_date >= $1 AND s.doc_date < $2) AS accepted_in, \
     (SELECT COUNT(*) FROM submission s WHERE s.requirement_id = q.id AND s.state = 'accepted') AS accepted_all, \
     (SELECT COUNT(*) FROM submission s WHERE s.requirement_id = q.id AND s.state = 'submitted') AS submitted, \
     (SELECT COUNT(*) FROM submission s WHERE s.requirement_id = q.id AND s.state = 'returned') AS returned \
     FROM evidence_requirement q JOIN framework_node n ON n.id = q.standard_id \
     LEFT JOIN unit u ON u.id = q.unit_id LEFT JOIN region r ON r.id = u.region_id";

fn from_row(row: &AnyRow, today: jiff::civil::Date) -> Result<Requirement, StoreError> {
    let s = |k: &str| -> Result<String, StoreError> { Ok(row.try_get::<String, _>(k)?) };
    let o = |k: &str| -> Result<Option<String>, StoreError> {
        Ok(row.try_get::<Option<String>, _>(k)?)
    };
    let t = s("evidence_type")?;
    let accepted_in: i64 = row.try_get("accepted_in")?;
    let accepted_all: i64 = row.try_get("accepted_all")?;
    let tally = Tally {
        accepted_in_window: accepted_in,
        accepted_outside: accepted_all - accepted_in,
        submitted: row.try_get("submitted")?,
        returned: row.try_get("returned")?,
    };
    let needed: i64 = row.try_get("needed")?;
    let state = rules::state(needed, &tally);
    let due_on: Option<jiff::civil::Date> = o("due_on")?.and_then(|d| d.parse().ok());
    Ok(Requirement {
        id: parse_uuid(&s("id")?)?,
        framework_id: parse_uuid(&s("framework_id")?)?,
        standard_id: parse_uuid(&s("standard_id")?)?,
        standard_code: s("standard_code")?,
        standard_title: s("standard_title")?,
        evidence_type: EvidenceType::parse(&t)
            .ok_or_else(|| StoreError::Corrupt(format!("evidence type {t}")))?,
        title: s("title")?,
        needed,
        unit_id: o("unit_id")?.as_deref().map(parse_uuid).transpose()?,
        unit_name: o("unit_name")?,
        overdue: state != RequirementState::Met && due_on.is_some_and(|d| d < today),
        due_on,
        source: crate::error::stored_json_opt("requirement source", o("source")?)?,
        version: row.try_get("version")?,
        tally,
        state,
    })
}

/// Requirements a unit provides are its own; the office's scope sees all.
/// A requirement with no unit yet is the office's to assign.
fn scope_requirements(sql: &mut Sql, scope: &Scope) {
    if scope.is_everything() {
        return;
    }
    sql.push(" AND u.id IS NOT NULL");
    sql.scope(scope, "r.path", Some("u.id"));
}

/// Standard codes in reading order: 2.10 after 2.9.
pub fn code_key(code: &str) -> Vec<(u64, String)> {
    code.split('.')
        .map(|p| (p.parse().unwrap_or(u64::MAX), p.to_string()))
        .collect()
}

/// A framework's requirements in scope, in the framework's order.
pub async fn requirements(
    store: &Store,
    scope: &Scope,
    framework_id: Uuid,
    f: &RequirementFilter,
    today: jiff::civil::Date,
) -> Result<Vec<Requirement>, StoreError> {
    // A framework that does not exist has no requirements.
    let w = match window(store, framework_id, today).await {
        Err(StoreError::NotFound) => return Ok(vec![]),
        other => other?,
    };
    let mut sql = Sql::new(SELECT);
    let (a, b) = (
        sql.text_arg(w.start.to_string()),
        sql.text_arg(w.end.to_string()),
    );
    debug_assert_eq!((a.as_str(), b.as_str()), ("$1", "$2"));
    let fw = sql.text_arg(framework_id.to_string());
    sql.push(&format!(" WHERE q.framework_id = {fw}"));
    scope_requirements(&mut sql, scope);
    if let Some(s) = f.standard_id {
        let p = sql.text_arg(s.to_string());
        sql.push(&format!(" AND q.standard_id = {p}"));
    }
    if let Some(u) = f.unit_id {
        let p = sql.text_arg(u.to_string());
        sql.push(&format!(" AND q.unit_id = {p}"));
    }
    let rows = sql.query().fetch_all(store.reader()).await?;
    let mut out: Vec<Requirement> = rows
        .iter()
        .map(|r| from_row(r, today))
        .collect::<Result<_, _>>()?;
    out.retain(|q| f.state.is_none_or(|s| q.state == s) && (!f.overdue_only || q.overdue));
    out.sort_by_cached_key(|q| (code_key(&q.standard_code), q.id));
    Ok(out)
}

/// One requirement, if it is in scope.
pub async fn requirement(
    store: &Store,
    scope: &Scope,
    id: Uuid,
    today: jiff::civil::Date,
) -> Result<Requirement, StoreError> {
    let framework: Option<String> =
        sqlx::query_scalar("SELECT framework_id FROM evidence_requirement WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(store.reader())
            .await?;
    let framework = parse_uuid(&framework.ok_or(StoreError::NotFound)?)?;
    let w = window(store, framework, today).await?;
    let mut sql = Sql::new(SELECT);
    sql.text_arg(w.start.to_string());
    sql.text_arg(w.end.to_string());
    let p = sql.text_arg(id.to_string());
    sql.push(&format!(" WHERE q.id = {p}"));
    scope_requirements(&mut sql, scope);
    let row = sql
        .query()
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row, today)
}

/// What the office may change on a requirement.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementEdit {
    pub evidence_type: EvidenceType,
    pub title: String,
    pub needed: i64,
    pub unit_id: Option<Uuid>,
    pub due_on: Option<jiff::civil::Date>,
    pub source: Option<rules::Source>,
}

fn check_edit(e: &RequirementEdit) -> Result<(), StoreError> {
    let mut errors = wenming_domain::FieldErrors::new();
    if e.title.trim().is_empty() {
        errors.add("title", "required");
    } else if e.title.chars().count() > 200 {
        errors.add("title", "too_long");
    }
    if !(1..=100).contains(&e.needed) {
        errors.add("needed", "out_of_range");
    }
    if e.source.as_ref().is_some_and(|s| !s.fits(e.evidence_type)) {
        errors.add("source", "source_does_not_fit");
    }
    errors.into_result(()).map_err(StoreError::Invalid)
}

/// Adds a requirement to a standard (the office's).
pub async fn add_requirement(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReviewEvidence>,
    standard_id: Uuid,
    e: &RequirementEdit,
) -> Result<Uuid, StoreError> {
    StoreError::unless_city_wide(permit)?;
    check_edit(e)?;
    let framework: Option<String> = sqlx::query_scalar(
        "SELECT framework_id FROM framework_node WHERE id = $1 AND kind = 'standard'",
    )
    .bind(standard_id.to_string())
    .fetch_optional(store.reader())
    .await?;
    let framework = parse_uuid(&framework.ok_or(StoreError::NotFound)?)?;
    let mut tx = store.begin().await?;
    let position: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), -1) + 1 FROM evidence_requirement WHERE standard_id = $1",
    )
    .bind(standard_id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let id = wenming_domain::new_id();
    let unit = e.unit_id.map(|u| u.to_string());
    let due = e.due_on.map(|d| d.to_string());
    insert(
        &mut tx,
        id,
        framework,
        &standard_id.to_string(),
        &rules::RequirementDraft {
            evidence_type: e.evidence_type,
            title: e.title.trim().to_string(),
            needed: e.needed,
            source: e.source.clone(),
        },
        unit.as_deref(),
        due.as_deref(),
        position,
        now_micros(),
    )
    .await?;
    audit::created(&mut tx, ctx, "evidence_requirement", &id.to_string(), e).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes a requirement on the version the office read.
pub async fn update_requirement(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReviewEvidence>,
    id: Uuid,
    expected_version: i64,
    e: &RequirementEdit,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    check_edit(e)?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let before = requirement(store, permit.scope(), id, today).await?;
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE evidence_requirement SET evidence_type = $1, title = $2, needed = $3, unit_id = $4, \
         due_on = $5, source = $9, version = version + 1, updated_at = $6 WHERE id = $7 AND version = $8",
    )
    .bind(e.evidence_type.code())
    .bind(e.title.trim())
    .bind(e.needed)
    .bind(e.unit_id.map(|u| u.to_string()))
    .bind(e.due_on.map(|d| d.to_string()))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(expected_version)
    .bind(e.source.as_ref().and_then(|s| serde_json::to_string(s).ok()))
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let was = RequirementEdit {
        evidence_type: before.evidence_type,
        title: before.title,
        needed: before.needed,
        unit_id: before.unit_id,
        due_on: before.due_on,
        source: before.source,
    };
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "evidence_requirement",
        &id.to_string(),
        &was,
        e,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
