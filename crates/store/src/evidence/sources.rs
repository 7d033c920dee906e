//! What generated materials are read from that no other module lists:
//! before and after photos of closed cases. (Case statistics come from the
//! month tallies, round reports from `inspection`, task tables from `task`.)

use crate::case::scope_cases;
use crate::org::parse_uuid;
use crate::photo::{self, Photo};
use crate::sql::Sql;
use crate::{Store, StoreError, ts};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

/// A closed case with the photo of the problem and the photo of the fix.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoPair {
    pub case_id: Uuid,
    pub number: String,
    pub category: String,
    pub address: Option<String>,
    pub unit_name: Option<String>,
    pub reported_at: Timestamp,
    pub closed_at: Timestamp,
    pub before: Photo,
    pub after: Photo,
}

/// The newest cases closed in [start, end) inside the scope, of these
/// categories (a class takes its subclasses) or opened by a finding on
/// this standard, each with its first "before" photo and its last "after"
/// photo that carries no re-use or staging flag: a photo the checks doubt
/// proves nothing, and a case without a clean pair is left out.
pub async fn photo_pairs(
    store: &Store,
    scope: &wenming_domain::policy::Scope,
    categories: &[Uuid],
    standard_id: Option<Uuid>,
    (start, end): (Timestamp, Timestamp),
    limit: usize,
) -> Result<Vec<PhotoPair>, StoreError> {
    let mut sql = Sql::new(
        "SELECT c.id, c.number, cat.name AS category, c.address, u.name AS unit_name, \
         c.reported_at, c.closed_at FROM case_record c \
         JOIN category cat ON cat.id = c.category_id \
         LEFT JOIN region r ON r.id = c.region_id LEFT JOIN unit u ON u.id = c.unit_id \
         WHERE c.state = 'closed'",
    );
    let (a, b) = (
        sql.int_arg(start.as_microsecond()),
        sql.int_arg(end.as_microsecond()),
    );
    sql.push(&format!(" AND c.closed_at >= {a} AND c.closed_at < {b}"));
    let mut which = vec![];
    if !categories.is_empty() {
        let list = categories
            .iter()
            .map(|c| sql.text_arg(c.to_string()))
            .collect::<Vec<_>>()
            .join(", ");
        which.push(format!(
            "c.category_id IN ({list}) OR cat.parent_id IN ({list})"
        ));
    }
    if let Some(s) = standard_id {
        let s = sql.text_arg(s.to_string());
        which.push(format!(
            "c.id IN (SELECT f.case_id FROM finding f WHERE f.standard_id = {s} AND f.case_id IS NOT NULL)"
        ));
    }
    if which.is_empty() {
        return Ok(vec![]);
    }
    sql.push(&format!(" AND ({})", which.join(" OR ")));
    sql.push(
        " AND EXISTS (SELECT 1 FROM photo p WHERE p.case_id = c.id AND p.role = 'before') \
         AND EXISTS (SELECT 1 FROM photo p WHERE p.case_id = c.id AND p.role = 'after')",
    );
    scope_cases(&mut sql, scope);
    // Cases whose every "after" photo is doubted are dropped below: read a
    // few more than asked.
    let n = sql.int_arg(limit as i64 * 2);
    sql.push(&format!(" ORDER BY c.closed_at DESC, c.id LIMIT {n}"));
    let rows = sql.query().fetch_all(store.reader()).await?;
    let ids: Vec<Uuid> = rows
        .iter()
        .map(|r| parse_uuid(&r.try_get::<String, _>("id")?))
        .collect::<Result<_, _>>()?;
    let photos = photo::of_cases(store, &ids).await?;
    use wenming_domain::photo::PhotoRole;
    let mut out = vec![];
    for (r, id) in rows.iter().zip(ids) {
        if out.len() >= limit {
            break;
        }
        let of_case = || photos.iter().filter(move |p| p.case_id == Some(id));
        let before = of_case().find(|p| p.role == Some(PhotoRole::Before));
        let after = of_case()
            .rev()
            .find(|p| p.role == Some(PhotoRole::After) && p.flags.is_empty());
        let (Some(before), Some(after)) = (before, after) else {
            continue;
        };
        out.push(PhotoPair {
            case_id: id,
            number: r.try_get("number")?,
            category: r.try_get("category")?,
            address: r.try_get("address")?,
            unit_name: r.try_get("unit_name")?,
            reported_at: ts(r.try_get("reported_at")?),
            closed_at: ts(r
                .try_get::<Option<i64>, _>("closed_at")?
                .unwrap_or_default()),
            before: before.clone(),
            after: after.clone(),
        });
    }
    Ok(out)
}
