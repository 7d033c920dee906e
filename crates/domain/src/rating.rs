//! 民评官: residents rate the units that serve them (departments, service
//! windows, street offices) in a rating round, on a 100-point scale or as
//! 满意 / 基本满意 / 不满意, with an optional comment the office moderates.
//! A unit's result carries its n and a 95% interval, and only units with
//! at least the round's minimum n are ranked.

use crate::FieldErrors;
use crate::survey::stats::{self, Estimate};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use uuid::Uuid;

crate::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Scale {
        /// 0 to 100 points; the result is the mean score.
        Points100 = "points100",
        /// 满意 / 基本满意 / 不满意; the result is the share satisfied or
        /// basically satisfied (the 满意率 as such rounds publish it).
        ThreeLevel = "three_level",
    }
}

crate::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Level {
        Satisfied = "satisfied",
        Basic = "basic",
        Dissatisfied = "dissatisfied",
    }
}

impl Level {
    /// The stored value of a three-level rating.
    pub fn value(self) -> i64 {
        match self {
            Level::Satisfied => 2,
            Level::Basic => 1,
            Level::Dissatisfied => 0,
        }
    }
    pub fn from_value(v: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.value() == v)
    }
}

crate::coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum CommentState {
        /// Seen by the office only.
        Pending = "pending",
        /// Shown to the unit and everyone who sees the round's results.
        Approved = "approved",
        /// Kept for the record, shown to no one else.
        Rejected = "rejected",
    }
}

/// A comment's longest allowed length, in characters.
pub const COMMENT_MAX: usize = 500;

impl Scale {
    /// Whether `v` is a rating on this scale, named as the field `value`.
    pub fn check(self, v: i64) -> Result<(), FieldErrors> {
        let ok = match self {
            Scale::Points100 => (0..=100).contains(&v),
            Scale::ThreeLevel => Level::from_value(v).is_some(),
        };
        if ok {
            Ok(())
        } else {
            Err(FieldErrors::single("value", "out_of_range"))
        }
    }

    /// Reads a rating as a form or the API sends it: points as a number,
    /// a level by its code.
    pub fn read(self, raw: &str) -> Result<i64, FieldErrors> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(FieldErrors::single("value", "required"));
        }
        let v = match self {
            Scale::Points100 => raw
                .parse::<i64>()
                .map_err(|_| FieldErrors::single("value", "out_of_range"))?,
            Scale::ThreeLevel => Level::parse(raw)
                .map(Level::value)
                .ok_or_else(|| FieldErrors::single("value", "invalid_choice"))?,
        };
        self.check(v)?;
        Ok(v)
    }
}

/// What makes a round: checked before anything is stored.
#[derive(Debug, Clone)]
pub struct RoundInput {
    pub name: String,
    pub scale: Scale,
    pub opens_on: jiff::civil::Date,
    pub closes_on: jiff::civil::Date,
    pub min_n: i64,
    pub units: Vec<Uuid>,
}

impl RoundInput {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        if self.name.trim().is_empty() {
            e.add("name", "required");
        }
        if self.closes_on < self.opens_on {
            e.add("closes_on", "before_start");
        }
        if !(1..=10_000).contains(&self.min_n) {
            e.add("min_n", "invalid_number");
        }
        if self.units.is_empty() {
            e.add("units", "required");
        }
        e.into_result(())
    }
}

/// A checked comment: trimmed, not empty, not too long.
pub fn check_comment(raw: &str) -> Result<Option<String>, FieldErrors> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > COMMENT_MAX {
        return Err(FieldErrors::single("comment", "too_long"));
    }
    Ok(Some(t.to_string()))
}

/// A mean score with its 95% interval (Student's t on n − 1 degrees of
/// freedom; no interval under two ratings).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Mean {
    pub mean: f64,
    pub sd: f64,
    pub low: f64,
    pub high: f64,
}

pub fn mean(counts: &[(i64, u64)]) -> Option<Mean> {
    let n: u64 = counts.iter().map(|c| c.1).sum();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let m = counts
        .iter()
        .map(|&(v, k)| v as f64 * k as f64)
        .sum::<f64>()
        / nf;
    if n < 2 {
        return Some(Mean {
            mean: m,
            sd: 0.0,
            low: 0.0,
            high: 100.0,
        });
    }
    let ss: f64 = counts
        .iter()
        .map(|&(v, k)| (v as f64 - m).powi(2) * k as f64)
        .sum();
    let sd = (ss / (nf - 1.0)).sqrt();
    let t = StudentsT::new(0.0, 1.0, nf - 1.0)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(1.96);
    let half = t * sd / nf.sqrt();
    Some(Mean {
        mean: m,
        sd,
        low: (m - half).max(0.0),
        high: (m + half).min(100.0),
    })
}

/// One unit's result in a round.
#[derive(Debug, Clone, Serialize)]
pub struct UnitResult {
    pub unit_id: Uuid,
    pub n: u64,
    /// Each stored value (points, or a level's value) and how many gave it.
    pub counts: Vec<(i64, u64)>,
    /// Three-level: the share satisfied or basically satisfied; 100-point:
    /// the share at 60 points or more.
    pub satisfied: Estimate,
    /// 100-point rounds: the mean score.
    pub mean: Option<Mean>,
    /// Rank among the units with at least the minimum n (1 is best, ties
    /// share a rank); None under the minimum.
    pub rank: Option<u32>,
}

impl UnitResult {
    /// What the ranking orders by: the mean score or the satisfied share.
    pub fn score(&self) -> f64 {
        match self.mean {
            Some(m) => m.mean,
            None => self.satisfied.p * 100.0,
        }
    }
}

/// Every unit of the round, ranked ones first in rank order, then those
/// under the minimum n by name order of the caller's `units`.
pub fn results(
    scale: Scale,
    units: &[Uuid],
    counts: &[(Uuid, i64, u64)],
    min_n: u64,
) -> Vec<UnitResult> {
    let mut out: Vec<UnitResult> = units
        .iter()
        .map(|u| {
            let mut c: Vec<(i64, u64)> = counts
                .iter()
                .filter(|x| x.0 == *u)
                .map(|x| (x.1, x.2))
                .collect();
            c.sort();
            let n: u64 = c.iter().map(|x| x.1).sum();
            let yes: u64 = c
                .iter()
                .filter(|x| match scale {
                    Scale::ThreeLevel => x.0 >= Level::Basic.value(),
                    Scale::Points100 => x.0 >= 60,
                })
                .map(|x| x.1)
                .sum();
            UnitResult {
                unit_id: *u,
                n,
                satisfied: stats::proportion(yes, n),
                mean: match scale {
                    Scale::Points100 => mean(&c),
                    Scale::ThreeLevel => None,
                },
                counts: c,
                rank: None,
            }
        })
        .collect();
    let mut ranked: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].n >= min_n.max(1))
        .collect();
    ranked.sort_by(|&a, &b| out[b].score().total_cmp(&out[a].score()));
    let mut last: Option<(f64, u32)> = None;
    for (pos, &i) in ranked.iter().enumerate() {
        let s = out[i].score();
        let rank = match last {
            Some((prev, r)) if (prev - s).abs() < 1e-9 => r,
            _ => pos as u32 + 1,
        };
        last = Some((s, rank));
        out[i].rank = Some(rank);
    }
    out.sort_by_key(|r| (r.rank.is_none(), r.rank.unwrap_or(0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mean_score_has_a_t_interval() {
        // 10 ratings: 80 ×6, 90 ×4 → mean 84, sd √(240/9) = 5.1640;
        // t(0.975, 9) = 2.262157 → half-width 3.6941 (scipy.stats.t.ppf).
        let m = mean(&[(80, 6), (90, 4)]).unwrap();
        assert!((m.mean - 84.0).abs() < 1e-9);
        assert!((m.sd - 5.163978).abs() < 1e-5);
        assert!((m.high - m.mean - 3.694087).abs() < 1e-4, "{m:?}");
    }

    #[test]
    fn units_under_the_minimum_are_shown_but_not_ranked_and_ties_share_a_rank() {
        let (a, b, c, d) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let counts = vec![
            (a, 2, 20),
            (a, 0, 10),
            (b, 2, 40),
            (b, 1, 5),
            (b, 0, 5),
            (c, 2, 5),
            (d, 2, 20),
            (d, 0, 10),
        ];
        let r = results(Scale::ThreeLevel, &[a, b, c, d], &counts, 30);
        let of = |u| r.iter().find(|x| x.unit_id == u).unwrap();
        assert_eq!(of(b).rank, Some(1));
        assert_eq!((of(a).rank, of(d).rank), (Some(2), Some(2)));
        assert_eq!(of(c).rank, None);
        assert_eq!(of(c).n, 5);
        // 基本满意 counts as satisfied: 45 of 50.
        assert!((of(b).satisfied.p - 0.9).abs() < 1e-12);
        assert_eq!(r.last().unwrap().unit_id, c);
    }

    #[test]
    fn ratings_off_the_scale_are_refused_by_field() {
        assert!(Scale::Points100.read("101").is_err());
        assert!(Scale::Points100.read("abc").is_err());
        assert_eq!(Scale::Points100.read(" 85 ").unwrap(), 85);
        assert_eq!(Scale::ThreeLevel.read("basic").unwrap(), 1);
        let e = Scale::ThreeLevel.read("great").unwrap_err();
        assert!(e.for_field("value").is_some());
        assert!(check_comment(&"好".repeat(COMMENT_MAX + 1)).is_err());
        assert_eq!(check_comment("  ").unwrap(), None);
    }
}
