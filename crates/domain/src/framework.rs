//! The evaluation framework (测评体系): a versioned tree of aspects,
//! indicators, contents and scored standards, with the settings that turn
//! standard results into an annual score. Data, never code.

use crate::validation::match_key;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Points in hundredths, so that 0.5 + 0.25 adds up exactly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(pub i64);

impl Points {
    pub fn parse(s: &str) -> Option<Points> {
        let t = s.trim().trim_end_matches('分').trim();
        let v: f64 = t.parse().ok()?;
        if !v.is_finite() || !(0.0..=100_000.0).contains(&v) {
            return None;
        }
        let h = (v * 100.0).round();
        ((v * 100.0 - h).abs() < 1e-6).then_some(Points(h as i64))
    }
    pub fn from_f64(v: f64) -> Option<Points> {
        Points::parse(&v.to_string())
    }
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }
}

impl std::fmt::Display for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (i, r) = (self.0 / 100, self.0 % 100);
        match r {
            0 => write!(f, "{i}"),
            r if r % 10 == 0 => write!(f, "{i}.{}", r / 10),
            r => write!(f, "{i}.{r:02}"),
        }
    }
}

impl Serialize for Points {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(f64),
            S(String),
        }
        let parsed = match Raw::deserialize(d)? {
            Raw::N(n) => Points::from_f64(n),
            Raw::S(s) => Points::parse(&s),
        };
        parsed.ok_or_else(|| {
            serde::de::Error::custom("points must be a number with at most two decimals")
        })
    }
}

macro_rules! labelled_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal / $zh:literal $(| $alias:literal)*),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// The name official tables use.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
            /// From a code, the official name, or a common variant of it.
            pub fn parse(s: &str) -> Option<Self> {
                let k = match_key(s);
                $(
                    if k == $code || k == match_key($zh) $(|| k == match_key($alias))* {
                        return Some($name::$variant);
                    }
                )+
                None
            }
        }
    };
}

labelled_enum!(
    /// 测评方法
    Method {
        MaterialReview = "material_review" / "材料审核" | "材料审查" | "网上申报",
        SiteInspection = "site_inspection" / "实地考察" | "实地察看" | "实地检查" | "实地测评",
        Survey = "survey" / "问卷调查" | "入户调查",
        OnlineSurvey = "online_survey" / "网络调查" | "网上调查",
        Briefing = "briefing" / "听取汇报",
        OverallObservation = "overall_observation" / "整体观察",
        Statistics = "statistics" / "数据采集" | "部门数据" | "统计数据" | "部门统计",
    }
);

labelled_enum!(
    /// 材料类型: what kind of evidence proves a standard.
    EvidenceType {
        PolicyDocument = "policy_document" / "规范文件" | "文件",
        Statement = "statement" / "情况说明" | "说明",
        Photo = "photo" / "实景图片" | "图片" | "照片",
        StatisticsTable = "statistics_table" / "统计表格" | "表格",
    }
);

labelled_enum!(
    FrameworkStatus {
        Draft = "draft" / "草稿",
        Active = "active" / "启用",
        Retired = "retired" / "停用",
    }
);

labelled_enum!(
    /// 负面清单 sanctions, from mild to severe.
    Sanction {
        DeductPoints = "deduct_points" / "扣分",
        StopNomination = "stop_nomination" / "取消提名资格" | "取消参评资格",
        Suspend = "suspend" / "暂停称号" | "暂停资格",
        Revoke = "revoke" / "撤销称号" | "取消称号",
    }
);

labelled_enum!(
    NodeKind {
        Aspect = "aspect" / "测评项目",
        Indicator = "indicator" / "指标",
        Content = "content" / "测评内容",
        Standard = "standard" / "测评标准",
    }
);

/// Splits "材料审核、问卷调查" (or with ，,;；/ or spaces) into methods; the
/// error is the first name that is not a method.
pub fn parse_list<T>(text: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, String>
where
    T: PartialEq,
{
    let mut out = vec![];
    for part in text
        .split(['、', '，', ',', ';', '；', '/', '／', '\n'])
        .map(str::trim)
    {
        if part.is_empty() {
            continue;
        }
        let v = parse(part).ok_or_else(|| part.to_string())?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedPart {
    pub name: String,
    /// Percent of the whole.
    pub weight: Points,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// e.g. 未成年人思想道德建设测评
    pub name: String,
    /// The score the linked evaluation must reach.
    pub min_score: Points,
    /// Percent of the total it counts for.
    pub weight: Points,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegativeListRule {
    pub code: String,
    pub rule: String,
    pub sanction: Sanction,
    /// For `deduct_points`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduct: Option<Points>,
    pub lookback_months: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// How an annual score is made, e.g. materials 40 / on-site 40 / questionnaire 20.
    #[serde(default)]
    pub method_weights: Vec<WeightedPart>,
    /// Year weights over a cycle, e.g. 15 / 25 / 60.
    #[serde(default)]
    pub cycle_weights: Vec<Points>,
    #[serde(default)]
    pub gates: Vec<Gate>,
    #[serde(default)]
    pub negative_list: Vec<NegativeListRule>,
}

/// A scored leaf.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StandardSpec {
    #[serde(default)]
    pub points: Points,
    pub methods: Vec<Method>,
    #[serde(default)]
    pub featured: bool,
    #[serde(default)]
    pub site_types: Vec<String>,
    #[serde(default)]
    pub evidence_types: Vec<EvidenceType>,
    /// Unit names as written; matched to the registry on import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_unit: Option<String>,
    #[serde(default)]
    pub cooperating_units: Vec<String>,
    /// How it is observed on site; none means met or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observation: Option<crate::site::Observation>,
    /// The materials that prove it (材料要求); none: one per evidence type,
    /// made when the framework is activated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<RequirementSpec>,
}

/// A material requirement as the framework's portable form carries it:
/// the type, what it must show, how many, and where wenming builds it from
/// when it does. Who provides it and by when are the city's own, not the
/// framework's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementSpec {
    pub evidence_type: EvidenceType,
    pub title: String,
    #[serde(default = "one")]
    pub needed: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<crate::source::Source>,
}

fn one() -> i64 {
    1
}

/// One node of the tree in the portable (JSON) form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeDoc {
    pub kind: NodeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub title: String,
    /// Declared points of an upper-level node; its standards must add up to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Points>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<StandardSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<NodeDoc>,
}

pub const FORMAT: &str = "wenming-framework/1";

/// A whole framework version, as exported and imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkDoc {
    #[serde(default = "format_name")]
    pub format: String,
    pub name: String,
    pub year: i32,
    #[serde(default = "draft")]
    pub status: FrameworkStatus,
    /// Declared totals the standards must add up to (e.g. 100 and 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_total: Option<Points>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub featured_total: Option<Points>,
    #[serde(default)]
    pub settings: Settings,
    pub tree: Vec<NodeDoc>,
}

fn format_name() -> String {
    FORMAT.into()
}
fn draft() -> FrameworkStatus {
    FrameworkStatus::Draft
}

/// Where a problem is: a path of codes in the tree, or a spreadsheet cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// "测评体系!D12", or a node code, or a settings field.
    pub place: String,
    pub code: &'static str,
    /// The offending value or a detail, as given.
    pub detail: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.code)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// A leading number in a title, as official tables write them: "1.2 标题",
/// "1.2、标题", "3．标题". Returns the code and the rest.
pub fn split_numbered_title(title: &str) -> (Option<String>, String) {
    let t = title.trim();
    let mut end = 0;
    let bytes: Vec<char> = t.chars().collect();
    while end < bytes.len()
        && (bytes[end].is_ascii_digit() || bytes[end] == '.' || bytes[end] == '．')
    {
        end += 1;
    }
    if end == 0 {
        return (None, t.to_string());
    }
    let code: String = bytes[..end]
        .iter()
        .map(|c| if *c == '．' { '.' } else { *c })
        .collect();
    let trailing_dot = code.ends_with('.');
    let code = code.trim_end_matches('.').to_string();
    let next = bytes.get(end).copied();
    let separated = matches!(next, Some('、' | ' ' | '\u{3000}' | ')' | '）'));
    // "2026年" or "1.5倍" are words, not numbering.
    let dotted =
        code.contains('.') && !matches!(next, Some('倍' | '%' | '％' | '万' | '元' | '个'));
    if !(separated || trailing_dot || dotted) {
        return (None, t.to_string());
    }
    let rest: String = bytes[end..].iter().collect();
    let rest = rest
        .trim_start_matches(['、', ' ', '\u{3000}', ')', '）'])
        .trim()
        .to_string();
    if code.is_empty() || code.split('.').any(str::is_empty) || rest.is_empty() {
        return (None, t.to_string());
    }
    (Some(code), rest)
}

/// Gives every node a code: its own, one written at the start of its title,
/// or its position under its parent ("2.3.1"). Positional codes depend only
/// on the table's order, so the same table always gets the same codes.
pub fn assign_codes(tree: &mut [NodeDoc]) {
    fn walk(nodes: &mut [NodeDoc], prefix: &str) {
        for (i, n) in nodes.iter_mut().enumerate() {
            if n.code.as_deref().is_none_or(|c| c.trim().is_empty()) {
                let (code, rest) = split_numbered_title(&n.title);
                // A number is a code only where it fits the tree: under "1.2"
                // it must read "1.2.x"; at the top, a short number. So "12345
                // 政务服务热线" keeps its words and gets a positional code.
                let fits = |c: &String| {
                    if prefix.is_empty() {
                        c.len() <= 3 && !c.contains('.')
                    } else {
                        c.starts_with(&format!("{prefix}."))
                    }
                };
                match code.filter(fits) {
                    Some(c) => {
                        n.code = Some(c);
                        n.title = rest;
                    }
                    None => {
                        n.code = Some(if prefix.is_empty() {
                            format!("{}", i + 1)
                        } else {
                            format!("{prefix}.{}", i + 1)
                        });
                    }
                }
            }
            let code = n.code.clone().unwrap_or_default();
            walk(&mut n.children, &code);
        }
    }
    walk(tree, "");
}

fn depth_ok(kind: NodeKind, depth: usize) -> bool {
    match kind {
        NodeKind::Aspect => depth == 1,
        NodeKind::Indicator => depth == 2,
        NodeKind::Content => depth == 2 || depth == 3,
        NodeKind::Standard => (2..=4).contains(&depth),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub basic: Points,
    pub featured: Points,
    pub standards: usize,
}

/// Checks a whole framework: structure, codes, standards, points and
/// settings. Every problem is reported, not just the first.
pub fn validate(doc: &FrameworkDoc) -> Result<Totals, Vec<Problem>> {
    let mut problems = vec![];
    let mut p = |place: &str, code: &'static str, detail: &str| {
        problems.push(Problem {
            place: place.to_string(),
            code,
            detail: detail.to_string(),
        })
    };
    if doc.name.trim().is_empty() {
        p("name", "required", "");
    }
    if !(1990..=2100).contains(&doc.year) {
        p("year", "invalid_year", &doc.year.to_string());
    }
    if doc.tree.is_empty() {
        p("tree", "no_standards", "");
    }
    let mut seen = HashSet::new();
    let mut totals = Totals {
        basic: Points(0),
        featured: Points(0),
        standards: 0,
    };
    // (place, code, detail) collected while walking; borrowck keeps `p` out.
    let mut found: Vec<(String, &'static str, String)> = vec![];
    fn walk(
        nodes: &[NodeDoc],
        depth: usize,
        seen: &mut HashSet<String>,
        totals: &mut Totals,
        found: &mut Vec<(String, &'static str, String)>,
    ) -> Points {
        let mut sum = Points(0);
        for n in nodes {
            let code = n.code.clone().unwrap_or_default();
            let place = if code.is_empty() {
                n.title.chars().take(20).collect()
            } else {
                code.clone()
            };
            if code.is_empty() {
                found.push((place.clone(), "required_code", String::new()));
            } else if !seen.insert(code.clone()) {
                found.push((place.clone(), "duplicate_code", code.clone()));
            }
            if n.title.trim().is_empty() {
                found.push((place.clone(), "required", "title".into()));
            }
            if n.title.chars().count() > 2000 {
                found.push((place.clone(), "too_long", "title".into()));
            }
            if !depth_ok(n.kind, depth) {
                found.push((
                    place.clone(),
                    "wrong_level",
                    format!("{} at level {depth}", n.kind.zh()),
                ));
            }
            match (n.kind, &n.standard) {
                (NodeKind::Standard, Some(s)) => {
                    if !n.children.is_empty() {
                        found.push((place.clone(), "standard_has_children", String::new()));
                    }
                    if s.methods.is_empty() {
                        found.push((place.clone(), "required", "methods".into()));
                    }
                    for (i, r) in s.requirements.iter().enumerate() {
                        let at = format!("{place} 材料要求{}", i + 1);
                        if r.title.trim().is_empty() {
                            found.push((at.clone(), "required", "title".into()));
                        }
                        if !(1..=100).contains(&r.needed) {
                            found.push((at.clone(), "out_of_range", r.needed.to_string()));
                        }
                        if r.source
                            .as_ref()
                            .is_some_and(|src| !src.fits(r.evidence_type))
                        {
                            found.push((at, "source_does_not_fit", r.evidence_type.zh().into()));
                        }
                    }
                    totals.standards += 1;
                    if s.featured {
                        totals.featured.0 += s.points.0;
                    } else {
                        totals.basic.0 += s.points.0;
                    }
                    sum.0 += s.points.0;
                }
                (NodeKind::Standard, None) => {
                    found.push((place.clone(), "required", "standard".into()))
                }
                (_, Some(_)) => found.push((place.clone(), "not_a_standard", String::new())),
                (_, None) => {
                    if n.children.is_empty() {
                        found.push((place.clone(), "no_standards", String::new()));
                    }
                    let sub = walk(&n.children, depth + 1, seen, totals, found);
                    if let Some(declared) = n.points
                        && declared != sub
                    {
                        found.push((
                            place.clone(),
                            "points_mismatch",
                            format!("{declared} ≠ {sub}"),
                        ));
                    }
                    sum.0 += sub.0;
                }
            }
        }
        sum
    }
    walk(&doc.tree, 1, &mut seen, &mut totals, &mut found);
    for (place, code, detail) in found {
        p(&place, code, &detail);
    }
    if let Some(b) = doc.basic_total
        && b != totals.basic
    {
        p(
            "basic_total",
            "points_mismatch",
            &format!("{b} ≠ {}", totals.basic),
        );
    }
    if let Some(f) = doc.featured_total
        && f != totals.featured
    {
        p(
            "featured_total",
            "points_mismatch",
            &format!("{f} ≠ {}", totals.featured),
        );
    }
    let s = &doc.settings;
    if !s.method_weights.is_empty() {
        let sum: i64 = s.method_weights.iter().map(|w| w.weight.0).sum();
        if sum != 10_000 {
            p(
                "settings.method_weights",
                "weights_not_100",
                &Points(sum).to_string(),
            );
        }
    }
    if !s.cycle_weights.is_empty() {
        let sum: i64 = s.cycle_weights.iter().map(|w| w.0).sum();
        if sum != 10_000 {
            p(
                "settings.cycle_weights",
                "weights_not_100",
                &Points(sum).to_string(),
            );
        }
    }
    let mut rule_codes = HashSet::new();
    for r in &s.negative_list {
        let place = format!("negative_list.{}", r.code);
        if !rule_codes.insert(r.code.clone()) {
            p(&place, "duplicate_code", &r.code);
        }
        if r.rule.trim().is_empty() {
            p(&place, "required", "rule");
        }
        if r.sanction == Sanction::DeductPoints && r.deduct.is_none() {
            p(&place, "required", "deduct");
        }
    }
    if problems.is_empty() {
        Ok(totals)
    } else {
        Err(problems)
    }
}

/// Every standard with the chain of titles above it, in tree order.
pub fn standards(doc: &FrameworkDoc) -> Vec<(Vec<&NodeDoc>, &NodeDoc)> {
    fn walk<'a>(
        nodes: &'a [NodeDoc],
        path: &mut Vec<&'a NodeDoc>,
        out: &mut Vec<(Vec<&'a NodeDoc>, &'a NodeDoc)>,
    ) {
        for n in nodes {
            if n.kind == NodeKind::Standard {
                out.push((path.clone(), n));
            } else {
                path.push(n);
                walk(&n.children, path, out);
                path.pop();
            }
        }
    }
    let mut out = vec![];
    walk(&doc.tree, &mut vec![], &mut out);
    out
}

/// What changed between two versions, matched by code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Code and the fields that differ.
    pub changed: Vec<(String, Vec<&'static str>)>,
}

pub fn diff(old: &FrameworkDoc, new: &FrameworkDoc) -> Diff {
    fn index(doc: &FrameworkDoc) -> BTreeMap<String, &NodeDoc> {
        fn walk<'a>(nodes: &'a [NodeDoc], out: &mut BTreeMap<String, &'a NodeDoc>) {
            for n in nodes {
                if let Some(c) = &n.code {
                    out.insert(c.clone(), n);
                }
                walk(&n.children, out);
            }
        }
        let mut m = BTreeMap::new();
        walk(&doc.tree, &mut m);
        m
    }
    let (a, b) = (index(old), index(new));
    let mut d = Diff::default();
    for (code, n) in &b {
        match a.get(code) {
            None => d.added.push(code.clone()),
            Some(o) => {
                let mut fields = vec![];
                if o.title != n.title {
                    fields.push("title");
                }
                if o.kind != n.kind {
                    fields.push("kind");
                }
                if o.points != n.points {
                    fields.push("points");
                }
                match (&o.standard, &n.standard) {
                    (Some(x), Some(y)) => {
                        if x.points != y.points {
                            fields.push("points");
                        }
                        if x.methods != y.methods {
                            fields.push("methods");
                        }
                        if x.featured != y.featured {
                            fields.push("featured");
                        }
                        if x.site_types != y.site_types {
                            fields.push("site_types");
                        }
                        if x.evidence_types != y.evidence_types {
                            fields.push("evidence_types");
                        }
                        if x.lead_unit != y.lead_unit {
                            fields.push("lead_unit");
                        }
                        if x.cooperating_units != y.cooperating_units {
                            fields.push("cooperating_units");
                        }
                    }
                    (None, None) => {}
                    _ => fields.push("standard"),
                }
                fields.dedup();
                if !fields.is_empty() {
                    d.changed.push((code.clone(), fields));
                }
            }
        }
    }
    d.removed = a.keys().filter(|c| !b.contains_key(*c)).cloned().collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standard(code: &str, points: &str, featured: bool) -> NodeDoc {
        NodeDoc {
            kind: NodeKind::Standard,
            code: Some(code.into()),
            title: format!("标准{code}"),
            points: None,
            standard: Some(StandardSpec {
                points: Points::parse(points).unwrap(),
                methods: vec![Method::MaterialReview],
                featured,
                ..Default::default()
            }),
            children: vec![],
        }
    }

    fn doc(children: Vec<NodeDoc>) -> FrameworkDoc {
        FrameworkDoc {
            format: FORMAT.into(),
            name: "测试".into(),
            year: 2026,
            status: FrameworkStatus::Draft,
            basic_total: Some(Points(300)),
            featured_total: Some(Points(50)),
            settings: Settings::default(),
            tree: vec![NodeDoc {
                kind: NodeKind::Aspect,
                code: Some("1".into()),
                title: "方面".into(),
                points: None,
                standard: None,
                children,
            }],
        }
    }

    #[test]
    fn points_are_exact_hundredths() {
        assert_eq!(Points::parse("2.5"), Some(Points(250)));
        assert_eq!(Points::parse(" 0.25分 "), Some(Points(25)));
        assert_eq!(Points::parse("0.125"), None);
        assert_eq!(Points::parse("-1"), None);
        assert_eq!(Points(250).to_string(), "2.5");
        assert_eq!(Points(1005).to_string(), "10.05");
        assert_eq!(Points(300).to_string(), "3");
    }

    #[test]
    fn methods_parse_from_official_wording() {
        let m = parse_list("材料审核、问卷调查，实地考察", Method::parse).unwrap();
        assert_eq!(
            m,
            vec![
                Method::MaterialReview,
                Method::Survey,
                Method::SiteInspection
            ]
        );
        assert_eq!(
            parse_list("部门数据 / online_survey", Method::parse).unwrap(),
            vec![Method::Statistics, Method::OnlineSurvey]
        );
        assert_eq!(
            parse_list("材料审核、掷骰子", Method::parse),
            Err("掷骰子".into())
        );
    }

    #[test]
    fn totals_must_add_up() {
        let ok = doc(vec![
            standard("1.1", "1.5", false),
            standard("1.2", "1.5", false),
            standard("1.3", "0.5", true),
        ]);
        let t = validate(&ok).unwrap();
        assert_eq!(
            (t.basic, t.featured, t.standards),
            (Points(300), Points(50), 3)
        );
        let bad = doc(vec![
            standard("1.1", "1.5", false),
            standard("1.2", "1", false),
            standard("1.3", "0.5", true),
        ]);
        let e = validate(&bad).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].place.as_str(), e[0].code, e[0].detail.as_str()),
            ("basic_total", "points_mismatch", "3 ≠ 2.5")
        );
    }

    #[test]
    fn duplicate_codes_and_missing_methods_are_reported_together() {
        let mut s = standard("1.1", "1.5", false);
        s.standard.as_mut().unwrap().methods.clear();
        let bad = doc(vec![
            s,
            standard("1.1", "1.5", false),
            standard("1.3", "0.5", true),
        ]);
        let codes: Vec<&str> = validate(&bad).unwrap_err().iter().map(|p| p.code).collect();
        assert!(codes.contains(&"duplicate_code") && codes.contains(&"required"));
    }

    #[test]
    fn codes_come_from_titles_or_positions() {
        let mut tree = vec![NodeDoc {
            kind: NodeKind::Aspect,
            code: None,
            title: "廉洁高效的政务环境".into(),
            points: None,
            standard: None,
            children: vec![
                NodeDoc {
                    kind: NodeKind::Standard,
                    code: None,
                    title: "1.7、政务公开".into(),
                    points: None,
                    standard: None,
                    children: vec![],
                },
                NodeDoc {
                    kind: NodeKind::Standard,
                    code: None,
                    title: "依法行政".into(),
                    points: None,
                    standard: None,
                    children: vec![],
                },
            ],
        }];
        assign_codes(&mut tree);
        assert_eq!(tree[0].code.as_deref(), Some("1"));
        assert_eq!(tree[0].children[0].code.as_deref(), Some("1.7"));
        assert_eq!(tree[0].children[0].title, "政务公开");
        assert_eq!(tree[0].children[1].code.as_deref(), Some("1.2"));
        assert_eq!(
            split_numbered_title("2026年目标"),
            (None, "2026年目标".into())
        );
        assert_eq!(
            split_numbered_title("3．公共文明"),
            (Some("3".into()), "公共文明".into())
        );
        assert_eq!(
            split_numbered_title("2.1政务公开"),
            (Some("2.1".into()), "政务公开".into())
        );
        assert_eq!(
            split_numbered_title("1.5倍以上"),
            (None, "1.5倍以上".into())
        );
    }

    #[test]
    fn diff_lists_added_removed_and_changed() {
        let a = doc(vec![
            standard("1.1", "1.5", false),
            standard("1.2", "1.5", false),
        ]);
        let mut b = doc(vec![
            standard("1.1", "2", false),
            standard("1.3", "1", false),
        ]);
        b.tree[0].title = "方面（修订）".into();
        let d = diff(&a, &b);
        assert_eq!(d.added, vec!["1.3"]);
        assert_eq!(d.removed, vec!["1.2"]);
        assert_eq!(
            d.changed,
            vec![
                ("1".to_string(), vec!["title"]),
                ("1.1".to_string(), vec!["points"])
            ]
        );
    }

    #[test]
    fn json_form_round_trips() {
        let d = doc(vec![
            standard("1.1", "1.5", false),
            standard("1.2", "1.5", false),
            standard("1.3", "0.5", true),
        ]);
        let text = serde_json::to_string_pretty(&d).unwrap();
        assert!(text.contains("\"points\": 1.5"));
        let back: FrameworkDoc = serde_json::from_str(&text).unwrap();
        assert_eq!(back, d);
    }
}
