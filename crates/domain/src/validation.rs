//! Field-level input errors. Codes are stable identifiers; the web layer turns
//! each into words in the user's language through the message catalogue.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: impl Into<String>, code: &'static str) {
        self.0.push(FieldError {
            field: field.into(),
            code,
        });
    }
    pub fn single(field: impl Into<String>, code: &'static str) -> Self {
        let mut e = Self::new();
        e.add(field, code);
        e
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn for_field(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.code)
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(ok) } else { Err(self) }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.code))
            .collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

/// Trims a text field and checks its length in characters (not bytes: names
/// are Chinese). `None` when empty.
pub fn text(
    errors: &mut FieldErrors,
    field: &str,
    value: &str,
    required: bool,
    max_chars: usize,
) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            errors.add(field, "required");
        }
        return None;
    }
    if v.chars().count() > max_chars {
        errors.add(field, "too_long");
        return None;
    }
    Some(v.to_string())
}

/// Mainland mobile (11 digits starting with 1) or a landline with area code
/// (e.g. 0571-87654321). Separators and spaces are tolerated and removed.
pub fn phone(errors: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let normalized: String = v
        .chars()
        .map(full_to_half)
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits_only = normalized.chars().all(|c| c.is_ascii_digit());
    let mobile = normalized.len() == 11 && normalized.starts_with('1');
    let landline = normalized.starts_with('0') && (10..=12).contains(&normalized.len());
    let short = (5..=8).contains(&normalized.len()); // internal extensions, hotlines like 12345
    if digits_only && (mobile || landline || short) {
        Some(normalized)
    } else {
        errors.add(field, "invalid_phone");
        None
    }
}

/// Full-width ASCII (as typed by Chinese input methods) to half-width.
pub fn full_to_half(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The form in which names are compared for matching (units named in imported
/// tables, logins): full-width folded, whitespace removed, ASCII lowercased.
pub fn match_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    // NFKC folds full-width forms, compatibility ideographs and ligatures.
    s.nfkc()
        .map(full_to_half)
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_accepts_mobile_landline_and_hotline() {
        let mut e = FieldErrors::new();
        assert_eq!(
            phone(&mut e, "p", "138 0013 8000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            phone(&mut e, "p", "0571-87654321").as_deref(),
            Some("057187654321")
        );
        assert_eq!(phone(&mut e, "p", "１２３４５").as_deref(), Some("12345"));
        assert!(e.is_empty());
        assert_eq!(phone(&mut e, "p", "call me"), None);
        assert_eq!(e.for_field("p"), Some("invalid_phone"));
    }

    #[test]
    fn text_counts_characters_not_bytes() {
        let mut e = FieldErrors::new();
        let name = "城".repeat(10);
        assert_eq!(text(&mut e, "n", &name, true, 10), Some(name.clone()));
        assert_eq!(text(&mut e, "n", &format!("{name}城"), true, 10), None);
        assert_eq!(e.for_field("n"), Some("too_long"));
        let mut e = FieldErrors::new();
        assert_eq!(text(&mut e, "n", "   ", true, 10), None);
        assert_eq!(e.for_field("n"), Some("required"));
    }

    #[test]
    fn match_key_folds_width_and_space() {
        assert_eq!(match_key(" 市 城管局 "), match_key("市城管局"));
        assert_eq!(match_key("ＡＢＣ局"), match_key("abc局"));
    }
}
