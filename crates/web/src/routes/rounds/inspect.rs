//! The inspector's phone page: assigned sites and their checklists, kept
//! on the device (service worker and IndexedDB) so that inspections go on
//! without a network and are sent, exactly once, when it returns.

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::page::{PageCtx, render};
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use wenming_domain::policy::Action;

#[derive(Template)]
#[template(path = "inspect.html")]
struct InspectPage {
    p: PageCtx,
    user_id: String,
    /// The strings the page's script shows, as JSON.
    strings: String,
    assignments: Vec<crate::api::rounds::AssignmentDto>,
    /// Fixes put to this inspector to verify, with the problem's first
    /// photo and the cases after photos, oldest waiting first.
    to_verify: Vec<ToVerify>,
}

pub struct ToVerify {
    pub case: wenming_store::case::Case,
    pub before: Vec<uuid::Uuid>,
    pub after: Vec<uuid::Uuid>,
}

/// The fixes waiting for this inspector's check, with their photos.
async fn to_verify(state: &AppState, auth: &Auth) -> AppResult<Vec<ToVerify>> {
    use wenming_domain::case::CaseState;
    use wenming_domain::photo::PhotoRole;
    use wenming_store::case::{self, CaseFilter};
    let Ok(scope) = auth.scope(Action::ViewCases) else {
        return Ok(vec![]);
    };
    let f = CaseFilter {
        states: vec![CaseState::Handled],
        verifier_id: Some(auth.user.id),
        limit: 30,
        ..Default::default()
    };
    let (mut cases, _) = case::list(&state.store, &scope, &f).await?;
    cases.sort_by_key(|c| c.verifier_since);
    let mut out = vec![];
    for c in cases {
        let photos = wenming_store::photo::of_case(&state.store, c.id).await?;
        let of = |role: PhotoRole| {
            photos
                .iter()
                .filter(|p| p.role == Some(role))
                .map(|p| p.id)
                .take(3)
                .collect()
        };
        out.push(ToVerify {
            before: of(PhotoRole::Before),
            after: of(PhotoRole::After),
            case: c,
        });
    }
    Ok(out)
}

/// Keys of the strings the script needs, in both languages.
const STRINGS: &[&str] = &[
    "inspect.waiting",
    "inspect.nothing_waiting",
    "inspect.offline",
    "inspect.online",
    "inspect.sync_now",
    "inspect.saved_offline",
    "inspect.sent",
    "inspect.needs_attention",
    "inspect.back",
    "inspect.save",
    "inspect.photos",
    "inspect.photos_taken",
    "inspect.note",
    "inspect.count",
    "inspect.observed",
    "inspect.of",
    "inspect.at_least",
    "inspect.share_at_least",
    "inspect.photo_needed",
    "inspect.choose_result",
    "inspect.far",
    "inspect.done",
    "inspect.queued",
    "inspect.no_assignments",
    "inspect.findings",
    "inspect.photos_unit",
    "finding.pass",
    "finding.fail",
    "finding.na",
];

pub async fn page(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::Inspect)?;
    let strings: serde_json::Map<String, serde_json::Value> = STRINGS
        .iter()
        .map(|k| ((*k).to_string(), crate::i18n::t(auth.lang, k).into()))
        .collect();
    let page = InspectPage {
        p: PageCtx::new(&auth, &state),
        user_id: auth.user.id.to_string(),
        strings: serde_json::Value::Object(strings).to_string(),
        assignments: crate::api::rounds::assignments_of(&state, auth.user.id).await?,
        to_verify: to_verify(&state, &auth).await?,
    };
    // The page is the offline shell: the browser may keep it, but only for
    // this person (it carries their CSRF token).
    let mut r = render(&page);
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        "private, no-cache".parse().expect("a header value"),
    );
    Ok(r)
}

pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../../static/inspect.js"),
    )
}

/// The service worker, served from the root so that it may look after
/// `/inspect`.
pub async fn service_worker() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../../static/sw.js"),
    )
}
