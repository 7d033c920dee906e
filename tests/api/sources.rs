//! Materials built from the work (自动生成材料) on the full demo city: most
//! of its requirements met without an upload, and each generated source's
//! workbook checked against the records it was made from.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both!(the_demo_meets_most_requirements_from_its_own_records);

fn sheet(bytes: &[u8], name: &str) -> calamine::Range<calamine::Data> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    wb.worksheet_range(name).unwrap()
}

fn cell(s: &calamine::Range<calamine::Data>, r: usize, c: usize) -> String {
    s.get_value((r as u32, c as u32))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// Images stored in a workbook (its xl/media parts).
fn images_in(bytes: &[u8]) -> usize {
    let z = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    z.file_names()
        .filter(|n| n.as_ref().is_ok_and(|n| n.starts_with("xl/media/")))
        .count()
}

async fn the_demo_meets_most_requirements_from_its_own_records(b: Backend) {
    let app = TestApp::spawn(b).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    let web = wenming_web::WebConfig {
        files: app.files.clone(),
        ..wenming_web::WebConfig::local("127.0.0.1:0".parse().unwrap())
    };
    let built = wenming_web::load_demo_materials(&app.store, &web)
        .await
        .unwrap();
    let office = app.token("office", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let call = &call;
    let get = |path: String| {
        let office = office.clone();
        async move {
            let r = call(Method::GET, &path, &office).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            r
        }
    };
    let reqs: Vec<Value> = get("/evidence/requirements".into())
        .await
        .json()
        .await
        .unwrap();
    let sourced = reqs.iter().filter(|q| !q["source"].is_null()).count();
    assert!(built > 0 && built <= sourced, "{built} of {sourced}");

    // Met by a generated material alone: an accepted material of its own
    // that wenming made, dated inside the window.
    let mut automatic = 0;
    let mut seen = std::collections::HashMap::new();
    for q in &reqs {
        let d: Value = get(format!(
            "/evidence/requirements/{}",
            q["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
        let generated: Vec<&Value> = d["submissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["state"] == "accepted"
                    && s["material"]["in_window"] == true
                    && !s["material"]["generated_from"].is_null()
            })
            .collect();

        if generated.len() as i64 >= q["needed"].as_i64().unwrap() {
            assert_eq!(q["state"], "met", "{q}");
            automatic += 1;
        }
        if let Some(s) = generated.first() {
            let kind = s["material"]["generated_from"]["source"]["kind"]
                .as_str()
                .unwrap()
                .to_string();
            seen.entry(kind)
                .or_insert_with(|| (q.clone(), s["material"].clone()));
        }
    }
    let share = automatic as f64 / reqs.len() as f64;
    println!(
        "demo: {automatic} of {} material requirements met automatically ({:.0} %)",
        reqs.len(),
        share * 100.0
    );
    assert!(share > 0.5, "{automatic} of {}", reqs.len());
    for kind in [
        "case_statistics",
        "photo_pairs",
        "round_reports",
        "task_table",
        "survey_results",
    ] {
        assert!(
            seen.contains_key(kind),
            "no {kind} material: {:?}",
            seen.keys()
        );
    }
    let file = |m: &Value| {
        get(format!(
            "/evidence/materials/{}/file",
            m["id"].as_str().unwrap()
        ))
    };

    // Photo pairs: each row a case closed inside the window, filed against
    // the standard (by a finding, or by a category mapped to it), with its
    // two photos in the workbook.
    let (q, m) = &seen["photo_pairs"];
    let bytes = file(m).await.bytes().await.unwrap();
    let s = sheet(&bytes, "整改前后对比");
    let numbers: Vec<String> = (2..s.height()).map(|r| cell(&s, r, 0)).collect();
    assert!(!numbers.is_empty());
    assert_eq!(images_in(&bytes), 2 * numbers.len());
    let window = &m["generated_from"]["window"];
    for n in &numbers {
        let row: (String, Option<i64>, i64, i64) = sqlx::query_as(
            "SELECT c.state, c.closed_at, \
             (SELECT COUNT(*) FROM finding f JOIN framework_node s ON s.id = f.standard_id \
              WHERE f.case_id = c.id AND s.code = $2) + \
             (SELECT COUNT(*) FROM category cat LEFT JOIN category up ON up.id = cat.parent_id \
              WHERE cat.id = c.category_id AND (cat.standard_codes LIKE $3 OR up.standard_codes LIKE $3)), \
             (SELECT COUNT(*) FROM photo p WHERE p.case_id = c.id AND p.role = 'after') \
             FROM case_record c WHERE c.number = $1",
        )
        .bind(n)
        .bind(q["standard_code"].as_str().unwrap())
        .bind(format!("%\"{}\"%", q["standard_code"].as_str().unwrap()))
        .fetch_one(app.store.reader())
        .await
        .unwrap();
        assert_eq!(row.0, "closed", "{n}");
        let closed = jiff::Timestamp::from_microsecond(row.1.unwrap())
            .unwrap()
            .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
            .date()
            .to_string();
        assert!(
            closed.as_str() >= window[0].as_str().unwrap()
                && closed.as_str() < window[1].as_str().unwrap(),
            "{n} closed {closed}"
        );
        assert!(row.3 >= 1, "{n} has no after photo");
        assert!(
            row.2 >= 1,
            "{n} is not filed against {}",
            q["standard_code"]
        );
    }

    // Round reports: one row per round of the window, its observations and
    // passes recounted from the findings.
    // Survey results: the rates of the questions that evidence the
    // standard, every region, as the wave's results compute them.
    let (q, m) = &seen["survey_results"];
    let bytes = file(m).await.bytes().await.unwrap();
    let s = sheet(&bytes, "第1次问卷");
    assert!(s.height() > 3, "{}", s.height());
    let codes: Vec<String> = sqlx::query_scalar::<_, String>("SELECT doc FROM questionnaire")
        .fetch_all(app.store.reader())
        .await
        .unwrap()
        .iter()
        .flat_map(|d| {
            let d: Value = serde_json::from_str(d).unwrap();
            d["questions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| {
                    x["standards"]
                        .as_array()
                        .is_some_and(|s| s.iter().any(|c| c == &q["standard_code"]))
                })
                .map(|x| x["code"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for r in 2..s.height() {
        assert!(
            codes.contains(&cell(&s, r, 0)),
            "{} not in {codes:?}",
            cell(&s, r, 0)
        );
        // All groups together: no group named.
        assert_eq!(cell(&s, r, 3), "");
    }
    let (q, m) = &seen["round_reports"];
    let s = sheet(&file(m).await.bytes().await.unwrap(), "测评轮次");
    assert!(s.height() > 2);
    for r in 2..s.height() {
        let name = cell(&s, r, 0);
        let count = |own: bool| {
            let name = name.clone();
            let code = q["standard_code"].as_str().unwrap().to_string();
            let store = app.store.clone();
            async move {
                let sql = format!(
                    "SELECT COALESCE(SUM(CASE WHEN f.outcome = 'pass' THEN 1 ELSE 0 END), 0), \
                     COALESCE(SUM(CASE WHEN f.outcome <> 'na' THEN 1 ELSE 0 END), 0) \
                     FROM finding f JOIN inspection_round r ON r.id = f.round_id \
                     JOIN framework_node s ON s.id = f.standard_id WHERE r.name = $1 {}",
                    if own {
                        "AND s.code = $2"
                    } else {
                        "AND s.code <> $2"
                    }
                );
                let (passed, observed): (i64, i64) = sqlx::query_as(&sql)
                    .bind(&name)
                    .bind(&code)
                    .fetch_one(store.reader())
                    .await
                    .unwrap();
                (passed, observed)
            }
        };
        let (own, other) = (count(true).await, count(false).await);
        assert_eq!(
            cell(&s, r, 5),
            (own.1 + other.1).to_string(),
            "{name} observed"
        );
        assert_eq!(
            cell(&s, r, 6),
            (own.0 + other.0).to_string(),
            "{name} passed"
        );
        assert_eq!(cell(&s, r, 8), own.1.to_string(), "{name} own observed");
        assert_eq!(cell(&s, r, 9), own.0.to_string(), "{name} own passed");
    }

    // The task table: the standard's tasks, each with its lead unit.
    let (q, m) = &seen["task_table"];
    let s = sheet(&file(m).await.bytes().await.unwrap(), "任务分解表");
    let tasks: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.code, u.name FROM task t JOIN framework_node n ON n.id = t.standard_id \
         JOIN unit u ON u.id = t.lead_unit_id WHERE n.code = $1 AND t.framework_id = $2 ORDER BY u.name",
    )
    .bind(q["standard_code"].as_str().unwrap())
    .bind(q["framework_id"].as_str().unwrap())
    .fetch_all(app.store.reader())
    .await
    .unwrap();
    assert!(!tasks.is_empty());
    let mut listed: Vec<(String, String)> = (2..s.height())
        .map(|r| (cell(&s, r, 0), cell(&s, r, 2)))
        .filter(|(c, _)| !c.is_empty())
        .collect();
    listed.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(listed, tasks);
}
