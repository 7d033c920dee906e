//! Surveys: questionnaires locked once published, waves planned into
//! quotas that close, answers checked question by question, the public
//! link's one answer a phone with nothing linking answers to devices, and
//! results with their intervals, suppression and change beyond the noise.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both!(
    a_published_questionnaire_is_locked_and_changes_as_a_new_version,
    a_wave_plans_quotas_and_refuses_what_it_cannot_plan,
    answers_are_checked_counted_and_refused_when_the_quota_is_full,
    the_public_link_takes_one_answer_a_phone_and_keeps_no_link_to_it,
    the_demo_waves_show_one_change_beyond_the_noise_and_others_within,
    a_questionnaire_goes_out_and_back_in_as_a_workbook_all_or_nothing,
    what_a_phone_sends_again_under_its_id_is_stored_once,
    public_answers_arriving_together_share_a_commit_and_fail_alone,
);

async fn public_answers_arriving_together_share_a_commit_and_fail_alone(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let q = published(&app, &office).await;
    let w = open_wave(&app, &office, &q, 50, 30).await;
    let wave_id: uuid::Uuid = w["id"].as_str().unwrap().parse().unwrap();
    let region: uuid::Uuid = w["regions"][0].as_str().unwrap().parse().unwrap();
    let permit = app.system().await;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    // Twelve phones at once, two of them a second time.
    let mut tasks = vec![];
    for k in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1] {
        let (store, permit) = (app.store.clone(), permit.clone());
        tasks.push(tokio::spawn(async move {
            let r = wenming_store::survey::NewResponse {
                wave_id,
                region_id: region,
                group: wenming_domain::survey::Group::Residents,
                age_band: wenming_domain::survey::AgeBand::ALL[k % 4],
                sex: wenming_domain::survey::Sex::ALL[k % 2],
                channel: wenming_store::survey::Channel::Public,
                answers: [
                    (
                        "Q1".to_string(),
                        wenming_domain::survey::Answer::Text("1".into()),
                    ),
                    ("Q2".to_string(), wenming_domain::survey::Answer::Scale(5)),
                ]
                .into_iter()
                .collect(),
            };
            wenming_store::survey::submit_public(&store, &permit, &r, &format!("{k:064x}"), today)
                .await
        }));
    }
    let mut refused = vec![];
    for t in tasks {
        if let Err(e) = t.await.unwrap() {
            refused.push(e);
        }
    }
    assert_eq!(refused.len(), 2, "{refused:?}");
    for e in &refused {
        match e {
            wenming_store::StoreError::Invalid(f) => {
                assert_eq!(f.for_field("device"), Some("already_answered"))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(app.count("survey_response").await, 10);
    assert_eq!(app.count("survey_device").await, 10);
    let counted: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(n) AS BIGINT) FROM survey_rate_tally WHERE wave_id = $1 AND question_code = 'Q1'",
    )
    .bind(wave_id.to_string())
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(counted, 10);
    // Counted once each however the batch was written: the answer tally
    // and the quotas agree with what was stored.
    for sql in [
        "SELECT CAST(SUM(n) AS BIGINT) FROM survey_answer_tally WHERE wave_id = $1 AND question_code = 'Q1'",
        "SELECT CAST(SUM(filled) AS BIGINT) FROM survey_quota WHERE wave_id = $1",
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .bind(wave_id.to_string())
            .fetch_one(app.store.reader())
            .await
            .unwrap();
        assert_eq!(n, 10, "{sql}");
    }
}

async fn what_a_phone_sends_again_under_its_id_is_stored_once(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let q = published(&app, &office).await;
    let w = open_wave(&app, &office, &q, 50, 30).await;
    let wid = w["id"].as_str().unwrap();
    let region = w["regions"][0].as_str().unwrap();
    let inspector = app.token("inspector", false).await;
    let id = uuid::Uuid::new_v4();
    let body = |client_id: Value| {
        json!({"region_id": region, "group": "residents", "age_band": "30-44", "sex": "female",
               "channel": "interview", "answers": {"Q1": "1", "Q2": 5}, "client_id": client_id})
    };
    let tallied = || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM survey_rate_tally WHERE wave_id = $1",
        )
        .bind(wid)
        .fetch_one(app.store.reader())
        .await
        .unwrap();
        n
    };
    // The reply was lost twice: the phone sends the same questionnaire
    // three times; one is stored, counted once, one place of its quota.
    for _ in 0..3 {
        let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
            .json(&body(json!(id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    assert_eq!(app.count("survey_response").await, 1);
    assert_eq!(tallied().await, 2);
    let filled: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(filled) AS BIGINT) FROM survey_quota WHERE wave_id = $1",
    )
    .bind(wid)
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(filled, 1);
    // A time-ordered id would say when: refused, by name.
    let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
        .json(&body(json!(uuid::Uuid::now_v7())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "client_id");
    assert_eq!(app.count("survey_response").await, 1);
    // A contact sent twice under one id is counted once.
    let cid = uuid::Uuid::new_v4();
    for _ in 0..2 {
        let r = call(Method::POST, &format!("/waves/{wid}/contacts"), &inspector)
            .json(&json!({"region_id": region, "disposition": "refusal", "client_id": cid}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let refusals: i64 = sqlx::query_scalar(
        "SELECT n FROM survey_contact WHERE wave_id = $1 AND disposition = 'refusal'",
    )
    .bind(wid)
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(refusals, 1);
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = TestApp::client()
        .post(format!("http://{}/api/v1/questionnaires/import", app.addr))
        .bearer_auth(token)
        .multipart(
            reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes)),
        )
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or_default())
}

async fn a_questionnaire_goes_out_and_back_in_as_a_workbook_all_or_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let q = published(&app, &office).await;
    let id = q["id"].as_str().unwrap();
    let r = TestApp::client()
        .get(format!(
            "http://{}/api/v1/questionnaires/{id}/export.xlsx",
            app.addr
        ))
        .bearer_auth(&office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    // Back in: a new draft asking the same questions.
    let (status, made) = upload(&app, &office, bytes.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_ne!(made["id"], q["id"]);
    assert!(made["published_at"].is_null());
    assert_eq!(made["doc"]["questions"], q["doc"]["questions"]);
    assert_eq!(made["doc"]["title"], q["doc"]["title"]);
    // A sheet with a bad question type and a rate counting an option the
    // question does not have: both cells named, nothing imported.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("问卷").unwrap();
    ws.write_string(0, 0, "社区问卷").unwrap();
    for (c, h) in [
        "题号",
        "题目",
        "题型",
        "计入指标",
        "计为是的选项",
        "选项1",
        "选项2",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    for (r, row) in [
        ["Q1", "满意吗", "单选", "满意率", "1", "满意", "不满意"],
        ["Q2", "去过吗", "是非题", "", "", "去过", "没去过"],
        ["Q3", "知道吗", "单选", "知晓率", "3", "知道", "不知道"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(3 + r as u32, c as u16, *v).unwrap();
        }
    }
    let before = app.count("questionnaire").await;
    let (status, e) = upload(&app, &office, wb.save_to_buffer().unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = e.to_string();
    assert!(text.contains("问卷!C5"), "{text}");
    assert!(text.contains("问卷!E6"), "{text}");
    assert_eq!(app.count("questionnaire").await, before);
    // Only the office imports.
    let inspector = app.token("inspector", false).await;
    let (status, _) = upload(&app, &inspector, bytes).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

fn design() -> Value {
    json!({
        "title": "测试问卷",
        "questions": [
            {"code": "Q1", "text": "满意吗", "kind": "single",
             "choices": [{"code": "1", "label": "满意"}, {"code": "2", "label": "不满意"}, {"code": "3", "label": "说不清"}],
             "rate": {"kind": "satisfaction", "counts": ["1"], "excluded": ["3"]}},
            {"code": "Q2", "text": "打分", "kind": "scale5", "groups": ["residents"],
             "rate": {"kind": "service_satisfaction", "counts": ["4", "5"]}},
            {"code": "Q3", "text": "建议", "kind": "text", "required": false}
        ]
    })
}

async fn published(app: &TestApp, office: &str) -> Value {
    let call = bearer(&format!("http://{}", app.addr));
    let q: Value = call(Method::POST, "/questionnaires", office)
        .json(&json!({"doc": design()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    call(
        Method::POST,
        &format!("/questionnaires/{}/publish", q["id"].as_str().unwrap()),
        office,
    )
    .json(&json!({"version": q["version"]}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

/// Two communities of 临江区 (they have populations in the demo).
async fn two_communities(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT id FROM region WHERE level = 'community' AND code LIKE 'LJ%' ORDER BY code LIMIT 2",
    )
    .fetch_all(app.store.reader())
    .await
    .unwrap()
}

async fn open_wave(
    app: &TestApp,
    office: &str,
    q: &Value,
    margin_permille: i64,
    min_n: i64,
) -> Value {
    let call = bearer(&format!("http://{}", app.addr));
    // A day either side, wherever the test runs.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let w: Value = call(Method::POST, "/waves", office)
        .json(&json!({"questionnaire_id": q["id"], "name": "十二月问卷", "opens_on": today.yesterday().unwrap().to_string(),
            "closes_on": today.tomorrow().unwrap().to_string(), "margin_permille": margin_permille,
            "min_n": min_n, "per_community": true, "regions": two_communities(app).await}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(w["state"], "draft", "{w}");
    call(
        Method::POST,
        &format!("/waves/{}/state", w["id"].as_str().unwrap()),
        office,
    )
    .json(&json!({"state": "open", "version": w["version"]}))
    .send()
    .await
    .unwrap();
    call(
        Method::GET,
        &format!("/waves/{}", w["id"].as_str().unwrap()),
        office,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

fn fields(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["field"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap()
            )
        })
        .collect()
}

async fn a_published_questionnaire_is_locked_and_changes_as_a_new_version(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    // A bad design: every problem named by question.
    let mut bad = design();
    bad["questions"][1]["code"] = json!("Q1");
    bad["questions"][0]["rate"]["counts"] = json!(["9"]);
    let r = call(Method::POST, "/questionnaires", &office)
        .json(&json!({"doc": bad}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let f = fields(&r.json().await.unwrap());
    assert!(
        f.contains(&"questions[1].code:duplicate".to_string()),
        "{f:?}"
    );
    assert!(
        f.contains(&"questions[0].rate:unknown_choice".to_string()),
        "{f:?}"
    );
    assert_eq!(app.count("questionnaire").await, 0);

    let q = published(&app, &office).await;
    assert!(q["published_at"].is_string());
    let id = q["id"].as_str().unwrap();
    let r = call(Method::PUT, &format!("/questionnaires/{id}"), &office)
        .json(&json!({"doc": design(), "version": q["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&r.json().await.unwrap()),
        vec!["questionnaire:published_locked"]
    );
    // The next version starts from the one read; a stale read is a conflict.
    let r = call(
        Method::POST,
        &format!("/questionnaires/{id}/versions"),
        &office,
    )
    .json(&json!({"version": 0}))
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let mut changed = design();
    changed["questions"][0]["text"] = json!("您满意吗");
    let v2: Value = call(
        Method::POST,
        &format!("/questionnaires/{id}/versions"),
        &office,
    )
    .json(&json!({"version": q["version"], "doc": changed}))
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(v2["version_no"], 2);
    assert_eq!(v2["series_id"], q["series_id"]);
    assert!(v2["published_at"].is_null());
    assert_eq!(v2["doc"]["questions"][0]["text"], "您满意吗");
    // The first version is as it was.
    let v1: Value = call(Method::GET, &format!("/questionnaires/{id}"), &office)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["doc"]["questions"][0]["text"], "满意吗");
    // A unit has no part in surveys; a leader reads.
    let unit = app.token("unit", false).await;
    let r = call(Method::GET, "/questionnaires", &unit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn a_wave_plans_quotas_and_refuses_what_it_cannot_plan(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let q = published(&app, &office).await;
    let communities = two_communities(&app).await;
    let street: String =
        sqlx::query_scalar("SELECT id FROM region WHERE level = 'street' ORDER BY code LIMIT 1")
            .fetch_one(app.store.reader())
            .await
            .unwrap();
    // A draft questionnaire, a street among the regions, a bad margin.
    let draft: Value = call(Method::POST, "/questionnaires", &office)
        .json(&json!({"doc": design()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = call(Method::POST, "/waves", &office)
        .json(&json!({"questionnaire_id": draft["id"], "name": "x", "opens_on": "2026-12-01", "closes_on": "2026-11-01",
            "margin_permille": 500, "regions": [communities[0], street]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let f = fields(&r.json().await.unwrap());
    for want in [
        "questionnaire_id:not_published",
        "regions:not_a_community",
        "closes_on:before_start",
        "margin:margin_out_of_range",
    ] {
        assert!(f.contains(&want.to_string()), "{want} in {f:?}");
    }
    assert_eq!(app.count("survey_wave").await, 0);
    // A community without a population cannot be planned.
    sqlx::query("UPDATE region SET population = NULL WHERE id = $1")
        .bind(&communities[1])
        .execute(app.store.writer())
        .await
        .unwrap();
    let r = call(Method::POST, "/waves", &office)
        .json(&json!({"questionnaire_id": q["id"], "name": "x", "opens_on": "2026-12-01", "closes_on": "2026-12-31",
            "regions": communities}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&r.json().await.unwrap()),
        vec!["regions:no_population"]
    );
    sqlx::query("UPDATE region SET population = 8000 WHERE id = $1")
        .bind(&communities[1])
        .execute(app.store.writer())
        .await
        .unwrap();
    let pop0: i64 = sqlx::query_scalar("SELECT population FROM region WHERE id = $1")
        .bind(&communities[0])
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    // City-wide ±5 points: n0 = 384.15, corrected for the two communities.
    let w = open_wave(&app, &office, &q, 50, 30).await;
    let quotas = w["quotas"].as_array().unwrap();
    assert_eq!(quotas.len(), 16, "two communities × four ages × two sexes");
    let of = |c: &str| {
        quotas
            .iter()
            .filter(|x| x["region_id"] == c)
            .map(|x| x["target"].as_i64().unwrap())
            .sum::<i64>()
    };
    let expect = |n: f64| {
        let n0 = 1.959963984540054f64.powi(2) * 0.25 / 0.0025;
        (n0 / (1.0 + (n0 - 1.0) / n)).ceil() as i64
    };
    assert_eq!(of(&communities[0]), expect(pop0 as f64));
    assert_eq!(of(&communities[1]), expect(8000.0));
}

async fn answers_are_checked_counted_and_refused_when_the_quota_is_full(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let inspector = app.token("inspector", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let q = published(&app, &office).await;
    // ±20 points per community: a few answers a stratum.
    let w = open_wave(&app, &office, &q, 200, 3).await;
    let wid = w["id"].as_str().unwrap();
    let quota = w["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["target"].as_i64().unwrap() > 0)
        .unwrap()
        .clone();
    let answer = |a: Value| {
        json!({"region_id": quota["region_id"], "group": "residents", "age_band": quota["age_band"],
            "sex": quota["sex"], "channel": "interview", "answers": a})
    };
    // Each bad answer named by its question; nothing stored.
    let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
        .json(&answer(json!({"Q1": "7", "Q2": 9})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let f = fields(&r.json().await.unwrap());
    assert_eq!(f, vec!["Q1:unknown_choice", "Q2:out_of_range"]);
    let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
        .json(&answer(json!({"Q1": "1"})))
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&r.json().await.unwrap()), vec!["Q2:required"]);
    assert_eq!(app.count("survey_response").await, 0);
    // The stratum fills: satisfied, not satisfied, can't say, ...
    let target = quota["target"].as_i64().unwrap();
    for i in 0..target {
        let q1 = ["1", "2", "3"][(i % 3) as usize];
        let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
            .json(&answer(json!({"Q1": q1, "Q2": 4, "Q3": "路灯坏了"})))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
        .json(&answer(json!({"Q1": "1", "Q2": 5})))
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&r.json().await.unwrap()), vec!["quota:quota_full"]);
    assert_eq!(app.count("survey_response").await, target);
    // The results count them: can't-say out of the denominator.
    let res: Value = call(Method::GET, &format!("/waves/{wid}/results"), &office)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let line = res["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            r["question"] == "Q1" && r["region_id"] == quota["region_id"] && r["group"].is_null()
        })
        .unwrap()
        .clone();
    let (sat, valid) = (
        (0..target).filter(|i| i % 3 == 0).count() as u64,
        (0..target).filter(|i| i % 3 != 2).count() as u64,
    );
    assert_eq!(line["n"], valid);
    if valid >= 3 {
        assert_eq!(line["yes"], sat);
        let e = wenming_domain::survey::stats::proportion(sat, valid);
        assert!((line["interval"]["low"].as_f64().unwrap() - e.low).abs() < 1e-9);
        assert_eq!(line["interval"]["method"], "clopper_pearson");
    }
    // A region under the minimum n is shown with its n, nothing more.
    let small = res["rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["ranked"].as_bool().unwrap())
        .cloned();
    if let Some(s) = small {
        assert!(s["yes"].is_null() && s["interval"].is_null(), "{s}");
    }
    // Doors that gave no questionnaire make the response rates honest; a
    // complete is the questionnaire itself.
    let region = quota["region_id"].clone();
    for d in ["refusal", "refusal", "unknown", "not_eligible"] {
        let r = call(Method::POST, &format!("/waves/{wid}/contacts"), &inspector)
            .json(&json!({"region_id": region, "disposition": d}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = call(Method::POST, &format!("/waves/{wid}/contacts"), &inspector)
        .json(&json!({"region_id": region, "disposition": "complete"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields(&r.json().await.unwrap()),
        vec!["disposition:complete_is_an_answer"]
    );
    let res: Value = call(Method::GET, &format!("/waves/{wid}/results"), &office)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rr = res["response_rates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["region_id"] == region)
        .unwrap()
        .clone();
    let t = target as f64;
    assert_eq!(rr["complete"], target);
    assert!(
        (rr["rr1"].as_f64().unwrap() - t / (t + 3.0)).abs() < 1e-9,
        "{rr}"
    );
    let e = (t + 2.0) / (t + 3.0);
    assert!(
        (rr["rr3"].as_f64().unwrap() - t / (t + 2.0 + e)).abs() < 1e-9,
        "{rr}"
    );
    assert_eq!(
        res["response_rates"][0]["refusal"], 2,
        "the wave's total first"
    );
    // The office's workbook: the rates, and every questionnaire with its
    // answers in words, nothing naming who gave them.
    let r = call(Method::GET, &format!("/waves/{wid}/export.xlsx"), &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names();
    let answers = wb.worksheet_range(&names[1]).unwrap();
    assert_eq!(
        answers.height() as i64,
        target + 2,
        "title, header, one row each"
    );
    assert!(answers.rows().skip(2).any(|row| {
        row.iter()
            .any(|c| matches!(c, calamine::Data::String(s) if s == "满意"))
    }));
    let r = call(
        Method::GET,
        &format!("/waves/{wid}/export.xlsx"),
        &inspector,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Closed, the wave takes nothing.
    call(Method::POST, &format!("/waves/{wid}/state"), &office)
        .json(&json!({"state": "closed", "version": w["version"].as_i64().unwrap()}))
        .send()
        .await
        .unwrap();
    let r = call(Method::POST, &format!("/waves/{wid}/responses"), &inspector)
        .json(&answer(json!({"Q1": "1", "Q2": 5})))
        .send()
        .await
        .unwrap();
    assert_eq!(fields(&r.json().await.unwrap()), vec!["wave:wave_closed"]);
    // A unit's staff do not interview.
    let unit = app.token("unit", false).await;
    let r = call(Method::POST, &format!("/waves/{wid}/responses"), &unit)
        .json(&answer(json!({"Q1": "1", "Q2": 5})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn the_public_link_takes_one_answer_a_phone_and_keeps_no_link_to_it(b: Backend) {
    let app = TestApp::demo(b).await;
    let office = app.token("office", false).await;
    let q = published(&app, &office).await;
    let w = open_wave(&app, &office, &q, 50, 30).await;
    let region = w["regions"][0].as_str().unwrap();
    let path = format!("/s/{}/{region}", w["id"].as_str().unwrap());
    let phone = app.anonymous();
    let page = phone.get(&path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("满意吗"), "{html}");
    let token = hidden(&html, "csrf");
    let form = |t: &str| {
        vec![
            ("csrf", t.to_string()),
            ("group", "residents".to_string()),
            ("age_band", "30-44".to_string()),
            ("sex", "female".to_string()),
            ("q.Q1", "1".to_string()),
        ]
    };
    // A missing answer is named, nothing stored.
    let r = phone
        .client
        .post(phone.url(&path))
        .form(&form(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("class=\"field question invalid\"")
    );
    assert_eq!(app.count("survey_response").await, 0);
    let mut full = form(&token);
    full.push(("q.Q2", "5".to_string()));
    let r = phone
        .client
        .post(phone.url(&path))
        .form(&full)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("感谢参与"));
    assert_eq!(app.count("survey_response").await, 1);
    // The same phone again: refused politely, nothing more stored.
    let r = phone
        .client
        .post(phone.url(&path))
        .form(&full)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("已参加过"));
    assert_eq!(app.count("survey_response").await, 1);
    // Another site's page cannot post for the phone (no matching token).
    let other = app.anonymous();
    let r = other
        .client
        .post(other.url(&path))
        .form(&form("0".repeat(64).as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Anonymity: the answer row names no person, token, device or time;
    // the device row holds only a hash, with nothing to join on.
    let cols = |t: &str| {
        let t = t.to_string();
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
    let answer_cols = cols("survey_response").await;
    for bad in [
        "user_id",
        "token",
        "device_hash",
        "ip",
        "created_at",
        "submitted_by",
    ] {
        assert!(
            !answer_cols.iter().any(|c| c.contains(bad)),
            "{bad} in {answer_cols:?}"
        );
    }
    assert_eq!(cols("survey_device").await, vec!["device_hash", "wave_id"]);
    let stored: String = sqlx::query_scalar("SELECT device_hash FROM survey_device")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    assert_ne!(stored, token, "the cookie itself is never stored");
}

async fn the_demo_waves_show_one_change_beyond_the_noise_and_others_within(b: Backend) {
    let app = TestApp::demo(b).await;
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    let leader = app.token("leader", true).await;
    let call = bearer(&format!("http://{}", app.addr));
    let waves: Value = call(Method::GET, "/waves", &leader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let latest = waves[0]["id"].as_str().unwrap();
    let res: Value = call(Method::GET, &format!("/waves/{latest}/results"), &leader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["previous_wave_id"], waves[1]["id"]);
    let changes: Vec<&Value> = res["rates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["question"] == "Q3" && !r["change"].is_null())
        .collect();
    let beyond = changes
        .iter()
        .filter(|r| r["change"]["beyond_noise"] == true)
        .count();
    let rose_within = changes
        .iter()
        .filter(|r| {
            r["change"]["beyond_noise"] == false && r["change"]["diff"].as_f64().unwrap() > 0.02
        })
        .count();
    assert!(
        beyond >= 1 && rose_within >= 1,
        "{beyond} beyond, {rose_within} within"
    );
    // Every published rate has its n and interval, and over all groups its
    // weighted rate (a single group may miss a whole age band: no weights).
    for r in res["rates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ranked"] == true)
    {
        if !r["group"].is_null() {
            continue;
        }
        let i = &r["interval"];
        assert!(i["low"].as_f64().unwrap() <= i["p"].as_f64().unwrap());
        assert!(i["p"].as_f64().unwrap() <= i["high"].as_f64().unwrap());
        assert!(
            r["weighted"]["interval"]["n"].as_f64().unwrap() > 0.0,
            "{r}"
        );
    }
}
