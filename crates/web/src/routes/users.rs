//! Accounts and their role grants, managed by a city-wide administrator.

use super::{Done, see_other};
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::account::{Grant, Role, ScopeRef, User, UserForm};
use wenming_domain::org::{Region, RegionLevel, Unit};
use wenming_domain::policy::{Action, Scope};
use wenming_store::{StoreError, accounts, org};

pub struct RoleOption {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    after: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListPage {
    p: PageCtx,
    users: Vec<User>,
    total: i64,
    next: Option<String>,
    q: String,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    auth.scope(Action::ViewUsers)?;
    let page = accounts::list_users(&state.store, Some(&q.q), q.after.as_deref(), 50).await?;
    let p = PageCtx::new(&auth, &state).with_flash(q.done.as_deref());
    Ok(render(&ListPage {
        p,
        users: page.items,
        total: page.total,
        next: page.next,
        q: q.q,
    }))
}

#[derive(Template)]
#[template(path = "users/show.html")]
struct ShowPage {
    p: PageCtx,
    user: User,
    unit_name: String,
    grants: Vec<(Grant, &'static str)>,
    roles: Vec<RoleOption>,
    regions: Vec<Region>,
    units: Vec<Unit>,
    errors: FieldErrors,
}

async fn everything(state: &AppState) -> AppResult<Scope> {
    Ok(org::whole_city(&state.store).await?)
}

async fn show_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    done: Option<&str>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let user = accounts::get_user(&state.store, id).await?;
    let all = everything(state).await?;
    let p = PageCtx::new(auth, state).with_flash(done);
    let unit_name = match user.unit_id {
        Some(u) => org::get_unit(&state.store, &all, u)
            .await
            .map(|u| u.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let grants = accounts::grants_of(&state.store, id)
        .await?
        .into_iter()
        .map(|g| {
            let label = p.t(&format!("role.{}", g.role.code()));
            (g, label)
        })
        .collect();
    let regions = org::list_regions(&state.store, &all)
        .await?
        .into_iter()
        .filter(|r| r.level <= RegionLevel::Street)
        .collect();
    let units = all_units(state, &all).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ShowPage {
        roles: Role::ALL
            .iter()
            .map(|r| RoleOption {
                value: r.code(),
                label: p.t(&format!("role.{}", r.code())),
            })
            .collect(),
        p,
        user,
        unit_name,
        grants,
        regions,
        units,
        errors,
    };
    Ok((status, render(&page)).into_response())
}

async fn all_units(state: &AppState, scope: &Scope) -> AppResult<Vec<Unit>> {
    Ok(org::all_units(&state.store, scope, false).await?)
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewUsers)?;
    show_page(&state, &auth, id, d.done.as_deref(), FieldErrors::new()).await
}

#[derive(Template)]
#[template(path = "users/form.html")]
struct FormPage {
    p: PageCtx,
    editing: Option<User>,
    version: i64,
    form: UserForm,
    errors: FieldErrors,
    conflict: bool,
    units: Vec<Unit>,
}

async fn form_page(
    state: &AppState,
    auth: &Auth,
    editing: Option<User>,
    version: i64,
    form: UserForm,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let all = everything(state).await?;
    let status = form_status(&errors, conflict);
    let page = FormPage {
        p: PageCtx::new(auth, state),
        units: all_units(state, &all).await?,
        editing,
        version,
        form,
        errors,
        conflict,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ManageUsers)?;
    let form = UserForm {
        active: Some("on".into()),
        ..Default::default()
    };
    form_page(&state, &auth, None, 0, form, FieldErrors::new(), false).await
}

#[derive(Deserialize)]
pub struct PostedUser {
    #[serde(flatten)]
    form: UserForm,
    /// Text, not a number: flattened urlencoded fields arrive as strings.
    #[serde(default)]
    version: String,
}

pub async fn create(State(state): State<AppState>, f: CsrfForm<PostedUser>) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageUsers)?;
    let form = f.form.form;
    let result = match form.parse(true) {
        // Whoever gets an account from an administrator picks their own
        // password at first login.
        Ok(input) => {
            accounts::create_user(&state.store, &auth.ctx(), &auth.permit()?, input, true).await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(u) => Ok(see_other(&format!("/users/{}", u.id), "created")),
        Err(StoreError::Invalid(e)) => {
            let form = UserForm {
                password: String::new(),
                ..form
            };
            form_page(&state, &auth, None, 0, form, e, false).await
        }
        Err(e) => Err(e.into()),
    }
}

fn form_of(u: &User) -> UserForm {
    UserForm {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        phone: u.phone.clone().unwrap_or_default(),
        unit_id: u.unit_id.map(|x| x.to_string()).unwrap_or_default(),
        password: String::new(),
        active: u.active.then(|| "on".into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.scope(Action::ManageUsers)?;
    let user = accounts::get_user(&state.store, id).await?;
    let (form, version) = (form_of(&user), user.version);
    form_page(
        &state,
        &auth,
        Some(user),
        version,
        form,
        FieldErrors::new(),
        false,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<PostedUser>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageUsers)?;
    let user = accounts::get_user(&state.store, id).await?;
    let PostedUser { form, version } = f.form;
    let version: i64 = version.trim().parse().unwrap_or(-1);
    let result = match form.parse(false) {
        Ok(input) => {
            accounts::update_user(
                &state.store,
                &auth.ctx(),
                &auth.permit()?,
                id,
                version,
                input,
            )
            .await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(u) => Ok(see_other(&format!("/users/{}", u.id), "saved")),
        Err(StoreError::Invalid(e)) => {
            form_page(&state, &auth, Some(user), version, form, e, false).await
        }
        Err(StoreError::Conflict) => {
            form_page(
                &state,
                &auth,
                Some(user),
                version,
                form,
                FieldErrors::new(),
                true,
            )
            .await
        }
        Err(e) => Err(AppError::from(e)),
    }
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    role: String,
    /// `region:<id>` or `unit:<id>`.
    #[serde(default)]
    scope: String,
}

pub async fn add_grant(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<GrantForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageUsers)?;
    let mut errors = FieldErrors::new();
    let role = Role::parse(&f.form.role);
    if role.is_none() {
        errors.add("role", "invalid_choice");
    }
    let scope = f
        .form
        .scope
        .split_once(':')
        .and_then(|(k, v)| ScopeRef::from_parts(k, Uuid::parse_str(v).ok()?));
    if scope.is_none() {
        errors.add("scope", "required");
    }
    let result = match (role, scope) {
        (Some(role), Some(scope)) => {
            accounts::add_grant(&state.store, &auth.ctx(), &auth.permit()?, id, role, scope)
                .await
                .map(|_| ())
        }
        _ => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/users/{id}"), "granted")),
        Err(StoreError::Invalid(e)) => show_page(&state, &auth, id, None, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

pub async fn remove_grant(
    State(state): State<AppState>,
    ApiPath((id, grant_id)): ApiPath<(Uuid, Uuid)>,
    f: CsrfForm<Nothing>,
) -> AppResult<Response> {
    let auth = f.auth;
    match accounts::remove_grant(&state.store, &auth.ctx(), &auth.permit()?, id, grant_id).await {
        Ok(()) => Ok(see_other(&format!("/users/{id}"), "revoked")),
        Err(StoreError::Invalid(e)) => show_page(&state, &auth, id, None, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

/// Sets a temporary password that the user must change at next login.
pub async fn reset_password(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<ResetForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageUsers)?;
    let user = accounts::get_user(&state.store, id).await?;
    let mut errors = FieldErrors::new();
    let Some(pw) = wenming_domain::account::new_password(
        &mut errors,
        "password",
        &f.form.password,
        &user.username,
    ) else {
        return show_page(&state, &auth, id, None, errors).await;
    };
    accounts::reset_password(&state.store, &auth.ctx(), &auth.permit()?, id, &pw).await?;
    Ok(see_other(&format!("/users/{id}"), "password_reset"))
}

pub async fn unlock(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Nothing>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageUsers)?;
    let user = accounts::get_user(&state.store, id).await?;
    accounts::unlock(&state.store, &auth.ctx(), &auth.permit()?, &user).await?;
    Ok(see_other(&format!("/users/{id}"), "unlocked"))
}
