//! Cross-cutting layers: request ids in logs, security headers, the origin
//! check against cross-site requests, and rendering of errors.

use crate::AppState;
use crate::error::AppError;
use crate::i18n;
use crate::page::{PageCtx, render};
use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

pub fn request_span(req: &Request<Body>) -> tracing::Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
}

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // Only where the city serves wenming over https: a browser told this
    // over plain http on a laptop would refuse the laptop's own address.
    if state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(self), geolocation=(self), microphone=()",
    );
    set(h, "cache-control", "no-store");
    resp
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Refuses state-changing requests that a browser says come from another
/// site. Requests carrying a bearer token have no ambient credentials and are
/// not subject to it. The per-session token check happens in the extractors.
pub async fn origin_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_unsafe(req.method()) && !crate::auth::has_bearer(req.headers()) {
        let headers = req.headers();
        if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
            && !matches!(site, "same-origin" | "none")
        {
            return AppError::Csrf.into_response();
        }
        if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let same_host = origin
                .split_once("://")
                .is_some_and(|(_, rest)| rest == host);
            let trusted = state
                .config
                .public_url
                .as_deref()
                .is_some_and(|u| u.trim_end_matches('/') == origin);
            if !(same_host || trusted) {
                return AppError::Csrf.into_response();
            }
        }
    }
    next.run(req).await
}

#[derive(Serialize)]
struct ApiErrors {
    errors: Vec<ApiErrorItem>,
}

#[derive(Serialize)]
struct ApiErrorItem {
    code: String,
    message: String,
    field: Option<String>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    p: PageCtx,
    status: u16,
    message: String,
}

pub async fn render_errors(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let lang = crate::auth::request_lang(req.headers());
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let resp = next.run(req).await;
    let Some(err) = resp.extensions().get::<AppError>().cloned() else {
        return resp;
    };
    let status = err.status();
    let message = match &err {
        AppError::Locked(until) => i18n::fill(i18n::t(lang, "error.locked"), &[("until", until)]),
        e => i18n::t(lang, &format!("error.{}", e.code())).to_string(),
    };
    if is_api {
        let mut errors = vec![];
        match &err {
            AppError::Invalid(fields) => {
                for f in &fields.0 {
                    errors.push(ApiErrorItem {
                        code: f.code.to_string(),
                        message: i18n::field_message(lang, f.code),
                        field: Some(f.field.clone()),
                    });
                }
            }
            AppError::Problems(problems) => {
                for p in problems {
                    errors.push(ApiErrorItem {
                        code: p.code.to_string(),
                        message: crate::describe_problem(lang, p),
                        field: Some(p.place.clone()),
                    });
                }
            }
            e => errors.push(ApiErrorItem {
                code: e.code().to_string(),
                message,
                field: None,
            }),
        }
        let mut r = (status, axum::Json(ApiErrors { errors })).into_response();
        if matches!(err, AppError::Unauthorized) {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        return r;
    }
    if matches!(err, AppError::Unauthorized) {
        let next = match query {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        let target = format!("/login?next={}", crate::page::urlencode(&next));
        return Redirect::to(&target).into_response();
    }
    if matches!(err, AppError::PasswordChangeRequired) {
        return Redirect::to("/account?must_change=1").into_response();
    }
    let page = ErrorPage {
        p: PageCtx::anonymous(lang, &path),
        status: status.as_u16(),
        message,
    };
    (status, render(&page)).into_response()
}
