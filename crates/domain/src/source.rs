//! Where wenming builds a material from the records it already holds
//! (自动生成材料): named on an evidence requirement, and carried in the
//! framework's portable form with it.

use crate::inspection::RoundKind;
use serde::Serialize;

/// Where wenming builds a requirement's material from the work it already
/// records (自动生成材料), instead of waiting for an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// 统计表格: each month of the window, per unit and for the city:
    /// registered, due, closed and on-time rates, for the cases of these
    /// category codes (a class takes its subclasses; none: all).
    CaseStatistics {
        #[serde(default)]
        categories: Vec<String>,
    },
    /// 实景图片: before and after photos of the cases closed in the window,
    /// side by side with when and where, for these category codes; none:
    /// the cases filed against the requirement's standard (by an
    /// inspection finding, or by a category the catalogue maps to it).
    PhotoPairs {
        #[serde(default)]
        categories: Vec<String>,
    },
    /// 统计表格 / 情况说明: the rounds of these kinds (none: all) held in the
    /// window, each with its score rate and the requirement's standard's.
    RoundReports {
        #[serde(default)]
        kinds: Vec<RoundKind>,
    },
    /// 规范文件 (its companion table): the task decomposition table (任务分解表) of the
    /// requirement's standard, or of the whole framework, with each task's
    /// target, deadline and reported progress.
    TaskTable {
        #[serde(default)]
        whole_framework: bool,
    },
    /// 统计表格 / 情况说明: the rates of the survey waves begun in the
    /// window whose questions evidence the requirement's standard: each
    /// region's n, rate and 95% interval, weighted and unweighted (a cell
    /// under the wave's minimum n with its n only).
    SurveyResults,
}

impl Source {
    pub const KINDS: [&'static str; 5] = [
        "case_statistics",
        "photo_pairs",
        "round_reports",
        "task_table",
        "survey_results",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            Source::CaseStatistics { .. } => "case_statistics",
            Source::PhotoPairs { .. } => "photo_pairs",
            Source::RoundReports { .. } => "round_reports",
            Source::TaskTable { .. } => "task_table",
            Source::SurveyResults => "survey_results",
        }
    }
    /// The category codes it names, if it names any.
    pub fn categories(&self) -> &[String] {
        match self {
            Source::CaseStatistics { categories } | Source::PhotoPairs { categories } => categories,
            _ => &[],
        }
    }
}
