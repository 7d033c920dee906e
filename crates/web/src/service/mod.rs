//! What pages and the API share: one function per action or per view, so
//! that neither calls the other's handlers and both answer alike. A page
//! handler and an API handler each read their request (a form, a JSON
//! body), call the function here or the store's, and shape the answer.

pub mod evidence;
pub mod metrics;
pub mod package;
pub mod photos;
pub mod queue;
pub mod rankings;
pub mod ratings;
pub mod rounds;
pub mod scoring;
pub mod site_sheet;
pub mod sources;
pub mod surveys;
pub mod tasks;
pub mod third_party;

use crate::AppState;
use crate::auth::Auth;
use jiff::civil::Date;
use wenming_domain::account::Role;
use wenming_domain::case::CaseActor;
use wenming_domain::policy::Reach;

pub fn today(state: &AppState) -> Date {
    jiff::Timestamp::now()
        .to_zoned_datetime(state.config.timezone.clone())
        .date()
}

/// The workflow's view of the signed-in user.
pub fn case_actor(auth: &Auth) -> CaseActor {
    let roles: Vec<Role> = auth.actor.grants.iter().map(|g| g.role).collect();
    CaseActor {
        user_id: auth.user.id,
        office: !auth.actor.read_only
            && roles
                .iter()
                .any(|r| matches!(r, Role::Administrator | Role::Office)),
        verifier: !auth.actor.read_only
            && roles
                .iter()
                .any(|r| matches!(r, Role::Administrator | Role::Office | Role::Inspector)),
        units: if auth.actor.read_only {
            vec![]
        } else {
            auth.actor
                .grants
                .iter()
                .filter_map(|g| match g.reach {
                    Reach::Unit { id } if g.role == Role::UnitStaff => Some(id),
                    _ => None,
                })
                .collect()
        },
        home_unit: auth.user.unit_id,
    }
}
