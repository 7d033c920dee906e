//! Every step, by every kind of actor, in every state a case can be in,
//! through the API on a real database: what the workflow (`domain::case`)
//! allows is done and lands in the state it says; what it refuses is
//! refused with the reason it gives, and changes nothing.

use crate::cases::*;
use crate::helpers::*;
use crate::on_both;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use uuid::Uuid;
use wenming_domain::case::{Ask, CaseActor, Refusal, Step, apply};

on_both!(every_step_in_every_state_does_what_the_workflow_says);

struct Who {
    name: &'static str,
    token: String,
    actor: CaseActor,
}

fn steps(original: Uuid, unit: Uuid, category: Uuid) -> Vec<Step> {
    let at = |h| Timestamp::now() + SignedDuration::from_hours(h);
    let reason = || "需说明的理由".to_string();
    vec![
        Step::Register,
        Step::Reject { reason: reason() },
        Step::Void { reason: reason() },
        Step::MarkDuplicate {
            original,
            reason: String::new(),
        },
        Step::Dispatch {
            unit,
            deadline: at(48),
        },
        Step::Handle {
            note: "已清理干净".into(),
        },
        Step::Ask {
            ask: Ask::Extend { until: at(96) },
            reason: reason(),
        },
        Step::Ask {
            ask: Ask::Park,
            reason: reason(),
        },
        Step::Ask {
            ask: Ask::Return,
            reason: reason(),
        },
        Step::Approve,
        Step::Refuse { reason: reason() },
        Step::Verify {
            passed: true,
            note: String::new(),
        },
        Step::Verify {
            passed: false,
            note: "仍未整改到位".into(),
        },
        Step::Resume {
            unit,
            deadline: at(48),
        },
        Step::Evaluate {
            score: 4,
            note: String::new(),
        },
        Step::UnmarkDuplicate { reason: reason() },
        Step::Classify { category },
    ]
}

async fn fetch(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    bearer(&format!("http://{}", app.addr))(Method::GET, &format!("/cases/{id}"), token)
        .send()
        .await
        .unwrap()
}

async fn every_step_in_every_state_does_what_the_workflow_says(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let cgj = app.unit_id("市城市管理局").await;
    let who = |name: &'static str, office: bool, verifier: bool, units: Vec<Uuid>| {
        let app = &app;
        async move {
            Who {
                name,
                token: app.token(name, false).await,
                actor: CaseActor {
                    user_id: app.user_id(name).await,
                    office,
                    verifier,
                    units,
                    home_unit: None,
                },
            }
        }
    };
    let people = [
        who("office", true, true, vec![]).await,
        who("unit", false, false, vec![cgj]).await,
        who("inspector", false, true, vec![]).await,
    ];
    let (office, unit, inspector) = (&people[0], &people[1], &people[2]);
    let original = report(&app, &office.token, sub(&cats, "0101").id, IN_LJ).await;
    let original_id: Uuid = original["id"].as_str().unwrap().parse().unwrap();
    let all = steps(original_id, cgj, sub(&cats, "0101").id);
    let by = |p: &Who, i: usize| (p.token.clone(), all[i].clone());
    // How a fresh case reaches each state, from "reported".
    let (reg, rej, void, dup, disp, handle, extend, park, approve, pass, fail) =
        (0, 1, 2, 3, 4, 5, 6, 7, 9, 11, 12);
    let paths: Vec<(&str, Vec<(String, Step)>)> = vec![
        ("reported", vec![]),
        ("registered", vec![by(office, reg)]),
        ("rejected", vec![by(office, rej)]),
        ("voided", vec![by(office, void)]),
        ("duplicate", vec![by(office, dup)]),
        ("dispatched", vec![by(office, reg), by(office, disp)]),
        (
            "awaiting_approval",
            vec![by(office, reg), by(office, disp), by(unit, extend)],
        ),
        (
            "parked",
            vec![
                by(office, reg),
                by(office, disp),
                by(unit, park),
                by(office, approve),
            ],
        ),
        (
            "handled",
            vec![by(office, reg), by(office, disp), by(unit, handle)],
        ),
        (
            "rework",
            vec![
                by(office, reg),
                by(office, disp),
                by(unit, handle),
                by(inspector, fail),
            ],
        ),
        (
            "closed",
            vec![
                by(office, reg),
                by(office, disp),
                by(unit, handle),
                by(inspector, pass),
            ],
        ),
    ];
    let fresh = |path: Vec<(String, Step)>| {
        let app = &app;
        let cats = &cats;
        let office = office.token.clone();
        async move {
            let mut c = report(app, &office, sub(cats, "0101").id, IN_LJ).await;
            for (token, s) in path {
                let r = step(app, &token, &c, serde_json::to_value(&s).unwrap()).await;
                assert_eq!(r.status(), StatusCode::OK, "{s:?}");
                c = r.json().await.unwrap();
            }
            c
        }
    };
    let (mut allowed, mut refused) = (0, 0);
    for (state, path) in &paths {
        let mut c = fresh(path.clone()).await;
        assert_eq!(c["state"], *state);
        for p in &people {
            for s in &all {
                let id = c["id"].as_str().unwrap().to_string();
                let everything = wenming_store::org::whole_city(&app.store).await.unwrap();
                let facts = wenming_store::case::get(&app.store, &everything, id.parse().unwrap())
                    .await
                    .unwrap()
                    .facts()
                    .clone();
                let visible = fetch(&app, &p.token, &id).await.status() == StatusCode::OK;
                let decided = apply(&facts, &p.actor, s, Timestamp::now());
                let r = step(&app, &p.token, &c, serde_json::to_value(s).unwrap()).await;
                let status = r.status();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                let what = format!("{} {:?} in {state}", p.name, s);
                match (visible, decided) {
                    (false, _) => assert_eq!(status, StatusCode::NOT_FOUND, "{what}"),
                    (true, Ok(after)) => {
                        assert_eq!(status, StatusCode::OK, "{what}: {body}");
                        let to = after.state.map(|s| s.code()).unwrap_or("reported");
                        assert_eq!(body["state"], to, "{what}");
                        allowed += 1;
                        // Done: the next try needs the case as it was.
                        c = fresh(path.clone()).await;
                        continue;
                    }
                    (true, Err(Refusal::NotYours { .. })) => {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}")
                    }
                    (true, Err(Refusal::Illegal { .. })) => {
                        assert_eq!(body["errors"][0]["code"], "illegal_step", "{what}: {body}")
                    }
                    (true, Err(Refusal::OwnWork)) => {
                        assert_eq!(body["errors"][0]["code"], "own_work", "{what}: {body}")
                    }
                    (true, Err(Refusal::OwnUnit)) => {
                        assert_eq!(body["errors"][0]["code"], "own_unit", "{what}: {body}")
                    }
                    (true, Err(Refusal::NotAssigned)) => {
                        assert_eq!(body["errors"][0]["code"], "not_assigned", "{what}: {body}")
                    }
                    (true, Err(Refusal::Invalid { field, code })) => {
                        assert_eq!(
                            (
                                body["errors"][0]["field"].as_str(),
                                body["errors"][0]["code"].as_str()
                            ),
                            (Some(field), Some(code)),
                            "{what}: {body}"
                        )
                    }
                }
                refused += 1;
                // A refusal changes nothing.
                let now: serde_json::Value =
                    fetch(&app, &office.token, &id).await.json().await.unwrap();
                assert_eq!(
                    (&now["state"], &now["version"]),
                    (&c["state"], &c["version"]),
                    "{what}"
                );
            }
        }
    }
    // The walk did try both kinds (11 states × 3 actors × 17 steps).
    assert!(allowed >= 20, "{allowed} allowed");
    assert_eq!(allowed + refused, 11 * 3 * 17);
}
