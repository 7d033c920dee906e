//! 民评官 rounds, their anonymous ratings and the comments the office
//! moderates. A rating is stored in one transaction with the device's mark
//! (for the public link) and its comment, and nothing links the three.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};
use wenming_domain::rating::{CommentState, RoundInput, Scale, check_comment};

pub use crate::survey::Channel;

wenming_domain::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RoundState {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub id: Uuid,
    pub name: String,
    pub scale: Scale,
    pub opens_on: jiff::civil::Date,
    pub closes_on: jiff::civil::Date,
    pub state: RoundState,
    pub min_n: i64,
    pub units: Vec<Uuid>,
    pub version: i64,
    #[serde(skip)]
    pub salt: String,
}

impl Round {
    /// Open, and today inside its period.
    pub fn takes_ratings(&self, today: jiff::civil::Date) -> bool {
        self.state == RoundState::Open && self.opens_on <= today && today <= self.closes_on
    }
}

/// A unit a round rates, with what scoping and pages need.
#[derive(Debug, Clone, Serialize)]
pub struct RatedUnit {
    pub id: Uuid,
    pub name: String,
    #[serde(skip)]
    pub region_path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub body: String,
    pub state: CommentState,
    pub submitted_on: jiff::civil::Date,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct NewRating {
    pub round_id: Uuid,
    pub unit_id: Uuid,
    /// Already read on the round's scale (`Scale::read`); checked again.
    pub value: i64,
    pub comment: String,
    pub channel: Channel,
}

const COLUMNS: &str = "id, name, scale, opens_on, closes_on, state, min_n, salt, version";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("rating {what} {v}"))
}

async fn from_row(store: &Store, r: &AnyRow) -> Result<Round, StoreError> {
    let id: String = r.try_get("id")?;
    let date = |k: &str| -> Result<jiff::civil::Date, StoreError> {
        let s: String = r.try_get(k)?;
        s.parse().map_err(|_| corrupt(k, &s))
    };
    let scale: String = r.try_get("scale")?;
    let state: String = r.try_get("state")?;
    let units: Vec<String> = sqlx::query_scalar(
        "SELECT ru.unit_id FROM rating_round_unit ru JOIN unit u ON u.id = ru.unit_id \
         WHERE ru.round_id = $1 ORDER BY u.name",
    )
    .bind(&id)
    .fetch_all(store.reader())
    .await?;
    Ok(Round {
        id: parse_uuid(&id)?,
        name: r.try_get("name")?,
        scale: Scale::parse(&scale).ok_or_else(|| corrupt("scale", &scale))?,
        opens_on: date("opens_on")?,
        closes_on: date("closes_on")?,
        state: RoundState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        min_n: r.try_get("min_n")?,
        salt: r.try_get("salt")?,
        units: units
            .iter()
            .map(|s| parse_uuid(s))
            .collect::<Result<_, _>>()?,
        version: r.try_get("version")?,
    })
}

/// Every round, newest first.
pub async fn rounds(store: &Store) -> Result<Vec<Round>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM rating_round ORDER BY opens_on DESC, id DESC"
    ))
    .fetch_all(store.reader())
    .await?;
    let mut out = vec![];
    for r in &rows {
        out.push(from_row(store, r).await?);
    }
    Ok(out)
}

pub async fn round(store: &Store, id: Uuid) -> Result<Round, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM rating_round WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(store, &row).await
}

/// The round's units by name, with their regions' paths.
pub async fn units(store: &Store, round_id: Uuid) -> Result<Vec<RatedUnit>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, u.name, r.path FROM rating_round_unit ru JOIN unit u ON u.id = ru.unit_id \
         JOIN region r ON r.id = u.region_id WHERE ru.round_id = $1 ORDER BY u.name",
    )
    .bind(round_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(RatedUnit {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                name: r.try_get("name")?,
                region_path: r.try_get("path")?,
            })
        })
        .collect()
}

pub async fn create_round(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRatings>,
    input: &RoundInput,
) -> Result<Round, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut e = match input.validate() {
        Ok(()) => wenming_domain::FieldErrors::new(),
        Err(e) => e,
    };
    let mut units = input.units.clone();
    units.sort();
    units.dedup();
    for u in &units {
        let active: Option<i64> = sqlx::query_scalar("SELECT active FROM unit WHERE id = $1")
            .bind(u.to_string())
            .fetch_optional(store.reader())
            .await?;
        if active != Some(1) {
            e.add("units", "invalid_choice");
            break;
        }
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }
    let id = wenming_domain::new_id();
    let salt = crate::accounts::random_hex(16);
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO rating_round (id, name, scale, opens_on, closes_on, state, min_n, salt, created_at, version) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, 1)",
    )
    .bind(id.to_string())
    .bind(input.name.trim())
    .bind(input.scale.code())
    .bind(input.opens_on.to_string())
    .bind(input.closes_on.to_string())
    .bind(input.min_n)
    .bind(&salt)
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    for u in &units {
        sqlx::query("INSERT INTO rating_round_unit (round_id, unit_id) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(u.to_string())
            .execute(&mut *tx)
            .await?;
    }
    let made = Round {
        id,
        name: input.name.trim().to_string(),
        scale: input.scale,
        opens_on: input.opens_on,
        closes_on: input.closes_on,
        state: RoundState::Draft,
        min_n: input.min_n,
        units,
        version: 1,
        salt,
    };
    audit::created(&mut tx, ctx, "rating_round", &id.to_string(), &made).await?;
    tx.commit().await?;
    Ok(made)
}

/// Opens a draft round, or closes an open one; a closed round stays closed.
pub async fn set_state(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRatings>,
    id: Uuid,
    expected_version: i64,
    to: RoundState,
) -> Result<Round, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = round(store, id).await?;
    if !matches!(
        (before.state, to),
        (RoundState::Draft, RoundState::Open) | (RoundState::Open, RoundState::Closed)
    ) {
        return Err(StoreError::invalid("state", "invalid_transition"));
    }
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE rating_round SET state = $1, version = version + 1 WHERE id = $2 AND version = $3",
    )
    .bind(to.code())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Round {
        state: to,
        version: expected_version + 1,
        ..before.clone()
    };
    let action = if to == RoundState::Open {
        "open"
    } else {
        "close"
    };
    audit::changed(
        &mut tx,
        ctx,
        action,
        "rating_round",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Stores one rating (and its comment, pending moderation). `device` is
/// the public link's salted cookie hash: one rating of a unit per device
/// and round. The caller holds an interviewer's grant, or the system's
/// for the public link after its own rate check.
pub async fn rate(
    store: &Store,
    _permit: &Permit<may::AnswerSurveys>,
    r: &NewRating,
    device: Option<&str>,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    let round = round(store, r.round_id).await?;
    if !round.takes_ratings(today) {
        return Err(StoreError::invalid("round", "round_closed"));
    }
    if !round.units.contains(&r.unit_id) {
        return Err(StoreError::invalid("unit_id", "invalid_choice"));
    }
    round.scale.check(r.value).map_err(StoreError::Invalid)?;
    let comment = check_comment(&r.comment).map_err(StoreError::Invalid)?;
    let mut tx = store.begin().await?;
    if let Some(hash) = device {
        let put = sqlx::query(
            "INSERT INTO rating_device (round_id, unit_id, device_hash) VALUES ($1, $2, $3)",
        )
        .bind(r.round_id.to_string())
        .bind(r.unit_id.to_string())
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from);
        match put {
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::invalid("device", "already_answered"));
            }
            other => other?,
        };
    }
    // The round's state is read again under the write: one closed a
    // moment ago takes nothing more.
    let put = sqlx::query(
        "INSERT INTO unit_rating (id, round_id, unit_id, value, channel, rated_on) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS \
         (SELECT 1 FROM rating_round WHERE id = $2 AND state = 'open')",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(r.round_id.to_string())
    .bind(r.unit_id.to_string())
    .bind(r.value)
    .bind(r.channel.code())
    .bind(today.to_string())
    .execute(&mut *tx)
    .await?;
    if put.rows_affected() != 1 {
        return Err(StoreError::invalid("round", "round_closed"));
    }
    if let Some(body) = comment {
        sqlx::query(
            "INSERT INTO rating_comment (id, round_id, unit_id, body, state, submitted_on, version) \
             VALUES ($1, $2, $3, $4, 'pending', $5, 1)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(r.round_id.to_string())
        .bind(r.unit_id.to_string())
        .bind(body)
        .bind(today.to_string())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How many gave each value, per unit: (unit, value, n).
pub async fn counts(store: &Store, round_id: Uuid) -> Result<Vec<(Uuid, i64, u64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT unit_id, value, COUNT(*) AS n FROM unit_rating WHERE round_id = $1 \
         GROUP BY unit_id, value",
    )
    .bind(round_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_uuid(&r.try_get::<String, _>("unit_id")?)?,
                r.try_get::<i64, _>("value")?,
                r.try_get::<i64, _>("n")?.max(0) as u64,
            ))
        })
        .collect()
}

/// The round's comments in one state, oldest first.
pub async fn comments(
    store: &Store,
    round_id: Uuid,
    state: CommentState,
) -> Result<Vec<Comment>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, unit_id, body, state, submitted_on, version FROM rating_comment \
         WHERE round_id = $1 AND state = $2 ORDER BY submitted_on, id",
    )
    .bind(round_id.to_string())
    .bind(state.code())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(comment_from_row).collect()
}

fn comment_from_row(r: &AnyRow) -> Result<Comment, StoreError> {
    let state: String = r.try_get("state")?;
    let day: String = r.try_get("submitted_on")?;
    Ok(Comment {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        unit_id: parse_uuid(&r.try_get::<String, _>("unit_id")?)?,
        body: r.try_get("body")?,
        state: CommentState::parse(&state).ok_or_else(|| corrupt("comment state", &state))?,
        submitted_on: day.parse().map_err(|_| corrupt("comment day", &day))?,
        version: r.try_get("version")?,
    })
}

/// Approves or rejects a comment; a decision can be changed later (an
/// approved comment found to name a person is rejected after all).
pub async fn moderate(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRatings>,
    comment_id: Uuid,
    expected_version: i64,
    to: CommentState,
) -> Result<Comment, StoreError> {
    StoreError::unless_city_wide(permit)?;
    if to == CommentState::Pending {
        return Err(StoreError::invalid("state", "invalid_transition"));
    }
    let row = sqlx::query(
        "SELECT id, unit_id, body, state, submitted_on, version FROM rating_comment WHERE id = $1",
    )
    .bind(comment_id.to_string())
    .fetch_optional(store.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    let before = comment_from_row(&row)?;
    if before.state == to {
        return Err(StoreError::invalid("state", "invalid_transition"));
    }
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE rating_comment SET state = $1, moderated_by = $2, moderated_at = $3, \
         version = version + 1 WHERE id = $4 AND version = $5",
    )
    .bind(to.code())
    .bind(permit.user_id().map(|u| u.to_string()))
    .bind(now_micros())
    .bind(comment_id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Comment {
        state: to,
        version: expected_version + 1,
        ..before.clone()
    };
    let action = if to == CommentState::Approved {
        "approve"
    } else {
        "reject"
    };
    audit::changed(
        &mut tx,
        ctx,
        action,
        "rating_comment",
        &comment_id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
