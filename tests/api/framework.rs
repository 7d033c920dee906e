use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use wenming_domain::framework::{FrameworkDoc, Points};

on_both!(
    export_import_export_is_lossless,
    an_official_table_imports_through_the_api,
    bad_frameworks_are_refused_whole,
    unknown_units_stop_the_import_unless_created,
    clone_edit_and_compare_versions,
    only_a_city_wide_office_changes_frameworks,
    the_import_preview_shows_before_it_saves,
);

async fn active(app: &TestApp) -> wenming_store::framework::FrameworkSummary {
    wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .expect("the demo has an active framework")
}

async fn export_import_export_is_lossless(b: Backend) {
    let app = TestApp::demo(b).await;
    let f = active(&app).await;
    let s = app.as_role("office").await;
    let xlsx = s
        .get(&format!("/frameworks/{}/export.xlsx", f.id))
        .await
        .bytes()
        .await
        .unwrap();
    let limits = wenming_reports::workbook::Limits::default();
    let mut doc = wenming_reports::framework_xlsx::read(&xlsx, "", 2000, &limits).unwrap();
    let stored = wenming_store::framework::export(&app.store, f.id)
        .await
        .unwrap();
    assert_eq!(
        doc, stored,
        "the XLSX carries everything the framework holds"
    );
    // Its 材料要求 among it: every requirement of every standard.
    let listed: usize = wenming_domain::framework::standards(&doc)
        .iter()
        .map(|(_, n)| n.standard.as_ref().map_or(0, |s| s.requirements.len()))
        .sum();
    assert_eq!(listed as i64, app.count("evidence_requirement").await);
    assert!(listed > 0);
    // Import it as another version, export that, and read it again.
    doc.name = "青岚市测评体系（副本）".into();
    let ctx = wenming_store::Ctx::system("test");
    let (id, plan) =
        wenming_store::framework::import(&app.store, &ctx, &app.system().await, &doc, false)
            .await
            .unwrap();
    assert_eq!(
        (plan.standards, plan.basic, plan.featured),
        (demo_standards(), Points(10_000), Points(2_000))
    );
    // The copy's requirements come from the document (no defaults needed).
    assert_eq!(
        app.count("evidence_requirement").await,
        2 * listed as i64,
        "the import stores the document's 材料要求"
    );
    let again = wenming_store::framework::export(&app.store, id)
        .await
        .unwrap();
    let again_xlsx = wenming_reports::framework_xlsx::write(&again).unwrap();
    let reread = wenming_reports::framework_xlsx::read(&again_xlsx, "", 2000, &limits).unwrap();
    let mut expected = doc.clone();
    expected.status = wenming_domain::framework::FrameworkStatus::Draft;
    assert_eq!(reread, expected);
    // The JSON form round-trips as well.
    let json = s
        .get(&format!("/frameworks/{id}/export.json"))
        .await
        .text()
        .await
        .unwrap();
    let from_json: FrameworkDoc = serde_json::from_str(&json).unwrap();
    assert_eq!(from_json, expected);
}

fn official_sample() -> Vec<u8> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 6, "2027年全国文明城市测评体系（样表）", &f)
        .unwrap();
    for (i, h) in [
        "测评项目",
        "指标名称",
        "测评内容",
        "测评标准",
        "测评方法",
        "分值",
        "责任单位",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, i as u16, *h).unwrap();
    }
    ws.merge_range(2, 0, 6, 0, "安居乐业的生活环境", &f)
        .unwrap();
    ws.merge_range(2, 1, 4, 1, "城市管理", &f).unwrap();
    ws.merge_range(5, 1, 6, 1, "交通秩序", &f).unwrap();
    ws.merge_range(2, 2, 3, 2, "市容", &f).unwrap();
    ws.write_string(4, 2, "亮化").unwrap();
    let rows = [
        ("无乱张贴", "实地考察、整体观察", 2.0, "市城市管理局"),
        (
            "门前三包落实",
            "实地考察",
            1.5,
            "市城市管理局、市市场监督管理局",
        ),
        (
            "背街小巷亮灯率不低于95%",
            "实地考察",
            1.5,
            "国网青岚供电公司",
        ),
        ("行人走斑马线", "实地考察", 1.0, "市公安局交通警察支队"),
        (
            "群众对交通秩序满意",
            "问卷调查",
            1.0,
            "市公安局交通警察支队",
        ),
    ];
    for (i, (s, m, p, u)) in rows.iter().enumerate() {
        let r = 2 + i as u32;
        ws.write_string(r, 3, *s).unwrap();
        ws.write_string(r, 4, *m).unwrap();
        ws.write_number(r, 5, *p).unwrap();
        ws.write_string(r, 6, *u).unwrap();
    }
    ws.write_string(5, 2, "文明出行").unwrap();
    ws.write_string(6, 2, "文明出行").unwrap();
    wb.save_to_buffer().unwrap()
}

async fn an_official_table_imports_through_the_api(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let r = call(
        Method::POST,
        "/frameworks/import?dry_run=true&year=2027",
        &token,
    )
    .body(official_sample())
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let dry: serde_json::Value = r.json().await.unwrap();
    assert_eq!(dry["id"], serde_json::Value::Null);
    assert_eq!(dry["plan"]["standards"], 5);
    assert_eq!(
        wenming_store::framework::list(&app.store)
            .await
            .unwrap()
            .len(),
        1,
        "a dry run saves nothing"
    );
    let r = call(Method::POST, "/frameworks/import?year=2027", &token)
        .body(official_sample())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: serde_json::Value = r.json().await.unwrap();
    let id = made["id"].as_str().unwrap();
    let nodes: Vec<serde_json::Value> =
        call(Method::GET, &format!("/frameworks/{id}/nodes"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let by_code = |c: &str| {
        nodes
            .iter()
            .find(|n| n["code"] == c)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_code("1")["title"], "安居乐业的生活环境");
    assert_eq!(by_code("1.1")["title"], "城市管理");
    assert_eq!(by_code("1.1.1")["kind"], "content");
    assert_eq!(by_code("1.1.1.2")["title"], "门前三包落实");
    assert_eq!(
        by_code("1.1.1.1")["methods"],
        serde_json::json!(["site_inspection", "overall_observation"])
    );
    assert_eq!(by_code("1.1.1.2")["lead_unit"]["name"], "市城市管理局");
    assert_eq!(
        by_code("1.1.1.2")["cooperating_units"][0]["name"],
        "市市场监督管理局"
    );
    assert_eq!(by_code("1.2.1.2")["points"], 1.0);
    // Filters keep matching standards and their ancestors.
    let surveyed: Vec<serde_json::Value> = call(
        Method::GET,
        &format!("/frameworks/{id}/nodes?method=survey"),
        &token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let codes: Vec<&str> = surveyed
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1", "1.2", "1.2.1", "1.2.1.2"]);
}

async fn bad_frameworks_are_refused_whole(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let mut doc = wenming_store::demo::demo_framework();
    doc.name = "改过分值".into();
    doc.tree[0].children[0].children[0]
        .standard
        .as_mut()
        .unwrap()
        .points = Points(250);
    let before = app.count("framework_node").await;
    let r = call(Method::POST, "/frameworks/import", &token)
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "basic_total");
    assert_eq!(e["errors"][0]["code"], "points_mismatch");
    assert!(
        e["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("101.5"),
        "{}",
        e["errors"][0]["message"]
    );
    // Duplicate codes and an unknown method in a table are named by place.
    let r = call(Method::POST, "/frameworks/import", &token)
        .body(b"{\"name\": ".to_vec())
        .send()
        .await
        .unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "invalid_json");
    let r = call(Method::POST, "/frameworks/import", &token)
        .body(b"PK\x03\x04 not really a zip".to_vec())
        .send()
        .await
        .unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "not_xlsx");
    // A table past axum's 2 MB default still reaches the parser; one past
    // the 20 MB cap is turned away with the reason.
    let mut big = b"PK\x03\x04".to_vec();
    big.resize(3 << 20, 0);
    let r = call(Method::POST, "/frameworks/import", &token)
        .body(big)
        .send()
        .await
        .unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "not_xlsx", "{e}");
    // One byte past the cap: the server reads all of it before refusing,
    // so the answer arrives (a body far past the cap is cut off as it
    // is still being sent, and the client may see only a broken pipe).
    let r = call(Method::POST, "/frameworks/import", &token)
        .body(vec![b' '; (20 << 20) + 1])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "file_too_large", "{e}");
    assert!(
        e["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("20 MB")
    );
    assert_eq!(
        app.count("framework_node").await,
        before,
        "nothing half-saved"
    );
}

async fn unknown_units_stop_the_import_unless_created(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let mut doc = wenming_store::demo::demo_framework();
    doc.name = "新单位版".into();
    // Spacing and full-width letters still match the registry.
    doc.tree[0].children[0].children[0]
        .standard
        .as_mut()
        .unwrap()
        .lead_unit = Some(" 市政务服务管理办公室 ".into());
    doc.tree[0].children[0].children[1]
        .standard
        .as_mut()
        .unwrap()
        .lead_unit = Some("市数据资源局".into());
    let r = call(Method::POST, "/frameworks/import", &token)
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            e["errors"][0]["code"].as_str(),
            e["errors"][0]["field"].as_str()
        ),
        (Some("unknown_unit"), Some("units"))
    );
    assert!(
        e["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("市数据资源局")
    );
    let units = app.count("unit").await;
    let r = call(Method::POST, "/frameworks/import?create_units=true", &token)
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        app.count("unit").await,
        units + 1,
        "only the unknown one was created"
    );
    assert!(
        wenming_store::org::find_unit_by_name(&app.store, "市数据资源局")
            .await
            .unwrap()
            .is_some()
    );
}

async fn clone_edit_and_compare_versions(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let f = active(&app).await;
    let r = call(Method::POST, &format!("/frameworks/{}/clone", f.id), &token)
        .json(&serde_json::json!({"name": "青岚市测评体系", "year": 2027}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let new: serde_json::Value = r.json().await.unwrap();
    let new_id = new["id"].as_str().unwrap().to_string();
    assert_eq!(
        (new["status"].as_str(), new["standards"].as_i64()),
        (Some("draft"), Some(demo_standards() as i64))
    );
    let nodes: Vec<serde_json::Value> = call(
        Method::GET,
        &format!("/frameworks/{new_id}/nodes?q=1.1.1"),
        &token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let std = nodes.iter().find(|n| n["code"] == "1.1.1").unwrap();
    let edit = serde_json::json!({
        "title": "政府信息公开目录完整，每季度更新", "points": 1.5, "methods": ["material_review"],
        "evidence_types": std["evidence_types"], "site_types": std["site_types"],
        "lead_unit_id": std["lead_unit"]["id"], "version": std["version"]
    });
    let path = format!("/standards/{}", std["id"].as_str().unwrap());
    assert_eq!(
        call(Method::PUT, &path, &token)
            .json(&edit)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // The same edit again holds a stale version.
    assert_eq!(
        call(Method::PUT, &path, &token)
            .json(&edit)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    let d: serde_json::Value = call(
        Method::GET,
        &format!("/frameworks/{new_id}/diff/{}", f.id),
        &token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(d["added"], serde_json::json!([]));
    assert_eq!(
        d["changed"],
        serde_json::json!([["1.1.1", ["title", "points", "methods"]]])
    );
    // 100.5 basic points now: it cannot be activated until fixed.
    let r = call(Method::PUT, &format!("/frameworks/{new_id}/status"), &token)
        .json(&serde_json::json!({"status": "active", "version": new["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let s = app.as_role("office").await;
    let (_, page) = s
        .get_text(&format!("/frameworks/{new_id}/compare?with={}", f.id))
        .await;
    assert!(page.contains("1.1.1") && page.contains("每季度更新"));
    let (_, page) = s.get_text(&format!("/frameworks/{new_id}")).await;
    assert!(page.contains("分值合计与声明的总分不一致"));
    // Results stay tied to their version: the active one is untouched.
    let old = wenming_store::framework::get(&app.store, f.id)
        .await
        .unwrap();
    assert_eq!((old.basic, old.version), (Points(10_000), f.version));
}

async fn only_a_city_wide_office_changes_frameworks(b: Backend) {
    let app = TestApp::demo(b).await;
    let f = active(&app).await;
    for (role, view, manage) in [
        ("unit", 200, 403),
        ("leader", 200, 403),
        ("inspector", 200, 403),
        ("office", 200, 303),
    ] {
        let s = app.as_role(role).await;
        assert_eq!(
            s.get(&format!("/frameworks/{}", f.id))
                .await
                .status()
                .as_u16(),
            view,
            "{role} views"
        );
        let r = s
            .post(
                &format!("/frameworks/{}/clone", f.id),
                &[("name", &format!("{role} 的副本")), ("year", "2030")],
            )
            .await;
        assert_eq!(r.status().as_u16(), manage, "{role} clones");
    }
    let nodes = wenming_store::framework::nodes(&app.store, f.id)
        .await
        .unwrap();
    let std = nodes.iter().find(|n| n.standard.is_some()).unwrap();
    let s = app.as_role("unit").await;
    assert_eq!(
        s.get(&format!("/standards/{}/edit", std.id)).await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn the_import_preview_shows_before_it_saves(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", s.csrf.clone())
        .text("year", "2027")
        .part(
            "file",
            reqwest::multipart::Part::bytes(official_sample()).file_name("样表.xlsx"),
        );
    let r = s
        .client
        .post(s.url("/frameworks/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("导入预览") && html.contains("2027年全国文明城市测评体系（样表）"));
    assert_eq!(
        wenming_store::framework::list(&app.store)
            .await
            .unwrap()
            .len(),
        1,
        "the preview saved nothing"
    );
    let i = html.find("/frameworks/uploads/").unwrap();
    let action = &html[i..i + html[i..].find('"').unwrap()];
    let r = s.post(action, &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = s.get(&location(&r)).await.text().await.unwrap();
    assert!(page.contains("门前三包落实") && page.contains("已导入为草稿"));
    // A form without the session's token is refused even for uploads.
    let form = reqwest::multipart::Form::new()
        .text("csrf", "nope")
        .part("file", reqwest::multipart::Part::bytes(official_sample()));
    assert_eq!(
        s.client
            .post(s.url("/frameworks/import"))
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}
