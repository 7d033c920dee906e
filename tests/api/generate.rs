//! The synthetic city for measuring: the same seed gives the same rows, the
//! shares look like a working city, and real work is never written into.

use crate::helpers::*;
use crate::on_both;
use wenming_bench::generate::{GenSpec, generate};

on_both!(
    the_same_seed_gives_the_same_city,
    a_database_with_real_cases_is_refused_unless_forced,
    generated_cases_can_carry_photos_of_the_problem_and_the_fix,
);

async fn digest(app: &TestApp) -> Vec<(String, String, String, String, String, i64)> {
    let rows: Vec<(String, String, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT c.id, c.number, c.state, cat.code, u.name, c.reported_at FROM case_record c \
         JOIN category cat ON cat.id = c.category_id LEFT JOIN unit u ON u.id = c.unit_id ORDER BY c.number",
    )
    .fetch_all(app.store.reader())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(a, b, c, d, e, f)| (a, b, c, d, e.unwrap_or_default(), f))
        .collect()
}

async fn the_same_seed_gives_the_same_city(b: Backend) {
    let spec = GenSpec {
        cases: 600,
        seed: 7,
        force: false,
        until: "2026-11-01T00:00:00Z".parse().unwrap(),
    };
    let (one, two) = (TestApp::spawn(b).await, TestApp::spawn(b).await);
    let r = generate(&one.store, &spec, |_| {}).await.unwrap();
    generate(&two.store, &spec, |_| {}).await.unwrap();
    assert_eq!(r.cases, 600);
    let d = digest(&one).await;
    assert_eq!(d, digest(&two).await, "same seed, same rows");
    assert_eq!(d.len(), 600);
    // A working city: most cases closed, some still with their units, a
    // few rejected; every event belongs to a case.
    let share = |s: &str| d.iter().filter(|r| r.2 == s).count() as f64 / 600.0;
    assert!(share("closed") > 0.6, "{}", share("closed"));
    assert!(share("dispatched") + share("rework") > 0.01);
    assert!(share("rejected") > 0.01);
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_event e WHERE NOT EXISTS (SELECT 1 FROM case_record c WHERE c.id = e.case_id)",
    )
    .fetch_one(one.store.reader())
    .await
    .unwrap();
    assert_eq!(orphans, 0);
    assert!(one.count("case_event").await > 600 * 3);
    // Another seed, another city; and numbering goes on after it.
    let three = TestApp::spawn(b).await;
    generate(
        &three.store,
        &GenSpec {
            seed: 8,
            ..spec.clone()
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_ne!(digest(&three).await, d);
    generate(&three.store, &GenSpec { cases: 10, ..spec }, |_| {})
        .await
        .unwrap();
    let last = digest(&three).await.last().unwrap().1.clone();
    assert!(last.ends_with("000610"), "{last}");
}

async fn a_database_with_real_cases_is_refused_unless_forced(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = wenming_store::demo::load_catalogue(&app.store)
        .await
        .unwrap();
    let office = app.token("office", false).await;
    let r = bearer(&format!("http://{}", app.addr))(reqwest::Method::POST, "/cases", &office)
        .json(
            &serde_json::json!({"source": "hotline", "category_id": cats[0].id,
            "description": "真实的案件", "address": "望岳路 12 号"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let spec = GenSpec {
        cases: 50,
        seed: 1,
        force: false,
        until: wenming_bench::generate::today(),
    };
    let e = generate(&app.store, &spec, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    assert_eq!(app.count("case_record").await, 1, "nothing written");
    generate(
        &app.store,
        &GenSpec {
            force: true,
            ..spec
        },
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(app.count("case_record").await, 51);
}

async fn generated_cases_can_carry_photos_of_the_problem_and_the_fix(b: Backend) {
    let app = TestApp::spawn(b).await;
    let spec = GenSpec {
        cases: 300,
        seed: 3,
        force: false,
        until: wenming_bench::generate::today(),
    };
    generate(&app.store, &spec, |_| {}).await.unwrap();
    let made = wenming_bench::generate::photos(&app.store, &app.files, 4)
        .await
        .unwrap();
    assert_eq!(
        made, 8,
        "a before and an after photo for each of four cases"
    );
    let cases: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT case_id FROM photo WHERE case_id IS NOT NULL")
            .fetch_all(app.store.reader())
            .await
            .unwrap();
    assert_eq!(cases.len(), 4);
    // As the verifier sees them: one of each, the pictures' own time and
    // place, nothing flagged (they are different pictures, taken in time).
    let admin = app.token("admin", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    for id in &cases {
        let r = call(reqwest::Method::GET, &format!("/cases/{id}/photos"), &admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let photos: Vec<serde_json::Value> = r.json().await.unwrap();
        let roles: Vec<&str> = photos.iter().filter_map(|p| p["role"].as_str()).collect();
        assert_eq!(roles.len(), 2, "{photos:?}");
        assert!(
            roles.contains(&"before") && roles.contains(&"after"),
            "{roles:?}"
        );
        for p in &photos {
            assert!(p["taken_at"].is_string() && p["gps_lon"].is_number(), "{p}");
            assert_eq!(p["flags"], serde_json::json!([]), "{p}");
            let original = call(
                reqwest::Method::GET,
                &format!("/photos/{}/original", p["id"].as_str().unwrap()),
                &admin,
            )
            .send()
            .await
            .unwrap();
            assert_eq!(original.status(), reqwest::StatusCode::OK);
        }
    }
    // Asked again, other cases get theirs.
    wenming_bench::generate::photos(&app.store, &app.files, 2)
        .await
        .unwrap();
    assert_eq!(app.count("photo").await, 12);
}
