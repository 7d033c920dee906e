//! Overdue escalation: a case still with its unit past its deadline warns
//! the unit's liaison, then (after a while) its head too, and keeps
//! reminding both until the unit acts. Each warning is an in-app
//! notification to the unit's accounts, an entry on the case's timeline,
//! and (when a webhook is configured) an outbox delivery for the city's SMS
//! or messaging gateway, all in the case's one transaction.
//!
//! The clock is a parameter, so tests (and a catch-up after downtime) run
//! the same code at any instant.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct EscalationPolicy {
    /// From the first warning (to the liaison) to the one that adds the head.
    pub head_after: SignedDuration,
    /// Between reminders once the head is warned.
    pub repeat: SignedDuration,
    /// Write outbox deliveries (a webhook is configured).
    pub webhook: bool,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        EscalationPolicy {
            head_after: SignedDuration::from_hours(24),
            repeat: SignedDuration::from_hours(24),
            webhook: false,
        }
    }
}

/// 1: the liaison was warned; 2: the head too (and reminders follow).
pub const LIAISON: i64 = 1;
pub const HEAD: i64 = 2;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    /// Cases warned in this pass.
    pub escalated: usize,
    pub notifications: usize,
    pub deliveries: usize,
}

/// Who is told, by name and phone, for the gateway.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub role: &'static str,
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Serialize)]
struct Payload<'a> {
    event: &'static str,
    case_id: &'a str,
    number: &'a str,
    category: &'a str,
    description: &'a str,
    unit: &'a str,
    deadline: Timestamp,
    overdue_hours: i64,
    level: i64,
    notify: &'a [Contact],
    at: Timestamp,
}

/// Warns about every case due a warning at `now`. Call it under the
/// "escalation" lease so one instance of several does it.
pub async fn run(
    store: &Store,
    policy: &EscalationPolicy,
    now: Timestamp,
) -> Result<Pass, StoreError> {
    let now_us = now.as_microsecond();
    // Overdue as everywhere else (domain::case::deadline_state).
    let due = sqlx::query(&format!(
        "SELECT c.id FROM case_record c WHERE {} AND c.deadline < $1 \
         AND (c.next_escalation_at IS NULL OR c.next_escalation_at <= $1) ORDER BY c.deadline LIMIT 500",
        crate::case::DEADLINE_RUNS
    ))
    .bind(now_us)
    .fetch_all(store.reader())
    .await?;
    let mut pass = Pass::default();
    for row in due {
        let id: String = row.try_get("id")?;
        let mut tx = store.begin().await?;
        if let Some((n, d)) = escalate_one(&mut tx, policy, &id, now).await? {
            tx.commit().await?;
            pass.escalated += 1;
            pass.notifications += n;
            pass.deliveries += d;
        }
    }
    Ok(pass)
}

/// One case: re-read inside the transaction (the unit may have acted
/// meanwhile), then warn. Returns (notifications, deliveries), or None when
/// nothing was due after all.
async fn escalate_one(
    conn: &mut AnyConnection,
    policy: &EscalationPolicy,
    id: &str,
    now: Timestamp,
) -> Result<Option<(usize, usize)>, StoreError> {
    let now_us = now.as_microsecond();
    let Some(r) = sqlx::query(&format!(
        "SELECT c.number, c.description, c.state, c.deadline, c.unit_id, c.escalation_level, c.escalated_at, \
         c.next_escalation_at, cat.name AS category, u.name AS unit_name, u.liaison_name, u.liaison_phone, \
         u.head_name, u.head_phone FROM case_record c JOIN category cat ON cat.id = c.category_id \
         JOIN unit u ON u.id = c.unit_id WHERE c.id = $1 AND {} AND c.deadline < $2 \
         AND (c.next_escalation_at IS NULL OR c.next_escalation_at <= $2)",
        crate::case::DEADLINE_RUNS
    ))
    .bind(id)
    .bind(now_us)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let level: i64 = r.try_get("escalation_level")?;
    let escalated_at: Option<i64> = r.try_get("escalated_at")?;
    let previous_next: Option<i64> = r.try_get("next_escalation_at")?;
    let deadline = crate::ts(r.try_get("deadline")?);
    let unit_id: String = r.try_get("unit_id")?;
    let state: String = r.try_get("state")?;
    // A new deadline (an extension, a re-dispatch) resets the level to 0,
    // so warnings start again at the liaison.
    let first = escalated_at.is_none() || level == 0;
    let new_level = if first {
        LIAISON
    } else if level == LIAISON
        && escalated_at.is_some_and(|t| now >= crate::ts(t) + policy.head_after)
    {
        HEAD
    } else {
        level
    };
    let wait = if new_level == LIAISON {
        policy.head_after
    } else {
        policy.repeat
    };
    let next = now + wait;
    let n = sqlx::query(
        "UPDATE case_record SET escalation_level = $1, escalated_at = COALESCE(escalated_at, $2), \
         next_escalation_at = $3 WHERE id = $4 AND COALESCE(next_escalation_at, -1) = $5",
    )
    .bind(new_level)
    .bind(now_us)
    .bind(next.as_microsecond())
    .bind(id)
    .bind(previous_next.unwrap_or(-1))
    .execute(&mut *conn)
    .await?;
    if n.rows_affected() != 1 {
        return Ok(None);
    }
    let mut contacts = vec![Contact {
        role: "liaison",
        name: r.try_get("liaison_name")?,
        phone: r.try_get("liaison_phone")?,
    }];
    if new_level >= HEAD {
        contacts.push(Contact {
            role: "head",
            name: r.try_get("head_name")?,
            phone: r.try_get("head_phone")?,
        });
    }
    let phones: Vec<String> = contacts.iter().filter_map(|c| c.phone.clone()).collect();
    let recipients = recipients(conn, &unit_id, &phones).await?;
    let (number, description, category, unit_name): (String, String, String, String) = (
        r.try_get("number")?,
        r.try_get("description")?,
        r.try_get("category")?,
        r.try_get("unit_name")?,
    );
    let overdue_hours = (now - deadline).as_hours();
    #[derive(Serialize)]
    struct Note<'a> {
        number: &'a str,
        level: i64,
        overdue_hours: i64,
    }
    let data = serde_json::to_string(&Note {
        number: &number,
        level: new_level,
        overdue_hours,
    })
    .unwrap_or_default();
    for user in &recipients {
        sqlx::query(
            "INSERT INTO notification (id, user_id, kind, case_id, data, created_at, read_at) \
             VALUES ($1, $2, 'case_overdue', $3, $4, $5, NULL)",
        )
        .bind(wenming_domain::new_id().to_string())
        .bind(user)
        .bind(id)
        .bind(&data)
        .bind(now_us)
        .execute(&mut *conn)
        .await?;
    }
    let mut deliveries = 0;
    if policy.webhook {
        let payload = serde_json::to_string(&Payload {
            event: "case.overdue",
            case_id: id,
            number: &number,
            category: &category,
            description: &description,
            unit: &unit_name,
            deadline,
            overdue_hours,
            level: new_level,
            notify: &contacts,
            at: now,
        })
        .unwrap_or_default();
        crate::webhook::enqueue(conn, "case.overdue", &payload, now).await?;
        deliveries = 1;
    }
    let told: Vec<String> = contacts
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c.role,
                c.name.clone().unwrap_or_else(|| "—".into())
            )
        })
        .collect();
    let ctx = Ctx::system("escalation");
    sqlx::query(
        "INSERT INTO case_event (id, case_id, step, from_state, to_state, actor_id, actor_name, note, data, at) \
         VALUES ($1, $2, 'escalate', $3, $3, NULL, $4, $5, $6, $7)",
    )
    .bind(wenming_domain::new_id().to_string())
    .bind(id)
    .bind(&state)
    .bind(&ctx.actor_name)
    .bind(told.join(", "))
    .bind(&data)
    .bind(now_us)
    .execute(&mut *conn)
    .await?;
    #[derive(Serialize)]
    struct Level {
        escalation_level: i64,
    }
    audit::changed(
        conn,
        &ctx,
        "escalate",
        "case",
        id,
        &Level {
            escalation_level: level,
        },
        &Level {
            escalation_level: new_level,
        },
    )
    .await?;
    Ok(Some((recipients.len(), deliveries)))
}

/// The unit's active accounts whose phone is a warned contact's; when none
/// is (contacts often have no account), every active account of the unit,
/// so the warning is seen in the app by someone who can act.
async fn recipients(
    conn: &mut AnyConnection,
    unit_id: &str,
    phones: &[String],
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT u.id, u.phone FROM app_user u JOIN role_grant g ON g.user_id = u.id \
         WHERE g.role = 'unit_staff' AND g.scope_kind = 'unit' AND g.scope_id = $1 AND u.active = 1 ORDER BY u.id",
    )
    .bind(unit_id)
    .fetch_all(&mut *conn)
    .await?;
    let all: Vec<(String, Option<String>)> = rows
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("phone")?)))
        .collect::<Result<_, StoreError>>()?;
    let matched: Vec<String> = all
        .iter()
        .filter(|(_, p)| p.as_ref().is_some_and(|p| phones.contains(p)))
        .map(|(id, _)| id.clone())
        .collect();
    Ok(if matched.is_empty() {
        all.into_iter().map(|(id, _)| id).collect()
    } else {
        matched
    })
}

/// A notification for the person it was sent to.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub number: Option<String>,
    /// For a duplicate's reporter: the original's number.
    pub original: Option<String>,
    pub level: i64,
    pub overdue_hours: i64,
    /// The verifier's or the office's reason, or the request's.
    pub reason: Option<String>,
    /// The request it is about: extend, park or return.
    pub ask: Option<String>,
    /// The office's decision on it.
    pub approved: Option<bool>,
    /// The deadline set (on dispatch, or an extension granted).
    pub deadline: Option<Timestamp>,
    /// The unit that handled or asked.
    pub unit: Option<String>,
    /// For a material returned: the requirement, and the material's title.
    pub requirement: Option<Uuid>,
    pub title: Option<String>,
    /// For a requirement overdue: the due date it missed.
    pub due_on: Option<String>,
    pub created_at: Timestamp,
    pub read: bool,
}

pub async fn notifications(
    store: &Store,
    user: Uuid,
    limit: i64,
) -> Result<Vec<Notification>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, case_id, data, created_at, read_at FROM notification WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(user.to_string())
    .bind(limit.clamp(1, 200))
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let data: String = r.try_get("data")?;
            let v: serde_json::Value = crate::error::stored_json("notification data", &data)?;
            let case_id: Option<String> = r.try_get("case_id")?;
            let read_at: Option<i64> = r.try_get("read_at")?;
            Ok(Notification {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                kind: r.try_get("kind")?,
                case_id: case_id.as_deref().map(parse_uuid).transpose()?,
                number: v["number"].as_str().map(str::to_string),
                original: v["original"].as_str().map(str::to_string),
                level: v["level"].as_i64().unwrap_or(0),
                overdue_hours: v["overdue_hours"].as_i64().unwrap_or(0),
                reason: v["reason"].as_str().map(str::to_string),
                ask: v["ask"].as_str().map(str::to_string),
                approved: v["approved"].as_bool(),
                deadline: v["deadline"]
                    .as_str()
                    .and_then(|d| d.parse::<Timestamp>().ok()),
                unit: v["unit"].as_str().map(str::to_string),
                requirement: v["requirement"]
                    .as_str()
                    .and_then(|r| Uuid::parse_str(r).ok()),
                title: v["title"].as_str().map(str::to_string),
                due_on: v["due_on"].as_str().map(str::to_string),
                created_at: crate::ts(r.try_get("created_at")?),
                read: read_at.is_some(),
            })
        })
        .collect()
}

pub async fn unread(store: &Store, user: Uuid) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notification WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user.to_string())
    .fetch_one(store.reader())
    .await?)
}

/// What a notification is about: its case, or a material requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    Case(Uuid),
    Requirement(Uuid),
    Nothing,
}

/// Marks one of this person's notifications read and gives what it is
/// about. Someone else's is not found.
pub async fn open(store: &Store, user: Uuid, id: Uuid) -> Result<About, StoreError> {
    mark_read(store, user, Some(id)).await?;
    let row = sqlx::query("SELECT case_id, data FROM notification WHERE id = $1 AND user_id = $2")
        .bind(id.to_string())
        .bind(user.to_string())
        .fetch_one(store.reader())
        .await?;
    let case: Option<String> = row.try_get("case_id")?;
    if let Some(c) = case {
        return Ok(About::Case(parse_uuid(&c)?));
    }
    let data: String = row.try_get("data")?;
    let v: serde_json::Value = crate::error::stored_json("notification data", &data)?;
    Ok(v["requirement"]
        .as_str()
        .and_then(|r| Uuid::parse_str(r).ok())
        .map_or(About::Nothing, About::Requirement))
}

/// Marks one (or, with None, all) of this person's notifications read.
/// Someone else's is not found.
pub async fn mark_read(store: &Store, user: Uuid, id: Option<Uuid>) -> Result<u64, StoreError> {
    let now = crate::now_micros();
    let n = match id {
        Some(id) => {
            let n = sqlx::query(
                "UPDATE notification SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3",
            )
            .bind(now)
            .bind(id.to_string())
            .bind(user.to_string())
            .execute(store.writer())
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            n
        }
        None => sqlx::query(
            "UPDATE notification SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
        )
        .bind(now)
        .bind(user.to_string())
        .execute(store.writer())
        .await?
        .rows_affected(),
    };
    Ok(n)
}
