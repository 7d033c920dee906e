use crate::helpers::*;
use crate::on_both;
use reqwest::StatusCode;
use wenming_domain::audit::BrokenLink;

on_both!(
    every_change_is_recorded_with_before_and_after,
    every_field_the_log_shows_has_words_in_both_languages,
    verification_finds_edited_and_deleted_records
);

async fn every_change_is_recorded_with_before_and_after(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let unit = wenming_store::org::find_unit_by_name(&app.store, "市水务局")
        .await
        .unwrap()
        .unwrap();
    let r = s
        .post(
            &format!("/units/{}", unit.id),
            &[
                ("name", "市水务局"),
                ("short_name", "水务"),
                ("kind", "department"),
                ("region_id", &unit.region_id.to_string()),
                ("liaison_phone", "13812345678"),
                ("active", "on"),
                ("version", &unit.version.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let trail = wenming_store::audit::for_entity(&app.store, "unit", &unit.id.to_string())
        .await
        .unwrap();
    let last = trail.last().unwrap();
    assert_eq!(last.action, "update");
    assert!(
        last.actor_name.contains("陈建华"),
        "who: {}",
        last.actor_name
    );
    assert!(last.request_id.is_some(), "from which request");
    let changes =
        wenming_domain::audit::changes(last.before_json.as_deref(), last.after_json.as_deref());
    assert!(
        changes
            .iter()
            .any(|c| c.field == "liaison.phone" && c.after == "13812345678")
    );
    // The page shows it in words.
    let (_, html) = s.get_text(&format!("/audit/unit/{}", unit.id)).await;
    assert!(html.contains("修改") && html.contains("13812345678"));
    let v = wenming_store::audit::verify(&app.store).await.unwrap();
    assert!(
        v.broken.is_none() && v.checked > 100,
        "the demo load and the edit chain cleanly"
    );
}

async fn verification_finds_edited_and_deleted_records(b: Backend) {
    let app = TestApp::demo(b).await;
    // Someone with database access rewrites history.
    sqlx::query("UPDATE audit_log SET after_json = '{\"name\":\"篡改\"}' WHERE seq = 20")
        .execute(app.store.reader())
        .await
        .unwrap();
    let v = wenming_store::audit::verify(&app.store).await.unwrap();
    assert_eq!(v.broken, Some(BrokenLink::Altered { seq: 20 }));
    assert_eq!(v.checked, 19);
    // Deleting instead of editing is found as well.
    let app = TestApp::demo(b).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 7")
        .execute(app.store.reader())
        .await
        .unwrap();
    let v = wenming_store::audit::verify(&app.store).await.unwrap();
    assert_eq!(
        v.broken,
        Some(BrokenLink::Missing {
            expected_seq: 7,
            found_seq: 8
        })
    );
    // Deleting the newest records (to hide the latest change) shows too.
    let app2 = TestApp::demo(b).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .execute(app2.store.reader())
        .await
        .unwrap();
    let v = wenming_store::audit::verify(&app2.store).await.unwrap();
    assert!(
        matches!(v.broken, Some(BrokenLink::Truncated { .. })),
        "{:?}",
        v.broken
    );
    // The API reports it to an administrator.
    let token = app2.token("admin", true).await;
    let call = bearer(&format!("http://{}", app2.addr));
    let r: serde_json::Value = call(reqwest::Method::GET, "/audit/verify", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["intact"], false);
    assert!(r["problem"].as_str().unwrap().contains("deleted"));
}

/// Every field a demo month writes into the log has words in both
/// languages: the log is read by people, not by programmers.
async fn every_field_the_log_shows_has_words_in_both_languages(b: Backend) {
    let app = TestApp::spawn(b).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    let records = wenming_store::audit::recent(&app.store, None, None, 100_000)
        .await
        .unwrap();
    assert!(records.len() > 100, "the demo writes a real log");
    let mut missing = std::collections::BTreeSet::new();
    for r in &records {
        for c in wenming_domain::audit::changes(r.before_json.as_deref(), r.after_json.as_deref()) {
            for lang in [wenming_web::i18n::Lang::Zh, wenming_web::i18n::Lang::En] {
                let key = format!("audit_field.{}", c.field);
                if !wenming_web::i18n::has(lang, &key) {
                    missing.insert(format!(
                        "{}: {key} ({} {})",
                        lang.code(),
                        r.entity_type,
                        r.action
                    ));
                }
            }
        }
    }
    assert!(missing.is_empty(), "fields without words: {missing:#?}");
}
