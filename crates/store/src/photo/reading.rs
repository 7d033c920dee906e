//! Reading an upload: what kind of image it is by its bytes, its size,
//! a thumbnail, its fingerprints (SHA-256, difference hash and grid), and
//! the time and place its EXIF data claims.

use super::{PhotoRules, THUMB_SIDE};
use crate::StoreError;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageReader};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use std::io::Cursor;
use wenming_domain::geo::Point;
use wenming_domain::photo::{self as rules, ImageKind};

/// What reading the bytes tells.
pub(super) struct Reading {
    pub(super) kind: ImageKind,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) sha256: String,
    pub(super) dhash: u64,
    pub(super) grid: Vec<u8>,
    pub(super) taken_at: Option<Timestamp>,
    pub(super) gps: Option<Point>,
    pub(super) thumbnail: Vec<u8>,
}

pub(super) fn bad(field: &str, code: &'static str) -> StoreError {
    StoreError::invalid(field, code)
}

/// Checks and reads one upload. CPU-bound: run it off the async threads.
pub(super) fn read(
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
pub(super) fn exif_facts(
    bytes: &[u8],
    tz: &jiff::tz::TimeZone,
) -> (Option<Timestamp>, Option<Point>) {
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
