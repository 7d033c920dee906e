//! The message catalogue: every string a user reads comes from here, in
//! zh-CN (the default) or English.

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }
    /// The first supported language in an Accept-Language header, by q.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut prefs: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let lang = Lang::parse(it.next()?)?;
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        prefs.first().map(|p| p.1)
    }
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

type Catalogue = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => panic!("message {key} must be a string, not {other}"),
        }
    }
}

fn load(source: &str) -> Catalogue {
    let table: toml::Table = toml::from_str(source).expect("the message catalogue is valid TOML");
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

static ZH: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../locales/zh-CN.toml")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../locales/en.toml")));

/// The message for `key`. A missing key shows a fixed marker and is logged
/// with its name, so it is noticed (and the key tests fail) rather than
/// rendering blank; nothing is allocated for it, so keys built from request
/// data cannot grow the process's memory.
pub const MISSING: &str = "(missing text)";

pub fn t(lang: Lang, key: &str) -> &'static str {
    let cat: &'static Catalogue = match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    };
    match cat.get(key) {
        Some(s) => s.as_str(),
        None => {
            tracing::warn!(key, lang = lang.code(), "missing message");
            MISSING
        }
    }
}

pub fn has(lang: Lang, key: &str) -> bool {
    match lang {
        Lang::Zh => ZH.contains_key(key),
        Lang::En => EN.contains_key(key),
    }
}

/// `{name}` placeholders filled from pairs.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// A field error code in words (`required` → "This field is required."),
/// or the code itself where the catalogue has no words for it.
pub fn field_message(lang: Lang, code: &str) -> String {
    let key = format!("field_error.{code}");
    if has(lang, &key) {
        t(lang, &key).to_string()
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let mut zh: Vec<&String> = ZH.keys().collect();
        let mut en: Vec<&String> = EN.keys().collect();
        zh.sort();
        en.sort();
        let only_zh: Vec<_> = zh.iter().filter(|k| !EN.contains_key(k.as_str())).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !ZH.contains_key(k.as_str())).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "zh only: {only_zh:?}; en only: {only_en:?}"
        );
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"));
        let mut missing = vec![];
        // Every file under the templates and the code, folders and all.
        let mut files = vec![];
        let mut folders = vec![
            std::path::PathBuf::from(format!("{dir}/templates")),
            std::path::PathBuf::from(format!("{dir}/src")),
        ];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        assert!(files.len() > 50, "the walk finds the templates and code");
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("t(\"") {
                let rest = &text[i + 3..];
                let key = &rest[..rest.find('"').unwrap()];
                if key.contains('.') && !key.ends_with('.') && !has(Lang::Zh, key) {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
        assert!(missing.is_empty(), "missing messages: {missing:?}");
    }

    /// Generated from the lists the audit log is written from (the store
    /// refuses, in tests, to write an action or kind not in them).
    #[test]
    fn every_audit_action_and_record_kind_has_words_in_both_languages() {
        use wenming_domain::audit::{ACTIONS, ENTITY_TYPES};
        use wenming_domain::case::STEP_CODES;
        let mut missing = vec![];
        for lang in [Lang::Zh, Lang::En] {
            let keys = ENTITY_TYPES
                .iter()
                .map(|k| format!("audit_entity.{k}"))
                .chain(ACTIONS.iter().map(|a| format!("audit_action.{a}")))
                .chain(STEP_CODES.iter().map(|s| format!("case_step.{s}")));
            for key in keys {
                if !has(lang, &key) {
                    missing.push(format!("{}: {key}", lang.code()));
                }
            }
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
    }

    /// Every value of every enumeration a page shows has its words in both
    /// languages, so an English page never shows a Chinese term or a code.
    #[test]
    fn every_enumeration_a_page_shows_is_translated() {
        use wenming_domain::{account, case, framework, inspection, org, task};
        let mut keys: Vec<String> = vec![];
        let mut add = |family: &str, codes: &mut dyn Iterator<Item = &'static str>| {
            keys.extend(codes.map(|c| format!("{family}.{c}")));
        };
        add(
            "method",
            &mut framework::Method::ALL.iter().map(|m| m.code()),
        );
        add(
            "evidence_type",
            &mut framework::EvidenceType::ALL.iter().map(|m| m.code()),
        );
        add(
            "sanction",
            &mut framework::Sanction::ALL.iter().map(|m| m.code()),
        );
        add(
            "framework_status",
            &mut framework::FrameworkStatus::ALL.iter().map(|m| m.code()),
        );
        add(
            "case_state",
            &mut case::CaseState::ALL.iter().map(|m| m.code()),
        );
        add(
            "case_source",
            &mut case::Source::ALL.iter().map(|m| m.code()),
        );
        add(
            "round_kind",
            &mut inspection::RoundKind::ALL.iter().map(|m| m.code()),
        );
        add(
            "region_level",
            &mut org::RegionLevel::ALL.iter().map(|m| m.code()),
        );
        add(
            "unit_kind",
            &mut org::UnitKind::ALL.iter().map(|m| m.code()),
        );
        add("role", &mut account::Role::ALL.iter().map(|m| m.code()));
        add(
            "task_state",
            &mut task::TaskState::ALL.iter().map(|m| m.code()),
        );
        let mut missing = vec![];
        for lang in [Lang::Zh, Lang::En] {
            for k in &keys {
                if !has(lang, k) {
                    missing.push(format!("{}: {k}", lang.code()));
                }
            }
        }
        assert!(missing.is_empty(), "missing: {missing:?}");
        // English words for English pages: no Chinese punctuation.
        let full_width: Vec<&String> = EN
            .iter()
            .filter(|(k, v)| !k.ends_with("_hint") && v.contains(['：', '（', '）', '，', '。']))
            .map(|(k, _)| k)
            .collect();
        assert!(
            full_width.is_empty(),
            "full-width punctuation in English: {full_width:?}"
        );
    }

    #[test]
    fn accept_language_picks_by_quality() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, zh-TW;q=0.5, en;q=0.4"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("fr"), None);
    }

    #[test]
    fn a_missing_key_shows_a_marker_and_costs_nothing() {
        assert_eq!(t(Lang::En, "no_such.key_for_the_test"), MISSING);
        assert_eq!(t(Lang::Zh, "case.number"), "案件编号");
    }
}
