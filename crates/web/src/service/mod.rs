//! What pages and the API share: one function per action or per view, so
//! that neither calls the other's handlers and both answer alike. A page
//! handler and an API handler each read their request (a form, a JSON
//! body), call the function here or the store's, and shape the answer.

pub mod evidence;
pub mod limits;
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

/// Figures kept for a short while by key, for pages many open to read the
/// same city-wide numbers (the cockpit, the wall screen, the leader's
/// home): they show data at most `ttl` old rather than count a million
/// cases at every request. Two readers of a stale key may both compute;
/// the later one's figures are kept.
pub struct KeptFor<V> {
    ttl: std::time::Duration,
    slots: std::sync::Mutex<
        std::collections::HashMap<String, (std::time::Instant, std::sync::Arc<V>)>,
    >,
}

/// Keys one cache holds at most before it starts afresh.
const KEPT_KEYS: usize = 256;

impl<V> KeptFor<V> {
    pub fn new(ttl: std::time::Duration) -> Self {
        KeptFor {
            ttl,
            slots: Default::default(),
        }
    }

    pub async fn get_or<F, Fut>(
        &self,
        key: String,
        make: F,
    ) -> crate::error::AppResult<std::sync::Arc<V>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = crate::error::AppResult<V>>,
    {
        if let Ok(slots) = self.slots.lock()
            && let Some((at, v)) = slots.get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(v.clone());
        }
        let v = std::sync::Arc::new(make().await?);
        if let Ok(mut slots) = self.slots.lock() {
            if slots.len() >= KEPT_KEYS {
                slots.clear();
            }
            slots.insert(key, (std::time::Instant::now(), v.clone()));
        }
        Ok(v)
    }
}

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
