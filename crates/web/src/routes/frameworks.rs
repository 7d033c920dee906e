//! The evaluation framework: versions, the tree with filters, editing a
//! standard, import with a preview, export, clone, compare.

use super::{Done, see_other};
use crate::AppState;
use crate::auth::{Auth, Can, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::{
    Diff, EvidenceType, FrameworkDoc, FrameworkStatus, Method, NodeKind, Points, Problem,
    parse_list,
};
use wenming_domain::org::Unit;
use wenming_domain::policy::{Action, Resource, may};
use wenming_store::framework::{
    self, FrameworkSummary, ImportPlan, Node, NodeFilter, StandardEdit,
};
use wenming_store::{StoreError, org};

pub struct Choice {
    pub value: String,
    pub label: String,
}

fn method_choices(lang: crate::i18n::Lang) -> Vec<Choice> {
    Method::ALL
        .iter()
        .map(|m| Choice {
            value: m.code().into(),
            label: crate::i18n::t(lang, &format!("method.{}", m.code())).into(),
        })
        .collect()
}

async fn all_units(state: &AppState) -> AppResult<Vec<Unit>> {
    let city = org::whole_city(&state.store).await?;
    Ok(org::all_units(&state.store, &city, true).await?)
}

// ------------------------------------------------------------ list and import

#[derive(Template)]
#[template(path = "frameworks/list.html")]
struct ListPage {
    p: PageCtx,
    frameworks: Vec<FrameworkSummary>,
    can_manage: bool,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewFramework)?;
    let page = ListPage {
        frameworks: framework::list(&state.store).await?,
        can_manage: auth.may(Action::ManageFramework),
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
    };
    Ok(render(&page))
}

fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}.xlsx\"",
        crate::page::urlencode(name)
    );
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

pub async fn template(auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ViewFramework)?;
    let bytes = wenming_reports::framework_xlsx::template().map_err(|_| AppError::Internal)?;
    Ok(xlsx("framework-template", bytes))
}

pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, format)): ApiPath<(Uuid, String)>,
) -> AppResult<Response> {
    auth.scope(Action::ViewFramework)?;
    let doc = framework::export(&state.store, id).await?;
    match format.as_str() {
        "export.xlsx" => Ok(xlsx(
            &format!("framework-{}", doc.year),
            wenming_reports::framework_xlsx::write(&doc).map_err(|_| AppError::Internal)?,
        )),
        "export.json" => {
            let body = serde_json::to_vec_pretty(&doc).map_err(|_| AppError::Internal)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"framework-{}.json\"", doc.year),
                    ),
                ],
                body,
            )
                .into_response())
        }
        _ => Err(AppError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "frameworks/preview.html")]
struct PreviewPage {
    p: PageCtx,
    upload_id: Option<Uuid>,
    plan: Option<ImportPlan>,
    problems: Vec<String>,
    create_units: bool,
}

fn problem_lines(auth: &Auth, problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| crate::describe_problem(auth.lang, p))
        .collect()
}

/// Reads the upload, checks it, keeps it, and shows what importing it would
/// change. Nothing is imported until the user confirms.
pub async fn upload(
    State(state): State<AppState>,
    // Before the body: a caller who may not import hears 403, not
    // what was wrong with the upload.
    Can { auth, .. }: Can<may::ManageFramework>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let (mut csrf, mut name, mut year, mut create_units, mut file) = (
        String::new(),
        String::new(),
        String::new(),
        false,
        Vec::new(),
    );
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::Invalid(FieldErrors::single("file", "malformed")))?
    {
        let fname = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| AppError::Invalid(FieldErrors::single("file", "file_too_large")))?;
        match fname.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "name" => name = String::from_utf8_lossy(&bytes).trim().to_string(),
            "year" => year = String::from_utf8_lossy(&bytes).trim().to_string(),
            "create_units" => create_units = true,
            "file" => file = bytes.to_vec(),
            _ => {}
        }
    }
    auth.check_csrf(&csrf)?;
    let p = PageCtx::new(&auth, &state);
    let year = year
        .parse()
        .unwrap_or_else(|_| jiff::ZonedDateTime::now().year() as i32);
    let mut page = PreviewPage {
        p,
        upload_id: None,
        plan: None,
        problems: vec![],
        create_units,
    };
    if file.is_empty() {
        page.problems = vec![crate::i18n::t(auth.lang, "framework.no_file").to_string()];
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let limits = wenming_reports::workbook::Limits::default();
    // Parsing is CPU work on untrusted input: keep it off the async threads.
    let parsed = tokio::task::spawn_blocking(move || {
        wenming_reports::framework_xlsx::read_upload(&file, &name, year, &limits)
    })
    .await
    .map_err(|_| AppError::Internal)?;
    let doc = match parsed {
        Ok(d) => d,
        Err(problems) => {
            page.problems = problem_lines(&auth, &problems);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
    };
    match framework::plan(&state.store, &doc).await {
        Ok(plan) => {
            page.upload_id = Some(framework::save_upload(&state.store, auth.user.id, &doc).await?);
            page.plan = Some(plan);
            Ok(render(&page))
        }
        Err(StoreError::Problems(problems)) => {
            page.problems = problem_lines(&auth, &problems);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CommitForm {
    #[serde(default)]
    create_units: Option<String>,
}

pub async fn commit(
    State(state): State<AppState>,
    ApiPath(upload_id): ApiPath<Uuid>,
    f: CsrfForm<CommitForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageFramework)?;
    let doc: FrameworkDoc = framework::upload(&state.store, auth.user.id, upload_id).await?;
    match framework::import(
        &state.store,
        &auth.ctx(),
        &auth.permit()?,
        &doc,
        f.form.create_units.is_some(),
    )
    .await
    {
        Ok((id, _)) => {
            framework::discard_upload(&state.store, upload_id).await?;
            Ok(see_other(&format!("/frameworks/{id}"), "imported"))
        }
        Err(StoreError::Problems(problems)) => {
            let plan = framework::plan(&state.store, &doc).await.ok();
            let page = PreviewPage {
                p: PageCtx::new(&auth, &state),
                upload_id: Some(upload_id),
                plan,
                problems: problem_lines(&auth, &problems),
                create_units: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------ one framework

pub struct TreeRow {
    pub node: Node,
    pub methods: String,
    /// Groups (`<details>`) to close before this row.
    pub close: Vec<()>,
}

#[derive(Template)]
#[template(path = "frameworks/show.html")]
struct ShowPage {
    p: PageCtx,
    f: FrameworkSummary,
    rows: Vec<TreeRow>,
    close_at_end: Vec<()>,
    matched: usize,
    filtered: bool,
    query: TreeQuery,
    methods: Vec<Choice>,
    units: Vec<Unit>,
    site_types: Vec<String>,
    others: Vec<FrameworkSummary>,
    can_manage: bool,
    statuses: Vec<Choice>,
}

#[derive(Deserialize, Default, Clone)]
pub struct TreeQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub site_type: String,
    pub done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<TreeQuery>,
) -> AppResult<Response> {
    auth.scope(Action::ViewFramework)?;
    let f = framework::get(&state.store, id).await?;
    let filter = NodeFilter {
        q: Some(q.q.trim().to_string()).filter(|s| !s.is_empty()),
        method: Method::parse(&q.method),
        unit_id: Uuid::parse_str(&q.unit).ok(),
        site_type: Some(q.site_type.clone()).filter(|s| !s.is_empty()),
    };
    let filtered = !filter.is_empty();
    // Site types for the filter come from the whole tree, not the filtered one.
    let nodes = framework::nodes(&state.store, id).await?;
    let mut site_types: Vec<String> = nodes
        .iter()
        .filter_map(|n| n.standard.as_ref())
        .flat_map(|s| s.site_types.clone())
        .collect();
    site_types.sort();
    site_types.dedup();
    // Groups nest as <details>; a row closes every open group at or below its depth.
    let mut open_depths: Vec<i64> = vec![];
    let mut rows: Vec<TreeRow> = vec![];
    for n in framework::filtered_nodes(&state.store, id, &filter).await? {
        let mut close = vec![];
        while open_depths.last().is_some_and(|d| *d >= n.depth) {
            open_depths.pop();
            close.push(());
        }
        if n.kind != NodeKind::Standard {
            open_depths.push(n.depth);
        }
        let methods = n.standard.as_ref().map(|s| {
            s.methods
                .iter()
                .map(|m| crate::i18n::t(auth.lang, &format!("method.{}", m.code())))
                .collect::<Vec<_>>()
                .join(crate::i18n::t(auth.lang, "common.list_sep"))
        });
        rows.push(TreeRow {
            methods: methods.unwrap_or_default(),
            close,
            node: n,
        });
    }
    let close_at_end: Vec<()> = open_depths.iter().map(|_| ()).collect();
    let matched = rows
        .iter()
        .filter(|r| r.node.kind == NodeKind::Standard)
        .count();
    let others = framework::list(&state.store)
        .await?
        .into_iter()
        .filter(|o| o.id != id)
        .collect();
    let page = ShowPage {
        p: PageCtx::new(&auth, &state).with_flash(q.done.as_deref()),
        f,
        rows,
        matched,
        close_at_end,
        filtered,
        methods: method_choices(auth.lang),
        units: all_units(&state).await?,
        site_types,
        others,
        can_manage: auth.may(Action::ManageFramework),
        statuses: FrameworkStatus::ALL
            .iter()
            .map(|s| Choice {
                value: s.code().into(),
                label: crate::i18n::t(auth.lang, &format!("framework_status.{}", s.code())).into(),
            })
            .collect(),
        query: q,
    };
    Ok(render(&page))
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    version: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<StatusForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let status = FrameworkStatus::parse(&f.form.status)
        .ok_or_else(|| AppError::Invalid(FieldErrors::single("status", "invalid_choice")))?;
    let version = f.form.version.parse().unwrap_or(-1);
    framework::set_status(
        &state.store,
        &auth.ctx(),
        &auth.permit()?,
        id,
        version,
        status,
    )
    .await?;
    Ok(see_other(&format!("/frameworks/{id}"), "saved"))
}

#[derive(Deserialize)]
pub struct CloneForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    year: String,
}

pub async fn clone(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<CloneForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let year: i32 = f
        .form
        .year
        .trim()
        .parse()
        .map_err(|_| AppError::Invalid(FieldErrors::single("year", "invalid_year")))?;
    match framework::clone(
        &state.store,
        &auth.ctx(),
        &auth.permit()?,
        id,
        &f.form.name,
        year,
    )
    .await
    {
        Ok(new) => Ok(see_other(&format!("/frameworks/{new}"), "cloned")),
        Err(StoreError::Problems(p)) if p.iter().any(|x| x.code == "framework_exists") => {
            Err(AppError::Invalid(FieldErrors::single("name", "duplicate")))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "frameworks/compare.html")]
struct ComparePage {
    p: PageCtx,
    old: FrameworkSummary,
    new: FrameworkSummary,
    diff: Diff,
    /// Code → title in whichever version has it.
    titles: std::collections::HashMap<String, String>,
}

impl ComparePage {
    fn title(&self, code: &str) -> String {
        self.titles.get(code).cloned().unwrap_or_default()
    }
    fn field(&self, f: &str) -> &'static str {
        self.p.t(&format!("framework.field_{f}"))
    }
}

#[derive(Deserialize)]
pub struct CompareQuery {
    with: Uuid,
}

pub async fn compare(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> AppResult<Response> {
    auth.scope(Action::ViewFramework)?;
    let (old, new) = (
        framework::get(&state.store, q.with).await?,
        framework::get(&state.store, id).await?,
    );
    let (a, b) = (
        framework::export(&state.store, q.with).await?,
        framework::export(&state.store, id).await?,
    );
    let diff = wenming_domain::framework::diff(&a, &b);
    let mut titles = std::collections::HashMap::new();
    for doc in [&a, &b] {
        fn walk(
            nodes: &[wenming_domain::framework::NodeDoc],
            out: &mut std::collections::HashMap<String, String>,
        ) {
            for n in nodes {
                out.insert(n.code.clone().unwrap_or_default(), n.title.clone());
                walk(&n.children, out);
            }
        }
        walk(&doc.tree, &mut titles);
    }
    Ok(render(&ComparePage {
        p: PageCtx::new(&auth, &state),
        old,
        new,
        diff,
        titles,
    }))
}

// ------------------------------------------------------------ editing a standard

#[derive(Template)]
#[template(path = "frameworks/standard.html")]
struct StandardPage {
    p: PageCtx,
    f: FrameworkSummary,
    node: Node,
    form: StandardFormValues,
    errors: FieldErrors,
    conflict: bool,
    methods: Vec<Choice>,
    evidence: Vec<Choice>,
    units: Vec<Unit>,
}

#[derive(Default)]
pub struct StandardFormValues {
    pub title: String,
    pub points: String,
    pub featured: bool,
    pub methods: Vec<String>,
    pub evidence: Vec<String>,
    pub site_types: String,
    pub lead: String,
    pub coop: Vec<String>,
    pub version: i64,
}

impl StandardFormValues {
    fn of(n: &Node) -> Self {
        let s = n.standard.clone();
        StandardFormValues {
            title: n.title.clone(),
            points: s.as_ref().map(|s| s.points.to_string()).unwrap_or_default(),
            featured: s.as_ref().is_some_and(|s| s.featured),
            methods: s
                .as_ref()
                .map(|s| s.methods.iter().map(|m| m.code().to_string()).collect())
                .unwrap_or_default(),
            evidence: s
                .as_ref()
                .map(|s| {
                    s.evidence_types
                        .iter()
                        .map(|e| e.code().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            site_types: s
                .as_ref()
                .map(|s| s.site_types.join("、"))
                .unwrap_or_default(),
            lead: s
                .as_ref()
                .and_then(|s| s.lead.as_ref())
                .map(|u| u.id.to_string())
                .unwrap_or_default(),
            coop: s
                .as_ref()
                .map(|s| s.cooperating.iter().map(|u| u.id.to_string()).collect())
                .unwrap_or_default(),
            version: n.version,
        }
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let many = |k: &str| {
            pairs
                .iter()
                .filter(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        StandardFormValues {
            title: one("title"),
            points: one("points"),
            featured: !one("featured").is_empty(),
            methods: many("method"),
            evidence: many("evidence"),
            site_types: one("site_types"),
            lead: one("lead"),
            coop: many("coop").into_iter().filter(|c| !c.is_empty()).collect(),
            version: one("version").parse().unwrap_or(-1),
        }
    }

    fn parse(&self) -> Result<StandardEdit, FieldErrors> {
        let mut e = FieldErrors::new();
        let title = wenming_domain::validation::text(&mut e, "title", &self.title, true, 2000)
            .unwrap_or_default();
        let points = Points::parse(&self.points).unwrap_or_else(|| {
            e.add("points", "invalid_points");
            Points(0)
        });
        let methods: Vec<Method> = self
            .methods
            .iter()
            .filter_map(|m| Method::parse(m))
            .collect();
        if methods.is_empty() {
            e.add("methods", "required");
        }
        let lead_unit = wenming_domain::org::parse_optional_id(&mut e, "lead", &self.lead);
        let cooperating_units = self
            .coop
            .iter()
            .filter_map(|c| Uuid::parse_str(c).ok())
            .collect();
        let site_types = parse_list(&self.site_types, |x| Some(x.to_string())).unwrap_or_default();
        e.into_result(StandardEdit {
            title,
            points,
            methods,
            featured: self.featured,
            site_types,
            evidence_types: self
                .evidence
                .iter()
                .filter_map(|x| EvidenceType::parse(x))
                .collect(),
            lead_unit,
            cooperating_units,
        })
    }

    pub fn has_method(&self, code: &str) -> bool {
        self.methods.iter().any(|m| m == code)
    }
    pub fn has_evidence(&self, code: &str) -> bool {
        self.evidence.iter().any(|m| m == code)
    }
    pub fn has_coop(&self, id: &Uuid) -> bool {
        self.coop.iter().any(|c| *c == id.to_string())
    }
}

async fn standard_page(
    state: &AppState,
    auth: &Auth,
    node: Node,
    form: StandardFormValues,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let status = form_status(&errors, conflict);
    let page = StandardPage {
        p: PageCtx::new(auth, state),
        f: framework::get(&state.store, node.framework_id).await?,
        node,
        form,
        errors,
        conflict,
        methods: method_choices(auth.lang),
        evidence: EvidenceType::ALL
            .iter()
            .map(|e| Choice {
                value: e.code().into(),
                label: crate::i18n::t(auth.lang, &format!("evidence_type.{}", e.code())).into(),
            })
            .collect(),
        units: all_units(state).await?,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn edit_standard(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let node = framework::node(&state.store, id).await?;
    if node.kind != NodeKind::Standard {
        return Err(AppError::NotFound);
    }
    let form = StandardFormValues::of(&node);
    standard_page(&state, &auth, node, form, FieldErrors::new(), false).await
}

pub async fn update_standard(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let node = framework::node(&state.store, id).await?;
    let form = StandardFormValues::from_pairs(&f.form);
    let result = match form.parse() {
        Ok(edit) => {
            framework::update_standard(
                &state.store,
                &auth.ctx(),
                &auth.permit()?,
                id,
                form.version,
                edit,
            )
            .await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(n) => Ok(see_other(
            &format!(
                "/frameworks/{}?q={}",
                n.framework_id,
                crate::page::urlencode(&n.code)
            ),
            "saved",
        )),
        Err(StoreError::Invalid(e)) => standard_page(&state, &auth, node, form, e, false).await,
        Err(StoreError::Conflict) => {
            standard_page(&state, &auth, node, form, FieldErrors::new(), true).await
        }
        Err(e) => Err(e.into()),
    }
}
