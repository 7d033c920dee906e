//! Attaching staged photos to a case: each judged against the case's
//! place and dispatch time and against every photo on record that shares
//! a fingerprint with it.

use super::reading::bad;
use super::{BANDS, COLUMNS, Photo, PhotoRules, band_values, from_row};
use crate::{Ctx, StoreError};
use jiff::Timestamp;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::geo::Point;
use wenming_domain::photo::{self as rules, PhotoFacts, PhotoRole};

/// Photos that come with a step on a case (uploaded beforehand, by the
/// same person).
pub struct StepPhotos<'a> {
    pub ids: &'a [Uuid],
    pub rules: &'a PhotoRules,
}

/// Where the case is and when it was (last) dispatched, for the flags.
pub(crate) struct CaseWhere {
    pub point: Option<Point>,
    pub dispatched_at: Option<Timestamp>,
}

/// Attaches staged photos, uploaded by this actor, to a case inside the
/// caller's transaction, and decides their flags against every photo on
/// record that shares a fingerprint with them.
pub(crate) async fn attach(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    photos: &StepPhotos<'_>,
    case_id: Uuid,
    event_id: Uuid,
    role: PhotoRole,
    place: &CaseWhere,
) -> Result<(), StoreError> {
    let (ids, limits) = (photos.ids, photos.rules);
    let Some(actor) = ctx.actor_id else {
        return Err(bad("photo_ids", "unknown_photo"));
    };
    let mut seen = std::collections::HashSet::new();
    for id in ids {
        if !seen.insert(*id) {
            return Err(bad("photo_ids", "duplicate"));
        }
        let n = sqlx::query(
            "UPDATE photo SET case_id = $1, event_id = $2, role = $3 \
             WHERE id = $4 AND case_id IS NULL AND uploaded_by = $5",
        )
        .bind(case_id.to_string())
        .bind(event_id.to_string())
        .bind(role.code())
        .bind(id.to_string())
        .bind(actor.to_string())
        .execute(&mut *conn)
        .await?;
        if n.rows_affected() != 1 {
            return Err(bad("photo_ids", "unknown_photo"));
        }
    }
    let before_had_place = role == PhotoRole::After
        && sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM photo WHERE case_id = $1 AND role = 'before' AND gps_lon IS NOT NULL",
        )
        .bind(case_id.to_string())
        .fetch_one(&mut *conn)
        .await?
            > 0;
    let case = rules::CaseContext {
        dispatched_at: place.dispatched_at,
        point: place.point,
        before_had_place,
    };
    for id in ids {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM photo WHERE id = $1"))
            .bind(id.to_string())
            .fetch_one(&mut *conn)
            .await?;
        let photo = from_row(&row)?;
        let others = look_alikes(
            conn,
            Some(photo.id),
            &photo.sha256,
            photo.dhash,
            photo.finding_id,
        )
        .await?;
        let found = rules::flags(
            &facts(&photo),
            case,
            limits.far_metres,
            &others.iter().map(facts).collect::<Vec<_>>(),
        );
        sqlx::query("UPDATE photo SET flags = $1 WHERE id = $2")
            .bind(serde_json::to_string(&found).unwrap_or_else(|_| "[]".into()))
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) fn facts(p: &Photo) -> PhotoFacts {
    PhotoFacts {
        id: p.id,
        case_id: p.case_id.unwrap_or_default(),
        role: p.role.unwrap_or(PhotoRole::Before),
        sha256: p.sha256.clone(),
        dhash: p.dhash,
        taken_at: p.taken_at,
        gps: p.gps,
        grid: p.grid.clone(),
        uploaded_at: p.uploaded_at,
    }
}

/// Attached photos that may be the same picture: the same file, or a
/// perceptual hash within `NEAR_IDENTICAL_BITS`. Two such hashes always
/// share one of the eight bytes (`photo_band`), so only photos sharing a
/// band are candidates; a band is one byte, so at a large photo count many
/// share one by chance: the candidates' hashes are compared here first and
/// only the real matches are read whole.
/// `id` is the photo itself (left out), `finding` the finding it was taken
/// for, if either is on record.
pub(crate) async fn look_alikes(
    conn: &mut AnyConnection,
    id: Option<Uuid>,
    sha256: &str,
    dhash: u64,
    finding: Option<Uuid>,
) -> Result<Vec<Photo>, StoreError> {
    let mut sql = String::from(
        "SELECT id, dhash, sha256 FROM photo WHERE case_id IS NOT NULL AND id <> $1 AND (sha256 = $2 OR id IN \
         (SELECT photo_id FROM photo_band WHERE ",
    );
    let mut conds = vec![];
    for b in 0..BANDS {
        conds.push(format!("(band = {b} AND value = ${})", b + 3));
    }
    sql.push_str(&conds.join(" OR "));
    // One picture of two problems at one site, in one round (a third-party
    // sheet names it twice), is not a re-use: another site or round is.
    sql.push_str(&format!(
        ")) AND NOT EXISTS (SELECT 1 FROM finding fo JOIN finding fp ON fp.id = ${} \
         WHERE fo.id = photo.finding_id AND fo.round_id = fp.round_id AND fo.site_id = fp.site_id)",
        BANDS + 3
    ));
    let mut q = sqlx::query(&sql)
        .bind(id.unwrap_or_default().to_string())
        .bind(sha256);
    for (_, v) in band_values(dhash) {
        q = q.bind(v);
    }
    q = q.bind(finding.map(|f| f.to_string()));
    let mut matches = vec![];
    for r in q.fetch_all(&mut *conn).await? {
        let (id, dhash_of, sha): (String, i64, String) =
            (r.try_get("id")?, r.try_get("dhash")?, r.try_get("sha256")?);
        if sha == sha256 || rules::hamming(dhash_of as u64, dhash) <= rules::NEAR_IDENTICAL_BITS {
            matches.push(id);
        }
    }
    if matches.is_empty() {
        return Ok(vec![]);
    }
    // A picture used a thousand times is named by its first uses; the
    // statement stays small.
    matches.truncate(1000);
    let sql = format!(
        "SELECT {COLUMNS} FROM photo WHERE id IN ({}) ORDER BY uploaded_at LIMIT 50",
        crate::sql::marks(matches.len())
    );
    let mut q = sqlx::query(&sql);
    for id in &matches {
        q = q.bind(id);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(from_row).collect()
}
