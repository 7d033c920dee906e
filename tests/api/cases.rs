use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both!(
    a_case_goes_round_the_loop_and_refusals_name_the_step,
    two_people_acting_at_once_one_is_told,
    intake_checks_its_input_and_retries_do_not_duplicate,
    routing_picks_the_most_specific_rule,
    units_only_see_and_act_on_their_own_cases,
    the_case_page_offers_only_allowed_steps,
    duplicates_nearby_are_offered_and_close_with_their_original,
    the_metrics_page_counts_a_units_cases,
    the_office_extends_the_catalogue,
    bulk_dispatch_is_all_or_nothing,
    the_office_keeps_routing_rules_and_holidays,
    the_office_renames_retimes_and_retires_categories,
    reports_arriving_together_are_each_saved_or_refused_alone,
);

/// Intake commits reports that arrive together in one transaction; each
/// must still succeed or fail on its own, with its own number.
async fn reports_arriving_together_are_each_saved_or_refused_alone(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let inspector = app.token("inspector", false).await;
    let category = sub(&cats, "0101").id;
    let mut tasks = vec![];
    for i in 0..40 {
        let (base, token) = (format!("http://{}", app.addr), inspector.clone());
        // Every eighth is outside the city; a retried client id comes twice.
        let lon = if i % 8 == 0 { 120.5 } else { IN_LJ.0 };
        let client_id = if i >= 38 {
            "0190f0e0-0000-7000-8000-000000000001".to_string()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        tasks.push(tokio::spawn(async move {
            let r = bearer(&base)(Method::POST, "/cases", &token)
                .json(
                    &json!({"client_id": client_id, "source": "inspection", "category_id": category,
                    "description": "路边垃圾堆积", "lon": lon, "lat": IN_LJ.1}),
                )
                .send()
                .await
                .unwrap();
            let status = r.status();
            (i, status, r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut numbers = std::collections::BTreeSet::new();
    let mut retried = vec![];
    for t in tasks {
        let (i, status, body) = t.await.unwrap();
        if i % 8 == 0 {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{i}: {body}");
            assert_eq!(body["errors"][0]["code"], "outside_city");
        } else if i >= 38 {
            retried.push((status, body));
        } else {
            assert_eq!(status, StatusCode::CREATED, "{i}: {body}");
            assert!(numbers.insert(body["number"].as_str().unwrap().to_string()));
        }
    }
    // The same client id twice at once: one case, the other call gets it
    // back or is told of the clash; never two cases.
    let created: Vec<_> = retried
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty(), "{retried:?}");
    assert!(
        retried
            .iter()
            .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{retried:?}"
    );
    assert_eq!(app.count("case_record").await, 33 + 1);
    assert_eq!(numbers.len(), 33);
    // Reports written together chain their audit records one after another.
    let v = wenming_store::audit::verify(&app.store).await.unwrap();
    assert!(v.broken.is_none(), "{:?}", v.broken);
    let reports: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'case' AND action = 'create'",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(reports, 34, "one audit record a case");
}

pub(crate) async fn catalogue(app: &TestApp) -> Vec<wenming_store::case::Category> {
    wenming_store::demo::load_catalogue(&app.store)
        .await
        .unwrap()
}

pub(crate) fn sub<'a>(
    cats: &'a [wenming_store::case::Category],
    code: &str,
) -> &'a wenming_store::case::Category {
    cats.iter().find(|c| c.code == code).unwrap()
}

/// A point inside 临江区's first grid cell, and one in 凤鸣区.
pub(crate) const IN_LJ: (f64, f64) = (118.61, 31.21);
pub(crate) const IN_FM: (f64, f64) = (118.73, 31.21);

pub(crate) async fn report(
    app: &TestApp,
    token: &str,
    category: uuid::Uuid,
    at: (f64, f64),
) -> serde_json::Value {
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(Method::POST, "/cases", token)
        .json(&json!({"source": "inspection", "category_id": category, "description": "路边垃圾堆积", "lon": at.0, "lat": at.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// Uploads an image through the API, as a phone app would.
pub(crate) async fn upload_photo(app: &TestApp, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    let call = bearer(&format!("http://{}", app.addr));
    call(Method::POST, "/photos", token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// A picture taken now, where the case is, uploaded by `token`'s owner.
pub(crate) async fn fresh_photo(
    app: &TestApp,
    token: &str,
    case: &serde_json::Value,
    seed: u64,
) -> String {
    let here = wenming_domain::geo::Point {
        lon: case["lon"].as_f64().unwrap_or(118.61),
        lat: case["lat"].as_f64().unwrap_or(31.21),
    };
    let bytes =
        wenming_store::photo::synthetic_jpeg(seed, Some(jiff::Timestamp::now()), Some(here));
    let r = upload_photo(app, token, bytes).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: serde_json::Value = r.json().await.unwrap();
    v["id"].as_str().unwrap().to_string()
}

pub(crate) async fn step_with(
    app: &TestApp,
    token: &str,
    case: &serde_json::Value,
    s: serde_json::Value,
    photo_ids: &[String],
) -> reqwest::Response {
    let call = bearer(&format!("http://{}", app.addr));
    call(
        Method::POST,
        &format!("/cases/{}/steps", case["id"].as_str().unwrap()),
        token,
    )
    .json(&json!({"version": case["version"], "step": s, "photo_ids": photo_ids}))
    .send()
    .await
    .unwrap()
}

/// One step; a rectification comes, as it must, with a fresh photo of the
/// place (tests of the photo rules call `step_with` instead).
pub(crate) async fn step(
    app: &TestApp,
    token: &str,
    case: &serde_json::Value,
    s: serde_json::Value,
) -> reqwest::Response {
    let photos = if s["step"] == "handle" {
        let seed = case["number"].as_str().map_or(0, |n| {
            n.bytes()
                .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        }) ^ case["version"].as_u64().unwrap_or(0);
        vec![fresh_photo(app, token, case, seed).await]
    } else {
        vec![]
    };
    step_with(app, token, case, s, &photos).await
}

/// Registers a reported case and dispatches it to `unit_name`, due in
/// `hours`, as the office would; returns the case as the API shows it.
pub(crate) async fn register_and_dispatch(
    app: &TestApp,
    office: &str,
    c: &serde_json::Value,
    unit_name: &str,
    hours: i64,
) -> serde_json::Value {
    let c: serde_json::Value = step(app, office, c, json!({"step": "register"}))
        .await
        .json()
        .await
        .unwrap();
    let unit = app.unit_id(unit_name).await;
    let r = step(
        app,
        office,
        &c,
        json!({"step": "dispatch", "unit": unit, "deadline": later(hours)}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

pub(crate) fn later(hours: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(hours)).to_string()
}

async fn a_case_goes_round_the_loop_and_refusals_name_the_step(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit, inspector) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
    );
    let c = report(&app, &inspector, sub(&cats, "0101").id, IN_LJ).await;
    assert_eq!(c["state"], "reported");
    assert!(c["number"].as_str().unwrap().ends_with("000001"));
    // Verifying a case nobody has handled is refused, naming the problem.
    let r = step(
        &app,
        &inspector,
        &c,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["code"],
        "illegal_step"
    );
    // Unit staff cannot register.
    assert_eq!(
        step(&app, &unit, &c, json!({"step": "register"}))
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "not yet theirs to see"
    );
    let c: serde_json::Value = step(&app, &office, &c, json!({"step": "register"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["state"], "registered");
    let cgj = app.unit_id("市城市管理局").await;
    let r = step(
        &app,
        &office,
        &c,
        json!({"step": "dispatch", "unit": cgj, "deadline": later(-1)}),
    )
    .await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["code"],
        "deadline_past"
    );
    let c: serde_json::Value = step(
        &app,
        &office,
        &c,
        json!({"step": "dispatch", "unit": cgj, "deadline": later(48)}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (c["state"].as_str(), c["unit_id"].as_str()),
        (Some("dispatched"), Some(cgj.to_string().as_str()))
    );
    let r = step(&app, &unit, &c, json!({"step": "handle", "note": ""})).await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["field"],
        "note"
    );
    let c: serde_json::Value = step(&app, &unit, &c, json!({"step": "handle", "note": "已清运"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["state"], "handled");
    // The dispatcher cannot verify; an inspector can, and sends it back.
    let r = step(
        &app,
        &office,
        &c,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await;
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["code"],
        "own_work"
    );
    let c: serde_json::Value = step(
        &app,
        &inspector,
        &c,
        json!({"step": "verify", "passed": false, "note": "仍有残留"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (c["state"].as_str(), c["reworks"].as_i64()),
        (Some("rework"), Some(1))
    );
    let c: serde_json::Value = step(
        &app,
        &unit,
        &c,
        json!({"step": "handle", "note": "已彻底清理"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let c: serde_json::Value = step(
        &app,
        &inspector,
        &c,
        json!({"step": "verify", "passed": true, "note": "复核通过"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(c["state"], "closed");
    assert!(c["closed_at"].is_string());
    // Every step is on the record, in order, with who did it.
    let events =
        wenming_store::case::events(&app.store, c["id"].as_str().unwrap().parse().unwrap())
            .await
            .unwrap();
    let steps: Vec<&str> = events.iter().map(|e| e.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "report", "register", "dispatch", "handle", "verify", "handle", "verify"
        ]
    );
    assert!(
        events[4].note.as_deref() == Some("仍有残留") && events[4].actor_name.contains("刘晓东")
    );
    let audit = wenming_store::audit::for_entity(&app.store, "case", c["id"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(audit.len(), 7);
}

async fn two_people_acting_at_once_one_is_told(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let admin = app.token("admin", false).await;
    let c = report(&app, &office, sub(&cats, "0202").id, IN_FM).await;
    let (x, y) = tokio::join!(
        step(&app, &office, &c, json!({"step": "register"})),
        step(
            &app,
            &admin,
            &c,
            json!({"step": "reject", "reason": "重复反映"})
        )
    );
    let mut statuses = [x.status().as_u16(), y.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let events =
        wenming_store::case::events(&app.store, c["id"].as_str().unwrap().parse().unwrap())
            .await
            .unwrap();
    assert_eq!(events.len(), 2, "the loser left no trace");
}

async fn intake_checks_its_input_and_retries_do_not_duplicate(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("inspector", false).await;
    let all = wenming_store::case::categories(&app.store).await.unwrap();
    let class = all.iter().find(|c| c.parent_id.is_none()).unwrap().id;
    let client_id = uuid::Uuid::now_v7();
    let body = json!({"client_id": client_id, "source": "inspection", "category_id": sub(&cats, "0301").id, "description": "电线杆上小广告", "lon": IN_LJ.0, "lat": IN_LJ.1});
    let a: serde_json::Value = call(Method::POST, "/cases", &token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b2: serde_json::Value = call(Method::POST, "/cases", &token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["id"], client_id.to_string());
    assert_eq!(
        (a["id"].clone(), a["number"].clone()),
        (b2["id"].clone(), b2["number"].clone()),
        "a retry returns the same case"
    );
    assert_eq!(app.count("case_record").await, 1);
    // Someone else reusing the id gets an error, not the case.
    let other = app.token("office", false).await;
    let r = call(Method::POST, "/cases", &other)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["errors"][0]["field"],
        "client_id"
    );
    assert_eq!(
        a["region_id"],
        app.region_id("LJ010101").await.to_string(),
        "located in its grid cell"
    );
    let bad = [
        (
            json!({"source": "inspection", "category_id": sub(&cats, "0301").id, "description": "x", "lon": 121.5, "lat": 31.2}),
            "lon",
            "outside_city",
        ),
        (
            json!({"source": "inspection", "category_id": sub(&cats, "0301").id, "description": "x", "lon": 500, "lat": 31.2}),
            "lon",
            "invalid_coordinates",
        ),
        (
            json!({"source": "inspection", "category_id": uuid::Uuid::nil(), "description": "x", "address": "某路"}),
            "category_id",
            "invalid_choice",
        ),
        (
            json!({"source": "inspection", "category_id": class, "description": "x", "address": "某路"}),
            "category_id",
            "choose_subclass",
        ),
        (
            json!({"source": "inspection", "category_id": sub(&cats, "0301").id, "description": "x"}),
            "address",
            "location_required",
        ),
    ];
    for (body, field, code) in bad {
        let r = call(Method::POST, "/cases", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            (
                e["errors"][0]["field"].as_str(),
                e["errors"][0]["code"].as_str()
            ),
            (Some(field), Some(code)),
            "{body}"
        );
    }
    assert_eq!(
        app.count("case_record").await,
        1,
        "nothing stored for bad input"
    );
    // Leaders read; they do not report.
    let leader = app.token("leader", false).await;
    assert_eq!(
        call(Method::POST, "/cases", &leader)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn routing_picks_the_most_specific_rule(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let token = app.token("office", false).await;
    let posters = sub(&cats, "0301").id;
    let in_lj = report(&app, &token, posters, IN_LJ).await;
    assert_eq!(
        in_lj["suggested_unit_id"],
        app.unit_id("临江区城市管理局").await.to_string(),
        "the district rule for posters wins"
    );
    let far = report(&app, &token, posters, (118.90, 31.50)).await;
    assert_eq!(
        far["suggested_unit_id"],
        app.unit_id("市城市管理局").await.to_string(),
        "elsewhere the class rule applies"
    );
    let lamps = report(&app, &token, sub(&cats, "0601").id, IN_LJ).await;
    assert_eq!(
        lamps["suggested_unit_id"],
        app.unit_id("市住房和城乡建设局").await.to_string()
    );
}

async fn units_only_see_and_act_on_their_own_cases(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let c = report(&app, &office, sub(&cats, "0601").id, IN_LJ).await;
    let c = register_and_dispatch(&app, &office, &c, "市住房和城乡建设局", 24).await;
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(
        Method::GET,
        &format!("/cases/{}", c["id"].as_str().unwrap()),
        &unit,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "another unit's case is not found"
    );
    assert_eq!(
        step(&app, &unit, &c, json!({"step": "handle", "note": "x"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let mine: serde_json::Value = call(Method::GET, "/cases", &unit)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    // A read-only token of the office may look but not act.
    let ro = app.token("office", true).await;
    assert_eq!(
        call(
            Method::GET,
            &format!("/cases/{}", c["id"].as_str().unwrap()),
            &ro
        )
        .send()
        .await
        .unwrap()
        .status(),
        StatusCode::OK
    );
    assert_eq!(
        step(&app, &ro, &c, json!({"step": "void", "reason": "x"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn the_case_page_offers_only_allowed_steps(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office_t = app.token("office", false).await;
    let c = report(&app, &office_t, sub(&cats, "0101").id, IN_LJ).await;
    let id = c["id"].as_str().unwrap().to_string();
    let office = app.as_role("office").await;
    let (_, page) = office.get_text(&format!("/cases/{id}")).await;
    assert!(page.contains("value=\"register\"") && !page.contains("value=\"handle\""));
    let r = office
        .post(
            &format!("/cases/{id}/step"),
            &[("step", "register"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Posting the same version again: someone (here, we) acted first.
    let r = office
        .post(
            &format!("/cases/{id}/step"),
            &[("step", "register"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("已被他人办理"));
    let r = office
        .post(
            &format!("/cases/{id}/step"),
            &[("step", "handle"), ("note", "x"), ("version", "2")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("不能“反馈处置结果”"));
    let leader = app.as_role("leader").await;
    let (_, page) = leader.get_text(&format!("/cases/{id}")).await;
    assert!(page.contains("当前没有需要您办理的操作"));
    let (_, inbox) = office.get_text("/cases?inbox=to_dispatch").await;
    assert!(inbox.contains(c["number"].as_str().unwrap()));
    // The same inbox exports as a workbook, one row per case.
    let bytes = office
        .get("/cases.xlsx?inbox=to_dispatch")
        .await
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.worksheet_range("案件").unwrap();
    assert_eq!(sheet.height(), 3, "title, header, one case");
    // Enough to recompute the metrics: every moment of the loop is there.
    let header: Vec<String> = (0..sheet.width())
        .filter_map(|c| sheet.get_value((1, c as u32)).map(|d| d.to_string()))
        .collect();
    for col in [
        "立案时间",
        "派遣时间（本次处置）",
        "处置反馈时间",
        "结案时间",
        "延期次数",
    ] {
        assert!(header.iter().any(|h| h == col), "{col} in {header:?}");
    }
    assert_eq!(
        sheet.get_value((2, 0)),
        Some(&calamine::Data::String(
            c["number"].as_str().unwrap().to_string()
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_demo_has_cases_in_every_state() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    assert_eq!(
        wenming_store::demo::load_all(&app.store, &app.files)
            .await
            .unwrap(),
        wenming_store::demo::DemoOutcome::Loaded
    );
    let states: Vec<(String, i64)> =
        sqlx::query_as("SELECT state, COUNT(*) FROM case_record GROUP BY state ORDER BY state")
            .fetch_all(app.store.reader())
            .await
            .unwrap();
    let names: Vec<&str> = states.iter().map(|s| s.0.as_str()).collect();
    for s in [
        "reported",
        "rejected",
        "dispatched",
        "awaiting_approval",
        "handled",
        "rework",
        "closed",
    ] {
        assert!(names.contains(&s), "{s} in {states:?}");
    }
    // The demo's 240 reports, and a case for each failure its inspection
    // rounds found.
    let from_rounds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM finding WHERE outcome = 'fail' AND case_id IS NOT NULL",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert!(from_rounds > 10, "{from_rounds} cases from rounds");
    assert_eq!(states.iter().map(|s| s.1).sum::<i64>(), 240 + from_rounds);
    // Two rounds finished, one under way with some sites still to visit.
    let rounds: Vec<(String, i64)> = sqlx::query_as(
        "SELECT r.status, (SELECT COUNT(*) FROM round_site s WHERE s.round_id = r.id AND s.inspected_at IS NULL) \
         FROM inspection_round r ORDER BY r.starts_on",
    )
    .fetch_all(app.store.reader())
    .await
    .unwrap();
    assert_eq!(
        rounds.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["closed", "closed", "open"]
    );
    assert!(rounds[2].1 > 0, "the open round has sites left");
    assert!(
        wenming_store::audit::verify(&app.store)
            .await
            .unwrap()
            .broken
            .is_none()
    );
}

async fn duplicates_nearby_are_offered_and_close_with_their_original(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let inspector = app.token("inspector", false).await;
    let unit = app.token("unit", false).await;
    let kind = sub(&cats, "0101").id;
    let first = report(&app, &inspector, kind, IN_LJ).await;
    // 30 m away: a duplicate candidate. 200 m away, or another kind: not.
    let near = report(
        &app,
        &inspector,
        kind,
        (IN_LJ.0, IN_LJ.1 + 30.0 / 111_195.0),
    )
    .await;
    report(
        &app,
        &inspector,
        kind,
        (IN_LJ.0, IN_LJ.1 + 200.0 / 111_195.0),
    )
    .await;
    report(&app, &inspector, sub(&cats, "0102").id, IN_LJ).await;
    let everything = wenming_store::org::whole_city(&app.store).await.unwrap();
    let near_case = wenming_store::case::get(
        &app.store,
        &everything,
        near["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    let dups = wenming_store::case::possible_duplicates(&app.store, &everything, &near_case)
        .await
        .unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].0.id.to_string(), first["id"].as_str().unwrap());
    assert!((dups[0].1 - 30.0).abs() < 1.0);
    let s = app.as_role("office").await;
    let (_, page) = s
        .get_text(&format!("/cases/{}", near["id"].as_str().unwrap()))
        .await;
    assert!(page.contains("可能是重复反映") && page.contains(first["number"].as_str().unwrap()));
    let dup: serde_json::Value = step(
        &app,
        &office,
        &near,
        json!({"step": "mark_duplicate", "original": first["id"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(dup["state"], "duplicate");
    // The original goes round the loop; its duplicate closes with it.
    let c: serde_json::Value = step(&app, &office, &first, json!({"step": "register"}))
        .await
        .json()
        .await
        .unwrap();
    let cgj = app.unit_id("市城市管理局").await;
    let c: serde_json::Value = step(
        &app,
        &office,
        &c,
        json!({"step": "dispatch", "unit": cgj, "deadline": later(8)}),
    )
    .await
    .json()
    .await
    .unwrap();
    let c: serde_json::Value = step(&app, &unit, &c, json!({"step": "handle", "note": "已清理"}))
        .await
        .json()
        .await
        .unwrap();
    step(
        &app,
        &inspector,
        &c,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await;
    let dup = wenming_store::case::get(
        &app.store,
        &everything,
        near["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    assert!(
        dup.closed_at.is_some(),
        "the duplicate closed with its original"
    );
}

async fn the_metrics_page_counts_a_units_cases(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let inspector = app.token("inspector", false).await;
    let inspector2 = app.token("inspector2", false).await;
    let cgj = app.unit_id("市城市管理局").await;
    let deadline = later(6);
    let month = deadline[..7].to_string();
    let mut cases = vec![];
    for _ in 0..2 {
        let c = report(&app, &inspector2, sub(&cats, "0201").id, IN_FM).await;
        let c: serde_json::Value = step(&app, &office, &c, json!({"step": "register"}))
            .await
            .json()
            .await
            .unwrap();
        let c: serde_json::Value = step(
            &app,
            &office,
            &c,
            json!({"step": "dispatch", "unit": cgj, "deadline": deadline}),
        )
        .await
        .json()
        .await
        .unwrap();
        cases.push(c);
    }
    // One handled (on time, before its deadline) and verified; one not yet.
    let c: serde_json::Value = step(
        &app,
        &unit,
        &cases[0],
        json!({"step": "handle", "note": "已劝离"}),
    )
    .await
    .json()
    .await
    .unwrap();
    // The inspector of 临江区 cannot see a case in 凤鸣区; the administrator verifies.
    let admin = app.token("admin", false).await;
    let r = step(
        &app,
        &inspector,
        &c,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let closed: serde_json::Value = step(
        &app,
        &admin,
        &c,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(closed["state"], "closed");
    let s = app.as_role("leader").await;
    let (status, page) = s.get_text(&format!("/cases/metrics?month={month}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("市城市管理局"));
    // Two due this month: handled on time 1 of 2, closed 1 of 2. The rate
    // as the page writes it (one decimal, with the sample size).
    let (met, due) = (1, 2);
    let expected = format!("{:.1}%，n={due}", 100.0 * met as f64 / due as f64);
    let at = page.find("市城市管理局").unwrap();
    let row = &page[page[..at].rfind("<tr").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    // The row's cells in the table's order: rank, unit, score, due, voided,
    // parked, then on-time handling, handling, closure, on-time closure.
    let cells: Vec<&str> = row
        .split("<td")
        .skip(1)
        .map(|c| c.split_once('>').map_or("", |(_, v)| v))
        .map(|c| c.split("</td>").next().unwrap_or("").trim())
        .collect();
    assert_eq!(
        cells[6..10],
        [expected.as_str(); 4],
        "on-time handling, handling, closure and on-time closure: {row}"
    );
    assert!(page.contains("不参与排名"), "two cases are too few to rank");
    // Both open-or-closed cases sit on the grid map: one open dot remains.
    let (_, map) = s.get_text("/cases/map").await;
    assert!(map.contains("<svg") && map.contains("class=\"dot open\""));
    assert!(
        map.contains("未结案件（1）"),
        "one case is still open: {}",
        &map[map.find("<h1>").unwrap()..][..400]
    );
}

async fn the_office_extends_the_catalogue(b: Backend) {
    let app = TestApp::demo(b).await;
    catalogue(&app).await;
    let all = wenming_store::case::categories(&app.store).await.unwrap();
    let class = all.iter().find(|c| c.code == "06").unwrap().id.to_string();
    let office = app.as_role("office").await;
    let r = office
        .post(
            "/cases/categories",
            &[
                ("parent_id", &class),
                ("code", "0605"),
                ("name", "井盖缺失"),
                ("amount", ""),
                ("unit", "hours"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().await.unwrap().contains("id=\"e-amount\""),
        "a subclass needs its handling time"
    );
    let r = office
        .post(
            "/cases/categories",
            &[
                ("parent_id", &class),
                ("code", "0605"),
                ("name", "井盖缺失"),
                ("amount", "2"),
                ("unit", "hours"),
                ("radius", "30"),
                ("standards", "5.1.1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let added = wenming_store::case::categories(&app.store)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.code == "0605")
        .unwrap();
    assert_eq!(
        (added.handling_time, added.duplicate_radius_m),
        (Some(wenming_domain::case::HandlingTime::Hours(2)), 30)
    );
    let r = office
        .post(
            "/cases/categories",
            &[
                ("parent_id", &class),
                ("code", "0605"),
                ("name", "重复"),
                ("amount", "2"),
                ("unit", "hours"),
            ],
        )
        .await;
    assert!(
        r.text().await.unwrap().contains("已经有同名"),
        "codes are unique"
    );
    let unit = app.as_role("unit").await;
    assert_eq!(unit.get("/cases/categories").await.status(), StatusCode::OK);
    assert_eq!(
        unit.post("/cases/categories", &[("code", "99"), ("name", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn bulk_dispatch_is_all_or_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let mut cases = vec![];
    for code in ["0101", "0601"] {
        let c = report(&app, &office, sub(&cats, code).id, IN_FM).await;
        let c: serde_json::Value = step(&app, &office, &c, json!({"step": "register"}))
            .await
            .json()
            .await
            .unwrap();
        cases.push(c);
    }
    let s = app.as_role("office").await;
    let (_, page) = s.get_text("/cases?inbox=to_dispatch").await;
    assert!(page.contains("批量派遣所选案件"));
    let pick = |c: &serde_json::Value, v: i64| format!("{}:{}", c["id"].as_str().unwrap(), v);
    // One stale version: nothing is dispatched.
    let stale = [("case", pick(&cases[0], 2)), ("case", pick(&cases[1], 1))];
    let fields: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = s.post("/cases/bulk-dispatch", &fields).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("批量派遣未执行"));
    let everything = wenming_store::org::whole_city(&app.store).await.unwrap();
    let first = wenming_store::case::get(
        &app.store,
        &everything,
        cases[0]["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        first.state,
        wenming_domain::case::CaseState::Registered,
        "all or nothing"
    );
    let fresh = [("case", pick(&cases[0], 2)), ("case", pick(&cases[1], 2))];
    let fields: Vec<(&str, &str)> = fresh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        s.post("/cases/bulk-dispatch", &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    for c in &cases {
        let now = wenming_store::case::get(
            &app.store,
            &everything,
            c["id"].as_str().unwrap().parse().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(now.state, wenming_domain::case::CaseState::Dispatched);
        assert_eq!(now.unit_id, now.suggested_unit_id);
        assert!(now.deadline.unwrap() > jiff::Timestamp::now());
    }
}

async fn the_office_keeps_routing_rules_and_holidays(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.as_role("office").await;
    let potholes = sub(&cats, "0602").id.to_string();
    let fm = app.region_id("FM").await.to_string();
    let fm_unit = app.unit_id("凤鸣区城市管理局").await.to_string();
    let r = office
        .post(
            "/cases/routing/rules",
            &[("category", &potholes), ("region", &fm), ("unit", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(
            "/cases/routing/rules",
            &[("category", &potholes), ("region", &fm), ("unit", &fm_unit)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let token = app.token("office", false).await;
    let c = report(&app, &token, sub(&cats, "0602").id, IN_FM).await;
    assert_eq!(
        c["suggested_unit_id"],
        fm_unit.as_str(),
        "the new, more specific rule routes it"
    );
    let r = office
        .post(
            "/cases/routing/days",
            &[("day", "2027-02-30"), ("kind", "holiday"), ("name", "春节")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(
            "/cases/routing/days",
            &[("day", "2027-02-08"), ("kind", "holiday"), ("name", "春节")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cal = wenming_store::case::calendar(&app.store, jiff::tz::TimeZone::UTC)
        .await
        .unwrap();
    assert!(
        !cal.is_working_day(jiff::civil::date(2027, 2, 8)),
        "a Monday off"
    );
    let (_, page) = office.get_text("/cases/routing").await;
    assert!(page.contains("春节") && page.contains("凤鸣区城市管理局"));

    // The same through the API: a rule pointing at no unit names the field.
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(Method::POST, "/routing-rules", &token)
        .json(&json!({"category_id": potholes, "unit_id": uuid::Uuid::nil()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "unit_id", "{body}");
    let r = call(Method::POST, "/calendar-days", &token)
        .json(&json!({"day": "2027-02-13", "workday": true, "name": "春节调休"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let days: serde_json::Value = call(Method::GET, "/calendar-days", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        days.as_array()
            .unwrap()
            .iter()
            .any(|d| d["day"] == "2027-02-13" && d["workday"] == true),
        "{days}"
    );
    let rules: serde_json::Value = call(Method::GET, "/routing-rules", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        rules
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["unit"] == "凤鸣区城市管理局"
                && r["region"].is_string()
                && r["category"].is_string()),
        "{rules}"
    );
    let reader = app.token("office", true).await;
    let r = call(Method::POST, "/calendar-days", &reader)
        .json(&json!({"day": "2027-02-14", "workday": true, "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a read-only token cannot"
    );

    // Removing: the page takes the Monday off the calendar, the API drops
    // the rule, and the next report falls back to the district-wide rule.
    let r = office
        .post("/cases/routing/days/2027-02-08/delete", &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cal = wenming_store::case::calendar(&app.store, jiff::tz::TimeZone::UTC)
        .await
        .unwrap();
    assert!(cal.is_working_day(jiff::civil::date(2027, 2, 8)));
    let rule = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category"] == sub(&cats, "0602").name.as_str())
        .unwrap();
    let path = format!("/routing-rules/{}", rule["id"].as_str().unwrap());
    assert_eq!(
        call(Method::DELETE, &path, &token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(Method::DELETE, &path, &token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "a rule removed twice is not there the second time"
    );
    let c = report(&app, &token, sub(&cats, "0602").id, IN_FM).await;
    assert_ne!(c["suggested_unit_id"], fm_unit.as_str());
    let unit = app.as_role("unit").await;
    assert_eq!(
        unit.post(
            "/cases/routing/days",
            &[("day", "2027-02-09"), ("kind", "holiday"), ("name", "x")]
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
}

async fn the_office_renames_retimes_and_retires_categories(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.as_role("office").await;
    let potholes = sub(&cats, "0602").clone();
    let class = wenming_store::case::category(&app.store, potholes.parent_id.unwrap())
        .await
        .unwrap();
    let edit = format!("/cases/categories/{}", potholes.id);
    let (status, page) = office.get_text(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&potholes.name));
    assert_eq!(
        app.as_role("unit").await.get(&edit).await.status(),
        StatusCode::FORBIDDEN,
        "units use the catalogue, they do not keep it"
    );
    let v = potholes.version.to_string();
    let form = |name: &'static str, amount: &'static str, version: String, active: &'static str| {
        vec![
            ("name", name.to_string()),
            ("amount", amount.to_string()),
            ("unit", "days".to_string()),
            ("radius", "80".to_string()),
            ("standards", "5.2.1".to_string()),
            ("active", active.to_string()),
            ("version", version),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let office = &office;
        let edit = edit.clone();
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            office.post(&edit, &f).await
        }
    };
    let r = post(form("道路坑洼破损", "", v.clone(), "on")).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a subclass needs its handling time"
    );
    let mut typo = form("道路坑洼破损", "2", v.clone(), "on");
    typo[4].1 = "5.2.1、9.9.9".into();
    let r = post(typo).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().await.unwrap().contains("不是现行测评体系中的标准"),
        "a standard code the framework does not have is named"
    );
    let r = post(form("道路坑洼破损", "2", v.clone(), "on")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = wenming_store::case::category(&app.store, potholes.id)
        .await
        .unwrap();
    assert_eq!(after.name, "道路坑洼破损");
    assert_eq!(after.code, potholes.code, "the code stays");
    assert_eq!(
        after.handling_time,
        Some(wenming_domain::case::HandlingTime::Days(2))
    );
    assert_eq!(after.duplicate_radius_m, 80);
    let r = post(form("别的名字", "3", v.clone(), "on")).await;
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "an edit made from a stale page is refused"
    );
    assert_eq!(
        wenming_store::case::category(&app.store, potholes.id)
            .await
            .unwrap()
            .name,
        "道路坑洼破损"
    );

    // The class cannot be retired while its subclasses take cases.
    let r = office
        .post(
            &format!("/cases/categories/{}", class.id),
            &[
                ("name", &class.name),
                ("version", &class.version.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请先停用小类"));

    // Through the API: retire the subclass; it takes no new cases.
    let token = app.token("office", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(Method::PUT, &format!("/categories/{}", potholes.id), &token)
        .json(&json!({"version": after.version, "name": "道路坑洼破损", "active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "handling_time", "{body}");
    let r = call(Method::PUT, &format!("/categories/{}", potholes.id), &token)
        .json(&json!({"version": after.version, "name": "道路坑洼破损",
            "handling_time": {"unit": "days", "amount": 2}, "standard_codes": ["9.9.9"], "active": true}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "standard_codes", "{body}");
    let r = call(Method::PUT, &format!("/categories/{}", potholes.id), &token)
        .json(&json!({"version": after.version, "name": "道路坑洼破损",
            "handling_time": {"unit": "days", "amount": 2}, "active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let retired: serde_json::Value = r.json().await.unwrap();
    assert_eq!(retired["active"], false);
    let r = call(Method::PUT, &format!("/categories/{}", potholes.id), &token)
        .json(&json!({"version": after.version, "name": "x",
            "handling_time": {"unit": "days", "amount": 2}, "active": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = call(Method::POST, "/cases", &token)
        .json(&json!({"source": "inspection", "category_id": potholes.id, "description": "坑洼", "lon": IN_FM.0, "lat": IN_FM.1}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a retired subclass takes no new cases"
    );
    let (_, list) = office.get_text("/cases/categories").await;
    assert!(list.contains("已停用"));
}
