//! 民评官: residents rate units; a unit is ranked only with enough
//! ratings, sees its own line and place but no other unit's, and reads a
//! comment only after the office approved it; the public page takes one
//! rating of a unit a phone and keeps no link to it.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_demo_round_ranks_units_with_enough_ratings_and_a_unit_sees_only_its_own,
    comments_wait_for_the_office_and_ratings_are_checked,
    the_public_page_takes_one_rating_of_a_unit_a_phone_and_keeps_no_link_to_it,
);

async fn demo_round(app: &TestApp) -> String {
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    sqlx::query_scalar("SELECT id FROM rating_round ORDER BY id LIMIT 1")
        .fetch_one(app.store.reader())
        .await
        .unwrap()
}

fn unit<'a>(results: &'a Value, name: &str) -> &'a Value {
    results["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {results}"))
}

async fn the_demo_round_ranks_units_with_enough_ratings_and_a_unit_sees_only_its_own(b: Backend) {
    let app = TestApp::demo(b).await;
    let round = demo_round(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let path = format!("/rating-rounds/{round}/results");
    let office = app.token("office", true).await;
    let all: Value = call(Method::GET, &path, &office)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["units"].as_array().unwrap().len(), 8);
    assert_eq!(all["ranked"], 7);
    // 政务办: 86 ratings, 80 of them satisfied or basically satisfied.
    let zw = unit(&all, "市政务服务管理办公室");
    assert_eq!(zw["n"], 86);
    let p = zw["satisfied"].as_f64().unwrap();
    assert!((p - 80.0 / 86.0).abs() < 1e-9, "{zw}");
    assert_eq!(zw["rank"], 1);
    assert!(
        zw["satisfied_low"].as_f64().unwrap() < p && p < zw["satisfied_high"].as_f64().unwrap()
    );
    assert_eq!(zw["interval_method"], "wilson");
    // Fewer than 30: shown, with an exact interval, but not ranked.
    let sw = unit(&all, "市水务局");
    assert_eq!(sw["n"], 12);
    assert!(sw["rank"].is_null());
    assert_eq!(sw["interval_method"], "clopper_pearson");
    // Ranks follow the rate among ranked units.
    let mut ranked: Vec<(u64, f64)> = all["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| !u["rank"].is_null())
        .map(|u| {
            (
                u["rank"].as_u64().unwrap(),
                u["satisfied"].as_f64().unwrap(),
            )
        })
        .collect();
    ranked.sort_by_key(|r| r.0);
    assert_eq!(ranked[0].0, 1);
    assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "{ranked:?}");
    // Approved comments only; the one naming a person stays hidden.
    let bodies: Vec<&str> = all["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    assert!(!bodies.iter().any(|b| b.contains("138")));
    // The unit's staff (市城市管理局) see their own line with its real
    // place, and their own approved comment, nothing of other units.
    let staff = app.token("unit", true).await;
    let mine: Value = call(Method::GET, &path, &staff)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["units"].as_array().unwrap().len(), 1);
    let cg = unit(&all, "市城市管理局");
    assert_eq!(mine["units"][0]["rank"], cg["rank"]);
    assert_eq!(mine["units"][0]["n"], cg["n"]);
    assert_eq!(mine["ranked"], 7);
    let theirs: Vec<&str> = mine["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        theirs,
        vec!["夜市收摊后的垃圾第二天早上才清走，希望快一点。"]
    );
    // The moderation queue is the office's alone.
    let r = call(
        Method::GET,
        &format!("/rating-rounds/{round}/comments"),
        &staff,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The unit's page shows its result beside its people.
    let session = app.login("unit", DEMO_PASSWORD).await;
    let unit_id = app.unit_id("市城市管理局").await;
    let (status, html) = session.get_text(&format!("/units/{unit_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("民评官"), "{html}");
    assert!(html.contains(&format!("{} / 7", cg["rank"].as_u64().unwrap())));
}

async fn comments_wait_for_the_office_and_ratings_are_checked(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let cg = app.unit_id("市城市管理局").await;
    let jy = app.unit_id("市教育局").await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let body = |min_n: i64, units: Vec<String>| {
        json!({"name": "窗口服务百分制测评", "scale": "points100",
               "opens_on": today.yesterday().unwrap().to_string(),
               "closes_on": today.tomorrow().unwrap().to_string(),
               "min_n": min_n, "units": units})
    };
    // A minimum n below 1 and no units: both named, nothing stored.
    let r = call(Method::POST, "/rating-rounds", &office)
        .json(&body(0, vec![]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"min_n") && fields.contains(&"units"),
        "{e}"
    );
    assert_eq!(app.count("rating_round").await, 0);
    let round: Value = call(Method::POST, "/rating-rounds", &office)
        .json(&body(2, vec![cg.to_string(), jy.to_string()]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = round["id"].as_str().unwrap().to_string();
    let inspector = app.token("inspector", false).await;
    let rate = |v: Value, unit: uuid::Uuid, comment: &str| {
        call(
            Method::POST,
            &format!("/rating-rounds/{id}/ratings"),
            &inspector,
        )
        .json(&json!({"unit_id": unit, "value": v, "comment": comment, "channel": "interview"}))
    };
    // A draft takes nothing.
    let r = rate(json!(90), cg, "").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let opened: Value = call(Method::POST, &format!("/rating-rounds/{id}/state"), &office)
        .json(&json!({"state": "open", "version": round["version"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(opened["state"], "open");
    // Off the scale, or a level on a points scale: the value is named.
    for bad in [json!(101), json!(-1), json!("satisfied")] {
        let r = rate(bad.clone(), cg, "").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["errors"][0]["field"], "value", "{bad}: {e}");
    }
    // A unit the round does not rate.
    let other = app.unit_id("市民政局").await;
    let r = rate(json!(80), other, "").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("unit_rating").await, 0);
    for (v, c) in [(80, "路面清扫及时，点赞。"), (90, ""), (70, "")] {
        let r = rate(json!(v), cg, c).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let res: Value = call(
        Method::GET,
        &format!("/rating-rounds/{id}/results"),
        &office,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let line = unit(&res, "市城市管理局");
    assert_eq!(line["n"], 3);
    assert!((line["mean"].as_f64().unwrap() - 80.0).abs() < 1e-9);
    // t(0.975, 2) = 4.302653 × sd 10 / √3 = 24.84 either side.
    assert!((line["mean_high"].as_f64().unwrap() - 100.0).abs() < 1e-9);
    assert!(
        (line["mean_low"].as_f64().unwrap() - (80.0 - 24.8414)).abs() < 1e-3,
        "{line}"
    );
    assert_eq!(line["rank"], 1);
    assert!(unit(&res, "市教育局")["rank"].is_null());
    assert_eq!(res["comments"].as_array().unwrap().len(), 0);
    // The unit does not see the comment until the office approves it.
    let staff = app.token("unit", true).await;
    let theirs = || async {
        let v: Value = call(Method::GET, &format!("/rating-rounds/{id}/results"), &staff)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["comments"].as_array().unwrap().len()
    };
    assert_eq!(theirs().await, 0);
    let queue: Value = call(
        Method::GET,
        &format!("/rating-rounds/{id}/comments"),
        &office,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(queue.as_array().unwrap().len(), 1);
    let c = &queue[0];
    let moderate = |v: &Value, state: &str| {
        call(
            Method::POST,
            &format!("/rating-comments/{}/moderation", c["id"].as_str().unwrap()),
            &office,
        )
        .json(&json!({"state": state, "version": v}))
    };
    // A stale version is a conflict, not a silent overwrite.
    let r = moderate(&json!(7), "approved").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let done: Value = moderate(&c["version"], "approved")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["state"], "approved");
    assert_eq!(theirs().await, 1);
    // Interviewers cannot moderate.
    let r = call(
        Method::POST,
        &format!("/rating-comments/{}/moderation", c["id"].as_str().unwrap()),
        &inspector,
    )
    .json(&json!({"state": "rejected", "version": done["version"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Closed: nothing more is taken.
    call(Method::POST, &format!("/rating-rounds/{id}/state"), &office)
        .json(&json!({"state": "closed", "version": opened["version"]}))
        .send()
        .await
        .unwrap();
    let r = rate(json!(60), cg, "").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("unit_rating").await, 3);
}

async fn the_public_page_takes_one_rating_of_a_unit_a_phone_and_keeps_no_link_to_it(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let cg = app.unit_id("市城市管理局").await;
    let jy = app.unit_id("市教育局").await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let round: Value = call(Method::POST, "/rating-rounds", &office)
        .json(&json!({"name": "服务满意度", "scale": "three_level",
               "opens_on": today.yesterday().unwrap().to_string(),
               "closes_on": today.tomorrow().unwrap().to_string(),
               "min_n": 30, "units": [cg, jy]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = round["id"].as_str().unwrap();
    call(Method::POST, &format!("/rating-rounds/{id}/state"), &office)
        .json(&json!({"state": "open", "version": round["version"]}))
        .send()
        .await
        .unwrap();
    let path = format!("/r/{id}");
    let phone = app.anonymous();
    let page = phone.get(&format!("{path}?unit={cg}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("基本满意"), "{html}");
    assert!(html.contains(&format!("value=\"{cg}\" selected")));
    let token = hidden(&html, "csrf");
    let post =
        |form: Vec<(&'static str, String)>| phone.client.post(phone.url(&path)).form(&form).send();
    // No choice made: the value is named, nothing stored.
    let r = post(vec![("csrf", token.clone()), ("unit_id", cg.to_string())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("field question invalid"));
    assert_eq!(app.count("unit_rating").await, 0);
    let rating = |unit: uuid::Uuid| {
        vec![
            ("csrf", token.clone()),
            ("unit_id", unit.to_string()),
            ("value", "basic".to_string()),
            ("comment", "希望周末也能办理。".to_string()),
        ]
    };
    let r = post(rating(cg)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("感谢您的评价"));
    // The same phone, the same unit: refused politely; another unit: fine.
    let r = post(rating(cg)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("已评价过"));
    let r = post(rating(jy)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.count("unit_rating").await, 2);
    assert_eq!(app.count("rating_comment").await, 2);
    // Another site's page cannot rate for the phone.
    let other = app.anonymous();
    let r = other
        .client
        .post(other.url(&path))
        .form(&[
            ("csrf", "0".repeat(64)),
            ("unit_id", cg.to_string()),
            ("value", "satisfied".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Anonymity: ratings and comments name no person, device or moment,
    // and the device rows hold only a hash.
    let cols = |t: &'static str| {
        let store = app.store.clone();
        async move {
            let sql = if store.backend() == wenming_store::Backend::Sqlite {
                format!("SELECT name FROM pragma_table_info('{t}')")
            } else {
                format!(
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_name = '{t}' AND table_schema = current_schema()"
                )
            };
            let mut c: Vec<String> = sqlx::query_scalar(&sql)
                .fetch_all(store.reader())
                .await
                .unwrap();
            c.sort();
            c
        }
    };
    for t in ["unit_rating", "rating_comment"] {
        let c = cols(t).await;
        for bad in ["user", "token", "device", "ip", "created_at", "rating_id"] {
            assert!(!c.iter().any(|x| x.contains(bad)), "{bad} in {t}: {c:?}");
        }
    }
    assert_eq!(
        cols("rating_device").await,
        vec!["device_hash", "round_id", "unit_id"]
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT device_hash FROM rating_device")
        .fetch_all(app.store.reader())
        .await
        .unwrap();
    assert!(
        !stored.contains(&token),
        "the cookie itself is never stored"
    );
}
