//! Anomaly flags: the office sees prompts with the test behind each; no
//! one else sees them.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both!(the_demo_shows_a_site_that_passes_only_for_one_inspector_to_the_office_only,);

async fn the_demo_shows_a_site_that_passes_only_for_one_inspector_to_the_office_only(b: Backend) {
    let app = TestApp::spawn(b).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let r = call(Method::GET, "/anomalies", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let flags: Value = r.json().await.unwrap();
    let site = flags
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"]["kind"] == "site_passes_for_one")
        .expect("the demo's site that passes for one inspector");
    assert!(
        site["flag"]["test"]
            .as_str()
            .unwrap()
            .starts_with("Fisher p = ")
    );
    assert!(site["with_name"].is_string());
    let (own, peers) = (&site["flag"]["own"], &site["flag"]["peers"]);
    assert!(own[0].as_f64().unwrap() / own[1].as_f64().unwrap() >= 0.9);
    assert!(peers[0].as_f64().unwrap() / peers[1].as_f64().unwrap() < 0.6);
    for who in ["leader", "inspector", "unit"] {
        let t = app.token(who, true).await;
        let r = call(Method::GET, "/anomalies", &t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
}
