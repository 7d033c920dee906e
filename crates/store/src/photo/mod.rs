//! Photos on cases: checked by content and size, fingerprinted (SHA-256 and
//! a perceptual hash), read for EXIF capture time and GPS, stored with a
//! thumbnail, then attached to a case inside the step's transaction, where
//! the re-use and staging flags are decided for the verifier.
//!
//! A photo is uploaded first ("staged", belonging to no case) and attached
//! by id when the intake or step that uses it is written. The file is
//! written before its row, so no row points at a missing file; a row whose
//! write fails takes its files back, and the sweep removes anything left
//! unaccounted for (staged and never attached, or files with no row).

mod attach;
mod reading;
mod synthetic;

pub use attach::StepPhotos;
pub(crate) use attach::{CaseWhere, attach, look_alikes};
use reading::read;
pub use synthetic::{examine, noise_jpeg, synthetic_jpeg, synthetic_scene};

use crate::audit::Chain;
use crate::files::Files;
use crate::group_commit::{self, Grouped};
use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, now_micros};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use wenming_domain::geo::Point;
use wenming_domain::photo::{Flag, ImageKind, PhotoRole};

/// Limits on what is accepted, and how far from the case an "after" photo
/// may be taken before it is flagged.
#[derive(Debug, Clone)]
pub struct PhotoRules {
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub far_metres: f64,
}

impl Default for PhotoRules {
    fn default() -> Self {
        PhotoRules {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
            far_metres: 200.0,
        }
    }
}

/// Photos decoded at once, in this process.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The longer side of a thumbnail, in pixels.
const THUMB_SIDE: u32 = 480;

/// An uploaded photo, as shown on a case page or returned by the API.
#[derive(Debug, Clone, Serialize)]
pub struct Photo {
    pub id: Uuid,
    pub case_id: Option<Uuid>,
    /// The step it came with.
    pub event_id: Option<Uuid>,
    pub role: Option<PhotoRole>,
    pub kind: ImageKind,
    pub byte_size: i64,
    pub width: i64,
    pub height: i64,
    pub sha256: String,
    pub taken_at: Option<Timestamp>,
    pub gps: Option<Point>,
    pub flags: Vec<Flag>,
    pub uploaded_at: Timestamp,
    #[serde(skip)]
    pub uploaded_by: Option<Uuid>,
    /// The finding it was taken for, if any.
    pub finding_id: Option<Uuid>,
    #[serde(skip)]
    pub dhash: u64,
    /// Luminance grid for comparing a case's before and after photos;
    /// none for photos stored before it was kept.
    #[serde(skip)]
    pub grid: Option<Vec<u8>>,
}

pub fn original_key(id: Uuid) -> String {
    format!("photos/{id}")
}

pub fn thumbnail_key(id: Uuid) -> String {
    format!("thumbs/{id}.jpg")
}

/// The perceptual hash is cut into eight bytes; two hashes within
/// `NEAR_IDENTICAL_BITS` (< 8) of each other agree on at least one byte, so
/// an index on the bytes finds every near-identical candidate.
const BANDS: u32 = 8;

fn band_values(h: u64) -> impl Iterator<Item = (i64, i64)> {
    (0..BANDS).map(move |b| (b as i64, ((h >> (b * 8)) & 0xFF) as i64))
}

/// A picture's perceptual hash and the capture time its EXIF data claims,
/// read (in turn with the other decodes) from an image already judged by
/// its bytes; its size is the caller's to cap.
pub(crate) async fn fingerprint(
    bytes: bytes::Bytes,
    tz: &jiff::tz::TimeZone,
) -> Result<(u64, Option<Timestamp>), StoreError> {
    let tz = tz.clone();
    let turn = DECODING
        .acquire()
        .await
        .map_err(|e| StoreError::Files(format!("photo reader stopped: {e}")))?;
    let limits = PhotoRules {
        max_bytes: usize::MAX,
        ..Default::default()
    };
    let r = tokio::task::spawn_blocking(move || read("file", &bytes, &limits, &tz))
        .await
        .map_err(|e| StoreError::Files(format!("photo reader stopped: {e}")))?;
    drop(turn);
    let r = r?;
    Ok((r.dhash, r.taken_at))
}

/// Checks, reads and stores one upload, belonging to no case yet.
pub async fn stage(
    store: &crate::Store,
    files: &Files,
    ctx: &Ctx,
    field: &str,
    bytes: bytes::Bytes,
    limits: &PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Photo, StoreError> {
    stage_as(
        store,
        files,
        ctx,
        field,
        bytes,
        limits,
        tz,
        wenming_domain::new_id(),
    )
    .await
}

/// `stage` under an id the uploading device chose, so that an upload
/// interrupted and sent again is recognised (see `upload_once`).
#[allow(clippy::too_many_arguments)]
pub async fn stage_as(
    store: &crate::Store,
    files: &Files,
    ctx: &Ctx,
    field: &str,
    bytes: bytes::Bytes,
    limits: &PhotoRules,
    tz: &jiff::tz::TimeZone,
    id: Uuid,
) -> Result<Photo, StoreError> {
    let (limits, tz2) = (limits.clone(), tz.clone());
    let field_owned = field.to_string();
    // Decoding takes a CPU and several times the file's size in memory: a
    // burst of uploads waits its turn instead of decoding all at once.
    let turn = DECODING
        .acquire()
        .await
        .map_err(|e| StoreError::Files(format!("photo reader stopped: {e}")))?;
    let (bytes, r) = tokio::task::spawn_blocking(move || {
        let r = read(&field_owned, &bytes, &limits, &tz2);
        (bytes, r)
    })
    .await
    .map_err(|e| StoreError::Files(format!("photo reader stopped: {e}")))?;
    drop(turn);
    let mut r = r?;
    let byte_size = bytes.len() as i64;
    // Both files are written (and synced) at once.
    let (okey, tkey) = (original_key(id), thumbnail_key(id));
    let (original, thumbnail) = tokio::join!(
        files.put(&okey, bytes),
        files.put(&tkey, std::mem::take(&mut r.thumbnail).into())
    );
    if let Err(e) = original.and(thumbnail) {
        let _ = files.delete(&original_key(id)).await;
        let _ = files.delete(&thumbnail_key(id)).await;
        return Err(e);
    }
    // The row is committed with whatever else is being written at the time.
    let written = group_commit::submit(
        store,
        NewPhoto {
            id,
            kind: r.kind,
            byte_size,
            width: r.width,
            height: r.height,
            sha256: r.sha256.clone(),
            dhash: r.dhash,
            grid: std::mem::take(&mut r.grid),
            taken_at: r.taken_at,
            gps: r.gps,
            uploaded_by: ctx.actor_id,
        },
    )
    .await;
    if let Err(e) = written {
        // The row did not land: take the files back. Should this fail too,
        // the sweep finds them, since no row names them.
        let _ = files.delete(&original_key(id)).await;
        let _ = files.delete(&thumbnail_key(id)).await;
        return Err(e);
    }
    get(store, id).await
}

/// Attaches a staged photo to a case event without judging it: for
/// generated cities (`wenming-bench gen --photos`), whose pictures are
/// made honest.
pub async fn link(
    store: &crate::Store,
    photo: Uuid,
    case_id: &str,
    event_id: &str,
    role: PhotoRole,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE photo SET case_id = $1, event_id = $2, role = $3 WHERE id = $4")
        .bind(case_id)
        .bind(event_id)
        .bind(role.code())
        .bind(photo.to_string())
        .execute(store.writer())
        .await?;
    Ok(())
}

/// A staged photo's row, as the group commit writes it.
pub(crate) struct NewPhoto {
    pub id: Uuid,
    kind: ImageKind,
    byte_size: i64,
    width: u32,
    height: u32,
    sha256: String,
    dhash: u64,
    grid: Vec<u8>,
    taken_at: Option<jiff::Timestamp>,
    gps: Option<Point>,
    uploaded_by: Option<Uuid>,
}

/// Photo rows are many and small: they share commits.
impl Grouped for NewPhoto {
    type Ready = ();
    const AUDITED: bool = false;

    async fn ready(
        _: &Store,
        batch: &[NewPhoto],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        Ok(batch.iter().map(|_| Ok(())).collect())
    }

    async fn write(
        tx: &mut AnyConnection,
        batch: &[(&NewPhoto, &())],
        _: &mut Chain,
    ) -> Result<Vec<Uuid>, StoreError> {
        let mut ids = Vec::with_capacity(batch.len());
        for (p, ()) in batch {
            insert_row(&mut *tx, p).await?;
            ids.push(p.id);
        }
        Ok(ids)
    }
}

/// The photo's row and its eight hash bands, inside the caller's transaction.
async fn insert_row(conn: &mut AnyConnection, p: &NewPhoto) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO photo (id, case_id, event_id, role, kind, byte_size, width, height, sha256, dhash, taken_at, \
         gps_lon, gps_lat, flags, uploaded_by, uploaded_at, grid) \
         VALUES ($1, NULL, NULL, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', $11, $12, $13)",
    )
    .bind(p.id.to_string())
    .bind(p.kind.code())
    .bind(p.byte_size)
    .bind(i64::from(p.width))
    .bind(i64::from(p.height))
    .bind(&p.sha256)
    .bind(p.dhash as i64)
    .bind(p.taken_at.map(|t| t.as_microsecond()))
    .bind(p.gps.map(|g| g.lon))
    .bind(p.gps.map(|g| g.lat))
    .bind(p.uploaded_by.map(|u| u.to_string()))
    .bind(now_micros())
    .bind(Some(hex::encode(&p.grid)).filter(|g| !g.is_empty()))
    .execute(&mut *conn)
    .await?;
    let bands: Vec<(i64, i64)> = band_values(p.dhash).collect();
    let sql = format!(
        "INSERT INTO photo_band (band, value, photo_id) VALUES {}",
        crate::sql::rows(bands.len(), 3)
    );
    let mut q = sqlx::query(&sql);
    for (band, value) in bands {
        q = q.bind(band).bind(value).bind(p.id.to_string());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

const COLUMNS: &str = "id, case_id, event_id, role, kind, byte_size, width, height, sha256, dhash, taken_at, gps_lon, gps_lat, flags, uploaded_at, uploaded_by, finding_id, grid";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Photo, StoreError> {
    let id: String = r.try_get("id")?;
    let case_id: Option<String> = r.try_get("case_id")?;
    let event_id: Option<String> = r.try_get("event_id")?;
    let role: Option<String> = r.try_get("role")?;
    let kind: String = r.try_get("kind")?;
    let taken_at: Option<i64> = r.try_get("taken_at")?;
    let lon: Option<f64> = r.try_get("gps_lon")?;
    let lat: Option<f64> = r.try_get("gps_lat")?;
    let flags: String = r.try_get("flags")?;
    let dhash: i64 = r.try_get("dhash")?;
    Ok(Photo {
        id: parse_uuid(&id)?,
        case_id: case_id.as_deref().map(parse_uuid).transpose()?,
        event_id: event_id.as_deref().map(parse_uuid).transpose()?,
        role: role.as_deref().and_then(PhotoRole::parse),
        kind: match kind.as_str() {
            "png" => ImageKind::Png,
            "webp" => ImageKind::Webp,
            _ => ImageKind::Jpeg,
        },
        byte_size: r.try_get("byte_size")?,
        width: r.try_get("width")?,
        height: r.try_get("height")?,
        sha256: r.try_get("sha256")?,
        taken_at: taken_at.map(crate::ts),
        gps: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
        flags: crate::error::stored_json("photo flags", &flags)?,
        uploaded_at: crate::ts(r.try_get("uploaded_at")?),
        uploaded_by: r
            .try_get::<Option<String>, _>("uploaded_by")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        finding_id: r
            .try_get::<Option<String>, _>("finding_id")?
            .as_deref()
            .map(parse_uuid)
            .transpose()?,
        dhash: dhash as u64,
        grid: r
            .try_get::<Option<String>, _>("grid")?
            .and_then(|g| hex::decode(g).ok()),
    })
}

pub async fn get(store: &crate::Store, id: Uuid) -> Result<Photo, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM photo WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(store.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
    from_row(&row)
}

/// The photos of a case, oldest first.
/// A case's photos, and those of the cases marked its duplicates (the same
/// problem seen by others).
pub async fn of_case(store: &crate::Store, case_id: Uuid) -> Result<Vec<Photo>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM photo WHERE case_id = $1 OR case_id IN \
         (SELECT id FROM case_record WHERE duplicate_of = $1 AND state = 'duplicate') ORDER BY uploaded_at, id"
    ))
    .bind(case_id.to_string())
    .fetch_all(store.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The photos of these cases (their own, not their duplicates'), in one
/// read, oldest first.
pub async fn of_cases(store: &crate::Store, case_ids: &[Uuid]) -> Result<Vec<Photo>, StoreError> {
    if case_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = crate::sql::Sql::new(&format!("SELECT {COLUMNS} FROM photo WHERE case_id IN ("));
    let list: Vec<String> = case_ids
        .iter()
        .map(|c| sql.text_arg(c.to_string()))
        .collect();
    sql.push(&list.join(", "));
    sql.push(") ORDER BY uploaded_at, id");
    let rows = sql.query().fetch_all(store.reader()).await?;
    rows.iter().map(from_row).collect()
}

/// Takes back photos staged for a report or step that was then refused,
/// so a failed case write leaves no file behind.
pub async fn discard(store: &crate::Store, files: &Files, ids: &[Uuid]) -> Result<(), StoreError> {
    for id in ids {
        let mut tx = store.begin().await?;
        sqlx::query("DELETE FROM photo_band WHERE photo_id = $1 AND photo_id IN (SELECT id FROM photo WHERE case_id IS NULL AND finding_id IS NULL)")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query(
            "DELETE FROM photo WHERE id = $1 AND case_id IS NULL AND finding_id IS NULL",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if n.rows_affected() == 1 {
            files.delete(&original_key(*id)).await?;
            files.delete(&thumbnail_key(*id)).await?;
        }
    }
    Ok(())
}

/// Removes staged photos never attached within `staged_for_secs`, and
/// stored files that no row names (a crash between file and row), older
/// than the same age so an upload in flight is never touched. Returns the
/// number of files removed.
pub async fn sweep(
    store: &crate::Store,
    files: &Files,
    staged_for_secs: i64,
) -> Result<usize, StoreError> {
    let cutoff = now_micros() - staged_for_secs * 1_000_000;
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM photo WHERE case_id IS NULL AND finding_id IS NULL AND held_for IS NULL AND uploaded_at < $1",
    )
    .bind(cutoff)
    .fetch_all(store.reader())
    .await?;
    for id in &stale {
        let mut tx = store.begin().await?;
        sqlx::query("DELETE FROM photo_band WHERE photo_id = $1 AND photo_id IN (SELECT id FROM photo WHERE case_id IS NULL AND finding_id IS NULL)")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM photo WHERE id = $1 AND case_id IS NULL AND finding_id IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    let mut removed = 0;
    let before = cutoff / 1_000_000;
    for prefix in ["photos", "thumbs"] {
        let keys = files.keys_older_than(prefix, before).await?;
        // Which of the listed files have a row: asked a few hundred at a
        // time, not once a file.
        for chunk in keys.chunks(200) {
            let ids: Vec<&str> = chunk
                .iter()
                .map(|k| {
                    k.rsplit('/')
                        .next()
                        .map(|s| s.trim_end_matches(".jpg"))
                        .unwrap_or_default()
                })
                .collect();
            let sql = format!(
                "SELECT id FROM photo WHERE id IN ({})",
                crate::sql::marks(ids.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            let known: std::collections::HashSet<String> =
                q.fetch_all(store.reader()).await?.into_iter().collect();
            for (key, id) in chunk.iter().zip(&ids) {
                if !known.contains(*id) {
                    files.delete(key).await?;
                    removed += 1;
                }
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::reading::Reading;
    use super::*;
    use image::ImageEncoder;
    use wenming_domain::photo as rules;

    #[test]
    fn a_generated_photo_reads_back_its_time_and_place() {
        let t = Timestamp::from_second(1_790_000_000).unwrap();
        let p = Point {
            lon: 118.7812,
            lat: 31.2905,
        };
        let bytes = synthetic_jpeg(7, Some(t), Some(p));
        let r = read(
            "photos",
            &bytes,
            &PhotoRules::default(),
            &jiff::tz::TimeZone::UTC,
        )
        .unwrap();
        assert_eq!(r.kind, ImageKind::Jpeg);
        assert_eq!((r.width, r.height), (640, 480));
        assert_eq!(r.taken_at, Some(t));
        let g = r.gps.unwrap();
        assert!(g.distance_m(p) < 1.0, "{g:?}");
        assert!(!r.thumbnail.is_empty());
        let other = read(
            "photos",
            &synthetic_jpeg(8, None, None),
            &PhotoRules::default(),
            &jiff::tz::TimeZone::UTC,
        )
        .unwrap();
        assert!(rules::hamming(r.dhash, other.dhash) > rules::NEAR_IDENTICAL_BITS);
        assert_eq!(other.taken_at, None);
    }

    /// piexif (Python) writes a next-IFD link readers must step over; its
    /// time and place are read like a camera's. The file was made with
    /// `piexif.insert` on a 64×48 picture.
    #[test]
    fn exif_written_by_piexif_is_read() {
        let bytes = include_bytes!("../../testdata/piexif-gps-time.jpg");
        let r = read(
            "photos",
            bytes,
            &PhotoRules::default(),
            &jiff::tz::TimeZone::get("Asia/Shanghai").unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.taken_at.map(|t| t.to_string()),
            Some("2026-11-30T02:00:00Z".to_string()),
            "local time where the city is"
        );
        let g = r.gps.unwrap();
        assert!(
            (g.lon - 118.6).abs() < 1e-6 && (g.lat - 31.21).abs() < 1e-6,
            "{g:?}"
        );
    }

    #[test]
    fn uploads_are_judged_by_content_and_size() {
        let limits = PhotoRules {
            max_bytes: 1000,
            ..PhotoRules::default()
        };
        let tz = jiff::tz::TimeZone::UTC;
        let e = |r: Result<Reading, StoreError>| match r {
            Err(StoreError::Invalid(f)) => f.0[0].code,
            Err(other) => panic!("{other}"),
            Ok(_) => "accepted",
        };
        assert_eq!(
            e(read("photos", b"%PDF-1.7 hello", &limits, &tz)),
            "not_an_image"
        );
        assert_eq!(
            e(read("photos", &vec![0xFF; 2000], &limits, &tz)),
            "photo_too_large"
        );
        // More pixels than allowed is refused from the header alone.
        let mut png = vec![];
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&[0u8; 100 * 100], 100, 100, image::ExtendedColorType::L8)
            .unwrap();
        let few_pixels = PhotoRules {
            max_pixels: 5000,
            ..PhotoRules::default()
        };
        assert_eq!(e(read("photos", &png, &few_pixels, &tz)), "too_many_pixels");
        assert_eq!(
            e(read("photos", &png, &PhotoRules::default(), &tz)),
            "accepted"
        );
        // A JPEG signature and nothing else.
        assert_eq!(
            e(read(
                "photos",
                &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0],
                &limits,
                &tz
            )),
            "unreadable_image"
        );
    }
}
