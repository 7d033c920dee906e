//! The server under hostile connections: clients that open a connection
//! and send half a request are disconnected once their time is up, and
//! meanwhile everyone else is served; past the connection cap, new
//! connections wait rather than fail.

use crate::helpers::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wenming_web::WebConfig;

async fn bounded(
    max: usize,
    header_timeout: Duration,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let (url, _dir) = fresh_database(Backend::Sqlite).await;
    let store = open_store(&url).await;
    serve_with(
        store,
        WebConfig {
            max_http_connections: max,
            header_timeout,
            ..WebConfig::local("127.0.0.1:0".parse().unwrap())
        },
    )
    .await
}

async fn half_open(addr: std::net::SocketAddr) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    s
}

async fn healthz(addr: std::net::SocketAddr) -> Duration {
    let t = Instant::now();
    let r = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    t.elapsed()
}

#[tokio::test]
async fn half_sent_requests_are_cut_off_and_others_are_served_meanwhile() {
    let (addr, _stop) = bounded(4096, Duration::from_millis(800)).await;
    let mut held = vec![];
    for _ in 0..200 {
        held.push(half_open(addr).await);
    }
    // Served at once while two hundred hang.
    let slowest = {
        let mut m = Duration::ZERO;
        for _ in 0..20 {
            m = m.max(healthz(addr).await);
        }
        m
    };
    assert!(slowest < Duration::from_secs(2), "{slowest:?}");
    // Each half-sent request is answered with the connection closed once
    // its time is up (an error status or nothing, never a wait forever).
    let started = Instant::now();
    for s in &mut held {
        let mut buf = vec![];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(n.is_ok(), "still open after {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn past_the_cap_a_connection_waits_for_a_place_instead_of_failing() {
    let (addr, _stop) = bounded(16, Duration::from_millis(1500)).await;
    let mut held = vec![];
    for _ in 0..16 {
        held.push(half_open(addr).await);
    }
    // The seventeenth waits until the held ones are cut off, then is served.
    let waited = healthz(addr).await;
    assert!(
        waited >= Duration::from_millis(700),
        "served before a place was free: {waited:?}"
    );
    assert!(waited < Duration::from_secs(10), "{waited:?}");
    drop(held);
    assert!(healthz(addr).await < Duration::from_secs(2));
}

/// One address trying account after account is held back for the rest of
/// the minute, before any password is checked; the page says how long.
#[tokio::test]
async fn one_address_trying_many_sign_ins_is_held_back() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let s = app.anonymous();
    let limit = wenming_web::SIGN_INS_PER_WINDOW;
    for i in 0..limit {
        let r = s.try_login(&format!("nobody{i}"), "not-the-password").await;
        assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = s.try_login("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        reqwest::StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("登录尝试过于频繁"),
        "the reason is on the page"
    );
    // The account itself is not locked by someone else's attempts.
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM app_user WHERE locked_until IS NOT NULL"
        )
        .fetch_one(app.store.reader())
        .await
        .unwrap_or(0),
        0
    );
}
