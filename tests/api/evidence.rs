//! The evidence archive (台账): requirements made from the framework and
//! carried to its clone, materials filed once and reviewed, the filing
//! window, completeness, permissions and hostile files.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    requirements_follow_the_framework_and_carry_over_to_its_clone,
    a_material_is_filed_once_reviewed_and_counted_inside_its_window,
    the_pages_file_review_and_return_a_material,
    a_statistics_table_is_built_from_the_cases_it_counts,
    the_filing_package_holds_the_accepted_materials_and_their_index,
    an_overdue_requirement_tells_its_unit_once_per_due_date,
    a_source_must_make_the_type_it_proves,
    a_picture_filed_as_proof_gets_the_photo_checks,
);

async fn active_framework(app: &TestApp) -> uuid::Uuid {
    wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn requirements(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(
        Method::GET,
        &format!("/evidence/requirements{query}"),
        token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn requirements_follow_the_framework_and_carry_over_to_its_clone(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let id = active_framework(&app).await;
    // One requirement per evidence type of every standard reviewed by
    // materials (a statement where it names none), counted from the
    // framework itself.
    let doc = wenming_store::framework::export(&app.store, id)
        .await
        .unwrap();
    let expected: usize = wenming_domain::framework::standards(&doc)
        .iter()
        .map(|(_, s)| wenming_domain::evidence::defaults(s.standard.as_ref().unwrap()).len())
        .sum();
    assert!(expected > 20, "{expected}");
    let all = requirements(&app, &office, "").await;
    assert_eq!(all.len(), expected);
    assert!(all.iter().all(|q| q["state"] == "missing"));
    // Provided by the standard's lead unit.
    let lead_of = |code: &str| {
        wenming_domain::framework::standards(&doc)
            .into_iter()
            .find(|(_, s)| s.code.as_deref() == Some(code))
            .and_then(|(_, s)| s.standard.as_ref().unwrap().lead_unit.clone())
    };
    for q in &all {
        assert_eq!(
            q["unit"].as_str().map(str::to_string),
            lead_of(q["standard_code"].as_str().unwrap()),
            "{q}"
        );
    }
    // A unit sees its own, and only those.
    let unit = app.token("unit", false).await;
    let own = requirements(&app, &unit, "").await;
    let theirs = all.iter().filter(|q| q["unit"] == "市城市管理局").count();
    assert!(theirs > 0);
    assert_eq!(own.len(), theirs);
    assert!(own.iter().all(|q| q["unit"] == "市城市管理局"));
    let foreign = all.iter().find(|q| q["unit"] != "市城市管理局").unwrap();
    let r = call(
        Method::GET,
        &format!("/evidence/requirements/{}", foreign["id"].as_str().unwrap()),
        &unit,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "another unit's: as if absent"
    );

    // The office edits one; the clone carries the edit.
    let q = &all[0];
    let r = call(
        Method::PUT,
        &format!("/evidence/requirements/{}", q["id"].as_str().unwrap()),
        &office,
    )
    .json(
        &json!({"evidence_type": q["evidence_type"], "title": "年度工作方案及分工表", "needed": 2,
        "unit_id": q["unit_id"], "due_on": "2027-03-31", "version": q["version"]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(
        (edited["needed"].as_i64(), edited["due_on"].as_str()),
        (Some(2), Some("2027-03-31"))
    );
    // A second edit on the old version is a conflict.
    let r = call(
        Method::PUT,
        &format!("/evidence/requirements/{}", q["id"].as_str().unwrap()),
        &office,
    )
    .json(&json!({"evidence_type": q["evidence_type"], "title": "x", "needed": 1, "version": q["version"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = call(Method::POST, &format!("/frameworks/{id}/clone"), &office)
        .json(&json!({"name": "青岚市测评体系（下一年度）", "year": 2028}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let clone: Value = r.json().await.unwrap();
    let copied = requirements(
        &app,
        &office,
        &format!("?framework_id={}", clone["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(copied.len(), expected);
    let same = copied
        .iter()
        .find(|c| c["standard_code"] == q["standard_code"] && c["title"] == "年度工作方案及分工表")
        .expect("the edited requirement is copied");
    assert_eq!(same["needed"], 2);
}

/// A small real PDF (as far as the sniffing goes) with distinct bytes.
fn pdf(n: u32) -> Vec<u8> {
    format!("%PDF-1.7\n% 青岚市 材料 {n}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
        .into_bytes()
}

async fn a_material_is_filed_once_reviewed_and_counted_inside_its_window(b: Backend) {
    let app = TestApp::demo(b).await;
    let base = format!("http://{}", app.addr);
    let call = bearer(&base);
    let (office, unit) = (
        app.token("office", false).await,
        app.token("unit", false).await,
    );
    let id = active_framework(&app).await;
    // The evaluation in August 2027: the window is August 2026 to July 2027.
    let r = call(Method::PUT, &format!("/frameworks/{id}/filing"), &office)
        .json(&json!({"evaluation_on": "2027-08-20", "window_months": 12}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let own = requirements(&app, &unit, "").await;
    assert!(own.len() >= 2, "the unit has requirements to meet");
    let (a, b2) = (
        own[0]["id"].as_str().unwrap(),
        own[1]["id"].as_str().unwrap(),
    );
    let file = |reqs: &str, date: &str, bytes: Vec<u8>| {
        call(Method::POST, "/evidence/materials", &unit)
            .query(&[
                ("requirement_ids", reqs),
                ("title", "关于开展市容环境整治的通知"),
                ("evidence_type", "policy_document"),
                ("doc_date", date),
                ("doc_number", "青城管〔2026〕12号"),
                ("file_name", "整治通知.pdf"),
            ])
            .header("content-type", "application/octet-stream")
            .body(bytes)
    };
    let r = file(a, "2026-09-15", pdf(1)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["material"]["kind"], "pdf");
    assert_eq!(first["material"]["in_window"], true);
    assert_eq!(first["already_filed"], false);
    // The same file for a second requirement: stored once, linked, and said.
    let r = file(b2, "2026-09-15", pdf(1)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["already_filed"], true);
    assert_eq!(again["material"]["id"], first["material"]["id"]);
    assert_eq!(again["linked"], json!([b2]));
    assert_eq!(app.count("evidence_file").await, 1);
    assert_eq!(app.count("material").await, 1);
    assert_eq!(app.count("submission").await, 2);
    // Its bytes come back as filed.
    let r = call(
        Method::GET,
        &format!(
            "/evidence/materials/{}/file",
            first["material"]["id"].as_str().unwrap()
        ),
        &office,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf(1));

    // Hostile and broken files are refused by content, naming the field.
    for (bytes, code) in [
        (
            b"<html><script>alert(1)</script></html>".to_vec(),
            "not_a_document",
        ),
        (b"MZ\x90\x00\x03 an executable".to_vec(), "not_a_document"),
        (vec![], "empty_file"),
    ] {
        let r = file(a, "2026-09-15", bytes).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: Value = r.json().await.unwrap();
        assert_eq!(
            (
                e["errors"][0]["field"].as_str(),
                e["errors"][0]["code"].as_str()
            ),
            (Some("file"), Some(code))
        );
    }
    assert_eq!(app.count("material").await, 1, "nothing stored");
    // Another unit's requirement, by id: as if absent.
    let all = requirements(&app, &office, "").await;
    let foreign = all.iter().find(|q| q["unit"] != "市城市管理局").unwrap();
    let r = file(foreign["id"].as_str().unwrap(), "2026-09-15", pdf(2))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // Dated before the window: filed, flagged, and not counted once accepted.
    let r = file(a, "2025-12-01", pdf(3)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let old: Value = r.json().await.unwrap();
    assert_eq!(old["material"]["in_window"], false);

    let detail = |q: &str| {
        let call = bearer(&base);
        let office = office.clone();
        let q = q.to_string();
        async move {
            call(Method::GET, &format!("/evidence/requirements/{q}"), &office)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let d = detail(a).await;
    assert_eq!(d["requirement"]["state"], "submitted");
    assert_eq!(
        (d["window_start"].as_str(), d["window_end"].as_str()),
        (Some("2026-08-01"), Some("2027-08-01"))
    );
    let sub_of = |d: &Value, material: &Value| {
        d["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["material"]["id"] == material["material"]["id"])
            .unwrap()
            .clone()
    };
    let decide = |s: &Value, decision: &str, reason: &str| {
        call(
            Method::POST,
            &format!(
                "/evidence/submissions/{}/decision",
                s["id"].as_str().unwrap()
            ),
            &office,
        )
        .json(&json!({"version": s["version"], "decision": decision, "reason": reason}))
    };
    // The old one is accepted: still not met, it lies outside the window.
    let s_old = sub_of(&d, &old);
    assert_eq!(
        decide(&s_old, "accept", "").send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    // The same decision on the version read before: one wins.
    assert_eq!(
        decide(&s_old, "return", "重复")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::CONFLICT
    );
    // Returning needs a reason.
    let s_new = sub_of(&d, &first);
    let r = decide(&s_new, "return", " ").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "reason");
    assert_eq!(
        decide(&s_new, "return", "缺少盖章页")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let d = detail(a).await;
    assert_eq!(d["requirement"]["state"], "returned");
    assert_eq!(d["requirement"]["accepted_outside"], 1);
    assert_eq!(sub_of(&d, &first)["reason"], "缺少盖章页");
    // The unit is told, with the reason.
    let notes: Value = call(Method::GET, "/notifications", &unit)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let returned: Vec<&Value> = notes
        .as_array()
        .or_else(|| notes["items"].as_array())
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "material_returned")
        .collect();
    assert_eq!(returned.len(), 1, "{notes}");
    assert_eq!(returned[0]["reason"], "缺少盖章页");
    // Filed again after the return, then accepted: met.
    let r = file(a, "2026-09-15", pdf(1)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d = detail(a).await;
    assert_eq!(d["requirement"]["state"], "submitted");
    let s_new = sub_of(&d, &first);
    assert_eq!(
        decide(&s_new, "accept", "").send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let d = detail(a).await;
    assert_eq!(d["requirement"]["state"], "met");
    // A unit may not decide.
    let r = call(
        Method::POST,
        &format!(
            "/evidence/submissions/{}/decision",
            s_new["id"].as_str().unwrap()
        ),
        &unit,
    )
    .json(&json!({"version": 9, "decision": "accept"}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Found by words of the title or by its document number, and by state.
    let find = |q: &str| {
        call(Method::GET, "/evidence/materials", &office)
            .query(&[("q", q)])
            .send()
    };
    let found: Vec<Value> = find("市容环境").await.unwrap().json().await.unwrap();
    assert_eq!(found.len(), 2, "the notice and the older one");
    let found: Vec<Value> = find("青城管〔2026〕12")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let found: Vec<Value> = find("垃圾分类").await.unwrap().json().await.unwrap();
    assert!(found.is_empty());
    let accepted: Vec<Value> = call(Method::GET, "/evidence/materials", &office)
        .query(&[("state", "accepted"), ("from", "2026-08-01")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["id"], first["material"]["id"]);
    // Completeness counts what the list says.
    let report: Value = call(
        Method::GET,
        &format!("/frameworks/{id}/completeness"),
        &office,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let all = requirements(&app, &office, "").await;
    let met = all.iter().filter(|q| q["state"] == "met").count() as i64;
    assert_eq!(report["total"]["met"].as_i64(), Some(met));
    assert_eq!(report["total"]["required"].as_i64(), Some(all.len() as i64));
    let city = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit"] == "市城市管理局")
        .unwrap();
    assert_eq!(city["completeness"]["met"], 1);
    // The aspect above the met standard counts it too.
    let code = all.iter().find(|q| q["state"] == "met").unwrap()["standard_code"]
        .as_str()
        .unwrap()
        .to_string();
    let aspect = code.split('.').next().unwrap();
    let node = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "aspect" && n["code"] == aspect)
        .unwrap();
    assert!(node["completeness"]["met"].as_i64().unwrap() >= 1);
}

/// The same round through the pages, as a unit's clerk and the office do it.
async fn the_pages_file_review_and_return_a_material(b: Backend) {
    let app = TestApp::demo(b).await;
    let unit = app.as_role("unit").await;
    let token = app.token("unit", false).await;
    let q = requirements(&app, &token, "").await[0].clone();
    let q_id = q["id"].as_str().unwrap().to_string();
    let (_, page) = unit.get_text("/evidence").await;
    assert!(
        page.contains(q["title"].as_str().unwrap()),
        "the unit's list"
    );
    let form = |bytes: Vec<u8>, title: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", unit.csrf.clone())
            .text("title", title.to_string())
            .text("evidence_type", "statement")
            .text("doc_date", "2026-10-08")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("说明.pdf"),
            )
    };
    let url = unit.url(&format!("/evidence/requirements/{q_id}/materials"));
    // A web page renamed .pdf: refused beside the file, the title kept.
    let r = unit
        .client
        .post(&url)
        .multipart(form(b"<!doctype html><p>hi".to_vec(), "路灯维修情况说明"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"e-file\">⚠ 这不是 PDF"), "{html}");
    assert!(html.contains("value=\"路灯维修情况说明\""));
    let r = unit
        .client
        .post(&url)
        .multipart(form(pdf(7), "路灯维修情况说明"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = unit
        .get_text(&format!("/evidence/requirements/{q_id}"))
        .await;
    assert!(page.contains("路灯维修情况说明") && page.contains("待审核"));

    // The office finds it in its queue and returns it with a reason.
    let office = app.as_role("office").await;
    let (_, queue) = office.get_text("/evidence/review").await;
    assert!(queue.contains("路灯维修情况说明"));
    let detail: Value = bearer(&format!("http://{}", app.addr))(
        Method::GET,
        &format!("/evidence/requirements/{q_id}"),
        &app.token("office", false).await,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let s = &detail["submissions"][0];
    let decide = format!("/evidence/submissions/{}/decide", s["id"].as_str().unwrap());
    let version = s["version"].to_string();
    let r = office
        .post(
            &decide,
            &[
                ("decision", "return"),
                ("reason", ""),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("请填写此项"));
    let r = office
        .post(
            &decide,
            &[
                ("decision", "return"),
                ("reason", "缺少现场照片"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The unit reads why, and the notice opens the requirement.
    let (_, notes) = unit.get_text("/notifications").await;
    assert!(notes.contains("被退回：缺少现场照片"), "{notes}");
    let id = wenming_store::escalation::notifications(&app.store, app.user_id("unit").await, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.kind == "material_returned")
        .unwrap()
        .id;
    let r = unit.post(&format!("/notifications/{id}/open"), &[]).await;
    assert_eq!(location(&r), format!("/evidence/requirements/{q_id}"));
    // The office's archive page drills down from the tree.
    let (_, archive) = office.get_text("/evidence").await;
    assert!(archive.contains("逐项标准") && archive.contains(q["standard_code"].as_str().unwrap()));
}

/// A statistics table wenming builds from the cases: its figures are the
/// cases' own, recounted here from the records.
async fn a_statistics_table_is_built_from_the_cases_it_counts(b: Backend) {
    use crate::cases::{IN_FM, IN_LJ, catalogue, register_and_dispatch, report, sub};
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let cats = catalogue(&app).await;
    // Two of class 01 (市容环境) and one of another class, this month.
    for (code, at) in [("0101", IN_LJ), ("0102", IN_FM), ("0601", IN_LJ)] {
        let c = report(&app, &office, sub(&cats, code).id, at).await;
        register_and_dispatch(&app, &office, &c, "市城市管理局", 48).await;
    }
    let all = requirements(&app, &office, "").await;
    let q = all
        .iter()
        .find(|q| q["evidence_type"] == "statistics_table")
        .expect("a statistics table is required")
        .clone();
    let id = q["id"].as_str().unwrap();
    // Without a source there is nothing to build from.
    let r = call(
        Method::POST,
        &format!("/evidence/requirements/{id}/generate"),
        &office,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(
        (
            e["errors"][0]["field"].as_str(),
            e["errors"][0]["code"].as_str()
        ),
        (Some("source"), Some("no_source"))
    );
    let r = call(
        Method::PUT,
        &format!("/evidence/requirements/{id}"),
        &office,
    )
    .json(
        &json!({"evidence_type": "statistics_table", "title": q["title"], "needed": 1,
            "unit_id": q["unit_id"], "version": q["version"],
            "source": {"kind": "case_statistics", "categories": ["01"]}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let set: Value = r.json().await.unwrap();
    assert_eq!(set["source"]["kind"], "case_statistics");
    // A unit may not generate.
    let unit = app.token("unit", false).await;
    let r = call(
        Method::POST,
        &format!("/evidence/requirements/{id}/generate"),
        &unit,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = call(
        Method::POST,
        &format!("/evidence/requirements/{id}/generate"),
        &office,
    )
    .send()
    .await
    .unwrap();
    let status = r.status();
    let made: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let m = &made["material"];
    assert_eq!(m["kind"], "xlsx");
    assert_eq!(m["evidence_type"], "statistics_table");
    assert_eq!(m["generated_from"]["source"]["kind"], "case_statistics");
    assert_eq!(
        m["generated_from"]["data_sha256"].as_str().unwrap().len(),
        64
    );
    assert!(m["title"].as_str().unwrap().contains("市容环境"), "{m}");
    // It waits for review like an upload.
    let d: Value = call(
        Method::GET,
        &format!("/evidence/requirements/{id}"),
        &office,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(d["requirement"]["state"], "submitted");

    // The table's figures, against the cases counted here.
    let bytes = call(
        Method::GET,
        &format!("/evidence/materials/{}/file", m["id"].as_str().unwrap()),
        &office,
    )
    .send()
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = wb.worksheet_range("案件统计").unwrap();
    let month = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%Y-%m")
        .to_string();
    let cell = |r: usize, c: usize| {
        sheet
            .get_value((r as u32, c as u32))
            .map(|d| d.to_string())
            .unwrap_or_default()
    };
    let registered = |unit: &str| {
        (2..sheet.height())
            .find(|r| cell(*r, 0) == month && cell(*r, 1) == unit)
            .map(|r| cell(r, 2))
    };
    let counted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_record c JOIN category cat ON cat.id = c.category_id \
         LEFT JOIN category p ON p.id = cat.parent_id JOIN unit u ON u.id = c.unit_id \
         WHERE u.name = '市城市管理局' AND (cat.code = '01' OR p.code = '01') AND c.registered_at IS NOT NULL",
    )
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(counted, 2);
    assert_eq!(registered("市城市管理局"), Some(counted.to_string()));
    assert_eq!(
        registered("全市"),
        Some(counted.to_string()),
        "the other class is left out"
    );
}

/// The filing package holds what the archive accepted inside the window,
/// a folder per standard, and an index that matches the files.
async fn the_filing_package_holds_the_accepted_materials_and_their_index(b: Backend) {
    use sha2::Digest;
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let (office, unit) = (
        app.token("office", false).await,
        app.token("unit", false).await,
    );
    let own = requirements(&app, &unit, "").await;
    let mut accepted = vec![];
    for (i, q) in own.iter().take(3).enumerate() {
        let date = if i == 2 { "2020-01-01" } else { "2026-06-01" };
        let r = call(Method::POST, "/evidence/materials", &unit)
            .query(&[
                ("requirement_ids", q["id"].as_str().unwrap()),
                ("title", &format!("材料/{i}")),
                ("evidence_type", q["evidence_type"].as_str().unwrap()),
                ("doc_date", date),
            ])
            .header("content-type", "application/octet-stream")
            .body(pdf(100 + i as u32))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let d: Value = call(
            Method::GET,
            &format!("/evidence/requirements/{}", q["id"].as_str().unwrap()),
            &office,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let s = &d["submissions"][0];
        let r = call(
            Method::POST,
            &format!(
                "/evidence/submissions/{}/decision",
                s["id"].as_str().unwrap()
            ),
            &office,
        )
        .json(&json!({"version": s["version"], "decision": "accept"}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        accepted.push((q.clone(), date, pdf(100 + i as u32)));
    }
    // A unit may not take the city's package.
    let r = call(Method::GET, "/evidence/package", &unit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = call(Method::GET, "/evidence/package", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let bytes = r.bytes().await.unwrap().to_vec();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let names: Vec<String> = z
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.to_string())
        .collect();
    assert!(
        names.contains(&"待审材料索引表.xlsx".to_string()),
        "{names:?}"
    );
    // The two dated inside the window are in; the one from 2020 is not.
    let files: Vec<&String> = names.iter().filter(|n| n.ends_with(".pdf")).collect();
    assert_eq!(files.len(), 2, "{names:?}");
    for (i, (q, date, body)) in accepted.iter().take(2).enumerate() {
        let code = q["standard_code"].as_str().unwrap();
        // In its standard's folder; the slash in its title is no folder.
        let name = files
            .iter()
            .find(|n| n.contains(&format!("材料_{i}-")))
            .unwrap_or_else(|| panic!("材料_{i} in {names:?}"));
        assert!(
            name.contains(&format!("/{code} ")) && name.contains(date),
            "{name}"
        );
        let mut got = vec![];
        std::io::Read::read_to_end(&mut z.by_name(name).unwrap(), &mut got).unwrap();
        assert_eq!(&got, body, "stored as filed");
    }
    // The index names each file with its SHA-256.
    let mut index = vec![];
    std::io::Read::read_to_end(&mut z.by_name("待审材料索引表.xlsx").unwrap(), &mut index).unwrap();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(index)).unwrap();
    let sheet = wb.worksheet_range("待审材料索引表").unwrap();
    assert_eq!(sheet.height(), 2 + 2, "title, header and a row a file");
    for r in 2..sheet.height() as u32 {
        let file = sheet.get_value((r, 8)).unwrap().to_string();
        let sha = sheet.get_value((r, 9)).unwrap().to_string();
        let mut got = vec![];
        std::io::Read::read_to_end(&mut z.by_name(&file).unwrap(), &mut got).unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(&got)), sha);
    }
    // The same data gives the same package.
    let again = call(Method::GET, "/evidence/package", &office)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut z2 = zip::ZipArchive::new(std::io::Cursor::new(again)).unwrap();
    let names2: Vec<String> = z2
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, names2);
    for n in &files {
        let (mut a, mut b2) = (vec![], vec![]);
        std::io::Read::read_to_end(&mut z.by_name(n).unwrap(), &mut a).unwrap();
        std::io::Read::read_to_end(&mut z2.by_name(n).unwrap(), &mut b2).unwrap();
        assert_eq!(a, b2);
    }

    // Written in the background instead: the page's way for large ones.
    let framework = active_framework(&app).await;
    let start = |body: Value| {
        call(Method::POST, "/evidence/packages", &office)
            .json(&body)
            .send()
    };
    let r = start(json!({})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = start(json!({"framework_id": uuid::Uuid::nil()}))
        .await
        .unwrap();
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "not_in_force");
    let r = start(json!({"framework_id": framework})).await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(job["files_total"].as_i64(), Some(files.len() as i64 + 1));
    let mut done = job;
    for _ in 0..200 {
        if done["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        done = call(Method::GET, &format!("/evidence/packages/{id}"), &office)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["files_done"], done["files_total"]);
    let stored = call(
        Method::GET,
        &format!("/evidence/packages/{id}/file"),
        &office,
    )
    .send()
    .await
    .unwrap()
    .bytes()
    .await
    .unwrap()
    .to_vec();
    assert_eq!(Some(stored.len() as i64), done["size"].as_i64());
    let mut z3 = zip::ZipArchive::new(std::io::Cursor::new(stored)).unwrap();
    let names3: Vec<String> = z3
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, names3, "the same folders and files");
    for n in &files {
        let (mut a, mut b3) = (vec![], vec![]);
        std::io::Read::read_to_end(&mut z.by_name(n).unwrap(), &mut a).unwrap();
        std::io::Read::read_to_end(&mut z3.by_name(n).unwrap(), &mut b3).unwrap();
        assert_eq!(a, b3);
    }
    // The unit may not see it.
    let r = call(Method::GET, &format!("/evidence/packages/{id}/file"), &unit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn an_overdue_requirement_tells_its_unit_once_per_due_date(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let call = &call;
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let mine = requirements(&app, &unit, "").await;
    assert!(!mine.is_empty());
    let q = &mine[0];
    let id = q["id"].as_str().unwrap();
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let set_due = |due: jiff::civil::Date, version: i64| {
        let office = office.clone();
        let q = q.clone();
        async move {
            let r = call(
                Method::PUT,
                &format!("/evidence/requirements/{}", q["id"].as_str().unwrap()),
                &office,
            )
            .json(
                &json!({"evidence_type": q["evidence_type"], "title": q["title"], "needed": 1,
                    "unit_id": q["unit_id"], "due_on": due.to_string(), "version": version}),
            )
            .send()
            .await
            .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["version"]
                .as_i64()
                .unwrap()
        }
    };
    let told = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            wenming_store::evidence::tell_overdue(&store, today)
                .await
                .unwrap()
        }
    };
    let notices = || {
        let unit = unit.clone();
        async move {
            let list: Value = call(Method::GET, "/notifications", &unit)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            list.as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] == "requirement_overdue")
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    // Not yet due: nobody is told.
    let v = set_due(today.tomorrow().unwrap(), q["version"].as_i64().unwrap()).await;
    assert_eq!(told(&app).await, 0);
    // Past due: the unit is told once, however often the job runs.
    let past = today.checked_sub(jiff::Span::new().days(3)).unwrap();
    let v = set_due(past, v).await;
    let first = told(&app).await;
    assert!(first >= 1, "{first}");
    assert_eq!(told(&app).await, 0, "told twice");
    let n = notices().await;
    let about: Vec<&Value> = n.iter().filter(|n| n["requirement_id"] == id).collect();
    assert_eq!(about.len(), 1, "{n:?}");
    assert_eq!(about[0]["due_on"], past.to_string());
    assert!(
        about[0]["title"]
            .as_str()
            .unwrap()
            .contains(q["title"].as_str().unwrap())
    );
    // A new due date missed is told again.
    let again = today.checked_sub(jiff::Span::new().days(1)).unwrap();
    set_due(again, v).await;
    assert_eq!(told(&app).await, 1);
    let n = notices().await;
    assert_eq!(n.iter().filter(|n| n["requirement_id"] == id).count(), 2);
}

async fn a_source_must_make_the_type_it_proves(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let all = requirements(&app, &office, "").await;
    let q = all
        .iter()
        .find(|q| q["evidence_type"] == "policy_document")
        .unwrap();
    let put = |source: Value| {
        call(
            Method::PUT,
            &format!("/evidence/requirements/{}", q["id"].as_str().unwrap()),
            &office,
        )
        .json(
            &json!({"evidence_type": "policy_document", "title": q["title"], "needed": 1,
            "unit_id": q["unit_id"], "version": q["version"], "source": source}),
        )
        .send()
    };
    let r = put(json!({"kind": "photo_pairs"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "source");
    assert_eq!(e["errors"][0]["code"], "source_does_not_fit");
    let r = put(json!({"kind": "round_reports", "kinds": ["weather"]}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = put(json!({"kind": "task_table"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let set: Value = r.json().await.unwrap();
    assert_eq!(
        set["source"],
        json!({"kind": "task_table", "whole_framework": false})
    );
}

async fn a_picture_filed_as_proof_gets_the_photo_checks(b: Backend) {
    use crate::cases::{IN_LJ, catalogue, sub, upload_photo};
    use wenming_store::photo::synthetic_jpeg;
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let (inspector, unit) = (
        app.token("inspector", false).await,
        app.token("unit", false).await,
    );
    // A case reported with its photo.
    let case_photo = synthetic_jpeg(41, None, None);
    let staged: Value = upload_photo(&app, &inspector, case_photo.clone())
        .await
        .json()
        .await
        .unwrap();
    let cats = catalogue(&app).await;
    let case: Value = call(Method::POST, "/cases", &inspector)
        .json(&json!({"source": "inspection", "category_id": sub(&cats, "0101").id,
            "description": "垃圾桶满溢", "lon": IN_LJ.0, "lat": IN_LJ.1, "photo_ids": [staged["id"]]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine = requirements(&app, &unit, "").await;
    let q = mine[0]["id"].as_str().unwrap();
    let file = |bytes: Vec<u8>, name: &str| {
        call(Method::POST, "/evidence/materials", &unit)
            .query(&[
                ("requirement_ids", q),
                ("title", "整治现场照片"),
                ("evidence_type", "photo"),
                ("doc_date", "2026-09-15"),
                ("file_name", name),
            ])
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
    };
    // The case's own photo filed as proof: flagged with the case, not refused.
    let r = file(case_photo, "现场.jpg").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!(
        m["material"]["photo_flags"],
        json!([{"kind": "case_photo", "case_id": case["id"], "number": case["number"], "same_file": true}])
    );
    // A picture taken years before the window says so.
    let old = jiff::civil::date(2019, 5, 1)
        .at(10, 0, 0, 0)
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .unwrap()
        .timestamp();
    let r = file(synthetic_jpeg(42, Some(old), None), "旧照.jpg")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let m: Value = r.json().await.unwrap();
    assert_eq!(
        m["material"]["photo_flags"],
        json!([{"kind": "taken_outside_window", "taken_on": "2019-05-01"}])
    );
    // A fresh picture of its own passes clean.
    let now = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2);
    let r = file(synthetic_jpeg(43, Some(now), None), "新照.jpg")
        .await
        .unwrap();
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["material"]["photo_flags"], json!([]), "{m}");
    // The reviewer reads it on the page.
    let s = app.as_role("office").await;
    let (_, html) = s.get_text(&format!("/evidence/requirements/{q}")).await;
    assert!(
        html.contains(case["number"].as_str().unwrap()),
        "the case is named"
    );
    assert!(html.contains("2019-05-01"));
}
