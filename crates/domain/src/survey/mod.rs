//! Questionnaires (问卷调查) and what an answer must be: questions with
//! their options, which rate each feeds and which answers count, the
//! respondent groups (问卷 A/B/C/D) each question is asked of, and the
//! check of one filled questionnaire. The numbers are in `stats`.

pub mod plan;
pub mod results;
pub mod stats;

use crate::coded_enum;
use crate::validation::FieldErrors;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum QuestionKind {
        Single = "single",
        Multiple = "multiple",
        /// 1 to 5.
        Scale5 = "scale5",
        /// 0 to 100.
        Scale100 = "scale100",
        Text = "text",
    }
}

coded_enum! {
    /// The rates the evaluation asks of residents.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RateKind {
        /// 知晓率
        Awareness = "awareness",
        /// 支持率
        Support = "support",
        /// 满意率
        Satisfaction = "satisfaction",
        /// 参与率
        Participation = "participation",
        /// 政务服务满意度
        ServiceSatisfaction = "service_satisfaction",
    }
}

coded_enum! {
    /// Who answers: each group has its version of the questionnaire.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Group {
        /// 问卷 A: 市民
        Residents = "residents",
        /// 问卷 B: 学生
        Students = "students",
        /// 问卷 C: 经营业主
        Business = "business",
        /// 问卷 D: 外来游客
        Visitors = "visitors",
    }
}

impl Group {
    /// The version letter the paper forms carry.
    pub fn letter(self) -> char {
        match self {
            Group::Residents => 'A',
            Group::Students => 'B',
            Group::Business => 'C',
            Group::Visitors => 'D',
        }
    }
}

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    pub enum AgeBand {
        #[serde(rename = "18-29")]
        From18 = "18-29",
        #[serde(rename = "30-44")]
        From30 = "30-44",
        #[serde(rename = "45-59")]
        From45 = "45-59",
        #[serde(rename = "60+")]
        From60 = "60+",
    }
}

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Sex {
        Male = "male",
        Female = "female",
    }
}

coded_enum! {
    /// What came of one contact attempt (AAPOR's classes).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Disposition {
        Complete = "complete",
        Partial = "partial",
        Refusal = "refusal",
        NonContact = "non_contact",
        Other = "other",
        /// Eligibility unknown (nobody answered the door, say).
        Unknown = "unknown",
        /// Reached but outside the survey's population (a visitor where
        /// residents are asked, an empty flat): out of every rate, and
        /// the base of RR3's estimate of how many unknowns were eligible.
        NotEligible = "not_eligible",
    }
}

/// One choice of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub code: String,
    pub label: String,
}

/// What a question feeds: the rate, the answers that count for it, and the
/// answers left out of its denominator (不了解, say) unless the rate says
/// to keep them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateSpec {
    pub kind: RateKind,
    /// Choice codes that count; for a scale, the values (as text) that do.
    pub counts: Vec<String>,
    #[serde(default)]
    pub excluded: Vec<String>,
    /// Keep the excluded answers in the denominator (counted as no).
    #[serde(default)]
    pub keep_excluded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSpec {
    /// Stable within the questionnaire: Q1, Q2 ...
    pub code: String,
    pub text: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub choices: Vec<Choice>,
    #[serde(default = "yes")]
    pub required: bool,
    /// The groups asked (none: everyone).
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub rate: Option<RateSpec>,
    /// Codes of the framework standards its answers evidence.
    #[serde(default)]
    pub standards: Vec<String>,
}

fn yes() -> bool {
    true
}

impl QuestionSpec {
    pub fn asks(&self, group: Group) -> bool {
        self.groups.is_empty() || self.groups.contains(&group)
    }

    /// Whether an answer counts for the question's rate: `None` when it
    /// stays out of the denominator (excluded, or not answered).
    pub fn counts(&self, answer: Option<&Answer>) -> Option<bool> {
        let rate = self.rate.as_ref()?;
        let values: Vec<String> = match answer? {
            _ if self.kind == QuestionKind::Text => return None,
            Answer::Text(c) => vec![c.clone()],
            Answer::Choices(cs) => cs.clone(),
            Answer::Scale(v) => vec![v.to_string()],
        };
        if values.iter().any(|v| rate.counts.contains(v)) {
            return Some(true);
        }
        if !rate.keep_excluded && values.iter().all(|v| rate.excluded.contains(v)) {
            return None;
        }
        Some(false)
    }
}

/// A questionnaire as designed: imported, exported and versioned whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionnaireDoc {
    pub title: String,
    #[serde(default)]
    pub intro: String,
    pub questions: Vec<QuestionSpec>,
}

/// One question's answer: a scale value, the codes chosen of a multiple
/// choice, or text (a single choice's code, or what was written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Scale(u32),
    Choices(Vec<String>),
    Text(String),
}

pub const TEXT_MAX: usize = 500;

impl QuestionnaireDoc {
    /// Every problem of the design, named by question (`questions[3].rate`).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.title.trim().is_empty() {
            e.add("title", "required");
        }
        if self.questions.is_empty() {
            e.add("questions", "required");
        }
        let mut seen = std::collections::HashSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            let f = |k: &str| format!("questions[{i}].{k}");
            if q.code.trim().is_empty() {
                e.add(f("code"), "required");
            } else if !seen.insert(q.code.as_str()) {
                e.add(f("code"), "duplicate");
            }
            if q.text.trim().is_empty() {
                e.add(f("text"), "required");
            }
            let choice_kind = matches!(q.kind, QuestionKind::Single | QuestionKind::Multiple);
            if choice_kind && q.choices.len() < 2 {
                e.add(f("choices"), "too_few_choices");
            }
            if !choice_kind && !q.choices.is_empty() {
                e.add(f("choices"), "choices_not_allowed");
            }
            let mut codes = std::collections::HashSet::new();
            for c in &q.choices {
                if c.code.trim().is_empty() || c.label.trim().is_empty() {
                    e.add(f("choices"), "required");
                } else if !codes.insert(c.code.as_str()) {
                    e.add(f("choices"), "duplicate");
                }
            }
            if let Some(r) = &q.rate {
                let valid = |v: &String| match q.kind {
                    QuestionKind::Single | QuestionKind::Multiple => codes.contains(v.as_str()),
                    QuestionKind::Scale5 => v.parse::<u32>().is_ok_and(|x| (1..=5).contains(&x)),
                    QuestionKind::Scale100 => v.parse::<u32>().is_ok_and(|x| x <= 100),
                    QuestionKind::Text => false,
                };
                if q.kind == QuestionKind::Text {
                    e.add(f("rate"), "rate_needs_choices");
                } else if r.counts.is_empty() {
                    e.add(f("rate"), "required");
                } else if !r.counts.iter().chain(&r.excluded).all(valid) {
                    e.add(f("rate"), "unknown_choice");
                } else if r.counts.iter().any(|c| r.excluded.contains(c)) {
                    e.add(f("rate"), "counted_and_excluded");
                }
            }
        }
        e.into_result(())
    }

    /// The questions a group is asked, in order.
    pub fn for_group(&self, group: Group) -> impl Iterator<Item = &QuestionSpec> {
        self.questions.iter().filter(move |q| q.asks(group))
    }

    /// Checks one filled questionnaire for a group; every problem is named
    /// by its question's code. Answers to questions the group is not asked
    /// are refused rather than stored.
    pub fn check(
        &self,
        group: Group,
        answers: &BTreeMap<String, Answer>,
    ) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        for code in answers.keys() {
            if !self.for_group(group).any(|q| &q.code == code) {
                e.add(code.clone(), "unknown_question");
            }
        }
        for q in self.for_group(group) {
            let a = answers.get(&q.code);
            let blank = match a {
                None => true,
                Some(Answer::Text(t)) => t.trim().is_empty(),
                Some(Answer::Choices(c)) => c.is_empty(),
                _ => false,
            };
            if blank {
                if q.required {
                    e.add(q.code.clone(), "required");
                }
                continue;
            }
            let known = |c: &String| q.choices.iter().any(|x| &x.code == c);
            let ok = match (q.kind, a) {
                (QuestionKind::Single, Some(Answer::Text(c))) => known(c),
                (QuestionKind::Multiple, Some(Answer::Choices(cs))) => {
                    cs.iter().all(known) && {
                        let mut s = cs.clone();
                        s.sort();
                        s.dedup();
                        s.len() == cs.len()
                    }
                }
                (QuestionKind::Multiple, Some(Answer::Text(c))) => known(c),
                (QuestionKind::Scale5, Some(Answer::Scale(v))) => (1..=5).contains(v),
                (QuestionKind::Scale100, Some(Answer::Scale(v))) => *v <= 100,
                (QuestionKind::Text, Some(Answer::Text(t))) => t.chars().count() <= TEXT_MAX,
                _ => false,
            };
            if !ok {
                let code = match q.kind {
                    QuestionKind::Scale5 | QuestionKind::Scale100 => "out_of_range",
                    QuestionKind::Text => "too_long",
                    _ => "unknown_choice",
                };
                e.add(q.code.clone(), code);
            }
        }
        e.into_result(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(code: &str, kind: QuestionKind) -> QuestionSpec {
        QuestionSpec {
            code: code.into(),
            text: format!("问题 {code}"),
            kind,
            choices: vec![],
            required: true,
            groups: vec![],
            rate: None,
            standards: vec![],
        }
    }

    fn satisfaction() -> QuestionSpec {
        let mut s = q("Q1", QuestionKind::Single);
        s.choices = ["非常满意", "满意", "一般", "不满意", "不了解"]
            .iter()
            .enumerate()
            .map(|(i, l)| Choice {
                code: format!("{}", i + 1),
                label: l.to_string(),
            })
            .collect();
        s.rate = Some(RateSpec {
            kind: RateKind::Satisfaction,
            counts: vec!["1".into(), "2".into()],
            excluded: vec!["5".into()],
            keep_excluded: false,
        });
        s
    }

    fn doc() -> QuestionnaireDoc {
        let mut students = q("Q2", QuestionKind::Scale5);
        students.groups = vec![Group::Students];
        let mut note = q("Q3", QuestionKind::Text);
        note.required = false;
        QuestionnaireDoc {
            title: "测试问卷".into(),
            intro: String::new(),
            questions: vec![satisfaction(), students, note],
        }
    }

    #[test]
    fn satisfied_counts_and_dont_know_leaves_the_denominator() {
        let s = satisfaction();
        let a = |c: &str| Answer::Text(c.into());
        assert_eq!(s.counts(Some(&a("1"))), Some(true));
        assert_eq!(s.counts(Some(&a("2"))), Some(true));
        assert_eq!(s.counts(Some(&a("3"))), Some(false));
        assert_eq!(s.counts(Some(&a("5"))), None);
        assert_eq!(s.counts(None), None);
        let mut kept = s.clone();
        kept.rate.as_mut().unwrap().keep_excluded = true;
        assert_eq!(kept.counts(Some(&a("5"))), Some(false));
    }

    #[test]
    fn a_filled_questionnaire_names_each_bad_question() {
        let d = doc();
        d.validate().unwrap();
        let mut ok = BTreeMap::new();
        ok.insert("Q1".to_string(), Answer::Text("2".into()));
        d.check(Group::Residents, &ok).unwrap();
        // Students are asked Q2 too.
        let e = d.check(Group::Students, &ok).unwrap_err();
        assert_eq!(e.for_field("Q2"), Some("required"));
        let mut bad = ok.clone();
        bad.insert("Q1".into(), Answer::Text("9".into()));
        bad.insert("Q2".into(), Answer::Scale(6));
        bad.insert("Q3".into(), Answer::Text("字".repeat(TEXT_MAX + 1)));
        let e = d.check(Group::Students, &bad).unwrap_err();
        assert_eq!(e.for_field("Q1"), Some("unknown_choice"));
        assert_eq!(e.for_field("Q2"), Some("out_of_range"));
        assert_eq!(e.for_field("Q3"), Some("too_long"));
        // Residents are not asked Q2: an answer to it is refused.
        let mut extra = ok.clone();
        extra.insert("Q2".into(), Answer::Scale(3));
        let e = d.check(Group::Residents, &extra).unwrap_err();
        assert_eq!(e.for_field("Q2"), Some("unknown_question"));
    }

    #[test]
    fn a_bad_design_is_named_question_by_question() {
        let mut d = doc();
        d.questions[1].code = "Q1".into();
        d.questions[0].rate.as_mut().unwrap().counts = vec!["7".into()];
        d.questions[2].rate = d.questions[0].rate.clone();
        let e = d.validate().unwrap_err();
        assert_eq!(e.for_field("questions[1].code"), Some("duplicate"));
        assert_eq!(e.for_field("questions[0].rate"), Some("unknown_choice"));
        assert_eq!(e.for_field("questions[2].rate"), Some("rate_needs_choices"));
    }
}
