//! Every write checks its scope (issue 12, item 8): the policy hands out a
//! permit, and the store judges the rows a write touches against it.

use crate::cases::{IN_FM, IN_LJ, catalogue, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_district_office_assigns_tasks_only_to_its_districts_units,
    a_district_office_cannot_close_a_round_that_reaches_other_districts,
    an_inspector_reports_only_where_they_work,
    the_city_always_keeps_an_administrator,
    two_administrators_revoking_each_other_at_once_leave_one,
    the_case_page_posts_the_apis_steps,
);

/// The 临江区 inspector's account made the office of 临江区 as well.
async fn district_office(app: &TestApp) -> String {
    let admin = app.as_role("admin").await;
    let uid = app.user_id("inspector").await;
    let lj = app.region_id("LJ").await;
    let r = admin
        .post(
            &format!("/users/{uid}/grants"),
            &[("role", "office"), ("scope", &format!("region:{lj}"))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    app.token("inspector", false).await
}

/// The name of the unit leading a task.
async fn lead_of(app: &TestApp, task: &str) -> String {
    sqlx::query_scalar(
        "SELECT u.name FROM task t JOIN unit u ON u.id = t.lead_unit_id WHERE t.id = $1",
    )
    .bind(task)
    .fetch_one(app.store.reader())
    .await
    .unwrap()
}

/// A standard of a fresh copy of the framework: it has no task yet.
async fn first_free_standard(app: &TestApp) -> String {
    let active = wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .unwrap();
    let copy = wenming_store::framework::clone(
        &app.store,
        &wenming_store::Ctx::system("test"),
        &app.system().await,
        active.id,
        "分解测试",
        2031,
    )
    .await
    .unwrap();
    sqlx::query_scalar(
        "SELECT id FROM framework_node WHERE framework_id = $1 AND kind = 'standard' ORDER BY code LIMIT 1",
    )
    .bind(copy.to_string())
    .fetch_one(app.store.reader())
    .await
    .unwrap()
}

async fn a_district_office_assigns_tasks_only_to_its_districts_units(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = district_office(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let standard = first_free_standard(&app).await;
    let (lj_unit, fm_unit) = (
        app.unit_id("临江区城市管理局").await,
        app.unit_id("凤鸣区城市管理局").await,
    );
    let tasks_before = app.count("task").await;
    let assign = |unit: uuid::Uuid| json!({"lead_unit_id": unit, "target": "按标准完成", "deadline": "2030-06-30", "cooperating_unit_ids": []});
    // Another district's unit is not a choice for 临江区's office.
    let r = call(Method::POST, &format!("/standards/{standard}/task"), &token)
        .json(&assign(fm_unit))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "lead_unit_id");
    assert_eq!(app.count("task").await, tasks_before, "nothing was written");
    // Its own district's unit is.
    let r = call(Method::POST, &format!("/standards/{standard}/task"), &token)
        .json(&assign(lj_unit))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A task the city gave a city unit cannot be taken over from the district.
    let edu: String = sqlx::query_scalar(
        "SELECT t.id FROM task t JOIN unit u ON u.id = t.lead_unit_id WHERE u.name = '市教育局' LIMIT 1",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    let mut body = assign(lj_unit);
    body["version"] = json!(1);
    let r = call(Method::PUT, &format!("/tasks/{edu}"), &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let lead: String = lead_of(&app, &edu).await;
    assert_eq!(lead, "市教育局");
    // Assigning the whole framework over again from the district touches
    // only its own units' standards, and says which it left.
    let f: String = sqlx::query_scalar("SELECT id FROM framework WHERE status = 'active'")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let o: Value = call(Method::POST, &format!("/frameworks/{f}/tasks"), &token)
        .json(&json!({"target": "全面达标", "deadline": "2030-06-30", "overwrite": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !o["outside"].as_array().unwrap().is_empty(),
        "the city's standards are reported as outside: {o}"
    );
    let lead: String = lead_of(&app, &edu).await;
    assert_eq!(lead, "市教育局", "overwrite left the city's task alone");
    // An unknown filter is refused, not dropped (which would assign more).
    let r = call(Method::POST, &format!("/frameworks/{f}/tasks"), &token)
        .json(&json!({"target": "全面达标", "deadline": "2030-06-30", "method": "guesswork"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = app.as_role("office").await;
    let r = page
        .post(
            &format!("/frameworks/{f}/tasks"),
            &[
                ("target", "全面达标"),
                ("deadline", "2030-06-30"),
                ("method", "guesswork"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the page agrees"
    );
}

async fn a_district_office_cannot_close_a_round_that_reaches_other_districts(b: Backend) {
    let app = TestApp::demo(b).await;
    let city_round = wenming_store::inspection::create(
        &app.store,
        &wenming_store::Ctx::system("test"),
        &app.system().await,
        &wenming_domain::inspection::RoundForm {
            name: "全市督查".into(),
            kind: "supervision".into(),
            starts_on: "2026-11-23".into(),
            ends_on: "2026-11-27".into(),
            sample_size: "40".into(),
            seed: "9".into(),
            ..Default::default()
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap();
    let token = district_office(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(
        Method::POST,
        &format!("/rounds/{}/close", city_round.id),
        &token,
    )
    .json(&json!({"version": city_round.version}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let round = wenming_store::inspection::get(&app.store, city_round.id)
        .await
        .unwrap();
    assert_eq!(round.version, city_round.version, "the round is still open");
    // A round the district drew itself is its own to close.
    let r: Value = call(Method::POST, "/rounds", &token)
        .json(
            &json!({"name": "临江区自查", "kind": "supervision", "starts_on": "2026-11-23",
            "ends_on": "2026-11-27", "sample_size": 5, "seed": 3}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = call(
        Method::POST,
        &format!("/rounds/{}/close", r["id"].as_str().unwrap()),
        &token,
    )
    .json(&json!({"version": r["version"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

async fn an_inspector_reports_only_where_they_work(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let token = app.token("inspector", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let cases_before = app.count("case_record").await;
    let report = |at: (f64, f64)| {
        json!({"source": "inspection", "category_id": sub(&cats, "0201").id,
            "description": "路边垃圾堆积", "lon": at.0, "lat": at.1})
    };
    let r = call(Method::POST, "/cases", &token)
        .json(&report(IN_FM))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "outside_scope");
    assert_eq!(app.count("case_record").await, cases_before);
    let r = call(Method::POST, "/cases", &token)
        .json(&report(IN_LJ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn grant_id(app: &TestApp, user: &str) -> String {
    sqlx::query_scalar(
        "SELECT g.id FROM role_grant g JOIN app_user u ON u.id = g.user_id \
         WHERE u.username = $1 AND g.role = 'administrator'",
    )
    .bind(user)
    .fetch_one(app.store.reader())
    .await
    .unwrap()
}

/// The office's account made a second city-wide administrator.
async fn second_admin(app: &TestApp) {
    let admin = app.as_role("admin").await;
    let uid = app.user_id("office").await;
    let city: String = sqlx::query_scalar("SELECT id FROM region WHERE parent_id IS NULL")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let r = admin
        .post(
            &format!("/users/{uid}/grants"),
            &[
                ("role", "administrator"),
                ("scope", &format!("region:{city}")),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn the_city_always_keeps_an_administrator(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let (admin_id, office_id) = (app.user_id("admin").await, app.user_id("office").await);
    let admin = app.token("admin", false).await;
    // One's own only administrator grant stays.
    let mine = grant_id(&app, "admin").await;
    let r = call(
        Method::DELETE,
        &format!("/users/{admin_id}/grants/{mine}"),
        &admin,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "cannot_remove_own_admin");
    // With a second administrator, the first may step down…
    second_admin(&app).await;
    let office = app.token("office", false).await;
    let r = call(
        Method::DELETE,
        &format!("/users/{admin_id}/grants/{mine}"),
        &office,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // …but the one left cannot be deactivated or lose the grant.
    let theirs = grant_id(&app, "office").await;
    let r = call(
        Method::DELETE,
        &format!("/users/{office_id}/grants/{theirs}"),
        &office,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM role_grant WHERE role = 'administrator'")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    assert_eq!(n, 1, "the city keeps its administrator");
}

async fn two_administrators_revoking_each_other_at_once_leave_one(b: Backend) {
    let app = TestApp::demo(b).await;
    second_admin(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let (admin_id, office_id) = (app.user_id("admin").await, app.user_id("office").await);
    let (admin, office) = (
        app.token("admin", false).await,
        app.token("office", false).await,
    );
    let (ga, go) = (
        grant_id(&app, "admin").await,
        grant_id(&app, "office").await,
    );
    let a = call(
        Method::DELETE,
        &format!("/users/{office_id}/grants/{go}"),
        &admin,
    )
    .send();
    let o = call(
        Method::DELETE,
        &format!("/users/{admin_id}/grants/{ga}"),
        &office,
    )
    .send();
    let (a, o) = tokio::join!(a, o);
    let mut codes = [a.unwrap().status().as_u16(), o.unwrap().status().as_u16()];
    codes.sort();
    assert_eq!(
        codes,
        [204, 422],
        "one revocation wins, the other is refused"
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM role_grant WHERE role = 'administrator'")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// The case page and the API take one step vocabulary: the page's verify
/// and ask forms post `step=verify` with `passed`, `step=ask` with `ask`.
async fn the_case_page_posts_the_apis_steps(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit) = (
        app.token("office", false).await,
        app.token("unit", false).await,
    );
    let ask = crate::cases::report(&app, &office, sub(&cats, "0201").id, IN_LJ).await;
    let ask = crate::cases::register_and_dispatch(&app, &office, &ask, "市城市管理局", 48).await;
    let staff = app.as_role("unit").await;
    let id = ask["id"].as_str().unwrap();
    let version = ask["version"].to_string();
    // Asking to park without a reason names the reason; with one it is asked.
    let r = staff
        .post(
            &format!("/cases/{id}/step"),
            &[
                ("step", "ask"),
                ("ask", "park"),
                ("reason", "需协调产权单位"),
                ("until", ""),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c: Value =
        bearer(&format!("http://{}", app.addr))(Method::GET, &format!("/cases/{id}"), &unit)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        c["state"], "awaiting_approval",
        "the office has the request"
    );
    // An extension needs its date: the form says which field.
    let version = c["version"].to_string();
    let r = staff
        .post(
            &format!("/cases/{id}/step"),
            &[
                ("step", "ask"),
                ("ask", "extend"),
                ("reason", "材料未到"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 422);

    // Verification from the page: the admin (no part in handling) passes it.
    let v = crate::cases::report(&app, &office, sub(&cats, "0201").id, IN_LJ).await;
    let v = crate::integrity::dispatched_and_fixed(&app, &office, &unit, &v).await;
    assert_eq!(v["state"], "handled");
    let admin = app.as_role("admin").await;
    let id = v["id"].as_str().unwrap();
    let r = admin
        .post(
            &format!("/cases/{id}/step"),
            &[
                ("step", "verify"),
                ("passed", "true"),
                ("note", "现场已清理"),
                ("version", &v["version"].to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = admin.get_text(&format!("/cases/{id}")).await;
    assert!(!html.contains("name=\"passed\""), "nothing left to verify");
    let state: String = sqlx::query_scalar("SELECT state FROM case_record WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    assert_ne!(state, "handled", "the verification was taken");
}
