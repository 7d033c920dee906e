//! Group commit for the busiest writes: reports (64 inspectors submitting
//! at once) and the rows of uploaded photos. Writes of one kind arriving
//! together are made by one task in one transaction and made durable by a
//! single commit: the database's sync, not the number of writes, sets the
//! pace. Should one fail, the batch is made again with each write in a
//! savepoint of its own, so it fails alone; the others go on. A lone write
//! is made at once, in a batch of one.
//!
//! The queue knows nothing of what it writes: a kind of write says how to
//! ready a batch and how to write it (`Grouped`), and each kind gets its own
//! queue, kept by the store.

use crate::audit::Chain;
use crate::{Store, StoreError};
use sqlx::{AnyConnection, Connection};
use std::future::Future;
use std::sync::Mutex;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// A kind of write made in groups.
pub(crate) trait Grouped: Send + Sync + Sized + 'static {
    /// A write readied against what its batch was read with.
    type Ready: Send + Sync + 'static;

    /// Whether the writes append to the audit chain: a batch of them then
    /// holds the chain's head through the transaction.
    const AUDITED: bool;

    /// Readies a batch (what it needs is read once a batch). A write
    /// refused here is answered alone, before anything is written; an error
    /// of the whole fails the batch.
    fn ready(
        store: &Store,
        batch: &[Self],
    ) -> impl Future<Output = Result<Vec<Result<Self::Ready, StoreError>>, StoreError>> + Send;

    /// Writes readied writes inside `tx`, linking their audit records on
    /// `chain`; returns each one's id, in order.
    fn write(
        tx: &mut AnyConnection,
        batch: &[(&Self, &Self::Ready)],
        chain: &mut Chain,
    ) -> impl Future<Output = Result<Vec<Uuid>, StoreError>> + Send;
}

type Reply = oneshot::Sender<Result<Uuid, StoreError>>;

/// At most this many writes share a commit.
const MAX_BATCH: usize = 64;

/// A kind's queue, started with its first write on a store.
struct Queue<K: Grouped>(Mutex<Option<mpsc::Sender<(K, Reply)>>>);

impl<K: Grouped> Default for Queue<K> {
    fn default() -> Self {
        Queue(Mutex::new(None))
    }
}

/// Makes the write with whatever else of its kind is being written.
pub(crate) async fn submit<K: Grouped>(store: &Store, write: K) -> Result<Uuid, StoreError> {
    let sender = {
        let queue = store.kept::<Queue<K>>();
        let mut slot = queue.0.lock().unwrap_or_else(|p| p.into_inner());
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
        .send((write, reply))
        .await
        .map_err(|_| StoreError::Corrupt("the group writer stopped".into()))?;
    let r = answer
        .await
        .map_err(|_| StoreError::Corrupt("the group writer stopped".into()))?;
    store.note_write(&r);
    r
}

async fn writer<K: Grouped>(store: Store, mut rx: mpsc::Receiver<(K, Reply)>) {
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

async fn write_batch<K: Grouped>(store: &Store, batch: Vec<(K, Reply)>) {
    let (writes, replies): (Vec<K>, Vec<Reply>) = batch.into_iter().unzip();
    let readied = match K::ready(store, &writes).await {
        Ok(r) => r,
        Err(e) => {
            let msg = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Corrupt(msg.clone())));
            }
            return;
        }
    };
    // Writes refused before anything is written are answered now; the
    // rest are written.
    let mut planned = vec![];
    for ((write, reply), ready) in writes.into_iter().zip(replies).zip(readied) {
        match ready {
            Ok(ready) => planned.push((write, ready, reply)),
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    }
    if planned.is_empty() {
        return;
    }
    // Usually every write succeeds: all are made straight into one
    // transaction, the audit chain's head kept in memory. Should one fail
    // (a retried client id, a photo that is not the reporter's), that
    // transaction is dropped and each write is made again in a savepoint
    // of its own.
    match all_at_once(store, &planned).await {
        Ok(ids) => {
            for ((_, _, reply), id) in planned.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
        }
        Err(_) => one_by_one(store, planned).await,
    }
}

type Planned<K> = (K, <K as Grouped>::Ready, Reply);

async fn all_at_once<K: Grouped>(
    store: &Store,
    planned: &[Planned<K>],
) -> Result<Vec<Uuid>, StoreError> {
    let mut tx = store.begin().await?;
    let written = async {
        let mut chain = if K::AUDITED {
            Chain::hold(&mut tx).await?
        } else {
            Chain::Direct
        };
        let batch: Vec<(&K, &K::Ready)> = planned.iter().map(|(w, r, _)| (w, r)).collect();
        let ids = K::write(&mut tx, &batch, &mut chain).await?;
        if ids.len() != batch.len() {
            return Err(StoreError::Corrupt(
                "a write of the batch was not made".into(),
            ));
        }
        chain.finish(&mut tx).await?;
        Ok(ids)
    }
    .await;
    match written {
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

async fn one_by_one<K: Grouped>(store: &Store, planned: Vec<Planned<K>>) {
    let mut tx = match store.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = StoreError::from(e).to_string();
            for (_, _, reply) in planned {
                let _ = reply.send(Err(StoreError::Corrupt(msg.clone())));
            }
            return;
        }
    };
    let mut results: Vec<(Reply, Result<Uuid, StoreError>)> = vec![];
    for (write, ready, reply) in planned {
        let r = async {
            let mut sp = (*tx).begin().await?;
            let done = K::write(&mut sp, &[(&write, &ready)], &mut Chain::Direct)
                .await
                .and_then(|ids| {
                    ids.into_iter()
                        .next()
                        .ok_or_else(|| StoreError::Corrupt("the write was not made".into()))
                });
            match done {
                Ok(id) => {
                    sp.commit().await?;
                    Ok(id)
                }
                // The write's own error is the answer even when the
                // savepoint cannot be rolled back (SQLite rolls the whole
                // transaction back itself when the disk is full).
                Err(e) => {
                    let _ = sp.rollback().await;
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
