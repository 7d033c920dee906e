//! Signing in and out, and the language switch.

use crate::AppState;
use crate::auth::{self, MaybeAuth, PRE_SESSION_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::extract::ApiQuery;
use crate::i18n::{self, Lang};
use crate::page::{PageCtx, render, safe_next};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use wenming_store::accounts::{self, LoginOutcome};
use wenming_store::{Ctx, demo};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    p: PageCtx,
    login: String,
    next: String,
    csrf: String,
    error: String,
    demo: bool,
    demo_password: &'static str,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
}

fn login_page_response(
    state: &AppState,
    page: LoginPage,
    new_pre: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut resp = (status, render(&page)).into_response();
    if let Some(pre) = new_pre
        && let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
            PRE_SESSION_COOKIE,
            pre,
            None,
            state.config.secure_cookies,
        ))
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login_page(
    State(state): State<AppState>,
    MaybeAuth(current): MaybeAuth,
    lang: Lang,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<LoginQuery>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    if current.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let existing = auth::cookie(&headers, PRE_SESSION_COOKIE).filter(|c| c.len() == 64);
    let pre = existing.clone().unwrap_or_else(|| accounts::random_hex(32));
    let page = LoginPage {
        p: PageCtx::anonymous(lang, "/login").with_loading(&state),
        login: String::new(),
        next,
        csrf: pre.clone(),
        error: String::new(),
        demo: demo::is_loaded(&state.store).await?,
        demo_password: demo::DEMO_PASSWORD,
    };
    let set = if existing.is_none() {
        Some(pre.as_str())
    } else {
        None
    };
    Ok(login_page_response(&state, page, set, StatusCode::OK))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    lang: Lang,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> AppResult<Response> {
    let pre = auth::cookie(&headers, PRE_SESSION_COOKIE).unwrap_or_default();
    if pre.is_empty() || !auth::same_secret(&pre, &form.csrf) {
        return Err(AppError::Csrf);
    }
    let next = safe_next(Some(&form.next));
    // Too many attempts from one address: refused before any password is
    // checked (or any account's lockout counted).
    let (outcome, status) = if state.login_limiter.allow(peer.ip()) {
        let o = accounts::login(&state.store, &form.login, &form.password).await?;
        (Some(o), StatusCode::UNAUTHORIZED)
    } else {
        (None, StatusCode::TOO_MANY_REQUESTS)
    };
    let error = match outcome {
        None => i18n::fill(
            i18n::t(lang, "login.too_many"),
            &[(
                "seconds",
                &state.login_limiter.retry_after(peer.ip()).to_string(),
            )],
        ),
        Some(outcome) => match outcome {
            LoginOutcome::Success { user_id } => {
                let ctx = Ctx {
                    actor_id: Some(user_id),
                    actor_name: form.login.trim().to_string(),
                    request_id: auth::request_id(&headers),
                };
                let (token, _) = accounts::create_session(&state.store, &ctx, user_id).await?;
                let cookie =
                    auth::set_cookie(SESSION_COOKIE, &token, None, state.config.secure_cookies);
                let mut resp = Redirect::to(&next).into_response();
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?,
                );
                return Ok(resp);
            }
            LoginOutcome::Invalid => i18n::t(lang, "login.invalid").to_string(),
            LoginOutcome::Locked { until } => {
                let shown = until
                    .to_zoned_datetime(state.config.timezone.clone())
                    .strftime("%H:%M:%S")
                    .to_string();
                i18n::fill(i18n::t(lang, "error.locked"), &[("until", &shown)])
            }
        },
    };
    let page = LoginPage {
        p: PageCtx::anonymous(lang, "/login").with_loading(&state),
        login: form.login,
        next,
        csrf: pre,
        error,
        demo: demo::is_loaded(&state.store).await?,
        demo_password: demo::DEMO_PASSWORD,
    };
    let mut resp = login_page_response(&state, page, None, status);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let wait = state.login_limiter.retry_after(peer.ip()).to_string();
        if let Ok(v) = HeaderValue::from_str(&wait) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    Ok(resp)
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn logout(
    State(state): State<AppState>,
    form: auth::CsrfForm<Nothing>,
) -> AppResult<Response> {
    if let Some(s) = &form.auth.session {
        accounts::end_session(&state.store, &s.id_hash).await?;
    }
    let mut resp = Redirect::to("/login").into_response();
    let clear = auth::set_cookie(SESSION_COOKIE, "", Some(0), state.config.secure_cookies);
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(|_| AppError::Internal)?,
    );
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    back: Option<String>,
}

pub async fn switch_lang(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> AppResult<Response> {
    let lang = Lang::parse(&q.to).ok_or_else(|| {
        AppError::Invalid(wenming_domain::FieldErrors::single("to", "invalid_choice"))
    })?;
    let mut resp = Redirect::to(&safe_next(q.back.as_deref())).into_response();
    let c = auth::set_cookie(
        auth::LANG_COOKIE,
        lang.code(),
        Some(365 * 86400),
        state.config.secure_cookies,
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&c).map_err(|_| AppError::Internal)?,
    );
    Ok(resp)
}
