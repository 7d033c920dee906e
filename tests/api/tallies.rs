//! The metrics page reads each month from running sums kept as cases move.
//! Whatever happens to cases, those sums must give the figures computed
//! from the cases themselves, and a rebuild must give the same sums.

use crate::cases::{IN_FM, IN_LJ, register_and_dispatch, report, step, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wenming_bench::generate::{GenSpec, generate, today};

on_both!(month_tallies_agree_with_the_cases_as_they_move);

async fn metrics_of(app: &TestApp, token: &str, months: &[String]) -> Vec<Value> {
    let call = bearer(&format!("http://{}", app.addr));
    let mut out = vec![];
    for m in months {
        let r = call(Method::GET, &format!("/metrics?month={m}"), token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let mut v: Value = r.json().await.unwrap();
        // Overdue is asked of the cases at the moment of the call, in both
        // ways of computing; a deadline may pass between two calls.
        v["total"]["overdue_now"] = Value::Null;
        for u in v["units"].as_array_mut().unwrap() {
            u["metrics"]["overdue_now"] = Value::Null;
        }
        out.push(v);
    }
    out
}

async fn month_tallies_agree_with_the_cases_as_they_move(b: Backend) {
    let app = TestApp::spawn(b).await;
    generate(
        &app.store,
        &GenSpec {
            cases: 1500,
            seed: 11,
            force: false,
            until: today(),
        },
        |_| {},
    )
    .await
    .unwrap();
    assert!(
        wenming_store::case::tally::is_built(&app.store)
            .await
            .unwrap()
    );
    let months: Vec<String> = {
        let keys: Vec<i32> =
            sqlx::query_scalar("SELECT DISTINCT month FROM case_tally ORDER BY month")
                .fetch_all(app.store.reader())
                .await
                .unwrap();
        keys.iter()
            .map(|k| format!("{}-{:02}", k / 100, k % 100))
            .collect()
    };
    assert!(months.len() >= 12, "a year of cases: {months:?}");

    // Cases move: new ones go round the loop, are sent back, rejected,
    // merged as duplicates that close with their original.
    // The generator loaded the demo catalogue.
    let cats = wenming_store::case::categories(&app.store).await.unwrap();
    let (office, unit, inspector, inspector2, admin) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
        app.token("inspector2", false).await,
        app.token("admin", false).await,
    );
    let category = sub(&cats, "0201").id;
    let mut moved = 0;
    for i in 0..3 {
        let c = report(&app, &inspector2, category, IN_FM).await;
        let c = register_and_dispatch(&app, &office, &c, "市城市管理局", 2 + i).await;
        let c = act(&app, &unit, &c, json!({"step": "handle", "note": "已清理"})).await;
        let passed = i != 1;
        let c = act(
            &app,
            &admin,
            &c,
            json!({"step": "verify", "passed": passed, "note": "复查"}),
        )
        .await;
        if !passed {
            let c = act(
                &app,
                &unit,
                &c,
                json!({"step": "handle", "note": "再次清理"}),
            )
            .await;
            act(
                &app,
                &admin,
                &c,
                json!({"step": "verify", "passed": true, "note": ""}),
            )
            .await;
        }
        moved += 1;
    }
    let original = report(&app, &inspector, category, IN_LJ).await;
    let original = act(&app, &office, &original, json!({"step": "register"})).await;
    let dup = report(&app, &inspector, category, IN_LJ).await;
    let dup = act(&app, &office, &dup, json!({"step": "register"})).await;
    act(
        &app,
        &office,
        &dup,
        json!({"step": "mark_duplicate", "original": original["id"]}),
    )
    .await;
    let unit_name = "市城市管理局";
    let original = register_and_dispatch_registered(&app, &office, &original, unit_name).await;
    let original = act(
        &app,
        &unit,
        &original,
        json!({"step": "handle", "note": "已处理"}),
    )
    .await;
    act(
        &app,
        &admin,
        &original,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await;
    let rejected = report(&app, &inspector, category, IN_LJ).await;
    act(
        &app,
        &office,
        &rejected,
        json!({"step": "reject", "reason": "不属于受理范围"}),
    )
    .await;
    // And generated cases of earlier months move on too: the administrator
    // checks what waits for checking (passing some, sending one back) and
    // the office dispatches what it registered.
    let call = bearer(&format!("http://{}", app.addr));
    for (state, n) in [("handled", 4), ("registered", 2)] {
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM case_record WHERE state = $1 ORDER BY number LIMIT {n}"
        ))
        .bind(state)
        .fetch_all(app.store.reader())
        .await
        .unwrap();
        assert_eq!(ids.len(), n, "the generated city has {state} cases");
        for (k, id) in ids.iter().enumerate() {
            let c = ok(call(Method::GET, &format!("/cases/{id}"), &admin)
                .send()
                .await
                .unwrap())
            .await;
            if state == "handled" {
                let s = json!({"step": "verify", "passed": k != 0, "note": "抽查"});
                act(&app, &admin, &c, s).await;
            } else {
                register_and_dispatch_registered(&app, &office, &c, unit_name).await;
            }
            moved += 1;
        }
    }
    assert!(moved >= 6);

    let kept = metrics_of(&app, &office, &months).await;
    // Entering a holiday and taking it off again leaves the calendar as it
    // was but marks the sums for rebuilding: the page then computes each
    // month from the cases.
    let ctx = wenming_store::Ctx::system("test");
    let day = jiff::civil::date(2026, 6, 3);
    wenming_store::case::set_calendar_day(
        &app.store,
        &ctx,
        &app.system().await,
        day,
        false,
        "临时",
    )
    .await
    .unwrap();
    wenming_store::case::remove_calendar_day(&app.store, &ctx, &app.system().await, day)
        .await
        .unwrap();
    assert!(
        !wenming_store::case::tally::is_built(&app.store)
            .await
            .unwrap()
    );
    let computed = metrics_of(&app, &office, &months).await;
    for (k, c) in kept.iter().zip(&computed) {
        assert_eq!(k, c, "month {}: kept sums against the cases", c["month"]);
    }
    wenming_store::case::tally::rebuild(&app.store)
        .await
        .unwrap();
    assert_eq!(
        metrics_of(&app, &office, &months).await,
        kept,
        "a rebuild gives the kept sums"
    );
    // Someone who sees part of the city gets that part from the sums too.
    let scoped = metrics_of(&app, &unit, &months).await;
    assert!(
        scoped
            .iter()
            .any(|m| !m["units"].as_array().unwrap().is_empty())
    );
    assert!(
        scoped
            .iter()
            .zip(&kept)
            .all(|(s, k)| s["units"].as_array().unwrap().len()
                <= k["units"].as_array().unwrap().len())
    );
}

/// Dispatches a case the office has already registered.
async fn register_and_dispatch_registered(
    app: &TestApp,
    office: &str,
    c: &Value,
    unit_name: &str,
) -> Value {
    let unit = app.unit_id(unit_name).await;
    let r = step(
        app,
        office,
        c,
        json!({"step": "dispatch", "unit": unit, "deadline": crate::cases::later(4)}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// One step that must succeed; the case as it is after it.
async fn act(app: &TestApp, token: &str, c: &Value, s: Value) -> Value {
    ok(step(app, token, c, s).await).await
}

async fn ok(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    r.json().await.unwrap()
}
