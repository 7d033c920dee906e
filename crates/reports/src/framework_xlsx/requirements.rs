//! The 材料要求 cell: a standard's material requirements, one a line, as
//! an office writes them — `类型：说明`, then `×份数` when more than one is
//! needed, then `（自动：来源）` when wenming builds it:
//!
//! ```text
//! 规范文件：创建工作实施方案（含文号）
//! 实景图片：背街小巷整治前后对比照片 ×2（自动：对比照片 0203、0204）
//! 统计表格：月度测评结果统计（自动：轮次报告 月度模拟测评）
//! ```

use wenming_domain::evidence::Source;
use wenming_domain::framework::{EvidenceType, RequirementSpec};
use wenming_domain::inspection::RoundKind;

const ROUND_KINDS: [(RoundKind, &str); 4] = [
    (RoundKind::Patrol, "日常巡查"),
    (RoundKind::Supervision, "周督查"),
    (RoundKind::Mock, "月度模拟测评"),
    (RoundKind::ThirdParty, "第三方测评"),
];

fn source_words(s: &Source) -> String {
    let with = |name: &str, args: Vec<String>| {
        if args.is_empty() {
            name.to_string()
        } else {
            format!("{name} {}", args.join("、"))
        }
    };
    match s {
        Source::CaseStatistics { categories } => with("案件统计", categories.clone()),
        Source::PhotoPairs { categories } => with("对比照片", categories.clone()),
        Source::RoundReports { kinds } => with(
            "轮次报告",
            kinds
                .iter()
                .map(|k| {
                    ROUND_KINDS
                        .iter()
                        .find(|(x, _)| x == k)
                        .map_or(k.code(), |(_, w)| w)
                        .to_string()
                })
                .collect(),
        ),
        Source::TaskTable { whole_framework } => with(
            "任务分解表",
            if *whole_framework {
                vec!["全体系".into()]
            } else {
                vec![]
            },
        ),
        Source::SurveyResults => with("问卷结果", vec![]),
    }
}

/// The cell's text.
pub fn to_text(reqs: &[RequirementSpec]) -> String {
    reqs.iter()
        .map(|r| {
            let mut line = format!("{}：{}", r.evidence_type.zh(), r.title);
            if r.needed != 1 {
                line.push_str(&format!(" ×{}", r.needed));
            }
            if let Some(s) = &r.source {
                line.push_str(&format!("（自动：{}）", source_words(s)));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_source(text: &str) -> Option<Source> {
    let mut parts = text.trim().splitn(2, [' ', '　']);
    let name = parts.next()?.trim();
    let args: Vec<String> = parts
        .next()
        .unwrap_or("")
        .split(['、', ',', '，', ' '])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    match name {
        "案件统计" => Some(Source::CaseStatistics { categories: args }),
        "对比照片" => Some(Source::PhotoPairs { categories: args }),
        "轮次报告" => {
            let kinds = args
                .iter()
                .map(|a| {
                    ROUND_KINDS
                        .iter()
                        .find(|(_, w)| w == a)
                        .map(|(k, _)| *k)
                        .or_else(|| RoundKind::parse(a))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(Source::RoundReports { kinds })
        }
        "任务分解表" => match args.as_slice() {
            [] => Some(Source::TaskTable {
                whole_framework: false,
            }),
            [w] if w == "全体系" => Some(Source::TaskTable {
                whole_framework: true,
            }),
            _ => None,
        },
        "问卷结果" if args.is_empty() => Some(Source::SurveyResults),
        _ => None,
    }
}

/// Reads the cell; a line it cannot read is returned as it stands, to be
/// named in the problem.
pub fn from_text(text: &str) -> Result<Vec<RequirementSpec>, String> {
    let mut out = vec![];
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = || line.to_string();
        let (kind, rest) = line.split_once(['：', ':']).ok_or_else(bad)?;
        let evidence_type = EvidenceType::parse(kind.trim()).ok_or_else(bad)?;
        let (rest, source) = match rest
            .trim()
            .strip_suffix('）')
            .and_then(|r| r.rsplit_once("（自动："))
        {
            Some((before, s)) => (before, Some(parse_source(s).ok_or_else(bad)?)),
            None => (rest, None),
        };
        let (title, needed) = match rest.trim().rsplit_once(['×', 'x', 'X']) {
            Some((t, n)) if n.trim().parse::<i64>().is_ok() => {
                (t.trim(), n.trim().parse::<i64>().unwrap_or(1))
            }
            _ => (rest.trim(), 1),
        };
        out.push(RequirementSpec {
            evidence_type,
            title: title.to_string(),
            needed,
            source,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_reads_back_what_was_written() {
        let reqs = vec![
            RequirementSpec {
                evidence_type: EvidenceType::PolicyDocument,
                title: "创建工作实施方案（含文号）".into(),
                needed: 1,
                source: None,
            },
            RequirementSpec {
                evidence_type: EvidenceType::Photo,
                title: "整治前后对比照片".into(),
                needed: 2,
                source: Some(Source::PhotoPairs {
                    categories: vec!["0203".into(), "0204".into()],
                }),
            },
            RequirementSpec {
                evidence_type: EvidenceType::StatisticsTable,
                title: "月度测评结果统计".into(),
                needed: 1,
                source: Some(Source::RoundReports {
                    kinds: vec![RoundKind::Mock, RoundKind::ThirdParty],
                }),
            },
            RequirementSpec {
                evidence_type: EvidenceType::Statement,
                title: "任务推进情况".into(),
                needed: 1,
                source: Some(Source::TaskTable {
                    whole_framework: true,
                }),
            },
            RequirementSpec {
                evidence_type: EvidenceType::StatisticsTable,
                title: "群众满意度调查结果".into(),
                needed: 1,
                source: Some(Source::SurveyResults),
            },
        ];
        let text = to_text(&reqs);
        assert!(text.contains("（自动：问卷结果）"), "{text}");
        assert!(
            text.contains("实景图片：整治前后对比照片 ×2（自动：对比照片 0203、0204）"),
            "{text}"
        );
        assert_eq!(from_text(&text), Ok(reqs));
    }

    #[test]
    fn an_unreadable_line_is_named() {
        assert_eq!(
            from_text("规范文件：方案\n看天气：云"),
            Err("看天气：云".to_string())
        );
        assert_eq!(
            from_text("统计表格：表（自动：天气预报）"),
            Err("统计表格：表（自动：天气预报）".to_string())
        );
    }
}
