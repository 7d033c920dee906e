//! Made-up pictures with real EXIF, for the demo city and the measuring
//! data (never shown as evidence of anything).

use super::PhotoRules;
use super::reading::read;
use crate::StoreError;
use image::ImageEncoder;
use jiff::Timestamp;
use std::io::Cursor;
use wenming_domain::geo::Point;

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

pub(super) fn synthetic_exif(taken_at: Option<Timestamp>, gps: Option<Point>) -> Vec<u8> {
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
