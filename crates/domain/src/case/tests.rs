//! The workflow's rules, step by step.

use super::*;

#[test]
fn days_overdue_count_a_begun_day_as_a_day() {
    let d = Timestamp::from_second(1_800_000_000).unwrap();
    let at = |h: i64| d + jiff::SignedDuration::from_hours(h);
    assert_eq!(days_overdue(CaseState::Dispatched, Some(d), at(-1)), 0);
    assert_eq!(days_overdue(CaseState::Dispatched, Some(d), at(1)), 1);
    assert_eq!(days_overdue(CaseState::Rework, Some(d), at(24)), 1);
    assert_eq!(days_overdue(CaseState::Dispatched, Some(d), at(25)), 2);
    // A parked or closed case is not running late, whatever its deadline.
    assert_eq!(days_overdue(CaseState::Parked, Some(d), at(100)), 0);
    assert_eq!(days_overdue(CaseState::Closed, Some(d), at(100)), 0);
}

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
    let refused = |root: &DuplicateView, reason: &str| match check_original(&me, root, 50.0, reason)
    {
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

#[test]
fn a_fix_put_to_one_verifier_is_theirs_or_the_offices() {
    let w = world();
    let f = dispatched(&w);
    let mut f = apply(
        &f,
        &w.unit,
        &Step::Handle {
            note: "done".into(),
        },
        t(2),
    )
    .unwrap();
    let other = CaseActor {
        user_id: Uuid::from_u128(6),
        ..w.inspector.clone()
    };
    f.verifier = Some(w.inspector.user_id);
    let pass = Step::Verify {
        passed: true,
        note: String::new(),
    };
    assert_eq!(apply(&f, &other, &pass, t(3)), Err(Refusal::NotAssigned));
    assert!(!possible_steps(&f, &other).contains(&"verify"));
    assert_eq!(why_not(&f, &other, t(3)), Some(Refusal::NotAssigned));
    // The office reassigns it, and the new verifier closes it.
    assert!(possible_steps(&f, &w.office2).contains(&"assign_verifier"));
    let f = apply(
        &f,
        &w.office2,
        &Step::AssignVerifier {
            verifier: other.user_id,
        },
        t(3),
    )
    .unwrap();
    assert_eq!(f.verifier, Some(other.user_id));
    assert_eq!(
        apply(&f, &w.inspector, &pass, t(4)),
        Err(Refusal::NotAssigned)
    );
    let closed = apply(&f, &other, &pass, t(4)).unwrap();
    assert_eq!(closed.state, Some(CaseState::Closed));
    assert_eq!(closed.verifier, None);
}

#[test]
fn nobody_is_made_verifier_of_their_own_work() {
    let w = world();
    let f = dispatched(&w);
    let f = apply(
        &f,
        &w.unit,
        &Step::Handle {
            note: "done".into(),
        },
        t(2),
    )
    .unwrap();
    for own in [w.office.user_id, w.unit.user_id] {
        assert_eq!(
            apply(
                &f,
                &w.office2,
                &Step::AssignVerifier { verifier: own },
                t(3)
            ),
            Err(Refusal::Invalid {
                field: "verifier",
                code: "verifier_own_work"
            })
        );
    }
    // Only the office reassigns.
    assert!(matches!(
        apply(
            &f,
            &w.inspector,
            &Step::AssignVerifier {
                verifier: w.inspector.user_id
            },
            t(3)
        ),
        Err(Refusal::NotYours { .. })
    ));
    // The dispatcher is told why there is nothing for them to do.
    assert_eq!(why_not(&f, &w.office, t(3)), Some(Refusal::OwnWork));
}
