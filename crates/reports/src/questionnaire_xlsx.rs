//! A questionnaire as a workbook the office can edit in Excel and bring
//! back: the title in the first row, the introduction in the second, then
//! one row a question with its options in columns (选项1, 选项2 ...). An
//! option is its label, its code being its place (1, 2 ...), or `code=label`
//! when the code is something else. Reading names every problem by its cell
//! and returns nothing unless the whole sheet is right.

use crate::table_read::{self, Record};
use crate::workbook::{Limits, cell_ref, load_sheet, open, problem, text};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use wenming_domain::framework::Problem;
use wenming_domain::survey::{
    Choice, Group, QuestionKind, QuestionSpec, QuestionnaireDoc, RateKind, RateSpec,
};

/// The most options a question may have in the sheet.
pub const MAX_OPTIONS: usize = 12;

const OPTION_KEYS: [&str; MAX_OPTIONS] = [
    "o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9", "o10", "o11", "o12",
];

const SHEET: &str = "问卷";

/// Column keys with the header they are written under and the other words
/// they are read by.
const COLUMNS: [(&str, &[&str]); 10] = [
    ("code", &["题号", "编号", "code"]),
    ("text", &["题目", "问题", "question", "text"]),
    ("kind", &["题型", "kind", "type"]),
    ("required", &["必答", "required"]),
    ("groups", &["适用对象", "groups"]),
    ("rate", &["计入指标", "指标", "rate"]),
    ("counts", &["计为是的选项", "counts"]),
    ("excluded", &["不计入分母的选项", "excluded"]),
    ("keep_excluded", &["保留在分母中", "keep excluded"]),
    ("standards", &["佐证标准", "standards"]),
];

fn option_header(i: usize) -> String {
    format!("选项{}", i + 1)
}

fn kind_word(k: QuestionKind) -> &'static str {
    match k {
        QuestionKind::Single => "单选",
        QuestionKind::Multiple => "多选",
        QuestionKind::Scale5 => "五级量表",
        QuestionKind::Scale100 => "百分制",
        QuestionKind::Text => "填空",
    }
}

fn rate_word(k: RateKind) -> &'static str {
    match k {
        RateKind::Awareness => "知晓率",
        RateKind::Support => "支持率",
        RateKind::Satisfaction => "满意率",
        RateKind::Participation => "参与率",
        RateKind::ServiceSatisfaction => "政务服务满意度",
    }
}

fn group_word(g: Group) -> &'static str {
    match g {
        Group::Residents => "居民",
        Group::Students => "学生",
        Group::Business => "经营者",
        Group::Visitors => "游客",
    }
}

fn list(v: &[String]) -> String {
    v.join("、")
}

/// The questionnaire as the office's workbook.
pub fn write(doc: &QuestionnaireDoc) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name(SHEET)?;
    let head = Format::new()
        .set_bold()
        .set_background_color("#EEF0F4")
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let options = doc
        .questions
        .iter()
        .map(|q| q.choices.len())
        .max()
        .unwrap_or(0)
        .clamp(4, MAX_OPTIONS);
    ws.write_string_with_format(
        0,
        0,
        &doc.title,
        &Format::new().set_bold().set_font_size(14),
    )?;
    ws.write_string(1, 0, &doc.intro)?;
    let mut col = 0u16;
    for (_, words) in COLUMNS {
        ws.write_string_with_format(2, col, words[0], &head)?;
        col += 1;
    }
    for i in 0..options {
        ws.write_string_with_format(2, col + i as u16, option_header(i), &head)?;
    }
    for (i, w) in [6.0, 36.0, 10.0, 6.0, 14.0, 12.0, 12.0, 12.0, 8.0, 14.0]
        .iter()
        .enumerate()
    {
        ws.set_column_width(i as u16, *w)?;
    }
    for i in 0..options {
        ws.set_column_width(col + i as u16, 14.0)?;
    }
    for (r, q) in doc.questions.iter().enumerate() {
        let row = 3 + r as u32;
        let rate = q.rate.as_ref();
        let cells = [
            q.code.clone(),
            q.text.clone(),
            kind_word(q.kind).to_string(),
            if q.required { "是" } else { "否" }.to_string(),
            q.groups
                .iter()
                .map(|g| group_word(*g))
                .collect::<Vec<_>>()
                .join("、"),
            rate.map(|r| rate_word(r.kind).to_string())
                .unwrap_or_default(),
            rate.map(|r| list(&r.counts)).unwrap_or_default(),
            rate.map(|r| list(&r.excluded)).unwrap_or_default(),
            rate.map(|r| if r.keep_excluded { "是" } else { "" })
                .unwrap_or_default()
                .to_string(),
            list(&q.standards),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, v, &cell)?;
        }
        for (i, ch) in q.choices.iter().enumerate() {
            let v = if ch.code == (i + 1).to_string() {
                ch.label.clone()
            } else {
                format!("{}={}", ch.code, ch.label)
            };
            ws.write_string_with_format(row, col + i as u16, v, &cell)?;
        }
    }
    ws.set_freeze_panes(3, 2)?;
    wb.save_to_buffer()
}

fn split(v: &str) -> Vec<String> {
    v.split(['、', ',', '，', ';', '；', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn yes_no(v: &str) -> Option<bool> {
    match v.trim().to_lowercase().as_str() {
        "是" | "yes" | "y" | "true" | "1" | "√" => Some(true),
        "否" | "no" | "n" | "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_kind(v: &str) -> Option<QuestionKind> {
    QuestionKind::parse(v.trim()).or_else(|| {
        QuestionKind::ALL
            .into_iter()
            .find(|k| kind_word(*k) == v.trim())
    })
}

fn parse_rate(v: &str) -> Option<RateKind> {
    RateKind::parse(v.trim()).or_else(|| {
        RateKind::ALL
            .into_iter()
            .find(|k| rate_word(*k) == v.trim())
    })
}

fn parse_group(v: &str) -> Option<Group> {
    Group::parse(v.trim()).or_else(|| Group::ALL.into_iter().find(|g| group_word(*g) == v.trim()))
}

/// One row as a question, each problem named by its cell.
fn question(r: &Record, problems: &mut Vec<Problem>) -> QuestionSpec {
    let mut bad = |key: &str, code: &'static str, detail: &str| {
        problems.push(problem(r.place(key), code, detail))
    };
    let kind = match parse_kind(r.get("kind")) {
        Some(k) => k,
        None => {
            bad(
                "kind",
                if r.get("kind").is_empty() {
                    "required"
                } else {
                    "invalid_choice"
                },
                r.get("kind"),
            );
            QuestionKind::Text
        }
    };
    let required = match r.get("required") {
        "" => true,
        v => yes_no(v).unwrap_or_else(|| {
            bad("required", "invalid_choice", v);
            true
        }),
    };
    let mut groups = vec![];
    for g in split(r.get("groups")) {
        match parse_group(&g) {
            Some(x) if !groups.contains(&x) => groups.push(x),
            Some(_) => {}
            None => bad("groups", "invalid_choice", &g),
        }
    }
    let mut choices = vec![];
    for (i, key) in OPTION_KEYS.iter().enumerate() {
        let v = r.get(key).trim();
        if v.is_empty() {
            continue;
        }
        let (code, label) = match v.split_once('=') {
            Some((c, l)) if !c.trim().is_empty() && !l.trim().is_empty() => {
                (c.trim().to_string(), l.trim().to_string())
            }
            _ => ((i + 1).to_string(), v.to_string()),
        };
        if choices.iter().any(|c: &Choice| c.code == code) {
            bad(key, "duplicate", &code);
        }
        choices.push(Choice { code, label });
    }
    let rate = match r.get("rate") {
        "" => {
            if !r.get("counts").is_empty() {
                bad("rate", "required", "");
            }
            None
        }
        v => match parse_rate(v) {
            Some(rate_kind) => {
                let counts = split(r.get("counts"));
                let excluded = split(r.get("excluded"));
                // Scale values are checked with the whole question below.
                let by_choice = matches!(kind, QuestionKind::Single | QuestionKind::Multiple);
                let known = |c: &String| !by_choice || choices.iter().any(|x| &x.code == c);
                if counts.is_empty() {
                    bad("counts", "required", "");
                }
                for c in counts.iter().filter(|c| !known(c)) {
                    bad("counts", "unknown_choice", c);
                }
                for c in excluded.iter().filter(|c| !known(c)) {
                    bad("excluded", "unknown_choice", c);
                }
                let keep_excluded = match r.get("keep_excluded") {
                    "" => false,
                    v => yes_no(v).unwrap_or_else(|| {
                        bad("keep_excluded", "invalid_choice", v);
                        false
                    }),
                };
                Some(RateSpec {
                    kind: rate_kind,
                    counts,
                    excluded,
                    keep_excluded,
                })
            }
            None => {
                bad("rate", "invalid_choice", v);
                None
            }
        },
    };
    QuestionSpec {
        code: r.get("code").trim().to_string(),
        text: r.get("text").trim().to_string(),
        kind,
        choices,
        required,
        groups,
        rate,
        standards: split(r.get("standards")),
    }
}

/// Reads the office's workbook; every problem named by its cell, and no
/// questionnaire unless there are none.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<QuestionnaireDoc, Vec<Problem>> {
    let option_words: Vec<(&'static str, Vec<String>)> = OPTION_KEYS
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, vec![option_header(i), format!("option {}", i + 1)]))
        .collect();
    let owned: Vec<(&'static str, Vec<&str>)> = option_words
        .iter()
        .map(|(k, w)| (*k, w.iter().map(String::as_str).collect()))
        .collect();
    let mut columns: Vec<(&'static str, &[&str])> = COLUMNS.to_vec();
    for (k, w) in &owned {
        columns.push((k, w.as_slice()));
    }
    let records = table_read::read(bytes, limits, &columns, &["code", "text", "kind"], &[])?;
    // The title and introduction above the header.
    let (mut wb, names) = open(bytes, limits)?;
    let first = names.first().cloned().unwrap_or_default();
    let sheet = load_sheet(&mut wb, &first, limits)?;
    let (r0, c0) = sheet.range.start().unwrap_or((0, 0));
    let mut problems = vec![];
    let title = text(
        sheet.get(r0, c0),
        || cell_ref(&first, r0, c0),
        limits,
        &mut problems,
    );
    let intro_row = r0 + 1;
    let header_row = records
        .first()
        .map_or(intro_row + 1, |r| r.row.saturating_sub(2));
    let intro = if intro_row < header_row {
        text(
            sheet.get(intro_row, c0),
            || cell_ref(&first, intro_row, c0),
            limits,
            &mut problems,
        )
    } else {
        String::new()
    };
    if title.is_empty() {
        problems.push(problem(cell_ref(&first, r0, c0), "required", "title"));
    }
    let mut questions = vec![];
    for r in &records {
        let q = question(r, &mut problems);
        if q.code.is_empty() {
            problems.push(problem(r.place("code"), "required", ""));
        } else if questions.iter().any(|x: &QuestionSpec| x.code == q.code) {
            problems.push(problem(r.place("code"), "duplicate", &q.code));
        }
        if q.text.is_empty() {
            problems.push(problem(r.place("text"), "required", ""));
        }
        questions.push(q);
    }
    let doc = QuestionnaireDoc {
        title,
        intro,
        questions,
    };
    // What the sheet's cells cannot show alone (a choice question with one
    // option, a rate on a text question): named by the question's row.
    if let Err(e) = doc.validate() {
        for f in &e.0 {
            let at = f
                .field
                .strip_prefix("questions[")
                .and_then(|s| s.split_once(']'))
                .and_then(|(i, rest)| {
                    Some((i.parse::<usize>().ok()?, rest.trim_start_matches('.')))
                });
            let place = match at {
                Some((i, field)) => {
                    let key = match field {
                        "choices" => "o1",
                        "rate" => "rate",
                        k => COLUMNS.iter().find(|c| c.0 == k).map_or("code", |c| c.0),
                    };
                    records
                        .get(i)
                        .map_or_else(|| first.clone(), |r| r.place(key))
                }
                None => cell_ref(&first, r0, c0),
            };
            if !problems.iter().any(|p| p.place == place) {
                problems.push(problem(place, f.code, ""));
            }
        }
    }
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> QuestionnaireDoc {
        let choices = |labels: &[&str]| {
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| Choice {
                    code: (i + 1).to_string(),
                    label: l.to_string(),
                })
                .collect()
        };
        QuestionnaireDoc {
            title: "文明城市创建群众满意度问卷".into(),
            intro: "匿名填写，约三分钟。".into(),
            questions: vec![
                QuestionSpec {
                    code: "Q1".into(),
                    text: "您对本社区的创建工作满意吗？".into(),
                    kind: QuestionKind::Single,
                    choices: choices(&["满意", "比较满意", "不满意", "不了解"]),
                    required: true,
                    groups: vec![Group::Residents, Group::Business],
                    rate: Some(RateSpec {
                        kind: RateKind::Satisfaction,
                        counts: vec!["1".into(), "2".into()],
                        excluded: vec!["4".into()],
                        keep_excluded: false,
                    }),
                    standards: vec!["1.1.1".into()],
                },
                QuestionSpec {
                    code: "Q2".into(),
                    text: "您参加过哪些志愿服务？".into(),
                    kind: QuestionKind::Multiple,
                    choices: vec![
                        Choice {
                            code: "a".into(),
                            label: "环境清扫".into(),
                        },
                        Choice {
                            code: "b".into(),
                            label: "文明劝导".into(),
                        },
                    ],
                    required: false,
                    groups: vec![],
                    rate: None,
                    standards: vec![],
                },
                QuestionSpec {
                    code: "Q3".into(),
                    text: "给政务服务打分".into(),
                    kind: QuestionKind::Scale5,
                    choices: vec![],
                    required: true,
                    groups: vec![],
                    rate: Some(RateSpec {
                        kind: RateKind::ServiceSatisfaction,
                        counts: vec!["4".into(), "5".into()],
                        excluded: vec![],
                        keep_excluded: true,
                    }),
                    standards: vec![],
                },
            ],
        }
    }

    #[test]
    fn a_questionnaire_comes_back_from_its_workbook_unchanged() {
        let d = doc();
        let bytes = write(&d).unwrap();
        let back = read(&bytes, &Limits::default()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn every_bad_cell_is_named_and_nothing_is_read() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("问卷").unwrap();
        ws.write_string(0, 0, "模拟问卷").unwrap();
        for (c, h) in [
            "题号",
            "题目",
            "题型",
            "计入指标",
            "计为是的选项",
            "选项1",
            "选项2",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        let rows: [[&str; 7]; 4] = [
            ["Q1", "满意吗", "单选", "满意率", "1", "满意", "不满意"],
            ["Q2", "喜欢吗", "判断题", "", "", "是", "否"],
            ["Q3", "知道吗", "单选", "知晓率", "7", "知道", "不知道"],
            ["Q1", "", "单选", "好感度", "1", "好", ""],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(3 + r as u32, c as u16, *v).unwrap();
            }
        }
        let bytes = wb.save_to_buffer().unwrap();
        let problems = read(&bytes, &Limits::default()).unwrap_err();
        let at: Vec<(String, &str)> = problems.iter().map(|p| (p.place.clone(), p.code)).collect();
        for want in [
            ("问卷!C5", "invalid_choice"),
            ("问卷!E6", "unknown_choice"),
            ("问卷!A7", "duplicate"),
            ("问卷!B7", "required"),
            ("问卷!D7", "invalid_choice"),
        ] {
            assert!(
                at.iter().any(|(p, c)| p == want.0 && *c == want.1),
                "{want:?} not in {at:?}"
            );
        }
    }
}
