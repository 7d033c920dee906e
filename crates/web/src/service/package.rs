//! The filing package (网上申报包) of the framework in force: a folder per
//! aspect, indicator and standard (named by code and title), every accepted
//! material dated inside the window in it, named by convention, and the
//! index workbook (待审材料索引表) at the top. Written by the zip crate's
//! stream writer on a blocking thread into a bounded channel, so a package
//! is never whole in memory; files are stored as they are (they are
//! compressed already) and entries carry a fixed time, so the same data
//! gives the same package. It is either streamed straight to the client
//! (`download`), or written in the background into the file store with its
//! progress recorded (`start`), then downloaded from there.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use uuid::Uuid;
use wenming_domain::policy::may;
use wenming_reports::table_xlsx::{Cell, write};
use wenming_store::evidence::{self as ev, PackageJob};

/// A name safe as a path part in any unzip tool: no separators or characters
/// Windows refuses, no leading dots, not too long.
fn safe_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    trimmed.chars().take(80).collect()
}

/// Writes what the zip writer produces into a channel its reader empties,
/// so that the package is never whole in memory. Once the reader has gone
/// away the rest is dropped and `gone` says so: the writer stops at the
/// next file and closes the archive quietly (the zip crate complains on
/// stderr about an archive dropped unfinished).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
    gone: Arc<std::sync::atomic::AtomicBool>,
    /// The zip writer writes headers of a few dozen bytes and bodies of
    /// any size: sending them on in chunks of about a mebibyte keeps the
    /// channel, the body and the file store from waking for each.
    buf: bytes::BytesMut,
}

const CHUNK: usize = 1 << 20;

impl ChannelWriter {
    fn new(
        tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
        gone: Arc<std::sync::atomic::AtomicBool>,
    ) -> Self {
        ChannelWriter {
            tx,
            gone,
            buf: bytes::BytesMut::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let chunk = self.buf.split().freeze();
        self.buf.reserve(CHUNK);
        if !self.gone.load(Ordering::Relaxed) && self.tx.blocking_send(chunk).is_err() {
            self.gone.store(true, Ordering::Relaxed);
        }
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(buf);
        if self.buf.len() >= CHUNK {
            self.send();
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send();
        Ok(())
    }
}

/// A package laid out: the index workbook and where each material goes.
struct Layout {
    framework_id: Uuid,
    file_name: String,
    index_name: String,
    workbook: Vec<u8>,
    placed: Vec<(String, ev::Material)>,
}

impl Layout {
    fn totals(&self) -> (i64, i64) {
        (
            self.placed.len() as i64 + 1,
            self.workbook.len() as i64 + self.placed.iter().map(|(_, m)| m.size).sum::<i64>(),
        )
    }
}

/// Files and bytes written so far, as the writer counts them.
#[derive(Default)]
struct Written {
    files: AtomicI64,
    bytes: AtomicI64,
}

async fn layout(state: &AppState, auth: &Auth) -> AppResult<Layout> {
    let permit = auth.permit::<may::ReviewEvidence>()?;
    let fw = wenming_store::framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = super::today(state);
    let w = ev::window(&state.store, fw.id, today).await?;
    let entries = ev::package_entries(&state.store, permit.scope(), fw.id, &w).await?;
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    let mut placed: Vec<(String, ev::Material)> = vec![];
    let mut index: Vec<Vec<Cell>> = vec![];
    let mut used = std::collections::HashSet::new();
    for e in entries {
        let folder: Vec<String> = e
            .path
            .iter()
            .map(|(code, title)| safe_name(&format!("{code} {title}")))
            .collect();
        let m = e.material;
        let base = format!(
            "{}-{}-{}",
            t(&format!("evidence_type.{}", m.evidence_type.code())),
            safe_name(&m.title),
            m.doc_date
        );
        let mut name = format!("{}/{base}.{}", folder.join("/"), m.kind.extension());
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{}/{base}-{n}.{}", folder.join("/"), m.kind.extension());
            n += 1;
        }
        let standard = e.path.last().cloned().unwrap_or_default();
        index.push(vec![
            Cell::Text(standard.0),
            Cell::Text(standard.1),
            Cell::Text(e.requirement_title),
            Cell::Text(m.title.clone()),
            Cell::Text(t(&format!("evidence_type.{}", m.evidence_type.code())).into()),
            Cell::Text(m.unit_name.clone()),
            Cell::Text(m.doc_date.to_string()),
            Cell::Text(m.doc_number.clone().unwrap_or_default()),
            Cell::Text(name.clone()),
            Cell::Text(m.sha256.clone()),
            Cell::Number(m.size as f64),
        ]);
        placed.push((name, m));
    }
    let header = [
        (t("evidence.standard"), 10.0),
        (t("evidence.standard_title"), 30.0),
        (t("evidence.requirement"), 24.0),
        (t("evidence.material_title"), 30.0),
        (t("evidence.type"), 10.0),
        (t("evidence.unit"), 18.0),
        (t("evidence.doc_date"), 12.0),
        (t("evidence.doc_number"), 16.0),
        (t("evidence.file_in_package"), 40.0),
        ("SHA-256", 20.0),
        (t("evidence.size_bytes"), 12.0),
    ];
    let title = format!(
        "{}（{} — {}）",
        t("evidence.index_title"),
        w.start,
        w.last_day()
    );
    let workbook = write(t("evidence.index_title"), &title, &header, &index)
        .map_err(|_| AppError::Internal)?;
    Ok(Layout {
        framework_id: fw.id,
        file_name: format!("{}-{}.zip", t("evidence.package_name"), today),
        index_name: format!("{}.xlsx", t("evidence.index_title")),
        workbook,
        placed,
    })
}

/// Starts writing the package on a blocking thread: its bytes arrive on the
/// returned channel, and `done` says whether it was written whole.
fn write_zip(
    state: &AppState,
    layout: Layout,
    written: Arc<Written>,
) -> (
    tokio::sync::mpsc::Receiver<bytes::Bytes>,
    tokio::sync::oneshot::Receiver<bool>,
) {
    use std::io::Write;
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let files = state.config.files.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let run = || -> Result<(), Box<dyn std::error::Error>> {
            let mut z = zip::ZipWriter::new_stream(ChannelWriter::new(tx, gone.clone()));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .last_modified_time(zip::DateTime::default())
                .large_file(true);
            z.start_file(layout.index_name.as_str(), opts)?;
            z.write_all(&layout.workbook)?;
            written.files.fetch_add(1, Ordering::Relaxed);
            written
                .bytes
                .fetch_add(layout.workbook.len() as i64, Ordering::Relaxed);
            for (name, m) in &layout.placed {
                if gone.load(Ordering::Relaxed) {
                    break;
                }
                let bytes = handle.block_on(ev::material_file(&files, m))?;
                z.start_file(name.as_str(), opts)?;
                z.write_all(&bytes)?;
                written.files.fetch_add(1, Ordering::Relaxed);
                written.bytes.fetch_add(m.size, Ordering::Relaxed);
            }
            z.finish()?.into_inner().flush()?;
            Ok(())
        };
        let outcome = run();
        if let Err(e) = &outcome {
            tracing::warn!(error = %e, "filing package stopped");
        }
        let whole = outcome.is_ok() && !gone.load(Ordering::Relaxed);
        let _ = done_tx.send(whole);
    });
    (rx, done_rx)
}

fn zip_headers(file_name: &str) -> [(header::HeaderName, String); 2] {
    [
        (header::CONTENT_TYPE, "application/zip".to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename*=UTF-8''{}",
                crate::page::urlencode(file_name)
            ),
        ),
    ]
}

/// The package streamed straight to the client as it is written.
pub async fn download(state: &AppState, auth: &Auth) -> AppResult<Response> {
    let layout = layout(state, auth).await?;
    let file_name = layout.file_name.clone();
    let (mut rx, _) = write_zip(state, layout, Arc::default());
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|c| c.map(Ok::<_, std::io::Error>))
    });
    Ok((
        zip_headers(&file_name),
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// Starts writing the package of the framework in force (the one the
/// caller names: a page left open over an activation does not package
/// another year's) into the file store in the background, its progress
/// recorded every second, and returns its record at once.
pub async fn start(
    state: &AppState,
    auth: &Auth,
    framework: Option<Uuid>,
) -> AppResult<PackageJob> {
    let permit = auth.permit::<may::ReviewEvidence>()?;
    let layout = layout(state, auth).await?;
    match framework {
        None => return Err(wenming_domain::FieldErrors::single("framework_id", "required").into()),
        Some(f) if f != layout.framework_id => {
            return Err(wenming_domain::FieldErrors::single("framework_id", "not_in_force").into());
        }
        Some(_) => {}
    }
    let job = ev::start_package(
        &state.store,
        &auth.ctx(),
        &permit,
        layout.framework_id,
        &layout.file_name,
        layout.totals(),
    )
    .await?;
    let written = Arc::new(Written::default());
    let (mut rx, done) = write_zip(state, layout, written.clone());
    let (store, files, id) = (state.store.clone(), state.config.files.clone(), job.id);
    tokio::spawn(async move {
        let key = ev::package_key(id);
        let progress = {
            let (store, written) = (store.clone(), written.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let (f, b) = (
                        written.files.load(Ordering::Relaxed),
                        written.bytes.load(Ordering::Relaxed),
                    );
                    if ev::package_progress(&store, id, f, b).await.is_err() {
                        break;
                    }
                }
            })
        };
        let outcome = files
            .put_stream(&key, &mut rx, done)
            .await
            .map_err(|e| e.to_string());
        progress.abort();
        match ev::finish_package(&store, id, outcome).await {
            Ok(gone) => {
                for k in gone {
                    let _ = files.delete(&k).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot record the filing package's end"),
        }
    });
    Ok(job)
}

/// A package written in the background, downloaded from the file store.
pub async fn fetch(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<Response> {
    auth.permit::<may::ReviewEvidence>()?;
    let job = ev::package_job(&state.store, id).await?;
    if job.state != "done" {
        return Err(AppError::NotFound);
    }
    let stream = state.config.files.get_stream(&ev::package_key(id)).await?;
    let mut headers = zip_headers(&job.file_name).to_vec();
    if let Some(n) = job.size {
        headers.push((header::CONTENT_LENGTH, n.to_string()));
    }
    let mut r = axum::body::Body::from_stream(stream).into_response();
    for (k, v) in headers {
        if let Ok(v) = v.parse() {
            r.headers_mut().insert(k, v);
        }
    }
    Ok(r)
}
