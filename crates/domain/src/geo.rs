//! Geography. Coordinates are WGS-84 longitude/latitude everywhere inside.

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
