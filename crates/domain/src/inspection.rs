//! Inspection rounds and what an inspector records in them: the round form,
//! a finding's checks (its recording fits the standard's rule, photos on a
//! failure, where it was made), and the round's score rates.

use crate::FieldErrors;
use crate::coded_enum;
use crate::site::{Observation, Outcome, Recorded, RotationRules, judge};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How far from a site an inspector may stand before the finding is
/// flagged as made elsewhere: a road or market is large, and phone GPS
/// drifts tens of metres.
pub const VICINITY_M: f64 = 300.0;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RoundKind {
        /// 日常巡查
        Patrol = "patrol",
        /// 周督查
        Supervision = "supervision",
        /// 月度模拟测评
        Mock = "mock",
        /// 第三方测评
        ThirdParty = "third_party",
    }
}

/// A round as the office enters it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoundForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub sample_size: String,
    /// Empty: one is drawn, and kept so the sample can be drawn again.
    #[serde(default)]
    pub seed: String,
    /// Leave out sites inspected within so many days; empty keeps them.
    #[serde(default)]
    pub skip_days: String,
    /// Checkboxes: present means on.
    #[serde(default)]
    pub not_where_they_work: Option<String>,
    #[serde(default)]
    pub not_twice_in_a_row: Option<String>,
    /// Inspector accounts to send; empty sends every active inspector.
    #[serde(default)]
    pub inspector_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoundInput {
    pub name: String,
    pub kind: RoundKind,
    pub starts_on: Date,
    pub ends_on: Date,
    pub sample_size: usize,
    pub seed: Option<u64>,
    pub skip_days: Option<i64>,
    pub rules: RotationRules,
    pub inspector_ids: Vec<Uuid>,
}

/// The largest sample a round may draw: a day's work for a city's office.
pub const MAX_SAMPLE: usize = 2000;

fn checked(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("on" | "true" | "1"))
}

impl RoundForm {
    pub fn parse(&self) -> Result<RoundInput, FieldErrors> {
        use crate::validation;
        let mut e = FieldErrors::new();
        let name = validation::text(&mut e, "name", &self.name, true, 64);
        let kind = RoundKind::parse(self.kind.trim());
        if kind.is_none() {
            e.add("kind", "invalid_choice");
        }
        let starts_on = crate::task::parse_date(&mut e, "starts_on", &self.starts_on);
        let ends_on = crate::task::parse_date(&mut e, "ends_on", &self.ends_on);
        if let (Some(s), Some(t)) = (starts_on, ends_on)
            && t < s
        {
            e.add("ends_on", "before_start");
        }
        let sample_size = match self.sample_size.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_SAMPLE).contains(&n) => Some(n),
            _ if self.sample_size.trim().is_empty() => {
                e.add("sample_size", "required");
                None
            }
            _ => {
                e.add("sample_size", "out_of_range");
                None
            }
        };
        let seed = match self.seed.trim() {
            "" => None,
            s => match s.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    e.add("seed", "not_a_number");
                    None
                }
            },
        };
        let skip_days = match self.skip_days.trim() {
            "" => None,
            s => match s.parse::<i64>() {
                Ok(n) if (1..=366).contains(&n) => Some(n),
                _ => {
                    e.add("skip_days", "out_of_range");
                    None
                }
            },
        };
        let mut inspector_ids = vec![];
        for raw in self.inspector_ids.iter().filter(|s| !s.trim().is_empty()) {
            match Uuid::parse_str(raw.trim()) {
                Ok(id) if !inspector_ids.contains(&id) => inspector_ids.push(id),
                Ok(_) => {}
                Err(_) => e.add("inspector_ids", "invalid_choice"),
            }
        }
        match (name, kind, starts_on, ends_on, sample_size) {
            (Some(name), Some(kind), Some(starts_on), Some(ends_on), Some(sample_size))
                if e.is_empty() =>
            {
                Ok(RoundInput {
                    name,
                    kind,
                    starts_on,
                    ends_on,
                    sample_size,
                    seed,
                    skip_days,
                    rules: RotationRules {
                        not_where_they_work: checked(&self.not_where_they_work),
                        not_twice_in_a_row: checked(&self.not_twice_in_a_row),
                    },
                    inspector_ids,
                })
            }
            _ => Err(e),
        }
    }
}

/// One standard checked at a site, as the inspector's device sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingDraft {
    /// Made on the device, so that sending it again changes nothing.
    pub id: Uuid,
    pub standard_id: Uuid,
    pub recorded: Recorded,
    #[serde(default)]
    pub note: Option<String>,
    /// Photos uploaded beforehand; required when the standard fails.
    #[serde(default)]
    pub photo_ids: Vec<Uuid>,
    /// When it was recorded on the device (it may sync hours later).
    pub observed_at: jiff::Timestamp,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub lat: Option<f64>,
}

/// A finding checked against its standard and site.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub outcome: Outcome,
    pub point: Option<crate::geo::Point>,
    pub distance_m: Option<f64>,
    /// Recorded beyond the site's vicinity.
    pub away: bool,
}

/// Judges a draft. Errors name the field (prefixed with the finding's
/// position, `findings[2].photo_ids`) and why.
pub fn check(
    e: &mut FieldErrors,
    at: usize,
    draft: &FindingDraft,
    rule: Observation,
    site: crate::geo::Point,
    now: jiff::Timestamp,
) -> Option<Judged> {
    let field = |f: &str| format!("findings[{at}].{f}");
    let outcome = match judge(rule, draft.recorded) {
        Ok(o) => o,
        Err(f) => {
            e.add(field(f), "does_not_fit_rule");
            return None;
        }
    };
    if outcome == Outcome::Fail && draft.photo_ids.is_empty() {
        e.add(field("photo_ids"), "photo_required_on_fail");
    }
    if draft
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 500)
    {
        e.add(field("note"), "too_long");
    }
    // A device's clock may run a little fast; a finding from tomorrow is not.
    if draft.observed_at > now + jiff::SignedDuration::from_mins(10) {
        e.add(field("observed_at"), "in_the_future");
    }
    let point = match (draft.lon, draft.lat) {
        (Some(lon), Some(lat)) => match crate::geo::Point::parse(lon, lat) {
            Ok(p) => Some(p),
            Err(_) => {
                e.add(field("lon"), "invalid_coordinates");
                None
            }
        },
        (None, None) => None,
        _ => {
            e.add(field("lat"), "required");
            None
        }
    };
    let distance_m = point.map(|p| p.distance_m(site));
    Some(Judged {
        outcome,
        point,
        distance_m,
        away: distance_m.is_some_and(|d| d > VICINITY_M),
    })
}

/// Parses a stored outcome code.
/// Passed and observed counts, and the score rate (得分率) they give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    pub passed: i64,
    pub observed: i64,
}

impl Score {
    pub fn rate(self) -> Option<f64> {
        (self.observed > 0).then(|| self.passed as f64 / self.observed as f64)
    }
    pub fn failed(self) -> i64 {
        self.observed - self.passed
    }
    /// The rate as a whole percentage, for a bar.
    pub fn percent(self) -> Option<i64> {
        self.rate().map(|r| (r * 100.0).round() as i64)
    }
}

/// A result word the office maps to an outcome for an import (基本合格 →
/// pass, say); the word is kept as a note on the finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultWord {
    pub word: String,
    pub outcome: Outcome,
}

/// Words evaluators use beyond the plain ones, unless the office says
/// otherwise: 基本合格 passes, with the word kept as a note.
pub fn default_result_words() -> Vec<ResultWord> {
    vec![ResultWord {
        word: "基本合格".into(),
        outcome: Outcome::Pass,
    }]
}

/// Reads "基本合格 = 合格" lines (also `=`, `＝`, `:`, `：`, `→`) into result
/// words; the right side is any word `parse_result_text` reads. A line that
/// cannot be read is named by its number.
pub fn parse_result_words(text: &str) -> Result<Vec<ResultWord>, crate::FieldErrors> {
    let mut out = default_result_words();
    let mut e = crate::FieldErrors::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = line
            .split_once(['=', '＝', ':', '：', '→'])
            .and_then(|(w, o)| Some((w.trim(), parse_result_text(o)?)))
            .filter(|(w, _)| !w.is_empty());
        match parsed {
            Some((word, outcome)) => {
                out.retain(|r| {
                    crate::validation::match_key(&r.word) != crate::validation::match_key(word)
                });
                out.push(ResultWord {
                    word: word.to_string(),
                    outcome,
                });
            }
            None => e.add(format!("result_words.{}", i + 1), "invalid_result_word"),
        }
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// A result as written, read with the office's words: the outcome, and
/// the word itself when it is one of those (to keep as a note).
pub fn read_result<'a>(s: &str, words: &'a [ResultWord]) -> Option<(Outcome, Option<&'a str>)> {
    if let Some(o) = parse_result_text(s) {
        return Some((o, None));
    }
    let key = crate::validation::match_key(s);
    words
        .iter()
        .find(|w| crate::validation::match_key(&w.word) == key)
        .map(|w| (w.outcome, Some(w.word.as_str())))
}

/// A third-party result as written in its spreadsheet, read into an outcome
/// (合格/不合格/不适用 and the usual English words), whatever its width or
/// spacing (合　格, Ｐａｓｓ).
pub fn parse_result_text(s: &str) -> Option<Outcome> {
    let t = crate::validation::match_key(s);
    match t.as_str() {
        "合格" | "达标" | "通过" | "是" | "✓" | "√" | "pass" | "passed" | "ok" | "yes" => {
            Some(Outcome::Pass)
        }
        "不合格" | "不达标" | "未通过" | "否" | "✗" | "×" | "fail" | "failed" | "no" => {
            Some(Outcome::Fail)
        }
        "不适用" | "无" | "/" | "n/a" | "na" | "not applicable" => Some(Outcome::NotApplicable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::Point;

    fn form() -> RoundForm {
        RoundForm {
            name: "十一月模拟测评".into(),
            kind: "mock".into(),
            starts_on: "2026-11-02".into(),
            ends_on: "2026-11-06".into(),
            sample_size: "40".into(),
            seed: "".into(),
            skip_days: "7".into(),
            not_where_they_work: Some("on".into()),
            not_twice_in_a_row: None,
            inspector_ids: vec![],
        }
    }

    #[test]
    fn a_round_form_reads_its_rules_and_names_each_bad_field() {
        let r = form().parse().unwrap();
        assert_eq!(r.kind, RoundKind::Mock);
        assert_eq!(r.sample_size, 40);
        assert_eq!(r.skip_days, Some(7));
        assert!(r.rules.not_where_they_work && !r.rules.not_twice_in_a_row);
        let bad = RoundForm {
            kind: "audit".into(),
            ends_on: "2026-11-01".into(),
            sample_size: "0".into(),
            seed: "x".into(),
            skip_days: "900".into(),
            ..form()
        };
        let e = bad.parse().unwrap_err();
        for (f, code) in [
            ("kind", "invalid_choice"),
            ("ends_on", "before_start"),
            ("sample_size", "out_of_range"),
            ("seed", "not_a_number"),
            ("skip_days", "out_of_range"),
        ] {
            assert_eq!(e.for_field(f), Some(code), "{f}");
        }
    }

    fn draft(recorded: Recorded, photos: usize, at: Option<(f64, f64)>) -> FindingDraft {
        FindingDraft {
            id: Uuid::from_u128(1),
            standard_id: Uuid::from_u128(2),
            recorded,
            note: None,
            photo_ids: (0..photos)
                .map(|i| Uuid::from_u128(10 + i as u128))
                .collect(),
            observed_at: "2026-11-02T02:00:00Z".parse().unwrap(),
            lon: at.map(|a| a.0),
            lat: at.map(|a| a.1),
        }
    }

    #[test]
    fn a_failure_needs_a_photo_and_a_far_finding_is_flagged() {
        let site = Point::parse(120.0, 30.0).unwrap();
        let now = "2026-11-02T03:00:00Z".parse().unwrap();
        let mut e = FieldErrors::new();
        let j = check(
            &mut e,
            3,
            &draft(Recorded::Fail, 0, None),
            Observation::PassFail,
            site,
            now,
        );
        assert_eq!(j.unwrap().outcome, Outcome::Fail);
        assert_eq!(
            e.for_field("findings[3].photo_ids"),
            Some("photo_required_on_fail")
        );

        let mut e = FieldErrors::new();
        // About 100 m east, then about 1.1 km north.
        let near = check(
            &mut e,
            0,
            &draft(Recorded::Pass, 0, Some((120.001, 30.0))),
            Observation::PassFail,
            site,
            now,
        )
        .unwrap();
        let far = check(
            &mut e,
            1,
            &draft(Recorded::Pass, 0, Some((120.0, 30.01))),
            Observation::PassFail,
            site,
            now,
        )
        .unwrap();
        assert!(e.is_empty());
        assert!(!near.away && near.distance_m.unwrap() < 120.0);
        assert!(far.away && far.distance_m.unwrap() > 1000.0);
    }

    #[test]
    fn a_count_rule_fails_below_its_threshold_and_refuses_a_plain_pass() {
        let site = Point::parse(120.0, 30.0).unwrap();
        let now = "2026-11-02T03:00:00Z".parse().unwrap();
        let rule = Observation::AtLeast { count: 5 };
        let mut e = FieldErrors::new();
        let j = check(
            &mut e,
            0,
            &draft(Recorded::Count { count: 4 }, 1, None),
            rule,
            site,
            now,
        )
        .unwrap();
        assert_eq!(j.outcome, Outcome::Fail);
        assert!(check(&mut e, 1, &draft(Recorded::Pass, 0, None), rule, site, now).is_none());
        assert_eq!(e.for_field("findings[1].count"), Some("does_not_fit_rule"));
    }

    #[test]
    fn a_score_rate_leaves_out_what_was_not_observed() {
        let s = Score {
            passed: 7,
            observed: 8,
        };
        assert_eq!((s.failed(), s.percent()), (1, Some(88)));
        assert_eq!(Score::default().rate(), None);
    }

    #[test]
    fn third_party_result_words_are_read_in_both_languages() {
        assert_eq!(parse_result_text(" 不合格 "), Some(Outcome::Fail));
        assert_eq!(parse_result_text("PASS"), Some(Outcome::Pass));
        assert_eq!(parse_result_text("不适用"), Some(Outcome::NotApplicable));
        assert_eq!(parse_result_text("基本合格"), None);
        // Full-width letters and spaces, as sheets typed on a phone have.
        assert_eq!(parse_result_text("合　格"), Some(Outcome::Pass));
        assert_eq!(parse_result_text("ＦＡＩＬ"), Some(Outcome::Fail));
        assert_eq!(parse_result_text(" 不 合 格"), Some(Outcome::Fail));
    }

    #[test]
    fn the_office_maps_result_words_and_basically_passed_passes_by_default() {
        let words = parse_result_words("").unwrap();
        assert_eq!(
            read_result("基本合格", &words),
            Some((Outcome::Pass, Some("基本合格")))
        );
        assert_eq!(read_result("合格", &words), Some((Outcome::Pass, None)));
        let words = parse_result_words("基本合格 = 不合格\n待整改：不合格\n").unwrap();
        assert_eq!(
            read_result("基本合格", &words).map(|r| r.0),
            Some(Outcome::Fail)
        );
        assert_eq!(
            read_result("待 整改", &words).map(|r| r.0),
            Some(Outcome::Fail)
        );
        let e = parse_result_words("还行\n较好 = 很好").unwrap_err();
        assert_eq!(e.0.len(), 2);
        assert_eq!(e.0[0].field, "result_words.1");
    }
}
