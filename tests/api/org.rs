use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};

on_both!(
    an_invalid_form_keeps_values_and_saves_nothing,
    concurrent_edits_one_wins_the_other_is_told,
    moving_a_region_keeps_its_history,
    unit_lists_filter_page_and_export,
    region_rules_are_enforced,
    units_keep_their_people,
    the_demo_city_has_every_level_and_role,
    region_export_follows_scope,
);

async fn an_invalid_form_keeps_values_and_saves_nothing(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let before = app.count("unit").await;
    let audit_before = app.count("audit_log").await;
    let r = s
        .post(
            "/units",
            &[
                ("name", "市新建局"),
                ("kind", "department"),
                ("region_id", ""),
                ("liaison_name", "李四"),
                ("liaison_phone", "12ab"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("value=\"市新建局\"")
            && html.contains("value=\"李四\"")
            && html.contains("value=\"12ab\""),
        "values are kept"
    );
    assert!(
        html.contains("id=\"e-liaison_phone\"") && html.contains("电话号码格式不对"),
        "the phone error sits by its field"
    );
    assert!(html.contains("id=\"e-region_id\"") && html.contains("请填写此项"));
    // A duplicate name (spacing and width ignored) is reported on the name.
    let city = app.region_id("QL").await.to_string();
    let r = s
        .post(
            "/units",
            &[
                ("name", " 市城市管理局 "),
                ("kind", "department"),
                ("region_id", &city),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("已经有同名"));
    assert_eq!(app.count("unit").await, before);
    assert_eq!(
        app.count("audit_log").await,
        audit_before,
        "no audit record for what was not saved"
    );
}

async fn concurrent_edits_one_wins_the_other_is_told(b: Backend) {
    let app = TestApp::demo(b).await;
    let unit = wenming_store::org::find_unit_by_name(&app.store, "市教育局")
        .await
        .unwrap()
        .unwrap();
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let body = |phone: &str| {
        serde_json::json!({"name": unit.name, "kind": "department", "region_id": unit.region_id,
            "liaison_name": "甲", "liaison_phone": phone, "version": unit.version})
    };
    let path = format!("/units/{}", unit.id);
    let (a, c) = tokio::join!(
        call(Method::PUT, &path, &token)
            .json(&body("13900000001"))
            .send(),
        call(Method::PUT, &path, &token)
            .json(&body("13900000002"))
            .send(),
    );
    let mut statuses = [a.unwrap().status().as_u16(), c.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "exactly one edit applies");
    let after = wenming_store::org::find_unit_by_name(&app.store, "市教育局")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.version, unit.version + 1);
    // The page form says so too, and keeps what the user typed.
    let s = app.as_role("office").await;
    let r = s
        .post(
            &path,
            &[
                ("name", "市教育局"),
                ("kind", "department"),
                ("region_id", &unit.region_id.to_string()),
                ("liaison_name", "乙"),
                ("version", &unit.version.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("已被他人修改") && html.contains("value=\"乙\""));
}

async fn moving_a_region_keeps_its_history(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let street = app.region_id("LJ01").await;
    let fm = app.region_id("FM").await;
    let grid = app.region_id("LJ010101").await;
    let before_move = jiff::Timestamp::now();
    let region = wenming_store::org::get_region(&app.store, &everything(&app).await, street)
        .await
        .unwrap();
    let r = s
        .post(
            &format!("/regions/{street}"),
            &[
                ("parent_id", &fm.to_string()),
                ("level", "street"),
                ("code", "LJ01"),
                ("name", "滨江街道"),
                ("version", &region.version.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The subtree moved with it: the grid cell's path now runs through 凤鸣区.
    let g = wenming_store::org::get_region(&app.store, &everything(&app).await, grid)
        .await
        .unwrap();
    assert!(g.path.contains(&fm.to_string()) && g.path.contains(&street.to_string()));
    // An inspector of 临江区 no longer sees it; the tree as it was still has it in 临江区.
    let insp = app.as_role("inspector").await;
    assert_eq!(
        insp.get(&format!("/regions/{grid}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let then = wenming_store::org::tree_at(&app.store, before_move)
        .await
        .unwrap();
    let was = then.iter().find(|p| p.region_id == street).unwrap();
    assert_eq!(was.parent_id, Some(app.region_id("LJ").await));
    let now = wenming_store::org::tree_at(&app.store, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        now.iter()
            .find(|p| p.region_id == street)
            .unwrap()
            .parent_id,
        Some(fm)
    );
    let (_, page) = s.get_text(&format!("/regions/{street}")).await;
    assert!(page.contains("隶属变更记录") && page.contains("至今"));
}

async fn everything(app: &TestApp) -> wenming_domain::policy::Scope {
    let root = wenming_store::org::root_region(&app.store)
        .await
        .unwrap()
        .unwrap();
    wenming_domain::policy::Scope::everything(&root.path)
}

async fn unit_lists_filter_page_and_export(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("leader", true).await;
    // Keyset pages cover every unit exactly once.
    let mut seen = vec![];
    let mut after: Option<String> = None;
    for pages in 1.. {
        assert!(pages <= 100, "the pages never end");
        let q = match &after {
            Some(a) => format!("/units?limit=7&after={a}"),
            None => "/units?limit=7".into(),
        };
        let page: serde_json::Value = call(Method::GET, &q, &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for u in page["items"].as_array().unwrap() {
            seen.push(u["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.into()),
            None => break,
        }
    }
    let total = app.count("unit").await as usize;
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total);
    // Filters: street offices in 临江区.
    let lj = app.region_id("LJ").await;
    let page: serde_json::Value = call(
        Method::GET,
        &format!("/units?kind=street_office&region_id={lj}"),
        &token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(page["total"], 3);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["name"].as_str().unwrap().ends_with("街道办事处"))
    );
    // The page keeps filters in the URL and exports the same rows.
    let s = app.as_role("office").await;
    let (_, html) = s
        .get_text(&format!("/units?kind=street_office&region={lj}"))
        .await;
    assert!(html.contains("共 3 条"));
    let html = html.replace("&#38;", "&");
    assert!(
        html.contains(&format!("/units.csv?q=&kind=street_office&region={lj}")),
        "export keeps the filters"
    );
    let csv = s
        .get(&format!("/units.csv?kind=street_office&region={lj}"))
        .await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 4, "a header and three units");
    assert!(text.starts_with('\u{feff}'));
}

async fn region_rules_are_enforced(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("office", false).await;
    let lj = app.region_id("LJ").await;
    let community = app.region_id("LJ0101").await;
    let cases = [
        (
            serde_json::json!({"parent_id": lj, "level": "grid", "code": "X1", "name": "错层网格"}),
            "level",
            "level_mismatch",
        ),
        (
            serde_json::json!({"parent_id": null, "level": "city", "code": "X2", "name": "第二个市"}),
            "level",
            "second_city",
        ),
        (
            serde_json::json!({"parent_id": community, "level": "grid", "code": "LJ01", "name": "重号"}),
            "code",
            "duplicate",
        ),
        (
            serde_json::json!({"parent_id": community, "level": "grid", "code": "X3", "name": "开口",
            "boundary": {"type": "Polygon", "coordinates": [[[118.6, 31.2], [118.61, 31.2], [118.61, 31.21]]]}}),
            "boundary",
            "boundary_ring_too_short",
        ),
    ];
    for (body, field, code) in cases {
        let r = call(Method::POST, "/regions", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let e: serde_json::Value = r.json().await.unwrap();
        assert_eq!(e["errors"][0]["field"], field, "{body}");
        assert_eq!(e["errors"][0]["code"], code, "{body}");
        assert!(!e["errors"][0]["message"].as_str().unwrap().is_empty());
    }
    // Moving a district under its own street is refused.
    let street = app.region_id("LJ01").await;
    let district = wenming_store::org::get_region(&app.store, &everything(&app).await, lj)
        .await
        .unwrap();
    let r = call(Method::PUT, &format!("/regions/{lj}"), &token)
        .json(&serde_json::json!({"parent_id": street, "level": "district", "code": "LJ", "name": "临江区", "version": district.version}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = call(Method::POST, "/regions", &token)
        .json(&serde_json::json!({"parent_id": community, "level": "grid", "code": "LJ010104", "name": "新网格"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn units_keep_their_people(b: Backend) {
    let app = TestApp::demo(b).await;
    let unit = app.unit_id("市城市管理局").await;
    let office = app.as_role("office").await;
    let r = office
        .post(
            &format!("/units/{unit}/people"),
            &[("name", ""), ("phone", "123")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = office
        .post(
            &format!("/units/{unit}/people"),
            &[
                ("name", "周海"),
                ("title", "市容科科长"),
                ("phone", "13600001234"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The unit's own staff see the person on their unit's page but cannot add people.
    let staff = app.as_role("unit").await;
    let (status, html) = staff.get_text(&format!("/units/{unit}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("周海") && html.contains("市容科科长"));
    assert!(
        !html.contains("/people/new"),
        "no add button for unit staff"
    );
    assert_eq!(
        staff
            .get(&format!("/units/{unit}/people/new"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // An inspector of 临江区 cannot see a city department's people at all.
    let call = bearer(&format!("http://{}", app.addr));
    let t = app.token("inspector", true).await;
    assert_eq!(
        call(Method::GET, &format!("/units/{unit}/people"), &t)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let t = app.token("leader", true).await;
    let people: serde_json::Value = call(Method::GET, &format!("/units/{unit}/people"), &t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let zhou = people
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "周海")
        .unwrap()
        .clone();
    // Editing goes through the same version check, and is audited.
    let t = app.token("office", false).await;
    let r = call(Method::PUT, &format!("/people/{}", zhou["id"].as_str().unwrap()), &t)
        .json(&serde_json::json!({"name": "周海", "title": "副局长", "phone": "13600001234", "version": zhou["version"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let trail =
        wenming_store::audit::for_entity(&app.store, "person", zhou["id"].as_str().unwrap())
            .await
            .unwrap();
    assert_eq!(
        trail.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["create", "update"]
    );
}

async fn the_demo_city_has_every_level_and_role(b: Backend) {
    let app = TestApp::demo(b).await;
    let counts = wenming_store::org::counts(&app.store, &everything(&app).await)
        .await
        .unwrap();
    let levels: Vec<(&str, i64)> = counts.regions.iter().map(|(l, n)| (l.code(), *n)).collect();
    assert_eq!(
        levels,
        [
            ("city", 1),
            ("district", 3),
            ("street", 9),
            ("community", 27),
            ("grid", 81)
        ]
    );
    assert_eq!(counts.active_units, 40);
    let boundaries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM region WHERE boundary IS NOT NULL")
            .fetch_one(app.store.reader())
            .await
            .unwrap();
    assert_eq!(
        boundaries, 121,
        "every region, grid cells included, has a boundary"
    );
    for role in ["admin", "office", "inspector", "unit", "leader"] {
        let s = app.as_role(role).await;
        assert_eq!(
            s.get("/").await.status(),
            StatusCode::OK,
            "{role} can sign in and see a home page"
        );
    }
    // Loading again is a no-op.
    assert_eq!(
        wenming_store::demo::load(&app.store).await.unwrap(),
        wenming_store::demo::DemoOutcome::AlreadyLoaded
    );
    assert_eq!(app.count("unit").await, 40);
}

async fn region_export_follows_scope(b: Backend) {
    let app = TestApp::demo(b).await;
    let inspector = app.as_role("inspector").await;
    let csv = inspector.get("/regions.csv").await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // 临江区 with its 3 streets, 9 communities and 27 grid cells, after a header.
    assert_eq!(lines.len(), 1 + 40);
    // The parent, 青岚市, is outside the scope and is not named.
    assert!(lines[1].starts_with("LJ,临江区,区,,"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("LJ01,滨江街道,街道,LJ,"),
        "{}",
        lines[2]
    );
    assert!(
        lines.iter().skip(1).all(|l| l.starts_with("LJ")),
        "nothing outside the inspector's district"
    );
    assert!(
        lines[2].contains("\"{\"\"coordinates\"\""),
        "boundaries are exported as GeoJSON: {}",
        lines[2]
    );
}
