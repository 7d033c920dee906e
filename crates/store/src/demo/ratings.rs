//! The demo city's 民评官 round: residents rating the service departments
//! last month on 满意 / 基本满意 / 不满意, most departments above the
//! minimum n and one under it, with comments approved, rejected and still
//! waiting for the office.

use super::sys;
use crate::rating::{self as rt, Channel, NewRating, RoundState};
use crate::{Ctx, Store, StoreError};
use wenming_domain::policy::Scope;
use wenming_domain::rating::{CommentState, RoundInput, Scale};

/// (unit short name, ratings, share 满意 and 基本满意 in percent)
const PLAN: [(&str, usize, usize, usize); 8] = [
    ("政务办", 86, 71, 21),
    ("城管局", 74, 52, 30),
    ("交警支队", 68, 47, 31),
    ("市场监管局", 55, 58, 29),
    ("住建局", 47, 38, 34),
    ("公交集团", 62, 60, 28),
    ("民政局", 41, 66, 24),
    ("水务局", 12, 50, 33),
];

const COMMENTS: [(&str, &str, bool); 5] = [
    (
        "政务办",
        "窗口办事一次就办完了，工作人员讲解得很清楚。",
        true,
    ),
    (
        "城管局",
        "夜市收摊后的垃圾第二天早上才清走，希望快一点。",
        true,
    ),
    ("交警支队", "学校门口上下学时段有人指挥，好多了。", true),
    (
        "住建局",
        "小区旧改的施工围挡占了人行道，出行不方便。",
        false,
    ),
    ("城管局", "某某队员态度很差，电话是138xxxx。", false),
];

pub async fn load(store: &Store, ctx: &Ctx, everything: &Scope) -> Result<(), StoreError> {
    let units = crate::org::list_units(
        store,
        everything,
        &crate::org::UnitFilter {
            active: Some(true),
            limit: 500,
            ..Default::default()
        },
    )
    .await?
    .items;
    let id_of = |short: &str| {
        units
            .iter()
            .find(|u| u.short_name.as_deref() == Some(short))
            .map(|u| u.id)
    };
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(store.timezone().clone())
        .date();
    let first = today.first_of_month();
    let opens_on = first
        .checked_sub(jiff::Span::new().months(1))
        .unwrap_or(first);
    let round = rt::create_round(
        store,
        ctx,
        &sys(everything),
        &RoundInput {
            name: format!(
                "民评官·服务部门满意度（{}）",
                opens_on.strftime("%Y年%-m月")
            ),
            scale: Scale::ThreeLevel,
            opens_on,
            closes_on: opens_on.last_of_month(),
            min_n: 30,
            units: PLAN.iter().filter_map(|p| id_of(p.0)).collect(),
        },
    )
    .await?;
    let round = rt::set_state(
        store,
        ctx,
        &sys(everything),
        round.id,
        round.version,
        RoundState::Open,
    )
    .await?;
    for (short, n, satisfied, basic) in PLAN {
        let Some(unit_id) = id_of(short) else {
            continue;
        };
        for i in 0..n {
            let pct = i * 100 / n;
            let value = if pct < satisfied {
                2
            } else if pct < satisfied + basic {
                1
            } else {
                0
            };
            let comment = COMMENTS
                .iter()
                .filter(|c| c.0 == short)
                .nth(i)
                .map(|c| c.1.to_string())
                .unwrap_or_default();
            rt::rate(
                store,
                &sys(everything),
                &NewRating {
                    round_id: round.id,
                    unit_id,
                    value,
                    comment,
                    channel: if i % 2 == 0 {
                        Channel::Public
                    } else {
                        Channel::Interview
                    },
                },
                None,
                opens_on,
            )
            .await?;
        }
    }
    // The office has read all but the works bureau's; the one naming a
    // team member and a phone number is kept from everyone.
    for c in rt::comments(store, round.id, CommentState::Pending).await? {
        let Some(plan) = COMMENTS.iter().find(|x| x.1 == c.body) else {
            continue;
        };
        let to = if plan.2 {
            CommentState::Approved
        } else if plan.0 == "城管局" {
            CommentState::Rejected
        } else {
            continue;
        };
        rt::moderate(store, ctx, &sys(everything), c.id, c.version, to).await?;
    }
    rt::set_state(
        store,
        ctx,
        &sys(everything),
        round.id,
        round.version,
        RoundState::Closed,
    )
    .await?;
    Ok(())
}
