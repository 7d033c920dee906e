//! The people of a unit, kept on the unit's page.

use super::see_other;
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::ApiPath;
use crate::page::{PageCtx, form_status, render};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::org::{Person, PersonForm, Unit};
use wenming_domain::policy::{Action, Resource, may};
use wenming_store::{StoreError, org};

#[derive(Template)]
#[template(path = "people/form.html")]
struct FormPage {
    p: PageCtx,
    unit: Unit,
    editing: Option<Person>,
    version: i64,
    form: PersonForm,
    errors: FieldErrors,
    conflict: bool,
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    auth: &Auth,
    unit: Unit,
    editing: Option<Person>,
    version: i64,
    form: PersonForm,
    errors: FieldErrors,
    conflict: bool,
) -> Response {
    let status = form_status(&errors, conflict);
    let page = FormPage {
        p: PageCtx::new(auth, state),
        unit,
        editing,
        version,
        form,
        errors,
        conflict,
    };
    (status, render(&page)).into_response()
}

/// The unit, if the caller may change its people.
async fn managed_unit(state: &AppState, auth: &Auth, unit_id: Uuid) -> AppResult<Unit> {
    let unit = org::get_unit(&state.store, &auth.scope(Action::ViewUnits)?, unit_id).await?;
    auth.check(
        Action::ManageUnits,
        Resource::Unit {
            id: unit.id,
            region_path: &unit.region_path,
        },
    )?;
    Ok(unit)
}

pub async fn new_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(unit_id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let unit = managed_unit(&state, &auth, unit_id).await?;
    let form = PersonForm {
        active: Some("on".into()),
        ..Default::default()
    };
    Ok(form_page(
        &state,
        &auth,
        unit,
        None,
        0,
        form,
        FieldErrors::new(),
        false,
    ))
}

#[derive(Deserialize)]
pub struct PostedPerson {
    #[serde(flatten)]
    form: PersonForm,
    /// Text, not a number: flattened urlencoded fields arrive as strings.
    #[serde(default)]
    version: String,
}

pub async fn create(
    State(state): State<AppState>,
    ApiPath(unit_id): ApiPath<Uuid>,
    f: CsrfForm<PostedPerson>,
) -> AppResult<Response> {
    let auth = f.auth;
    let unit = managed_unit(&state, &auth, unit_id).await?;
    let form = f.form.form;
    let result = match form.parse() {
        Ok(input) => {
            org::create_person(
                &state.store,
                &auth.ctx(),
                &auth.permit::<may::ManageUnits>()?,
                unit_id,
                input,
            )
            .await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/units/{unit_id}"), "created")),
        Err(StoreError::Invalid(e)) => Ok(form_page(&state, &auth, unit, None, 0, form, e, false)),
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let (person, unit) = org::get_person(&state.store, &auth.scope(Action::ViewUnits)?, id).await?;
    let unit = managed_unit(&state, &auth, unit.id).await?;
    let form = PersonForm {
        name: person.name.clone(),
        title: person.title.clone().unwrap_or_default(),
        phone: person.phone.clone().unwrap_or_default(),
        active: person.active.then(|| "on".into()),
    };
    let version = person.version;
    Ok(form_page(
        &state,
        &auth,
        unit,
        Some(person),
        version,
        form,
        FieldErrors::new(),
        false,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<PostedPerson>,
) -> AppResult<Response> {
    let auth = f.auth;
    let (person, unit) = org::get_person(&state.store, &auth.scope(Action::ViewUnits)?, id).await?;
    let unit = managed_unit(&state, &auth, unit.id).await?;
    let PostedPerson { form, version } = f.form;
    let version: i64 = version.trim().parse().unwrap_or(-1);
    let result = match form.parse() {
        Ok(input) => {
            org::update_person(
                &state.store,
                &auth.ctx(),
                &auth.permit::<may::ManageUnits>()?,
                id,
                version,
                input,
            )
            .await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/units/{}", unit.id), "saved")),
        Err(StoreError::Invalid(e)) => Ok(form_page(
            &state,
            &auth,
            unit,
            Some(person),
            version,
            form,
            e,
            false,
        )),
        Err(StoreError::Conflict) => Ok(form_page(
            &state,
            &auth,
            unit,
            Some(person),
            version,
            form,
            FieldErrors::new(),
            true,
        )),
        Err(e) => Err(AppError::from(e)),
    }
}
