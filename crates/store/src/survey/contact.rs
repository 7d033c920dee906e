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
    _permit: &Permit<may::AnswerSurveys>,
    wave_id: Uuid,
    region_id: Uuid,
    d: Disposition,
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
    sqlx::query(
        "INSERT INTO survey_contact (wave_id, region_id, disposition, n) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (wave_id, region_id, disposition) DO UPDATE SET n = survey_contact.n + 1",
    )
    .bind(wave_id.to_string())
    .bind(region_id.to_string())
    .bind(d.code())
    .execute(store.writer())
    .await?;
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
