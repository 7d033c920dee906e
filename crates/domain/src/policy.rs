//! The one place that decides what an actor may do: `(actor, action,
//! resource) -> Decision`, and the row scope repositories filter by.
//!
//! Out-of-scope records answer `NotFound`, never `Forbidden`, so that probing
//! ids cannot reveal what exists in another unit or district.

use crate::account::Role;
use serde::Serialize;
use std::marker::PhantomData;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ViewRegions,
    ManageRegions,
    ViewUnits,
    ManageUnits,
    ViewUsers,
    ManageUsers,
    ViewAudit,
    /// Read the evaluation framework; every role needs it.
    ViewFramework,
    /// Import, edit, clone and activate frameworks: city-wide only.
    ManageFramework,
    /// See tasks: one's own unit's, or those of units in one's regions.
    ViewTasks,
    /// Assign standards to units as tasks: city-wide only.
    ManageTasks,
    /// Report progress on a task one's unit leads.
    ReportProgress,
    /// See cases: in one's regions, or with one's unit.
    ViewCases,
    /// Report a problem as a case.
    ReportCases,
    /// Take workflow steps on cases (the workflow decides which).
    WorkCases,
    /// See sites: in one's regions, or those one's unit sponsors.
    ViewSites,
    /// Keep the site register and its types.
    ManageSites,
    /// See inspection rounds, their reports and findings.
    ViewRounds,
    /// Draw rounds, send inspectors, close rounds, import third-party results.
    ManageRounds,
    /// Record findings at the sites one is sent to.
    Inspect,
    /// See evidence requirements and materials: one's own unit's, or all.
    ViewEvidence,
    /// File materials for one's unit's requirements.
    SubmitEvidence,
    /// Set requirements and the filing window, accept or return materials.
    ReviewEvidence,
    /// See questionnaires, waves and their results.
    ViewSurveys,
    /// Design and publish questionnaires, plan, open and close waves.
    ManageSurveys,
    /// Enter answers as an interviewer or a clerk typing in paper forms.
    AnswerSurveys,
    /// See 民评官 rounds and results: every unit's, or one's own unit's.
    ViewRatings,
    /// Run 民评官 rounds and moderate their comments.
    ManageRatings,
    /// See the projected score, its weak links and the cockpit.
    ViewScoring,
    /// Record assessments, negative-list events, gate and yearly results;
    /// take snapshots of the projection.
    ManageScoring,
    /// See ranking lists: published ones, and drafts for the office.
    ViewRankings,
    /// Define, compute, approve, publish and correct ranking lists; decide
    /// appeals.
    ManageRankings,
    /// Appeal one's own unit's entry on a published list.
    AppealRankings,
}

impl Action {
    pub const ALL: [Action; 33] = [
        Action::ViewRegions,
        Action::ManageRegions,
        Action::ViewUnits,
        Action::ManageUnits,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::ViewAudit,
        Action::ViewFramework,
        Action::ManageFramework,
        Action::ViewTasks,
        Action::ManageTasks,
        Action::ReportProgress,
        Action::ViewCases,
        Action::ReportCases,
        Action::WorkCases,
        Action::ViewSites,
        Action::ManageSites,
        Action::ViewRounds,
        Action::ManageRounds,
        Action::Inspect,
        Action::ViewEvidence,
        Action::SubmitEvidence,
        Action::ReviewEvidence,
        Action::ViewSurveys,
        Action::ManageSurveys,
        Action::AnswerSurveys,
        Action::ViewRatings,
        Action::ManageRatings,
        Action::ViewScoring,
        Action::ManageScoring,
        Action::ViewRankings,
        Action::ManageRankings,
        Action::AppealRankings,
    ];

    /// The roles whose grants carry this action.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Action::ViewRegions => &[Administrator, Office, Inspector, Leader],
            Action::ManageRegions => &[Administrator, Office],
            Action::ViewUnits => &[Administrator, Office, Inspector, Leader, UnitStaff],
            Action::ManageUnits => &[Administrator, Office],
            Action::ViewUsers | Action::ManageUsers => &[Administrator],
            Action::ViewAudit => &[Administrator, Office],
            Action::ViewFramework => &[Administrator, Office, Inspector, UnitStaff, Leader],
            Action::ManageFramework => &[Administrator, Office],
            Action::ViewTasks => &[Administrator, Office, Inspector, UnitStaff, Leader],
            Action::ManageTasks => &[Administrator, Office],
            Action::ReportProgress => &[Administrator, Office, UnitStaff],
            Action::ViewCases => &[Administrator, Office, Inspector, UnitStaff, Leader],
            Action::ReportCases => &[Administrator, Office, Inspector],
            Action::WorkCases => &[Administrator, Office, Inspector, UnitStaff],
            Action::ViewSites => &[Administrator, Office, Inspector, UnitStaff, Leader],
            Action::ManageSites => &[Administrator, Office],
            Action::ViewRounds => &[Administrator, Office, Inspector, Leader],
            Action::ManageRounds => &[Administrator, Office],
            Action::Inspect => &[Administrator, Office, Inspector],
            Action::ViewEvidence => &[Administrator, Office, UnitStaff, Leader],
            Action::SubmitEvidence => &[Administrator, Office, UnitStaff],
            Action::ReviewEvidence => &[Administrator, Office],
            Action::ViewSurveys => &[Administrator, Office, Inspector, Leader],
            Action::ManageSurveys => &[Administrator, Office],
            Action::AnswerSurveys => &[Administrator, Office, Inspector],
            Action::ViewRatings => &[Administrator, Office, Inspector, Leader, UnitStaff],
            Action::ManageRatings => &[Administrator, Office],
            Action::ViewScoring => &[Administrator, Office, Leader],
            Action::ManageScoring => &[Administrator, Office],
            Action::ViewRankings => &[Administrator, Office, Inspector, Leader, UnitStaff],
            Action::ManageRankings => &[Administrator, Office],
            Action::AppealRankings => &[Administrator, Office, UnitStaff],
        }
    }

    /// Anything that is not a view changes data. Listed this way round so
    /// that a new action is a write (refused to read-only tokens) unless it
    /// is declared a view.
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Action::ViewRegions
                | Action::ViewUnits
                | Action::ViewUsers
                | Action::ViewAudit
                | Action::ViewFramework
                | Action::ViewTasks
                | Action::ViewCases
                | Action::ViewSites
                | Action::ViewRounds
                | Action::ViewEvidence
                | Action::ViewSurveys
                | Action::ViewRatings
                | Action::ViewScoring
                | Action::ViewRankings
        )
    }

    /// The read action whose scope decides whether a refused write is
    /// `Forbidden` (you can see it) or `NotFound` (you cannot).
    fn view_counterpart(self) -> Action {
        match self {
            Action::ManageRegions => Action::ViewRegions,
            Action::ManageUnits => Action::ViewUnits,
            Action::ManageUsers => Action::ViewUsers,
            Action::ManageFramework => Action::ViewFramework,
            Action::ManageTasks | Action::ReportProgress => Action::ViewTasks,
            Action::ReportCases | Action::WorkCases => Action::ViewCases,
            Action::ManageSites => Action::ViewSites,
            Action::ManageRounds | Action::Inspect => Action::ViewRounds,
            Action::SubmitEvidence | Action::ReviewEvidence => Action::ViewEvidence,
            Action::ManageSurveys | Action::AnswerSurveys => Action::ViewSurveys,
            Action::ManageRatings => Action::ViewRatings,
            Action::ManageScoring => Action::ViewScoring,
            Action::ManageRankings | Action::AppealRankings => Action::ViewRankings,
            other => other,
        }
    }
}

/// Where a grant reaches, resolved to what scoping needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A region subtree; `path` is the region's materialised path.
    Region {
        id: Uuid,
        path: String,
    },
    Unit {
        id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorGrant {
    pub role: Role,
    pub reach: Reach,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub display_name: String,
    pub grants: Vec<ActorGrant>,
    /// An API token issued for reading only.
    pub read_only: bool,
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// The role whose home page the actor sees first: the most powerful one.
    pub fn primary_role(&self) -> Option<Role> {
        self.grants.iter().map(|g| g.role).min()
    }

    pub fn may(&self, action: Action) -> bool {
        scope_for(self, action).is_some()
    }
}

/// The rows an actor may touch for one action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// Region paths whose subtrees are covered.
    pub region_paths: Vec<String>,
    pub unit_ids: Vec<Uuid>,
}

impl Scope {
    /// A root region's path has one segment: `/id/`.
    pub fn is_everything(&self) -> bool {
        self.region_paths
            .iter()
            .any(|p| p.matches('/').count() == 2)
    }
    pub fn covers_region(&self, path: &str) -> bool {
        self.region_paths
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    }
    pub fn covers_unit(&self, unit_id: Uuid, unit_region_path: &str) -> bool {
        self.unit_ids.contains(&unit_id) || self.covers_region(unit_region_path)
    }
    /// A scope that sees every row; for system jobs and the command line.
    pub fn everything(root_path: &str) -> Self {
        Scope {
            region_paths: vec![root_path.to_string()],
            unit_ids: vec![],
        }
    }
}

pub fn scope_for(actor: &Actor, action: Action) -> Option<Scope> {
    if action.is_write() && actor.read_only {
        return None;
    }
    let roles = action.roles();
    let mut scope = Scope::default();
    let mut any = false;
    for g in actor.grants.iter().filter(|g| roles.contains(&g.role)) {
        any = true;
        match &g.reach {
            Reach::Region { path, .. } => scope.region_paths.push(path.clone()),
            Reach::Unit { id } => scope.unit_ids.push(*id),
        }
    }
    // User accounts and the framework span units and districts, so only
    // city-wide grants manage them.
    if matches!(
        action,
        Action::ViewUsers | Action::ManageUsers | Action::ManageFramework
    ) && !scope.is_everything()
    {
        return None;
    }
    any.then_some(scope)
}

/// A write action named as a type, so that a store function can demand a
/// grant for exactly that action.
pub trait Permission {
    const ACTION: Action;
}

/// The write actions as types: `Permit<may::ManageTasks>`.
pub mod may {
    macro_rules! permissions {
        ($($name:ident),* $(,)?) => {$(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl super::Permission for $name {
                const ACTION: super::Action = super::Action::$name;
            }
        )*};
    }
    permissions!(
        ManageRegions,
        ManageUnits,
        ManageUsers,
        ManageFramework,
        ManageTasks,
        ReportProgress,
        ReportCases,
        WorkCases,
        ManageSites,
        ManageRounds,
        Inspect,
        SubmitEvidence,
        ReviewEvidence,
        ManageSurveys,
        AnswerSurveys,
        ManageRatings,
        ManageScoring,
        ManageRankings,
        AppealRankings,
    );
}

/// What the policy hands out (a typed grant): one action, over the rows it
/// reaches. Every
/// store function that writes takes one, and only this module makes them
/// (from an actor's grants, or for the system itself), so a write that was
/// never checked does not compile. The store still checks the rows it
/// touches against `scope()`, inside its transaction.
#[derive(Debug, Clone)]
pub struct Permit<P> {
    scope: Scope,
    user_id: Option<Uuid>,
    _action: PhantomData<fn() -> P>,
}

impl<P: Permission> Permit<P> {
    /// The actor's grant for `P`, if any of its roles carries it.
    pub fn of(actor: &Actor) -> Option<Self> {
        scope_for(actor, P::ACTION).map(|scope| Permit {
            scope,
            user_id: Some(actor.user_id),
            _action: PhantomData,
        })
    }

    /// The system's own grant (jobs, the command line, the demo): the whole
    /// city, given its root region's path.
    pub fn system(root_path: &str) -> Self {
        Permit {
            scope: Scope::everything(root_path),
            user_id: None,
            _action: PhantomData,
        }
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The account acting, None for the system.
    pub fn user_id(&self) -> Option<Uuid> {
        self.user_id
    }

    pub fn is_city_wide(&self) -> bool {
        self.scope.is_everything()
    }

    /// Whether the grant reaches a record (the policy's own rule).
    pub fn covers(&self, resource: Resource<'_>) -> bool {
        covers(&self.scope, resource)
    }
}

fn covers(scope: &Scope, resource: Resource<'_>) -> bool {
    match resource {
        Resource::Collection | Resource::User => true,
        Resource::Region { path } => scope.covers_region(path),
        Resource::Unit { id, region_path } => scope.covers_unit(id, region_path),
        Resource::Held { region_path, unit } => {
            scope.covers_region(region_path) || unit.is_some_and(|u| scope.unit_ids.contains(&u))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// A list or a form to create: only the role matters.
    Collection,
    Region {
        path: &'a str,
    },
    Unit {
        id: Uuid,
        region_path: &'a str,
    },
    User,
    /// A record seen by those who see its region or belong to its unit (a
    /// site and its sponsor unit).
    Held {
        region_path: &'a str,
        unit: Option<Uuid>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Forbidden,
    NotFound,
}

pub fn decide(actor: &Actor, action: Action, resource: Resource<'_>) -> Decision {
    let covers = |scope: &Scope| covers(scope, resource);
    if let Some(scope) = scope_for(actor, action)
        && covers(&scope)
    {
        return Decision::Allow;
    }
    if matches!(resource, Resource::Collection) {
        return Decision::Forbidden;
    }
    match scope_for(actor, action.view_counterpart()) {
        Some(view) if covers(&view) && action.is_write() => Decision::Forbidden,
        Some(_) => Decision::NotFound,
        None => Decision::Forbidden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CITY: &str = "/c/";
    const EAST: &str = "/c/east/";
    const WEST: &str = "/c/west/";

    fn actor(grants: Vec<(Role, Reach)>) -> Actor {
        Actor {
            user_id: Uuid::nil(),
            display_name: "t".into(),
            grants: grants
                .into_iter()
                .map(|(role, reach)| ActorGrant { role, reach })
                .collect(),
            read_only: false,
        }
    }
    fn region(path: &str) -> Reach {
        Reach::Region {
            id: Uuid::nil(),
            path: path.into(),
        }
    }

    #[test]
    fn unit_staff_see_their_unit_and_nothing_else() {
        let mine = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let a = actor(vec![(Role::UnitStaff, Reach::Unit { id: mine })]);
        let res = |id| Resource::Unit {
            id,
            region_path: EAST,
        };
        assert_eq!(decide(&a, Action::ViewUnits, res(mine)), Decision::Allow);
        assert_eq!(
            decide(&a, Action::ViewUnits, res(other)),
            Decision::NotFound
        );
        assert_eq!(
            decide(&a, Action::ManageUnits, res(mine)),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&a, Action::ManageUnits, res(other)),
            Decision::NotFound
        );
        assert_eq!(
            decide(&a, Action::ViewRegions, Resource::Collection),
            Decision::Forbidden
        );
    }

    #[test]
    fn district_office_manages_its_subtree_only() {
        let a = actor(vec![(Role::Office, region(EAST))]);
        let r = |p| Resource::Region { path: p };
        assert_eq!(
            decide(&a, Action::ManageRegions, r("/c/east/s1/")),
            Decision::Allow
        );
        assert_eq!(
            decide(&a, Action::ManageRegions, r(WEST)),
            Decision::NotFound
        );
        assert_eq!(decide(&a, Action::ViewRegions, r(CITY)), Decision::NotFound);
        assert_eq!(
            decide(&a, Action::ManageUsers, Resource::Collection),
            Decision::Forbidden
        );
    }

    #[test]
    fn leaders_read_but_never_write() {
        let a = actor(vec![(Role::Leader, region(CITY))]);
        assert_eq!(
            decide(
                &a,
                Action::ViewUnits,
                Resource::Unit {
                    id: Uuid::nil(),
                    region_path: WEST
                }
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                &a,
                Action::ManageUnits,
                Resource::Unit {
                    id: Uuid::nil(),
                    region_path: WEST
                }
            ),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&a, Action::ViewAudit, Resource::Collection),
            Decision::Forbidden
        );
    }

    #[test]
    fn user_management_needs_a_city_wide_administrator() {
        let city = actor(vec![(Role::Administrator, region(CITY))]);
        let district = actor(vec![(Role::Administrator, region(EAST))]);
        assert_eq!(
            decide(&city, Action::ManageUsers, Resource::Collection),
            Decision::Allow
        );
        assert_eq!(
            decide(&district, Action::ManageUsers, Resource::Collection),
            Decision::Forbidden
        );
    }

    #[test]
    fn only_a_city_wide_office_edits_the_framework() {
        let city = actor(vec![(Role::Office, region(CITY))]);
        let district = actor(vec![(Role::Office, region(EAST))]);
        let unit = actor(vec![(Role::UnitStaff, Reach::Unit { id: Uuid::nil() })]);
        assert_eq!(
            decide(&city, Action::ManageFramework, Resource::Collection),
            Decision::Allow
        );
        assert_eq!(
            decide(&district, Action::ManageFramework, Resource::Collection),
            Decision::Forbidden
        );
        assert_eq!(
            decide(&unit, Action::ViewFramework, Resource::Collection),
            Decision::Allow
        );
    }

    #[test]
    fn read_only_tokens_cannot_write() {
        let mut a = actor(vec![(Role::Administrator, region(CITY))]);
        a.read_only = true;
        for action in Action::ALL {
            let name = format!("{action:?}");
            assert_eq!(
                a.may(action),
                name.starts_with("View"),
                "{name} for a read-only token"
            );
        }
        assert_eq!(
            decide(&a, Action::ViewUnits, Resource::Collection),
            Decision::Allow
        );
        assert_eq!(
            decide(&a, Action::ManageUnits, Resource::Collection),
            Decision::Forbidden
        );
    }

    #[test]
    fn grants_add_up() {
        let a = actor(vec![
            (Role::Inspector, region(EAST)),
            (Role::Office, region(WEST)),
        ]);
        let s = scope_for(&a, Action::ViewRegions).unwrap();
        assert!(s.covers_region("/c/east/x/") && s.covers_region("/c/west/"));
        let m = scope_for(&a, Action::ManageRegions).unwrap();
        assert!(!m.covers_region("/c/east/x/") && m.covers_region("/c/west/y/"));
        assert_eq!(
            decide(
                &a,
                Action::ManageRegions,
                Resource::Region { path: "/c/east/x/" }
            ),
            Decision::Forbidden
        );
    }
}
