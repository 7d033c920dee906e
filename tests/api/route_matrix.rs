//! Every route the server answers, as each role: the list of routes comes
//! from the router itself (the pages' route table and the OpenAPI document),
//! so a route added without a row here fails
//! `every_route_has_a_row_in_the_role_matrix`.
//!
//! A row gives the status for the administrator, the city office, the
//! inspector of 临江区, the staff of 市城市管理局 and the leader. `OK` marks a
//! write the role may make: the test sends it with an empty body, and any
//! answer but 401/403/404/405 or a server error shows the role got past the
//! policy to the validation (nothing is written: every body is empty).
//! A role that lacks a write altogether hears 403 whatever the record; one
//! that has it but not over this record hears 404, as for reads.

use crate::helpers::*;
use crate::on_both;
use reqwest::{Method, StatusCode};
use std::collections::BTreeSet;

on_both!(every_route_answers_each_role_as_the_matrix_says);

const ROLES: [&str; 5] = ["admin", "office", "inspector", "unit", "leader"];
/// Allowed: the request passes the policy.
const OK: u16 = 0;
/// The same for everyone (a public page, or something only its owner has).
fn all(code: u16) -> [u16; 5] {
    [code; 5]
}

#[derive(Clone, Copy, PartialEq)]
enum Via {
    Page,
    Api,
}

struct Row {
    via: Via,
    method: &'static str,
    template: &'static str,
    path: String,
    expect: [u16; 5],
}

struct Ids {
    framework: String,
    standard: String,
    edu_task: String,
    office_user: String,
    lj: String,
    fm: String,
    city_unit: String,
    lj_unit: String,
    fm_unit: String,
    /// A person on 临江区城市管理局's staff.
    lj_person: String,
    /// A site in 临江区 that 市城市管理局 does not sponsor.
    lj_site: String,
    /// A round under way, and one of its sites.
    round: String,
    round_site: String,
    /// A case in 临江区 handled by 市城市管理局, and one of its photos.
    case: String,
    photo: String,
    category: String,
    /// A material requirement 市城市管理局 provides.
    requirement: String,
    /// The demo's questionnaire, its latest closed wave and a community
    /// the wave covers.
    questionnaire: String,
    wave: String,
    wave_region: String,
    /// The demo's 民评官 round (it rates 市城市管理局) and one of its
    /// comments waiting for the office.
    rating_round: String,
    rating_comment: String,
    /// The demo's published 红黑榜, its edition and the appeal against it.
    ranking_list: String,
    ranking_edition: String,
    ranking_appeal: String,
    /// Nothing has this id.
    none: String,
}

async fn one(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql)
        .fetch_one(app.store.reader())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn ids(app: &TestApp) -> Ids {
    wenming_store::demo::load_surveys(&app.store).await.unwrap();
    let cats = crate::cases::catalogue(app).await;
    let round = wenming_store::inspection::create(
        &app.store,
        &wenming_store::Ctx::system("test"),
        &app.system().await,
        &wenming_domain::inspection::RoundForm {
            name: "督查".into(),
            kind: "supervision".into(),
            starts_on: "2026-11-23".into(),
            ends_on: "2026-11-27".into(),
            sample_size: "12".into(),
            seed: "5".into(),
            ..Default::default()
        }
        .parse()
        .unwrap(),
    )
    .await
    .unwrap()
    .id
    .to_string();
    let city_unit = app.unit_id("市城市管理局").await.to_string();
    let lj = app.region_id("LJ").await.to_string();
    let lj_unit = app.unit_id("临江区城市管理局").await.to_string();
    Ids {
        framework: one(app, "SELECT id FROM framework WHERE status = 'active'").await,
        standard: one(
            app,
            "SELECT n.id FROM framework_node n JOIN framework f ON f.id = n.framework_id \
             WHERE f.status = 'active' AND n.kind = 'standard' ORDER BY n.code LIMIT 1",
        )
        .await,
        edu_task: one(
            app,
            "SELECT t.id FROM task t JOIN unit u ON u.id = t.lead_unit_id WHERE u.name = '市教育局' LIMIT 1",
        )
        .await,
        office_user: app.user_id("office").await.to_string(),
        fm: app.region_id("FM").await.to_string(),
        lj_person: wenming_store::org::create_person(
            &app.store,
            &wenming_store::Ctx::system("test"),
            &app.system().await,
            lj_unit.parse().unwrap(),
            wenming_domain::org::PersonInput {
                name: "王志远".into(),
                title: Some("科员".into()),
                phone: None,
                active: true,
            },
        )
        .await
        .unwrap()
        .id
        .to_string(),
        lj_site: one(
            app,
            &format!(
                "SELECT id FROM site WHERE code LIKE 'LJ-%' AND (sponsor_unit_id IS NULL OR sponsor_unit_id <> '{city_unit}') \
                 ORDER BY code LIMIT 1"
            ),
        )
        .await,
        round_site: one(
            app,
            &format!("SELECT site_id FROM round_site WHERE round_id = '{round}' ORDER BY position LIMIT 1"),
        )
        .await,
        case: String::new(),
        photo: String::new(),
        category: crate::cases::sub(&cats, "0201").id.to_string(),
        requirement: one(
            app,
            &format!("SELECT id FROM evidence_requirement WHERE unit_id = '{city_unit}' ORDER BY id LIMIT 1"),
        )
        .await,
        questionnaire: one(app, "SELECT id FROM questionnaire ORDER BY id LIMIT 1").await,
        wave: one(app, "SELECT id FROM survey_wave ORDER BY opens_on DESC LIMIT 1").await,
        wave_region: one(
            app,
            "SELECT region_id FROM wave_region WHERE wave_id = (SELECT id FROM survey_wave ORDER BY opens_on DESC LIMIT 1) ORDER BY region_id LIMIT 1",
        )
        .await,
        rating_round: one(app, "SELECT id FROM rating_round ORDER BY id LIMIT 1").await,
        rating_comment: one(
            app,
            "SELECT id FROM rating_comment WHERE state = 'pending' ORDER BY id LIMIT 1",
        )
        .await,
        ranking_list: one(app, "SELECT id FROM ranking_list ORDER BY id LIMIT 1").await,
        ranking_edition: one(app, "SELECT id FROM ranking_edition ORDER BY id LIMIT 1").await,
        ranking_appeal: one(app, "SELECT id FROM ranking_appeal ORDER BY id LIMIT 1").await,
        none: uuid::Uuid::now_v7().to_string(),
        fm_unit: app.unit_id("凤鸣区城市管理局").await.to_string(),
        city_unit,
        lj,
        lj_unit,
        round,
    }
}

fn rows(i: &Ids) -> Vec<Row> {
    use Via::{Api, Page};
    let mut v = vec![];
    let mut r = |via, method, template: &'static str, path: &str, expect| {
        v.push(Row {
            via,
            method,
            template,
            path: if path.is_empty() {
                template.to_string()
            } else {
                path.to_string()
            },
            expect,
        })
    };
    let office_only = [OK, OK, 403, 403, 403];
    let admin_only = [OK, 403, 403, 403, 403];

    // ---------------------------------------------------------------- pages
    r(Page, "GET", "/", "", all(200));
    // Signed in, the login page sends you home.
    r(Page, "GET", "/login", "", all(303));
    r(Page, "GET", "/lang", "/lang?to=en&next=/", all(303));
    r(Page, "GET", "/account", "", all(200));
    r(Page, "POST", "/account/password", "", all(OK));
    r(Page, "POST", "/account/tokens", "", all(OK));
    // Somebody else's token, or none: not yours to revoke.
    let p = format!("/account/tokens/{}/revoke", i.none);
    r(Page, "POST", "/account/tokens/{id}/revoke", &p, all(404));
    r(Page, "GET", "/regions", "", [200, 200, 200, 403, 200]);
    r(Page, "POST", "/regions", "", office_only);
    r(Page, "GET", "/regions.csv", "", [200, 200, 200, 403, 200]);
    r(Page, "GET", "/regions/new", "", [200, 200, 403, 403, 403]);
    let p = format!("/regions/{}", i.fm);
    r(Page, "GET", "/regions/{id}", &p, [200, 200, 404, 403, 200]);
    r(Page, "POST", "/regions/{id}", &p, [OK, OK, 404, 403, 403]);
    let p = format!("/regions/{}/edit", i.fm);
    r(
        Page,
        "GET",
        "/regions/{id}/edit",
        &p,
        [200, 200, 404, 403, 403],
    );
    r(Page, "GET", "/inspect", "", [200, 200, 200, 403, 403]);
    r(Page, "GET", "/rounds", "", [200, 200, 200, 403, 200]);
    r(Page, "POST", "/rounds", "", office_only);
    r(Page, "GET", "/rounds/new", "", [200, 200, 403, 403, 403]);
    r(Page, "GET", "/rounds/import", "", [200, 200, 403, 403, 403]);
    r(Page, "POST", "/rounds/import", "", office_only);
    let p = format!("/rounds/{}", i.round);
    r(Page, "GET", "/rounds/{id}", &p, [200, 200, 200, 403, 200]);
    let p = format!("/rounds/{}/close", i.round);
    r(Page, "POST", "/rounds/{id}/close", &p, office_only);
    let p = format!("/rounds/{}/unmatched/{}/map", i.round, i.none);
    r(
        Page,
        "POST",
        "/rounds/{id}/unmatched/{row_id}/map",
        &p,
        [OK, OK, 403, 403, 403],
    );
    let p = format!("/rounds/{}/sites/{}/inspector", i.round, i.round_site);
    r(
        Page,
        "POST",
        "/rounds/{id}/sites/{site_id}/inspector",
        &p,
        office_only,
    );
    let p = format!("/rounds/{}/report.xlsx", i.round);
    r(
        Page,
        "GET",
        "/rounds/{id}/report.xlsx",
        &p,
        [200, 200, 200, 403, 200],
    );
    let p = format!("/rounds/{}/sites/{}", i.round, i.round_site);
    r(
        Page,
        "GET",
        "/rounds/{id}/sites/{site_id}",
        &p,
        [200, 200, OK, 403, 200],
    );
    r(Page, "GET", "/sites", "", all(200));
    r(Page, "POST", "/sites", "", office_only);
    r(Page, "GET", "/sites/new", "", [200, 200, 403, 403, 403]);
    r(Page, "GET", "/sites.xlsx", "", all(200));
    r(Page, "GET", "/sites/import", "", [200, 200, 403, 403, 403]);
    r(Page, "POST", "/sites/import", "", office_only);
    let p = format!("/sites/{}", i.lj_site);
    r(Page, "GET", "/sites/{id}", &p, [200, 200, 200, 404, 200]);
    r(Page, "POST", "/sites/{id}", &p, [OK, OK, 403, 404, 403]);
    let p = format!("/sites/{}/edit", i.lj_site);
    r(
        Page,
        "GET",
        "/sites/{id}/edit",
        &p,
        [200, 200, 403, 404, 403],
    );
    r(Page, "GET", "/units", "", all(200));
    r(Page, "POST", "/units", "", office_only);
    r(Page, "GET", "/units.csv", "", all(200));
    r(Page, "GET", "/units/new", "", [200, 200, 403, 403, 403]);
    let p = format!("/units/{}", i.lj_unit);
    r(Page, "GET", "/units/{id}", &p, [200, 200, 200, 404, 200]);
    r(Page, "POST", "/units/{id}", &p, [OK, OK, 403, 404, 403]);
    let p = format!("/units/{}/edit", i.lj_unit);
    r(
        Page,
        "GET",
        "/units/{id}/edit",
        &p,
        [200, 200, 403, 404, 403],
    );
    let p = format!("/units/{}/people", i.lj_unit);
    r(
        Page,
        "POST",
        "/units/{id}/people",
        &p,
        [OK, OK, 403, 404, 403],
    );
    let p = format!("/units/{}/people/new", i.lj_unit);
    r(
        Page,
        "GET",
        "/units/{id}/people/new",
        &p,
        [200, 200, 403, 404, 403],
    );
    let p = format!("/people/{}", i.lj_person);
    r(Page, "POST", "/people/{id}", &p, [OK, OK, 403, 404, 403]);
    let p = format!("/people/{}/edit", i.lj_person);
    r(
        Page,
        "GET",
        "/people/{id}/edit",
        &p,
        [200, 200, 403, 404, 403],
    );
    r(Page, "GET", "/users", "", [200, 403, 403, 403, 403]);
    r(Page, "POST", "/users", "", admin_only);
    r(Page, "GET", "/users/new", "", [200, 403, 403, 403, 403]);
    let p = format!("/users/{}", i.office_user);
    r(Page, "GET", "/users/{id}", &p, [200, 403, 403, 403, 403]);
    r(Page, "POST", "/users/{id}", &p, admin_only);
    let p = format!("/users/{}/edit", i.office_user);
    r(
        Page,
        "GET",
        "/users/{id}/edit",
        &p,
        [200, 403, 403, 403, 403],
    );
    let p = format!("/users/{}/grants", i.office_user);
    r(Page, "POST", "/users/{id}/grants", &p, admin_only);
    let p = format!("/users/{}/grants/{}/delete", i.office_user, i.none);
    r(
        Page,
        "POST",
        "/users/{id}/grants/{grant_id}/delete",
        &p,
        [404, 403, 403, 403, 403],
    );
    let p = format!("/users/{}/password", i.office_user);
    r(Page, "POST", "/users/{id}/password", &p, admin_only);
    let p = format!("/users/{}/unlock", i.office_user);
    r(Page, "POST", "/users/{id}/unlock", &p, admin_only);
    r(Page, "GET", "/frameworks", "", all(200));
    r(Page, "GET", "/frameworks/template.xlsx", "", all(200));
    r(Page, "POST", "/frameworks/import", "", office_only);
    let p = format!("/frameworks/uploads/{}/commit", i.none);
    r(
        Page,
        "POST",
        "/frameworks/uploads/{id}/commit",
        &p,
        [404, 404, 403, 403, 403],
    );
    let p = format!("/frameworks/{}", i.framework);
    r(Page, "GET", "/frameworks/{id}", &p, all(200));
    let p = format!("/frameworks/{}/export.xlsx", i.framework);
    r(Page, "GET", "/frameworks/{id}/{file}", &p, all(200));
    let p = format!("/frameworks/{}/status", i.framework);
    r(Page, "POST", "/frameworks/{id}/status", &p, office_only);
    let p = format!("/frameworks/{}/clone", i.framework);
    r(Page, "POST", "/frameworks/{id}/clone", &p, office_only);
    let p = format!("/frameworks/{}/compare?with={}", i.framework, i.framework);
    r(Page, "GET", "/frameworks/{id}/compare", &p, all(200));
    let p = format!("/standards/{}/edit", i.standard);
    r(
        Page,
        "GET",
        "/standards/{id}/edit",
        &p,
        [200, 200, 403, 403, 403],
    );
    let p = format!("/standards/{}", i.standard);
    r(Page, "POST", "/standards/{id}", &p, office_only);
    r(Page, "GET", "/cases", "", all(200));
    r(Page, "POST", "/cases", "", [OK, OK, OK, 403, 403]);
    r(Page, "GET", "/cases/new", "", [200, 200, 200, 403, 403]);
    r(Page, "GET", "/cases.xlsx", "", all(200));
    // Anyone who works cases reaches it; the workflow refuses each case
    // a role may not dispatch.
    for bulk in ["/cases/bulk-register", "/cases/bulk-dispatch"] {
        r(Page, "POST", bulk, "", [OK, OK, OK, OK, 403]);
    }
    r(Page, "GET", "/cases/metrics", "", all(200));
    r(Page, "GET", "/cases/metrics.xlsx", "", all(200));
    r(Page, "GET", "/cases/map", "", all(200));
    r(Page, "GET", "/cases/routing", "", all(200));
    r(Page, "POST", "/cases/routing/rules", "", office_only);
    r(Page, "POST", "/cases/routing/days", "", office_only);
    let p = format!("/cases/routing/rules/{}/delete", i.none);
    r(
        Page,
        "POST",
        "/cases/routing/rules/{id}/delete",
        &p,
        [404, 404, 403, 403, 403],
    );
    r(
        Page,
        "POST",
        "/cases/routing/days/{day}/delete",
        "/cases/routing/days/2031-01-01/delete",
        [404, 404, 403, 403, 403],
    );
    r(Page, "GET", "/cases/categories", "", all(200));
    r(Page, "POST", "/cases/categories", "", office_only);
    let p = format!("/cases/categories/{}", i.category);
    r(
        Page,
        "GET",
        "/cases/categories/{id}",
        &p,
        [200, 200, 403, 403, 403],
    );
    r(Page, "POST", "/cases/categories/{id}", &p, office_only);
    r(Page, "GET", "/notifications", "", all(200));
    r(Page, "POST", "/notifications/read", "", all(OK));
    let p = format!("/notifications/{}/open", i.none);
    r(Page, "POST", "/notifications/{id}/open", &p, all(404));
    let p = format!("/photos/{}", i.photo);
    r(Page, "GET", "/photos/{id}", &p, [200, 200, 200, 200, 200]);
    let p = format!("/photos/{}/thumbnail", i.photo);
    r(
        Page,
        "GET",
        "/photos/{id}/thumbnail",
        &p,
        [200, 200, 200, 200, 200],
    );
    let p = format!("/cases/{}", i.case);
    r(Page, "GET", "/cases/{id}", &p, all(200));
    let p = format!("/cases/{}/step", i.case);
    r(Page, "POST", "/cases/{id}/step", &p, [OK, OK, OK, OK, 403]);
    r(Page, "GET", "/tasks", "", all(200));
    // Surveys: the office designs and runs them, inspectors interview,
    // leaders read; units see their own 民评官 results below.
    let (sviewers, answerers) = ([200, 200, 200, 403, 200], [OK, OK, OK, 403, 403]);
    r(Page, "GET", "/surveys", "", sviewers);
    r(Page, "POST", "/surveys/questionnaires", "", office_only);
    let q = format!("/surveys/questionnaires/{}", i.questionnaire);
    r(Page, "GET", "/surveys/questionnaires/{id}", &q, sviewers);
    r(
        Page,
        "GET",
        "/surveys/questionnaires/{id}/export.xlsx",
        &format!("{q}/export.xlsx"),
        sviewers,
    );
    r(
        Page,
        "POST",
        "/surveys/questionnaires/import",
        "",
        office_only,
    );
    r(
        Page,
        "POST",
        "/surveys/questionnaires/{id}/publish",
        &format!("{q}/publish"),
        office_only,
    );
    r(
        Page,
        "POST",
        "/surveys/questionnaires/{id}/versions",
        &format!("{q}/versions"),
        office_only,
    );
    r(Page, "POST", "/surveys/waves", "", office_only);
    r(
        Page,
        "GET",
        "/surveys/waves/new",
        "",
        [200, 200, 403, 403, 403],
    );
    let w = format!("/surveys/waves/{}", i.wave);
    r(Page, "GET", "/surveys/waves/{id}", &w, sviewers);
    r(
        Page,
        "POST",
        "/surveys/waves/{id}/state",
        &format!("{w}/state"),
        office_only,
    );
    r(
        Page,
        "GET",
        "/surveys/waves/{id}/entry",
        &format!("{w}/entry"),
        [200, 200, 200, 403, 403],
    );
    r(
        Page,
        "POST",
        "/surveys/waves/{id}/entry",
        &format!("{w}/entry"),
        answerers,
    );
    r(
        Page,
        "GET",
        "/surveys/waves/{id}/interview",
        &format!("{w}/interview"),
        [200, 200, 200, 403, 403],
    );
    r(
        Page,
        "GET",
        "/surveys/waves/{id}/posters",
        &format!("{w}/posters"),
        [200, 200, 403, 403, 403],
    );
    // The public link answers anyone; a post without the phone's cookie
    // is refused whoever sends it.
    let s = format!("/s/{}/{}", i.wave, i.wave_region);
    r(Page, "GET", "/s/{wave}/{region}", &s, all(200));
    r(Page, "POST", "/s/{wave}/{region}", &s, all(403));
    r(Api, "GET", "/questionnaires", "", sviewers);
    r(Api, "POST", "/questionnaires", "", office_only);
    let q = format!("/questionnaires/{}", i.questionnaire);
    r(Api, "GET", "/questionnaires/{id}", &q, sviewers);
    r(
        Api,
        "GET",
        "/questionnaires/{id}/export.xlsx",
        &format!("{q}/export.xlsx"),
        sviewers,
    );
    r(Api, "POST", "/questionnaires/import", "", office_only);
    r(Api, "PUT", "/questionnaires/{id}", &q, office_only);
    r(
        Api,
        "POST",
        "/questionnaires/{id}/publish",
        &format!("{q}/publish"),
        office_only,
    );
    r(
        Api,
        "POST",
        "/questionnaires/{id}/versions",
        &format!("{q}/versions"),
        office_only,
    );
    r(Api, "GET", "/waves", "", sviewers);
    r(Api, "POST", "/waves", "", office_only);
    let w = format!("/waves/{}", i.wave);
    r(Api, "GET", "/waves/{id}", &w, sviewers);
    r(
        Api,
        "POST",
        "/waves/{id}/state",
        &format!("{w}/state"),
        office_only,
    );
    r(
        Api,
        "POST",
        "/waves/{id}/responses",
        &format!("{w}/responses"),
        answerers,
    );
    r(
        Api,
        "GET",
        "/waves/{id}/results",
        &format!("{w}/results"),
        sviewers,
    );
    r(
        Api,
        "POST",
        "/waves/{id}/contacts",
        &format!("{w}/contacts"),
        answerers,
    );
    r(
        Page,
        "POST",
        "/surveys/waves/{id}/contacts",
        &format!("/surveys{w}/contacts"),
        answerers,
    );
    let office_reads = [200, 200, 403, 403, 403];
    r(
        Api,
        "GET",
        "/waves/{id}/export.xlsx",
        &format!("{w}/export.xlsx"),
        office_reads,
    );
    r(
        Page,
        "GET",
        "/surveys/waves/{id}/export.xlsx",
        &format!("/surveys{w}/export.xlsx"),
        office_reads,
    );
    // 民评官: everyone reads (a unit its own line), the office runs rounds
    // and moderates, interviewers enter ratings, residents rate in public.
    r(Page, "GET", "/ratings", "", all(200));
    r(Page, "POST", "/ratings", "", office_only);
    let rr = format!("/ratings/{}", i.rating_round);
    // The inspector's district has none of the round's city departments.
    let rating_readers = [200, 200, 404, 200, 200];
    r(Page, "GET", "/ratings/{id}", &rr, rating_readers);
    r(
        Page,
        "POST",
        "/ratings/{id}/state",
        &format!("{rr}/state"),
        office_only,
    );
    r(
        Page,
        "GET",
        "/ratings/{id}/posters",
        &format!("{rr}/posters"),
        [200, 200, 403, 403, 403],
    );
    r(
        Page,
        "GET",
        "/ratings/{id}/entry",
        &format!("{rr}/entry"),
        [200, 200, 200, 403, 403],
    );
    r(
        Page,
        "POST",
        "/ratings/{id}/entry",
        &format!("{rr}/entry"),
        answerers,
    );
    let rc = format!("/ratings/comments/{}", i.rating_comment);
    r(Page, "POST", "/ratings/comments/{id}", &rc, office_only);
    let pr = format!("/r/{}", i.rating_round);
    r(Page, "GET", "/r/{round}", &pr, all(200));
    r(Page, "POST", "/r/{round}", &pr, all(403));
    r(Api, "GET", "/rating-rounds", "", all(200));
    r(Api, "POST", "/rating-rounds", "", office_only);
    let ar = format!("/rating-rounds/{}", i.rating_round);
    r(
        Api,
        "POST",
        "/rating-rounds/{id}/state",
        &format!("{ar}/state"),
        office_only,
    );
    r(
        Api,
        "POST",
        "/rating-rounds/{id}/ratings",
        &format!("{ar}/ratings"),
        answerers,
    );
    r(
        Api,
        "GET",
        "/rating-rounds/{id}/results",
        &format!("{ar}/results"),
        rating_readers,
    );
    r(
        Api,
        "GET",
        "/rating-rounds/{id}/comments",
        &format!("{ar}/comments"),
        office_reads,
    );
    r(
        Api,
        "POST",
        "/rating-comments/{id}/moderation",
        &format!("/rating-comments/{}/moderation", i.rating_comment),
        office_only,
    );
    // The projected score: the office and leaders read, the office records.
    let score_readers = [200, 200, 403, 403, 200];
    r(Page, "GET", "/cockpit", "", score_readers);
    r(Page, "POST", "/cockpit", "", office_only);
    r(Page, "POST", "/cockpit/snapshots", "", office_only);
    r(Api, "GET", "/projection", "", score_readers);
    r(Api, "GET", "/projection/snapshots", "", score_readers);
    r(Api, "POST", "/projection/snapshots", "", office_only);
    r(Api, "POST", "/score-assessments", "", office_only);
    r(Api, "GET", "/negative-events", "", score_readers);
    r(Api, "POST", "/negative-events", "", office_only);
    r(
        Api,
        "DELETE",
        "/negative-events/{id}",
        &format!("/negative-events/{}", i.none),
        [404, 404, 403, 403, 403],
    );
    r(Api, "POST", "/year-scores", "", office_only);
    let office_reads_only = [200, 200, 403, 403, 403];
    r(Page, "GET", "/cockpit/anomalies", "", office_reads_only);
    r(Api, "GET", "/anomalies", "", office_reads_only);
    // Ranking lists: everyone reads what is published, the office drafts,
    // approves and publishes, units (and the office) appeal.
    let appealers = [OK, OK, 403, OK, 403];
    let rl = format!("/rankings/{}", i.ranking_list);
    let re = format!("/rankings/editions/{}", i.ranking_edition);
    r(Page, "GET", "/rankings", "", all(200));
    r(Page, "POST", "/rankings", "", office_only);
    r(Page, "POST", "/rankings/weekly", "", office_only);
    r(Page, "GET", "/rankings/{id}", &rl, all(200));
    r(Page, "POST", "/rankings/editions/{id}", &re, office_only);
    r(
        Page,
        "POST",
        "/rankings/editions/{id}/appeals",
        &format!("{re}/appeals"),
        appealers,
    );
    r(
        Page,
        "GET",
        "/rankings/editions/{id}/export.xlsx",
        &format!("{re}/export.xlsx"),
        all(200),
    );
    r(
        Page,
        "POST",
        "/rankings/appeals/{id}",
        &format!("/rankings/appeals/{}", i.ranking_appeal),
        office_only,
    );
    r(
        Page,
        "GET",
        "/p/rankings/{id}",
        &format!("/p/rankings/{}", i.ranking_list),
        all(200),
    );
    // The demo's list ranks units: it exposes no photo.
    r(
        Page,
        "GET",
        "/p/rankings/{id}/photos/{photo}",
        &format!("/p/rankings/{}/photos/{}", i.ranking_list, i.none),
        all(404),
    );
    let al = format!("/ranking-lists/{}", i.ranking_list);
    let ae = format!("/ranking-editions/{}", i.ranking_edition);
    r(Api, "GET", "/ranking-lists", "", all(200));
    r(Api, "POST", "/ranking-lists", "", office_only);
    r(Api, "POST", "/ranking-lists/weekly-sites", "", office_only);
    r(Api, "GET", "/ranking-lists/{id}", &al, all(200));
    for step in ["redraft", "approve", "publish", "corrections"] {
        let template: &'static str = match step {
            "redraft" => "/ranking-editions/{id}/redraft",
            "approve" => "/ranking-editions/{id}/approve",
            "publish" => "/ranking-editions/{id}/publish",
            _ => "/ranking-editions/{id}/corrections",
        };
        r(Api, "POST", template, &format!("{ae}/{step}"), office_only);
    }
    r(
        Api,
        "GET",
        "/ranking-editions/{id}/export.xlsx",
        &format!("{ae}/export.xlsx"),
        all(200),
    );
    r(
        Api,
        "POST",
        "/ranking-editions/{id}/appeals",
        &format!("{ae}/appeals"),
        appealers,
    );
    r(
        Api,
        "POST",
        "/ranking-appeals/{id}/decision",
        &format!("/ranking-appeals/{}/decision", i.ranking_appeal),
        office_only,
    );
    // The evidence archive: units their own, the office reviews, leaders read.
    let (viewers, submitters) = ([200, 200, 403, 200, 200], [OK, OK, 403, OK, 403]);
    r(Page, "GET", "/evidence", "", viewers);
    r(
        Page,
        "GET",
        "/evidence/review",
        "",
        [200, 200, 403, 403, 403],
    );
    r(Page, "POST", "/evidence/filing", "", office_only);
    r(Page, "GET", "/evidence/materials", "", viewers);
    r(
        Page,
        "GET",
        "/evidence/packages",
        "",
        [200, 200, 403, 403, 403],
    );
    r(Page, "POST", "/evidence/packages", "", office_only);
    r(Api, "POST", "/evidence/packages", "", office_only);
    r(
        Api,
        "GET",
        "/evidence/packages",
        "",
        [200, 200, 403, 403, 403],
    );
    // No package has been written: the office hears it is not there.
    let none = format!("/evidence/packages/{}", uuid::Uuid::nil());
    let absent = [404, 404, 403, 403, 403];
    r(Api, "GET", "/evidence/packages/{id}", &none, absent);
    let file = format!("{none}/file");
    r(Api, "GET", "/evidence/packages/{id}/file", &file, absent);
    r(Page, "GET", "/evidence/packages/{id}/file", &file, absent);
    r(
        Api,
        "GET",
        "/evidence/package",
        "",
        [200, 200, 403, 403, 403],
    );
    r(Api, "GET", "/evidence/materials", "", viewers);
    let q = format!("/evidence/requirements/{}", i.requirement);
    r(Page, "GET", "/evidence/requirements/{id}", &q, viewers);
    r(Page, "POST", "/evidence/requirements/{id}", &q, office_only);
    let p = format!("{q}/materials");
    r(
        Page,
        "POST",
        "/evidence/requirements/{id}/materials",
        &p,
        submitters,
    );
    let p = format!("{q}/link");
    r(
        Page,
        "POST",
        "/evidence/requirements/{id}/link",
        &p,
        submitters,
    );
    // The office generates; the requirement names no source, so it hears why.
    let p = format!("{q}/generate");
    r(
        Page,
        "POST",
        "/evidence/requirements/{id}/generate",
        &p,
        office_only,
    );
    r(
        Api,
        "POST",
        "/evidence/requirements/{id}/generate",
        &p,
        office_only,
    );
    let p = format!("/evidence/submissions/{}/decide", i.none);
    r(
        Page,
        "POST",
        "/evidence/submissions/{id}/decide",
        &p,
        [404, 404, 403, 403, 403],
    );
    let p = format!("/evidence/materials/{}/file", i.none);
    r(
        Page,
        "GET",
        "/evidence/materials/{id}/file",
        &p,
        [404, 404, 403, 404, 404],
    );
    r(Api, "GET", "/evidence/requirements", "", viewers);
    r(Api, "GET", "/evidence/requirements/{id}", &q, viewers);
    r(Api, "PUT", "/evidence/requirements/{id}", &q, office_only);
    r(Api, "POST", "/evidence/materials", "", submitters);
    r(
        Api,
        "GET",
        "/evidence/materials/{id}/file",
        &p,
        [404, 404, 403, 404, 404],
    );
    let p = format!("/evidence/submissions/{}/decision", i.none);
    r(
        Api,
        "POST",
        "/evidence/submissions/{id}/decision",
        &p,
        office_only,
    );
    let p = format!("/frameworks/{}/filing", i.framework);
    r(Api, "PUT", "/frameworks/{id}/filing", &p, office_only);
    let p = format!("/frameworks/{}/completeness", i.framework);
    r(Api, "GET", "/frameworks/{id}/completeness", &p, viewers);
    r(Page, "GET", "/tasks.xlsx", "", all(200));
    let p = format!("/tasks/{}", i.edu_task);
    r(Page, "GET", "/tasks/{id}", &p, [200, 200, 404, 404, 200]);
    let p = format!("/tasks/{}/progress", i.edu_task);
    r(
        Page,
        "POST",
        "/tasks/{id}/progress",
        &p,
        [OK, OK, 403, 404, 403],
    );
    let p = format!("/standards/{}/task", i.standard);
    r(
        Page,
        "GET",
        "/standards/{id}/task",
        &p,
        [200, 200, 403, 403, 403],
    );
    r(Page, "POST", "/standards/{id}/task", &p, office_only);
    let p = format!("/frameworks/{}/tasks", i.framework);
    r(
        Page,
        "GET",
        "/frameworks/{id}/tasks",
        &p,
        [200, 200, 403, 403, 403],
    );
    r(Page, "POST", "/frameworks/{id}/tasks", &p, office_only);
    r(Page, "GET", "/audit", "", [200, 403, 403, 403, 403]);
    let p = format!("/audit/site/{}", i.lj_site);
    r(
        Page,
        "GET",
        "/audit/{entity_type}/{id}",
        &p,
        [200, 200, 403, 403, 403],
    );
    r(Page, "GET", "/static/style.css", "", all(200));
    r(Page, "GET", "/static/app.js", "", all(200));
    r(Page, "GET", "/static/inspect.js", "", all(200));
    r(Page, "GET", "/static/outbox.js", "", all(200));
    r(Page, "GET", "/static/interview.js", "", all(200));
    r(Page, "GET", "/sw.js", "", all(200));
    r(Page, "GET", "/healthz", "", all(200));
    r(Page, "GET", "/readyz", "", all(200));
    // Last: it ends the session the other rows use.
    // A session's form token is not the login form's.
    r(Page, "POST", "/login", "", all(403));
    r(Page, "POST", "/logout", "", all(OK));

    // ---------------------------------------------------------------- API
    r(Api, "GET", "/openapi.json", "", all(200));
    r(Api, "GET", "/me", "", all(200));
    r(Api, "GET", "/assignments", "", [200, 200, 200, 403, 403]);
    r(Api, "GET", "/audit/verify", "", [200, 403, 403, 403, 403]);
    let p = format!("/audit/unit/{}", i.lj_unit);
    r(
        Api,
        "GET",
        "/audit/{entity_type}/{id}",
        &p,
        [200, 200, 403, 403, 403],
    );
    r(Api, "GET", "/calendar-days", "", all(200));
    r(Api, "POST", "/calendar-days", "", office_only);
    r(
        Api,
        "DELETE",
        "/calendar-days/{day}",
        "/calendar-days/2031-01-01",
        [404, 404, 403, 403, 403],
    );
    r(Api, "GET", "/cases", "", all(200));
    r(Api, "POST", "/cases", "", [OK, OK, OK, 403, 403]);
    let c = &i.case;
    r(Api, "GET", "/cases/{id}", &format!("/cases/{c}"), all(200));
    r(
        Api,
        "GET",
        "/cases/{id}/duplicates",
        &format!("/cases/{c}/duplicates"),
        all(200),
    );
    r(
        Api,
        "GET",
        "/cases/{id}/photos",
        &format!("/cases/{c}/photos"),
        all(200),
    );
    let p = format!("/cases/{c}/possible-duplicates");
    r(Api, "GET", "/cases/{id}/possible-duplicates", &p, all(200));
    // As the pages' batch: the workflow refuses each case a role may not
    // register or dispatch.
    r(Api, "POST", "/cases/bulk", "", [OK, OK, OK, OK, 403]);
    r(
        Api,
        "POST",
        "/cases/{id}/steps",
        &format!("/cases/{c}/steps"),
        [OK, OK, OK, OK, 403],
    );
    r(
        Api,
        "GET",
        "/cases/{id}/timeline",
        &format!("/cases/{c}/timeline"),
        all(200),
    );
    r(Api, "GET", "/categories", "", all(200));
    let p = format!("/categories/{}", i.category);
    r(Api, "PUT", "/categories/{id}", &p, office_only);
    r(Api, "GET", "/frameworks", "", all(200));
    r(Api, "POST", "/frameworks/import", "", office_only);
    let f = &i.framework;
    r(
        Api,
        "GET",
        "/frameworks/{id}",
        &format!("/frameworks/{f}"),
        all(200),
    );
    r(
        Api,
        "POST",
        "/frameworks/{id}/clone",
        &format!("/frameworks/{f}/clone"),
        office_only,
    );
    r(
        Api,
        "GET",
        "/frameworks/{id}/coverage",
        &format!("/frameworks/{f}/coverage"),
        all(200),
    );
    let p = format!("/frameworks/{f}/diff/{f}");
    r(Api, "GET", "/frameworks/{id}/diff/{other}", &p, all(200));
    r(
        Api,
        "GET",
        "/frameworks/{id}/document",
        &format!("/frameworks/{f}/document"),
        all(200),
    );
    r(
        Api,
        "GET",
        "/frameworks/{id}/nodes",
        &format!("/frameworks/{f}/nodes"),
        all(200),
    );
    r(
        Api,
        "PUT",
        "/frameworks/{id}/status",
        &format!("/frameworks/{f}/status"),
        office_only,
    );
    r(
        Api,
        "POST",
        "/frameworks/{id}/tasks",
        &format!("/frameworks/{f}/tasks"),
        office_only,
    );
    r(Api, "GET", "/metrics", "", all(200));
    r(Api, "GET", "/notifications", "", all(200));
    let p = format!("/notifications/{}/read", i.none);
    r(Api, "POST", "/notifications/{id}/read", &p, all(404));
    let p = format!("/people/{}", i.lj_person);
    r(Api, "PUT", "/people/{id}", &p, office_only);
    r(Api, "POST", "/photos", "", [OK, OK, OK, OK, 403]);
    let ph = &i.photo;
    r(
        Api,
        "GET",
        "/photos/{id}",
        &format!("/photos/{ph}"),
        all(200),
    );
    r(
        Api,
        "GET",
        "/photos/{id}/original",
        &format!("/photos/{ph}/original"),
        all(200),
    );
    r(
        Api,
        "GET",
        "/photos/{id}/thumbnail",
        &format!("/photos/{ph}/thumbnail"),
        all(200),
    );
    r(Api, "GET", "/regions", "", [200, 200, 200, 403, 200]);
    r(Api, "POST", "/regions", "", office_only);
    let p = format!("/regions/{}", i.fm);
    r(Api, "GET", "/regions/{id}", &p, [200, 200, 404, 403, 200]);
    r(Api, "PUT", "/regions/{id}", &p, [OK, OK, 403, 403, 403]);
    let p = format!("/regions/{}/history", i.lj);
    r(
        Api,
        "GET",
        "/regions/{id}/history",
        &p,
        [200, 200, 200, 403, 200],
    );
    r(Api, "GET", "/rounds", "", [200, 200, 200, 403, 200]);
    r(Api, "POST", "/rounds", "", office_only);
    r(Api, "POST", "/rounds/import", "", office_only);
    let (ro, rs) = (&i.round, &i.round_site);
    r(
        Api,
        "GET",
        "/rounds/{id}",
        &format!("/rounds/{ro}"),
        [200, 200, 200, 403, 200],
    );
    r(
        Api,
        "POST",
        "/rounds/{id}/close",
        &format!("/rounds/{ro}/close"),
        office_only,
    );
    r(
        Api,
        "GET",
        "/rounds/{id}/report",
        &format!("/rounds/{ro}/report"),
        [200, 200, 200, 403, 200],
    );
    r(
        Api,
        "GET",
        "/rounds/{id}/sites",
        &format!("/rounds/{ro}/sites"),
        [200, 200, 200, 403, 200],
    );
    let p = format!("/rounds/{ro}/sites/{rs}/checklist");
    r(
        Api,
        "GET",
        "/rounds/{id}/sites/{site_id}/checklist",
        &p,
        [200, 200, OK, 403, 200],
    );
    let p = format!("/rounds/{ro}/sites/{rs}/findings");
    r(
        Api,
        "GET",
        "/rounds/{id}/sites/{site_id}/findings",
        &p,
        [200, 200, OK, 403, 200],
    );
    r(
        Api,
        "POST",
        "/rounds/{id}/sites/{site_id}/findings",
        &p,
        [OK, OK, OK, 403, 403],
    );
    let p = format!("/rounds/{ro}/sites/{rs}/inspector");
    r(
        Api,
        "PUT",
        "/rounds/{id}/sites/{site_id}/inspector",
        &p,
        office_only,
    );
    let p = format!("/rounds/{ro}/unmatched");
    r(
        Api,
        "GET",
        "/rounds/{id}/unmatched",
        &p,
        [200, 200, 200, 403, 200],
    );
    let p = format!("/rounds/{ro}/unmatched/{}/map", i.none);
    r(
        Api,
        "POST",
        "/rounds/{id}/unmatched/{row_id}/map",
        &p,
        [OK, OK, 403, 403, 403],
    );
    r(Api, "GET", "/routing-rules", "", all(200));
    r(Api, "POST", "/routing-rules", "", office_only);
    let p = format!("/routing-rules/{}", i.none);
    r(
        Api,
        "DELETE",
        "/routing-rules/{id}",
        &p,
        [404, 404, 403, 403, 403],
    );
    r(Api, "GET", "/site-types", "", all(200));
    r(Api, "GET", "/sites", "", all(200));
    r(Api, "POST", "/sites", "", office_only);
    r(Api, "GET", "/sites/export", "", all(200));
    r(Api, "POST", "/sites/import", "", office_only);
    let p = format!("/sites/{}", i.lj_site);
    r(Api, "GET", "/sites/{id}", &p, [200, 200, 200, 404, 200]);
    r(Api, "PUT", "/sites/{id}", &p, office_only);
    let p = format!("/standards/{}", i.standard);
    r(Api, "PUT", "/standards/{id}", &p, office_only);
    let p = format!("/standards/{}/task", i.standard);
    r(Api, "POST", "/standards/{id}/task", &p, office_only);
    r(Api, "GET", "/tasks", "", all(200));
    let p = format!("/tasks/{}", i.edu_task);
    r(Api, "GET", "/tasks/{id}", &p, [200, 200, 404, 404, 200]);
    r(Api, "PUT", "/tasks/{id}", &p, office_only);
    let p = format!("/tasks/{}/progress", i.edu_task);
    r(
        // The body is judged before the task is looked up: staff of another
        // unit hear what is wrong with it, nothing about the task.
        Api,
        "POST",
        "/tasks/{id}/progress",
        &p,
        [OK, OK, 403, OK, 403],
    );
    r(Api, "GET", "/tokens", "", all(200));
    r(Api, "POST", "/tokens", "", all(OK));
    let p = format!("/tokens/{}", i.none);
    r(Api, "DELETE", "/tokens/{id}", &p, all(404));
    r(Api, "GET", "/units", "", all(200));
    r(Api, "POST", "/units", "", office_only);
    let p = format!("/units/{}", i.fm_unit);
    r(Api, "GET", "/units/{id}", &p, [200, 200, 404, 404, 200]);
    r(Api, "PUT", "/units/{id}", &p, office_only);
    let p = format!("/units/{}/people", i.city_unit);
    r(
        Api,
        "GET",
        "/units/{id}/people",
        &p,
        [200, 200, 404, 200, 200],
    );
    r(Api, "POST", "/units/{id}/people", &p, office_only);
    r(Api, "GET", "/users", "", [200, 403, 403, 403, 403]);
    r(Api, "POST", "/users", "", admin_only);
    let p = format!("/users/{}", i.office_user);
    r(Api, "GET", "/users/{id}", &p, [200, 403, 403, 403, 403]);
    r(Api, "PUT", "/users/{id}", &p, admin_only);
    let p = format!("/users/{}/grants", i.office_user);
    r(
        Api,
        "GET",
        "/users/{id}/grants",
        &p,
        [200, 403, 403, 403, 403],
    );
    r(Api, "POST", "/users/{id}/grants", &p, admin_only);
    let p = format!("/users/{}/grants/{}", i.office_user, i.none);
    r(
        Api,
        "DELETE",
        "/users/{id}/grants/{grant_id}",
        &p,
        [404, 403, 403, 403, 403],
    );
    v
}

/// What the server says it answers: the pages' table and the OpenAPI
/// document (plus the document itself).
fn served() -> BTreeSet<(bool, String, String)> {
    let mut all: BTreeSet<(bool, String, String)> = wenming_web::page_routes()
        .into_iter()
        .map(|(m, p)| (false, m.to_string(), p.to_string()))
        .collect();
    let doc = serde_json::to_value(wenming_web::openapi_document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            all.insert((true, method.to_uppercase(), path.clone()));
        }
    }
    all.insert((true, "GET".into(), "/openapi.json".into()));
    all
}

#[test]
fn every_route_has_a_row_in_the_role_matrix() {
    let dummy = Ids {
        framework: "f".into(),
        standard: "s".into(),
        edu_task: "t".into(),
        office_user: "u".into(),
        lj: "lj".into(),
        fm: "fm".into(),
        city_unit: "cu".into(),
        lj_unit: "lu".into(),
        fm_unit: "fu".into(),
        lj_person: "p".into(),
        lj_site: "s".into(),
        round: "r".into(),
        round_site: "rs".into(),
        case: "c".into(),
        photo: "ph".into(),
        category: "k".into(),
        requirement: "q".into(),
        questionnaire: "qn".into(),
        wave: "w".into(),
        wave_region: "wr".into(),
        rating_round: "rr".into(),
        rating_comment: "rc".into(),
        ranking_list: "rl".into(),
        ranking_edition: "re".into(),
        ranking_appeal: "ra".into(),
        none: "n".into(),
    };
    let listed: BTreeSet<(bool, String, String)> = rows(&dummy)
        .iter()
        .map(|r| {
            (
                r.via == Via::Api,
                r.method.to_string(),
                r.template.to_string(),
            )
        })
        .collect();
    let served = served();
    let missing: Vec<_> = served.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the role matrix (api?, method, path): {missing:#?}"
    );
    assert!(
        stale.is_empty(),
        "rows for routes the server does not have: {stale:#?}"
    );
}

/// The top-level properties of an operation's JSON request body.
fn body_fields(doc: &serde_json::Value, method: &str, path: &str) -> Vec<String> {
    let op = &doc["paths"][path][method.to_lowercase()];
    let mut schema = &op["requestBody"]["content"]["application/json"]["schema"];
    if let Some(r) = schema["$ref"].as_str() {
        schema = &doc["components"]["schemas"][r.rsplit('/').next().unwrap_or(r)];
    }
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn passes(expected: u16, got: u16) -> bool {
    if expected == OK {
        !matches!(got, 401 | 403 | 404 | 405) && got < 500
    } else {
        expected == got
    }
}

async fn every_route_answers_each_role_as_the_matrix_says(b: Backend) {
    let app = TestApp::demo(b).await;
    let mut ids = ids(&app).await;
    // A case in 临江区 with its photo, sent to 市城市管理局.
    let (inspector, office) = (
        app.token("inspector", false).await,
        app.token("office", false).await,
    );
    let cats = wenming_store::case::categories(&app.store).await.unwrap();
    let at = serde_json::json!({"lon": crate::cases::IN_LJ.0, "lat": crate::cases::IN_LJ.1});
    let photo = crate::cases::fresh_photo(&app, &inspector, &at, 7).await;
    let c: serde_json::Value = bearer(&format!("http://{}", app.addr))(Method::POST, "/cases", &inspector)
        .json(&serde_json::json!({"source": "inspection", "category_id": crate::cases::sub(&cats, "0201").id,
            "description": "路边垃圾堆积", "lon": at["lon"], "lat": at["lat"], "photo_ids": [photo]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = crate::cases::register_and_dispatch(&app, &office, &c, "市城市管理局", 24).await;
    ids.case = c["id"].as_str().unwrap().to_string();
    ids.photo = photo;
    let rows = rows(&ids);
    let base = format!("http://{}", app.addr);
    let call = bearer(&base);
    let doc = serde_json::to_value(wenming_web::openapi_document()).unwrap();
    let mut wrong = vec![];
    for (k, role) in ROLES.iter().enumerate() {
        let session = app.as_role(role).await;
        let token = app.token(role, false).await;
        for row in &rows {
            let got = match row.via {
                Via::Page if row.method == "GET" => session.get(&row.path).await.status(),
                Via::Page => session.post(&row.path, &[]).await.status(),
                Via::Api => {
                    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
                    let req = call(method.clone(), &row.path, &token);
                    let req = if method == Method::GET || method == Method::DELETE {
                        req
                    } else {
                        req.json(&serde_json::json!({}))
                    };
                    let resp = req.send().await.unwrap();
                    let status = resp.status();
                    if status.as_u16() >= 400 && row.path != "/openapi.json" {
                        let body: serde_json::Value = resp.json().await.unwrap_or_default();
                        if !body["errors"][0]["code"].is_string() {
                            wrong.push(format!(
                                "{role} {} /api/v1{}: {status} without the error shape",
                                row.method, row.path
                            ));
                        }
                        // An error names a field of the request body, or the
                        // body as a whole (it is not JSON, or the wrong type).
                        let known = body_fields(&doc, row.method, row.template);
                        for e in body["errors"].as_array().into_iter().flatten() {
                            // The body as a whole is `body`; uploads are not
                            // JSON, and their errors name the file or a place
                            // in it.
                            if let Some(f) = e["field"].as_str()
                                && f != "body"
                                && !known.is_empty()
                                && !known
                                    .iter()
                                    .any(|k| k == f.split(['.', '[']).next().unwrap_or(f))
                            {
                                wrong.push(format!(
                                    "{role} {} /api/v1{}: error names `{f}`, not a field of its body {known:?}",
                                    row.method, row.path
                                ));
                            }
                        }
                    }
                    status
                }
            };
            if !passes(row.expect[k], got.as_u16()) {
                let want = match row.expect[k] {
                    OK => "allowed".to_string(),
                    c => c.to_string(),
                };
                let prefix = if row.via == Via::Api { "/api/v1" } else { "" };
                wrong.push(format!(
                    "{role} {} {prefix}{}: expected {want}, got {}",
                    row.method,
                    row.path,
                    got.as_u16()
                ));
            }
        }
    }
    // Nobody signed in: pages send you to log in, the API answers 401.
    let anon = app.anonymous();
    let public = [
        "/login",
        "/lang",
        "/static/style.css",
        "/static/inspect.js",
        "/static/outbox.js",
        "/static/interview.js",
        "/static/app.js",
        "/sw.js",
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/s/{wave}/{region}",
        "/r/{round}",
        "/p/rankings/{id}",
        "/p/rankings/{id}/photos/{photo}",
    ];
    for row in &rows {
        if public.contains(&row.template) {
            continue;
        }
        let got = match row.via {
            Via::Page if row.method == "GET" => anon.get(&row.path).await,
            Via::Page => anon.post(&row.path, &[]).await,
            Via::Api => TestApp::client()
                .request(
                    Method::from_bytes(row.method.as_bytes()).unwrap(),
                    format!("{base}/api/v1{}", row.path),
                )
                .send()
                .await
                .unwrap(),
        };
        let ok = match row.via {
            Via::Api => got.status() == StatusCode::UNAUTHORIZED,
            Via::Page if row.method == "GET" => {
                got.status() == StatusCode::SEE_OTHER && location(&got).starts_with("/login")
            }
            // A form posted without a session fails its CSRF check or is
            // sent to log in; either way nothing happens.
            Via::Page => matches!(got.status().as_u16(), 303 | 403),
        };
        if !ok {
            wrong.push(format!(
                "anonymous {} {}: got {}",
                row.method,
                row.path,
                got.status()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
