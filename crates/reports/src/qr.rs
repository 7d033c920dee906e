//! A link as a QR code to print on a poster or a card: SVG, black on
//! white with its quiet zone, sized by the page.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The QR code of `text` as an SVG element that fills its box (no fixed
/// size); medium error correction, which survives a smudged print.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Drop the XML declaration and the fixed size so the page sizes it.
    let start = image.find("<svg")?;
    let s = &image[start..];
    let end = s.find('>')?;
    let head: String = s[..end]
        .split(' ')
        .filter(|a| !a.starts_with("width=") && !a.starts_with("height="))
        .collect::<Vec<_>>()
        .join(" ");
    Some(format!("{head} role=\"img\"{}", &s[end..]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_becomes_a_scalable_svg() {
        let s = super::svg("https://wm.example.cn/s/0190/0191").unwrap();
        assert!(s.starts_with("<svg"), "{s}");
        let open = &s[..s.find('>').unwrap()];
        assert!(open.contains("viewBox"), "{open}");
        assert!(
            !open.contains("width=") && !open.contains("height="),
            "{open}"
        );
        assert!(s.ends_with("</svg>"));
    }
}
