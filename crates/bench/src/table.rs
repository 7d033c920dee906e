//! The benchmark table (`wenming-bench bench`): a synthetic city generated
//! into a scratch database, the raw baselines and the server on it in the
//! same run, written to docs/benchmarks.md; and the progress lines `gen`
//! prints.

use crate::baseline::*;
use crate::generate::{GenSpec, generate};
use crate::load::*;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wenming_store::{Store, StoreConfig};

/// Fills a database with a synthetic city, printing progress and an ETA.
/// Adds about `n` findings in daily patrol rounds, with a progress line.
pub async fn findings_into(store: &Store, n: u64, seed: u64) -> Result<f64, String> {
    let started = Instant::now();
    let mut last = Instant::now();
    let written = crate::findings::findings(store, n, seed, |done| {
        if last.elapsed() >= Duration::from_millis(500) {
            last = Instant::now();
            let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
            eprint!(
                "\r{done}/{n} findings, {rate:.0}/s, ETA {:.0} s   ",
                n.saturating_sub(done) as f64 / rate.max(1.0)
            );
            let _ = std::io::stderr().flush();
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Generated {written} findings in {secs:.1} s ({:.0}/s).",
        written as f64 / secs.max(1e-3)
    );
    Ok(secs)
}

pub async fn gen_into(store: &Store, spec: &GenSpec) -> Result<f64, String> {
    let started = Instant::now();
    let total = spec.cases;
    let mut last = Instant::now();
    let report = generate(store, spec, |done| {
        if last.elapsed() >= Duration::from_millis(500) || done == total {
            last = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            let rate = done as f64 / secs.max(1e-3);
            let eta = (total - done) as f64 / rate.max(1.0);
            let width = 30;
            let filled = (done as usize * width) / total.max(1) as usize;
            eprint!(
                "\r[{}{}] {done}/{total} cases, {rate:.0}/s, ETA {eta:.0} s   ",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            let _ = std::io::stderr().flush();
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    eprintln!();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Generated {} cases and {} events in {secs:.1} s ({:.0} cases/s).",
        report.cases,
        report.events,
        report.cases as f64 / secs.max(1e-3)
    );
    Ok(secs)
}

pub struct BenchSpec {
    pub cases: u64,
    pub findings: u64,
    pub seed: u64,
    pub postgres_admin_url: Option<String>,
    pub output: std::path::PathBuf,
    pub duration: Duration,
    pub work_dir: std::path::PathBuf,
    /// The `wenming` binary measured (run as `wenming serve`).
    pub server: std::path::PathBuf,
}

struct Row {
    measure: String,
    result: String,
    baseline: String,
    ratio: String,
    goal: String,
    verdict: String,
}

fn row(
    measure: &str,
    result: String,
    baseline: String,
    ratio: String,
    goal: &str,
    met: Option<bool>,
) -> Row {
    Row {
        measure: measure.into(),
        result,
        baseline,
        ratio,
        goal: goal.into(),
        verdict: match met {
            Some(true) => "met".into(),
            Some(false) => "**missed**".into(),
            None => "—".into(),
        },
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Runs the whole table on one backend; returns its rows.
async fn bench_backend(
    spec: &BenchSpec,
    label: &str,
    url: &str,
    data_dir: &std::path::Path,
) -> Result<Vec<Row>, String> {
    let mut rows = vec![];
    let store = Store::connect(&StoreConfig {
        url: url.into(),
        max_connections: 10,
        timezone: default_timezone(),
    })
    .await
    .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    println!("== {label}: generating {} cases", spec.cases);
    let gen_secs = gen_into(
        &store,
        &GenSpec {
            cases: spec.cases,
            seed: spec.seed,
            force: false,
            until: crate::generate::today(),
        },
    )
    .await?;
    rows.push(row(
        &format!("generate {} cases (with their events)", spec.cases),
        format!(
            "{gen_secs:.0} s ({:.0} cases/s)",
            spec.cases as f64 / gen_secs
        ),
        "—".into(),
        "—".into(),
        "minutes, not hours",
        Some(gen_secs < 15.0 * 60.0),
    ));
    println!("== {label}: generating {} findings", spec.findings);
    let find_secs = findings_into(&store, spec.findings, spec.seed).await?;
    rows.push(row(
        &format!("generate {} findings (daily patrol rounds)", spec.findings),
        format!(
            "{find_secs:.0} s ({:.0} findings/s)",
            spec.findings as f64 / find_secs.max(1e-3)
        ),
        "—".into(),
        "—".into(),
        "—",
        None,
    ));
    rows.push(round_scores(&store, spec.findings).await?);
    // Baselines, before the server starts, on the same database.
    println!("== {label}: raw baselines");
    let raw_insert = crate::baseline::raw_insert_rate(&store, spec.duration / 2)
        .await
        .map_err(|e| e.to_string())?;
    // The statement the list page runs, joins and all, for each unit the
    // list load below picks from, with no web stack.
    let units: Vec<String> = sqlx::query_scalar("SELECT id FROM unit ORDER BY name LIMIT 500")
        .fetch_all(store.reader())
        .await
        .map_err(|e| e.to_string())?;
    let city = wenming_store::org::whole_city(&store)
        .await
        .map_err(|e| e.to_string())?;
    let list_statements: Vec<_> = units
        .iter()
        .filter_map(|u| uuid::Uuid::parse_str(u).ok())
        .map(|u| {
            wenming_store::case::list_statement(
                &store,
                &city,
                &wenming_store::case::CaseFilter {
                    states: vec![wenming_domain::case::CaseState::Closed],
                    unit_id: Some(u),
                    limit: 50,
                    ..Default::default()
                },
            )
        })
        .collect();
    let now = jiff::Timestamp::now();
    let month_start = now
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .first_of_month()
        .to_datetime(jiff::civil::Time::midnight())
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_err(|e| e.to_string())?
        .timestamp()
        .as_microsecond();
    let group_sql = format!(
        "SELECT unit_id, COUNT(*), SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END) FROM case_record \
         WHERE registered_at >= {month_start} GROUP BY unit_id"
    );
    let (raw_group_p50, _) =
        raw_query_ms(&store, &[wenming_store::sql::Sql::new(&group_sql)], 20).await?;

    // The server, as its own process on this database.
    let port = free_port()?;
    let exe = &spec.server;
    let t0 = Instant::now();
    let mut child = std::process::Command::new(exe)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("WENMING_DATABASE_URL", url)
        .env("WENMING_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        // Warnings and errors kept beside the database, for a failed run.
        .stderr(
            std::fs::File::create(data_dir.join("server.log"))
                .map(std::process::Stdio::from)
                .unwrap_or_else(|_| std::process::Stdio::null()),
        )
        .spawn()
        .map_err(|e| e.to_string())?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = None;
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            ready = Some(t0.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let Some(cold) = ready else {
        let _ = child.kill();
        return Err("the server did not become ready in 3 s".into());
    };
    let pid = child.id();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(pid).unwrap_or(0);
    let office: String = sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'office'")
        .fetch_one(store.reader())
        .await
        .map_err(|e| e.to_string())?;
    let (_, token) = wenming_store::accounts::create_token(
        &store,
        &wenming_store::Ctx::system("bench"),
        office.parse().map_err(|_| "office id".to_string())?,
        "bench",
        false,
        Some(1),
    )
    .await
    .map_err(|e| e.to_string())?;
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(idle));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                if let Some(k) = rss_kib(pid) {
                    peak.fetch_max(k, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let load = |mix, concurrency| LoadSpec {
        base: base.clone(),
        token: token.clone(),
        mix,
        concurrency,
        max_requests: u64::MAX,
        duration: spec.duration,
    };
    println!("== {label}: load");
    let intake = run_load(&load(Mix::Intake, 64)).await?;
    print_load(Mix::Intake, 64, &intake);
    let photo = wenming_store::photo::noise_jpeg(99, PHOTO_SIDE.0, PHOTO_SIDE.1);
    let raw_files = raw_file_rate(data_dir, &photo, spec.duration / 2)?;
    let raw_photos = raw_photo_rate(data_dir, &photo, spec.duration / 2)?;
    let with_photo = run_load(&load(Mix::IntakePhoto, 16)).await?;
    print_load(Mix::IntakePhoto, 16, &with_photo);
    // Latency is the goal here: one client at a time, as the raw baseline
    // runs, so the harness's own work on these two cores does not queue it.
    // Both are measured one after the other once the writes of the loads
    // above are flushed, so that neither meets the other's checkpoint.
    settle(&store).await?;
    let (raw_list_p50, raw_list_p99) = raw_query_ms(&store, &list_statements, 200).await?;
    let list = run_load(&load(Mix::List, 1)).await?;
    print_load(Mix::List, 1, &list);
    let list8 = run_load(&load(Mix::List, 8)).await?;
    print_load(Mix::List, 8, &list8);
    let case = run_load(&load(Mix::Case, 8)).await?;
    print_load(Mix::Case, 8, &case);
    let metrics = run_load(&LoadSpec {
        max_requests: 20,
        ..load(Mix::Metrics, 1)
    })
    .await?;
    print_load(Mix::Metrics, 1, &metrics);
    let sync = sync_findings(&store, &base, &token, 500).await?;
    sampler.abort();
    let _ = child.kill();
    let _ = child.wait();

    let ratio = intake.rate() / raw_insert;
    rows.push(row(
        "case intake, no photos, 64 clients",
        format!(
            "{:.0}/s (p99 {:.0} ms, {} errors)",
            intake.rate(),
            intake.p99_ms,
            intake.errors
        ),
        format!("{raw_insert:.0} rows/s single-row durable insert loop"),
        format!("{ratio:.2}"),
        "≥ 0.5 × raw",
        Some(ratio >= 0.5 && intake.errors == 0),
    ));
    let ratio = with_photo.rate() / raw_files;
    rows.push(row(
        &format!(
            "case intake with a {:.1} MB photo ({}×{} noise; upload, then report), 16 clients",
            photo.len() as f64 / 1024.0 / 1024.0,
            PHOTO_SIDE.0,
            PHOTO_SIDE.1
        ),
        format!(
            "{:.0}/s (p99 {:.0} ms, {} errors)",
            with_photo.rate(),
            with_photo.p99_ms,
            with_photo.errors
        ),
        format!("{raw_files:.0} files/s durable write + SHA-256 loop"),
        format!("{ratio:.2}"),
        "≥ 0.7 × raw",
        Some(ratio >= 0.7 && with_photo.errors == 0),
    ));
    let ratio = with_photo.rate() / raw_photos;
    rows.push(row(
        "the same, against the same work without the web stack",
        format!("{:.0}/s", with_photo.rate()),
        format!(
            "{raw_photos:.0}/s examined (decoded, thumbnail, hashes) and written durably, {} threads",
            std::thread::available_parallelism().map_or(2, |n| n.get())
        ),
        format!("{ratio:.2}"),
        "≥ 0.7 × raw",
        Some(ratio >= 0.7 && with_photo.errors == 0),
    ));
    rows.push(row(
        "filtered list (one unit, closed, 50 a page), one client",
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({:.0}/s)",
            list.p50_ms,
            list.p99_ms,
            list.rate()
        ),
        format!("raw SQL p50 {raw_list_p50:.1} ms, p99 {raw_list_p99:.1} ms"),
        format!("{:.1}", list.p99_ms / raw_list_p99.max(0.001)),
        "p99 ≤ 20 ms and ≤ 1.5 × raw",
        Some(
            list.p99_ms <= 20.0 && list.p99_ms <= 1.5 * raw_list_p99.max(0.001) && list.errors == 0,
        ),
    ));
    rows.push(row(
        "the same list, 8 clients",
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({:.0}/s)",
            list8.p50_ms,
            list8.p99_ms,
            list8.rate()
        ),
        "—".into(),
        "—".into(),
        "—",
        None,
    ));
    rows.push(row(
        "one case by id, 8 clients",
        format!(
            "p50 {:.1} ms, p99 {:.1} ms ({:.0}/s)",
            case.p50_ms,
            case.p99_ms,
            case.rate()
        ),
        "—".into(),
        "—".into(),
        "—",
        None,
    ));
    rows.push(row(
        "month metrics across all units",
        format!("p50 {:.0} ms, p99 {:.0} ms", metrics.p50_ms, metrics.p99_ms),
        format!("raw GROUP BY p50 {raw_group_p50:.0} ms"),
        format!("{:.1}", metrics.p50_ms / raw_group_p50.max(0.001)),
        "≤ 200 ms",
        Some(metrics.p99_ms <= 200.0 && metrics.errors == 0),
    ));
    rows.push(sync);
    rows.push(row(
        &format!("cold start to ready, {} cases", spec.cases),
        format!("{} ms", cold.as_millis()),
        "—".into(),
        "—".into(),
        "≤ 300 ms",
        Some(cold.as_millis() <= 300),
    ));
    rows.push(row(
        "RSS idle",
        format!("{:.1} MB", idle as f64 / 1024.0),
        "—".into(),
        "—".into(),
        "≤ 40 MB",
        Some(idle <= 40 * 1024),
    ));
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    rows.push(row(
        "RSS under the load above",
        format!("{:.1} MB", peak as f64 / 1024.0),
        "—".into(),
        "—".into(),
        "≤ 150 MB",
        Some(peak <= 150 * 1024),
    ));
    Ok(rows)
}

/// Every round's score rate, computed as the rounds list does, against one
/// raw GROUP BY over the same findings, a few times each in turn.
async fn round_scores(store: &Store, findings: u64) -> Result<Row, String> {
    println!("== round scores over {findings} findings");
    let raw =
        wenming_store::sql::Sql::new("SELECT round_id, COUNT(*) FROM finding GROUP BY round_id");
    let (mut ours, mut theirs) = (vec![], vec![]);
    for _ in 0..5 {
        let t0 = Instant::now();
        raw.query()
            .fetch_all(store.reader())
            .await
            .map_err(|e| e.to_string())?;
        theirs.push(t0.elapsed().as_micros() as u64);
        let t0 = Instant::now();
        let scores = wenming_store::inspection::scores_by_round(store, None)
            .await
            .map_err(|e| e.to_string())?;
        ours.push(t0.elapsed().as_micros() as u64);
        if scores.is_empty() {
            return Err("no round scores".into());
        }
    }
    ours.sort_unstable();
    theirs.sort_unstable();
    let (a, b) = (percentile(&ours, 0.5), percentile(&theirs, 0.5));
    Ok(row(
        &format!("score rate of every round, {findings} findings"),
        format!("p50 {a:.0} ms"),
        format!("raw GROUP BY p50 {b:.0} ms"),
        format!("{:.2}", a / b.max(0.001)),
        "≤ 2 × raw",
        Some(a <= 2.0 * b),
    ))
}

/// A finding as the phone queues it: its id, its standard, its photo's id.
type Queued = (uuid::Uuid, String, uuid::Uuid);

/// An inspector's phone sending `n` queued findings, each with a 1 MB
/// photo, over loopback: photos first under their own ids, then each
/// site's findings; then everything sent again, as after lost replies.
/// Checks that every finding and photo arrived once.
async fn sync_findings(store: &Store, base: &str, token: &str, n: usize) -> Result<Row, String> {
    println!("== sync of {n} findings with 1 MB photos");
    let http = reqwest::Client::new();
    let api = format!("{base}/api/v1");
    let call = |req: reqwest::RequestBuilder| async move {
        let r = req
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = r.status();
        let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {v}"));
        }
        Ok::<_, String>(v)
    };
    // Enough rounds over every site to hold n checklist items.
    let mut todo: Vec<(String, String, Vec<String>)> = vec![];
    let mut seed = 7_000;
    while todo.iter().map(|t| t.2.len()).sum::<usize>() < n {
        let round = call(http.post(format!("{api}/rounds")).json(&serde_json::json!({
            "name": format!("同步测试 {seed}"), "kind": "supervision", "starts_on": "2026-11-23",
            "ends_on": "2026-11-27", "sample_size": 2000, "seed": seed,
            "not_where_they_work": false, "not_twice_in_a_row": false
        })))
        .await?;
        seed += 1;
        let rid = round["id"].as_str().unwrap_or_default().to_string();
        let sites = call(http.get(format!("{api}/rounds/{rid}/sites"))).await?;
        for s in sites.as_array().into_iter().flatten() {
            let sid = s["site_id"].as_str().unwrap_or_default().to_string();
            let list = call(http.get(format!("{api}/rounds/{rid}/sites/{sid}/checklist"))).await?;
            let items: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .filter(|c| c["observation"]["kind"] == "pass_fail")
                .filter_map(|c| c["standard_id"].as_str().map(str::to_string))
                .collect();
            if !items.is_empty() {
                todo.push((rid.clone(), sid, items));
            }
        }
    }
    let mut left = n;
    for t in &mut todo {
        t.2.truncate(left);
        left -= t.2.len();
    }
    todo.retain(|t| !t.2.is_empty());
    // About 1 MB each: noise JPEG at this size, a few distinct pictures.
    let pictures: Vec<Vec<u8>> = (0..8)
        .map(|i| wenming_store::photo::noise_jpeg(500 + i, 780, 580))
        .collect();
    let photo_mb = pictures[0].len() as f64 / 1e6;
    // The queue as the phone holds it: ids made on the device.
    let queue: Vec<(String, String, Vec<Queued>)> = todo
        .iter()
        .map(|(r, s, items)| {
            (
                r.clone(),
                s.clone(),
                items
                    .iter()
                    .map(|std| (uuid::Uuid::new_v4(), std.clone(), uuid::Uuid::new_v4()))
                    .collect(),
            )
        })
        .collect();
    let findings_before = count(store, "finding").await?;
    let photos_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM photo WHERE finding_id IS NOT NULL")
            .fetch_one(store.reader())
            .await
            .map_err(|e| e.to_string())?;
    let send = |round: &str, site: &str, items: &[Queued], k: usize| {
        let (round, site) = (round.to_string(), site.to_string());
        let body = serde_json::json!({ "findings": items.iter().enumerate().map(|(i, (id, std, photo))| serde_json::json!({
            "id": id, "standard_id": std,
            "recorded": { "result": if (k + i).is_multiple_of(10) { "fail" } else { "pass" } },
            "photo_ids": [photo], "observed_at": jiff::Timestamp::now().to_string(),
        })).collect::<Vec<_>>() });
        (round, site, body)
    };
    let mut times = vec![];
    for pass in 0..2 {
        let t0 = Instant::now();
        let mut k = 0;
        for (round, site, items) in &queue {
            for (i, (_, _, photo)) in items.iter().enumerate() {
                let bytes = pictures[(k + i) % pictures.len()].clone();
                call(
                    http.post(format!("{api}/photos?client_id={photo}"))
                        .header("content-type", "application/octet-stream")
                        .body(bytes),
                )
                .await?;
            }
            let (round, site, body) = send(round, site, items, k);
            let done = call(
                http.post(format!("{api}/rounds/{round}/sites/{site}/findings"))
                    .json(&body),
            )
            .await?;
            if pass == 1 && done["created"] != 0 {
                return Err(format!("sending again created findings: {done}"));
            }
            k += items.len();
        }
        times.push(t0.elapsed().as_secs_f64());
    }
    let arrived = count(store, "finding").await? - findings_before;
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photo WHERE finding_id IS NOT NULL")
        .fetch_one(store.reader())
        .await
        .map_err(|e| e.to_string())?;
    let photos = photos - photos_before;
    let ok = arrived == n as i64 && photos == n as i64;
    Ok(row(
        &format!("sync of {n} queued findings, each with a {photo_mb:.1} MB photo"),
        format!(
            "{:.1} s ({:.0} findings/s); sent again: {:.1} s, nothing created twice",
            times[0],
            n as f64 / times[0],
            times[1]
        ),
        format!("{arrived} findings and {photos} photos arrived"),
        "—".into(),
        "none lost, no duplicates",
        Some(ok),
    ))
}

async fn count(store: &Store, table: &str) -> Result<i64, String> {
    wenming_store::demo::row_count(store, table)
        .await
        .map_err(|e| e.to_string())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map_or_else(String::new, |k| format!(", {} GiB", k / 1024 / 1024));
    format!("{cores} cores ({cpu}){mem}")
}

/// Where the hand-written reading of the table starts in docs/benchmarks.md.
const NOTES_HEADING: &str = "## Reading the table";

pub async fn bench(spec: BenchSpec) -> Result<(), String> {
    std::fs::create_dir_all(&spec.work_dir).map_err(|e| e.to_string())?;
    let mut sections = vec![];
    let sqlite_dir = spec.work_dir.join(format!("sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    std::fs::create_dir_all(&sqlite_dir).map_err(|e| e.to_string())?;
    let sqlite_url = format!("sqlite://{}", sqlite_dir.join("wenming.db").display());
    let rows = bench_backend(&spec, "SQLite", &sqlite_url, &sqlite_dir).await?;
    sections.push(("SQLite (WAL, synchronous = FULL)".to_string(), rows));
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    if let Some(admin) = &spec.postgres_admin_url {
        let name = format!("wenming_bench_{}", std::process::id());
        let admin_store = Store::connect(&StoreConfig {
            url: admin.clone(),
            max_connections: 1,
            timezone: default_timezone(),
        })
        .await
        .map_err(|e| e.to_string())?;
        crate::baseline::execute(&admin_store, &format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| e.to_string())?;
        let (prefix, _) = admin
            .rsplit_once('/')
            .ok_or("a PostgreSQL URL ends in /DATABASE")?;
        let url = format!("{prefix}/{name}");
        let dir = spec.work_dir.join(format!("pg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let result = bench_backend(&spec, "PostgreSQL", &url, &dir).await;
        let _ = crate::baseline::execute(
            &admin_store,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await;
        let _ = std::fs::remove_dir_all(&dir);
        sections.push((
            "PostgreSQL (same machine, default settings)".to_string(),
            result?,
        ));
    }
    let size = std::fs::metadata(&spec.server)
        .map(|m| m.len())
        .unwrap_or(0);
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut md = String::new();
    md.push_str("# Benchmarks\n\n");
    md.push_str(&format!(
        "Measured by `bench/run` (which runs `wenming-bench bench`) on {}, {}, commit {commit}, \
         {} generated cases, {} s per load run. Each goal is compared with the raw database \
         measured in the same run on the same file or server. Regenerate this file with `bench/run`.\n\n",
        jiff::Timestamp::now().strftime("%Y-%m-%d"),
        machine(),
        spec.cases,
        spec.duration.as_secs()
    ));
    md.push_str(&format!(
        "Release binary: {:.1} MB ({}).\n\n",
        size as f64 / 1024.0 / 1024.0,
        if cfg!(debug_assertions) {
            "a debug build: figures below are not representative"
        } else {
            "release build"
        }
    ));
    for (title, rows) in sections {
        md.push_str(&format!("## {title}\n\n| measure | result | baseline | ratio | goal | |\n|---|---|---|---|---|---|\n"));
        for r in rows {
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                r.measure, r.result, r.baseline, r.ratio, r.goal, r.verdict
            ));
        }
        md.push('\n');
    }
    // The reading of the figures is written by hand below them; keep it.
    if let Ok(old) = std::fs::read_to_string(&spec.output)
        && let Some(at) = old.find(NOTES_HEADING)
    {
        md.push_str(&old[at..]);
    }
    std::fs::write(&spec.output, md).map_err(|e| e.to_string())?;
    println!("Wrote {}.", spec.output.display());
    Ok(())
}

/// The city's zone, as `wenming` defaults to it.
pub fn default_timezone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC)
}

/// The `wenming` binary beside this one (both are built into one target
/// folder).
pub fn server_beside_me() -> std::path::PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name(format!("wenming{}", std::env::consts::EXE_SUFFIX))
}
