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

/// The demo's cases were all made just now; spread them over the last two
/// months (every time on a case moves by the same amount), so lists, trends
/// and overdue flags look like a working city. Demo data only: real cases
/// are never rewritten.
async fn backdate(store: &Store) -> Result<(), StoreError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM case_record ORDER BY number")
        .fetch_all(store.reader())
        .await?;
    let mut tx = store.begin().await?;
    for (i, id) in ids.iter().enumerate() {
        let shift = ((i * 37) % 60) as i64 * 86_400_000_000;
        sqlx::query(
            "UPDATE case_record SET reported_at = reported_at - $1, registered_at = registered_at - $1, \
             dispatched_at = dispatched_at - $1, handled_at = handled_at - $1, closed_at = closed_at - $1, \
             deadline = deadline - $1, updated_at = updated_at - $1, verifier_since = verifier_since - $1 WHERE id = $2",
        )
        .bind(shift)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE case_event SET at = at - $1 WHERE case_id = $2")
            .bind(shift)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE photo SET taken_at = taken_at - $1, uploaded_at = uploaded_at - $1 WHERE case_id = $2",
        )
        .bind(shift)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
