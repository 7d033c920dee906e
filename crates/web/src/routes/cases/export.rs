//! The case list, filtered as on the page, as an XLSX workbook.

use super::{ListQuery, list_filter};
use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::ApiQuery;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use wenming_domain::policy::Action;
use wenming_store::case;

/// The filtered list (every page of it) as XLSX.
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    use wenming_reports::table_xlsx::{Cell, write};
    let scope = auth.scope(Action::ViewCases)?;
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    let mut f = list_filter(&state, &crate::service::case_actor(&auth), &q);
    f.limit = 500;
    let now = jiff::Timestamp::now();
    let tz = state.config.timezone.clone();
    let when = |ts: Option<jiff::Timestamp>| {
        ts.map(|x| {
            x.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    };
    let mut rows = vec![];
    loop {
        let (page, next) = case::list(&state.store, &scope, &f).await?;
        for c in page {
            rows.push(vec![
                Cell::Text(c.number.clone()),
                Cell::Text(c.category_name.clone()),
                Cell::Text(c.description.clone()),
                Cell::Text(t(&format!("case_source.{}", c.source.code())).to_string()),
                Cell::Text(c.region_name.clone().unwrap_or_default()),
                Cell::Text(c.unit_name.clone().unwrap_or_default()),
                Cell::Text(when(Some(c.reported_at))),
                Cell::Text(when(c.registered_at)),
                Cell::Text(when(c.dispatched_at)),
                Cell::Text(when(c.deadline)),
                Cell::Text(format!(
                    "{}{}",
                    t(&format!("case_state.{}", c.state.code())),
                    if c.overdue(now) {
                        crate::i18n::fill(t("common.aside"), &[("a", ""), ("b", t("case.overdue"))])
                    } else {
                        String::new()
                    }
                )),
                Cell::Number(c.reworks as f64),
                Cell::Number(c.extensions as f64),
                Cell::Text(when(c.handled_at)),
                Cell::Text(when(c.closed_at)),
            ]);
        }
        match next {
            Some(n) => f.after = case::parse_cursor(&n),
            None => break,
        }
    }
    let header = [
        (t("case.number"), 14.0),
        (t("case.category"), 14.0),
        (t("case.description"), 36.0),
        (t("case.source"), 12.0),
        (t("case.place"), 18.0),
        (t("case.unit"), 18.0),
        (t("case.reported_at"), 16.0),
        (t("case.registered_at"), 16.0),
        (t("case.dispatched_at"), 16.0),
        (t("case.deadline"), 16.0),
        (t("case.state"), 12.0),
        (t("case.reworks"), 8.0),
        (t("case.extensions"), 8.0),
        (t("case.handled_at"), 16.0),
        (t("case.closed_at"), 16.0),
    ];
    let bytes = write(t("nav.cases"), t("case.export_title"), &header, &rows)
        .map_err(|_| AppError::Internal)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"cases.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
