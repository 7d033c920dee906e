//! 民评官 as pages and the API share it: a round's results as the viewer
//! may see them (a unit's staff their own unit only; approved comments
//! only, except for the office), and one rating stored from a form or JSON.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use uuid::Uuid;
use wenming_domain::policy::{Action, Permit, may};
use wenming_domain::rating::{CommentState, UnitResult, results as rank};
use wenming_store::rating::{self as rt, Channel, Comment, NewRating, RatedUnit, Round};

pub struct RoundResults {
    pub round: Round,
    /// The units the viewer may see, each with its result; ranks are
    /// among every unit of the round, so a unit sees its real place.
    pub rows: Vec<(RatedUnit, UnitResult)>,
    /// How many units are ranked in all.
    pub ranked: usize,
    pub approved: Vec<Comment>,
    /// The office's queue; empty for everyone else.
    pub pending: Vec<Comment>,
    pub can_manage: bool,
}

pub async fn results(state: &AppState, auth: &Auth, round_id: Uuid) -> AppResult<RoundResults> {
    let scope = auth.scope(Action::ViewRatings)?;
    let round = rt::round(&state.store, round_id).await?;
    let units = rt::units(&state.store, round_id).await?;
    let visible: Vec<RatedUnit> = units
        .into_iter()
        .filter(|u| scope.covers_unit(u.id, &u.region_path))
        .collect();
    // A round that rates none of the viewer's units is not theirs to see.
    if visible.is_empty() {
        return Err(AppError::NotFound);
    }
    let counts = rt::counts(&state.store, round_id).await?;
    let all = rank(
        round.scale,
        &round.units,
        &counts,
        round.min_n.max(1) as u64,
    );
    let ranked = all.iter().filter(|r| r.rank.is_some()).count();
    let rows = all
        .into_iter()
        .filter_map(|r| {
            visible
                .iter()
                .find(|u| u.id == r.unit_id)
                .map(|u| (u.clone(), r))
        })
        .collect();
    let seen = |c: &Comment| visible.iter().any(|u| u.id == c.unit_id);
    let approved = rt::comments(&state.store, round_id, CommentState::Approved)
        .await?
        .into_iter()
        .filter(seen)
        .collect();
    let can_manage = auth.may(Action::ManageRatings);
    let pending = if can_manage {
        rt::comments(&state.store, round_id, CommentState::Pending).await?
    } else {
        vec![]
    };
    Ok(RoundResults {
        round,
        rows,
        ranked,
        approved,
        pending,
        can_manage,
    })
}

/// The rounds the viewer has a unit in, newest first.
pub async fn rounds(state: &AppState, auth: &Auth) -> AppResult<Vec<Round>> {
    let scope = auth.scope(Action::ViewRatings)?;
    let mut out = vec![];
    for r in rt::rounds(&state.store).await? {
        if scope.is_everything()
            || rt::units(&state.store, r.id)
                .await?
                .iter()
                .any(|u| scope.covers_unit(u.id, &u.region_path))
        {
            out.push(r);
        }
    }
    Ok(out)
}

/// A rating as a form or JSON sends it.
pub struct RawRating<'a> {
    pub unit_id: Uuid,
    /// Points, or a level's code.
    pub value: &'a str,
    pub comment: &'a str,
    pub channel: Channel,
}

/// One rating from its raw fields: the value read on the round's scale.
pub async fn rate(
    state: &AppState,
    permit: &Permit<may::AnswerSurveys>,
    round: &Round,
    raw: &RawRating<'_>,
    device: Option<&str>,
) -> AppResult<()> {
    let v = round.scale.read(raw.value)?;
    rt::rate(
        &state.store,
        permit,
        &NewRating {
            round_id: round.id,
            unit_id: raw.unit_id,
            value: v,
            comment: raw.comment.to_string(),
            channel: raw.channel,
        },
        device,
        crate::service::today(state),
    )
    .await?;
    Ok(())
}

/// One unit's line in each round that rated it, newest first: what its
/// page shows. Empty for viewers without the ratings grant.
pub async fn of_unit(
    state: &AppState,
    auth: &Auth,
    unit_id: Uuid,
) -> AppResult<Vec<(Round, UnitResult, usize)>> {
    if !auth.may(Action::ViewRatings) {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for round in rt::rounds(&state.store).await? {
        if !round.units.contains(&unit_id) {
            continue;
        }
        let counts = rt::counts(&state.store, round.id).await?;
        let all = rank(
            round.scale,
            &round.units,
            &counts,
            round.min_n.max(1) as u64,
        );
        let ranked = all.iter().filter(|r| r.rank.is_some()).count();
        if let Some(mine) = all.into_iter().find(|r| r.unit_id == unit_id) {
            out.push((round, mine, ranked));
        }
    }
    Ok(out)
}
