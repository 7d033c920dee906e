//! Finding a case: by the number people quote, by words of what was
//! reported, with the total the filter finds, in the page and the API.

use crate::cases::{IN_FM, IN_LJ, catalogue, register_and_dispatch, report, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wenming_bench::generate::{GenSpec, generate};

on_both!(
    a_case_is_found_by_its_number_and_by_its_words,
    counts_go_past_the_first_five_hundred,
    filters_narrow_by_place_time_and_lateness,
);

async fn a_case_is_found_by_its_number_and_by_its_words(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let (inspector, office, unit) = (
        app.token("inspector2", false).await,
        app.token("office", false).await,
        app.token("unit", true).await,
    );
    let r = call(Method::POST, "/cases", &inspector)
        .json(
            &json!({"source": "inspection", "category_id": sub(&cats, "0101").id,
            "description": "井盖松动，行人绊倒", "address": "凤鸣路 88 号门口",
            "lon": IN_FM.0, "lat": IN_FM.1}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: serde_json::Value = r.json().await.unwrap();
    let number = made["number"].as_str().unwrap().to_string();
    let id = made["id"].as_str().unwrap().to_string();
    let found = |q: String| {
        let (call, office) = (&call, &office);
        async move {
            let r = call(Method::GET, &format!("/cases?q={}", urlencode(&q)), office)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    // By the number, by a word of the description, by part of the address.
    for q in [number.clone(), "井盖".to_string(), "凤鸣路 88".to_string()] {
        let page = found(q.clone()).await;
        let numbers: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, [number.as_str()], "searching {q}");
        assert_eq!(page["total"], 1, "searching {q}");
    }
    // Words nobody wrote find nothing; LIKE's wildcards are only letters.
    for q in ["路灯不亮", "%", "_"] {
        let page = found(q.to_string()).await;
        assert_eq!(page["total"], 0, "searching {q}");
    }
    // The page: the number in the address opens the case; the list says
    // how many it found.
    let s = app.as_role("office").await;
    let r = s.get(&format!("/cases/{number}")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/cases/{id}")
    );
    let (status, page) = s.get_text(&format!("/cases?q={}", urlencode("井盖"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&number) && page.contains("共 1 条"), "{page}");
    // Outside the caller's scope a number is as good as unknown.
    let u = app.as_role("unit").await;
    assert_eq!(
        u.get(&format!("/cases/{number}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        u.get("/cases/2099-999999").await.status(),
        StatusCode::NOT_FOUND
    );
    let page: serde_json::Value = call(Method::GET, &format!("/cases?q={number}"), &unit)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["total"], 0,
        "the unit does not see a case not sent to it"
    );
}

/// Inbox counts and the list's total are counted, not read a page of 500
/// at a time.
async fn counts_go_past_the_first_five_hundred(b: Backend) {
    let app = TestApp::spawn(b).await;
    generate(
        &app.store,
        &GenSpec {
            cases: 800,
            seed: 3,
            force: false,
            until: wenming_bench::generate::today(),
        },
        |_| {},
    )
    .await
    .unwrap();
    let all = app.count("case_record").await;
    assert!(all > 500, "{all} cases");
    let office = app.token("office", true).await;
    let call = bearer(&format!("http://{}", app.addr));
    let page: serde_json::Value = call(Method::GET, "/cases?limit=10", &office)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], all);
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    let s = app.as_role("office").await;
    let (_, html) = s.get_text("/cases").await;
    assert!(
        html.contains(&format!("共 {} 条", page_thousands(all))),
        "the list's total"
    );
    // Each inbox shows what the cases themselves count.
    for (inbox, state) in [("to_register", "reported"), ("to_dispatch", "registered")] {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_record WHERE state = $1")
            .bind(state)
            .fetch_one(app.store.reader())
            .await
            .unwrap();
        let link = format!("<a href=\"/cases?inbox={inbox}\"");
        let at = html
            .find(&link)
            .unwrap_or_else(|| panic!("the {inbox} inbox"));
        let shown = &html[at..];
        let shown = &shown[shown.find("<span class=\"n\">").unwrap() + 16..];
        let shown: i64 = shown[..shown.find('<').unwrap()].parse().unwrap();
        assert_eq!(shown, n, "{inbox}");
    }
}

async fn filters_narrow_by_place_time_and_lateness(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let kind = sub(&cats, "0101").id;
    let in_lj = report(&app, &app.token("inspector", false).await, kind, IN_LJ).await;
    let in_fm = report(&app, &app.token("inspector2", false).await, kind, IN_FM).await;
    let (lj, fm) = (
        in_lj["number"].as_str().unwrap().to_string(),
        in_fm["number"].as_str().unwrap().to_string(),
    );
    // The FM case is dispatched, and then its deadline passes (30 hours ago).
    register_and_dispatch(&app, &office, &in_fm, "市城市管理局", 24).await;
    let past = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(30);
    sqlx::query("UPDATE case_record SET deadline = $1 WHERE number = $2")
        .bind(past.as_microsecond())
        .bind(&fm)
        .execute(app.store.reader())
        .await
        .unwrap();
    let district: String = sqlx::query_scalar("SELECT id FROM region WHERE name = '凤鸣区'")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let call = bearer(&format!("http://{}", app.addr));
    let found = |query: String| {
        let (call, office) = (&call, &office);
        async move {
            let r = call(Method::GET, &format!("/cases?limit=500&{query}"), office)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{query}");
            let page: serde_json::Value = r.json().await.unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["number"].as_str().unwrap().to_string())
                .collect::<Vec<String>>()
        }
    };
    let both = |v: &[String]| (v.contains(&lj), v.contains(&fm));
    assert_eq!(
        both(&found(format!("region_id={district}")).await),
        (false, true)
    );
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let yesterday = today.yesterday().unwrap();
    assert_eq!(
        both(&found(format!("reported_from={today}")).await),
        (true, true)
    );
    assert_eq!(
        both(&found(format!("reported_until={today}")).await),
        (true, true)
    );
    assert_eq!(
        both(&found(format!("reported_until={yesterday}")).await),
        (false, false)
    );
    assert_eq!(both(&found("overdue=true".into()).await), (false, true));
    // A day that is no day is named.
    let r = call(Method::GET, "/cases?reported_from=2026-13-45", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "reported_from");
    // The page: the same filters, and how late each overdue case is.
    let s = app.as_role("office").await;
    let (_, page) = s.get_text(&format!("/cases?region={district}")).await;
    assert!(page.contains(&fm) && !page.contains(&lj));
    let (_, page) = s
        .get_text(&format!("/cases?from={today}&until={today}"))
        .await;
    assert!(page.contains(&fm) && page.contains(&lj));
    let (_, page) = s.get_text("/cases?overdue=1").await;
    assert!(page.contains(&fm) && !page.contains(&lj));
    assert!(
        page.contains("超期 2 天"),
        "30 hours late is two days begun"
    );
}

/// 1234 as the pages write it (1,234).
fn page_thousands(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
