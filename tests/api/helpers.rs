//! Starts the real application on an ephemeral port with a fresh database:
//! a new SQLite file, or a new schema in the PostgreSQL database named by
//! WENMING_TEST_DATABASE_URL.

use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use std::net::SocketAddr;
use std::path::PathBuf;
use uuid::Uuid;
use wenming_store::files::Files;
use wenming_store::{Store, StoreConfig};
use wenming_web::{Application, WebConfig};

pub const ADMIN_PASSWORD: &str = "admin-test-password";
pub const DEMO_PASSWORD: &str = wenming_store::demo::DEMO_PASSWORD;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend; the PostgreSQL run needs
/// WENMING_TEST_DATABASE_URL, and says so when it is not set.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_url().is_none() {
                        $crate::helpers::skipped_postgres();
                        return;
                    }
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Says, past the test harness's capture, that this test's PostgreSQL run
/// did not happen; with WENMING_REQUIRE_POSTGRES set (CI) it fails instead.
pub fn skipped_postgres() {
    let test = std::thread::current()
        .name()
        .unwrap_or("a PostgreSQL test")
        .to_string();
    assert!(
        std::env::var("WENMING_REQUIRE_POSTGRES").is_err(),
        "{test}: WENMING_REQUIRE_POSTGRES is set but WENMING_TEST_DATABASE_URL is not"
    );
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: WENMING_TEST_DATABASE_URL is not set, so it did not run on PostgreSQL"
    );
}

pub fn postgres_url() -> Option<String> {
    std::env::var("WENMING_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh database URL for one test.
pub async fn fresh_database(backend: Backend) -> (String, Option<PathBuf>) {
    match backend {
        Backend::Sqlite => {
            let dir =
                std::env::temp_dir().join(format!("wenming-test-{}", Uuid::new_v4().simple()));
            std::fs::create_dir_all(&dir).unwrap();
            (
                format!("sqlite://{}", dir.join("wenming.db").display()),
                Some(dir),
            )
        }
        Backend::Postgres => {
            let base = postgres_url().expect("WENMING_TEST_DATABASE_URL");
            // Named by this process, so a later run can tell which are
            // left over from runs that have ended.
            let schema = format!("t_{}_{}", std::process::id(), Uuid::new_v4().simple());
            sqlx::any::install_default_drivers();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
                .await
                .expect("WENMING_TEST_DATABASE_URL is set but the database cannot be reached");
            SWEPT.get_or_init(|| sweep_schemas(&base)).await;
            sqlx::query(&format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let sep = if base.contains('?') { '&' } else { '?' };
            (format!("{base}{sep}options[search_path]={schema}"), None)
        }
    }
}

static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Drops the schemas of test runs that have ended (their process is gone),
/// once a run: each test also drops its own when it ends, but a run that is
/// killed leaves its schemas behind.
async fn sweep_schemas(base: &str) {
    let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(base).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 't\\_%'")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// The test's schema in a PostgreSQL URL made by `fresh_database`.
fn schema_of(url: &str) -> Option<(String, String)> {
    let (base, schema) = url.split_once("options[search_path]=")?;
    let base = base.trim_end_matches(['?', '&']).to_string();
    Some((base, schema.to_string()))
}

/// Drops a test's schema once its server has stopped, on a thread of its
/// own (a drop cannot wait); a lock still held makes it give up, and the
/// next run's sweep drops it.
fn drop_schema_later(url: &str) {
    let Some((base, schema)) = schema_of(url) else {
        return;
    };
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await
            else {
                return;
            };
            let _ = sqlx::query("SET lock_timeout = '5s'")
                .execute(&mut conn)
                .await;
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await;
        });
    });
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    /// The app's file storage (in memory), shared with any second instance.
    pub files: Files,
    pub database_url: String,
    dir: Option<PathBuf>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
        if self.dir.is_none() {
            drop_schema_later(&self.database_url);
        }
    }
}

pub async fn open_store(url: &str) -> Store {
    let store = Store::connect(&StoreConfig {
        url: url.into(),
        max_connections: 5,
        timezone: jiff::tz::TimeZone::get("Asia/Shanghai").unwrap(),
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

/// Serves another instance on the same database (as a second server behind
/// a load balancer would).
pub async fn serve(store: Store, files: Files) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    serve_with(
        store,
        WebConfig {
            files,
            ..WebConfig::local("127.0.0.1:0".parse().unwrap())
        },
    )
    .await
}

/// Serves with a configuration of the test's own.
pub async fn serve_with(
    store: Store,
    config: WebConfig,
) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(store, config).await.unwrap();
    let addr = app.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (addr, tx)
}

impl TestApp {
    /// An empty city with only the administrator.
    pub async fn spawn(backend: Backend) -> TestApp {
        let (url, dir) = fresh_database(backend).await;
        let store = open_store(&url).await;
        wenming_store::demo::bootstrap(&store, Some(ADMIN_PASSWORD))
            .await
            .unwrap();
        let files = Files::memory();
        let (addr, tx) = serve(store.clone(), files.clone()).await;
        TestApp {
            addr,
            store,
            files,
            database_url: url,
            dir,
            shutdown: Some(tx),
        }
    }

    /// The demo city with one account per role.
    pub async fn demo(backend: Backend) -> TestApp {
        let app = Self::spawn(backend).await;
        wenming_store::demo::load(&app.store).await.unwrap();
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn client() -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// Signs in through the login form, as a browser would.
    pub async fn login(&self, login: &str, password: &str) -> Session {
        let s = self.anonymous();
        let r = s.try_login(login, password).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {login} failed");
        s.refresh_csrf().await
    }

    pub fn anonymous(&self) -> Session {
        Session {
            client: Self::client(),
            base: format!("http://{}", self.addr),
            csrf: String::new(),
        }
    }

    pub async fn as_role(&self, username: &str) -> Session {
        let pw = if username == "admin" {
            ADMIN_PASSWORD
        } else {
            DEMO_PASSWORD
        };
        self.login(username, pw).await
    }

    /// An API token for a user, made directly in the store.
    pub async fn token(&self, username: &str, read_only: bool) -> String {
        let page = wenming_store::accounts::list_users(&self.store, Some(username), None, 10)
            .await
            .unwrap();
        let user = page
            .items
            .into_iter()
            .find(|u| u.username == username)
            .unwrap();
        let ctx = wenming_store::Ctx::system("test");
        wenming_store::accounts::create_token(&self.store, &ctx, user.id, "test", read_only, None)
            .await
            .unwrap()
            .1
    }

    pub async fn user_id(&self, username: &str) -> Uuid {
        let id: String = sqlx::query_scalar("SELECT id FROM app_user WHERE username = $1")
            .bind(username)
            .fetch_one(self.store.reader())
            .await
            .unwrap();
        id.parse().unwrap()
    }

    /// The system's permit over the whole city, for setting a scene up
    /// directly in the store.
    pub async fn system<P: wenming_domain::policy::Permission>(
        &self,
    ) -> wenming_domain::policy::Permit<P> {
        let root = wenming_store::org::root_region(&self.store)
            .await
            .unwrap()
            .unwrap();
        wenming_domain::policy::Permit::system(&root.path)
    }

    pub async fn region_id(&self, code: &str) -> Uuid {
        let id: String = sqlx::query_scalar("SELECT id FROM region WHERE code = $1")
            .bind(code)
            .fetch_one(self.store.reader())
            .await
            .unwrap();
        id.parse().unwrap()
    }

    pub async fn unit_id(&self, name: &str) -> Uuid {
        wenming_store::org::find_unit_by_name(&self.store, name)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    pub async fn count(&self, table: &str) -> i64 {
        wenming_store::demo::row_count(&self.store, table)
            .await
            .unwrap()
    }
}

/// A browser-like client: cookies, and the CSRF token of its session.
pub struct Session {
    pub client: Client,
    pub base: String,
    pub csrf: String,
}

pub fn find_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let i = html.find(marker).expect("page has a csrf field") + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn try_login(&self, login: &str, password: &str) -> Response {
        let page = self.get("/login").await.text().await.unwrap();
        let csrf = find_csrf(&page);
        self.client
            .post(self.url("/login"))
            .form(&[
                ("login", login),
                ("password", password),
                ("csrf", csrf.as_str()),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn refresh_csrf(mut self) -> Session {
        let html = self.get("/account").await.text().await.unwrap();
        self.csrf = find_csrf(&html);
        self
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.unwrap())
    }

    /// Posts a form with this session's CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut f: Vec<(&str, &str)> = fields.to_vec();
        f.push(("csrf", &self.csrf));
        self.client
            .post(self.url(path))
            .form(&f)
            .send()
            .await
            .unwrap()
    }
}

pub fn bearer(
    base: &str,
) -> impl Fn(reqwest::Method, &str, &str) -> reqwest::RequestBuilder + use<> {
    let base = base.to_string();
    move |m, path, token| {
        TestApp::client()
            .request(m, format!("{base}/api/v1{path}"))
            .header("authorization", format!("Bearer {token}"))
    }
}

pub fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// How many standards the demo city's framework has, counted from the
/// framework the demo loads (not copied from a run).
pub fn demo_standards() -> usize {
    wenming_domain::framework::standards(&wenming_store::demo::demo_framework()).len()
}

/// How many of the demo framework's standards lie under a code ("2": the
/// second aspect).
pub fn demo_standards_under(code: &str) -> usize {
    let mut doc = wenming_store::demo::demo_framework();
    wenming_domain::framework::assign_codes(&mut doc.tree);
    let prefix = format!("{code}.");
    wenming_domain::framework::standards(&doc)
        .into_iter()
        .filter(|(_, s)| s.code.as_deref().is_some_and(|c| c.starts_with(&prefix)))
        .count()
}

/// The value of a page's hidden input (the form's token).
pub fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap() + name.len() + 15;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}
