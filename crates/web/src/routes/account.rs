//! One's own account: change password, API tokens.

use super::see_other;
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::AppResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_store::accounts::{self, ApiToken};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    p: PageCtx,
    must_change: bool,
    errors: FieldErrors,
    tokens: Vec<ApiToken>,
    new_token: Option<String>,
    token_name: String,
}

#[derive(Deserialize, Default)]
pub struct AccountQuery {
    done: Option<String>,
}

async fn page_with(
    state: &AppState,
    auth: &Auth,
    done: Option<&str>,
    errors: FieldErrors,
    new_token: Option<String>,
    token_name: String,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AccountPage {
        p: PageCtx::new(auth, state).with_flash(done),
        must_change: auth.user.must_change_password,
        errors,
        tokens: accounts::list_tokens(&state.store, auth.user.id).await?,
        new_token,
        token_name,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AccountQuery>,
) -> AppResult<Response> {
    page_with(
        &state,
        &auth,
        q.done.as_deref(),
        FieldErrors::new(),
        None,
        String::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    f: CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let form = f.form;
    let mut errors = FieldErrors::new();
    let new =
        wenming_domain::account::new_password(&mut errors, "new", &form.new, &auth.user.username);
    if new.is_some() && form.new != form.confirm {
        errors.add("confirm", "passwords_differ");
    }
    if !accounts::check_current_password(&state.store, auth.user.id, &form.current).await? {
        errors.add("current", "wrong_password");
    }
    if form.current == form.new && errors.is_empty() {
        errors.add("new", "password_unchanged");
    }
    match new {
        Some(new) if errors.is_empty() => {
            let keep = auth.session.as_ref().map(|s| s.id_hash.as_str());
            accounts::change_own_password(&state.store, &auth.ctx(), auth.user.id, &new, keep)
                .await?;
            Ok(see_other("/account", "password_changed"))
        }
        _ => page_with(&state, &auth, None, errors, None, String::new()).await,
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    read_only: Option<String>,
    #[serde(default)]
    valid_days: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    f: CsrfForm<TokenForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let form = f.form;
    let mut errors = FieldErrors::new();
    let name = wenming_domain::validation::text(&mut errors, "name", &form.name, true, 64);
    let days = match form.valid_days.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(n) if (1..=3650).contains(&n) => Some(n),
            _ => {
                errors.add("valid_days", "invalid_number");
                None
            }
        },
    };
    match name {
        Some(name) if errors.is_empty() => {
            let read_only = form.read_only.is_some();
            let (_, secret) = accounts::create_token(
                &state.store,
                &auth.ctx(),
                auth.user.id,
                &name,
                read_only,
                days,
            )
            .await?;
            page_with(
                &state,
                &auth,
                Some("token_created"),
                errors,
                Some(secret),
                String::new(),
            )
            .await
        }
        _ => page_with(&state, &auth, None, errors, None, form.name).await,
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn revoke_token(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Nothing>,
) -> AppResult<Response> {
    accounts::revoke_token(&state.store, &f.auth.ctx(), f.auth.user.id, id).await?;
    Ok(see_other("/account", "token_revoked"))
}
