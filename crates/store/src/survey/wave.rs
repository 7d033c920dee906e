//! Survey waves: a published questionnaire put to the communities covered
//! over a period, with the sample plan's quotas.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};
use wenming_domain::survey::plan::plan;
use wenming_domain::survey::{AgeBand, Sex};

wenming_domain::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum WaveState {
        Draft = "draft",
        Open = "open",
        Closed = "closed",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Wave {
    pub id: Uuid,
    pub questionnaire_id: Uuid,
    pub name: String,
    pub opens_on: jiff::civil::Date,
    pub closes_on: jiff::civil::Date,
    pub state: WaveState,
    /// Target margin at 95%, in thousandths.
    pub margin_permille: i64,
    pub min_n: i64,
    pub clustered: bool,
    pub regions: Vec<Uuid>,
    pub version: i64,
    #[serde(skip)]
    pub salt: String,
}

impl Wave {
    /// Open, and today inside its period.
    pub fn takes_answers(&self, today: jiff::civil::Date) -> bool {
        self.state == WaveState::Open && self.opens_on <= today && today <= self.closes_on
    }
}

#[derive(Debug, Clone)]
pub struct NewWave {
    pub questionnaire_id: Uuid,
    pub name: String,
    pub opens_on: jiff::civil::Date,
    pub closes_on: jiff::civil::Date,
    pub margin_permille: i64,
    pub min_n: i64,
    pub clustered: bool,
    /// Each community gets the margin on its own (to rank communities).
    pub per_community: bool,
    pub regions: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quota {
    pub region_id: Uuid,
    pub region_name: String,
    pub age_band: AgeBand,
    pub sex: Sex,
    pub population: i64,
    pub target: i64,
    pub filled: i64,
}

const COLUMNS: &str = "id, questionnaire_id, name, opens_on, closes_on, state, margin_permille, min_n, \
                       clustered, salt, version";

async fn from_row(store: &Store, r: &AnyRow) -> Result<Wave, StoreError> {
    let id: String = r.try_get("id")?;
    let state: String = r.try_get("state")?;
    let date = |k: &str| -> Result<jiff::civil::Date, StoreError> {
        let s: String = r.try_get(k)?;
        s.parse()
            .map_err(|_| StoreError::Corrupt(format!("wave {id} {k} {s}")))
    };
    let regions: Vec<String> = sqlx::query_scalar(
        "SELECT region_id FROM wave_region WHERE wave_id = $1 ORDER BY region_id",
    )
    .bind(&id)
    .fetch_all(store.reader())
    .await?;
    Ok(Wave {
        id: parse_uuid(&id)?,
        questionnaire_id: parse_uuid(&r.try_get::<String, _>("questionnaire_id")?)?,
        name: r.try_get("name")?,
        opens_on: date("opens_on")?,
        closes_on: date("closes_on")?,
        state: WaveState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("wave state {state}")))?,
        margin_permille: r.try_get("margin_permille")?,
        min_n: r.try_get("min_n")?,
        clustered: r.try_get::<i64, _>("clustered")? != 0,
        salt: r.try_get("salt")?,
        regions: regions
            .iter()
            .map(|s| parse_uuid(s))
            .collect::<Result<_, _>>()?,
        version: r.try_get("version")?,
    })
}

/// Every wave, newest first.
pub async fn waves(store: &Store) -> Result<Vec<Wave>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM survey_wave ORDER BY opens_on DESC, id DESC"
    ))
    .fetch_all(store.reader())
    .await?;
    let mut out = vec![];
    for r in &rows {
        out.push(from_row(store, r).await?);
    }
    Ok(out)
}

pub async fn wave(store: &Store, id: Uuid) -> Result<Wave, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM survey_wave WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(store, &row).await
}

/// How many questionnaires the wave has stored: every one took a place in
/// a stratum.
pub async fn answered(store: &Store, wave_id: Uuid) -> Result<i64, StoreError> {
    let n: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(filled), 0) AS BIGINT) FROM survey_quota WHERE wave_id = $1",
    )
    .bind(wave_id.to_string())
    .fetch_one(store.reader())
    .await?;
    Ok(n.unwrap_or(0))
}

/// The wave's strata with their targets and how full they are.
pub async fn quotas(store: &Store, wave_id: Uuid) -> Result<Vec<Quota>, StoreError> {
    let rows = sqlx::query(
        "SELECT q.region_id, r.name, q.age_band, q.sex, q.population, q.target, q.filled \
         FROM survey_quota q JOIN region r ON r.id = q.region_id WHERE q.wave_id = $1 \
         ORDER BY r.code, q.age_band, q.sex",
    )
    .bind(wave_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let a: String = r.try_get("age_band")?;
            let s: String = r.try_get("sex")?;
            Ok(Quota {
                region_id: parse_uuid(&r.try_get::<String, _>("region_id")?)?,
                region_name: r.try_get("name")?,
                age_band: AgeBand::parse(&a)
                    .ok_or_else(|| StoreError::Corrupt(format!("age band {a}")))?,
                sex: Sex::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("sex {s}")))?,
                population: r.try_get("population")?,
                target: r.try_get("target")?,
                filled: r.try_get("filled")?,
            })
        })
        .collect()
}

/// A wave of a published questionnaire over communities with a
/// population, its quotas planned for the target margin.
pub async fn create_wave(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSurveys>,
    w: &NewWave,
) -> Result<Wave, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut e = wenming_domain::FieldErrors::new();
    if w.name.trim().is_empty() {
        e.add("name", "required");
    }
    if w.closes_on < w.opens_on {
        e.add("closes_on", "before_start");
    }
    if !(10..=200).contains(&w.margin_permille) {
        e.add("margin", "margin_out_of_range");
    }
    if !(1..=10_000).contains(&w.min_n) {
        e.add("min_n", "invalid_number");
    }
    if w.regions.is_empty() {
        e.add("regions", "required");
    }
    let q = super::questionnaire(store, w.questionnaire_id).await;
    match &q {
        Err(StoreError::NotFound) => e.add("questionnaire_id", "invalid_choice"),
        Ok(q) if q.published_at.is_none() => e.add("questionnaire_id", "not_published"),
        _ => {}
    }
    let mut communities = vec![];
    for id in &w.regions {
        let row = sqlx::query("SELECT level, population FROM region WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(store.reader())
            .await?;
        match row {
            None => e.add("regions", "invalid_choice"),
            Some(r) => {
                let level: String = r.try_get("level")?;
                let pop: Option<i64> = r.try_get("population")?;
                match pop {
                    _ if level != "community" => e.add("regions", "not_a_community"),
                    Some(p) if p > 0 => communities.push((*id, p as u64)),
                    _ => e.add("regions", "no_population"),
                }
            }
        }
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }
    q?;
    communities.sort();
    communities.dedup();
    let p = plan(
        w.margin_permille as f64 / 1000.0,
        &communities,
        w.per_community,
    );
    let id = wenming_domain::new_id();
    let salt = crate::accounts::random_hex(16);
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO survey_wave (id, questionnaire_id, name, opens_on, closes_on, state, margin_permille, \
         min_n, clustered, salt, created_at, version) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, 1)",
    )
    .bind(id.to_string())
    .bind(w.questionnaire_id.to_string())
    .bind(w.name.trim())
    .bind(w.opens_on.to_string())
    .bind(w.closes_on.to_string())
    .bind(w.margin_permille)
    .bind(w.min_n)
    .bind(i64::from(w.clustered))
    .bind(&salt)
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    for (r, _) in &communities {
        sqlx::query("INSERT INTO wave_region (wave_id, region_id) VALUES ($1, $2)")
            .bind(id.to_string())
            .bind(r.to_string())
            .execute(&mut *tx)
            .await?;
    }
    for s in &p.strata {
        sqlx::query(
            "INSERT INTO survey_quota (wave_id, region_id, age_band, sex, population, target, filled) \
             VALUES ($1, $2, $3, $4, $5, $6, 0)",
        )
        .bind(id.to_string())
        .bind(s.region_id.to_string())
        .bind(s.age_band.code())
        .bind(s.sex.code())
        .bind(s.population as i64)
        .bind(s.target as i64)
        .execute(&mut *tx)
        .await?;
    }
    let made = Wave {
        id,
        questionnaire_id: w.questionnaire_id,
        name: w.name.trim().to_string(),
        opens_on: w.opens_on,
        closes_on: w.closes_on,
        state: WaveState::Draft,
        margin_permille: w.margin_permille,
        min_n: w.min_n,
        clustered: w.clustered,
        regions: communities.iter().map(|c| c.0).collect(),
        version: 1,
        salt,
    };
    audit::created(&mut tx, ctx, "survey_wave", &id.to_string(), &made).await?;
    tx.commit().await?;
    Ok(made)
}

/// Opens a draft wave, or closes an open one; a closed wave stays closed.
pub async fn set_state(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageSurveys>,
    id: Uuid,
    expected_version: i64,
    to: WaveState,
) -> Result<Wave, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = wave(store, id).await?;
    let allowed = matches!(
        (before.state, to),
        (WaveState::Draft, WaveState::Open) | (WaveState::Open, WaveState::Closed)
    );
    if !allowed {
        return Err(StoreError::invalid("state", "invalid_transition"));
    }
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE survey_wave SET state = $1, version = version + 1 WHERE id = $2 AND version = $3",
    )
    .bind(to.code())
    .bind(id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Wave {
        state: to,
        version: expected_version + 1,
        ..before.clone()
    };
    let action = if to == WaveState::Open {
        "open"
    } else {
        "close"
    };
    audit::changed(
        &mut tx,
        ctx,
        action,
        "survey_wave",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
