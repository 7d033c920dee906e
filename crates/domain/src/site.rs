//! Sites (点位) and inspection rounds: which sites a round visits — a
//! sample stratified by site type and region, the same for the same seed —
//! and who inspects each, rotated so that nobody checks where they work or
//! the site they checked last time (resisting collusion).

use crate::coded_enum;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What sampling needs to know of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRef {
    pub id: Uuid,
    pub type_code: String,
    /// The region the site lies in, and its path (e.g. `/1/3/7/`), so that
    /// "works in this region" covers the regions below it.
    pub region_path: String,
    pub last_inspected: Option<Timestamp>,
    /// Who inspected it last, if anyone.
    pub last_inspector: Option<Uuid>,
    /// The unit that sponsors (包保) it.
    pub sponsor_unit: Option<Uuid>,
}

/// How a round picks its sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleSpec {
    /// How many sites in all.
    pub size: usize,
    pub seed: u64,
    /// Leave out sites inspected at or after this instant.
    #[serde(default)]
    pub skip_inspected_since: Option<Timestamp>,
}

/// A stratum: one site type in one region (the district: the path's first
/// three levels, `/city/district/`).
type Stratum = (String, String);

/// The district part of a region path: `/1/3/7/9/` → `/1/3/`.
pub fn district_of(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let keep = parts.len().min(2);
    format!("/{}/", parts[..keep].join("/"))
}

/// A small, fixed pseudo-random generator (SplitMix64): the sample must be
/// the same on every machine and every version for the same seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Sizes per stratum: proportional to its eligible sites (largest
/// remainder), but every stratum gets one first when the sample is large
/// enough to visit each — evaluators look at every kind of place.
fn allocate(sizes: &BTreeMap<Stratum, usize>, total: usize) -> BTreeMap<Stratum, usize> {
    let total = total.min(sizes.values().sum());
    let mut out: BTreeMap<Stratum, usize> = sizes.keys().map(|k| (k.clone(), 0)).collect();
    if total < sizes.len() {
        // Fewer sites than strata: the biggest strata get one each.
        let mut by_size: Vec<(&Stratum, &usize)> = sizes.iter().collect();
        by_size.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (k, _) in by_size.into_iter().take(total) {
            out.insert(k.clone(), 1);
        }
        return out;
    }
    for v in out.values_mut() {
        *v = 1;
    }
    let left = total - sizes.len();
    let room_total: usize = sizes.values().map(|n| n - 1).sum();
    if left == 0 || room_total == 0 {
        return out;
    }
    // Largest remainder: whole shares first, then one more to the strata
    // whose exact share lost the most to rounding.
    let mut given = 0;
    let mut rest = vec![];
    for (k, n) in sizes {
        let exact = left as f64 * (n - 1) as f64 / room_total as f64;
        let whole = exact.floor() as usize;
        out.insert(k.clone(), 1 + whole);
        given += whole;
        rest.push((exact - whole as f64, k, n - 1 - whole));
    }
    rest.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    for (_, k, spare) in rest {
        if given == left {
            break;
        }
        if spare > 0 {
            out.insert(k.clone(), out[k] + 1);
            given += 1;
        }
    }
    out
}

/// The sites a round visits, in the order they are listed. The same sites
/// and seed give the same sample whatever order the sites come in.
pub fn sample(sites: &[SiteRef], spec: &SampleSpec) -> Vec<Uuid> {
    let mut strata: BTreeMap<Stratum, Vec<Uuid>> = BTreeMap::new();
    for s in sites {
        if spec
            .skip_inspected_since
            .is_some_and(|since| s.last_inspected.is_some_and(|t| t >= since))
        {
            continue;
        }
        strata
            .entry((s.type_code.clone(), district_of(&s.region_path)))
            .or_default()
            .push(s.id);
    }
    for ids in strata.values_mut() {
        ids.sort();
    }
    let sizes: BTreeMap<Stratum, usize> =
        strata.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    let quota = allocate(&sizes, spec.size);
    let mut rng = Mix(spec.seed);
    let mut out = vec![];
    for (k, mut ids) in strata {
        let n = quota.get(&k).copied().unwrap_or(0);
        // A partial Fisher-Yates shuffle: the first n are the sample.
        for i in 0..n.min(ids.len()) {
            let j = i + rng.below(ids.len() - i);
            ids.swap(i, j);
        }
        out.extend(ids.into_iter().take(n));
    }
    out
}

/// An inspector as rotation sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectorRef {
    pub id: Uuid,
    /// Paths of the regions they work in (their unit's, their grid's).
    pub works_in: Vec<String>,
    /// The units they belong to or act for.
    pub units: Vec<Uuid>,
}

impl InspectorRef {
    /// Whether their own unit sponsors the site: never theirs to judge,
    /// whatever the round's rules say.
    pub fn sponsors(&self, site: &SiteRef) -> bool {
        site.sponsor_unit.is_some_and(|u| self.units.contains(&u))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationRules {
    /// Not to a site in a region they work in.
    pub not_where_they_work: bool,
    /// Not to the site they inspected last time.
    pub not_twice_in_a_row: bool,
}

impl Default for RotationRules {
    fn default() -> Self {
        RotationRules {
            not_where_they_work: true,
            not_twice_in_a_row: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Assignment {
    To(Uuid),
    /// Every inspector is ruled out for this site; the office must choose.
    NoneEligible,
}

/// Who inspects each sampled site: the eligible inspector with the fewest
/// sites so far, ties broken by the seed, so that work is even and nobody
/// can predict their sites.
pub fn assign(
    sites: &[&SiteRef],
    inspectors: &[InspectorRef],
    rules: RotationRules,
    seed: u64,
) -> Vec<(Uuid, Assignment)> {
    let mut rng = Mix(seed ^ 0x5EED);
    let mut load: BTreeMap<Uuid, usize> = inspectors.iter().map(|i| (i.id, 0)).collect();
    let mut out = vec![];
    for site in sites {
        let eligible: Vec<&InspectorRef> = inspectors
            .iter()
            .filter(|i| {
                !(rules.not_where_they_work
                    && i.works_in
                        .iter()
                        .any(|w| site.region_path.starts_with(w.as_str())))
            })
            .filter(|i| !(rules.not_twice_in_a_row && site.last_inspector == Some(i.id)))
            .filter(|i| !i.sponsors(site))
            .collect();
        let least = eligible.iter().map(|i| load[&i.id]).min();
        let Some(least) = least else {
            out.push((site.id, Assignment::NoneEligible));
            continue;
        };
        let tied: Vec<&&InspectorRef> = eligible.iter().filter(|i| load[&i.id] == least).collect();
        let pick = tied[rng.below(tied.len())].id;
        *load.entry(pick).or_default() += 1;
        out.push((site.id, Assignment::To(pick)));
    }
    out
}

/// The standards a site is checked against: those inspected on site whose
/// site types name the site's type (by code or by name, as frameworks are
/// written by hand).
pub fn applies(standard_site_types: &[String], type_code: &str, type_name: &str) -> bool {
    standard_site_types
        .iter()
        .any(|t| t.trim() == type_code || t.trim() == type_name)
}

/// How a standard is observed at a site.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observation {
    /// Met or not.
    PassFail,
    /// At least so many (e.g. 5 public-service displays within 300 m).
    AtLeast { count: u32 },
    /// At least this share, in percent (e.g. 95% of lamps lit).
    Percent { at_least: f64 },
}

impl Observation {
    /// As written in a framework's table: `≥5` (at least five seen), `≥95%`
    /// (a share); empty for met or not. `>=` is read as `≥`.
    pub fn parse_text(text: &str) -> Option<Observation> {
        let t = text.trim();
        if t.is_empty() {
            return Some(Observation::PassFail);
        }
        let t = t.strip_prefix('≥').or_else(|| t.strip_prefix(">="))?.trim();
        match t.strip_suffix('%') {
            Some(p) => p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
                .map(|at_least| Observation::Percent { at_least }),
            None => t.parse().ok().map(|count| Observation::AtLeast { count }),
        }
    }

    pub fn to_text(self) -> String {
        match self {
            Observation::PassFail => String::new(),
            Observation::AtLeast { count } => format!("≥{count}"),
            Observation::Percent { at_least } => format!("≥{at_least}%"),
        }
    }
}

/// What an inspector recorded for one standard.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Recorded {
    Pass,
    Fail,
    NotApplicable,
    Count { count: u32 },
    Share { observed: u32, of: u32 },
}

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Outcome {
        Pass = "pass",
        Fail = "fail",
        NotApplicable = "na",
    }
}

impl Recorded {
    /// A plain result, as an evaluator's sheet gives it (no count or share).
    pub fn plain(outcome: Outcome) -> Recorded {
        match outcome {
            Outcome::Pass => Recorded::Pass,
            Outcome::Fail => Recorded::Fail,
            Outcome::NotApplicable => Recorded::NotApplicable,
        }
    }
}

/// Judges a recording against the standard's rule; a recording of the
/// wrong kind names the field to fix.
pub fn judge(rule: Observation, r: Recorded) -> Result<Outcome, &'static str> {
    Ok(match (rule, r) {
        (_, Recorded::NotApplicable) => Outcome::NotApplicable,
        (Observation::PassFail, Recorded::Pass) => Outcome::Pass,
        (Observation::PassFail, Recorded::Fail) => Outcome::Fail,
        (Observation::AtLeast { count }, Recorded::Count { count: seen }) => {
            if seen >= count {
                Outcome::Pass
            } else {
                Outcome::Fail
            }
        }
        (Observation::Percent { at_least }, Recorded::Share { observed, of }) => {
            if of == 0 || observed > of {
                return Err("share");
            }
            if observed as f64 * 100.0 >= at_least * of as f64 - 1e-9 {
                Outcome::Pass
            } else {
                Outcome::Fail
            }
        }
        (Observation::AtLeast { .. }, _) => return Err("count"),
        (Observation::Percent { .. }, _) => return Err("share"),
        (Observation::PassFail, _) => return Err("result"),
    })
}

/// 得分率: passed of those observed (not-applicable ones left out).
pub fn score_rate(outcomes: impl IntoIterator<Item = Outcome>) -> Option<f64> {
    let (mut pass, mut seen) = (0u64, 0u64);
    for o in outcomes {
        match o {
            Outcome::Pass => {
                pass += 1;
                seen += 1;
            }
            Outcome::Fail => seen += 1,
            Outcome::NotApplicable => {}
        }
    }
    (seen > 0).then(|| pass as f64 / seen as f64)
}

coded_enum! {
    /// How a site lies on the map.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Geometry {
        /// A bus stop, a service window.
        Point = "point",
        /// A road, a back lane.
        Line = "line",
        /// A market, a park, a residential compound.
        Area = "area",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteType {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub position: i64,
    pub geometry: Geometry,
    pub active: bool,
}

/// A site as the office enters it (a form, an API body or a spreadsheet
/// row): text as typed, checked by `parse`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub type_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub sponsor_unit_id: String,
    #[serde(default)]
    pub chief_name: String,
    #[serde(default)]
    pub chief_phone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub lon: String,
    #[serde(default)]
    pub lat: String,
    /// Checkbox semantics: present means active.
    #[serde(default)]
    pub active: Option<String>,
    /// A line or area as GeoJSON, for roads and markets; empty for a point.
    #[serde(default)]
    pub shape: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteInput {
    pub code: String,
    pub type_id: Uuid,
    pub name: String,
    pub region_id: Uuid,
    pub sponsor_unit_id: Option<Uuid>,
    pub chief: crate::org::Contact,
    pub address: Option<String>,
    pub point: crate::geo::Point,
    pub active: bool,
    pub shape: Option<serde_json::Value>,
}

impl SiteForm {
    pub fn parse(&self) -> Result<SiteInput, crate::FieldErrors> {
        use crate::org::parse_optional_id;
        use crate::validation;
        let mut e = crate::FieldErrors::new();
        let code = validation::text(&mut e, "code", &self.code, true, 32);
        if code.as_deref().is_some_and(|c| {
            !c.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
        }) {
            e.add("code", "invalid_code");
        }
        let name = validation::text(&mut e, "name", &self.name, true, 64);
        let required_id = |e: &mut crate::FieldErrors, field: &str, v: &str| {
            let id = parse_optional_id(e, field, v);
            if id.is_none() && e.for_field(field).is_none() {
                e.add(field, "required");
            }
            id
        };
        let type_id = required_id(&mut e, "type_id", &self.type_id);
        let region_id = required_id(&mut e, "region_id", &self.region_id);
        let sponsor_unit_id = parse_optional_id(&mut e, "sponsor_unit_id", &self.sponsor_unit_id);
        let chief = crate::org::Contact {
            name: validation::text(&mut e, "chief_name", &self.chief_name, false, 32),
            phone: validation::phone(&mut e, "chief_phone", &self.chief_phone),
        };
        let address = validation::text(&mut e, "address", &self.address, false, 128);
        let point = crate::geo::Point::from_fields(&mut e, &self.lon, &self.lat);
        if point.is_none() && e.for_field("lon").is_none() {
            e.add("lon", "required");
        }
        let active = matches!(self.active.as_deref(), Some("on" | "true" | "1"));
        let shape = match self.shape.trim() {
            "" => None,
            t => match crate::geo::parse_shape(t) {
                Ok(v) => Some(v),
                Err(code) => {
                    e.add("shape", code);
                    None
                }
            },
        };
        match (code, name, type_id, region_id, point) {
            (Some(code), Some(name), Some(type_id), Some(region_id), Some(point))
                if e.is_empty() =>
            {
                Ok(SiteInput {
                    code: code.to_uppercase(),
                    type_id,
                    name,
                    region_id,
                    sponsor_unit_id,
                    chief,
                    address,
                    point,
                    active,
                    shape,
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The distinct strata of a set of sites.
    fn strata_of<'a>(sites: impl IntoIterator<Item = &'a SiteRef>) -> BTreeSet<(String, String)> {
        sites
            .into_iter()
            .map(|s| (s.type_code.clone(), district_of(&s.region_path)))
            .collect()
    }

    fn site(n: u128, ty: &str, path: &str) -> SiteRef {
        SiteRef {
            id: Uuid::from_u128(n),
            type_code: ty.into(),
            region_path: path.into(),
            last_inspected: None,
            last_inspector: None,
            sponsor_unit: None,
        }
    }

    fn city() -> Vec<SiteRef> {
        let mut v = vec![];
        let mut n = 1;
        // Two districts; markets are few, back lanes many.
        for (ty, per) in [("market", 3), ("back_lane", 20), ("bus_stop", 10)] {
            for d in ["/1/2/", "/1/3/"] {
                for k in 0..per {
                    v.push(site(n, ty, &format!("{d}{}/", 10 + k % 4)));
                    n += 1;
                }
            }
        }
        v
    }

    #[test]
    fn the_same_seed_gives_the_same_sample_in_any_order() {
        let sites = city();
        let spec = SampleSpec {
            size: 12,
            seed: 42,
            skip_inspected_since: None,
        };
        let a = sample(&sites, &spec);
        let mut reversed = sites.clone();
        reversed.reverse();
        assert_eq!(a, sample(&reversed, &spec));
        assert_eq!(a.len(), 12);
        let b = sample(
            &sites,
            &SampleSpec {
                seed: 43,
                ..spec.clone()
            },
        );
        assert_ne!(a, b, "another seed, another sample");
    }

    #[test]
    fn every_kind_of_place_in_every_district_is_visited_and_big_strata_get_more() {
        let sites = city();
        let picked: BTreeSet<Uuid> = sample(
            &sites,
            &SampleSpec {
                size: 24,
                seed: 7,
                skip_inspected_since: None,
            },
        )
        .into_iter()
        .collect();
        let chosen: Vec<&SiteRef> = sites.iter().filter(|s| picked.contains(&s.id)).collect();
        assert_eq!(strata_of(chosen.iter().copied()).len(), 6, "all six strata");
        let count = |ty: &str| chosen.iter().filter(|s| s.type_code == ty).count();
        assert!(count("back_lane") > count("bus_stop"));
        assert!(count("bus_stop") > count("market"));
        assert_eq!(chosen.len(), 24);
    }

    #[test]
    fn recently_inspected_sites_can_be_left_out() {
        let mut sites = city();
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        for s in sites.iter_mut().filter(|s| s.type_code == "market") {
            s.last_inspected = Some(now);
        }
        let picked = sample(
            &sites,
            &SampleSpec {
                size: 30,
                seed: 1,
                skip_inspected_since: Some(now - jiff::SignedDuration::from_hours(24 * 7)),
            },
        );
        assert!(
            picked
                .iter()
                .all(|id| sites.iter().find(|s| s.id == *id).unwrap().type_code != "market")
        );
    }

    #[test]
    fn a_sample_larger_than_the_city_takes_every_site() {
        let sites = city();
        let picked = sample(
            &sites,
            &SampleSpec {
                size: 10_000,
                seed: 1,
                skip_inspected_since: None,
            },
        );
        assert_eq!(picked.len(), sites.len());
    }

    #[test]
    fn inspectors_do_not_check_where_they_work_or_the_same_site_twice() {
        let mut sites = city();
        let (a, b, c) = (
            Uuid::from_u128(901),
            Uuid::from_u128(902),
            Uuid::from_u128(903),
        );
        // A site in the second district, checked by c last time: only a may go.
        sites[3].last_inspector = Some(c);
        let inspectors = vec![
            InspectorRef {
                id: a,
                works_in: vec!["/1/2/".into()],
                units: vec![],
            },
            InspectorRef {
                id: b,
                works_in: vec!["/1/3/".into()],
                units: vec![],
            },
            InspectorRef {
                id: c,
                works_in: vec!["/1/2/10/".into()],
                units: vec![],
            },
        ];
        let refs: Vec<&SiteRef> = sites.iter().collect();
        let plan = assign(&refs, &inspectors, RotationRules::default(), 5);
        for (site, who) in &plan {
            let s = sites.iter().find(|x| x.id == *site).unwrap();
            let Assignment::To(who) = who else {
                panic!("{s:?} has nobody");
            };
            let i = inspectors.iter().find(|i| i.id == *who).unwrap();
            assert!(
                !i.works_in
                    .iter()
                    .any(|w| s.region_path.starts_with(w.as_str())),
                "{s:?} went to {i:?}"
            );
            assert_ne!(s.last_inspector, Some(*who));
        }
        assert_eq!(
            plan.iter().find(|(id, _)| *id == sites[3].id).unwrap().1,
            Assignment::To(a)
        );
        // Work is spread: everyone who may go somewhere gets some.
        let loads: Vec<usize> = [a, b, c]
            .iter()
            .map(|x| {
                plan.iter()
                    .filter(|(_, w)| *w == Assignment::To(*x))
                    .count()
            })
            .collect();
        assert!(loads.iter().all(|l| *l > 0), "{loads:?}");
        // With the rule off, a site may go back to its last inspector; with
        // it on and nobody else, the office is told to choose.
        let lax = RotationRules {
            not_where_they_work: false,
            not_twice_in_a_row: false,
        };
        let only_c = [InspectorRef {
            id: c,
            works_in: vec![],
            units: vec![],
        }];
        let third = &refs[3..4];
        assert_eq!(assign(third, &only_c, lax, 1)[0].1, Assignment::To(c));
        assert_eq!(
            assign(third, &only_c, RotationRules::default(), 1)[0].1,
            Assignment::NoneEligible
        );
    }

    #[test]
    fn nobody_is_sent_to_a_site_their_unit_sponsors_even_with_the_rules_off() {
        let unit = Uuid::from_u128(77);
        let mut s = site(1, "market", "/1/2/");
        s.sponsor_unit = Some(unit);
        let from_unit = InspectorRef {
            id: Uuid::from_u128(10),
            works_in: vec![],
            units: vec![unit],
        };
        let other = InspectorRef {
            id: Uuid::from_u128(11),
            works_in: vec![],
            units: vec![Uuid::from_u128(78)],
        };
        let lax = RotationRules {
            not_where_they_work: false,
            not_twice_in_a_row: false,
        };
        for seed in 0..20 {
            let plan = assign(&[&s], &[from_unit.clone(), other.clone()], lax, seed);
            assert_eq!(plan[0].1, Assignment::To(other.id));
        }
        assert_eq!(
            assign(&[&s], std::slice::from_ref(&from_unit), lax, 1)[0].1,
            Assignment::NoneEligible
        );
    }

    #[test]
    fn observations_are_judged_by_their_rule() {
        assert_eq!(
            judge(Observation::PassFail, Recorded::Fail),
            Ok(Outcome::Fail)
        );
        let displays = Observation::AtLeast { count: 5 };
        assert_eq!(
            judge(displays, Recorded::Count { count: 5 }),
            Ok(Outcome::Pass)
        );
        assert_eq!(
            judge(displays, Recorded::Count { count: 4 }),
            Ok(Outcome::Fail)
        );
        assert_eq!(judge(displays, Recorded::Pass), Err("count"));
        let lamps = Observation::Percent { at_least: 95.0 };
        assert_eq!(
            judge(
                lamps,
                Recorded::Share {
                    observed: 19,
                    of: 20
                }
            ),
            Ok(Outcome::Pass)
        );
        assert_eq!(
            judge(
                lamps,
                Recorded::Share {
                    observed: 18,
                    of: 20
                }
            ),
            Ok(Outcome::Fail)
        );
        assert_eq!(
            judge(lamps, Recorded::Share { observed: 3, of: 0 }),
            Err("share")
        );
        assert_eq!(
            judge(lamps, Recorded::NotApplicable),
            Ok(Outcome::NotApplicable)
        );
        assert_eq!(
            score_rate([
                Outcome::Pass,
                Outcome::Fail,
                Outcome::NotApplicable,
                Outcome::Pass
            ]),
            Some(2.0 / 3.0)
        );
        assert_eq!(score_rate([Outcome::NotApplicable]), None);
    }

    #[test]
    fn checklists_match_types_by_code_or_name() {
        let types = vec!["农贸市场".to_string(), "back_lane".to_string()];
        assert!(applies(&types, "farmers_market", "农贸市场"));
        assert!(applies(&types, "back_lane", "背街小巷"));
        assert!(!applies(&types, "bus_stop", "公交站点"));
    }

    #[test]
    fn a_site_form_names_each_bad_field() {
        let f = SiteForm {
            code: "LJ SC 1".into(),
            name: "".into(),
            type_id: "x".into(),
            lon: "200".into(),
            lat: "31".into(),
            chief_phone: "12".into(),
            ..Default::default()
        };
        let e = f.parse().unwrap_err();
        assert_eq!(e.for_field("code"), Some("invalid_code"));
        assert_eq!(e.for_field("name"), Some("required"));
        assert_eq!(e.for_field("type_id"), Some("invalid_choice"));
        assert_eq!(e.for_field("region_id"), Some("required"));
        assert!(e.for_field("lon").is_some());
        assert_eq!(e.for_field("chief_phone"), Some("invalid_phone"));
        let ok = SiteForm {
            code: "lj-sc-001".into(),
            name: "滨江路商业街".into(),
            type_id: Uuid::from_u128(1).to_string(),
            region_id: Uuid::from_u128(2).to_string(),
            lon: "118.61".into(),
            lat: "31.21".into(),
            chief_name: "王磊".into(),
            chief_phone: "139 5700 0001".into(),
            active: Some("on".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(ok.code, "LJ-SC-001");
        assert_eq!(ok.chief.phone.as_deref(), Some("13957000001"));
        assert!(ok.active);
    }
}
