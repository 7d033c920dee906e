//! The accept loop, with bounds a public server needs: a connection that
//! does not send its request headers in time is closed (slowloris, idle
//! keep-alive), connections beyond a cap wait in the kernel's backlog
//! rather than taking file descriptors the database and the files need,
//! and running out of descriptors slows accepting instead of spinning.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

pub struct Bounds {
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, the first
    /// or the next on a kept-alive connection.
    pub header_timeout: Duration,
}

/// How long shutting down waits for requests under way.
const DRAIN: Duration = Duration::from_secs(20);

/// Serves `router` on `listener` until `shutdown`, within `bounds`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(tokio::sync::Semaphore::new(bounds.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut make = router.into_make_service_with_connect_info::<SocketAddr>();
    tokio::pin!(shutdown);
    loop {
        // A free place first: past the cap, new connections wait in the
        // backlog, and those already open (a /healthz among them) go on.
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of descriptors (or a connection reset before we
                    // took it): wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let svc = match make.call(peer).await {
            Ok(s) => s,
            Err(never) => match never {},
        };
        let svc = hyper_util::service::TowerToHyperService::new(svc.map_request(
            |r: axum::http::Request<hyper::body::Incoming>| r.map(axum::body::Body::new),
        ));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(bounds.header_timeout)
            .keep_alive(true);
        // No upgrades: wenming serves no WebSockets.
        let conn = http.serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A closed or timed-out connection is the client's business.
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still under way after {DRAIN:?}; stopping anyway");
    }
    Ok(())
}
