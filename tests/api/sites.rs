//! The site register: the demo city's types and sites, who sees which,
//! entering and changing a site with clear errors and no lost edits.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_demo_city_has_site_types_and_sponsored_sites,
    sites_are_entered_checked_and_changed_without_losing_edits,
);

async fn get_json(app: &TestApp, token: &str, path: &str) -> Value {
    let r = bearer(&format!("http://{}", app.addr))(Method::GET, path, token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn the_demo_city_has_site_types_and_sponsored_sites(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let types = get_json(&app, &office, "/site-types").await;
    let types = types.as_array().unwrap();
    assert_eq!(types.len(), 30);
    // The framework's site types are among them, by name.
    for name in [
        "主次干道",
        "农贸市场",
        "背街小巷",
        "公交站点",
        "政务服务窗口",
    ] {
        assert!(types.iter().any(|t| t["name"] == name), "{name}");
    }
    let sites = get_json(&app, &office, "/sites").await;
    let sites = sites.as_array().unwrap();
    assert!(sites.len() >= 60, "{}", sites.len());
    assert!(
        sites
            .iter()
            .all(|s| s["sponsor_unit_id"].is_string() && s["chief_phone"].is_string())
    );
    // Every district has markets, and a filter by type returns only that type.
    let market = types.iter().find(|t| t["name"] == "农贸市场").unwrap();
    let markets = get_json(
        &app,
        &office,
        &format!("/sites?type_id={}", market["id"].as_str().unwrap()),
    )
    .await;
    let markets = markets.as_array().unwrap();
    assert!(markets.iter().all(|s| s["type_name"] == "农贸市场"));
    for d in ["LJ-", "FM-", "XQ-"] {
        assert!(
            markets
                .iter()
                .any(|s| s["code"].as_str().unwrap().starts_with(d)),
            "{d}"
        );
    }
    // The inspector of 临江区 sees its sites only; unit staff see the sites
    // their unit sponsors.
    let inspector = app.token("inspector", false).await;
    let theirs = get_json(&app, &inspector, "/sites").await;
    let theirs = theirs.as_array().unwrap();
    assert!(!theirs.is_empty());
    assert!(
        theirs
            .iter()
            .all(|s| s["code"].as_str().unwrap().starts_with("LJ-"))
    );
    let unit = app.token("unit", false).await;
    let city_unit = app.unit_id("市城市管理局").await.to_string();
    let sponsored = get_json(&app, &unit, "/sites").await;
    let sponsored = sponsored.as_array().unwrap();
    assert!(
        sponsored
            .iter()
            .all(|s| s["sponsor_unit_id"] == city_unit.as_str())
    );
    let expected = sites
        .iter()
        .filter(|s| s["sponsor_unit_id"] == city_unit.as_str())
        .count();
    assert_eq!(sponsored.len(), expected);
}

async fn sites_are_entered_checked_and_changed_without_losing_edits(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let types = get_json(&app, &office, "/site-types").await;
    let lane = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "背街小巷")
        .unwrap()["id"]
        .clone();
    let region = app.region_id("LJ01").await;
    let body = |code: &str, phone: &str| {
        json!({"code": code, "type_id": lane, "name": "柳岸巷", "region_id": region,
               "chief_name": "周敏", "chief_phone": phone, "lon": 118.62, "lat": 31.22})
    };
    // Bad input: which field and why, and nothing saved.
    let r = call(Method::POST, "/sites", &office)
        .json(&body("LJ BL 9", "123"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"code") && fields.contains(&"chief_phone"),
        "{e}"
    );
    let before = app.count("site").await;
    // A code already in use is named.
    let r = call(Method::POST, "/sites", &office)
        .json(&body("LJ-RD-001", "13957000009"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "code", "{e}");
    assert_eq!(app.count("site").await, before);
    // The inspector may not add sites.
    let inspector = app.token("inspector", false).await;
    let r = call(Method::POST, "/sites", &inspector)
        .json(&body("LJ-BL-901", "13957000009"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = call(Method::POST, "/sites", &office)
        .json(&body("lj-bl-901", "139 5700 0009"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let site: Value = r.json().await.unwrap();
    assert_eq!(site["code"], "LJ-BL-901");
    assert_eq!(site["chief_phone"], "13957000009");
    // Two people edit the version they read: the second is told, not lost.
    let id = site["id"].as_str().unwrap();
    let mut first = body("LJ-BL-901", "13957000009");
    first["name"] = json!("柳岸巷（东段）");
    first["version"] = site["version"].clone();
    let r = call(Method::PUT, &format!("/sites/{id}"), &office)
        .json(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut second = body("LJ-BL-901", "13957000010");
    second["version"] = site["version"].clone();
    let r = call(Method::PUT, &format!("/sites/{id}"), &office)
        .json(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let now = get_json(&app, &office, &format!("/sites/{id}")).await;
    assert_eq!(now["name"], "柳岸巷（东段）");
    assert_eq!(now["chief_phone"], "13957000009");
    // Through the page too: the form shows the site and saves it.
    let s = app.as_role("office").await;
    let (status, page) = s.get_text(&format!("/sites/{id}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("柳岸巷（东段）"));
    let (status, list) = s.get_text("/sites").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("LJ-BL-901"));
}
