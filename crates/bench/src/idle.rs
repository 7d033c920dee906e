//! Held-open connections against a running server: `connections` sockets
//! that send half a request's headers and then nothing (reopened as the
//! server closes them), while /healthz is asked over fresh connections
//! one at a time. What a crowd of half-open clients does to everyone
//! else.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

pub struct IdleReport {
    pub held: u64,
    /// Held connections the server closed (and were opened again).
    pub closed_by_server: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
}

pub async fn run(
    addr: std::net::SocketAddr,
    connections: usize,
    requests: usize,
) -> Result<IdleReport, String> {
    let closed = Arc::new(AtomicU64::new(0));
    let open = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut holders = vec![];
    for _ in 0..connections {
        let (closed, open, stop) = (closed.clone(), open.clone(), stop.clone());
        holders.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\n")
                    .await
                    .is_err()
                {
                    continue;
                }
                open.fetch_add(1, Ordering::Relaxed);
                let mut buf = [0u8; 256];
                // Waits until the server gives up on it, or the run ends.
                let r = tokio::time::timeout(Duration::from_secs(3600), async {
                    use tokio::io::AsyncReadExt;
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                })
                .await;
                open.fetch_sub(1, Ordering::Relaxed);
                if r.is_ok() {
                    closed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Until they are all held (or a while has passed).
    let t = Instant::now();
    while (open.load(Ordering::Relaxed) as usize) < connections
        && t.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = open.load(Ordering::Relaxed);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("http://{addr}/healthz");
    let mut times = vec![];
    let mut errors = 0;
    for _ in 0..requests {
        let t = Instant::now();
        match client.get(&url).send().await {
            Ok(r) if r.status().is_success() => times.push(t.elapsed().as_secs_f64() * 1000.0),
            _ => errors += 1,
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for h in holders {
        h.abort();
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(IdleReport {
        held,
        closed_by_server: closed.load(Ordering::Relaxed),
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: times.last().copied().unwrap_or(f64::NAN),
        errors,
    })
}
