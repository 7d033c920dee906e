//! Where cases go and when they are due: routing rules and the calendar of
//! holidays and make-up working days, both data the office keeps.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::AppResult;
use crate::extract::ApiPath;
use crate::page::{PageCtx, form_status, render};
use crate::routes::see_other;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::org::{Region, Unit};
use wenming_domain::policy::{Action, Resource};
use wenming_store::case::{self, CalendarDay, Category, RoutingRule};
use wenming_store::{StoreError, org};

#[derive(Template)]
#[template(path = "cases/routing.html")]
struct Page {
    p: PageCtx,
    rules: Vec<RoutingRule>,
    days: Vec<CalendarDay>,
    categories: Vec<Category>,
    regions: Vec<Region>,
    units: Vec<Unit>,
    errors: FieldErrors,
    can_manage: bool,
}

async fn page(state: &AppState, auth: &Auth, errors: FieldErrors) -> AppResult<Response> {
    let city = org::whole_city(&state.store).await?;
    let status = form_status(&errors, false);
    let page = Page {
        p: PageCtx::new(auth, state),
        rules: case::routing_rules(&state.store).await?,
        days: case::calendar_days(&state.store).await?,
        categories: case::categories(&state.store).await?,
        regions: org::list_regions(&state.store, &city)
            .await?
            .into_iter()
            .filter(|r| r.level <= wenming_domain::org::RegionLevel::Street)
            .collect(),
        units: org::all_units(&state.store, &city, true).await?,
        can_manage: auth
            .check(Action::ManageFramework, Resource::Collection)
            .is_ok(),
        errors,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn show(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    auth.scope(Action::ViewCases)?;
    page(&state, &auth, FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    unit: String,
}

pub async fn add_rule(State(state): State<AppState>, f: CsrfForm<RuleForm>) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let mut e = FieldErrors::new();
    let category = wenming_domain::org::parse_optional_id(&mut e, "category", &f.form.category);
    let region = wenming_domain::org::parse_optional_id(&mut e, "region", &f.form.region);
    let unit = Uuid::parse_str(&f.form.unit).ok();
    if unit.is_none() {
        e.add("unit", "required");
    }
    match unit {
        Some(u) if e.is_empty() => {
            match case::add_routing_rule(
                &state.store,
                &auth.ctx(),
                &auth.permit()?,
                category,
                region,
                u,
            )
            .await
            {
                Ok(_) => Ok(see_other("/cases/routing", "created")),
                Err(StoreError::Invalid(e)) => {
                    // The form names fields without the `_id` the API uses.
                    let mut named = FieldErrors::new();
                    for f in e.0 {
                        named.add(f.field.trim_end_matches("_id"), f.code);
                    }
                    page(&state, &auth, named).await
                }
                Err(e) => Err(e.into()),
            }
        }
        _ => page(&state, &auth, e).await,
    }
}

#[derive(Deserialize)]
pub struct DayForm {
    #[serde(default)]
    day: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

pub async fn add_day(State(state): State<AppState>, f: CsrfForm<DayForm>) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let mut e = FieldErrors::new();
    let day = wenming_domain::task::parse_date(&mut e, "day", &f.form.day);
    let name = wenming_domain::validation::text(&mut e, "name", &f.form.name, true, 32);
    match (day, name) {
        (Some(d), Some(n)) if e.is_empty() => {
            case::set_calendar_day(
                &state.store,
                &auth.ctx(),
                &auth.permit()?,
                d,
                f.form.kind == "workday",
                &n,
            )
            .await?;
            Ok(see_other("/cases/routing", "saved"))
        }
        _ => page(&state, &auth, e).await,
    }
}

pub async fn remove_rule(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<crate::routes::account::Nothing>,
) -> AppResult<Response> {
    f.auth
        .check(Action::ManageFramework, Resource::Collection)?;
    case::remove_routing_rule(&state.store, &f.auth.ctx(), &f.auth.permit()?, id).await?;
    Ok(see_other("/cases/routing", "saved"))
}

pub async fn remove_day(
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
    f: CsrfForm<crate::routes::account::Nothing>,
) -> AppResult<Response> {
    f.auth
        .check(Action::ManageFramework, Resource::Collection)?;
    let day = day.parse().map_err(|_| crate::error::AppError::NotFound)?;
    case::remove_calendar_day(&state.store, &f.auth.ctx(), &f.auth.permit()?, day).await?;
    Ok(see_other("/cases/routing", "saved"))
}
