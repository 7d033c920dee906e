//! Taking in a third-party evaluation: a result sheet (place, standard,
//! result, photo names) and a zip of its photos become a round. Shared by
//! the page and the API.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use axum::extract::Multipart;
use std::collections::HashMap;
use wenming_domain::FieldErrors;
use wenming_domain::inspection::{RoundForm, RoundInput};
use wenming_domain::policy::Action;
use wenming_store::StoreError;
use wenming_store::inspection::Submitter;
use wenming_store::third_party::{self as tp, Imported, ResultRow};

/// The largest result sheet plus photos taken at once.
pub const MAX_IMPORT_BYTES: usize = 200 << 20;

/// The columns of a result sheet, by the words evaluators use.
const COLUMNS: &[(&str, &[&str])] = &[
    (
        "place",
        &[
            "点位",
            "点位名称",
            "地点",
            "测评点位",
            "场所",
            "place",
            "site",
        ],
    ),
    (
        "standard",
        &[
            "测评标准",
            "标准",
            "问题描述",
            "测评内容",
            "描述",
            "standard",
            "description",
        ],
    ),
    ("result", &["结果", "测评结果", "是否达标", "result"]),
    ("note", &["备注", "问题说明", "说明", "note"]),
    ("photos", &["照片", "照片文件", "图片", "photos", "photo"]),
];

#[derive(Default)]
pub struct Upload {
    pub csrf: String,
    pub form: RoundForm,
    pub sheet: Vec<u8>,
    pub photos: Vec<u8>,
}

pub async fn read_upload(mut multipart: Multipart) -> AppResult<Upload> {
    let mut u = Upload::default();
    let bad = || AppError::Invalid(FieldErrors::single("file", "malformed"));
    while let Some(field) = multipart.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| AppError::Invalid(FieldErrors::single("file", "file_too_large")))?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_string();
        match name.as_str() {
            "csrf" => u.csrf = text(),
            "name" => u.form.name = text(),
            "starts_on" => u.form.starts_on = text(),
            "ends_on" => u.form.ends_on = text(),
            "file" => u.sheet = bytes.to_vec(),
            "photos" => u.photos = bytes.to_vec(),
            _ => {}
        }
    }
    Ok(u)
}

/// Reads the sheet and the zip and imports them as a round.
pub async fn run(state: &AppState, auth: &Auth, u: Upload) -> AppResult<Imported> {
    auth.scope(Action::ManageRounds)?;
    let form = RoundForm {
        kind: "third_party".into(),
        // The sample is whatever the evaluator visited.
        sample_size: "1".into(),
        ..u.form
    };
    let mut input: RoundInput = form.parse()?;
    if u.sheet.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("file", "required")));
    }
    let (sheet, zip) = (u.sheet, u.photos);
    let parsed = tokio::task::spawn_blocking(move || {
        let limits = wenming_reports::framework_xlsx::Limits::default();
        let rows = wenming_reports::table_read::read(
            &sheet,
            &limits,
            COLUMNS,
            &["place", "standard", "result"],
        )?;
        let photos = if zip.is_empty() {
            HashMap::new()
        } else {
            wenming_reports::table_read::zip_files(&zip, 400 << 20, 5_000).map_err(|p| vec![p])?
        };
        Ok::<_, Vec<wenming_domain::framework::Problem>>((rows, photos))
    })
    .await
    .map_err(|_| AppError::Internal)?;
    let (records, photos) = parsed.map_err(AppError::Problems)?;
    let rows: Vec<ResultRow> = records
        .iter()
        .map(|r| ResultRow {
            row: r.row,
            place: r.get("place").to_string(),
            standard: r.get("standard").to_string(),
            result: r.get("result").to_string(),
            note: Some(r.get("note").to_string()).filter(|n| !n.is_empty()),
            photos: r
                .get("photos")
                .split([',', '，', ';', '；', '、', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        })
        .collect();
    input.sample_size = rows.len();
    let photos: HashMap<String, bytes::Bytes> = photos
        .into_iter()
        .map(|(k, v)| (k, bytes::Bytes::from(v)))
        .collect();
    let ctx = auth.ctx();
    let who = Submitter {
        ctx: &ctx,
        user_id: auth.user.id,
        may_manage: true,
    };
    match tp::import(
        &state.store,
        &state.config.files,
        &who,
        &input,
        &rows,
        &photos,
        &state.config.photo_rules,
        &state.config.timezone,
    )
    .await
    {
        Ok(i) => Ok(i),
        Err(StoreError::Invalid(e)) => Err(AppError::Invalid(e)),
        Err(e) => Err(e.into()),
    }
}
