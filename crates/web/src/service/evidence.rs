//! Evidence actions both the pages and the API take.

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::Digest;
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

/// A source as a page's form names it: its kind, and category codes
/// separated as people write lists (、 , ; or spaces).
pub fn source_from_form(
    kind: &str,
    categories: &str,
) -> Result<Option<wenming_domain::evidence::Source>, ()> {
    let codes: Vec<String> = categories
        .split(['、', ',', '，', ';', '；', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    match kind.trim() {
        "" => Ok(None),
        "case_statistics" => Ok(Some(wenming_domain::evidence::Source::CaseStatistics {
            categories: codes,
        })),
        _ => Err(()),
    }
}

/// Builds a requirement's material from its source, dated today (or the
/// window's last day, when it has closed) and stamped with the SHA-256 of
/// the data it was made from and when that data was read, then offers it
/// for review as any upload. The office's action; again on demand.
pub async fn generate(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<ev::Filed> {
    use wenming_domain::evidence::Source;
    auth.permit::<wenming_domain::policy::may::ReviewEvidence>()?;
    let submit = auth.permit::<wenming_domain::policy::may::SubmitEvidence>()?;
    let today = super::today(state);
    let q = ev::requirement(&state.store, submit.scope(), id, today).await?;
    let Some(source) = q.source.clone() else {
        return Err(FieldErrors::single("source", "no_source").into());
    };
    let w = ev::window(&state.store, q.framework_id, today).await?;
    let read_at = jiff::Timestamp::now();
    let (title, bytes, data) = match &source {
        Source::CaseStatistics { categories } => {
            case_statistics(state, auth, &w, today, categories).await?
        }
    };
    let data_sha256 = hex::encode(sha2::Sha256::digest(data.as_bytes()));
    let generated_from = serde_json::json!({
        "source": source,
        "data_sha256": data_sha256,
        "data_at": read_at.to_string(),
        "window": [w.start.to_string(), w.end.to_string()],
    });
    let input = ev::MaterialInput {
        evidence_type: source.evidence_type(),
        file_name: format!("{title}.xlsx"),
        title,
        doc_date: Some(today.min(w.last_day())),
        doc_number: None,
        requirement_ids: vec![id],
        generated_from: Some(generated_from),
    };
    Ok(ev::file_material(
        &state.store,
        &state.config.files,
        &auth.ctx(),
        &submit,
        &input,
        bytes.into(),
    )
    .await?)
}

/// The monthly case statistics of the window's months so far: per unit and
/// for the whole city, registered, due, closed and on time, for the cases
/// of the category codes given (all without). Returns the title, the
/// workbook and the data it shows as text (what its hash is taken of).
async fn case_statistics(
    state: &AppState,
    auth: &Auth,
    w: &wenming_domain::evidence::Window,
    today: jiff::civil::Date,
    codes: &[String],
) -> AppResult<(String, Vec<u8>, String)> {
    use wenming_reports::table_xlsx::{Cell, write};
    let all = wenming_store::case::categories(&state.store).await?;
    let mut ids = vec![];
    let mut names = vec![];
    for code in codes {
        let c = all
            .iter()
            .find(|c| &c.code == code)
            .ok_or_else(|| FieldErrors::single("source", "unknown_category"))?;
        ids.push(c.id);
        names.push(c.name.clone());
    }
    let pct = |r: &wenming_domain::metrics::Rate| {
        r.value().map_or(Cell::Text("—".into()), |v| {
            Cell::Number((v * 1000.0).round() / 10.0)
        })
    };
    let mut rows: Vec<Vec<Cell>> = vec![];
    let mut data = String::new();
    let mut month = w.start;
    let last_month = today.first_of_month().min(w.last_day().first_of_month());
    while month <= last_month {
        let key = month.strftime("%Y-%m").to_string();
        let m = super::metrics::month_metrics_of(state, auth, &key, &ids).await?;
        let lines = m
            .units
            .iter()
            .map(|(_, r)| (r.name.clone(), &r.m))
            .chain(std::iter::once(("全市".to_string(), &m.total)));
        for (name, x) in lines {
            use std::fmt::Write;
            let _ = writeln!(
                data,
                "{key}\t{name}\t{}\t{}\t{:?}\t{:?}\t{:?}\t{:?}",
                x.registered,
                x.due,
                x.close_rate.value(),
                x.on_time_close_rate.value(),
                x.handling_rate.value(),
                x.on_time_handling_rate.value()
            );
            rows.push(vec![
                Cell::Text(key.clone()),
                Cell::Text(name),
                Cell::Number(x.registered as f64),
                Cell::Number(x.due as f64),
                pct(&x.close_rate),
                pct(&x.on_time_close_rate),
                pct(&x.handling_rate),
                pct(&x.on_time_handling_rate),
            ]);
        }
        month = match month.last_of_month().tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    let scope_words = if names.is_empty() {
        String::new()
    } else {
        format!("（{}）", names.join("、"))
    };
    // The filing is in Chinese: the material is written as the city files it.
    let title = format!(
        "案件处置月度统计表{scope_words}（{} 至 {}）",
        w.start.strftime("%Y-%m"),
        last_month.strftime("%Y-%m")
    );
    let header = [
        ("月份", 10.0),
        ("责任单位", 24.0),
        ("立案数", 10.0),
        ("应结案数", 10.0),
        ("结案率（%）", 12.0),
        ("按期结案率（%）", 14.0),
        ("处置率（%）", 12.0),
        ("按期处置率（%）", 14.0),
    ];
    let bytes =
        write("案件统计", &title, &header, &rows).map_err(|_| crate::error::AppError::Internal)?;
    Ok((title, bytes, data))
}
