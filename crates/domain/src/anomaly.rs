//! Anomaly flags for the office (anti-collusion): plain tests of one
//! against its peers, each saying which test and what it found. A flag
//! is a prompt to look, never a verdict.
//!
//! - A unit whose close rate is far above the other units' while its
//!   cases are rarely sent back: two one-sided two-proportion z-tests
//!   against the other units pooled (close rate z ≥ 2.33, rework rate
//!   z ≤ −1.64), so a unit that closes much and is seldom checked stands
//!   out.
//! - An inspector whose failure rate is far below peers' on comparable
//!   sites: observed failures against those expected from the other
//!   inspectors' failure rate on the same site types (a stratified
//!   comparison); z ≤ −3 with at least ten failures expected.
//! - A site that passes only when one person inspects it: that person's
//!   pass rate against everyone else's at the same site, Fisher's exact
//!   test one-sided p < 0.01.

use serde::Serialize;
use statrs::distribution::{DiscreteCDF, Hypergeometric};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Closes far more than peers, rarely sent back.
    UnitClosesUnchecked,
    /// Finds far fewer failures than peers on the same kinds of site.
    InspectorFindsLittle,
    /// Passes only when one person inspects it.
    SitePassesForOne,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::UnitClosesUnchecked => "unit_closes_unchecked",
            Kind::InspectorFindsLittle => "inspector_finds_little",
            Kind::SitePassesForOne => "site_passes_for_one",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub kind: Kind,
    /// The unit, inspector or site.
    pub subject: Uuid,
    /// The other party when there is one (the inspector a site passes for).
    pub with: Option<Uuid>,
    /// The test and its statistic, for the page: "z = 3.1", "p = 0.004".
    pub test: String,
    /// The figures behind it: this one's and the peers'.
    pub own: (u64, u64),
    pub peers: (u64, u64),
}

/// One-sided z of p₁ against p₂ with the pooled standard error.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let p = (x1 + x2) as f64 / (n1 + n2) as f64;
    let se = (p * (1.0 - p) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    (se > 0.0).then(|| (p1 - p2) / se)
}

/// A unit's cases: (closed, due) and (sent back, handled).
#[derive(Debug, Clone, Copy)]
pub struct UnitCases {
    pub unit: Uuid,
    pub closed: u64,
    pub due: u64,
    pub reworked: u64,
    pub handled: u64,
}

pub fn units(all: &[UnitCases]) -> Vec<Flag> {
    let mut out = vec![];
    for u in all {
        let (mut c, mut d, mut r, mut h) = (0, 0, 0, 0);
        for o in all.iter().filter(|o| o.unit != u.unit) {
            c += o.closed;
            d += o.due;
            r += o.reworked;
            h += o.handled;
        }
        let (Some(zc), Some(zr)) = (
            two_proportion_z(u.closed, u.due, c, d),
            two_proportion_z(u.reworked, u.handled, r, h),
        ) else {
            continue;
        };
        if u.due >= 20 && zc >= 2.33 && zr <= -1.64 {
            out.push(Flag {
                kind: Kind::UnitClosesUnchecked,
                subject: u.unit,
                with: None,
                test: format!("z = {zc:.1} (close rate), z = {zr:.1} (rework rate)"),
                own: (u.closed, u.due),
                peers: (c, d),
            });
        }
    }
    out
}

/// One inspector's findings on one site type: (failures, judged).
#[derive(Debug, Clone, Copy)]
pub struct InspectorStratum {
    pub inspector: Uuid,
    pub site_type: Uuid,
    pub failed: u64,
    pub judged: u64,
}

pub fn inspectors(all: &[InspectorStratum]) -> Vec<Flag> {
    let mut people: Vec<Uuid> = all.iter().map(|s| s.inspector).collect();
    people.sort();
    people.dedup();
    let mut out = vec![];
    for who in people {
        let (mut observed, mut expected, mut var, mut judged) = (0u64, 0.0, 0.0, 0u64);
        let (mut peer_failed, mut peer_judged) = (0u64, 0u64);
        for s in all.iter().filter(|s| s.inspector == who) {
            let (f, n) = all
                .iter()
                .filter(|o| o.inspector != who && o.site_type == s.site_type)
                .fold((0, 0), |a, o| (a.0 + o.failed, a.1 + o.judged));
            if n == 0 {
                continue;
            }
            let p = f as f64 / n as f64;
            observed += s.failed;
            judged += s.judged;
            expected += s.judged as f64 * p;
            var += s.judged as f64 * p * (1.0 - p);
            peer_failed += f;
            peer_judged += n;
        }
        if expected < 10.0 || var <= 0.0 {
            continue;
        }
        let z = (observed as f64 - expected) / var.sqrt();
        if z <= -3.0 {
            out.push(Flag {
                kind: Kind::InspectorFindsLittle,
                subject: who,
                with: None,
                test: format!("z = {z:.1} ({observed} failures found, {expected:.0} expected)"),
                own: (observed, judged),
                peers: (peer_failed, peer_judged),
            });
        }
    }
    out
}

/// One site's findings by one inspector: (passed, judged).
#[derive(Debug, Clone, Copy)]
pub struct SiteInspector {
    pub site: Uuid,
    pub inspector: Uuid,
    pub passed: u64,
    pub judged: u64,
}

/// Fisher's exact test, one-sided: the chance of `x` or more passes among
/// the `n` findings of one inspector when the site's `k` passes of `total`
/// fell among inspectors at random.
pub fn fisher_greater(x: u64, n: u64, k: u64, total: u64) -> Option<f64> {
    if x == 0 {
        return Some(1.0);
    }
    let h = Hypergeometric::new(total, k, n).ok()?;
    Some(1.0 - h.cdf(x - 1))
}

pub fn sites(all: &[SiteInspector]) -> Vec<Flag> {
    let mut out = vec![];
    for s in all {
        let (mut passed, mut judged) = (0, 0);
        let mut others = 0;
        for o in all
            .iter()
            .filter(|o| o.site == s.site && o.inspector != s.inspector)
        {
            passed += o.passed;
            judged += o.judged;
            others += 1;
        }
        if others == 0 || judged < 5 || s.judged < 5 {
            continue;
        }
        let own_rate = s.passed as f64 / s.judged as f64;
        let peer_rate = passed as f64 / judged as f64;
        let Some(p) = fisher_greater(s.passed, s.judged, s.passed + passed, s.judged + judged)
        else {
            continue;
        };
        if p < 0.01 && own_rate >= 0.9 && peer_rate < 0.6 {
            out.push(Flag {
                kind: Kind::SitePassesForOne,
                subject: s.site,
                with: Some(s.inspector),
                test: format!("Fisher p = {p:.4}"),
                own: (s.passed, s.judged),
                peers: (passed, judged),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn a_unit_closing_everything_unchecked_is_flagged_and_an_ordinary_one_is_not() {
        let mut all: Vec<UnitCases> = (1..=6)
            .map(|i| UnitCases {
                unit: id(i),
                closed: 70,
                due: 100,
                reworked: 12,
                handled: 90,
            })
            .collect();
        all.push(UnitCases {
            unit: id(9),
            closed: 99,
            due: 100,
            reworked: 1,
            handled: 100,
        });
        let flags = units(&all);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].subject, id(9));
        assert!(flags[0].test.starts_with("z = "));
    }

    #[test]
    fn an_inspector_finding_little_on_the_same_site_types_is_flagged() {
        let t = id(100);
        let mut all: Vec<InspectorStratum> = (1..=4)
            .map(|i| InspectorStratum {
                inspector: id(i),
                site_type: t,
                failed: 30,
                judged: 100,
            })
            .collect();
        all.push(InspectorStratum {
            inspector: id(7),
            site_type: t,
            failed: 5,
            judged: 100,
        });
        let flags = inspectors(&all);
        assert_eq!(flags.iter().map(|f| f.subject).collect::<Vec<_>>(), [id(7)]);
    }

    #[test]
    fn a_site_that_passes_only_for_one_inspector_is_flagged() {
        let site = id(50);
        let all = [
            SiteInspector {
                site,
                inspector: id(1),
                passed: 12,
                judged: 12,
            },
            SiteInspector {
                site,
                inspector: id(2),
                passed: 3,
                judged: 12,
            },
            SiteInspector {
                site,
                inspector: id(3),
                passed: 4,
                judged: 12,
            },
        ];
        let flags = sites(&all);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].with, Some(id(1)));
        // The exact test by hand: 12 passes of 12 when 19 of 36 passed.
        let p = fisher_greater(12, 12, 19, 36).unwrap();
        assert!(p < 1e-4, "{p}");
    }
}
