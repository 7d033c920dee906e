//! The first page after login: what needs this person now, most urgent
//! first (`service::queue`), then what they look after and where to go.

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppResult;
use crate::i18n;
use crate::page::{PageCtx, render};
use crate::service::queue;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use wenming_domain::account::Role;
use wenming_domain::inspection::Score;
use wenming_domain::org::Unit;
use wenming_domain::policy::Action;
use wenming_store::{accounts, org};

pub struct CountRow {
    pub label: &'static str,
    pub n: i64,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    p: PageCtx,
    greeting: String,
    /// Each role with the region or unit it covers, in one line.
    grants: String,
    counts: Vec<CountRow>,
    /// Units in scope missing a liaison phone: escalations cannot reach them.
    units_without_phone: usize,
    my_unit: Option<Unit>,
    can_units: bool,
    can_regions: bool,
    can_manage: bool,
    can_users: bool,
    /// Tasks visible to the user: all, overdue, and (for the office) standards not yet assigned.
    tasks: Option<(usize, usize, usize)>,
    office: Option<queue::OfficeQueue>,
    unit: Option<queue::UnitQueue>,
    inspector: Option<queue::InspectorQueue>,
    /// Sites of open rounds the inspector has not inspected yet.
    sites: Vec<crate::api::rounds::AssignmentDto>,
    leader: Option<std::sync::Arc<queue::LeaderSummary>>,
    now: jiff::Timestamp,
}

impl HomePage {
    /// A rate as a percentage to one decimal, or a dash.
    fn pct(&self, r: &wenming_domain::metrics::Rate) -> String {
        r.value()
            .map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_else(|| "—".into())
    }
    fn ask_label(&self, c: &wenming_store::case::Case) -> &'static str {
        use wenming_domain::case::Ask;
        let key = match c.pending_ask {
            Some(Ask::Extend { .. }) => "ask_kind.extend",
            Some(Ask::Park) => "ask_kind.park",
            Some(Ask::Return) => "ask_kind.return",
            None => return "",
        };
        self.p.t(key)
    }
    fn score(&self, s: &Option<f64>) -> String {
        s.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
    }
    /// The change of a round's pass rate from the one before, in points.
    fn change(&self, now: &Score, before: &Option<Score>) -> String {
        match (now.rate(), before.and_then(|b| b.rate())) {
            (Some(a), Some(b)) => format!("{:+.1}", (a - b) * 100.0),
            _ => "—".into(),
        }
    }
}

pub async fn home(State(state): State<AppState>, auth: Auth) -> AppResult<Response> {
    let p = PageCtx::new(&auth, &state);
    let role = auth.actor.primary_role();
    let grants = accounts::grants_of(&state.store, auth.user.id)
        .await?
        .into_iter()
        .map(|g| {
            let role = p.t(&format!("role.{}", g.role.code()));
            i18n::fill(
                p.t("home.grant"),
                &[("role", role), ("scope", &g.scope_name)],
            )
        })
        .collect::<Vec<_>>()
        .join(p.t("common.list_separator"));
    let greeting = i18n::fill(p.t("home.hello"), &[("name", &auth.user.display_name)]);
    let mut counts = vec![];
    let mut units_without_phone = 0;
    if let Ok(scope) = auth.scope(Action::ViewRegions) {
        let c = org::counts(&state.store, &scope).await?;
        for (level, n) in c.regions {
            counts.push(CountRow {
                label: p.t(&format!("region_level.{}", level.code())),
                n,
            });
        }
    }
    if let Ok(scope) = auth.scope(Action::ViewUnits) {
        let c = org::counts(&state.store, &scope).await?;
        counts.push(CountRow {
            label: p.t("home.active_units"),
            n: c.active_units,
        });
        if auth.may(Action::ManageUnits) {
            units_without_phone =
                org::units_without_liaison_phone(&state.store, &scope).await? as usize;
        }
    }
    let my_unit = match auth.user.unit_id {
        Some(id) if role == Some(Role::UnitStaff) => {
            let scope = auth.scope(Action::ViewUnits)?;
            org::get_unit(&state.store, &scope, id).await.ok()
        }
        _ => None,
    };
    let tasks = match (
        auth.scope(Action::ViewTasks),
        wenming_store::framework::active(&state.store).await?,
    ) {
        (Ok(scope), Some(f)) => {
            let filter = wenming_store::task::TaskFilter {
                framework_id: Some(f.id),
                ..Default::default()
            };
            let all = wenming_store::task::list(&state.store, &scope, &filter).await?;
            let day = crate::service::today(&state);
            let overdue = all
                .iter()
                .filter(|t| t.state(day) == wenming_domain::task::TaskState::Overdue)
                .count();
            let uncovered = if auth.may(Action::ManageTasks) {
                wenming_store::task::coverage(&state.store, f.id)
                    .await?
                    .len()
            } else {
                0
            };
            Some((all.len(), overdue, uncovered))
        }
        _ => None,
    };
    let actor = crate::service::case_actor(&auth);
    let works = auth.may(Action::WorkCases);
    let office = if actor.office {
        Some(queue::office(&state, &auth).await?)
    } else {
        None
    };
    let unit = if works && !actor.units.is_empty() {
        Some(queue::unit(&state, &auth, &actor).await?)
    } else {
        None
    };
    let inspector = if works && auth.actor.has_role(Role::Inspector) {
        Some(queue::inspector(&state, &auth).await?)
    } else {
        None
    };
    let sites = if inspector.is_some() {
        crate::api::rounds::assignments_of(&state, auth.user.id)
            .await?
            .into_iter()
            .filter(|a| a.site.inspected_at.is_none())
            .collect()
    } else {
        vec![]
    };
    let leader = if auth.actor.has_role(Role::Leader) && auth.may(Action::ViewCases) {
        Some(queue::leader(&state, &auth).await?)
    } else {
        None
    };
    let page = HomePage {
        office,
        unit,
        inspector,
        sites,
        leader,
        now: jiff::Timestamp::now(),
        tasks,
        greeting,
        grants,
        counts,
        units_without_phone,
        my_unit,
        can_units: auth.may(Action::ViewUnits),
        can_regions: auth.may(Action::ViewRegions),
        can_manage: auth.may(Action::ManageUnits),
        can_users: auth.may(Action::ManageUsers),
        p,
    };
    Ok(render(&page))
}
