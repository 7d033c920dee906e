//! Duplicate marks: a case that reports a problem already reported points
//! at its original (always the root of any chain), closes with it, and its
//! reporter is told the original's outcome.

use super::{CASE_SELECT, Case, StepError, case_from_row, scope_cases};
use crate::org::parse_uuid;
use crate::sql::Sql;
use crate::{Store, StoreError};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::case::{CaseState, DuplicateView, check_original};
use wenming_domain::geo::Point;
use wenming_domain::policy::Scope;

/// Chains longer than this are corrupt data, not a real history.
const MAX_CHAIN: usize = 32;

struct Marked {
    view: DuplicateView,
    duplicate_of: Option<Uuid>,
    radius_m: i64,
}

async fn marked(conn: &mut AnyConnection, id: Uuid) -> Result<Option<Marked>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT c.id, c.state, c.duplicate_of, c.lon, c.lat, c.category_id, cat.parent_id, cat.duplicate_radius_m \
         FROM case_record c JOIN category cat ON cat.id = c.category_id WHERE c.id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let state: String = r.try_get("state")?;
    let category = parse_uuid(&r.try_get::<String, _>("category_id")?)?;
    let parent: Option<String> = r.try_get("parent_id")?;
    let lon: Option<f64> = r.try_get("lon")?;
    let lat: Option<f64> = r.try_get("lat")?;
    Ok(Some(Marked {
        view: DuplicateView {
            id,
            state: CaseState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("case state {state}")))?,
            class: parent
                .as_deref()
                .map(parse_uuid)
                .transpose()?
                .unwrap_or(category),
            point: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
        },
        duplicate_of: r
            .try_get::<Option<String>, _>("duplicate_of")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        radius_m: r
            .try_get::<Option<i64>, _>("duplicate_radius_m")?
            .unwrap_or(super::DEFAULT_DUPLICATE_RADIUS_M),
    }))
}

/// The original `case` would be a duplicate of when the office picks
/// `original`: followed to the root of its chain and checked against the
/// rules, inside the step's transaction.
pub(super) async fn resolve(
    conn: &mut AnyConnection,
    case: &Case,
    original: Uuid,
    reason: &str,
) -> Result<DuplicateView, StepError> {
    let invalid = |code| {
        StepError::Refused(wenming_domain::case::Refusal::Invalid {
            field: "original",
            code,
        })
    };
    let me = marked(conn, case.id).await?.ok_or(StoreError::NotFound)?;
    let mut at = original;
    for _ in 0..MAX_CHAIN {
        let Some(m) = marked(conn, at).await? else {
            return Err(invalid("invalid_choice"));
        };
        match (m.view.state, m.duplicate_of) {
            (CaseState::Duplicate, Some(next)) if next != case.id => at = next,
            (CaseState::Duplicate, _) => return Err(invalid("duplicate_cycle")),
            _ => {
                check_original(&me.view, &m.view, me.radius_m as f64, reason)
                    .map_err(StepError::Refused)?;
                return Ok(m.view);
            }
        }
    }
    Err(invalid("duplicate_cycle"))
}

/// How many cases are marked duplicates of this one.
pub(super) async fn count_of(conn: &mut AnyConnection, id: Uuid) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_record WHERE duplicate_of = $1 AND state = 'duplicate'",
    )
    .bind(id.to_string())
    .fetch_one(&mut *conn)
    .await?)
}

/// Tells the people who reported duplicates of a closed original that it
/// is done: every duplicate's reporter, or only `only`'s.
pub(super) async fn tell_reporters(
    conn: &mut AnyConnection,
    original: Uuid,
    only: Option<Uuid>,
    now: i64,
) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT d.id, d.number, d.reported_by, o.number AS original_number FROM case_record d \
         JOIN case_record o ON o.id = d.duplicate_of \
         WHERE d.duplicate_of = $1 AND d.state = 'duplicate' AND d.reported_by IS NOT NULL",
    )
    .bind(original.to_string())
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let id: String = r.try_get("id")?;
        if only.is_some_and(|o| o.to_string() != id) {
            continue;
        }
        let data = serde_json::json!({
            "number": r.try_get::<String, _>("number")?,
            "original": r.try_get::<String, _>("original_number")?,
        });
        sqlx::query(
            "INSERT INTO notification (id, user_id, kind, case_id, data, created_at, read_at) \
             VALUES ($1, $2, 'duplicate_closed', $3, $4, $5, NULL)",
        )
        .bind(wenming_domain::new_id().to_string())
        .bind(r.try_get::<String, _>("reported_by")?)
        .bind(original.to_string())
        .bind(data.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The cases marked duplicates of `original` that the actor may see,
/// oldest first.
pub async fn of(store: &Store, scope: &Scope, original: Uuid) -> Result<Vec<Case>, StoreError> {
    let mut sql = Sql::new(&format!(
        "{CASE_SELECT} WHERE c.state = 'duplicate' AND c.duplicate_of = "
    ));
    let p = sql.text_arg(original.to_string());
    sql.push(&p);
    scope_cases(&mut sql, scope);
    sql.push(" ORDER BY c.reported_at");
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter().map(case_from_row).collect()
}

/// A case the actor may see, by its number (as people quote it).
pub async fn by_number(
    store: &Store,
    scope: &Scope,
    number: &str,
) -> Result<Option<Uuid>, StoreError> {
    let mut sql = Sql::new(&format!("{CASE_SELECT} WHERE c.number = "));
    let p = sql.text_arg(number.trim().to_string());
    sql.push(&p);
    scope_cases(&mut sql, scope);
    match sql.query().fetch_optional(store.reader()).await? {
        Some(r) => Ok(Some(case_from_row(&r)?.id)),
        None => Ok(None),
    }
}
