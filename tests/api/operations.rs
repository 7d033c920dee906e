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
