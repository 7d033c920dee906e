//! Ranking lists as pages and the API share them: each subject's entries
//! computed from the records (handling metrics, on-site findings, survey
//! rates, 民评官 results), and the list's life (draft → approved by a
//! second account → published frozen → corrected) with appeals.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::org::RegionLevel;
use wenming_domain::policy::{Action, Scope};
use wenming_domain::ranking::{Entry, ListSpec, Subject};
use wenming_store::ranking::{self as rk, Edition, EditionState, List};

fn entry(subject_id: Uuid, name: String, value: f64, n: u64) -> Entry {
    Entry {
        subject_id,
        name,
        value,
        n,
        rank: None,
        mark: None,
        struck: None,
    }
}

async fn city(state: &AppState) -> AppResult<Scope> {
    Ok(wenming_store::org::whole_city(&state.store).await?)
}

/// A list's definition as a form or a body gives it.
pub struct RawSpec<'a> {
    pub name: &'a str,
    pub subject: &'a str,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub round_kinds: Vec<String>,
    pub source_id: Option<Uuid>,
    pub question: Option<String>,
    pub min_n: i64,
    pub red: i64,
    pub black: i64,
    pub appeal_days: i64,
    /// A value in the list's own terms (a rate 0-1, a score).
    pub black_below: Option<f64>,
    pub public: bool,
}

/// Reads a definition, naming every bad field.
pub fn parse_spec(r: RawSpec) -> AppResult<ListSpec> {
    let mut e = wenming_domain::FieldErrors::new();
    let subject = Subject::parse(r.subject.trim());
    if subject.is_none() {
        e.add("subject", "invalid_choice");
    }
    let from = r.period_from.trim().parse::<jiff::civil::Date>();
    if from.is_err() {
        e.add("period_from", "invalid_date");
    }
    let to = r.period_to.trim().parse::<jiff::civil::Date>();
    if to.is_err() {
        e.add("period_to", "invalid_date");
    }
    match (subject, from, to) {
        (Some(subject), Ok(period_from), Ok(period_to)) if e.is_empty() => {
            let spec = ListSpec {
                name: r.name.trim().into(),
                subject,
                period_from,
                period_to,
                round_kinds: r.round_kinds,
                source_id: r.source_id,
                question: r.question.filter(|q| !q.trim().is_empty()),
                min_n: r.min_n,
                red: r.red,
                black: r.black,
                black_below: r.black_below,
                public: r.public,
                appeal_days: r.appeal_days,
            };
            spec.validate()?;
            Ok(spec)
        }
        _ => Err(e.into()),
    }
}

/// The entries of a list as the records stand now (unranked: the store
/// ranks them with the list's rule).
pub async fn compute(state: &AppState, spec: &ListSpec) -> AppResult<Vec<Entry>> {
    spec.validate()?;
    let store = &state.store;
    let scope = city(state).await?;
    Ok(match spec.subject {
        Subject::UnitHandling => {
            let month = format!(
                "{:04}-{:02}",
                spec.period_from.year(),
                spec.period_from.month()
            );
            super::metrics::month_metrics_in(state, &scope, &month, &[])
                .await?
                .units
                .into_iter()
                .filter_map(|(id, row)| Some(entry(id, row.name, row.m.composite?, row.m.due)))
                .collect()
        }
        Subject::SiteOnSite | Subject::StreetOnSite | Subject::CommunityOnSite => {
            let rounds =
                rk::rounds_in(store, spec.period_from, spec.period_to, &spec.round_kinds).await?;
            let sites = rk::site_scores(store, &rounds).await?;
            if spec.subject == Subject::SiteOnSite {
                sites
                    .into_iter()
                    .filter(|s| s.made > 0)
                    .map(|s| entry(s.site_id, s.name, s.met as f64 / s.made as f64, s.made))
                    .collect()
            } else {
                let level = if spec.subject == Subject::StreetOnSite {
                    RegionLevel::Street
                } else {
                    RegionLevel::Community
                };
                wenming_store::org::list_regions(store, &scope)
                    .await?
                    .into_iter()
                    .filter(|r| r.level == level)
                    .filter_map(|r| {
                        let (met, made) = sites
                            .iter()
                            .filter(|s| s.region_path.starts_with(&r.path))
                            .fold((0, 0), |a, s| (a.0 + s.met, a.1 + s.made));
                        (made > 0).then(|| entry(r.id, r.name, met as f64 / made as f64, made))
                    })
                    .collect()
            }
        }
        Subject::CommunitySatisfaction => {
            let wave = spec.source_id.ok_or(AppError::NotFound)?;
            let r = super::surveys::results(state, wave).await?;
            let question = spec.question.clone().unwrap_or_default();
            let communities: HashMap<Uuid, String> =
                wenming_store::org::list_regions(store, &scope)
                    .await?
                    .into_iter()
                    .filter(|x| x.level == RegionLevel::Community)
                    .map(|x| (x.id, x.name))
                    .collect();
            if !r
                .doc
                .questions
                .iter()
                .any(|q| q.code == question && q.rate.is_some())
            {
                return Err(wenming_domain::FieldErrors::single("question", "not_found").into());
            }
            r.results
                .rates
                .iter()
                .filter(|x| x.question == question && x.group.is_none())
                .filter_map(|x| {
                    let name = communities.get(&x.region_id)?;
                    let p = x.weighted.as_ref().map_or(x.estimate.p, |w| w.estimate.p);
                    Some(entry(x.region_id, name.clone(), p, x.n))
                })
                .collect()
        }
        Subject::UnitRating => {
            rk::rating_entries(store, spec.source_id.ok_or(AppError::NotFound)?).await?
        }
    })
}

/// A list with its editions and appeals, as the viewer may see them:
/// drafts and appeals of other units are the office's.
pub struct ListView {
    pub list: List,
    pub editions: Vec<Edition>,
    pub appeals: Vec<rk::Appeal>,
    pub can_manage: bool,
}

pub async fn view(state: &AppState, auth: &Auth, id: Uuid) -> AppResult<ListView> {
    let scope = auth.scope(Action::ViewRankings)?;
    let can_manage = auth.may(Action::ManageRankings);
    let list = rk::list(&state.store, id).await?;
    let editions: Vec<Edition> = rk::editions(&state.store, id)
        .await?
        .into_iter()
        .filter(|e| {
            can_manage || matches!(e.state, EditionState::Published | EditionState::Superseded)
        })
        .collect();
    if editions.is_empty() {
        return Err(AppError::NotFound);
    }
    let appeals = rk::appeals(&state.store, id)
        .await?
        .into_iter()
        .filter(|a| can_manage || scope.unit_ids.contains(&a.unit_id))
        .collect();
    Ok(ListView {
        list,
        editions,
        appeals,
        can_manage,
    })
}

/// The lists the viewer may open: all for the office, published ones for
/// everyone else.
pub async fn lists(state: &AppState, auth: &Auth) -> AppResult<Vec<(List, Option<Edition>)>> {
    auth.scope(Action::ViewRankings)?;
    let can_manage = auth.may(Action::ManageRankings);
    let mut out = vec![];
    for l in rk::lists(&state.store).await? {
        let editions = rk::editions(&state.store, l.id).await?;
        let shown = editions
            .into_iter()
            .find(|e| can_manage || e.state == EditionState::Published);
        if can_manage || shown.is_some() {
            out.push((l, shown));
        }
    }
    Ok(out)
}

/// Photos a public site list shows of each black-listed site.
pub const EXPOSED_PER_SITE: i64 = 3;

/// One exposed photo of a public list, for anyone: its thumbnail, which
/// carries no camera metadata. Only a photo of a failure at a site on the
/// black list of the published edition is served.
pub async fn exposed_photo(state: &AppState, list: Uuid, photo: Uuid) -> AppResult<bytes::Bytes> {
    let (l, e) = public(state, list).await?;
    let shown = rk::exposure(&state.store, &l.spec, &e, EXPOSED_PER_SITE).await?;
    if !shown.iter().any(|(_, p)| *p == photo) {
        return Err(AppError::NotFound);
    }
    Ok(state
        .config
        .files
        .get(&wenming_store::photo::thumbnail_key(photo))
        .await?)
}

/// The published edition of a public list, for anyone.
pub async fn public(state: &AppState, id: Uuid) -> AppResult<(List, Edition)> {
    let list = rk::list(&state.store, id).await?;
    if !list.spec.public {
        return Err(AppError::NotFound);
    }
    let e = rk::editions(&state.store, id)
        .await?
        .into_iter()
        .find(|e| e.state == EditionState::Published)
        .ok_or(AppError::NotFound)?;
    Ok((list, e))
}

/// The week's 十佳十差 of sites from patrol rounds, ready to draft.
pub fn weekly_sites(today: jiff::civil::Date) -> ListSpec {
    let from = today
        .checked_sub(jiff::Span::new().days(6))
        .unwrap_or(today);
    ListSpec {
        name: format!("点位十佳十差（{from} 至 {today}）"),
        subject: Subject::SiteOnSite,
        period_from: from,
        period_to: today,
        round_kinds: vec!["patrol".into()],
        source_id: None,
        question: None,
        min_n: 3,
        red: 10,
        black: 10,
        black_below: Some(0.85),
        public: false,
        appeal_days: 7,
    }
}

/// The spreadsheet of an edition: rank, name, value, n, list.
pub fn xlsx(list: &List, e: &Edition) -> AppResult<Vec<u8>> {
    use wenming_reports::table_xlsx::{Cell, Sheet, write_sheets};
    let header = [
        ("名次", 8.0),
        ("名称", 32.0),
        ("得分", 10.0),
        ("样本数", 10.0),
        ("榜单", 8.0),
        ("更正说明", 30.0),
    ];
    let rows: Vec<Vec<Cell>> = e
        .entries
        .iter()
        .map(|x| {
            vec![
                x.rank
                    .map_or(Cell::Text("—".into()), |r| Cell::Number(r as f64)),
                Cell::Text(x.name.clone()),
                Cell::Text(shown_value(list.spec.subject, x.value)),
                Cell::Number(x.n as f64),
                Cell::Text(match x.mark {
                    Some(wenming_domain::ranking::Mark::Red) => "红榜".into(),
                    Some(wenming_domain::ranking::Mark::Black) => "黑榜".into(),
                    None => String::new(),
                }),
                Cell::Text(x.struck.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let title = format!("{}（第{}版）", list.spec.name, e.number);
    write_sheets(&[Sheet {
        name: "榜单",
        title: &title,
        header: &header,
        rows: &rows,
    }])
    .map_err(|_| AppError::Internal)
}

/// A value as a list shows it: a rate in percent, a score as it is.
pub fn shown_value(subject: Subject, v: f64) -> String {
    match subject {
        Subject::UnitHandling | Subject::UnitRating => format!("{v:.1}"),
        _ => format!("{:.1}%", v * 100.0),
    }
}
