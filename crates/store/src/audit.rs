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
    append_entries(
        conn,
        &mut Chain::Direct,
        &[Entry {
            ctx,
            action,
            entity_type,
            entity_id: entity_id.to_string(),
            before_json: before.and_then(|b| serde_json::to_string(b).ok()),
            after_json: after.and_then(|a| serde_json::to_string(a).ok()),
        }],
    )
    .await
}

/// What an audit record says, before it is linked into the chain.
pub(crate) struct Entry<'a> {
    pub ctx: &'a Ctx,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

/// Links the entries into the chain in order and writes them: with a held
/// head, all with one statement per fifty.
pub(crate) async fn append_entries(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    entries: &[Entry<'_>],
) -> Result<(), StoreError> {
    let seal = |seq: i64, prev: &str, e: &Entry| {
        // A new action or kind of record must get its words (and a place in
        // the lists the label test reads) before anything writes it.
        debug_assert!(
            wenming_domain::audit::is_labelled(e.action, e.entity_type),
            "audit action {} on {} is not in domain::audit's lists",
            e.action,
            e.entity_type
        );
        AuditRecord {
            seq,
            id: wenming_domain::new_id().to_string(),
            at_micros: now_micros(),
            actor_id: e.ctx.actor_id.map(|u| u.to_string()),
            actor_name: e.ctx.actor_name.clone(),
            request_id: e.ctx.request_id.clone(),
            action: e.action.to_string(),
            entity_type: e.entity_type.to_string(),
            entity_id: e.entity_id.clone(),
            before_json: e.before_json.clone(),
            after_json: e.after_json.clone(),
            prev_hash: String::new(),
            hash: String::new(),
        }
        .seal(prev)
    };
    match chain {
        Chain::Direct => {
            for e in entries {
                let (seq, prev_hash): (i64, String) = sqlx::query_as(
                    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
                )
                .fetch_one(&mut *conn)
                .await?;
                let record = seal(seq, &prev_hash, e);
                insert_records(conn, std::slice::from_ref(&record)).await?;
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                    .bind(&record.hash)
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Chain::Held { seq, hash } => {
            let mut records = Vec::with_capacity(entries.len());
            for e in entries {
                let record = seal(*seq + 1, hash, e);
                *seq = record.seq;
                hash.clone_from(&record.hash);
                records.push(record);
            }
            for chunk in records.chunks(50) {
                insert_records(conn, chunk).await?;
            }
        }
    }
    Ok(())
}

async fn insert_records(
    conn: &mut AnyConnection,
    records: &[AuditRecord],
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO audit_log (seq, id, at, actor_id, actor_name, request_id, action, entity_type, \
         entity_id, before_json, after_json, prev_hash, hash) VALUES {}",
        crate::sql::rows(records.len(), 13)
    );
    let mut q = sqlx::query(&sql);
    for r in records {
        q = q
            .bind(r.seq)
            .bind(&r.id)
            .bind(r.at_micros)
            .bind(&r.actor_id)
            .bind(&r.actor_name)
            .bind(&r.request_id)
            .bind(&r.action)
            .bind(&r.entity_type)
            .bind(&r.entity_id)
            .bind(&r.before_json)
            .bind(&r.after_json)
            .bind(&r.prev_hash)
            .bind(&r.hash);
    }
    q.execute(&mut *conn).await?;
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

/// The records that ids stand for, so the log can name them: the kind of
/// record and what people call it (a unit's name, a case's number, a
/// standard's code and title), for every id found. Ids of nothing named
/// (an audit record's own row, a session) are simply absent.
pub async fn names(
    store: &Store,
    ids: &[String],
) -> Result<std::collections::HashMap<String, (&'static str, String)>, StoreError> {
    const NAMED: [(&str, &str, &str); 13] = [
        ("unit", "unit x", "x.name"),
        ("region", "region x", "x.name"),
        ("person", "person x", "x.name"),
        ("user", "app_user x", "x.display_name"),
        ("case", "case_record x", "x.number"),
        ("category", "category x", "x.code || ' ' || x.name"),
        ("framework", "framework x", "x.name"),
        ("standard", "framework_node x", "x.code || ' ' || x.title"),
        ("inspection_round", "inspection_round x", "x.name"),
        ("site", "site x", "x.name"),
        ("site_type", "site_type x", "x.name"),
        ("api_token", "api_token x", "x.name"),
        (
            "task",
            "task x JOIN framework_node n ON n.id = x.standard_id",
            "n.code || ' ' || n.title",
        ),
    ];
    let mut out = std::collections::HashMap::new();
    let mut wanted: Vec<&String> = ids
        .iter()
        .filter(|i| uuid::Uuid::parse_str(i).is_ok())
        .collect();
    wanted.sort();
    wanted.dedup();
    for chunk in wanted.chunks(200) {
        let mut sql = crate::sql::Sql::new("WITH ids(id) AS (VALUES ");
        let marks: Vec<String> = chunk
            .iter()
            .map(|i| format!("({})", sql.text_arg(i.as_str())))
            .collect();
        sql.push(&marks.join(", "));
        sql.push(")");
        let selects: Vec<String> = NAMED
            .iter()
            .map(|(kind, from, name)| {
                format!(
                    "SELECT x.id AS id, '{kind}' AS kind, {name} AS name FROM {from} \
                     WHERE x.id IN (SELECT id FROM ids)"
                )
            })
            .collect();
        sql.push(&format!(" {}", selects.join(" UNION ALL ")));
        for r in sql.query().fetch_all(store.reader()).await? {
            let kind: String = r.try_get("kind")?;
            let Some((k, _, _)) = NAMED.iter().find(|(k, _, _)| *k == kind) else {
                continue;
            };
            out.insert(r.try_get::<String, _>("id")?, (*k, r.try_get("name")?));
        }
    }
    Ok(out)
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
