//! Taking in a third-party evaluation: a result sheet (place, standard,
//! result, photo names) and a zip of its photos become a round. Shared by
//! the page and the API.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use axum::extract::Multipart;
use wenming_domain::FieldErrors;
use wenming_domain::inspection::{RoundForm, RoundInput};
use wenming_domain::policy::Action;
use wenming_store::StoreError;
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
    (
        "area",
        &[
            "区域",
            "所属区域",
            "所在区",
            "区县",
            "区",
            "街道",
            "区/街道",
            "所属街道",
            "district",
            "area",
        ],
    ),
    ("note", &["备注", "问题说明", "说明", "note"]),
    ("photos", &["照片", "照片文件", "图片", "photos", "photo"]),
];

/// A zip of photos received, kept in a temporary file while the import
/// reads it entry by entry, and removed when dropped.
pub struct TempZip(std::path::PathBuf);

impl Drop for TempZip {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[derive(Default)]
pub struct Upload {
    pub csrf: String,
    pub form: RoundForm,
    /// "基本合格 = 合格" lines: how the office reads the evaluator's words.
    pub result_words: String,
    pub sheet: Vec<u8>,
    pub photos: Option<TempZip>,
}

/// The sheet is read into memory (it is capped like any workbook); the zip
/// of photos goes to a temporary file as it arrives, so a large zip never
/// sits in memory.
pub async fn read_upload(mut multipart: Multipart) -> AppResult<Upload> {
    use tokio::io::AsyncWriteExt;
    let mut u = Upload::default();
    let bad = || AppError::Invalid(FieldErrors::single("file", "malformed"));
    let too_large = |f: &str| AppError::Invalid(FieldErrors::single(f, "file_too_large"));
    while let Some(mut field) = multipart.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or("").to_string();
        if name == "photos" {
            let path =
                std::env::temp_dir().join(format!("wenming-zip-{}", uuid::Uuid::new_v4().simple()));
            let guard = TempZip(path.clone());
            let mut out = tokio::fs::File::create(&path).await.map_err(|e| {
                tracing::error!(error = %e, "cannot write a temporary file for a photo zip");
                AppError::Internal
            })?;
            let mut any = false;
            while let Some(chunk) = field.chunk().await.map_err(|_| too_large("photos"))? {
                any |= !chunk.is_empty();
                out.write_all(&chunk).await.map_err(|e| {
                    tracing::error!(error = %e, "cannot write a temporary file for a photo zip");
                    AppError::Internal
                })?;
            }
            out.flush().await.map_err(|_| AppError::Internal)?;
            // An empty file input still sends an empty part.
            u.photos = any.then_some(guard);
            continue;
        }
        let bytes = field.bytes().await.map_err(|_| too_large("file"))?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_string();
        match name.as_str() {
            "csrf" => u.csrf = text(),
            "name" => u.form.name = text(),
            "starts_on" => u.form.starts_on = text(),
            "ends_on" => u.form.ends_on = text(),
            "result_words" => u.result_words = text(),
            "file" => {
                if bytes.len() > crate::extract::MAX_UPLOAD_BYTES {
                    return Err(too_large("file"));
                }
                u.sheet = bytes.to_vec()
            }
            _ => {}
        }
    }
    Ok(u)
}

/// The zip's photos for the store, read one at a time off the blocking pool.
struct ZipSource {
    zip: std::sync::Arc<std::sync::Mutex<wenming_reports::table_read::ZipPhotos>>,
    names: Vec<String>,
    max: u64,
}

impl tp::PhotoSource for ZipSource {
    fn names(&self) -> Vec<String> {
        self.names.clone()
    }
    fn read(
        &mut self,
        name: &str,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Option<bytes::Bytes>, StoreError>> + Send + '_>>
    {
        let (zip, name, max) = (self.zip.clone(), name.to_string(), self.max);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                zip.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .read(&name, max)
                    .map(|b| b.map(bytes::Bytes::from))
                    .map_err(|p| StoreError::Problems(vec![p]))
            })
            .await
            .map_err(|e| StoreError::Corrupt(format!("reading a photo zip: {e}")))?
        })
    }
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
    let words = wenming_domain::inspection::parse_result_words(&u.result_words)?;
    if u.sheet.is_empty() {
        return Err(AppError::Invalid(FieldErrors::single("file", "required")));
    }
    let (sheet, zip_path) = (u.sheet, u.photos.as_ref().map(|z| z.0.clone()));
    let parsed = tokio::task::spawn_blocking(move || {
        let limits = wenming_reports::workbook::Limits::default();
        let rows = wenming_reports::table_read::read(
            &sheet,
            &limits,
            COLUMNS,
            &["place", "standard", "result"],
            &["note"],
        )?;
        let zip = zip_path
            .map(|p| wenming_reports::table_read::ZipPhotos::open(&p, 4 << 30, 5_000))
            .transpose()
            .map_err(|p| vec![p])?;
        Ok::<_, Vec<wenming_domain::framework::Problem>>((rows, zip))
    })
    .await
    .map_err(|_| AppError::Internal)?;
    let (records, zip) = parsed.map_err(AppError::Problems)?;
    let rows: Vec<ResultRow> = records
        .iter()
        .map(|r| ResultRow {
            row: r.row,
            place: r.get("place").to_string(),
            area: r.get("area").to_string(),
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
    let mut source: Box<dyn tp::PhotoSource> = match zip {
        Some(z) => Box::new(ZipSource {
            names: z.names().to_vec(),
            zip: std::sync::Arc::new(std::sync::Mutex::new(z)),
            max: state.config.photo_rules.max_bytes as u64,
        }),
        None => Box::new(tp::NoPhotos),
    };
    let result = tp::import(
        &state.store,
        &state.config.files,
        &auth.ctx(),
        &auth.permit()?,
        &input,
        &rows,
        source.as_mut(),
        &words,
        &state.config.photo_rules,
        &state.config.timezone,
    )
    .await;
    drop(u.photos);
    match result {
        Ok(i) => Ok(i),
        Err(StoreError::Invalid(e)) => Err(AppError::Invalid(e)),
        Err(e) => Err(e.into()),
    }
}
