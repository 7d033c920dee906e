//! Steps through the workflow, one at a time or a batch the office takes
//! on many cases (registering, dispatching).

use super::calendar::*;
use super::catalogue::*;
use super::duplicate;
use super::intake::*;
use super::{Case, StepError, get, get_written, record_event};
pub use crate::photo::StepPhotos;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::AnyConnection;
use uuid::Uuid;
use wenming_domain::calendar::Calendar;
use wenming_domain::case::{CaseActor, CaseState, IntakeInput, Refusal, Step, apply};
use wenming_domain::photo::PhotoRole;
use wenming_domain::policy::{Permit, may};

fn note_of(step: &Step) -> Option<String> {
    match step {
        Step::Reject { reason }
        | Step::Void { reason }
        | Step::Refuse { reason }
        | Step::Ask { reason, .. } => Some(reason.clone()),
        Step::UnmarkDuplicate { reason } => Some(reason.clone()),
        Step::MarkDuplicate { reason, .. } => Some(reason.clone()).filter(|n| !n.is_empty()),
        Step::Handle { note } | Step::Verify { note, .. } | Step::Evaluate { note, .. } => {
            Some(note.clone()).filter(|n| !n.is_empty())
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
/// Takes one step, as the workflow allows, on the version the actor saw:
/// if someone else acted first the update matches nothing and the actor is
/// told (Conflict) instead of overwriting.
pub async fn step(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::WorkCases>,
    actor: &CaseActor,
    id: Uuid,
    expected_version: i64,
    s: &Step,
    photos: &StepPhotos<'_>,
) -> Result<Case, StepError> {
    let scope = permit.scope();
    let case = get(store, scope, id).await?;
    if case.version != expected_version {
        return Err(StoreError::Conflict.into());
    }
    let cal = super::calendar::cached(store).await?;
    // Classifying files the case anew: routing suggests a unit again.
    let classified = match s {
        Step::Classify { category: c } => {
            let cat = category(store, *c)
                .await
                .ok()
                .filter(|x| x.parent_id.is_some() && x.active && x.code != UNCLASSIFIED_CODE)
                .ok_or(StepError::Refused(Refusal::Invalid {
                    field: "category",
                    code: "choose_subclass",
                }))?;
            let world = intake_world_now(store).await?;
            let input = IntakeInput {
                client_id: None,
                source: case.source,
                category_id: cat.id,
                description: String::new(),
                point: case.point,
                address: None,
                reporter_name: None,
                reporter_phone: None,
                photo_ids: vec![],
            };
            // A failed inspection's case keeps its sponsor unit.
            let routed = intake_plan(&world, &input, &cat)?.suggested;
            Some((cat.id, case.suggested_unit_id.or(routed)))
        }
        _ => None,
    };
    let mut tx = store.begin().await?;
    let written = write_step(&mut tx, ctx, &cal, &case, actor, s, photos).await;
    if let Err(StepError::Store(e)) = &written {
        store.note_write::<()>(&Err(StoreError::Corrupt(e.to_string())));
    }
    written?;
    if let Some((cat, suggested)) = classified {
        sqlx::query(
            "UPDATE case_record SET category_id = $1, suggested_unit_id = $2 WHERE id = $3",
        )
        .bind(cat.to_string())
        .bind(suggested.map(|u| u.to_string()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    }
    let committed = tx.commit().await.map_err(StoreError::from);
    store.note_write(&committed);
    committed?;
    Ok(get_written(store, id).await?)
}

/// Decides and writes one step on a case as it was read, inside the
/// caller's transaction; the update matches only that version.
#[allow(clippy::too_many_arguments)]
async fn write_step(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    cal: &Calendar,
    case: &Case,
    actor: &CaseActor,
    s: &Step,
    photos: &StepPhotos<'_>,
) -> Result<(), StepError> {
    let (id, expected_version) = (case.id, case.version);
    let now_ts = jiff::Timestamp::now();
    let mut after = apply(case.facts(), actor, s, now_ts).map_err(StepError::Refused)?;
    // A rectification is reported with pictures of the fixed place.
    if matches!(s, Step::Handle { .. }) && photos.ids.is_empty() {
        return Err(StepError::Refused(Refusal::Invalid {
            field: "photo_ids",
            code: "photo_required",
        }));
    }
    let now = now_micros();
    // A reported fix is put to a verifier at once; the office may put it
    // to another who may verify it.
    match s {
        Step::Handle { .. } => after.verifier = super::verifier::pick(conn, case, &after).await?,
        Step::AssignVerifier { verifier }
            if !super::verifier::eligible(conn, case, *verifier).await? =>
        {
            return Err(StepError::Refused(Refusal::Invalid {
                field: "verifier",
                code: "not_a_verifier",
            }));
        }
        _ => {}
    }
    let verifier_since = match (s, after.verifier) {
        (_, None) => None,
        (Step::Handle { .. } | Step::AssignVerifier { .. }, Some(_)) => Some(now),
        _ => case.verifier_since.map(|t| t.as_microsecond()),
    };
    let to = after.state.unwrap_or(CaseState::Reported);
    // Where the case's duplicate mark points after this step.
    let (duplicate_of, root_closed) = match s {
        Step::MarkDuplicate { original, reason } => {
            let root = duplicate::resolve(conn, case, *original, reason).await?;
            (Some(root.id), root.state == CaseState::Closed)
        }
        Step::UnmarkDuplicate { .. } => (None, false),
        _ => (case.duplicate_of, false),
    };
    // An unclassified case has no deadline to give: the office files it
    // under a category first.
    if matches!(s, Step::Dispatch { .. }) {
        let code: String = sqlx::query_scalar("SELECT code FROM category WHERE id = $1")
            .bind(case.category_id.to_string())
            .fetch_one(&mut *conn)
            .await?;
        if code == UNCLASSIFIED_CODE {
            return Err(StepError::Refused(Refusal::Invalid {
                field: "category",
                code: "choose_category",
            }));
        }
    }
    // A case others are marked duplicates of cannot be voided: they would
    // stay closed with nothing open for the problem they report.
    if matches!(s, Step::Void { .. }) && duplicate::count_of(conn, id).await? > 0 {
        return Err(StepError::Refused(Refusal::Invalid {
            field: "step",
            code: "has_duplicates",
        }));
    }
    // Duplicates close with their original; every case this step changes
    // has its month tallies corrected.
    let mut touched = vec![id.to_string()];
    if to == CaseState::Closed {
        touched.extend(
            sqlx::query_scalar::<_, String>(
                "SELECT id FROM case_record WHERE duplicate_of = $1 AND state = 'duplicate'",
            )
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await?,
        );
    }
    let before = super::tally::of_cases(conn, cal, &touched).await?;
    let stamp = |col: &str, when: bool| {
        if when {
            format!(", {col} = COALESCE({col}, $12)")
        } else {
            String::new()
        }
    };
    let sql = format!(
        "UPDATE case_record SET state = $1, unit_id = $2, deadline = $3, pending_ask = $4, before_ask = $5, dispatched_by = $6, \
         handled_by = $7, reworks = $8, extensions = $9, evaluated = $10, duplicate_of = $11{}{}{}{}, \
         verifier_id = $15, verifier_since = $16, \
         version = version + 1, updated_at = $12 WHERE id = $13 AND version = $14",
        stamp(
            "registered_at",
            matches!(s, Step::Register | Step::UnmarkDuplicate { .. })
        ),
        // Each dispatch (again after a return, or on resuming a parked
        // case) starts a handling period: the unit's time and the photo
        // checks count from it, and its first fix report is its own.
        if matches!(s, Step::Dispatch { .. } | Step::Resume { .. }) {
            ", dispatched_at = $12, handled_at = NULL".to_string()
        } else {
            stamp("handled_at", matches!(s, Step::Handle { .. }))
        },
        // A duplicate of a closed case is closed with it; one taken back
        // is open again.
        if matches!(s, Step::UnmarkDuplicate { .. }) {
            ", closed_at = NULL".to_string()
        } else {
            stamp("closed_at", to == CaseState::Closed || root_closed)
        },
        // A new deadline starts the overdue warnings over.
        if after.deadline != case.deadline {
            ", escalation_level = 0, next_escalation_at = NULL"
        } else {
            ""
        },
    );
    let n = sqlx::query(&sql)
        .bind(to.code())
        .bind(after.unit.map(|u| u.to_string()))
        .bind(after.deadline.map(|d| d.as_microsecond()))
        .bind(
            after
                .pending_ask
                .as_ref()
                .map(|a| serde_json::to_string(a).unwrap_or_default()),
        )
        .bind(after.before_ask.map(CaseState::code))
        .bind(serde_json::to_string(&after.dispatched_by).unwrap_or_default())
        .bind(serde_json::to_string(&after.handled_by).unwrap_or_default())
        .bind(after.reworks as i64)
        .bind(after.extensions as i64)
        .bind(crate::sql::flag(after.evaluated))
        .bind(duplicate_of.map(|d| d.to_string()))
        .bind(now)
        .bind(id.to_string())
        .bind(expected_version)
        .bind(after.verifier.map(|v| v.to_string()))
        .bind(verifier_since)
        .execute(&mut *conn)
        .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict.into());
    }
    if to == CaseState::Closed {
        sqlx::query("UPDATE case_record SET closed_at = COALESCE(closed_at, $1), version = version + 1, updated_at = $1 WHERE duplicate_of = $2 AND state = 'duplicate'")
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        duplicate::tell_reporters(conn, id, None, now).await?;
    }
    if let Some(root) = duplicate_of.filter(|_| matches!(s, Step::MarkDuplicate { .. })) {
        // Duplicates of this case now belong to its root: no chains.
        sqlx::query("UPDATE case_record SET duplicate_of = $1, version = version + 1, updated_at = $2 WHERE duplicate_of = $3 AND state = 'duplicate'")
            .bind(root.to_string())
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        if root_closed {
            duplicate::tell_reporters(conn, root, Some(id), now).await?;
        }
    }
    let after_tallies = super::tally::of_cases(conn, cal, &touched).await?;
    super::tally::apply(conn, &before, &after_tallies).await?;
    let data = serde_json::to_string(s).ok();
    let event_id = record_event(
        conn,
        ctx,
        id,
        s.code(),
        Some(case.state),
        to,
        note_of(s).as_deref(),
        data,
        now,
    )
    .await?;
    super::notify::after_step(conn, case, s, &after, ctx.actor_id, now).await?;
    // Pictures taken before dispatch show the problem; after it, the fix.
    let role = if case.dispatched_at.is_some() || matches!(s, Step::Dispatch { .. }) {
        PhotoRole::After
    } else {
        PhotoRole::Before
    };
    crate::photo::attach(
        conn,
        ctx,
        photos,
        id,
        event_id,
        role,
        &crate::photo::CaseWhere {
            point: case.point,
            dispatched_at: case.dispatched_at,
        },
    )
    .await?;
    #[derive(Serialize)]
    struct Snapshot<'a> {
        state: &'a str,
        unit: Option<Uuid>,
        deadline: Option<jiff::Timestamp>,
    }
    audit::changed(
        conn,
        ctx,
        s.code(),
        "case",
        &id.to_string(),
        &Snapshot {
            state: case.state.code(),
            unit: case.unit_id,
            deadline: case.deadline,
        },
        &Snapshot {
            state: to.code(),
            unit: after.unit,
            deadline: after.deadline,
        },
    )
    .await?;
    Ok(())
}

/// The most cases one batch takes: ten pages of the list.
pub const BULK_MAX: usize = 500;

/// A step the office takes on many cases at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkStep {
    /// Reported cases are registered; each keeps the unit routing suggests.
    Register,
    /// Registered cases go to the unit routing suggested, with their
    /// category's deadline.
    Dispatch,
}

/// One case a bulk step went through, and the unit it went (or will go) to.
#[derive(Debug, Clone, Serialize)]
pub struct BulkDone {
    pub id: Uuid,
    pub number: String,
    pub state: CaseState,
    pub unit_id: Option<Uuid>,
    pub unit_name: Option<String>,
}

/// Registers or dispatches many cases at once: all of them or, if any
/// cannot be (changed meanwhile, no suggested unit to dispatch to, not the
/// step its state allows), none. The error names the case that stopped it.
/// Returns each case with the unit it went to, so the office sees where
/// every one went.
pub async fn bulk(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::WorkCases>,
    actor: &CaseActor,
    items: &[(Uuid, i64)],
    what: BulkStep,
    tz: jiff::tz::TimeZone,
) -> Result<Vec<BulkDone>, (Option<String>, StepError)> {
    let scope = permit.scope();
    let cal = calendar(store, tz).await.map_err(|e| (None, e.into()))?;
    let tally_cal = super::calendar::cached(store)
        .await
        .map_err(|e| (None, e.into()))?;
    let now = jiff::Timestamp::now();
    let mut planned = vec![];
    for (id, version) in items {
        let c = get(store, scope, *id).await.map_err(|e| (None, e.into()))?;
        if c.version != *version {
            return Err((Some(c.number), StoreError::Conflict.into()));
        }
        let s = match what {
            BulkStep::Register => Step::Register,
            BulkStep::Dispatch => {
                let cat = category(store, c.category_id)
                    .await
                    .map_err(|e| (Some(c.number.clone()), e.into()))?;
                let (Some(unit), Some(ht)) = (c.suggested_unit_id, cat.handling_time) else {
                    return Err((
                        Some(c.number),
                        StepError::Refused(Refusal::Invalid {
                            field: "unit",
                            code: "no_suggested_unit",
                        }),
                    ));
                };
                Step::Dispatch {
                    unit,
                    deadline: ht.deadline(now, &cal),
                }
            }
        };
        // Refused before anything is written, with the case named.
        if let Err(r) = apply(c.facts(), actor, &s, now) {
            return Err((Some(c.number), StepError::Refused(r)));
        }
        planned.push((c, s));
    }
    let mut tx = store.begin().await.map_err(|e| (None, e.into()))?;
    for (c, s) in &planned {
        write_step(
            &mut tx,
            ctx,
            &tally_cal,
            c,
            actor,
            s,
            &StepPhotos {
                ids: &[],
                rules: &crate::photo::PhotoRules::default(),
            },
        )
        .await
        .map_err(|e| (Some(c.number.clone()), e))?;
    }
    tx.commit().await.map_err(|e| (None, e.into()))?;
    Ok(planned
        .into_iter()
        .map(|(c, s)| BulkDone {
            id: c.id,
            number: c.number,
            state: match s {
                Step::Dispatch { .. } => CaseState::Dispatched,
                _ => CaseState::Registered,
            },
            unit_id: c.suggested_unit_id,
            unit_name: c.suggested_unit_name,
        })
        .collect())
}
