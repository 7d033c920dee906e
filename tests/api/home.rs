//! Home pages are work queues (issue 14): each role's first page says
//! what needs them now, most urgent first.

use crate::cases::{IN_LJ, catalogue, register_and_dispatch, report, step, sub};
use crate::helpers::*;
use crate::on_both;
use serde_json::json;

on_both!(each_roles_home_says_what_needs_them_now);

async fn each_roles_home_says_what_needs_them_now(b: Backend) {
    let app = TestApp::demo(b).await;
    let cats = catalogue(&app).await;
    let office = app.token("office", false).await;
    let unit = app.token("unit", false).await;
    let liu = app.token("inspector", false).await;
    // One case late, one sent back with a reason, one due later, one new.
    let late = report(&app, &liu, sub(&cats, "0101").id, IN_LJ).await;
    let late = register_and_dispatch(&app, &office, &late, "市城市管理局", 48).await;
    sqlx::query("UPDATE case_record SET deadline = $1 WHERE id = $2")
        .bind((jiff::Timestamp::now() - jiff::SignedDuration::from_hours(30)).as_microsecond())
        .bind(late["id"].as_str().unwrap())
        .execute(app.store.writer())
        .await
        .unwrap();
    let back = report(&app, &liu, sub(&cats, "0101").id, IN_LJ).await;
    let back = register_and_dispatch(&app, &office, &back, "市城市管理局", 72).await;
    let back: serde_json::Value = step(
        &app,
        &unit,
        &back,
        json!({"step": "handle", "note": "已清理"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let back: serde_json::Value = step(
        &app,
        &liu,
        &back,
        json!({"step": "verify", "passed": false, "note": "地面仍有油污"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(back["state"], "rework");
    let later = report(&app, &liu, sub(&cats, "0101").id, IN_LJ).await;
    let later = register_and_dispatch(&app, &office, &later, "市城市管理局", 96).await;
    let _new = report(&app, &liu, sub(&cats, "0101").id, IN_LJ).await;

    // The unit: the rework with its reason first, then by deadline, the
    // late one first and saying how late.
    let s = app.as_role("unit").await;
    let (_, home) = s.get_text("/").await;
    let at = |needle: &str| {
        home.find(needle)
            .unwrap_or_else(|| panic!("{needle} not on the unit's home: {home}"))
    };
    assert!(home.contains("本单位待处置案件（3）"), "{home}");
    assert!(home.contains("核查退回：地面仍有油污"));
    let (b, l, n) = (
        at(back["number"].as_str().unwrap()),
        at(late["number"].as_str().unwrap()),
        at(later["number"].as_str().unwrap()),
    );
    assert!(
        b < l && l < n,
        "rework, then overdue, then the later deadline"
    );
    assert!(home.contains("超期 2 天"), "{home}");
    assert!(home.contains(&format!("/cases/{}#handle", late["id"].as_str().unwrap())));

    // The office: late cases and requests first, then what to register.
    let s = app.as_role("office").await;
    let (_, home) = s.get_text("/").await;
    assert!(home.contains("当前待办"));
    let overdue = home.find("件超期案件").unwrap();
    let register = home.find("件上报待立案").unwrap();
    assert!(overdue < register, "the urgent first");
    assert!(
        home.contains("<span class=\"n\">1</span> ⚠ 件超期案件"),
        "{home}"
    );
    assert!(
        home.contains("<span class=\"n\">1</span> 件上报待立案"),
        "{home}"
    );
    assert!(home.contains("各单位超期案件") && home.contains("市城市管理局"));

    // The inspector: the fix put to them (none now: it was sent back) and
    // the sites to inspect.
    let s = app.as_role("inspector").await;
    let (_, home) = s.get_text("/").await;
    assert!(
        home.contains("待检点位") && home.contains("待核查（0）"),
        "{home}"
    );

    // The leader: this month against the last.
    let s = app.as_role("leader").await;
    let (status, home) = s.get_text("/").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{home}");
    assert!(home.contains("本月") && home.contains("上月"), "{home}");
    assert!(home.contains("按期结案率"));
}
