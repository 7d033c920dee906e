//! JSON API under /api/v1. Handlers carry `#[utoipa::path]` annotations; the
//! router and the OpenAPI document are produced from the same list, so the
//! document cannot drift from what is served.

mod audit;
mod cases;
mod dto;
mod evidence;
mod frameworks;
mod notifications;
mod photos;
mod rankings;
mod ratings;
mod regions;
pub mod rounds;
mod scoring;
mod sites;
mod surveys;
mod tasks;
mod tokens;
mod units;
mod users;

use crate::AppState;
use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wenming API",
        version = "1",
        description = "Regions, responsible units, accounts, role grants, API tokens and the audit trail of a \
                       city's civilized-city campaign. Authenticate with `Authorization: Bearer <token>` \
                       (tokens are issued on the account page). Errors are `{\"errors\":[{\"code\",\"message\",\"field\"}]}`; \
                       updates carry the `version` they were read at and answer 409 when someone else changed the record first."
    ),
    servers((url = "/api/v1")),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "A browser session; state-changing calls also need the X-CSRF-Token header.",
            ))),
        );
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::me))
        .routes(routes!(regions::list, regions::create))
        .routes(routes!(regions::get, regions::update))
        .routes(routes!(regions::history))
        .routes(routes!(units::list, units::create))
        .routes(routes!(units::get, units::update))
        .routes(routes!(units::people, units::add_person))
        .routes(routes!(units::update_person))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update))
        .routes(routes!(users::grants, users::add_grant))
        .routes(routes!(users::remove_grant))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .routes(routes!(frameworks::list))
        .routes(routes!(frameworks::get))
        .routes(routes!(frameworks::document))
        .routes(routes!(frameworks::nodes))
        .routes(routes!(frameworks::import))
        .routes(routes!(frameworks::set_status))
        .routes(routes!(frameworks::clone))
        .routes(routes!(frameworks::diff))
        .routes(routes!(frameworks::update_standard))
        .routes(routes!(cases::list, cases::create))
        .routes(routes!(cases::get))
        .routes(routes!(cases::step))
        .routes(routes!(cases::bulk))
        .routes(routes!(cases::possible_duplicates))
        .routes(routes!(cases::duplicates))
        .routes(routes!(cases::timeline))
        .routes(routes!(cases::categories))
        .routes(routes!(cases::update_category))
        .routes(routes!(cases::routing_rules, cases::add_routing_rule))
        .routes(routes!(cases::calendar_days, cases::set_calendar_day))
        .routes(routes!(cases::remove_routing_rule))
        .routes(routes!(cases::remove_calendar_day))
        .routes(routes!(cases::metrics))
        .routes(routes!(notifications::list))
        .routes(routes!(notifications::read))
        .routes(routes!(evidence::requirements))
        .routes(routes!(evidence::requirement, evidence::update_requirement))
        .routes(routes!(evidence::file, evidence::search))
        .routes(routes!(evidence::generate))
        .routes(routes!(evidence::package))
        .routes(routes!(evidence::start_package, evidence::packages))
        .routes(routes!(evidence::package_job))
        .routes(routes!(evidence::package_file))
        .routes(routes!(evidence::material_file))
        .routes(routes!(evidence::decide))
        .routes(routes!(evidence::set_filing))
        .routes(routes!(evidence::completeness))
        .routes(routes!(
            surveys::questionnaires,
            surveys::create_questionnaire
        ))
        .routes(routes!(
            surveys::questionnaire,
            surveys::update_questionnaire
        ))
        .routes(routes!(surveys::publish))
        .routes(routes!(surveys::export_questionnaire))
        .routes(routes!(surveys::import_questionnaire))
        .routes(routes!(surveys::next_version))
        .routes(routes!(surveys::waves, surveys::create_wave))
        .routes(routes!(surveys::wave))
        .routes(routes!(surveys::set_wave_state))
        .routes(routes!(surveys::answer))
        .routes(routes!(surveys::results))
        .routes(routes!(surveys::export))
        .routes(routes!(surveys::contact))
        .routes(routes!(ratings::rounds, ratings::create_round))
        .routes(routes!(ratings::set_round_state))
        .routes(routes!(ratings::rate))
        .routes(routes!(ratings::results))
        .routes(routes!(ratings::comments))
        .routes(routes!(ratings::moderate))
        .routes(routes!(scoring::projection))
        .routes(routes!(scoring::snapshots, scoring::take_snapshot))
        .routes(routes!(scoring::record_assessment))
        .routes(routes!(
            scoring::negative_events,
            scoring::record_negative_event
        ))
        .routes(routes!(scoring::delete_negative_event))
        .routes(routes!(scoring::record_year_score))
        .routes(routes!(scoring::anomalies))
        .routes(routes!(rankings::lists, rankings::create))
        .routes(routes!(rankings::weekly_sites))
        .routes(routes!(rankings::list))
        .routes(routes!(rankings::redraft))
        .routes(routes!(rankings::approve))
        .routes(routes!(rankings::publish))
        .routes(routes!(rankings::correct))
        .routes(routes!(rankings::export))
        .routes(routes!(rankings::appeal))
        .routes(routes!(rankings::decide))
        .routes(routes!(photos::upload))
        .routes(routes!(photos::get))
        .routes(routes!(photos::of_case))
        .routes(routes!(photos::original))
        .routes(routes!(photos::thumbnail))
        .routes(routes!(tasks::list))
        .routes(routes!(tasks::get, tasks::update))
        .routes(routes!(tasks::assign))
        .routes(routes!(tasks::progress))
        .routes(routes!(tasks::bulk))
        .routes(routes!(tasks::coverage))
        .routes(routes!(sites::types))
        .routes(routes!(sites::list, sites::create))
        .routes(routes!(sites::get, sites::update))
        .routes(routes!(sites::export))
        .routes(routes!(rounds::list, rounds::create))
        .routes(routes!(rounds::get))
        .routes(routes!(rounds::close))
        .routes(routes!(rounds::sites))
        .routes(routes!(rounds::reassign))
        .routes(routes!(rounds::checklist))
        .routes(routes!(rounds::findings, rounds::submit))
        .routes(routes!(rounds::report))
        .routes(routes!(rounds::assignments))
        .routes(routes!(rounds::unmatched))
        .routes(routes!(rounds::map))
        .routes(routes!(audit::trail))
        .routes(routes!(audit::verify))
        // Workbooks and zips of photos are larger than any JSON body.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(sites::import))
                .routes(routes!(rounds::import))
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::service::third_party::MAX_IMPORT_BYTES,
                )),
        )
}

/// The OpenAPI document, as served at /api/v1/openapi.json.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}

pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}
