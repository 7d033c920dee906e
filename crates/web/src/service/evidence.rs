//! Evidence actions both the pages and the API take.

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::EvidenceType;
use wenming_domain::policy::Action;
use wenming_store::evidence::{self as ev, RequirementEdit};

/// A material's file as filed, under its own name, for whoever may see
/// its unit's materials.
pub async fn download(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let m = ev::material(&state.store, &scope, id).await?;
    let bytes = ev::material_file(&state.config.files, &m).await?;
    let name = crate::page::urlencode(&m.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, m.kind.mime().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename*=UTF-8''{name}"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A requirement's edit as a form or a JSON body gives it, checked.
pub fn parse_edit(
    evidence_type: &str,
    title: &str,
    needed: i64,
    unit_id: Option<Uuid>,
    due_on: Option<&str>,
    source: Result<Option<wenming_domain::evidence::Source>, ()>,
) -> Result<RequirementEdit, FieldErrors> {
    let mut e = FieldErrors::new();
    let source = source.unwrap_or_else(|()| {
        e.add("source", "invalid_choice");
        None
    });
    let t = EvidenceType::parse(evidence_type.trim());
    if t.is_none() {
        e.add("evidence_type", "invalid_choice");
    }
    let due = match due_on.map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match d.parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                e.add("due_on", "invalid_date");
                None
            }
        },
    };
    match t {
        Some(evidence_type) if e.is_empty() => Ok(RequirementEdit {
            evidence_type,
            title: title.to_string(),
            needed,
            unit_id,
            due_on: due,
            source,
        }),
        _ => Err(e),
    }
}

/// A search of the archive from its text fields (a page's query or the
/// API's); parts that do not parse are left out.
pub fn material_filter(
    words: &str,
    unit: &str,
    evidence_type: &str,
    from: &str,
    until: &str,
    state: &str,
) -> ev::MaterialFilter {
    ev::MaterialFilter {
        words: Some(words.trim().to_string()).filter(|w| !w.is_empty()),
        unit_id: Uuid::parse_str(unit.trim()).ok(),
        evidence_type: EvidenceType::parse(evidence_type.trim()),
        standard_id: None,
        from: from.trim().parse().ok(),
        until: until.trim().parse().ok(),
        state: wenming_domain::evidence::SubmissionState::parse(state.trim()),
        limit: 200,
    }
}

/// A source as a page's form names it: its kind; category codes separated
/// as people write lists (、 , ; or spaces); the round kind (blank: all);
/// and whether a task table covers the whole framework.
pub fn source_from_form(
    kind: &str,
    categories: &str,
    round_kind: &str,
    whole_framework: bool,
) -> Result<Option<wenming_domain::evidence::Source>, ()> {
    use wenming_domain::evidence::Source;
    let categories: Vec<String> = categories
        .split(['、', ',', '，', ';', '；', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    let kinds = match round_kind.trim() {
        "" => vec![],
        k => vec![wenming_domain::inspection::RoundKind::parse(k).ok_or(())?],
    };
    match kind.trim() {
        "" => Ok(None),
        "case_statistics" => Ok(Some(Source::CaseStatistics { categories })),
        "photo_pairs" => Ok(Some(Source::PhotoPairs { categories })),
        "round_reports" => Ok(Some(Source::RoundReports { kinds })),
        "task_table" => Ok(Some(Source::TaskTable { whole_framework })),
        _ => Err(()),
    }
}

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

/// Writes what the zip writer produces into a channel the response reads,
/// so that the package is never whole in memory; a client gone away stops
/// the writer.
struct ChannelWriter(tokio::sync::mpsc::Sender<bytes::Bytes>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(bytes::Bytes::copy_from_slice(buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The filing package (网上申报包) of the framework in force: a folder per
/// aspect, indicator and standard (named by code and title), every accepted
/// material dated inside the window in it, named by convention, and the
/// index workbook (待审材料索引表) at the top. Streamed as it is written,
/// files stored as they are (they are compressed already); entries carry a
/// fixed time, so the same data gives the same package.
pub async fn package(state: &AppState, auth: &Auth) -> AppResult<Response> {
    use std::io::Write;
    use wenming_reports::table_xlsx::{Cell, write};
    let permit = auth.permit::<wenming_domain::policy::may::ReviewEvidence>()?;
    let fw = wenming_store::framework::active(&state.store)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let today = super::today(state);
    let w = ev::window(&state.store, fw.id, today).await?;
    let entries = ev::package_entries(&state.store, permit.scope(), fw.id, &w).await?;
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    // Each material's place in the package, and the index rows.
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
    let index_name = format!("{}.xlsx", t("evidence.index_title"));
    let workbook = write(t("evidence.index_title"), &title, &header, &index)
        .map_err(|_| crate::error::AppError::Internal)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
    let files = state.config.files.clone();
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let run = || -> Result<(), Box<dyn std::error::Error>> {
            let mut z = zip::ZipWriter::new_stream(ChannelWriter(tx));
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .last_modified_time(zip::DateTime::default())
                .large_file(true);
            z.start_file(index_name, opts)?;
            z.write_all(&workbook)?;
            for (name, m) in &placed {
                let bytes = handle.block_on(ev::material_file(&files, m))?;
                z.start_file(name.as_str(), opts)?;
                z.write_all(&bytes)?;
            }
            z.finish()?;
            Ok(())
        };
        if let Err(e) = run() {
            tracing::warn!(error = %e, "filing package stopped");
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|c| c.map(Ok::<_, std::io::Error>))
    });
    let file = format!("{}-{}.zip", t("evidence.package_name"), today);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/zip".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    crate::page::urlencode(&file)
                ),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}
