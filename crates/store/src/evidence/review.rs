//! The office's review of submissions, and how complete the archive is.

use super::material::submission_select;
use super::{Requirement, RequirementFilter, Submission, requirements};
use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::evidence::{Completeness, SubmissionState};
use wenming_domain::framework::NodeKind;
use wenming_domain::policy::{Permit, Scope, may};

/// What the office decides on a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Return { reason: String },
}

/// Accepts or returns a submission on the version the reviewer read: two
/// reviewers deciding at once, one wins and the other hears of a conflict.
/// A return notifies the unit's accounts with the reason.
pub async fn decide(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ReviewEvidence>,
    submission_id: Uuid,
    expected_version: i64,
    decision: &Decision,
) -> Result<(), StoreError> {
    let (state, reason) = match decision {
        Decision::Accept => (SubmissionState::Accepted, None),
        Decision::Return { reason } => {
            let r = reason.trim();
            if r.is_empty() {
                return Err(StoreError::invalid("reason", "required"));
            }
            if r.chars().count() > 500 {
                return Err(StoreError::invalid("reason", "too_long"));
            }
            (SubmissionState::Returned, Some(r.to_string()))
        }
    };
    let s = submission(store, permit.scope(), submission_id).await?;
    let mut tx = store.begin().await?;
    let now = now_micros();
    let n = sqlx::query(
        "UPDATE submission SET state = $1, reason = $2, decided_by = $3, decided_at = $4, version = version + 1 \
         WHERE id = $5 AND version = $6",
    )
    .bind(state.code())
    .bind(reason.as_deref())
    .bind(ctx.actor_id.map(|u| u.to_string()))
    .bind(now)
    .bind(submission_id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    #[derive(Serialize)]
    struct Decided<'a> {
        state: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
    }
    audit::changed(
        &mut tx,
        ctx,
        if state == SubmissionState::Accepted {
            "accept"
        } else {
            "return"
        },
        "submission",
        &submission_id.to_string(),
        &Decided {
            state: s.state.code(),
            reason: s.reason.as_deref(),
        },
        &Decided {
            state: state.code(),
            reason: reason.as_deref(),
        },
    )
    .await?;
    if let Some(reason) = &reason {
        #[derive(Serialize)]
        struct Notice<'a> {
            requirement: Uuid,
            title: &'a str,
            reason: &'a str,
        }
        let data = serde_json::to_string(&Notice {
            requirement: s.requirement_id,
            title: &s.material.title,
            reason,
        })
        .unwrap_or_default();
        let actor = ctx.actor_id.map(|u| u.to_string());
        tell_unit(
            &mut tx,
            s.material.unit_id,
            "material_returned",
            &data,
            actor.as_deref(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Notifies a unit's accounts (but not the one who acted) inside the
/// caller's transaction.
pub(super) async fn tell_unit(
    conn: &mut sqlx::AnyConnection,
    unit: Uuid,
    kind: &str,
    data: &str,
    except: Option<&str>,
) -> Result<(), StoreError> {
    let now = now_micros();
    for user in crate::case::notify::unit_accounts(conn, Some(unit)).await? {
        if Some(user.as_str()) == except {
            continue;
        }
        sqlx::query(
            "INSERT INTO notification (id, user_id, kind, case_id, data, created_at, read_at) \
             VALUES ($1, $2, $3, NULL, $4, $5, NULL)",
        )
        .bind(wenming_domain::new_id().to_string())
        .bind(&user)
        .bind(kind)
        .bind(data)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One submission, if its unit is in scope.
pub async fn submission(store: &Store, scope: &Scope, id: Uuid) -> Result<Submission, StoreError> {
    let row = sqlx::query(&format!("{} WHERE s.id = $1", submission_select()))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    let s = super::material::submission_from_row(&row)?;
    // The scope check is the material's.
    super::material(store, scope, s.material.id).await?;
    Ok(s)
}

/// How many submissions wait for the office.
pub async fn waiting_count(store: &Store) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM submission WHERE state = 'submitted'")
            .fetch_one(store.reader())
            .await?,
    )
}

/// Submissions waiting for the office, oldest first.
pub async fn waiting(store: &Store, limit: i64) -> Result<Vec<Submission>, StoreError> {
    let rows = sqlx::query(&format!(
        "{} WHERE s.state = 'submitted' ORDER BY s.submitted_at, s.id LIMIT $1",
        submission_select()
    ))
    .bind(limit.clamp(1, 500))
    .fetch_all(store.reader())
    .await?;
    rows.iter()
        .map(super::material::submission_from_row)
        .collect()
}

/// A node of the framework with how complete its materials are: every
/// aspect, indicator and standard that has requirements in scope.
#[derive(Debug, Clone, Serialize)]
pub struct CompletenessRow {
    pub node_id: Uuid,
    pub kind: NodeKind,
    pub code: String,
    pub title: String,
    pub depth: i64,
    pub c: Completeness,
}

/// How complete the archive is: per node of the framework (summed up the
/// tree), per unit, and for the whole framework, over the requirements in
/// scope.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub total: Completeness,
    pub nodes: Vec<CompletenessRow>,
    pub units: Vec<(Option<Uuid>, String, Completeness)>,
    pub requirements: Vec<Requirement>,
}

pub async fn completeness(
    store: &Store,
    scope: &Scope,
    framework_id: Uuid,
    today: jiff::civil::Date,
) -> Result<Report, StoreError> {
    let reqs = requirements(
        store,
        scope,
        framework_id,
        &RequirementFilter::default(),
        today,
    )
    .await?;
    let rows = sqlx::query(
        "SELECT id, parent_id, kind, code, title, depth FROM framework_node WHERE framework_id = $1",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    struct N {
        parent: Option<Uuid>,
        kind: NodeKind,
        code: String,
        title: String,
        depth: i64,
    }
    let mut nodes: HashMap<Uuid, N> = HashMap::new();
    for r in &rows {
        let kind: String = r.try_get("kind")?;
        nodes.insert(
            parse_uuid(&r.try_get::<String, _>("id")?)?,
            N {
                parent: r
                    .try_get::<Option<String>, _>("parent_id")?
                    .as_deref()
                    .map(parse_uuid)
                    .transpose()?,
                kind: NodeKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("node kind {kind}")))?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                depth: r.try_get("depth")?,
            },
        );
    }
    let mut per_node: HashMap<Uuid, Completeness> = HashMap::new();
    let mut per_unit: HashMap<Option<Uuid>, (String, Completeness)> = HashMap::new();
    let mut total = Completeness::default();
    for q in &reqs {
        total.add(q.state, q.overdue);
        per_unit
            .entry(q.unit_id)
            .or_insert_with(|| {
                (
                    q.unit_name.clone().unwrap_or_default(),
                    Completeness::default(),
                )
            })
            .1
            .add(q.state, q.overdue);
        // The standard and every node above it.
        let mut at = Some(q.standard_id);
        while let Some(id) = at {
            per_node.entry(id).or_default().add(q.state, q.overdue);
            at = nodes.get(&id).and_then(|n| n.parent);
        }
    }
    let mut out: Vec<CompletenessRow> = per_node
        .into_iter()
        .filter_map(|(id, c)| {
            let n = nodes.get(&id)?;
            Some(CompletenessRow {
                node_id: id,
                kind: n.kind,
                code: n.code.clone(),
                title: n.title.clone(),
                depth: n.depth,
                c,
            })
        })
        .collect();
    out.sort_by_cached_key(|r| super::code_key(&r.code));
    let mut units: Vec<(Option<Uuid>, String, Completeness)> =
        per_unit.into_iter().map(|(u, (n, c))| (u, n, c)).collect();
    units.sort_by(|a, b| {
        b.2.missing
            .cmp(&a.2.missing)
            .then(b.2.overdue.cmp(&a.2.overdue))
            .then(a.1.cmp(&b.1))
    });
    Ok(Report {
        total,
        nodes: out,
        units,
        requirements: reqs,
    })
}

/// One accepted material of a filing package, with the standard it proves
/// and the aspect and indicator above it.
#[derive(Debug, Clone, Serialize)]
pub struct PackageEntry {
    /// (code, title) from the aspect down to the standard.
    pub path: Vec<(String, String)>,
    pub requirement_title: String,
    pub material: super::Material,
}

/// Every accepted material dated inside the window, in the framework's
/// order (by standard, then requirement, then date): what a filing
/// package holds.
pub async fn package_entries(
    store: &Store,
    scope: &Scope,
    framework_id: Uuid,
    window: &wenming_domain::evidence::Window,
) -> Result<Vec<PackageEntry>, StoreError> {
    // The package is the city's filing: the whole archive or nothing.
    if !scope.is_everything() {
        return Err(StoreError::Forbidden);
    }
    let nodes = sqlx::query(
        "SELECT id, parent_id, code, title FROM framework_node WHERE framework_id = $1",
    )
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut tree: HashMap<String, (Option<String>, String, String)> = HashMap::new();
    for r in &nodes {
        tree.insert(
            r.try_get("id")?,
            (
                r.try_get("parent_id")?,
                r.try_get("code")?,
                r.try_get("title")?,
            ),
        );
    }
    let sql = format!(
        "{}, q.title AS q_title, q.standard_id AS q_standard, q.position AS q_position FROM {} \
         WHERE s.state = 'accepted' AND q.framework_id = $1 AND m.doc_date >= $2 AND m.doc_date < $3",
        submission_select()
            .split_once(" FROM ")
            .map(|(select, _)| select.to_string())
            .unwrap_or_default(),
        submission_select()
            .split_once(" FROM ")
            .map(|(_, from)| from.to_string())
            .unwrap_or_default()
            + " JOIN evidence_requirement q ON q.id = s.requirement_id"
    );
    let rows = sqlx::query(&sql)
        .bind(framework_id.to_string())
        .bind(window.start.to_string())
        .bind(window.end.to_string())
        .fetch_all(store.reader())
        .await?;
    let mut out = vec![];
    for r in &rows {
        let s = super::material::submission_from_row(r)?;
        let mut path = vec![];
        let mut at: Option<String> = Some(r.try_get("q_standard")?);
        while let Some(id) = at {
            let Some((parent, code, title)) = tree.get(&id) else {
                break;
            };
            path.push((code.clone(), title.clone()));
            at = parent.clone();
        }
        path.reverse();
        out.push((
            r.try_get::<i64, _>("q_position")?,
            PackageEntry {
                path,
                requirement_title: r.try_get("q_title")?,
                material: s.material,
            },
        ));
    }
    out.sort_by_cached_key(|(pos, e)| {
        (
            super::code_key(&e.path.last().map(|p| p.0.clone()).unwrap_or_default()),
            *pos,
            e.material.doc_date,
            e.material.id,
        )
    });
    Ok(out.into_iter().map(|(_, e)| e).collect())
}
