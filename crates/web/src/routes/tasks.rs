//! Task decomposition: assign standards to units (one by one or in bulk),
//! each unit's task list with overdue flags, progress reports, coverage, and
//! the 任务分解表 export.

use super::see_other;
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render, urlencode};
use askama::Template;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::framework::Method;
use wenming_domain::org::{Person, Unit};
use wenming_domain::policy::{Action, Resource, Scope, may};
use wenming_domain::task::{TaskState, parse_date, parse_percent, parse_target};
use wenming_store::framework::{self, FrameworkSummary};
use wenming_store::task::{self, BulkOutcome, Task, TaskFilter, TaskInput, Uncovered};
use wenming_store::{StoreError, org};

pub struct TaskRow {
    pub task: Task,
    pub state: TaskState,
}

async fn city_units(state: &AppState) -> AppResult<Vec<Unit>> {
    let city = org::whole_city(&state.store).await?;
    Ok(org::all_units(&state.store, &city, true).await?)
}

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    pub framework: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub overdue: String,
    #[serde(default)]
    pub aspect: String,
    #[serde(default)]
    pub q: String,
    pub done: Option<String>,
}

impl ListQuery {
    fn query_string(&self) -> String {
        format!(
            "framework={}&unit={}&overdue={}&aspect={}&q={}",
            urlencode(&self.framework),
            urlencode(&self.unit),
            urlencode(&self.overdue),
            urlencode(&self.aspect),
            urlencode(&self.q)
        )
    }
}

/// The filters of a list, resolved: the framework defaults to the active one.
async fn resolve(
    state: &AppState,
    q: &ListQuery,
) -> AppResult<(Option<FrameworkSummary>, TaskFilter)> {
    let framework = match Uuid::parse_str(&q.framework) {
        Ok(id) => Some(framework::get(&state.store, id).await?),
        Err(_) => framework::active(&state.store).await?,
    };
    let filter = TaskFilter {
        framework_id: framework.as_ref().map(|f| f.id),
        unit_id: Uuid::parse_str(&q.unit).ok(),
        overdue_on: (q.overdue == "1").then(|| crate::service::today(state)),
        q: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
        under_code: Some(q.aspect.clone()).filter(|s| !s.is_empty()),
        standard_id: None,
    };
    Ok((framework, filter))
}

#[derive(Template)]
#[template(path = "tasks/list.html")]
struct ListPage {
    p: PageCtx,
    rows: Vec<TaskRow>,
    total: i64,
    framework: Option<FrameworkSummary>,
    frameworks: Vec<FrameworkSummary>,
    aspects: Vec<(String, String)>,
    units: Vec<Unit>,
    query: ListQuery,
    query_string: String,
    overdue: usize,
    uncovered: usize,
    can_manage: bool,
    unit_view: bool,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewTasks)?;
    let (framework, filter) = resolve(&state, &q).await?;
    let day = crate::service::today(&state);
    let tasks = match &framework {
        Some(_) => task::list(&state.store, &scope, &filter).await?,
        None => vec![],
    };
    let rows: Vec<TaskRow> = tasks
        .into_iter()
        .map(|t| TaskRow {
            state: t.state(day),
            task: t,
        })
        .collect();
    let overdue = rows
        .iter()
        .filter(|r| r.state == TaskState::Overdue)
        .count();
    let can_manage = auth.may(Action::ManageTasks);
    let uncovered = match (&framework, can_manage) {
        (Some(f), true) => task::coverage(&state.store, f.id).await?.len(),
        _ => 0,
    };
    let aspects = match &framework {
        Some(f) => framework::nodes(&state.store, f.id)
            .await?
            .into_iter()
            .filter(|n| n.depth == 1)
            .map(|n| (n.code, n.title))
            .collect(),
        None => vec![],
    };
    let page = ListPage {
        p: PageCtx::new(&auth, &state).with_flash(q.done.as_deref()),
        total: rows.len() as i64,
        rows,
        frameworks: framework::list(&state.store).await?,
        framework,
        aspects,
        units: if auth.may(Action::ManageTasks) || auth.may(Action::ViewRegions) {
            city_units(&state).await?
        } else {
            vec![]
        },
        query_string: q.query_string(),
        query: q,
        overdue,
        uncovered,
        can_manage,
        unit_view: auth.actor.primary_role() == Some(wenming_domain::account::Role::UnitStaff),
    };
    Ok(render(&page))
}

pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewTasks)?;
    let (framework, filter) = resolve(&state, &q).await?;
    let framework = framework.ok_or(AppError::NotFound)?;
    let day = crate::service::today(&state);
    let rows: Vec<wenming_reports::tasks_xlsx::Row> = task::list(&state.store, &scope, &filter)
        .await?
        .into_iter()
        .map(|x| crate::service::tasks::table_row(x, auth.lang, day))
        .collect();
    let title = format!("{}任务分解表（{}）", framework.name, day);
    let bytes =
        wenming_reports::tasks_xlsx::write(&title, &rows).map_err(|_| AppError::Internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"tasks.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

// ------------------------------------------------------------ one task

#[derive(Template)]
#[template(path = "tasks/show.html")]
struct ShowPage {
    p: PageCtx,
    t: Task,
    state: TaskState,
    history: Vec<task::ProgressReport>,
    can_report: bool,
    can_manage: bool,
    errors: FieldErrors,
    percent: String,
    note: String,
    conflict: bool,
}

#[allow(clippy::too_many_arguments)]
async fn show_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    done: Option<&str>,
    errors: FieldErrors,
    percent: String,
    note: String,
    conflict: bool,
) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewTasks)?;
    let t = task::get(&state.store, &scope, id).await?;
    let can_report = auth.may(Action::ReportProgress)
        && (auth.may(Action::ManageTasks) || auth.actor.grants.iter().any(|g| matches!(g.reach, wenming_domain::policy::Reach::Unit { id } if id == t.lead_unit.id)));
    let page = ShowPage {
        p: PageCtx::new(auth, state).with_flash(done),
        state: t.state(crate::service::today(state)),
        history: task::history(&state.store, id).await?,
        percent: if percent.is_empty() {
            t.progress.to_string()
        } else {
            percent
        },
        t,
        can_report,
        can_manage: auth.may(Action::ManageTasks),
        note,
        conflict,
        errors: errors.clone(),
    };
    Ok((form_status(&errors, conflict), render(&page)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<super::Done>,
) -> AppResult<Response> {
    show_page(
        &state,
        &auth,
        id,
        d.done.as_deref(),
        FieldErrors::new(),
        String::new(),
        String::new(),
        false,
    )
    .await
}

#[derive(Deserialize)]
pub struct ProgressForm {
    #[serde(default)]
    percent: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    version: String,
}

pub async fn report(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<ProgressForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ReportProgress>()?;
    let mut e = FieldErrors::new();
    let percent = parse_percent(&mut e, "percent", &f.form.percent);
    let note = wenming_domain::validation::text(&mut e, "note", &f.form.note, false, 1000);
    let version = f.form.version.parse().unwrap_or(-1);
    let result = match percent {
        Some(p) if e.is_empty() => {
            task::report_progress(&state.store, &auth.ctx(), &permit, id, version, p, note).await
        }
        _ => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/tasks/{id}"), "progress_saved")),
        Err(StoreError::Invalid(e)) => {
            show_page(
                &state,
                &auth,
                id,
                None,
                e,
                f.form.percent,
                f.form.note,
                false,
            )
            .await
        }
        Err(StoreError::Conflict) => {
            show_page(
                &state,
                &auth,
                id,
                None,
                FieldErrors::new(),
                f.form.percent,
                f.form.note,
                true,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------ assigning

#[derive(Template)]
#[template(path = "tasks/assign.html")]
struct AssignPage {
    p: PageCtx,
    standard: framework::Node,
    existing: Option<Task>,
    units: Vec<Unit>,
    people: Vec<(Unit, Vec<Person>)>,
    form: AssignValues,
    errors: FieldErrors,
    conflict: bool,
}

#[derive(Default)]
pub struct AssignValues {
    pub lead: String,
    pub coop: Vec<String>,
    pub target: String,
    pub deadline: String,
    pub person: String,
    pub version: i64,
}

impl AssignValues {
    pub fn has_coop(&self, id: &Uuid) -> bool {
        self.coop.iter().any(|c| *c == id.to_string())
    }
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        AssignValues {
            lead: one("lead_unit_id"),
            coop: pairs
                .iter()
                .filter(|(k, v)| k == "cooperating_unit_ids" && !v.is_empty())
                .map(|(_, v)| v.clone())
                .collect(),
            target: one("target"),
            deadline: one("deadline"),
            person: one("responsible_person_id"),
            version: one("version").parse().unwrap_or(-1),
        }
    }
    fn parse(&self) -> Result<TaskInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let lead = wenming_domain::org::parse_optional_id(&mut e, "lead_unit_id", &self.lead);
        if lead.is_none() && e.for_field("lead_unit_id").is_none() {
            e.add("lead_unit_id", "required");
        }
        let target = parse_target(&mut e, &self.target);
        let deadline = parse_date(&mut e, "deadline", &self.deadline);
        let person =
            wenming_domain::org::parse_optional_id(&mut e, "responsible_person_id", &self.person);
        match (lead, target, deadline) {
            (Some(lead_unit), Some(target), Some(deadline)) if e.is_empty() => Ok(TaskInput {
                lead_unit,
                cooperating: self
                    .coop
                    .iter()
                    .filter_map(|c| Uuid::parse_str(c).ok())
                    .collect(),
                target,
                deadline,
                responsible_person: person,
            }),
            _ => Err(e),
        }
    }
}

async fn assign_page(
    state: &AppState,
    auth: &Auth,
    standard: framework::Node,
    form: AssignValues,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let units = city_units(state).await?;
    let root = org::root_region(&state.store)
        .await?
        .ok_or(AppError::Internal)?;
    let everything = Scope::everything(&root.path);
    // People of the lead unit and its cooperating units, to name one responsible.
    let mut people = vec![];
    for u in units
        .iter()
        .filter(|u| u.id.to_string() == form.lead || form.has_coop(&u.id))
    {
        people.push((
            u.clone(),
            org::list_people(&state.store, &everything, u.id)
                .await?
                .into_iter()
                .filter(|p| p.active)
                .collect(),
        ));
    }
    let page = AssignPage {
        p: PageCtx::new(auth, state),
        existing: task::for_standard(&state.store, standard.id).await?,
        standard,
        units,
        people,
        form,
        errors: errors.clone(),
        conflict,
    };
    Ok((form_status(&errors, conflict), render(&page)).into_response())
}

pub async fn assign_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(standard_id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.check(Action::ManageTasks, Resource::Collection)?;
    let standard = framework::node(&state.store, standard_id).await?;
    let spec = standard.standard.clone().ok_or(AppError::NotFound)?;
    let form = match task::for_standard(&state.store, standard_id).await? {
        Some(t) => AssignValues {
            lead: t.lead_unit.id.to_string(),
            coop: t.cooperating.iter().map(|u| u.id.to_string()).collect(),
            target: t.target,
            deadline: t.deadline.to_string(),
            person: t.responsible.map(|r| r.id.to_string()).unwrap_or_default(),
            version: t.version,
        },
        None => AssignValues {
            lead: spec.lead.map(|u| u.id.to_string()).unwrap_or_default(),
            coop: spec.cooperating.iter().map(|u| u.id.to_string()).collect(),
            ..Default::default()
        },
    };
    assign_page(&state, &auth, standard, form, FieldErrors::new(), false).await
}

pub async fn assign(
    State(state): State<AppState>,
    ApiPath(standard_id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageTasks, Resource::Collection)?;
    let standard = framework::node(&state.store, standard_id).await?;
    let form = AssignValues::from_pairs(&f.form);
    let existing = task::for_standard(&state.store, standard_id).await?;
    let result = match form.parse() {
        Ok(input) => match &existing {
            Some(t) => task::update(
                &state.store,
                &auth.ctx(),
                &auth.permit()?,
                t.id,
                form.version,
                input,
            )
            .await
            .map(|_| t.id),
            None => {
                task::assign(
                    &state.store,
                    &auth.ctx(),
                    &auth.permit()?,
                    standard_id,
                    input,
                )
                .await
            }
        },
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(id) => Ok(see_other(&format!("/tasks/{id}"), "saved")),
        Err(StoreError::Invalid(e)) => assign_page(&state, &auth, standard, form, e, false).await,
        Err(StoreError::Conflict) => {
            assign_page(&state, &auth, standard, form, FieldErrors::new(), true).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "tasks/bulk.html")]
struct BulkPage {
    p: PageCtx,
    f: FrameworkSummary,
    aspects: Vec<(String, String)>,
    methods: Vec<(String, String)>,
    units: Vec<Unit>,
    values: Vec<(String, String)>,
    errors: FieldErrors,
    outcome: Option<BulkOutcome>,
    uncovered: Vec<Uncovered>,
}

impl BulkPage {
    fn value(&self, k: &str) -> String {
        self.values
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

async fn bulk_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    values: Vec<(String, String)>,
    errors: FieldErrors,
    outcome: Option<BulkOutcome>,
) -> AppResult<Response> {
    let f = framework::get(&state.store, id).await?;
    let aspects = framework::nodes(&state.store, id)
        .await?
        .into_iter()
        .filter(|n| n.depth == 1)
        .map(|n| (n.code, n.title))
        .collect();
    let page = BulkPage {
        p: PageCtx::new(auth, state),
        aspects,
        methods: Method::ALL
            .iter()
            .map(|m| {
                let label = crate::i18n::t(auth.lang, &format!("method.{}", m.code()));
                (m.code().to_string(), label.to_string())
            })
            .collect(),
        units: city_units(state).await?,
        uncovered: task::coverage(&state.store, id).await?,
        f,
        values,
        errors: errors.clone(),
        outcome,
    };
    Ok((form_status(&errors, false), render(&page)).into_response())
}

/// The bulk form, with the coverage check beneath it.
pub async fn bulk_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.check(Action::ManageTasks, Resource::Collection)?;
    let default_target = crate::i18n::t(auth.lang, "task.default_target").to_string();
    bulk_page(
        &state,
        &auth,
        id,
        vec![("target".into(), default_target)],
        FieldErrors::new(),
        None,
    )
    .await
}

pub async fn bulk(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageTasks, Resource::Collection)?;
    let one = |k: &str| {
        f.form
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let request = crate::service::tasks::BulkRequest {
        under_code: one("under_code"),
        method: one("method"),
        led_by: one("led_by"),
        lead_unit_id: one("lead_unit_id"),
        target: one("target"),
        deadline: one("deadline"),
        overwrite: !one("overwrite").is_empty(),
    };
    let permit = auth.permit()?;
    let outcome =
        match crate::service::tasks::bulk_assign(&state, &auth, &permit, id, &request).await {
            Ok(o) => o,
            Err(AppError::Invalid(e)) => {
                return bulk_page(&state, &auth, id, f.form.clone(), e, None).await;
            }
            Err(e) => return Err(e),
        };
    bulk_page(
        &state,
        &auth,
        id,
        f.form.clone(),
        FieldErrors::new(),
        Some(outcome),
    )
    .await
}
