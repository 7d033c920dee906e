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
        "survey_results" => Ok(Some(Source::SurveyResults)),
        _ => Err(()),
    }
}
