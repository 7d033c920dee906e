//! Ranking lists and their editions: a draft computed by one office
//! account, approved by another, published frozen; corrections as new
//! editions with their reason (the one corrected stays, superseded); and
//! units' appeals, an upheld one drafting the correction.

use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;
use wenming_domain::policy::{Permit, may};
use wenming_domain::ranking::{Entry, ListSpec, rank};

wenming_domain::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum EditionState {
        Draft = "draft",
        Approved = "approved",
        Published = "published",
        Superseded = "superseded",
    }
}

wenming_domain::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum AppealState {
        Pending = "pending",
        Upheld = "upheld",
        Rejected = "rejected",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct List {
    pub id: Uuid,
    pub spec: ListSpec,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edition {
    pub id: Uuid,
    pub list_id: Uuid,
    pub number: i64,
    pub state: EditionState,
    pub entries: Vec<Entry>,
    /// Why this edition corrects the one before it.
    pub reason: Option<String>,
    pub drafted_by: Option<Uuid>,
    pub approved_by: Option<Uuid>,
    pub published_at: Option<jiff::Timestamp>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Appeal {
    pub id: Uuid,
    pub edition_id: Uuid,
    pub subject_id: Uuid,
    pub unit_id: Uuid,
    pub reason: String,
    pub state: AppealState,
    pub decision: Option<String>,
    pub version: i64,
}

fn corrupt(what: &str) -> impl Fn(serde_json::Error) -> StoreError + '_ {
    move |e| StoreError::Corrupt(format!("{what}: {e}"))
}

pub async fn lists(store: &Store) -> Result<Vec<List>, StoreError> {
    let rows =
        sqlx::query("SELECT id, spec, version FROM ranking_list ORDER BY created_at DESC, id")
            .fetch_all(store.reader())
            .await?;
    rows.iter().map(list_from).collect()
}

fn list_from(r: &sqlx::any::AnyRow) -> Result<List, StoreError> {
    Ok(List {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        spec: serde_json::from_str(&r.try_get::<String, _>("spec")?)
            .map_err(corrupt("list spec"))?,
        version: r.try_get("version")?,
    })
}

pub async fn list(store: &Store, id: Uuid) -> Result<List, StoreError> {
    let r = sqlx::query("SELECT id, spec, version FROM ranking_list WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    list_from(&r)
}

const EDITION: &str = "SELECT id, list_id, number, state, entries, reason, drafted_by, approved_by, \
                       published_at, version FROM ranking_edition";

fn edition_from(r: &sqlx::any::AnyRow) -> Result<Edition, StoreError> {
    let state: String = r.try_get("state")?;
    let uuid = |c: &str| -> Result<Option<Uuid>, StoreError> {
        r.try_get::<Option<String>, _>(c)?
            .as_deref()
            .map(parse_uuid)
            .transpose()
    };
    Ok(Edition {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        list_id: parse_uuid(&r.try_get::<String, _>("list_id")?)?,
        number: r.try_get("number")?,
        state: EditionState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("edition state {state}")))?,
        entries: serde_json::from_str(&r.try_get::<String, _>("entries")?)
            .map_err(corrupt("edition entries"))?,
        reason: r.try_get("reason")?,
        drafted_by: uuid("drafted_by")?,
        approved_by: uuid("approved_by")?,
        published_at: r
            .try_get::<Option<i64>, _>("published_at")?
            .and_then(|m| jiff::Timestamp::from_microsecond(m).ok()),
        version: r.try_get("version")?,
    })
}

/// A list's editions, the newest first.
pub async fn editions(store: &Store, list_id: Uuid) -> Result<Vec<Edition>, StoreError> {
    let rows = sqlx::query(&format!(
        "{EDITION} WHERE list_id = $1 ORDER BY number DESC"
    ))
    .bind(list_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(edition_from).collect()
}

pub async fn edition(store: &Store, id: Uuid) -> Result<Edition, StoreError> {
    let r = sqlx::query(&format!("{EDITION} WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    edition_from(&r)
}

/// What the audit log keeps of an edition (its entries are in the row).
#[derive(Serialize)]
struct EditionRecord<'a> {
    list_id: Uuid,
    number: i64,
    state: &'a str,
    entries: usize,
    reason: Option<&'a str>,
}

fn record(e: &Edition) -> EditionRecord<'_> {
    EditionRecord {
        list_id: e.list_id,
        number: e.number,
        state: e.state.code(),
        entries: e.entries.len(),
        reason: e.reason.as_deref(),
    }
}

async fn insert_edition(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    e: &Edition,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ranking_edition (id, list_id, number, state, entries, reason, computed_at, drafted_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
    )
    .bind(e.id.to_string())
    .bind(e.list_id.to_string())
    .bind(e.number)
    .bind(e.state.code())
    .bind(serde_json::to_string(&e.entries).map_err(corrupt("entries"))?)
    .bind(e.reason.as_deref())
    .bind(now_micros())
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .execute(&mut *tx)
    .await?;
    audit::created(tx, ctx, "ranking_edition", &e.id.to_string(), &record(e)).await
}

/// Defines a list and keeps its first draft, computed by the caller.
pub async fn create(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRankings>,
    spec: &ListSpec,
    entries: Vec<Entry>,
) -> Result<(List, Edition), StoreError> {
    StoreError::unless_city_wide(permit)?;
    spec.validate().map_err(StoreError::Invalid)?;
    let list = List {
        id: wenming_domain::new_id(),
        spec: spec.clone(),
        version: 1,
    };
    let draft = Edition {
        id: wenming_domain::new_id(),
        list_id: list.id,
        number: 1,
        state: EditionState::Draft,
        entries: rank(entries, spec),
        reason: None,
        drafted_by: ctx.actor_id,
        approved_by: None,
        published_at: None,
        version: 1,
    };
    let mut tx = store.begin().await?;
    sqlx::query(
        "INSERT INTO ranking_list (id, name, subject, spec, public, created_by, created_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
    )
    .bind(list.id.to_string())
    .bind(spec.name.trim())
    .bind(spec.subject.code())
    .bind(serde_json::to_string(spec).map_err(corrupt("spec"))?)
    .bind(i64::from(spec.public))
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now_micros())
    .execute(&mut *tx)
    .await?;
    audit::created(&mut tx, ctx, "ranking_list", &list.id.to_string(), spec).await?;
    insert_edition(&mut tx, ctx, &draft).await?;
    tx.commit().await?;
    Ok((list, draft))
}

/// Moves an edition from one state to the next at the version read.
async fn step(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    before: &Edition,
    version: i64,
    to: EditionState,
    action: &str,
) -> Result<Edition, StoreError> {
    let now = now_micros();
    let n = sqlx::query(
        "UPDATE ranking_edition SET state = $1, version = version + 1, \
         approved_by = CASE WHEN $1 = 'approved' THEN $2 ELSE approved_by END, \
         approved_at = CASE WHEN $1 = 'approved' THEN $3 ELSE approved_at END, \
         published_at = CASE WHEN $1 = 'published' THEN $3 ELSE published_at END \
         WHERE id = $4 AND version = $5",
    )
    .bind(to.code())
    .bind(ctx.actor_id.map(|u| u.to_string()).unwrap_or_default())
    .bind(now)
    .bind(before.id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let mut after = before.clone();
    after.state = to;
    after.version = version + 1;
    if to == EditionState::Approved {
        after.approved_by = ctx.actor_id;
    }
    if to == EditionState::Published {
        after.published_at = jiff::Timestamp::from_microsecond(now).ok();
    }
    audit::changed(
        tx,
        ctx,
        action,
        "ranking_edition",
        &before.id.to_string(),
        &record(before),
        &record(&after),
    )
    .await?;
    Ok(after)
}

/// Computes a draft again (the data moved since it was drafted).
pub async fn redraft(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRankings>,
    id: Uuid,
    version: i64,
    entries: Vec<Entry>,
) -> Result<Edition, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = edition(store, id).await?;
    if before.state != EditionState::Draft {
        return Err(StoreError::invalid("state", "not_a_draft"));
    }
    let spec = list(store, before.list_id).await?.spec;
    let entries = rank(entries, &spec);
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE ranking_edition SET entries = $1, computed_at = $2, drafted_by = $3, version = version + 1 \
         WHERE id = $4 AND version = $5 AND state = 'draft'",
    )
    .bind(serde_json::to_string(&entries).map_err(corrupt("entries"))?)
    .bind(now_micros())
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Edition {
        entries,
        drafted_by: ctx.actor_id,
        version: version + 1,
        ..before.clone()
    };
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "ranking_edition",
        &id.to_string(),
        &record(&before),
        &record(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A second office account approves a draft; its drafter cannot.
pub async fn approve(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRankings>,
    id: Uuid,
    version: i64,
) -> Result<Edition, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = edition(store, id).await?;
    if before.state != EditionState::Draft {
        return Err(StoreError::invalid("state", "not_a_draft"));
    }
    if ctx.actor_id.is_none() || before.drafted_by == ctx.actor_id {
        return Err(StoreError::invalid("approver", "own_draft"));
    }
    let mut tx = store.begin().await?;
    let after = step(
        &mut tx,
        ctx,
        &before,
        version,
        EditionState::Approved,
        "approve",
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Publishes an approved edition, frozen; the one it corrects is kept,
/// superseded.
pub async fn publish(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRankings>,
    id: Uuid,
    version: i64,
) -> Result<Edition, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = edition(store, id).await?;
    if before.state != EditionState::Approved {
        return Err(StoreError::invalid("state", "not_approved"));
    }
    let mut tx = store.begin().await?;
    let earlier = editions(store, before.list_id).await?;
    for old in earlier
        .iter()
        .filter(|e| e.state == EditionState::Published && e.id != id)
    {
        step(
            &mut tx,
            ctx,
            old,
            old.version,
            EditionState::Superseded,
            "update",
        )
        .await?;
    }
    let after = step(
        &mut tx,
        ctx,
        &before,
        version,
        EditionState::Published,
        "publish",
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Drafts a correction of a published edition: its entries with the
/// `struck` ones (subject, why) taken off the lists, ranked again, and
/// the reason. It is approved and published like any draft.
pub async fn correct(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRankings>,
    id: Uuid,
    reason: &str,
    struck: &[(Uuid, String)],
) -> Result<Edition, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut tx = store.begin().await?;
    let draft = correct_in(&mut tx, store, ctx, id, reason, struck).await?;
    tx.commit().await?;
    Ok(draft)
}

async fn correct_in(
    tx: &mut sqlx::AnyConnection,
    store: &Store,
    ctx: &Ctx,
    id: Uuid,
    reason: &str,
    struck: &[(Uuid, String)],
) -> Result<Edition, StoreError> {
    let published = edition(store, id).await?;
    if published.state != EditionState::Published {
        return Err(StoreError::invalid("edition", "not_published"));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "required"));
    }
    for (s, _) in struck {
        if !published.entries.iter().any(|e| e.subject_id == *s) {
            return Err(StoreError::invalid("struck", "not_on_the_list"));
        }
    }
    let spec = list(store, published.list_id).await?.spec;
    let entries: Vec<Entry> = published
        .entries
        .iter()
        .cloned()
        .map(|mut e| {
            if let Some((_, why)) = struck.iter().find(|(s, _)| *s == e.subject_id) {
                e.struck = Some(why.clone());
            }
            e
        })
        .collect();
    let number = editions(store, published.list_id)
        .await?
        .iter()
        .map(|e| e.number)
        .max()
        .unwrap_or(0)
        + 1;
    let draft = Edition {
        id: wenming_domain::new_id(),
        list_id: published.list_id,
        number,
        state: EditionState::Draft,
        entries: rank(entries, &spec),
        reason: Some(reason.trim().to_string()),
        drafted_by: ctx.actor_id,
        approved_by: None,
        published_at: None,
        version: 1,
    };
    insert_edition(tx, ctx, &draft).await?;
    Ok(draft)
}

/// A unit appeals its entry on the list's published edition, within the
/// list's days for appeals.
pub async fn appeal(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::AppealRankings>,
    edition_id: Uuid,
    subject_id: Uuid,
    reason: &str,
) -> Result<Appeal, StoreError> {
    let e = edition(store, edition_id).await?;
    let spec = list(store, e.list_id).await?.spec;
    if e.state != EditionState::Published {
        return Err(StoreError::invalid("edition", "not_published"));
    }
    if !spec.subject.ranks_units() || !e.entries.iter().any(|x| x.subject_id == subject_id) {
        return Err(StoreError::invalid("subject_id", "not_on_the_list"));
    }
    let path: Option<String> = sqlx::query_scalar(
        "SELECT r.path FROM unit u JOIN region r ON r.id = u.region_id WHERE u.id = $1",
    )
    .bind(subject_id.to_string())
    .fetch_optional(store.reader())
    .await?;
    if !permit
        .scope()
        .covers_unit(subject_id, path.as_deref().unwrap_or(""))
    {
        return Err(StoreError::Forbidden);
    }
    let deadline = e
        .published_at
        .map(|p| p + jiff::SignedDuration::from_hours(24 * spec.appeal_days));
    if deadline.is_none_or(|d| jiff::Timestamp::now() > d) {
        return Err(StoreError::invalid("edition", "appeal_window_closed"));
    }
    if reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "required"));
    }
    let made = Appeal {
        id: wenming_domain::new_id(),
        edition_id,
        subject_id,
        unit_id: subject_id,
        reason: reason.trim().into(),
        state: AppealState::Pending,
        decision: None,
        version: 1,
    };
    let mut tx = store.begin().await?;
    let put = sqlx::query(
        "INSERT INTO ranking_appeal (id, edition_id, subject_id, unit_id, reason, state, created_by, created_at, version) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, 1)",
    )
    .bind(made.id.to_string())
    .bind(edition_id.to_string())
    .bind(subject_id.to_string())
    .bind(subject_id.to_string())
    .bind(&made.reason)
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now_micros())
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from);
    match put {
        Err(e) if e.is_unique_violation() => {
            return Err(StoreError::invalid("subject_id", "already_appealed"));
        }
        other => other?,
    };
    audit::created(&mut tx, ctx, "ranking_appeal", &made.id.to_string(), &made).await?;
    tx.commit().await?;
    Ok(made)
}

pub async fn appeals(store: &Store, list_id: Uuid) -> Result<Vec<Appeal>, StoreError> {
    let rows = sqlx::query(
        "SELECT a.* FROM ranking_appeal a JOIN ranking_edition e ON e.id = a.edition_id \
         WHERE e.list_id = $1 ORDER BY a.created_at DESC, a.id",
    )
    .bind(list_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(appeal_from).collect()
}

fn appeal_from(r: &sqlx::any::AnyRow) -> Result<Appeal, StoreError> {
    let state: String = r.try_get("state")?;
    Ok(Appeal {
        id: parse_uuid(&r.try_get::<String, _>("id")?)?,
        edition_id: parse_uuid(&r.try_get::<String, _>("edition_id")?)?,
        subject_id: parse_uuid(&r.try_get::<String, _>("subject_id")?)?,
        unit_id: parse_uuid(&r.try_get::<String, _>("unit_id")?)?,
        reason: r.try_get("reason")?,
        state: AppealState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("appeal state {state}")))?,
        decision: r.try_get("decision")?,
        version: r.try_get("version")?,
    })
}

/// The office decides an appeal; an upheld one drafts the correction that
/// takes the entry off the lists, in the same transaction. Returns the
/// appeal and that draft.
pub async fn decide(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageRankings>,
    id: Uuid,
    version: i64,
    upheld: bool,
    decision: &str,
) -> Result<(Appeal, Option<Edition>), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = appeal_of(store, id).await?;
    if before.state != AppealState::Pending {
        return Err(StoreError::invalid("state", "already_decided"));
    }
    if decision.trim().is_empty() {
        return Err(StoreError::invalid("decision", "required"));
    }
    let to = if upheld {
        AppealState::Upheld
    } else {
        AppealState::Rejected
    };
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE ranking_appeal SET state = $1, decision = $2, decided_by = $3, decided_at = $4, \
         version = version + 1 WHERE id = $5 AND version = $6 AND state = 'pending'",
    )
    .bind(to.code())
    .bind(decision.trim())
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now_micros())
    .bind(id.to_string())
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    let after = Appeal {
        state: to,
        decision: Some(decision.trim().into()),
        version: version + 1,
        ..before.clone()
    };
    audit::changed(
        &mut tx,
        ctx,
        if upheld { "uphold" } else { "reject" },
        "ranking_appeal",
        &id.to_string(),
        &before,
        &after,
    )
    .await?;
    let draft = if upheld {
        Some(
            correct_in(
                &mut tx,
                store,
                ctx,
                before.edition_id,
                decision,
                &[(before.subject_id, decision.trim().to_string())],
            )
            .await?,
        )
    } else {
        None
    };
    tx.commit().await?;
    Ok((after, draft))
}

/// A site's findings over rounds: what on-site lists are computed from.
#[derive(Debug, Clone)]
pub struct SiteScore {
    pub site_id: Uuid,
    pub name: String,
    /// The path of the site's region (its community, street, district).
    pub region_path: String,
    pub met: u64,
    pub made: u64,
}

/// Rounds of the framework in force overlapping the period, of the kinds
/// named (none: every kind).
pub async fn rounds_in(
    store: &Store,
    from: jiff::civil::Date,
    to: jiff::civil::Date,
    kinds: &[String],
) -> Result<Vec<Uuid>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind FROM inspection_round WHERE starts_on <= $1 AND ends_on >= $2",
    )
    .bind(to.to_string())
    .bind(from.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut out = vec![];
    for r in rows {
        let kind: String = r.try_get("kind")?;
        if kinds.is_empty() || kinds.contains(&kind) {
            out.push(parse_uuid(&r.try_get::<String, _>("id")?)?);
        }
    }
    Ok(out)
}

/// Each site's passed and judged findings in the rounds.
pub async fn site_scores(store: &Store, rounds: &[Uuid]) -> Result<Vec<SiteScore>, StoreError> {
    let rows = crate::sql::rows_for_ids(
        store,
        "SELECT s.id, s.name, r.path, \
         CAST(SUM(CASE WHEN f.outcome = 'pass' THEN 1 ELSE 0 END) AS BIGINT) AS met, \
         CAST(SUM(CASE WHEN f.outcome IN ('pass', 'fail') THEN 1 ELSE 0 END) AS BIGINT) AS made \
         FROM finding f JOIN site s ON s.id = f.site_id JOIN region r ON r.id = s.region_id \
         WHERE f.round_id IN ({ids}) GROUP BY s.id, s.name, r.path",
        rounds,
    )
    .await?;
    // A site judged in rounds asked for in different parts comes once a
    // part: one entry each, added up.
    let mut by_site: std::collections::BTreeMap<Uuid, SiteScore> = Default::default();
    for r in &rows {
        let site_id = parse_uuid(&r.try_get::<String, _>("id")?)?;
        let met = r.try_get::<i64, _>("met")?.max(0) as u64;
        let made = r.try_get::<i64, _>("made")?.max(0) as u64;
        let e = match by_site.entry(site_id) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => v.insert(SiteScore {
                site_id,
                name: r.try_get("name")?,
                region_path: r.try_get("path")?,
                met: 0,
                made: 0,
            }),
        };
        e.met += met;
        e.made += made;
    }
    Ok(by_site.into_values().collect())
}

/// A 民评官 round's units as entries: the mean score or the satisfied
/// share, with the number of ratings.
pub async fn rating_entries(store: &Store, round_id: Uuid) -> Result<Vec<Entry>, StoreError> {
    let round = crate::rating::round(store, round_id).await?;
    let units = crate::rating::units(store, round_id).await?;
    let counts = crate::rating::counts(store, round_id).await?;
    Ok(
        wenming_domain::rating::results(round.scale, &round.units, &counts, 1)
            .into_iter()
            .filter(|r| r.n > 0)
            .filter_map(|r| {
                let name = units.iter().find(|u| u.id == r.unit_id)?.name.clone();
                Some(Entry {
                    subject_id: r.unit_id,
                    name,
                    value: r.score(),
                    n: r.n,
                    rank: None,
                    mark: None,
                    struck: None,
                })
            })
            .collect(),
    )
}

/// One appeal.
pub async fn appeal_of(store: &Store, id: Uuid) -> Result<Appeal, StoreError> {
    let r = sqlx::query("SELECT * FROM ranking_appeal WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    appeal_from(&r)
}

/// The 曝光台 of a site list: photos of the failures found at its
/// black-listed sites in the list's rounds, at most `per_site` a site, as
/// (site, photo).
pub async fn exposure(
    store: &Store,
    spec: &ListSpec,
    e: &Edition,
    per_site: i64,
) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
    if spec.subject != wenming_domain::ranking::Subject::SiteOnSite {
        return Ok(vec![]);
    }
    let rounds = rounds_in(store, spec.period_from, spec.period_to, &spec.round_kinds).await?;
    if rounds.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (2..rounds.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT p.id FROM photo p JOIN finding f ON f.id = p.finding_id \
         WHERE f.site_id = $1 AND f.outcome = 'fail' AND f.round_id IN ({}) \
         ORDER BY f.observed_at DESC, p.id LIMIT {}",
        marks.join(", "),
        per_site.clamp(1, 12)
    );
    let mut out = vec![];
    for x in e
        .entries
        .iter()
        .filter(|x| x.mark == Some(wenming_domain::ranking::Mark::Black))
    {
        let mut q = sqlx::query_scalar::<_, String>(&sql).bind(x.subject_id.to_string());
        for r in &rounds {
            q = q.bind(r.to_string());
        }
        for id in q.fetch_all(store.reader()).await? {
            out.push((x.subject_id, parse_uuid(&id)?));
        }
    }
    Ok(out)
}
