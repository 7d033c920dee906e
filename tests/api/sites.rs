//! The site register: the demo city's types and sites, who sees which,
//! entering and changing a site with clear errors and no lost edits.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    the_demo_city_has_site_types_and_sponsored_sites,
    sites_are_entered_checked_and_changed_without_losing_edits,
    the_register_goes_out_and_back_in_as_a_workbook_all_rows_or_none,
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

fn sheet(rows: &[[&str; 12]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in [
        "编号",
        "名称",
        "点位类型",
        "所在区域",
        "包保单位",
        "点位长",
        "点位长电话",
        "地址",
        "经度",
        "纬度",
        "线或面",
        "在册",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(1 + r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> (StatusCode, String) {
    let r = TestApp::client()
        .post(app.url("/api/v1/sites/import"))
        .bearer_auth(token)
        .multipart(
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes)),
        )
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn the_register_goes_out_and_back_in_as_a_workbook_all_rows_or_none(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let before = app.count("site").await;
    // Out and straight back in: nothing added, nothing changed.
    let r = bearer(&format!("http://{}", app.addr))(Method::GET, "/sites/export", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let exported = r.bytes().await.unwrap().to_vec();
    let (s, body) = upload(&app, &office, exported).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["added"].as_i64().unwrap(), v["changed"].as_i64().unwrap()),
        (0, 0)
    );
    assert_eq!(app.count("site").await, before);
    // Lines keep their shape through the round trip.
    let lanes = get_json(&app, &office, "/sites").await;
    assert!(
        lanes
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["shape"]["type"] == "LineString")
    );

    // Bad rows: each named by row and column; nothing saved.
    let bad = sheet(&[
        [
            "LJ-NEW-1",
            "新建点位一",
            "农贸市场",
            "LJ",
            "市城市管理局",
            "",
            "",
            "",
            "118.6",
            "31.2",
            "",
            "是",
        ],
        [
            "LJ-NEW-2",
            "新建点位二",
            "游乐场",
            "LJ",
            "",
            "",
            "",
            "",
            "118.6",
            "31.2",
            "",
            "是",
        ],
        [
            "LJ-NEW-3",
            "新建点位三",
            "农贸市场",
            "LJ",
            "",
            "",
            "",
            "",
            "999",
            "31.2",
            "",
            "是",
        ],
        [
            "LJ-NEW-1",
            "重复编号",
            "农贸市场",
            "LJ",
            "",
            "",
            "",
            "",
            "118.6",
            "31.2",
            "",
            "是",
        ],
        [
            "LJ-NEW-5",
            "线",
            "背街小巷",
            "LJ",
            "",
            "",
            "",
            "",
            "118.6",
            "31.2",
            "{\"type\":\"Point\"}",
            "是",
        ],
    ]);
    let (s, body) = upload(&app, &office, bad).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for want in ["3", "4", "5", "6"] {
        assert!(
            body.contains(&format!("第 {want} 行")),
            "row {want} in {body}"
        );
    }
    assert!(
        body.contains("点位类型") && body.contains("经度") && body.contains("线或面"),
        "{body}"
    );
    assert_eq!(app.count("site").await, before, "nothing saved");

    // Good rows: one added, one changed.
    let sites = get_json(&app, &office, "/sites").await;
    let first = &sites.as_array().unwrap()[0];
    let code = first["code"].as_str().unwrap();
    let region = get_json(
        &app,
        &office,
        &format!("/regions/{}", first["region_id"].as_str().unwrap()),
    )
    .await;
    let region_code = region["code"].as_str().unwrap();
    let good = sheet(&[
        [
            "LJ-NEW-1",
            "新建点位一",
            "农贸市场",
            region_code,
            "市城市管理局",
            "李明",
            "13900001111",
            "",
            "118.6",
            "31.2",
            "",
            "是",
        ],
        [
            code,
            "改过的名称",
            first["type_name"].as_str().unwrap(),
            region_code,
            "",
            "",
            "",
            "",
            "118.61",
            "31.21",
            "",
            "否",
        ],
    ]);
    let (s, body) = upload(&app, &office, good).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(app.count("site").await, before + 1);
    let changed = get_json(
        &app,
        &office,
        &format!("/sites/{}", first["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(changed["name"], "改过的名称");
    assert_eq!(changed["active"], false);
    // Unit staff may not import.
    let unit = app.token("unit", false).await;
    let (s, _) = upload(&app, &unit, sheet(&[])).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
