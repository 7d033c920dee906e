//! The projection at the city's size: a database filled by `gen` (cases
//! and patrol findings), `evidence` and `surveys`, whose patrol rounds on
//! the first of each of the last three months are made mock evaluations
//! (the rounds the projection counts by default); then the raw GROUP BYs
//! that read the same rows the projection reads, to measure it against.

use std::time::Instant;
use uuid::Uuid;
use wenming_store::Store;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The first day the projection counts rounds from (its default window).
fn ninety_days_back() -> Result<String, String> {
    let today = crate::generate::today()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    Ok(today
        .checked_sub(jiff::Span::new().days(90))
        .map_err(err)?
        .to_string())
}

/// Makes the patrol rounds held on the first of a month within the last
/// 90 days mock evaluations; returns how many rounds count.
pub async fn mark_mock_rounds(store: &Store) -> Result<usize, String> {
    let since = ninety_days_back()?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, ends_on FROM inspection_round WHERE kind = 'patrol' AND ends_on >= $1",
    )
    .bind(&since)
    .fetch_all(store.reader())
    .await
    .map_err(err)?;
    for (id, ends) in rows.iter().filter(|(_, e)| e.ends_with("-01")) {
        sqlx::query("UPDATE inspection_round SET kind = 'mock', name = $2 WHERE id = $1")
            .bind(id)
            .bind(format!("模拟测评 {ends}"))
            .execute(store.writer())
            .await
            .map_err(err)?;
    }
    let counted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM inspection_round WHERE kind IN ('mock', 'third_party') AND ends_on >= $1",
    )
    .bind(&since)
    .fetch_one(store.reader())
    .await
    .map_err(err)?;
    Ok(counted as usize)
}

/// How many rows each part of the raw baseline read.
pub struct Sizes {
    pub rounds: usize,
    pub findings: i64,
    pub open_cases: i64,
    pub submissions: i64,
}

/// p50 over `runs` of the raw GROUP BYs over the rows the projection reads
/// (the counted rounds' findings by site and standard and by region, open
/// cases by standard, accepted submissions by requirement), in ms.
pub async fn raw_ms(store: &Store, runs: usize) -> Result<(f64, Sizes), String> {
    let since = ninety_days_back()?;
    let framework: String = sqlx::query_scalar("SELECT id FROM framework WHERE status = 'active'")
        .fetch_one(store.reader())
        .await
        .map_err(err)?;
    let rounds: Vec<Uuid> = sqlx::query_scalar::<_, String>(
        "SELECT id FROM inspection_round WHERE kind IN ('mock', 'third_party') AND ends_on >= $1 AND framework_id = $2",
    )
    .bind(&since)
    .bind(&framework)
    .fetch_all(store.reader())
    .await
    .map_err(err)?
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect();
    let mut times = vec![];
    let mut sizes = Sizes {
        rounds: rounds.len(),
        findings: 0,
        open_cases: 0,
        submissions: 0,
    };
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let by_site = wenming_store::sql::rows_for_ids(
            store,
            "SELECT site_id, standard_id, SUM(CASE WHEN outcome = 'pass' THEN 1 ELSE 0 END), COUNT(*) \
             FROM finding WHERE round_id IN ({ids}) GROUP BY site_id, standard_id",
            &rounds,
        )
        .await
        .map_err(err)?;
        let by_region = wenming_store::sql::rows_for_ids(
            store,
            "SELECT s.region_id, SUM(CASE WHEN f.outcome = 'pass' THEN 1 ELSE 0 END), COUNT(*) \
             FROM finding f JOIN site s ON s.id = f.site_id WHERE f.round_id IN ({ids}) GROUP BY s.region_id",
            &rounds,
        )
        .await
        .map_err(err)?;
        let cases: Vec<(String, i64)> = sqlx::query_as(
            "SELECT f.standard_id, COUNT(DISTINCT c.id) FROM finding f JOIN case_record c ON c.id = f.case_id \
             WHERE c.state NOT IN ('rejected', 'voided', 'duplicate', 'closed') GROUP BY f.standard_id",
        )
        .fetch_all(store.reader())
        .await
        .map_err(err)?;
        let materials: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT q.standard_id, q.id, COUNT(s.id) FROM evidence_requirement q \
             LEFT JOIN submission s ON s.requirement_id = q.id AND s.state = 'accepted' \
             WHERE q.framework_id = $1 GROUP BY q.standard_id, q.id",
        )
        .bind(&framework)
        .fetch_all(store.reader())
        .await
        .map_err(err)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        sizes.findings = by_site.len() as i64 + by_region.len() as i64;
        sizes.open_cases = cases.iter().map(|c| c.1).sum();
        sizes.submissions = materials.iter().map(|m| m.2).sum();
    }
    let findings: i64 = wenming_store::sql::rows_for_ids(
        store,
        "SELECT COUNT(*) AS n FROM finding WHERE round_id IN ({ids})",
        &rounds,
    )
    .await
    .map_err(err)?
    .iter()
    .map(|r| sqlx::Row::try_get::<i64, _>(r, "n").unwrap_or(0))
    .sum();
    sizes.findings = findings;
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], sizes))
}
