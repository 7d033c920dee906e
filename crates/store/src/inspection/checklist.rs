//! Checklists: the standards observed at a site of a type, from the
//! round's framework.

use crate::org::parse_uuid;
use crate::site::Site;
use crate::{Store, StoreError};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::framework::Method;
use wenming_domain::site::Observation;

/// One standard on a site's checklist.
#[derive(Debug, Clone, Serialize)]
pub struct CheckItem {
    pub standard_id: Uuid,
    pub code: String,
    pub title: String,
    /// The indicator it belongs to: the kind of problem a failure is.
    pub indicator: String,
    pub observation: Observation,
}

/// The standards of a framework inspected on site, with the site types each
/// names: read once, matched to each site's type.
pub async fn site_standards(
    conn: &mut AnyConnection,
    framework_id: Uuid,
) -> Result<Vec<(CheckItem, Vec<String>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT n.id, n.code, n.title, n.methods, n.site_types, n.observation, p.title AS indicator \
         FROM framework_node n LEFT JOIN framework_node p ON p.id = n.parent_id \
         WHERE n.framework_id = $1 AND n.kind = 'standard' ORDER BY n.depth, n.code",
    )
    .bind(framework_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = vec![];
    for r in &rows {
        let methods: Option<String> = r.try_get("methods")?;
        let on_site = methods
            .unwrap_or_default()
            .split(',')
            .any(|m| Method::parse(m.trim()) == Some(Method::SiteInspection));
        if !on_site {
            continue;
        }
        let types: Vec<String> = crate::error::stored_json_opt(
            "standard site types",
            r.try_get::<Option<String>, _>("site_types")?,
        )?
        .unwrap_or_default();
        let id: String = r.try_get("id")?;
        out.push((
            CheckItem {
                standard_id: parse_uuid(&id)?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                indicator: r
                    .try_get::<Option<String>, _>("indicator")?
                    .unwrap_or_default(),
                observation: crate::error::stored_json_opt(
                    "observation rule",
                    r.try_get::<Option<String>, _>("observation")?,
                )?
                .unwrap_or(Observation::PassFail),
            },
            types,
        ));
    }
    out.sort_by_key(|a| code_order(&a.0.code));
    Ok(out)
}

/// Codes like 5.2.10 in their natural order.
pub(super) fn code_order(code: &str) -> Vec<u32> {
    code.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

/// `site_standards` on a connection of the store's own.
pub async fn standards_of(
    store: &Store,
    framework_id: Uuid,
) -> Result<Vec<(CheckItem, Vec<String>)>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    site_standards(&mut conn, framework_id).await
}

/// The checklist for a site of this type under a framework.
pub fn checklist_for(
    standards: &[(CheckItem, Vec<String>)],
    type_code: &str,
    type_name: &str,
) -> Vec<CheckItem> {
    standards
        .iter()
        .filter(|(_, types)| wenming_domain::site::applies(types, type_code, type_name))
        .map(|(c, _)| c.clone())
        .collect()
}

/// A site's checklist under the active framework.
pub async fn checklist(store: &Store, site: &Site) -> Result<Vec<CheckItem>, StoreError> {
    let Some(f) = crate::framework::active(store).await? else {
        return Ok(vec![]);
    };
    let fid = f.id;
    let all = standards_of(store, fid).await?;
    Ok(checklist_for(&all, &site.type_code, &site.type_name))
}
