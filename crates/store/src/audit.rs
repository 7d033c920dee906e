//! Writing and checking the hash-chained audit log.

use crate::{Ctx, Store, StoreError, now_micros};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use wenming_domain::audit::{AuditRecord, BrokenLink, ChainVerifier};

/// Where the next record links on. `Direct` reads and advances the head row
/// for each record; `Held` keeps it in memory through a batch of writes in
/// one transaction (the group commit), which took the head's lock first and
/// writes it back once at the end with `Chain::finish`.
pub enum Chain {
    Direct,
    Held { seq: i64, hash: String },
}

impl Chain {
    /// Locks the head for this transaction and holds it.
    pub(crate) async fn hold(conn: &mut AnyConnection) -> Result<Chain, StoreError> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *conn)
                .await?;
        Ok(Chain::Held { seq, hash })
    }

    /// Writes a held head back.
    pub(crate) async fn finish(self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        if let Chain::Held { seq, hash } = self {
            sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                .bind(seq)
                .bind(hash)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// Appends one record inside the caller's transaction. The head row is
/// updated first, which on PostgreSQL holds its row lock until commit, so
/// concurrent writers chain one after another instead of forking the chain.
pub async fn append<B: Serialize, A: Serialize>(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), StoreError> {
    append_to(
        conn,
        &mut Chain::Direct,
        ctx,
        action,
        entity_type,
        entity_id,
        before,
        after,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn append_to<B: Serialize, A: Serialize>(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    ctx: &Ctx,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), StoreError> {
    let (seq, prev_hash): (i64, String) = match chain {
        Chain::Direct => {
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *conn)
                .await?
        }
        Chain::Held { seq, hash } => (*seq + 1, hash.clone()),
    };
    let record = AuditRecord {
        seq,
        id: wenming_domain::new_id().to_string(),
        at_micros: now_micros(),
        actor_id: ctx.actor_id.map(|u| u.to_string()),
        actor_name: ctx.actor_name.clone(),
        request_id: ctx.request_id.clone(),
        action: action.to_string(),
        entity_type: entity_type.to_string(),
        entity_id: entity_id.to_string(),
        before_json: before.and_then(|b| serde_json::to_string(b).ok()),
        after_json: after.and_then(|a| serde_json::to_string(a).ok()),
        prev_hash: String::new(),
        hash: String::new(),
    }
    .seal(&prev_hash);
    sqlx::query(
        "INSERT INTO audit_log (seq, id, at, actor_id, actor_name, request_id, action, entity_type, \
         entity_id, before_json, after_json, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(record.seq)
    .bind(&record.id)
    .bind(record.at_micros)
    .bind(&record.actor_id)
    .bind(&record.actor_name)
    .bind(&record.request_id)
    .bind(&record.action)
    .bind(&record.entity_type)
    .bind(&record.entity_id)
    .bind(&record.before_json)
    .bind(&record.after_json)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await?;
    match chain {
        Chain::Direct => {
            sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                .bind(&record.hash)
                .execute(&mut *conn)
                .await?;
        }
        Chain::Held { seq, hash } => {
            *seq = record.seq;
            *hash = record.hash;
        }
    }
    Ok(())
}

/// A record made: no before, the new row after.
pub async fn created<A: Serialize>(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    entity_type: &str,
    entity_id: &str,
    after: &A,
) -> Result<(), StoreError> {
    append(
        conn,
        ctx,
        "create",
        entity_type,
        entity_id,
        None::<&()>,
        Some(after),
    )
    .await
}

/// A record changed by `action` (update, move ...), with both snapshots.
pub async fn changed<T: Serialize>(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    before: &T,
    after: &T,
) -> Result<(), StoreError> {
    append(
        conn,
        ctx,
        action,
        entity_type,
        entity_id,
        Some(before),
        Some(after),
    )
    .await
}

const COLUMNS: &str = "seq, id, at, actor_id, actor_name, request_id, action, entity_type, \
                       entity_id, before_json, after_json, prev_hash, hash";

fn from_row(r: &AnyRow) -> Result<AuditRecord, sqlx::Error> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        id: r.try_get("id")?,
        at_micros: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        actor_name: r.try_get("actor_name")?,
        request_id: r.try_get("request_id")?,
        action: r.try_get("action")?,
        entity_type: r.try_get("entity_type")?,
        entity_id: r.try_get("entity_id")?,
        before_json: r.try_get("before_json")?,
        after_json: r.try_get("after_json")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// The history of one record, oldest first.
pub async fn for_entity(
    store: &Store,
    entity_type: &str,
    entity_id: &str,
) -> Result<Vec<AuditRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE entity_type = $1 AND entity_id = $2 ORDER BY seq"
    ))
    .bind(entity_type)
    .bind(entity_id)
    .fetch_all(store.reader())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The most recent records, newest first, before sequence `before` if given.
pub async fn recent(
    store: &Store,
    entity_type: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut sql = crate::sql::Sql::new(&format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1"));
    if let Some(t) = entity_type {
        let p = sql.text_arg(t);
        sql.push(&format!(" AND entity_type = {p}"));
    }
    if let Some(b) = before {
        let p = sql.int_arg(b);
        sql.push(&format!(" AND seq < {p}"));
    }
    let p = sql.int_arg(limit);
    sql.push(&format!(" ORDER BY seq DESC LIMIT {p}"));
    let rows = sql.query().fetch_all(store.reader()).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

#[derive(Debug)]
pub struct Verification {
    pub checked: u64,
    pub broken: Option<BrokenLink>,
}

/// Re-computes the whole chain in sequence order, in batches so memory stays
/// flat however long the log is.
pub async fn verify(store: &Store) -> Result<Verification, StoreError> {
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(store.reader())
            .await?;
    let mut v = ChainVerifier::default();
    let mut after = 0_i64;
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 2000"
        ))
        .bind(after)
        .fetch_all(store.reader())
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let r = from_row(row)?;
            if let Err(b) = v.feed(&r) {
                return Ok(Verification {
                    checked: v.checked,
                    broken: Some(b),
                });
            }
            after = r.seq;
        }
    }
    Ok(Verification {
        checked: v.checked,
        broken: v.finish(head_seq, &head_hash).err(),
    })
}
