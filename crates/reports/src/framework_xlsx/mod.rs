//! The framework as a spreadsheet, in the layout official tables use:
//! 测评项目 / 指标名称 / 测评内容 / 测评标准 / 测评方法 (+ 分值, 责任单位 ...),
//! upper levels in merged cells, an optional title row above the header.
//! Reading is defensive: the file is size-checked as a zip before it is
//! parsed, rows and cells are capped, and every problem names its cell.

use crate::workbook::{Limits, Sheet, cell_ref, load_sheet, open, problem, text};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, FormatAlign, FormatBorder, Workbook,
    Worksheet, XlsxError,
};
use wenming_domain::framework::{
    EvidenceType, FrameworkDoc, FrameworkStatus, Gate, Method, NegativeListRule, NodeDoc, NodeKind,
    Points, Problem, Sanction, Settings, StandardSpec, WeightedPart, parse_list,
};
use wenming_domain::validation::match_key;

pub const TREE_SHEET: &str = "测评体系";
pub const LEVELS_SHEET: &str = "层级";
pub const NEGATIVE_SHEET: &str = "负面清单";
pub const SETTINGS_SHEET: &str = "设置";

mod requirements;
mod write;
pub use write::{template, write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Code,
    Aspect,
    Indicator,
    Content,
    Standard,
    Points,
    Kind,
    Methods,
    Lead,
    Cooperating,
    SiteTypes,
    Evidence,
    Observation,
    Requirements,
}

/// Header words, official first, then variants seen in the wild.
const HEADERS: &[(Col, &[&str])] = &[
    (Col::Code, &["编码", "序号", "编号"]),
    (Col::Aspect, &["测评项目", "项目", "测评方面"]),
    (Col::Indicator, &["指标名称", "指标", "测评指标"]),
    (Col::Content, &["测评内容"]),
    (Col::Standard, &["测评标准", "标准"]),
    (Col::Points, &["分值", "分数", "标准分值"]),
    (Col::Kind, &["指标类型", "类型", "基本/特色"]),
    (Col::Methods, &["测评方法", "方法"]),
    (Col::Lead, &["责任单位", "牵头单位"]),
    (Col::Cooperating, &["配合单位"]),
    (Col::SiteTypes, &["点位类型"]),
    (Col::Evidence, &["材料类型"]),
    (Col::Observation, &["观测规则", "观察规则", "达标规则"]),
    (Col::Requirements, &["材料要求", "申报材料要求"]),
];

/// Reads a framework table. `name` and `year` are used when the workbook
/// has no settings sheet (a plain official table).
pub fn read(
    bytes: &[u8],
    name: &str,
    year: i32,
    limits: &Limits,
) -> Result<FrameworkDoc, Vec<Problem>> {
    let (mut wb, names) = open(bytes, limits)?;
    let tree_name = names
        .iter()
        .find(|n| *n == TREE_SHEET)
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| vec![problem("file".into(), "no_sheets", "")])?;
    let sheet = load_sheet(&mut wb, &tree_name, limits)?;
    let mut problems = vec![];
    let (start_row, start_col) = sheet.range.start().unwrap_or((0, 0));
    let (end_row, end_col) = sheet.range.end().unwrap_or((0, 0));

    // The header is the first row (of the first ten) naming 测评标准.
    let mut header: Option<(u32, Vec<(Col, u32)>)> = None;
    let mut title_text = String::new();
    for row in start_row..=(start_row + 10).min(end_row) {
        let mut cols = vec![];
        for col in start_col..=end_col {
            let cell = text(
                sheet.range.get_value((row, col)),
                || cell_ref(&sheet.name, row, col),
                limits,
                &mut vec![],
            );
            let key = match_key(&cell);
            if key.is_empty() {
                continue;
            }
            if let Some((c, _)) = HEADERS.iter().find(|(c, words)| {
                words.iter().any(|w| match_key(w) == key) && !cols.iter().any(|(x, _)| x == c)
            }) {
                cols.push((*c, col));
            }
        }
        if cols.iter().any(|(c, _)| *c == Col::Standard) {
            header = Some((row, cols));
            break;
        }
        if title_text.is_empty() {
            title_text = text(sheet.get(row, start_col), String::new, limits, &mut vec![]);
        }
    }
    let Some((header_row, cols)) = header else {
        return Err(vec![problem(
            format!("{}!1", sheet.name),
            "no_header",
            "测评标准",
        )]);
    };
    for (required, word) in [(Col::Aspect, "测评项目"), (Col::Methods, "测评方法")] {
        if !cols.iter().any(|(c, _)| *c == required) {
            problems.push(problem(
                cell_ref(&sheet.name, header_row, start_col),
                "missing_column",
                word,
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let col = |c: Col| cols.iter().find(|(x, _)| *x == c).map(|(_, i)| *i);
    if end_row.saturating_sub(header_row) as usize > limits.max_rows {
        return Err(vec![problem(
            sheet.name.clone(),
            "too_many_rows",
            format!("{} rows", end_row - header_row),
        )]);
    }

    let mut tree: Vec<NodeDoc> = vec![];
    // The open node at each upper level, with the text and merge start that opened it.
    let mut open: [Option<(String, Option<u32>)>; 3] = [None, None, None];
    // Where each code from the 编码 column was first seen, to name both cells of a duplicate.
    let mut code_cells: std::collections::HashMap<String, String> =
        std::collections::HashMap::new();
    let levels = [
        (Col::Aspect, NodeKind::Aspect),
        (Col::Indicator, NodeKind::Indicator),
        (Col::Content, NodeKind::Content),
    ];
    for row in (header_row + 1)..=end_row {
        let get = |c: Col, problems: &mut Vec<Problem>| match col(c) {
            Some(i) => text(
                sheet.get(row, i),
                || cell_ref(&sheet.name, row, i),
                limits,
                problems,
            ),
            None => String::new(),
        };
        let std_text = get(Col::Standard, &mut problems);
        let uppers: Vec<String> = levels.iter().map(|(c, _)| get(*c, &mut problems)).collect();
        let blank = cols
            .iter()
            .all(|(_, i)| text(sheet.get(row, *i), String::new, limits, &mut vec![]).is_empty());
        if blank {
            continue;
        }
        if std_text.is_empty() {
            problems.push(problem(
                cell_ref(&sheet.name, row, col(Col::Standard).unwrap_or(0)),
                "required",
                "测评标准",
            ));
            continue;
        }
        // Open or continue each upper level.
        let mut path: Vec<usize> = vec![]; // indexes into children vectors
        for (level, (c, kind)) in levels.iter().enumerate() {
            let value = &uppers[level];
            let merge = col(*c).and_then(|i| sheet.merge_start(row, i));
            let parent_changed = level > 0 && path.len() < level;
            let same = match &open[level] {
                Some((t, m)) => !value.is_empty() && t == value && (merge.is_none() || *m == merge),
                None => false,
            };
            let continued = value.is_empty() && open[level].is_some() && !parent_changed;
            if value.is_empty() && !continued {
                open[level] = None;
                continue;
            }
            let siblings = children_at(&mut tree, &path);
            if !(same || continued) || siblings.is_empty() {
                siblings.push(NodeDoc {
                    kind: *kind,
                    code: None,
                    title: value.clone(),
                    points: None,
                    standard: None,
                    children: vec![],
                });
                open[level] = Some((value.clone(), merge));
                for deeper in open.iter_mut().skip(level + 1) {
                    *deeper = None;
                }
            }
            let idx = children_at(&mut tree, &path).len() - 1;
            path.push(idx);
        }
        if path.is_empty() {
            problems.push(problem(
                cell_ref(&sheet.name, row, col(Col::Aspect).unwrap_or(0)),
                "required",
                "测评项目",
            ));
            continue;
        }
        let place = |c: Col| cell_ref(&sheet.name, row, col(c).unwrap_or(0));
        let methods = match parse_list(&get(Col::Methods, &mut problems), Method::parse) {
            Ok(m) => m,
            Err(bad) => {
                problems.push(problem(place(Col::Methods), "unknown_method", bad));
                vec![]
            }
        };
        if methods.is_empty() && !problems.iter().any(|p| p.place == place(Col::Methods)) {
            problems.push(problem(place(Col::Methods), "required", "测评方法"));
        }
        let points_text = get(Col::Points, &mut problems);
        let points = if points_text.is_empty() {
            Points(0)
        } else {
            Points::parse(&points_text).unwrap_or_else(|| {
                problems.push(problem(
                    place(Col::Points),
                    "invalid_points",
                    points_text.clone(),
                ));
                Points(0)
            })
        };
        let kind_text = get(Col::Kind, &mut problems);
        let featured = match match_key(&kind_text).as_str() {
            "" | "基本" | "基本指标" | "basic" => false,
            "特色" | "特色指标" | "featured" => true,
            _ => {
                problems.push(problem(
                    place(Col::Kind),
                    "invalid_choice",
                    kind_text.clone(),
                ));
                false
            }
        };
        let evidence_types = parse_list(&get(Col::Evidence, &mut problems), EvidenceType::parse)
            .unwrap_or_else(|bad| {
                problems.push(problem(place(Col::Evidence), "unknown_evidence_type", bad));
                vec![]
            });
        let requirements = requirements::from_text(&get(Col::Requirements, &mut problems))
            .unwrap_or_else(|bad| {
                problems.push(problem(
                    place(Col::Requirements),
                    "invalid_requirement",
                    bad,
                ));
                vec![]
            });
        let observation = {
            let text = get(Col::Observation, &mut problems);
            match wenming_domain::site::Observation::parse_text(&text) {
                Some(wenming_domain::site::Observation::PassFail) => None,
                Some(o) => Some(o),
                None => {
                    problems.push(problem(
                        place(Col::Observation),
                        "invalid_observation",
                        text,
                    ));
                    None
                }
            }
        };
        let names = |s: String| -> Vec<String> {
            parse_list(&s, |x| Some(x.to_string())).unwrap_or_default()
        };
        let mut leads = names(get(Col::Lead, &mut problems));
        let mut cooperating = names(get(Col::Cooperating, &mut problems));
        let lead_unit = if leads.is_empty() {
            None
        } else {
            Some(leads.remove(0))
        };
        // A second unit in 责任单位 cooperates.
        leads.append(&mut cooperating);
        let code = get(Col::Code, &mut problems);
        if !code.is_empty() {
            let here = place(Col::Code);
            if let Some(first) = code_cells.get(&code) {
                problems.push(problem(here, "duplicate_code", format!("{code}, {first}")));
            } else {
                code_cells.insert(code.clone(), here);
            }
        }
        let node = NodeDoc {
            kind: NodeKind::Standard,
            code: Some(code).filter(|c| !c.is_empty()),
            title: std_text,
            points: None,
            standard: Some(StandardSpec {
                points,
                methods,
                featured,
                site_types: names(get(Col::SiteTypes, &mut problems)),
                evidence_types,
                lead_unit,
                cooperating_units: leads,
                observation,
                requirements,
            }),
            children: vec![],
        };
        children_at(&mut tree, &path).push(node);
    }

    let mut doc = FrameworkDoc {
        format: wenming_domain::framework::FORMAT.into(),
        name: name.to_string(),
        year,
        status: FrameworkStatus::Draft,
        basic_total: None,
        featured_total: None,
        settings: Settings::default(),
        tree,
    };
    if doc.name.trim().is_empty() && !title_text.is_empty() {
        doc.name = title_text;
    }
    if names.iter().any(|n| n == SETTINGS_SHEET) {
        let s = load_sheet(&mut wb, SETTINGS_SHEET, limits)?;
        read_settings(&s, &mut doc, limits, &mut problems);
    }
    if names.iter().any(|n| n == NEGATIVE_SHEET) {
        let s = load_sheet(&mut wb, NEGATIVE_SHEET, limits)?;
        doc.settings.negative_list = read_negative(&s, limits, &mut problems);
    }
    wenming_domain::framework::assign_codes(&mut doc.tree);
    if names.iter().any(|n| n == LEVELS_SHEET) {
        let s = load_sheet(&mut wb, LEVELS_SHEET, limits)?;
        read_levels(&s, &mut doc, limits, &mut problems);
    }
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(problems)
    }
}

fn children_at<'a>(tree: &'a mut Vec<NodeDoc>, path: &[usize]) -> &'a mut Vec<NodeDoc> {
    let mut v = tree;
    for &i in path {
        v = &mut v[i].children;
    }
    v
}

/// Key/value rows: 名称, 年度, 状态, 基本指标总分, 特色指标总分, 方法权重,
/// 周期权重, 前置条件.
fn read_settings(s: &Sheet, doc: &mut FrameworkDoc, limits: &Limits, problems: &mut Vec<Problem>) {
    let (r0, c0) = s.range.start().unwrap_or((0, 0));
    let (r1, _) = s.range.end().unwrap_or((0, 0));
    for row in r0..=r1 {
        let key = text(
            s.range.get_value((row, c0)),
            || cell_ref(&s.name, row, c0),
            limits,
            problems,
        );
        let place = || cell_ref(&s.name, row, c0 + 1);
        let value = text(s.range.get_value((row, c0 + 1)), place, limits, problems);
        match key.as_str() {
            "名称" if !value.is_empty() => doc.name = value,
            "年度" => match value.parse() {
                Ok(y) => doc.year = y,
                Err(_) => problems.push(problem(place(), "invalid_year", value)),
            },
            "状态" => match FrameworkStatus::parse(&value) {
                Some(st) => doc.status = st,
                None => problems.push(problem(place(), "invalid_choice", value)),
            },
            "基本指标总分" | "特色指标总分" if !value.is_empty() => {
                match Points::parse(&value) {
                    Some(p) if key == "基本指标总分" => doc.basic_total = Some(p),
                    Some(p) => doc.featured_total = Some(p),
                    None => problems.push(problem(place(), "invalid_points", value)),
                }
            }
            "方法权重" => {
                doc.settings.method_weights = pairs(&value)
                    .into_iter()
                    .filter_map(|(name, w)| match Points::parse(&w) {
                        Some(weight) => Some(WeightedPart { name, weight }),
                        None => {
                            problems.push(problem(place(), "invalid_points", w));
                            None
                        }
                    })
                    .collect()
            }
            "周期权重" => {
                doc.settings.cycle_weights = value
                    .split(['、', '，', ',', ';', '；', '/'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .filter_map(|w| {
                        Points::parse(w).or_else(|| {
                            problems.push(problem(place(), "invalid_points", w));
                            None
                        })
                    })
                    .collect()
            }
            "前置条件" => {
                for line in value.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
                    match (
                        parts.first(),
                        parts.get(1).and_then(|p| Points::parse(p)),
                        parts.get(2).and_then(|p| Points::parse(p)),
                    ) {
                        (Some(n), Some(min_score), Some(weight)) if !n.is_empty() => {
                            doc.settings.gates.push(Gate {
                                name: n.to_string(),
                                min_score,
                                weight,
                            })
                        }
                        _ => problems.push(problem(place(), "invalid_gate", line)),
                    }
                }
            }
            _ => {}
        }
    }
}

/// "材料审核 40、实地考察 40、问卷调查 20" → [(材料审核, 40) ...]
fn pairs(s: &str) -> Vec<(String, String)> {
    s.split(['、', '，', ',', ';', '；'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(
            |part| match part.rsplit_once([' ', '\u{3000}', ':', '：']) {
                Some((n, w)) => (
                    n.trim().to_string(),
                    w.trim().trim_end_matches('%').to_string(),
                ),
                None => (part.to_string(), String::new()),
            },
        )
        .collect()
}

fn read_negative(s: &Sheet, limits: &Limits, problems: &mut Vec<Problem>) -> Vec<NegativeListRule> {
    let (r0, c0) = s.range.start().unwrap_or((0, 0));
    let (r1, _) = s.range.end().unwrap_or((0, 0));
    let mut rules = vec![];
    for row in (r0 + 1)..=r1 {
        let cell = |i: u32, problems: &mut Vec<Problem>| {
            text(
                s.range.get_value((row, c0 + i)),
                || cell_ref(&s.name, row, c0 + i),
                limits,
                problems,
            )
        };
        let (code, rule, sanction, deduct, months) = (
            cell(0, problems),
            cell(1, problems),
            cell(2, problems),
            cell(3, problems),
            cell(4, problems),
        );
        if code.is_empty() && rule.is_empty() {
            continue;
        }
        let Some(sanction) = Sanction::parse(&sanction) else {
            problems.push(problem(
                cell_ref(&s.name, row, c0 + 2),
                "invalid_choice",
                sanction,
            ));
            continue;
        };
        let deduct = if deduct.is_empty() {
            None
        } else {
            match Points::parse(&deduct) {
                Some(p) => Some(p),
                None => {
                    problems.push(problem(
                        cell_ref(&s.name, row, c0 + 3),
                        "invalid_points",
                        deduct,
                    ));
                    None
                }
            }
        };
        let lookback_months = if months.is_empty() {
            12
        } else {
            months.parse().unwrap_or_else(|_| {
                problems.push(problem(
                    cell_ref(&s.name, row, c0 + 4),
                    "invalid_number",
                    months.clone(),
                ));
                12
            })
        };
        rules.push(NegativeListRule {
            code,
            rule,
            sanction,
            deduct,
            lookback_months,
        });
    }
    rules
}

/// 编码 | 层级 | 名称 | 分值: declared points of upper levels.
fn read_levels(s: &Sheet, doc: &mut FrameworkDoc, limits: &Limits, problems: &mut Vec<Problem>) {
    let (r0, c0) = s.range.start().unwrap_or((0, 0));
    let (r1, _) = s.range.end().unwrap_or((0, 0));
    for row in (r0 + 1)..=r1 {
        let code = text(
            s.range.get_value((row, c0)),
            || cell_ref(&s.name, row, c0),
            limits,
            problems,
        );
        let pts = text(
            s.range.get_value((row, c0 + 3)),
            || cell_ref(&s.name, row, c0 + 3),
            limits,
            problems,
        );
        if code.is_empty() || pts.is_empty() {
            continue;
        }
        let Some(p) = Points::parse(&pts) else {
            problems.push(problem(
                cell_ref(&s.name, row, c0 + 3),
                "invalid_points",
                pts,
            ));
            continue;
        };
        fn set(nodes: &mut [NodeDoc], code: &str, p: Points) -> bool {
            for n in nodes {
                if n.code.as_deref() == Some(code) {
                    n.points = Some(p);
                    return true;
                }
                if set(&mut n.children, code, p) {
                    return true;
                }
            }
            false
        }
        if !set(&mut doc.tree, &code, p) {
            problems.push(problem(cell_ref(&s.name, row, c0), "unknown_code", code));
        }
    }
}

/// Reads an uploaded framework: an XLSX table (by its zip signature) or our
/// JSON form. JSON problems name the line and column.
pub fn read_upload(
    bytes: &[u8],
    name: &str,
    year: i32,
    limits: &Limits,
) -> Result<FrameworkDoc, Vec<Problem>> {
    if bytes.starts_with(b"PK") {
        return read(bytes, name, year, limits);
    }
    if bytes.len() > limits.max_file_bytes {
        return Err(vec![problem(
            "file".into(),
            "file_too_large",
            format!("{} bytes", bytes.len()),
        )]);
    }
    let mut doc: FrameworkDoc = serde_json::from_slice(bytes).map_err(|e| {
        vec![problem(
            format!("JSON {}:{}", e.line(), e.column()),
            if e.is_syntax() || e.is_eof() {
                "invalid_json"
            } else {
                "invalid_json_shape"
            },
            e.to_string(),
        )]
    })?;
    wenming_domain::framework::assign_codes(&mut doc.tree);
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_xlsxwriter::Workbook;

    fn sample() -> FrameworkDoc {
        let std =
            |code: &str, title: &str, points: i64, featured: bool, methods: Vec<Method>| NodeDoc {
                kind: NodeKind::Standard,
                code: Some(code.into()),
                title: title.into(),
                points: None,
                standard: Some(StandardSpec {
                    points: Points(points),
                    methods,
                    featured,
                    site_types: vec!["农贸市场".into()],
                    evidence_types: vec![EvidenceType::Photo],
                    lead_unit: Some("市城市管理局".into()),
                    cooperating_units: vec!["市市场监督管理局".into(), "团市委".into()],
                    observation: None,
                    requirements: vec![],
                }),
                children: vec![],
            };
        FrameworkDoc {
            format: wenming_domain::framework::FORMAT.into(),
            name: "测试体系".into(),
            year: 2026,
            status: FrameworkStatus::Active,
            basic_total: Some(Points(250)),
            featured_total: Some(Points(100)),
            settings: Settings {
                method_weights: vec![
                    WeightedPart {
                        name: "材料".into(),
                        weight: Points(6000),
                    },
                    WeightedPart {
                        name: "实地".into(),
                        weight: Points(4000),
                    },
                ],
                cycle_weights: vec![Points(1500), Points(2500), Points(6000)],
                gates: vec![Gate {
                    name: "未成年人".into(),
                    min_score: Points(8500),
                    weight: Points(2000),
                }],
                negative_list: vec![NegativeListRule {
                    code: "N1".into(),
                    rule: "重大事故".into(),
                    sanction: Sanction::DeductPoints,
                    deduct: Some(Points(300)),
                    lookback_months: 12,
                }],
            },
            tree: vec![NodeDoc {
                kind: NodeKind::Aspect,
                code: Some("1".into()),
                title: "公共秩序".into(),
                points: Some(Points(350)),
                standard: None,
                children: vec![
                    NodeDoc {
                        kind: NodeKind::Indicator,
                        code: Some("1.1".into()),
                        title: "市场".into(),
                        points: None,
                        standard: None,
                        children: vec![
                            std(
                                "1.1.1",
                                "摊位整齐",
                                150,
                                false,
                                vec![Method::SiteInspection],
                            ),
                            std(
                                "1.1.2",
                                "明码标价",
                                100,
                                false,
                                vec![Method::SiteInspection, Method::Survey],
                            ),
                        ],
                    },
                    NodeDoc {
                        kind: NodeKind::Indicator,
                        code: Some("1.2".into()),
                        title: "特色".into(),
                        points: None,
                        standard: None,
                        children: vec![std("1.2.1", "示范街", 100, true, vec![Method::Briefing])],
                    },
                ],
            }],
        }
    }

    #[test]
    fn write_then_read_gives_back_the_same_framework() {
        let doc = sample();
        let bytes = write(&doc).unwrap();
        let back = read(&bytes, "", 1999, &Limits::default()).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(back, doc);
        // And again: the second export is byte-for-byte the first's content.
        let again = read(&write(&back).unwrap(), "", 1999, &Limits::default()).unwrap();
        assert_eq!(again, doc);
    }

    /// A table as cities publish them: a title row, merged upper levels, no
    /// codes, methods joined with 、, 分值 after the standard.
    fn official_table(methods_cell: &str, extra_row: Option<(&str, &str)>) -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.merge_range(0, 0, 0, 4, "2026年某市文明城市测评体系", &Format::new())
            .unwrap();
        for (i, h) in ["测评项目", "指标名称", "测评标准", "测评方法", "分值"]
            .iter()
            .enumerate()
        {
            ws.write_string(1, i as u16, *h).unwrap();
        }
        let f = Format::new();
        ws.merge_range(2, 0, 5, 0, "廉洁高效的政务环境", &f)
            .unwrap();
        ws.merge_range(2, 1, 3, 1, "1.1 政务公开", &f).unwrap();
        ws.merge_range(4, 1, 5, 1, "服务效能", &f).unwrap();
        let rows = [
            ("信息公开及时", methods_cell, "1.5"),
            ("决策征求意见", "材料审核", "0.5"),
            ("窗口文明用语", "实地考察", "1"),
            ("网上办事", "网络调查、问卷调查", "1"),
        ];
        for (i, (s, m, p)) in rows.iter().enumerate() {
            ws.write_string(2 + i as u32, 2, *s).unwrap();
            ws.write_string(2 + i as u32, 3, *m).unwrap();
            ws.write_number(2 + i as u32, 4, p.parse::<f64>().unwrap())
                .unwrap();
        }
        ws.write_string(6, 0, "公正公平的法治环境").unwrap();
        ws.write_string(6, 2, "法治宣传栏定期更新").unwrap();
        ws.write_string(6, 3, "实地考察").unwrap();
        ws.write_number(6, 4, 2.0).unwrap();
        if let Some((s, m)) = extra_row {
            ws.write_string(7, 2, s).unwrap();
            ws.write_string(7, 3, m).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn an_official_table_with_merged_cells_and_no_codes_imports() {
        let doc = read(
            &official_table("材料审核、问卷调查", None),
            "",
            2026,
            &Limits::default(),
        )
        .unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(
            doc.name, "2026年某市文明城市测评体系",
            "the title row names it"
        );
        assert_eq!(doc.tree.len(), 2);
        let a = &doc.tree[0];
        assert_eq!(
            (a.code.as_deref(), a.title.as_str()),
            (Some("1"), "廉洁高效的政务环境")
        );
        assert_eq!(a.children.len(), 2);
        assert_eq!(
            a.children[0].code.as_deref(),
            Some("1.1"),
            "a number in the text becomes the code"
        );
        assert_eq!(
            a.children[1].code.as_deref(),
            Some("1.2"),
            "otherwise the position does"
        );
        let first = &a.children[0].children[0];
        assert_eq!(first.code.as_deref(), Some("1.1.1"));
        assert_eq!(
            first.standard.as_ref().unwrap().methods,
            vec![Method::MaterialReview, Method::Survey]
        );
        assert_eq!(first.standard.as_ref().unwrap().points, Points(150));
        // A second aspect with a standard straight under it (no indicator).
        assert_eq!(doc.tree[1].children[0].kind, NodeKind::Standard);
        assert_eq!(doc.tree[1].children[0].code.as_deref(), Some("2.1"));
        // The same table always gets the same codes.
        assert_eq!(
            read(
                &official_table("材料审核、问卷调查", None),
                "",
                2026,
                &Limits::default()
            )
            .unwrap(),
            doc
        );
    }

    #[test]
    fn problems_name_the_sheet_row_and_column() {
        let e = read(
            &official_table("材料审核、看天气", Some(("", "实地考察"))),
            "x",
            2026,
            &Limits::default(),
        )
        .unwrap_err();
        let places: Vec<(&str, &str, &str)> = e
            .iter()
            .map(|p| (p.place.as_str(), p.code, p.detail.as_str()))
            .collect();
        assert!(
            places.contains(&("Sheet1!D3", "unknown_method", "看天气")),
            "{places:?}"
        );
        assert!(
            places.contains(&("Sheet1!C8", "required", "测评标准")),
            "{places:?}"
        );
    }

    #[test]
    fn a_duplicate_code_names_both_cells() {
        let mut doc = sample();
        let dup = doc.tree[0].children[0].children[0].code.clone();
        doc.tree[0].children[0].children[1].code = dup;
        let e = read(&write(&doc).unwrap(), "", 2026, &Limits::default()).unwrap_err();
        assert_eq!(
            (e[0].place.as_str(), e[0].code, e[0].detail.as_str()),
            ("测评体系!A4", "duplicate_code", "1.1.1, 测评体系!A3")
        );
    }

    #[test]
    fn hostile_files_fail_cleanly() {
        let limits = Limits::default();
        let e = read(b"not a zip at all", "x", 2026, &limits).unwrap_err();
        assert_eq!(e[0].code, "not_xlsx");
        let small = Limits {
            max_unpacked_bytes: 1000,
            ..limits
        };
        let e = read(&official_table("材料审核", None), "x", 2026, &small).unwrap_err();
        assert_eq!(
            e[0].code, "file_too_large",
            "a zip that unpacks too large is refused before parsing"
        );
        let few = Limits {
            max_rows: 2,
            ..limits
        };
        let e = read(&official_table("材料审核", None), "x", 2026, &few).unwrap_err();
        assert_eq!(e[0].code, "too_many_rows");
        // A date where text belongs, and an over-long cell.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for (i, h) in ["测评项目", "测评标准", "测评方法"].iter().enumerate() {
            ws.write_string(0, i as u16, *h).unwrap();
        }
        ws.write_string(1, 0, "方面").unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 2).unwrap();
        ws.write_datetime_with_format(1, 1, &date, &Format::new().set_num_format("yyyy-mm-dd"))
            .unwrap();
        ws.write_string(1, 2, "材料审核").unwrap();
        ws.write_string(2, 0, "方面").unwrap();
        ws.write_string(2, 1, "长".repeat(10_001)).unwrap();
        ws.write_string(2, 2, "材料审核").unwrap();
        let e = read(&wb.save_to_buffer().unwrap(), "x", 2026, &limits).unwrap_err();
        let codes: Vec<(&str, &str)> = e.iter().map(|p| (p.place.as_str(), p.code)).collect();
        assert!(codes.contains(&("Sheet1!B2", "date_in_text")), "{codes:?}");
        assert!(codes.contains(&("Sheet1!B3", "cell_too_long")), "{codes:?}");
    }

    #[test]
    fn the_template_has_the_official_header_and_reads_as_a_table() {
        let bytes = template().unwrap();
        let doc = read(&bytes, "模板", 2026, &Limits::default()).unwrap();
        assert_eq!(doc.tree.len(), 1, "the example row reads back");
        assert_eq!(
            doc.tree[0].children[0].children[0]
                .standard
                .as_ref()
                .unwrap()
                .methods,
            vec![Method::MaterialReview, Method::OnlineSurvey]
        );
    }
}
