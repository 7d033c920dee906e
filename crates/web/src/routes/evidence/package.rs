//! The filing package's page: packages written in the background, with
//! their progress while they are written and a download once they are.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, render};
use crate::routes::see_other;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::policy::may;
use wenming_store::evidence::{self as ev, PackageJob};

#[derive(Template)]
#[template(path = "evidence/package.html")]
struct PackagesPage {
    p: PageCtx,
    framework_id: Uuid,
    jobs: Vec<PackageJob>,
    /// One is being written: the page reloads itself to show how far.
    running: bool,
}

/// The office's packages, newest first, and the button to write one.
pub async fn packages(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<crate::routes::Done>,
) -> AppResult<Response> {
    auth.permit::<may::ReviewEvidence>()?;
    let fw = wenming_store::framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let jobs = ev::package_jobs(&state.store, 20).await?;
    let page = PackagesPage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        framework_id: fw.id,
        running: jobs.iter().any(|j| j.state == "running"),
        jobs,
    };
    Ok(render(&page))
}

#[derive(Deserialize, Default)]
pub struct StartForm {
    #[serde(default)]
    framework_id: String,
}

/// Starts writing a package of the framework the page showed.
pub async fn start_package(
    State(state): State<AppState>,
    f: CsrfForm<StartForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.permit::<may::ReviewEvidence>()?;
    let framework = Uuid::parse_str(f.form.framework_id.trim()).ok();
    crate::service::package::start(&state, &auth, framework).await?;
    Ok(see_other("/evidence/packages", "package_started"))
}

/// A package written, downloaded.
pub async fn package_file(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    crate::service::package::fetch(&state, &auth, id).await
}
