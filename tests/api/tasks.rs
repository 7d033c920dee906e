use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use wenming_domain::framework::FrameworkStatus;

on_both!(
    bulk_assignment_follows_the_framework_and_coverage_shows_the_rest,
    a_unit_sees_and_reports_on_its_own_tasks,
    overdue_tasks_are_flagged,
    one_by_one_assignment_checks_its_input,
    the_task_table_exports,
);

/// A fresh draft copy of the demo framework with no tasks yet.
async fn fresh_framework(app: &TestApp) -> uuid::Uuid {
    let active = wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .unwrap();
    let ctx = wenming_store::Ctx::system("test");
    wenming_store::framework::clone(
        &app.store,
        &ctx,
        &app.system().await,
        active.id,
        "分解测试",
        2030,
    )
    .await
    .unwrap()
}

async fn bulk_assignment_follows_the_framework_and_coverage_shows_the_rest(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = fresh_framework(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let cov: Vec<serde_json::Value> =
        call(Method::GET, &format!("/frameworks/{id}/coverage"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        cov.len(),
        demo_standards(),
        "nothing is assigned in a fresh version"
    );
    let under = demo_standards_under("2") as u64;
    assert!(under > 1, "the second aspect has standards to assign");
    let body =
        serde_json::json!({"under_code": "2", "target": "达到要求", "deadline": "2030-06-30"});
    let o: serde_json::Value = call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (o["created"].as_u64(), o["kept"].as_u64()),
        (Some(under), Some(0)),
        "{o}"
    );
    // Again: nothing is created twice; with overwrite the deadline moves.
    let o: serde_json::Value = call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (o["created"].as_u64(), o["kept"].as_u64()),
        (Some(0), Some(under))
    );
    let body2 = serde_json::json!({"under_code": "2", "target": "提前完成", "deadline": "2030-03-31", "overwrite": true});
    let o: serde_json::Value = call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(&body2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["updated"].as_u64(), Some(under));
    let tasks: Vec<serde_json::Value> =
        call(Method::GET, &format!("/tasks?framework_id={id}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(tasks.len() as u64, under);
    assert!(
        tasks.iter().all(|t| t["deadline"] == "2030-03-31"
            && t["standard_code"].as_str().unwrap().starts_with("2."))
    );
    // Leads and cooperating units come from the framework.
    let fire = tasks
        .iter()
        .find(|t| t["standard_code"] == "2.3.5")
        .unwrap();
    assert_eq!(fire["lead_unit"], "市应急管理局");
    let cov: Vec<serde_json::Value> =
        call(Method::GET, &format!("/frameworks/{id}/coverage"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(cov.len(), demo_standards() - under as usize);
    assert!(
        cov.iter()
            .all(|c| !c["code"].as_str().unwrap().starts_with("2."))
    );
    // By method: every survey standard.
    let o: serde_json::Value = call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(&serde_json::json!({"method": "survey", "target": "满意度达标", "deadline": "2030-06-30"}))
        .send().await.unwrap().json().await.unwrap();
    assert!(o["created"].as_u64().unwrap() > 5, "{o}");
    // A standard the framework names no lead for is reported, not assigned.
    let f = wenming_store::framework::get(&app.store, id).await.unwrap();
    let nodes = wenming_store::framework::nodes(&app.store, id)
        .await
        .unwrap();
    let target = nodes.iter().find(|n| n.code == "7.1.1").unwrap();
    let edit = wenming_store::framework::StandardEdit {
        title: target.title.clone(),
        points: target.standard.as_ref().unwrap().points,
        methods: target.standard.as_ref().unwrap().methods.clone(),
        featured: false,
        site_types: vec![],
        evidence_types: vec![],
        lead_unit: None,
        cooperating_units: vec![],
    };
    wenming_store::framework::update_standard(
        &app.store,
        &wenming_store::Ctx::system("test"),
        &app.system().await,
        target.id,
        target.version,
        edit,
    )
    .await
    .unwrap();
    let o: serde_json::Value = call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(
            &serde_json::json!({"under_code": "7", "target": "达到要求", "deadline": "2030-06-30"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(o["no_lead"], serde_json::json!(["7.1.1"]));
    assert_eq!(f.status, FrameworkStatus::Draft);
    let s = app.as_role("office").await;
    let (_, page) = s.get_text(&format!("/frameworks/{id}/tasks")).await;
    assert!(page.contains("尚未分解到单位的测评标准") && page.contains("7.1.1"));
}

async fn a_unit_sees_and_reports_on_its_own_tasks(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    // The demo's unit account works for 市城市管理局.
    let unit_token = app.token("unit", false).await;
    let mine: Vec<serde_json::Value> = call(Method::GET, "/tasks", &unit_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!mine.is_empty());
    let cgj = app.unit_id("市城市管理局").await.to_string();
    assert!(mine.iter().all(|t| {
        t["lead_unit_id"] == cgj.as_str()
            || t["cooperating_unit_ids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| *u == cgj.as_str())
    }));
    let office = app.token("office", false).await;
    let all: Vec<serde_json::Value> = call(Method::GET, "/tasks", &office)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.len(), demo_standards());
    let other = all.iter().find(|t| t["lead_unit"] == "市教育局").unwrap();
    let r = call(
        Method::GET,
        &format!("/tasks/{}", other["id"].as_str().unwrap()),
        &unit_token,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "another unit's task is not found"
    );
    // Lead: reports progress; the history keeps every report.
    let led = mine
        .iter()
        .find(|t| t["lead_unit_id"] == cgj.as_str())
        .unwrap();
    let tid = led["id"].as_str().unwrap();
    let body =
        serde_json::json!({"percent": 80, "note": "主要路段已整改", "version": led["version"]});
    let r = call(Method::POST, &format!("/tasks/{tid}/progress"), &unit_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t: serde_json::Value = r.json().await.unwrap();
    assert_eq!(t["progress"], 80);
    let r = call(Method::POST, &format!("/tasks/{tid}/progress"), &unit_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CONFLICT,
        "a report on a stale version is refused"
    );
    let hist = wenming_store::task::history(&app.store, tid.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(hist.last().unwrap().percent, 80);
    assert!(hist.last().unwrap().reported_by.contains("王丽"));
    // Cooperating only: may see, may not report.
    if let Some(coop) = mine.iter().find(|t| t["lead_unit_id"] != cgj.as_str()) {
        let r = call(
            Method::POST,
            &format!("/tasks/{}/progress", coop["id"].as_str().unwrap()),
            &unit_token,
        )
        .json(&serde_json::json!({"percent": 10, "version": coop["version"]}))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["errors"][0]["code"], "only_lead_reports");
    }
    // The page: the unit's list and the report form.
    let s = app.as_role("unit").await;
    let (status, page) = s.get_text("/tasks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("本单位的任务") && !page.contains("市教育局</td>"));
    let r = s
        .post(
            &format!("/tasks/{tid}/progress"),
            &[("percent", "150"), ("note", ""), ("version", "0")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("0 到 100"));
    let v = t["version"].to_string();
    let r = s
        .post(
            &format!("/tasks/{tid}/progress"),
            &[("percent", "100"), ("note", "全部完成"), ("version", &v)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = s.get_text(&format!("/tasks/{tid}")).await;
    assert!(page.contains("已完成") && page.contains("全部完成"));
}

async fn overdue_tasks_are_flagged(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = fresh_framework(&app).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let yesterday = (jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date()
        - jiff::SignedDuration::from_hours(24))
    .to_string();
    let far = "2099-12-31";
    call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(&serde_json::json!({"under_code": "1", "target": "按期完成", "deadline": yesterday}))
        .send()
        .await
        .unwrap();
    call(Method::POST, &format!("/frameworks/{id}/tasks"), &token)
        .json(&serde_json::json!({"under_code": "2", "target": "按期完成", "deadline": far}))
        .send()
        .await
        .unwrap();
    let overdue: Vec<serde_json::Value> = call(
        Method::GET,
        &format!("/tasks?framework_id={id}&overdue=true"),
        &token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        overdue.len(),
        11,
        "every task of aspect 1 is past its deadline"
    );
    assert!(overdue.iter().all(|t| t["state"] == "overdue"));
    let all: Vec<serde_json::Value> =
        call(Method::GET, &format!("/tasks?framework_id={id}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert!(
        all.iter()
            .filter(|t| t["standard_code"].as_str().unwrap().starts_with("2."))
            .all(|t| t["state"] == "in_progress")
    );
    // Done is never overdue.
    let t = &overdue[0];
    let r = call(
        Method::POST,
        &format!("/tasks/{}/progress", t["id"].as_str().unwrap()),
        &token,
    )
    .json(&serde_json::json!({"percent": 100, "version": t["version"]}))
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["state"],
        "done"
    );
    let s = app.as_role("office").await;
    let (_, page) = s.get_text(&format!("/tasks?framework={id}")).await;
    assert!(
        page.contains("逾期未完成的任务（10）"),
        "the list says how many are overdue"
    );
}

async fn one_by_one_assignment_checks_its_input(b: Backend) {
    let app = TestApp::demo(b).await;
    let id = fresh_framework(&app).await;
    let nodes = wenming_store::framework::nodes(&app.store, id)
        .await
        .unwrap();
    let std = nodes.iter().find(|n| n.code == "5.1.2").unwrap();
    let s = app.as_role("office").await;
    let (status, form) = s.get_text(&format!("/standards/{}/task", std.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("市城市管理局"),
        "the framework's lead is proposed"
    );
    let lead = app.unit_id("市城市管理局").await.to_string();
    let r = s
        .post(
            &format!("/standards/{}/task", std.id),
            &[
                ("lead_unit_id", &lead),
                ("target", ""),
                ("deadline", "2030-02-30"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"e-target\"") && html.contains("id=\"e-deadline\""));
    // The responsible person must be in post at the lead unit.
    let other_person: String = sqlx::query_scalar("SELECT p.id FROM person p JOIN unit u ON u.id = p.unit_id WHERE u.name = '市教育局' LIMIT 1")
        .fetch_one(app.store.reader()).await.unwrap();
    let r = s
        .post(
            &format!("/standards/{}/task", std.id),
            &[
                ("lead_unit_id", &lead),
                ("target", "亮灯率 95%"),
                ("deadline", "2030-06-30"),
                ("responsible_person_id", &other_person),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("责任人须是牵头单位的在岗人员")
    );
    let own_person: String =
        sqlx::query_scalar("SELECT p.id FROM person p WHERE p.unit_id = $1 LIMIT 1")
            .bind(&lead)
            .fetch_one(app.store.reader())
            .await
            .unwrap();
    let r = s
        .post(
            &format!("/standards/{}/task", std.id),
            &[
                ("lead_unit_id", &lead),
                ("target", "亮灯率 95%"),
                ("deadline", "2030-06-30"),
                ("responsible_person_id", &own_person),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = s.get(&location(&r)).await.text().await.unwrap();
    assert!(page.contains("亮灯率 95%") && page.contains("2030-06-30"));
    // Only the office assigns.
    let unit = app.as_role("unit").await;
    assert_eq!(
        unit.get(&format!("/standards/{}/task", std.id))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn the_task_table_exports(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let r = s.get("/tasks.xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range("任务分解表").unwrap();
    assert_eq!(
        range.height(),
        2 + demo_standards(),
        "title, header and one row per task"
    );
    assert_eq!(
        range.get_value((1, 5)),
        Some(&calamine::Data::String("量化目标".into()))
    );
    // A unit exports only its own.
    let unit = app.as_role("unit").await;
    let bytes = unit.get("/tasks.xlsx").await.bytes().await.unwrap();
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert!(wb.worksheet_range("任务分解表").unwrap().height() < 2 + demo_standards());
}
