//! The projection's Monte Carlo at the size the issue names: 150
//! standards (a third on-site, a fifth by survey, the rest by materials,
//! recorded assessments or not yet measured) over a mock evaluation's
//! panel of 78 sites and about 1,200 observations; 10,000 draws.

use std::time::Instant;
use wenming_domain::framework::{Method, Settings};
use wenming_domain::scoring::draws::{Spec, simulate};
use wenming_domain::scoring::{
    Known, MethodInput, Rules, SURVEY_FLOOR, SURVEY_TARGET, SitePanel, StandardInput,
    method_weights,
};

/// (standards, panel) of the synthetic framework.
pub fn city() -> (Vec<StandardInput>, SitePanel) {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let on_site: Vec<usize> = (0..150).filter(|i| i % 3 == 0).collect();
    let mut panel = SitePanel::default();
    for _ in 0..78 {
        // Each site sees about fifteen of the on-site standards.
        let mut obs = vec![];
        for &s in &on_site {
            if next(100) < 30 {
                obs.push((s, u32::from(next(100) < 70), 1));
            }
        }
        panel.sites.push(obs);
    }
    let standards = (0..150)
        .map(|i| {
            let known = match i % 15 {
                0 | 3 | 6 | 9 | 12 => {
                    let (met, made, sites) = panel.of(i);
                    Known::OnSite { met, made, sites }
                }
                1 | 4 | 7 => Known::SurveyRate {
                    rate: 0.7 + next(25) as f64 / 100.0,
                    n_eff: 300.0 + next(400) as f64,
                    floor: SURVEY_FLOOR,
                    target: SURVEY_TARGET,
                },
                2 | 5 | 8 | 10 => Known::Materials {
                    met: next(4) as u32,
                    required: 3,
                },
                11 | 13 => Known::Recorded { share: 0.85 },
                _ => Known::Unknown,
            };
            let method = match known {
                Known::OnSite { .. } => Method::SiteInspection,
                Known::SurveyRate { .. } => Method::Survey,
                Known::Materials { .. } => Method::MaterialReview,
                Known::Recorded { .. } => Method::Briefing,
                Known::Unknown => Method::OverallObservation,
            };
            StandardInput {
                code: format!("S{i}"),
                title: format!("S{i}"),
                points: 0.8,
                featured: i >= 130,
                lead_unit: None,
                methods: vec![MethodInput { method, known }],
            }
        })
        .collect();
    (standards, panel)
}

/// p50 and max of `runs` full simulations of 10,000 draws, in ms.
pub fn monte_carlo(runs: usize) -> (f64, f64, usize) {
    let (standards, panel) = city();
    let weights = method_weights(&Settings::default());
    let rules = Rules {
        basic_total: 100.0,
        gates: vec![],
        negatives: vec![],
    };
    let observations: usize = panel.sites.iter().map(Vec::len).sum();
    let mut ms = vec![];
    for k in 0..runs {
        let t = Instant::now();
        let u = simulate(
            &standards,
            &panel,
            &weights,
            &rules,
            Spec {
                draws: 10_000,
                seed: k as u64,
            },
        );
        std::hint::black_box(&u);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() - 1], observations)
}
