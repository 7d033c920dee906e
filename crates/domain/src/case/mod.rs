//! The case workflow: the one place that decides which step may happen to a
//! case, by whom, and what state follows. Every writer of a case's state
//! (pages, API, Open311, importers, jobs) goes through `apply`.
//!
//! reported → registered (立案) | rejected (不予立案) | voided (作废) |
//! duplicate → dispatched (派遣) → handled (处置反馈) | an ask awaiting the
//! office (延期 / 挂账 / 回退) → verified by someone who neither handled nor
//! dispatched it: closed (结案) or rework (返工) → ... Closed cases may be
//! evaluated (评价).

mod intake;
#[cfg(test)]
mod tests;
mod verifier;

pub use intake::*;
pub use verifier::*;

use crate::coded_enum;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum CaseState {
        Reported = "reported",
        Registered = "registered",
        Rejected = "rejected",
        Voided = "voided",
        Duplicate = "duplicate",
        Dispatched = "dispatched",
        /// Sent back by verification; the unit works on it again.
        Rework = "rework",
        /// The unit asked for an extension, to park or to return it.
        AwaitingApproval = "awaiting_approval",
        Parked = "parked",
        Handled = "handled",
        Closed = "closed",
    }
}

impl CaseState {
    /// Still needs work from someone.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseState::Rejected | CaseState::Voided | CaseState::Duplicate | CaseState::Closed
        )
    }
    /// With a unit, under a deadline.
    pub fn with_unit(self) -> bool {
        matches!(
            self,
            CaseState::Dispatched | CaseState::Rework | CaseState::AwaitingApproval
        )
    }
    /// The deadline runs: the unit is working on it, so a passed deadline
    /// makes it overdue. While the unit waits for the office's decision on
    /// an ask it is with the unit, but the next move is the office's.
    pub fn deadline_runs(self) -> bool {
        matches!(self, CaseState::Dispatched | CaseState::Rework)
    }
}

/// Where a case stands against its deadline: the one definition of
/// overdue that lists, counts, metrics and the escalation job share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// No deadline runs (not dispatched, or done with).
    NotRunning,
    OnTime,
    Overdue,
    /// The unit asked for an extension, to park or to return it: the
    /// office decides before the clock means anything.
    AwaitingDecision,
    /// Parked (挂账) with the office's approval: no deadline until resumed.
    Parked,
}

pub fn deadline_state(
    state: CaseState,
    deadline: Option<Timestamp>,
    now: Timestamp,
) -> DeadlineState {
    match (state, deadline) {
        (CaseState::AwaitingApproval, _) => DeadlineState::AwaitingDecision,
        (CaseState::Parked, _) => DeadlineState::Parked,
        (s, Some(d)) if s.deadline_runs() => {
            if d < now {
                DeadlineState::Overdue
            } else {
                DeadlineState::OnTime
            }
        }
        _ => DeadlineState::NotRunning,
    }
}

/// Days a case is past its deadline at `now`, counting a day begun as a
/// day (an hour late is one day overdue); 0 when not overdue.
pub fn days_overdue(state: CaseState, deadline: Option<Timestamp>, now: Timestamp) -> i64 {
    match (deadline_state(state, deadline, now), deadline) {
        (DeadlineState::Overdue, Some(d)) => {
            let late = now.as_second() - d.as_second();
            (late + 86_399) / 86_400
        }
        _ => 0,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ask {
    Extend { until: Timestamp },
    Park,
    Return,
}

/// What someone does to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Register,
    Reject {
        reason: String,
    },
    Void {
        reason: String,
    },
    /// The same problem as `original`; a chain resolves to its root.
    MarkDuplicate {
        original: Uuid,
        /// Why a farther original (beyond the category's radius) is the
        /// same problem; not needed within it.
        #[serde(default)]
        reason: String,
    },
    /// The office takes a duplicate mark back: the case is its own again.
    UnmarkDuplicate {
        reason: String,
    },
    /// The office files the case under a (sub)category: needed before a
    /// case registered without one (a failed standard no category names)
    /// can be dispatched, and the deadline then comes from it.
    Classify {
        category: Uuid,
    },
    Dispatch {
        unit: Uuid,
        deadline: Timestamp,
    },
    Handle {
        note: String,
    },
    Ask {
        ask: Ask,
        reason: String,
    },
    Approve,
    Refuse {
        reason: String,
    },
    Verify {
        passed: bool,
        note: String,
    },
    /// The office puts a handled case to another verifier.
    AssignVerifier {
        verifier: Uuid,
    },
    /// Take a parked case up again.
    Resume {
        unit: Uuid,
        deadline: Timestamp,
    },
    Evaluate {
        score: u8,
        note: String,
    },
}

/// Every step's code (`Step::code`), for those who label them all.
pub const STEP_CODES: [&str; 15] = [
    "register",
    "reject",
    "void",
    "mark_duplicate",
    "unmark_duplicate",
    "classify",
    "dispatch",
    "handle",
    "ask",
    "approve",
    "refuse",
    "verify",
    "assign_verifier",
    "resume",
    "evaluate",
];

impl Step {
    pub fn code(&self) -> &'static str {
        match self {
            Step::Register => "register",
            Step::Reject { .. } => "reject",
            Step::Void { .. } => "void",
            Step::MarkDuplicate { .. } => "mark_duplicate",
            Step::UnmarkDuplicate { .. } => "unmark_duplicate",
            Step::Classify { .. } => "classify",
            Step::Dispatch { .. } => "dispatch",
            Step::Handle { .. } => "handle",
            Step::Ask { .. } => "ask",
            Step::Approve => "approve",
            Step::Refuse { .. } => "refuse",
            Step::Verify { .. } => "verify",
            Step::AssignVerifier { .. } => "assign_verifier",
            Step::Resume { .. } => "resume",
            Step::Evaluate { .. } => "evaluate",
        }
    }
}

/// Who is acting, as the workflow needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseActor {
    pub user_id: Uuid,
    /// Acts for the office: registers, dispatches, approves.
    pub office: bool,
    /// May verify fixes (office staff and inspectors).
    pub verifier: bool,
    /// The units the actor may act for (handle its cases).
    pub units: Vec<Uuid>,
    /// The unit the person belongs to, whatever they may act for: an
    /// inspector seconded from a unit is still of that unit.
    pub home_unit: Option<Uuid>,
}

impl CaseActor {
    /// Works for this unit, by grant or by belonging.
    pub fn of_unit(&self, unit: Uuid) -> bool {
        self.units.contains(&unit) || self.home_unit == Some(unit)
    }
}

/// The facts of a case the workflow decides on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseFacts {
    pub state: Option<CaseState>,
    pub unit: Option<Uuid>,
    pub deadline: Option<Timestamp>,
    pub pending_ask: Option<Ask>,
    /// State to go back to when an ask is refused.
    pub before_ask: Option<CaseState>,
    /// Everyone who dispatched it or reported its handling.
    pub dispatched_by: Vec<Uuid>,
    pub handled_by: Vec<Uuid>,
    /// Whom a handled case waits for: only they (or the office) verify it.
    pub verifier: Option<Uuid>,
    pub reworks: u32,
    pub extensions: u32,
    pub evaluated: bool,
}

impl CaseFacts {
    pub fn new() -> Self {
        CaseFacts {
            state: Some(CaseState::Reported),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Refusal {
    /// The step makes no sense in this state.
    Illegal {
        state: CaseState,
        step: &'static str,
    },
    /// This actor may not take this step on this case.
    NotYours { step: &'static str },
    /// The verifier handled or dispatched the case.
    OwnWork,
    /// The verifier works for the unit that handles the case: a colleague
    /// checking a colleague's fix is no check.
    OwnUnit,
    /// The case waits for another verifier; the office may reassign it.
    NotAssigned,
    /// A field of the step is wrong (a reason missing, a deadline past ...).
    Invalid {
        field: &'static str,
        code: &'static str,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Illegal { state, step } => write!(
                f,
                "a case that is {} cannot be sent to {step}",
                state.code()
            ),
            Refusal::NotYours { step } => write!(f, "you may not {step} this case"),
            Refusal::OwnWork => write!(
                f,
                "a fix is verified by someone who neither handled nor dispatched it"
            ),
            Refusal::OwnUnit => write!(
                f,
                "a fix is verified by someone outside the unit that handled it"
            ),
            Refusal::NotAssigned => write!(
                f,
                "the case waits for another verifier; the office may reassign it"
            ),
            Refusal::Invalid { field, code } => write!(f, "{field}: {code}"),
        }
    }
}

fn need_reason(reason: &str) -> Result<(), Refusal> {
    if reason.trim().is_empty() {
        Err(Refusal::Invalid {
            field: "reason",
            code: "required",
        })
    } else {
        Ok(())
    }
}

/// Decides a step and returns the facts after it. Pure: the caller stores
/// the result (with its audit record) in one transaction, conditional on the
/// state it read, so two people acting at once cannot both win.
pub fn apply(
    facts: &CaseFacts,
    actor: &CaseActor,
    step: &Step,
    now: Timestamp,
) -> Result<CaseFacts, Refusal> {
    use CaseState::*;
    let state = facts.state.unwrap_or(Reported);
    let illegal = || Refusal::Illegal {
        state,
        step: step.code(),
    };
    let office = || {
        if actor.office {
            Ok(())
        } else {
            Err(Refusal::NotYours { step: step.code() })
        }
    };
    let the_unit = || match facts.unit {
        Some(u) if actor.units.contains(&u) => Ok(()),
        _ => Err(Refusal::NotYours { step: step.code() }),
    };
    let mut next = facts.clone();
    match (state, step) {
        (Reported, Step::Register) => {
            office()?;
            next.state = Some(Registered);
        }
        (Reported, Step::Reject { reason }) => {
            office()?;
            need_reason(reason)?;
            next.state = Some(Rejected);
        }
        (Reported | Registered | Dispatched | Rework | Parked, Step::Void { reason }) => {
            office()?;
            need_reason(reason)?;
            next.state = Some(Voided);
        }
        (Reported | Registered, Step::MarkDuplicate { .. }) => {
            office()?;
            next.state = Some(Duplicate);
        }
        (Reported | Registered, Step::Classify { .. }) => {
            office()?;
        }
        (Duplicate, Step::UnmarkDuplicate { reason }) => {
            office()?;
            need_reason(reason)?;
            next.state = Some(Registered);
        }
        (Registered, Step::Dispatch { unit, deadline })
        | (Parked, Step::Resume { unit, deadline }) => {
            office()?;
            if *deadline <= now {
                return Err(Refusal::Invalid {
                    field: "deadline",
                    code: "deadline_past",
                });
            }
            next.state = Some(Dispatched);
            next.unit = Some(*unit);
            next.deadline = Some(*deadline);
            next.dispatched_by.push(actor.user_id);
        }
        (Dispatched | Rework, Step::Handle { note }) => {
            the_unit()?;
            if note.trim().is_empty() {
                return Err(Refusal::Invalid {
                    field: "note",
                    code: "required",
                });
            }
            next.state = Some(Handled);
            next.handled_by.push(actor.user_id);
        }
        (Dispatched | Rework, Step::Ask { ask, reason }) => {
            the_unit()?;
            need_reason(reason)?;
            if let Ask::Extend { until } = ask
                && facts.deadline.is_some_and(|d| *until <= d)
            {
                return Err(Refusal::Invalid {
                    field: "until",
                    code: "not_later",
                });
            }
            next.before_ask = Some(state);
            next.pending_ask = Some(ask.clone());
            next.state = Some(AwaitingApproval);
        }
        (AwaitingApproval, Step::Approve) => {
            office()?;
            match facts.pending_ask.clone() {
                Some(Ask::Extend { until }) => {
                    next.deadline = Some(until);
                    next.extensions += 1;
                    next.state = facts.before_ask.or(Some(Dispatched));
                }
                Some(Ask::Park) => next.state = Some(Parked),
                Some(Ask::Return) => {
                    next.state = Some(Registered);
                    next.unit = None;
                    next.deadline = None;
                }
                None => return Err(illegal()),
            }
            next.pending_ask = None;
            next.before_ask = None;
        }
        (AwaitingApproval, Step::Refuse { reason }) => {
            office()?;
            need_reason(reason)?;
            next.state = facts.before_ask.or(Some(Dispatched));
            next.pending_ask = None;
            next.before_ask = None;
        }
        (Handled, Step::Verify { passed, note }) => {
            if !actor.verifier {
                return Err(Refusal::NotYours { step: step.code() });
            }
            if facts.handled_by.contains(&actor.user_id)
                || facts.dispatched_by.contains(&actor.user_id)
            {
                return Err(Refusal::OwnWork);
            }
            if facts.unit.is_some_and(|u| actor.of_unit(u)) {
                return Err(Refusal::OwnUnit);
            }
            if !actor.office && facts.verifier.is_some_and(|v| v != actor.user_id) {
                return Err(Refusal::NotAssigned);
            }
            if !passed && note.trim().is_empty() {
                return Err(Refusal::Invalid {
                    field: "note",
                    code: "required",
                });
            }
            // The verifier who sent it back is kept: the fix is shown to
            // the one who asked for it.
            if *passed {
                next.state = Some(Closed);
                next.verifier = None;
            } else {
                next.state = Some(Rework);
                next.reworks += 1;
            }
        }
        (Handled, Step::AssignVerifier { verifier }) => {
            office()?;
            if facts.handled_by.contains(verifier) || facts.dispatched_by.contains(verifier) {
                return Err(Refusal::Invalid {
                    field: "verifier",
                    code: "verifier_own_work",
                });
            }
            next.verifier = Some(*verifier);
        }
        (Closed, Step::Evaluate { score, .. }) => {
            if !actor.office {
                return Err(Refusal::NotYours { step: step.code() });
            }
            if !(1..=5).contains(score) {
                return Err(Refusal::Invalid {
                    field: "score",
                    code: "invalid_score",
                });
            }
            if facts.evaluated {
                return Err(illegal());
            }
            next.evaluated = true;
        }
        _ => return Err(illegal()),
    }
    Ok(next)
}

/// What the duplicate rules need to know of a case.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateView {
    pub id: Uuid,
    pub state: CaseState,
    /// The category's class (大类): its parent, or itself when it has none.
    pub class: Uuid,
    pub point: Option<crate::geo::Point>,
}

/// Whether `case` may be marked a duplicate of `root`, the original its
/// chosen original resolves to (a duplicate's original, followed to the
/// end). The original must be live or closed, of the same class, and
/// within the duplicate's category radius, unless a reason confirms a
/// farther (or unplaced) one. Refusals name the field `original`.
pub fn check_original(
    case: &DuplicateView,
    root: &DuplicateView,
    radius_m: f64,
    reason: &str,
) -> Result<(), Refusal> {
    let no = |code| {
        Err(Refusal::Invalid {
            field: "original",
            code,
        })
    };
    if root.id == case.id {
        return no("duplicate_cycle");
    }
    match root.state {
        CaseState::Voided => return no("original_voided"),
        CaseState::Rejected => return no("original_rejected"),
        _ => {}
    }
    if root.class != case.class {
        return no("other_class");
    }
    let near = case
        .point
        .zip(root.point)
        .is_some_and(|(a, b)| a.distance_m(b) <= radius_m);
    if !near && reason.trim().is_empty() {
        return no("original_too_far");
    }
    Ok(())
}

/// The steps an actor could take now, for showing only the allowed actions.
pub fn possible_steps(facts: &CaseFacts, actor: &CaseActor) -> Vec<&'static str> {
    use CaseState::*;
    let state = facts.state.unwrap_or(Reported);
    let mine = facts.unit.is_some_and(|u| actor.units.contains(&u));
    let own_work = facts.handled_by.contains(&actor.user_id)
        || facts.dispatched_by.contains(&actor.user_id)
        || facts.unit.is_some_and(|u| actor.of_unit(u));
    let mut out = vec![];
    let mut add = |ok: bool, s: &'static str| {
        if ok {
            out.push(s);
        }
    };
    add(state == Reported && actor.office, "register");
    add(state == Reported && actor.office, "reject");
    add(
        matches!(state, Reported | Registered) && actor.office,
        "mark_duplicate",
    );
    add(state == Duplicate && actor.office, "unmark_duplicate");
    add(
        matches!(state, Reported | Registered) && actor.office,
        "classify",
    );
    add(
        matches!(state, Reported | Registered | Dispatched | Rework | Parked) && actor.office,
        "void",
    );
    add(state == Registered && actor.office, "dispatch");
    add(matches!(state, Dispatched | Rework) && mine, "handle");
    add(matches!(state, Dispatched | Rework) && mine, "ask");
    add(state == AwaitingApproval && actor.office, "approve");
    add(state == AwaitingApproval && actor.office, "refuse");
    let assigned_elsewhere = !actor.office && facts.verifier.is_some_and(|v| v != actor.user_id);
    add(
        state == Handled && actor.verifier && !own_work && !assigned_elsewhere,
        "verify",
    );
    add(state == Handled && actor.office, "assign_verifier");
    add(state == Parked && actor.office, "resume");
    add(
        state == Closed && actor.office && !facts.evaluated,
        "evaluate",
    );
    out
}

/// Why this actor cannot take the step the case waits for, when they
/// cannot: the page shows it instead of an empty action panel.
pub fn why_not(facts: &CaseFacts, actor: &CaseActor, now: Timestamp) -> Option<Refusal> {
    use CaseState::*;
    let later = now + jiff::SignedDuration::from_hours(24);
    let step = match facts.state.unwrap_or(Reported) {
        Reported => Step::Register,
        Registered => Step::Dispatch {
            unit: Uuid::nil(),
            deadline: later,
        },
        Dispatched | Rework => Step::Handle { note: "-".into() },
        AwaitingApproval => Step::Approve,
        Handled => Step::Verify {
            passed: true,
            note: String::new(),
        },
        Parked => Step::Resume {
            unit: Uuid::nil(),
            deadline: later,
        },
        Closed | Rejected | Voided | Duplicate => return None,
    };
    apply(facts, actor, &step, now).err()
}
