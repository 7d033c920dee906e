//! Every role against every route of the foundation: allowed, denied
//! (403), and out of scope (404), through the pages and the API.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};

on_both!(
    pages_answer_each_role_as_the_policy_says,
    api_answers_each_role_as_the_policy_says,
    writes_are_refused_outside_role_and_scope
);

const ROLES: [&str; 5] = ["admin", "office", "inspector", "unit", "leader"];

struct Ids {
    framework: String,
    standard: String,
    edu_task: String,
    office_user: String,
    lj: String,
    fm: String,
    city_unit: String,
    lj_unit: String,
    fm_unit: String,
    /// A site in 临江区 that the unit account's unit does not sponsor.
    lj_site: String,
    /// An inspection round under way.
    round: String,
}

async fn ids(app: &TestApp) -> Ids {
    let f = wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .unwrap();
    let nodes = wenming_store::framework::nodes(&app.store, f.id)
        .await
        .unwrap();
    let root = wenming_store::org::root_region(&app.store)
        .await
        .unwrap()
        .unwrap();
    let all = wenming_domain::policy::Scope::everything(&root.path);
    let tasks = wenming_store::task::list(&app.store, &all, &Default::default())
        .await
        .unwrap();
    Ids {
        framework: f.id.to_string(),
        standard: nodes
            .iter()
            .find(|n| n.standard.is_some())
            .unwrap()
            .id
            .to_string(),
        edu_task: tasks
            .iter()
            .find(|t| t.lead_unit.name == "市教育局")
            .unwrap()
            .id
            .to_string(),
        office_user: app.user_id("office").await.to_string(),
        lj: app.region_id("LJ").await.to_string(),
        fm: app.region_id("FM").await.to_string(),
        city_unit: app.unit_id("市城市管理局").await.to_string(),
        lj_unit: app.unit_id("临江区城市管理局").await.to_string(),
        fm_unit: app.unit_id("凤鸣区城市管理局").await.to_string(),
        round: wenming_store::inspection::create(
            &app.store,
            &wenming_store::Ctx::system("test"),
            &app.system().await,
            &wenming_domain::inspection::RoundForm {
                name: "督查".into(),
                kind: "supervision".into(),
                starts_on: "2026-11-23".into(),
                ends_on: "2026-11-27".into(),
                sample_size: "12".into(),
                seed: "5".into(),
                ..Default::default()
            }
            .parse()
            .unwrap(),
        )
        .await
        .unwrap()
        .id
        .to_string(),
        lj_site: {
            let city_unit = app.unit_id("市城市管理局").await;
            wenming_store::site::list(&app.store, &all, &Default::default())
                .await
                .unwrap()
                .into_iter()
                .find(|s| s.code.starts_with("LJ-") && s.sponsor_unit_id != Some(city_unit))
                .unwrap()
                .id
                .to_string()
        },
    }
}

/// (path, expected status for admin, office, inspector (临江区), unit staff
/// (市城市管理局), leader).
fn page_matrix(i: &Ids) -> Vec<(String, [u16; 5])> {
    vec![
        ("/".into(), [200, 200, 200, 200, 200]),
        ("/account".into(), [200, 200, 200, 200, 200]),
        ("/regions".into(), [200, 200, 200, 403, 200]),
        (format!("/regions/{}", i.lj), [200, 200, 200, 403, 200]),
        (format!("/regions/{}", i.fm), [200, 200, 404, 403, 200]),
        ("/regions.csv".into(), [200, 200, 200, 403, 200]),
        ("/regions/new".into(), [200, 200, 403, 403, 403]),
        (format!("/regions/{}/edit", i.lj), [200, 200, 403, 403, 403]),
        (format!("/regions/{}/edit", i.fm), [200, 200, 404, 403, 403]),
        ("/units".into(), [200, 200, 200, 200, 200]),
        ("/units.csv".into(), [200, 200, 200, 200, 200]),
        (format!("/units/{}", i.city_unit), [200, 200, 404, 200, 200]),
        (format!("/units/{}", i.lj_unit), [200, 200, 200, 404, 200]),
        (format!("/units/{}", i.fm_unit), [200, 200, 404, 404, 200]),
        ("/units/new".into(), [200, 200, 403, 403, 403]),
        (
            format!("/units/{}/edit", i.lj_unit),
            [200, 200, 403, 404, 403],
        ),
        (
            format!("/units/{}/edit", i.city_unit),
            [200, 200, 404, 403, 403],
        ),
        ("/users".into(), [200, 403, 403, 403, 403]),
        ("/frameworks".into(), [200, 200, 200, 200, 200]),
        (
            "/frameworks/template.xlsx".into(),
            [200, 200, 200, 200, 200],
        ),
        (
            format!("/frameworks/{}", i.framework),
            [200, 200, 200, 200, 200],
        ),
        (
            format!("/frameworks/{}/export.xlsx", i.framework),
            [200, 200, 200, 200, 200],
        ),
        (
            format!("/frameworks/{}/tasks", i.framework),
            [200, 200, 403, 403, 403],
        ),
        (
            format!("/standards/{}/edit", i.standard),
            [200, 200, 403, 403, 403],
        ),
        (
            format!("/standards/{}/task", i.standard),
            [200, 200, 403, 403, 403],
        ),
        ("/tasks".into(), [200, 200, 200, 200, 200]),
        ("/tasks.xlsx".into(), [200, 200, 200, 200, 200]),
        ("/sites".into(), [200, 200, 200, 200, 200]),
        ("/sites/new".into(), [200, 200, 403, 403, 403]),
        (format!("/sites/{}", i.lj_site), [200, 200, 200, 404, 200]),
        (
            format!("/sites/{}/edit", i.lj_site),
            [200, 200, 403, 404, 403],
        ),
        (
            format!("/audit/site/{}", i.lj_site),
            [200, 200, 403, 403, 403],
        ),
        ("/sites.xlsx".into(), [200, 200, 200, 200, 200]),
        ("/sites/import".into(), [200, 200, 403, 403, 403]),
        ("/inspect".into(), [200, 200, 200, 403, 403]),
        ("/rounds".into(), [200, 200, 200, 403, 200]),
        ("/rounds/new".into(), [200, 200, 403, 403, 403]),
        ("/rounds/import".into(), [200, 200, 403, 403, 403]),
        (format!("/rounds/{}", i.round), [200, 200, 200, 403, 200]),
        (
            format!("/rounds/{}/report.xlsx", i.round),
            [200, 200, 200, 403, 200],
        ),
        ("/cases".into(), [200, 200, 200, 200, 200]),
        ("/cases?inbox=overdue".into(), [200, 200, 200, 200, 200]),
        ("/cases/new".into(), [200, 200, 200, 403, 403]),
        ("/cases/map".into(), [200, 200, 200, 200, 200]),
        ("/cases/metrics".into(), [200, 200, 200, 200, 200]),
        ("/cases/categories".into(), [200, 200, 200, 200, 200]),
        ("/cases/routing".into(), [200, 200, 200, 200, 200]),
        (format!("/tasks/{}", i.edu_task), [200, 200, 404, 404, 200]),
        ("/users/new".into(), [200, 403, 403, 403, 403]),
        (
            format!("/users/{}", i.office_user),
            [200, 403, 403, 403, 403],
        ),
        (
            format!("/users/{}/edit", i.office_user),
            [200, 403, 403, 403, 403],
        ),
        (
            format!("/audit/user/{}", i.office_user),
            [200, 403, 403, 403, 403],
        ),
        ("/audit".into(), [200, 403, 403, 403, 403]),
        (
            format!("/audit/unit/{}", i.lj_unit),
            [200, 200, 403, 403, 403],
        ),
        (format!("/audit/region/{}", i.fm), [200, 200, 403, 403, 403]),
        (
            format!("/units/{}", uuid::Uuid::now_v7()),
            [404, 404, 404, 404, 404],
        ),
        ("/units/not-an-id".into(), [404, 404, 404, 404, 404]),
    ]
}

async fn pages_answer_each_role_as_the_policy_says(b: Backend) {
    let app = TestApp::demo(b).await;
    let ids = ids(&app).await;
    let matrix = page_matrix(&ids);
    let mut wrong = vec![];
    for (r, role) in ROLES.iter().enumerate() {
        let s = app.as_role(role).await;
        for (path, expected) in &matrix {
            let got = s.get(path).await.status().as_u16();
            if got != expected[r] {
                wrong.push(format!(
                    "{role} GET {path}: expected {}, got {got}",
                    expected[r]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nobody signed in: every page but login sends you to log in.
    for (path, _) in &matrix {
        let r = app.anonymous().get(path).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "anonymous GET {path}");
        assert!(location(&r).starts_with("/login?next="));
    }
}

async fn api_answers_each_role_as_the_policy_says(b: Backend) {
    let app = TestApp::demo(b).await;
    let i = ids(&app).await;
    let matrix: Vec<(String, [u16; 5])> = vec![
        ("/me".into(), [200, 200, 200, 200, 200]),
        ("/regions".into(), [200, 200, 200, 403, 200]),
        (format!("/regions/{}", i.fm), [200, 200, 404, 403, 200]),
        (
            format!("/regions/{}/history", i.lj),
            [200, 200, 200, 403, 200],
        ),
        ("/units".into(), [200, 200, 200, 200, 200]),
        (format!("/units/{}", i.city_unit), [200, 200, 404, 200, 200]),
        (format!("/units/{}", i.fm_unit), [200, 200, 404, 404, 200]),
        ("/users".into(), [200, 403, 403, 403, 403]),
        ("/tokens".into(), [200, 200, 200, 200, 200]),
        ("/frameworks".into(), [200, 200, 200, 200, 200]),
        (
            format!("/frameworks/{}/nodes", i.framework),
            [200, 200, 200, 200, 200],
        ),
        (
            format!("/frameworks/{}/coverage", i.framework),
            [200, 200, 200, 200, 200],
        ),
        ("/tasks".into(), [200, 200, 200, 200, 200]),
        (format!("/tasks/{}", i.edu_task), [200, 200, 404, 404, 200]),
        (
            format!("/audit/unit/{}", i.lj_unit),
            [200, 200, 403, 403, 403],
        ),
        ("/audit/verify".into(), [200, 403, 403, 403, 403]),
        ("/site-types".into(), [200, 200, 200, 200, 200]),
        ("/sites".into(), [200, 200, 200, 200, 200]),
        (format!("/sites/{}", i.lj_site), [200, 200, 200, 404, 200]),
        ("/sites/export".into(), [200, 200, 200, 200, 200]),
        ("/rounds".into(), [200, 200, 200, 403, 200]),
        (format!("/rounds/{}", i.round), [200, 200, 200, 403, 200]),
        (
            format!("/rounds/{}/report", i.round),
            [200, 200, 200, 403, 200],
        ),
        (
            format!("/rounds/{}/sites", i.round),
            [200, 200, 200, 403, 200],
        ),
        (
            format!("/rounds/{}/unmatched", i.round),
            [200, 200, 200, 403, 200],
        ),
        ("/assignments".into(), [200, 200, 200, 403, 403]),
    ];
    let call = bearer(&format!("http://{}", app.addr));
    let mut wrong = vec![];
    for (r, role) in ROLES.iter().enumerate() {
        let token = app.token(role, false).await;
        for (path, expected) in &matrix {
            let resp = call(Method::GET, path, &token).send().await.unwrap();
            let got = resp.status().as_u16();
            if got != expected[r] {
                wrong.push(format!(
                    "{role} GET /api/v1{path}: expected {}, got {got}",
                    expected[r]
                ));
            } else if got >= 400 {
                let body: serde_json::Value = resp.json().await.unwrap();
                assert!(
                    body["errors"][0]["code"].is_string()
                        && body["errors"][0]["message"].is_string()
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Unit staff listing units see exactly their own.
    let token = app.token("unit", false).await;
    let page: serde_json::Value = call(Method::GET, "/units", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["name"], "市城市管理局");
    // No token, or a bad one: 401 with the error shape.
    let r = call(Method::GET, "/units", "wm_nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = TestApp::client()
        .get(app.url("/api/v1/units"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn writes_are_refused_outside_role_and_scope(b: Backend) {
    let app = TestApp::demo(b).await;
    let i = ids(&app).await;
    let lj_unit = wenming_store::org::find_unit_by_name(&app.store, "临江区城市管理局")
        .await
        .unwrap()
        .unwrap();
    let version = lj_unit.version.to_string();
    // (role, status creating a unit, status editing 临江区城市管理局)
    let expected = [
        ("office", 303, 303),
        ("inspector", 403, 403),
        ("unit", 403, 404),
        ("leader", 403, 403),
        ("admin", 303, 409),
    ];
    for (role, create, edit) in expected {
        let s = app.as_role(role).await;
        let name = format!("市{role}测试局");
        let r = s
            .post(
                "/units",
                &[
                    ("name", &name),
                    ("kind", "department"),
                    ("region_id", &i.lj),
                    ("active", "on"),
                ],
            )
            .await;
        assert_eq!(r.status().as_u16(), create, "{role} creating a unit");
        let r = s
            .post(
                &format!("/units/{}", i.lj_unit),
                &[
                    ("name", "临江区城市管理局"),
                    ("kind", "department"),
                    ("region_id", &i.lj),
                    ("liaison_phone", "13911112222"),
                    ("active", "on"),
                    ("version", &version),
                ],
            )
            .await;
        assert_eq!(
            r.status().as_u16(),
            edit,
            "{role} editing a unit (admin comes after office and holds a stale version)"
        );
    }
    // Only an administrator manages accounts and grants.
    for role in ["office", "inspector", "unit", "leader"] {
        let s = app.as_role(role).await;
        let r = s
            .post(
                "/users",
                &[
                    ("username", "intruder"),
                    ("display_name", "X"),
                    ("password", "long-enough-pw"),
                    ("active", "on"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} creating a user");
        let me = app.user_id(role).await;
        let r = s
            .post(
                &format!("/users/{me}/grants"),
                &[
                    ("role", "administrator"),
                    ("scope", &format!("region:{}", i.lj)),
                ],
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "{role} granting themselves a role"
        );
    }
    assert_eq!(app.count("role_grant").await, 7, "no grant was added");
    // A district office cannot create units outside its district.
    let admin = app.as_role("admin").await;
    let uid = app.user_id("inspector").await;
    let r = admin
        .post(
            &format!("/users/{uid}/grants"),
            &[("role", "office"), ("scope", &format!("region:{}", i.lj))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let s = app.as_role("inspector").await;
    let r = s
        .post(
            "/units",
            &[
                ("name", "凤鸣区新局"),
                ("kind", "department"),
                ("region_id", &i.fm),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().await.unwrap().contains("请从列表中选择"),
        "a region outside the scope is not a valid choice"
    );
    let r = s
        .post(
            "/units",
            &[
                ("name", "临江区新局"),
                ("kind", "department"),
                ("region_id", &i.lj),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}
