//! A wave's results from its tallies: for every rate question, region
//! (community and every region above it) and respondent group (and all
//! groups together), n, the rate with its interval, and the post-stratified
//! rate with its effective n; regions under the minimum n are shown but
//! neither ranked nor published.

use super::stats::{self, Cell, Estimate, Population, Weighted};
use super::{AgeBand, Group, QuestionnaireDoc, RateKind, Sex};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// A rate question's answers in one stratum of a community and group:
/// how many are in the rate's denominator and how many count for it.
#[derive(Debug, Clone)]
pub struct RateTally {
    pub question: String,
    pub community: Uuid,
    pub group: Group,
    pub age_band: AgeBand,
    pub sex: Sex,
    pub n: u64,
    pub yes: u64,
}

/// How many in a community gave one answer (a choice code, a scale value,
/// a multiple choice's chosen codes joined by commas), all groups together.
#[derive(Debug, Clone)]
pub struct AnswerTally {
    pub question: String,
    pub community: Uuid,
    pub value: String,
    pub n: u64,
}

/// People of one stratum of a community.
#[derive(Debug, Clone)]
pub struct StratumPopulation {
    pub community: Uuid,
    pub age_band: AgeBand,
    pub sex: Sex,
    pub population: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RateResult {
    pub question: String,
    pub rate: RateKind,
    pub region_id: Uuid,
    /// None: every group together.
    pub group: Option<Group>,
    pub n: u64,
    pub yes: u64,
    pub estimate: Estimate,
    pub weighted: Option<Weighted>,
    /// n at or above the wave's minimum: ranked and published.
    pub ranked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub question: String,
    pub region_id: Uuid,
    /// Answer value (choice code, scale value) and how many gave it; a
    /// multiple choice counts each code chosen.
    pub counts: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Results {
    pub rates: Vec<RateResult>,
    pub distributions: Vec<Distribution>,
}

/// `above` gives, for each community, the regions it lies in (its street,
/// district and city), each counted with it.
pub fn compute(
    doc: &QuestionnaireDoc,
    rates: &[RateTally],
    answers: &[AnswerTally],
    strata: &[StratumPopulation],
    above: &HashMap<Uuid, Vec<Uuid>>,
    min_n: u64,
    clustered: bool,
) -> Results {
    let regions_of =
        |c: &Uuid| std::iter::once(*c).chain(above.get(c).into_iter().flatten().copied());
    // Community index for cells and clusters.
    let mut communities: Vec<Uuid> = strata.iter().map(|s| s.community).collect();
    communities.sort();
    communities.dedup();
    let idx: HashMap<Uuid, usize> = communities
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i))
        .collect();
    let age = |a: AgeBand| AgeBand::ALL.iter().position(|x| *x == a).unwrap_or(0);
    let sex = |s: Sex| Sex::ALL.iter().position(|x| *x == s).unwrap_or(0);
    // Each region's communities and population cells, once for every
    // question and group.
    let mut regions: HashMap<Uuid, (usize, Population)> = HashMap::new();
    for c in &communities {
        for r in regions_of(c) {
            regions
                .entry(r)
                .or_insert_with(|| (0, Population { cells: vec![] }))
                .0 += 1;
        }
    }
    for s in strata {
        let cell = vec![idx[&s.community], age(s.age_band), sex(s.sex)];
        for r in regions_of(&s.community) {
            if let Some(e) = regions.get_mut(&r) {
                e.1.cells.push((cell.clone(), s.population as f64));
            }
        }
    }
    let empty = Population { cells: vec![] };
    let mut out = Results::default();
    let mut rates_of: HashMap<&str, Vec<&RateTally>> = HashMap::new();
    for t in rates {
        rates_of.entry(t.question.as_str()).or_default().push(t);
    }
    let mut answers_of: HashMap<&str, Vec<&AnswerTally>> = HashMap::new();
    for t in answers {
        answers_of.entry(t.question.as_str()).or_default().push(t);
    }
    for q in &doc.questions {
        // Distributions per region (all groups).
        let mut dist: BTreeMap<Uuid, BTreeMap<String, u64>> = BTreeMap::new();
        for t in answers_of.get(q.code.as_str()).into_iter().flatten() {
            if t.value.is_empty() {
                continue;
            }
            for r in regions_of(&t.community) {
                let d = dist.entry(r).or_default();
                for v in t.value.split(',') {
                    *d.entry(v.to_string()).or_default() += t.n;
                }
            }
        }
        for (region_id, counts) in dist {
            out.distributions.push(Distribution {
                question: q.code.clone(),
                region_id,
                counts: counts.into_iter().collect(),
            });
        }
        let Some(rate) = &q.rate else { continue };
        // (region, group) -> (answers, yes) by (community, age, sex).
        type Key = (Uuid, Option<Group>);
        type ByCell = BTreeMap<(usize, usize, usize), (u64, u64)>;
        let mut cells: BTreeMap<Key, ByCell> = BTreeMap::new();
        for t in rates_of.get(q.code.as_str()).into_iter().flatten() {
            let Some(&ci) = idx.get(&t.community) else {
                continue;
            };
            let key = (ci, age(t.age_band), sex(t.sex));
            for r in regions_of(&t.community) {
                for g in [None, Some(t.group)] {
                    let e = cells.entry((r, g)).or_default().entry(key).or_default();
                    e.0 += t.n;
                    e.1 += t.yes;
                }
            }
        }
        for ((region_id, group), by_cell) in cells {
            let n: u64 = by_cell.values().map(|v| v.0).sum();
            let yes: u64 = by_cell.values().map(|v| v.1).sum();
            let (members, population) = match regions.get(&region_id) {
                Some(r) => (r.0, &r.1),
                None => (0, &empty),
            };
            let counted: Vec<Cell> = by_cell
                .iter()
                .map(|(&(c, a, s), &(n, y))| Cell {
                    cell: vec![c, a, s],
                    cluster: c,
                    n,
                    yes: y,
                })
                .collect();
            out.rates.push(RateResult {
                question: q.code.clone(),
                rate: rate.kind,
                region_id,
                group,
                n,
                yes,
                estimate: stats::proportion(yes, n),
                weighted: stats::weighted(&counted, population, clustered && members > 1),
                ranked: n >= min_n,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::{Choice, QuestionKind, QuestionSpec, RateSpec};

    fn doc() -> QuestionnaireDoc {
        QuestionnaireDoc {
            title: "t".into(),
            intro: String::new(),
            questions: vec![QuestionSpec {
                code: "Q1".into(),
                text: "满意吗".into(),
                kind: QuestionKind::Single,
                choices: ["满意", "不满意", "不了解"]
                    .iter()
                    .enumerate()
                    .map(|(i, l)| Choice {
                        code: (i + 1).to_string(),
                        label: l.to_string(),
                    })
                    .collect(),
                required: true,
                groups: vec![],
                rate: Some(RateSpec {
                    kind: RateKind::Satisfaction,
                    counts: vec!["1".into()],
                    excluded: vec!["3".into()],
                    keep_excluded: false,
                }),
                standards: vec![],
            }],
        }
    }

    #[test]
    fn communities_add_up_to_their_district_and_small_ones_are_not_ranked() {
        let (a, b, district) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(9));
        let rate = |c, n, yes| RateTally {
            question: "Q1".into(),
            community: c,
            group: Group::Residents,
            age_band: AgeBand::From30,
            sex: Sex::Female,
            n,
            yes,
        };
        let answer = |c, value: &str, n| AnswerTally {
            question: "Q1".into(),
            community: c,
            value: value.into(),
            n,
        };
        // 不了解 (3) is out of the denominator: a has 40 of 50, b 12 of 20.
        let rates = vec![rate(a, 50, 40), rate(b, 20, 12)];
        let answers = vec![
            answer(a, "1", 40),
            answer(a, "2", 10),
            answer(a, "3", 5),
            answer(b, "1", 12),
            answer(b, "2", 8),
        ];
        let strata: Vec<StratumPopulation> = [(a, 3000), (b, 1000)]
            .iter()
            .map(|&(c, p)| StratumPopulation {
                community: c,
                age_band: AgeBand::From30,
                sex: Sex::Female,
                population: p,
            })
            .collect();
        let above = HashMap::from([(a, vec![district]), (b, vec![district])]);
        let r = compute(&doc(), &rates, &answers, &strata, &above, 30, false);
        let of = |region, group: Option<Group>| {
            r.rates
                .iter()
                .find(|x| x.region_id == region && x.group == group)
                .unwrap()
        };
        assert_eq!((of(a, None).yes, of(a, None).n), (40, 50));
        assert!(of(a, None).ranked);
        assert!(!of(b, None).ranked);
        assert_eq!((of(district, None).yes, of(district, None).n), (52, 70));
        assert_eq!(of(district, Some(Group::Residents)).n, 70);
        // Weighted by population 3:1: 0.75 × 0.8 + 0.25 × 0.6 = 0.75.
        let w = of(district, None).weighted.as_ref().unwrap();
        assert!((w.estimate.p - 0.75).abs() < 1e-9);
        let d = r
            .distributions
            .iter()
            .find(|d| d.region_id == district)
            .unwrap();
        assert_eq!(
            d.counts,
            vec![("1".into(), 52), ("2".into(), 18), ("3".into(), 5)]
        );
    }
}
