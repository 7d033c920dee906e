//! Contact attempts that gave no questionnaire (a refusal, nobody home,
//! not eligible ...), counted per community, so that each wave has its
//! response rates: the completes are its interviewers' and clerks' stored
//! questionnaires.

use crate::org::parse_uuid;
use crate::{Store, StoreError};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};
use wenming_domain::survey::Disposition;
use wenming_domain::survey::stats::Dispositions;

/// One contact attempt without a questionnaire.
pub async fn record_contact(
    store: &Store,
    permit: &Permit<may::AnswerSurveys>,
    wave_id: Uuid,
    region_id: Uuid,
    d: Disposition,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    record_contact_once(store, permit, wave_id, region_id, d, None, today).await
}

/// A contact attempt from the phone's outbox under the id the phone gave
/// it: counted once however many times it is sent. Only the id is kept
/// (`survey_contact_sent`), not what it counted.
pub async fn record_contact_once(
    store: &Store,
    _permit: &Permit<may::AnswerSurveys>,
    wave_id: Uuid,
    region_id: Uuid,
    d: Disposition,
    client_id: Option<Uuid>,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    if d == Disposition::Complete {
        // A complete is the questionnaire itself, stored as an answer.
        return Err(StoreError::invalid("disposition", "complete_is_an_answer"));
    }
    let wave = super::wave(store, wave_id).await?;
    if !wave.takes_answers(today) {
        return Err(StoreError::invalid("wave", "wave_closed"));
    }
    if !wave.regions.contains(&region_id) {
        return Err(StoreError::invalid("region_id", "not_in_wave"));
    }
    if client_id.is_some_and(|c| c.get_version() != Some(uuid::Version::Random)) {
        return Err(StoreError::invalid("client_id", "invalid_choice"));
    }
    let mut tx = store.begin().await?;
    if let Some(c) = client_id {
        let sent =
            sqlx::query("INSERT INTO survey_contact_sent (wave_id, client_id) VALUES ($1, $2)")
                .bind(wave_id.to_string())
                .bind(c.to_string())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from);
        match sent {
            // Sent before (a lost reply): already counted.
            Err(e) if e.is_unique_violation() => return Ok(()),
            other => other?,
        };
    }
    sqlx::query(
        "INSERT INTO survey_contact (wave_id, region_id, disposition, n) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (wave_id, region_id, disposition) DO UPDATE SET n = survey_contact.n + 1",
    )
    .bind(wave_id.to_string())
    .bind(region_id.to_string())
    .bind(d.code())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Each community's dispositions: the recorded contacts, and as completes
/// the questionnaires interviewers and clerks stored, counted as they were
/// (the public link has no contacts to count).
pub async fn dispositions(
    store: &Store,
    wave_id: Uuid,
) -> Result<BTreeMap<Uuid, Dispositions>, StoreError> {
    let mut out: BTreeMap<Uuid, Dispositions> = BTreeMap::new();
    let rows =
        sqlx::query("SELECT region_id, disposition, n FROM survey_contact WHERE wave_id = $1")
            .bind(wave_id.to_string())
            .fetch_all(store.reader())
            .await?;
    for r in &rows {
        let d: String = r.try_get("disposition")?;
        let d = Disposition::parse(&d)
            .ok_or_else(|| StoreError::Corrupt(format!("disposition {d}")))?;
        let n: i64 = r.try_get("n")?;
        out.entry(parse_uuid(&r.try_get::<String, _>("region_id")?)?)
            .or_default()
            .add(d, n.max(0) as u64);
    }
    Ok(out)
}
