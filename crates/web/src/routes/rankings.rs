//! Ranking list pages: the lists, a list's editions with the office's
//! steps (draft again, approve, publish, correct) and the units' appeals,
//! the spreadsheet, and the public page of a published list.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, form_status, render};
use crate::routes::{Done, see_other};
use crate::service::rankings as svc;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::policy::{Action, may};
use wenming_domain::ranking::{Entry, Mark, Subject};
use wenming_store::ranking::{self as rk, Edition, EditionState, List};

fn field<'a>(pairs: &'a [(String, String)], k: &str) -> &'a str {
    pairs
        .iter()
        .find(|(f, _)| f == k)
        .map(|(_, v)| v.trim())
        .unwrap_or("")
}

/// How an entry's value reads.
pub struct Line<'a> {
    pub e: &'a Entry,
    pub value: String,
    pub mark: &'static str,
}

fn lines<'a>(subject: Subject, e: &'a Edition) -> Vec<Line<'a>> {
    e.entries
        .iter()
        .map(|x| Line {
            e: x,
            value: svc::shown_value(subject, x.value),
            mark: match x.mark {
                Some(Mark::Red) => "red",
                Some(Mark::Black) => "black",
                None => "",
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "rankings/list.html")]
struct ListPage {
    p: PageCtx,
    lists: Vec<(List, Option<Edition>)>,
    can_manage: bool,
    subjects: &'static [Subject],
    errors: FieldErrors,
    filled: Vec<(String, String)>,
}

impl ListPage {
    fn get(&self, k: &str) -> String {
        field(&self.filled, k).to_string()
    }
}

async fn list_page(
    state: &AppState,
    auth: &Auth,
    flash: Option<&str>,
    errors: FieldErrors,
    filled: Vec<(String, String)>,
) -> AppResult<Response> {
    let page = ListPage {
        p: PageCtx::new(auth, state).with_flash(flash),
        lists: svc::lists(state, auth).await?,
        can_manage: auth.may(Action::ManageRankings),
        subjects: &Subject::ALL,
        filled,
        errors,
    };
    Ok((form_status(&page.errors, false), render(&page)).into_response())
}

pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    list_page(&state, &auth, d.done.as_deref(), FieldErrors::new(), vec![]).await
}

/// Defines a list from the office's form and drafts it.
pub async fn create(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRankings>()?;
    let pairs = f.form.clone();
    let num = |k: &str| field(&pairs, k).parse::<i64>().unwrap_or(-1);
    let raw = svc::RawSpec {
        name: field(&pairs, "name"),
        subject: field(&pairs, "subject"),
        period_from: field(&pairs, "period_from"),
        period_to: field(&pairs, "period_to"),
        round_kinds: pairs
            .iter()
            .filter(|(k, v)| k == "round_kinds" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect(),
        source_id: field(&pairs, "source_id").parse().ok(),
        question: Some(field(&pairs, "question").to_string()),
        min_n: num("min_n"),
        red: num("red"),
        black: num("black"),
        appeal_days: num("appeal_days"),
        // The form asks for a percentage.
        black_below: field(&pairs, "black_below")
            .parse::<f64>()
            .ok()
            .map(|v| v / 100.0),
        public: field(&pairs, "public") == "1",
    };
    let made = async {
        let spec = svc::parse_spec(raw)?;
        let entries = svc::compute(&state, &spec).await?;
        Ok::<_, AppError>(rk::create(&state.store, &f.auth.ctx(), &permit, &spec, entries).await?)
    }
    .await;
    match made {
        Ok((list, _)) => Ok(see_other(
            &format!("/rankings/{}", list.id),
            "ranking_drafted",
        )),
        Err(AppError::Invalid(e)) => list_page(&state, &f.auth, None, e, pairs).await,
        Err(e) => Err(e),
    }
}

/// Drafts this week's 十佳十差 of sites.
pub async fn weekly(
    State(state): State<AppState>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRankings>()?;
    let spec = svc::weekly_sites(crate::service::today(&state));
    let entries = svc::compute(&state, &spec).await?;
    let (list, _) = rk::create(&state.store, &f.auth.ctx(), &permit, &spec, entries).await?;
    Ok(see_other(
        &format!("/rankings/{}", list.id),
        "ranking_drafted",
    ))
}

#[derive(Template)]
#[template(path = "rankings/show.html")]
struct ShowPage<'a> {
    p: PageCtx,
    v: &'a svc::ListView,
    editions: Vec<(&'a Edition, Vec<Line<'a>>)>,
    /// Units the viewer may appeal for (their own).
    own_units: Vec<Uuid>,
    can_appeal: bool,
    errors: FieldErrors,
}

impl ShowPage<'_> {
    fn name_of(&self, subject: &Uuid) -> String {
        self.v
            .editions
            .iter()
            .flat_map(|e| e.entries.iter())
            .find(|x| &x.subject_id == subject)
            .map(|x| x.name.clone())
            .unwrap_or_default()
    }
    fn own(&self, subject: &Uuid) -> bool {
        self.own_units.contains(subject)
    }
}

async fn show_page(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    flash: Option<&str>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let v = svc::view(state, auth, id).await?;
    let subject = v.list.spec.subject;
    let editions = v.editions.iter().map(|e| (e, lines(subject, e))).collect();
    let own_units = auth.scope(Action::ViewRankings)?.unit_ids.clone();
    // Only a unit's own staff appeal, and only where units are ranked.
    let can_appeal =
        auth.may(Action::AppealRankings) && subject.ranks_units() && !own_units.is_empty();
    let page = ShowPage {
        p: PageCtx::new(auth, state).with_flash(flash),
        v: &v,
        editions,
        own_units,
        can_appeal,
        errors,
    };
    Ok((form_status(&page.errors, false), render(&page)).into_response())
}

pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    show_page(&state, &auth, id, d.done.as_deref(), FieldErrors::new()).await
}

/// The office's step on an edition: redraft, approve, publish or correct.
pub async fn step(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRankings>()?;
    let pairs = &f.form;
    let ctx = f.auth.ctx();
    let e = rk::edition(&state.store, id).await?;
    let version = field(pairs, "version").parse::<i64>().unwrap_or(-1);
    let done = match field(pairs, "step") {
        "redraft" => {
            let spec = rk::list(&state.store, e.list_id).await?.spec;
            let entries = svc::compute(&state, &spec).await?;
            rk::redraft(&state.store, &ctx, &permit, id, version, entries)
                .await
                .map(|_| "ranking_redrafted")
        }
        "approve" => rk::approve(&state.store, &ctx, &permit, id, version)
            .await
            .map(|_| "ranking_approved"),
        "publish" => rk::publish(&state.store, &ctx, &permit, id, version)
            .await
            .map(|_| "ranking_published"),
        "correct" => {
            let struck: Vec<(Uuid, String)> = pairs
                .iter()
                .filter(|(k, _)| k == "struck")
                .filter_map(|(_, v)| v.parse().ok())
                .map(|s| (s, field(pairs, "reason").to_string()))
                .collect();
            rk::correct(
                &state.store,
                &ctx,
                &permit,
                id,
                field(pairs, "reason"),
                &struck,
            )
            .await
            .map(|_| "ranking_corrected")
        }
        _ => Err(wenming_store::StoreError::invalid("step", "invalid_choice")),
    };
    match done {
        Ok(done) => Ok(see_other(&format!("/rankings/{}", e.list_id), done)),
        Err(wenming_store::StoreError::Invalid(errors)) => {
            show_page(&state, &f.auth, e.list_id, None, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

/// A unit appeals its entry.
pub async fn appeal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::AppealRankings>()?;
    let e = rk::edition(&state.store, id).await?;
    let subject = field(&f.form, "subject_id").parse().unwrap_or_default();
    match rk::appeal(
        &state.store,
        &f.auth.ctx(),
        &permit,
        id,
        subject,
        field(&f.form, "reason"),
    )
    .await
    {
        Ok(_) => Ok(see_other(
            &format!("/rankings/{}", e.list_id),
            "appeal_sent",
        )),
        Err(wenming_store::StoreError::Invalid(errors)) => {
            show_page(&state, &f.auth, e.list_id, None, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The office decides an appeal.
pub async fn decide(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let permit = f.auth.permit::<may::ManageRankings>()?;
    let list = rk::edition(
        &state.store,
        rk::appeal_of(&state.store, id).await?.edition_id,
    )
    .await?
    .list_id;
    let version = field(&f.form, "version").parse::<i64>().unwrap_or(-1);
    let upheld = field(&f.form, "upheld") == "1";
    match rk::decide(
        &state.store,
        &f.auth.ctx(),
        &permit,
        id,
        version,
        upheld,
        field(&f.form, "decision"),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/rankings/{list}"), "appeal_decided")),
        Err(wenming_store::StoreError::Invalid(errors)) => {
            show_page(&state, &f.auth, list, None, errors).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let e = rk::edition(&state.store, id).await?;
    let v = svc::view(&state, &auth, e.list_id).await?;
    let e = v
        .editions
        .iter()
        .find(|x| x.id == id)
        .ok_or(AppError::NotFound)?;
    let bytes = svc::xlsx(&v.list, e)?;
    Ok(crate::service::surveys::xlsx_download(
        &format!("{}-{}.xlsx", v.list.spec.name, e.number),
        bytes,
    ))
}

#[derive(Template)]
#[template(path = "rankings/public.html")]
struct PublicPage<'a> {
    p: PageCtx,
    list: &'a List,
    edition: &'a Edition,
    lines: Vec<Line<'a>>,
    superseded: Vec<Edition>,
    /// (site name, photo ids) of the black-listed sites: the 曝光台.
    exposed: Vec<(String, Vec<Uuid>)>,
}

/// A published list for anyone, when the office made it public: names
/// and scores only, never a person.
pub async fn public(
    State(state): State<AppState>,
    lang: crate::i18n::Lang,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let (list, edition) = svc::public(&state, id).await?;
    let superseded = rk::editions(&state.store, id)
        .await?
        .into_iter()
        .filter(|e| e.state == EditionState::Superseded)
        .collect();
    let mut exposed: Vec<(String, Vec<Uuid>)> = vec![];
    for (site, photo) in
        rk::exposure(&state.store, &list.spec, &edition, svc::EXPOSED_PER_SITE).await?
    {
        let name = edition
            .entries
            .iter()
            .find(|x| x.subject_id == site)
            .map(|x| x.name.clone())
            .unwrap_or_default();
        match exposed.last_mut() {
            Some((n, photos)) if *n == name => photos.push(photo),
            _ => exposed.push((name, vec![photo])),
        }
    }
    let page = PublicPage {
        exposed,
        p: PageCtx::anonymous(lang, &format!("/p/rankings/{id}")),
        lines: lines(list.spec.subject, &edition),
        list: &list,
        edition: &edition,
        superseded,
    };
    Ok(render(&page))
}

/// A photo of the 曝光台 of a public list.
pub async fn public_photo(
    State(state): State<AppState>,
    ApiPath((list, photo)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let bytes = svc::exposed_photo(&state, list, photo).await?;
    Ok(crate::service::photos::send(bytes, "image/jpeg").await)
}
