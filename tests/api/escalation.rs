//! Overdue escalation, run at chosen instants: the liaison first, then the
//! head, reminders until the unit acts; notifications in the app, signed
//! webhook deliveries retried with back-off, and one runner per job.

use crate::cases::*;
use crate::helpers::*;
use crate::on_both;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::{Arc, Mutex};
use wenming_store::escalation::{EscalationPolicy, run};
use wenming_store::{jobs, webhook};
use wenming_web::jobs::{WebhookTarget, deliver_due, sign};

on_both!(
    overdue_cases_warn_the_liaison_then_the_head_until_handled,
    one_instance_of_several_runs_each_job,
    webhooks_are_signed_and_retried_with_back_off,
);

/// A case dispatched to 市城市管理局 (the demo "unit" account's unit), due in an hour.
async fn dispatched_case(app: &TestApp) -> serde_json::Value {
    let cats = catalogue(app).await;
    let office = app.token("office", false).await;
    let c = report(app, &office, sub(&cats, "0101").id, IN_LJ).await;
    register_and_dispatch(app, &office, &c, "市城市管理局", 1).await
}

fn policy(webhook: bool) -> EscalationPolicy {
    EscalationPolicy {
        head_after: SignedDuration::from_hours(24),
        repeat: SignedDuration::from_hours(12),
        webhook,
    }
}

async fn overdue_cases_warn_the_liaison_then_the_head_until_handled(b: Backend) {
    let app = TestApp::demo(b).await;
    let c = dispatched_case(&app).await;
    let unit = app.token("unit", false).await;
    let t0 = Timestamp::now();
    let h = |n: i64| t0 + SignedDuration::from_hours(n);
    let p = policy(true);
    // Not overdue yet: nothing happens.
    assert_eq!(run(&app.store, &p, t0).await.unwrap().escalated, 0);
    // Two hours on, an hour past the deadline: the liaison is warned.
    let first = run(&app.store, &p, h(2)).await.unwrap();
    assert_eq!((first.escalated, first.deliveries), (1, 1));
    assert!(first.notifications >= 1, "the unit's account is told");
    // Running again soon after warns nobody twice.
    assert_eq!(run(&app.store, &p, h(3)).await.unwrap().escalated, 0);
    let call = bearer(&format!("http://{}", app.addr));
    let list: serde_json::Value = call(Method::GET, "/notifications", &unit)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The dispatch notice came first; the warning is the newest.
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["case_overdue", "case_dispatched"]);
    assert_eq!(list[0]["case_number"], c["number"]);
    assert_eq!(
        (list[0]["level"].as_i64(), list[0]["read"].as_bool()),
        (Some(1), Some(false))
    );
    // A day after the first warning the head is warned too; then every 12 h.
    let second = run(&app.store, &p, h(2 + 24)).await.unwrap();
    assert_eq!(second.escalated, 1);
    assert_eq!(run(&app.store, &p, h(2 + 30)).await.unwrap().escalated, 0);
    assert_eq!(run(&app.store, &p, h(2 + 36)).await.unwrap().escalated, 1);
    let deliveries = webhook::recent(&app.store, 10).await.unwrap();
    assert_eq!(deliveries.len(), 3);
    let last: serde_json::Value = serde_json::from_str(&deliveries[0].payload).unwrap();
    assert_eq!(last["event"], "case.overdue");
    assert_eq!(last["level"], 2);
    let roles: Vec<&str> = last["notify"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["liaison", "head"]);
    let first_payload: serde_json::Value = serde_json::from_str(&deliveries[2].payload).unwrap();
    assert_eq!(
        first_payload["notify"].as_array().unwrap().len(),
        1,
        "the liaison alone first"
    );
    // The case page shows the warnings on its timeline, and the unit's
    // person sees the count in the header, opens it and lands on the case.
    let s = app.as_role("unit").await;
    let (_, page) = s
        .get_text(&format!("/cases/{}", c["id"].as_str().unwrap()))
        .await;
    assert_eq!(page.matches("超期提醒").count(), 3);
    let (_, home) = s.get_text("/notifications").await;
    assert!(home.contains(&format!("案件 {} 已超期", c["number"].as_str().unwrap())));
    assert!(
        home.contains("class=\"count\">4<"),
        "three warnings and the dispatch notice unread"
    );
    let id = list[0]["id"].as_str().unwrap();
    let r = s.post(&format!("/notifications/{id}/open"), &[]).await;
    assert_eq!(
        location(&r),
        format!("/cases/{}", c["id"].as_str().unwrap())
    );
    let r = s.post("/notifications/read", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, after) = s.get_text("/notifications").await;
    assert!(!after.contains("class=\"count\""));
    // Someone else's notification is not theirs to mark.
    let office = app.token("office", false).await;
    let r = call(Method::POST, &format!("/notifications/{id}/read"), &office)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Once the unit reports its fix, the warnings stop.
    let c = crate::cases::step(&app, &unit, &c, json!({"step": "handle", "note": "已清理"})).await;
    assert_eq!(c.status(), StatusCode::OK);
    assert_eq!(run(&app.store, &p, h(2 + 100)).await.unwrap().escalated, 0);
}

async fn one_instance_of_several_runs_each_job(b: Backend) {
    let app = TestApp::spawn(b).await;
    let t0 = Timestamp::now();
    let ttl = SignedDuration::from_secs(60);
    let lease = |who: &'static str, at: Timestamp| {
        let store = app.store.clone();
        async move {
            jobs::try_lease(&store, "escalation", who, ttl, at)
                .await
                .unwrap()
        }
    };
    assert!(lease("a", t0).await);
    assert!(!lease("b", t0).await, "a holds it");
    assert!(
        lease("a", t0 + SignedDuration::from_secs(30)).await,
        "the holder renews"
    );
    assert!(
        !lease("b", t0 + SignedDuration::from_secs(80)).await,
        "renewed until 90 s"
    );
    assert!(
        lease("b", t0 + SignedDuration::from_secs(91)).await,
        "a stopped renewing"
    );
    assert!(!lease("a", t0 + SignedDuration::from_secs(92)).await);
    // Eight instances starting at once on a new job: exactly one wins.
    let mut tasks = vec![];
    for i in 0..8 {
        let store = app.store.clone();
        tasks.push(tokio::spawn(async move {
            // SQLite may say "busy" to a racing writer: try again, as the
            // job loop would on its next tick, but not for ever.
            let mut last = None;
            for _ in 0..200 {
                match jobs::try_lease(&store, "sweep", &format!("i{i}"), ttl, t0).await {
                    Ok(won) => return won,
                    Err(e) => {
                        last = Some(e);
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await
                    }
                }
            }
            panic!("instance {i} could not ask for the lease: {last:?}")
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

async fn webhooks_are_signed_and_retried_with_back_off(b: Backend) {
    let app = TestApp::demo(b).await;
    let c = dispatched_case(&app).await;
    // A receiver that fails its first call and takes the second.
    type Seen = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;
    let seen: Seen = Arc::default();
    let receiver = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Seen>,
                 headers: axum::http::HeaderMap,
                 body: String| async move {
                    let mut s = seen.lock().unwrap();
                    s.push((headers, body));
                    if s.len() == 1 {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::OK
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let target = WebhookTarget {
        url: format!("http://{addr}/hook"),
        secret: "a-shared-secret-of-the-city".into(),
    };
    // Stored times have microseconds.
    let t0 = Timestamp::from_microsecond(Timestamp::now().as_microsecond()).unwrap()
        + SignedDuration::from_hours(2);
    run(&app.store, &policy(true), t0).await.unwrap();
    let http = wenming_web::jobs::client();
    assert_eq!(
        deliver_due(&app.store, &http, &target, t0).await.unwrap(),
        (0, 1)
    );
    let d = &webhook::recent(&app.store, 1).await.unwrap()[0];
    assert_eq!(d.attempts, 1);
    assert_eq!(d.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(d.next_attempt_at, Some(t0 + SignedDuration::from_secs(30)));
    // Not yet due; then due, and taken.
    let soon = t0 + SignedDuration::from_secs(10);
    assert_eq!(
        deliver_due(&app.store, &http, &target, soon).await.unwrap(),
        (0, 0)
    );
    let later = t0 + SignedDuration::from_secs(31);
    assert_eq!(
        deliver_due(&app.store, &http, &target, later)
            .await
            .unwrap(),
        (1, 0)
    );
    assert_eq!(
        deliver_due(&app.store, &http, &target, later)
            .await
            .unwrap(),
        (0, 0),
        "sent once"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let (headers, body) = &seen[1];
    let ts: i64 = headers["x-wenming-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        headers["x-wenming-signature"].to_str().unwrap(),
        sign(&target.secret, ts, body),
        "the receiver can check the body against the shared secret"
    );
    assert_ne!(
        sign("another-secret-entirely", ts, body),
        sign(&target.secret, ts, body)
    );
    assert_eq!(headers["x-wenming-event"], "case.overdue");
    let payload: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(payload["number"], c["number"]);
    assert_eq!(payload["unit"], "市城市管理局");
}
