//! A person's notifications (overdue warnings for now), newest first.

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
        let t = |k| crate::i18n::t(self.p.lang, k);
        if n.kind == "duplicate_closed" {
            return crate::i18n::fill(
                t("notification.duplicate_closed"),
                &[
                    ("number", n.number.as_deref().unwrap_or("")),
                    ("original", n.original.as_deref().unwrap_or("")),
                ],
            );
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
    let target = escalation::open(&state.store, f.auth.user.id, id)
        .await?
        .map_or_else(|| "/notifications".to_string(), |c| format!("/cases/{c}"));
    Ok(axum::response::Redirect::to(&target).into_response())
}
