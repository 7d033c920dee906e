//! The evidence archive (台账 / 网上申报): the materials that prove each
//! standard reviewed by materials, the window they must fall in, and when a
//! requirement counts as met. Pure rules; the store keeps the rows.

use crate::coded_enum;
use crate::framework::{EvidenceType, Method, StandardSpec};
pub use crate::source::Source;
use jiff::civil::Date;
use serde::Serialize;

coded_enum! {
    /// What a stored file is, judged by its content.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FileKind {
        Pdf = "pdf",
        Docx = "docx",
        Xlsx = "xlsx",
        Ofd = "ofd",
        Jpeg = "jpeg",
        Png = "png",
        Webp = "webp",
    }
}

impl FileKind {
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Ofd => "application/ofd",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Jpeg => "jpg",
            other => other.code(),
        }
    }
    pub fn is_image(self) -> bool {
        matches!(self, FileKind::Jpeg | FileKind::Png | FileKind::Webp)
    }
}

coded_enum! {
    /// One offer of a material for a requirement, and the office's decision.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum SubmissionState {
        Submitted = "submitted",
        Accepted = "accepted",
        Returned = "returned",
    }
}

coded_enum! {
    /// Where a requirement stands, as its unit and the office see it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RequirementState {
        /// Nothing filed that could meet it (or not enough).
        Missing = "missing",
        /// Sent back: the reason is on the unit's list.
        Returned = "returned",
        /// Filed, waiting for the office's review.
        Submitted = "submitted",
        /// Enough accepted materials inside the window.
        Met = "met",
    }
}

/// The months a filing covers: the `months` ending the month before the
/// evaluation (an evaluation in August 2027 covers August 2026 to July
/// 2027). `start` is included, `end` is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: Date,
    pub end: Date,
}

pub const DEFAULT_WINDOW_MONTHS: i64 = 12;

impl Window {
    pub fn before(evaluation: Date, months: i64) -> Window {
        let end = evaluation.first_of_month();
        let start = end
            .checked_sub(jiff::Span::new().months(months.clamp(1, 60)))
            .unwrap_or(end);
        Window { start, end }
    }
    pub fn contains(&self, d: Date) -> bool {
        self.start <= d && d < self.end
    }
    /// The last day inside it.
    pub fn last_day(&self) -> Date {
        self.end.yesterday().unwrap_or(self.end)
    }
}

/// The count of a requirement's submissions by what became of them; only
/// accepted materials dated inside the window count towards `needed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub accepted_in_window: i64,
    pub accepted_outside: i64,
    pub submitted: i64,
    pub returned: i64,
}

pub fn state(needed: i64, t: &Tally) -> RequirementState {
    if t.accepted_in_window >= needed.max(1) {
        RequirementState::Met
    } else if t.submitted > 0 {
        RequirementState::Submitted
    } else if t.returned > 0 {
        RequirementState::Returned
    } else {
        RequirementState::Missing
    }
}

impl Source {
    /// Whether what it makes can prove a requirement of this type; the
    /// material then takes the requirement's type.
    pub fn fits(&self, t: EvidenceType) -> bool {
        use EvidenceType::*;
        match self {
            Source::CaseStatistics { .. } => t == StatisticsTable,
            Source::PhotoPairs { .. } => t == Photo,
            Source::RoundReports { .. } => matches!(t, StatisticsTable | Statement),
            Source::TaskTable { .. } => t == PolicyDocument,
            Source::SurveyResults => matches!(t, StatisticsTable | Statement),
        }
    }
}

/// What the photo checks cases use find on a material that is a picture,
/// for the reviewer: none of them refuses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PhotoFlag {
    /// The same picture (the very file, or re-encoded) is a case's photo.
    CasePhoto {
        case_id: uuid::Uuid,
        number: String,
        same_file: bool,
    },
    /// Another unit filed the very same file.
    OtherUnit { unit: String },
    /// Its capture time is outside the filing window.
    TakenOutsideWindow { taken_on: Date },
}

impl PhotoFlag {
    pub fn code(&self) -> &'static str {
        match self {
            PhotoFlag::CasePhoto { .. } => "case_photo",
            PhotoFlag::OtherUnit { .. } => "other_unit",
            PhotoFlag::TakenOutsideWindow { .. } => "taken_outside_window",
        }
    }
}

/// A requirement before it is stored: what the office edits, and what
/// activation creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementDraft {
    pub evidence_type: EvidenceType,
    pub title: String,
    pub needed: i64,
    pub source: Option<Source>,
}

/// The requirements a standard starts with: those its framework document
/// lists (材料要求), or else one per evidence type it names when material
/// review is one of its methods (none otherwise); a standard reviewed by
/// materials that names no type asks for a statement.
pub fn defaults(spec: &StandardSpec) -> Vec<RequirementDraft> {
    if !spec.requirements.is_empty() {
        return spec
            .requirements
            .iter()
            .map(|r| RequirementDraft {
                evidence_type: r.evidence_type,
                title: r.title.clone(),
                needed: r.needed,
                source: r.source.clone(),
            })
            .collect();
    }
    if !spec.methods.contains(&Method::MaterialReview) {
        return vec![];
    }
    let types = if spec.evidence_types.is_empty() {
        vec![EvidenceType::Statement]
    } else {
        spec.evidence_types.clone()
    };
    types
        .into_iter()
        .map(|t| RequirementDraft {
            evidence_type: t,
            title: default_title(t).to_string(),
            needed: 1,
            source: None,
        })
        .collect()
}

/// What a default requirement asks for, in the office's words (editable).
pub fn default_title(t: EvidenceType) -> &'static str {
    match t {
        EvidenceType::PolicyDocument => "印发的工作方案、制度或通知（含文号）",
        EvidenceType::Statement => "工作开展情况说明",
        EvidenceType::Photo => "现场实景图片（注明时间、地点）",
        EvidenceType::StatisticsTable => "相关工作统计表",
    }
}

/// Met / required over a set of requirements (a standard, an indicator, a
/// unit, the framework).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Completeness {
    pub required: i64,
    pub met: i64,
    pub submitted: i64,
    pub returned: i64,
    pub missing: i64,
    /// Not met and past the due date.
    pub overdue: i64,
}

impl Completeness {
    pub fn add(&mut self, s: RequirementState, overdue: bool) {
        self.required += 1;
        match s {
            RequirementState::Met => self.met += 1,
            RequirementState::Submitted => self.submitted += 1,
            RequirementState::Returned => self.returned += 1,
            RequirementState::Missing => self.missing += 1,
        }
        if overdue && s != RequirementState::Met {
            self.overdue += 1;
        }
    }
    pub fn merge(&mut self, o: &Completeness) {
        self.required += o.required;
        self.met += o.met;
        self.submitted += o.submitted;
        self.returned += o.returned;
        self.missing += o.missing;
        self.overdue += o.overdue;
    }
    /// Met as a share of required, none when nothing is required.
    pub fn share(&self) -> Option<f64> {
        (self.required > 0).then(|| self.met as f64 / self.required as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_window_is_the_twelve_months_before_the_evaluation_month() {
        let w = Window::before(date(2027, 8, 20), 12);
        assert_eq!((w.start, w.end), (date(2026, 8, 1), date(2027, 8, 1)));
        assert!(w.contains(date(2026, 8, 1)));
        assert!(w.contains(date(2027, 7, 31)));
        assert!(!w.contains(date(2027, 8, 1)), "the evaluation month is out");
        assert!(!w.contains(date(2026, 7, 31)));
        assert_eq!(w.last_day(), date(2027, 7, 31));
        let six = Window::before(date(2027, 3, 1), 6);
        assert_eq!(six.start, date(2026, 9, 1));
    }

    #[test]
    fn a_requirement_is_met_by_enough_accepted_materials_inside_the_window() {
        let t = |a, o, s, r| Tally {
            accepted_in_window: a,
            accepted_outside: o,
            submitted: s,
            returned: r,
        };
        assert_eq!(state(1, &t(0, 0, 0, 0)), RequirementState::Missing);
        assert_eq!(state(1, &t(0, 0, 1, 1)), RequirementState::Submitted);
        assert_eq!(state(1, &t(0, 0, 0, 1)), RequirementState::Returned);
        assert_eq!(state(1, &t(1, 0, 0, 0)), RequirementState::Met);
        // Accepted but dated outside the window does not count.
        assert_eq!(state(1, &t(0, 2, 0, 0)), RequirementState::Missing);
        assert_eq!(state(2, &t(1, 0, 0, 0)), RequirementState::Missing);
        assert_eq!(state(2, &t(2, 0, 1, 0)), RequirementState::Met);
    }

    #[test]
    fn defaults_follow_the_standards_evidence_types_for_material_review_only() {
        let spec = |methods: Vec<Method>, types: Vec<EvidenceType>| StandardSpec {
            points: Default::default(),
            methods,
            featured: false,
            site_types: vec![],
            evidence_types: types,
            lead_unit: None,
            cooperating_units: vec![],
            observation: None,
            requirements: vec![],
        };
        let d = defaults(&spec(
            vec![Method::SiteInspection, Method::MaterialReview],
            vec![EvidenceType::PolicyDocument, EvidenceType::Photo],
        ));
        assert_eq!(
            d.iter().map(|r| r.evidence_type).collect::<Vec<_>>(),
            vec![EvidenceType::PolicyDocument, EvidenceType::Photo]
        );
        assert!(
            defaults(&spec(
                vec![Method::SiteInspection],
                vec![EvidenceType::Photo]
            ))
            .is_empty()
        );
        assert_eq!(
            defaults(&spec(vec![Method::MaterialReview], vec![]))[0].evidence_type,
            EvidenceType::Statement
        );
    }

    #[test]
    fn completeness_adds_up_and_counts_overdue_only_when_unmet() {
        let mut c = Completeness::default();
        c.add(RequirementState::Met, true);
        c.add(RequirementState::Missing, true);
        c.add(RequirementState::Submitted, false);
        assert_eq!((c.required, c.met, c.overdue), (3, 1, 1));
        let mut all = Completeness::default();
        all.merge(&c);
        all.merge(&c);
        assert_eq!(all.required, 6);
        assert_eq!(all.share(), Some(1.0 / 3.0));
        assert_eq!(Completeness::default().share(), None);
    }
}
