//! The web face of wenming: server-rendered pages for people, JSON under
//! `/api/v1` for machines, one router, one policy.

mod api;
mod auth;
mod error;
mod extract;
pub mod i18n;
pub mod jobs;
mod middleware;
mod page;
pub(crate) mod routes;
mod serve;
pub(crate) mod service;
pub use routes::page_routes;

use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use wenming_store::Store;

pub use api::openapi_document;
pub use error::AppError;
pub use service::limits::SIGN_INS_PER_WINDOW;
pub use service::sources::load_demo as load_demo_materials;

/// A document problem in words: "测评体系!D12: 未知的测评方法（看天气）".
pub fn describe_problem(lang: i18n::Lang, p: &wenming_domain::framework::Problem) -> String {
    let key = format!("problem.{}", p.code);
    let field_key = format!("field_error.{}", p.code);
    let message = if i18n::has(lang, &key) {
        i18n::t(lang, &key)
    } else if i18n::has(lang, &field_key) {
        i18n::t(lang, &field_key)
    } else {
        p.code
    };
    if p.detail.is_empty() {
        format!("{}: {message}", p.place)
    } else {
        i18n::fill(
            i18n::t(lang, "problem.with_detail"),
            &[
                ("place", &p.place),
                ("message", message),
                ("detail", &p.detail),
            ],
        )
    }
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub listen: SocketAddr,
    /// The address people reach wenming at (`https://cc.example.gov.cn`),
    /// when it differs from what the browser sends as Host (behind a proxy).
    /// Its origin is trusted for state-changing requests.
    pub public_url: Option<String>,
    /// Mark cookies `Secure`; on whenever the public URL is https.
    pub secure_cookies: bool,
    /// Where times are shown; storage is always UTC.
    pub timezone: jiff::tz::TimeZone,
    /// Where photos and other files are kept.
    pub files: wenming_store::files::Files,
    pub photo_rules: wenming_store::photo::PhotoRules,
    /// The demo city being loaded behind the running server, if it is.
    pub demo_loading: Option<Arc<DemoLoading>>,
    /// The largest evidence material one upload may be.
    pub material_max_bytes: usize,
    /// Connections served at once; more wait in the backlog. Keep it below
    /// the process's open-file limit, less what the database and the files
    /// need.
    pub max_http_connections: usize,
    /// How long a client may take to send a request's headers (the first,
    /// or the next on a kept-alive connection) before it is disconnected.
    pub header_timeout: std::time::Duration,
}

/// How far the demo city has loaded while the server already answers: the
/// pages say so until every part is in.
#[derive(Debug, Default)]
pub struct DemoLoading {
    done: std::sync::atomic::AtomicU8,
}

impl DemoLoading {
    /// The parts `wenming_store::demo::load_all_telling` reports, and the
    /// materials `load_demo_materials` builds after them.
    pub const PARTS: u8 = 6;
    pub fn part_done(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    /// Parts loaded so far, while loading; None once all are.
    pub fn progress(&self) -> Option<u8> {
        let n = self.done.load(std::sync::atomic::Ordering::Relaxed);
        (n < Self::PARTS).then_some(n)
    }
}

impl WebConfig {
    pub fn local(listen: SocketAddr) -> Self {
        WebConfig {
            listen,
            public_url: None,
            secure_cookies: false,
            timezone: jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC),
            files: wenming_store::files::Files::memory(),
            photo_rules: wenming_store::photo::PhotoRules::default(),
            demo_loading: None,
            material_max_bytes: 50 << 20,
            max_http_connections: 4096,
            header_timeout: std::time::Duration::from_secs(10),
        }
    }
}

pub struct Inner {
    pub store: Store,
    pub config: WebConfig,
    /// Public survey answers per network address.
    pub public_limiter: service::limits::Limiter,
    /// Sign-in attempts per address.
    pub login_limiter: service::limits::Limiter,
    /// Closed survey waves' computed results (they can no longer change).
    pub closed_results: service::surveys::ClosedResults,
    /// The default projection, kept for the cockpit.
    pub projection: service::scoring::KeptProjection,
    /// Leaders' summaries, kept a minute.
    pub leader_summaries: service::KeptFor<service::queue::LeaderSummary>,
}

#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A bound, ready-to-run server. Binding first lets callers (and tests) ask
/// for port 0 and learn the real address before serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    addr: SocketAddr,
    state: AppState,
}

impl Application {
    pub async fn build(store: Store, config: WebConfig) -> std::io::Result<Application> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = AppState(Arc::new(Inner {
            store,
            config,
            public_limiter: service::limits::Limiter::public_answers(),
            login_limiter: service::limits::Limiter::sign_ins(),
            closed_results: Default::default(),
            projection: Default::default(),
            leader_summaries: service::KeptFor::new(service::queue::LEADER_KEPT_FOR),
        }));
        Ok(Application {
            listener,
            router: router(state.clone()),
            addr,
            state,
        })
    }

    /// Starts the monthly snapshot of the projection (the server's job;
    /// tests take snapshots themselves).
    pub fn spawn_monthly_snapshots(&self) -> tokio::task::JoinHandle<()> {
        service::scoring::spawn_monthly(self.state.clone())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let bounds = serve::Bounds {
            max_connections: self.state.config.max_http_connections,
            header_timeout: self.state.config.header_timeout,
        };
        serve::serve(self.listener, self.router, bounds, shutdown).await
    }
}

pub fn router(state: AppState) -> Router {
    let (api_router, _) = api::router().split_for_parts();
    Router::new()
        .merge(routes::router())
        .nest(
            "/api/v1",
            api_router.route("/openapi.json", axum::routing::get(api::openapi_json)),
        )
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::origin_check,
        ))
        .layer(axum::middleware::from_fn(middleware::render_errors))
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::security_headers,
        ))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        )
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
}
