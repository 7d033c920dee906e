//! What needs each person now: the home page's work queues, most urgent
//! first. The office sees what waits for it (late cases by unit, requests,
//! fixes no verifier was found for, reports to register and dispatch) and
//! the rounds under way; a unit its open cases by deadline with reworks at
//! the top; an inspector the sites to inspect and the fixes to verify; a
//! leader the month against the last, the latest round and the units at
//! either end of the ranking.

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::case::{CaseActor, CaseState};
use wenming_domain::inspection::Score;
use wenming_domain::metrics::Metrics;
use wenming_domain::policy::{Action, Scope};
use wenming_store::case::{self, Case, CaseFilter, CaseOrder};
use wenming_store::{inspection, org};

/// One line of a queue: how many, what, where to go. `urgent` lines come
/// first and are marked.
pub struct QueueLine {
    pub key: &'static str,
    pub n: i64,
    pub href: String,
    pub urgent: bool,
}

pub struct OfficeQueue {
    pub lines: Vec<QueueLine>,
    /// Requests awaiting a decision, oldest first.
    pub asks: Vec<Case>,
    /// Units with cases past their deadline, most first.
    pub overdue_units: Vec<(Uuid, String, u64)>,
    pub rounds: Vec<inspection::Round>,
}

pub struct UnitQueue {
    /// Sent back by the verifier, with the reason, at the top.
    pub rework: Vec<(Case, Option<String>)>,
    /// With the unit, by deadline: overdue first.
    pub open: Vec<Case>,
    /// Waiting for the office's decision on the unit's request.
    pub asked: Vec<Case>,
    pub total: i64,
}

/// The fixes put to an inspector (the sites they are sent to come with
/// their assignments, which the page reads itself).
pub struct InspectorQueue {
    pub to_verify: Vec<Case>,
    pub to_verify_total: i64,
}

pub struct LeaderSummary {
    pub this_month: Metrics,
    pub last_month: Metrics,
    pub month: jiff::civil::Date,
    /// The latest closed or open round with results, and the one before.
    pub round: Option<(inspection::Round, Option<Score>)>,
    /// Ranked units, best and worst five, by the composite index.
    pub best: Vec<(String, Option<f64>)>,
    pub worst: Vec<(String, Option<f64>)>,
    /// Early in a month too few cases are due to rank anyone: last month's
    /// ranking is shown, and said to be.
    pub ranked_last_month: bool,
}

fn line(key: &'static str, n: i64, href: &str, urgent: bool) -> QueueLine {
    QueueLine {
        key,
        n,
        href: href.to_string(),
        urgent: urgent && n > 0,
    }
}

async fn count(state: &AppState, scope: &Scope, f: CaseFilter) -> AppResult<i64> {
    Ok(case::count(&state.store, scope, &f).await?)
}

fn in_states(s: &[CaseState]) -> CaseFilter {
    CaseFilter {
        states: s.to_vec(),
        ..Default::default()
    }
}

pub async fn office(state: &AppState, auth: &Auth) -> AppResult<OfficeQueue> {
    let scope = auth.scope(Action::ViewCases)?;
    let now = jiff::Timestamp::now();
    let overdue = CaseFilter {
        overdue_at: Some(now),
        ..Default::default()
    };
    let unassigned = CaseFilter {
        no_verifier: true,
        ..in_states(&[CaseState::Handled])
    };
    let mut lines = vec![
        line(
            "overdue",
            count(state, &scope, overdue).await?,
            "/cases?inbox=overdue",
            true,
        ),
        line(
            "asks",
            count(state, &scope, in_states(&[CaseState::AwaitingApproval])).await?,
            "/cases?inbox=asks",
            true,
        ),
        line(
            "no_verifier",
            count(state, &scope, unassigned).await?,
            "/cases?inbox=to_verify&verifier=none",
            true,
        ),
        line(
            "to_register",
            count(state, &scope, in_states(&[CaseState::Reported])).await?,
            "/cases?inbox=to_register",
            false,
        ),
        line(
            "to_dispatch",
            count(state, &scope, in_states(&[CaseState::Registered])).await?,
            "/cases?inbox=to_dispatch",
            false,
        ),
        line(
            "to_verify",
            count(state, &scope, in_states(&[CaseState::Handled])).await?,
            "/cases?inbox=to_verify",
            false,
        ),
    ];
    lines.sort_by_key(|l| !l.urgent);
    let (asks, _) = case::list(
        &state.store,
        &scope,
        &CaseFilter {
            limit: 5,
            order: CaseOrder::Deadline,
            ..in_states(&[CaseState::AwaitingApproval])
        },
    )
    .await?;
    let late = case::tally::overdue_by_unit(&state.store, &scope, now).await?;
    let city = org::whole_city(&state.store).await?;
    let names: HashMap<Uuid, String> = org::all_units(&state.store, &city, false)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut overdue_units: Vec<(Uuid, String, u64)> = late
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(u, n)| (u, names.get(&u).cloned().unwrap_or_default(), n))
        .collect();
    overdue_units.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    overdue_units.truncate(8);
    let rounds = if auth.may(Action::ViewRounds) {
        inspection::list(&state.store)
            .await?
            .into_iter()
            .filter(|r| r.status == "open")
            .collect()
    } else {
        vec![]
    };
    Ok(OfficeQueue {
        lines,
        asks,
        overdue_units,
        rounds,
    })
}

pub async fn unit(state: &AppState, auth: &Auth, actor: &CaseActor) -> AppResult<UnitQueue> {
    let scope = auth.scope(Action::ViewCases)?;
    let of_units = |s: &[CaseState], limit: i64| CaseFilter {
        limit,
        order: CaseOrder::Deadline,
        unit_id: (actor.units.len() == 1).then(|| actor.units[0]),
        ..in_states(s)
    };
    let (rework, _) = case::list(&state.store, &scope, &of_units(&[CaseState::Rework], 20)).await?;
    let reasons = case::rework_reasons(
        &state.store,
        &rework.iter().map(|c| c.id).collect::<Vec<_>>(),
    )
    .await?;
    let (open, _) = case::list(
        &state.store,
        &scope,
        &of_units(&[CaseState::Dispatched], 30),
    )
    .await?;
    let (asked, _) = case::list(
        &state.store,
        &scope,
        &of_units(&[CaseState::AwaitingApproval], 10),
    )
    .await?;
    let total = case::count(
        &state.store,
        &scope,
        &of_units(
            &[
                CaseState::Rework,
                CaseState::Dispatched,
                CaseState::AwaitingApproval,
            ],
            1,
        ),
    )
    .await?;
    Ok(UnitQueue {
        rework: rework
            .into_iter()
            .map(|c| {
                let why = reasons.get(&c.id).cloned();
                (c, why)
            })
            .collect(),
        open,
        asked,
        total,
    })
}

pub async fn inspector(state: &AppState, auth: &Auth) -> AppResult<InspectorQueue> {
    let scope = auth.scope(Action::ViewCases)?;
    let f = CaseFilter {
        verifier_id: Some(auth.user.id),
        limit: 5,
        ..in_states(&[CaseState::Handled])
    };
    let to_verify_total = case::count(&state.store, &scope, &f).await?;
    let (to_verify, _) = case::list(&state.store, &scope, &f).await?;
    Ok(InspectorQueue {
        to_verify,
        to_verify_total,
    })
}

/// How long the leader's summary is kept: its overdue count alone reads
/// every open case.
pub const LEADER_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(60);

/// The month's cases, the units at both ends and the latest round, as
/// counted at most a minute ago for this reader's reach.
pub async fn leader(state: &AppState, auth: &Auth) -> AppResult<std::sync::Arc<LeaderSummary>> {
    let key = format!(
        "{:?}|{}",
        auth.scope(Action::ViewCases)?,
        auth.may(Action::ViewRounds)
    );
    state
        .leader_summaries
        .get_or(key, || leader_now(state, auth))
        .await
}

async fn leader_now(state: &AppState, auth: &Auth) -> AppResult<LeaderSummary> {
    let now = super::metrics::month_metrics(state, auth, "").await?;
    let prev =
        super::metrics::month_metrics(state, auth, &now.prev_first.strftime("%Y-%m").to_string())
            .await?;
    let ranked_of = |m: &super::metrics::MonthMetrics| -> Vec<(String, Option<f64>)> {
        m.units
            .iter()
            .filter(|(_, r)| r.rank.is_some())
            .map(|(_, r)| (r.name.clone(), r.m.composite))
            .collect()
    };
    let mut ranked = ranked_of(&now);
    let ranked_last_month = ranked.is_empty();
    if ranked_last_month {
        ranked = ranked_of(&prev);
    }
    // With fewer than ten ranked, the two ends do not overlap.
    let k = (ranked.len() / 2).min(5);
    let best = ranked.iter().take(k).cloned().collect();
    let worst = ranked.iter().rev().take(k).cloned().collect();
    let round = if auth.may(Action::ViewRounds) {
        let mut rounds: Vec<inspection::Round> = inspection::list(&state.store)
            .await?
            .into_iter()
            .filter(|r| r.score.observed > 0)
            .collect();
        rounds.sort_by_key(|r| (r.ends_on, r.created_at));
        let latest = rounds.pop();
        latest.map(|r| {
            let before = rounds
                .iter()
                .rev()
                .find(|p| p.kind == r.kind)
                .map(|p| p.score);
            (r, before)
        })
    } else {
        None
    };
    Ok(LeaderSummary {
        this_month: now.total,
        last_month: prev.total,
        month: now.first,
        round,
        best,
        worst,
        ranked_last_month,
    })
}
