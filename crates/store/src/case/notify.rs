//! Notifications a case's steps send, each to the people who act next:
//! the unit on dispatch, rework and a decision on its request; the verifier
//! when a fix is put to them; the office when a request awaits it. They are
//! written in the step's transaction, so a step and its notices stand or
//! fall together. (Overdue warnings come from the escalation job.)

use super::Case;
use crate::StoreError;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::case::{Ask, CaseFacts, Step};

/// What a notice says beyond its kind; the page words it for its reader.
#[derive(Debug, Default, Serialize)]
struct Data<'a> {
    number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    /// extend, park or return.
    #[serde(skip_serializing_if = "Option::is_none")]
    ask: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approved: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deadline: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

/// A time as the case keeps it (to the microsecond), so that a notice
/// quotes the case's deadline exactly.
fn stored(t: jiff::Timestamp) -> jiff::Timestamp {
    crate::ts(t.as_microsecond())
}

pub(crate) fn ask_code(a: &Ask) -> &'static str {
    match a {
        Ask::Extend { .. } => "extend",
        Ask::Park => "park",
        Ask::Return => "return",
    }
}

/// Sends the notices a step calls for. `actor` is left out: nobody is told
/// of what they did themselves.
pub(crate) async fn after_step(
    conn: &mut AnyConnection,
    case: &Case,
    step: &Step,
    after: &CaseFacts,
    actor: Option<Uuid>,
    now: i64,
) -> Result<(), StoreError> {
    let number = case.number.as_str();
    let (kind, to, data) = match step {
        Step::Dispatch { .. } | Step::Resume { .. } => (
            "case_dispatched",
            unit_accounts(conn, after.unit).await?,
            Data {
                number,
                deadline: after.deadline.map(stored),
                ..Default::default()
            },
        ),
        Step::Verify {
            passed: false,
            note,
        } => (
            "case_rework",
            unit_accounts(conn, after.unit).await?,
            Data {
                number,
                reason: Some(note),
                ..Default::default()
            },
        ),
        Step::Approve | Step::Refuse { .. } => {
            let Some(ask) = case.facts().pending_ask.as_ref() else {
                return Ok(());
            };
            let reason = match step {
                Step::Refuse { reason } => Some(reason.as_str()),
                _ => None,
            };
            (
                "ask_decided",
                // A returned case has left the unit; it still hears the answer.
                unit_accounts(conn, case.unit_id).await?,
                Data {
                    number,
                    ask: Some(ask_code(ask)),
                    approved: Some(matches!(step, Step::Approve)),
                    reason,
                    deadline: after
                        .deadline
                        .filter(|_| matches!(ask, Ask::Extend { .. }))
                        .map(stored),
                    ..Default::default()
                },
            )
        }
        Step::Handle { .. } | Step::AssignVerifier { .. } => (
            "verify_assigned",
            after.verifier.map(|v| v.to_string()).into_iter().collect(),
            Data {
                number,
                unit: case.unit_name.as_deref(),
                ..Default::default()
            },
        ),
        Step::Ask { ask, reason } => (
            "ask_waiting",
            office_accounts(conn, case.id).await?,
            Data {
                number,
                ask: Some(ask_code(ask)),
                reason: Some(reason),
                unit: case.unit_name.as_deref(),
                ..Default::default()
            },
        ),
        _ => return Ok(()),
    };
    let data = serde_json::to_string(&data).unwrap_or_default();
    let actor = actor.map(|a| a.to_string());
    for user in to.iter().filter(|u| Some(*u) != actor.as_ref()) {
        sqlx::query(
            "INSERT INTO notification (id, user_id, kind, case_id, data, created_at, read_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(wenming_domain::new_id().to_string())
        .bind(user)
        .bind(kind)
        .bind(case.id.to_string())
        .bind(&data)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The unit's active accounts.
pub(crate) async fn unit_accounts(
    conn: &mut AnyConnection,
    unit: Option<Uuid>,
) -> Result<Vec<String>, StoreError> {
    let Some(unit) = unit else {
        return Ok(vec![]);
    };
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT u.id FROM app_user u JOIN role_grant g ON g.user_id = u.id \
         WHERE g.role = 'unit_staff' AND g.scope_kind = 'unit' AND g.scope_id = $1 AND u.active = 1 ORDER BY u.id",
    )
    .bind(unit.to_string())
    .fetch_all(&mut *conn)
    .await?)
}

/// The office's active accounts whose region reaches the case (the whole
/// city's office reaches an unplaced one).
async fn office_accounts(conn: &mut AnyConnection, case: Uuid) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, gr.path AS grant_path, \
         (SELECT r.path FROM case_record c JOIN region r ON r.id = c.region_id WHERE c.id = $1) AS case_path \
         FROM app_user u JOIN role_grant g ON g.user_id = u.id AND g.role = 'office' AND g.scope_kind = 'region' \
         JOIN region gr ON gr.id = g.scope_id WHERE u.active = 1 ORDER BY u.id",
    )
    .bind(case.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in &rows {
        let id: String = r.try_get("id")?;
        let grant: String = r.try_get("grant_path")?;
        let case_path: Option<String> = r.try_get("case_path")?;
        let reaches = match &case_path {
            Some(p) => p.starts_with(&grant),
            None => grant.matches('/').count() == 2,
        };
        if reaches && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}
