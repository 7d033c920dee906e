//! Who verifies a fix (核查). The office dispatched the case, so it may not
//! check it; the check goes to a field inspector: the one who found the
//! problem when it came from an inspection (they know what it looked like),
//! else the one who sent it back last time (they see what they asked for),
//! else an inspector of the case's district with the fewest cases waiting
//! for them — never someone of the unit that handled it, nor anyone who
//! dispatched or handled it.

use super::CaseFacts;
use uuid::Uuid;

/// An inspector as the choice of verifier sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierCandidate {
    pub id: Uuid,
    /// Region paths their grants reach (the city's path for a city-wide
    /// grant): a case outside them is not theirs to see.
    pub reaches: Vec<String>,
    /// Paths of the districts or streets they work in (their grants' and
    /// their unit's, the city itself left out).
    pub works_in: Vec<String>,
    /// Units they belong to or act for.
    pub units: Vec<Uuid>,
    /// Handled cases already waiting for them.
    pub waiting: usize,
}

/// What the choice needs to know of the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyView<'a> {
    pub id: Uuid,
    /// The case's region path (a street's or a community's); None when
    /// unplaced.
    pub region_path: Option<&'a str>,
    pub facts: &'a CaseFacts,
    /// The inspector whose finding opened the case.
    pub found_by: Option<Uuid>,
    /// The verifier it last waited for (kept after a rework).
    pub previous: Option<Uuid>,
}

/// The district a region path lies in: its first two levels below the
/// city (`/city/district/`), or the path itself when shorter.
fn district_of(path: &str) -> &str {
    let mut slashes = 0;
    for (i, ch) in path.char_indices() {
        if ch == '/' {
            slashes += 1;
            if slashes == 3 {
                return &path[..=i];
            }
        }
    }
    path
}

/// Whether this candidate may verify the case at all.
pub fn may_verify(c: &VerifierCandidate, case: &VerifyView<'_>) -> bool {
    let f = case.facts;
    let reaches = match case.region_path {
        Some(p) => c.reaches.iter().any(|r| p.starts_with(r.as_str())),
        // An unplaced case is seen by city-wide grants only.
        None => c.reaches.iter().any(|r| r.matches('/').count() == 2),
    };
    reaches
        && !f.handled_by.contains(&c.id)
        && !f.dispatched_by.contains(&c.id)
        && !f.unit.is_some_and(|u| c.units.contains(&u))
}

/// The verifier for a fix just reported, or None when nobody may verify
/// it (the office then chooses, or verifies itself).
pub fn choose_verifier(case: &VerifyView<'_>, candidates: &[VerifierCandidate]) -> Option<Uuid> {
    let eligible: Vec<&VerifierCandidate> =
        candidates.iter().filter(|c| may_verify(c, case)).collect();
    for preferred in [case.previous, case.found_by].into_iter().flatten() {
        if eligible.iter().any(|c| c.id == preferred) {
            return Some(preferred);
        }
    }
    let local: Vec<&&VerifierCandidate> = match case.region_path.map(district_of) {
        Some(d) => eligible
            .iter()
            .filter(|c| {
                c.works_in
                    .iter()
                    .any(|w| w.starts_with(d) || d.starts_with(w.as_str()))
            })
            .collect(),
        None => vec![],
    };
    let pool: Vec<&VerifierCandidate> = if local.is_empty() {
        eligible
    } else {
        local.into_iter().copied().collect()
    };
    // Fewest waiting first; ties go by a mix of the case and the inspector,
    // so that equal loads are spread and nobody can predict their cases.
    pool.into_iter()
        .min_by_key(|c| (c.waiting, mix(case.id, c.id)))
        .map(|c| c.id)
}

fn mix(a: Uuid, b: Uuid) -> u64 {
    let (a, b) = (a.as_u64_pair(), b.as_u64_pair());
    fmix(fmix(a.0 ^ fmix(a.1)) ^ fmix(b.0 ^ fmix(b.1)))
}

/// MurmurHash3's finaliser: every input bit moves every output bit.
fn fmix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::CaseState;

    const CITY: &str = "/c/";
    const EAST: &str = "/c/east/";
    const EAST_STREET: &str = "/c/east/s1/";
    const WEST: &str = "/c/west/";

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn inspector(n: u128, works_in: &[&str], waiting: usize) -> VerifierCandidate {
        VerifierCandidate {
            id: id(n),
            reaches: vec![CITY.into()],
            works_in: works_in.iter().map(|s| s.to_string()).collect(),
            units: vec![],
            waiting,
        }
    }

    fn handled(unit: Uuid) -> CaseFacts {
        CaseFacts {
            state: Some(CaseState::Handled),
            unit: Some(unit),
            dispatched_by: vec![id(900)],
            handled_by: vec![id(901)],
            ..Default::default()
        }
    }

    fn view<'a>(facts: &'a CaseFacts, found_by: Option<Uuid>) -> VerifyView<'a> {
        VerifyView {
            id: id(7),
            region_path: Some(EAST_STREET),
            facts,
            found_by,
            previous: None,
        }
    }

    #[test]
    fn the_inspector_who_found_it_verifies_it() {
        let facts = handled(id(50));
        let all = [inspector(1, &[EAST], 0), inspector(2, &[WEST], 5)];
        assert_eq!(
            choose_verifier(&view(&facts, Some(id(2))), &all),
            Some(id(2))
        );
    }

    #[test]
    fn else_an_inspector_of_the_district_with_the_fewest_waiting() {
        let facts = handled(id(50));
        let all = [
            inspector(1, &[WEST], 0),
            inspector(2, &[EAST], 3),
            inspector(3, &[EAST_STREET], 1),
        ];
        assert_eq!(choose_verifier(&view(&facts, None), &all), Some(id(3)));
    }

    #[test]
    fn nobody_of_the_handling_unit_nor_who_handled_or_dispatched_it() {
        let unit = id(50);
        let facts = handled(unit);
        let mut colleague = inspector(1, &[EAST], 0);
        colleague.units = vec![unit];
        let dispatcher = inspector(900, &[EAST], 0);
        let handler = inspector(901, &[EAST], 0);
        let outsider = inspector(4, &[WEST], 9);
        let all = [colleague.clone(), dispatcher, handler, outsider];
        // Not even when the colleague found it.
        assert_eq!(
            choose_verifier(&view(&facts, Some(colleague.id)), &all),
            Some(id(4))
        );
        assert_eq!(choose_verifier(&view(&facts, None), &all[..3]), None);
    }

    #[test]
    fn the_verifier_who_sent_it_back_sees_the_fix_again() {
        let facts = handled(id(50));
        let all = [inspector(1, &[EAST], 0), inspector(2, &[EAST], 4)];
        // Even when another found it: the office put it to them.
        let mut v = view(&facts, Some(id(1)));
        v.previous = Some(id(2));
        assert_eq!(choose_verifier(&v, &all), Some(id(2)));
    }

    #[test]
    fn a_case_beyond_an_inspectors_reach_is_not_theirs() {
        let facts = handled(id(50));
        let mut west_only = inspector(1, &[WEST], 0);
        west_only.reaches = vec![WEST.into()];
        assert_eq!(choose_verifier(&view(&facts, None), &[west_only]), None);
    }

    #[test]
    fn equal_loads_are_spread_over_cases() {
        let facts = handled(id(50));
        let all = [inspector(1, &[EAST], 0), inspector(2, &[EAST], 0)];
        let picks: std::collections::BTreeSet<Uuid> = (0..40u128)
            .filter_map(|n| {
                let mut v = view(&facts, None);
                v.id = id(1000 + n);
                choose_verifier(&v, &all)
            })
            .collect();
        assert_eq!(picks.len(), 2, "both inspectors get cases");
    }
}
