//! One filled questionnaire stored, in one transaction: the device (for a
//! public link) marked as having answered, the stratum's quota taken, the
//! answers kept and counted into the tally. Nothing stored links the
//! answers to the device, the person or the moment.

use crate::{Store, StoreError};
use std::collections::BTreeMap;
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};
use wenming_domain::survey::{AgeBand, Answer, Group, QuestionKind, Sex};

wenming_domain::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Channel {
        /// An interviewer on the street or at the door.
        Interview = "interview",
        /// The public link or QR code, no account.
        Public = "public",
        /// A clerk typing in a paper questionnaire.
        Paper = "paper",
    }
}

#[derive(Debug, Clone)]
pub struct NewResponse {
    pub wave_id: Uuid,
    pub region_id: Uuid,
    pub group: Group,
    pub age_band: AgeBand,
    pub sex: Sex,
    pub channel: Channel,
    pub answers: BTreeMap<String, Answer>,
}

/// Stores an interviewer's or a clerk's questionnaire.
pub async fn submit(
    store: &Store,
    _permit: &Permit<may::AnswerSurveys>,
    r: &NewResponse,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    store_with(store, r, None, Uuid::new_v4(), today).await
}

/// Stores an interviewer's questionnaire sent from the phone's outbox under
/// the id the phone gave it (a random v4 id, which says nothing of who or
/// when): sent again after a lost reply, it is already there and nothing
/// is stored or counted twice.
pub async fn submit_once(
    store: &Store,
    _permit: &Permit<may::AnswerSurveys>,
    r: &NewResponse,
    client_id: Uuid,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    if client_id.get_version() != Some(uuid::Version::Random) {
        return Err(StoreError::invalid("client_id", "invalid_choice"));
    }
    let stored = || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM survey_response WHERE id = $1")
            .bind(client_id.to_string())
            .fetch_one(store.reader())
            .await?;
        Ok::<bool, StoreError>(n > 0)
    };
    if stored().await? {
        return Ok(());
    }
    match store_with(store, r, None, client_id, today).await {
        // The same questionnaire arriving twice at once: the other won.
        Err(e) if e.is_unique_violation() && stored().await? => Ok(()),
        other => other,
    }
}

/// Stores a questionnaire from the public link; `device` is the salted
/// hash of the device's cookie, refused when it has answered this wave.
/// The public link has no account: the caller (the web layer) holds the
/// system's grant and has checked the request's rate. Answers arriving
/// together (a community meeting scanning the poster) share a commit.
pub async fn submit_public(
    store: &Store,
    _permit: &Permit<may::AnswerSurveys>,
    r: &NewResponse,
    device: &str,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    crate::group_commit::submit(
        store,
        PublicAnswer {
            response: r.clone(),
            device: device.to_string(),
            today,
        },
    )
    .await?;
    Ok(())
}

/// A public answer as the group writer takes it.
struct PublicAnswer {
    response: NewResponse,
    device: String,
    today: jiff::civil::Date,
}

impl crate::group_commit::Grouped for PublicAnswer {
    type Ready = std::sync::Arc<wenming_domain::survey::QuestionnaireDoc>;
    const AUDITED: bool = false;

    /// Each wave of the batch and its questionnaire read once; an answer
    /// to a closed wave or with a missing answer is refused here.
    async fn ready(
        store: &Store,
        batch: &[PublicAnswer],
    ) -> Result<Vec<Result<Self::Ready, StoreError>>, StoreError> {
        let mut waves: std::collections::HashMap<Uuid, (super::Wave, Self::Ready)> =
            Default::default();
        let mut out = vec![];
        for a in batch {
            let r = &a.response;
            if let std::collections::hash_map::Entry::Vacant(e) = waves.entry(r.wave_id) {
                let w = super::wave(store, r.wave_id).await?;
                let q = super::questionnaire(store, w.questionnaire_id).await?;
                e.insert((w, std::sync::Arc::new(q.doc)));
            }
            let (wave, doc) = &waves[&r.wave_id];
            out.push(if !wave.takes_answers(a.today) {
                Err(StoreError::invalid("wave", "wave_closed"))
            } else if !wave.regions.contains(&r.region_id) {
                Err(StoreError::invalid("region_id", "not_in_wave"))
            } else {
                doc.check(r.group, &r.answers)
                    .map(|()| doc.clone())
                    .map_err(StoreError::Invalid)
            });
        }
        Ok(out)
    }

    async fn write(
        tx: &mut sqlx::AnyConnection,
        batch: &[(&PublicAnswer, &Self::Ready)],
        _chain: &mut crate::audit::Chain,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ws: Vec<Write<'_>> = batch
            .iter()
            .map(|(a, doc)| Write {
                doc,
                response: &a.response,
                device: Some(&a.device),
                id: Uuid::new_v4(),
                today: a.today,
            })
            .collect();
        write_all(tx, &ws).await?;
        Ok(ws.iter().map(|w| w.id).collect())
    }
}

/// Many questionnaires of one wave in one transaction (the demo, an
/// import of typed-in forms): all stored or none, a problem named by its
/// row (`responses[3].Q2`).
pub async fn submit_batch(
    store: &Store,
    _permit: &Permit<may::AnswerSurveys>,
    wave_id: Uuid,
    rs: &[NewResponse],
    today: jiff::civil::Date,
) -> Result<usize, StoreError> {
    let wave = super::wave(store, wave_id).await?;
    if !wave.takes_answers(today) {
        return Err(StoreError::invalid("wave", "wave_closed"));
    }
    let q = super::questionnaire(store, wave.questionnaire_id).await?;
    let mut tx = store.begin().await?;
    for (i, r) in rs.iter().enumerate() {
        let named = |e: StoreError| match e {
            StoreError::Invalid(f) => StoreError::Invalid(wenming_domain::FieldErrors(
                f.0.into_iter()
                    .map(|x| wenming_domain::FieldError {
                        field: format!("responses[{i}].{}", x.field),
                        code: x.code,
                    })
                    .collect(),
            )),
            other => other,
        };
        if r.wave_id != wave_id || !wave.regions.contains(&r.region_id) {
            return Err(named(StoreError::invalid("region_id", "not_in_wave")));
        }
        q.doc
            .check(r.group, &r.answers)
            .map_err(|e| named(StoreError::Invalid(e)))?;
        write_one(&mut tx, &q.doc, r, None, Uuid::new_v4(), today)
            .await
            .map_err(named)?;
    }
    tx.commit().await?;
    Ok(rs.len())
}

async fn store_with(
    store: &Store,
    r: &NewResponse,
    device: Option<&str>,
    id: Uuid,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    let wave = super::wave(store, r.wave_id).await?;
    if !wave.takes_answers(today) {
        return Err(StoreError::invalid("wave", "wave_closed"));
    }
    if !wave.regions.contains(&r.region_id) {
        return Err(StoreError::invalid("region_id", "not_in_wave"));
    }
    let q = super::questionnaire(store, wave.questionnaire_id).await?;
    q.doc
        .check(r.group, &r.answers)
        .map_err(StoreError::Invalid)?;
    let mut tx = store.begin().await?;
    write_one(&mut tx, &q.doc, r, device, id, today).await?;
    tx.commit().await?;
    Ok(())
}

/// One questionnaire to be written.
struct Write<'a> {
    doc: &'a wenming_domain::survey::QuestionnaireDoc,
    response: &'a NewResponse,
    device: Option<&'a str>,
    id: Uuid,
    today: jiff::civil::Date,
}

async fn write_one(
    tx: &mut sqlx::AnyConnection,
    doc: &wenming_domain::survey::QuestionnaireDoc,
    r: &NewResponse,
    device: Option<&str>,
    id: Uuid,
    today: jiff::civil::Date,
) -> Result<(), StoreError> {
    let one = Write {
        doc,
        response: r,
        device,
        id,
        today,
    };
    write_all(tx, std::slice::from_ref(&one)).await
}

/// Writes questionnaires with a handful of statements whatever their
/// number: the tallies' increments are summed first and each row is
/// written once. A device that has answered, a full quota or a closed
/// wave fails the whole; the group writer then writes each alone, so the
/// refusal goes to the one it belongs to.
async fn write_all(tx: &mut sqlx::AnyConnection, ws: &[Write<'_>]) -> Result<(), StoreError> {
    let devices: Vec<[String; 2]> = ws
        .iter()
        .filter_map(|w| {
            w.device
                .map(|d| [w.response.wave_id.to_string(), d.to_string()])
        })
        .collect();
    let put = insert_rows(
        tx,
        "INSERT INTO survey_device (wave_id, device_hash) VALUES ",
        "",
        &devices,
    )
    .await;
    match put {
        Err(e) if e.is_unique_violation() => {
            return Err(StoreError::invalid("device", "already_answered"));
        }
        other => other?,
    }
    // The wave's state is read again under the write: one closed a moment
    // ago takes nothing more.
    let mut quota: BTreeMap<(Uuid, Uuid, &str, &str), i64> = BTreeMap::new();
    for w in ws {
        let r = w.response;
        *quota
            .entry((r.wave_id, r.region_id, r.age_band.code(), r.sex.code()))
            .or_default() += 1;
    }
    for ((wave, region, age, sex), k) in quota {
        let took = sqlx::query(
            "UPDATE survey_quota SET filled = filled + $5 WHERE wave_id = $1 AND region_id = $2 \
             AND age_band = $3 AND sex = $4 AND filled + $5 <= target \
             AND EXISTS (SELECT 1 FROM survey_wave w WHERE w.id = $1 AND w.state = 'open')",
        )
        .bind(wave.to_string())
        .bind(region.to_string())
        .bind(age)
        .bind(sex)
        .bind(k)
        .execute(&mut *tx)
        .await?;
        if took.rows_affected() != 1 {
            return Err(StoreError::invalid("quota", "quota_full"));
        }
    }
    let mut responses = Vec::with_capacity(ws.len());
    // An interviewer's or a clerk's questionnaire is a completed contact:
    // counted here, so that response rates never count the answers.
    let mut contacts: BTreeMap<(Uuid, Uuid), i64> = BTreeMap::new();
    let mut rates: BTreeMap<[String; 6], (i64, i64)> = BTreeMap::new();
    let mut values: BTreeMap<[String; 4], i64> = BTreeMap::new();
    for w in ws {
        let r = w.response;
        let answers =
            serde_json::to_string(&r.answers).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        // A random id, not a time-ordered one: the id says nothing of when.
        responses.push([
            w.id.to_string(),
            r.wave_id.to_string(),
            r.region_id.to_string(),
            r.group.code().to_string(),
            r.age_band.code().to_string(),
            r.sex.code().to_string(),
            r.channel.code().to_string(),
            w.today.to_string(),
            answers,
        ]);
        if r.channel != Channel::Public {
            *contacts.entry((r.wave_id, r.region_id)).or_default() += 1;
        }
        for question in w.doc.for_group(r.group) {
            let Some(a) = r.answers.get(&question.code) else {
                continue;
            };
            if question.rate.is_some()
                && let Some(yes) = question.counts(Some(a))
            {
                let t = rates
                    .entry([
                        r.wave_id.to_string(),
                        question.code.clone(),
                        r.region_id.to_string(),
                        r.group.code().to_string(),
                        r.age_band.code().to_string(),
                        r.sex.code().to_string(),
                    ])
                    .or_default();
                t.0 += 1;
                t.1 += i64::from(yes);
            }
            if let Some(value) = tally_value(question.kind, a) {
                *values
                    .entry([
                        r.wave_id.to_string(),
                        question.code.clone(),
                        r.region_id.to_string(),
                        value,
                    ])
                    .or_default() += 1;
            }
        }
    }
    insert_rows(
        tx,
        "INSERT INTO survey_response (id, wave_id, region_id, respondent_group, age_band, sex, \
         channel, answered_on, answers) VALUES ",
        "",
        &responses,
    )
    .await?;
    let contacts: Vec<([String; 3], [i64; 1])> = contacts
        .into_iter()
        .map(|((w, r), n)| ([w.to_string(), r.to_string(), "complete".into()], [n]))
        .collect();
    upsert_counts(
        tx,
        "INSERT INTO survey_contact (wave_id, region_id, disposition, n) VALUES ",
        " ON CONFLICT (wave_id, region_id, disposition) DO UPDATE SET n = survey_contact.n + excluded.n",
        &contacts,
    )
    .await?;
    let rates: Vec<([String; 6], [i64; 2])> = rates
        .into_iter()
        .map(|(k, (n, yes))| (k, [n, yes]))
        .collect();
    upsert_counts(
        tx,
        "INSERT INTO survey_rate_tally (wave_id, question_code, region_id, respondent_group, \
         age_band, sex, n, yes) VALUES ",
        " ON CONFLICT (wave_id, question_code, region_id, respondent_group, age_band, sex) \
         DO UPDATE SET n = survey_rate_tally.n + excluded.n, yes = survey_rate_tally.yes + excluded.yes",
        &rates,
    )
    .await?;
    let values: Vec<([String; 4], [i64; 1])> = values.into_iter().map(|(k, n)| (k, [n])).collect();
    upsert_counts(
        tx,
        "INSERT INTO survey_answer_tally (wave_id, question_code, region_id, value, n) VALUES ",
        " ON CONFLICT (wave_id, question_code, region_id, value) \
         DO UPDATE SET n = survey_answer_tally.n + excluded.n",
        &values,
    )
    .await?;
    Ok(())
}

/// Rows of text columns inserted by as few statements as the database's
/// limit on bound values allows.
async fn insert_rows<const N: usize>(
    tx: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: &[[String; N]],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_BINDS / N) {
        let sql = values_sql(head, tail, chunk.len(), N);
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = q.bind(v);
            }
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Rows of text keys and their counts upserted likewise.
async fn upsert_counts<const N: usize, const C: usize>(
    tx: &mut sqlx::AnyConnection,
    head: &str,
    tail: &str,
    rows: &[([String; N], [i64; C])],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(MAX_BINDS / (N + C)) {
        let sql = values_sql(head, tail, chunk.len(), N + C);
        let mut q = sqlx::query(&sql);
        for (key, counts) in chunk {
            for v in key {
                q = q.bind(v);
            }
            for n in counts {
                q = q.bind(*n);
            }
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Bound values a statement may carry (SQLite's older limit is 999).
const MAX_BINDS: usize = 900;

/// `head ($1, …), (…) tail` with `width` placeholders a row.
fn values_sql(head: &str, tail: &str, rows: usize, width: usize) -> String {
    let mut sql = String::from(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * width + c + 1).to_string());
        }
        sql.push(')');
    }
    sql.push_str(tail);
    sql
}

/// The answer as the distribution counts it; text answers are not counted.
pub fn tally_value(kind: QuestionKind, a: &Answer) -> Option<String> {
    match (kind, a) {
        (QuestionKind::Text, _) => None,
        (_, Answer::Text(c)) => Some(c.clone()),
        (_, Answer::Scale(v)) => Some(v.to_string()),
        (_, Answer::Choices(cs)) => {
            let mut cs = cs.clone();
            cs.sort();
            Some(cs.join(","))
        }
    }
}
