//! Group commit for the busiest writes: reports (64 inspectors submitting
//! at once) and the rows of uploaded photos. Writes arriving together are
//! made by one task in one transaction, each inside its own savepoint, and
//! made durable by a single commit: the database's sync, not the number of
//! writes, sets the pace. A write that fails rolls back to its savepoint
//! alone; the others go on. A lone write is made at once, in a batch of one.

use crate::audit::Chain;
use crate::case::{Category, ReportWrite, case_number, intake_write, number_year, take_numbers};
use crate::{Ctx, Store, StoreError};
use sqlx::{AnyConnection, Connection};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use wenming_domain::case::IntakeInput;

pub(crate) struct Job {
    pub ctx: Ctx,
    /// Where the reporter's permit reaches: a report placed outside it is
    /// refused.
    pub reach: wenming_domain::policy::Scope,
    pub input: IntakeInput,
    pub category: Category,
    pub rules: crate::photo::PhotoRules,
    pub tz: jiff::tz::TimeZone,
}

/// A write to make; each answers with the id of what it made.
pub(crate) enum Work {
    Intake(Box<Job>),
    Photo(Box<crate::photo::NewPhoto>),
}

type Reply = oneshot::Sender<Result<Uuid, StoreError>>;

/// At most this many writes share a commit.
const MAX_BATCH: usize = 64;

/// The queue's sender, started with the first write of a store.
#[derive(Clone, Default)]
pub(crate) struct GroupCommit(Arc<Mutex<Option<Sender>>>);

type Sender = mpsc::Sender<(Work, Reply)>;

pub(crate) async fn submit(store: &Store, job: Work) -> Result<Uuid, StoreError> {
    let sender = {
        let mut slot = store
            .group_commit()
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some(s) if !s.is_closed() => s.clone(),
            _ => {
                let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
                tokio::spawn(writer(store.clone(), rx));
                *slot = Some(tx.clone());
                tx
            }
        }
    };
    let (reply, answer) = oneshot::channel();
    sender
        .send((job, reply))
        .await
        .map_err(|_| StoreError::Corrupt("the group writer stopped".into()))?;
    let r = answer
        .await
        .map_err(|_| StoreError::Corrupt("the group writer stopped".into()))?;
    store.note_write(&r);
    r
}

async fn writer(store: Store, mut rx: mpsc::Receiver<(Work, Reply)>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        write_batch(&store, batch).await;
    }
}

async fn write_batch(store: &Store, batch: Vec<(Work, Reply)>) {
    let fail_all = |batch: Vec<(Work, Reply)>, msg: String| {
        for (_, reply) in batch {
            let _ = reply.send(Err(StoreError::Corrupt(msg.clone())));
        }
    };
    let world = if batch.iter().any(|(w, _)| matches!(w, Work::Intake(_))) {
        match crate::case::intake_world_now(store).await {
            Ok(w) => Some(w),
            Err(e) => return fail_all(batch, e.to_string()),
        }
    } else {
        None
    };
    // Reports refused before anything is written (outside the city) are
    // answered now; the rest are written.
    let mut planned = vec![];
    for (work, reply) in batch {
        let plan = match (&work, &world) {
            (Work::Intake(job), Some(w)) => {
                match crate::case::intake_plan(w, &job.input, &job.category)
                    .and_then(|p| p.within(&job.reach))
                {
                    Ok(p) => Some(p),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        continue;
                    }
                }
            }
            _ => None,
        };
        planned.push((work, reply, plan));
    }
    if planned.is_empty() {
        return;
    }
    // Usually every write succeeds: all are made straight into one
    // transaction, numbered together, the audit chain's head kept in
    // memory. Should one fail (a retried client id, a photo that is not
    // the reporter's), that transaction is dropped and each write is made
    // again in a savepoint of its own, so it fails alone.
    match all_at_once(store, &planned).await {
        Ok(ids) => {
            for ((_, reply, _), id) in planned.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
        }
        Err(_) => one_by_one(store, planned).await,
    }
}

type Planned = (Work, Reply, Option<crate::case::Planned>);

async fn all_at_once(store: &Store, planned: &[Planned]) -> Result<Vec<Uuid>, StoreError> {
    let mut tx = store.begin().await?;
    match write_all(&mut tx, planned).await {
        Ok(ids) => {
            tx.commit().await?;
            Ok(ids)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

async fn write_all(tx: &mut AnyConnection, planned: &[Planned]) -> Result<Vec<Uuid>, StoreError> {
    let now = crate::now_micros();
    let mut chain = Chain::Direct;
    let mut reports = vec![];
    for (work, _, plan) in planned {
        if let (Work::Intake(job), Some(plan)) = (work, plan) {
            reports.push((job, plan));
        }
    }
    let mut report_ids = vec![];
    if !reports.is_empty() {
        chain = Chain::hold(&mut *tx).await?;
        // One year for the batch: a batch straddling New Year's midnight
        // numbers its reports in the year it started.
        let year = number_year(now, &reports[0].0.tz);
        let first = take_numbers(&mut *tx, year, reports.len() as i64).await?;
        let writes: Vec<ReportWrite> = reports
            .iter()
            .enumerate()
            .map(|(k, (job, plan))| ReportWrite {
                planned: plan,
                number: case_number(year, first + k as i64),
                ctx: &job.ctx,
                input: &job.input,
                cat: &job.category,
                photo_rules: &job.rules,
            })
            .collect();
        report_ids = intake_write(&mut *tx, &writes, now, &mut chain).await?;
    }
    let mut report_ids = report_ids.into_iter();
    let mut ids = vec![];
    for (work, _, plan) in planned {
        match (work, plan) {
            (Work::Intake(_), Some(_)) => ids.push(
                report_ids
                    .next()
                    .ok_or_else(|| StoreError::Corrupt("a report was not written".into()))?,
            ),
            (Work::Photo(p), _) => {
                crate::photo::insert_row(&mut *tx, p).await?;
                ids.push(p.id);
            }
            (Work::Intake(_), None) => {
                return Err(StoreError::Corrupt("a report was not planned".into()));
            }
        }
    }
    chain.finish(&mut *tx).await?;
    Ok(ids)
}

async fn one_by_one(store: &Store, planned: Vec<Planned>) {
    let mut tx = match store.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = StoreError::from(e).to_string();
            for (_, reply, _) in planned {
                let _ = reply.send(Err(StoreError::Corrupt(msg.clone())));
            }
            return;
        }
    };
    let mut results: Vec<(Reply, Result<Uuid, StoreError>)> = vec![];
    for (work, reply, plan) in planned {
        let r = async {
            let mut sp = (*tx).begin().await?;
            let done = match (&work, &plan) {
                (Work::Intake(job), Some(plan)) => {
                    let now = crate::now_micros();
                    let year = number_year(now, &job.tz);
                    match take_numbers(&mut sp, year, 1).await {
                        Ok(n) => {
                            let one = ReportWrite {
                                planned: plan,
                                number: case_number(year, n),
                                ctx: &job.ctx,
                                input: &job.input,
                                cat: &job.category,
                                photo_rules: &job.rules,
                            };
                            intake_write(&mut sp, &[one], now, &mut Chain::Direct)
                                .await?
                                .into_iter()
                                .next()
                                .ok_or_else(|| {
                                    StoreError::Corrupt("a report was not written".into())
                                })
                        }
                        Err(e) => Err(e),
                    }
                }
                (Work::Photo(p), _) => crate::photo::insert_row(&mut sp, p).await.map(|()| p.id),
                (Work::Intake(_), None) => {
                    Err(StoreError::Corrupt("a report was not planned".into()))
                }
            };
            match done {
                Ok(id) => {
                    sp.commit().await?;
                    Ok(id)
                }
                Err(e) => {
                    sp.rollback().await?;
                    Err(e)
                }
            }
        }
        .await;
        let r = r.map_err(|e: StoreError| {
            // Two retries racing with one client id: the loser is told,
            // not duplicated.
            if e.is_unique_violation() {
                StoreError::Conflict
            } else {
                e
            }
        });
        results.push((reply, r));
    }
    match tx.commit().await {
        Ok(()) => {
            for (reply, r) in results {
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            let msg = e.to_string();
            for (reply, r) in results {
                let _ = reply.send(r.and(Err(StoreError::Corrupt(format!(
                    "the write was not saved: {msg}"
                )))));
            }
        }
    }
}
