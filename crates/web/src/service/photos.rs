//! Photo files: staged from forms and the API, served to whoever may see the
//! case they belong to (or, before they belong to one, to their uploader).

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::ApiPath;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_domain::photo::ImageKind;
use wenming_domain::policy::Action;
use wenming_store::StoreError;
use wenming_store::photo as ph;

/// Stages each upload in turn; if one is refused, those already staged are
/// taken back and the refusal is returned.
pub async fn stage_all(
    state: &AppState,
    auth: &Auth,
    field: &str,
    uploads: Vec<bytes::Bytes>,
) -> Result<Vec<Uuid>, StoreError> {
    let mut ids = vec![];
    for bytes in uploads {
        match ph::stage(
            &state.store,
            &state.config.files,
            &auth.ctx(),
            field,
            bytes,
            &state.config.photo_rules,
            &state.config.timezone,
        )
        .await
        {
            Ok(p) => ids.push(p.id),
            Err(e) => {
                discard(state, &ids).await;
                return Err(e);
            }
        }
    }
    Ok(ids)
}

/// Best effort: what is not removed now the sweep removes later.
pub async fn discard(state: &AppState, ids: &[Uuid]) {
    if let Err(e) = ph::discard(&state.store, &state.config.files, ids).await {
        tracing::warn!(error = %e, "staged photos left for the sweep");
    }
}

/// The photo, if the caller may see it.
pub async fn visible(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<ph::Photo> {
    let p = ph::get(&state.store, id).await?;
    match p.case_id {
        Some(c) if auth.may(Action::ViewCases) => {
            let scope = auth.scope(Action::ViewCases)?;
            wenming_store::case::get(&state.store, &scope, c).await?;
        }
        _ if p.uploaded_by == Some(auth.user.id) => {}
        // A finding's photo is seen by those who see rounds.
        None if p.finding_id.is_some() && auth.may(Action::ViewRounds) => {}
        _ => return Err(AppError::NotFound),
    }
    Ok(p)
}

fn mime(k: ImageKind) -> &'static str {
    match k {
        ImageKind::Jpeg => "image/jpeg",
        ImageKind::Png => "image/png",
        ImageKind::Webp => "image/webp",
    }
}

pub(crate) async fn send(bytes: bytes::Bytes, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // A photo never changes under its id; only this browser keeps it.
            (header::CACHE_CONTROL, "private, max-age=86400, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
        .into_response()
}

pub async fn original(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let p = visible(&state, &auth, id).await?;
    let bytes = state.config.files.get(&ph::original_key(id)).await?;
    Ok(send(bytes, mime(p.kind)).await)
}

pub async fn thumbnail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    visible(&state, &auth, id).await?;
    let bytes = state.config.files.get(&ph::thumbnail_key(id)).await?;
    Ok(send(bytes, "image/jpeg").await)
}
