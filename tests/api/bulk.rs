//! The office registers and dispatches many cases at once: all or none,
//! with the unit routing suggests shown before it confirms and every case
//! named with the unit it went to afterwards, in the page and the API.

use crate::cases::{IN_FM, IN_LJ, catalogue, report, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both!(bulk_register_then_dispatch_names_each_case_and_its_unit);

async fn bulk_register_then_dispatch_names_each_case_and_its_unit(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let mut cases = vec![];
    for (code, at) in [("0101", IN_FM), ("0601", IN_LJ), ("0101", IN_LJ)] {
        cases.push(report(&app, &office, sub(&cats, code).id, at).await);
    }
    let suggested: Vec<String> = cases
        .iter()
        .map(|c| {
            c["suggested_unit"]
                .as_str()
                .unwrap_or_else(|| panic!("{} has a suggested unit", c["number"]))
                .to_string()
        })
        .collect();

    // Before confirming, the list shows where each would go.
    let s = app.as_role("office").await;
    let (_, page) = s.get_text("/cases?inbox=to_register").await;
    assert!(page.contains("批量立案所选案件"));
    for (c, u) in cases.iter().zip(&suggested) {
        let row = page
            .split("<tr>")
            .find(|r| r.contains(c["number"].as_str().unwrap()))
            .expect("the case is listed");
        assert!(row.contains(&format!("建议派往 {u}")), "{row}");
    }
    // Select-all and select-none are links, working without scripts.
    let (_, none) = s.get_text("/cases?inbox=to_register&pick=none").await;
    assert!(!none.contains(" checked>"));
    let (_, all) = s.get_text("/cases?inbox=to_register&pick=all").await;
    assert!(all.matches(" checked>").count() >= cases.len());

    // Nothing ticked is a clear mistake, not a silent no-op.
    let r = s.post("/cases/bulk-register", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("没有选择案件"));

    let ticks: Vec<String> = cases
        .iter()
        .map(|c| format!("{}:{}", c["id"].as_str().unwrap(), c["version"]))
        .collect();
    let fields: Vec<(&str, &str)> = ticks.iter().map(|t| ("case", t.as_str())).collect();
    let r = s.post("/cases/bulk-register", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.contains("batch="), "{to}");
    let (status, result) = s.get_text(&to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(result.contains("已批量立案"));
    assert!(result.contains("本次处理的案件及去向"));
    for (c, u) in cases.iter().zip(&suggested) {
        let row = result
            .split("<tr>")
            .find(|r| r.contains(c["number"].as_str().unwrap()))
            .expect("the batch names every case");
        assert!(row.contains(u.as_str()), "{row}");
        assert!(row.contains("已立案"), "{row}");
    }
    // Only the batch is listed, not the rest of the city's cases.
    assert_eq!(result.matches("<tr>").count(), cases.len() + 1);

    // The API dispatches them and names each case's unit.
    let read = |c: &serde_json::Value| {
        call(
            Method::GET,
            &format!("/cases/{}", c["id"].as_str().unwrap()),
            &office,
        )
        .send()
    };
    let mut fresh: Vec<serde_json::Value> = vec![];
    for c in &cases {
        fresh.push(read(c).await.unwrap().json().await.unwrap());
    }
    assert!(fresh.iter().all(|c| c["state"] == "registered"));
    let body = |step: &str, cs: &[serde_json::Value]| json!({"step": step, "cases": cs.iter().map(|c| json!({"id": c["id"], "version": c["version"]})).collect::<Vec<_>>()});
    // A stale version anywhere: 409 and nothing dispatched.
    let mut stale = fresh.clone();
    stale[2]["version"] = json!(stale[2]["version"].as_i64().unwrap() - 1);
    let r = call(Method::POST, "/cases/bulk", &office)
        .json(&body("dispatch", &stale))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let first: serde_json::Value = read(&fresh[0]).await.unwrap().json().await.unwrap();
    assert_eq!(first["state"], "registered", "all or nothing");

    let r = call(Method::POST, "/cases/bulk", &office)
        .json(&body("dispatch", &fresh))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let done: Vec<serde_json::Value> = r.json().await.unwrap();
    assert_eq!(done.len(), cases.len());
    for ((d, c), u) in done.iter().zip(&fresh).zip(&suggested) {
        assert_eq!(d["number"], c["number"]);
        assert_eq!(d["state"], "dispatched");
        assert_eq!(d["unit"].as_str(), Some(u.as_str()));
        assert_eq!(d["unit_id"], c["suggested_unit_id"]);
    }

    // Registering them again is refused on the case that stops it, by number.
    let r = call(Method::POST, "/cases/bulk", &office)
        .json(&body("register", &fresh[..1]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT, "the version moved on");
    let now: serde_json::Value = read(&fresh[0]).await.unwrap().json().await.unwrap();
    let r = call(Method::POST, "/cases/bulk", &office)
        .json(&body("register", std::slice::from_ref(&now)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        e["errors"][0]["field"],
        format!("cases[{}]", now["number"].as_str().unwrap())
    );
    assert_eq!(e["errors"][0]["code"], "illegal_step");
    // An empty batch names the field.
    let r = call(Method::POST, "/cases/bulk", &office)
        .json(&json!({"step": "register", "cases": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "cases");
    // A unit may not register or dispatch: refused on the case, nothing done.
    let unit = app.token("unit", false).await;
    let r = call(Method::POST, "/cases/bulk", &unit)
        .json(&body("register", &[now]))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND
        ),
        "{}",
        r.status()
    );
}
