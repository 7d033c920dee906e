//! Ranking lists (红黑榜, 十佳十差): what is ranked, over which period, the
//! minimum n below which an entry is listed but not ranked, and how many
//! go on the red (best) and black (worst) lists. A list is computed as a
//! draft, approved by a second office account and published frozen; a
//! correction is a new edition with its reason.

use crate::FieldErrors;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

crate::coded_enum! {
    /// What a list ranks.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Subject {
        /// Units by their composite handling score (综合指标值) of a month.
        UnitHandling = "unit_handling",
        /// Streets by the on-site score rate of the period's rounds.
        StreetOnSite = "street_on_site",
        /// Communities likewise.
        CommunityOnSite = "community_on_site",
        /// Sites likewise (十佳十差).
        SiteOnSite = "site_on_site",
        /// Communities by a survey wave's satisfaction rate.
        CommunitySatisfaction = "community_satisfaction",
        /// Units by a 民评官 round's result.
        UnitRating = "unit_rating",
    }
}

impl Subject {
    /// Units are ranked; an entry of theirs can be appealed by them.
    pub fn ranks_units(self) -> bool {
        matches!(self, Subject::UnitHandling | Subject::UnitRating)
    }
    /// Needs a wave or a rating round to read from.
    pub fn needs_source(self) -> bool {
        matches!(self, Subject::CommunitySatisfaction | Subject::UnitRating)
    }
}

/// A list's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListSpec {
    pub name: String,
    pub subject: Subject,
    pub period_from: jiff::civil::Date,
    pub period_to: jiff::civil::Date,
    /// Round kinds whose findings count (on-site subjects); none: all.
    #[serde(default)]
    pub round_kinds: Vec<String>,
    /// The wave (satisfaction) or rating round (民评官) read from.
    #[serde(default)]
    pub source_id: Option<Uuid>,
    /// The question whose rate ranks communities (satisfaction).
    #[serde(default)]
    pub question: Option<String>,
    pub min_n: i64,
    pub red: i64,
    pub black: i64,
    /// An entry at or above this value stays off the black list however
    /// low it ranks (a site scoring above 85% is not shamed).
    #[serde(default)]
    pub black_below: Option<f64>,
    /// The published list has a public page.
    #[serde(default)]
    pub public: bool,
    /// Days after publication within which a unit may appeal its entry.
    pub appeal_days: i64,
}

impl ListSpec {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.name.trim().is_empty() {
            e.add("name", "required");
        }
        if self.period_to < self.period_from {
            e.add("period_to", "before_start");
        }
        if self.min_n < 1 {
            e.add("min_n", "at_least_one");
        }
        for (f, v) in [("red", self.red), ("black", self.black)] {
            if !(0..=100).contains(&v) {
                e.add(f, "out_of_range");
            }
        }
        if !(0..=90).contains(&self.appeal_days) {
            e.add("appeal_days", "out_of_range");
        }
        if self.subject.needs_source() && self.source_id.is_none() {
            e.add("source_id", "required");
        }
        if self.subject == Subject::CommunitySatisfaction
            && self.question.as_deref().is_none_or(|q| q.trim().is_empty())
        {
            e.add("question", "required");
        }
        if let Some(b) = self.black_below
            && !b.is_finite()
        {
            e.add("black_below", "not_a_number");
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }
}

/// Which list an entry is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Red,
    Black,
}

/// One ranked thing as computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub subject_id: Uuid,
    pub name: String,
    /// The value ranked (a rate in 0-1, a score, a mean).
    pub value: f64,
    pub n: u64,
    /// None: fewer than the minimum n, listed but not ranked.
    pub rank: Option<usize>,
    pub mark: Option<Mark>,
    /// Struck by a correction, with why.
    #[serde(default)]
    pub struck: Option<String>,
}

/// Ranks entries, best (highest value) first, ties sharing a rank; marks
/// the best `red` and the worst `black` of the ranked, never the same
/// entry twice, and none on the black list at or above `black_below`.
/// Struck entries keep their line but are neither ranked nor marked.
pub fn rank(mut entries: Vec<Entry>, spec: &ListSpec) -> Vec<Entry> {
    let min_n = spec.min_n.max(1) as u64;
    entries.sort_by(|a, b| {
        let ranked = |e: &Entry| e.struck.is_none() && e.n >= min_n;
        ranked(b)
            .cmp(&ranked(a))
            .then(b.value.total_cmp(&a.value))
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut place = 0;
    let mut last: Option<f64> = None;
    for (i, e) in entries.iter_mut().enumerate() {
        e.mark = None;
        if e.struck.is_some() || e.n < min_n {
            e.rank = None;
            continue;
        }
        if last != Some(e.value) {
            place = i + 1;
            last = Some(e.value);
        }
        e.rank = Some(place);
    }
    let ranked: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].rank.is_some())
        .collect();
    let red = (spec.red.max(0) as usize).min(ranked.len());
    for &i in &ranked[..red] {
        entries[i].mark = Some(Mark::Red);
    }
    let mut black = spec.black.max(0) as usize;
    for &i in ranked.iter().rev() {
        if black == 0 {
            break;
        }
        let e = &mut entries[i];
        if e.mark.is_some() {
            break;
        }
        if spec.black_below.is_some_and(|b| e.value >= b) {
            break;
        }
        e.mark = Some(Mark::Black);
        black -= 1;
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(red: i64, black: i64) -> ListSpec {
        ListSpec {
            name: "十佳十差".into(),
            subject: Subject::SiteOnSite,
            period_from: "2026-11-01".parse().unwrap(),
            period_to: "2026-11-07".parse().unwrap(),
            round_kinds: vec![],
            source_id: None,
            question: None,
            min_n: 3,
            red,
            black,
            black_below: None,
            public: false,
            appeal_days: 7,
        }
    }

    fn e(name: &str, value: f64, n: u64) -> Entry {
        Entry {
            subject_id: Uuid::new_v4(),
            name: name.into(),
            value,
            n,
            rank: None,
            mark: None,
            struck: None,
        }
    }

    #[test]
    fn the_best_go_red_the_worst_black_ties_share_and_the_few_are_not_ranked() {
        let got = rank(
            vec![
                e("A", 0.9, 5),
                e("B", 0.7, 5),
                e("C", 0.9, 5),
                e("D", 0.5, 5),
                e("E", 1.0, 1),
                e("F", 0.6, 4),
            ],
            &spec(2, 2),
        );
        let line: Vec<(&str, Option<usize>, Option<Mark>)> = got
            .iter()
            .map(|x| (x.name.as_str(), x.rank, x.mark))
            .collect();
        assert_eq!(
            line,
            [
                ("A", Some(1), Some(Mark::Red)),
                ("C", Some(1), Some(Mark::Red)),
                ("B", Some(3), None),
                ("F", Some(4), Some(Mark::Black)),
                ("D", Some(5), Some(Mark::Black)),
                ("E", None, None),
            ]
        );
    }

    #[test]
    fn no_entry_is_on_both_lists_and_a_good_score_stays_off_the_black() {
        let got = rank(vec![e("A", 0.9, 5), e("B", 0.8, 5)], &spec(1, 5));
        assert_eq!(got[0].mark, Some(Mark::Red));
        assert_eq!(got[1].mark, Some(Mark::Black));
        let mut s = spec(0, 2);
        s.black_below = Some(0.85);
        let got = rank(vec![e("A", 0.9, 5), e("B", 0.8, 5)], &s);
        assert_eq!(got[0].mark, None);
        assert_eq!(got[1].mark, Some(Mark::Black));
    }

    #[test]
    fn a_struck_entry_keeps_its_line_but_leaves_the_lists() {
        let mut d = e("D", 0.5, 5);
        d.struck = Some("申诉成立".into());
        let got = rank(vec![e("A", 0.9, 5), e("B", 0.7, 5), d], &spec(1, 1));
        assert_eq!(got[2].name, "D");
        assert_eq!((got[2].rank, got[2].mark), (None, None));
        assert_eq!(got[1].mark, Some(Mark::Black));
    }

    #[test]
    fn a_minimum_n_below_one_and_other_bad_specs_are_named() {
        let mut s = spec(1, 1);
        s.min_n = 0;
        s.red = -1;
        s.period_to = "2026-10-01".parse().unwrap();
        let err = s.validate().unwrap_err();
        assert_eq!(err.for_field("min_n"), Some("at_least_one"));
        assert_eq!(err.for_field("red"), Some("out_of_range"));
        assert_eq!(err.for_field("period_to"), Some("before_start"));
        let mut s = spec(1, 1);
        s.subject = Subject::UnitRating;
        assert_eq!(
            s.validate().unwrap_err().for_field("source_id"),
            Some("required")
        );
    }
}
