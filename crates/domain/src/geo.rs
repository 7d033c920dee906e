//! Geography. Coordinates are WGS-84 longitude/latitude everywhere inside.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Accepts a GeoJSON Polygon or MultiPolygon (bare, or wrapped in a Feature),
/// checks every position is a WGS-84 lon/lat inside China's rough bounding box
/// and every ring is closed, and returns the bare geometry. The error is a
/// field error code.
pub fn parse_boundary(text: &str) -> Result<Value, &'static str> {
    let v: Value = serde_json::from_str(text).map_err(|_| "invalid_json")?;
    let geometry = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").cloned().ok_or("boundary_not_polygon")?,
        _ => v,
    };
    let polygons: Vec<&Value> = match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => vec![geometry.get("coordinates").ok_or("boundary_not_polygon")?],
        Some("MultiPolygon") => geometry
            .get("coordinates")
            .and_then(Value::as_array)
            .ok_or("boundary_not_polygon")?
            .iter()
            .collect(),
        _ => return Err("boundary_not_polygon"),
    };
    for polygon in polygons {
        let rings = polygon.as_array().ok_or("boundary_not_polygon")?;
        if rings.is_empty() {
            return Err("boundary_not_polygon");
        }
        for ring in rings {
            let points = ring.as_array().ok_or("boundary_not_polygon")?;
            if points.len() < 4 {
                return Err("boundary_ring_too_short");
            }
            let mut parsed = Vec::with_capacity(points.len());
            for p in points {
                let pair = p.as_array().ok_or("boundary_not_polygon")?;
                let lon = pair
                    .first()
                    .and_then(Value::as_f64)
                    .ok_or("boundary_not_polygon")?;
                let lat = pair
                    .get(1)
                    .and_then(Value::as_f64)
                    .ok_or("boundary_not_polygon")?;
                if !(73.0..=136.0).contains(&lon) || !(3.0..=54.0).contains(&lat) {
                    return Err("boundary_outside_china");
                }
                parsed.push((lon, lat));
            }
            if parsed.first() != parsed.last() {
                return Err("boundary_ring_not_closed");
            }
        }
    }
    Ok(geometry)
}

/// A site's line (a road, a lane) or area (a market, a park): a GeoJSON
/// LineString or Polygon (bare or as a Feature) inside China. Areas are
/// checked as boundaries are.
pub fn parse_shape(text: &str) -> Result<Value, &'static str> {
    let v: Value = serde_json::from_str(text).map_err(|_| "invalid_json")?;
    let geometry = match v.get("type").and_then(Value::as_str) {
        Some("Feature") => v.get("geometry").cloned().ok_or("shape_not_line_or_area")?,
        _ => v,
    };
    match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => parse_boundary(&geometry.to_string()),
        Some("LineString") => {
            let points = geometry
                .get("coordinates")
                .and_then(Value::as_array)
                .ok_or("shape_not_line_or_area")?;
            if points.len() < 2 {
                return Err("shape_not_line_or_area");
            }
            for p in points {
                let lon = p
                    .get(0)
                    .and_then(Value::as_f64)
                    .ok_or("shape_not_line_or_area")?;
                let lat = p
                    .get(1)
                    .and_then(Value::as_f64)
                    .ok_or("shape_not_line_or_area")?;
                if !(73.0..=136.0).contains(&lon) || !(3.0..=54.0).contains(&lat) {
                    return Err("boundary_outside_china");
                }
            }
            Ok(geometry)
        }
        _ => Err("shape_not_line_or_area"),
    }
}

/// A closed rectangular ring, as GeoJSON, for generated boundaries.
pub fn rectangle(min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64) -> Value {
    serde_json::json!({
        "type": "Polygon",
        "coordinates": [[
            [min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat],
            [min_lon, max_lat], [min_lon, min_lat]
        ]]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_polygon_and_feature_wrapped_multipolygon() {
        let r = rectangle(120.0, 30.0, 120.1, 30.1);
        assert_eq!(parse_boundary(&r.to_string()).unwrap(), r);
        let f = serde_json::json!({"type":"Feature","properties":{},"geometry":{
            "type":"MultiPolygon","coordinates":[r["coordinates"].clone()]}});
        assert_eq!(
            parse_boundary(&f.to_string()).unwrap()["type"],
            "MultiPolygon"
        );
    }

    #[test]
    fn rejects_open_rings_swapped_axes_and_points() {
        let open =
            r#"{"type":"Polygon","coordinates":[[[120,30],[120.1,30],[120.1,30.1],[120,30.1]]]}"#;
        assert_eq!(parse_boundary(open), Err("boundary_ring_not_closed"));
        let swapped = rectangle(30.0, 120.0, 30.1, 120.1).to_string();
        assert_eq!(parse_boundary(&swapped), Err("boundary_outside_china"));
        assert_eq!(
            parse_boundary(r#"{"type":"Point","coordinates":[120,30]}"#),
            Err("boundary_not_polygon")
        );
        assert_eq!(parse_boundary("{"), Err("invalid_json"));
    }
}

/// A WGS-84 point: longitude, latitude.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub lon: f64,
    pub lat: f64,
}

impl Point {
    /// Valid WGS-84 and inside China's rough bounding box.
    pub fn parse(lon: f64, lat: f64) -> Result<Point, &'static str> {
        if !lon.is_finite()
            || !lat.is_finite()
            || !(-180.0..=180.0).contains(&lon)
            || !(-90.0..=90.0).contains(&lat)
        {
            return Err("invalid_coordinates");
        }
        if !(73.0..=136.0).contains(&lon) || !(3.0..=54.0).contains(&lat) {
            return Err("outside_china");
        }
        Ok(Point { lon, lat })
    }

    /// A point typed into a form's two fields: `None` when both are empty,
    /// an error on the `lon` field when they do not make a point.
    pub fn from_fields(e: &mut crate::FieldErrors, lon: &str, lat: &str) -> Option<Point> {
        match (lon.trim(), lat.trim()) {
            ("", "") => None,
            (lon, lat) => match (lon.parse::<f64>(), lat.parse::<f64>()) {
                (Ok(lon), Ok(lat)) => match Point::parse(lon, lat) {
                    Ok(p) => Some(p),
                    Err(code) => {
                        e.add("lon", code);
                        None
                    }
                },
                _ => {
                    e.add("lon", "invalid_coordinates");
                    None
                }
            },
        }
    }

    /// Great-circle distance in metres (haversine), for duplicates and
    /// photos taken away from the case.
    pub fn distance_m(self, other: Point) -> f64 {
        let r = 6_371_008.8;
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = (other.lat - self.lat).to_radians();
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * r * a.sqrt().asin()
    }
}

fn rings_of(geometry: &Value) -> Vec<Vec<Vec<(f64, f64)>>> {
    let ring = |r: &Value| -> Vec<(f64, f64)> {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect()
    };
    let polygon = |p: &Value| -> Vec<Vec<(f64, f64)>> {
        p.as_array().into_iter().flatten().map(ring).collect()
    };
    match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon") => vec![polygon(&geometry["coordinates"])],
        Some("MultiPolygon") => geometry["coordinates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(polygon)
            .collect(),
        _ => vec![],
    }
}

fn on_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> bool {
    let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
    cross.abs() < 1e-12
        && p.0 >= a.0.min(b.0) - 1e-12
        && p.0 <= a.0.max(b.0) + 1e-12
        && p.1 >= a.1.min(b.1) - 1e-12
        && p.1 <= a.1.max(b.1) + 1e-12
}

/// Whether a boundary holds a point. A point exactly on an edge counts as
/// inside (intersects), so a case on a street between two grid cells lands
/// in one of them rather than in neither; callers take the first match in a
/// stable order.
pub fn contains(geometry: &Value, p: Point) -> bool {
    Shape::of(geometry).contains(p)
}

/// A boundary read once for many point tests: its rings and bounding box.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    polygons: Vec<Vec<Vec<(f64, f64)>>>,
    min: (f64, f64),
    max: (f64, f64),
}

impl Shape {
    pub fn of(geometry: &Value) -> Shape {
        let polygons = rings_of(geometry);
        let (mut min, mut max) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for p in polygons.iter().flatten().flatten() {
            min = (min.0.min(p.0), min.1.min(p.1));
            max = (max.0.max(p.0), max.1.max(p.1));
        }
        Shape { polygons, min, max }
    }

    /// Inside or on the edge (a point on a shared border belongs to both).
    pub fn contains(&self, p: Point) -> bool {
        let pt = (p.lon, p.lat);
        if pt.0 < self.min.0 || pt.0 > self.max.0 || pt.1 < self.min.1 || pt.1 > self.max.1 {
            return false;
        }
        self.polygons.iter().any(|polygon| {
            let Some((outer, holes)) = polygon.split_first() else {
                return false;
            };
            let inside = |ring: &Vec<(f64, f64)>| {
                let mut c = false;
                for i in 0..ring.len() {
                    let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                    if on_segment(pt, a, b) {
                        return Some(true);
                    }
                    if (a.1 > pt.1) != (b.1 > pt.1)
                        && pt.0 < (b.0 - a.0) * (pt.1 - a.1) / (b.1 - a.1) + a.0
                    {
                        c = !c;
                    }
                }
                Some(c)
            };
            inside(outer) == Some(true)
                && !holes.iter().any(|h| {
                    // On a hole's edge is still inside the polygon.
                    let on_edge = (0..h.len()).any(|i| on_segment(pt, h[i], h[(i + 1) % h.len()]));
                    !on_edge && inside(h) == Some(true)
                })
        })
    }
}

#[cfg(test)]
mod point_tests {
    use super::*;

    #[test]
    fn points_in_rectangles_holes_and_on_edges() {
        let r = rectangle(120.0, 30.0, 120.1, 30.1);
        assert!(contains(
            &r,
            Point {
                lon: 120.05,
                lat: 30.05
            }
        ));
        assert!(!contains(
            &r,
            Point {
                lon: 120.2,
                lat: 30.05
            }
        ));
        assert!(
            contains(
                &r,
                Point {
                    lon: 120.1,
                    lat: 30.05
                }
            ),
            "on the edge counts"
        );
        assert!(
            contains(
                &r,
                Point {
                    lon: 120.0,
                    lat: 30.0
                }
            ),
            "on a corner counts"
        );
        let with_hole = serde_json::json!({"type": "Polygon", "coordinates": [
            r["coordinates"][0].clone(),
            [[120.04, 30.04], [120.06, 30.04], [120.06, 30.06], [120.04, 30.06], [120.04, 30.04]]
        ]});
        assert!(!contains(
            &with_hole,
            Point {
                lon: 120.05,
                lat: 30.05
            }
        ));
        assert!(contains(
            &with_hole,
            Point {
                lon: 120.02,
                lat: 30.02
            }
        ));
    }

    #[test]
    fn coordinates_are_checked_and_distances_are_metres() {
        assert_eq!(Point::parse(30.0, 120.0), Err("invalid_coordinates"));
        assert_eq!(Point::parse(2.35, 48.85), Err("outside_china"));
        let a = Point::parse(118.70, 31.30).unwrap();
        let b = Point {
            lon: 118.70,
            lat: 31.30 + 50.0 / 111_195.0,
        };
        assert!((a.distance_m(b) - 50.0).abs() < 0.5);
    }
}

#[cfg(test)]
mod shape_tests {
    use super::parse_shape;

    #[test]
    fn a_site_shape_is_a_line_or_an_area_inside_china() {
        let line = r#"{"type":"LineString","coordinates":[[118.60,24.90],[118.62,24.91]]}"#;
        assert_eq!(parse_shape(line).unwrap()["type"], "LineString");
        let area = r#"{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[118.6,24.9],[118.61,24.9],[118.61,24.91],[118.6,24.9]]]}}"#;
        assert_eq!(parse_shape(area).unwrap()["type"], "Polygon");
        assert_eq!(
            parse_shape(r#"{"type":"Point","coordinates":[118.6,24.9]}"#),
            Err("shape_not_line_or_area")
        );
        assert_eq!(
            parse_shape(r#"{"type":"LineString","coordinates":[[2.3,48.8],[2.4,48.9]]}"#),
            Err("boundary_outside_china")
        );
        assert_eq!(parse_shape("not json"), Err("invalid_json"));
    }
}
