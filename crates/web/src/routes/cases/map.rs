//! Open cases on the grid: cells shaded by how many open cases lie in them,
//! a dot a case (red when overdue).

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::page::{PageCtx, render};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use std::collections::HashMap;
use wenming_domain::case::CaseState;
use wenming_domain::org::RegionLevel;
use wenming_domain::policy::Action;
use wenming_reports::map::{Area, Dot, Label, middle, svg};
use wenming_store::case::{self, CaseFilter};
use wenming_store::org;

/// At most this many cases are drawn; the count says when there are more.
const MAX_DOTS: usize = 3000;

#[derive(Template)]
#[template(path = "cases/map.html")]
struct MapPage {
    p: PageCtx,
    map: String,
    drawn: usize,
    overdue: usize,
    truncated: bool,
}

pub async fn page(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let scope = auth.scope(Action::ViewCases)?;
    let open = [
        CaseState::Reported,
        CaseState::Registered,
        CaseState::Dispatched,
        CaseState::Rework,
        CaseState::AwaitingApproval,
        CaseState::Parked,
        CaseState::Handled,
    ];
    let mut cases = vec![];
    let mut f = CaseFilter {
        states: open.to_vec(),
        limit: 500,
        ..Default::default()
    };
    loop {
        let (page, next) = case::list(&state.store, &scope, &f).await?;
        cases.extend(page);
        match next {
            Some(n) if cases.len() < MAX_DOTS => f.after = case::parse_cursor(&n),
            _ => break,
        }
    }
    let truncated = cases.len() >= MAX_DOTS;
    let now = jiff::Timestamp::now();
    let mut per_region: HashMap<uuid::Uuid, usize> = HashMap::new();
    for c in &cases {
        if let Some(r) = c.region_id {
            *per_region.entry(r).or_default() += 1;
        }
    }
    let max = per_region.values().copied().max().unwrap_or(1).max(1) as f64;
    let regions = match auth.scope(Action::ViewRegions) {
        Ok(rs) => org::list_regions(&state.store, &rs).await?,
        // Unit staff see their cases on the city's grid.
        Err(_) => org::list_regions(&state.store, &org::whole_city(&state.store).await?).await?,
    };
    let grids: Vec<_> = regions
        .iter()
        .filter(|r| r.level == RegionLevel::Grid && r.boundary.is_some())
        .collect();
    let labels: Vec<String> = grids
        .iter()
        .map(|r| {
            crate::i18n::fill(
                crate::i18n::t(auth.lang, "map.cell"),
                &[
                    ("name", &r.name),
                    (
                        "n",
                        &per_region.get(&r.id).copied().unwrap_or(0).to_string(),
                    ),
                ],
            )
        })
        .collect();
    let areas: Vec<Area> = grids
        .iter()
        .zip(&labels)
        .map(|(r, label)| Area {
            geometry: r.boundary.as_ref().expect("filtered on boundary"),
            label,
            intensity: per_region.get(&r.id).copied().unwrap_or(0) as f64 / max,
            href: auth
                .may(Action::ViewRegions)
                .then(|| format!("/regions/{}", r.id)),
        })
        .collect();
    let dots: Vec<Dot> = cases
        .iter()
        .filter_map(|c| {
            let p = c.point?;
            Some(Dot {
                lon: p.lon,
                lat: p.lat,
                class: if c.overdue(now) { "overdue" } else { "open" },
                warn: c.overdue(now),
                title: format!("{} {}", c.number, c.category_name),
                href: Some(format!("/cases/{}", c.id)),
            })
        })
        .collect();
    // Districts and streets are named where their cells lie.
    let cell_middles: Vec<(&str, (f64, f64))> = grids
        .iter()
        .filter_map(|g| Some((g.path.as_str(), middle(g.boundary.as_ref()?)?)))
        .collect();
    let named: Vec<(&str, &str, (f64, f64))> = regions
        .iter()
        .filter_map(|r| {
            let class = match r.level {
                RegionLevel::District => "district",
                RegionLevel::Street => "street",
                _ => return None,
            };
            let inside: Vec<(f64, f64)> = cell_middles
                .iter()
                .filter(|(path, _)| path.starts_with(r.path.as_str()))
                .map(|(_, m)| *m)
                .collect();
            if inside.is_empty() {
                return None;
            }
            let n = inside.len() as f64;
            let lon = inside.iter().map(|p| p.0).sum::<f64>() / n;
            // A district's name goes over its top row of cells, clear of
            // the names of the streets in it, which sit in their middles.
            let lat = match r.level {
                RegionLevel::District => inside.iter().map(|p| p.1).fold(f64::MIN, f64::max),
                _ => inside.iter().map(|p| p.1).sum::<f64>() / n,
            };
            let at = (lon, lat);
            Some((r.name.as_str(), class, at))
        })
        .collect();
    let labels: Vec<Label> = named
        .iter()
        .map(|(text, class, (lon, lat))| Label {
            lon: *lon,
            lat: *lat,
            text,
            class,
        })
        .collect();
    let page = MapPage {
        map: svg(
            &areas,
            &dots,
            &labels,
            800.0,
            crate::i18n::t(auth.lang, "map.title"),
        ),
        drawn: dots.len(),
        overdue: dots.iter().filter(|d| d.class == "overdue").count(),
        truncated,
        p: PageCtx::new(&auth, &state),
    };
    Ok(render(&page))
}
