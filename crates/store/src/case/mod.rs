//! Cases in the database. A case's record and how it is read live here;
//! the parts of the workflow each have a module: the catalogue of
//! categories, where reports are routed, the working calendar, finding
//! cases, intake, steps, and the month tallies the metrics read. The state
//! itself is only ever changed by `step`, which asks `domain::case::apply`.

mod calendar;
mod catalogue;
pub mod duplicate;
mod intake;
pub(crate) mod notify;
mod query;
mod routing;
mod step;
pub mod tally;
mod verifier;

pub use calendar::*;
pub use catalogue::*;
pub use intake::*;
pub use query::*;
pub use routing::*;
pub use step::*;
pub use verifier::*;

use crate::org::parse_uuid;
use crate::sql::Sql;
use crate::{Ctx, Store, StoreError, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::case::{Ask, CaseFacts, CaseState, DeadlineState, Source, deadline_state};
use wenming_domain::geo::Point;
use wenming_domain::policy::Scope;

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
    pub suggested_unit_name: Option<String>,
    /// Whom a handled case waits for, and since when.
    pub verifier_id: Option<Uuid>,
    pub verifier_name: Option<String>,
    pub verifier_since: Option<jiff::Timestamp>,
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
    /// Its last change: for a request, when it was made.
    pub updated_at: jiff::Timestamp,
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
    /// Since when the case has waited for whoever acts next (the office,
    /// the unit or the verifier); None once nobody is to act.
    pub fn waiting_since(&self) -> Option<jiff::Timestamp> {
        match self.state {
            CaseState::Reported => Some(self.reported_at),
            CaseState::Registered => self.registered_at.or(Some(self.reported_at)),
            CaseState::Dispatched | CaseState::Rework => self.dispatched_at,
            CaseState::AwaitingApproval => Some(self.updated_at),
            CaseState::Handled => self.verifier_since.or(self.handled_at),
            _ => None,
        }
    }
    pub fn days_overdue(&self, now: jiff::Timestamp) -> i64 {
        wenming_domain::case::days_overdue(self.state, self.deadline, now)
    }
}

/// Cases whose deadline runs (`CaseState::deadline_runs`), the ones a
/// passed deadline makes overdue; written as the overdue index's condition
/// is (migration 0012), so that the index serves the queries that use it.
pub(crate) const DEADLINE_RUNS: &str = "c.state IN ('dispatched', 'rework')";

/// The tables a case is read from: its category (for the class), region
/// (for the scope) and unit.
macro_rules! case_from {
    () => {
        "FROM case_record c JOIN category cat ON cat.id = c.category_id \
         LEFT JOIN region r ON r.id = c.region_id LEFT JOIN unit u ON u.id = c.unit_id \
         LEFT JOIN app_user vu ON vu.id = c.verifier_id \
         LEFT JOIN unit su ON su.id = c.suggested_unit_id"
    };
}

const CASE_SELECT: &str = concat!(
    "SELECT c.*, cat.name AS category_name, r.name AS region_name, r.path AS region_path, \
     u.name AS unit_name, vu.display_name AS verifier_name, su.name AS suggested_unit_name ",
    case_from!()
);

/// How many cases a filter finds.
const CASE_COUNT: &str = concat!("SELECT COUNT(*) AS n ", case_from!());

fn ids(s: &str) -> Result<Vec<Uuid>, StoreError> {
    crate::error::stored_json("case id list", s)
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
    let pending: Option<Ask> = crate::error::stored_json_opt("pending request", o("pending_ask")?)?;
    let before: Option<CaseState> = o("before_ask")?.as_deref().and_then(CaseState::parse);
    let unit = o("unit_id")?.as_deref().map(parse_uuid).transpose()?;
    let verifier = o("verifier_id")?.as_deref().map(parse_uuid).transpose()?;
    let reworks: i64 = r.try_get("reworks")?;
    let extensions: i64 = r.try_get("extensions")?;
    let evaluated: i64 = r.try_get("evaluated")?;
    let facts = CaseFacts {
        state: Some(state),
        unit,
        deadline: deadline.map(ts),
        pending_ask: pending.clone(),
        before_ask: before,
        dispatched_by: ids(&s("dispatched_by")?)?,
        handled_by: ids(&s("handled_by")?)?,
        verifier,
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
        suggested_unit_name: o("suggested_unit_name")?,
        verifier_id: verifier,
        verifier_name: o("verifier_name")?,
        verifier_since: r.try_get::<Option<i64>, _>("verifier_since")?.map(ts),
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
        updated_at: ts(r.try_get("updated_at")?),
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

/// Why a step was not taken: the workflow refused it, or the store failed.
#[derive(Debug)]
pub enum StepError {
    Refused(wenming_domain::case::Refusal),
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

#[cfg(test)]
mod tests {
    use wenming_domain::case::CaseState;

    #[test]
    fn the_overdue_condition_names_the_domains_states() {
        let named: Vec<&str> = CaseState::ALL
            .into_iter()
            .filter(|s| s.deadline_runs())
            .map(CaseState::code)
            .collect();
        let listed: Vec<&str> = super::DEADLINE_RUNS
            .split('\'')
            .skip(1)
            .step_by(2)
            .collect();
        assert_eq!(listed, named);
        assert!(
            include_str!("../../migrations/0012_integrity.sql")
                .contains(&super::DEADLINE_RUNS.replace("c.state", "state")),
            "the overdue index's condition"
        );
    }
}
