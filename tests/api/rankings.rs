//! Ranking lists (红黑榜): drafted by one office account and approved by
//! another, published frozen, corrected only as a new edition with its
//! reason, appealed by the unit ranked, and shown in public without
//! personal data.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_list_needs_a_second_account_and_stays_frozen_once_published,
    an_upheld_appeal_drafts_a_correction_and_both_editions_stay_visible,
    the_public_page_shows_names_and_scores_and_no_one,
    a_public_site_list_exposes_the_black_sites_problems_and_nothing_else,
);

async fn demo(b: Backend) -> TestApp {
    let app = TestApp::demo(b).await;
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    app
}

async fn send(
    app: &TestApp,
    m: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let call = bearer(&format!("http://{}", app.addr));
    let mut r = call(m, path, token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let v = r.json().await.unwrap_or(Value::Null);
    (status, v)
}

async fn rating_round(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM rating_round ORDER BY id LIMIT 1")
        .fetch_one(app.store.reader())
        .await
        .unwrap()
}

fn list_body(round: &str) -> Value {
    json!({"name": "民评官测试榜", "subject": "unit_rating", "period_from": "2026-11-01",
           "period_to": "2026-11-30", "source_id": round, "min_n": 30, "red": 2, "black": 2})
}

async fn a_list_needs_a_second_account_and_stays_frozen_once_published(b: Backend) {
    let app = demo(b).await;
    let office = app.token("office", false).await;
    let admin = app.token("admin", false).await;
    let round = rating_round(&app).await;
    // Bad definitions are named.
    for (change, field) in [
        (json!({"min_n": 0}), "min_n"),
        (json!({"subject": "everything"}), "subject"),
        (json!({"period_to": "2026-10-01"}), "period_to"),
        (json!({"source_id": null}), "source_id"),
    ] {
        let mut body = list_body(&round);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, v) = send(&app, Method::POST, "/ranking-lists", &office, Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{change}");
        assert_eq!(v["errors"][0]["field"], field, "{change}");
    }
    let inspector = app.token("inspector", false).await;
    let (s, _) = send(
        &app,
        Method::POST,
        "/ranking-lists",
        &inspector,
        Some(list_body(&round)),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, made) = send(
        &app,
        Method::POST,
        "/ranking-lists",
        &office,
        Some(list_body(&round)),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let list_id = made["id"].as_str().unwrap().to_string();
    let draft = &made["editions"][0];
    let entries = draft["entries"].as_array().unwrap();
    // The unit under the round's minimum n is listed, not ranked; the two
    // best are red, the two worst black.
    let marks = |m: &str| entries.iter().filter(|e| e["mark"] == m).count();
    assert_eq!((marks("red"), marks("black")), (2, 2));
    assert!(entries.iter().any(|e| e["rank"].is_null()));
    let id = draft["id"].as_str().unwrap();
    let v = draft["version"].as_i64().unwrap();
    // Its drafter cannot approve it; another office account can. Nobody
    // publishes a draft.
    let (s, e) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{id}/approve"),
        &office,
        Some(json!({"version": v})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["code"], "own_draft");
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{id}/publish"),
        &office,
        Some(json!({"version": v})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, ok) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{id}/approve"),
        &admin,
        Some(json!({"version": v})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    // A stale version is a conflict.
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{id}/publish"),
        &office,
        Some(json!({"version": v})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, published) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{id}/publish"),
        &office,
        Some(json!({"version": ok["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(published["state"], "published");
    // Later data does not change it, and it cannot be drafted again.
    let unit: String = sqlx::query_scalar(
        "SELECT unit_id FROM rating_round_unit WHERE round_id = $1 ORDER BY unit_id LIMIT 1",
    )
    .bind(&round)
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    for k in 0..40 {
        sqlx::query("INSERT INTO unit_rating (id, round_id, unit_id, value, channel, rated_on) VALUES ($1, $2, $3, 0, 'paper', '2026-11-20')")
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&round)
            .bind(&unit)
            .execute(app.store.reader())
            .await
            .unwrap_or_else(|e| panic!("rating {k}: {e}"));
    }
    let (_, after) = send(
        &app,
        Method::GET,
        &format!("/ranking-lists/{list_id}"),
        &office,
        None,
    )
    .await;
    assert_eq!(after["editions"][0]["entries"], published["entries"]);
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{id}/redraft"),
        &office,
        Some(json!({"version": published["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A unit's staff read the published edition, never a draft.
    let staff = app.token("unit", true).await;
    let (s, seen) = send(
        &app,
        Method::GET,
        &format!("/ranking-lists/{list_id}"),
        &staff,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        seen["editions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["state"] == "published")
    );
}

async fn an_upheld_appeal_drafts_a_correction_and_both_editions_stay_visible(b: Backend) {
    let app = demo(b).await;
    let office = app.token("office", false).await;
    let admin = app.token("admin", false).await;
    let staff = app.token("unit", false).await;
    // The demo: a published list and 市城市管理局's appeal waiting.
    let (list_id, edition): (String, String) = sqlx::query_as(
        "SELECT list_id, id FROM ranking_edition WHERE state = 'published' ORDER BY id LIMIT 1",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    let (_, view) = send(
        &app,
        Method::GET,
        &format!("/ranking-lists/{list_id}"),
        &office,
        None,
    )
    .await;
    let appeal = view["appeals"][0].clone();
    assert_eq!(appeal["state"], "pending");
    let own = appeal["subject_id"].as_str().unwrap().to_string();
    // A second appeal of the same entry waits for the first; another
    // unit's entry is not the staff's to appeal.
    let (s, e) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{edition}/appeals"),
        &staff,
        Some(json!({"subject_id": own, "reason": "再次申诉"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["errors"][0]["code"], "already_appealed");
    let other = view["editions"][0]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subject_id"] != own.as_str())
        .unwrap()["subject_id"]
        .clone();
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{edition}/appeals"),
        &staff,
        Some(json!({"subject_id": other, "reason": "别人的"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The office upholds it: a correction is drafted with the entry
    // struck, approved by a second account and published; the first
    // edition stays, superseded.
    let (s, d) = send(&app, Method::POST, &format!("/ranking-appeals/{}/decision", appeal["id"].as_str().unwrap()), &office,
        Some(json!({"version": appeal["version"], "upheld": true, "decision": "复核属实，撤出本期排名"}))).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let correction = &d["correction"];
    assert_eq!(correction["number"], 2);
    assert_eq!(correction["reason"], "复核属实，撤出本期排名");
    let struck = correction["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["subject_id"] == own.as_str())
        .unwrap()
        .clone();
    assert!(struck["rank"].is_null() && struck["mark"].is_null() && struck["struck"].is_string());
    let cid = correction["id"].as_str().unwrap();
    let (s, ok) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{cid}/approve"),
        &admin,
        Some(json!({"version": correction["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{cid}/publish"),
        &office,
        Some(json!({"version": ok["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, view) = send(
        &app,
        Method::GET,
        &format!("/ranking-lists/{list_id}"),
        &staff,
        None,
    )
    .await;
    let states: Vec<(i64, String)> = view["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["number"].as_i64().unwrap(),
                e["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(states, [(2, "published".into()), (1, "superseded".into())]);
    // The decided appeal cannot be decided again.
    let (s, _) = send(&app, Method::POST, &format!("/ranking-appeals/{}/decision", appeal["id"].as_str().unwrap()), &office,
        Some(json!({"version": appeal["version"].as_i64().unwrap() + 1, "upheld": false, "decision": "再议"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The spreadsheet of an edition opens for anyone who may see it.
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(
        Method::GET,
        &format!("/ranking-editions/{edition}/export.xlsx"),
        &staff,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}

async fn the_public_page_shows_names_and_scores_and_no_one(b: Backend) {
    let app = demo(b).await;
    let list_id: String = sqlx::query_scalar("SELECT id FROM ranking_list ORDER BY id LIMIT 1")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let anon = app.anonymous();
    let r = anon.get(&format!("/p/rankings/{list_id}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("红榜") && html.contains("黑榜"));
    // Units by name; no person, no account, no appeal.
    let people: Vec<(String,)> = sqlx::query_as("SELECT display_name FROM app_user")
        .fetch_all(app.store.reader())
        .await
        .unwrap();
    for (name,) in people {
        assert!(!html.contains(&name), "{name} shown in public");
    }
    assert!(!html.contains("夜市整治"), "the appeal is not public");
    // A list the office keeps private has no public page.
    sqlx::query(
        "UPDATE ranking_list SET spec = REPLACE(spec, '\"public\":true', '\"public\":false')",
    )
    .execute(app.store.reader())
    .await
    .unwrap();
    assert_eq!(
        anon.get(&format!("/p/rankings/{list_id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// A public list of sites shows photos of the failures at its black-listed
/// sites (the 曝光台), and serves no other photo.
async fn a_public_site_list_exposes_the_black_sites_problems_and_nothing_else(b: Backend) {
    let app = TestApp::spawn(b).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    let office = app.token("office", false).await;
    let admin = app.token("admin", false).await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let from = today.checked_sub(jiff::Span::new().days(90)).unwrap();
    let body = json!({"name": "点位红黑榜", "subject": "site_on_site", "period_from": from.to_string(),
        "period_to": today.to_string(), "min_n": 3, "red": 3, "black": 3, "public": true});
    let (s, made) = send(&app, Method::POST, "/ranking-lists", &office, Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let list = made["id"].as_str().unwrap().to_string();
    let e = &made["editions"][0];
    let (_, ok) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{}/approve", e["id"].as_str().unwrap()),
        &admin,
        Some(json!({"version": e["version"]})),
    )
    .await;
    let (s, _) = send(
        &app,
        Method::POST,
        &format!("/ranking-editions/{}/publish", e["id"].as_str().unwrap()),
        &office,
        Some(json!({"version": ok["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let anon = app.anonymous();
    let html = anon
        .get(&format!("/p/rankings/{list}"))
        .await
        .text()
        .await
        .unwrap();
    let prefix = format!("/p/rankings/{list}/photos/");
    let shown: Vec<String> = html
        .split(&prefix)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    assert!(!shown.is_empty(), "the black sites' failures are shown");
    let r = anon.get(&format!("{prefix}{}", shown[0])).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    // A photo of a site not on the black list is not served.
    let other: String = sqlx::query_scalar(
        "SELECT p.id FROM photo p WHERE p.finding_id IS NULL ORDER BY p.id LIMIT 1",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(
        anon.get(&format!("{prefix}{other}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
