//! Photos as evidence: what kind of image a file really is, a perceptual
//! fingerprint that survives re-encoding, and the flags that warn a
//! verifier of a re-used or staged "after" photo. Pure: decoding and EXIF
//! reading happen at the edge; these rules decide what they mean.

use crate::coded_enum;
use crate::geo::Point;
use jiff::Timestamp;
use serde::Serialize;
use uuid::Uuid;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum ImageKind {
        Jpeg = "jpeg",
        Png = "png",
        Webp = "webp",
    }
}

/// The kind by content, not by name: a renamed PDF is not a photo.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// Difference hash: the grayscale image box-sampled to 9×8, each bit saying
/// whether a pixel is brighter than its right-hand neighbour. Near-identical
/// images (resized, recompressed, lightly edited) differ in few bits.
pub fn dhash(gray: &[u8], width: usize, height: usize) -> u64 {
    if width == 0 || height == 0 || gray.len() < width * height {
        return 0;
    }
    let cell = |cx: usize, cy: usize| -> f64 {
        let (x0, x1) = (
            cx * width / 9,
            ((cx + 1) * width / 9).max(cx * width / 9 + 1),
        );
        let (y0, y1) = (
            cy * height / 8,
            ((cy + 1) * height / 8).max(cy * height / 8 + 1),
        );
        let (mut sum, mut n) = (0u64, 0u64);
        for y in y0..y1.min(height) {
            for x in x0..x1.min(width) {
                sum += gray[y * width + x] as u64;
                n += 1;
            }
        }
        if n == 0 { 0.0 } else { sum as f64 / n as f64 }
    };
    let mut h = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            h <<= 1;
            if cell(x, y) > cell(x + 1, y) {
                h |= 1;
            }
        }
    }
    h
}

pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The side of the luminance grid kept for comparing a case's before and
/// after photos: 16 × 16 block means.
pub const GRID_SIDE: usize = 16;

/// Mean luminance of each block of a `GRID_SIDE` × `GRID_SIDE` grid over a
/// grayscale picture. The 64-bit difference hash cannot see a pile of
/// litter taken away from an otherwise unchanged street; this can.
pub fn grid(gray: &[u8], w: usize, h: usize) -> Vec<u8> {
    let n = GRID_SIDE;
    let mut out = Vec::with_capacity(n * n);
    for by in 0..n {
        for bx in 0..n {
            let (x0, x1) = (bx * w / n, ((bx + 1) * w / n).max(bx * w / n + 1).min(w));
            let (y0, y1) = (by * h / n, ((by + 1) * h / n).max(by * h / n + 1).min(h));
            let (mut sum, mut count) = (0u64, 0u64);
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += u64::from(gray[y * w + x]);
                    count += 1;
                }
            }
            out.push((sum / count.max(1)) as u8);
        }
    }
    out
}

/// Blocks that must differ, after taking out an even shift in brightness
/// (another exposure, or a touched-up copy), for two grids to show a
/// change in the scene: 3 of 256 is about 1% of the picture.
const CHANGED_BLOCKS: usize = 3;
/// A block differs when its mean moves by more than this (of 255).
const BLOCK_DIFFERS: i32 = 24;

/// Whether two grids show a change somewhere in the scene, not only a
/// re-encoding or an even change of brightness.
pub fn scene_changed(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return true;
    }
    let mut d: Vec<i32> = a
        .iter()
        .zip(b)
        .map(|(x, y)| i32::from(*x) - i32::from(*y))
        .collect();
    let mut sorted = d.clone();
    sorted.sort_unstable();
    let shift = sorted[sorted.len() / 2];
    for v in &mut d {
        *v -= shift;
    }
    d.iter().filter(|v| v.abs() > BLOCK_DIFFERS).count() >= CHANGED_BLOCKS
}

/// An after photo whose clock says it was taken more than this after it
/// was uploaded was not taken then (a camera set to the future).
pub const FUTURE_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// EXIF times have whole seconds and phone clocks drift a little: a photo
/// taken within this of the dispatch is not called older than it.
pub const CLOCK_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// At or under this many differing bits two photos are the same picture.
pub const NEAR_IDENTICAL_BITS: u32 = 6;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum PhotoRole {
        Before = "before",
        After = "after",
    }
}

/// What is known of one stored photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoFacts {
    pub id: Uuid,
    pub case_id: Uuid,
    pub role: PhotoRole,
    pub sha256: String,
    pub dhash: u64,
    /// EXIF capture time, when the camera wrote one.
    pub taken_at: Option<Timestamp>,
    /// EXIF GPS, when present.
    pub gps: Option<Point>,
    /// Its luminance grid (`grid`), where one was kept.
    pub grid: Option<Vec<u8>>,
    pub uploaded_at: Timestamp,
}

/// Warnings for the verifier. None of them refuses the photo: a flag asks a
/// person to look.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum Flag {
    /// Taken before the case was dispatched: not a picture of the fix.
    TakenBeforeDispatch,
    /// Taken this far (metres) from where the problem is.
    FarFromCase { metres: u32 },
    /// The very same file is on record elsewhere.
    SameFile { case_id: Uuid, role: PhotoRole },
    /// The same picture, re-encoded or touched up, is on record elsewhere.
    NearIdentical {
        case_id: Uuid,
        role: PhotoRole,
        bits: u32,
    },
    /// No capture time: it cannot be shown to be new.
    NoCaptureTime,
    /// Its clock says it was taken after it was uploaded.
    TakenInFuture,
    /// No place, where the case's before photos had one: it cannot be
    /// shown to be of the same spot.
    NoLocation,
}

/// What the flags need to know of the case an after photo is for.
#[derive(Debug, Clone, Copy, Default)]
pub struct CaseContext {
    /// When its current handling period began.
    pub dispatched_at: Option<Timestamp>,
    pub point: Option<Point>,
    /// Whether any of its before photos carries a place.
    pub before_had_place: bool,
}

/// Flags for an "after" photo of a case dispatched at `dispatched_at`,
/// located at `case_point`, against every other photo on record
/// (including this case's "before" photos).
pub fn flags(
    photo: &PhotoFacts,
    case: CaseContext,
    max_distance_m: f64,
    others: &[PhotoFacts],
) -> Vec<Flag> {
    let mut out = vec![];
    if photo.role == PhotoRole::After {
        match (photo.taken_at, case.dispatched_at) {
            (Some(t), Some(d)) if t + CLOCK_GRACE < d => out.push(Flag::TakenBeforeDispatch),
            (Some(t), _) if t > photo.uploaded_at + FUTURE_GRACE => out.push(Flag::TakenInFuture),
            (None, _) => out.push(Flag::NoCaptureTime),
            _ => {}
        }
        if photo.gps.is_none() && case.before_had_place {
            out.push(Flag::NoLocation);
        }
        if let (Some(g), Some(c)) = (photo.gps, case.point) {
            let d = g.distance_m(c);
            if d > max_distance_m {
                out.push(Flag::FarFromCase {
                    metres: d.round() as u32,
                });
            }
        }
    }
    for o in others.iter().filter(|o| o.id != photo.id) {
        // A case's own before photos may look alike among themselves; an
        // after photo like any before photo, or any photo of another case,
        // is suspect.
        let comparable = o.case_id != photo.case_id || o.role != photo.role;
        if !comparable {
            continue;
        }
        if o.sha256 == photo.sha256 {
            out.push(Flag::SameFile {
                case_id: o.case_id,
                role: o.role,
            });
        } else {
            let bits = hamming(o.dhash, photo.dhash);
            // Before and after of one case are taken from the same spot on
            // purpose: they are the same picture only if no part of the
            // scene changed (a removed pile of litter is a change).
            let same_case = o.case_id == photo.case_id;
            let changed = same_case
                && matches!((&o.grid, &photo.grid), (Some(a), Some(b)) if scene_changed(a, b));
            if bits <= NEAR_IDENTICAL_BITS && !changed {
                out.push(Flag::NearIdentical {
                    case_id: o.case_id,
                    role: o.role,
                    bits,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic grayscale picture: a gradient with a bright block.
    fn picture(w: usize, h: usize, block_at: usize) -> Vec<u8> {
        let mut g = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut v = (x * 200 / w) as u8;
                if x / (w / 4).max(1) == block_at && y < h / 2 {
                    v = 250;
                }
                g[y * w + x] = v;
            }
        }
        g
    }

    #[test]
    fn kinds_come_from_content() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(sniff(b"PNG but no signature"), None);
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(ImageKind::Png)
        );
        assert_eq!(
            sniff(&[b'R', b'I', b'F', b'F', 0, 0, 0, 0, b'W', b'E', b'B', b'P']),
            Some(ImageKind::Webp)
        );
        assert_eq!(sniff(b"%PDF-1.7"), None);
    }

    #[test]
    fn a_resized_picture_keeps_its_fingerprint_and_another_does_not() {
        let a = dhash(&picture(360, 240, 1), 360, 240);
        let resized = dhash(&picture(180, 120, 1), 180, 120);
        let other = dhash(&picture(360, 240, 3), 360, 240);
        assert!(
            hamming(a, resized) <= NEAR_IDENTICAL_BITS,
            "{}",
            hamming(a, resized)
        );
        assert!(
            hamming(a, other) > NEAR_IDENTICAL_BITS,
            "{}",
            hamming(a, other)
        );
    }

    fn facts(case: u128, role: PhotoRole, sha: &str, dhash: u64) -> PhotoFacts {
        PhotoFacts {
            id: Uuid::now_v7(),
            case_id: Uuid::from_u128(case),
            role,
            sha256: sha.into(),
            dhash,
            taken_at: Some(Timestamp::from_second(2_000_000_000).unwrap()),
            gps: Some(Point {
                lon: 118.7,
                lat: 31.3,
            }),
            grid: None,
            uploaded_at: Timestamp::from_second(2_000_000_100).unwrap(),
        }
    }

    fn at(dispatched: Timestamp, here: Point) -> CaseContext {
        CaseContext {
            dispatched_at: Some(dispatched),
            point: Some(here),
            before_had_place: false,
        }
    }

    #[test]
    fn a_future_clock_and_a_missing_place_are_flagged() {
        let dispatched = Timestamp::from_second(1_999_999_000).unwrap();
        let here = Point {
            lon: 118.7,
            lat: 31.3,
        };
        let after = facts(1, PhotoRole::After, "bbb", 1);
        let future = PhotoFacts {
            taken_at: Some(after.uploaded_at + jiff::SignedDuration::from_hours(72)),
            ..after.clone()
        };
        assert_eq!(
            flags(&future, at(dispatched, here), 100.0, &[]),
            vec![Flag::TakenInFuture]
        );
        // A few minutes of clock drift is not a warning.
        let drift = PhotoFacts {
            taken_at: Some(after.uploaded_at + jiff::SignedDuration::from_mins(5)),
            ..after.clone()
        };
        assert_eq!(flags(&drift, at(dispatched, here), 100.0, &[]), vec![]);
        let placeless = PhotoFacts {
            gps: None,
            ..after.clone()
        };
        let with_place_before = CaseContext {
            before_had_place: true,
            ..at(dispatched, here)
        };
        assert_eq!(
            flags(&placeless, with_place_before, 100.0, &[]),
            vec![Flag::NoLocation]
        );
        assert_eq!(flags(&placeless, at(dispatched, here), 100.0, &[]), vec![]);
    }

    /// A street with a pile of litter at one spot, or without it.
    fn street(w: usize, h: usize, litter: bool, brightness: i32) -> Vec<u8> {
        let mut g = picture(w, h, 1);
        if litter {
            for y in h * 6 / 10..h * 8 / 10 {
                for x in w * 6 / 10..w * 7 / 10 {
                    g[y * w + x] = 30;
                }
            }
        }
        g.iter()
            .map(|v| (i32::from(*v) + brightness).clamp(0, 255) as u8)
            .collect()
    }

    #[test]
    fn a_removed_pile_is_a_change_a_re_encoding_is_not() {
        let (w, h) = (320, 240);
        let before = street(w, h, true, 0);
        let fixed = street(w, h, false, 0);
        let copy = street(w, h, true, 12);
        let g = |p: &[u8]| grid(p, w, h);
        // The difference hash alone calls the honest re-shoot the same
        // picture: the reason the grid is kept.
        assert!(hamming(dhash(&before, w, h), dhash(&fixed, w, h)) <= NEAR_IDENTICAL_BITS);
        assert!(scene_changed(&g(&before), &g(&fixed)));
        assert!(
            !scene_changed(&g(&before), &g(&copy)),
            "brighter, not changed"
        );
        let mut b = facts(1, PhotoRole::Before, "aaa", dhash(&before, w, h));
        b.grid = Some(g(&before));
        let mut honest = facts(1, PhotoRole::After, "bbb", dhash(&fixed, w, h));
        honest.grid = Some(g(&fixed));
        let here = Point {
            lon: 118.7,
            lat: 31.3,
        };
        let d = Timestamp::from_second(1_999_999_000).unwrap();
        assert_eq!(
            flags(&honest, at(d, here), 100.0, std::slice::from_ref(&b)),
            vec![]
        );
        let mut staged = facts(1, PhotoRole::After, "ccc", dhash(&copy, w, h));
        staged.grid = Some(g(&copy));
        assert!(matches!(
            flags(&staged, at(d, here), 100.0, std::slice::from_ref(&b))[..],
            [Flag::NearIdentical { .. }]
        ));
        // The same re-shoot handed in on another case is still a re-use.
        let mut elsewhere = honest.clone();
        elsewhere.case_id = Uuid::from_u128(2);
        assert!(matches!(
            flags(&elsewhere, at(d, here), 100.0, std::slice::from_ref(&b))[..],
            [Flag::NearIdentical { .. }]
        ));
    }

    #[test]
    fn reused_and_staged_after_photos_are_flagged() {
        let dispatched = Timestamp::from_second(1_999_999_000).unwrap();
        let here = Point {
            lon: 118.7,
            lat: 31.3,
        };
        let before = facts(1, PhotoRole::Before, "aaa", 0b1011);
        let after = facts(1, PhotoRole::After, "bbb", 0xF0F0_F0F0);
        assert_eq!(
            flags(
                &after,
                at(dispatched, here),
                100.0,
                std::slice::from_ref(&before)
            ),
            vec![]
        );
        // The before photo handed in again as the after photo.
        let same = PhotoFacts {
            role: PhotoRole::After,
            id: Uuid::now_v7(),
            ..before.clone()
        };
        assert_eq!(
            flags(
                &same,
                at(dispatched, here),
                100.0,
                std::slice::from_ref(&before)
            ),
            vec![Flag::SameFile {
                case_id: before.case_id,
                role: PhotoRole::Before
            }]
        );
        // Recompressed copy of another case's after photo.
        let elsewhere = facts(2, PhotoRole::After, "ccc", 0xF0F0_F0F1);
        assert_eq!(
            flags(
                &after,
                at(dispatched, here),
                100.0,
                std::slice::from_ref(&elsewhere)
            ),
            vec![Flag::NearIdentical {
                case_id: elsewhere.case_id,
                role: PhotoRole::After,
                bits: 1
            }]
        );
        // Taken before dispatch, far away, or with no time at all.
        let early = PhotoFacts {
            taken_at: Some(Timestamp::from_second(1_999_000_000).unwrap()),
            ..after.clone()
        };
        assert_eq!(
            flags(&early, at(dispatched, here), 100.0, &[]),
            vec![Flag::TakenBeforeDispatch]
        );
        let far = PhotoFacts {
            gps: Some(Point {
                lon: 118.7,
                lat: 31.3 + 0.01,
            }),
            ..after.clone()
        };
        assert!(
            matches!(flags(&far, at(dispatched, here), 100.0, &[])[..], [Flag::FarFromCase { metres }] if (1100..1120).contains(&metres))
        );
        let timeless = PhotoFacts {
            taken_at: None,
            ..after
        };
        assert_eq!(
            flags(&timeless, at(dispatched, here), 100.0, &[]),
            vec![Flag::NoCaptureTime]
        );
    }
}
