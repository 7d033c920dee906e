//! Browser tests: headless Chromium driven through chromedriver against the
//! real server. Without chromedriver they say so and pass; CI sets
//! WENMING_REQUIRE_BROWSER=1 so there a missing browser fails the run.
//! Screenshots go to target/screenshots (or WENMING_SCREENSHOT_DIR).

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

use fantoccini::{Client, ClientBuilder, Locator};
use helpers::{Backend, DEMO_PASSWORD, TestApp};
use std::process::{Child, Command, Stdio};

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<String> {
    if let Ok(p) = std::env::var("WENMING_CHROMEDRIVER") {
        return Some(p);
    }
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_string)
}

fn start_driver() -> Option<Driver> {
    let Some(path) = chromedriver() else {
        assert!(
            std::env::var("WENMING_REQUIRE_BROWSER").is_err(),
            "WENMING_REQUIRE_BROWSER is set but chromedriver was not found (apt-get install chromium chromium-driver)"
        );
        // Past the harness's capture, so the run's output says what did not run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {}: chromedriver not found (apt-get install chromium chromium-driver)",
            std::thread::current().name().unwrap_or("a browser test")
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Driver {
        child: Command::new(path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        port,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(driver);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(driver);
    panic!("chromedriver did not start listening");
}

/// A fresh headless Chromium; `phone` emulates a 390×844 handset.
async fn browser(driver: &Driver, phone: bool) -> Client {
    let profile =
        std::env::temp_dir().join(format!("wenming-chrome-{}", uuid::Uuid::new_v4().simple()));
    let mut args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--lang=zh-CN".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    if !phone {
        args.push("--window-size=1280,900".into());
    }
    let mut chrome = serde_json::json!({ "args": args });
    if let Ok(bin) = std::env::var("WENMING_CHROMIUM") {
        chrome["binary"] = bin.into();
    } else if std::path::Path::new("/usr/bin/chromium").exists() {
        chrome["binary"] = "/usr/bin/chromium".into();
    }
    if phone {
        chrome["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
        });
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), chrome);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session starts")
}

fn shot_dir() -> std::path::PathBuf {
    let d = std::env::var("WENMING_SCREENSHOT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots"))
        });
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shot_dir().join(format!("{name}.png")), png).unwrap();
}

/// Waits for `css`, scrolls it into view, and takes the screenshot there.
async fn shot_at(c: &Client, css: &str, name: &str) {
    c.wait().for_element(Locator::Css(css)).await.unwrap();
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView()",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap();
    shot(c, name).await;
}

async fn fill(c: &Client, id: &str, value: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Signs in through the form in Chinese and waits for the home page.
async fn sign_in(c: &Client, app: &TestApp, login: &str, password: &str) {
    c.goto(&app.url("/lang?to=zh-CN&back=/login"))
        .await
        .unwrap();
    fill(c, "f-login", login).await;
    fill(c, "f-password", password).await;
    c.find(Locator::Css("button[type=submit].primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css(".tiles")).await.unwrap();
}

/// Logs in through the form and walks to the unit list, taking screenshots.
async fn walk(c: &Client, app: &TestApp, tag: &str, english: bool) {
    c.goto(&app.url("/login")).await.unwrap();
    // The browser's own language picks the first page; the switch link
    // changes it and the choice sticks.
    let want = if english { "en" } else { "zh-CN" };
    let html = c.find(Locator::Css("html")).await.unwrap();
    if html.attr("lang").await.unwrap().as_deref() != Some(want) {
        c.find(Locator::Css("a.lang"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    let text = body_text(c).await;
    assert!(
        text.contains(if english {
            "Username or mobile"
        } else {
            "用户名或手机号"
        }),
        "{text}"
    );
    shot(c, &format!("login-{tag}")).await;
    // A wrong password first: the error shows, the login is kept.
    fill(c, "f-login", "office").await;
    fill(c, "f-password", "wrong-password").await;
    c.find(Locator::Css("button[type=submit].primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css(".alert")).await.unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains(if english { "not right" } else { "不正确" }),
        "{text}"
    );
    fill(c, "f-password", DEMO_PASSWORD).await;
    c.find(Locator::Css("button[type=submit].primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css(".stats")).await.unwrap();
    let text = body_text(c).await;
    assert!(text.contains("陈建华"), "signed in and greeted: {text}");
    assert!(text.contains(if english {
        "Active units"
    } else {
        "在册责任单位"
    }));
    shot(c, &format!("home-{tag}")).await;
    c.goto(&app.url("/units")).await.unwrap();
    let text = body_text(c).await;
    assert!(text.contains("市城市管理局"));
    shot(c, &format!("units-{tag}")).await;
    c.goto(&app.url(&format!("/units/{}/edit", app.unit_id("市教育局").await)))
        .await
        .unwrap();
    fill(c, "f-liaison_phone", "12ab").await;
    c.find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(".field.invalid"))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains(if english {
            "not a phone number"
        } else {
            "电话号码格式不对"
        }),
        "{text}"
    );
    shot(c, &format!("unit-form-error-{tag}")).await;
    c.goto(&app.url(&format!("/regions/{}", app.region_id("LJ").await)))
        .await
        .unwrap();
    shot(c, &format!("region-{tag}")).await;
}

/// The administrator's pages: accounts, a grant, tokens, the audit log.
async fn admin_walk(c: &Client, app: &TestApp, tag: &str) {
    sign_in(c, app, "admin", helpers::ADMIN_PASSWORD).await;
    c.goto(&app.url("/regions")).await.unwrap();
    assert!(body_text(c).await.contains("临江区"));
    shot(c, &format!("regions-{tag}")).await;
    c.goto(&app.url("/users")).await.unwrap();
    shot(c, &format!("users-{tag}")).await;
    c.goto(&app.url(&format!("/users/{}", app.user_id("inspector").await)))
        .await
        .unwrap();
    assert!(body_text(c).await.contains("刘晓东"));
    shot(c, &format!("user-{tag}")).await;
    c.goto(&app.url("/account")).await.unwrap();
    fill(c, "f-name", "数据大屏").await;
    c.find(Locator::XPath("//form[@action='/account/tokens']//button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("code.secret"))
        .await
        .unwrap();
    shot(c, &format!("account-{tag}")).await;
    c.goto(&app.url("/audit")).await.unwrap();
    shot(c, &format!("audit-{tag}")).await;
    // Every kind of record in the log is named in words, in both languages.
    c.goto(&app.url("/lang?to=en&back=/audit")).await.unwrap();
    let text = body_text(c).await;
    for raw in [
        "inspection_round",
        "round_site",
        "site_type",
        "routing_rule",
    ] {
        assert!(!text.contains(raw), "the audit page shows the code {raw}");
    }
    shot(c, &format!("audit-{tag}-en")).await;
    c.goto(&app.url("/lang?to=zh-CN&back=/audit"))
        .await
        .unwrap();
}

/// The office's framework pages: versions, the tree, a filter, the
/// standard editor, and an import preview of an exported table.
async fn framework_walk(c: &Client, app: &TestApp, tag: &str) {
    sign_in(c, app, "office", DEMO_PASSWORD).await;
    c.goto(&app.url("/frameworks")).await.unwrap();
    shot(c, &format!("frameworks-{tag}")).await;
    let f = wenming_store::framework::active(&app.store)
        .await
        .unwrap()
        .unwrap();
    c.goto(&app.url(&format!("/frameworks/{}", f.id)))
        .await
        .unwrap();
    assert!(body_text(c).await.contains("廉洁高效的政务环境"));
    shot(c, &format!("framework-tree-{tag}")).await;
    c.goto(&app.url(&format!(
        "/frameworks/{}?method=site_inspection&site_type=农贸市场",
        f.id
    )))
    .await
    .unwrap();
    assert!(body_text(c).await.contains("公平秤"));
    shot(c, &format!("framework-filtered-{tag}")).await;
    let nodes = wenming_store::framework::nodes(&app.store, f.id)
        .await
        .unwrap();
    let std = nodes.iter().find(|n| n.code == "3.2.1").unwrap();
    c.goto(&app.url(&format!("/standards/{}/edit", std.id)))
        .await
        .unwrap();
    shot(c, &format!("standard-edit-{tag}")).await;
    // The assignment forms, in the API's field names.
    c.goto(&app.url(&format!("/standards/{}/task", std.id)))
        .await
        .unwrap();
    assert!(body_text(c).await.contains("3.2.1"));
    shot(c, &format!("task-assign-{tag}")).await;
    c.goto(&app.url(&format!("/frameworks/{}/tasks", f.id)))
        .await
        .unwrap();
    shot(c, &format!("task-bulk-{tag}")).await;
    // Export the framework, rename it in its settings sheet, and preview the import.
    let mut doc = wenming_store::framework::export(&app.store, f.id)
        .await
        .unwrap();
    doc.name = format!("{}（修订）", doc.name);
    doc.tree[0].children[0].children[0]
        .title
        .push_str("（修订）");
    let path = std::env::temp_dir().join(format!("wenming-{tag}.xlsx"));
    std::fs::write(&path, wenming_reports::framework_xlsx::write(&doc).unwrap()).unwrap();
    c.goto(&app.url("/frameworks")).await.unwrap();
    c.find(Locator::Id("f-file"))
        .await
        .unwrap()
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
    c.find(Locator::XPath(
        "//form[@action='/frameworks/import']//button",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("dl.facts"))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(text.contains("导入预览") && text.contains("116"), "{text}");
    shot(c, &format!("import-preview-{tag}")).await;
}

/// Unit staff on a phone: home, the unit's task list, a task, a report.
async fn unit_walk(c: &Client, app: &TestApp, tag: &str) {
    sign_in(c, app, "unit", DEMO_PASSWORD).await;
    shot(c, &format!("unit-home-{tag}")).await;
    c.goto(&app.url("/tasks")).await.unwrap();
    assert!(body_text(c).await.contains("本单位的任务"));
    shot(c, &format!("unit-tasks-{tag}")).await;
    let link = c.find(Locator::Css("table.list tbody a")).await.unwrap();
    link.click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("dl.facts"))
        .await
        .unwrap();
    if c.find(Locator::Id("f-percent")).await.is_ok() {
        fill(c, "f-percent", "90").await;
        fill(c, "f-note", "已完成整改，待核查").await;
        c.find(Locator::Css("form[action$='/progress'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait().for_element(Locator::Css(".flash")).await.unwrap();
        assert!(body_text(c).await.contains("待核查"));
    }
    shot(c, &format!("unit-task-{tag}")).await;
}

/// The office's case inboxes and a case page; the unit's case on a phone.
async fn case_walk(c: &Client, app: &TestApp, tag: &str, who: &str, english: bool) {
    sign_in(c, app, who, DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/cases")).await.unwrap();
        assert!(body_text(c).await.contains("Cases"));
    }
    c.goto(&app.url("/cases?overdue=1")).await.unwrap();
    let overdue = body_text(c).await;
    assert!(
        overdue.contains("天") || overdue.contains("days overdue"),
        "overdue rows say how late they are"
    );
    shot(c, &format!("cases-overdue-{who}-{tag}")).await;
    c.goto(&app.url("/cases")).await.unwrap();
    shot(c, &format!("cases-{who}-{tag}")).await;
    let link = c.find(Locator::Css("table.list tbody a")).await.unwrap();
    link.click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("ol.timeline"))
        .await
        .unwrap();
    shot(c, &format!("case-{who}-{tag}")).await;
    // A case whose fix came with a re-used photo: what the verifier sees.
    let flagged: Option<String> = sqlx::query_scalar(
        "SELECT case_id FROM photo WHERE flags LIKE '%same_file%' ORDER BY case_id LIMIT 1",
    )
    .fetch_optional(app.store.reader())
    .await
    .unwrap();
    if let Some(id) = flagged.filter(|_| who == "office") {
        c.goto(&app.url(&format!("/cases/{id}"))).await.unwrap();
        shot_at(
            c,
            "figure.photo.flagged",
            &format!("case-flagged-{who}-{tag}"),
        )
        .await;
    }
    c.goto(&app.url("/notifications")).await.unwrap();
    shot(c, &format!("notifications-{who}-{tag}")).await;
    if who == "office" {
        c.goto(&app.url("/cases/new")).await.unwrap();
        shot_at(
            c,
            "input[type=file][name=photos]",
            &format!("case-new-{who}-{tag}"),
        )
        .await;
    }
    c.goto(&app.url("/cases/metrics")).await.unwrap();
    shot(c, &format!("metrics-{who}-{tag}")).await;
    c.goto(&app.url("/cases/map")).await.unwrap();
    shot(c, &format!("map-{who}-{tag}")).await;
    if who == "office" {
        c.goto(&app.url("/cases/routing")).await.unwrap();
        c.wait()
            .for_element(Locator::Css("form[action$='/cases/routing/days']"))
            .await
            .unwrap();
        shot(c, &format!("routing-{who}-{tag}")).await;
        c.goto(&app.url("/cases/categories")).await.unwrap();
        shot(c, &format!("categories-{who}-{tag}")).await;
        c.find(Locator::Css("table.list tbody tr:nth-child(2) a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        c.wait()
            .for_element(Locator::Css("input[name=version]"))
            .await
            .unwrap();
        shot(c, &format!("category-{who}-{tag}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_pages_render_on_desktop_and_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    // The overdue demo cases warn their units, as the job would.
    wenming_store::escalation::run(&app.store, &Default::default(), jiff::Timestamp::now())
        .await
        .unwrap();
    for (phone, tag, who, english) in [
        (false, "desktop-zh", "office", false),
        (false, "desktop-en", "office", true),
        (true, "phone-en", "unit", true),
        (true, "phone-zh", "office", false),
        (true, "phone-zh", "unit", false),
        (false, "desktop-zh", "unit", false),
    ] {
        let c = browser(&driver, phone).await;
        case_walk(&c, &app, tag, who, english).await;
        c.close().await.unwrap();
    }
}

async fn site_walk(c: &Client, app: &TestApp, tag: &str, english: bool) {
    sign_in(c, app, "office", DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/sites")).await.unwrap();
    }
    c.goto(&app.url("/sites")).await.unwrap();
    assert!(
        body_text(c)
            .await
            .contains(if english { "Site type" } else { "点位类型" })
    );
    shot(c, &format!("sites-{tag}")).await;
    c.find(Locator::Css("table.list tbody a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("dl.facts"))
        .await
        .unwrap();
    shot(c, &format!("site-{tag}")).await;
    c.goto(&app.url("/sites/new")).await.unwrap();
    fill(c, "f-code", "LJ BL 1").await;
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("div.alert"))
        .await
        .unwrap();
    shot(c, &format!("site-form-error-{tag}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_pages_render_on_desktop_and_phone_in_both_languages() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    for (phone, tag, english) in [
        (false, "desktop-zh", false),
        (false, "desktop-en", true),
        (true, "phone-zh", false),
        (true, "phone-en", true),
    ] {
        let c = browser(&driver, phone).await;
        site_walk(&c, &app, tag, english).await;
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unit_task_pages_render_on_phone_and_desktop() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    for (phone, tag) in [(true, "phone"), (false, "desktop")] {
        let c = browser(&driver, phone).await;
        unit_walk(&c, &app, tag).await;
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_pages_render_on_desktop_and_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    for (phone, tag) in [(false, "desktop"), (true, "phone")] {
        let c = browser(&driver, phone).await;
        framework_walk(&c, &app, tag).await;
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrator_pages_render_on_desktop_and_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    for (phone, tag) in [(false, "desktop-zh"), (true, "phone-zh")] {
        let c = browser(&driver, phone).await;
        admin_walk(&c, &app, tag).await;
        c.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_look_around_in_both_languages_on_desktop_and_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    for (phone, english, tag) in [
        (false, false, "desktop-zh"),
        (false, true, "desktop-en"),
        (true, false, "phone-zh"),
        (true, true, "phone-en"),
    ] {
        // Each walk tries one wrong password; start each with a clean slate.
        sqlx::query("DELETE FROM login_throttle")
            .execute(app.store.reader())
            .await
            .unwrap();
        let c = browser(&driver, phone).await;
        walk(&c, &app, tag, english).await;
        c.close().await.unwrap();
    }
    eprintln!("screenshots saved in {}", shot_dir().display());
}

// ------------------------------------------------------------ inspections

/// A round drawn through the API for one inspector, so the test knows who
/// is sent where.
async fn round_for(app: &TestApp, inspector: &str, size: u32) -> serde_json::Value {
    let office = app.token("office", false).await;
    let who = app.user_id(inspector).await;
    let r = TestApp::client()
        .post(app.url("/api/v1/rounds"))
        .bearer_auth(&office)
        .json(&serde_json::json!({
            "name": "本周督查", "kind": "supervision", "starts_on": "2026-11-23", "ends_on": "2026-11-27",
            "sample_size": size, "seed": 3, "not_where_they_work": false, "inspector_ids": [who]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn round_walk(c: &Client, app: &TestApp, tag: &str, english: bool) {
    sign_in(c, app, "office", DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/rounds")).await.unwrap();
    }
    c.goto(&app.url("/rounds")).await.unwrap();
    assert!(body_text(c).await.contains(if english {
        "Mock evaluation"
    } else {
        "模拟测评"
    }));
    shot(c, &format!("rounds-{tag}")).await;
    // The newest finished round: compared with the one before it.
    c.find(Locator::LinkText("十月模拟测评"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("section.stats"))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains("九月模拟测评"),
        "compared with September: {text}"
    );
    shot(c, &format!("round-report-{tag}")).await;
    // A site's findings in the round, then the site with its history.
    let href = c
        .find(Locator::Css("a[href*='/sites/'][href^='/rounds/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    c.goto(&app.url(&href)).await.unwrap();
    c.wait()
        .for_element(Locator::Css("ul.findings"))
        .await
        .unwrap();
    shot(c, &format!("round-site-{tag}")).await;
    c.find(Locator::Css(".head .actions a.button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("dl.facts"))
        .await
        .unwrap();
    shot_at(c, "progress", &format!("site-history-{tag}")).await;
    c.back().await.unwrap();
    c.back().await.unwrap();
    c.wait()
        .for_element(Locator::Css("section.stats"))
        .await
        .unwrap();
    shot_at(
        c,
        "table.list tbody tr:last-child",
        &format!("round-report-sites-{tag}"),
    )
    .await;
    c.goto(&app.url("/rounds/new")).await.unwrap();
    fill(c, "f-sample_size", "0").await;
    c.find(Locator::Css("form.form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("div.alert"))
        .await
        .unwrap();
    shot(c, &format!("round-form-error-{tag}")).await;
    c.goto(&app.url("/rounds/import")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("input[name=photos]"))
        .await
        .unwrap();
    shot(c, &format!("round-import-{tag}")).await;
    c.goto(&app.url("/sites/import")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("input[name=file]"))
        .await
        .unwrap();
    shot(c, &format!("sites-import-{tag}")).await;
    // The inspector's phone page, from the round under way.
    c.delete_all_cookies().await.unwrap();
    sign_in(c, app, "inspector2", DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/inspect")).await.unwrap();
    }
    c.goto(&app.url("/inspect")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#view ul.assignments li a"))
        .await
        .unwrap();
    shot(c, &format!("inspect-{tag}")).await;
    click_settled(c, "#view ul.assignments li a").await;
    c.wait()
        .for_element(Locator::Css("form.checklist fieldset.check-item"))
        .await
        .unwrap();
    shot(c, &format!("inspect-checklist-{tag}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_pages_render_on_desktop_and_phone_in_both_languages() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    for (phone, tag, english) in [
        (false, "desktop-zh", false),
        (false, "desktop-en", true),
        (true, "phone-zh", false),
        (true, "phone-en", true),
    ] {
        let c = browser(&driver, phone).await;
        round_walk(&c, &app, tag, english).await;
        c.close().await.unwrap();
    }
}

/// A loopback proxy whose network can be cut: with it off, connections are
/// refused and those open are dropped, as when a phone loses its signal.
struct Network {
    addr: std::net::SocketAddr,
    up: tokio::sync::watch::Sender<bool>,
}

impl Network {
    async fn to(server: std::net::SocketAddr) -> Network {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                if !*watch.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut down = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(server).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = down.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Network { addr, up }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

async fn queue_text(c: &Client) -> String {
    c.find(Locator::Id("queue"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn wait_for_queue(c: &Client, want: &str) -> String {
    for _ in 0..100 {
        let q = queue_text(c).await;
        if q.contains(want) {
            return q;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the queue never said {want:?}: {}", queue_text(c).await);
}

/// Signs in (in Chinese) through the network whose signal the test cuts.
async fn sign_in_through(c: &Client, net: &Network, user: &str) {
    c.goto(&net.url("/lang?to=zh-CN&back=/login"))
        .await
        .unwrap();
    fill(c, "f-login", user).await;
    fill(c, "f-password", DEMO_PASSWORD).await;
    c.find(Locator::Css("button[type=submit].primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css(".tiles")).await.unwrap();
}

/// Waits until the service worker controls the page, so that it is kept
/// before the signal goes.
async fn kept_by_service_worker(c: &Client) {
    let controlled = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready.then(() => {
               if (navigator.serviceWorker.controller) return done(true);
               navigator.serviceWorker.addEventListener('controllerchange', () => done(true));
             });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(controlled, serde_json::json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_recorded_offline_arrive_exactly_once_when_the_network_returns() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    wenming_store::demo::load_catalogue(&app.store)
        .await
        .unwrap();
    round_for(&app, "inspector", 3).await;
    let net = Network::to(app.addr).await;
    let c = browser(&driver, true).await;
    sign_in_through(&c, &net, "inspector").await;
    c.goto(&net.url("/inspect")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("#view ul.assignments li a"))
        .await
        .unwrap();
    kept_by_service_worker(&c).await;
    wait_for_queue(&c, "已全部上传").await;

    net.set(false);
    let findings_before = app.count("finding").await;
    let cases_before = app.count("case_record").await;
    click_settled(&c, "#view ul.assignments li a").await;
    c.wait()
        .for_element(Locator::Css("form.checklist fieldset.check-item"))
        .await
        .unwrap();
    shot(&c, "inspect-checklist-phone-zh").await;
    // Every standard met, except the first, which fails with a photo.
    let items = c
        .execute(
            "const boxes = document.querySelectorAll('fieldset.check-item');
             boxes.forEach((box, i) => {
               const kind = box.dataset.kind;
               if (kind === 'pass_fail') box.querySelector(`input[value=${i === 0 ? 'fail' : 'pass'}]`).checked = true;
               else if (kind === 'at_least') box.querySelector('input[type=number]').value = i === 0 ? '0' : '99';
               else { const n = box.querySelectorAll('input[type=number]'); n[0].value = i === 0 ? '1' : '20'; n[1].value = '20'; }
             });
             return boxes.length;",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert!(items >= 1);
    let photo = std::env::temp_dir().join(format!(
        "wenming-finding-{}.jpg",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(
        &photo,
        wenming_store::photo::synthetic_jpeg(5, Some(jiff::Timestamp::now()), None),
    )
    .unwrap();
    c.find(Locator::Css("fieldset.check-item input[type=file]"))
        .await
        .unwrap()
        .send_keys(&photo.display().to_string())
        .await
        .unwrap();
    c.find(Locator::Css("form.checklist button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let q = wait_for_queue(&c, "待上传").await;
    assert!(
        q.contains(&format!("{items} 条测评记录")) && q.contains("1 张照片"),
        "{q}"
    );

    // The tab is reloaded while still offline: the page and the queue are there.
    c.refresh().await.unwrap();
    c.wait()
        .for_element(Locator::Css("#view ul.assignments li"))
        .await
        .unwrap();
    let q = wait_for_queue(&c, "待上传").await;
    assert!(q.contains(&format!("{items} 条测评记录")), "{q}");
    shot(&c, "inspect-offline-queue-phone-zh").await;
    assert_eq!(
        app.count("finding").await,
        findings_before,
        "nothing arrived while offline"
    );

    // Back online: everything arrives, once.
    net.set(true);
    c.refresh().await.unwrap();
    wait_for_queue(&c, "已全部上传").await;
    assert_eq!(app.count("finding").await, findings_before + items as i64);
    assert_eq!(app.count("case_record").await, cases_before + 1);
    let photos: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photo WHERE finding_id IS NOT NULL")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    assert_eq!(photos, 1);
    shot(&c, "inspect-synced-phone-zh").await;
    c.refresh().await.unwrap();
    wait_for_queue(&c, "已全部上传").await;
    assert_eq!(
        app.count("finding").await,
        findings_before + items as i64,
        "nothing twice"
    );
    let _ = std::fs::remove_file(photo);
    c.close().await.unwrap();
}

/// The integrity repairs' pages: a case with its duplicates and the one
/// marked a duplicate (with the way back), the categories a case may be
/// filed under, and the third-party import with its result words.
async fn integrity_walk(
    c: &Client,
    app: &TestApp,
    tag: &str,
    english: bool,
    original: &str,
    dup: &str,
) {
    sign_in(c, app, "office", DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/cases")).await.unwrap();
    }
    c.goto(&app.url(&format!("/cases/{original}")))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains(if english {
            "Reported again as"
        } else {
            "重复报告"
        }),
        "{text}"
    );
    shot(c, &format!("case-original-{tag}")).await;
    // The office may file it under another category, folded away.
    c.find(Locator::Css("#change-category summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    shot_at(c, "select[name=category]", &format!("case-classify-{tag}")).await;
    c.goto(&app.url(&format!("/cases/{dup}"))).await.unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains(if english {
            "Not a duplicate"
        } else {
            "撤销重复标记"
        }),
        "{text}"
    );
    shot(c, &format!("case-duplicate-{tag}")).await;
    c.goto(&app.url("/rounds/import")).await.unwrap();
    shot_at(
        c,
        "textarea[name=result_words]",
        &format!("round-import-{tag}"),
    )
    .await;
    c.goto(&app.url("/cases/metrics")).await.unwrap();
    shot(c, &format!("metrics-columns-{tag}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_classify_and_import_pages_render_on_desktop_and_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    wenming_store::demo::load_catalogue(&app.store)
        .await
        .unwrap();
    let call = helpers::bearer(&format!("http://{}", app.addr));
    let (inspector, office) = (
        app.token("inspector", false).await,
        app.token("office", false).await,
    );
    let cats = wenming_store::case::categories(&app.store).await.unwrap();
    let kind = cats.iter().find(|x| x.code == "0101").unwrap().id;
    let mut made = vec![];
    for lat in [31.21, 31.2101] {
        let r = call(reqwest::Method::POST, "/cases", &inspector)
            .json(&serde_json::json!({"source": "inspection", "category_id": kind, "description": "路口垃圾堆积", "lon": 118.61, "lat": lat}))
            .send()
            .await
            .unwrap();
        made.push(r.json::<serde_json::Value>().await.unwrap());
    }
    let r = call(reqwest::Method::POST, &format!("/cases/{}/steps", made[1]["id"].as_str().unwrap()), &office)
        .json(&serde_json::json!({"version": made[1]["version"], "step": {"step": "mark_duplicate", "original": made[0]["id"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let (original, dup) = (
        made[0]["id"].as_str().unwrap(),
        made[1]["id"].as_str().unwrap(),
    );
    for (phone, tag, english) in [
        (false, "desktop-zh", false),
        (false, "desktop-en", true),
        (true, "phone-zh", false),
        (true, "phone-en", true),
    ] {
        let c = browser(&driver, phone).await;
        integrity_walk(&c, &app, tag, english, original, dup).await;
        c.close().await.unwrap();
    }
}

/// One role's day from its home page: what needs them now, and the pages
/// it leads to.
async fn day_walk(c: &Client, app: &TestApp, tag: &str, who: &str, english: bool) {
    let phone = tag.starts_with("phone");
    sign_in(c, app, who, DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/")).await.unwrap();
    }
    c.goto(&app.url("/")).await.unwrap();
    let home = body_text(c).await;
    let want = match (who, english) {
        ("office", false) => "当前待办",
        ("office", true) => "What needs you now",
        ("unit", false) => "本单位待处置案件",
        ("unit", true) => "Cases with your unit",
        ("inspector", false) => "待核查",
        ("inspector", true) => "Fixes to verify",
        ("leader", false) => "本月",
        (_, _) => "This month",
    };
    assert!(home.contains(want), "{who} home: {home}");
    shot(c, &format!("home-{who}-{tag}")).await;
    match who {
        "unit" => {
            // The answer to the first case is one tap from home.
            let answer = c
                .find(Locator::Css(".queue-case a.button.primary"))
                .await
                .unwrap();
            answer.click().await.unwrap();
            c.wait()
                .for_element(Locator::Css("form#handle"))
                .await
                .unwrap();
            shot(c, &format!("home-unit-answer-{tag}")).await;
        }
        "inspector" => {
            c.goto(&app.url("/inspect")).await.unwrap();
            shot_at(c, "#to-verify", &format!("inspect-verify-{tag}")).await;
        }
        "office" => {
            c.goto(&app.url("/cases?inbox=to_verify")).await.unwrap();
            shot(c, &format!("to-verify-office-{tag}")).await;
            // The reported cases, with the unit each would go to, ready to
            // register together.
            c.goto(&app.url("/cases?inbox=to_register")).await.unwrap();
            let list = body_text(c).await;
            assert!(
                list.contains(if english {
                    "Suggested:"
                } else {
                    "建议派往"
                }),
                "{list}"
            );
            shot(c, &format!("bulk-register-{tag}")).await;
            c.goto(&app.url("/cases/map")).await.unwrap();
            shot(c, &format!("map-{tag}")).await;
            // A report sent back for a missing description keeps its photo.
            let photo = std::env::temp_dir().join(format!("wenming-{}.jpg", uuid::Uuid::new_v4()));
            std::fs::write(
                &photo,
                wenming_store::photo::synthetic_jpeg(77, Some(jiff::Timestamp::now()), None),
            )
            .unwrap();
            c.goto(&app.url("/cases/new")).await.unwrap();
            fill(c, "f-address", "望岳路 12 号").await;
            c.find(Locator::Id("f-photos"))
                .await
                .unwrap()
                .send_keys(photo.to_str().unwrap())
                .await
                .unwrap();
            c.find(Locator::Css("button[type=submit].primary"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait()
                .for_element(Locator::Css(".staged img"))
                .await
                .unwrap();
            shot_at(c, ".staged", &format!("report-kept-photo-{tag}")).await;
            let _ = std::fs::remove_file(photo);
        }
        "leader" => {
            c.goto(&app.url("/cases/metrics")).await.unwrap();
            shot(c, &format!("metrics-{tag}")).await;
            if !phone {
                // On paper: A4 landscape, every column.
                let pdf = c
                    .print(
                        fantoccini::wd::PrintConfiguration::builder()
                            .orientation(fantoccini::wd::PrintOrientation::Landscape)
                            .build()
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                assert!(pdf.starts_with(b"%PDF"));
                std::fs::write(shot_dir().join(format!("metrics-print-{tag}.pdf")), pdf).unwrap();
            }
        }
        _ => {}
    }
    if phone {
        // The phone's menu opens to show every place this role may go.
        c.find(Locator::Css("label.nav-button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let nav = c.find(Locator::Css("nav.main-nav")).await.unwrap();
        assert!(nav.is_displayed().await.unwrap(), "the menu opens");
        shot(c, &format!("menu-{who}-{tag}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_per_role_starts_from_a_home_page_that_says_what_needs_them() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    round_for(&app, "inspector", 4).await;
    for who in ["leader", "office", "unit", "inspector"] {
        for (phone, tag, english) in [
            (true, "phone-zh", false),
            (false, "desktop-en", true),
            (true, "phone-en", true),
            (false, "desktop-zh", false),
        ] {
            let c = browser(&driver, phone).await;
            day_walk(&c, &app, tag, who, english).await;
            c.close().await.unwrap();
        }
    }
    // The whole audit log is the administrator's: the day's work in words,
    // each record named and linked.
    for (phone, tag, english) in [(false, "desktop-zh", false), (true, "phone-en", true)] {
        let c = browser(&driver, phone).await;
        sign_in(&c, &app, "admin", helpers::ADMIN_PASSWORD).await;
        if english {
            c.goto(&app.url("/lang?to=en&back=/")).await.unwrap();
        }
        c.goto(&app.url("/audit")).await.unwrap();
        let log = body_text(&c).await;
        assert!(!log.contains("audit_action."), "actions in words: {log}");
        assert!(!log.contains("audit_field."), "fields in words: {log}");
        shot(&c, &format!("audit-admin-{tag}")).await;
        // The cases' records, named by number and linked.
        c.goto(&app.url("/audit?entity_type=case")).await.unwrap();
        assert!(
            c.find_all(Locator::Css("ol.timeline a[href^='/cases/']"))
                .await
                .unwrap()
                .len()
                > 3,
            "cases are named and linked"
        );
        shot(&c, &format!("audit-cases-admin-{tag}")).await;
        c.close().await.unwrap();
    }
}

/// The evidence archive: a unit's list and upload on a phone, the office's
/// completeness drill-down and review on a desktop, in both languages.
async fn evidence_walk(c: &Client, app: &TestApp, who: &str, tag: &str, english: bool) {
    sign_in(c, app, who, DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/")).await.unwrap();
    }
    c.goto(&app.url("/evidence")).await.unwrap();
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    shot(c, &format!("evidence-{who}-{tag}")).await;
    if who == "unit" {
        // The first requirement: file a PDF for it from the phone.
        c.find(Locator::Css(
            "table.list a[href^='/evidence/requirements/']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        c.wait()
            .for_element(Locator::Css("form[enctype='multipart/form-data']"))
            .await
            .unwrap();
        shot(c, &format!("evidence-requirement-unit-{tag}")).await;
        let file = std::env::temp_dir().join(format!("wenming-{}.pdf", uuid::Uuid::new_v4()));
        std::fs::write(&file, format!("%PDF-1.7\n% {tag}\n%%EOF\n")).unwrap();
        fill(
            c,
            "f-title",
            if english {
                "Street lighting repairs"
            } else {
                "路灯维修情况说明"
            },
        )
        .await;
        c.execute(
            "document.getElementById('f-doc_date').value = '2026-10-08'",
            vec![],
        )
        .await
        .unwrap();
        c.find(Locator::Id("f-file"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        c.find(Locator::Css(
            "form[enctype='multipart/form-data'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        c.wait().for_element(Locator::Css("p.flash")).await.unwrap();
        assert!(body_text(c).await.contains(if english {
            "Waiting for review"
        } else {
            "待审核"
        }));
        shot_at(c, "ul.materials", &format!("evidence-filed-unit-{tag}")).await;
        let _ = std::fs::remove_file(file);
    } else {
        c.goto(&app.url("/evidence/review")).await.unwrap();
        shot(c, &format!("evidence-review-{who}-{tag}")).await;
        c.goto(&app.url("/evidence?state=missing")).await.unwrap();
        shot(c, &format!("evidence-missing-{who}-{tag}")).await;
        // A requirement met by photos wenming put together, with the
        // office's form to say where a material is built from.
        let id: String = sqlx::query_scalar(
            "SELECT id FROM evidence_requirement WHERE source LIKE '%photo_pairs%' ORDER BY position, id LIMIT 1",
        )
        .fetch_one(app.store.reader())
        .await
        .unwrap();
        c.goto(&app.url(&format!("/evidence/requirements/{id}")))
            .await
            .unwrap();
        let edit = format!("details:has(form[action='/evidence/requirements/{id}'])");
        c.find(Locator::Css(&format!("{edit} summary")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let text = body_text(c).await;
        assert!(!text.contains("(missing text)"), "{text}");
        assert!(
            text.contains(if english {
                "Before/after photos"
            } else {
                "整改前后对比照片"
            }),
            "{text}"
        );
        shot(c, &format!("evidence-generated-{who}-{tag}")).await;
        shot_at(c, &edit, &format!("evidence-source-form-{who}-{tag}")).await;
        // The filing package, written in the background, then downloaded.
        c.goto(&app.url("/evidence/packages")).await.unwrap();
        c.find(Locator::Css(
            "form[action='/evidence/packages'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        c.wait()
            .at_most(std::time::Duration::from_secs(60))
            .for_element(Locator::Css("a[href$='/file'].button"))
            .await
            .unwrap();
        let text = body_text(c).await;
        assert!(!text.contains("(missing text)"), "{text}");
        shot(c, &format!("evidence-package-{who}-{tag}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_pages_for_a_unit_on_a_phone_and_the_office_on_a_desktop() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    let web = wenming_web::WebConfig {
        files: app.files.clone(),
        ..wenming_web::WebConfig::local("127.0.0.1:0".parse().unwrap())
    };
    wenming_web::load_demo_materials(&app.store, &web)
        .await
        .unwrap();
    for (who, phone, tag, english) in [
        ("unit", true, "phone-zh", false),
        ("unit", true, "phone-en", true),
        ("office", false, "desktop-zh", false),
        ("office", false, "desktop-en", true),
    ] {
        let c = browser(&driver, phone).await;
        evidence_walk(&c, &app, who, tag, english).await;
        c.close().await.unwrap();
    }
}

/// Clicks what a page's script may draw again just after it loads (the
/// inspection page redraws its list from the phone's store): a click on
/// the element it replaced is tried again on the new one.
async fn click_settled(c: &Client, css: &str) {
    for _ in 0..20 {
        let e = c
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        match e.click().await {
            Ok(()) => return,
            Err(fantoccini::error::CmdError::Standard(w))
                if w.error == fantoccini::error::ErrorStatus::StaleElementReference =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{css}: {e}"),
        }
    }
    panic!("{css} kept being redrawn");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// A resident answers the public link on a phone: one required answer
/// missed and named, then in.
async fn survey_public_walk(c: &Client, app: &TestApp, path: &str, tag: &str, english: bool) {
    let lang = if english { "en" } else { "zh-CN" };
    c.goto(&app.url(&format!("/lang?to={lang}&back={path}")))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    shot(c, &format!("survey-public-{tag}")).await;
    for css in [
        "input[name='age_band'][value='30-44']",
        "input[name='sex'][value='female']",
        "input[name='q.Q1'][value='1']",
        "input[name='q.Q2'][value='1']",
        "input[name='q.Q3'][value='2']",
        "input[name='q.Q4'][value='1']",
    ] {
        click(c, css).await;
    }
    click(c, "form.questionnaire button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("fieldset.question.invalid"))
        .await
        .unwrap();
    shot_at(
        c,
        "fieldset.question.invalid",
        &format!("survey-public-error-{tag}"),
    )
    .await;
    click(c, "input[name='q.Q5'][value='4']").await;
    click(c, "form.questionnaire button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains(if english { "Thank you" } else { "感谢参与" }),
        "{text}"
    );
    shot(c, &format!("survey-public-done-{tag}")).await;
}

async fn survey_office_walk(c: &Client, app: &TestApp, wave: &str, tag: &str, english: bool) {
    sign_in(c, app, "office", DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/surveys")).await.unwrap();
    } else {
        c.goto(&app.url("/surveys")).await.unwrap();
    }
    shot(c, &format!("survey-list-{tag}")).await;
    c.goto(&app.url(&format!("/surveys/waves/{wave}")))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    assert!(
        text.contains(if english {
            "beyond the noise"
        } else {
            "超出误差"
        }),
        "{text}"
    );
    shot(c, &format!("survey-results-{tag}")).await;
    shot_at(
        c,
        "section.rate-table:nth-of-type(3)",
        &format!("survey-results-satisfaction-{tag}"),
    )
    .await;
    shot_at(c, "div.charts", &format!("survey-charts-{tag}")).await;
    shot_at(c, "tr.total", &format!("survey-response-rates-{tag}")).await;
    // The entry page, with the form for a contact that gave no answers.
    c.goto(&app.url(&format!("/surveys/waves/{wave}/entry")))
        .await
        .unwrap();
    click(c, "details.card summary").await;
    shot_at(c, "details.card", &format!("survey-entry-contact-{tag}")).await;
    c.goto(&app.url("/surveys/waves/new")).await.unwrap();
    shot(c, &format!("survey-new-wave-{tag}")).await;
    c.goto(&app.url(&format!("/surveys/waves/{wave}/interview")))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    shot(c, &format!("survey-interview-{tag}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_pages_the_public_link_on_a_phone_and_results_on_a_desktop() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    let open = open_demo_wave(&app).await;
    // The demo's latest finished wave.
    let demo_wave = wenming_store::survey::waves(&app.store)
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.id != open.id)
        .unwrap()
        .id
        .to_string();
    let path = format!("/s/{}/{}", open.id, open.regions[0]);
    for (tag, english) in [("phone-zh", false), ("phone-en", true)] {
        let c = browser(&driver, true).await;
        survey_public_walk(&c, &app, &path, tag, english).await;
        c.close().await.unwrap();
    }
    assert_eq!(app.count("survey_device").await, 2);
    for (tag, english) in [("desktop-zh", false), ("desktop-en", true)] {
        let c = browser(&driver, false).await;
        survey_office_walk(&c, &app, &demo_wave, tag, english).await;
        c.close().await.unwrap();
    }
}

async fn rating_public_walk(c: &Client, app: &TestApp, path: &str, tag: &str, english: bool) {
    let lang = if english { "en" } else { "zh-CN" };
    c.goto(&app.url(&format!("/lang?to={lang}&back={path}")))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    shot(c, &format!("rating-public-{tag}")).await;
    // No level chosen: the question is marked, nothing stored.
    click(c, "form.questionnaire button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("fieldset.question.invalid"))
        .await
        .unwrap();
    shot(c, &format!("rating-public-error-{tag}")).await;
    click(c, "input[name='value'][value='basic']").await;
    click(c, "form.questionnaire button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("p.notice"))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains(if english {
            "Thank you"
        } else {
            "感谢您的评价"
        }),
        "{text}"
    );
}

async fn rating_office_walk(c: &Client, app: &TestApp, round: &str, tag: &str, english: bool) {
    sign_in(c, app, "office", DEMO_PASSWORD).await;
    let path = format!("/ratings/{round}");
    if english {
        c.goto(&app.url(&format!("/lang?to=en&back={path}")))
            .await
            .unwrap();
    } else {
        c.goto(&app.url(&path)).await.unwrap();
    }
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    assert!(text.contains(if english {
        "too few to rank"
    } else {
        "样本不足"
    }));
    shot(c, &format!("rating-round-{tag}")).await;
    c.goto(&app.url(&format!("/ratings/{round}/posters")))
        .await
        .unwrap();
    let qr = c.find_all(Locator::Css(".poster .qr svg")).await.unwrap();
    assert_eq!(qr.len(), 8, "a poster for each unit rated");
    shot(c, &format!("rating-posters-{tag}")).await;
    c.goto(&app.url("/ratings")).await.unwrap();
    click(c, "details summary").await;
    shot(c, &format!("rating-list-{tag}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rating_pages_the_public_page_on_a_phone_and_results_on_a_desktop() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    let demo = wenming_store::rating::rounds(&app.store).await.unwrap()[0].clone();
    let permit = app.system().await;
    let ctx = wenming_store::Ctx::system("test");
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let open = wenming_store::rating::create_round(
        &app.store,
        &ctx,
        &permit,
        &wenming_domain::rating::RoundInput {
            name: "十二月民评官".into(),
            scale: wenming_domain::rating::Scale::ThreeLevel,
            opens_on: today.yesterday().unwrap(),
            closes_on: today.tomorrow().unwrap(),
            min_n: 30,
            units: demo.units.clone(),
        },
    )
    .await
    .unwrap();
    let open = wenming_store::rating::set_state(
        &app.store,
        &ctx,
        &permit,
        open.id,
        open.version,
        wenming_store::rating::RoundState::Open,
    )
    .await
    .unwrap();
    let path = format!("/r/{}?unit={}", open.id, open.units[0]);
    for (tag, english) in [("phone-zh", false), ("phone-en", true)] {
        let c = browser(&driver, true).await;
        rating_public_walk(&c, &app, &path, tag, english).await;
        c.close().await.unwrap();
    }
    assert_eq!(app.count("rating_device").await, 2);
    for (tag, english) in [("desktop-zh", false), ("desktop-en", true)] {
        let c = browser(&driver, false).await;
        rating_office_walk(&c, &app, &demo.id.to_string(), tag, english).await;
        c.close().await.unwrap();
    }
}

/// An open wave of the demo's questionnaire over two communities.
async fn open_demo_wave(app: &TestApp) -> wenming_store::survey::Wave {
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    let waves = wenming_store::survey::waves(&app.store).await.unwrap();
    let permit = app.system().await;
    let ctx = wenming_store::Ctx::system("test");
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date();
    let w = wenming_store::survey::create_wave(
        &app.store,
        &ctx,
        &permit,
        &wenming_store::survey::NewWave {
            questionnaire_id: waves[0].questionnaire_id,
            name: "十二月入户问卷".into(),
            opens_on: today.yesterday().unwrap(),
            closes_on: today.tomorrow().unwrap(),
            margin_permille: 50,
            min_n: 30,
            clustered: true,
            per_community: false,
            regions: waves[0].regions[..2].to_vec(),
        },
    )
    .await
    .unwrap();
    wenming_store::survey::set_state(
        &app.store,
        &ctx,
        &permit,
        w.id,
        w.version,
        wenming_store::survey::WaveState::Open,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questionnaires_taken_offline_arrive_exactly_once_when_the_network_returns() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    let wave = open_demo_wave(&app).await;
    let net = Network::to(app.addr).await;
    let c = browser(&driver, true).await;
    sign_in_through(&c, &net, "inspector").await;
    let path = format!("/surveys/waves/{}/interview", wave.id);
    c.goto(&net.url(&path)).await.unwrap();
    kept_by_service_worker(&c).await;
    wait_for_queue(&c, "已全部上传").await;
    shot(&c, "interview-phone-zh").await;

    net.set(false);
    let (answers, contacts) = (
        app.count("survey_response").await,
        app.count("survey_contact").await,
    );
    c.execute(
        "document.querySelector('select[name=region_id]').selectedIndex = 1;",
        vec![],
    )
    .await
    .unwrap();
    // A required question left blank is marked on the phone, nothing queued.
    for css in [
        "input[name='group'][value='residents']",
        "input[name='age_band'][value='45-59']",
        "input[name='sex'][value='male']",
        "input[name='q.Q1'][value='1']",
        "input[name='q.Q2'][value='1']",
        "input[name='q.Q3'][value='2']",
        "input[name='q.Q4'][value='1']",
    ] {
        click(&c, css).await;
    }
    click(&c, "form.questionnaire button[type=submit]").await;
    c.wait()
        .for_element(Locator::Css("fieldset.question.invalid"))
        .await
        .unwrap();
    click(&c, "input[name='q.Q5'][value='4']").await;
    click(&c, "form.questionnaire button[type=submit]").await;
    wait_for_queue(&c, "问卷 1 份，接触记录 0 条").await;
    // Nobody home at the next door.
    click(&c, "details.card summary").await;
    c.execute(
        "document.querySelector('#contact-form select[name=region_id]').selectedIndex = 1;",
        vec![],
    )
    .await
    .unwrap();
    click(
        &c,
        "#contact-form input[name='disposition'][value='non_contact']",
    )
    .await;
    click(&c, "#contact-form button[type=submit]").await;
    wait_for_queue(&c, "问卷 1 份，接触记录 1 条").await;

    // Reloaded while still offline: the page and its queue are there.
    c.refresh().await.unwrap();
    wait_for_queue(&c, "问卷 1 份，接触记录 1 条").await;
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    shot(&c, "interview-offline-queue-phone-zh").await;
    assert_eq!(
        app.count("survey_response").await,
        answers,
        "nothing arrived offline"
    );

    // Back online: each arrives once, however often the page is opened.
    net.set(true);
    c.refresh().await.unwrap();
    wait_for_queue(&c, "已全部上传").await;
    assert_eq!(app.count("survey_response").await, answers + 1);
    let non_contacts: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(n), 0) FROM survey_contact WHERE wave_id = $1 AND disposition = 'non_contact'",
    )
    .bind(wave.id.to_string())
    .fetch_one(app.store.reader())
    .await
    .unwrap();
    assert_eq!(non_contacts, 1);
    c.refresh().await.unwrap();
    wait_for_queue(&c, "已全部上传").await;
    assert_eq!(
        app.count("survey_response").await,
        answers + 1,
        "nothing twice"
    );
    assert!(app.count("survey_contact").await >= contacts);
    shot(&c, "interview-synced-phone-zh").await;
    c.close().await.unwrap();
}

async fn cockpit_walk(c: &Client, app: &TestApp, tag: &str, english: bool, who: &str) {
    sign_in(c, app, who, DEMO_PASSWORD).await;
    if english {
        c.goto(&app.url("/lang?to=en&back=/cockpit")).await.unwrap();
    } else {
        c.goto(&app.url("/cockpit")).await.unwrap();
    }
    c.wait()
        .for_element(Locator::Css(".cockpit .big"))
        .await
        .unwrap();
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    assert!(text.contains(if english { "90% interval" } else { "90%区间" }));
    shot(c, &format!("cockpit-{tag}")).await;
    shot_at(c, ".cockpit .map", &format!("cockpit-map-{tag}")).await;
    shot_at(c, "input[name=full]", &format!("cockpit-weak-{tag}")).await;
    // The months' snapshots as a chart, each point with its number.
    // The one drawn for this screen is the one visible.
    let mut trend = String::new();
    for f in c
        .find_all(Locator::Css(".cockpit figure.trend svg"))
        .await
        .unwrap()
    {
        trend += &f.text().await.unwrap();
    }
    assert!(trend.contains("81.4"), "{trend}");
    shot_at(
        c,
        if tag.starts_with("phone") {
            ".cockpit figure.trend.narrow"
        } else {
            ".cockpit figure.trend.wide"
        },
        &format!("cockpit-trend-{tag}"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_on_a_desktop_a_wall_screen_a_phone_and_paper() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::spawn(Backend::Sqlite).await;
    wenming_store::demo::load_all(&app.store, &app.files)
        .await
        .unwrap();
    for (tag, english) in [("desktop-zh", false), ("desktop-en", true)] {
        let c = browser(&driver, false).await;
        cockpit_walk(&c, &app, tag, english, "leader").await;
        c.close().await.unwrap();
    }
    let c = browser(&driver, true).await;
    cockpit_walk(&c, &app, "phone-zh", false, "office").await;
    // "What if": the two weakest standards at full marks.
    let boxes = c.find_all(Locator::Css("input[name=full]")).await.unwrap();
    for b in boxes.iter().take(2) {
        b.click().await.unwrap();
    }
    click(&c, ".cockpit form[method=get] button[type=submit]").await;
    c.wait().for_element(Locator::Css(".notice")).await.unwrap();
    shot_at(&c, ".notice", "cockpit-what-if-phone-zh").await;
    c.close().await.unwrap();
    // The wall screen: 1920×1080, no navigation, refreshing itself.
    let c = browser(&driver, false).await;
    sign_in(&c, &app, "leader", DEMO_PASSWORD).await;
    c.set_window_size(1920, 1080).await.unwrap();
    c.goto(&app.url("/cockpit?wall=1")).await.unwrap();
    c.wait()
        .for_element(Locator::Css(".cockpit.wall"))
        .await
        .unwrap();
    let nav_shown: bool = c
        .execute(
            "return getComputedStyle(document.querySelector('header.top')).display !== 'none'",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(!nav_shown, "the wall screen shows no navigation");
    let refresh = c
        .find(Locator::Css("meta[http-equiv=refresh]"))
        .await
        .unwrap();
    assert_eq!(
        refresh.attr("content").await.unwrap().as_deref(),
        Some("300")
    );
    shot(&c, "cockpit-wall-1920x1080").await;
    // On A4: Chromium's print, kept beside the screenshots.
    c.goto(&app.url("/cockpit")).await.unwrap();
    let pdf = c
        .print(
            fantoccini::wd::PrintConfiguration::builder()
                .size(fantoccini::wd::PrintSize::A4)
                .background(true)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    std::fs::write(shot_dir().join("cockpit-a4.pdf"), pdf).unwrap();
    c.close().await.unwrap();
}

async fn ranking_walk(c: &Client, app: &TestApp, tag: &str, english: bool, who: &str) {
    sign_in(c, app, who, DEMO_PASSWORD).await;
    let list: String = sqlx::query_scalar("SELECT id FROM ranking_list ORDER BY id LIMIT 1")
        .fetch_one(app.store.reader())
        .await
        .unwrap();
    let path = format!("/rankings/{list}");
    if english {
        c.goto(&app.url(&format!("/lang?to=en&back={path}")))
            .await
            .unwrap();
    } else {
        c.goto(&app.url(&path)).await.unwrap();
    }
    let text = body_text(c).await;
    assert!(!text.contains("(missing text)"), "{text}");
    assert!(text.contains(if english { "red list" } else { "红榜" }));
    shot(c, &format!("ranking-{who}-{tag}")).await;
    c.goto(&app.url("/rankings")).await.unwrap();
    shot(c, &format!("ranking-list-{who}-{tag}")).await;
    c.goto(&app.url(&format!("/p/rankings/{list}")))
        .await
        .unwrap();
    shot(c, &format!("ranking-public-{tag}")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranking_pages_for_the_office_on_a_desktop_and_a_unit_on_a_phone() {
    let Some(driver) = start_driver() else { return };
    let app = TestApp::demo(Backend::Sqlite).await;
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    for (tag, english) in [("desktop-zh", false), ("desktop-en", true)] {
        let c = browser(&driver, false).await;
        ranking_walk(&c, &app, tag, english, "office").await;
        c.close().await.unwrap();
    }
    for (tag, english) in [("phone-zh", false), ("phone-en", true)] {
        let c = browser(&driver, true).await;
        ranking_walk(&c, &app, tag, english, "unit").await;
        c.close().await.unwrap();
    }
    let c = browser(&driver, false).await;
    sign_in(&c, &app, "office", DEMO_PASSWORD).await;
    c.goto(&app.url("/cockpit/anomalies")).await.unwrap();
    shot(&c, "anomalies-desktop-zh").await;
    c.close().await.unwrap();
}
