//! One error type for pages and the API. A handler returns it; the
//! `render_errors` middleware, which knows the path and the language, turns
//! it into JSON (`{"errors":[...]}`) under /api and an HTML page elsewhere.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wenming_domain::FieldErrors;
use wenming_store::StoreError;

#[derive(Debug, Clone)]
pub enum AppError {
    /// Not signed in (or a bad token).
    Unauthorized,
    Forbidden,
    /// Absent or out of scope: deliberately the same answer.
    NotFound,
    /// Someone else changed the record since it was read.
    Conflict,
    /// A state-changing request without a valid CSRF token or from another site.
    Csrf,
    Invalid(FieldErrors),
    /// Too many failed logins; the time to try again, already formatted.
    Locked(String),
    /// A document (an uploaded framework) with problems at named places.
    Problems(Vec<wenming_domain::framework::Problem>),
    /// The account must set a new password before doing anything else.
    PasswordChangeRequired,
    /// A request body far beyond what the form or endpoint takes.
    PayloadTooLarge,
    /// The database has no space left: nothing was saved.
    StorageFull,
    Internal,
    Unavailable,
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf | AppError::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict => StatusCode::CONFLICT,
            AppError::Invalid(_) | AppError::Problems(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable | AppError::StorageFull => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict => "conflict",
            AppError::Csrf => "csrf",
            AppError::Invalid(_) | AppError::Problems(_) => "invalid",
            AppError::Locked(_) => "locked",
            AppError::PasswordChangeRequired => "password_change_required",
            AppError::PayloadTooLarge => "too_large",
            AppError::Internal => "internal",
            AppError::Unavailable => "unavailable",
            AppError::StorageFull => "storage_full",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden => AppError::Forbidden,
            StoreError::Conflict => AppError::Conflict,
            StoreError::Invalid(f) => AppError::Invalid(f),
            StoreError::Problems(p) => AppError::Problems(p),
            // The store logs the cause once (Store::note_write).
            other if other.is_out_of_space() => AppError::StorageFull,
            other => {
                tracing::error!(error = %other, "store failure");
                AppError::Internal
            }
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut resp = self.status().into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

pub type AppResult<T> = Result<T, AppError>;
