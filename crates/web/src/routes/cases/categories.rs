//! The problem catalogue (大类 / 小类): see it, add to it, edit it.

use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::AppResult;
use crate::extract::ApiPath;
use crate::extract::ApiQuery;
use crate::page::{PageCtx, form_status, render};
use crate::routes::see_other;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;
use wenming_domain::FieldErrors;
use wenming_domain::case::HandlingTime;
use wenming_domain::policy::{Action, Resource};
use wenming_store::StoreError;
use wenming_store::case::{self, Category, CategoryChange, CategoryInput};

#[derive(Deserialize, Default, Clone)]
pub struct CategoryForm {
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub radius: String,
    #[serde(default)]
    pub standards: String,
    /// Only on the edit form: the checkbox sends "on" when ticked.
    #[serde(default)]
    pub active: String,
    #[serde(default)]
    pub version: String,
}

impl CategoryForm {
    fn parse(&self) -> Result<CategoryInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let parent_id =
            wenming_domain::org::parse_optional_id(&mut e, "parent_id", &self.parent_id);
        let code = wenming_domain::validation::text(&mut e, "code", &self.code, true, 16);
        let name = wenming_domain::validation::text(&mut e, "name", &self.name, true, 32);
        let handling_time = match self.amount.trim() {
            "" => None,
            a => match a.parse::<i64>() {
                Ok(n) if n > 0 => HandlingTime::from_parts(Some(n), Some(self.unit.as_str())),
                _ => {
                    e.add("amount", "invalid_number");
                    None
                }
            },
        };
        if parent_id.is_some() && handling_time.is_none() && e.for_field("amount").is_none() {
            e.add("amount", "required");
        }
        let radius = match self.radius.trim() {
            "" => None,
            r => match r.parse::<i64>() {
                Ok(n) if (1..=5000).contains(&n) => Some(n),
                _ => {
                    e.add("radius", "invalid_number");
                    None
                }
            },
        };
        let standards =
            wenming_domain::framework::parse_list(&self.standards, |x| Some(x.to_string()))
                .unwrap_or_default();
        match (code, name) {
            (Some(code), Some(name)) if e.is_empty() => Ok(CategoryInput {
                parent_id,
                code,
                name,
                handling_time,
                duplicate_radius_m: radius,
                standard_codes: standards,
                site_types: vec![],
                active: true,
            }),
            _ => Err(e),
        }
    }
}

#[derive(Template)]
#[template(path = "cases/categories.html")]
struct Page {
    p: PageCtx,
    categories: Vec<Category>,
    form: CategoryForm,
    errors: FieldErrors,
    can_manage: bool,
}

impl Page {
    fn time(&self, c: &Category) -> String {
        match c.handling_time {
            Some(HandlingTime::Hours(h)) => {
                crate::i18n::fill(self.p.t("category.hours"), &[("n", &h.to_string())])
            }
            Some(HandlingTime::Days(d)) => {
                crate::i18n::fill(self.p.t("category.days"), &[("n", &d.to_string())])
            }
            None => String::new(),
        }
    }
}

async fn page(
    state: &AppState,
    auth: &Auth,
    form: CategoryForm,
    errors: FieldErrors,
    done: Option<&str>,
) -> AppResult<Response> {
    let status = form_status(&errors, false);
    let page = Page {
        p: PageCtx::new(auth, state).with_flash(done),
        categories: case::categories(&state.store).await?,
        can_manage: auth
            .check(Action::ManageFramework, Resource::Collection)
            .is_ok(),
        form,
        errors,
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<Done>,
) -> AppResult<Response> {
    auth.scope(Action::ViewCases)?;
    let form = CategoryForm {
        unit: "hours".into(),
        ..Default::default()
    };
    page(&state, &auth, form, FieldErrors::new(), d.done.as_deref()).await
}

/// The catalogue is city-wide, like the framework it maps to.
pub async fn create(
    State(state): State<AppState>,
    f: CsrfForm<CategoryForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let result = match f.form.parse() {
        Ok(input) => case::create_category(&state.store, &auth.ctx(), &auth.permit()?, input).await,
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other("/cases/categories", "created")),
        Err(StoreError::Invalid(e)) => page(&state, &auth, f.form, e, None).await,
        Err(e) => Err(e.into()),
    }
}

impl CategoryForm {
    fn of(c: &Category) -> Self {
        let (amount, unit) = match c.handling_time {
            Some(h) => {
                let (a, u) = h.parts();
                (a.to_string(), u.to_string())
            }
            None => (String::new(), "hours".into()),
        };
        CategoryForm {
            parent_id: c.parent_id.map(|p| p.to_string()).unwrap_or_default(),
            code: c.code.clone(),
            name: c.name.clone(),
            amount,
            unit,
            radius: c.duplicate_radius_m.to_string(),
            standards: c.standard_codes.join("、"),
            active: if c.active { "on".into() } else { String::new() },
            version: c.version.to_string(),
        }
    }

    /// The editable part; the code and class of the record stand.
    fn change(&self, existing: &Category) -> Result<CategoryChange, FieldErrors> {
        let probe = CategoryForm {
            parent_id: existing
                .parent_id
                .map(|p| p.to_string())
                .unwrap_or_default(),
            code: existing.code.clone(),
            ..self.clone()
        };
        probe.parse().map(|i| CategoryChange {
            name: i.name,
            handling_time: i.handling_time,
            duplicate_radius_m: i.duplicate_radius_m,
            standard_codes: i.standard_codes,
            active: self.active == "on",
        })
    }
}

#[derive(Template)]
#[template(path = "cases/category.html")]
struct EditPage {
    p: PageCtx,
    category: Category,
    class_name: Option<String>,
    form: CategoryForm,
    errors: FieldErrors,
    conflict: bool,
}

async fn edit_page(
    state: &AppState,
    auth: &Auth,
    category: Category,
    form: CategoryForm,
    errors: FieldErrors,
    conflict: bool,
) -> AppResult<Response> {
    let class_name = match category.parent_id {
        Some(p) => Some(case::category(&state.store, p).await?.name),
        None => None,
    };
    let status = form_status(&errors, conflict);
    let page = EditPage {
        p: PageCtx::new(auth, state),
        category,
        class_name,
        form,
        errors,
        conflict,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let c = case::category(&state.store, id).await?;
    let form = CategoryForm::of(&c);
    edit_page(&state, &auth, c, form, FieldErrors::new(), false).await
}

pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<CategoryForm>,
) -> AppResult<Response> {
    let auth = f.auth;
    auth.check(Action::ManageFramework, Resource::Collection)?;
    let existing = case::category(&state.store, id).await?;
    let version: i64 = f.form.version.trim().parse().unwrap_or(-1);
    let result = match f.form.change(&existing) {
        Ok(ch) => {
            case::update_category(&state.store, &auth.ctx(), &auth.permit()?, id, version, ch).await
        }
        Err(e) => Err(StoreError::Invalid(e)),
    };
    match result {
        Ok(_) => Ok(see_other("/cases/categories", "saved")),
        Err(StoreError::Invalid(e)) => edit_page(&state, &auth, existing, f.form, e, false).await,
        Err(StoreError::Conflict) => {
            edit_page(&state, &auth, existing, f.form, FieldErrors::new(), true).await
        }
        Err(e) => Err(e.into()),
    }
}
