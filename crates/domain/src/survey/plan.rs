//! A wave's sample plan: how many answers the target margin needs over the
//! communities covered, and how they split into strata (community × age
//! band × sex) whose quotas close when full.

use super::stats::{LEVEL, allocate, sample_size};
use super::{AgeBand, Sex};
use uuid::Uuid;

/// The adult population's shares by age band and sex where a community
/// gives none of its own (a census-like structure; configurable later per
/// city). Sums to 1.
pub const AGE_SEX_SHARES: [(AgeBand, Sex, f64); 8] = [
    (AgeBand::From18, Sex::Male, 0.098),
    (AgeBand::From18, Sex::Female, 0.092),
    (AgeBand::From30, Sex::Male, 0.142),
    (AgeBand::From30, Sex::Female, 0.138),
    (AgeBand::From45, Sex::Male, 0.136),
    (AgeBand::From45, Sex::Female, 0.134),
    (AgeBand::From60, Sex::Male, 0.124),
    (AgeBand::From60, Sex::Female, 0.136),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Stratum {
    pub region_id: Uuid,
    pub age_band: AgeBand,
    pub sex: Sex,
    /// People of the stratum: the weights' base.
    pub population: u64,
    pub target: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Answers the margin needs over the whole population covered.
    pub total: u64,
    pub strata: Vec<Stratum>,
}

/// The plan for `margin` (0.05 = ±5 points at 95%) over communities and
/// their populations; p = 0.5, the most cautious. When `per_community`,
/// each community gets the margin on its own (what ranking communities
/// needs); otherwise the city-wide figure is split by population.
pub fn plan(margin: f64, communities: &[(Uuid, u64)], per_community: bool) -> Plan {
    let cells = |id: Uuid, pop: u64| {
        AGE_SEX_SHARES
            .iter()
            .map(move |(a, s, share)| (id, *a, *s, (pop as f64 * share).round() as u64))
    };
    let mut strata = vec![];
    let mut total = 0;
    if per_community {
        for &(id, pop) in communities {
            let n = sample_size(margin, 0.5, Some(pop), LEVEL).min(pop);
            total += n;
            let cs: Vec<_> = cells(id, pop).collect();
            let parts = allocate(n, &cs.iter().map(|c| c.3).collect::<Vec<_>>());
            strata.extend(cs.into_iter().zip(parts).map(|((r, a, s, p), t)| Stratum {
                region_id: r,
                age_band: a,
                sex: s,
                population: p,
                target: t,
            }));
        }
    } else {
        let pop: u64 = communities.iter().map(|c| c.1).sum();
        total = sample_size(margin, 0.5, Some(pop), LEVEL).min(pop);
        let cs: Vec<_> = communities
            .iter()
            .flat_map(|&(id, p)| cells(id, p))
            .collect();
        let parts = allocate(total, &cs.iter().map(|c| c.3).collect::<Vec<_>>());
        strata.extend(cs.into_iter().zip(parts).map(|((r, a, s, p), t)| Stratum {
            region_id: r,
            age_band: a,
            sex: s,
            population: p,
            target: t,
        }));
    }
    Plan { total, strata }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        let s: f64 = AGE_SEX_SHARES.iter().map(|x| x.2).sum();
        assert!((s - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_city_plan_splits_the_margin_by_population() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let p = plan(0.05, &[(a, 30_000), (b, 10_000)], false);
        // 384.146 / (1 + 383.146 / 40000) = 380.5
        assert_eq!(p.total, 381);
        assert_eq!(p.strata.iter().map(|s| s.target).sum::<u64>(), 381);
        let of = |id| {
            p.strata
                .iter()
                .filter(|s| s.region_id == id)
                .map(|s| s.target)
                .sum::<u64>()
        };
        assert!((of(a) as i64 - 286).abs() <= 1, "{}", of(a));
        assert_eq!(p.strata.len(), 16);
    }

    #[test]
    fn per_community_each_gets_its_own_margin() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let p = plan(0.05, &[(a, 30_000), (b, 10_000)], true);
        let of = |id| {
            p.strata
                .iter()
                .filter(|s| s.region_id == id)
                .map(|s| s.target)
                .sum::<u64>()
        };
        assert_eq!(of(a), 380);
        assert_eq!(of(b), 370);
        assert_eq!(p.total, 750);
    }
}
