//! Whom a handled case waits for: the inspectors who may verify it, as
//! `domain::case::choose_verifier` sees them, and the choices the office
//! has when it reassigns one.

use super::Case;
use crate::org::parse_uuid;
use crate::{Store, StoreError};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::case::{CaseFacts, VerifierCandidate, VerifyView, choose_verifier, may_verify};

/// Active inspectors with what the choice needs: the regions their grants
/// reach, where they work, their units, and how many handled cases wait
/// for them already.
pub(crate) async fn candidates(
    conn: &mut AnyConnection,
) -> Result<Vec<(VerifierCandidate, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.id, u.display_name, u.unit_id AS own_unit, g.scope_kind, g.scope_id, \
         gr.path AS grant_path, own.path AS unit_path, \
         (SELECT COUNT(*) FROM case_record w WHERE w.verifier_id = u.id AND w.state = 'handled') AS waiting \
         FROM app_user u JOIN role_grant g ON g.user_id = u.id AND g.role = 'inspector' \
         LEFT JOIN region gr ON g.scope_kind = 'region' AND gr.id = g.scope_id \
         LEFT JOIN unit uu ON uu.id = u.unit_id LEFT JOIN region own ON own.id = uu.region_id \
         WHERE u.active = 1 ORDER BY u.username",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<(VerifierCandidate, String)> = vec![];
    // The city's own path says where someone may look, not where they work.
    let local = |p: &String| p.matches('/').count() > 2;
    for r in &rows {
        let id = parse_uuid(&r.try_get::<String, _>("id")?)?;
        let kind: String = r.try_get("scope_kind")?;
        let grant_path: Option<String> = r.try_get("grant_path")?;
        let unit_path: Option<String> = r.try_get("unit_path")?;
        let mut units = vec![];
        if let Some(u) = r.try_get::<Option<String>, _>("own_unit")? {
            units.push(parse_uuid(&u)?);
        }
        if kind == "unit" {
            units.push(parse_uuid(&r.try_get::<String, _>("scope_id")?)?);
        }
        let waiting: i64 = r.try_get("waiting")?;
        let i = match out.iter().position(|(c, _)| c.id == id) {
            Some(i) => i,
            None => {
                out.push((
                    VerifierCandidate {
                        id,
                        reaches: vec![],
                        works_in: vec![],
                        units: vec![],
                        waiting: waiting as usize,
                    },
                    r.try_get("display_name")?,
                ));
                out.len() - 1
            }
        };
        let c = &mut out[i].0;
        for p in grant_path.iter() {
            if !c.reaches.contains(p) {
                c.reaches.push(p.clone());
            }
        }
        for p in grant_path
            .iter()
            .chain(unit_path.iter())
            .filter(|p| local(p))
        {
            if !c.works_in.contains(p) {
                c.works_in.push(p.clone());
            }
        }
        for u in units {
            if !c.units.contains(&u) {
                c.units.push(u);
            }
        }
    }
    Ok(out)
}

/// The inspector whose finding opened the case, or who reported it.
async fn found_by(conn: &mut AnyConnection, case: Uuid) -> Result<Option<Uuid>, StoreError> {
    let who: Option<String> = sqlx::query_scalar(
        "SELECT COALESCE((SELECT f.inspector_id FROM finding f WHERE f.case_id = c.id \
         AND f.inspector_id IS NOT NULL ORDER BY f.observed_at LIMIT 1), c.reported_by) \
         FROM case_record c WHERE c.id = $1",
    )
    .bind(case.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .flatten();
    // A public reporter's id is no account's; only a parse failure matters.
    Ok(who.as_deref().and_then(|w| Uuid::parse_str(w).ok()))
}

async fn region_path(conn: &mut AnyConnection, case: Uuid) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT r.path FROM case_record c JOIN region r ON r.id = c.region_id WHERE c.id = $1",
    )
    .bind(case.to_string())
    .fetch_optional(&mut *conn)
    .await?)
}

/// The verifier for a fix the unit has just reported (facts as after the
/// step), chosen by the rules in the domain.
pub(crate) async fn pick(
    conn: &mut AnyConnection,
    case: &Case,
    after: &CaseFacts,
) -> Result<Option<Uuid>, StoreError> {
    let all = candidates(conn).await?;
    let found = found_by(conn, case.id).await?;
    let path = region_path(conn, case.id).await?;
    let view = VerifyView {
        id: case.id,
        region_path: path.as_deref(),
        facts: after,
        found_by: found,
        previous: case.verifier_id,
    };
    let list: Vec<VerifierCandidate> = all.into_iter().map(|(c, _)| c).collect();
    Ok(choose_verifier(&view, &list))
}

/// The candidates who may verify the case as it stands, with their names.
async fn eligible_now(
    conn: &mut AnyConnection,
    case: &Case,
) -> Result<Vec<(VerifierCandidate, String)>, StoreError> {
    let path = region_path(conn, case.id).await?;
    let view = VerifyView {
        id: case.id,
        region_path: path.as_deref(),
        facts: case.facts(),
        found_by: None,
        previous: None,
    };
    Ok(candidates(conn)
        .await?
        .into_iter()
        .filter(|(c, _)| may_verify(c, &view))
        .collect())
}

/// Whether `who` may be put to verify the case.
pub(crate) async fn eligible(
    conn: &mut AnyConnection,
    case: &Case,
    who: Uuid,
) -> Result<bool, StoreError> {
    Ok(eligible_now(conn, case)
        .await?
        .iter()
        .any(|(c, _)| c.id == who))
}

/// An inspector the office may put a case to, with the cases already
/// waiting for them.
#[derive(Debug, Clone, Serialize)]
pub struct VerifierChoice {
    pub id: Uuid,
    pub name: String,
    pub waiting: usize,
}

/// Who may verify this case, fewest waiting first.
pub async fn verifier_choices(
    store: &Store,
    case: &Case,
) -> Result<Vec<VerifierChoice>, StoreError> {
    let mut conn = store.reader().acquire().await?;
    let mut out: Vec<VerifierChoice> = eligible_now(&mut conn, case)
        .await?
        .into_iter()
        .map(|(c, name)| VerifierChoice {
            id: c.id,
            name,
            waiting: c.waiting,
        })
        .collect();
    out.sort_by(|a, b| a.waiting.cmp(&b.waiting).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}
