//! Pages for people. Each resource has its own module; every handler asks
//! the policy (through `Auth`) before it reads or writes.

mod account;
mod audit;
mod cases;
mod evidence;
mod frameworks;
mod home;
mod notifications;
mod people;
mod posters;
mod rankings;
mod ratings;
mod regions;
mod rounds;
mod scoring;

mod session;
mod sites;
mod surveys;
mod table;
mod tasks;

mod units;
mod users;

use crate::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use table::{Pages, get, post};

pub fn router() -> Router<AppState> {
    pages().into_parts().0
}

/// Every (method, path) the pages answer, for the role-matrix test.
pub fn page_routes() -> Vec<(&'static str, &'static str)> {
    pages().into_parts().1
}

fn pages() -> Pages {
    Pages::default()
        .route("/", get(home::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang", get(session::switch_lang))
        .route("/account", get(account::page))
        .route("/account/password", post(account::change_password))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/regions", get(regions::list).post(regions::create))
        .route("/regions.csv", get(regions::export_csv))
        .route("/regions/new", get(regions::new_form))
        .route("/regions/{id}", get(regions::show).post(regions::update))
        .route("/regions/{id}/edit", get(regions::edit_form))
        .route("/inspect", get(rounds::inspect::page))
        .route("/rounds", get(rounds::list).post(rounds::create))
        .route("/rounds/new", get(rounds::new_form))
        .route(
            "/rounds/import",
            get(rounds::import_form).post(rounds::import).body_limit(
                axum::extract::DefaultBodyLimit::max(crate::service::third_party::MAX_IMPORT_BYTES),
            ),
        )
        .route("/rounds/{id}", get(rounds::show))
        .route("/rounds/{id}/close", post(rounds::close))
        .route("/rounds/{id}/unmatched/{row_id}/map", post(rounds::map))
        .route("/rounds/{id}/sites/{site_id}/inspector", post(rounds::send))
        .route("/rounds/{id}/report.xlsx", get(rounds::export))
        .route("/rounds/{id}/sites/{site_id}", get(rounds::site))
        .route("/sites", get(sites::list).post(sites::create))
        .route("/sites/new", get(sites::new_form))
        .route("/sites.xlsx", get(sites::export))
        .route(
            "/sites/import",
            get(sites::import_form).post(sites::import).body_limit(
                axum::extract::DefaultBodyLimit::max(crate::extract::MAX_UPLOAD_BYTES + 65_536),
            ),
        )
        .route("/sites/{id}", get(sites::show).post(sites::update))
        .route("/sites/{id}/edit", get(sites::edit_form))
        .route("/units", get(units::list).post(units::create))
        .route("/units.csv", get(units::export_csv))
        .route("/units/new", get(units::new_form))
        .route("/units/{id}", get(units::show).post(units::update))
        .route("/units/{id}/edit", get(units::edit_form))
        .route("/units/{id}/people", post(people::create))
        .route("/units/{id}/people/new", get(people::new_form))
        .route("/people/{id}", post(people::update))
        .route("/people/{id}/edit", get(people::edit_form))
        .route("/users", get(users::list).post(users::create))
        .route("/users/new", get(users::new_form))
        .route("/users/{id}", get(users::show).post(users::update))
        .route("/users/{id}/edit", get(users::edit_form))
        .route("/users/{id}/grants", post(users::add_grant))
        .route(
            "/users/{id}/grants/{grant_id}/delete",
            post(users::remove_grant),
        )
        .route("/users/{id}/password", post(users::reset_password))
        .route("/users/{id}/unlock", post(users::unlock))
        .route("/frameworks", get(frameworks::list))
        .route("/frameworks/template.xlsx", get(frameworks::template))
        .route(
            "/frameworks/import",
            post(frameworks::upload).body_limit(axum::extract::DefaultBodyLimit::max(
                crate::extract::MAX_UPLOAD_BYTES + 65_536,
            )),
        )
        .route("/frameworks/uploads/{id}/commit", post(frameworks::commit))
        .route("/frameworks/{id}", get(frameworks::show))
        .route("/frameworks/{id}/{file}", get(frameworks::export))
        .route("/frameworks/{id}/status", post(frameworks::set_status))
        .route("/frameworks/{id}/clone", post(frameworks::clone))
        .route("/frameworks/{id}/compare", get(frameworks::compare))
        .route("/standards/{id}/edit", get(frameworks::edit_standard))
        .route("/standards/{id}", post(frameworks::update_standard))
        // Forms that carry photos bound their own body by the photo
        // settings (see CsrfMultipart), not by the 2 MiB default.
        .route(
            "/cases",
            get(cases::list)
                .post(cases::create)
                .body_limit(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/cases/new", get(cases::new_form))
        .route("/cases.xlsx", get(cases::export::export))
        .route("/cases/bulk-register", post(cases::bulk_register))
        .route("/cases/bulk-dispatch", post(cases::bulk_dispatch))
        .route("/cases/metrics", get(cases::metrics::page))
        .route("/cases/metrics.xlsx", get(cases::metrics::export))
        .route("/cases/map", get(cases::map::page))
        .route("/cases/routing", get(cases::routing::show))
        .route("/cases/routing/rules", post(cases::routing::add_rule))
        .route("/cases/routing/days", post(cases::routing::add_day))
        .route(
            "/cases/routing/rules/{id}/delete",
            post(cases::routing::remove_rule),
        )
        .route(
            "/cases/routing/days/{day}/delete",
            post(cases::routing::remove_day),
        )
        .route(
            "/cases/categories",
            get(cases::categories::list).post(cases::categories::create),
        )
        .route(
            "/cases/categories/{id}",
            get(cases::categories::edit).post(cases::categories::update),
        )
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::read_all))
        .route("/notifications/{id}/open", post(notifications::open))
        .route("/photos/{id}", get(crate::service::photos::original))
        .route(
            "/photos/{id}/thumbnail",
            get(crate::service::photos::thumbnail),
        )
        .route("/cases/{id}", get(cases::show::show))
        .route(
            "/cases/{id}/step",
            post(cases::show::take_step).body_limit(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/tasks", get(tasks::list))
        .route("/tasks.xlsx", get(tasks::export))
        .route("/tasks/{id}", get(tasks::show))
        .route("/tasks/{id}/progress", post(tasks::report))
        .route(
            "/standards/{id}/task",
            get(tasks::assign_form).post(tasks::assign),
        )
        .route(
            "/frameworks/{id}/tasks",
            get(tasks::bulk_form).post(tasks::bulk),
        )
        .route("/evidence", get(evidence::index))
        .route("/evidence/review", get(evidence::review))
        .route("/evidence/materials", get(evidence::search))
        .route(
            "/evidence/packages",
            get(evidence::packages).post(evidence::start_package),
        )
        .route("/evidence/packages/{id}/file", get(evidence::package_file))
        .route("/evidence/filing", post(evidence::filing))
        .route(
            "/evidence/requirements/{id}",
            get(evidence::requirement).post(evidence::edit),
        )
        .route(
            "/evidence/requirements/{id}/materials",
            post(evidence::upload).body_limit(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/evidence/requirements/{id}/link", post(evidence::link))
        .route(
            "/evidence/requirements/{id}/generate",
            post(evidence::generate),
        )
        .route("/evidence/submissions/{id}/decide", post(evidence::decide))
        .route("/evidence/materials/{id}/file", get(evidence::download))
        .route("/surveys", get(surveys::list))
        .route(
            "/surveys/questionnaires",
            post(surveys::create_questionnaire),
        )
        .route(
            "/surveys/questionnaires/import",
            post(surveys::import_questionnaire),
        )
        .route("/surveys/questionnaires/{id}", get(surveys::questionnaire))
        .route(
            "/surveys/questionnaires/{id}/export.xlsx",
            get(surveys::export_questionnaire),
        )
        .route(
            "/surveys/questionnaires/{id}/publish",
            post(surveys::publish),
        )
        .route(
            "/surveys/questionnaires/{id}/versions",
            post(surveys::next_version),
        )
        .route("/surveys/waves", post(surveys::create_wave))
        .route("/surveys/waves/new", get(surveys::new_wave))
        .route("/surveys/waves/{id}", get(surveys::wave))
        .route("/surveys/waves/{id}/state", post(surveys::set_state))
        .route("/surveys/waves/{id}/export.xlsx", get(surveys::export))
        .route(
            "/surveys/waves/{id}/entry",
            get(surveys::entry).post(surveys::enter),
        )
        .route("/surveys/waves/{id}/contacts", post(surveys::contact))
        .route("/surveys/waves/{id}/interview", get(surveys::interview))
        .route("/surveys/waves/{id}/posters", get(surveys::posters))
        .route(
            "/s/{wave}/{region}",
            get(surveys::public_form).post(surveys::public_answer),
        )
        .route("/ratings", get(ratings::list).post(ratings::create))
        .route("/ratings/{id}", get(ratings::round))
        .route("/cockpit", get(scoring::cockpit).post(scoring::record))
        .route("/cockpit/snapshots", post(scoring::snapshot))
        .route("/cockpit/anomalies", get(scoring::anomalies))
        .route("/rankings", get(rankings::index).post(rankings::create))
        .route("/rankings/weekly", post(rankings::weekly))
        .route("/rankings/{id}", get(rankings::show))
        .route("/rankings/editions/{id}", post(rankings::step))
        .route("/rankings/editions/{id}/appeals", post(rankings::appeal))
        .route("/rankings/editions/{id}/export.xlsx", get(rankings::export))
        .route("/rankings/appeals/{id}", post(rankings::decide))
        .route("/ratings/{id}/state", post(ratings::set_state))
        .route("/ratings/{id}/posters", get(ratings::posters))
        .route(
            "/ratings/{id}/entry",
            get(ratings::entry).post(ratings::enter),
        )
        .route("/ratings/comments/{id}", post(ratings::moderate))
        .route(
            "/r/{round}",
            get(ratings::public_form).post(ratings::public_rate),
        )
        .route("/p/rankings/{id}", get(rankings::public))
        .route(
            "/p/rankings/{id}/photos/{photo}",
            get(rankings::public_photo),
        )
        .route("/audit", get(audit::recent))
        .route("/audit/{entity_type}/{id}", get(audit::trail))
        .route("/static/style.css", get(style))
        .route("/static/inspect.js", get(rounds::inspect::script))
        .route("/static/app.js", get(app_script))
        .route("/static/outbox.js", get(outbox_script))
        .route("/static/interview.js", get(interview_script))
        .route("/sw.js", get(rounds::inspect::service_worker))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
}

/// Small helps every page may use (narrowing a long list of units as one
/// types); every page works without it.
async fn app_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}

/// The phone's outbox (IndexedDB) the inspection and interviewer pages
/// share; fetched afresh so a new version reaches phones.
async fn outbox_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/outbox.js"),
    )
}

/// The interviewer's offline page script.
async fn interview_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../static/interview.js"),
    )
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    if !state.store.ping().await {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    } else if state.store.writes_failing() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "writes fail: the database has no space left",
        )
    } else {
        (StatusCode::OK, "ready")
    }
}

/// `?done=saved` style notices and list filters share this query shape.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Done {
    pub done: Option<String>,
}

/// Where to go after a successful write, with a notice.
pub fn see_other(path: &str, done: &str) -> axum::response::Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    axum::response::Redirect::to(&format!("{path}{sep}done={done}")).into_response()
}
