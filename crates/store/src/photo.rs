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

use crate::audit::Chain;
use crate::files::Files;
use crate::group_commit::{self, Grouped};
use crate::org::parse_uuid;
use crate::{Ctx, Store, StoreError, now_micros};
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};
use std::io::Cursor;
use uuid::Uuid;
use wenming_domain::geo::Point;
use wenming_domain::photo::{self as rules, Flag, ImageKind, PhotoFacts, PhotoRole};

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

/// What reading the bytes tells.
struct Reading {
    kind: ImageKind,
    width: u32,
    height: u32,
    sha256: String,
    dhash: u64,
    grid: Vec<u8>,
    taken_at: Option<Timestamp>,
    gps: Option<Point>,
    thumbnail: Vec<u8>,
}

fn bad(field: &str, code: &'static str) -> StoreError {
    StoreError::invalid(field, code)
}

/// Checks and reads one upload. CPU-bound: run it off the async threads.
fn read(
    field: &str,
    bytes: &[u8],
    limits: &PhotoRules,
    tz: &jiff::tz::TimeZone,
) -> Result<Reading, StoreError> {
    if bytes.len() > limits.max_bytes {
        return Err(bad(field, "photo_too_large"));
    }
    let kind = rules::sniff(bytes).ok_or_else(|| bad(field, "not_an_image"))?;
    let format = match kind {
        ImageKind::Jpeg => image::ImageFormat::Jpeg,
        ImageKind::Png => image::ImageFormat::Png,
        ImageKind::Webp => image::ImageFormat::WebP,
    };
    // The header's dimensions first: a small file can claim a huge canvas
    // (a decompression bomb), and it is refused before any pixel is decoded.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| bad(field, "unreadable_image"))?;
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(bad(field, "too_many_pixels"));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut bounds = image::Limits::default();
    bounds.max_alloc = Some(limits.max_pixels * 4 + 64 * 1024 * 1024);
    reader.limits(bounds);
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| bad(field, "unreadable_image"))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|_| bad(field, "unreadable_image"))?;
    img.apply_orientation(orientation);
    let small = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let gray = small.to_luma8();
    let dhash = rules::dhash(gray.as_raw(), gray.width() as usize, gray.height() as usize);
    let grid = rules::grid(gray.as_raw(), gray.width() as usize, gray.height() as usize);
    let mut thumbnail = vec![];
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut thumbnail, 80)
        .write_image(
            small.to_rgb8().as_raw(),
            small.width(),
            small.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| StoreError::Files(format!("thumbnail: {e}")))?;
    let (taken_at, gps) = exif_facts(bytes, tz);
    Ok(Reading {
        kind,
        width,
        height,
        sha256: hex::encode(Sha256::digest(bytes)),
        dhash,
        grid,
        taken_at,
        gps,
        thumbnail,
    })
}

/// Capture time and position, when the camera wrote them. A time without
/// an offset is taken as local time where the city is.
fn exif_facts(bytes: &[u8], tz: &jiff::tz::TimeZone) -> (Option<Timestamp>, Option<Point>) {
    use exif::{In, Tag, Value};
    // Lenient: some writers (piexif, a few phone apps) leave a stray
    // next-IFD link or an odd field; what can be read is still read.
    let read = exif::Reader::new()
        .continue_on_error(true)
        .read_from_container(&mut Cursor::new(bytes))
        .or_else(|e| e.distill_partial_result(|_| {}));
    let Ok(ex) = read else {
        return (None, None);
    };
    let ascii = |tag| match ex.get_field(tag, In::PRIMARY).map(|f| &f.value) {
        Some(Value::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    let taken_at = ascii(Tag::DateTimeOriginal)
        .or_else(|| ascii(Tag::DateTime))
        .and_then(|raw| {
            let mut dt = exif::DateTime::from_ascii(&raw).ok()?;
            if let Some(off) = ascii(Tag::OffsetTimeOriginal) {
                let _ = dt.parse_offset(&off);
            }
            let civil = jiff::civil::DateTime::new(
                dt.year as i16,
                dt.month as i8,
                dt.day as i8,
                dt.hour as i8,
                dt.minute as i8,
                dt.second as i8,
                0,
            )
            .ok()?;
            match dt.offset {
                Some(minutes) => {
                    let offset = jiff::tz::Offset::from_seconds(minutes as i32 * 60).ok()?;
                    offset.to_timestamp(civil).ok()
                }
                None => civil
                    .to_zoned_datetime(tz.clone())
                    .ok()
                    .map(|z| z.timestamp()),
            }
        });
    let degrees = |tag, reference, negative: u8| -> Option<f64> {
        let Some(Value::Rational(r)) = ex.get_field(tag, In::PRIMARY).map(|f| &f.value) else {
            return None;
        };
        if r.len() < 3 || r.iter().any(|x| x.denom == 0) {
            return None;
        }
        let v = r[0].to_f64() + r[1].to_f64() / 60.0 + r[2].to_f64() / 3600.0;
        let sign = match ascii(reference) {
            Some(s) if s.first() == Some(&negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * v)
    };
    let gps = match (
        degrees(Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W'),
        degrees(Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S'),
    ) {
        (Some(lon), Some(lat))
            if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
        {
            Some(Point { lon, lat })
        }
        _ => None,
    };
    (taken_at, gps)
}

/// The perceptual hash is cut into eight bytes; two hashes within
/// `NEAR_IDENTICAL_BITS` (< 8) of each other agree on at least one byte, so
/// an index on the bytes finds every near-identical candidate.
const BANDS: u32 = 8;

fn band_values(h: u64) -> impl Iterator<Item = (i64, i64)> {
    (0..BANDS).map(move |b| (b as i64, ((h >> (b * 8)) & 0xFF) as i64))
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
        let others = look_alikes(conn, &photo).await?;
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

fn facts(p: &Photo) -> PhotoFacts {
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
async fn look_alikes(conn: &mut AnyConnection, p: &Photo) -> Result<Vec<Photo>, StoreError> {
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
    let mut q = sqlx::query(&sql).bind(p.id.to_string()).bind(&p.sha256);
    for (_, v) in band_values(p.dhash) {
        q = q.bind(v);
    }
    q = q.bind(p.finding_id.map(|f| f.to_string()));
    let mut matches = vec![];
    for r in q.fetch_all(&mut *conn).await? {
        let (id, dhash, sha): (String, i64, String) =
            (r.try_get("id")?, r.try_get("dhash")?, r.try_get("sha256")?);
        if sha == p.sha256 || rules::hamming(dhash as u64, p.dhash) <= rules::NEAR_IDENTICAL_BITS {
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

/// A picture made by the program (for the demo city and tests): a street
/// scene of coloured blocks drawn from `seed`, with EXIF capture time and
/// GPS when given. Different seeds give pictures that are not near-identical.
pub fn synthetic_jpeg(seed: u64, taken_at: Option<Timestamp>, gps: Option<Point>) -> Vec<u8> {
    synthetic_scene(seed, false, taken_at, gps)
}

/// The scene `synthetic_jpeg` draws for `seed`, with a dark pile of litter
/// at one spot when `litter`: the same street before and after a fix,
/// taken from the same place.
pub fn synthetic_scene(
    seed: u64,
    litter: bool,
    taken_at: Option<Timestamp>,
    gps: Option<Point>,
) -> Vec<u8> {
    let (w, h) = (640u32, 480u32);
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let sky = [
        (next() % 80 + 120) as u8,
        (next() % 80 + 140) as u8,
        (next() % 60 + 190) as u8,
    ];
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb(sky));
    for _ in 0..12 {
        let (x0, y0) = ((next() % w as u64) as u32, (next() % h as u64) as u32);
        let (bw, bh) = ((next() % 220 + 40) as u32, (next() % 200 + 40) as u32);
        let c = [next() as u8, next() as u8, next() as u8];
        for y in y0..(y0 + bh).min(h) {
            for x in x0..(x0 + bw).min(w) {
                img.put_pixel(x, y, image::Rgb(c));
            }
        }
    }
    if litter {
        for y in 330..400 {
            for x in 380..460 {
                let v = ((x * 7 + y * 13) % 40) as u8 + 20;
                img.put_pixel(x, y, image::Rgb([v, v / 2 + 10, v / 3]));
            }
        }
    }
    let mut out = vec![];
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75);
    let exif = synthetic_exif(taken_at, gps);
    if !exif.is_empty() {
        let _ = enc.set_exif_metadata(exif);
    }
    let _ = enc.write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8);
    out
}

/// A picture of noise (for measuring uploads: noise barely compresses, so
/// What the server does with one upload's bytes before storing them
/// (checks, decoding, thumbnail, perceptual hash, SHA-256, EXIF), for the
/// benchmark's baseline of the same work without the web stack.
pub fn examine(bytes: &[u8]) -> Result<usize, StoreError> {
    read(
        "file",
        bytes,
        &PhotoRules::default(),
        &jiff::tz::TimeZone::UTC,
    )
    .map(|r| r.thumbnail.len())
}

/// 1100 × 820 at quality 95 is about 2 MB, a phone photo's size).
pub fn noise_jpeg(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut img = image::RgbImage::new(width, height);
    for px in img.pixels_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *px = image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8]);
    }
    let mut out = vec![];
    let _ = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95).write_image(
        img.as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    );
    out
}

fn synthetic_exif(taken_at: Option<Timestamp>, gps: Option<Point>) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let mut fields = vec![];
    if let Some(t) = taken_at {
        let z = t.to_zoned_datetime(jiff::tz::TimeZone::UTC);
        fields.push(Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![
                z.strftime("%Y:%m:%d %H:%M:%S").to_string().into_bytes(),
            ]),
        });
        fields.push(Field {
            tag: Tag::OffsetTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"+00:00".to_vec()]),
        });
    }
    if let Some(p) = gps {
        let dms = |v: f64| {
            let v = v.abs();
            let d = v.trunc();
            let m = ((v - d) * 60.0).trunc();
            let s = (v - d - m / 60.0) * 3600.0;
            Value::Rational(vec![
                Rational::from((d as u32, 1)),
                Rational::from((m as u32, 1)),
                Rational::from(((s * 10_000.0).round() as u32, 10_000)),
            ])
        };
        let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
        fields.push(Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii(if p.lat < 0.0 { "S" } else { "N" }),
        });
        fields.push(Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: dms(p.lat),
        });
        fields.push(Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: ascii(if p.lon < 0.0 { "W" } else { "E" }),
        });
        fields.push(Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: dms(p.lon),
        });
    }
    if fields.is_empty() {
        return vec![];
    }
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut buf = Cursor::new(vec![]);
    match w.write(&mut buf, false) {
        Ok(()) => buf.into_inner(),
        Err(_) => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let bytes = include_bytes!("../testdata/piexif-gps-time.jpg");
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
