//! The demo city's cases, in every state, with photos and events, dated
//! over the months before today.

use super::catalogue::load_catalogue;
use super::sys;
use crate::files::Files;
use crate::{Ctx, Store, StoreError};

/// The catalogue, then a few hundred cases walked through the workflow as
/// far as a pseudo-random draw says, spread over the grid.
pub async fn load_cases(store: &Store, files: &Files) -> Result<usize, StoreError> {
    use crate::case;
    use wenming_domain::case::{Ask, CaseActor, IntakeInput, Source, Step};
    let subclasses = load_catalogue(store).await?;

    // Cases: placed in grid cells, walked through the workflow as far as a
    // pseudo-random draw says, by the demo office and the unit's staff.
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    let everything = crate::org::whole_city(store).await?;
    let rules = crate::photo::PhotoRules::default();
    let office_id: Option<String> =
        sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'office'")
            .fetch_optional(store.reader())
            .await?;
    let inspector_id: Option<String> =
        sqlx::query_scalar("SELECT id FROM app_user WHERE username = 'inspector'")
            .fetch_optional(store.reader())
            .await?;
    let office = CaseActor {
        user_id: office_id
            .as_deref()
            .map(crate::org::parse_uuid)
            .transpose()?
            .unwrap_or_default(),
        office: true,
        verifier: true,
        units: vec![],
        home_unit: None,
    };
    let inspector = CaseActor {
        user_id: inspector_id
            .as_deref()
            .map(crate::org::parse_uuid)
            .transpose()?
            .unwrap_or_default(),
        office: false,
        verifier: true,
        units: vec![],
        home_unit: None,
    };
    let office_ctx = Ctx {
        actor_id: Some(office.user_id),
        actor_name: "陈建华 (office)".into(),
        request_id: None,
    };
    // Every demo inspector, for verifying the fixes put to them.
    let mut verifiers = vec![];
    for r in sqlx::query(
        "SELECT u.id, u.display_name, u.username FROM app_user u JOIN role_grant g ON g.user_id = u.id \
         WHERE g.role = 'inspector' AND u.active = 1 ORDER BY u.username",
    )
    .fetch_all(store.reader())
    .await?
    {
        use sqlx::Row;
        let id = crate::org::parse_uuid(&r.try_get::<String, _>("id")?)?;
        let name: String = r.try_get("display_name")?;
        let username: String = r.try_get("username")?;
        verifiers.push((
            CaseActor {
                user_id: id,
                ..inspector.clone()
            },
            Ctx {
                actor_id: Some(id),
                actor_name: format!("{name} ({username})"),
                request_id: None,
            },
        ));
    }
    let verifier_of = |c: &case::Case| {
        verifiers
            .iter()
            .find(|(a, _)| Some(a.user_id) == c.verifier_id)
            .or(verifiers.first())
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("the demo has no inspector".into()))
    };
    let phrases = [
        "群众多次反映，影响通行",
        "督查巡查时发现",
        "市民随手拍上报，附现场描述",
        "12345 热线转来，要求尽快处理",
        "第三方测评暗访发现",
        "位于学校附近，家长意见较大",
    ];
    let sources = [
        Source::PublicReport,
        Source::Inspection,
        Source::Inspection,
        Source::Hotline,
        Source::ThirdParty,
        Source::Leader,
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (lon0, lat0, span) = (118.60_f64, 31.20_f64, 0.36_f64);
    let total = 240;
    for i in 0..total {
        let r = next();
        let cat = &subclasses[(r % subclasses.len() as u64) as usize];
        let lon = lon0 + 0.001 + (next() % 10_000) as f64 / 10_000.0 * (span - 0.002);
        let lat = lat0 + 0.001 + (next() % 10_000) as f64 / 10_000.0 * (span - 0.002);
        let point = wenming_domain::geo::Point { lon, lat };
        // A photo of the problem, taken when it was reported.
        let before = demo_photo(store, files, &office_ctx, i as u64, point).await?;
        let input = IntakeInput {
            photo_ids: vec![before],
            client_id: None,
            source: sources[(next() % sources.len() as u64) as usize],
            category_id: cat.id,
            description: format!("{}：{}", cat.name, phrases[i % phrases.len()]),
            point: Some(point),
            address: None,
            reporter_name: None,
            reporter_phone: None,
        };
        let c = case::intake(store, &office_ctx, &sys(&everything), &input, &rules, &tz).await?;
        let stage = next() % 100;
        if stage < 8 {
            continue; // still waiting to be registered
        }
        let act_with =
            |c: &case::Case, actor: &CaseActor, ctx: &Ctx, s: Step, photos: Vec<uuid::Uuid>| {
                let (actor, ctx) = (actor.clone(), ctx.clone());
                let (id, v) = (c.id, c.version);
                let everything = everything.clone();
                let rules = rules.clone();
                async move {
                    let photos = case::StepPhotos {
                        ids: &photos,
                        rules: &rules,
                    };
                    case::step(store, &ctx, &sys(&everything), &actor, id, v, &s, &photos)
                        .await
                        .map_err(|e| match e {
                            case::StepError::Store(e) => e,
                            case::StepError::Refused(r) => {
                                StoreError::Corrupt(format!("demo step refused: {r}"))
                            }
                        })
                }
            };
        let act = |c: &case::Case, actor: &CaseActor, ctx: &Ctx, s: Step| {
            act_with(c, actor, ctx, s, vec![])
        };
        if stage < 11 {
            act(
                &c,
                &office,
                &office_ctx,
                Step::Reject {
                    reason: "不属于城市管理范围".into(),
                },
            )
            .await?;
            continue;
        }
        let c = act(&c, &office, &office_ctx, Step::Register).await?;
        let Some(unit) = c.suggested_unit_id else {
            continue;
        };
        // Deadlines in the demo are days ahead or (for a share) already past.
        let days = if stage % 4 == 0 { 1 } else { 10 };
        let deadline = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * days);
        let c = act(&c, &office, &office_ctx, Step::Dispatch { unit, deadline }).await?;
        if stage < 30 {
            continue; // with the unit
        }
        let staff_id: Option<String> =
            sqlx::query_scalar("SELECT id FROM app_user WHERE unit_id = $1 LIMIT 1")
                .bind(unit.to_string())
                .fetch_optional(store.reader())
                .await?;
        let staff = CaseActor {
            user_id: staff_id
                .as_deref()
                .map(crate::org::parse_uuid)
                .transpose()?
                .unwrap_or_else(|| uuid::Uuid::from_u128(unit.as_u128() ^ 1)),
            office: false,
            verifier: false,
            units: vec![unit],
            home_unit: Some(unit),
        };
        let staff_ctx = Ctx {
            actor_id: Some(staff.user_id),
            actor_name: "责任单位经办人".into(),
            request_id: None,
        };
        if stage < 36 {
            let ask = if stage % 2 == 0 {
                Ask::Extend {
                    until: deadline + jiff::SignedDuration::from_hours(72),
                }
            } else {
                Ask::Park
            };
            act(
                &c,
                &staff,
                &staff_ctx,
                Step::Ask {
                    ask,
                    reason: "需协调相关部门".into(),
                },
            )
            .await?;
            continue;
        }
        // One rectification in twenty-five hands in the problem's own
        // photo as the "after" picture: the verifier sees it flagged.
        let seed = if i % 25 == 7 {
            i as u64
        } else {
            100_000 + i as u64
        };
        let after = demo_photo(store, files, &staff_ctx, seed, point).await?;
        let c = act_with(
            &c,
            &staff,
            &staff_ctx,
            Step::Handle {
                note: "已安排人员现场处置".into(),
            },
            vec![after],
        )
        .await?;
        if stage < 50 {
            continue; // waiting for verification
        }
        let (inspector, inspector_ctx) = verifier_of(&c)?;
        if stage < 58 {
            act(
                &c,
                &inspector,
                &inspector_ctx,
                Step::Verify {
                    passed: false,
                    note: "现场复核仍未整改到位".into(),
                },
            )
            .await?;
            continue;
        }
        act(
            &c,
            &inspector,
            &inspector_ctx,
            Step::Verify {
                passed: true,
                note: "复核通过".into(),
            },
        )
        .await?;
    }
    backdate(store).await?;
    Ok(total)
}

/// A generated photo near `point`, taken now, staged by `ctx`'s person.
async fn demo_photo(
    store: &Store,
    files: &Files,
    ctx: &Ctx,
    seed: u64,
    point: wenming_domain::geo::Point,
) -> Result<uuid::Uuid, StoreError> {
    let bytes = crate::photo::synthetic_jpeg(seed, Some(jiff::Timestamp::now()), Some(point));
    let p = crate::photo::stage(
        store,
        files,
        ctx,
        "photos",
        bytes.into(),
        &crate::photo::PhotoRules::default(),
        &jiff::tz::TimeZone::UTC,
    )
    .await?;
    Ok(p.id)
}

/// The demo's cases were all made just now, each step a moment after the
/// last. Spread them over the last two months and space each case's steps
/// as a working city would: registered within hours, dispatched soon after,
/// fixed hours or days later (a quarter after the deadline), verified within
/// a day or two. Lists, trends, handling times and overdue flags then look
/// real. Demo data only: real cases are never rewritten.
async fn backdate(store: &Store) -> Result<(), StoreError> {
    use sqlx::Row;
    const HOUR: i64 = 3_600_000_000;
    let rows = sqlx::query(
        "SELECT id, reported_at, registered_at, dispatched_at, deadline, handled_at, closed_at \
         FROM case_record ORDER BY number",
    )
    .fetch_all(store.reader())
    .await?;
    let now = crate::now_micros();
    let mut tx = store.begin().await?;
    for (i, r) in rows.iter().enumerate() {
        let id: String = r.try_get("id")?;
        let t =
            |k: &str| -> Result<Option<i64>, StoreError> { Ok(r.try_get::<Option<i64>, _>(k)?) };
        // A fixed draw per case, so the demo is the same every time.
        let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut draw = |lo: i64, hi: i64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            lo + (x % (hi - lo).max(1) as u64) as i64
        };
        let reported = r.try_get::<i64, _>("reported_at")? - ((i * 37) % 60) as i64 * 24 * HOUR;
        let registered = t("registered_at")?.map(|_| reported + draw(HOUR / 3, 5 * HOUR));
        let dispatched = match (t("dispatched_at")?, registered) {
            (Some(_), Some(g)) => Some(g + draw(HOUR / 6, 3 * HOUR)),
            _ => None,
        };
        // The deadline keeps its distance from the dispatch.
        let deadline = match (t("deadline")?, t("dispatched_at")?, dispatched) {
            (Some(d), Some(old), Some(new)) => Some(new + (d - old)),
            (Some(d), _, _) => Some(d - (r.try_get::<i64, _>("reported_at")? - reported)),
            _ => None,
        };
        let handled = match (t("handled_at")?, dispatched, deadline) {
            (Some(_), Some(d), Some(due)) => {
                let allowed = (due - d).max(HOUR);
                Some(if draw(0, 4) == 0 {
                    due + draw(2 * HOUR, 48 * HOUR)
                } else {
                    d + allowed * draw(15, 90) / 100
                })
            }
            _ => None,
        };
        let checked = handled.map(|h| h + draw(2 * HOUR, 36 * HOUR));
        let closed = t("closed_at")?.map(|_| checked.unwrap_or(reported + draw(HOUR, 6 * HOUR)));
        // Nothing is left in the future: a case that would end after now is
        // moved back whole.
        let asked = dispatched.map(|d| d + 3 * HOUR);
        let last = [
            Some(reported),
            registered,
            dispatched,
            asked,
            handled,
            checked,
            closed,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(reported);
        let back = (last - (now - HOUR / 6)).max(0);
        let at = |v: Option<i64>| v.map(|v| v - back);
        let (reported, registered, dispatched, deadline, handled, checked, closed) = (
            reported - back,
            at(registered),
            at(dispatched),
            at(deadline),
            at(handled),
            at(checked),
            at(closed),
        );
        let updated = last - back;
        sqlx::query(
            "UPDATE case_record SET reported_at = $1, registered_at = $2, dispatched_at = $3, deadline = $4, \
             handled_at = $5, closed_at = $6, updated_at = $7, verifier_since = CASE WHEN verifier_since IS NULL \
             THEN NULL ELSE $8 END WHERE id = $9",
        )
        .bind(reported)
        .bind(registered)
        .bind(dispatched)
        .bind(deadline)
        .bind(handled)
        .bind(closed)
        .bind(updated)
        .bind(handled.unwrap_or(updated))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        // Each event when its step was taken; requests a few hours into the
        // handling.
        let when = |v: Option<i64>| v.unwrap_or(updated);
        sqlx::query(
            "UPDATE case_event SET at = CASE step WHEN 'report' THEN $1 WHEN 'register' THEN $2 \
             WHEN 'reject' THEN $3 WHEN 'dispatch' THEN $4 WHEN 'ask' THEN $5 WHEN 'handle' THEN $6 \
             WHEN 'verify' THEN $7 ELSE $8 END WHERE case_id = $9",
        )
        .bind(reported)
        .bind(when(registered))
        .bind(when(closed))
        .bind(when(dispatched))
        .bind(when(at(asked)))
        .bind(when(handled))
        .bind(when(checked))
        .bind(updated)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE photo SET taken_at = CASE WHEN role = 'after' THEN $1 ELSE $2 END, \
             uploaded_at = CASE WHEN role = 'after' THEN $1 ELSE $2 END WHERE case_id = $3",
        )
        .bind(when(handled))
        .bind(reported)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
