//! Inspection rounds for the office and leaders: the list, drawing a round,
//! the round report (worst standards first, compared with the round before)
//! and its workbook, and one site's findings in a round.

pub(super) mod inspect;

use crate::AppState;
use crate::auth::{Auth, Can, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::ApiPath;
use crate::extract::ApiQuery;
use crate::page::{PageCtx, render};
use crate::routes::{Done, see_other};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::inspection::{RoundForm, RoundKind, Score};
use wenming_domain::policy::{Action, may};
use wenming_store::StoreError;
use wenming_store::inspection::{self, Finding, Report, Round, RoundSite};

/// A score rate as people write it: 87.5%.
pub fn pct(s: &Score) -> String {
    s.rate()
        .map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// The change from the previous round in percentage points: +3.2 / −1.0.
pub fn change(now: &Score, before: &Option<Score>) -> String {
    match (now.rate(), before.and_then(|b| b.rate())) {
        (Some(a), Some(b)) => {
            let d = (a - b) * 100.0;
            if d.abs() < 0.05 {
                "±0".into()
            } else if d > 0.0 {
                format!("+{d:.1}")
            } else {
                format!("−{:.1}", -d)
            }
        }
        _ => String::new(),
    }
}

pub fn change_vs(now: &Score, before: &Score) -> String {
    change(now, &Some(*before))
}

#[derive(Template)]
#[template(path = "rounds/list.html")]
struct ListPage {
    p: PageCtx,
    rounds: Vec<Round>,
    can_manage: bool,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewRounds)?;
    let page = ListPage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        rounds: inspection::list(&state.store).await?,
        can_manage: auth.may(Action::ManageRounds),
    };
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "rounds/form.html")]
struct FormPage {
    p: PageCtx,
    form: RoundForm,
    errors: FieldErrors,
    kinds: Vec<RoundKind>,
    inspectors: Vec<(Uuid, String)>,
}

async fn form_page(
    state: &AppState,
    auth: &Auth,
    form: RoundForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        p: PageCtx::new(auth, state),
        form,
        errors,
        kinds: RoundKind::ALL.to_vec(),
        inspectors: inspection::inspector_choices(&state.store).await?,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn new_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ManageRounds)?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(state.config.timezone.clone())
        .date();
    let form = RoundForm {
        kind: "mock".into(),
        starts_on: today.to_string(),
        ends_on: (today + jiff::Span::new().days(4)).to_string(),
        sample_size: "30".into(),
        not_where_they_work: Some("on".into()),
        not_twice_in_a_row: Some("on".into()),
        ..Default::default()
    };
    form_page(&state, &auth, form, FieldErrors::new()).await
}

pub async fn create(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageRounds>()?;
    // Repeated checkboxes (inspector_ids) arrive as pairs.
    let get = |k: &str| f.form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let form = RoundForm {
        name: get("name").unwrap_or_default(),
        kind: get("kind").unwrap_or_default(),
        starts_on: get("starts_on").unwrap_or_default(),
        ends_on: get("ends_on").unwrap_or_default(),
        sample_size: get("sample_size").unwrap_or_default(),
        seed: get("seed").unwrap_or_default(),
        skip_days: get("skip_days").unwrap_or_default(),
        not_where_they_work: get("not_where_they_work"),
        not_twice_in_a_row: get("not_twice_in_a_row"),
        inspector_ids: f
            .form
            .iter()
            .filter(|(n, _)| n == "inspector_ids")
            .map(|(_, v)| v.clone())
            .collect(),
    };
    let input = match form.parse() {
        Ok(i) => i,
        Err(e) => return form_page(&state, &auth, form, e).await,
    };
    match inspection::create(&state.store, &auth.ctx(), &permit, &input).await {
        Ok(r) => Ok(see_other(&format!("/rounds/{}", r.id), "created")),
        Err(StoreError::Invalid(e)) => form_page(&state, &auth, form, e).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "rounds/import.html")]
struct ImportPage {
    p: PageCtx,
    form: RoundForm,
    result_words: String,
    errors: FieldErrors,
    problems: Vec<String>,
}

impl ImportPage {
    /// Each result word line that could not be read, by its number.
    fn word_errors(&self) -> Vec<String> {
        self.errors
            .0
            .iter()
            .filter_map(|e| {
                let line = e.field.strip_prefix("result_words.")?;
                Some(crate::i18n::fill(
                    crate::i18n::t(self.p.lang, "round.result_word_line"),
                    &[
                        ("line", line),
                        ("why", &crate::i18n::field_message(self.p.lang, e.code)),
                    ],
                ))
            })
            .collect()
    }
}

pub async fn import_form(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ManageRounds)?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(state.config.timezone.clone())
        .date();
    let page = ImportPage {
        p: PageCtx::new(&auth, &state),
        form: RoundForm {
            starts_on: today.to_string(),
            ends_on: today.to_string(),
            ..Default::default()
        },
        result_words: String::new(),
        errors: FieldErrors::new(),
        problems: vec![],
    };
    Ok(render(&page))
}

pub async fn import(
    State(state): State<AppState>,
    // Before the body: a caller who may not import hears 403, not
    // what was wrong with the upload.
    Can { auth, .. }: Can<may::ManageRounds>,
    multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    let upload = crate::service::third_party::read_upload(multipart).await?;
    auth.check_csrf(&upload.csrf)?;
    let form = upload.form.clone();
    let result_words = upload.result_words.clone();
    let (errors, problems) = match crate::service::third_party::run(&state, &auth, upload).await {
        Ok(i) => {
            return Ok(see_other(
                &format!("/rounds/{}", i.round.id),
                "round_imported",
            ));
        }
        Err(AppError::Invalid(e)) => (e, vec![]),
        Err(AppError::Problems(p)) => (
            FieldErrors::new(),
            p.iter()
                .map(|x| crate::describe_problem(auth.lang, x))
                .collect(),
        ),
        Err(e) => return Err(e),
    };
    let page = ImportPage {
        p: PageCtx::new(&auth, &state),
        form,
        result_words,
        errors,
        problems,
    };
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
}

#[derive(Template)]
#[template(path = "rounds/show.html")]
struct ShowPage {
    p: PageCtx,
    rep: Report,
    unmatched: Vec<wenming_store::third_party::Unmatched>,
    /// Choices for mapping those rows by hand.
    map_sites: Vec<(Uuid, String)>,
    map_standards: Vec<(Uuid, String)>,
    map_error: Option<String>,
    /// Who the office may send to a site of an open round.
    inspectors: Vec<(Uuid, String)>,
    kind_label: &'static str,
    can_manage: bool,
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    show_page(&state, &auth, id, d.done.as_deref(), None).await
}

async fn show_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    done: Option<&str>,
    map_error: Option<String>,
) -> AppResult<Response> {
    auth.scope(Action::ViewRounds)?;
    let r = inspection::report(&state.store, id).await?;
    let unmatched = wenming_store::third_party::unmatched(&state.store, id).await?;
    let can_manage = auth.may(Action::ManageRounds);
    let (mut map_sites, mut map_standards) = (vec![], vec![]);
    if can_manage && !unmatched.is_empty() {
        let city = wenming_store::org::whole_city(&state.store).await?;
        map_sites = wenming_store::site::list(&state.store, &city, &Default::default())
            .await?
            .into_iter()
            .map(|s| {
                let name = format!("{} {}", s.code, s.name);
                let label = crate::i18n::fill(
                    crate::i18n::t(auth.lang, "common.aside"),
                    &[("a", &name), ("b", &s.type_name)],
                );
                (s.id, label)
            })
            .collect();
        map_standards = inspection::standards_of(&state.store, r.round.framework_id)
            .await?
            .into_iter()
            .map(|(c, _)| (c.standard_id, format!("{} {}", c.code, c.title)))
            .collect();
    }
    let status = if map_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = ShowPage {
        p: PageCtx::new(auth, state).with_flash(done),
        can_manage,
        kind_label: crate::i18n::t(auth.lang, &format!("round_kind.{}", r.round.kind.code())),
        unmatched,
        map_sites,
        map_standards,
        map_error,
        inspectors: if can_manage {
            inspection::inspector_choices(&state.store).await?
        } else {
            vec![]
        },
        rep: r,
    };
    Ok((status, render(&page)).into_response())
}

/// A refusal's field errors in words, for the alert above the report.
fn messages(lang: crate::i18n::Lang, e: &FieldErrors) -> String {
    e.0.iter()
        .map(|x| crate::i18n::field_message(lang, x.code))
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(serde::Deserialize)]
pub struct SendForm {
    #[serde(default)]
    inspector_id: String,
}

/// The office sends an inspector to a site of an open round (where rotation
/// found nobody, or plans changed).
pub async fn send(
    State(state): State<AppState>,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
    f: CsrfForm<SendForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.scope(Action::ManageRounds)?;
    let result = match Uuid::parse_str(f.form.inspector_id.trim()) {
        Ok(who) => {
            inspection::reassign(&state.store, &auth.ctx(), &auth.permit()?, id, site_id, who).await
        }
        Err(_) => Err(StoreError::invalid("inspector_id", "required")),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/rounds/{id}"), "saved")),
        Err(StoreError::Invalid(e)) => {
            show_page(&state, &auth, id, None, Some(messages(auth.lang, &e))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(serde::Deserialize)]
pub struct MapForm {
    #[serde(default)]
    site_id: String,
    #[serde(default)]
    standard_id: String,
    #[serde(default)]
    result: String,
}

pub async fn map(
    State(state): State<AppState>,
    ApiPath((id, row_id)): ApiPath<(Uuid, Uuid)>,
    f: CsrfForm<MapForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    let permit = auth.permit::<may::ManageRounds>()?;
    let parsed = (
        Uuid::parse_str(f.form.site_id.trim()),
        Uuid::parse_str(f.form.standard_id.trim()),
    );
    let result = match parsed {
        (Ok(site_id), Ok(standard_id)) => {
            crate::service::rounds::map_row(
                &state,
                &auth,
                &permit,
                id,
                row_id,
                crate::service::rounds::MapBody {
                    site_id,
                    standard_id,
                    result: Some(f.form.result.clone()),
                    photo_ids: vec![],
                },
            )
            .await
        }
        (Err(_), _) => Err(AppError::Invalid(FieldErrors::single(
            "site_id", "required",
        ))),
        (_, Err(_)) => Err(AppError::Invalid(FieldErrors::single(
            "standard_id",
            "required",
        ))),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/rounds/{id}"), "saved")),
        Err(AppError::Invalid(e)) => {
            show_page(&state, &auth, id, None, Some(messages(auth.lang, &e))).await
        }
        Err(AppError::Conflict) => {
            show_page(
                &state,
                &auth,
                id,
                None,
                Some(crate::i18n::t(auth.lang, "form.conflict").into()),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(serde::Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    version: i64,
}

pub async fn close(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<CloseForm>,
) -> AppResult<Response> {
    f.auth.scope(Action::ManageRounds)?;
    match inspection::close(
        &state.store,
        &f.auth.ctx(),
        &f.auth.permit()?,
        id,
        f.form.version,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/rounds/{id}"), "saved")),
        Err(StoreError::Conflict) => Ok(see_other(&format!("/rounds/{id}"), "conflict")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "rounds/site.html")]
struct SitePage {
    p: PageCtx,
    round: Round,
    rs: RoundSite,
    findings: Vec<Finding>,
}

pub async fn site(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, site_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let rs = crate::service::rounds::visible_round_site(&state, &auth, id, site_id).await?;
    let page = SitePage {
        p: PageCtx::new(&auth, &state),
        round: inspection::get(&state.store, id).await?,
        findings: inspection::findings(&state.store, id, site_id).await?,
        rs,
    };
    Ok(render(&page))
}

/// The report as a workbook: one sheet a part, worst standards first.
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    use wenming_reports::table_xlsx::{Cell, Sheet, write_sheets};
    auth.scope(Action::ViewRounds)?;
    let r = inspection::report(&state.store, id).await?;
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    let rate = |s: &Score| s.rate().map(|r| Cell::Number((r * 1000.0).round() / 10.0));
    let line_rows = |lines: &[inspection::Line]| -> Vec<Vec<Cell>> {
        lines
            .iter()
            .map(|l| {
                vec![
                    Cell::Text(l.key.clone()),
                    Cell::Text(l.label.clone()),
                    Cell::Number(l.score.observed as f64),
                    Cell::Number(l.score.failed() as f64),
                    rate(&l.score).unwrap_or(Cell::Text(String::new())),
                    l.previous
                        .as_ref()
                        .and_then(rate)
                        .unwrap_or(Cell::Text(String::new())),
                ]
            })
            .collect()
    };
    let line_head = [
        (t("round.code"), 10.0),
        (t("round.item"), 48.0),
        (t("round.observed"), 10.0),
        (t("round.failed"), 10.0),
        (t("round.rate_pct"), 12.0),
        (t("round.previous_pct"), 12.0),
    ];
    let standards = line_rows(&r.standards);
    let districts = line_rows(&r.districts);
    let types = line_rows(&r.site_types);
    let problems: Vec<Vec<Cell>> = r
        .problems
        .iter()
        .map(|(k, n)| vec![Cell::Text(k.clone()), Cell::Number(*n as f64)])
        .collect();
    let sites: Vec<Vec<Cell>> = r
        .sites
        .iter()
        .map(|s| {
            vec![
                Cell::Text(s.site_code.clone()),
                Cell::Text(s.site_name.clone()),
                Cell::Text(s.type_name.clone()),
                Cell::Text(s.region_name.clone()),
                Cell::Text(s.sponsor_unit_name.clone().unwrap_or_default()),
                Cell::Text(s.inspector_name.clone().unwrap_or_default()),
                Cell::Number(s.score.observed as f64),
                Cell::Number(s.score.failed() as f64),
                rate(&s.score).unwrap_or(Cell::Text(String::new())),
            ]
        })
        .collect();
    let title = format!("{} · {}", r.round.name, t("round.report"));
    let bytes = write_sheets(&[
        Sheet {
            name: t("round.by_standard"),
            title: &title,
            header: &line_head,
            rows: &standards,
        },
        Sheet {
            name: t("round.by_district"),
            title: &title,
            header: &line_head,
            rows: &districts,
        },
        Sheet {
            name: t("round.by_type"),
            title: &title,
            header: &line_head,
            rows: &types,
        },
        Sheet {
            name: t("round.problems"),
            title: &title,
            header: &[
                (t("round.kind_of_problem"), 30.0),
                (t("round.failed"), 10.0),
            ],
            rows: &problems,
        },
        Sheet {
            name: t("round.sites"),
            title: &title,
            header: &[
                (t("site.code"), 12.0),
                (t("site.name"), 24.0),
                (t("site.type"), 12.0),
                (t("site.region"), 14.0),
                (t("site.sponsor"), 18.0),
                (t("round.inspector"), 10.0),
                (t("round.observed"), 10.0),
                (t("round.failed"), 10.0),
                (t("round.rate_pct"), 12.0),
            ],
            rows: &sites,
        },
    ])
    .map_err(|_| AppError::Internal)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"round-report.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
