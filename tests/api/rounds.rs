//! Inspection rounds: a sample drawn again from its seed is the same and
//! covers every district; inspectors are not sent where they work or to the
//! site they inspected last; a site's checklist is the framework's on-site
//! standards for its type; failures open cases for the sponsor unit; sending
//! findings again creates nothing twice; the report ranks the worst first.

use crate::cases::upload_photo;
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use uuid::Uuid;

on_both!(
    a_sample_is_reproducible_stratified_and_rotated,
    a_sites_checklist_is_the_frameworks_onsite_standards_for_its_type,
    findings_open_cases_for_the_sponsor_and_resubmission_changes_nothing,
    the_round_report_puts_the_worst_standards_first_and_compares_rounds,
    a_third_party_result_becomes_a_round_and_unmatched_rows_are_kept,
);

pub(crate) async fn call(
    app: &TestApp,
    token: &str,
    m: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = bearer(&format!("http://{}", app.addr))(m, path, token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn draw(app: &TestApp, office: &str, name: &str, seed: u64, size: i64) -> Value {
    let (s, r) = call(
        app,
        office,
        Method::POST,
        "/rounds",
        Some(json!({
            "name": name, "kind": "mock", "starts_on": "2026-11-02", "ends_on": "2026-11-06",
            "sample_size": size, "seed": seed
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    r
}

pub(crate) async fn sites_of(app: &TestApp, token: &str, round: &Value) -> Vec<Value> {
    let (s, v) = call(
        app,
        token,
        Method::GET,
        &format!("/rounds/{}/sites", round["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    v.as_array().unwrap().clone()
}

/// The district code a demo site's code starts with (LJ-RD-001 → LJ).
fn district(site: &Value) -> String {
    site["site_code"]
        .as_str()
        .unwrap()
        .split('-')
        .next()
        .unwrap()
        .to_string()
}

/// Where each demo inspector works.
fn home_of(inspector: &str) -> &'static str {
    match inspector {
        "刘晓东" => "LJ",
        "孙丽娜" => "FM",
        "周强" => "XQ",
        other => panic!("unexpected inspector {other}"),
    }
}

/// Records every checklist item of a round's site as passed, except the
/// first, which fails with a photo. Returns the findings sent.
pub(crate) async fn inspect(
    app: &TestApp,
    token: &str,
    round_id: &str,
    site: &Value,
    fail_first: bool,
) -> (StatusCode, Value, Vec<Value>) {
    let site_id = site["site_id"].as_str().unwrap();
    let (s, list) = call(
        app,
        token,
        Method::GET,
        &format!("/rounds/{round_id}/sites/{site_id}/checklist"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let mut findings = vec![];
    for (i, item) in list.as_array().unwrap().iter().enumerate() {
        let fail = fail_first && i == 0;
        let recorded = match item["observation"]["kind"].as_str().unwrap() {
            "at_least" => json!({"result": "count", "count": if fail { 0 } else { 99 }}),
            "percent" => {
                json!({"result": "share", "observed": if fail { 1 } else { 20 }, "of": 20})
            }
            _ => json!({"result": if fail { "fail" } else { "pass" }}),
        };
        let mut photos = vec![];
        if fail {
            let bytes = wenming_store::photo::synthetic_jpeg(7, Some(jiff::Timestamp::now()), None);
            let r = upload_photo(app, token, bytes).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            let p: Value = r.json().await.unwrap();
            photos.push(p["id"].clone());
        }
        findings.push(json!({
            "id": Uuid::new_v4(), "standard_id": item["standard_id"], "recorded": recorded,
            "note": if fail { "宣传栏破损" } else { "" }, "photo_ids": photos,
            "observed_at": jiff::Timestamp::now().to_string(),
        }));
    }
    let (s, v) = call(
        app,
        token,
        Method::POST,
        &format!("/rounds/{round_id}/sites/{site_id}/findings"),
        Some(json!({ "findings": findings })),
    )
    .await;
    (s, v, findings)
}

async fn token_of(app: &TestApp, name: &str) -> String {
    let user = match home_of(name) {
        "LJ" => "inspector",
        "FM" => "inspector2",
        _ => "inspector3",
    };
    app.token(user, false).await
}

async fn a_sample_is_reproducible_stratified_and_rotated(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let a = draw(&app, &office, "A", 42, 30).await;
    let again = draw(&app, &office, "A again", 42, 30).await;
    let other = draw(&app, &office, "B", 43, 30).await;
    let ids = |v: &[Value]| {
        v.iter()
            .map(|s| s["site_id"].as_str().unwrap().to_string())
            .collect::<BTreeSet<_>>()
    };
    let (sa, sagain, sother) = (
        sites_of(&app, &office, &a).await,
        sites_of(&app, &office, &again).await,
        sites_of(&app, &office, &other).await,
    );
    assert_eq!(sa.len(), 30);
    assert_eq!(ids(&sa), ids(&sagain), "the same seed draws the same sites");
    assert_ne!(ids(&sa), ids(&sother), "another seed draws others");
    assert_eq!(a["seed"], 42);
    // Stratified: every district and many site types are in the sample.
    let districts: BTreeSet<String> = sa.iter().map(district).collect();
    assert_eq!(districts.len(), 3, "{districts:?}");
    let types: BTreeSet<&str> = sa
        .iter()
        .map(|s| s["type_name"].as_str().unwrap())
        .collect();
    assert!(types.len() >= 10, "{} types", types.len());
    // Rotation: nobody is sent to the district they work in.
    for s in &sa {
        let name = s["inspector_name"].as_str().expect("an inspector is sent");
        assert_ne!(home_of(name), district(s), "{s}");
    }
    // Not twice in a row: a site inspected in A gets someone else next time.
    let first = &sa[0];
    let inspector = token_of(&app, first["inspector_name"].as_str().unwrap()).await;
    let (s, v, _) = inspect(&app, &inspector, a["id"].as_str().unwrap(), first, false).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let next = draw(&app, &office, "C", 42, 30).await;
    let sn = sites_of(&app, &office, &next).await;
    let same = sn
        .iter()
        .find(|s| s["site_id"] == first["site_id"])
        .expect("same seed, same site");
    assert_ne!(same["inspector_id"], first["inspector_id"]);
    // With the rule off and only that inspector, they may go again.
    let (s, r) = call(&app, &office, Method::POST, "/rounds", Some(json!({
        "name": "D", "kind": "patrol", "starts_on": "2026-11-09", "ends_on": "2026-11-09", "sample_size": 30, "seed": 42,
        "not_twice_in_a_row": false, "not_where_they_work": false, "inspector_ids": [first["inspector_id"]]
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let sd = sites_of(&app, &office, &r).await;
    assert!(
        sd.iter()
            .all(|s| s["inspector_id"] == first["inspector_id"])
    );
    // Leaving out sites inspected in the last week drops the one just done.
    let (s, r) = call(&app, &office, Method::POST, "/rounds", Some(json!({
        "name": "E", "kind": "patrol", "starts_on": "2026-11-09", "ends_on": "2026-11-09", "sample_size": 200, "seed": 1, "skip_days": 7
    }))).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    assert!(!ids(&sites_of(&app, &office, &r).await).contains(first["site_id"].as_str().unwrap()));
    // Bad input names its fields; nothing is drawn.
    let before = app.count("inspection_round").await;
    let (s, e) = call(&app, &office, Method::POST, "/rounds", Some(json!({
        "name": "", "kind": "audit", "starts_on": "2026-11-09", "ends_on": "2026-11-01", "sample_size": 0
    }))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let text = e.to_string();
    for f in ["name", "kind", "ends_on", "sample_size"] {
        assert!(text.contains(f), "{f} in {text}");
    }
    assert_eq!(app.count("inspection_round").await, before);
    // Inspectors and units cannot draw rounds.
    let unit = app.token("unit", false).await;
    let (s, _) = call(&app, &inspector, Method::POST, "/rounds", Some(json!({"name":"x","kind":"mock","starts_on":"2026-11-02","ends_on":"2026-11-02","sample_size":3}))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&app, &unit, Method::GET, "/rounds", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn a_sites_checklist_is_the_frameworks_onsite_standards_for_its_type(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let round = draw(&app, &office, "A", 7, 60).await;
    let (_, frameworks) = call(&app, &office, Method::GET, "/frameworks", None).await;
    let active = frameworks
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "active")
        .unwrap()
        .clone();
    let (_, nodes) = call(
        &app,
        &office,
        Method::GET,
        &format!("/frameworks/{}/nodes", active["id"].as_str().unwrap()),
        None,
    )
    .await;
    let nodes = nodes.as_array().unwrap();
    let mut checked_types = 0;
    for site in sites_of(&app, &office, &round).await.iter().take(12) {
        let site_id = site["site_id"].as_str().unwrap();
        let (_, list) = call(
            &app,
            &office,
            Method::GET,
            &format!(
                "/rounds/{}/sites/{site_id}/checklist",
                round["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        let got: BTreeSet<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap().to_string())
            .collect();
        let ty = site["type_name"].as_str().unwrap();
        let want: BTreeSet<String> = nodes
            .iter()
            .filter(|n| n["kind"] == "standard")
            .filter(|n| {
                n["methods"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m == "site_inspection")
                    && n["site_types"].as_array().unwrap().iter().any(|t| t == ty)
            })
            .map(|n| n["code"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{ty}");
        if !want.is_empty() {
            checked_types += 1;
        }
    }
    assert!(checked_types >= 3, "several sites had checklists");
    // A standard with a count rule says so (公益广告 ≥ 5 on main roads).
    let any_rule = nodes.iter().any(|n| n["observation"]["kind"] == "at_least");
    assert!(any_rule, "the demo framework carries a count rule");
}

/// The demo city with its case categories, which failures are filed under.
pub(crate) async fn city(b: Backend) -> TestApp {
    let app = TestApp::demo(b).await;
    wenming_store::demo::load_catalogue(&app.store)
        .await
        .unwrap();
    app
}

async fn findings_open_cases_for_the_sponsor_and_resubmission_changes_nothing(b: Backend) {
    let app = city(b).await;
    let office = app.token("office", false).await;
    let round = draw(&app, &office, "A", 11, 30).await;
    let round_id = round["id"].as_str().unwrap();
    let sites = sites_of(&app, &office, &round).await;
    // A site with a checklist, and the inspector sent there.
    let mut chosen = None;
    for s in &sites {
        let (_, list) = call(
            &app,
            &office,
            Method::GET,
            &format!(
                "/rounds/{round_id}/sites/{}/checklist",
                s["site_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
        if list.as_array().unwrap().len() >= 2 {
            chosen = Some(s.clone());
            break;
        }
    }
    let site = chosen.expect("a sampled site has a checklist");
    let name = site["inspector_name"].as_str().unwrap();
    let inspector = token_of(&app, name).await;
    // The assignment is in the inspector's list, with its checklist.
    let (s, mine) = call(&app, &inspector, Method::GET, "/assignments", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|a| a["site"]["site_id"] == site["site_id"]
                && !a["checklist"].as_array().unwrap().is_empty())
    );
    // Another inspector may not record there.
    let other_name = ["刘晓东", "孙丽娜", "周强"]
        .into_iter()
        .find(|n| *n != name)
        .unwrap();
    let other = token_of(&app, other_name).await;
    let (s, _, _) = inspect(&app, &other, round_id, &site, false).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let cases_before = app.count("case_record").await;
    // A failure without a photo is refused, naming the finding; nothing kept.
    let site_id = site["site_id"].as_str().unwrap();
    let (_, list) = call(
        &app,
        &inspector,
        Method::GET,
        &format!("/rounds/{round_id}/sites/{site_id}/checklist"),
        None,
    )
    .await;
    let first = &list[0];
    let (s, e) = call(&app, &inspector, Method::POST, &format!("/rounds/{round_id}/sites/{site_id}/findings"), Some(json!({"findings": [
        {"id": Uuid::new_v4(), "standard_id": first["standard_id"], "recorded": {"result": "pass"}, "observed_at": jiff::Timestamp::now().to_string()},
        {"id": Uuid::new_v4(), "standard_id": list[1]["standard_id"], "recorded": if list[1]["observation"]["kind"] == "pass_fail" { json!({"result": "fail"}) } else { json!({"result": "count", "count": 0}) }, "observed_at": jiff::Timestamp::now().to_string()},
        {"id": Uuid::new_v4(), "standard_id": Uuid::new_v4(), "recorded": {"result": "pass"}, "observed_at": jiff::Timestamp::now().to_string()}
    ]}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("findings[2].standard_id") && text.contains("not_on_checklist"),
        "{text}"
    );
    assert!(app.count("finding").await == 0);

    let (s, done, sent) = inspect(&app, &inspector, round_id, &site, true).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let n = sent.len() as u64;
    assert_eq!(done["created"], n);
    assert_eq!(done["cases_opened"], 1);
    assert_eq!(app.count("case_record").await, cases_before + 1);
    let failed = done["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["outcome"] == "fail")
        .unwrap()
        .clone();
    let case_id = failed["case_id"]
        .as_str()
        .expect("the failure opened a case");
    let (_, case) = call(
        &app,
        &office,
        Method::GET,
        &format!("/cases/{case_id}"),
        None,
    )
    .await;
    assert_eq!(case["source"], "inspection");
    assert!(case["description"].as_str().unwrap().contains("宣传栏破损"));
    // Routed to the site's sponsor unit, with the inspector's photo as "before".
    let (_, full_site) = call(
        &app,
        &office,
        Method::GET,
        &format!("/sites/{site_id}"),
        None,
    )
    .await;
    assert_eq!(
        case["suggested_unit_id"], full_site["sponsor_unit_id"],
        "{case}"
    );
    let (_, photos) = call(
        &app,
        &office,
        Method::GET,
        &format!("/cases/{case_id}/photos"),
        None,
    )
    .await;
    assert_eq!(photos.as_array().unwrap().len(), 1);
    assert_eq!(photos[0]["role"], "before");

    // The phone sends the same findings again (a retry after a lost reply).
    let (s, again) = call(
        &app,
        &inspector,
        Method::POST,
        &format!("/rounds/{round_id}/sites/{site_id}/findings"),
        Some(json!({"findings": sent})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["created"], 0);
    assert_eq!(again["cases_opened"], 0);
    assert_eq!(again["findings"].as_array().unwrap().len(), sent.len());
    assert_eq!(app.count("case_record").await, cases_before + 1);
    assert_eq!(app.count("finding").await as u64, n);
    // Recording a standard again under a new id is a clear conflict.
    let mut dup = sent[1].clone();
    dup["id"] = json!(Uuid::new_v4());
    let (s, e) = call(
        &app,
        &inspector,
        Method::POST,
        &format!("/rounds/{round_id}/sites/{site_id}/findings"),
        Some(json!({"findings": [dup]})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("already_recorded"), "{e}");
    // The site shows as inspected with its score.
    let (_, rs) = call(
        &app,
        &office,
        Method::GET,
        &format!("/rounds/{round_id}/sites"),
        None,
    )
    .await;
    let mine = rs
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site_id"] == site["site_id"])
        .unwrap();
    assert!(mine["inspected_at"].is_string());
    assert_eq!(mine["score"]["observed"], n);
    assert_eq!(mine["score"]["passed"], n - 1);
    // A closed round takes no more findings.
    let (_, r) = call(
        &app,
        &office,
        Method::GET,
        &format!("/rounds/{round_id}"),
        None,
    )
    .await;
    let (s, _) = call(
        &app,
        &office,
        Method::POST,
        &format!("/rounds/{round_id}/close"),
        Some(json!({"version": r["version"]})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let other_site = sites
        .iter()
        .find(|s| s["inspector_name"] == site["inspector_name"] && s["site_id"] != site["site_id"]);
    if let Some(o) = other_site {
        let (s, e, _) = inspect(&app, &inspector, round_id, o, false).await;
        if s != StatusCode::OK {
            assert!(
                e.to_string().contains("round_closed") || e.to_string().contains("findings"),
                "{e}"
            );
        }
        assert_ne!(s, StatusCode::OK, "a closed round took findings");
    }
}

async fn the_round_report_puts_the_worst_standards_first_and_compares_rounds(b: Backend) {
    let app = city(b).await;
    let office = app.token("office", false).await;
    let first = draw(&app, &office, "September", 5, 12).await;
    let second = draw(&app, &office, "October", 6, 12).await;
    for (round, fail) in [(&first, true), (&second, false)] {
        let round_id = round["id"].as_str().unwrap();
        for s in sites_of(&app, &office, round).await.iter().take(4) {
            let t = token_of(&app, s["inspector_name"].as_str().unwrap()).await;
            let (st, v, _) = inspect(&app, &t, round_id, s, fail).await;
            assert!(st == StatusCode::OK, "{v}");
        }
    }
    let (s, report) = call(
        &app,
        &office,
        Method::GET,
        &format!("/rounds/{}/report", second["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(
        report["previous_round"]["id"], first["id"],
        "compared with the round before"
    );
    let (_, old) = call(
        &app,
        &office,
        Method::GET,
        &format!("/rounds/{}/report", first["id"].as_str().unwrap()),
        None,
    )
    .await;
    let lines = old["standards"].as_array().unwrap();
    assert!(!lines.is_empty());
    let rates: Vec<f64> = lines
        .iter()
        .map(|l| l["score"]["rate"].as_f64().unwrap())
        .collect();
    assert!(
        rates.windows(2).all(|w| w[0] <= w[1]),
        "worst first: {rates:?}"
    );
    assert!(rates[0] < 1.0, "the failures show");
    assert!(!old["problems"].as_array().unwrap().is_empty());
    let overall = old["round"]["score"]["rate"].as_f64().unwrap();
    let better = report["round"]["score"]["rate"].as_f64().unwrap();
    assert!(better > overall, "{better} > {overall}");
}

/// A result sheet as evaluators send them: a title row, then the header.
fn result_sheet(rows: &[[&str; 5]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "第三方测评结果").unwrap();
    for (c, h) in ["点位", "测评标准", "结果", "备注", "照片"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(2 + r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn photo_zip(names: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        for (i, n) in names.iter().enumerate() {
            z.start_file(*n, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(&wenming_store::photo::synthetic_jpeg(
                100 + i as u64,
                None,
                None,
            ))
            .unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

async fn a_third_party_result_becomes_a_round_and_unmatched_rows_are_kept(b: Backend) {
    let app = city(b).await;
    let office = app.token("office", false).await;
    // A market (by code, and by its name) and a back lane of the demo city.
    let (_, sites) = call(&app, &office, Method::GET, "/sites", None).await;
    let sites = sites.as_array().unwrap();
    let unique = |s: &&Value| sites.iter().filter(|o| o["name"] == s["name"]).count() == 1;
    let market = sites
        .iter()
        .filter(unique)
        .find(|s| s["type_name"] == "农贸市场")
        .expect("a market of its own name");
    let lane = sites.iter().find(|s| s["type_name"] == "背街小巷").unwrap();
    let market_code = market["code"].as_str().unwrap();
    let market_name = market["name"].as_str().unwrap();
    let lane_code = lane["code"].as_str().unwrap();
    let sheet = result_sheet(&[
        [market_code, "3.2.1", "合格", "", ""],
        [
            market_name,
            "农贸市场设有公平秤，计量器具检定合格",
            "不合格",
            "公平秤缺失",
            "m1.jpg",
        ],
        [lane_code, "无占道经营", "不合格", "", "lane.jpg"],
        ["不存在的点位", "3.2.1", "合格", "", ""],
        [market_code, "市民文明素质明显提升", "合格", "", ""],
        [market_code, "3.2.3", "待定", "", ""],
        [market_code, "3.2.1", "合格", "又一次", ""],
    ]);
    let zip = photo_zip(&["photos/m1.jpg", "lane.jpg"]);
    let cases_before = app.count("case_record").await;
    let form = reqwest::multipart::Form::new()
        .text("name", "三季度第三方测评")
        .text("starts_on", "2026-09-20")
        .text("ends_on", "2026-09-22")
        .part(
            "file",
            reqwest::multipart::Part::bytes(sheet).file_name("结果.xlsx"),
        )
        .part(
            "photos",
            reqwest::multipart::Part::bytes(zip).file_name("照片.zip"),
        );
    let r = TestApp::client()
        .post(app.url("/api/v1/rounds/import"))
        .bearer_auth(&office)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["round"]["kind"], "third_party");
    assert_eq!(v["findings"], 3, "{v}");
    assert_eq!(v["cases_opened"], 2);
    assert_eq!(app.count("case_record").await, cases_before + 2);
    // Every row is accounted for: the unmatched ones say why, by sheet row.
    let reasons: Vec<(u64, &str)> = v["unmatched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["row"].as_u64().unwrap(), u["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (6, "site"),
            (7, "standard"),
            (8, "result"),
            (9, "duplicate")
        ]
    );
    let round_id = v["round"]["id"].as_str().unwrap();
    let (_, kept) = call(
        &app,
        &office,
        Method::GET,
        &format!("/rounds/{round_id}/unmatched"),
        None,
    )
    .await;
    assert_eq!(kept.as_array().unwrap().len(), 4);
    // The failure at the market has its photo and a third-party case.
    let (_, f) = call(
        &app,
        &office,
        Method::GET,
        &format!(
            "/rounds/{round_id}/sites/{}/findings",
            market["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let failed = f
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["outcome"] == "fail")
        .unwrap();
    assert_eq!(failed["photo_ids"].as_array().unwrap().len(), 1);
    let (_, case) = call(
        &app,
        &office,
        Method::GET,
        &format!("/cases/{}", failed["case_id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(case["source"], "third_party");
    // Mapped by hand: the unknown description is the market's 3.2.3.
    let (_, nodes) = call(
        &app,
        &office,
        Method::GET,
        &format!(
            "/frameworks/{}/nodes",
            v["round"]["framework_id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let node = |code: &str| {
        nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["code"] == code)
            .unwrap()["id"]
            .clone()
    };
    let row7 = kept
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["row"] == 7)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let map = |row: String, standard: Value| {
        let (app, office, round_id) = (&app, &office, round_id.to_string());
        let market_id = market["id"].clone();
        async move {
            call(
                app,
                office,
                Method::POST,
                &format!("/rounds/{round_id}/unmatched/{row}/map"),
                Some(json!({"site_id": market_id, "standard_id": standard})),
            )
            .await
        }
    };
    let (s, f) = map(row7.clone(), node("3.2.3")).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["outcome"], "pass");
    assert_eq!(f["standard_code"], "3.2.3");
    let (_, kept) = call(
        &app,
        &office,
        Method::GET,
        &format!("/rounds/{round_id}/unmatched"),
        None,
    )
    .await;
    assert_eq!(
        kept.as_array().unwrap().len(),
        3,
        "the mapped row leaves the list"
    );
    let (s, _) = map(row7, node("3.2.3")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a row is mapped once");
    let row9 = kept
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["row"] == 9)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, e) = map(row9, node("3.2.1")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("already_recorded"), "{e}");

    // A sheet naming a photo the zip lacks keeps that row too; a sheet with
    // no usable header is refused whole, naming what is missing.
    let bad = result_sheet(&[[market_code, "3.2.1", "不合格", "", "missing.jpg"]]);
    let r = TestApp::client()
        .post(app.url("/api/v1/rounds/import"))
        .bearer_auth(&office)
        .multipart(
            reqwest::multipart::Form::new()
                .text("name", "x")
                .text("starts_on", "2026-09-20")
                .text("ends_on", "2026-09-20")
                .part("file", reqwest::multipart::Part::bytes(bad)),
        )
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["unmatched"][0]["reason"], "photo", "{v}");
    let rounds_before = app.count("inspection_round").await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet().write_string(0, 0, "名称").unwrap();
    let r = TestApp::client()
        .post(app.url("/api/v1/rounds/import"))
        .bearer_auth(&office)
        .multipart(
            reqwest::multipart::Form::new()
                .text("name", "x")
                .text("starts_on", "2026-09-20")
                .text("ends_on", "2026-09-20")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(wb.save_to_buffer().unwrap()),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("missing_columns"));
    assert_eq!(
        app.count("inspection_round").await,
        rounds_before,
        "nothing half-saved"
    );
}
