//! Verification reaches someone who may verify (issue 14): a reported fix
//! is put to the inspector who found the problem, else to an inspector of
//! its district with the fewest fixes waiting, never to anyone of the
//! handling unit; the office reassigns; every step that hands work to
//! someone tells them, in words meant for them.

use crate::cases::{IN_FM, IN_LJ, catalogue, register_and_dispatch, report, step, sub};
use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use wenming_domain::account::{Role, ScopeRef, UserInput};
use wenming_domain::policy::may;

on_both!(
    a_fix_goes_to_the_inspector_who_found_it_and_only_they_or_the_office_verify,
    else_to_an_inspector_of_the_district_with_the_fewest_waiting_never_of_the_unit,
    the_office_reassigns_and_a_rework_comes_back_to_the_same_verifier,
    each_step_that_hands_work_on_tells_the_people_it_is_handed_to,
);

const CGJ: &str = "市城市管理局";

/// A new active inspector reaching `region` (the city when None), of
/// `unit` when given; returns their id and an API token.
async fn inspector(
    app: &TestApp,
    username: &str,
    region: Option<Uuid>,
    unit: Option<Uuid>,
) -> (Uuid, String) {
    let ctx = wenming_store::Ctx::system("test");
    let permit = app.system::<may::ManageUsers>().await;
    let user = wenming_store::accounts::create_user(
        &app.store,
        &ctx,
        &permit,
        UserInput {
            username: username.into(),
            display_name: format!("督查员{username}"),
            phone: None,
            unit_id: unit,
            password: Some("a-long-test-password".into()),
            active: true,
        },
        false,
    )
    .await
    .unwrap();
    let region = match region {
        Some(r) => r,
        None => {
            wenming_store::org::root_region(&app.store)
                .await
                .unwrap()
                .unwrap()
                .id
        }
    };
    wenming_store::accounts::add_grant(
        &app.store,
        &ctx,
        &permit,
        user.id,
        Role::Inspector,
        ScopeRef::Region(region),
    )
    .await
    .unwrap();
    (user.id, app.token(username, false).await)
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let call = bearer(&format!("http://{}", app.addr));
    let r = call(Method::GET, path, token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn ok(r: reqwest::Response) -> Value {
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The kinds of the notifications `token`'s owner has, newest first.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    get(app, token, "/notifications")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect()
}

/// A case reported by `reporter` at `at`, dispatched to 市城市管理局 and
/// reported fixed by its staff.
async fn handled(
    app: &TestApp,
    cats: &[wenming_store::case::Category],
    reporter: &str,
    at: (f64, f64),
) -> Value {
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let c = report(app, reporter, sub(cats, "0101").id, at).await;
    let c = register_and_dispatch(app, &office, &c, CGJ, 48).await;
    ok(step(app, &unit, &c, json!({"step": "handle", "note": "已清理"})).await).await
}

async fn a_fix_goes_to_the_inspector_who_found_it_and_only_they_or_the_office_verify(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let liu = app.token("inspector", false).await; // 刘晓东, of 临江区
    let liu_id = app.user_id("inspector").await;
    let (roving_id, roving) = inspector(&app, "roving", None, None).await;
    // Found by 刘晓东 in his district: his to verify.
    let c = handled(&app, &cats, &liu, IN_LJ).await;
    assert_eq!(c["state"], "handled");
    assert_eq!(c["verifier_id"], json!(liu_id));
    assert_eq!(c["verifier"], "刘晓东");
    assert!(c["verifier_since"].is_string());
    // Found by a city-wide inspector in the same district: theirs, though
    // 刘晓东 works there.
    let d = handled(&app, &cats, &roving, IN_LJ).await;
    assert_eq!(d["verifier_id"], json!(roving_id));
    // Each is told, and has it in their list of fixes to verify.
    assert_eq!(kinds(&app, &liu).await, ["verify_assigned"]);
    let mine = get(
        &app,
        &liu,
        &format!("/cases?state=handled&verifier_id={liu_id}"),
    )
    .await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["number"], c["number"]);
    // Another inspector who sees the case may not take it over...
    let r = step(
        &app,
        &roving,
        &c,
        json!({"step": "verify", "passed": true, "note": ""}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "not_assigned");
    // ... and the page says why, in words.
    let s = app.login("roving", "a-long-test-password").await;
    let (_, page) = s
        .get_text(&format!("/cases/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(page.contains("此案件已指派给其他核查人"), "{page}");
    // The dispatcher is told why there is nothing for them to do.
    let office = app.as_role("office").await;
    let (_, page) = office
        .get_text(&format!("/cases/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(page.contains("处置或派遣过此案件的人不能核查它"), "{page}");
    assert!(page.contains("刘晓东"), "the verifier is named");
    // The verifier's phone page lists it, with the place to go to.
    let phone = app.as_role("inspector").await;
    let (_, inspect) = phone.get_text("/inspect").await;
    assert!(inspect.contains(c["number"].as_str().unwrap()));
    assert!(!inspect.contains(d["number"].as_str().unwrap()));
    assert!(inspect.contains("geo:31.21"), "a link to navigate there");
    // The office's inbox names whom each fix waits for.
    let (_, list) = office.get_text("/cases?inbox=to_verify").await;
    assert!(list.contains("刘晓东") && list.contains("督查员roving"));
    // The one it was put to closes it.
    let closed = ok(step(
        &app,
        &liu,
        &c,
        json!({"step": "verify", "passed": true, "note": "复核通过"}),
    )
    .await)
    .await;
    assert_eq!(closed["state"], "closed");
    assert_eq!(closed["verifier_id"], Value::Null);
}

async fn else_to_an_inspector_of_the_district_with_the_fewest_waiting_never_of_the_unit(
    b: Backend,
) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let lj = app.region_id("LJ").await;
    let cgj = app.unit_id(CGJ).await;
    let office = app.token("office", false).await;
    let liu_id = app.user_id("inspector").await;
    // A colleague of the handling unit works in 临江区 too, and a third
    // inspector; and one reaches the whole city without working anywhere.
    let (colleague, _) = inspector(&app, "colleague", Some(lj), Some(cgj)).await;
    let (third, _) = inspector(&app, "third", Some(lj), None).await;
    let (roving, _) = inspector(&app, "roving", None, None).await;
    // Reported by the office (it finds nothing itself): rotation chooses.
    let first = handled(&app, &cats, &office, IN_LJ).await;
    let second = handled(&app, &cats, &office, IN_LJ).await;
    let chosen: Vec<Uuid> = [&first, &second]
        .iter()
        .map(|c| c["verifier_id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_ne!(
        chosen[0], chosen[1],
        "the one with fewer waiting gets the next"
    );
    for v in &chosen {
        assert!([liu_id, third].contains(v), "an inspector of 临江区");
        assert_ne!(*v, colleague, "never someone of the handling unit");
        assert_ne!(*v, roving, "the district's own first");
    }
    // In 凤鸣区 its own inspector is chosen.
    let fm = handled(&app, &cats, &office, IN_FM).await;
    assert_eq!(fm["verifier_id"], json!(app.user_id("inspector2").await));
}

async fn the_office_reassigns_and_a_rework_comes_back_to_the_same_verifier(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let lj = app.region_id("LJ").await;
    let cgj = app.unit_id(CGJ).await;
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let liu = app.token("inspector", false).await;
    let (colleague, _) = inspector(&app, "colleague", Some(lj), Some(cgj)).await;
    let (third, third_token) = inspector(&app, "third", Some(lj), None).await;
    let c = handled(&app, &cats, &liu, IN_LJ).await;
    let reassign = |who: Uuid| json!({"step": "assign_verifier", "verifier": who});
    // Not to someone of the handling unit, nor to the dispatcher.
    for (who, code) in [
        (colleague, "not_a_verifier"),
        (app.user_id("office").await, "verifier_own_work"),
    ] {
        let r = step(&app, &office, &c, reassign(who)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (&body["errors"][0]["field"], &body["errors"][0]["code"]),
            (&json!("verifier"), &json!(code)),
            "{body}"
        );
    }
    // Only the office reassigns.
    let r = step(&app, &liu, &c, reassign(third)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let c = ok(step(&app, &office, &c, reassign(third)).await).await;
    assert_eq!(c["verifier_id"], json!(third));
    assert_eq!(c["state"], "handled", "reassigning changes no state");
    assert_eq!(kinds(&app, &third_token).await, ["verify_assigned"]);
    // The first verifier has no say any more; the new one sends it back.
    let r = step(
        &app,
        &liu,
        &c,
        json!({"step": "verify", "passed": false, "note": "x"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let c = ok(step(
        &app,
        &third_token,
        &c,
        json!({"step": "verify", "passed": false, "note": "垃圾仍未清运"}),
    )
    .await)
    .await;
    assert_eq!(c["state"], "rework");
    // The unit is told why, and its fix goes back to whoever asked.
    let notes = get(&app, &unit, "/notifications").await;
    assert_eq!(notes[0]["kind"], "case_rework");
    assert_eq!(notes[0]["reason"], "垃圾仍未清运");
    let s = app.as_role("unit").await;
    let (_, page) = s.get_text("/notifications").await;
    assert!(
        page.contains(&format!(
            "案件 {} 核查未通过：垃圾仍未清运",
            c["number"].as_str().unwrap()
        )),
        "{page}"
    );
    let c = ok(step(
        &app,
        &unit,
        &c,
        json!({"step": "handle", "note": "已再次清运"}),
    )
    .await)
    .await;
    assert_eq!(c["verifier_id"], json!(third));
    // The office's case page offers the reassignment with each one's load.
    let office_page = app.as_role("office").await;
    let (_, page) = office_page
        .get_text(&format!("/cases/{}", c["id"].as_str().unwrap()))
        .await;
    assert!(page.contains("name=\"verifier\""));
    assert!(page.contains("督查员third（待核查 1 件）"), "{page}");
    assert!(
        !page.contains("督查员colleague"),
        "not offered: of the unit"
    );
}

async fn each_step_that_hands_work_on_tells_the_people_it_is_handed_to(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let liu = app.token("inspector", false).await;
    let c = report(&app, &liu, sub(&cats, "0101").id, IN_LJ).await;
    let c = register_and_dispatch(&app, &office, &c, CGJ, 48).await;
    // Dispatch: the unit hears of it with its deadline; the office, who did
    // it, hears nothing.
    let notes = get(&app, &unit, "/notifications").await;
    assert_eq!(notes[0]["kind"], "case_dispatched");
    assert_eq!(notes[0]["case_number"], c["number"]);
    assert_eq!(notes[0]["deadline"], c["deadline"]);
    assert!(kinds(&app, &office).await.is_empty());
    // An extension asked: the office is told who asks what and why.
    let until = crate::cases::later(96);
    let c = ok(step(
        &app,
        &unit,
        &c,
        json!({"step": "ask", "ask": {"kind": "extend", "until": until}, "reason": "需协调环卫车辆"}),
    )
    .await)
    .await;
    let notes = get(&app, &office, "/notifications").await;
    assert_eq!(notes[0]["kind"], "ask_waiting");
    assert_eq!(notes[0]["ask"], "extend");
    assert_eq!(notes[0]["unit"], CGJ);
    assert_eq!(notes[0]["reason"], "需协调环卫车辆");
    // Granted: the unit hears the new deadline.
    let c = ok(step(&app, &office, &c, json!({"step": "approve"})).await).await;
    let notes = get(&app, &unit, "/notifications").await;
    assert_eq!(
        (&notes[0]["kind"], &notes[0]["ask"], &notes[0]["approved"]),
        (&json!("ask_decided"), &json!("extend"), &json!(true))
    );
    assert_eq!(notes[0]["deadline"], c["deadline"]);
    // A return refused: the unit hears the office's reason.
    let c = ok(step(
        &app,
        &unit,
        &c,
        json!({"step": "ask", "ask": {"kind": "return"}, "reason": "不属于本单位职责"}),
    )
    .await)
    .await;
    let _ = ok(step(
        &app,
        &office,
        &c,
        json!({"step": "refuse", "reason": "属于市容管理范围"}),
    )
    .await)
    .await;
    let notes = get(&app, &unit, "/notifications").await;
    assert_eq!(
        (&notes[0]["approved"], &notes[0]["reason"]),
        (&json!(false), &json!("属于市容管理范围"))
    );
    let s = app.as_role("unit").await;
    let (_, page) = s.get_text("/notifications").await;
    assert!(page.contains("延期申请已同意"), "{page}");
    assert!(
        page.contains("回退申请未获同意：属于市容管理范围"),
        "{page}"
    );
    // Nobody else in the city was told anything of it.
    assert!(
        kinds(&app, &app.token("inspector2", false).await)
            .await
            .is_empty()
    );
    assert!(
        kinds(&app, &app.token("leader", false).await)
            .await
            .is_empty()
    );
}
