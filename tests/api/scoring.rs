//! The projected score: the demo city's projection adds up with an
//! honest interval, the same seed gives the same interval, snapshots keep
//! history that trends are measured against, and what the office records
//! (assessments, negative-list events, gate and yearly scores) moves the
//! projection as the annual rule says, with bad input named.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_demo_projection_adds_up_within_its_interval,
    snapshots_keep_history_and_assessments_move_the_trend,
    negative_events_and_gates_change_the_standing_as_the_rule_says,
);

async fn demo(b: Backend) -> TestApp {
    let app = TestApp::demo(b).await;
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    app
}

async fn projection(app: &TestApp, token: &str, query: &str) -> Value {
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(Method::GET, &format!("/projection?{query}"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn the_demo_projection_adds_up_within_its_interval(b: Backend) {
    let app = demo(b).await;
    let office = app.token("office", false).await;
    let p = projection(&app, &office, "draws=2000&seed=5").await;
    let (score, low, high) = (
        p["score"].as_f64().unwrap(),
        p["low"].as_f64().unwrap(),
        p["high"].as_f64().unwrap(),
    );
    assert!(low < score && score < high, "{low} {score} {high}");
    assert!(high - low < 40.0, "a realistic interval, not everything");
    let d = &p["detail"];
    // The basic and featured parts are the standards' points earned.
    let standards = d["estimate"]["standards"].as_array().unwrap();
    assert!(standards.len() >= 100);
    let earned = |featured: bool| -> f64 {
        standards
            .iter()
            .filter(|s| s["featured"].as_bool() == Some(featured))
            .map(|s| s["earned"].as_f64().unwrap())
            .sum()
    };
    let annual = &d["estimate"]["annual"];
    assert!((annual["basic"].as_f64().unwrap() - earned(false)).abs() < 1e-6);
    assert!((annual["featured"].as_f64().unwrap() - earned(true)).abs() < 1e-6);
    // The food-safety event of five months ago deducts its 2 points; the
    // accident of fifteen months ago is outside its twelve.
    assert_eq!(annual["deducted"].as_f64(), Some(2.0));
    let applies: Vec<(String, bool)> = d["negatives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["applies"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(applies.contains(&("N2".into(), true)) && applies.contains(&("N1".into(), false)));
    assert_eq!(p["standing"], "eligible");
    assert_eq!(d["gates"][0]["score"].as_f64(), Some(88.5));
    // 0.8 of the framework's points, 0.2 of the minors' evaluation, less
    // the deduction.
    let framework = annual["basic"].as_f64().unwrap() + annual["featured"].as_f64().unwrap();
    assert!((score - (0.8 * framework + 0.2 * 88.5 - 2.0)).abs() < 1e-6);
    // The cycle: the two official years and this year's projection.
    let cycle = &d["cycle"];
    assert_eq!(cycle["complete"], true);
    let years = cycle["years"].as_array().unwrap();
    let want = 0.15 * years[0]["score"].as_f64().unwrap()
        + 0.25 * years[1]["score"].as_f64().unwrap()
        + 0.6 * score;
    assert!((cycle["score"].as_f64().unwrap() - want).abs() < 1e-6);
    // Weak links by points lost, most first; each standard's share is
    // between 0 and 1 and its lost points are points × (1 − share).
    let weak = d["weak_links"].as_array().unwrap();
    for w in weak.windows(2) {
        assert!(w[0]["lost"].as_f64() >= w[1]["lost"].as_f64());
    }
    for w in weak {
        let (pts, share, lost) = (
            w["points"].as_f64().unwrap(),
            w["share"].as_f64().unwrap(),
            w["lost"].as_f64().unwrap(),
        );
        assert!((0.0..=1.0).contains(&share));
        assert!((lost - pts * (1.0 - share)).abs() < 1e-9);
    }
    assert!(!d["spread"].as_array().unwrap().is_empty());
    // The same seed, the same interval; a "what if" on the weakest
    // standard gains exactly 0.8 of its lost points.
    let again = projection(&app, &office, "draws=2000&seed=5").await;
    assert_eq!(
        (again["low"].clone(), again["high"].clone()),
        (p["low"].clone(), p["high"].clone())
    );
    let weakest = weak[0]["code"].as_str().unwrap();
    let w = projection(&app, &office, &format!("draws=200&full={weakest}")).await;
    let gain = w["detail"]["what_if"]["gain"].as_f64().unwrap();
    assert!((gain - 0.8 * weak[0]["lost"].as_f64().unwrap()).abs() < 1e-6);
    // Leaders read it; inspectors and units do not.
    let leader = app.token("leader", true).await;
    projection(&app, &leader, "draws=200").await;
    let call = bearer(&format!("http://{}", app.addr));
    for who in ["inspector", "unit"] {
        let t = app.token(who, false).await;
        let r = call(Method::GET, "/projection", &t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    let r = call(Method::GET, "/projection?draws=5", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(r).await, "draws");
}

async fn field_of(r: reqwest::Response) -> String {
    let v: Value = r.json().await.unwrap();
    v["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn snapshots_keep_history_and_assessments_move_the_trend(b: Backend) {
    let app = demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let list = || async {
        call(Method::GET, "/projection/snapshots", &office)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    // The demo's history: the monthly snapshots of the months before.
    let before = list().await.as_array().unwrap().len();
    assert!(before >= 1);
    let r = call(Method::POST, "/projection/snapshots", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let snap: Value = r.json().await.unwrap();
    let after = list().await;
    assert_eq!(after.as_array().unwrap().len(), before + 1);
    let newest = after.as_array().unwrap().last().unwrap();
    assert_eq!(newest["id"], snap["id"]);
    assert_eq!(newest["score"], snap["score"]);
    // The office lowers a briefing assessment: the snapshot does not
    // change, the projection does, and the standard's trend says by how
    // much.
    let (standard_id, version, share): (String, i64, f64) = sqlx::query_as(
        "SELECT standard_id, version, share FROM score_assessment WHERE method = 'briefing' ORDER BY standard_id LIMIT 1",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    let body = |v: Value, share: f64| {
        json!({"standard_id": standard_id, "year": 2026, "method": "briefing", "share": share,
               "note": "复核后下调", "version": v})
    };
    let year: i64 = sqlx::query_scalar("SELECT year FROM score_assessment LIMIT 1")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let mut b1 = body(json!(version), 0.2);
    b1["year"] = json!(year);
    let r = call(Method::POST, "/score-assessments", &office)
        .json(&b1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A second write at the same version is a conflict, not lost.
    let r = call(Method::POST, "/score-assessments", &office)
        .json(&b1)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let p = projection(&app, &office, "draws=200").await;
    let link = p["detail"]["weak_links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["standard_id"] == standard_id)
        .unwrap()
        .clone();
    let trend = link["trend"].as_f64().unwrap();
    assert!(trend < -0.01, "{trend} after {share} → 0.2");
    assert_eq!(p["detail"]["previous"]["id"], snap["id"]);
    // Bad input names its field; a unit's staff may not record.
    for (change, field) in [
        (json!({"year": 1900}), "year"),
        (json!({"method": "site_inspection"}), "method"),
        (json!({"share": 1.5}), "share"),
        (json!({"note": " "}), "note"),
    ] {
        let mut bad = body(json!(null), 0.5);
        bad["year"] = json!(year);
        for (k, v) in change.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let r = call(Method::POST, "/score-assessments", &office)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{change}");
        assert_eq!(field_of(r).await, field, "{change}");
    }
    // One monthly snapshot a month, whichever instance takes it.
    let permit = app.system().await;
    let framework: String = sqlx::query_scalar("SELECT id FROM framework WHERE status = 'active'")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let monthly = |n: u128| wenming_store::scoring::Snapshot {
        id: uuid::Uuid::from_u128(n),
        framework_id: framework.parse().unwrap(),
        taken_on: "2020-11-03".parse().unwrap(),
        kind: wenming_store::scoring::SnapshotKind::Monthly,
        score: 80.0,
        low: 75.0,
        high: 85.0,
        standing: "eligible".into(),
        doc: None,
    };
    let ctx = wenming_store::Ctx::system("test");
    let first = wenming_store::scoring::take_snapshot(&app.store, &ctx, &permit, &monthly(1)).await;
    assert!(first.unwrap().is_some());
    let again = wenming_store::scoring::take_snapshot(&app.store, &ctx, &permit, &monthly(2)).await;
    assert!(
        again.unwrap().is_none(),
        "a second monthly snapshot in November 2020"
    );
    let unit = app.token("unit", false).await;
    let r = call(Method::POST, "/projection/snapshots", &unit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn negative_events_and_gates_change_the_standing_as_the_rule_says(b: Backend) {
    let app = demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let before = projection(&app, &office, "draws=200&seed=1").await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let event =
        |code: &str, on: String| json!({"rule_code": code, "occurred_on": on, "note": "通报"});
    // An accident today deducts its 3 points.
    let r = call(Method::POST, "/negative-events", &office)
        .json(&event("N1", today.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let after = projection(&app, &office, "draws=200&seed=1").await;
    let drop = before["score"].as_f64().unwrap() - after["score"].as_f64().unwrap();
    assert!((drop - 3.0).abs() < 1e-6, "{drop}");
    // A suspension shows as such, and goes when the event is removed.
    let r = call(Method::POST, "/negative-events", &office)
        .json(&event("N4", today.to_string()))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        projection(&app, &office, "draws=200").await["standing"],
        "suspended"
    );
    let r = call(Method::DELETE, &format!("/negative-events/{id}"), &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        projection(&app, &office, "draws=200").await["standing"],
        "eligible"
    );
    // Bad events are named.
    let tomorrow = today.tomorrow().unwrap().to_string();
    for (body, field) in [
        (event("N99", today.to_string()), "rule_code"),
        (event("N1", tomorrow), "occurred_on"),
        (event("N1", "2026-02-30".into()), "occurred_on"),
    ] {
        let r = call(Method::POST, "/negative-events", &office)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(r).await, field);
    }
    // The minors' evaluation below 85 blocks the application and still
    // counts at its 20%.
    let gate = "未成年人思想道德建设测评";
    let year = i64::from(today.year());
    let r = call(Method::POST, "/year-scores", &office)
        .json(&json!({"gate": gate, "year": year, "score": 80.0, "note": "复测"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let blocked = projection(&app, &office, "draws=200&seed=1").await;
    assert_eq!(blocked["standing"], "blocked");
    let fall = after["score"].as_f64().unwrap() - blocked["score"].as_f64().unwrap();
    assert!((fall - 0.2 * (88.5 - 80.0)).abs() < 1e-6, "{fall}");
    for (body, field) in [
        (
            json!({"gate": "不存在的测评", "year": year, "score": 80.0}),
            "gate",
        ),
        (json!({"gate": gate, "year": year, "score": 101.0}), "score"),
        (json!({"year": 1999, "score": 80.0}), "year"),
    ] {
        let r = call(Method::POST, "/year-scores", &office)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_of(r).await, field);
    }
}
