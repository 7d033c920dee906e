//! The evidence archive's pages: how complete it is (the office's and the
//! leaders' "every standard proven" view, drilling down to what is
//! missing), a unit's requirements, one requirement with its materials and
//! the upload and review forms, and the office's review queue.

mod package;
pub use package::{package_file, packages, start_package};

use crate::AppState;
use crate::auth::{Auth, CsrfForm, CsrfUpload};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, render};
use crate::routes::see_other;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::evidence::{Completeness, RequirementState, Window};
use wenming_domain::framework::EvidenceType;
use wenming_domain::org::Unit;
use wenming_domain::policy::{Action, may};
use wenming_store::evidence::{
    self as ev, CompletenessRow, Decision, FilingDate, Material, MaterialInput, Requirement,
    RequirementFilter, Submission,
};
use wenming_store::{StoreError, framework, org};

#[derive(Deserialize, Default)]
pub struct IndexQuery {
    /// A standard: its requirements listed.
    #[serde(default)]
    standard: String,
    /// missing, returned, submitted, met, or "overdue".
    #[serde(default)]
    state: String,
    #[serde(default)]
    unit: String,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "evidence/index.html")]
struct IndexPage {
    p: PageCtx,
    framework_id: Uuid,
    framework_name: String,
    window: Window,
    filing: FilingDate,
    total: Completeness,
    /// The tree, for those who see every unit.
    nodes: Vec<CompletenessRow>,
    units: Vec<(Option<Uuid>, String, Completeness)>,
    /// The requirements listed (a unit's own, or a standard's, or a state's).
    list: Vec<Requirement>,
    listing: bool,
    query_state: String,
    may_review: bool,
    waiting: i64,
    /// Sees every unit (the office, leaders): the tree and the units.
    whole: bool,
}

impl IndexPage {
    fn pct(&self, c: &Completeness) -> String {
        c.share()
            .map(|s| format!("{:.0}%", s * 100.0))
            .unwrap_or_else(|| "—".into())
    }
    fn bar(&self, c: &Completeness) -> i64 {
        c.share().map_or(0, |s| (s * 100.0).round() as i64)
    }
}

pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<IndexQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let fw = framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = crate::service::today(&state);
    let report = ev::completeness(&state.store, &scope, fw.id, today).await?;
    let window = ev::window(&state.store, fw.id, today).await?;
    let whole = scope.is_everything();
    let (state_filter, overdue_only) = match q.state.as_str() {
        "overdue" => (None, true),
        s => (RequirementState::parse(s), false),
    };
    let f = RequirementFilter {
        standard_id: Uuid::parse_str(&q.standard).ok(),
        unit_id: Uuid::parse_str(&q.unit).ok(),
        state: state_filter,
        overdue_only,
    };
    // A unit's page is its list; the office's starts from the tree and
    // lists what it drills down to.
    let listing = !whole || f.standard_id.is_some() || f.unit_id.is_some() || !q.state.is_empty();
    let list = if listing {
        ev::requirements(&state.store, &scope, fw.id, &f, today).await?
    } else {
        vec![]
    };
    let may_review = auth.may(Action::ReviewEvidence);
    let waiting = if may_review {
        ev::waiting_count(&state.store).await?
    } else {
        0
    };
    let page = IndexPage {
        p: PageCtx::new(&auth, &state).with_flash(q.done.as_deref()),
        framework_id: fw.id,
        framework_name: fw.name,
        filing: ev::filing_date(&state.store, fw.id).await?,
        window,
        total: report.total,
        nodes: if whole { report.nodes } else { vec![] },
        units: if whole { report.units } else { vec![] },
        list,
        listing,
        query_state: q.state,
        may_review,
        waiting,
        whole,
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "evidence/requirement.html")]
struct RequirementPage {
    p: PageCtx,
    q: Requirement,
    window: Window,
    submissions: Vec<Submission>,
    /// Other requirements of the same unit the upload may also prove.
    siblings: Vec<Requirement>,
    /// The unit's materials already filed, to link instead of uploading.
    materials: Vec<Material>,
    may_submit: bool,
    may_review: bool,
    units: Vec<Unit>,
    types: Vec<&'static str>,
    source_kinds: [&'static str; 5],
    round_kinds: Vec<&'static str>,
    form: UploadForm,
    errors: FieldErrors,
    conflict: bool,
    /// The same file was filed before and was linked: say so.
    linked_earlier: Option<String>,
}

/// What a photo check found, in words.
fn flag_words(lang: crate::i18n::Lang, f: &wenming_domain::evidence::PhotoFlag) -> String {
    use wenming_domain::evidence::PhotoFlag;
    let key = format!("evidence.photo_flag.{}", f.code());
    let t = crate::i18n::t(lang, &key);
    match f {
        PhotoFlag::CasePhoto {
            number, same_file, ..
        } => crate::i18n::fill(
            t,
            &[
                ("number", number),
                (
                    "how",
                    crate::i18n::t(
                        lang,
                        if *same_file {
                            "evidence.photo_flag.same_file"
                        } else {
                            "evidence.photo_flag.near_identical"
                        },
                    ),
                ),
            ],
        ),
        PhotoFlag::OtherUnit { unit } => crate::i18n::fill(t, &[("unit", unit)]),
        PhotoFlag::TakenOutsideWindow { taken_on } => {
            crate::i18n::fill(t, &[("date", &taken_on.to_string())])
        }
    }
}

impl ReviewPage {
    fn flag_text(&self, f: &wenming_domain::evidence::PhotoFlag) -> String {
        flag_words(self.p.lang, f)
    }
}

impl RequirementPage {
    fn flag_text(&self, f: &wenming_domain::evidence::PhotoFlag) -> String {
        flag_words(self.p.lang, f)
    }
    fn in_window(&self, m: &Material) -> bool {
        self.window.contains(m.doc_date)
    }
    /// The first characters of the data's hash a generated material carries.
    fn short_hash(&self, g: &serde_json::Value) -> String {
        g["data_sha256"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(12)
            .collect()
    }
    fn source_categories(&self) -> String {
        self.q
            .source
            .as_ref()
            .map(|s| s.categories().join("、"))
            .unwrap_or_default()
    }
    fn source_round_kind(&self) -> &'static str {
        match &self.q.source {
            Some(wenming_domain::evidence::Source::RoundReports { kinds }) if kinds.len() == 1 => {
                kinds[0].code()
            }
            _ => "",
        }
    }
    fn source_whole(&self) -> bool {
        matches!(
            &self.q.source,
            Some(wenming_domain::evidence::Source::TaskTable {
                whole_framework: true
            })
        )
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct UploadForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    evidence_type: String,
    #[serde(default)]
    doc_date: String,
    #[serde(default)]
    doc_number: String,
    #[serde(default)]
    file_name: String,
    /// Further requirements (ids) it proves.
    #[serde(default)]
    also: Vec<String>,
}

impl UploadForm {
    fn also_has(&self, id: &Uuid) -> bool {
        self.also.iter().any(|a| a == &id.to_string())
    }
}

#[allow(clippy::too_many_arguments)]
/// What a requirement's page says besides the requirement: a flash, the
/// upload form as sent, its errors, a conflict, an earlier filing linked.
#[derive(Default)]
struct Said<'a> {
    done: Option<&'a str>,
    form: Option<UploadForm>,
    errors: FieldErrors,
    conflict: bool,
    linked_earlier: Option<String>,
}

impl Said<'_> {
    fn errors(errors: FieldErrors) -> Self {
        Said {
            errors,
            ..Default::default()
        }
    }
    fn conflict() -> Self {
        Said {
            conflict: true,
            ..Default::default()
        }
    }
}

async fn requirement_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    said: Said<'_>,
) -> AppResult<Response> {
    let Said {
        done,
        form,
        errors,
        conflict,
        linked_earlier,
    } = said;
    let scope = auth.scope(Action::ViewEvidence)?;
    let today = crate::service::today(state);
    let q = ev::requirement(&state.store, &scope, id, today).await?;
    let window = ev::window(&state.store, q.framework_id, today).await?;
    let submissions = ev::submissions(&state.store, &q).await?;
    let may_submit = auth.may(Action::SubmitEvidence) && q.unit_id.is_some();
    let (siblings, materials) = match (may_submit, q.unit_id) {
        (true, Some(u)) => {
            let f = RequirementFilter {
                unit_id: Some(u),
                ..Default::default()
            };
            let mut sib = ev::requirements(&state.store, &scope, q.framework_id, &f, today).await?;
            sib.retain(|s| s.id != q.id && s.state != RequirementState::Met);
            (sib, ev::unit_materials(&state.store, u).await?)
        }
        _ => (vec![], vec![]),
    };
    let may_review = auth.may(Action::ReviewEvidence);
    let status = crate::page::form_status(&errors, conflict);
    let form = form.unwrap_or_else(|| UploadForm {
        evidence_type: q.evidence_type.code().into(),
        ..Default::default()
    });
    let page = RequirementPage {
        p: PageCtx::new(auth, state).with_flash(done),
        units: if may_review {
            let city = org::whole_city(&state.store).await?;
            org::all_units(&state.store, &city, true).await?
        } else {
            vec![]
        },
        types: EvidenceType::ALL.iter().map(|t| t.code()).collect(),
        source_kinds: wenming_domain::evidence::Source::KINDS,
        round_kinds: wenming_domain::inspection::RoundKind::ALL
            .iter()
            .map(|k| k.code())
            .collect(),
        window,
        submissions,
        siblings,
        materials,
        may_submit,
        may_review,
        form,
        errors,
        conflict,
        linked_earlier,
        q,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn requirement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<crate::routes::Done>,
) -> AppResult<Response> {
    let said = Said {
        done: d.done.as_deref(),
        ..Default::default()
    };
    requirement_page(&state, &auth, id, said).await
}

/// Files a material for this requirement (and any others of its unit
/// ticked); a form with a mistake comes back with what was typed.
pub async fn upload(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfUpload<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::SubmitEvidence>()?;
    let get = |k: &str| {
        f.form
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let form = UploadForm {
        title: get("title"),
        evidence_type: get("evidence_type"),
        doc_date: get("doc_date"),
        doc_number: get("doc_number"),
        file_name: get("file_name"),
        also: f
            .form
            .iter()
            .filter(|(k, _)| k == "also")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let mut errors = FieldErrors::new();
    let evidence_type = EvidenceType::parse(&form.evidence_type);
    if evidence_type.is_none() {
        errors.add("evidence_type", "invalid_choice");
    }
    let doc_date = form.doc_date.parse::<jiff::civil::Date>().ok();
    if doc_date.is_none() {
        errors.add(
            "doc_date",
            if form.doc_date.is_empty() {
                "required"
            } else {
                "invalid_date"
            },
        );
    }
    match (&f.file, f.file_error) {
        (_, Some(code)) => errors.add("file", code),
        (None, None) => errors.add("file", "required"),
        _ => {}
    }
    let mut ids = vec![id];
    ids.extend(form.also.iter().filter_map(|a| Uuid::parse_str(a).ok()));
    let result = match (evidence_type, &f.file) {
        (Some(t), Some(bytes)) if errors.is_empty() => {
            let file_name = if form.file_name.is_empty() {
                form.title.clone()
            } else {
                form.file_name.clone()
            };
            ev::file_material(
                &state.store,
                &state.config.files,
                &auth.ctx(),
                &permit,
                &MaterialInput {
                    evidence_type: t,
                    title: form.title.clone(),
                    doc_date,
                    doc_number: Some(form.doc_number.clone()),
                    file_name,
                    requirement_ids: ids,
                    generated_from: None,
                },
                bytes.clone(),
            )
            .await
        }
        _ => Err(StoreError::Invalid(errors)),
    };
    match result {
        Ok(filed) if filed.already_filed => {
            let note = crate::i18n::fill(
                crate::i18n::t(auth.lang, "evidence.already_filed"),
                &[
                    ("title", &filed.material.title),
                    ("date", &filed.material.doc_date.to_string()),
                ],
            );
            let said = Said {
                linked_earlier: Some(note),
                ..Default::default()
            };
            requirement_page(&state, &auth, id, said).await
        }
        Ok(_) => Ok(see_other(
            &format!("/evidence/requirements/{id}"),
            "material_filed",
        )),
        Err(StoreError::Invalid(e)) => {
            requirement_page(
                &state,
                &auth,
                id,
                Said {
                    form: Some(form),
                    ..Said::errors(e)
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    material: String,
}

/// Offers a material the unit filed before for this requirement too.
pub async fn link(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::SubmitEvidence>()?;
    let material = Uuid::parse_str(&f.form.material)
        .map_err(|_| AppError::Invalid(FieldErrors::single("material", "invalid_choice")))?;
    ev::link_material(&state.store, &auth.ctx(), &permit, material, id).await?;
    Ok(see_other(
        &format!("/evidence/requirements/{id}"),
        "material_filed",
    ))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    evidence_type: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    needed: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    due_on: String,
    #[serde(default)]
    source_kind: String,
    #[serde(default)]
    source_categories: String,
    #[serde(default)]
    source_round_kind: String,
    #[serde(default)]
    source_whole: Option<String>,
    #[serde(default)]
    version: i64,
}

/// The office changes what a requirement asks for, who provides it and by
/// when.
pub async fn edit(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<EditForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ReviewEvidence>()?;
    let needed = f.form.needed.trim().parse::<i64>().unwrap_or(0);
    let result = match crate::service::evidence::parse_edit(
        &f.form.evidence_type,
        &f.form.title,
        needed,
        Uuid::parse_str(&f.form.unit).ok(),
        Some(&f.form.due_on),
        crate::service::evidence::source_from_form(
            &f.form.source_kind,
            &f.form.source_categories,
            &f.form.source_round_kind,
            f.form.source_whole.is_some(),
        ),
    ) {
        Ok(e) => {
            ev::update_requirement(&state.store, &auth.ctx(), &permit, id, f.form.version, &e).await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/evidence/requirements/{id}"), "saved")),
        Err(StoreError::Invalid(e)) => requirement_page(&state, &auth, id, Said::errors(e)).await,
        Err(StoreError::Conflict) => requirement_page(&state, &auth, id, Said::conflict()).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    version: i64,
    /// Where to come back to: the requirement's page or the queue.
    #[serde(default)]
    back: String,
}

/// Accepts or returns a submission.
pub async fn decide(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<DecideForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ReviewEvidence>()?;
    let s = ev::submission(&state.store, permit.scope(), id).await?;
    let d = match f.form.decision.as_str() {
        "accept" => Decision::Accept,
        "return" => Decision::Return {
            reason: f.form.reason.clone(),
        },
        _ => {
            return Err(AppError::Invalid(FieldErrors::single(
                "decision",
                "invalid_choice",
            )));
        }
    };
    let back = if f.form.back == "queue" {
        "/evidence/review".to_string()
    } else {
        format!("/evidence/requirements/{}", s.requirement_id)
    };
    match ev::decide(&state.store, &auth.ctx(), &permit, id, f.form.version, &d).await {
        Ok(()) => Ok(see_other(&back, "decided")),
        Err(StoreError::Invalid(e)) => {
            requirement_page(&state, &auth, s.requirement_id, Said::errors(e)).await
        }
        Err(StoreError::Conflict) => {
            requirement_page(&state, &auth, s.requirement_id, Said::conflict()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "evidence/review.html")]
struct ReviewPage {
    p: PageCtx,
    waiting: Vec<Submission>,
    window: Window,
}

/// The office's queue: submissions waiting for a decision, oldest first.
pub async fn review(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<crate::routes::Done>,
) -> AppResult<Response> {
    auth.permit::<may::ReviewEvidence>()?;
    let fw = framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = crate::service::today(&state);
    let page = ReviewPage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        waiting: ev::waiting(&state.store, 200).await?,
        window: ev::window(&state.store, fw.id, today).await?,
    };
    Ok(render(&page))
}

#[derive(Deserialize)]
pub struct FilingForm {
    #[serde(default)]
    framework: String,
    #[serde(default)]
    evaluation_on: String,
    #[serde(default)]
    window_months: String,
}

/// Sets the evaluation date whose window materials are judged by.
pub async fn filing(State(state): State<AppState>, f: CsrfForm<FilingForm>) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ReviewEvidence>()?;
    let framework = Uuid::parse_str(&f.form.framework)
        .map_err(|_| AppError::Invalid(FieldErrors::single("framework", "required")))?;
    let on = f.form.evaluation_on.trim();
    let evaluation_on =
        if on.is_empty() {
            None
        } else {
            Some(on.parse().map_err(|_| {
                AppError::Invalid(FieldErrors::single("evaluation_on", "invalid_date"))
            })?)
        };
    let months = f.form.window_months.trim().parse().unwrap_or(0);
    ev::set_filing_date(
        &state.store,
        &auth.ctx(),
        &permit,
        framework,
        &FilingDate {
            evaluation_on,
            window_months: months,
        },
    )
    .await?;
    Ok(see_other("/evidence", "saved"))
}

/// A material's file.
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    crate::service::evidence::download(&state, &auth, id).await
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub unit: String,
    /// The evidence type.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub state: String,
}

#[derive(Template)]
#[template(path = "evidence/materials.html")]
struct SearchPage {
    p: PageCtx,
    query: SearchQuery,
    found: Vec<Material>,
    window: Window,
    units: Vec<Unit>,
    types: Vec<&'static str>,
}

impl SearchPage {
    fn in_window(&self, m: &Material) -> bool {
        self.window.contains(m.doc_date)
    }
}

/// Finds materials by words of their title or document number, by unit,
/// type, date and state.
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewEvidence)?;
    let f = crate::service::evidence::material_filter(
        &q.q, &q.unit, &q.kind, &q.from, &q.until, &q.state,
    );
    let found = ev::search_materials(&state.store, &scope, &f).await?;
    let fw = framework::active(&state.store)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = crate::service::today(&state);
    let page = SearchPage {
        p: PageCtx::new(&auth, &state),
        window: ev::window(&state.store, fw.id, today).await?,
        units: if scope.is_everything() {
            let city = org::whole_city(&state.store).await?;
            org::all_units(&state.store, &city, true).await?
        } else {
            vec![]
        },
        types: EvidenceType::ALL.iter().map(|t| t.code()).collect(),
        found,
        query: q,
    };
    Ok(render(&page))
}

/// Builds the requirement's material from its source (the office's).
pub async fn generate(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<crate::routes::account::Nothing>,
) -> AppResult<Response> {
    let auth = f.auth;
    match crate::service::sources::generate(&state, &auth, id).await {
        Ok(_) => Ok(see_other(
            &format!("/evidence/requirements/{id}"),
            "generated",
        )),
        Err(AppError::Invalid(e)) => requirement_page(&state, &auth, id, Said::errors(e)).await,
        Err(e) => Err(e),
    }
}
