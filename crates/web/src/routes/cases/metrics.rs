//! Case metrics per unit for a month, and the ranking (红黑榜).

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::extract::ApiQuery;
use crate::page::{PageCtx, render};
use crate::service::metrics::{MIN_N, Row, month_metrics};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use wenming_domain::metrics::{Metrics, Rate};

#[derive(Template)]
#[template(path = "cases/metrics.html")]
struct MetricsPage {
    p: PageCtx,
    month: String,
    prev: String,
    /// The next month, unless it has not begun.
    next: Option<String>,
    rows: Vec<Row>,
    total: Metrics,
    min_n: u64,
}

impl MetricsPage {
    /// "92.3%，n=412", or "—" without cases.
    fn rate(&self, r: &Rate) -> String {
        match r.value() {
            Some(v) => crate::i18n::fill(
                self.p.t("metrics.rate"),
                &[
                    ("pct", &format!("{:.1}", v * 100.0)),
                    ("n", &r.den.to_string()),
                ],
            ),
            None => "—".into(),
        }
    }
    fn hours(&self, m: &Metrics) -> String {
        m.mean_handling_hours
            .map(|h| format!("{h:.1}"))
            .unwrap_or_else(|| "—".into())
    }
    fn score(&self, m: &Metrics) -> String {
        m.composite
            .map(|s| format!("{s:.1}"))
            .unwrap_or_else(|| "—".into())
    }
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    #[serde(default)]
    month: String,
}

pub async fn page(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Response> {
    let m = month_metrics(&state, &auth, &q.month).await?;
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(state.config.timezone.clone())
        .date();
    let page = MetricsPage {
        p: PageCtx::new(&auth, &state),
        month: m.first.strftime("%Y-%m").to_string(),
        prev: m.prev_first.strftime("%Y-%m").to_string(),
        next: (m.next_first <= today).then(|| m.next_first.strftime("%Y-%m").to_string()),
        total: m.total,
        rows: m.units.into_iter().map(|(_, r)| r).collect(),
        min_n: MIN_N,
    };
    Ok(render(&page))
}

/// The month's table as XLSX: every column of the page, rates as numbers
/// (a share, formatted as a percentage) beside their denominators.
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> AppResult<Response> {
    use wenming_reports::table_xlsx::{Cell, write};
    let m = month_metrics(&state, &auth, &q.month).await?;
    let t = |k: &str| crate::i18n::t(auth.lang, k);
    let opt = |v: Option<f64>| v.map_or(Cell::Text(String::new()), Cell::Number);
    let rate = |r: &Rate| opt(r.value().map(|v| (v * 1000.0).round() / 10.0));
    let line = |rank: Cell, name: String, m: &Metrics| {
        vec![
            rank,
            Cell::Text(name),
            opt(m.composite.map(|s| (s * 10.0).round() / 10.0)),
            Cell::Number(m.due as f64),
            Cell::Number(m.voided as f64),
            Cell::Number(m.parked as f64),
            rate(&m.on_time_handling_rate),
            rate(&m.handling_rate),
            rate(&m.close_rate),
            rate(&m.on_time_close_rate),
            rate(&m.rework_rate),
            rate(&m.extension_rate),
            opt(m.mean_handling_hours.map(|h| (h * 10.0).round() / 10.0)),
            Cell::Number(m.overdue_now as f64),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = m
        .units
        .iter()
        .map(|(_, r)| {
            let rank = r
                .rank
                .map_or(Cell::Text(t("metrics.unranked").into()), |k| {
                    Cell::Number(k as f64)
                });
            line(rank, r.name.clone(), &r.m)
        })
        .collect();
    rows.push(line(
        Cell::Text(String::new()),
        t("metrics.whole_city").into(),
        &m.total,
    ));
    let pct = t("metrics.percent");
    let with_pct = |k: &str| format!("{}{pct}", t(k));
    let header: Vec<(String, f64)> = vec![
        (t("metrics.rank").into(), 8.0),
        (t("case.unit").into(), 22.0),
        (t("metrics.score").into(), 10.0),
        (t("metrics.due").into(), 10.0),
        (t("metrics.voided").into(), 10.0),
        (t("metrics.parked").into(), 10.0),
        (with_pct("metrics.on_time_handling"), 12.0),
        (with_pct("metrics.handling"), 12.0),
        (with_pct("metrics.close"), 12.0),
        (with_pct("metrics.on_time_close"), 12.0),
        (with_pct("metrics.rework"), 12.0),
        (with_pct("metrics.extension"), 12.0),
        (t("metrics.hours").into(), 12.0),
        (t("metrics.overdue_now").into(), 10.0),
    ];
    let header: Vec<(&str, f64)> = header.iter().map(|(h, w)| (h.as_str(), *w)).collect();
    let title = format!("{} · {}", t("metrics.title"), m.first.strftime("%Y-%m"));
    let bytes =
        write(t("metrics.title"), &title, &header, &rows).map_err(|_| AppError::Internal)?;
    let name = format!(
        "attachment; filename=\"metrics-{}.xlsx\"",
        m.first.strftime("%Y-%m")
    );
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}
