//! A framework in and out: the import plan and the import (from the
//! table or JSON, uploads kept for a preview), export, and cloning a
//! version.

use super::node::{Node, nodes};
use super::{get, join_codes};
use crate::org::parse_uuid;
use crate::sql::flag;
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::framework::{
    EvidenceType, FrameworkDoc, FrameworkStatus, Method, NodeDoc, Points, Problem, StandardSpec,
};
use wenming_domain::policy::{Permit, may};
use wenming_domain::validation::match_key;

/// The framework as a portable document, with unit names.
pub async fn export(store: &Store, framework_id: Uuid) -> Result<FrameworkDoc, StoreError> {
    let f = get(store, framework_id).await?;
    let all = nodes(store, framework_id).await?;
    let reqs = crate::evidence::specs_of(store, framework_id).await?;
    fn build(
        parent: Option<Uuid>,
        all: &[Node],
        reqs: &HashMap<Uuid, Vec<wenming_domain::framework::RequirementSpec>>,
    ) -> Vec<NodeDoc> {
        all.iter()
            .filter(|n| n.parent_id == parent)
            .map(|n| NodeDoc {
                kind: n.kind,
                code: Some(n.code.clone()),
                title: n.title.clone(),
                points: n.declared_points,
                standard: n.standard.as_ref().map(|s| StandardSpec {
                    points: s.points,
                    methods: s.methods.clone(),
                    featured: s.featured,
                    site_types: s.site_types.clone(),
                    evidence_types: s.evidence_types.clone(),
                    lead_unit: s.lead.as_ref().map(|u| u.name.clone()),
                    cooperating_units: s.cooperating.iter().map(|u| u.name.clone()).collect(),
                    observation: s.observation,
                    requirements: reqs.get(&n.id).cloned().unwrap_or_default(),
                }),
                children: build(Some(n.id), all, reqs),
            })
            .collect()
    }
    Ok(FrameworkDoc {
        format: wenming_domain::framework::FORMAT.into(),
        name: f.name,
        year: f.year,
        status: f.status,
        basic_total: f.basic_total,
        featured_total: f.featured_total,
        settings: f.settings,
        tree: build(None, &all, &reqs),
    })
}

/// What an import would do, worked out without writing anything.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPlan {
    pub name: String,
    pub year: i32,
    pub standards: usize,
    pub basic: Points,
    pub featured: Points,
    /// Unit names in the document that match no unit in the registry.
    pub unknown_units: Vec<String>,
    /// A draft of the same name and year that the import would replace.
    pub replaces: Option<Uuid>,
    /// Against the framework it replaces.
    pub diff: Option<wenming_domain::framework::Diff>,
    /// Each top-level part: code, title, standards and points below it.
    pub aspects: Vec<AspectSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AspectSummary {
    pub code: String,
    pub title: String,
    pub standards: usize,
    pub points: Points,
}

fn aspect_summaries(doc: &FrameworkDoc) -> Vec<AspectSummary> {
    fn count(n: &NodeDoc) -> (usize, i64) {
        match &n.standard {
            Some(s) => (1, s.points.0),
            None => n
                .children
                .iter()
                .map(count)
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
        }
    }
    doc.tree
        .iter()
        .map(|a| {
            let (standards, points) = count(a);
            AspectSummary {
                code: a.code.clone().unwrap_or_default(),
                title: a.title.clone(),
                standards,
                points: Points(points),
            }
        })
        .collect()
}

fn unit_names(doc: &FrameworkDoc) -> Vec<String> {
    let mut names = vec![];
    for (_, n) in wenming_domain::framework::standards(doc) {
        if let Some(s) = &n.standard {
            for name in s.lead_unit.iter().chain(s.cooperating_units.iter()) {
                if !names
                    .iter()
                    .any(|x: &String| match_key(x) == match_key(name))
                {
                    names.push(name.clone());
                }
            }
        }
    }
    names
}

async fn unit_index(conn: &mut AnyConnection) -> Result<HashMap<String, Uuid>, StoreError> {
    let rows = sqlx::query("SELECT id, name_key FROM unit")
        .fetch_all(&mut *conn)
        .await?;
    let mut m = HashMap::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let key: String = r.try_get("name_key")?;
        m.insert(key, parse_uuid(&id)?);
    }
    Ok(m)
}

async fn existing(
    conn: &mut AnyConnection,
    name: &str,
    year: i32,
) -> Result<Option<(Uuid, FrameworkStatus)>, StoreError> {
    let row = sqlx::query("SELECT id, status FROM framework WHERE name = $1 AND year = $2")
        .bind(name)
        .bind(year as i64)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => {
            let id: String = r.try_get("id")?;
            let st: String = r.try_get("status")?;
            Ok(Some((
                parse_uuid(&id)?,
                FrameworkStatus::parse(&st).unwrap_or(FrameworkStatus::Draft),
            )))
        }
        None => Ok(None),
    }
}

/// Checks a document against the registry and says what importing it would
/// do. Problems in the document itself come back as `Problems`.
pub async fn plan(store: &Store, doc: &FrameworkDoc) -> Result<ImportPlan, StoreError> {
    let totals = wenming_domain::framework::validate(doc).map_err(StoreError::Problems)?;
    let mut conn = store.reader().acquire().await?;
    let index = unit_index(&mut conn).await?;
    let unknown_units = unit_names(doc)
        .into_iter()
        .filter(|n| !index.contains_key(&match_key(n)))
        .collect();
    let replaces = match existing(&mut conn, doc.name.trim(), doc.year).await? {
        Some((id, FrameworkStatus::Draft)) => Some(id),
        Some(_) => {
            return Err(StoreError::Problems(vec![Problem {
                place: "name".into(),
                code: "framework_exists",
                detail: format!("{} ({})", doc.name, doc.year),
            }]));
        }
        None => None,
    };
    drop(conn);
    let diff = match replaces {
        Some(id) => Some(wenming_domain::framework::diff(
            &export(store, id).await?,
            doc,
        )),
        None => None,
    };
    Ok(ImportPlan {
        name: doc.name.trim().to_string(),
        year: doc.year,
        standards: totals.standards,
        basic: totals.basic,
        featured: totals.featured,
        unknown_units,
        replaces,
        diff,
        aspects: aspect_summaries(doc),
    })
}

/// Imports a whole framework in one transaction: a new version, or a
/// replacement of a draft with the same name and year. Unknown unit names
/// stop it unless `create_units`, in which case they are added to the
/// registry (at city level, kind "other") in the same transaction.
pub async fn import(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    doc: &FrameworkDoc,
    create_units: bool,
) -> Result<(Uuid, ImportPlan), StoreError> {
    import_with_progress(store, ctx, permit, doc, create_units, &|_, _| {}).await
}

/// `import`, calling `progress(done, total)` as nodes are written, for
/// callers that show large imports advancing.
pub async fn import_with_progress(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    doc: &FrameworkDoc,
    create_units: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Uuid, ImportPlan), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let plan = plan(store, doc).await?;
    if !plan.unknown_units.is_empty() && !create_units {
        return Err(StoreError::Problems(
            plan.unknown_units
                .iter()
                .map(|n| Problem {
                    place: "units".into(),
                    code: "unknown_unit",
                    detail: n.clone(),
                })
                .collect(),
        ));
    }
    let mut tx = store.begin().await?;
    let now = now_micros();
    let mut index = unit_index(&mut tx).await?;
    if !plan.unknown_units.is_empty() {
        let root: Option<String> = sqlx::query_scalar(
            "SELECT id FROM region WHERE parent_id IS NULL ORDER BY code LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let root = root.ok_or_else(|| StoreError::Corrupt("no city region".into()))?;
        for name in &plan.unknown_units {
            let id = wenming_domain::new_id();
            sqlx::query(
                "INSERT INTO unit (id, name, name_key, short_name, kind, region_id, active, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, NULL, 'other', $4, 1, 1, $5, $5)",
            )
            .bind(id.to_string())
            .bind(name.trim())
            .bind(match_key(name))
            .bind(&root)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            #[derive(Serialize)]
            struct NewUnit<'a> {
                name: &'a str,
                created_by: &'a str,
            }
            audit::created(
                &mut tx,
                ctx,
                "unit",
                &id.to_string(),
                &NewUnit {
                    name: name.trim(),
                    created_by: "framework import",
                },
            )
            .await?;
            index.insert(match_key(name), id);
        }
    }
    let framework_id = match plan.replaces {
        Some(id) => {
            // A draft has no submissions: its requirements go with its tree.
            sqlx::query("DELETE FROM evidence_requirement WHERE framework_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM standard_unit WHERE node_id IN (SELECT id FROM framework_node WHERE framework_id = $1)")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            // Children before parents: delete deepest first.
            for depth in (1..=4).rev() {
                sqlx::query("DELETE FROM framework_node WHERE framework_id = $1 AND depth = $2")
                    .bind(id.to_string())
                    .bind(depth as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE framework SET basic_total = $1, featured_total = $2, settings = $3, version = version + 1, updated_at = $4 WHERE id = $5",
            )
            .bind(doc.basic_total.map(|p| p.0))
            .bind(doc.featured_total.map(|p| p.0))
            .bind(serde_json::to_string(&doc.settings).unwrap_or_default())
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            id
        }
        None => {
            let id = wenming_domain::new_id();
            insert_framework(&mut tx, id, doc, FrameworkStatus::Draft, None, now).await?;
            id
        }
    };
    insert_tree(&mut tx, framework_id, &doc.tree, &index, now, progress).await?;
    audit::append(
        &mut tx,
        ctx,
        if plan.replaces.is_some() {
            "reimport"
        } else {
            "import"
        },
        "framework",
        &framework_id.to_string(),
        None::<&()>,
        Some(&plan),
    )
    .await?;
    tx.commit().await?;
    Ok((framework_id, plan))
}

async fn insert_framework(
    conn: &mut AnyConnection,
    id: Uuid,
    doc: &FrameworkDoc,
    status: FrameworkStatus,
    cloned_from: Option<Uuid>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO framework (id, name, year, status, basic_total, featured_total, settings, cloned_from, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
    )
    .bind(id.to_string())
    .bind(doc.name.trim())
    .bind(doc.year as i64)
    .bind(status.code())
    .bind(doc.basic_total.map(|p| p.0))
    .bind(doc.featured_total.map(|p| p.0))
    .bind(serde_json::to_string(&doc.settings).unwrap_or_default())
    .bind(cloned_from.map(|c| c.to_string()))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Problems(vec![Problem {
                place: "name".into(),
                code: "framework_exists",
                detail: format!("{} ({})", doc.name, doc.year),
            }])
        } else {
            e
        }
    })?;
    Ok(())
}

async fn insert_tree(
    conn: &mut AnyConnection,
    framework_id: Uuid,
    tree: &[NodeDoc],
    units: &HashMap<String, Uuid>,
    now: i64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(), StoreError> {
    fn count(nodes: &[NodeDoc]) -> usize {
        nodes.iter().map(|n| 1 + count(&n.children)).sum()
    }
    let total = count(tree);
    let mut done = 0usize;
    // Iterative walk: (nodes, parent id, depth).
    let mut stack: Vec<(&[NodeDoc], Option<Uuid>, i64)> = vec![(tree, None, 1)];
    while let Some((nodes, parent, depth)) = stack.pop() {
        for (pos, n) in nodes.iter().enumerate() {
            let id = wenming_domain::new_id();
            let s = n.standard.as_ref();
            sqlx::query(
                "INSERT INTO framework_node (id, framework_id, parent_id, kind, code, title, position, depth, declared_points, \
                 points, methods, featured, site_types, evidence_types, observation, version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16)",
            )
            .bind(id.to_string())
            .bind(framework_id.to_string())
            .bind(parent.map(|p| p.to_string()))
            .bind(n.kind.code())
            .bind(n.code.clone().unwrap_or_default())
            .bind(n.title.trim())
            .bind(pos as i64)
            .bind(depth)
            .bind(n.points.map(|p| p.0))
            .bind(s.map(|s| s.points.0))
            .bind(s.map(|s| join_codes(&s.methods, Method::code)))
            .bind(s.map(|s| flag(s.featured)))
            .bind(s.map(|s| serde_json::to_string(&s.site_types).unwrap_or_default()))
            .bind(s.map(|s| join_codes(&s.evidence_types, EvidenceType::code)))
            .bind(s.and_then(|s| s.observation).and_then(|o| serde_json::to_string(&o).ok()))
            .bind(now)
            .execute(&mut *conn)
            .await?;
            if let Some(s) = s {
                let lead = s.lead_unit.iter().map(|n| (n, "lead"));
                let coop = s.cooperating_units.iter().map(|n| (n, "cooperating"));
                let mut seen = vec![];
                for (i, (name, role)) in lead.chain(coop).enumerate() {
                    let Some(uid) = units.get(&match_key(name)) else {
                        continue;
                    };
                    if seen.contains(uid) {
                        continue;
                    }
                    seen.push(*uid);
                    sqlx::query("INSERT INTO standard_unit (node_id, unit_id, role, position) VALUES ($1, $2, $3, $4)")
                        .bind(id.to_string())
                        .bind(uid.to_string())
                        .bind(role)
                        .bind(i as i64)
                        .execute(&mut *conn)
                        .await?;
                }
                // The document's own 材料要求, provided by the lead unit;
                // a standard without any gets the defaults on activation.
                let lead = s
                    .lead_unit
                    .as_ref()
                    .and_then(|n| units.get(&match_key(n)))
                    .map(|u| u.to_string());
                for (i, r) in s.requirements.iter().enumerate() {
                    let d = wenming_domain::evidence::RequirementDraft {
                        evidence_type: r.evidence_type,
                        title: r.title.trim().to_string(),
                        needed: r.needed,
                        source: r.source.clone(),
                    };
                    crate::evidence::insert(
                        conn,
                        wenming_domain::new_id(),
                        framework_id,
                        &id.to_string(),
                        &d,
                        lead.as_deref(),
                        None,
                        i as i64,
                        now,
                    )
                    .await?;
                }
            }
            if !n.children.is_empty() {
                stack.push((&n.children, Some(id), depth + 1));
            }
            done += 1;
            if done.is_multiple_of(500) || done == total {
                progress(done, total);
            }
        }
    }
    Ok(())
}

/// A new draft version copied from an existing one, to edit for next year.
pub async fn clone(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    from: Uuid,
    name: &str,
    year: i32,
) -> Result<Uuid, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let mut doc = export(store, from).await?;
    doc.name = name.trim().to_string();
    doc.year = year;
    if doc.name.is_empty() {
        return Err(StoreError::invalid("name", "required"));
    }
    // The requirements are copied whole below (with their units and due
    // dates), not from the document's portable form.
    fn without_requirements(nodes: &mut [NodeDoc]) {
        for n in nodes {
            if let Some(s) = n.standard.as_mut() {
                s.requirements.clear();
            }
            without_requirements(&mut n.children);
        }
    }
    without_requirements(&mut doc.tree);
    let mut tx = store.begin().await?;
    let index = unit_index(&mut tx).await?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    insert_framework(&mut tx, id, &doc, FrameworkStatus::Draft, Some(from), now).await?;
    insert_tree(&mut tx, id, &doc.tree, &index, now, &|_, _| {}).await?;
    // The materials each standard asks for carry over to next year's.
    crate::evidence::copy_requirements(&mut tx, from, id).await?;
    #[derive(Serialize)]
    struct Cloned<'a> {
        from: Uuid,
        name: &'a str,
        year: i32,
    }
    audit::created(
        &mut tx,
        ctx,
        "framework",
        &id.to_string(),
        &Cloned {
            from,
            name: &doc.name,
            year,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Keeps a parsed upload until its preview is confirmed (an hour at most).
pub async fn save_upload(
    store: &Store,
    user_id: Uuid,
    doc: &FrameworkDoc,
) -> Result<Uuid, StoreError> {
    let id = wenming_domain::new_id();
    let now = now_micros();
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM framework_upload WHERE created_at < $1")
        .bind(now - 3600 * 1_000_000)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO framework_upload (id, user_id, doc, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.to_string())
    .bind(user_id.to_string())
    .bind(serde_json::to_string(doc).unwrap_or_default())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The upload a user made, if it is theirs and not expired.
pub async fn upload(store: &Store, user_id: Uuid, id: Uuid) -> Result<FrameworkDoc, StoreError> {
    let doc: Option<String> = sqlx::query_scalar(
        "SELECT doc FROM framework_upload WHERE id = $1 AND user_id = $2 AND created_at > $3",
    )
    .bind(id.to_string())
    .bind(user_id.to_string())
    .bind(now_micros() - 3600 * 1_000_000)
    .fetch_optional(store.reader())
    .await?;
    let doc = doc.ok_or(StoreError::NotFound)?;
    serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt(format!("stored upload: {e}")))
}

pub async fn discard_upload(store: &Store, id: Uuid) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM framework_upload WHERE id = $1")
        .bind(id.to_string())
        .execute(store.writer())
        .await?;
    Ok(())
}
