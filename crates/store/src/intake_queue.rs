//! Group commit for intake. Reports arriving together (64 inspectors
//! submitting at once) are written by one task in one transaction, each
//! inside its own savepoint, and made durable by a single commit: the
//! database's sync, not the number of reports, sets the pace. A report that
//! fails rolls back to its savepoint alone; the others go on. A lone report
//! is written at once, in a batch of one.

use crate::case::{Category, intake_write};
use crate::{Ctx, Store, StoreError};
use sqlx::Connection;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use wenming_domain::case::IntakeInput;

pub(crate) struct Job {
    pub ctx: Ctx,
    pub input: IntakeInput,
    pub category: Category,
    pub rules: crate::photo::PhotoRules,
    pub tz: jiff::tz::TimeZone,
}

type Reply = oneshot::Sender<Result<Uuid, StoreError>>;

/// At most this many reports share a commit.
const MAX_BATCH: usize = 64;

/// The queue's sender, started with the first report of a store.
#[derive(Clone, Default)]
pub(crate) struct IntakeQueue(Arc<Mutex<Option<Sender>>>);

type Sender = mpsc::Sender<(Job, Reply)>;

pub(crate) async fn submit(store: &Store, job: Job) -> Result<Uuid, StoreError> {
    let sender = {
        let mut slot = store
            .intake_queue()
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
        .map_err(|_| StoreError::Corrupt("the intake writer stopped".into()))?;
    answer
        .await
        .map_err(|_| StoreError::Corrupt("the intake writer stopped".into()))?
}

async fn writer(store: Store, mut rx: mpsc::Receiver<(Job, Reply)>) {
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

async fn write_batch(store: &Store, batch: Vec<(Job, Reply)>) {
    let mut tx = match store.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let e = StoreError::from(e);
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Corrupt(e.to_string())));
            }
            return;
        }
    };
    let world = match crate::case::intake_world(&mut tx, store.shape_cache()).await {
        Ok(w) => w,
        Err(e) => {
            let msg = e.to_string();
            for (_, reply) in batch {
                let _ = reply.send(Err(StoreError::Corrupt(msg.clone())));
            }
            return;
        }
    };
    let mut results: Vec<(Reply, Result<Uuid, StoreError>)> = vec![];
    for (job, reply) in batch {
        let r = async {
            let mut sp = (*tx).begin().await?;
            match intake_write(
                &mut sp,
                &world,
                &job.ctx,
                &job.input,
                &job.category,
                &job.rules,
                &job.tz,
            )
            .await
            {
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
                    "the report was not saved: {msg}"
                )))));
            }
        }
    }
}
