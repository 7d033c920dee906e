//! What a wave's results are computed from: its tally, its strata's
//! populations and where each community lies.

use crate::org::parse_uuid;
use crate::{Store, StoreError};
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::survey::results::{AnswerTally, RateTally, StratumPopulation};
use wenming_domain::survey::{AgeBand, Group, Sex};

/// The inputs of `wenming_domain::survey::results::compute`.
#[derive(Debug, Clone)]
pub struct Tallies {
    pub rates: Vec<RateTally>,
    pub answers: Vec<AnswerTally>,
    pub strata: Vec<StratumPopulation>,
    /// Each community's street, district and city.
    pub above: HashMap<Uuid, Vec<Uuid>>,
}

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("survey {what} {v}"))
}

pub async fn tallies(store: &Store, wave_id: Uuid) -> Result<Tallies, StoreError> {
    let w = wave_id.to_string();
    let rows = sqlx::query(
        "SELECT question_code, region_id, respondent_group, age_band, sex, n, yes \
         FROM survey_rate_tally WHERE wave_id = $1",
    )
    .bind(&w)
    .fetch_all(store.reader())
    .await?;
    let mut rates = Vec::with_capacity(rows.len());
    for r in &rows {
        let g: String = r.try_get("respondent_group")?;
        let a: String = r.try_get("age_band")?;
        let s: String = r.try_get("sex")?;
        rates.push(RateTally {
            question: r.try_get("question_code")?,
            community: parse_uuid(&r.try_get::<String, _>("region_id")?)?,
            group: Group::parse(&g).ok_or_else(|| bad("group", &g))?,
            age_band: AgeBand::parse(&a).ok_or_else(|| bad("age band", &a))?,
            sex: Sex::parse(&s).ok_or_else(|| bad("sex", &s))?,
            n: r.try_get::<i64, _>("n")?.max(0) as u64,
            yes: r.try_get::<i64, _>("yes")?.max(0) as u64,
        });
    }
    let rows = sqlx::query(
        "SELECT question_code, region_id, value, n FROM survey_answer_tally WHERE wave_id = $1",
    )
    .bind(&w)
    .fetch_all(store.reader())
    .await?;
    let mut answers = Vec::with_capacity(rows.len());
    for r in &rows {
        answers.push(AnswerTally {
            question: r.try_get("question_code")?,
            community: parse_uuid(&r.try_get::<String, _>("region_id")?)?,
            value: r.try_get("value")?,
            n: r.try_get::<i64, _>("n")?.max(0) as u64,
        });
    }
    let strata_rows = sqlx::query(
        "SELECT q.region_id, q.age_band, q.sex, q.population, r.path FROM survey_quota q \
         JOIN region r ON r.id = q.region_id WHERE q.wave_id = $1",
    )
    .bind(&w)
    .fetch_all(store.reader())
    .await?;
    let mut strata = vec![];
    let mut above = HashMap::new();
    for r in &strata_rows {
        let community = parse_uuid(&r.try_get::<String, _>("region_id")?)?;
        let a: String = r.try_get("age_band")?;
        let s: String = r.try_get("sex")?;
        strata.push(StratumPopulation {
            community,
            age_band: AgeBand::parse(&a).ok_or_else(|| bad("age band", &a))?,
            sex: Sex::parse(&s).ok_or_else(|| bad("sex", &s))?,
            population: r.try_get::<i64, _>("population")?.max(0) as u64,
        });
        let path: String = r.try_get("path")?;
        let ancestors: Vec<Uuid> = path
            .split('/')
            .filter(|p| !p.is_empty())
            .filter_map(|p| Uuid::parse_str(p).ok())
            .filter(|id| *id != community)
            .collect();
        above.insert(community, ancestors);
    }
    Ok(Tallies {
        rates,
        answers,
        strata,
        above,
    })
}

/// One stored questionnaire as the export shows it: where and from whom
/// (the quota fields), how it was taken, and the answers; no id, no day.
#[derive(Debug, Clone)]
pub struct AnswerRow {
    pub region_id: Uuid,
    pub group: Group,
    pub age_band: AgeBand,
    pub sex: Sex,
    pub channel: String,
    pub answers: std::collections::BTreeMap<String, wenming_domain::survey::Answer>,
}

/// A wave's questionnaires in a fixed but meaningless order (by their
/// random ids), for the office's export.
pub async fn answers(store: &Store, wave_id: Uuid) -> Result<Vec<AnswerRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT region_id, respondent_group, age_band, sex, channel, answers FROM survey_response \
         WHERE wave_id = $1 ORDER BY id",
    )
    .bind(wave_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let g: String = r.try_get("respondent_group")?;
            let a: String = r.try_get("age_band")?;
            let s: String = r.try_get("sex")?;
            let answers: String = r.try_get("answers")?;
            Ok(AnswerRow {
                region_id: parse_uuid(&r.try_get::<String, _>("region_id")?)?,
                group: Group::parse(&g).ok_or_else(|| bad("group", &g))?,
                age_band: AgeBand::parse(&a).ok_or_else(|| bad("age band", &a))?,
                sex: Sex::parse(&s).ok_or_else(|| bad("sex", &s))?,
                channel: r.try_get("channel")?,
                answers: serde_json::from_str(&answers)
                    .map_err(|e| bad("answers", &e.to_string()))?,
            })
        })
        .collect()
}
