//! The load harness (`wenming-bench load`): one request mix against a
//! running wenming on this machine, bounded by a count and a duration,
//! reporting throughput, p50/p95/p99 and errors.

use crate::baseline::percentile;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mix {
    /// Reports without photos (POST /cases).
    Intake,
    /// Reports with one photo of about 2 MB (POST /photos, then POST /cases).
    IntakePhoto,
    /// One unit's cases in one state, a page of 50.
    List,
    /// One case by id.
    Case,
    /// The month's metrics across all units.
    Metrics,
}

#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub base: String,
    pub token: String,
    pub mix: Mix,
    pub concurrency: usize,
    pub max_requests: u64,
    pub duration: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    pub requests: u64,
    pub errors: u64,
    pub secs: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub first_error: Option<String>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.secs.max(1e-9)
    }
}

/// Only this machine: a load generator must not be pointed at someone else.
pub fn check_loopback(base: &str) -> Result<(), String> {
    let host = base
        .strip_prefix("http://")
        .and_then(|r| r.split(['/', ':']).next())
        .unwrap_or("");
    if matches!(host, "127.0.0.1" | "localhost" | "[") || base.starts_with("http://[::1]") {
        Ok(())
    } else {
        Err(format!(
            "{base}: the load harness only drives a server on this machine (http://127.0.0.1:PORT)"
        ))
    }
}

/// What the mixes pick from, read once through the API.
struct Targets {
    categories: Vec<String>,
    units: Vec<String>,
    cases: Vec<String>,
    /// Distinct large photos for the photo mix.
    photos: Vec<Vec<u8>>,
}

/// The size of the photo the photo mix sends: noise at this size is about
/// 2 MB (a phone's 2 MB photo has more pixels, being a real scene).
pub const PHOTO_SIDE: (u32, u32) = (1100, 820);

async fn targets(http: &reqwest::Client, spec: &LoadSpec) -> Result<Targets, String> {
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}/api/v1{path}", spec.base);
        let token = spec.token.clone();
        async move {
            let r = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if !r.status().is_success() {
                return Err(format!("{path}: HTTP {}", r.status()));
            }
            r.json::<serde_json::Value>()
                .await
                .map_err(|e| e.to_string())
        }
    };
    let ids = |v: &serde_json::Value, filter: &dyn Fn(&serde_json::Value) -> bool| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter(|x| filter(x))
            .filter_map(|x| x["id"].as_str().map(str::to_string))
            .collect()
    };
    let categories = ids(&get("/categories".into()).await?, &|c| {
        !c["parent_id"].is_null() && c["active"] == true
    });
    let units = ids(&get("/units?limit=500".into()).await?["items"], &|_| true);
    let cases = ids(&get("/cases?limit=500".into()).await?["items"], &|_| true);
    let photos = if spec.mix == Mix::IntakePhoto {
        // Distinct pictures, so that most uploads are new ones as in a
        // working city; some come round again and are flagged as re-used.
        (0..32)
            .map(|i| wenming_store::photo::noise_jpeg(i, PHOTO_SIDE.0, PHOTO_SIDE.1))
            .collect()
    } else {
        vec![]
    };
    Ok(Targets {
        categories,
        units,
        cases,
        photos,
    })
}

/// Drives one mix with `concurrency` clients until `max_requests` are made
/// or `duration` has passed, whichever comes first.
pub async fn run_load(spec: &LoadSpec) -> Result<LoadResult, String> {
    check_loopback(&spec.base)?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(spec.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let t = Arc::new(targets(&http, spec).await?);
    if t.categories.is_empty() || t.units.is_empty() {
        return Err(
            "the server has no categories or units to drive; run `wenming-bench gen` first".into(),
        );
    }
    let issued = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + spec.duration;
    let mut tasks = vec![];
    for worker in 0..spec.concurrency {
        let (http, t, issued, spec) = (http.clone(), t.clone(), issued.clone(), spec.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let (mut errors, mut first_error) = (0u64, None);
            let mut n = worker as u64;
            loop {
                if Instant::now() >= deadline
                    || issued.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        >= spec.max_requests
                {
                    break;
                }
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = |v: &[String]| v[(n >> 33) as usize % v.len().max(1)].clone();
                let api = format!("{}/api/v1", spec.base);
                let t0 = Instant::now();
                // The photo mix uploads first; the pair is one measured request.
                let mut photo_ids: Vec<String> = vec![];
                let mut upload_ok = true;
                if spec.mix == Mix::IntakePhoto {
                    let mut bytes = t.photos[(n >> 40) as usize % t.photos.len()].clone();
                    // Bytes after the image's end: another file, the same picture.
                    bytes.extend_from_slice(&n.to_le_bytes());
                    let up = http
                        .post(format!("{api}/photos"))
                        .bearer_auth(&spec.token)
                        .header("content-type", "application/octet-stream")
                        .body(bytes)
                        .send()
                        .await;
                    match up {
                        Ok(r) if r.status().is_success() => {
                            let v: serde_json::Value = r.json().await.unwrap_or_default();
                            photo_ids.push(v["id"].as_str().unwrap_or_default().to_string());
                        }
                        Ok(r) => {
                            upload_ok = false;
                            first_error
                                .get_or_insert_with(|| format!("upload: HTTP {}", r.status()));
                        }
                        Err(e) => {
                            upload_ok = false;
                            first_error.get_or_insert_with(|| format!("upload: {e}"));
                        }
                    }
                }
                let req = match spec.mix {
                    Mix::Intake | Mix::IntakePhoto => {
                        let lon = 118.601 + ((n >> 20) % 3580) as f64 / 10_000.0;
                        let lat = 31.201 + ((n >> 40) % 3580) as f64 / 10_000.0;
                        http.post(format!("{api}/cases")).json(&serde_json::json!({
                            "source": "hotline", "category_id": pick(&t.categories),
                            "description": "压测：路边垃圾堆积", "lon": lon, "lat": lat,
                            "client_id": uuid::Uuid::new_v4(), "photo_ids": photo_ids,
                        }))
                    }
                    Mix::List => http.get(format!(
                        "{api}/cases?unit_id={}&state=closed&limit=50",
                        pick(&t.units)
                    )),
                    Mix::Case if !t.cases.is_empty() => {
                        http.get(format!("{api}/cases/{}", pick(&t.cases)))
                    }
                    Mix::Case => http.get(format!("{api}/cases?limit=1")),
                    Mix::Metrics => http.get(format!("{api}/metrics")),
                };
                let r = req.bearer_auth(&spec.token).send().await;
                let ok = match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        true
                    }
                    Ok(r) => {
                        first_error.get_or_insert_with(|| format!("HTTP {}", r.status()));
                        false
                    }
                    Err(e) => {
                        first_error.get_or_insert_with(|| e.to_string());
                        false
                    }
                };
                lat.push(t0.elapsed().as_micros() as u64);
                if !ok || !upload_ok {
                    errors += 1;
                }
            }
            (lat, errors, first_error)
        }));
    }
    let mut all = vec![];
    let mut result = LoadResult::default();
    for task in tasks {
        let (lat, errors, first) = task.await.map_err(|e| e.to_string())?;
        all.extend(lat);
        result.errors += errors;
        if result.first_error.is_none() {
            result.first_error = first;
        }
    }
    result.secs = started.elapsed().as_secs_f64();
    all.sort_unstable();
    result.requests = all.len() as u64;
    result.p50_ms = percentile(&all, 0.50);
    result.p95_ms = percentile(&all, 0.95);
    result.p99_ms = percentile(&all, 0.99);
    Ok(result)
}

pub fn print_load(mix: Mix, concurrency: usize, r: &LoadResult) {
    println!(
        "{mix:?} × {concurrency}: {} requests in {:.1} s = {:.0}/s; p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; {} errors{}",
        r.requests,
        r.secs,
        r.rate(),
        r.p50_ms,
        r.p95_ms,
        r.p99_ms,
        r.errors,
        r.first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
}
