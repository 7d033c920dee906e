//! The case workflow: the one place that decides which step may happen to a
//! case, by whom, and what state follows. Every writer of a case's state
//! (pages, API, Open311, importers, jobs) goes through `apply`.
//!
//! reported → registered (立案) | rejected (不予立案) | voided (作废) |
//! duplicate → dispatched (派遣) → handled (处置反馈) | an ask awaiting the
//! office (延期 / 挂账 / 回退) → verified by someone who neither handled nor
//! dispatched it: closed (结案) or rework (返工) → ... Closed cases may be
//! evaluated (评价).

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
            if !passed && note.trim().is_empty() {
                return Err(Refusal::Invalid {
                    field: "note",
                    code: "required",
                });
            }
            if *passed {
                next.state = Some(Closed);
            } else {
                next.state = Some(Rework);
                next.reworks += 1;
            }
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
    add(state == Handled && actor.verifier && !own_work, "verify");
    add(state == Parked && actor.office, "resume");
    add(
        state == Closed && actor.office && !facts.evaluated,
        "evaluate",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + h * 3600).unwrap()
    }

    struct World {
        office: CaseActor,
        office2: CaseActor,
        unit: CaseActor,
        other_unit: CaseActor,
        inspector: CaseActor,
        unit_id: Uuid,
    }

    fn world() -> World {
        let unit_id = Uuid::from_u128(100);
        let actor = |n: u128, office, verifier, units: Vec<Uuid>| CaseActor {
            user_id: Uuid::from_u128(n),
            office,
            verifier,
            units,
            home_unit: None,
        };
        World {
            office: actor(1, true, true, vec![]),
            office2: actor(2, true, true, vec![]),
            unit: actor(3, false, false, vec![unit_id]),
            other_unit: actor(4, false, false, vec![Uuid::from_u128(200)]),
            inspector: actor(5, false, true, vec![]),
            unit_id,
        }
    }

    fn dispatched(w: &World) -> CaseFacts {
        let f = apply(&CaseFacts::new(), &w.office, &Step::Register, t(0)).unwrap();
        apply(
            &f,
            &w.office,
            &Step::Dispatch {
                unit: w.unit_id,
                deadline: t(48),
            },
            t(1),
        )
        .unwrap()
    }

    #[test]
    fn the_closed_loop_runs_from_report_to_verified_closure() {
        let w = world();
        let f = dispatched(&w);
        assert_eq!(f.state, Some(CaseState::Dispatched));
        let f = apply(
            &f,
            &w.unit,
            &Step::Handle {
                note: "已清理".into(),
            },
            t(5),
        )
        .unwrap();
        assert_eq!(f.state, Some(CaseState::Handled));
        let f = apply(
            &f,
            &w.inspector,
            &Step::Verify {
                passed: false,
                note: "仍有残留".into(),
            },
            t(6),
        )
        .unwrap();
        assert_eq!((f.state, f.reworks), (Some(CaseState::Rework), 1));
        let f = apply(
            &f,
            &w.unit,
            &Step::Handle {
                note: "已彻底清理".into(),
            },
            t(8),
        )
        .unwrap();
        let f = apply(
            &f,
            &w.inspector,
            &Step::Verify {
                passed: true,
                note: String::new(),
            },
            t(9),
        )
        .unwrap();
        assert_eq!(f.state, Some(CaseState::Closed));
        let f = apply(
            &f,
            &w.office2,
            &Step::Evaluate {
                score: 4,
                note: String::new(),
            },
            t(10),
        )
        .unwrap();
        assert!(f.evaluated);
        assert!(matches!(
            apply(
                &f,
                &w.office2,
                &Step::Evaluate {
                    score: 4,
                    note: String::new()
                },
                t(11)
            ),
            Err(Refusal::Illegal { .. })
        ));
    }

    #[test]
    fn the_dispatcher_and_the_handler_cannot_verify() {
        let w = world();
        let f = apply(
            &dispatched(&w),
            &w.unit,
            &Step::Handle { note: "ok".into() },
            t(5),
        )
        .unwrap();
        assert_eq!(
            apply(
                &f,
                &w.office,
                &Step::Verify {
                    passed: true,
                    note: String::new()
                },
                t(6)
            ),
            Err(Refusal::OwnWork)
        );
        assert_eq!(
            apply(
                &f,
                &w.unit,
                &Step::Verify {
                    passed: true,
                    note: String::new()
                },
                t(6)
            ),
            Err(Refusal::NotYours { step: "verify" })
        );
        assert!(
            apply(
                &f,
                &w.office2,
                &Step::Verify {
                    passed: true,
                    note: String::new()
                },
                t(6)
            )
            .is_ok()
        );
        assert!(!possible_steps(&f, &w.office).contains(&"verify"));
        assert!(possible_steps(&f, &w.office2).contains(&"verify"));
    }

    #[test]
    fn an_original_must_be_live_of_the_same_class_and_near() {
        use crate::geo::Point;
        let (class, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let at = |lon: f64| Some(Point { lon, lat: 31.2 });
        let view = |n: u128, state, class, point| DuplicateView {
            id: Uuid::from_u128(n),
            state,
            class,
            point,
        };
        let me = view(10, CaseState::Registered, class, at(118.6));
        let ok = view(11, CaseState::Dispatched, class, at(118.6003));
        assert_eq!(check_original(&me, &ok, 50.0, ""), Ok(()));
        let closed = view(11, CaseState::Closed, class, at(118.6));
        assert_eq!(check_original(&me, &closed, 50.0, ""), Ok(()));
        let refused =
            |root: &DuplicateView, reason: &str| match check_original(&me, root, 50.0, reason) {
                Err(Refusal::Invalid {
                    field: "original",
                    code,
                }) => code,
                other => panic!("{other:?}"),
            };
        // A chain that comes back to the case itself is a cycle.
        assert_eq!(refused(&me, ""), "duplicate_cycle");
        assert_eq!(
            refused(&view(12, CaseState::Voided, class, at(118.6)), ""),
            "original_voided"
        );
        assert_eq!(
            refused(&view(12, CaseState::Rejected, class, at(118.6)), ""),
            "original_rejected"
        );
        assert_eq!(
            refused(&view(12, CaseState::Registered, other, at(118.6)), ""),
            "other_class"
        );
        // 8 km away: only with a reason; the same with no place to compare.
        let far = view(13, CaseState::Registered, class, at(118.684));
        assert_eq!(refused(&far, ""), "original_too_far");
        assert_eq!(refused(&far, "  "), "original_too_far");
        assert_eq!(check_original(&me, &far, 50.0, "同一条河道的两端"), Ok(()));
        let nowhere = view(14, CaseState::Registered, class, None);
        assert_eq!(refused(&nowhere, ""), "original_too_far");
    }

    #[test]
    fn waiting_for_the_office_is_not_overdue() {
        use CaseState::*;
        let (past, future) = (Some(t(-1)), Some(t(1)));
        assert_eq!(
            deadline_state(Dispatched, past, t(0)),
            DeadlineState::Overdue
        );
        assert_eq!(deadline_state(Rework, future, t(0)), DeadlineState::OnTime);
        assert_eq!(
            deadline_state(AwaitingApproval, past, t(0)),
            DeadlineState::AwaitingDecision
        );
        assert_eq!(deadline_state(Parked, past, t(0)), DeadlineState::Parked);
        for s in [
            Reported, Registered, Handled, Closed, Voided, Duplicate, Rejected,
        ] {
            assert_eq!(
                deadline_state(s, past, t(0)),
                DeadlineState::NotRunning,
                "{s:?}"
            );
        }
    }

    #[test]
    fn a_colleague_from_the_handling_unit_cannot_verify() {
        let w = world();
        let f = apply(
            &dispatched(&w),
            &w.unit,
            &Step::Handle { note: "ok".into() },
            t(5),
        )
        .unwrap();
        let verify = Step::Verify {
            passed: true,
            note: String::new(),
        };
        // An inspector who belongs to the handling unit, and an office
        // account that also acts for it.
        let seconded = CaseActor {
            home_unit: Some(w.unit_id),
            ..w.inspector.clone()
        };
        let both = CaseActor {
            units: vec![w.unit_id],
            ..w.office2.clone()
        };
        for who in [&seconded, &both] {
            assert_eq!(apply(&f, who, &verify, t(6)), Err(Refusal::OwnUnit));
            assert!(!possible_steps(&f, who).contains(&"verify"));
        }
        assert!(apply(&f, &w.inspector, &verify, t(6)).is_ok());
    }

    #[test]
    fn only_the_assigned_unit_handles_or_asks() {
        let w = world();
        let f = dispatched(&w);
        assert_eq!(
            apply(&f, &w.other_unit, &Step::Handle { note: "x".into() }, t(5)),
            Err(Refusal::NotYours { step: "handle" })
        );
        assert_eq!(
            apply(&f, &w.office, &Step::Handle { note: "x".into() }, t(5)),
            Err(Refusal::NotYours { step: "handle" }),
            "the office does not fix problems itself"
        );
    }

    #[test]
    fn asks_wait_for_the_office_and_refusal_goes_back() {
        let w = world();
        let f = dispatched(&w);
        let ext = Step::Ask {
            ask: Ask::Extend { until: t(96) },
            reason: "需采购材料".into(),
        };
        let asked = apply(&f, &w.unit, &ext, t(5)).unwrap();
        assert_eq!(asked.state, Some(CaseState::AwaitingApproval));
        assert_eq!(
            apply(&asked, &w.unit, &Step::Approve, t(6)),
            Err(Refusal::NotYours { step: "approve" })
        );
        let ok = apply(&asked, &w.office, &Step::Approve, t(6)).unwrap();
        assert_eq!(
            (ok.state, ok.deadline, ok.extensions),
            (Some(CaseState::Dispatched), Some(t(96)), 1)
        );
        let refused = apply(
            &asked,
            &w.office,
            &Step::Refuse {
                reason: "时限足够".into(),
            },
            t(6),
        )
        .unwrap();
        assert_eq!(
            (refused.state, refused.deadline),
            (Some(CaseState::Dispatched), Some(t(48)))
        );
        let park = apply(
            &f,
            &w.unit,
            &Step::Ask {
                ask: Ask::Park,
                reason: "需财政预算".into(),
            },
            t(5),
        )
        .unwrap();
        let parked = apply(&park, &w.office, &Step::Approve, t(6)).unwrap();
        assert_eq!(parked.state, Some(CaseState::Parked));
        let resumed = apply(
            &parked,
            &w.office,
            &Step::Resume {
                unit: w.unit_id,
                deadline: t(500),
            },
            t(7),
        )
        .unwrap();
        assert_eq!(resumed.state, Some(CaseState::Dispatched));
        let ret = apply(
            &f,
            &w.unit,
            &Step::Ask {
                ask: Ask::Return,
                reason: "非本单位职责".into(),
            },
            t(5),
        )
        .unwrap();
        let back = apply(&ret, &w.office, &Step::Approve, t(6)).unwrap();
        assert_eq!((back.state, back.unit), (Some(CaseState::Registered), None));
    }

    #[test]
    fn bad_steps_are_refused_with_the_state_and_step_named() {
        let w = world();
        let f = CaseFacts::new();
        let e = apply(
            &f,
            &w.office,
            &Step::Verify {
                passed: true,
                note: String::new(),
            },
            t(0),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a case that is reported cannot be sent to verify"
        );
        assert_eq!(
            apply(&f, &w.office, &Step::Reject { reason: " ".into() }, t(0)),
            Err(Refusal::Invalid {
                field: "reason",
                code: "required"
            })
        );
        let reg = apply(&f, &w.office, &Step::Register, t(0)).unwrap();
        assert_eq!(
            apply(
                &reg,
                &w.office,
                &Step::Dispatch {
                    unit: w.unit_id,
                    deadline: t(-1)
                },
                t(0)
            ),
            Err(Refusal::Invalid {
                field: "deadline",
                code: "deadline_past"
            })
        );
        let d = dispatched(&w);
        let shorter = Step::Ask {
            ask: Ask::Extend { until: t(10) },
            reason: "x".into(),
        };
        assert_eq!(
            apply(&d, &w.unit, &shorter, t(5)),
            Err(Refusal::Invalid {
                field: "until",
                code: "not_later"
            })
        );
    }

    /// Every state against every step: a step either succeeds for some
    /// actor or is refused as illegal; closed, rejected, voided and
    /// duplicate cases accept nothing but an evaluation of a closed case
    /// and the undoing of a duplicate mark.
    #[test]
    fn every_state_and_step_is_decided() {
        let w = world();
        let steps = [
            Step::Register,
            Step::Reject { reason: "r".into() },
            Step::Void { reason: "r".into() },
            Step::MarkDuplicate {
                original: Uuid::nil(),
                reason: String::new(),
            },
            Step::UnmarkDuplicate { reason: "r".into() },
            Step::Classify {
                category: Uuid::nil(),
            },
            Step::Dispatch {
                unit: w.unit_id,
                deadline: t(1000),
            },
            Step::Handle { note: "n".into() },
            Step::Ask {
                ask: Ask::Park,
                reason: "r".into(),
            },
            Step::Approve,
            Step::Refuse { reason: "r".into() },
            Step::Verify {
                passed: true,
                note: "n".into(),
            },
            Step::Resume {
                unit: w.unit_id,
                deadline: t(1000),
            },
            Step::Evaluate {
                score: 3,
                note: String::new(),
            },
        ];
        let actors = [&w.office, &w.office2, &w.unit, &w.inspector];
        for state in CaseState::ALL {
            let facts = CaseFacts {
                state: Some(state),
                unit: Some(w.unit_id),
                deadline: Some(t(48)),
                pending_ask: (state == CaseState::AwaitingApproval).then_some(Ask::Park),
                handled_by: vec![w.unit.user_id],
                dispatched_by: vec![w.office.user_id],
                ..Default::default()
            };
            let mut allowed = vec![];
            for step in &steps {
                let results: Vec<_> = actors
                    .iter()
                    .map(|a| apply(&facts, a, step, t(0)))
                    .collect();
                if results.iter().any(Result::is_ok) {
                    allowed.push(step.code());
                } else {
                    assert!(
                        results
                            .iter()
                            .all(|r| matches!(r, Err(Refusal::Illegal { .. }))),
                        "{} / {}: refused, but not as illegal: {results:?}",
                        state.code(),
                        step.code()
                    );
                }
                // What the page offers is exactly what apply accepts.
                for a in actors {
                    assert_eq!(
                        possible_steps(&facts, a).contains(&step.code()),
                        apply(&facts, a, step, t(0)).is_ok()
                            || matches!(apply(&facts, a, step, t(0)), Err(Refusal::Invalid { .. })),
                        "{} / {} / {:?}",
                        state.code(),
                        step.code(),
                        a.user_id
                    );
                }
            }
            if !state.is_open() {
                let expected: Vec<&str> = match state {
                    CaseState::Closed => vec!["evaluate"],
                    // A mark the office made in error can be taken back.
                    CaseState::Duplicate => vec!["unmark_duplicate"],
                    _ => vec![],
                };
                assert_eq!(allowed, expected, "{}", state.code());
            }
        }
    }
}

// ------------------------------------------------------------ intake

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Source {
        /// Found in an inspection (督查 / 巡查).
        Inspection = "inspection",
        /// From a third-party evaluation.
        ThirdParty = "third_party",
        /// A citizen's report (随手拍).
        Citizen = "citizen",
        /// The 12345 hotline.
        Hotline = "hotline",
        /// A leader's instruction.
        Leader = "leader",
    }
}

/// 处置时限: in working hours or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum HandlingTime {
    Hours(u32),
    Days(u32),
}

impl HandlingTime {
    pub fn deadline(self, from: Timestamp, calendar: &crate::calendar::Calendar) -> Timestamp {
        match self {
            HandlingTime::Hours(h) => calendar.add_working_hours(from, h),
            HandlingTime::Days(d) => calendar.add_working_days(from, d),
        }
    }
    pub fn from_parts(amount: Option<i64>, unit: Option<&str>) -> Option<Self> {
        let a = u32::try_from(amount?).ok().filter(|a| *a > 0)?;
        match unit? {
            "hours" => Some(HandlingTime::Hours(a)),
            "days" => Some(HandlingTime::Days(a)),
            _ => None,
        }
    }
    pub fn parts(self) -> (i64, &'static str) {
        match self {
            HandlingTime::Hours(a) => (a as i64, "hours"),
            HandlingTime::Days(a) => (a as i64, "days"),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IntakeForm {
    /// A client-chosen UUID, so that a retried submission is not a second case.
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub lon: String,
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_phone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntakeInput {
    pub client_id: Option<Uuid>,
    pub source: Source,
    pub category_id: Uuid,
    pub description: String,
    pub point: Option<crate::geo::Point>,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    /// Photos uploaded beforehand by the reporter, attached as "before".
    pub photo_ids: Vec<Uuid>,
}

impl IntakeForm {
    pub fn parse(&self) -> Result<IntakeInput, crate::FieldErrors> {
        use crate::validation;
        let mut e = crate::FieldErrors::new();
        let client_id = crate::org::parse_optional_id(&mut e, "client_id", &self.client_id);
        let source = Source::parse(self.source.trim());
        if source.is_none() {
            e.add("source", "invalid_choice");
        }
        let category_id = crate::org::parse_optional_id(&mut e, "category_id", &self.category_id);
        if category_id.is_none() && e.for_field("category_id").is_none() {
            e.add("category_id", "required");
        }
        let description = validation::text(&mut e, "description", &self.description, true, 2000);
        let point = crate::geo::Point::from_fields(&mut e, &self.lon, &self.lat);
        let address = validation::text(&mut e, "address", &self.address, false, 200);
        if point.is_none() && address.is_none() && e.for_field("lon").is_none() {
            e.add("address", "location_required");
        }
        let reporter_name =
            validation::text(&mut e, "reporter_name", &self.reporter_name, false, 32);
        let reporter_phone = validation::phone(&mut e, "reporter_phone", &self.reporter_phone);
        match (source, category_id, description) {
            (Some(source), Some(category_id), Some(description)) if e.is_empty() => {
                Ok(IntakeInput {
                    client_id,
                    source,
                    category_id,
                    description,
                    point,
                    address,
                    reporter_name,
                    reporter_phone,
                    photo_ids: vec![],
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod intake_tests {
    use super::*;

    #[test]
    fn intake_needs_a_place_and_checks_coordinates() {
        let base = IntakeForm {
            source: "citizen".into(),
            category_id: Uuid::nil().to_string(),
            description: "路边垃圾堆积".into(),
            ..Default::default()
        };
        assert_eq!(
            base.parse().unwrap_err().for_field("address"),
            Some("location_required")
        );
        let f = IntakeForm {
            lon: "2.35".into(),
            lat: "48.85".into(),
            ..base.clone()
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("lon"),
            Some("outside_china")
        );
        let f = IntakeForm {
            lon: "118.7".into(),
            lat: "31.3".into(),
            ..base.clone()
        };
        assert!(f.parse().unwrap().point.is_some());
        let f = IntakeForm {
            address: "望月路 12 号".into(),
            source: "gossip".into(),
            ..base
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("source"),
            Some("invalid_choice")
        );
    }
}
