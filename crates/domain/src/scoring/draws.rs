//! The projection's margin: seeded Monte Carlo over what is not known
//! for certain. Each draw takes every standard's share from its posterior
//! and scores the year by the same rule as the estimate:
//!
//! - on-site observations: the sites of the chosen rounds resampled with
//!   replacement (a cluster bootstrap), all standards of a site together,
//!   the spread scaled by √(k/(k−1)) for the k sites a standard was seen
//!   at; a standard seen at fewer than five sites draws from a Beta with
//!   one observation a site (Jeffreys prior), since five sites are too few
//!   to resample;
//! - survey rates: a Beta around the rate with its effective n (Jeffreys),
//!   mapped to a share like the rate itself;
//! - nothing known: uniform;
//! - materials met and recorded assessments: as they are.
//!
//! The same inputs and seed give the same interval on every machine.

use super::{Known, Rules, SitePanel, StandardInput, rate_to_share, standard_weights};
use crate::framework::Method;
use rand::distr::Distribution;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;

/// How many whole-panel resamples of the sites are made; each draw takes
/// one of them.
const REPLICATES: usize = 1_000;
/// How many draws of each Beta are made; each draw takes one at random.
const POOL: usize = 2_048;
/// Fewer sites than this and a standard's sites are not resampled.
const MIN_SITES: u32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spec {
    pub draws: usize,
    pub seed: u64,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            draws: 10_000,
            seed: 2026,
        }
    }
}

/// A 90% interval of the annual score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Interval {
    pub low: f64,
    pub median: f64,
    pub high: f64,
    pub draws: usize,
    pub seed: u64,
}

/// How much of the interval's width a standard makes: the spread of the
/// points it earns across the draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    /// Index in the inputs.
    pub standard: usize,
    /// Standard deviation of its points earned.
    pub sd: f64,
    /// Its part of the sum of the standards' variances.
    pub part: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncertainty {
    pub interval: Interval,
    /// Every standard with any spread, the widest first.
    pub spread: Vec<Spread>,
}

/// Where one method of one standard takes its share in a draw.
#[derive(Debug, Clone, Copy)]
enum Sampler {
    Fixed(f64),
    /// A column of the site replicates.
    Sites(usize),
    /// A Beta pool, mapped to a share by (floor, target) when a rate.
    Pool(usize, Option<(f64, f64)>),
}

pub fn simulate(
    standards: &[StandardInput],
    panel: &SitePanel,
    weights: &BTreeMap<Method, f64>,
    rules: &Rules,
    spec: Spec,
) -> Uncertainty {
    let draws = spec.draws.max(1);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(spec.seed);
    let mut pools: Vec<Vec<f64>> = vec![];
    let mut columns: Vec<(usize, f64, f64)> = vec![]; // (standard, p̂, scale)
    let mut column_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut beta_pool = |a: f64, b: f64, rng: &mut Xoshiro256PlusPlus| -> usize {
        let beta = statrs::distribution::Beta::new(a, b)
            .unwrap_or_else(|_| statrs::distribution::Beta::new(1.0, 1.0).expect("uniform"));
        pools.push((0..POOL).map(|_| beta.sample(rng)).collect());
        pools.len() - 1
    };
    let plan: Vec<Vec<(f64, Sampler)>> = standards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ws = standard_weights(s, weights);
            s.methods
                .iter()
                .zip(ws)
                .map(|(m, w)| {
                    let sampler = match m.known {
                        _ if m.known.is_fixed() => Sampler::Fixed(m.known.share()),
                        Known::OnSite { made, .. } if made > 0 => {
                            let (met, made, sites) = panel.of(i);
                            let p = if made > 0 {
                                f64::from(met) / f64::from(made)
                            } else {
                                0.5
                            };
                            if sites >= MIN_SITES {
                                let k = f64::from(sites);
                                let col = *column_of.entry(i).or_insert_with(|| {
                                    columns.push((i, p, (k / (k - 1.0)).sqrt()));
                                    columns.len() - 1
                                });
                                Sampler::Sites(col)
                            } else {
                                let k = f64::from(sites.max(1));
                                Sampler::Pool(
                                    beta_pool(p * k + 0.5, (1.0 - p) * k + 0.5, &mut rng),
                                    None,
                                )
                            }
                        }
                        Known::SurveyRate {
                            rate,
                            n_eff,
                            floor,
                            target,
                        } => {
                            let n = n_eff.max(1.0);
                            let r = rate.clamp(0.0, 1.0);
                            Sampler::Pool(
                                beta_pool(r * n + 0.5, (1.0 - r) * n + 0.5, &mut rng),
                                Some((floor, target)),
                            )
                        }
                        _ => Sampler::Pool(beta_pool(1.0, 1.0, &mut rng), None),
                    };
                    (w, sampler)
                })
                .collect()
        })
        .collect();
    let replicates = site_replicates(panel, &columns, &mut rng);

    let mut totals = Vec::with_capacity(draws);
    let mut sum = vec![0.0f64; standards.len()];
    let mut sum_sq = vec![0.0f64; standards.len()];
    let width = columns.len();
    for _ in 0..draws {
        let rep = if width > 0 {
            rng.random_range(0..REPLICATES) * width
        } else {
            0
        };
        let (mut basic, mut featured) = (0.0, 0.0);
        for (i, methods) in plan.iter().enumerate() {
            let mut share = if methods.is_empty() { 0.5 } else { 0.0 };
            for &(w, sampler) in methods {
                share += w * match sampler {
                    Sampler::Fixed(v) => v,
                    Sampler::Sites(col) => replicates[rep + col],
                    Sampler::Pool(p, map) => {
                        let v = pools[p][rng.random_range(0..POOL)];
                        match map {
                            Some((floor, target)) => rate_to_share(v, floor, target),
                            None => v,
                        }
                    }
                };
            }
            let earned = standards[i].points * share;
            sum[i] += earned;
            sum_sq[i] += earned * earned;
            if standards[i].featured {
                featured += earned;
            } else {
                basic += earned;
            }
        }
        totals.push(super::annual_score(basic, featured, rules));
    }
    totals.sort_by(f64::total_cmp);
    let n = draws as f64;
    let variances: Vec<f64> = sum
        .iter()
        .zip(&sum_sq)
        .map(|(s, q)| (q / n - (s / n).powi(2)).max(0.0))
        .collect();
    let total_var: f64 = variances.iter().sum();
    let mut spread: Vec<Spread> = variances
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 1e-12)
        .map(|(i, v)| Spread {
            standard: i,
            sd: v.sqrt(),
            part: if total_var > 0.0 { v / total_var } else { 0.0 },
        })
        .collect();
    spread.sort_by(|a, b| b.sd.total_cmp(&a.sd).then(a.standard.cmp(&b.standard)));
    Uncertainty {
        interval: Interval {
            low: quantile(&totals, 0.05),
            median: quantile(&totals, 0.5),
            high: quantile(&totals, 0.95),
            draws,
            seed: spec.seed,
        },
        spread,
    }
}

/// `REPLICATES` resamples of the panel's sites, each a row of the
/// columns' shares.
fn site_replicates(
    panel: &SitePanel,
    columns: &[(usize, f64, f64)],
    rng: &mut Xoshiro256PlusPlus,
) -> Vec<f64> {
    if columns.is_empty() || panel.sites.is_empty() {
        return vec![];
    }
    let col_of: BTreeMap<usize, usize> = columns
        .iter()
        .enumerate()
        .map(|(c, (s, _, _))| (*s, c))
        .collect();
    // Each site's observations as (column, met, made), the rest dropped.
    let sites: Vec<Vec<(usize, u32, u32)>> = panel
        .sites
        .iter()
        .map(|obs| {
            obs.iter()
                .filter_map(|&(s, m, n)| col_of.get(&s).map(|&c| (c, m, n)))
                .collect()
        })
        .collect();
    let k = sites.len();
    let width = columns.len();
    let mut out = Vec::with_capacity(REPLICATES * width);
    let (mut met, mut made) = (vec![0u32; width], vec![0u32; width]);
    for _ in 0..REPLICATES {
        met.fill(0);
        made.fill(0);
        for _ in 0..k {
            for &(c, m, n) in &sites[rng.random_range(0..k)] {
                met[c] += m;
                made[c] += n;
            }
        }
        for (c, &(_, p, scale)) in columns.iter().enumerate() {
            out.push(if made[c] == 0 {
                p
            } else {
                (p + scale * (f64::from(met[c]) / f64::from(made[c]) - p)).clamp(0.0, 1.0)
            });
        }
    }
    out
}

/// Linear interpolation between order statistics (type 7).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}
