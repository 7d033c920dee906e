//! A person's notifications, newest first, each worded for its reader.

use super::see_other;
use crate::AppState;
use crate::auth::{Auth, CsrfForm};
use crate::error::AppResult;
use crate::extract::{ApiPath, ApiQuery};
use crate::page::{PageCtx, render};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;
use wenming_store::escalation::{self, Notification};

#[derive(Template)]
#[template(path = "notifications.html")]
struct ListPage {
    p: PageCtx,
    items: Vec<Notification>,
}

impl ListPage {
    fn text(&self, n: &Notification) -> String {
        let lang = self.p.lang;
        let t = |k: &str| crate::i18n::t(lang, k);
        let number = n.number.as_deref().unwrap_or("");
        let reason = n.reason.as_deref().unwrap_or("");
        let unit = n.unit.as_deref().unwrap_or("");
        let ask = n
            .ask
            .as_deref()
            .map(|a| t(&format!("ask_kind.{a}")))
            .unwrap_or("");
        let deadline = n
            .deadline
            .as_ref()
            .map(|d| self.p.dt(d))
            .unwrap_or_default();
        let fill = |key: &str, extra: &[(&str, &str)]| {
            let mut all = vec![("number", number)];
            all.extend_from_slice(extra);
            crate::i18n::fill(t(key), &all)
        };
        match n.kind.as_str() {
            "duplicate_closed" => {
                return fill(
                    "notification.duplicate_closed",
                    &[("original", n.original.as_deref().unwrap_or(""))],
                );
            }
            "case_dispatched" => {
                return fill("notification.case_dispatched", &[("deadline", &deadline)]);
            }
            "case_rework" => return fill("notification.case_rework", &[("reason", reason)]),
            "material_returned" => {
                return fill(
                    "notification.material_returned",
                    &[
                        ("title", n.title.as_deref().unwrap_or("")),
                        ("reason", reason),
                    ],
                );
            }
            "requirement_overdue" => {
                return fill(
                    "notification.requirement_overdue",
                    &[
                        ("title", n.title.as_deref().unwrap_or("")),
                        ("due_on", n.due_on.as_deref().unwrap_or("")),
                    ],
                );
            }
            "verify_assigned" => return fill("notification.verify_assigned", &[("unit", unit)]),
            "ask_waiting" => {
                return fill(
                    "notification.ask_waiting",
                    &[("unit", unit), ("ask", ask), ("reason", reason)],
                );
            }
            "ask_decided" => {
                let key = match (n.approved, n.ask.as_deref()) {
                    (Some(true), Some("extend")) => "notification.extension_granted",
                    (Some(true), _) => "notification.ask_approved",
                    _ => "notification.ask_refused",
                };
                return fill(
                    key,
                    &[("ask", ask), ("reason", reason), ("deadline", &deadline)],
                );
            }
            _ => {}
        }
        let key = if n.level >= escalation::HEAD {
            "notification.overdue_head"
        } else {
            "notification.overdue_liaison"
        };
        // Past two days, whole days read better than hundreds of hours.
        let overdue = if n.overdue_hours >= 48 {
            crate::i18n::fill(
                t("notification.days"),
                &[("n", &(n.overdue_hours / 24).to_string())],
            )
        } else {
            crate::i18n::fill(
                t("notification.hours"),
                &[("n", &n.overdue_hours.to_string())],
            )
        };
        crate::i18n::fill(
            t(key),
            &[
                ("number", n.number.as_deref().unwrap_or("")),
                ("overdue", &overdue),
            ],
        )
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(d): ApiQuery<super::Done>,
) -> AppResult<Response> {
    let items = escalation::notifications(&state.store, auth.user.id, 100).await?;
    let page = ListPage {
        p: PageCtx::new(&auth, &state).with_flash(d.done.as_deref()),
        items,
    };
    Ok(render(&page).into_response())
}

pub async fn read_all(
    State(state): State<AppState>,
    f: CsrfForm<super::account::Nothing>,
) -> AppResult<Response> {
    escalation::mark_read(&state.store, f.auth.user.id, None).await?;
    Ok(see_other("/notifications", "saved"))
}

/// Opening a notification marks it read and goes to its case.
pub async fn open(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    f: CsrfForm<super::account::Nothing>,
) -> AppResult<Response> {
    let target = match escalation::open(&state.store, f.auth.user.id, id).await? {
        escalation::About::Case(c) => format!("/cases/{c}"),
        escalation::About::Requirement(q) => format!("/evidence/requirements/{q}"),
        escalation::About::Nothing => "/notifications".to_string(),
    };
    Ok(axum::response::Redirect::to(&target).into_response())
}
