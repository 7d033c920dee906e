//! The projected annual score (测评预估): each standard's achieved share
//! from what is known of each of its methods, combined by the framework's
//! method weights; the annual rule on top (gates, the negative list); the
//! three-year cycle; and, in `draws`, an honest interval by seeded Monte
//! Carlo. Pure numbers: the store gathers the records, this decides.

pub mod draws;
#[cfg(test)]
mod tests;

use crate::framework::{Method, Sanction, Settings};
use serde::Serialize;
use std::collections::BTreeMap;

/// What is known of one method's achievement of one standard.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Known {
    /// 材料审核: requirements met (accepted, inside the window) of required.
    Materials { met: u32, required: u32 },
    /// An assessment the office recorded (a review score, 听取汇报, a
    /// statistic against its threshold): taken as it is.
    Recorded { share: f64 },
    /// 实地考察: the standard's observations, kept site by site in the
    /// projection's `SitePanel` (they cluster by site).
    OnSite { met: u32, made: u32, sites: u32 },
    /// 问卷调查 / 网络调查: a rate with its effective sample size, mapped to
    /// a share linearly from `floor` (nothing) to `target` (everything).
    SurveyRate {
        rate: f64,
        n_eff: f64,
        floor: f64,
        target: f64,
    },
    /// Nothing known yet: anything from 0 to 1 is as likely (a uniform
    /// prior), so the standard widens the interval until it is measured.
    Unknown,
}

impl Known {
    /// The share this method achieves, as best known.
    pub fn share(&self) -> f64 {
        match *self {
            Known::Materials { met, required } if required > 0 => {
                (f64::from(met) / f64::from(required)).min(1.0)
            }
            Known::Materials { .. } => 0.5,
            Known::Recorded { share } => share.clamp(0.0, 1.0),
            Known::OnSite { met, made, .. } if made > 0 => f64::from(met) / f64::from(made),
            Known::OnSite { .. } | Known::Unknown => 0.5,
            Known::SurveyRate {
                rate,
                floor,
                target,
                ..
            } => rate_to_share(rate, floor, target),
        }
    }

    /// Whether its share is a fact (materials, recorded) rather than an
    /// estimate with a margin.
    pub fn is_fixed(&self) -> bool {
        matches!(
            self,
            Known::Materials { required: 1.., .. } | Known::Recorded { .. }
        )
    }
}

/// Linear from the floor (share 0) to the target (share 1).
pub fn rate_to_share(rate: f64, floor: f64, target: f64) -> f64 {
    if target <= floor {
        return if rate >= target { 1.0 } else { 0.0 };
    }
    ((rate - floor) / (target - floor)).clamp(0.0, 1.0)
}

/// The default mapping of a survey rate to a share, where a standard sets
/// none: nothing below 60%, full marks from 90%.
pub const SURVEY_FLOOR: f64 = 0.6;
pub const SURVEY_TARGET: f64 = 0.9;

/// One method of a standard as the projection takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodInput {
    pub method: Method,
    pub known: Known,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardInput {
    pub code: String,
    pub title: String,
    pub points: f64,
    pub featured: bool,
    pub lead_unit: Option<String>,
    pub methods: Vec<MethodInput>,
}

/// The observations of the chosen rounds, site by site: for each site the
/// (standard's index in the inputs, met, made) it holds. Resampling whole
/// sites keeps what one dirty lane does to every litter standard at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SitePanel {
    pub sites: Vec<Vec<(usize, u32, u32)>>,
}

impl SitePanel {
    /// (met, made, sites) of a standard.
    pub fn of(&self, standard: usize) -> (u32, u32, u32) {
        let (mut met, mut made, mut sites) = (0, 0, 0);
        for site in &self.sites {
            for &(s, m, n) in site {
                if s == standard && n > 0 {
                    met += m;
                    made += n;
                    sites += 1;
                }
            }
        }
        (met, made, sites)
    }
}

/// A gate (门槛) with the score its evaluation reached, if recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateInput {
    pub name: String,
    pub min_score: f64,
    /// Fraction of the total it counts for (0.2 for 20%).
    pub weight: f64,
    pub score: Option<f64>,
}

/// A negative-list event the office recorded, with whether it falls
/// inside its rule's look-back before the evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NegativeInput {
    pub code: String,
    pub rule: String,
    pub sanction: Sanction,
    pub deduct: f64,
    pub occurred_on: jiff::civil::Date,
    pub applies: bool,
}

/// Whether an event on `occurred_on` counts for an evaluation on `as_of`:
/// inside the rule's look-back of `months` before it.
pub fn inside_lookback(
    occurred_on: jiff::civil::Date,
    as_of: jiff::civil::Date,
    months: u32,
) -> bool {
    let from = as_of
        .checked_sub(jiff::Span::new().months(i64::from(months)))
        .unwrap_or(jiff::civil::Date::MIN);
    occurred_on > from && occurred_on <= as_of
}

/// The annual rule around the standards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rules {
    /// The basic part's full marks (100): gates' scores are on 100 and
    /// count on this scale.
    pub basic_total: f64,
    pub gates: Vec<GateInput>,
    pub negatives: Vec<NegativeInput>,
}

/// Where the application stands after the gates and the negative list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Eligible,
    /// A gate's evaluation is below its minimum.
    Blocked,
    /// 取消提名资格
    NominationStopped,
    /// 暂停称号
    Suspended,
    /// 撤销称号
    Revoked,
}

impl Standing {
    pub fn code(self) -> &'static str {
        match self {
            Standing::Eligible => "eligible",
            Standing::Blocked => "blocked",
            Standing::NominationStopped => "nomination_stopped",
            Standing::Suspended => "suspended",
            Standing::Revoked => "revoked",
        }
    }
}

/// Each method's weight in a standard that uses it: the framework's
/// method weights by name (材料审核 40 / 实地考察 40 / 问卷调查 20); a
/// method they do not name takes their mean; all equal when none are set.
pub fn method_weights(settings: &Settings) -> BTreeMap<Method, f64> {
    let mut named = BTreeMap::new();
    for part in &settings.method_weights {
        if let Some(m) = Method::parse(&part.name) {
            named.insert(m, part.weight.as_f64());
        }
    }
    // The two surveys are one part of the rule wherever only one is named.
    for (a, b) in [
        (Method::Survey, Method::OnlineSurvey),
        (Method::OnlineSurvey, Method::Survey),
    ] {
        if let Some(&w) = named.get(&a) {
            named.entry(b).or_insert(w);
        }
    }
    let mean = if named.is_empty() {
        1.0
    } else {
        named.values().sum::<f64>() / named.len() as f64
    };
    Method::ALL
        .iter()
        .map(|m| (*m, named.get(m).copied().unwrap_or(mean)))
        .collect()
}

/// One method's part in a standard's share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodShare {
    pub method: Method,
    /// Its weight among the standard's methods (they add up to 1).
    pub weight: f64,
    pub share: f64,
    pub known: Known,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StandardShare {
    pub code: String,
    pub title: String,
    pub points: f64,
    pub featured: bool,
    pub lead_unit: Option<String>,
    pub share: f64,
    /// points × share
    pub earned: f64,
    /// points × (1 − share): what it is expected to lose.
    pub lost: f64,
    pub methods: Vec<MethodShare>,
    /// No method of it has been measured.
    pub unmeasured: bool,
}

/// A standard's methods with their weights normalised to add up to 1.
pub fn standard_weights(s: &StandardInput, weights: &BTreeMap<Method, f64>) -> Vec<f64> {
    let raw: Vec<f64> = s
        .methods
        .iter()
        .map(|m| weights.get(&m.method).copied().unwrap_or(1.0).max(0.0))
        .collect();
    let sum: f64 = raw.iter().sum();
    if sum <= 0.0 {
        return vec![1.0 / s.methods.len().max(1) as f64; s.methods.len()];
    }
    raw.iter().map(|w| w / sum).collect()
}

/// A standard's share as best known.
pub fn standard_share(s: &StandardInput, weights: &BTreeMap<Method, f64>) -> StandardShare {
    let ws = standard_weights(s, weights);
    let methods: Vec<MethodShare> = s
        .methods
        .iter()
        .zip(&ws)
        .map(|(m, w)| MethodShare {
            method: m.method,
            weight: *w,
            share: m.known.share(),
            known: m.known.clone(),
        })
        .collect();
    let share = if methods.is_empty() {
        0.5
    } else {
        methods.iter().map(|m| m.weight * m.share).sum()
    };
    StandardShare {
        code: s.code.clone(),
        title: s.title.clone(),
        points: s.points,
        featured: s.featured,
        lead_unit: s.lead_unit.clone(),
        share,
        earned: s.points * share,
        lost: s.points * (1.0 - share),
        unmeasured: s.methods.iter().all(|m| {
            matches!(
                m.known,
                Known::Unknown
                    | Known::Materials { required: 0, .. }
                    | Known::OnSite { made: 0, .. }
            )
        }),
        methods,
    }
}

/// The annual score from the framework's points earned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annual {
    pub basic: f64,
    pub featured: f64,
    /// What the gates' evaluations add at their weight (the framework's
    /// part shrinks by the same weight).
    pub gates: f64,
    /// Points taken by the negative list.
    pub deducted: f64,
    pub score: f64,
    pub standing: Standing,
    /// Gates without a recorded score: counted as if they reached the
    /// framework's own score rate, and said so.
    pub gates_assumed: Vec<String>,
}

/// The annual score alone, as each Monte Carlo draw needs it.
pub(crate) fn annual_score(basic: f64, featured: f64, rules: &Rules) -> f64 {
    let framework = basic + featured;
    let g: f64 = rules.gates.iter().map(|x| x.weight).sum::<f64>().min(1.0);
    let gates: f64 = rules
        .gates
        .iter()
        .map(|gate| match gate.score {
            Some(score) => gate.weight * score * rules.basic_total / 100.0,
            None => gate.weight * framework,
        })
        .sum();
    let deducted: f64 = rules
        .negatives
        .iter()
        .filter(|e| e.applies && e.sanction == Sanction::DeductPoints)
        .map(|e| e.deduct)
        .sum();
    ((1.0 - g) * framework + gates - deducted).max(0.0)
}

/// The annual rule applied to the points earned in the basic and the
/// featured parts.
pub fn annual(basic: f64, featured: f64, rules: &Rules) -> Annual {
    let framework = basic + featured;
    let mut gates = 0.0;
    let mut standing = Standing::Eligible;
    let mut gates_assumed = vec![];
    for gate in &rules.gates {
        match gate.score {
            Some(score) => {
                gates += gate.weight * score * rules.basic_total / 100.0;
                if score < gate.min_score {
                    standing = standing.max(Standing::Blocked);
                }
            }
            None => {
                gates += gate.weight * framework;
                gates_assumed.push(gate.name.clone());
            }
        }
    }
    let mut deducted = 0.0;
    for e in rules.negatives.iter().filter(|e| e.applies) {
        standing = standing.max(match e.sanction {
            Sanction::DeductPoints => {
                deducted += e.deduct;
                Standing::Eligible
            }
            Sanction::StopNomination => Standing::NominationStopped,
            Sanction::Suspend => Standing::Suspended,
            Sanction::Revoke => Standing::Revoked,
        });
    }
    let score = annual_score(basic, featured, rules);
    Annual {
        basic,
        featured,
        gates,
        deducted,
        score,
        standing,
        gates_assumed,
    }
}

/// The projection's point estimate: every standard's share and the
/// annual score they make.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub standards: Vec<StandardShare>,
    pub annual: Annual,
    /// Full marks of the basic and featured parts.
    pub basic_points: f64,
    pub featured_points: f64,
}

pub fn estimate(
    standards: &[StandardInput],
    weights: &BTreeMap<Method, f64>,
    rules: &Rules,
) -> Estimate {
    let shares: Vec<StandardShare> = standards
        .iter()
        .map(|s| standard_share(s, weights))
        .collect();
    let part = |featured: bool, f: fn(&StandardShare) -> f64| -> f64 {
        shares
            .iter()
            .filter(|s| s.featured == featured)
            .map(f)
            .sum()
    };
    let annual = annual(part(false, |s| s.earned), part(true, |s| s.earned), rules);
    Estimate {
        basic_points: part(false, |s| s.points),
        featured_points: part(true, |s| s.points),
        standards: shares,
        annual,
    }
}

/// Standards by the points they are expected to lose, most first; ties
/// by code so the order is stable.
pub fn weak_links(e: &Estimate) -> Vec<usize> {
    let mut order: Vec<usize> = (0..e.standards.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&e.standards[a], &e.standards[b]);
        y.lost
            .partial_cmp(&x.lost)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| x.code.cmp(&y.code))
    });
    order
}

/// The annual score were the chosen standards at full marks.
pub fn what_if(e: &Estimate, full: &[usize], rules: &Rules) -> Annual {
    let (mut basic, mut featured) = (e.annual.basic, e.annual.featured);
    for &i in full {
        if let Some(s) = e.standards.get(i) {
            let gain = s.points - s.earned;
            if s.featured {
                featured += gain;
            } else {
                basic += gain;
            }
        }
    }
    annual(basic, featured, rules)
}

/// A year of the cycle: its weight and its score, official or projected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleYear {
    pub year: i32,
    pub weight: f64,
    pub score: Option<f64>,
    /// The projection rather than an official result.
    pub projected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cycle {
    pub years: Vec<CycleYear>,
    /// Σ weight × score over the years with a score, the weights of the
    /// missing ones left out and the rest scaled to add up to 1.
    pub score: Option<f64>,
    pub complete: bool,
}

/// The cycle's score (15% / 25% / 60% over three years, the last the one
/// projected).
pub fn cycle(
    weights: &[f64],
    this_year: i32,
    projected: f64,
    official: &BTreeMap<i32, f64>,
) -> Cycle {
    let n = weights.len() as i32;
    let years: Vec<CycleYear> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let year = this_year - (n - 1 - i as i32);
            let (score, projected) = match official.get(&year) {
                Some(s) => (Some(*s), false),
                None if year == this_year => (Some(projected), true),
                None => (None, false),
            };
            CycleYear {
                year,
                weight: *w,
                score,
                projected,
            }
        })
        .collect();
    let have: f64 = years
        .iter()
        .filter(|y| y.score.is_some())
        .map(|y| y.weight)
        .sum();
    let score = (have > 0.0).then(|| {
        years
            .iter()
            .filter_map(|y| y.score.map(|s| s * y.weight))
            .sum::<f64>()
            / have
    });
    Cycle {
        complete: years.iter().all(|y| y.score.is_some()),
        years,
        score,
    }
}
