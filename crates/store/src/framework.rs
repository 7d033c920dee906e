//! Framework versions: import whole (all or nothing), export, clone, edit a
//! standard, browse the tree with filters.

use crate::org::parse_uuid;
use crate::sql::{Sql, contains_pattern, flag};
use crate::{Ctx, Store, StoreError, audit, now_micros, ts};
use serde::Serialize;
use sqlx::{AnyConnection, Row, any::AnyRow};
use std::collections::HashMap;
use uuid::Uuid;
use wenming_domain::framework::{
    EvidenceType, FrameworkDoc, FrameworkStatus, Method, NodeDoc, NodeKind, Points, Problem,
    Settings, StandardSpec,
};
use wenming_domain::policy::{Permit, may};
use wenming_domain::validation::match_key;

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary {
    pub id: Uuid,
    pub name: String,
    pub year: i32,
    pub status: FrameworkStatus,
    pub basic_total: Option<Points>,
    pub featured_total: Option<Points>,
    pub settings: Settings,
    pub cloned_from: Option<Uuid>,
    pub version: i64,
    pub updated_at: jiff::Timestamp,
    /// Counted from the standards as they are now.
    pub standards: i64,
    pub basic: Points,
    pub featured: Points,
}

impl FrameworkSummary {
    /// Declared totals that the standards no longer add up to (after edits).
    pub fn totals_off(&self) -> bool {
        self.basic_total.is_some_and(|b| b != self.basic)
            || self.featured_total.is_some_and(|f| f != self.featured)
    }
}

const SUMMARY: &str = "SELECT f.id, f.name, f.year, f.status, f.basic_total, f.featured_total, f.settings, f.cloned_from, \
    f.version, f.updated_at, \
    (SELECT COUNT(*) FROM framework_node n WHERE n.framework_id = f.id AND n.kind = 'standard') AS standards, \
    (SELECT CAST(COALESCE(SUM(n.points), 0) AS BIGINT) FROM framework_node n WHERE n.framework_id = f.id AND n.kind = 'standard' AND n.featured = 0) AS basic, \
    (SELECT CAST(COALESCE(SUM(n.points), 0) AS BIGINT) FROM framework_node n WHERE n.framework_id = f.id AND n.kind = 'standard' AND n.featured = 1) AS featured \
    FROM framework f";

fn summary_from_row(r: &AnyRow) -> Result<FrameworkSummary, StoreError> {
    let id: String = r.try_get("id")?;
    let status: String = r.try_get("status")?;
    let settings: String = r.try_get("settings")?;
    let cloned: Option<String> = r.try_get("cloned_from")?;
    let bt: Option<i64> = r.try_get("basic_total")?;
    let ft: Option<i64> = r.try_get("featured_total")?;
    let year: i64 = r.try_get("year")?;
    Ok(FrameworkSummary {
        id: parse_uuid(&id)?,
        name: r.try_get("name")?,
        year: year as i32,
        status: FrameworkStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("framework status {status}")))?,
        basic_total: bt.map(Points),
        featured_total: ft.map(Points),
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("framework settings: {e}")))?,
        cloned_from: cloned.as_deref().map(parse_uuid).transpose()?,
        version: r.try_get("version")?,
        updated_at: ts(r.try_get("updated_at")?),
        standards: r.try_get("standards")?,
        basic: Points(r.try_get("basic")?),
        featured: Points(r.try_get("featured")?),
    })
}

pub async fn list(store: &Store) -> Result<Vec<FrameworkSummary>, StoreError> {
    let rows = sqlx::query(&format!("{SUMMARY} ORDER BY f.year DESC, f.name"))
        .fetch_all(store.reader())
        .await?;
    rows.iter().map(summary_from_row).collect()
}

pub async fn get(store: &Store, id: Uuid) -> Result<FrameworkSummary, StoreError> {
    let row = sqlx::query(&format!("{SUMMARY} WHERE f.id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?;
    row.as_ref()
        .map(summary_from_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
}

/// The framework in force: the newest active one.
pub async fn active(store: &Store) -> Result<Option<FrameworkSummary>, StoreError> {
    let row = sqlx::query(&format!(
        "{SUMMARY} WHERE f.status = 'active' ORDER BY f.year DESC, f.updated_at DESC LIMIT 1"
    ))
    .fetch_optional(store.reader())
    .await?;
    row.as_ref().map(summary_from_row).transpose()
}

// ------------------------------------------------------------ nodes

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

// ------------------------------------------------------------ import and export

/// The framework as a portable document, with unit names.
pub async fn export(store: &Store, framework_id: Uuid) -> Result<FrameworkDoc, StoreError> {
    let f = get(store, framework_id).await?;
    let all = nodes(store, framework_id).await?;
    fn build(parent: Option<Uuid>, all: &[Node]) -> Vec<NodeDoc> {
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
                }),
                children: build(Some(n.id), all),
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
        tree: build(None, &all),
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

fn join_codes<T: Copy>(items: &[T], code: impl Fn(T) -> &'static str) -> String {
    items.iter().map(|i| code(*i)).collect::<Vec<_>>().join(",")
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
    let mut tx = store.begin().await?;
    let index = unit_index(&mut tx).await?;
    let id = wenming_domain::new_id();
    let now = now_micros();
    insert_framework(&mut tx, id, &doc, FrameworkStatus::Draft, Some(from), now).await?;
    insert_tree(&mut tx, id, &doc.tree, &index, now, &|_, _| {}).await?;
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

pub async fn set_status(
    store: &Store,
    ctx: &Ctx,
    permit: &Permit<may::ManageFramework>,
    id: Uuid,
    expected_version: i64,
    status: FrameworkStatus,
) -> Result<(), StoreError> {
    StoreError::unless_city_wide(permit)?;
    let before = get(store, id).await?;
    if status == FrameworkStatus::Active && before.totals_off() {
        return Err(StoreError::invalid("status", "totals_do_not_add_up"));
    }
    let mut tx = store.begin().await?;
    let n = sqlx::query("UPDATE framework SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4")
        .bind(status.code())
        .bind(now_micros())
        .bind(id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?;
    if n.rows_affected() != 1 {
        return Err(StoreError::Conflict);
    }
    #[derive(Serialize)]
    struct S {
        status: FrameworkStatus,
    }
    audit::changed(
        &mut tx,
        ctx,
        "update",
        "framework",
        &id.to_string(),
        &S {
            status: before.status,
        },
        &S { status },
    )
    .await?;
    tx.commit().await?;
    Ok(())
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
