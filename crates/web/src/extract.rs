//! Path, query and JSON extractors whose rejections speak our error format
//! instead of axum's plain-text ones: a malformed id is simply not found.

use crate::error::AppError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use wenming_domain::FieldErrors;

/// The largest workbook or sheet upload (a framework, third-party
/// findings, a site sheet) read into memory.
pub const MAX_UPLOAD_BYTES: usize = 20 << 20;

/// Path parameters; a malformed one is a 404.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; a malformed one names its field.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        AppError::NotFound
    }
}

impl From<QueryRejection> for AppError {
    fn from(_: QueryRejection) -> Self {
        AppError::Invalid(FieldErrors::single("query", "malformed"))
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        let (field, code) = match &r {
            JsonRejection::MissingJsonContentType(_) => ("body".to_string(), "json_content_type"),
            JsonRejection::JsonSyntaxError(_) => ("body".to_string(), "malformed_json"),
            JsonRejection::JsonDataError(e) => data_error_field(&e.body_text()),
            _ => ("body".to_string(), "invalid_json_body"),
        };
        AppError::Invalid(FieldErrors::single(&field, code))
    }
}

/// The field a body that parsed but does not fit names: serde says
/// "missing field `x`", or puts the path first ("findings[0].lon: invalid
/// type ..."). The whole body when it names none.
fn data_error_field(text: &str) -> (String, &'static str) {
    let text = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    if let Some(rest) = text.split("missing field `").nth(1)
        && let Some(name) = rest.split('`').next()
    {
        let at = text.split(": missing field").next().filter(|p| *p != text);
        let field = match at {
            Some(path) if !path.is_empty() && path != "." => format!("{path}.{name}"),
            _ => name.to_string(),
        };
        return (field, "required");
    }
    match text.split_once(": ") {
        Some((path, _)) if !path.contains(' ') && path != "." => {
            (path.to_string(), "invalid_json_body")
        }
        _ => ("body".to_string(), "invalid_json_body"),
    }
}

/// A multipart upload for the API: a body that is not multipart answers
/// with the JSON error shape, naming the file.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiMultipart {
    type Rejection = AppError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(ApiMultipart)
            .map_err(|_| AppError::Invalid(FieldErrors::single("file", "multipart_required")))
    }
}
