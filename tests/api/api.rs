use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};

on_both!(
    tokens_are_scoped_revocable_and_hashed,
    api_validation_errors_name_the_field,
    me_tells_the_caller_what_they_may_do,
    every_documented_query_parameter_is_accepted,
    malformed_ids_answer_in_json,
);

/// The served OpenAPI document matches the committed snapshot
/// (`snapshots/api__api__openapi.snap`). After an intended API change,
/// review and accept the new one with
/// `INSTA_UPDATE=always cargo test --test api openapi` (or `cargo insta
/// review`).
#[test]
fn openapi_document_matches_snapshot() {
    let doc = serde_json::to_string_pretty(&wenming_web::openapi_document()).unwrap() + "\n";
    insta::assert_snapshot!("openapi", doc);
    let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    for p in [
        "/units",
        "/units/{id}",
        "/regions",
        "/regions/{id}/history",
        "/users/{id}/grants",
        "/tokens",
        "/audit/verify",
        "/me",
    ] {
        assert!(v["paths"][p].is_object(), "{p} is documented");
    }
}

async fn tokens_are_scoped_revocable_and_hashed(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let office = app.token("office", false).await;
    let r = call(Method::POST, "/tokens", &office)
        .json(&serde_json::json!({"name": "大屏", "read_only": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: serde_json::Value = r.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["token"]["id"].as_str().unwrap().to_string();
    // Only a hash is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM api_token")
        .fetch_all(app.store.reader())
        .await
        .unwrap();
    assert!(stored.iter().all(|h| *h != secret && h.len() == 64));
    // Read-only: reads work, writes are forbidden, and it cannot mint a stronger token.
    assert_eq!(
        call(Method::GET, "/units", &secret)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let city = app.region_id("QL").await;
    let r = call(Method::POST, "/units", &secret)
        .json(&serde_json::json!({"name": "市只读局", "kind": "department", "region_id": city}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = call(Method::POST, "/tokens", &secret)
        .json(&serde_json::json!({"name": "升级"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Revoked: refused from then on. Another user cannot revoke it.
    let leader = app.token("leader", false).await;
    assert_eq!(
        call(Method::DELETE, &format!("/tokens/{id}"), &leader)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(Method::DELETE, &format!("/tokens/{id}"), &office)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(Method::GET, "/units", &secret)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // Tokens also come from the account page, shown once.
    let s = app.as_role("unit").await;
    let r = s
        .post(
            "/account/tokens",
            &[("name", "对接系统"), ("valid_days", "30")],
        )
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"secret\">wm_"));
    let (_, again) = s.get_text("/account").await;
    assert!(
        !again.contains("class=\"secret\""),
        "the secret is not shown a second time"
    );
}

async fn api_validation_errors_name_the_field(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("admin", false).await;
    let r = call(Method::POST, "/units", &token)
        .header("accept-language", "en")
        .json(&serde_json::json!({"name": "", "kind": "ministry", "region_id": uuid::Uuid::nil(), "head_phone": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: serde_json::Value = r.json().await.unwrap();
    let fields: Vec<(&str, &str)> = e["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["field"].as_str().unwrap(), x["code"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&("name", "required")));
    assert!(fields.contains(&("kind", "invalid_choice")));
    assert!(fields.contains(&("head_phone", "invalid_phone")));
    assert_eq!(e["errors"][0]["message"], "Please fill this in.");
    // A region that does not exist is reported on its field, after parsing.
    let r = call(Method::POST, "/units", &token).json(&serde_json::json!({"name": "市某局", "kind": "department", "region_id": uuid::Uuid::nil()})).send().await.unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "region_id");
    // Malformed JSON and a missing version are errors, not crashes.
    let r = call(Method::POST, "/units", &token)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unit = app.unit_id("市民政局").await;
    let r = call(Method::PUT, &format!("/units/{unit}"), &token).json(&serde_json::json!({"name": "市民政局", "kind": "department", "region_id": app.region_id("QL").await})).send().await.unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["field"], "version");
    // Users and grants through the API.
    let r = call(Method::POST, "/users", &token).json(&serde_json::json!({"username": "zhang.san", "display_name": "张三", "phone": "13700001111", "password": "temporary-pass"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let user: serde_json::Value = r.json().await.unwrap();
    assert_eq!(user["must_change_password"], true);
    let uid = user["id"].as_str().unwrap();
    let r = call(Method::POST, &format!("/users/{uid}/grants"), &token)
        .json(&serde_json::json!({"role": "unit_staff", "scope_kind": "region", "scope_id": app.region_id("QL").await}))
        .send()
        .await
        .unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["errors"][0]["code"], "scope_kind_mismatch");
    let r = call(Method::POST, &format!("/users/{uid}/grants"), &token)
        .json(&serde_json::json!({"role": "unit_staff", "scope_kind": "unit", "scope_id": unit}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = call(Method::POST, "/users", &token).json(&serde_json::json!({"username": "Zhang.San", "display_name": "重名", "password": "temporary-pass"})).send().await.unwrap();
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (
            e["errors"][0]["field"].as_str(),
            e["errors"][0]["code"].as_str()
        ),
        (Some("username"), Some("duplicate"))
    );
}

async fn me_tells_the_caller_what_they_may_do(b: Backend) {
    let app = TestApp::demo(b).await;
    let call = bearer(&format!("http://{}", app.addr));
    let token = app.token("unit", true).await;
    let me: serde_json::Value = call(Method::GET, "/me", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "unit");
    assert_eq!(me["read_only"], true);
    assert_eq!(me["grants"][0]["role"], "unit_staff");
    assert_eq!(me["grants"][0]["scope_name"], "市城市管理局");
    assert_eq!(
        me["may"],
        serde_json::json!([
            "view_units",
            "view_framework",
            "view_tasks",
            "view_cases",
            "view_sites",
            "view_evidence",
            "view_ratings",
            "view_rankings"
        ]),
        "a read-only token may only view"
    );
}

/// What a generated client relies on: every path parameter the document
/// declares is in its path, query parameters are declared as such, and
/// nothing optional is marked required.
#[test]
fn openapi_parameters_are_where_the_routes_take_them() {
    let doc = serde_json::to_value(wenming_web::openapi_document()).unwrap();
    let mut queries = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                match p["in"].as_str().unwrap() {
                    "path" => {
                        assert!(
                            path.contains(&format!("{{{name}}}")),
                            "{method} {path}: path parameter {name} is not in the path"
                        );
                        assert_eq!(p["required"], true, "{method} {path} {name}");
                    }
                    "query" => {
                        queries += 1;
                        assert_ne!(
                            p["required"], true,
                            "{method} {path}: query {name} is optional"
                        );
                    }
                    other => panic!("{method} {path} {name} in {other}"),
                }
            }
        }
    }
    assert!(queries >= 30, "{queries} query parameters");
}

/// A call such as a generated client makes, with each documented query
/// parameter of each list endpoint set to a value of its declared type,
/// is accepted.
async fn every_documented_query_parameter_is_accepted(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.token("admin", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    let doc = serde_json::to_value(wenming_web::openapi_document()).unwrap();
    let mut tried = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let Some(op) = ops.get("get") else { continue };
        if path.contains('{') {
            continue;
        }
        for p in op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
        {
            let name = p["name"].as_str().unwrap();
            let schema = &p["schema"];
            let ty = schema["type"]
                .as_str()
                .or_else(|| schema["type"][0].as_str())
                .unwrap_or("string");
            let value = match (ty, schema["format"].as_str()) {
                // Within the bounds the document gives, if it gives any.
                ("integer", _) => schema["minimum"].as_i64().unwrap_or(10).max(10).to_string(),
                ("boolean", _) => "true".to_string(),
                (_, Some("uuid")) => uuid::Uuid::new_v4().to_string(),
                _ => String::new(),
            };
            let r = call(Method::GET, &format!("{path}?{name}={value}"), &token)
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "GET {path}?{name}={value}: {} {}",
                r.status(),
                r.text().await.unwrap()
            );
            tried += 1;
        }
    }
    assert!(tried >= 20, "{tried}");
}

/// Malformed ids answer in the API's JSON error shape, not plain text.
async fn malformed_ids_answer_in_json(b: Backend) {
    let app = TestApp::demo(b).await;
    let token = app.token("admin", false).await;
    let call = bearer(&format!("http://{}", app.addr));
    for path in [
        "/rounds/not-an-id/sites/also-not/findings",
        "/rounds/not-an-id/sites/x/checklist",
        "/cases/nope",
        "/units/12",
    ] {
        let r = call(Method::GET, path, &token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let v: serde_json::Value = r
            .json()
            .await
            .unwrap_or_else(|_| panic!("{path}: not JSON"));
        assert_eq!(v["errors"][0]["code"], "not_found", "{path}");
    }
}

/// The document is a valid OpenAPI 3.1 description as a third-party parser
/// (oas3) reads it: every operation's parameters, request body and
/// responses resolve, and path parameters are those of the path.
#[test]
fn the_openapi_document_is_valid_openapi_3_1() {
    let json = serde_json::to_string(&wenming_web::openapi_document()).unwrap();
    let spec = oas3::from_json(&json).expect("a valid OpenAPI 3.1 document");
    spec.validate_version().expect("OpenAPI 3.1");
    let mut operations = 0;
    for (path, method, op) in spec.operations() {
        operations += 1;
        let params = op
            .parameters(&spec)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        for p in params {
            if matches!(p.location, oas3::spec::ParameterIn::Path) {
                assert!(
                    path.contains(&format!("{{{}}}", p.name)),
                    "{method} {path}: {}",
                    p.name
                );
            }
        }
        op.request_body(&spec)
            .unwrap_or_else(|e| panic!("{method} {path} request body: {e}"));
        assert!(
            !op.responses(&spec).is_empty(),
            "{method} {path} has responses"
        );
    }
    assert!(operations >= 80, "{operations} operations");
}
