//! Questionnaires, survey waves and their anonymous answers. A published
//! questionnaire is locked: a change to it is the series' next version.
//! Answers are counted into `survey_rate_tally` and `survey_answer_tally`
//! in the transaction that stores them, so results never scan the answers.

mod contact;
mod response;
mod results;
mod wave;

pub use contact::{dispositions, record_contact, record_contact_once};
pub use response::{
    Channel, NewResponse, submit, submit_batch, submit_once, submit_public, tally_value,
};
pub use results::{AnswerRow, Tallies, answers, tallies};
pub use wave::{
    NewWave, Quota, Wave, WaveState, answered, create_wave, quotas, set_state, wave, waves,
};

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};
use wenming_domain::survey::QuestionnaireDoc;

#[derive(Debug, Clone, Serialize)]
pub struct Questionnaire {
    pub id: Uuid,
    /// Shared by a questionnaire's versions.
    pub series_id: Uuid,
    pub version_no: i64,
    pub title: String,
    pub doc: QuestionnaireDoc,
    pub published_at: Option<jiff::Timestamp>,
    pub version: i64,
}

const COLUMNS: &str = "id, series_id, version_no, title, doc, published_at, version";

fn from_row(r: &AnyRow) -> Result<Questionnaire, StoreError> {
    let doc: String = r.try_get("doc")?;
    Ok(Questionnaire {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        series_id: parse_uuid(&r.try_get::<String, _>("series_id")?)?,
        version_no: r.try_get("version_no")?,
        title: r.try_get("title")?,
        doc: serde_json::from_str(&doc)
            .map_err(|e| StoreError::Corrupt(format!("questionnaire design: {e}")))?,
        published_at: r.try_get::<Option<i64>, _>("published_at")?.map(ts),
        version: r.try_get("version")?,
    })
}

/// Every questionnaire, newest version of each series first.
pub async fn questionnaires(store: &Store) -> Result<Vec<Questionnaire>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM questionnaire ORDER BY title, series_id, version_no DESC"
    ))
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn questionnaire(store: &Store, id: Uuid) -> Result<Questionnaire, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM questionnaire WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(store.reader())
    .await?
    .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// A new questionnaire (a series of its own), as a draft.
pub async fn create(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSurveys>,
    doc: &QuestionnaireDoc,
) -> Result<Questionnaire, StoreError> {
    StoreError::unless_city_wide(permit)?;
    doc.validate().map_err(StoreError::Invalid)?;
    let mut tx = store.begin().await?;
    let id = wenming_domain::new_id();
    let q = insert(&mut tx, id, id, 1, doc).await?;
    audit::created(&mut tx, ctx, "questionnaire", &id.to_string(), &q).await?;
    tx.commit().await?;
    Ok(q)
}

async fn insert(
    tx: &mut sqlx::AnyConnection,
    id: Uuid,
    series: Uuid,
    version_no: i64,
    doc: &QuestionnaireDoc,
) -> Result<Questionnaire, StoreError> {
    let json = serde_json::to_string(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO questionnaire (id, series_id, version_no, title, doc, published_at, created_at, version) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6, 1)",
    )
    .bind(id.to_string())
    .bind(series.to_string())
    .bind(version_no)
    .bind(doc.title.trim())
    .bind(json)
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    Ok(Questionnaire {
        id,
        series_id: series,
        version_no,
        title: doc.title.trim().to_string(),
        doc: doc.clone(),
        published_at: None,
        version: 1,
    })
}

/// Replaces a draft's design. A published questionnaire is locked: the
/// change is refused and `next_version` is the way to make it.
pub async fn update(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSurveys>,
    id: Uuid,
    expected_version: i64,
    doc: &QuestionnaireDoc,
) -> Result<Questionnaire, StoreError> {
    StoreError::unless_city_wide(permit)?;
    doc.validate().map_err(StoreError::Invalid)?;
    let before = questionnaire(store, id).await?;
    if before.published_at.is_some() {
        return Err(StoreError::invalid("questionnaire", "published_locked"));
    }
    let json = serde_json::to_string(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE questionnaire SET title = $1, doc = $2, version = version + 1 \
         WHERE id = $3 AND version = $4 AND published_at IS NULL",
    )
    .bind(doc.title.trim())
    .bind(json)
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Questionnaire {
        title: doc.title.trim().to_string(),
        doc: doc.clone(),
        version: expected_version + 1,
        ..before.clone()
    };
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "questionnaire",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Locks a draft so that waves may use it.
pub async fn publish(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSurveys>,
    id: Uuid,
    expected_version: i64,
) -> Result<Questionnaire, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = questionnaire(store, id).await?;
    if before.published_at.is_some() {
        return Err(StoreError::invalid("questionnaire", "already_published"));
    }
    let now = now_micros();
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE questionnaire SET published_at = $1, version = version + 1 \
         WHERE id = $2 AND version = $3 AND published_at IS NULL",
    )
    .bind(now)
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Questionnaire {
        published_at: Some(ts(now)),
        version: expected_version + 1,
        ..before.clone()
    };
    audit::changed(
        &mut tx,
        ctx,
        "publish",
        "questionnaire",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A draft of the series' next version, starting from `doc` (or the
/// published design when none is given). One draft a series at a time.
pub async fn next_version(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSurveys>,
    id: Uuid,
    expected_version: i64,
    doc: Option<&QuestionnaireDoc>,
) -> Result<Questionnaire, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let from = questionnaire(store, id).await?;
    // Made from the version the office was looking at, or not at all.
    if from.version != expected_version {
        return Err(StoreError::Conflict);
    }
    let doc = doc.unwrap_or(&from.doc);
    doc.validate().map_err(StoreError::Invalid)?;
    let mut tx = store.begin().await?;
    let draft: Option<String> = sqlx::query_scalar(
        "SELECT id FROM questionnaire WHERE series_id = $1 AND published_at IS NULL",
    )
    .bind(from.series_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if draft.is_some() {
        return Err(StoreError::invalid("questionnaire", "draft_exists"));
    }
    let last: i64 =
        sqlx::query_scalar("SELECT MAX(version_no) FROM questionnaire WHERE series_id = $1")
            .bind(from.series_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    let new_id = wenming_domain::new_id();
    let q = insert(&mut tx, new_id, from.series_id, last + 1, doc)
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict
            } else {
                e
            }
        })?;
    audit::created(&mut tx, ctx, "questionnaire", &new_id.to_string(), &q).await?;
    tx.commit().await?;
    Ok(q)
}
