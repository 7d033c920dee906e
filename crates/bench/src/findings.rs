//! Synthetic inspection history for measuring: daily patrol rounds over the
//! city's sites, each site checked against its checklist, about one finding
//! in ten a failure. Written straight into the tables (no cases opened, no
//! photos): this is load for the score queries, not a story.

use sqlx::Row;
use uuid::Uuid;
use wenming_store::dice::Dice;
use wenming_store::inspection::checklist_for;
use wenming_store::sql::rows;
use wenming_store::{Store, StoreError};

/// Writes patrol rounds until about `target` findings exist in them;
/// `progress` hears the running count. Returns how many were written.
pub async fn findings(
    store: &Store,
    target: u64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, StoreError> {
    let framework = wenming_store::framework::active(store)
        .await?
        .ok_or_else(|| StoreError::invalid("framework", "no_active_framework"))?
        .id;
    let standards = wenming_store::inspection::standards_of(store, framework).await?;
    let mut conn = store.reader().acquire().await?;
    let site_rows = sqlx::query(
        "SELECT s.id, t.code, t.name FROM site s JOIN site_type t ON t.id = s.type_id WHERE s.active = 1 ORDER BY s.code",
    )
    .fetch_all(&mut *conn)
    .await?;
    let inspectors: Vec<String> = sqlx::query_scalar(
        "SELECT u.id FROM app_user u JOIN role_grant g ON g.user_id = u.id AND g.role = 'inspector' ORDER BY u.username",
    )
    .fetch_all(&mut *conn)
    .await?;
    drop(conn);
    let mut sites: Vec<(String, Vec<String>)> = vec![];
    for r in &site_rows {
        let list = checklist_for(
            &standards,
            &r.try_get::<String, _>("code")?,
            &r.try_get::<String, _>("name")?,
        );
        if !list.is_empty() {
            sites.push((
                r.try_get("id")?,
                list.iter().map(|c| c.standard_id.to_string()).collect(),
            ));
        }
    }
    let per_round: u64 = sites.iter().map(|(_, l)| l.len() as u64).sum();
    if per_round == 0 || inspectors.is_empty() {
        return Err(StoreError::invalid("sites", "no_sites_to_sample"));
    }
    let rounds = target.div_ceil(per_round);
    if store.backend() == wenming_store::Backend::Postgres {
        return on_the_server(
            store,
            framework,
            &sites,
            &inspectors,
            rounds,
            seed,
            progress,
        )
        .await;
    }
    let mut dice = Dice(seed ^ 0xF1AD);
    let day = 86_400_000_000i64;
    let start = wenming_store::now_micros() - rounds as i64 * day;
    let mut written = 0u64;
    let rounds_per_tx = (20_000 / per_round).max(1);
    let mut k = 0u64;
    while k < rounds {
        let mut tx = store.begin().await?;
        for r in k..(k + rounds_per_tx).min(rounds) {
            let id = Uuid::from_u128(((seed as u128) << 64) | r as u128).to_string();
            let at = start + r as i64 * day;
            let date = wenming_store::ts(at)
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .date()
                .to_string();
            sqlx::query(
                "INSERT INTO inspection_round (id, kind, name, framework_id, starts_on, ends_on, seed, sample_size, skip_days, \
                 not_where_they_work, not_twice_in_a_row, status, created_by, version, created_at, updated_at) \
                 VALUES ($1, 'patrol', $2, $3, $4, $4, $5, $6, NULL, 1, 1, 'closed', NULL, 1, $7, $7)",
            )
            .bind(&id)
            .bind(format!("巡查 {date}"))
            .bind(framework.to_string())
            .bind(&date)
            .bind(r as i64)
            .bind(sites.len() as i64)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            for (n, chunk) in sites.chunks(200).enumerate() {
                let sql = format!(
                    "INSERT INTO round_site (round_id, site_id, position, inspector_id, inspected_at) VALUES {}",
                    rows(chunk.len(), 5)
                );
                let mut q = sqlx::query(&sql);
                for (i, (site, _)) in chunk.iter().enumerate() {
                    q = q
                        .bind(&id)
                        .bind(site)
                        .bind((n * 200 + i) as i64)
                        .bind(&inspectors[(r as usize + i) % inspectors.len()])
                        .bind(at);
                }
                q.execute(&mut *tx).await?;
            }
            let mut batch: Vec<(String, &str, &str, &'static str, &'static str)> = vec![];
            for (site, list) in &sites {
                for standard in list {
                    let roll = dice.roll() % 100;
                    let (outcome, recorded) = match roll {
                        0..=8 => ("fail", r#"{"result":"fail"}"#),
                        9..=10 => ("na", r#"{"result":"not_applicable"}"#),
                        _ => ("pass", r#"{"result":"pass"}"#),
                    };
                    let fid = Uuid::from_u128(
                        ((r as u128) << 64) | (dice.roll() as u128) << 16 | batch.len() as u128,
                    );
                    batch.push((fid.to_string(), site, standard, outcome, recorded));
                }
            }
            const COLS: usize = 10;
            for chunk in batch.chunks(90) {
                let sql = format!(
                    "INSERT INTO finding (id, round_id, site_id, standard_id, outcome, recorded, inspector_id, observed_at, \
                     away, created_at) VALUES {}",
                    rows(chunk.len(), COLS)
                );
                let mut q = sqlx::query(&sql);
                for (i, (fid, site, standard, outcome, recorded)) in chunk.iter().enumerate() {
                    q = q
                        .bind(fid)
                        .bind(&id)
                        .bind(*site)
                        .bind(*standard)
                        .bind(*outcome)
                        .bind(*recorded)
                        .bind(&inspectors[(r as usize + i) % inspectors.len()])
                        .bind(at)
                        .bind(0i64)
                        .bind(at);
                }
                q.execute(&mut *tx).await?;
            }
            written += batch.len() as u64;
        }
        tx.commit().await?;
        k += rounds_per_tx;
        progress(written);
    }
    Ok(written)
}

/// PostgreSQL makes the rows itself from `generate_series`: sent a row at a
/// time from here its inserts ran at a few thousand a second, as every row
/// crossed the wire with its ten parameters. Ids come from md5 of the seed
/// and position, results from a hash of them: the same seed gives the same
/// rows, though not the same ids as on SQLite.
async fn on_the_server(
    store: &Store,
    framework: Uuid,
    sites: &[(String, Vec<String>)],
    inspectors: &[String],
    rounds: u64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, StoreError> {
    // Scratch tables (not temporary: the batches below may run on other
    // connections of the pool), dropped at the end.
    let mut tx = store.begin().await?;
    for sql in [
        "DROP TABLE IF EXISTS gen_slot",
        "DROP TABLE IF EXISTS gen_inspector",
        "CREATE UNLOGGED TABLE gen_slot (n BIGINT, site_id TEXT, standard_id TEXT)",
        "CREATE UNLOGGED TABLE gen_inspector (n BIGINT, id TEXT)",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    let slots: Vec<(i64, &str, &str)> = sites
        .iter()
        .flat_map(|(site, list)| list.iter().map(move |st| (site.as_str(), st.as_str())))
        .enumerate()
        .map(|(n, (site, st))| (n as i64, site, st))
        .collect();
    for chunk in slots.chunks(300) {
        let sql = format!(
            "INSERT INTO gen_slot (n, site_id, standard_id) VALUES {}",
            rows(chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (n, site, st) in chunk {
            q = q.bind(*n).bind(*site).bind(*st);
        }
        q.execute(&mut *tx).await?;
    }
    for (n, id) in inspectors.iter().enumerate() {
        sqlx::query("INSERT INTO gen_inspector (n, id) VALUES ($1, $2)")
            .bind(n as i64)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let day = 86_400_000_000i64;
    let start = wenming_store::now_micros() - rounds as i64 * day;
    let per_round = slots.len() as i64;
    let inspectors_n = inspectors.len() as i64;
    // The round's id, as text, from the seed and its number.
    let rid = "md5('round-' || $1::text || '-' || r::text)::uuid::text";
    let mut written = 0u64;
    let batch = (400_000 / per_round.max(1)).max(1) as u64;
    let mut k = 0u64;
    while k < rounds {
        let end = (k + batch).min(rounds);
        let mut tx = store.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO inspection_round (id, kind, name, framework_id, starts_on, ends_on, seed, sample_size, skip_days, \
             not_where_they_work, not_twice_in_a_row, status, created_by, version, created_at, updated_at) \
             SELECT {rid}, 'patrol', '巡查 ' || to_char(to_timestamp(($4 + r * $5) / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), \
             $6, to_char(to_timestamp(($4 + r * $5) / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), \
             to_char(to_timestamp(($4 + r * $5) / 1000000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), r, $7, NULL, 1, 1, 'closed', NULL, 1, \
             $4 + r * $5, $4 + r * $5 FROM generate_series($2::bigint, $3::bigint) AS r"
        ))
        .bind(seed as i64)
        .bind(k as i64)
        .bind(end as i64 - 1)
        .bind(start)
        .bind(day)
        .bind(framework.to_string())
        .bind(sites.len() as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO round_site (round_id, site_id, position, inspector_id, inspected_at) \
             SELECT {rid}, s.site_id, s.pos, i.id, $4 + r * $5 \
             FROM generate_series($2::bigint, $3::bigint) AS r \
             CROSS JOIN (SELECT site_id, MIN(n) AS pos FROM gen_slot GROUP BY site_id) s \
             JOIN gen_inspector i ON i.n = (r + s.pos) % $6"
        ))
        .bind(seed as i64)
        .bind(k as i64)
        .bind(end as i64 - 1)
        .bind(start)
        .bind(day)
        .bind(inspectors_n)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(&format!(
            "INSERT INTO finding (id, round_id, site_id, standard_id, outcome, recorded, inspector_id, observed_at, away, created_at) \
             SELECT md5('finding-' || $1::text || '-' || r::text || '-' || g.n::text)::uuid::text, {rid}, g.site_id, g.standard_id, \
             CASE WHEN h.v < 9 THEN 'fail' WHEN h.v < 11 THEN 'na' ELSE 'pass' END, \
             CASE WHEN h.v < 9 THEN '{{\"result\":\"fail\"}}' WHEN h.v < 11 THEN '{{\"result\":\"not_applicable\"}}' ELSE '{{\"result\":\"pass\"}}' END, \
             i.id, $4 + r * $5, 0, $4 + r * $5 \
             FROM generate_series($2::bigint, $3::bigint) AS r CROSS JOIN gen_slot g \
             CROSS JOIN LATERAL (SELECT abs(hashtext($1::text || '-' || r::text || '-' || g.n::text)) % 100 AS v) h \
             JOIN gen_inspector i ON i.n = (r + g.n) % $6"
        ))
        .bind(seed as i64)
        .bind(k as i64)
        .bind(end as i64 - 1)
        .bind(start)
        .bind(day)
        .bind(inspectors_n)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        written += n.rows_affected();
        k = end;
        progress(written);
    }
    let mut tx = store.begin().await?;
    sqlx::query("DROP TABLE gen_slot").execute(&mut *tx).await?;
    sqlx::query("DROP TABLE gen_inspector")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(written)
}
