use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::Action;
use wenming_store::photo::{self as ph, Photo};

#[derive(Serialize, ToSchema)]
pub struct PhotoDto {
    pub id: Uuid,
    /// None until a report or step attaches it.
    pub case_id: Option<Uuid>,
    /// before (the problem) or after (the fix)
    pub role: Option<String>,
    /// jpeg, png or webp, by content
    pub kind: String,
    pub byte_size: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
    /// EXIF capture time, when the camera wrote one.
    pub taken_at: Option<String>,
    pub gps_lon: Option<f64>,
    pub gps_lat: Option<f64>,
    /// Warnings for the verifier: taken_before_dispatch, far_from_case,
    /// same_file, near_identical, no_capture_time, taken_in_future,
    /// no_location.
    #[schema(value_type = Vec<Object>)]
    pub flags: serde_json::Value,
    pub uploaded_at: String,
}

pub fn dto(p: Photo) -> PhotoDto {
    PhotoDto {
        id: p.id,
        case_id: p.case_id,
        role: p
            .role
            .and_then(|r| serde_json::to_value(r).ok())
            .and_then(|v| v.as_str().map(str::to_string)),
        kind: serde_json::to_value(p.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        byte_size: p.byte_size,
        width: p.width,
        height: p.height,
        sha256: p.sha256,
        taken_at: p.taken_at.map(|t| t.to_string()),
        gps_lon: p.gps.map(|g| g.lon),
        gps_lat: p.gps.map(|g| g.lat),
        flags: serde_json::to_value(&p.flags).unwrap_or_default(),
        uploaded_at: p.uploaded_at.to_string(),
    }
}

/// Uploads handled at once: enough to keep both decoders and the disk busy.
static UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// An id the device chose for this photo: sending the same photo again
    /// with it (after a lost reply or an interrupted upload) returns the
    /// photo already stored instead of storing it twice.
    pub client_id: Option<Uuid>,
}

/// Uploads one photo (JPEG, PNG or WebP, judged by content) to use in a
/// report, a step or a finding: send its id in `photo_ids`. Unused uploads
/// are removed after a day.
#[utoipa::path(post, path = "/photos", tag = "cases", params(UploadQuery),
    request_body(content = Vec<u8>, description = "The image file", content_type = "application/octet-stream"),
    responses((status = 201, body = PhotoDto), (status = 200, body = PhotoDto, description = "Stored before under this client_id"),
        (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: axum::body::Body,
) -> AppResult<(StatusCode, Json<PhotoDto>)> {
    if !auth.may(Action::ReportCases) && !auth.may(Action::Inspect) {
        auth.scope(Action::WorkCases)?;
    }
    if let Some(id) = q.client_id
        && let Some(p) = earlier_upload(&state, &auth, id).await?
    {
        // The body is read all the same: answering before it is read would
        // close the connection under the phone's next request.
        let _ = axum::body::to_bytes(body, state.config.photo_rules.max_bytes).await;
        return Ok((StatusCode::OK, Json(dto(p))));
    }
    // A few uploads are read and handled at a time; the rest wait in their
    // connections instead of each holding its picture in memory meanwhile.
    let _turn = UPLOADS.acquire().await.map_err(|_| AppError::Internal)?;
    let bytes = axum::body::to_bytes(body, state.config.photo_rules.max_bytes)
        .await
        .map_err(|_| AppError::Invalid(FieldErrors::single("file", "photo_too_large")))?;
    let Some(id) = q.client_id else {
        let mut ids = crate::service::photos::stage_all(&state, &auth, "file", vec![bytes]).await?;
        let p = ph::get(&state.store, ids.remove(0)).await?;
        return Ok((StatusCode::CREATED, Json(dto(p))));
    };
    let staged = ph::stage_as(
        &state.store,
        &state.config.files,
        &auth.ctx(),
        "file",
        bytes,
        &state.config.photo_rules,
        &state.config.timezone,
        id,
    )
    .await;
    match staged {
        Ok(p) => Ok((StatusCode::CREATED, Json(dto(p)))),
        // The same upload sent twice at once: the second finds the first.
        Err(e) => match earlier_upload(&state, &auth, id).await? {
            Some(p) => Ok((StatusCode::OK, Json(dto(p)))),
            None => Err(e.into()),
        },
    }
}

/// A photo this person stored before under `id`; someone else's id is
/// refused without saying whose it is.
async fn earlier_upload(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<Option<Photo>> {
    match ph::get(&state.store, id).await {
        Ok(p) if p.uploaded_by == Some(auth.user.id) => Ok(Some(p)),
        Ok(_) => Err(AppError::Invalid(FieldErrors::single(
            "client_id",
            "duplicate",
        ))),
        Err(wenming_store::StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[utoipa::path(get, path = "/photos/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = PhotoDto), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<PhotoDto>> {
    Ok(Json(dto(crate::service::photos::visible(
        &state, &auth, id,
    )
    .await?)))
}

/// The photos of a case, before and after, with the verifier's flags.
#[utoipa::path(get, path = "/cases/{id}/photos", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PhotoDto>), (status = 404, body = ErrorBody)))]
pub async fn of_case(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<PhotoDto>>> {
    let scope = auth.scope(Action::ViewCases)?;
    wenming_store::case::get(&state.store, &scope, id).await?;
    Ok(Json(
        ph::of_case(&state.store, id)
            .await?
            .into_iter()
            .map(dto)
            .collect(),
    ))
}

/// The original file, as uploaded.
#[utoipa::path(get, path = "/photos/{id}/original", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "image/*", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn original(
    state: State<AppState>,
    auth: Auth,
    id: ApiPath<Uuid>,
) -> AppResult<axum::response::Response> {
    crate::service::photos::original(state, auth, id).await
}

/// A JPEG at most 480 pixels on its longer side.
#[utoipa::path(get, path = "/photos/{id}/thumbnail", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn thumbnail(
    state: State<AppState>,
    auth: Auth,
    id: ApiPath<Uuid>,
) -> AppResult<axum::response::Response> {
    crate::service::photos::thumbnail(state, auth, id).await
}
