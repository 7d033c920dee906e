//! The statistics of questionnaires (reference/surveys.md): a rate is never
//! shown without its n and a 95% interval, a weighted rate carries its
//! effective n, and a change between waves is called real only when the
//! interval of the difference leaves zero out. Pure numbers, no IO.

use serde::Serialize;
use statrs::distribution::{Beta, ContinuousCDF, Normal};

/// The confidence level every published interval uses.
pub const LEVEL: f64 = 0.95;

/// Below this many answers a region is shown but not ranked, and its cells
/// are suppressed in published tables (configurable per wave).
pub const MIN_N: u64 = 30;

/// The normal quantile of a two-sided interval at `level` (1.96 at 95%).
pub fn z(level: f64) -> f64 {
    let n = Normal::standard();
    n.inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// Wilson score: the default.
    Wilson,
    /// Clopper-Pearson (exact): for small samples and for 0% or 100%,
    /// where Wilson's coverage falls short.
    ClopperPearson,
}

impl IntervalMethod {
    /// The rule: exact when n < 30 or the count is 0 or n.
    pub fn for_counts(k: u64, n: u64) -> IntervalMethod {
        if n < 30 || k == 0 || k == n {
            IntervalMethod::ClopperPearson
        } else {
            IntervalMethod::Wilson
        }
    }
}

/// A proportion with its interval. `n` may be an effective (fractional) n
/// for a weighted rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub p: f64,
    pub n: f64,
    pub low: f64,
    pub high: f64,
    pub method: IntervalMethod,
}

impl Estimate {
    /// Half the interval's width: the "±" shown beside a rate.
    pub fn margin(&self) -> f64 {
        (self.high - self.low) / 2.0
    }
}

/// Wilson score interval of `p` over `n` (n may be fractional).
pub fn wilson(p: f64, n: f64, level: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let z = z(level);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Clopper-Pearson interval of `k` successes in `n` (both may be
/// fractional for an effective n): Beta quantiles.
pub fn clopper_pearson(k: f64, n: f64, level: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let a = (1.0 - level) / 2.0;
    let low = if k <= 0.0 {
        0.0
    } else {
        Beta::new(k, n - k + 1.0).map_or(0.0, |b| b.inverse_cdf(a))
    };
    let high = if k >= n {
        1.0
    } else {
        Beta::new(k + 1.0, n - k).map_or(1.0, |b| b.inverse_cdf(1.0 - a))
    };
    (low, high)
}

/// The rate of `k` in `n` with the interval the rule chooses.
pub fn proportion(k: u64, n: u64) -> Estimate {
    let method = IntervalMethod::for_counts(k, n);
    let p = if n == 0 { 0.0 } else { k as f64 / n as f64 };
    estimate(p, n as f64, method)
}

fn estimate(p: f64, n: f64, method: IntervalMethod) -> Estimate {
    let (low, high) = match method {
        IntervalMethod::Wilson => wilson(p, n, LEVEL),
        IntervalMethod::ClopperPearson => clopper_pearson(p * n, n, LEVEL),
    };
    Estimate {
        p,
        n,
        low,
        high,
        method,
    }
}

/// Sample size for margin `e` at `level` when the rate is near `p` (0.5
/// when nothing is known), corrected for a finite population of `population`.
pub fn sample_size(e: f64, p: f64, population: Option<u64>, level: f64) -> u64 {
    let z = z(level);
    let n0 = z * z * p * (1.0 - p) / (e * e);
    let n = match population {
        Some(big_n) if big_n > 0 => n0 / (1.0 + (n0 - 1.0) / big_n as f64),
        _ => n0,
    };
    // A hair of slack so that 384.0000001 from rounding is not 385.
    (n - 1e-9).ceil().max(1.0) as u64
}

/// Splits `total` across strata in proportion to their sizes, by largest
/// remainder (Hamilton): the parts add up to `total` exactly; ties go to
/// the earlier stratum.
pub fn allocate(total: u64, sizes: &[u64]) -> Vec<u64> {
    let sum: u128 = sizes.iter().map(|&s| s as u128).sum();
    if sum == 0 {
        return vec![0; sizes.len()];
    }
    let mut out: Vec<u64> = Vec::with_capacity(sizes.len());
    let mut rest: Vec<(u128, usize)> = Vec::with_capacity(sizes.len());
    for (i, &s) in sizes.iter().enumerate() {
        let exact = total as u128 * s as u128;
        out.push((exact / sum) as u64);
        rest.push((exact % sum, i));
    }
    let given: u64 = out.iter().sum();
    rest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rest.iter().take((total - given) as usize) {
        out[i] += 1;
    }
    out
}

/// Answers of one stratum cell (indexes on each dimension, e.g. region, age
/// band, sex) from one cluster (the community they were sampled in):
/// how many, and how many count for the rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub cell: Vec<usize>,
    pub cluster: usize,
    pub n: u64,
    pub yes: u64,
}

/// A weighted rate: the estimate on Kish's effective n (divided by the
/// design effect when the sample was clustered), and how it was weighted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Weighted {
    pub estimate: Estimate,
    /// Unweighted answers.
    pub n: u64,
    /// Kish: (Σw)² / Σw².
    pub kish_n: f64,
    /// Variance with clustering over variance without (1 when not
    /// clustered, never below 1).
    pub design_effect: f64,
    /// Raked to the margins because some population cell had no answer.
    pub raked: bool,
}

/// The population by cell, the same dimensions as the answers' cells.
#[derive(Debug, Clone)]
pub struct Population {
    pub cells: Vec<(Vec<usize>, f64)>,
}

/// Post-stratified rate from counts: each answer weighted by its cell's
/// share of the population over its share of the sample; when a populated
/// cell has no answer, raked instead (iterative proportional fitting to
/// each dimension's margins). With `clustered`, the interval is widened by
/// the design effect estimated from the clusters (linearised variance of
/// the ratio, between clusters). Works from counts, so a million answers
/// cost no more than a thousand.
pub fn weighted(cells: &[Cell], population: &Population, clustered: bool) -> Option<Weighted> {
    use std::collections::HashMap;
    let n: u64 = cells.iter().map(|c| c.n).sum();
    if n == 0 {
        return None;
    }
    let pop_total: f64 = population.cells.iter().map(|c| c.1).sum();
    if pop_total <= 0.0 {
        return None;
    }
    let mut in_cell: HashMap<&[usize], u64> = HashMap::new();
    for c in cells.iter().filter(|c| c.n > 0) {
        *in_cell.entry(c.cell.as_slice()).or_default() += c.n;
    }
    let empty_cell = population
        .cells
        .iter()
        .any(|(c, size)| *size > 0.0 && !in_cell.contains_key(c.as_slice()));
    // One weight per answer of a cell.
    let w: HashMap<Vec<usize>, f64> = if empty_cell {
        rake(&in_cell, population, n)?
    } else {
        let share: HashMap<&[usize], f64> = population
            .cells
            .iter()
            .map(|(c, s)| (c.as_slice(), *s / pop_total))
            .collect();
        in_cell
            .iter()
            .map(|(c, &k)| {
                let s = share.get(c).copied().unwrap_or(0.0);
                (c.to_vec(), s / (k as f64 / n as f64))
            })
            .collect()
    };
    let weight = |c: &Cell| w.get(&c.cell).copied().unwrap_or(0.0);
    let sw: f64 = cells.iter().map(|c| weight(c) * c.n as f64).sum();
    let sw2: f64 = cells.iter().map(|c| weight(c).powi(2) * c.n as f64).sum();
    if sw <= 0.0 {
        return None;
    }
    let p = cells.iter().map(|c| weight(c) * c.yes as f64).sum::<f64>() / sw;
    let kish_n = sw * sw / sw2;
    let design_effect = if clustered {
        let mut totals: std::collections::BTreeMap<usize, f64> = Default::default();
        for c in cells {
            *totals.entry(c.cluster).or_default() += weight(c) * (c.yes as f64 - p * c.n as f64);
        }
        cluster_deff(&totals, sw, p, kish_n)
    } else {
        1.0
    };
    let n_eff = kish_n / design_effect;
    let k_eff = p * n_eff;
    let method = if n_eff < 30.0 || k_eff <= 0.0 || k_eff >= n_eff {
        IntervalMethod::ClopperPearson
    } else {
        IntervalMethod::Wilson
    };
    Some(Weighted {
        estimate: estimate(p, n_eff, method),
        n,
        kish_n,
        design_effect,
        raked: empty_cell,
    })
}

/// Between-cluster linearised variance of the weighted mean (from each
/// cluster's weighted residual total) over the variance it would have from
/// `kish_n` independent answers.
fn cluster_deff(
    totals: &std::collections::BTreeMap<usize, f64>,
    sw: f64,
    p: f64,
    kish_n: f64,
) -> f64 {
    let c = totals.len() as f64;
    if c < 2.0 || p <= 0.0 || p >= 1.0 {
        return 1.0;
    }
    let v_cluster = c / (c - 1.0) * totals.values().map(|t| t * t).sum::<f64>() / (sw * sw);
    let v_srs = p * (1.0 - p) / kish_n;
    // Below 1 would claim the clustering made the sample better than a
    // simple random one; that is noise in the estimate, not a gain.
    (v_cluster / v_srs).max(1.0)
}

/// A weight per sampled cell raked to each dimension's population margins,
/// starting from 1; `None` when a margin with population has no answer.
fn rake(
    in_cell: &std::collections::HashMap<&[usize], u64>,
    population: &Population,
    n: u64,
) -> Option<std::collections::HashMap<Vec<usize>, f64>> {
    use std::collections::{BTreeMap, HashMap};
    let dims = in_cell.keys().next()?.len();
    let pop_total: f64 = population.cells.iter().map(|c| c.1).sum();
    // Targets as a share of the sample size.
    let mut targets: Vec<BTreeMap<usize, f64>> = vec![Default::default(); dims];
    for (cell, size) in &population.cells {
        for (d, &v) in cell.iter().enumerate() {
            *targets[d].entry(v).or_default() += size / pop_total * n as f64;
        }
    }
    for (d, t) in targets.iter().enumerate() {
        for (&v, &target) in t {
            if target > 0.0 && !in_cell.keys().any(|c| c[d] == v) {
                return None;
            }
        }
    }
    let mut w: HashMap<Vec<usize>, f64> = in_cell.keys().map(|c| (c.to_vec(), 1.0)).collect();
    for _ in 0..200 {
        let mut worst: f64 = 0.0;
        for (d, t) in targets.iter().enumerate() {
            let mut have: BTreeMap<usize, f64> = Default::default();
            for (c, k) in in_cell {
                *have.entry(c[d]).or_default() += w[*c] * *k as f64;
            }
            for (c, wc) in w.iter_mut() {
                let h = have[&c[d]];
                let target = t.get(&c[d]).copied().unwrap_or(0.0);
                let f = if h > 0.0 { target / h } else { 0.0 };
                worst = worst.max((f - 1.0).abs());
                *wc *= f;
            }
        }
        if worst < 1e-10 {
            break;
        }
    }
    Some(w)
}

/// The difference of two independent rates, this wave's minus the previous
/// one's, with Newcombe's hybrid score interval built from each rate's own
/// interval: beyond the noise when it leaves zero out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Change {
    pub diff: f64,
    pub low: f64,
    pub high: f64,
}

impl Change {
    pub fn beyond_noise(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// Newcombe's method 10 over Wilson intervals on each side's (effective) n.
pub fn change(now: (f64, f64), before: (f64, f64)) -> Change {
    let (p1, n1) = now;
    let (p2, n2) = before;
    let (l1, u1) = wilson(p1, n1, LEVEL);
    let (l2, u2) = wilson(p2, n2, LEVEL);
    let d = p1 - p2;
    Change {
        diff: d,
        low: d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(),
        high: d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt(),
    }
}

/// Contact attempts by disposition (AAPOR).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dispositions {
    pub complete: u64,
    pub partial: u64,
    pub refusal: u64,
    pub non_contact: u64,
    pub other: u64,
    pub unknown: u64,
    pub not_eligible: u64,
}

impl Dispositions {
    pub fn add(&mut self, d: super::Disposition, n: u64) {
        use super::Disposition::*;
        let slot = match d {
            Complete => &mut self.complete,
            Partial => &mut self.partial,
            Refusal => &mut self.refusal,
            NonContact => &mut self.non_contact,
            Other => &mut self.other,
            Unknown => &mut self.unknown,
            NotEligible => &mut self.not_eligible,
        };
        *slot += n;
    }

    /// The share of contacts of known eligibility that were eligible
    /// (AAPOR's proportional estimate of e); 1 when none was found
    /// ineligible, and when nothing is known yet.
    pub fn eligible_share(&self) -> f64 {
        let eligible =
            (self.complete + self.partial + self.refusal + self.non_contact + self.other) as f64;
        let known = eligible + self.not_eligible as f64;
        if known > 0.0 { eligible / known } else { 1.0 }
    }

    /// RR1: completes over every eligible or possibly eligible contact.
    pub fn rr1(&self) -> Option<f64> {
        self.rr(1.0)
    }

    /// RR3: as RR1, counting only the estimated eligible share `e` of the
    /// contacts of unknown eligibility.
    pub fn rr3(&self, e: f64) -> Option<f64> {
        self.rr(e.clamp(0.0, 1.0))
    }

    fn rr(&self, e: f64) -> Option<f64> {
        let den = (self.complete + self.partial + self.refusal + self.non_contact + self.other)
            as f64
            + e * self.unknown as f64;
        (den > 0.0).then(|| self.complete as f64 / den)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from statsmodels 0.15
    /// `proportion_confint(k, n, alpha=0.05, method="wilson" | "beta")`,
    /// computed outside this code: (k, n, wilson low, high, exact low, high).
    const STATSMODELS: [(u64, u64, f64, f64, f64, f64); 11] = [
        (0, 10, 0.000000, 0.277533, 0.000000, 0.308497),
        (3, 10, 0.107791, 0.603222, 0.066740, 0.652453),
        (10, 10, 0.722467, 1.000000, 0.691503, 1.000000),
        (17, 29, 0.407378, 0.744868, 0.389363, 0.764760),
        (24, 30, 0.626943, 0.904949, 0.614333, 0.922864),
        (412, 500, 0.788186, 0.854874, 0.787732, 0.856381),
        (1, 1000, 0.000177, 0.005643, 0.000025, 0.005559),
        (950, 1000, 0.934686, 0.961870, 0.934610, 0.962665),
        (0, 30, 0.000000, 0.113513, 0.000000, 0.115703),
        (30, 30, 0.886487, 1.000000, 0.884297, 1.000000),
        (45, 52, 0.747267, 0.933231, 0.742121, 0.944121),
    ];

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    #[test]
    fn intervals_match_statsmodels_to_four_decimals() {
        for (k, n, wl, wh, bl, bh) in STATSMODELS {
            let p = k as f64 / n as f64;
            let (l, h) = wilson(p, n as f64, LEVEL);
            assert!(close(l, wl) && close(h, wh), "wilson {k}/{n}: {l} {h}");
            let (l, h) = clopper_pearson(k as f64, n as f64, LEVEL);
            assert!(close(l, bl) && close(h, bh), "exact {k}/{n}: {l} {h}");
        }
    }

    #[test]
    fn the_rule_picks_exact_for_small_or_extreme_counts() {
        assert_eq!(proportion(17, 29).method, IntervalMethod::ClopperPearson);
        assert_eq!(proportion(0, 500).method, IntervalMethod::ClopperPearson);
        assert_eq!(proportion(500, 500).method, IntervalMethod::ClopperPearson);
        let e = proportion(412, 500);
        assert_eq!(e.method, IntervalMethod::Wilson);
        assert!(close(e.low, 0.788186) && close(e.high, 0.854874));
    }

    /// Every count up to 200: the interval holds the rate and stays in
    /// [0, 1], and one more "yes" never moves either end down.
    #[test]
    fn every_small_count_has_a_sane_interval() {
        for n in 1..=200u64 {
            let mut last = (0.0, 0.0, 0.0, 0.0);
            for k in 0..=n {
                let p = k as f64 / n as f64;
                let (wl, wh) = wilson(p, n as f64, LEVEL);
                let (bl, bh) = clopper_pearson(k as f64, n as f64, LEVEL);
                assert!(0.0 <= wl && wl <= p + 1e-12 && p <= wh + 1e-12 && wh <= 1.0);
                assert!(0.0 <= bl && bl <= p + 1e-12 && p <= bh + 1e-12 && bh <= 1.0);
                assert!(
                    wl >= last.0 - 1e-12 && wh >= last.1 - 1e-12,
                    "wilson {k}/{n}"
                );
                assert!(
                    bl >= last.2 - 1e-12 && bh >= last.3 - 1e-12,
                    "exact {k}/{n}"
                );
                last = (wl, wh, bl, bh);
            }
        }
    }

    #[test]
    fn sample_size_with_and_without_a_finite_population() {
        assert_eq!(sample_size(0.05, 0.5, None, LEVEL), 385);
        // 384.146 / (1 + 383.146 / 5000) = 356.8
        assert_eq!(sample_size(0.05, 0.5, Some(5000), LEVEL), 357);
        assert_eq!(sample_size(0.03, 0.5, None, LEVEL), 1068);
        // A tiny community: nearly everyone.
        assert_eq!(sample_size(0.05, 0.5, Some(100), LEVEL), 80);
    }

    #[test]
    fn largest_remainder_adds_up_and_favours_the_biggest_remainders() {
        assert_eq!(allocate(10, &[1, 1, 1]), vec![4, 3, 3]);
        assert_eq!(allocate(385, &[5000, 3000, 2000]), vec![193, 115, 77]);
        assert_eq!(allocate(7, &[0, 10]), vec![0, 7]);
        assert_eq!(allocate(5, &[0, 0]), vec![0, 0]);
        for total in 0..60u64 {
            let sizes = [13, 7, 29, 1, 0, 50];
            let a = allocate(total, &sizes);
            assert_eq!(a.iter().sum::<u64>(), total);
            for (i, s) in sizes.iter().enumerate() {
                let exact = total as f64 * *s as f64 / 100.0;
                assert!((a[i] as f64 - exact).abs() < 1.0, "{total} {i}");
            }
        }
    }

    #[test]
    fn response_rates_follow_aapor() {
        let d = Dispositions {
            complete: 400,
            partial: 20,
            refusal: 150,
            non_contact: 200,
            other: 30,
            unknown: 200,
            not_eligible: 200,
        };
        assert!(close(d.rr1().unwrap(), 0.4));
        // 400 / (800 + 0.5 × 200)
        assert!(close(d.rr3(0.5).unwrap(), 400.0 / 900.0));
        // 800 eligible of the 1000 whose eligibility is known.
        assert!(close(d.eligible_share(), 0.8));
        assert!(close(d.rr3(d.eligible_share()).unwrap(), 400.0 / 960.0));
        assert_eq!(Dispositions::default().rr1(), None);
    }

    /// statsmodels `confint_proportions_2indep(..., method="newcomb")`.
    #[test]
    fn change_between_waves_matches_newcombe() {
        let c = change((0.9, 200.0), (0.8, 200.0));
        assert!(close(c.low, 0.030029) && close(c.high, 0.169870));
        assert!(c.beyond_noise());
        let c = change((0.86, 50.0), (0.8, 50.0));
        assert!(close(c.low, -0.090058) && close(c.high, 0.208208));
        assert!(!c.beyond_noise());
        let c = change((0.82, 1000.0), (0.79, 1000.0));
        assert!(close(c.low, -0.004748) && close(c.high, 0.064682));
    }

    /// Four cells (region × sex) and four communities, the first half of
    /// each cell in one community: answers cluster hard.
    fn sample() -> (Vec<Cell>, Population) {
        let mut cells = vec![];
        for (r, s, n, k) in [
            (0, 0, 20u64, 15u64),
            (0, 1, 30, 18),
            (1, 0, 25, 20),
            (1, 1, 25, 22),
        ] {
            // The first n/2 answers in the first community: the "yes"
            // answers, which come first, gather there.
            let half = n / 2;
            cells.push(Cell {
                cell: vec![r, s],
                cluster: r * 2,
                n: half,
                yes: k.min(half),
            });
            cells.push(Cell {
                cell: vec![r, s],
                cluster: r * 2 + 1,
                n: n - half,
                yes: k.saturating_sub(half),
            });
        }
        let population = Population {
            cells: vec![
                (vec![0, 0], 4000.0),
                (vec![0, 1], 4200.0),
                (vec![1, 0], 900.0),
                (vec![1, 1], 1100.0),
            ],
        };
        (cells, population)
    }

    /// Reference computed outside this code (numpy: cell weights, Kish n,
    /// between-cluster linearised variance; statsmodels' Wilson interval on
    /// the effective count).
    #[test]
    fn post_stratified_rate_with_kish_n_and_design_effect() {
        let (cells, population) = sample();
        let w = weighted(&cells, &population, false).unwrap();
        assert!(!w.raked);
        assert_eq!(w.n, 100);
        assert!(close(w.estimate.p, 0.706667));
        assert!(close(w.kish_n, 70.833333));
        assert_eq!(w.design_effect, 1.0);
        assert!(close(w.estimate.low, 0.592225) && close(w.estimate.high, 0.799845));
        let c = weighted(&cells, &population, true).unwrap();
        assert!((c.design_effect - 16.239442).abs() < 1e-4);
        assert!(close(c.estimate.n, 4.361808));
        // So few effective answers: the exact interval, wider still.
        assert_eq!(c.estimate.method, IntervalMethod::ClopperPearson);
        assert!(c.estimate.low < 0.2837 && c.estimate.high > 0.9361);
    }

    /// With a populated cell empty, the weights are raked: the weighted
    /// sample then has the population's share on every margin.
    #[test]
    fn an_empty_cell_is_raked_to_the_margins() {
        let (mut cells, population) = sample();
        cells.retain(|c| c.cell != vec![1, 0]);
        let w = weighted(&cells, &population, false).unwrap();
        assert!(w.raked);
        let mut in_cell = std::collections::HashMap::new();
        for c in &cells {
            *in_cell.entry(c.cell.as_slice()).or_insert(0u64) += c.n;
        }
        let ws = rake(&in_cell, &population, 75).unwrap();
        let total: f64 = in_cell.iter().map(|(c, n)| ws[*c] * *n as f64).sum();
        let share = |d: usize, v: usize| {
            in_cell
                .iter()
                .filter(|(c, _)| c[d] == v)
                .map(|(c, n)| ws[*c] * *n as f64)
                .sum::<f64>()
                / total
        };
        assert!((share(0, 1) - 2000.0 / 10200.0).abs() < 1e-9);
        assert!((share(1, 0) - 4900.0 / 10200.0).abs() < 1e-9);
        // A whole margin with nobody: no weighted rate at all.
        cells.retain(|c| c.cell[0] != 1);
        assert!(weighted(&cells, &population, false).is_none());
    }

    /// Seeded cases for the rules that have many: a small xorshift, so the
    /// same cases every run and no dependency.
    fn cases(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut x = seed | 1;
        move |m| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m.max(1)
        }
    }

    #[test]
    fn property_every_interval_holds_its_rate_inside_zero_and_one() {
        let mut next = cases(7);
        for _ in 0..5_000 {
            let n = next(600);
            let k = next(n + 1);
            let e = proportion(k, n);
            assert!(
                0.0 <= e.low && e.low <= e.p && e.p <= e.high && e.high <= 1.0,
                "{k}/{n}: {e:?}"
            );
            if n > 0 && k == 0 {
                assert_eq!(e.low, 0.0, "{k}/{n}");
            }
            if n > 0 && k == n {
                assert_eq!(e.high, 1.0, "{k}/{n}");
            }
        }
    }

    #[test]
    fn property_largest_remainder_hands_out_exactly_the_total_within_one_of_the_share() {
        let mut next = cases(11);
        for _ in 0..2_000 {
            let sizes: Vec<u64> = (0..1 + next(40)).map(|_| next(20_000)).collect();
            let total = next(5_000);
            let got = allocate(total, &sizes);
            let sum: u64 = sizes.iter().sum();
            if sum == 0 {
                assert!(got.iter().all(|&g| g == 0));
                continue;
            }
            assert_eq!(got.iter().sum::<u64>(), total, "{sizes:?} {total}");
            for (g, s) in got.iter().zip(&sizes) {
                let exact = total as f64 * *s as f64 / sum as f64;
                assert!((*g as f64 - exact).abs() < 1.0, "{g} vs {exact}");
            }
        }
    }

    #[test]
    fn property_a_sample_in_the_population_shares_weights_to_its_own_rate() {
        let mut next = cases(13);
        for _ in 0..500 {
            let cells_n = 2 + next(10) as usize;
            let mut cells = vec![];
            let mut population = Population { cells: vec![] };
            for c in 0..cells_n {
                let n = 1 + next(80);
                cells.push(Cell {
                    cell: vec![c],
                    cluster: c,
                    n,
                    yes: next(n + 1),
                });
                // Population proportional to the sample: every weight 1.
                population.cells.push((vec![c], n as f64 * 37.0));
            }
            let n: u64 = cells.iter().map(|c| c.n).sum();
            let yes: u64 = cells.iter().map(|c| c.yes).sum();
            let w = weighted(&cells, &population, false).unwrap();
            assert!((w.estimate.p - yes as f64 / n as f64).abs() < 1e-9);
            assert!((w.kish_n - n as f64).abs() < 1e-6, "{} vs {n}", w.kish_n);
            assert_eq!(w.design_effect, 1.0);
        }
    }

    #[test]
    fn property_a_finite_population_never_needs_more_than_itself() {
        let mut next = cases(17);
        for _ in 0..2_000 {
            let e = (1 + next(150)) as f64 / 1000.0;
            let pop = 1 + next(200_000);
            let with = sample_size(e, 0.5, Some(pop), 0.95);
            let without = sample_size(e, 0.5, None, 0.95);
            assert!(
                with <= without && with <= pop,
                "e {e} pop {pop}: {with} / {without}"
            );
        }
    }
}
