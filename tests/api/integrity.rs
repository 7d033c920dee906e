//! Integrity repairs (issue 12): the ways a reported problem could vanish,
//! a write skip its check, or an answer differ from what the docs say.

use crate::cases::{catalogue, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both!(
    a_read_only_token_cannot_revoke_tokens_or_mark_notifications_read,
    a_locked_account_stays_locked_whichever_name_is_typed,
    re_importing_the_exported_site_register_changes_nothing,
    a_sponsor_unit_editing_its_site_is_forbidden_not_told_it_is_missing,
    a_unit_opening_a_round_site_page_is_forbidden_as_in_the_api,
    bulk_dispatch_with_nothing_ticked_names_the_selection,
    the_report_form_takes_a_phone_photo_and_keeps_the_text_when_too_large,
    a_brand_new_data_folder_imports_a_framework_from_the_command_line,
    nobody_from_the_handling_unit_verifies_its_fix,
    rotation_never_sends_an_inspector_to_a_site_their_unit_sponsors,
    a_duplicate_of_a_duplicate_resolves_to_the_original,
    an_original_must_be_live_of_the_same_class_and_near_unless_confirmed,
    a_duplicate_brings_its_photos_to_the_original_and_its_reporter_hears_the_outcome,
    a_voided_or_parked_case_does_not_count_against_its_unit,
    waiting_for_the_office_on_an_extension_is_not_overdue_anywhere,
    each_dispatch_starts_a_handling_period,
    one_photo_of_two_problems_goes_with_each_and_folders_keep_photos_apart,
    unmatched_rows_keep_their_photos_and_a_mapped_failure_needs_one,
    the_district_column_tells_sites_of_one_name_apart,
    result_words_notes_with_dates_and_refusals_by_row,
    after_photos_from_the_future_or_nowhere_are_flagged_an_honest_re_shoot_is_not,
    every_on_site_standard_of_the_demo_has_a_case_category,
    an_unmapped_standards_failure_waits_for_the_office_to_choose_its_category,
    hsts_is_sent_only_when_the_public_url_is_https,
);

async fn a_read_only_token_cannot_revoke_tokens_or_mark_notifications_read(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let strong = app.token("office", false).await;
    let weak = app.token("office", true).await;
    let tokens: Value = get_json(&app, &strong, "/tokens").await;
    let ids: Vec<String> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let r = call(Method::DELETE, &format!("/tokens/{id}"), &weak)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    // The read-write token still works: nothing was revoked.
    assert_eq!(
        call(Method::GET, "/tokens", &strong)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let unknown = uuid::Uuid::new_v4();
    let r = call(
        Method::POST,
        &format!("/notifications/{unknown}/read"),
        &weak,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "refused before any lookup"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "forbidden");
    // A read-write token is told the notification is not there.
    let r = call(
        Method::POST,
        &format!("/notifications/{unknown}/read"),
        &strong,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn a_locked_account_stays_locked_whichever_name_is_typed(b: Backend) {
    let app = TestApp::demo(b).await;
    let phone: String =
        sqlx::query_scalar("SELECT phone FROM app_user WHERE username = 'inspector3'")
            .fetch_one(app.store.reader())
            .await
            .unwrap();
    let s = app.anonymous();
    for _ in 0..5 {
        s.try_login("inspector3", "wrong-password").await;
    }
    // Reached by its phone number, the account is still locked, even with
    // the right password.
    let r = s.try_login(&phone, DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("尝试次数过多"));
    // Failures under the phone number count against the same account.
    let admin = app.as_role("admin").await;
    let id = app.user_id("inspector3").await;
    admin.post(&format!("/users/{id}/unlock"), &[]).await;
    for _ in 0..5 {
        s.try_login(&phone, "wrong-password").await;
    }
    let r = s.try_login("inspector3", DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Unlocking lifts it for every name.
    admin.post(&format!("/users/{id}/unlock"), &[]).await;
    assert_eq!(
        app.anonymous()
            .try_login(&phone, DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Unknown names still lock after the same number of tries.
    for _ in 0..4 {
        let r = s.try_login("13900000000", "wrong-password").await;
        assert!(r.text().await.unwrap().contains("用户名或密码不正确"));
    }
    let r = s.try_login("13900000000", "wrong-password").await;
    assert!(r.text().await.unwrap().contains("尝试次数过多"));
}

async fn re_importing_the_exported_site_register_changes_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let exported = call(Method::GET, "/sites/export", &office)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let versions = |app: &TestApp| {
        let reader = app.store.reader().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT CAST(SUM(version) AS BIGINT) FROM site")
                .fetch_one(&reader)
                .await
                .unwrap()
        }
    };
    let before = versions(&app).await;
    let audits = app.count("audit_log").await;
    let r = TestApp::client()
        .post(app.url("/api/v1/sites/import"))
        .bearer_auth(&office)
        .multipart(
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(exported)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["added"].as_i64(), v["changed"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(versions(&app).await, before, "no site got a new version");
    assert_eq!(app.count("audit_log").await, audits, "no audit record");
}

async fn a_sponsor_unit_editing_its_site_is_forbidden_not_told_it_is_missing(b: Backend) {
    let app = TestApp::demo(b).await;
    let unit_id = app.unit_id("市城市管理局").await;
    let site: String =
        sqlx::query_scalar("SELECT id FROM site WHERE sponsor_unit_id = $1 ORDER BY code LIMIT 1")
            .bind(unit_id.to_string())
            .fetch_one(app.store.reader())
            .await
            .unwrap();
    let token = app.token("unit", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let seen = call(Method::GET, &format!("/sites/{site}"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), StatusCode::OK, "the sponsor sees its site");
    let mut body: Value = seen.json().await.unwrap();
    body["name"] = "改名".into();
    let r = call(Method::PUT, &format!("/sites/{site}"), &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = app.as_role("unit").await;
    assert_eq!(
        page.get(&format!("/sites/{site}/edit")).await.status(),
        StatusCode::FORBIDDEN
    );
    // A site it neither sees nor sponsors is still not there for it.
    let other: String = sqlx::query_scalar(
        "SELECT id FROM site WHERE sponsor_unit_id IS NULL OR sponsor_unit_id <> $1 ORDER BY code LIMIT 1",
    )
    .bind(unit_id.to_string())
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(
        page.get(&format!("/sites/{other}/edit")).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn a_unit_opening_a_round_site_page_is_forbidden_as_in_the_api(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let (s, r) = crate::rounds::call(&app, &office, Method::POST, "/rounds", Some(serde_json::json!({
        "name": "月度测评", "kind": "mock", "starts_on": "2026-11-02", "ends_on": "2026-11-06", "sample_size": 3
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (round, site): (String, String) =
        sqlx::query_as("SELECT round_id, site_id FROM round_site ORDER BY round_id LIMIT 1")
            .fetch_one(app.store.reader())
            .await
            .unwrap();
    let token = app.token("unit", false).await;
    let api = bearer(&format!("http://{}", app.addr))(
        Method::GET,
        &format!("/rounds/{round}/sites/{site}/findings"),
        &token,
    )
    .send()
    .await
    .unwrap()
    .status();
    let page = app
        .as_role("unit")
        .await
        .get(&format!("/rounds/{round}/sites/{site}"))
        .await
        .status();
    assert_eq!((api, page), (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN));
}

async fn bulk_dispatch_with_nothing_ticked_names_the_selection(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let r = s.post("/cases/bulk-dispatch", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("没有选择案件"),
        "the page says nothing was selected"
    );
}

async fn the_report_form_takes_a_phone_photo_and_keeps_the_text_when_too_large(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let cats = catalogue(&app).await;
    let form = |photos: Vec<Vec<u8>>| {
        let mut f = reqwest::multipart::Form::new()
            .text("csrf", s.csrf.clone())
            .text("client_id", uuid::Uuid::new_v4().to_string())
            .text("source", "hotline")
            .text("category_id", sub(&cats, "0101").id.to_string())
            .text("description", "人行道井盖缺失，夜间行人易踩空")
            .text("address", "望岳路 12 号");
        for (i, p) in photos.into_iter().enumerate() {
            f = f.part(
                "photos",
                reqwest::multipart::Part::bytes(p).file_name(format!("{i}.jpg")),
            );
        }
        f
    };
    let send = |f: reqwest::multipart::Form| s.client.post(s.url("/cases")).multipart(f).send();
    // A normal phone photo (about 5 MB) and three smaller ones go through.
    let big = wenming_store::photo::noise_jpeg(1, 1800, 1300);
    assert!(big.len() > 3 << 20, "{} bytes", big.len());
    let r = send(form(vec![big])).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let three = (2..5)
        .map(|i| wenming_store::photo::noise_jpeg(i, 800, 600))
        .collect::<Vec<_>>();
    assert!(three.iter().map(Vec::len).sum::<usize>() > 2 << 20);
    let r = send(form(three)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Above the photo limit (10 MB) the form comes back with the reason and
    // what was typed.
    let huge = wenming_store::photo::noise_jpeg(9, 3000, 2400);
    assert!(huge.len() > 10 << 20, "{} bytes", huge.len());
    let r = send(form(vec![huge])).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("超过"), "says the photo is too large");
    assert!(
        html.contains("人行道井盖缺失，夜间行人易踩空"),
        "keeps the text"
    );
    assert_eq!(app.count("case_record").await, 2);
}

async fn a_brand_new_data_folder_imports_a_framework_from_the_command_line(b: Backend) {
    let demo_dir =
        std::env::temp_dir().join(format!("wenming-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&demo_dir).unwrap();
    let wenming = |dir: &std::path::Path, url: Option<&str>, args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wenming"));
        c.current_dir(dir)
            .args(args)
            .env_remove("WENMING_DATABASE_URL")
            .env_remove("WENMING_DATA_DIR")
            .env("WENMING_ADMIN_PASSWORD", "cli-admin-password")
            .env("LANG", "C");
        if let Some(u) = url {
            c.env("WENMING_DATABASE_URL", u);
        }
        c.output().unwrap()
    };
    // The official table, as a city would receive it.
    assert!(wenming(&demo_dir, None, &["demo"]).status.success());
    let out = wenming(
        &demo_dir,
        None,
        &[
            "framework",
            "export",
            "--format",
            "xlsx",
            "--output",
            "fw.xlsx",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A brand-new data folder (or database): no `serve` has run.
    let (url, dir) = fresh_database(b).await;
    let work = dir.clone().unwrap_or_else(|| {
        let d = std::env::temp_dir().join(format!("wenming-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let table = demo_dir.join("fw.xlsx");
    let out = wenming(
        &work,
        Some(&url),
        &[
            "framework",
            "import",
            table.to_str().unwrap(),
            "--create-units",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = wenming(&work, Some(&url), &["framework", "list"]);
    assert_eq!(String::from_utf8_lossy(&list.stdout).lines().count(), 1);
    let _ = std::fs::remove_dir_all(&demo_dir);
    let _ = std::fs::remove_dir_all(&work);
}

/// 孙丽娜 (inspector2) is seconded from 市城市管理局, the unit that handles
/// the case and sponsors some of the sites.
async fn second_inspector2_from_the_city_management_bureau(app: &TestApp) -> uuid::Uuid {
    let unit = app.unit_id("市城市管理局").await;
    let mut tx = app.store.begin().await.unwrap();
    sqlx::query("UPDATE app_user SET unit_id = $1 WHERE username = 'inspector2'")
        .bind(unit.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    unit
}

async fn nobody_from_the_handling_unit_verifies_its_fix(b: Backend) {
    use crate::cases::{IN_FM, report, step};
    let app = TestApp::demo(b).await;
    second_inspector2_from_the_city_management_bureau(&app).await;
    let cats = catalogue(&app).await;
    let (office, unit, colleague) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector2", false).await,
    );
    let c = report(&app, &office, sub(&cats, "0101").id, IN_FM).await;
    let c = dispatched_and_fixed(&app, &office, &unit, &c).await;
    assert_eq!(c["state"], "handled");
    let verify = serde_json::json!({"step": "verify", "passed": true, "note": ""});
    let r = step(&app, &colleague, &c, verify.clone()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "own_unit");
    // The page does not offer it, and says why when it is tried.
    let page = app.as_role("inspector2").await;
    let (_, html) = page
        .get_text(&format!("/cases/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(!html.contains("value=\"verify\""));
    // Someone from elsewhere may.
    let admin = app.token("admin", false).await;
    let r = step(&app, &admin, &c, verify).await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn rotation_never_sends_an_inspector_to_a_site_their_unit_sponsors(b: Backend) {
    use crate::rounds::{call, inspect, sites_of};
    let app = TestApp::demo(b).await;
    let unit = second_inspector2_from_the_city_management_bureau(&app).await;
    let sponsored: Vec<String> =
        sqlx::query_scalar("SELECT id FROM site WHERE sponsor_unit_id = $1")
            .bind(unit.to_string())
            .fetch_all(app.store.reader())
            .await
            .unwrap();
    assert!(!sponsored.is_empty());
    let office = app.token("office", false).await;
    let colleague_id = app.user_id("inspector2").await;
    // Even with both rotation rules off and nobody else to send.
    let (s, r) = call(&app, &office, Method::POST, "/rounds", Some(serde_json::json!({
        "name": "全量巡查", "kind": "patrol", "starts_on": "2026-11-09", "ends_on": "2026-11-09",
        "sample_size": 200, "seed": 3, "not_twice_in_a_row": false, "not_where_they_work": false,
        "inspector_ids": [colleague_id]
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let sites = sites_of(&app, &office, &r).await;
    let mut seen = 0;
    for s in &sites {
        if sponsored.contains(&s["site_id"].as_str().unwrap().to_string()) {
            seen += 1;
            assert!(s["inspector_id"].is_null(), "{s}");
        } else {
            assert_eq!(s["inspector_id"], colleague_id.to_string());
        }
    }
    assert_eq!(seen, sponsored.len());
    // Sent there by hand, what they record is flagged.
    let round_id = r["id"].as_str().unwrap();
    let site = sites
        .iter()
        .find(|s| s["inspector_id"].is_null())
        .unwrap()
        .clone();
    let (s, e) = call(
        &app,
        &office,
        Method::PUT,
        &format!(
            "/rounds/{round_id}/sites/{}/inspector",
            site["site_id"].as_str().unwrap()
        ),
        Some(serde_json::json!({"inspector_id": colleague_id})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{e}");
    let colleague = app.token("inspector2", false).await;
    let (s, v, _) = inspect(&app, &colleague, round_id, &site, false).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["own_unit"] == true), "{v}");
    // Found by rotation elsewhere, nothing is flagged.
    let other = sites
        .iter()
        .find(|s| s["inspector_id"] == colleague_id.to_string())
        .unwrap();
    let (_, v, _) = inspect(&app, &colleague, round_id, other, false).await;
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["own_unit"] == false)
    );
}

fn cid(c: &Value) -> &str {
    c["id"].as_str().unwrap()
}

async fn get_case(app: &TestApp, token: &str, id: &str) -> Value {
    bearer(&format!("http://{}", app.addr))(Method::GET, &format!("/cases/{id}"), token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Marks `c` a duplicate of `original`; the status and the body.
async fn mark(
    app: &TestApp,
    office: &str,
    c: &Value,
    original: &Value,
    reason: &str,
) -> (StatusCode, Value) {
    let c = get_case(app, office, cid(c)).await;
    let r = crate::cases::step(
        app,
        office,
        &c,
        serde_json::json!({"step": "mark_duplicate", "original": original["id"], "reason": reason}),
    )
    .await;
    (r.status(), r.json().await.unwrap())
}

fn north(m: f64) -> (f64, f64) {
    let (lon, lat) = crate::cases::IN_LJ;
    (lon, lat + m / 111_195.0)
}

async fn a_duplicate_of_a_duplicate_resolves_to_the_original(b: Backend) {
    use crate::cases::report;
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, inspector) = (
        app.token("office", false).await,
        app.token("inspector", false).await,
    );
    let kind = sub(&cats, "0101").id;
    let a = report(&app, &inspector, kind, north(0.0)).await;
    let b2 = report(&app, &inspector, kind, north(10.0)).await;
    let c = report(&app, &inspector, kind, north(20.0)).await;
    assert_eq!(mark(&app, &office, &b2, &a, "").await.0, StatusCode::OK);
    // C names B, which is itself a duplicate: C joins A.
    let (s, v) = mark(&app, &office, &c, &b2, "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["duplicate_of"], a["id"]);
    // A cycle is refused: A cannot be a duplicate of its own duplicate.
    let (s, v) = mark(&app, &office, &a, &c, "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (
            v["errors"][0]["field"].as_str(),
            v["errors"][0]["code"].as_str()
        ),
        (Some("original"), Some("duplicate_cycle"))
    );
    // When B is marked again, cases that pointed at it follow to the root.
    let d = report(&app, &inspector, kind, north(5.0)).await;
    let e = report(&app, &inspector, kind, north(6.0)).await;
    assert_eq!(mark(&app, &office, &e, &d, "").await.0, StatusCode::OK);
    assert_eq!(mark(&app, &office, &d, &a, "").await.0, StatusCode::OK);
    assert_eq!(
        get_case(&app, &office, cid(&e)).await["duplicate_of"],
        a["id"]
    );
    // The original lists its duplicates; each duplicate names the original.
    let list: Value = get_json(&app, &office, &format!("/cases/{}/duplicates", cid(&a))).await;
    let numbers: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers.len(), 4, "{list}");
    let s = app.as_role("office").await;
    let (_, page) = s.get_text(&format!("/cases/{}", cid(&a))).await;
    for n in &numbers {
        assert!(page.contains(n), "the original's page lists {n}");
    }
    let (_, page) = s.get_text(&format!("/cases/{}", cid(&c))).await;
    assert!(page.contains("重复于") && page.contains(a["number"].as_str().unwrap()));
}

async fn an_original_must_be_live_of_the_same_class_and_near_unless_confirmed(b: Backend) {
    use crate::cases::{report, step};
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, inspector) = (
        app.token("office", false).await,
        app.token("inspector", false).await,
    );
    let kind = sub(&cats, "0101").id;
    let me = report(&app, &inspector, kind, north(0.0)).await;
    let code = |v: &Value| v["errors"][0]["code"].as_str().unwrap_or("").to_string();
    // A voided original.
    let voided = report(&app, &inspector, kind, north(5.0)).await;
    let r = step(
        &app,
        &office,
        &voided,
        serde_json::json!({"step": "void", "reason": "测试数据"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (s, v) = mark(&app, &office, &me, &voided, "").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "original_voided".into())
    );
    // Another class of problem (a damaged facility, not litter).
    let other = report(&app, &inspector, sub(&cats, "0201").id, north(5.0)).await;
    let (s, v) = mark(&app, &office, &me, &other, "").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "other_class".into())
    );
    // 8 km away: refused, unless the office confirms with a reason.
    let far = report(&app, &inspector, sub(&cats, "0102").id, north(8000.0)).await;
    let (s, v) = mark(&app, &office, &me, &far, "").await;
    assert_eq!(
        (s, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "original_too_far".into())
    );
    let (s, v) = mark(
        &app,
        &office,
        &me,
        &far,
        "同一条河道沿岸的同一堆垃圾，市民报错了位置",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "duplicate");
    let timeline: Value = get_json(&app, &office, &format!("/cases/{}/timeline", cid(&me))).await;
    let last = timeline.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["step"], "mark_duplicate");
    assert!(
        last["note"].as_str().unwrap().contains("报错了位置"),
        "the reason is kept: {last}"
    );
    // An original with duplicates cannot be voided; undoing the mark frees it.
    let far = get_case(&app, &office, cid(&far)).await;
    let r = step(
        &app,
        &office,
        &far,
        serde_json::json!({"step": "void", "reason": "误报"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(code(&e), "has_duplicates");
    let me = get_case(&app, &office, cid(&me)).await;
    let r = step(
        &app,
        &office,
        &me,
        serde_json::json!({"step": "unmark_duplicate", "reason": "位置不同，是两处问题"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.unwrap();
    assert_eq!(
        (me["state"].as_str(), me["duplicate_of"].is_null()),
        (Some("registered"), true)
    );
    let r = step(
        &app,
        &office,
        &far,
        serde_json::json!({"step": "void", "reason": "误报"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

async fn a_duplicate_brings_its_photos_to_the_original_and_its_reporter_hears_the_outcome(
    b: Backend,
) {
    use crate::cases::{fresh_photo, report, step_with};
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, inspector, unit, admin) = (
        app.token("office", false).await,
        app.token("inspector", false).await,
        app.token("unit", false).await,
        app.token("admin", false).await,
    );
    let kind = sub(&cats, "0101").id;
    let original = report(&app, &office, kind, north(0.0)).await;
    // The inspector reports the same problem with a photo.
    let call = bearer(&format!("http://{}", app.addr));
    let placeholder = serde_json::json!({"lon": north(12.0).0, "lat": north(12.0).1});
    let photo = fresh_photo(&app, &inspector, &placeholder, 4242).await;
    let r = call(Method::POST, "/cases", &inspector)
        .json(&serde_json::json!({"source": "inspection", "category_id": kind, "description": "同一处垃圾",
            "lon": north(12.0).0, "lat": north(12.0).1, "photo_ids": [photo]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let dup: Value = r.json().await.unwrap();
    let (s, _) = mark(&app, &office, &dup, &original, "").await;
    assert_eq!(s, StatusCode::OK);
    // Possible duplicates, through the API as on the page.
    let other = report(&app, &inspector, kind, north(20.0)).await;
    let cands: Value = get_json(
        &app,
        &office,
        &format!("/cases/{}/possible-duplicates", cid(&other)),
    )
    .await;
    assert!(
        cands
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["case"]["id"] == original["id"] && c["distance_m"].as_f64().unwrap() < 25.0),
        "{cands}"
    );
    let photos: Value = get_json(&app, &office, &format!("/cases/{}/photos", cid(&original))).await;
    assert!(
        photos
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == photo.as_str()),
        "the duplicate's photo shows on the original: {photos}"
    );
    // The original is fixed and verified: the duplicate closes with it and
    // its reporter is told.
    let c = dispatched_and_fixed(&app, &office, &unit, &original).await;
    let r = step_with(
        &app,
        &admin,
        &c,
        serde_json::json!({"step": "verify", "passed": true, "note": ""}),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let d = get_case(&app, &office, cid(&dup)).await;
    assert_eq!(d["state"], "duplicate");
    assert!(d["closed_at"].is_string());
    let notes: Value = get_json(&app, &inspector, "/notifications").await;
    let told = notes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "duplicate_closed")
        .unwrap_or_else(|| panic!("{notes}"));
    assert_eq!(told["case_number"], dup["number"]);
    assert_eq!(told["original_number"], original["number"]);
    let page = app.as_role("inspector").await;
    let (_, html) = page.get_text("/notifications").await;
    assert!(html.contains(original["number"].as_str().unwrap()) && html.contains("已办结"));
    // A case marked a duplicate of a case already closed closes at once,
    // and its reporter is told at once.
    let late = report(&app, &inspector, kind, north(3.0)).await;
    let (s, v) = mark(&app, &office, &late, &original, "").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["closed_at"].is_string());
    let notes: Value = get_json(&app, &inspector, "/notifications").await;
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["case_number"] == late["number"])
    );
}

/// The unit's row of this month's metrics.
async fn unit_metrics(app: &TestApp, token: &str, unit: &str) -> Value {
    let month = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%Y-%m")
        .to_string();
    let v: Value = bearer(&format!("http://{}", app.addr))(
        Method::GET,
        &format!("/metrics?month={month}"),
        token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    v["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == unit)
        .map(|u| u["metrics"].clone())
        .unwrap_or(Value::Null)
}

async fn a_voided_or_parked_case_does_not_count_against_its_unit(b: Backend) {
    use crate::cases::{register_and_dispatch, report, step};
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit, inspector) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
    );
    let kind = sub(&cats, "0101").id;
    let name = "市城市管理局";
    // One case handled on time gives the unit a score; then one voided
    // after dispatch and one parked with approval.
    let a = report(&app, &inspector, kind, north(0.0)).await;
    let a = register_and_dispatch(&app, &office, &a, name, 30).await;
    let r = step(
        &app,
        &unit,
        &a,
        serde_json::json!({"step": "handle", "note": "已清理"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let before = unit_metrics(&app, &office, name).await;
    let v = report(&app, &inspector, kind, north(300.0)).await;
    let v = register_and_dispatch(&app, &office, &v, name, 30).await;
    let r = step(
        &app,
        &office,
        &v,
        serde_json::json!({"step": "void", "reason": "重复立案"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = report(&app, &inspector, kind, north(600.0)).await;
    let p = register_and_dispatch(&app, &office, &p, name, 30).await;
    let p: Value = step(
        &app,
        &unit,
        &p,
        serde_json::json!({"step": "ask", "ask": {"kind": "park"}, "reason": "需市政统一改造"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let r = step(&app, &office, &p, serde_json::json!({"step": "approve"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = unit_metrics(&app, &office, name).await;
    assert_eq!(after["due"], before["due"], "{before} → {after}");
    assert_eq!(
        (after["voided"].as_i64(), after["parked"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(after["composite"], before["composite"]);
    // The metrics page shows them in their own columns.
    let s = app.as_role("office").await;
    let (_, html) = s.get_text("/cases/metrics").await;
    assert!(html.contains("作废") && html.contains("挂账"));
}

async fn waiting_for_the_office_on_an_extension_is_not_overdue_anywhere(b: Backend) {
    use crate::cases::{register_and_dispatch, report, step};
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit, inspector) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
    );
    let name = "市城市管理局";
    let c = report(&app, &inspector, sub(&cats, "0101").id, north(0.0)).await;
    let c = register_and_dispatch(&app, &office, &c, name, 30).await;
    // The deadline passes.
    let past = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2)).as_microsecond();
    let mut tx = app.store.begin().await.unwrap();
    sqlx::query("UPDATE case_record SET deadline = $1 WHERE id = $2")
        .bind(past)
        .bind(cid(&c))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let overdue_list = || async {
        let v: Value = get_json(&app, &office, "/cases?overdue=true").await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == c["id"])
    };
    assert!(overdue_list().await);
    assert!(get_case(&app, &office, cid(&c)).await["overdue"] == true);
    assert_eq!(unit_metrics(&app, &office, name).await["overdue_now"], 1);
    // The unit asks for more time: the next move is the office's.
    let c = get_case(&app, &office, cid(&c)).await;
    let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(72)).to_string();
    let r = step(&app, &unit, &c, serde_json::json!({"step": "ask", "ask": {"kind": "extend", "until": until}, "reason": "材料未到"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let waiting: Value = r.json().await.unwrap();
    assert_eq!(waiting["overdue"], false);
    assert!(!overdue_list().await);
    assert_eq!(unit_metrics(&app, &office, name).await["overdue_now"], 0);
    // Nor does the escalation job warn about it.
    let pass = wenming_store::escalation::run(
        &app.store,
        &wenming_store::escalation::EscalationPolicy::default(),
        jiff::Timestamp::now(),
    )
    .await
    .unwrap();
    assert_eq!(pass.escalated, 0, "{pass:?}");
    // Refused, the old deadline stands and it is overdue again.
    let r = step(
        &app,
        &office,
        &waiting,
        serde_json::json!({"step": "refuse", "reason": "理由不充分"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(overdue_list().await);
}

async fn each_dispatch_starts_a_handling_period(b: Backend) {
    use crate::cases::{register_and_dispatch, report, step, step_with, upload_photo};
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit, inspector) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
    );
    let c = report(&app, &inspector, sub(&cats, "0101").id, north(0.0)).await;
    // First sent an hour ago to a unit that asks to return it.
    let an_hour_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
    let c = register_and_dispatch(&app, &office, &c, "市城市管理局", 30).await;
    let mut tx = app.store.begin().await.unwrap();
    sqlx::query("UPDATE case_record SET dispatched_at = $1 WHERE id = $2")
        .bind(an_hour_ago.as_microsecond())
        .bind(cid(&c))
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = get_case(&app, &office, cid(&c)).await;
    let asked: Value = step(
        &app,
        &unit,
        &c,
        serde_json::json!({"step": "ask", "ask": {"kind": "return"}, "reason": "不属本单位职责"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let back: Value = step(
        &app,
        &office,
        &asked,
        serde_json::json!({"step": "approve"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(back["state"], "registered");
    // A picture taken half an hour ago: after the first dispatch, before
    // the second.
    let taken = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(30);
    let here = wenming_domain::geo::Point {
        lon: north(0.0).0,
        lat: north(0.0).1,
    };
    let bytes = wenming_store::photo::synthetic_jpeg(99, Some(taken), Some(here));
    let unit_id = app.unit_id("市城市管理局").await;
    let again: Value = step(
        &app,
        &office,
        &back,
        serde_json::json!({"step": "dispatch", "unit": unit_id, "deadline": crate::cases::later(30)}),
    )
    .await
    .json()
    .await
    .unwrap();
    let second: Option<jiff::Timestamp> =
        again["dispatched_at"].as_str().and_then(|t| t.parse().ok());
    assert!(
        second > Some(an_hour_ago + jiff::SignedDuration::from_mins(59)),
        "{again}"
    );
    assert!(again["handled_at"].is_null());
    let r = upload_photo(&app, &unit, bytes).await;
    let photo: Value = r.json().await.unwrap();
    let r = step_with(
        &app,
        &unit,
        &again,
        serde_json::json!({"step": "handle", "note": "已清理"}),
        &[photo["id"].as_str().unwrap().to_string()],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let photos: Value = get_json(&app, &office, &format!("/cases/{}/photos", cid(&c))).await;
    let after = photos
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == photo["id"])
        .unwrap();
    assert!(
        after["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["flag"] == "taken_before_dispatch"),
        "compared with the current dispatch: {after}"
    );
}

// ------------------------------------------------------------ third-party import

/// A result sheet with the given header and rows, all as text.
fn sheet(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(1 + r as u32, c as u16, v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn zip_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        for (n, bytes) in files {
            z.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

async fn import(
    app: &TestApp,
    token: &str,
    sheet: Vec<u8>,
    zip: Option<Vec<u8>>,
    words: &str,
) -> (StatusCode, Value) {
    let mut form = reqwest::multipart::Form::new()
        .text("name", "第三方测评")
        .text("starts_on", "2026-11-20")
        .text("ends_on", "2026-11-22")
        .text("result_words", words.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(sheet).file_name("结果.xlsx"),
        );
    if let Some(z) = zip {
        form = form.part(
            "photos",
            reqwest::multipart::Part::bytes(z).file_name("照片.zip"),
        );
    }
    let r = TestApp::client()
        .post(app.url("/api/v1/rounds/import"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A demo site with its checklist's standard codes.
async fn site_and_codes(
    app: &TestApp,
    pick: impl Fn(&wenming_store::site::Site) -> bool,
) -> (wenming_store::site::Site, Vec<String>) {
    let city = wenming_store::org::whole_city(&app.store).await.unwrap();
    let sites = wenming_store::site::list(&app.store, &city, &Default::default())
        .await
        .unwrap();
    for s in sites {
        if !pick(&s) {
            continue;
        }
        let list = wenming_store::inspection::checklist(&app.store, &s)
            .await
            .unwrap();
        if list.len() >= 2 {
            return (s, list.into_iter().map(|c| c.code).collect());
        }
    }
    panic!("no such site");
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

async fn findings_at(app: &TestApp, token: &str, round: &Value, site: uuid::Uuid) -> Vec<Value> {
    let (_, f) = crate::rounds::call(
        app,
        token,
        Method::GET,
        &format!(
            "/rounds/{}/sites/{site}/findings",
            round["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    // A site the round never visited has no findings (and is not found).
    f.as_array().cloned().unwrap_or_default()
}

async fn one_photo_of_two_problems_goes_with_each_and_folders_keep_photos_apart(b: Backend) {
    let app = crate::rounds::city(b).await;
    let office = app.token("office", false).await;
    let (site, codes) = site_and_codes(&app, |_| true).await;
    let lj = wenming_store::photo::synthetic_jpeg(501, None, None);
    let fm = wenming_store::photo::synthetic_jpeg(502, None, None);
    let (other, other_codes) = site_and_codes(&app, |s| s.id != site.id).await;
    let header = ["点位", "测评标准", "结果", "备注", "照片"];
    let (s, v) = import(
        &app,
        &office,
        sheet(
            &header,
            &[
                // One picture showing two problems at one site.
                row(&[&site.code, &codes[0], "不合格", "", "临江区/IMG_1.jpg"]),
                row(&[&site.code, &codes[1], "不合格", "", "临江区/IMG_1.jpg"]),
                // A bare name two folders hold: a person decides.
                row(&[&other.code, &other_codes[0], "不合格", "", "IMG_1.jpg"]),
            ],
        ),
        Some(zip_of(&[
            ("临江区/IMG_1.jpg", lj.clone()),
            ("凤鸣区/IMG_1.jpg", fm.clone()),
        ])),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["findings"].as_i64(), v["cases_opened"].as_i64()),
        (Some(2), Some(2)),
        "{v}"
    );
    assert_eq!(v["unmatched"][0]["reason"], "photo_ambiguous", "{v}");
    assert_eq!(v["unmatched"][0]["row"], 4);
    let found = findings_at(&app, &office, &v["round"], site.id).await;
    assert_eq!(found.len(), 2);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&lj));
    for f in &found {
        let ids = f["photo_ids"].as_array().unwrap();
        assert_eq!(ids.len(), 1, "{f}");
        let (_, p) = crate::rounds::call(
            &app,
            &office,
            Method::GET,
            &format!("/photos/{}", ids[0].as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(p["sha256"], sha, "the 临江区 picture, not the 凤鸣区 one");
        assert!(
            p["flags"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["flag"] != "same_file"),
            "not a re-use: {p}"
        );
    }
}

async fn unmatched_rows_keep_their_photos_and_a_mapped_failure_needs_one(b: Backend) {
    let app = crate::rounds::city(b).await;
    let office = app.token("office", false).await;
    let (site, codes) = site_and_codes(&app, |_| true).await;
    let header = ["点位", "测评标准", "结果", "备注", "照片"];
    let (s, v) = import(
        &app,
        &office,
        sheet(
            &header,
            &[
                row(&["没有这个点位", &codes[0], "不合格", "宣传栏破损", "a.jpg"]),
                row(&["也没有这个", &codes[1], "不合格", "", ""]),
            ],
        ),
        Some(zip_of(&[(
            "a.jpg",
            wenming_store::photo::synthetic_jpeg(7, None, None),
        )])),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let round_id = v["round"]["id"].as_str().unwrap().to_string();
    let rows = v["unmatched"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    // The sweep of abandoned uploads leaves the row's photo alone.
    wenming_store::photo::sweep(&app.store, &app.files, -1)
        .await
        .unwrap();
    let nodes = |code: &str| {
        let app = &app;
        let code = code.to_string();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT n.id FROM framework_node n JOIN framework f ON f.id = n.framework_id WHERE f.status = 'active' AND n.code = $1",
            )
            .bind(code)
            .fetch_one(app.store.reader())
            .await
            .unwrap()
        }
    };
    let map = |row: &Value, code: String| {
        let (app, office, round_id) = (&app, &office, round_id.clone());
        let (row, site) = (row["id"].as_str().unwrap().to_string(), site.id);
        async move {
            let standard = nodes(&code).await;
            crate::rounds::call(
                app,
                office,
                Method::POST,
                &format!("/rounds/{round_id}/unmatched/{row}/map"),
                Some(serde_json::json!({"site_id": site, "standard_id": standard})),
            )
            .await
        }
    };
    let (s, f) = map(&rows[0], codes[0].clone()).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["outcome"], "fail");
    assert_eq!(
        f["photo_ids"].as_array().unwrap().len(),
        1,
        "the row's photo came along: {f}"
    );
    let (_, c) = crate::rounds::call(
        &app,
        &office,
        Method::GET,
        &format!("/cases/{}/photos", f["case_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(
        c.as_array().unwrap().len(),
        1,
        "the case has its photo: {c}"
    );
    // A failure with no photo anywhere is not recorded without one.
    let (s, e) = map(&rows[1], codes[1].clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["code"], "photo_required", "{e}");
}

async fn the_district_column_tells_sites_of_one_name_apart(b: Backend) {
    let app = crate::rounds::city(b).await;
    let office = app.token("office", false).await;
    let city = wenming_store::org::whole_city(&app.store).await.unwrap();
    let sites = wenming_store::site::list(&app.store, &city, &Default::default())
        .await
        .unwrap();
    let (a, twin) = sites
        .iter()
        .find_map(|a| {
            sites
                .iter()
                .find(|t| t.id != a.id && t.name == a.name && t.region_name != a.region_name)
                .map(|t| (a.clone(), t.clone()))
        })
        .expect("the demo city has sites of one name in two places");
    let codes: Vec<String> = wenming_store::inspection::checklist(&app.store, &a)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    let header = ["区域", "点位", "测评标准", "结果"];
    let (s, v) = import(
        &app,
        &office,
        sheet(
            &header,
            &[
                row(&[&a.region_name, &a.name, &codes[0], "合　格"]),
                row(&["", &a.name, &codes[0], "合格"]),
            ],
        ),
        None,
        "",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["findings"], 1, "{v}");
    assert_eq!(
        v["unmatched"][0]["reason"], "site",
        "without a district the name is not enough"
    );
    assert_eq!(findings_at(&app, &office, &v["round"], a.id).await.len(), 1);
    assert!(
        findings_at(&app, &office, &v["round"], twin.id)
            .await
            .is_empty()
    );
}

async fn result_words_notes_with_dates_and_refusals_by_row(b: Backend) {
    let app = crate::rounds::city(b).await;
    let office = app.token("office", false).await;
    let (site, codes) = site_and_codes(&app, |_| true).await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["点位", "测评标准", "结果", "备注"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 3).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string(1, 0, &site.code).unwrap();
    ws.write_string(1, 1, &codes[0]).unwrap();
    ws.write_string(1, 2, "基本合格").unwrap();
    ws.write_datetime_with_format(1, 3, &day, &fmt).unwrap();
    ws.write_string(2, 0, &site.code).unwrap();
    ws.write_string(2, 1, &codes[1]).unwrap();
    ws.write_string(2, 2, "Ｐａｓｓ").unwrap();
    let (s, v) = import(&app, &office, wb.save_to_buffer().unwrap(), None, "").await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["findings"], 2, "{v}");
    let found = findings_at(&app, &office, &v["round"], site.id).await;
    let basic = found
        .iter()
        .find(|f| f["standard_code"] == codes[0].as_str())
        .unwrap();
    assert_eq!(basic["outcome"], "pass");
    assert_eq!(
        basic["note"], "基本合格：2026-11-03",
        "the word and the dated note are kept"
    );
    // The office reads the word another way; a line it cannot read is named.
    let header = ["点位", "测评标准", "结果"];
    let rows = [row(&[&site.code, &codes[0], "基本合格"])];
    let (s, e) = import(
        &app,
        &office,
        sheet(&header, &rows),
        None,
        "还行\n基本合格 = 不合格",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["field"], "result_words.1", "{e}");
    let (s, v) = import(
        &app,
        &office,
        sheet(&header, &rows),
        None,
        "基本合格 = 不合格",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["unmatched"][0]["reason"], "photo_required",
        "a failure needs its photo: {v}"
    );
    // A file that is no picture is refused naming its row; nothing is kept.
    let rounds = app.count("inspection_round").await;
    let (s, e) = import(
        &app,
        &office,
        sheet(
            &["点位", "测评标准", "结果", "照片"],
            &[row(&[&site.code, &codes[0], "不合格", "x.jpg"])],
        ),
        Some(zip_of(&[("x.jpg", b"not a picture at all".to_vec())])),
        "",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        e.to_string().contains("2:photos"),
        "names the sheet row: {e}"
    );
    assert_eq!(app.count("inspection_round").await, rounds);
    assert_eq!(app.count("photo").await, 0, "nothing half-saved");
}

// ------------------------------------------------------------ photo checks

async fn after_photos_from_the_future_or_nowhere_are_flagged_an_honest_re_shoot_is_not(b: Backend) {
    use crate::cases::{register_and_dispatch, step_with, upload_photo};
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let (office, unit, inspector) = (
        app.token("office", false).await,
        app.token("unit", false).await,
        app.token("inspector", false).await,
    );
    let here = wenming_domain::geo::Point {
        lon: north(0.0).0,
        lat: north(0.0).1,
    };
    let now = jiff::Timestamp::now();
    let up = |bytes: Vec<u8>, token: String| {
        let app = &app;
        async move {
            let r = upload_photo(app, &token, bytes).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // The inspector reports a pile of litter, photographed in place.
    let before = up(
        wenming_store::photo::synthetic_scene(61, true, Some(now), Some(here)),
        inspector.clone(),
    )
    .await;
    let r = bearer(&format!("http://{}", app.addr))(Method::POST, "/cases", &inspector)
        .json(&serde_json::json!({"source": "inspection", "category_id": sub(&cats, "0101").id,
            "description": "路口垃圾堆积", "lon": here.lon, "lat": here.lat, "photo_ids": [before]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let c = register_and_dispatch(&app, &office, &c, "市城市管理局", 30).await;
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(5);
    let honest = up(
        wenming_store::photo::synthetic_scene(61, false, Some(later), Some(here)),
        unit.clone(),
    )
    .await;
    let future = up(
        wenming_store::photo::synthetic_scene(
            62,
            false,
            Some(now + jiff::SignedDuration::from_hours(72)),
            Some(here),
        ),
        unit.clone(),
    )
    .await;
    let nowhere = up(
        wenming_store::photo::synthetic_scene(63, false, Some(later), None),
        unit.clone(),
    )
    .await;
    let r = step_with(
        &app,
        &unit,
        &c,
        serde_json::json!({"step": "handle", "note": "已清运"}),
        &[honest.clone(), future.clone(), nowhere.clone()],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let photos: Value = get_json(&app, &office, &format!("/cases/{}/photos", cid(&c))).await;
    let flags_of = |id: &str| -> Vec<String> {
        photos
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()["flags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["flag"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        flags_of(&honest),
        Vec::<String>::new(),
        "the litter is gone: a real change"
    );
    assert_eq!(flags_of(&future), vec!["taken_in_future".to_string()]);
    assert_eq!(flags_of(&nowhere), vec!["no_location".to_string()]);
    // The before photo re-encoded and handed in as a fix is still caught.
    let copy = up(
        wenming_store::photo::synthetic_scene(61, true, Some(later), Some(here)),
        unit.clone(),
    )
    .await;
    let other = crate::cases::report(&app, &inspector, sub(&cats, "0101").id, north(500.0)).await;
    let other = register_and_dispatch(&app, &office, &other, "市城市管理局", 30).await;
    let r = step_with(
        &app,
        &unit,
        &other,
        serde_json::json!({"step": "handle", "note": "已清运"}),
        std::slice::from_ref(&copy),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let photos: Value = get_json(&app, &office, &format!("/cases/{}/photos", cid(&other))).await;
    let p = photos
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == copy.as_str())
        .unwrap();
    assert!(
        p["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["flag"] == "near_identical" && f["case_id"] == c["id"]),
        "re-use across cases: {p}"
    );
}

// ------------------------------------------------------------ categories of failures

async fn every_on_site_standard_of_the_demo_has_a_case_category(b: Backend) {
    let app = crate::rounds::city(b).await;
    let framework = wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .unwrap();
    let standards = wenming_store::inspection::standards_of(&app.store, framework.id)
        .await
        .unwrap();
    let cats = wenming_store::case::categories(&app.store).await.unwrap();
    let unmapped: Vec<&str> = standards
        .iter()
        .map(|(c, _)| c.code.as_str())
        .filter(|code| {
            !cats
                .iter()
                .any(|c| c.parent_id.is_some() && c.standard_codes.iter().any(|s| s == code))
        })
        .collect();
    assert!(standards.len() >= 50, "{}", standards.len());
    assert!(
        unmapped.is_empty(),
        "on-site standards with no category: {unmapped:?}"
    );
}

async fn an_unmapped_standards_failure_waits_for_the_office_to_choose_its_category(b: Backend) {
    use crate::cases::step;
    use crate::rounds::{call, inspect, sites_of};
    let app = crate::rounds::city(b).await;
    let office = app.token("office", false).await;
    let (s, r) = call(&app, &office, Method::POST, "/rounds", Some(serde_json::json!({
        "name": "周督查", "kind": "supervision", "starts_on": "2026-11-09", "ends_on": "2026-11-09", "sample_size": 3, "seed": 5
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let site = sites_of(&app, &office, &r)
        .await
        .into_iter()
        .find(|s| !s["inspector_id"].is_null())
        .unwrap();
    let round_id = r["id"].as_str().unwrap();
    let (_, list) = call(
        &app,
        &office,
        Method::GET,
        &format!(
            "/rounds/{round_id}/sites/{}/checklist",
            site["site_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let first = list[0]["code"].as_str().unwrap().to_string();
    // No category names the first standard any more.
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, standard_codes FROM category")
        .fetch_all(app.store.reader())
        .await
        .unwrap();
    let mut tx = app.store.begin().await.unwrap();
    for (id, codes) in rows {
        let mut v: Vec<String> = serde_json::from_str(&codes).unwrap();
        v.retain(|c| *c != first);
        sqlx::query("UPDATE category SET standard_codes = $1 WHERE id = $2")
            .bind(serde_json::to_string(&v).unwrap())
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let name: String = sqlx::query_scalar("SELECT u.username FROM app_user u WHERE u.id = $1")
        .bind(site["inspector_id"].as_str().unwrap())
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let inspector = app.token(&name, false).await;
    let (s, v, _) = inspect(&app, &inspector, round_id, &site, true).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let failed = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["outcome"] == "fail")
        .unwrap()
        .clone();
    let c = get_case(&app, &office, failed["case_id"].as_str().unwrap()).await;
    assert_eq!(c["category"], "待分类", "not a guessed category: {c}");
    // Dispatch waits for a category.
    let c: Value = step(&app, &office, &c, serde_json::json!({"step": "register"}))
        .await
        .json()
        .await
        .unwrap();
    let unit = c["suggested_unit_id"].clone();
    assert!(
        unit.is_string(),
        "still suggested for the sponsor unit: {c}"
    );
    let r = step(
        &app,
        &office,
        &c,
        serde_json::json!({"step": "dispatch", "unit": unit, "deadline": crate::cases::later(24)}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "choose_category");
    let s = app.as_role("office").await;
    let (_, html) = s.get_text(&format!("/cases/{}", cid(&c))).await;
    assert!(
        html.contains("派遣前请先选择类别"),
        "the page says what to do"
    );
    let cats = wenming_store::case::categories(&app.store).await.unwrap();
    let pick = sub(&cats, "0901");
    let r = step(
        &app,
        &office,
        &c,
        serde_json::json!({"step": "classify", "category": pick.id}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.unwrap();
    assert_eq!(
        (c["category_id"].as_str(), &c["suggested_unit_id"]),
        (Some(pick.id.to_string().as_str()), &unit)
    );
    let r = step(
        &app,
        &office,
        &c,
        serde_json::json!({"step": "dispatch", "unit": unit, "deadline": crate::cases::later(24)}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // The placeholder was made by the system and recorded like any category.
    let made: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'category' AND action = 'create' AND entity_id IN (SELECT id FROM category WHERE code = '00')")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    assert_eq!(made, 1);
    assert!(
        wenming_store::audit::verify(&app.store)
            .await
            .unwrap()
            .broken
            .is_none()
    );
}

/// The JSON answer to a GET of the API.
async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    bearer(&format!("http://{}", app.addr))(Method::GET, path, token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn hsts_is_sent_only_when_the_public_url_is_https(b: Backend) {
    let app = TestApp::spawn(b).await;
    let plain = TestApp::client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("strict-transport-security").is_none());
    let config = wenming_web::WebConfig {
        files: app.files.clone(),
        public_url: Some("https://cc.qinglan.example".into()),
        secure_cookies: true,
        ..wenming_web::WebConfig::local("127.0.0.1:0".parse().unwrap())
    };
    let server = wenming_web::Application::build(app.store.clone(), config)
        .await
        .unwrap();
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run_until(async {
        let _ = rx.await;
    }));
    let r = TestApp::client()
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    let _ = tx.send(());
}

/// SQLite's page cap stands in for a full disk: writes fail with "database
/// or disk is full" until it is raised again, as when space is freed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_survived_on_sqlite() {
    use crate::cases::IN_LJ;
    let app = TestApp::demo(Backend::Sqlite).await;
    let cats = catalogue(&app).await;
    let inspector = app.token("inspector", false).await;
    let cap = |pages: i64| {
        let store = app.store.clone();
        async move {
            let mut tx = store.begin().await.unwrap();
            sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    };
    let count: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let report = |i: u32| {
        let (app, inspector, kind) = (&app, inspector.clone(), sub(&cats, "0101").id);
        async move {
            bearer(&format!("http://{}", app.addr))(Method::POST, "/cases", &inspector)
                .json(&serde_json::json!({"source": "inspection", "category_id": kind,
                    "description": format!("路边垃圾堆积 {i} {}", "很长的描述".repeat(40)), "lon": IN_LJ.0, "lat": IN_LJ.1}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(report(0).await.status(), StatusCode::CREATED);
    cap(count).await;
    let mut refused = None;
    for i in 1..200 {
        let r = report(i).await;
        if r.status() != StatusCode::CREATED {
            refused = Some((r.status(), r.text().await.unwrap()));
            break;
        }
    }
    let (status, body) = refused.expect("the cap is reached");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains("storage_full") && body.contains("存储空间已满"),
        "{body}"
    );
    let ready = TestApp::client()
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "not ready while writes fail"
    );
    // Space returns: the next write goes through, and the instance is
    // ready again, without a restart.
    cap(1 << 30).await;
    let r = report(500).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "the writer recovers by itself"
    );
    let ready = TestApp::client()
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_record WHERE description LIKE '路边垃圾堆积 500%'",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(stored, 1);
}

/// Registers and dispatches a case to 市城市管理局, whose staff report it
/// fixed (with a fresh photo); the case as the API then shows it.
pub(crate) async fn dispatched_and_fixed(
    app: &TestApp,
    office: &str,
    unit: &str,
    c: &Value,
) -> Value {
    let c = crate::cases::register_and_dispatch(app, office, c, "市城市管理局", 48).await;
    crate::cases::step(
        app,
        unit,
        &c,
        serde_json::json!({"step": "handle", "note": "已清理"}),
    )
    .await
    .json()
    .await
    .unwrap()
}
