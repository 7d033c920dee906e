//! Charts as SVG drawn on the server with plotters (its SVG backend only:
//! text is written as SVG text in the page's fonts, so nothing is loaded
//! at run time). Every point carries its number as well as its place: a
//! printed page or a colour-blind reader loses nothing.

use plotters::prelude::*;
use plotters::style::FontFamily;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The CJK font list of the pages (UI.md), for text inside the SVG.
const FONTS: &str =
    "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Source Han Sans SC, sans-serif";

/// One point of a trend: its label on the x axis (a date), the value and
/// the interval around it.
pub struct TrendPoint<'a> {
    pub label: &'a str,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// A line of values over time with its interval as a shaded band, each
/// point labelled with its value (one decimal). `y_label` names the axis.
/// Empty when there is nothing to draw.
pub fn trend(points: &[TrendPoint<'_>], y_label: &str, width: u32, height: u32) -> String {
    if points.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    // A chart that cannot be drawn is left out; the table beside it holds
    // the same numbers.
    if draw_trend(&mut out, points, y_label, width, height).is_err() {
        return String::new();
    }
    out
}

fn draw_trend(
    out: &mut String,
    points: &[TrendPoint<'_>],
    y_label: &str,
    width: u32,
    height: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let lows = points.iter().map(|p| p.low.min(p.value));
    let highs = points.iter().map(|p| p.high.max(p.value));
    let (lo, hi) = (
        lows.fold(f64::INFINITY, f64::min),
        highs.fold(f64::NEG_INFINITY, f64::max),
    );
    // Whole points around the data, at least five wide, so that a flat
    // trend is not drawn as noise blown up to the full height.
    let mut y0 = (lo - 1.0).floor();
    let mut y1 = (hi + 1.0).ceil();
    if y1 - y0 < 5.0 {
        let mid = (y0 + y1) / 2.0;
        y0 = (mid - 2.5).floor();
        y1 = y0 + 5.0;
    }
    let n = points.len();
    // One point alone still gets an axis with room either side.
    let x0 = -0.5;
    let x1 = n as f64 - 0.5;
    let font = |size: f64| (FontFamily::Name(FONTS), size).into_font();
    {
        let root = SVGBackend::with_string(out, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        // About a label per 100 px: more would overlap; the table below
        // the chart has every date.
        let step = n.div_ceil((width as usize / 100).max(2));
        let label_of = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6
                && i >= 0.0
                && (i as usize) < n
                && (i as usize).is_multiple_of(step)
            {
                points[i as usize].label.to_string()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&label_of)
            .y_labels(6)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc(y_label)
            .label_style(font(12.0))
            .axis_desc_style(font(12.0))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(210, 210, 210))
            .draw()?;
        let band: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (i as f64, p.high))
            .chain(
                points
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, p)| (i as f64, p.low)),
            )
            .collect();
        let ink = RGBColor(31, 78, 121);
        chart.draw_series(std::iter::once(Polygon::new(band, ink.mix(0.18))))?;
        // Each interval also as a whisker, so it reads where one snapshot
        // stands alone and the band has no width.
        chart.draw_series(points.iter().enumerate().map(|(i, p)| {
            PathElement::new(vec![(i as f64, p.low), (i as f64, p.high)], ink.mix(0.6))
        }))?;
        let line: Vec<(f64, f64)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (i as f64, p.value))
            .collect();
        chart.draw_series(LineSeries::new(line.clone(), ink.stroke_width(2)))?;
        chart.draw_series(
            line.iter()
                .map(|&(x, y)| Circle::new((x, y), 3, ink.filled())),
        )?;
        let text = font(12.0).color(&BLACK);
        // The value just above its point, clear of the line.
        chart.draw_series(line.iter().map(|&(x, y)| {
            EmptyElement::at((x, y))
                + Text::new(
                    format!("{y:.1}"),
                    (0, -6),
                    text.clone().pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
        }))?;
        root.present()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(label: &str, value: f64) -> TrendPoint<'_> {
        TrendPoint {
            label,
            value,
            low: value - 2.0,
            high: value + 2.0,
        }
    }

    #[test]
    fn a_trend_writes_every_value_and_date_as_text() {
        let svg = trend(
            &[p("2026-10-01", 81.3), p("2026-11-01", 83.4)],
            "Projected score",
            640,
            240,
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in [
            "81.3",
            "83.4",
            "2026-10-01",
            "2026-11-01",
            "Projected score",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.contains("PingFang SC"), "pages' fonts");
    }

    #[test]
    fn a_single_snapshot_is_drawn_and_nothing_is_nothing() {
        let svg = trend(&[p("2026-11-01", 83.4)], "分", 640, 240);
        assert!(svg.contains("83.4") && svg.contains("2026-11-01"));
        assert!(trend(&[], "分", 640, 240).is_empty());
    }

    #[test]
    fn a_narrow_chart_leaves_out_dates_rather_than_overlap_them() {
        let days: Vec<String> = (1..=12).map(|m| format!("2026-{m:02}-01")).collect();
        let points: Vec<TrendPoint> = days.iter().map(|d| p(d, 80.0)).collect();
        let narrow = trend(&points, "分", 360, 220);
        let shown = days.iter().filter(|d| narrow.contains(d.as_str())).count();
        assert!((2..=4).contains(&shown), "{shown} dates on 360 px");
        let wide = trend(&points, "分", 1200, 240);
        assert_eq!(
            days.iter().filter(|d| wide.contains(d.as_str())).count(),
            12
        );
    }
}
