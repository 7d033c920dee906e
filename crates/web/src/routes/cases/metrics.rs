//! Case metrics per unit for a month, and the ranking (红黑榜).

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::extract::ApiQuery;
use crate::page::{PageCtx, render};
use crate::service::metrics::{MIN_N, Row, month_metrics};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use wenming_domain::metrics::{Metrics, Rate};

#[derive(Template)]
#[template(path = "cases/metrics.html")]
struct MetricsPage {
    p: PageCtx,
    month: String,
    prev: String,
    next: String,
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
    let page = MetricsPage {
        p: PageCtx::new(&auth, &state),
        month: m.first.strftime("%Y-%m").to_string(),
        prev: m.prev_first.strftime("%Y-%m").to_string(),
        next: m.next_first.strftime("%Y-%m").to_string(),
        total: m.total,
        rows: m.units.into_iter().map(|(_, r)| r).collect(),
        min_n: MIN_N,
    };
    Ok(render(&page))
}
