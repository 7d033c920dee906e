//! Survey pages: the office's questionnaires and waves with their plans
//! and results, the entry form interviewers and clerks fill, and the public
//! link residents answer on their phones without an account.

mod answers;
mod waves;

pub use answers::{contact, enter, entry, public_answer, public_form};
pub(crate) use answers::{device_cookie, public_note, with_device};
pub use waves::{create_wave, export, new_wave, set_state, wave};

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
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    flash: Option<&str>,
    errors: FieldErrors,
    design: String,
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
    };
    Ok((form_status(&errors, false), render(&page)).into_response())
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
