//! The evidence archive at the benchmark's sizes (docs/benchmarks.md,
//! `bench/evidence.sh`): a framework of many standards with a hundred
//! thousand materials for the completeness view, or ten thousand materials
//! with real files for the filing package, and the raw baseline the
//! package is held to (the same files copied into a stored zip).

use sha2::{Digest, Sha256};
use std::time::Instant;
use uuid::Uuid;
use wenming_store::files::Files;
use wenming_store::{Ctx, Store};

/// What `fill` makes.
pub struct FillSpec {
    /// Replace the demo's framework by one with this many standards, each
    /// reviewed by materials (0: keep the demo's).
    pub standards: usize,
    pub materials: u64,
    /// With real files of this size (0: rows only, for the completeness
    /// view, which never reads a file).
    pub file_bytes: usize,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The demo framework grown to `n` standards (copies of each indicator's
/// standards, renamed), every one reviewed by materials with two types.
fn wide_framework(n: usize) -> wenming_domain::framework::FrameworkDoc {
    use wenming_domain::framework::*;
    let mut doc = wenming_store::demo::demo_framework();
    doc.name = format!("基准测评体系（{n} 项标准）");
    doc.year += 10;
    doc.basic_total = None;
    doc.featured_total = None;
    let mut count = standards(&doc).len();
    let mut round = 1;
    while count < n {
        for aspect in &mut doc.tree {
            aspect.points = None;
            for ind in &mut aspect.children {
                ind.points = None;
                if count >= n {
                    continue;
                }
                if let Some(first) = ind.children.first().cloned() {
                    let mut copy = first;
                    copy.code = None;
                    copy.title = format!("{}（补充 {round}）", copy.title);
                    ind.children.push(copy);
                    count += 1;
                }
            }
        }
        round += 1;
    }
    for aspect in &mut doc.tree {
        aspect.points = None;
        for ind in &mut aspect.children {
            ind.points = None;
            for s in &mut ind.children {
                s.code = None;
                if let Some(spec) = s.standard.as_mut() {
                    if !spec.methods.contains(&Method::MaterialReview) {
                        spec.methods.push(Method::MaterialReview);
                    }
                    spec.evidence_types = vec![EvidenceType::PolicyDocument, EvidenceType::Photo];
                }
            }
        }
    }
    assign_codes(&mut doc.tree);
    doc
}

/// Fills the archive of the database's active framework (after putting a
/// wide one in force when asked), spreading materials over its
/// requirements, most accepted, all dated inside the window; returns the
/// framework and the files' paths for the baseline.
pub async fn fill(
    store: &Store,
    files: &Files,
    spec: &FillSpec,
) -> Result<(Uuid, Vec<String>), String> {
    let ctx = Ctx::system("bench");
    let city = wenming_store::org::whole_city(store).await.map_err(err)?;
    let root = city.region_paths.first().cloned().unwrap_or_default();
    if spec.standards > 0 {
        let doc = wide_framework(spec.standards);
        let manage = wenming_domain::policy::Permit::system(&root);
        let (id, _) = wenming_store::framework::import(store, &ctx, &manage, &doc, false)
            .await
            .map_err(err)?;
        let f = wenming_store::framework::get(store, id)
            .await
            .map_err(err)?;
        wenming_store::framework::set_status(
            store,
            &ctx,
            &manage,
            id,
            f.version,
            wenming_domain::framework::FrameworkStatus::Active,
        )
        .await
        .map_err(err)?;
    }
    let fw = wenming_store::framework::active(store)
        .await
        .map_err(err)?
        .ok_or("no framework in force")?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let reqs =
        wenming_store::evidence::requirements(store, &city, fw.id, &Default::default(), today)
            .await
            .map_err(err)?;
    let reqs: Vec<_> = reqs.into_iter().filter(|q| q.unit_id.is_some()).collect();
    if reqs.is_empty() {
        return Err("the framework has no requirement with a unit".into());
    }
    let window = wenming_store::evidence::window(store, fw.id, today)
        .await
        .map_err(err)?;
    let doc_date = window.last_day().min(today).to_string();
    let started = Instant::now();
    let mut keys = vec![];
    let now = jiff::Timestamp::now().as_microsecond();
    let mut i = 0u64;
    while i < spec.materials {
        let mut tx = store.begin().await.map_err(err)?;
        for _ in 0..500 {
            if i >= spec.materials {
                break;
            }
            let q = &reqs[(i as usize) % reqs.len()];
            let (sha, size) = if spec.file_bytes > 0 {
                // Distinct bytes that barely compress, as scans and photos.
                let mut body = Vec::with_capacity(spec.file_bytes);
                body.extend_from_slice(format!("%PDF-1.7\n% bench {i}\n").as_bytes());
                let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                while body.len() < spec.file_bytes - 6 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    body.extend_from_slice(&x.to_le_bytes());
                }
                body.truncate(spec.file_bytes - 6);
                body.extend_from_slice(b"%%EOF\n");
                let sha = hex::encode(Sha256::digest(&body));
                let key = format!("materials/{sha}");
                let size = body.len() as i64;
                files.put(&key, body.into()).await.map_err(err)?;
                keys.push(key);
                (sha, size)
            } else {
                (hex::encode(Sha256::digest(i.to_le_bytes())), 120_000)
            };
            sqlx::query("INSERT INTO evidence_file (sha256, kind, size, stored_at) VALUES ($1, 'pdf', $2, $3)")
                .bind(&sha)
                .bind(size)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(err)?;
            let mid = Uuid::now_v7().to_string();
            sqlx::query(
                "INSERT INTO material (id, sha256, evidence_type, title, doc_date, doc_number, file_name, unit_id, \
                 uploaded_by, created_at, generated_from, photo_flags) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, NULL, $8, NULL, NULL)",
            )
            .bind(&mid)
            .bind(&sha)
            .bind(q.evidence_type.code())
            .bind(format!("基准材料 {i}"))
            .bind(&doc_date)
            .bind(format!("bench-{i}.pdf"))
            .bind(q.unit_id.map(|u| u.to_string()))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            // Seven in ten accepted, two waiting, one returned; for the
            // package, all accepted (it holds only those).
            let state = match i % 10 {
                _ if spec.file_bytes > 0 => "accepted",
                0..=6 => "accepted",
                7 | 8 => "submitted",
                _ => "returned",
            };
            sqlx::query(
                "INSERT INTO submission (id, requirement_id, material_id, state, reason, submitted_by, submitted_at, \
                 decided_by, decided_at, version, doc_date) VALUES ($1, $2, $3, $4, NULL, NULL, $5, NULL, NULL, 1, $6)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(q.id.to_string())
            .bind(&mid)
            .bind(state)
            .bind(now)
            .bind(&doc_date)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
            i += 1;
        }
        tx.commit().await.map_err(err)?;
    }
    eprintln!(
        "filled {} materials over {} requirements in {:.1} s",
        spec.materials,
        reqs.len(),
        started.elapsed().as_secs_f64()
    );
    Ok((fw.id, keys))
}

/// The raw baseline: the same files read from the folder and written into
/// a stored (uncompressed) zip file beside them and synced to disk, as the
/// package is written into the file store. Returns (seconds, bytes).
pub fn stored_zip_copy(dir: &std::path::Path, keys: &[String]) -> Result<(f64, u64), String> {
    use std::io::Write;
    let out = dir.join("raw-baseline.zip");
    let started = Instant::now();
    let file = std::fs::File::create(&out).map_err(err)?;
    let mut z = zip::ZipWriter::new_stream(std::io::BufWriter::with_capacity(1 << 20, file));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for k in keys {
        let bytes = std::fs::read(dir.join(k)).map_err(err)?;
        z.start_file(k.as_str(), opts).map_err(err)?;
        z.write_all(&bytes).map_err(err)?;
    }
    let mut buffered = z.finish().map_err(err)?.into_inner();
    buffered.flush().map_err(err)?;
    // Durable, as the file store makes the package before it says done.
    buffered
        .into_inner()
        .map_err(|e| e.to_string())?
        .sync_all()
        .map_err(err)?;
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&out).map_err(err)?.len();
    std::fs::remove_file(&out).map_err(err)?;
    Ok((secs, size))
}

/// A requirement of the framework in force built from the monthly case
/// statistics, and the raw baseline its material is held to: one GROUP BY
/// by month and unit over the cases registered in the window so far
/// (registered, due, closed, closed on time), with no web stack, no
/// workbook and no tally table. Returns the requirement and the p50 in ms
/// of the whole set of months.
pub async fn statistics_baseline(store: &Store, times: usize) -> Result<(Uuid, f64), String> {
    let city = wenming_store::org::whole_city(store).await.map_err(err)?;
    let fw = wenming_store::framework::active(store)
        .await
        .map_err(err)?
        .ok_or("no framework in force")?;
    let tz = store.timezone().clone();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let reqs =
        wenming_store::evidence::requirements(store, &city, fw.id, &Default::default(), today)
            .await
            .map_err(err)?;
    let built = reqs.iter().find(|q| {
        matches!(
            q.source,
            Some(wenming_domain::source::Source::CaseStatistics { .. })
        )
    });
    // A generated city has the demo's framework without the sources the
    // demo's materials name: give the first statistics table one.
    let q = match built {
        Some(q) => q,
        None => {
            let q = reqs
                .iter()
                .find(|q| {
                    q.evidence_type == wenming_domain::framework::EvidenceType::StatisticsTable
                })
                .ok_or("the framework in force has no statistics table to build")?;
            sqlx::query("UPDATE evidence_requirement SET source = $1 WHERE id = $2")
                .bind(r#"{"kind":"case_statistics","categories":[]}"#)
                .bind(q.id.to_string())
                .execute(store.writer())
                .await
                .map_err(err)?;
            q
        }
    };
    let w = wenming_store::evidence::window(store, fw.id, today)
        .await
        .map_err(err)?;
    let micros = |d: jiff::civil::Date| -> Result<i64, String> {
        Ok(d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(tz.clone())
            .map_err(err)?
            .timestamp()
            .as_microsecond())
    };
    let last = today.first_of_month().min(w.last_day().first_of_month());
    let end = last.last_of_month().tomorrow().map_err(err)?;
    let (a, b) = (micros(w.start)?, micros(end)?);
    // The month of each case in the city's time zone, in one pass.
    let offset = tz.to_offset(jiff::Timestamp::now()).seconds();
    let month = if store.backend() == wenming_store::Backend::Sqlite {
        format!("strftime('%Y-%m', registered_at / 1000000 + {offset}, 'unixepoch')")
    } else {
        format!(
            "to_char(to_timestamp(registered_at / 1000000.0 + {offset}) AT TIME ZONE 'UTC', 'YYYY-MM')"
        )
    };
    let statements = [format!(
        "SELECT {month} AS m, unit_id, COUNT(*), \
         SUM(CASE WHEN deadline < {b} THEN 1 ELSE 0 END), \
         SUM(CASE WHEN closed_at IS NOT NULL THEN 1 ELSE 0 END), \
         SUM(CASE WHEN closed_at IS NOT NULL AND closed_at <= deadline THEN 1 ELSE 0 END) \
         FROM case_record WHERE registered_at >= {a} AND registered_at < {b} GROUP BY m, unit_id"
    )];
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
    Ok((q.id, crate::baseline::percentile(&lat, 0.5)))
}
