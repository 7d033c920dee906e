//! Survey pages: the office's questionnaires and waves with their plans
//! and results, the entry form interviewers and clerks fill, and the public
//! link residents answer on their phones without an account.

mod answers;
mod waves;

pub use answers::{contact, enter, entry, interview, public_answer, public_form};
pub(crate) use answers::{device_cookie, public_note, with_device};
pub use waves::{create_wave, export, new_wave, posters, set_state, wave};

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::AppResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use crate::routes::{Done, see_other};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, may};
use wenming_domain::survey::QuestionnaireDoc;
use wenming_store::survey::{self as sv, Questionnaire, Wave};

#[derive(Template)]
#[template(path = "surveys/list.html")]
struct ListPage {
    p: PageCtx,
    questionnaires: Vec<Questionnaire>,
    waves: Vec<Wave>,
    titles: HashMap<Uuid, String>,
    can_manage: bool,
    errors: FieldErrors,
    design: String,
    /// What was wrong with an uploaded workbook, cell by cell.
    problems: Vec<String>,
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    flash: Option<&str>,
    errors: FieldErrors,
    design: String,
) -> AppResult<Response> {
    list_page_with(state, auth, flash, errors, design, vec![]).await
}

async fn list_page_with(
    state: &AppState,
    auth: &Auth,
    flash: Option<&str>,
    errors: FieldErrors,
    design: String,
    problems: Vec<String>,
) -> AppResult<Response> {
    auth.scope(Action::ViewSurveys)?;
    let questionnaires = sv::questionnaires(&state.store).await?;
    let titles = questionnaires
        .iter()
        .map(|q| (q.id, format!("{} · v{}", q.title, q.version_no)))
        .collect();
    let page = ListPage {
        p: PageCtx::new(auth, state).with_flash(flash),
        waves: sv::waves(&state.store).await?,
        questionnaires,
        titles,
        can_manage: auth.may(Action::ManageSurveys),
        design,
        errors: errors.clone(),
        problems,
    };
    let status = if page.problems.is_empty() {
        form_status(&errors, false)
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)).into_response())
}

/// Waves and questionnaires.
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    list_page(
        &state,
        &auth,
        d.done.as_deref(),
        FieldErrors::new(),
        String::new(),
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct DesignForm {
    #[serde(default)]
    design: String,
}

/// A questionnaire from its design as JSON (the export of another).
pub async fn create_questionnaire(
    State(state): State<AppState>,
    f: CsrfForm<DesignForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageSurveys>()?;
    let doc: Result<QuestionnaireDoc, _> = serde_json::from_str(&f.form.design);
    let outcome: Result<(), FieldErrors> = match doc {
        Err(_) => Err(FieldErrors::single("design", "malformed")),
        Ok(doc) => match sv::create(&state.store, &auth.ctx(), &permit, &doc).await {
            Ok(q) => {
                return Ok(see_other(
                    &format!("/surveys/questionnaires/{}", q.id),
                    "created",
                ));
            }
            Err(wenming_store::StoreError::Invalid(e)) => Err(e),
            Err(e) => return Err(e.into()),
        },
    };
    let errors = outcome.err().unwrap_or_default();
    list_page(&state, &auth, None, errors, f.form.design).await
}

#[derive(Template)]
#[template(path = "surveys/questionnaire.html")]
struct QuestionnairePage {
    p: PageCtx,
    q: Questionnaire,
    json: String,
    can_manage: bool,
}

pub async fn questionnaire(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewSurveys)?;
    let q = sv::questionnaire(&state.store, id).await?;
    let page = QuestionnairePage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        json: serde_json::to_string_pretty(&q.doc).unwrap_or_default(),
        q,
        can_manage: auth.may(Action::ManageSurveys),
    };
    Ok(render(&page))
}

/// The questionnaire as the office's workbook.
pub async fn export_questionnaire(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.scope(Action::ViewSurveys)?;
    let q = sv::questionnaire(&state.store, id).await?;
    crate::service::surveys::questionnaire_xlsx(&q)
}

/// A new draft from a workbook; its problems listed cell by cell.
pub async fn import_questionnaire(
    State(state): State<AppState>,
    // Before the body: a caller who may not import hears 403, not what
    // was wrong with the upload.
    crate::auth::Can { auth, .. }: crate::auth::Can<may::ManageSurveys>,
    multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    let (csrf, file) = crate::service::site_sheet::read_upload(multipart).await?;
    auth.check_csrf(&csrf)?;
    let problems = match crate::service::surveys::import_questionnaire(&state, &auth, file).await {
        Ok(q) => {
            return Ok(see_other(
                &format!("/surveys/questionnaires/{}", q.id),
                "created",
            ));
        }
        Err(crate::error::AppError::Problems(p)) => p
            .iter()
            .map(|x| crate::describe_problem(auth.lang, x))
            .collect(),
        Err(crate::error::AppError::Invalid(e)) => {
            e.0.iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        f.field,
                        crate::i18n::field_message(auth.lang, f.code)
                    )
                })
                .collect()
        }
        Err(e) => return Err(e),
    };
    list_page_with(
        &state,
        &auth,
        None,
        FieldErrors::new(),
        String::new(),
        problems,
    )
    .await
}

#[derive(serde::Deserialize, Default)]
pub struct VersionForm {
    #[serde(default)]
    version: i64,
}

pub async fn publish(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<VersionForm>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageSurveys>()?;
    sv::publish(&state.store, &f.auth.ctx(), &permit, id, f.form.version).await?;
    Ok(see_other(
        &format!("/surveys/questionnaires/{id}"),
        "published",
    ))
}

/// The next version of a published questionnaire, as a draft.
pub async fn next_version(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<VersionForm>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageSurveys>()?;
    let q = sv::next_version(
        &state.store,
        &f.auth.ctx(),
        &permit,
        id,
        f.form.version,
        None,
    )
    .await?;
    Ok(see_other(
        &format!("/surveys/questionnaires/{}", q.id),
        "created",
    ))
}
