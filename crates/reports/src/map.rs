//! Maps as SVG drawn on the server: they print, scale and need no library.
//! Longitude/latitude are projected equirectangularly around the map's
//! middle latitude, which is true enough at city scale.

use serde_json::Value;
use std::fmt::Write;

pub struct Area<'a> {
    pub geometry: &'a Value,
    pub label: &'a str,
    /// Shading from 0 (none) to 1 (darkest).
    pub intensity: f64,
    pub href: Option<String>,
}

pub struct Dot<'a> {
    pub lon: f64,
    pub lat: f64,
    /// A CSS class naming its status (overdue, open, closed ...).
    pub class: &'a str,
    /// Drawn as a triangle rather than a circle: the warning reads without
    /// colour (printed in black and white, or by the colour-blind).
    pub warn: bool,
    pub title: String,
    pub href: Option<String>,
}

/// A name written on the map (a district's, a street's), visible without
/// hovering; `class` sets its size.
pub struct Label<'a> {
    pub lon: f64,
    pub lat: f64,
    pub text: &'a str,
    pub class: &'a str,
}

/// Where to write an area's name: the middle of its points (the mean of a
/// ring's vertices, true enough for the compact cells of a city).
pub fn middle(g: &Value) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = rings(g)
        .into_iter()
        .flat_map(|mut r| {
            // A closed ring repeats its first point; count it once.
            if r.len() > 1 && r.first() == r.last() {
                r.pop();
            }
            r
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    let n = pts.len() as f64;
    Some((
        pts.iter().map(|p| p.0).sum::<f64>() / n,
        pts.iter().map(|p| p.1).sum::<f64>() / n,
    ))
}

fn rings(g: &Value) -> Vec<Vec<(f64, f64)>> {
    let ring = |r: &Value| {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect::<Vec<_>>()
    };
    match g.get("type").and_then(Value::as_str) {
        Some("Polygon") => g["coordinates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(ring)
            .collect(),
        Some("MultiPolygon") => g["coordinates"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p.as_array().into_iter().flatten().map(ring))
            .collect(),
        _ => vec![],
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG of areas (shaded) with dots on top and names over all, `width`
/// pixels wide.
pub fn svg(areas: &[Area], dots: &[Dot], labels: &[Label], width: f64, title: &str) -> String {
    let mut pts = areas
        .iter()
        .flat_map(|a| rings(a.geometry))
        .flatten()
        .collect::<Vec<_>>();
    pts.extend(dots.iter().map(|d| (d.lon, d.lat)));
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in &pts {
        x0 = x0.min(*x);
        y0 = y0.min(*y);
        x1 = x1.max(*x);
        y1 = y1.max(*y);
    }
    if pts.is_empty() {
        return format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} 40\" role=\"img\"><title>{}</title></svg>",
            esc(title)
        );
    }
    let kx = ((y0 + y1) / 2.0).to_radians().cos();
    let pad = 8.0;
    let scale = (width - 2.0 * pad) / ((x1 - x0) * kx).max(1e-9);
    let height = ((y1 - y0) * scale + 2.0 * pad).ceil();
    let px = |x: f64| pad + (x - x0) * kx * scale;
    let py = |y: f64| pad + (y1 - y) * scale;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"map\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for a in areas {
        let mut d = String::new();
        for ring in rings(a.geometry) {
            for (i, (x, y)) in ring.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if i == 0 { "M" } else { "L" },
                    px(*x),
                    py(*y)
                );
            }
            d.push('Z');
        }
        let level = (a.intensity.clamp(0.0, 1.0) * 5.0).round() as u8;
        let path = format!(
            "<path class=\"area s{level}\" d=\"{d}\"><title>{}</title></path>",
            esc(a.label)
        );
        match &a.href {
            Some(h) => {
                let _ = write!(out, "<a href=\"{}\">{path}</a>", esc(h));
            }
            None => out.push_str(&path),
        }
    }
    for d in dots {
        let (x, y) = (px(d.lon), py(d.lat));
        let c = if d.warn {
            format!(
                "<path class=\"dot {}\" d=\"M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z\"><title>{}</title></path>",
                esc(d.class),
                x,
                y - 6.0,
                x + 5.5,
                y + 4.0,
                x - 5.5,
                y + 4.0,
                esc(&d.title)
            )
        } else {
            format!(
                "<circle class=\"dot {}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\"><title>{}</title></circle>",
                esc(d.class),
                esc(&d.title)
            )
        };
        match &d.href {
            Some(h) => {
                let _ = write!(out, "<a href=\"{}\">{c}</a>", esc(h));
            }
            None => out.push_str(&c),
        }
    }
    // Names last, over everything, with a halo so they read on any shade.
    for l in labels {
        let _ = write!(
            out,
            "<text class=\"label {}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            esc(l.class),
            px(l.lon),
            py(l.lat),
            esc(l.text)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_shaded_areas_and_escaped_dots_in_frame() {
        let a = serde_json::json!({"type": "Polygon", "coordinates": [[[118.6, 31.2], [118.7, 31.2], [118.7, 31.3], [118.6, 31.3], [118.6, 31.2]]]});
        let s = svg(
            &[Area {
                geometry: &a,
                label: "第1网格",
                intensity: 1.0,
                href: Some("/cases?x=1&y=2".into()),
            }],
            &[Dot {
                lon: 118.65,
                lat: 31.25,
                class: "overdue",
                warn: true,
                title: "2026-000001 <垃圾>".into(),
                href: None,
            }],
            &[Label {
                lon: 118.65,
                lat: 31.28,
                text: "临江区",
                class: "district",
            }],
            400.0,
            "案件分布",
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("class=\"area s5\"") && s.contains("href=\"/cases?x=1&amp;y=2\""));
        assert!(s.contains("&lt;垃圾&gt;"), "titles are escaped");
        // The warning is a triangle around the middle of the square, and
        // the district's name is written, not left to a hover.
        assert!(s.contains("<path class=\"dot overdue\" d=\"M200.0,"), "{s}");
        assert!(s.contains(">临江区</text>"), "{s}");
        assert_eq!(
            middle(&a).map(|(x, y)| ((x * 100.0).round(), (y * 100.0).round())),
            Some((11865.0, 3125.0))
        );
    }
}
