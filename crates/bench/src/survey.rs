//! Surveys at the benchmark's size (docs/benchmarks.md,
//! `bench/surveys.sh`): one wave of the demo's questionnaire over 80
//! communities with a million answers, written straight into the answer
//! and tally tables as the store would have counted them, and the raw
//! baseline its results are held to (a GROUP BY of the answers themselves
//! for every rate question).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;
use uuid::Uuid;
use wenming_domain::survey::{AgeBand, Answer, Group, QuestionKind, Sex};
use wenming_store::{Ctx, Store};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A rate tally row's key: question, community, group, age band, sex.
type RateKey = (String, Uuid, Group, AgeBand, Sex);

/// A filled questionnaire of random answers for a respondent of `group`.
fn answers_for(
    doc: &wenming_domain::survey::QuestionnaireDoc,
    group: Group,
    next: &mut impl FnMut(u64) -> u64,
) -> BTreeMap<String, Answer> {
    let mut a = BTreeMap::new();
    for question in doc.for_group(group) {
        let pick = |next: &mut dyn FnMut(u64) -> u64| {
            question.choices[next(question.choices.len() as u64) as usize]
                .code
                .clone()
        };
        let v = match question.kind {
            QuestionKind::Single => Answer::Text(pick(next)),
            QuestionKind::Multiple => Answer::Choices(vec![pick(next)]),
            QuestionKind::Scale5 => Answer::Scale(1 + next(5) as u32),
            QuestionKind::Scale100 => Answer::Scale(next(101) as u32),
            QuestionKind::Text => continue,
        };
        a.insert(question.code.clone(), v);
    }
    a
}

/// Makes the wave and its answers; returns the wave.
pub async fn fill(store: &Store, answers: u64, communities: usize) -> Result<Uuid, String> {
    let ctx = Ctx::system("bench");
    let city = wenming_store::org::whole_city(store).await.map_err(err)?;
    let root = city.region_paths.first().cloned().unwrap_or_default();
    let everything = wenming_domain::policy::Scope::everything(&root);
    let regions = wenming_store::org::list_regions(store, &everything)
        .await
        .map_err(err)?;
    let mut ids: Vec<Uuid> = regions
        .iter()
        .filter(|r| r.level == wenming_domain::org::RegionLevel::Community)
        .map(|r| r.id)
        .collect();
    let street = regions
        .iter()
        .find(|r| r.level == wenming_domain::org::RegionLevel::Street)
        .ok_or("load the demo first")?
        .clone();
    let mut k = 0;
    while ids.len() < communities {
        k += 1;
        let r = wenming_store::org::create_region(
            store,
            &ctx,
            &wenming_domain::policy::Permit::system(&root),
            wenming_domain::org::RegionInput {
                parent_id: Some(street.id),
                level: wenming_domain::org::RegionLevel::Community,
                code: format!("BENCH{k:03}"),
                name: format!("基准社区{k}"),
                boundary: None,
                population: Some(5_000 + (k as u64 * 137) % 9_000),
            },
        )
        .await
        .map_err(err)?;
        ids.push(r.id);
    }
    ids.truncate(communities);
    let q = wenming_store::survey::questionnaires(store)
        .await
        .map_err(err)?
        .into_iter()
        .find(|q| q.published_at.is_some())
        .ok_or("the demo's questionnaire is missing")?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let wave = wenming_store::survey::create_wave(
        store,
        &ctx,
        &wenming_domain::policy::Permit::system(&root),
        &wenming_store::survey::NewWave {
            questionnaire_id: q.id,
            name: "基准问卷（一百万份）".into(),
            opens_on: today,
            closes_on: today,
            margin_permille: 50,
            min_n: 30,
            clustered: true,
            per_community: true,
            regions: ids.clone(),
        },
    )
    .await
    .map_err(err)?;
    let started = Instant::now();
    let mut rates: HashMap<RateKey, (i64, i64)> = HashMap::new();
    let mut values: HashMap<(String, Uuid, String), i64> = HashMap::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let mut i = 0u64;
    let day = today.to_string();
    while i < answers {
        let mut tx = store.begin().await.map_err(err)?;
        for _ in 0..2_000 {
            if i >= answers {
                break;
            }
            let c = ids[(i as usize) % ids.len()];
            let group = Group::ALL[[0, 0, 0, 0, 0, 0, 1, 2, 3, 0][next(10) as usize]];
            let age = AgeBand::ALL[next(4) as usize];
            let sex = Sex::ALL[next(2) as usize];
            let a = answers_for(&q.doc, group, &mut next);
            for question in q.doc.for_group(group) {
                let Some(v) = a.get(&question.code) else {
                    continue;
                };
                if question.rate.is_some()
                    && let Some(yes) = question.counts(Some(v))
                {
                    let e = rates
                        .entry((question.code.clone(), c, group, age, sex))
                        .or_default();
                    e.0 += 1;
                    e.1 += i64::from(yes);
                }
                if let Some(value) = wenming_store::survey::tally_value(question.kind, v) {
                    *values.entry((question.code.clone(), c, value)).or_default() += 1;
                }
            }
            sqlx::query(
                "INSERT INTO survey_response (id, wave_id, region_id, respondent_group, age_band, sex, channel, \
                 answered_on, answers) VALUES ($1, $2, $3, $4, $5, $6, 'interview', $7, $8)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(wave.id.to_string())
            .bind(c.to_string())
            .bind(group.code())
            .bind(age.code())
            .bind(sex.code())
            .bind(&day)
            .bind(serde_json::to_string(&a).map_err(err)?)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            i += 1;
        }
        tx.commit().await.map_err(err)?;
    }
    let mut tx = store.begin().await.map_err(err)?;
    // Every answer an interview: each a completed contact.
    for (i, c) in ids.iter().enumerate() {
        let n = answers / ids.len() as u64 + u64::from((i as u64) < answers % ids.len() as u64);
        sqlx::query(
            "INSERT INTO survey_contact (wave_id, region_id, disposition, n) VALUES ($1, $2, 'complete', $3)",
        )
        .bind(wave.id.to_string())
        .bind(c.to_string())
        .bind(n as i64)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    for ((question, c, g, a, s), (n, yes)) in &rates {
        sqlx::query(
            "INSERT INTO survey_rate_tally (wave_id, question_code, region_id, respondent_group, age_band, sex, n, yes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(wave.id.to_string())
        .bind(question)
        .bind(c.to_string())
        .bind(g.code())
        .bind(a.code())
        .bind(s.code())
        .bind(n)
        .bind(yes)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    for ((question, c, value), n) in &values {
        sqlx::query(
            "INSERT INTO survey_answer_tally (wave_id, question_code, region_id, value, n) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(wave.id.to_string())
        .bind(question)
        .bind(c.to_string())
        .bind(value)
        .bind(n)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    tx.commit().await.map_err(err)?;
    // Left open: the script times its results, then closes it through the
    // API and times them again.
    sqlx::query("UPDATE survey_wave SET state = 'open', version = version + 1 WHERE id = $1")
        .bind(wave.id.to_string())
        .execute(store.writer())
        .await
        .map_err(err)?;
    eprintln!(
        "filled {answers} answers over {} communities ({} rate and {} answer tally rows) in {:.1} s",
        ids.len(),
        rates.len(),
        values.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(wave.id)
}

/// The raw baseline: for every rate question, one GROUP BY of the wave's
/// answers by community, group, age band, sex and answer, reading the
/// answer out of each stored questionnaire. Returns the p50 in ms of the
/// whole set.
pub async fn raw_results_ms(store: &Store, wave: Uuid, times: usize) -> Result<f64, String> {
    let w = wenming_store::survey::wave(store, wave)
        .await
        .map_err(err)?;
    let q = wenming_store::survey::questionnaire(store, w.questionnaire_id)
        .await
        .map_err(err)?;
    let sqlite = store.backend() == wenming_store::Backend::Sqlite;
    let statements: Vec<String> = q
        .doc
        .questions
        .iter()
        .filter(|x| x.rate.is_some())
        .map(|x| {
            let v = if sqlite {
                format!("json_extract(answers, '$.{}')", x.code)
            } else {
                format!("(answers::json ->> '{}')", x.code)
            };
            format!(
                "SELECT region_id, respondent_group, age_band, sex, {v} AS v, COUNT(*) FROM survey_response \
                 WHERE wave_id = '{wave}' GROUP BY region_id, respondent_group, age_band, sex, v"
            )
        })
        .collect();
    let mut lat = vec![];
    for _ in 0..times {
        let t0 = Instant::now();
        for s in &statements {
            sqlx::query(s)
                .fetch_all(store.reader())
                .await
                .map_err(err)?;
        }
        lat.push(t0.elapsed().as_micros() as u64);
    }
    lat.sort_unstable();
    Ok(crate::baseline::percentile(&lat, 0.5))
}

/// Where the results' time goes without the web stack: reading the tally
/// and computing every rate (ms, the second of two runs).
pub async fn parts_ms(store: &Store, wave: Uuid) -> Result<(f64, f64), String> {
    let w = wenming_store::survey::wave(store, wave)
        .await
        .map_err(err)?;
    let q = wenming_store::survey::questionnaire(store, w.questionnaire_id)
        .await
        .map_err(err)?;
    let mut out = (0.0, 0.0);
    for _ in 0..2 {
        let t0 = Instant::now();
        let t = wenming_store::survey::tallies(store, wave)
            .await
            .map_err(err)?;
        let read = t0.elapsed().as_secs_f64() * 1000.0;
        let t1 = Instant::now();
        let r = wenming_domain::survey::results::compute(
            &q.doc, &t.rates, &t.answers, &t.strata, &t.above, 30, true,
        );
        std::hint::black_box(&r);
        out = (read, t1.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// Public answers per second from `clients` phones at once for `seconds`,
/// through the store's public intake (device mark, quota, answers, tallies
/// in one transaction; answers arriving together share a commit), with
/// the wave's quotas opened wide so that none closes during the run.
/// Returns (answers per second, answers refused).
pub async fn intake(
    store: &Store,
    wave: Uuid,
    clients: usize,
    seconds: u64,
) -> Result<(f64, u64), String> {
    sqlx::query("UPDATE survey_quota SET target = 1000000000 WHERE wave_id = $1")
        .bind(wave.to_string())
        .execute(store.writer())
        .await
        .map_err(err)?;
    let w = wenming_store::survey::wave(store, wave)
        .await
        .map_err(err)?;
    let q = wenming_store::survey::questionnaire(store, w.questionnaire_id)
        .await
        .map_err(err)?;
    let city = wenming_store::org::whole_city(store).await.map_err(err)?;
    let root = city.region_paths.first().cloned().unwrap_or_default();
    let today = w.opens_on;
    let deadline = Instant::now() + std::time::Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = vec![];
    for k in 0..clients {
        let (store, doc, regions, root) = (
            store.clone(),
            q.doc.clone(),
            w.regions.clone(),
            root.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let permit = wenming_domain::policy::Permit::system(&root);
            let mut x: u64 =
                0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D);
            let mut next = |m: u64| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % m
            };
            let (mut ok, mut refused) = (0u64, 0u64);
            while Instant::now() < deadline {
                let r = wenming_store::survey::NewResponse {
                    wave_id: wave,
                    region_id: regions[next(regions.len() as u64) as usize],
                    group: Group::Residents,
                    age_band: AgeBand::ALL[next(4) as usize],
                    sex: Sex::ALL[next(2) as usize],
                    channel: wenming_store::survey::Channel::Public,
                    answers: answers_for(&doc, Group::Residents, &mut next),
                };
                let device = format!("{:016x}{:016x}{k:08x}", next(u64::MAX), next(u64::MAX));
                match wenming_store::survey::submit_public(&store, &permit, &r, &device, today)
                    .await
                {
                    Ok(()) => ok += 1,
                    Err(_) => refused += 1,
                }
            }
            (ok, refused)
        }));
    }
    let (mut ok, mut refused) = (0u64, 0u64);
    for t in tasks {
        let (o, r) = t.await.map_err(err)?;
        ok += o;
        refused += r;
    }
    Ok((ok as f64 / started.elapsed().as_secs_f64(), refused))
}
