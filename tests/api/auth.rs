use crate::helpers::*;
use crate::on_both;
use reqwest::StatusCode;

on_both!(
    login_by_username_or_phone_and_logout,
    wrong_password_and_unknown_user_get_the_same_answer,
    repeated_failures_lock_the_name_known_or_not,
    forms_without_the_session_token_are_refused,
    cross_site_requests_are_refused,
    api_calls_with_a_session_need_the_csrf_header,
    two_instances_share_sessions,
    generated_admin_password_must_be_changed,
    pages_speak_the_requested_language,
    changing_password_signs_out_other_sessions,
    security_headers_are_set,
);

async fn login_by_username_or_phone_and_logout(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.login("office", DEMO_PASSWORD).await;
    let (status, home) = s.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("陈建华"), "home greets the user by name");
    // The office's demo phone number works as a login too, with spaces.
    let by_phone = app.anonymous();
    assert_eq!(
        by_phone
            .try_login("138 0000 0001", DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let r = s.post("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = s.get("/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&r).starts_with("/login"),
        "signed-out users are sent to the login page"
    );
}

async fn wrong_password_and_unknown_user_get_the_same_answer(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.anonymous();
    let wrong = s.try_login("office", "not-the-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = s.try_login("nobody-here", "not-the-password").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    let msg = "用户名或密码不正确";
    assert!(wrong.contains(msg) && unknown.contains(msg));
    // The typed login is kept; nothing else differs.
    assert!(wrong.contains("value=\"office\""));
    assert_eq!(
        wrong.replace("value=\"office\"", "X"),
        unknown.replace("value=\"nobody-here\"", "X")
    );
}

async fn repeated_failures_lock_the_name_known_or_not(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.anonymous();
    for name in ["inspector", "ghost-user"] {
        for i in 1..=4 {
            let r = s.try_login(name, "wrong-password").await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{name} attempt {i}");
            assert!(r.text().await.unwrap().contains("用户名或密码不正确"));
        }
        let fifth = s
            .try_login(name, "wrong-password")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            fifth.contains("尝试次数过多"),
            "{name}: the fifth failure locks"
        );
    }
    // Locked means locked: even the right password is refused, with a time.
    let r = s.try_login("inspector", DEMO_PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("请于") && body.contains("之后再试"),
        "the user is told when to try again"
    );
    // Other names are unaffected.
    assert_eq!(
        s.try_login("leader", DEMO_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // An administrator lifts the lock.
    let admin = app.as_role("admin").await;
    let id = app.user_id("inspector").await;
    assert_eq!(
        admin
            .post(&format!("/users/{id}/unlock"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.anonymous()
            .try_login("inspector", DEMO_PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

async fn forms_without_the_session_token_are_refused(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let city = app.region_id("QL").await.to_string();
    let before = app.count("unit").await;
    let fields = [
        ("name", "市测试局"),
        ("kind", "department"),
        ("region_id", city.as_str()),
        ("active", "on"),
    ];
    let no_token = s
        .client
        .post(s.url("/units"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    let mut wrong: Vec<(&str, &str)> = fields.to_vec();
    wrong.push(("csrf", "0000"));
    let r = s
        .client
        .post(s.url("/units"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("表单已过期"));
    assert_eq!(app.count("unit").await, before, "nothing was saved");
    // The login form has its own token too.
    let r = app
        .anonymous()
        .client
        .post(app.url("/login"))
        .form(&[("login", "office"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // With the token the same form is accepted.
    assert_eq!(
        s.post("/units", &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("unit").await, before + 1);
}

async fn cross_site_requests_are_refused(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let city = app.region_id("QL").await.to_string();
    let f = [
        ("name", "市跨站局"),
        ("kind", "department"),
        ("region_id", city.as_str()),
        ("csrf", s.csrf.as_str()),
    ];
    let r = s
        .client
        .post(s.url("/units"))
        .header("origin", "https://evil.example")
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .client
        .post(s.url("/units"))
        .header("sec-fetch-site", "cross-site")
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let same = format!("http://{}", app.addr);
    let r = s
        .client
        .post(s.url("/units"))
        .header("origin", same)
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn api_calls_with_a_session_need_the_csrf_header(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("office").await;
    let city = app.region_id("QL").await;
    let body = serde_json::json!({"name": "市接口局", "kind": "department", "region_id": city});
    let r = s
        .client
        .post(s.url("/api/v1/units"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["errors"][0]["code"], "csrf");
    let r = s
        .client
        .post(s.url("/api/v1/units"))
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

async fn two_instances_share_sessions(b: Backend) {
    let app = TestApp::demo(b).await;
    let s = app.as_role("leader").await;
    let second = open_store(&app.database_url).await;
    let (addr, _stop) = serve(second, app.files.clone()).await;
    let r = s
        .client
        .get(format!("http://{addr}/units"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a session made on one instance works on another"
    );
    s.post("/logout", &[]).await;
    let r = s
        .client
        .get(format!("http://{addr}/units"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "and signing out ends it on both"
    );
}

async fn generated_admin_password_must_be_changed(b: Backend) {
    let (url, _dir) = fresh_database(b).await;
    let store = open_store(&url).await;
    let boot = wenming_store::demo::bootstrap(&store, None).await.unwrap();
    let pw = boot
        .generated_admin_password
        .expect("a password is generated when none is given");
    assert!(
        wenming_store::demo::bootstrap(&store, None)
            .await
            .unwrap()
            .generated_admin_password
            .is_none(),
        "only once"
    );
    let (addr, _stop) = serve(store, wenming_store::files::Files::memory()).await;
    let s = Session {
        client: TestApp::client(),
        base: format!("http://{addr}"),
        csrf: String::new(),
    };
    assert_eq!(
        s.try_login("admin", &pw).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = s.get("/units").await;
    assert_eq!(location(&r), "/account?must_change=1");
    let s = s.refresh_csrf().await;
    let r = s
        .post(
            "/account/password",
            &[
                ("current", &pw),
                ("new", "a-new-admin-pass"),
                ("confirm", "a-new-admin-pass"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(s.get("/units").await.status(), StatusCode::OK);
}

async fn pages_speak_the_requested_language(b: Backend) {
    let app = TestApp::demo(b).await;
    let c = TestApp::client();
    let zh = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains("<html lang=\"zh-CN\">") && zh.contains("用户名或手机号"));
    let en = c
        .get(app.url("/login"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<html lang=\"en\">") && en.contains("Username or mobile"));
    // The switch link sets a cookie that wins over the header.
    let s = app.as_role("office").await;
    let r = s.get("/lang?to=en&back=/units").await;
    assert_eq!(location(&r), "/units");
    let (_, units) = s.get_text("/units").await;
    assert!(units.contains("Export CSV") && units.contains("Department"));
    let r = s.get("/lang?to=en&back=https://evil.example/").await;
    assert_eq!(location(&r), "/", "the switch never redirects off-site");
}

async fn changing_password_signs_out_other_sessions(b: Backend) {
    let app = TestApp::demo(b).await;
    let phone = app.as_role("unit").await;
    let desk = app.as_role("unit").await;
    let r = desk
        .post(
            "/account/password",
            &[
                ("current", "wrong-current"),
                ("new", "new-password-1"),
                ("confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("当前密码不正确"));
    let r = desk
        .post(
            "/account/password",
            &[
                ("current", DEMO_PASSWORD),
                ("new", "new-password-1"),
                ("confirm", "new-password-2"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("两次输入的新密码不一致"));
    let r = desk
        .post(
            "/account/password",
            &[
                ("current", DEMO_PASSWORD),
                ("new", "new-password-1"),
                ("confirm", "new-password-1"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        desk.get("/").await.status(),
        StatusCode::OK,
        "the session that changed it stays"
    );
    assert_eq!(
        phone.get("/").await.status(),
        StatusCode::SEE_OTHER,
        "other sessions end"
    );
    assert_eq!(
        app.anonymous()
            .try_login("unit", "new-password-1")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

async fn security_headers_are_set(b: Backend) {
    let app = TestApp::spawn(b).await;
    let r = TestApp::client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap();
    let h = r.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h.get("x-request-id").is_some(),
        "every response carries its request id"
    );
    let cookie = h
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(";");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert_eq!(
        TestApp::client()
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        TestApp::client()
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
