//! The evidence archive over JSON: requirements and how they stand,
//! filing a material (the file as the body), the office's decisions, the
//! filing window and completeness.

use super::dto::ErrorBody;
use crate::AppState;
use crate::auth::{Auth, Can};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::evidence::{Completeness, RequirementState};
use wenming_domain::framework::EvidenceType;
use wenming_domain::policy::{Action, may};
use wenming_store::evidence::{
    self as ev, Decision, Filed, FilingDate, Material, MaterialInput, Requirement,
    RequirementFilter, Submission,
};

#[derive(Serialize, ToSchema)]
pub struct RequirementDto {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub standard_id: Uuid,
    pub standard_code: String,
    pub standard_title: String,
    /// policy_document, statement, photo or statistics_table
    pub evidence_type: String,
    pub title: String,
    /// Accepted materials inside the window that meet it.
    pub needed: i64,
    pub unit_id: Option<Uuid>,
    pub unit: Option<String>,
    /// YYYY-MM-DD
    pub due_on: Option<String>,
    /// Where wenming builds it from, e.g. {"kind": "case_statistics",
    /// "categories": []}; none when it waits for uploads.
    #[schema(value_type = Option<Object>)]
    pub source: Option<serde_json::Value>,
    /// missing, returned, submitted or met
    pub state: String,
    pub overdue: bool,
    pub accepted_in_window: i64,
    /// Accepted but dated outside the window: they do not count.
    pub accepted_outside: i64,
    pub submitted: i64,
    pub returned: i64,
    pub version: i64,
}

fn requirement_dto(q: Requirement) -> RequirementDto {
    RequirementDto {
        id: q.id,
        framework_id: q.framework_id,
        standard_id: q.standard_id,
        standard_code: q.standard_code,
        standard_title: q.standard_title,
        evidence_type: q.evidence_type.code().into(),
        title: q.title,
        needed: q.needed,
        unit_id: q.unit_id,
        unit: q.unit_name,
        due_on: q.due_on.map(|d| d.to_string()),
        source: q.source.as_ref().and_then(|s| serde_json::to_value(s).ok()),
        state: q.state.code().into(),
        overdue: q.overdue,
        accepted_in_window: q.tally.accepted_in_window,
        accepted_outside: q.tally.accepted_outside,
        submitted: q.tally.submitted,
        returned: q.tally.returned,
        version: q.version,
    }
}

#[derive(Serialize, ToSchema)]
pub struct MaterialDto {
    pub id: Uuid,
    pub title: String,
    pub evidence_type: String,
    /// pdf, docx, xlsx, ofd, jpeg, png or webp, by content
    pub kind: String,
    pub size: i64,
    pub sha256: String,
    /// The document's own date, YYYY-MM-DD.
    pub doc_date: String,
    /// Whether that date falls inside the framework's filing window.
    pub in_window: bool,
    pub doc_number: Option<String>,
    pub file_name: String,
    pub unit_id: Uuid,
    pub unit: String,
    /// For a material wenming made: its source, the SHA-256 of the data it
    /// was made from (`data_sha256`) and when that data was read (`data_at`).
    #[schema(value_type = Option<Object>)]
    pub generated_from: Option<serde_json::Value>,
    /// For a picture, what the photo checks found when it was filed (none
    /// refuses it): {"kind": "case_photo", "case_id", "number", "same_file"},
    /// {"kind": "other_unit", "unit"}, {"kind": "taken_outside_window",
    /// "taken_on"}.
    #[schema(value_type = Vec<Object>)]
    pub photo_flags: Vec<serde_json::Value>,
    pub created_at: String,
}

fn material_dto(m: Material, window: &wenming_domain::evidence::Window) -> MaterialDto {
    MaterialDto {
        in_window: window.contains(m.doc_date),
        id: m.id,
        title: m.title,
        evidence_type: m.evidence_type.code().into(),
        kind: m.kind.code().into(),
        size: m.size,
        sha256: m.sha256,
        doc_date: m.doc_date.to_string(),
        doc_number: m.doc_number,
        file_name: m.file_name,
        unit_id: m.unit_id,
        unit: m.unit_name,
        generated_from: m.generated_from,
        photo_flags: m
            .photo_flags
            .iter()
            .filter_map(|f| serde_json::to_value(f).ok())
            .collect(),
        created_at: m.created_at.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct SubmissionDto {
    pub id: Uuid,
    pub requirement_id: Uuid,
    pub material: MaterialDto,
    /// submitted, accepted or returned
    pub state: String,
    /// Why it was returned.
    pub reason: Option<String>,
    pub submitted_at: String,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    /// Send it back with a decision.
    pub version: i64,
}

fn submission_dto(s: Submission, window: &wenming_domain::evidence::Window) -> SubmissionDto {
    SubmissionDto {
        id: s.id,
        requirement_id: s.requirement_id,
        material: material_dto(s.material, window),
        state: s.state.code().into(),
        reason: s.reason,
        submitted_at: s.submitted_at.to_string(),
        decided_at: s.decided_at.map(|d| d.to_string()),
        decided_by: s.decided_by,
        version: s.version,
    }
}

/// The framework asked for, or the one in force.
async fn framework_or_active(state: &AppState, id: Option<Uuid>) -> AppResult<Uuid> {
    match id {
        Some(id) => Ok(id),
        None => Ok(wenming_store::framework::active(&state.store)
            .await?
            .ok_or(AppError::NotFound)?
            .id),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequirementQuery {
    /// Default: the framework in force.
    framework_id: Option<Uuid>,
    standard_id: Option<Uuid>,
    unit_id: Option<Uuid>,
    /// missing, returned, submitted or met
    state: Option<String>,
    #[serde(default)]
    overdue: bool,
}

/// The material requirements the caller may see (a unit its own, the
/// office all), in the framework's order, each with how it stands.
#[utoipa::path(get, path = "/evidence/requirements", tag = "evidence", params(RequirementQuery),
    responses((status = 200, body = Vec<RequirementDto>), (status = 422, body = ErrorBody)))]
pub async fn requirements(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RequirementQuery>,
) -> AppResult<Json<Vec<RequirementDto>>> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let framework = framework_or_active(&state, q.framework_id).await?;
    let state_filter = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            RequirementState::parse(s)
                .ok_or_else(|| AppError::Invalid(FieldErrors::single("state", "invalid_choice")))?,
        ),
    };
    let f = RequirementFilter {
        standard_id: q.standard_id,
        unit_id: q.unit_id,
        state: state_filter,
        overdue_only: q.overdue,
    };
    let today = crate::service::today(&state);
    let list = ev::requirements(&state.store, &scope, framework, &f, today).await?;
    Ok(Json(list.into_iter().map(requirement_dto).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct RequirementDetail {
    pub requirement: RequirementDto,
    /// The window its materials are judged by, YYYY-MM-DD, end excluded.
    pub window_start: String,
    pub window_end: String,
    pub submissions: Vec<SubmissionDto>,
}

/// One requirement with every material offered for it.
#[utoipa::path(get, path = "/evidence/requirements/{id}", tag = "evidence", params(("id" = Uuid, Path)),
    responses((status = 200, body = RequirementDetail), (status = 404, body = ErrorBody)))]
pub async fn requirement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RequirementDetail>> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let today = crate::service::today(&state);
    let q = ev::requirement(&state.store, &scope, id, today).await?;
    let w = ev::window(&state.store, q.framework_id, today).await?;
    let subs = ev::submissions(&state.store, &q).await?;
    Ok(Json(RequirementDetail {
        window_start: w.start.to_string(),
        window_end: w.end.to_string(),
        submissions: subs.into_iter().map(|s| submission_dto(s, &w)).collect(),
        requirement: requirement_dto(q),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct RequirementBody {
    pub evidence_type: String,
    pub title: String,
    pub needed: i64,
    pub unit_id: Option<Uuid>,
    /// YYYY-MM-DD
    pub due_on: Option<String>,
    /// Where wenming builds the material from instead of an upload, e.g.
    /// {"kind": "case_statistics", "categories": ["01"]}; none for uploads.
    #[schema(value_type = Option<Object>)]
    #[serde(default)]
    pub source: Option<serde_json::Value>,
    /// The version read (updates only).
    #[serde(default)]
    pub version: i64,
}

/// Changes what a requirement asks for, who provides it and by when.
#[utoipa::path(put, path = "/evidence/requirements/{id}", tag = "evidence", params(("id" = Uuid, Path)), request_body = RequirementBody,
    responses((status = 200, body = RequirementDto), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_requirement(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ReviewEvidence>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<RequirementBody>,
) -> AppResult<Json<RequirementDto>> {
    let source = match b.source {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v).map(Some).map_err(|_| ()),
    };
    let edit = crate::service::evidence::parse_edit(
        &b.evidence_type,
        &b.title,
        b.needed,
        b.unit_id,
        b.due_on.as_deref(),
        source,
    )?;
    ev::update_requirement(&state.store, &auth.ctx(), &permit, id, b.version, &edit).await?;
    let today = crate::service::today(&state);
    let q = ev::requirement(&state.store, permit.scope(), id, today).await?;
    Ok(Json(requirement_dto(q)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileQuery {
    /// The requirements it proves, comma-separated (all of one unit).
    #[serde(default)]
    requirement_ids: String,
    #[serde(default)]
    title: String,
    /// policy_document, statement, photo or statistics_table
    #[serde(default)]
    evidence_type: String,
    /// The document's own date, YYYY-MM-DD.
    #[serde(default)]
    doc_date: String,
    /// 文号, for a policy document.
    doc_number: Option<String>,
    /// The name it is downloaded and packaged under (default: the title).
    #[serde(default)]
    file_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct FiledDto {
    pub material: MaterialDto,
    /// The same file was filed before by this unit: that material was
    /// linked instead of storing a second copy.
    pub already_filed: bool,
    /// The requirements it was newly offered for.
    pub linked: Vec<Uuid>,
}

/// Files a material: the file is the body (PDF, DOCX, XLSX, OFD, JPEG, PNG
/// or WebP, judged by content, capped by `material_max_mb`), the rest in
/// the query. Stored once by SHA-256; offered for review for each
/// requirement named.
#[utoipa::path(post, path = "/evidence/materials", tag = "evidence", params(FileQuery),
    request_body(content = Vec<u8>, description = "The file", content_type = "application/octet-stream"),
    responses((status = 201, body = FiledDto), (status = 200, body = FiledDto, description = "The same file, filed before: linked"),
        (status = 422, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::SubmitEvidence>,
    ApiQuery(q): ApiQuery<FileQuery>,
    body: axum::body::Body,
) -> AppResult<(StatusCode, Json<FiledDto>)> {
    let bytes = axum::body::to_bytes(body, state.config.material_max_bytes)
        .await
        .map_err(|_| AppError::Invalid(FieldErrors::single("file", "material_too_large")))?;
    let mut errors = FieldErrors::new();
    let evidence_type = EvidenceType::parse(q.evidence_type.trim());
    if evidence_type.is_none() {
        errors.add("evidence_type", "invalid_choice");
    }
    let doc_date = q.doc_date.trim().parse::<jiff::civil::Date>().ok();
    if doc_date.is_none() {
        errors.add("doc_date", "invalid_date");
    }
    let mut ids = vec![];
    for s in q
        .requirement_ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match Uuid::parse_str(s) {
            Ok(id) => ids.push(id),
            Err(_) => errors.add("requirement_ids", "invalid_choice"),
        }
    }
    let Some(evidence_type) = evidence_type.filter(|_| errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let input = MaterialInput {
        evidence_type,
        title: q.title.clone(),
        doc_date,
        doc_number: q.doc_number,
        file_name: if q.file_name.trim().is_empty() {
            q.title.clone()
        } else {
            q.file_name
        },
        requirement_ids: ids,
        generated_from: None,
    };
    let filed = ev::file_material(
        &state.store,
        &state.config.files,
        &auth.ctx(),
        &permit,
        &input,
        bytes,
    )
    .await?;
    Ok((
        if filed.already_filed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(filed_dto(&state, filed).await?),
    ))
}

async fn filed_dto(state: &AppState, f: Filed) -> AppResult<FiledDto> {
    let today = crate::service::today(state);
    let framework = framework_or_active(state, None).await?;
    let w = ev::window(&state.store, framework, today).await?;
    Ok(FiledDto {
        material: material_dto(f.material, &w),
        already_filed: f.already_filed,
        linked: f.linked,
    })
}

/// A material's file, for whoever may see its unit's materials.
#[utoipa::path(get, path = "/evidence/materials/{id}/file", tag = "evidence", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The file as filed"), (status = 404, body = ErrorBody)))]
pub async fn material_file(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    crate::service::evidence::download(&state, &auth, id).await
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    pub version: i64,
    /// accept or return
    pub decision: String,
    /// Why it goes back (required to return).
    #[serde(default)]
    pub reason: String,
}

/// Accepts or returns a submission (the office's); a return tells the unit.
#[utoipa::path(post, path = "/evidence/submissions/{id}/decision", tag = "evidence", params(("id" = Uuid, Path)), request_body = DecisionBody,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ReviewEvidence>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> AppResult<StatusCode> {
    let d = match b.decision.as_str() {
        "accept" => Decision::Accept,
        "return" => Decision::Return { reason: b.reason },
        _ => {
            return Err(AppError::Invalid(FieldErrors::single(
                "decision",
                "invalid_choice",
            )));
        }
    };
    ev::decide(&state.store, &auth.ctx(), &permit, id, b.version, &d).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct FilingBody {
    /// The evaluation date, YYYY-MM-DD; none to judge by the months to date.
    pub evaluation_on: Option<String>,
    /// How many months before the evaluation month the filing covers.
    pub window_months: i64,
}

/// Sets the evaluation date whose window materials are judged by.
#[utoipa::path(put, path = "/frameworks/{id}/filing", tag = "evidence", params(("id" = Uuid, Path)), request_body = FilingBody,
    responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn set_filing(
    State(state): State<AppState>,
    Can { auth, permit }: Can<may::ReviewEvidence>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<FilingBody>,
) -> AppResult<StatusCode> {
    let on = match b
        .evaluation_on
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(s.parse().map_err(|_| {
            AppError::Invalid(FieldErrors::single("evaluation_on", "invalid_date"))
        })?),
    };
    let date = FilingDate {
        evaluation_on: on,
        window_months: b.window_months,
    };
    ev::set_filing_date(&state.store, &auth.ctx(), &permit, id, &date).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CompletenessDto {
    pub required: i64,
    pub met: i64,
    pub submitted: i64,
    pub returned: i64,
    pub missing: i64,
    pub overdue: i64,
}

fn c_dto(c: &Completeness) -> CompletenessDto {
    CompletenessDto {
        required: c.required,
        met: c.met,
        submitted: c.submitted,
        returned: c.returned,
        missing: c.missing,
        overdue: c.overdue,
    }
}

#[derive(Serialize, ToSchema)]
pub struct NodeCompleteness {
    pub node_id: Uuid,
    /// aspect, indicator or standard
    pub kind: String,
    pub code: String,
    pub title: String,
    pub completeness: CompletenessDto,
}

#[derive(Serialize, ToSchema)]
pub struct UnitCompleteness {
    pub unit_id: Option<Uuid>,
    pub unit: String,
    pub completeness: CompletenessDto,
}

#[derive(Serialize, ToSchema)]
pub struct CompletenessReport {
    pub window_start: String,
    pub window_end: String,
    pub total: CompletenessDto,
    pub nodes: Vec<NodeCompleteness>,
    pub units: Vec<UnitCompleteness>,
}

/// How complete the archive is: per aspect, indicator and standard, per
/// unit, and for the whole framework (met / required), over the
/// requirements the caller may see.
#[utoipa::path(get, path = "/frameworks/{id}/completeness", tag = "evidence", params(("id" = Uuid, Path)),
    responses((status = 200, body = CompletenessReport)))]
pub async fn completeness(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CompletenessReport>> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let today = crate::service::today(&state);
    let r = ev::completeness(&state.store, &scope, id, today).await?;
    let w = ev::window(&state.store, id, today).await?;
    Ok(Json(CompletenessReport {
        window_start: w.start.to_string(),
        window_end: w.end.to_string(),
        total: c_dto(&r.total),
        nodes: r
            .nodes
            .iter()
            .map(|n| NodeCompleteness {
                node_id: n.node_id,
                kind: n.kind.code().into(),
                code: n.code.clone(),
                title: n.title.clone(),
                completeness: c_dto(&n.c),
            })
            .collect(),
        units: r
            .units
            .iter()
            .map(|(u, name, c)| UnitCompleteness {
                unit_id: *u,
                unit: name.clone(),
                completeness: c_dto(c),
            })
            .collect(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MaterialQuery {
    /// Words of the title or the document number.
    #[serde(default)]
    q: String,
    #[serde(default)]
    unit_id: String,
    /// policy_document, statement, photo or statistics_table
    #[serde(default)]
    evidence_type: String,
    /// Dated on or after, YYYY-MM-DD.
    #[serde(default)]
    from: String,
    /// Dated on or before.
    #[serde(default)]
    until: String,
    /// Has a submission submitted, accepted or returned.
    #[serde(default)]
    state: String,
}

/// Finds materials the caller may see, newest document first (200 at most).
#[utoipa::path(get, path = "/evidence/materials", tag = "evidence", params(MaterialQuery),
    responses((status = 200, body = Vec<MaterialDto>)))]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MaterialQuery>,
) -> AppResult<Json<Vec<MaterialDto>>> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let f = crate::service::evidence::material_filter(
        &q.q,
        &q.unit_id,
        &q.evidence_type,
        &q.from,
        &q.until,
        &q.state,
    );
    let found = ev::search_materials(&state.store, &scope, &f).await?;
    let framework = framework_or_active(&state, None).await?;
    let w = ev::window(&state.store, framework, crate::service::today(&state)).await?;
    Ok(Json(
        found.into_iter().map(|m| material_dto(m, &w)).collect(),
    ))
}

/// Builds the requirement's material from its source (the office's), and
/// offers it for review as any upload; again whenever asked.
#[utoipa::path(post, path = "/evidence/requirements/{id}/generate", tag = "evidence", params(("id" = Uuid, Path)),
    responses((status = 201, body = FiledDto), (status = 422, body = ErrorBody)))]
pub async fn generate(
    State(state): State<AppState>,
    Can { auth, .. }: Can<may::ReviewEvidence>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<FiledDto>)> {
    let filed = crate::service::sources::generate(&state, &auth, id).await?;
    Ok((StatusCode::CREATED, Json(filed_dto(&state, filed).await?)))
}

/// The filing package (网上申报包) of the framework in force, streamed: a
/// folder per aspect / indicator / standard with every accepted material
/// dated inside the window, and the index workbook (待审材料索引表).
#[utoipa::path(get, path = "/evidence/package", tag = "evidence",
    responses((status = 200, description = "application/zip"), (status = 403, body = ErrorBody)))]
pub async fn package(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    crate::service::package::download(&state, &auth).await
}

/// A filing package written in the background.
#[derive(Serialize, ToSchema)]
pub struct PackageJobDto {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub file_name: String,
    /// running, done or failed
    pub state: String,
    pub files_total: i64,
    pub files_done: i64,
    pub bytes_total: i64,
    pub bytes_done: i64,
    /// The zip's size, once written.
    pub size: Option<i64>,
    /// Why it failed: interrupted (its server stopped), replaced (a newer
    /// package took its place), or the file store's message.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn package_dto(j: wenming_store::evidence::PackageJob) -> PackageJobDto {
    PackageJobDto {
        id: j.id,
        framework_id: j.framework_id,
        file_name: j.file_name,
        state: j.state.into(),
        files_total: j.files_total,
        files_done: j.files_done,
        bytes_total: j.bytes_total,
        bytes_done: j.bytes_done,
        size: j.size,
        error: j.error,
        created_at: j.created_at.to_string(),
        updated_at: j.updated_at.to_string(),
    }
}

#[derive(Deserialize, ToSchema, Default)]
pub struct PackageBody {
    /// The framework in force, as the caller read it.
    #[serde(default)]
    pub framework_id: Option<Uuid>,
}

/// Starts writing the filing package in the background (for large ones);
/// its progress is read from `GET /evidence/packages/{id}`, and the zip,
/// once written, from `/evidence/packages/{id}/file`.
#[utoipa::path(post, path = "/evidence/packages", tag = "evidence", request_body = PackageBody,
    responses((status = 202, body = PackageJobDto), (status = 422, body = ErrorBody)))]
pub async fn start_package(
    State(state): State<AppState>,
    Can { auth, .. }: Can<may::ReviewEvidence>,
    ApiJson(b): ApiJson<PackageBody>,
) -> AppResult<(StatusCode, Json<PackageJobDto>)> {
    let job = crate::service::package::start(&state, &auth, b.framework_id).await?;
    Ok((StatusCode::ACCEPTED, Json(package_dto(job))))
}

/// The packages written or being written, newest first.
#[utoipa::path(get, path = "/evidence/packages", tag = "evidence",
    responses((status = 200, body = Vec<PackageJobDto>)))]
pub async fn packages(
    State(state): State<AppState>,
    Can { .. }: Can<may::ReviewEvidence>,
) -> AppResult<Json<Vec<PackageJobDto>>> {
    let jobs = wenming_store::evidence::package_jobs(&state.store, 20).await?;
    Ok(Json(jobs.into_iter().map(package_dto).collect()))
}

/// One package and how far it is.
#[utoipa::path(get, path = "/evidence/packages/{id}", tag = "evidence", params(("id" = Uuid, Path)),
    responses((status = 200, body = PackageJobDto), (status = 404, body = ErrorBody)))]
pub async fn package_job(
    State(state): State<AppState>,
    Can { .. }: Can<may::ReviewEvidence>,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<PackageJobDto>> {
    Ok(Json(package_dto(
        wenming_store::evidence::package_job(&state.store, id).await?,
    )))
}

/// A package written in the background, as a zip.
#[utoipa::path(get, path = "/evidence/packages/{id}/file", tag = "evidence", params(("id" = Uuid, Path)),
    responses((status = 200, description = "application/zip"), (status = 404, body = ErrorBody)))]
pub async fn package_file(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    crate::service::package::fetch(&state, &auth, id).await
}
