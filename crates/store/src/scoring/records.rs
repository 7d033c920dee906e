//! What the office records beside the measured data: assessments of a
//! standard's method for a year, negative-list events, gates' and past
//! years' scores, and how a standard's survey rate maps to its share.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::{Method, NodeKind};
use wenming_domain::policy::{Permit, may};

/// A statistic against its threshold (a per-capita figure entered yearly).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Statistic {
    pub value: f64,
    pub threshold: f64,
    /// More is better (volunteers per capita) rather than less (accidents).
    pub higher_better: bool,
}

impl Statistic {
    /// The share it earns: all at or beyond the threshold, else in
    /// proportion to how near it comes.
    pub fn share(&self) -> f64 {
        let (v, t) = (self.value.max(0.0), self.threshold.max(0.0));
        let s = if self.higher_better {
            if t == 0.0 { 1.0 } else { v / t }
        } else if v == 0.0 {
            1.0
        } else {
            t / v
        };
        s.clamp(0.0, 1.0)
    }
}

/// The office's assessment of one method of a standard for a year.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub id: Uuid,
    pub standard_id: Uuid,
    pub year: i32,
    pub method: Method,
    pub share: f64,
    pub statistic: Option<Statistic>,
    pub note: String,
    pub evidence_url: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct AssessmentInput {
    pub standard_id: Uuid,
    pub year: i32,
    pub method: Method,
    /// A share given outright, or one derived from a statistic.
    pub share: Option<f64>,
    pub statistic: Option<Statistic>,
    pub note: String,
    pub evidence_url: Option<String>,
    /// The version being replaced; none to record the first.
    pub expected_version: Option<i64>,
}

pub async fn assessments(
    store: &Store,
    framework_id: Uuid,
    year: i32,
) -> Result<Vec<Assessment>, StoreError> {
    let rows = sqlx::query(
        "SELECT a.* FROM score_assessment a JOIN framework_node n ON n.id = a.standard_id \
         WHERE n.framework_id = $1 AND a.year = $2 ORDER BY n.code, a.method",
    )
    .bind(framework_id.to_string())
    .bind(i64::from(year))
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(assessment_from).collect()
}

fn assessment_from(r: &sqlx::any::AnyRow) -> Result<Assessment, StoreError> {
    let method: String = r.try_get("method")?;
    let value: Option<f64> = r.try_get("stat_value")?;
    let threshold: Option<f64> = r.try_get("stat_threshold")?;
    let higher: Option<i64> = r.try_get("stat_higher_better")?;
    Ok(Assessment {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        standard_id: parse_uuid(&r.try_get::<String, _>("standard_id")?)?,
        year: r.try_get::<i64, _>("year")? as i32,
        method: Method::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("method {method}")))?,
        share: r.try_get("share")?,
        statistic: match (value, threshold) {
            (Some(value), Some(threshold)) => Some(Statistic {
                value,
                threshold,
                higher_better: higher != Some(0),
            }),
            _ => None,
        },
        note: r.try_get("note")?,
        evidence_url: r.try_get("evidence_url")?,
        version: r.try_get("version")?,
    })
}

fn finite_in(v: f64, lo: f64, hi: f64) -> bool {
    v.is_finite() && (lo..=hi).contains(&v)
}

/// Records (or replaces, at the version read) an assessment. The standard
/// must use the method.
pub async fn record_assessment(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageScoring>,
    input: &AssessmentInput,
) -> Result<Assessment, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut e = FieldErrors::new();
    let methods: Option<Option<String>> =
        sqlx::query_scalar("SELECT methods FROM framework_node WHERE id = $1 AND kind = $2")
            .bind(input.standard_id.to_string())
            .bind(NodeKind::Standard.code())
            .fetch_optional(store.reader())
            .await?;
    match methods {
        None => e.add("standard_id", "not_found"),
        Some(m) => {
            if !m
                .unwrap_or_default()
                .split(',')
                .any(|x| Method::parse(x) == Some(input.method))
            {
                e.add("method", "not_a_method_of_the_standard");
            }
        }
    }
    if !(2000..=2100).contains(&input.year) {
        e.add("year", "out_of_range");
    }
    let share = match (input.share, input.statistic) {
        (Some(_), Some(_)) => {
            e.add("share", "share_or_statistic");
            0.0
        }
        (Some(s), None) if finite_in(s, 0.0, 1.0) => s,
        (Some(_), None) => {
            e.add("share", "out_of_range");
            0.0
        }
        (None, Some(st)) => {
            if !finite_in(st.value, 0.0, f64::MAX) {
                e.add("statistic.value", "out_of_range");
            }
            if !finite_in(st.threshold, f64::MIN_POSITIVE, f64::MAX) {
                e.add("statistic.threshold", "out_of_range");
            }
            st.share()
        }
        (None, None) => {
            e.add("share", "required");
            0.0
        }
    };
    if input.note.trim().is_empty() {
        e.add("note", "required");
    }
    if let Some(u) = &input.evidence_url
        && !(u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'))
    {
        e.add("evidence_url", "invalid_url");
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }
    let existing = sqlx::query(
        "SELECT * FROM score_assessment WHERE standard_id = $1 AND year = $2 AND method = $3",
    )
    .bind(input.standard_id.to_string())
    .bind(i64::from(input.year))
    .bind(input.method.code())
    .fetch_optional(store.reader())
    .await?
    .as_ref()
    .map(assessment_from)
    .transpose()?;
    // A statistic's columns are bound whether or not there is one (-1 in
    // the last saying none): PostgreSQL keeps a prepared statement's
    // parameter types from its first use, so a NULL first and a number
    // next would not bind.
    let st = input.statistic;
    let mut tx = store.begin().await?;
    let after = match (&existing, input.expected_version) {
        (Some(before), Some(v)) => {
            let n = sqlx::query(
                "UPDATE score_assessment SET share = $1, \
                 stat_value = CASE WHEN $4 < 0 THEN NULL ELSE $2 END, \
                 stat_threshold = CASE WHEN $4 < 0 THEN NULL ELSE $3 END, \
                 stat_higher_better = CASE WHEN $4 < 0 THEN NULL ELSE $4 END, note = $5, evidence_url = $6, recorded_by = $7, \
                 version = version + 1, updated_at = $8 WHERE id = $9 AND version = $10",
            )
            .bind(share)
            .bind(st.map_or(0.0, |s| s.value))
            .bind(st.map_or(0.0, |s| s.threshold))
            .bind(st.map_or(-1, |s| i64::from(s.higher_better)))
            .bind(input.note.trim())
            .bind(input.evidence_url.as_deref())
            .bind(ctx.actor_id.map(|u| u.to_string()))
            .bind(now_micros())
            .bind(before.id.to_string())
            .bind(v)
            .execute(&mut *tx)
            .await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::Conflict);
            }
            let after = Assessment {
                share,
                statistic: st,
                note: input.note.trim().into(),
                evidence_url: input.evidence_url.clone(),
                version: before.version + 1,
                ..before.clone()
            };
            audit::changed(
                &mut tx,
                ctx,
                "update",
                "score_assessment",
                &before.id.to_string(),
                before,
                &after,
            )
            .await?;
            after
        }
        // Someone recorded it meanwhile, or the caller thinks there is one.
        (Some(_), None) | (None, Some(_)) => return Err(StoreError::Conflict),
        (None, None) => {
            let id = wenming_domain::new_id();
            let put = sqlx::query(
                "INSERT INTO score_assessment (id, standard_id, year, method, share, stat_value, \
                 stat_threshold, stat_higher_better, note, evidence_url, recorded_by, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, CASE WHEN $8 < 0 THEN NULL ELSE $6 END, \
                 CASE WHEN $8 < 0 THEN NULL ELSE $7 END, CASE WHEN $8 < 0 THEN NULL ELSE $8 END, \
                 $9, $10, $11, 1, $12)",
            )
            .bind(id.to_string())
            .bind(input.standard_id.to_string())
            .bind(i64::from(input.year))
            .bind(input.method.code())
            .bind(share)
            .bind(st.map_or(0.0, |s| s.value))
            .bind(st.map_or(0.0, |s| s.threshold))
            .bind(st.map_or(-1, |s| i64::from(s.higher_better)))
            .bind(input.note.trim())
            .bind(input.evidence_url.as_deref())
            .bind(ctx.actor_id.map(|u| u.to_string()))
            .bind(now_micros())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
            match put {
                Err(e) if e.is_unique_violation() => return Err(StoreError::Conflict),
                other => other?,
            };
            let after = Assessment {
                id,
                standard_id: input.standard_id,
                year: input.year,
                method: input.method,
                share,
                statistic: st,
                note: input.note.trim().into(),
                evidence_url: input.evidence_url.clone(),
                version: 1,
            };
            audit::created(&mut tx, ctx, "score_assessment", &id.to_string(), &after).await?;
            after
        }
    };
    tx.commit().await?;
    Ok(after)
}

/// A negative-list event as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct NegativeEvent {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub rule_code: String,
    pub occurred_on: jiff::civil::Date,
    pub note: String,
}

pub async fn negative_events(
    store: &Store,
    framework_id: Uuid,
) -> Result<Vec<NegativeEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, rule_code, occurred_on, note FROM negative_event WHERE framework_id = $1 \
         ORDER BY occurred_on DESC, id",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let on: String = r.try_get("occurred_on")?;
            Ok(NegativeEvent {
                id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                framework_id,
                rule_code: r.try_get("rule_code")?,
                occurred_on: on
                    .parse()
                    .map_err(|_| StoreError::Corrupt(format!("event day {on}")))?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// A negative-list event as the office reports it.
#[derive(Debug, Clone)]
pub struct EventInput<'a> {
    pub rule_code: &'a str,
    pub occurred_on: jiff::civil::Date,
    pub note: &'a str,
}

/// Records an event of one of the framework's negative-list rules.
pub async fn record_negative_event(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageScoring>,
    framework_id: Uuid,
    input: &EventInput<'_>,
    today: jiff::civil::Date,
) -> Result<NegativeEvent, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let EventInput {
        rule_code,
        occurred_on,
        note,
    } = *input;
    let fw = crate::framework::get(store, framework_id).await?;
    let mut e = FieldErrors::new();
    if !fw
        .settings
        .negative_list
        .iter()
        .any(|r| r.code == rule_code)
    {
        e.add("rule_code", "invalid_choice");
    }
    if occurred_on > today {
        e.add("occurred_on", "in_the_future");
    }
    if note.trim().is_empty() {
        e.add("note", "required");
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }
    let made = NegativeEvent {
        id: wenming_domain::new_id(),
        framework_id,
        rule_code: rule_code.into(),
        occurred_on,
        note: note.trim().into(),
    };
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO negative_event (id, framework_id, rule_code, occurred_on, note, recorded_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(made.id.to_string())
    .bind(framework_id.to_string())
    .bind(&made.rule_code)
    .bind(occurred_on.to_string())
    .bind(&made.note)
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    audit::created(&mut tx, ctx, "negative_event", &made.id.to_string(), &made).await?;
    tx.commit().await?;
    Ok(made)
}

/// Removes an event recorded in error; the audit log keeps what it was.
pub async fn delete_negative_event(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageScoring>,
    framework_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = negative_events(store, framework_id)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or(StoreError::NotFound)?;
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM negative_event WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    audit::changed(
        &mut tx,
        ctx,
        "delete",
        "negative_event",
        &id.to_string(),
        &Some(&before),
        &None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A recorded score: a gate's evaluation for a year (`name` the gate's),
/// or the official annual score of a year (`name` empty).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YearScore {
    pub name: String,
    pub year: i32,
    pub score: f64,
    pub note: String,
}

pub async fn gate_results(store: &Store, framework_id: Uuid) -> Result<Vec<YearScore>, StoreError> {
    let rows = sqlx::query(
        "SELECT gate_name, year, score, note FROM gate_result WHERE framework_id = $1 ORDER BY year, gate_name",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(YearScore {
                name: r.try_get("gate_name")?,
                year: r.try_get::<i64, _>("year")? as i32,
                score: r.try_get("score")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

pub async fn annual_results(store: &Store) -> Result<Vec<YearScore>, StoreError> {
    let rows = sqlx::query("SELECT year, score, note FROM annual_result ORDER BY year")
        .fetch_all(store.reader())
        .await?;
    rows.iter()
        .map(|r| {
            Ok(YearScore {
                name: String::new(),
                year: r.try_get::<i64, _>("year")? as i32,
                score: r.try_get("score")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// A year's score as the office reports it: a gate's (named) or the
/// official annual score (no gate).
#[derive(Debug, Clone, Copy)]
pub struct ScoreInput<'a> {
    pub gate: Option<&'a str>,
    pub year: i32,
    pub score: f64,
    pub note: &'a str,
}

/// Records a gate's score for a year, or (with no gate) the official
/// annual score; a second record of the same year replaces the first.
pub async fn record_year_score(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageScoring>,
    framework_id: Uuid,
    input: ScoreInput<'_>,
) -> Result<YearScore, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let ScoreInput {
        gate,
        year,
        score,
        note,
    } = input;
    let fw = crate::framework::get(store, framework_id).await?;
    let mut e = FieldErrors::new();
    if let Some(g) = gate
        && !fw.settings.gates.iter().any(|x| x.name == g)
    {
        e.add("gate", "invalid_choice");
    }
    if !(2000..=2100).contains(&year) {
        e.add("year", "out_of_range");
    }
    let most = if gate.is_some() { 100.0 } else { 200.0 };
    if !finite_in(score, 0.0, most) {
        e.add("score", "out_of_range");
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }
    let before = match gate {
        Some(g) => gate_results(store, framework_id)
            .await?
            .into_iter()
            .find(|x| x.name == g && x.year == year),
        None => annual_results(store)
            .await?
            .into_iter()
            .find(|x| x.year == year),
    };
    let after = YearScore {
        name: gate.unwrap_or_default().into(),
        year,
        score,
        note: note.trim().into(),
    };
    let mut tx = store.begin().await?;
    let by = ctx.actor_id.map(|u| u.to_string());
    match gate {
        Some(g) => {
            sqlx::query(
                "INSERT INTO gate_result (framework_id, gate_name, year, score, note, recorded_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (framework_id, gate_name, year) \
                 DO UPDATE SET score = excluded.score, note = excluded.note, \
                 recorded_by = excluded.recorded_by, updated_at = excluded.updated_at",
            )
            .bind(framework_id.to_string())
            .bind(g)
            .bind(i64::from(year))
            .bind(score)
            .bind(&after.note)
            .bind(by)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query(
                "INSERT INTO annual_result (year, score, note, recorded_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO UPDATE SET score = excluded.score, \
                 note = excluded.note, recorded_by = excluded.recorded_by, updated_at = excluded.updated_at",
            )
            .bind(i64::from(year))
            .bind(score)
            .bind(&after.note)
            .bind(by)
            .bind(now_micros())
            .execute(&mut *tx)
            .await?;
        }
    }
    match (gate, &before) {
        (Some(g), Some(b)) => {
            let key = format!("{framework_id}/{g}/{year}");
            audit::changed(&mut tx, ctx, "update", "gate_result", &key, b, &after).await?
        }
        (Some(g), None) => {
            let key = format!("{framework_id}/{g}/{year}");
            audit::created(&mut tx, ctx, "gate_result", &key, &after).await?
        }
        (None, Some(b)) => {
            let key = year.to_string();
            audit::changed(&mut tx, ctx, "update", "annual_result", &key, b, &after).await?
        }
        (None, None) => {
            let key = year.to_string();
            audit::created(&mut tx, ctx, "annual_result", &key, &after).await?
        }
    }
    tx.commit().await?;
    Ok(after)
}

/// Standards' survey rules: (floor, target) where the office set one.
pub async fn survey_rules(
    store: &Store,
    framework_id: Uuid,
) -> Result<HashMap<Uuid, (f64, f64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.standard_id, r.floor, r.target FROM score_survey_rule r \
         JOIN framework_node n ON n.id = r.standard_id WHERE n.framework_id = $1",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                parse_uuid(&r.try_get::<String, _>("standard_id")?)?,
                (r.try_get("floor")?, r.try_get("target")?),
            ))
        })
        .collect()
}

/// Sets how a standard's survey rate maps to its share.
pub async fn set_survey_rule(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageScoring>,
    standard_id: Uuid,
    floor: f64,
    target: f64,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut e = FieldErrors::new();
    if !finite_in(floor, 0.0, 1.0) {
        e.add("floor", "out_of_range");
    }
    if !finite_in(target, 0.0, 1.0) || target <= floor {
        e.add("target", "must_exceed_floor");
    }
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM framework_node WHERE id = $1 AND kind = $2")
            .bind(standard_id.to_string())
            .bind(NodeKind::Standard.code())
            .fetch_one(store.reader())
            .await?;
    if n == 0 {
        e.add("standard_id", "not_found");
    }
    if !e.is_empty() {
        return Err(StoreError::Invalid(e));
    }
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO score_survey_rule (standard_id, floor, target, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (standard_id) DO UPDATE SET floor = excluded.floor, target = excluded.target, \
         updated_at = excluded.updated_at",
    )
    .bind(standard_id.to_string())
    .bind(floor)
    .bind(target)
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    #[derive(Serialize)]
    struct Rule {
        floor: f64,
        target: f64,
    }
    audit::created(
        &mut tx,
        ctx,
        "score_survey_rule",
        &standard_id.to_string(),
        &Rule { floor, target },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
