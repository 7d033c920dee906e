//! The demo city's inspection rounds: two monthly mock evaluations already
//! finished (the second better than the first, as a city improving) and a
//! weekly supervision under way, recorded through the same path the
//! inspectors' phones use.

use crate::dice::Dice;
use crate::files::Files;
use crate::inspection::{self, Submitter};
use crate::{Ctx, Store, StoreError};
use uuid::Uuid;
use wenming_domain::inspection::{FindingDraft, RoundInput, RoundKind};
use wenming_domain::policy::Permit;
use wenming_domain::site::{Observation, Recorded, RotationRules};

pub async fn load(store: &Store, files: &Files) -> Result<(), StoreError> {
    let tz = store.timezone().clone();
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let office: Option<String> =
        sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'office'")
            .fetch_optional(store.reader())
            .await?;
    let office_ctx = Ctx {
        actor_id: office.as_deref().and_then(|u| u.parse().ok()),
        actor_name: "陈建华 (office)".into(),
        request_id: None,
    };
    let city = crate::org::whole_city(store).await?;
    // (name, kind, days ago it began, days it lasted, sites, pass %, finished, share inspected)
    let plan = [
        ("九月模拟测评", RoundKind::Mock, 62, 5, 24, 78, true, 100),
        ("十月模拟测评", RoundKind::Mock, 31, 5, 24, 88, true, 100),
        ("本周督查", RoundKind::Supervision, 2, 5, 18, 85, false, 50),
    ];
    // The rounds are drawn first, so that one site seen by several
    // inspectors can be made to pass only for one of them: the anomaly the
    // office's flags should find.
    let mut drawn = vec![];
    for (k, (name, kind, ago, days, size, pass, finished, share)) in plan.into_iter().enumerate() {
        let starts_on = today - jiff::Span::new().days(ago);
        let input = RoundInput {
            name: name.into(),
            kind,
            starts_on,
            ends_on: starts_on + jiff::Span::new().days(days - 1),
            sample_size: size,
            seed: Some(2026_0900 + k as u64),
            skip_days: None,
            rules: RotationRules::default(),
            inspector_ids: vec![],
        };
        let round = inspection::create(
            store,
            &office_ctx,
            &Permit::system(&city.region_paths[0]),
            &input,
        )
        .await?;
        let sites = inspection::round_sites(store, round.id).await?;
        let visited = sites.len() * share / 100;
        drawn.push((round, sites, visited, starts_on, ago, days, pass, finished));
    }
    let planted = lenient_site(store, &city, &drawn).await?;
    for (round, sites, visited, starts_on, ago, days, pass, finished) in drawn {
        let mut dice = Dice(round.seed);
        for (i, rs) in sites.iter().enumerate().take(visited) {
            let Some(inspector) = rs.inspector_id else {
                continue;
            };
            let pass = match planted {
                Some((site, one)) if site == rs.site_id => {
                    if one == inspector {
                        100
                    } else {
                        25
                    }
                }
                _ => pass,
            };
            let site = crate::site::get(store, &city, rs.site_id).await?;
            let list = inspection::checklist(store, &site).await?;
            if list.is_empty() {
                continue;
            }
            let ctx = Ctx {
                actor_id: Some(inspector),
                actor_name: rs.inspector_name.clone().unwrap_or_default(),
                request_id: None,
            };
            // Visited on one of the round's days, in working hours.
            // (A round under way has visits only on the days already past.)
            let day = starts_on + jiff::Span::new().days((i as i64) % days.min(ago));
            let at = day
                .at(9 + (i % 8) as i8, ((i * 7) % 60) as i8, 0, 0)
                .to_zoned_datetime(tz.clone())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                .timestamp();
            let mut drafts = vec![];
            for (j, item) in list.iter().enumerate() {
                let ok = dice.chance(pass);
                let recorded = match item.observation {
                    Observation::PassFail => {
                        if dice.chance(4) {
                            Recorded::NotApplicable
                        } else if ok {
                            Recorded::Pass
                        } else {
                            Recorded::Fail
                        }
                    }
                    Observation::AtLeast { count } => Recorded::Count {
                        count: if ok {
                            count + (dice.roll() % 3) as u32
                        } else {
                            count.saturating_sub(1 + (dice.roll() % 2) as u32)
                        },
                    },
                    Observation::Percent { at_least } => {
                        let of = 20;
                        let need = (at_least * of as f64 / 100.0).ceil() as u32;
                        Recorded::Share {
                            observed: if ok { of } else { need.saturating_sub(2) },
                            of,
                        }
                    }
                };
                let failed = wenming_domain::site::judge(item.observation, recorded)
                    == Ok(wenming_domain::site::Outcome::Fail);
                let mut photo_ids = vec![];
                if failed {
                    let bytes = crate::photo::synthetic_jpeg(
                        round.seed ^ ((i * 64 + j) as u64),
                        Some(at),
                        Some(site.point),
                    );
                    let p = crate::photo::stage(
                        store,
                        files,
                        &ctx,
                        "photos",
                        bytes.into(),
                        &crate::photo::PhotoRules::default(),
                        &tz,
                    )
                    .await?;
                    photo_ids.push(p.id);
                }
                drafts.push(FindingDraft {
                    id: Uuid::from_u128(
                        (round.seed as u128) << 64 | ((i as u128) << 16) | j as u128,
                    ),
                    standard_id: item.standard_id,
                    recorded,
                    note: failed.then(|| "现场发现问题，已拍照".to_string()),
                    photo_ids,
                    observed_at: at,
                    lon: Some(site.point.lon),
                    lat: Some(site.point.lat),
                });
            }
            // The inspector's own permit, as their phone would carry it.
            let (_, actor) = crate::accounts::resolve_actor(store, inspector, false)
                .await?
                .ok_or(StoreError::NotFound)?;
            let permit = Permit::of(&actor).ok_or(StoreError::Forbidden)?;
            inspection::submit(
                store,
                &Submitter::Inspector {
                    ctx: &ctx,
                    permit: &permit,
                },
                round.id,
                rs.site_id,
                &drafts,
                &crate::photo::PhotoRules::default(),
                &tz,
            )
            .await?;
            // The visit happened on its day, not when the demo was loaded.
            let mut tx = store.begin().await?;
            sqlx::query(
                "UPDATE round_site SET inspected_at = $1 WHERE round_id = $2 AND site_id = $3",
            )
            .bind(at.as_microsecond())
            .bind(round.id.to_string())
            .bind(rs.site_id.to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        }
        if finished {
            let r = inspection::get(store, round.id).await?;
            inspection::close(
                store,
                &office_ctx,
                &Permit::system(&city.region_paths[0]),
                r.id,
                r.version,
            )
            .await?;
        }
    }
    Ok(())
}

type Drawn = (
    inspection::Round,
    Vec<inspection::RoundSite>,
    usize,
    jiff::civil::Date,
    i64,
    i64,
    u64,
    bool,
);

/// A site visited in several rounds by different inspectors, with a long
/// enough checklist, and the first of them: (site, inspector).
async fn lenient_site(
    store: &Store,
    city: &wenming_domain::policy::Scope,
    drawn: &[Drawn],
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    let mut seen: std::collections::BTreeMap<Uuid, Vec<Uuid>> = Default::default();
    for (_, sites, visited, ..) in drawn {
        for rs in sites.iter().take(*visited) {
            if let Some(i) = rs.inspector_id {
                seen.entry(rs.site_id).or_default().push(i);
            }
        }
    }
    for (site, inspectors) in seen {
        let mut distinct = inspectors.clone();
        distinct.sort();
        distinct.dedup();
        if inspectors.len() < 2 || distinct.len() < 2 {
            continue;
        }
        let s = crate::site::get(store, city, site).await?;
        if inspection::checklist(store, &s).await?.len() >= 8 {
            return Ok(Some((site, inspectors[0])));
        }
    }
    Ok(None)
}
