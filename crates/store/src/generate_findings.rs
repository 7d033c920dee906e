//! Synthetic inspection history for measuring: daily patrol rounds over the
//! city's sites, each site checked against its checklist, about one finding
//! in ten a failure. Written straight into the tables (no cases opened, no
//! photos): this is load for the score queries, not a story.

use crate::generate::Dice;
use crate::inspection::checklist_for;
use crate::sql::rows;
use crate::{Store, StoreError};
use sqlx::Row;
use uuid::Uuid;

/// Writes patrol rounds until about `target` findings exist in them;
/// `progress` hears the running count. Returns how many were written.
pub async fn findings(
    store: &Store,
    target: u64,
    seed: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, StoreError> {
    let framework = crate::framework::active(store)
        .await?
        .ok_or_else(|| StoreError::invalid("framework", "no_active_framework"))?
        .id;
    let standards = crate::inspection::standards_of(store, framework).await?;
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
    let mut dice = Dice(seed ^ 0xF1AD);
    let day = 86_400_000_000i64;
    let start = crate::now_micros() - rounds as i64 * day;
    let mut written = 0u64;
    let rounds_per_tx = (20_000 / per_round).max(1);
    let mut k = 0u64;
    while k < rounds {
        let mut tx = store.begin().await?;
        for r in k..(k + rounds_per_tx).min(rounds) {
            let id = Uuid::from_u128(((seed as u128) << 64) | r as u128).to_string();
            let at = start + r as i64 * day;
            let date = crate::ts(at)
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
                    let roll = dice.next() % 100;
                    let (outcome, recorded) = match roll {
                        0..=8 => ("fail", r#"{"result":"fail"}"#),
                        9..=10 => ("na", r#"{"result":"not_applicable"}"#),
                        _ => ("pass", r#"{"result":"pass"}"#),
                    };
                    let fid = Uuid::from_u128(
                        ((r as u128) << 64) | (dice.next() as u128) << 16 | batch.len() as u128,
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
