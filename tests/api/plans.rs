//! The hot queries use the indexes meant for them, checked from the query
//! plan rather than by timing anything. SQLite only: PostgreSQL's planner
//! rightly prefers a sequential scan on the few rows a test database holds,
//! so its plans are checked by the benchmark at scale instead.

use crate::helpers::*;
use wenming_domain::case::CaseState;
use wenming_store::case::{CaseFilter, list_plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_units_list_in_one_state_is_read_from_its_index_without_sorting() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let everything = wenming_store::org::whole_city(&app.store).await.unwrap();
    let f = CaseFilter {
        unit_id: Some(uuid::Uuid::now_v7()),
        states: vec![CaseState::Closed],
        limit: 50,
        ..Default::default()
    };
    let plan = list_plan(&app.store, &everything, &f).await.unwrap();
    assert!(
        plan.iter().any(|l| l.contains("case_unit_list")),
        "{plan:#?}"
    );
    assert!(
        !plan.iter().any(|l| l.contains("TEMP B-TREE")),
        "the index gives the order: {plan:#?}"
    );
    // The next page (keyset) reads the same index.
    let next = CaseFilter {
        after: Some((1_000, uuid::Uuid::now_v7().to_string())),
        ..f
    };
    let plan = list_plan(&app.store, &everything, &next).await.unwrap();
    assert!(
        plan.iter().any(|l| l.contains("case_unit_list")),
        "{plan:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_months_sums_and_the_overdue_count_read_their_indexes() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // A city's worth of cases, most closed and a few still with their unit,
    // and the planner's statistics (gen gathers them, as the server's
    // hourly PRAGMA optimize does).
    wenming_bench::generate::generate(
        &app.store,
        &wenming_bench::generate::GenSpec {
            cases: 2000,
            seed: 5,
            force: false,
            until: wenming_bench::generate::today(),
        },
        |_| {},
    )
    .await
    .unwrap();
    let everything = wenming_store::org::whole_city(&app.store).await.unwrap();
    let [month, overdue] = wenming_store::case::tally::query_plans(&app.store, &everything)
        .await
        .unwrap();
    // One month's rows, found by the key's first column, not every month's.
    assert!(
        month
            .iter()
            .any(|l| l.contains("SEARCH c USING") && l.contains("month=?")),
        "{month:#?}"
    );
    // Only the cases with their unit (the partial index of them, or the
    // states' index: the planner weighs the two by its statistics), never
    // every case.
    assert!(
        overdue.iter().any(|l| l.starts_with("SEARCH c USING")
            && (l.contains("case_overdue") || l.contains("case_state (state=?)"))),
        "{overdue:#?}"
    );
    assert!(
        !overdue.iter().any(|l| l.starts_with("SCAN c")),
        "{overdue:#?}"
    );
}
