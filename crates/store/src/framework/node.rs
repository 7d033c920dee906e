//! The framework's nodes: reading the tree, finding standards by filter,
//! and editing one standard.

use super::join_codes;
use crate::org::parse_uuid;
use crate::sql::{Sql, contains_pattern, flag};
use crate::{Ctx, Store, StoreError, audit, now_micros};
use serde::Serialize;
use sqlx::{Row, any::AnyRow};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::framework::{EvidenceType, Method, NodeKind, Points};
use wenming_domain::policy::{Permit, may};

#[derive(Debug, Clone, Serialize)]
pub struct UnitRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoredStandard {
    pub points: Points,
    pub methods: Vec<Method>,
    pub featured: bool,
    pub site_types: Vec<String>,
    pub evidence_types: Vec<EvidenceType>,
    pub lead: Option<UnitRef>,
    pub cooperating: Vec<UnitRef>,
    /// How it is observed on site; none means met or not.
    pub observation: Option<wenming_domain::site::Observation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: Uuid,
    pub framework_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub kind: NodeKind,
    pub code: String,
    pub title: String,
    pub position: i64,
    pub depth: i64,
    pub declared_points: Option<Points>,
    pub standard: Option<StoredStandard>,
    pub version: i64,
}

const NODE_COLUMNS: &str = "id, framework_id, parent_id, kind, code, title, position, depth, declared_points, \
    points, methods, featured, site_types, evidence_types, observation, version";

fn codes<T>(s: Option<String>, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
    s.unwrap_or_default()
        .split(',')
        .filter_map(|c| parse(c.trim()))
        .collect()
}

fn node_from_row(r: &AnyRow) -> Result<Node, StoreError> {
    let id: String = r.try_get("id")?;
    let fid: String = r.try_get("framework_id")?;
    let parent: Option<String> = r.try_get("parent_id")?;
    let kind: String = r.try_get("kind")?;
    let kind =
        NodeKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("node kind {kind}")))?;
    let declared: Option<i64> = r.try_get("declared_points")?;
    let standard = if kind == NodeKind::Standard {
        let points: Option<i64> = r.try_get("points")?;
        let featured: Option<i64> = r.try_get("featured")?;
        let sites: Option<String> = r.try_get("site_types")?;
        Some(StoredStandard {
            points: Points(points.unwrap_or(0)),
            methods: codes(r.try_get("methods")?, Method::parse),
            featured: featured.unwrap_or(0) != 0,
            site_types: crate::error::stored_json_opt("standard site types", sites)?
                .unwrap_or_default(),
            evidence_types: codes(r.try_get("evidence_types")?, EvidenceType::parse),
            lead: None,
            cooperating: vec![],
            observation: crate::error::stored_json_opt(
                "observation rule",
                r.try_get::<Option<String>, _>("observation")?,
            )?,
        })
    } else {
        None
    };
    Ok(Node {
        id: parse_uuid(&id)?,
        framework_id: parse_uuid(&fid)?,
        parent_id: parent.as_deref().map(parse_uuid).transpose()?,
        kind,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        position: r.try_get("position")?,
        depth: r.try_get("depth")?,
        declared_points: declared.map(Points),
        standard,
        version: r.try_get("version")?,
    })
}

/// Attaches lead and cooperating units to the standards among `nodes`.
async fn attach_units(
    conn: impl sqlx::Executor<'_, Database = sqlx::Any>,
    framework_id: Uuid,
    nodes: &mut [Node],
) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT su.node_id, su.unit_id, su.role, u.name FROM standard_unit su \
         JOIN framework_node n ON n.id = su.node_id JOIN unit u ON u.id = su.unit_id \
         WHERE n.framework_id = $1 ORDER BY su.node_id, su.position",
    )
    .bind(framework_id.to_string())
    .fetch_all(conn)
    .await?;
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        index.insert(n.id, i);
    }
    for r in &rows {
        let nid: String = r.try_get("node_id")?;
        let uid: String = r.try_get("unit_id")?;
        let role: String = r.try_get("role")?;
        let unit = UnitRef {
            id: parse_uuid(&uid)?,
            name: r.try_get("name")?,
        };
        if let Some(&i) = index.get(&parse_uuid(&nid)?)
            && let Some(s) = nodes[i].standard.as_mut()
        {
            if role == "lead" {
                s.lead = Some(unit);
            } else {
                s.cooperating.push(unit);
            }
        }
    }
    Ok(())
}

/// Every node of a framework, in tree order (parents before children,
/// siblings by position).
pub async fn nodes(store: &Store, framework_id: Uuid) -> Result<Vec<Node>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {NODE_COLUMNS} FROM framework_node WHERE framework_id = $1 ORDER BY depth, position"
    ))
    .bind(framework_id.to_string())
    .fetch_all(store.reader())
    .await?;
    let mut flat: Vec<Node> = rows.iter().map(node_from_row).collect::<Result<_, _>>()?;
    attach_units(store.reader(), framework_id, &mut flat).await?;
    Ok(tree_order(flat))
}

fn tree_order(flat: Vec<Node>) -> Vec<Node> {
    let mut children: HashMap<Option<Uuid>, Vec<Node>> = HashMap::new();
    for n in flat {
        children.entry(n.parent_id).or_default().push(n);
    }
    fn walk(
        key: Option<Uuid>,
        children: &mut HashMap<Option<Uuid>, Vec<Node>>,
        out: &mut Vec<Node>,
    ) {
        let Some(mut kids) = children.remove(&key) else {
            return;
        };
        kids.sort_by_key(|k| k.position);
        for k in kids {
            let id = k.id;
            out.push(k);
            walk(Some(id), children, out);
        }
    }
    let mut out = vec![];
    walk(None, &mut children, &mut out);
    out
}

pub async fn node(store: &Store, node_id: Uuid) -> Result<Node, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {NODE_COLUMNS} FROM framework_node WHERE id = $1"
    ))
    .bind(node_id.to_string())
    .fetch_optional(store.reader())
    .await?;
    let mut n = vec![
        row.as_ref()
            .map(node_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)?,
    ];
    let fid = n[0].framework_id;
    attach_units(store.reader(), fid, &mut n).await?;
    Ok(n.remove(0))
}

#[derive(Debug, Clone, Default)]
pub struct NodeFilter {
    /// Part of a code or title.
    pub q: Option<String>,
    pub method: Option<Method>,
    pub unit_id: Option<Uuid>,
    pub site_type: Option<String>,
}

impl NodeFilter {
    pub fn is_empty(&self) -> bool {
        self.q.is_none()
            && self.method.is_none()
            && self.unit_id.is_none()
            && self.site_type.is_none()
    }
}

/// Ids of the standards matching a filter.
pub async fn matching_standards(
    store: &Store,
    framework_id: Uuid,
    f: &NodeFilter,
) -> Result<Vec<Uuid>, StoreError> {
    let mut sql = Sql::new(
        "SELECT n.id FROM framework_node n WHERE n.kind = 'standard' AND n.framework_id = ",
    );
    let p = sql.text_arg(framework_id.to_string());
    sql.push(&p);
    if let Some(q) = &f.q {
        let p = sql.text_arg(contains_pattern(q));
        sql.push(&format!(
            " AND (LOWER(n.code) LIKE {p} ESCAPE '\\' OR LOWER(n.title) LIKE {p} ESCAPE '\\')"
        ));
    }
    if let Some(m) = f.method {
        let p = sql.text_arg(format!("%,{},%", m.code()));
        sql.push(&format!(" AND (',' || n.methods || ',') LIKE {p}"));
    }
    if let Some(u) = f.unit_id {
        let p = sql.text_arg(u.to_string());
        sql.push(&format!(
            " AND n.id IN (SELECT node_id FROM standard_unit WHERE unit_id = {p})"
        ));
    }
    if let Some(s) = &f.site_type {
        let p = sql.text_arg(format!(
            "%{}%",
            crate::sql::like_escape(&serde_json::to_string(s).unwrap_or_default())
        ));
        sql.push(&format!(" AND n.site_types LIKE {p} ESCAPE '\\'"));
    }
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            parse_uuid(&id)
        })
        .collect()
}

/// An edit of one standard as the office makes it.
#[derive(Debug, Clone)]
pub struct StandardEdit {
    pub title: String,
    pub points: Points,
    pub methods: Vec<Method>,
    pub featured: bool,
    pub site_types: Vec<String>,
    pub evidence_types: Vec<EvidenceType>,
    pub lead_unit: Option<Uuid>,
    pub cooperating_units: Vec<Uuid>,
}

#[derive(Serialize)]
struct StandardSnapshot {
    title: String,
    points: Points,
    methods: Vec<Method>,
    featured: bool,
    site_types: Vec<String>,
    evidence_types: Vec<EvidenceType>,
    lead_unit: Option<String>,
    cooperating_units: Vec<String>,
}

fn snapshot(n: &Node) -> StandardSnapshot {
    let s = n.standard.clone().unwrap_or(StoredStandard {
        points: Points(0),
        methods: vec![],
        featured: false,
        site_types: vec![],
        evidence_types: vec![],
        lead: None,
        cooperating: vec![],
        observation: None,
    });
    StandardSnapshot {
        title: n.title.clone(),
        points: s.points,
        methods: s.methods,
        featured: s.featured,
        site_types: s.site_types,
        evidence_types: s.evidence_types,
        lead_unit: s.lead.map(|u| u.name),
        cooperating_units: s.cooperating.into_iter().map(|u| u.name).collect(),
    }
}

pub async fn update_standard(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    node_id: Uuid,
    expected_version: i64,
    e: StandardEdit,
) -> Result<Node, StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = node(store, node_id).await?;
    if before.kind != NodeKind::Standard {
        return Err(StoreError::NotFound);
    }
    let mut errors = wenming_domain::FieldErrors::new();
    if e.title.trim().is_empty() {
        errors.add("title", "required");
    }
    if e.methods.is_empty() {
        errors.add("methods", "required");
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let mut tx = store.begin().await?;
    let n = sqlx::query(
        "UPDATE framework_node SET title = $1, points = $2, methods = $3, featured = $4, site_types = $5, evidence_types = $6, \
         version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9",
    )
    .bind(e.title.trim())
    .bind(e.points.0)
    .bind(join_codes(&e.methods, Method::code))
    .bind(flag(e.featured))
    .bind(serde_json::to_string(&e.site_types).unwrap_or_default())
    .bind(join_codes(&e.evidence_types, EvidenceType::code))
    .bind(now_micros())
    .bind(node_id.to_string())
    .bind(expected_version)
    .execute(&mut *tx)
    .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    sqlx::query("DELETE FROM standard_unit WHERE node_id = $1")
        .bind(node_id.to_string())
        .execute(&mut *tx)
        .await?;
    let lead = e.lead_unit.iter().map(|u| (*u, "lead"));
    let coop = e
        .cooperating_units
        .iter()
        .filter(|u| Some(**u) != e.lead_unit)
        .map(|u| (*u, "cooperating"));
    for (i, (uid, role)) in lead.chain(coop).enumerate() {
        sqlx::query(
            "INSERT INTO standard_unit (node_id, unit_id, role, position) VALUES ($1, $2, $3, $4)",
        )
        .bind(node_id.to_string())
        .bind(uid.to_string())
        .bind(role)
        .bind(i as i64)
        .execute(&mut *tx)
        .await
        .map_err(|_| StoreError::invalid("lead_unit", "invalid_choice"))?;
    }
    let row = sqlx::query(&format!(
        "SELECT {NODE_COLUMNS} FROM framework_node WHERE id = $1"
    ))
    .bind(node_id.to_string())
    .fetch_one(&mut *tx)
    .await?;
    let mut after = vec![node_from_row(&row)?];
    attach_units(&mut *tx, before.framework_id, &mut after).await?;
    let after = after.remove(0);
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "standard",
        &node_id.to_string(),
        &snapshot(&before),
        &snapshot(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The tree as `nodes` gives it, cut down to the standards matching `f` and
/// every node above them (all of it when `f` is empty).
pub async fn filtered_nodes(
    store: &Store,
    framework_id: Uuid,
    f: &NodeFilter,
) -> Result<Vec<Node>, StoreError> {
    let all = nodes(store, framework_id).await?;
    if f.is_empty() {
        return Ok(all);
    }
    let hits: std::collections::HashSet<Uuid> = matching_standards(store, framework_id, f)
        .await?
        .into_iter()
        .collect();
    let parent: HashMap<Uuid, Option<Uuid>> = all.iter().map(|n| (n.id, n.parent_id)).collect();
    let mut keep = hits.clone();
    for h in &hits {
        let mut cur = parent.get(h).copied().flatten();
        while let Some(c) = cur {
            keep.insert(c);
            cur = parent.get(&c).copied().flatten();
        }
    }
    Ok(all.into_iter().filter(|n| keep.contains(&n.id)).collect())
}
