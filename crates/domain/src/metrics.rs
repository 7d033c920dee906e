//! Case metrics as Chinese digital city management defines them
//! (reference/metrics.md): every rate with its numerator and denominator,
//! and the composite score that ranks units. Pure functions over case
//! records; the store's queries must agree with these definitions.

use crate::calendar::Calendar;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use uuid::Uuid;

/// What the metrics need to know of one case.
#[derive(Debug, Clone, Default)]
pub struct CaseRecord {
    pub unit: Option<Uuid>,
    pub from_inspector: bool,
    pub registered_at: Option<Timestamp>,
    pub dispatched_at: Option<Timestamp>,
    pub deadline: Option<Timestamp>,
    /// When the unit first reported it handled.
    pub handled_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub reworked: bool,
    pub extended: bool,
    /// Its deadline runs (`CaseState::deadline_runs`): a passed one makes
    /// it overdue.
    pub deadline_runs: bool,
    /// Voided (作废): never due against the unit, counted apart.
    pub voided: bool,
    /// Parked (挂账) with the office's approval: out of the unit's due
    /// count while parked, counted apart.
    pub parked: bool,
}

/// `[start, end)`.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Period {
    pub fn contains(&self, t: Option<Timestamp>) -> bool {
        t.is_some_and(|t| t >= self.start && t < self.end)
    }
}

/// A rate with its n: shown as "92.3%，n=412".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rate {
    pub num: u64,
    pub den: u64,
}

impl Rate {
    pub fn value(self) -> Option<f64> {
        (self.den > 0).then(|| self.num as f64 / self.den as f64)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// 立案数
    pub registered: u64,
    /// 应结案数: deadline inside the period, neither voided nor parked.
    pub due: u64,
    /// 作废: voided after dispatch, would have been due in the period.
    pub voided: u64,
    /// 挂账: parked with approval, would have been due in the period.
    pub parked: u64,
    /// 结案率
    pub close_rate: Rate,
    /// 按期结案率
    pub on_time_close_rate: Rate,
    /// 处置率
    pub handling_rate: Rate,
    /// 按期处置率
    pub on_time_handling_rate: Rate,
    /// 返工率: of the cases handled in the period, those sent back at least once.
    pub rework_rate: Rate,
    /// 延期率: of the cases dispatched in the period, those extended.
    pub extension_rate: Rate,
    /// 平均处置时长 in working hours, with its n.
    pub mean_handling_hours: Option<f64>,
    pub handled_in_period: u64,
    /// 超期数: open cases past their deadline at `now`.
    pub overdue_now: u64,
    /// 监督举报率: found by inspectors, of those registered.
    pub inspector_share: Rate,
    /// 综合指标值, 0 to 100.
    pub composite: Option<f64>,
}

/// A term of the composite score: a weight on a rate, or on one minus it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Term {
    OnTimeHandling(f64),
    Close(f64),
    OnTimeClose(f64),
    Handling(f64),
    /// Weighted on (1 - rework rate).
    NoRework(f64),
    /// Weighted on (1 - extension rate).
    NoExtension(f64),
}

/// 按期处置率 × 60 + 结案率 × 30 + (1 - 返工率) × 10, the default; cities
/// set their own.
pub const DEFAULT_COMPOSITE: [Term; 3] = [
    Term::OnTimeHandling(60.0),
    Term::Close(30.0),
    Term::NoRework(10.0),
];

pub fn composite(m: &Metrics, terms: &[Term]) -> Option<f64> {
    let mut total = 0.0;
    for t in terms {
        total += match *t {
            Term::OnTimeHandling(w) => w * m.on_time_handling_rate.value()?,
            Term::Close(w) => w * m.close_rate.value()?,
            Term::OnTimeClose(w) => w * m.on_time_close_rate.value()?,
            Term::Handling(w) => w * m.handling_rate.value()?,
            // Nothing handled means nothing reworked, not an unknown.
            Term::NoRework(w) => w * (1.0 - m.rework_rate.value().unwrap_or(0.0)),
            Term::NoExtension(w) => w * (1.0 - m.extension_rate.value().unwrap_or(0.0)),
        };
    }
    Some(total)
}

/// What one case adds to a period's metrics: everything but the overdue
/// count, which depends on the moment it is asked. The metrics of a period
/// are the sum of its cases' tallies, so a month's can be kept as a running
/// sum and a changed case corrected by its new tally less its old: signed,
/// and in whole seconds so that the sums are exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub registered: i64,
    pub from_inspector: i64,
    pub due: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    pub handled_of_due: i64,
    pub handled_on_time: i64,
    pub handled: i64,
    pub reworked: i64,
    /// Working seconds from dispatch to handling, of the cases handled.
    pub handling_secs: i64,
    pub dispatched: i64,
    pub extended: i64,
    /// Would have been due in the period, but voided.
    pub voided: i64,
    /// Would have been due in the period, but parked.
    pub parked: i64,
}

/// How many counts a tally has.
pub const TALLY_COUNTS: usize = 14;

impl Tally {
    /// Its counts in a fixed order, for storing and summing column by column.
    pub fn counts(&self) -> [i64; TALLY_COUNTS] {
        [
            self.registered,
            self.from_inspector,
            self.due,
            self.closed,
            self.closed_on_time,
            self.handled_of_due,
            self.handled_on_time,
            self.handled,
            self.reworked,
            self.handling_secs,
            self.dispatched,
            self.extended,
            self.voided,
            self.parked,
        ]
    }
    pub fn from_counts(c: [i64; TALLY_COUNTS]) -> Tally {
        Tally {
            registered: c[0],
            from_inspector: c[1],
            due: c[2],
            closed: c[3],
            closed_on_time: c[4],
            handled_of_due: c[5],
            handled_on_time: c[6],
            handled: c[7],
            reworked: c[8],
            handling_secs: c[9],
            dispatched: c[10],
            extended: c[11],
            voided: c[12],
            parked: c[13],
        }
    }
    pub fn is_zero(&self) -> bool {
        self.counts() == [0; TALLY_COUNTS]
    }
}

impl std::ops::Add for Tally {
    type Output = Tally;
    fn add(self, o: Tally) -> Tally {
        let (a, b) = (self.counts(), o.counts());
        Tally::from_counts(std::array::from_fn(|i| a[i] + b[i]))
    }
}

impl std::ops::Sub for Tally {
    type Output = Tally;
    fn sub(self, o: Tally) -> Tally {
        let (a, b) = (self.counts(), o.counts());
        Tally::from_counts(std::array::from_fn(|i| a[i] - b[i]))
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        *self = *self + o;
    }
}

/// The one definition of what a case counts for in a period.
pub fn tally(r: &CaseRecord, period: Period, calendar: &Calendar) -> Tally {
    let mut t = Tally::default();
    let one = |b: bool| i64::from(b);
    if period.contains(r.registered_at) {
        t.registered = 1;
        t.from_inspector = one(r.from_inspector);
    }
    if period.contains(r.deadline) && r.voided {
        t.voided = 1;
    } else if period.contains(r.deadline) && r.parked {
        t.parked = 1;
    } else if period.contains(r.deadline) {
        let deadline = r.deadline.unwrap_or(Timestamp::MAX);
        t.due = 1;
        // Closed or handled by the end of the period it was due in.
        if let Some(c) = r.closed_at.filter(|c| *c < period.end) {
            t.closed = 1;
            t.closed_on_time = one(c <= deadline);
        }
        if let Some(h) = r.handled_at.filter(|h| *h < period.end) {
            t.handled_of_due = 1;
            t.handled_on_time = one(h <= deadline);
        }
    }
    if period.contains(r.handled_at) {
        t.handled = 1;
        t.reworked = one(r.reworked);
        if let (Some(d), Some(h)) = (r.dispatched_at, r.handled_at) {
            t.handling_secs = (calendar.working_hours_between(d, h) * 3600.0).round() as i64;
        }
    }
    if period.contains(r.dispatched_at) {
        t.dispatched = 1;
        t.extended = one(r.extended);
    }
    t
}

/// A calendar month in the city's zone, as its number `yyyymm`.
pub fn month_key(t: Timestamp, tz: &TimeZone) -> i32 {
    let d = t.to_zoned_datetime(tz.clone()).date();
    i32::from(d.year()) * 100 + i32::from(d.month())
}

/// The month `yyyymm` as a period in the city's zone.
pub fn month_period(key: i32, tz: &TimeZone) -> Option<Period> {
    let first =
        jiff::civil::Date::new(i16::try_from(key / 100).ok()?, (key % 100) as i8, 1).ok()?;
    let next = first.last_of_month().tomorrow().ok()?;
    let at = |d: jiff::civil::Date| d.to_zoned_datetime(tz.clone()).ok().map(|z| z.timestamp());
    Some(Period {
        start: at(first)?,
        end: at(next)?,
    })
}

/// A case's tallies month by month: the months its registration,
/// dispatch, deadline and handling fell in, each with what it counts for
/// there. Their sum over a month's cases is that month's `tally` sum.
pub fn monthly(r: &CaseRecord, tz: &TimeZone, calendar: &Calendar) -> Vec<(i32, Tally)> {
    let mut months: Vec<i32> = [r.registered_at, r.dispatched_at, r.deadline, r.handled_at]
        .into_iter()
        .flatten()
        .map(|t| month_key(t, tz))
        .collect();
    months.sort_unstable();
    months.dedup();
    months
        .into_iter()
        .filter_map(|m| Some((m, tally(r, month_period(m, tz)?, calendar))))
        .filter(|(_, t)| !t.is_zero())
        .collect()
}

/// Overdue now: its deadline runs and has passed (`case::deadline_state`).
pub fn overdue(r: &CaseRecord, now: Timestamp) -> bool {
    r.deadline_runs && r.deadline.is_some_and(|d| d < now)
}

/// The metrics of a summed tally.
pub fn from_tally(t: Tally, overdue_now: u64, terms: &[Term]) -> Metrics {
    let n = |x: i64| x.max(0) as u64;
    let rate = |num: i64, den: i64| Rate {
        num: n(num),
        den: n(den),
    };
    let mut m = Metrics {
        registered: n(t.registered),
        due: n(t.due),
        voided: n(t.voided),
        parked: n(t.parked),
        close_rate: rate(t.closed, t.due),
        on_time_close_rate: rate(t.closed_on_time, t.due),
        handling_rate: rate(t.handled_of_due, t.due),
        on_time_handling_rate: rate(t.handled_on_time, t.due),
        rework_rate: rate(t.reworked, t.handled),
        extension_rate: rate(t.extended, t.dispatched),
        mean_handling_hours: (t.handled > 0)
            .then(|| t.handling_secs as f64 / 3600.0 / t.handled as f64),
        handled_in_period: n(t.handled),
        overdue_now,
        inspector_share: rate(t.from_inspector, t.registered),
        composite: None,
    };
    m.composite = composite(&m, terms);
    m
}

/// The metrics of a period computed from its cases' records.
pub fn compute(
    records: &[CaseRecord],
    period: Period,
    now: Timestamp,
    calendar: &Calendar,
    terms: &[Term],
) -> Metrics {
    let mut t = Tally::default();
    let mut overdue_now = 0;
    for r in records {
        t += tally(r, period, calendar);
        overdue_now += u64::from(overdue(r, now));
    }
    from_tally(t, overdue_now, terms)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    pub rank: usize,
    pub unit: Uuid,
    pub score: f64,
    pub n: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ranking {
    pub ranked: Vec<Ranked>,
    /// Listed, not ranked: too few cases (n = due) for a fair place, or no score.
    pub unranked: Vec<(Uuid, u64)>,
}

/// 红黑榜: best score first; ties share a rank; units under `min_n` due
/// cases are listed apart (a league table once crowned a body with one case).
pub fn rank(rows: &[(Uuid, Metrics)], min_n: u64) -> Ranking {
    let mut out = Ranking::default();
    let mut scored: Vec<(Uuid, f64, u64)> = vec![];
    for (u, m) in rows {
        match m.composite {
            Some(s) if m.due >= min_n => scored.push((*u, s, m.due)),
            _ => out.unranked.push((*u, m.due)),
        }
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.cmp(&a.2)));
    let mut prev: Option<f64> = None;
    let mut rank = 0;
    for (i, (u, s, n)) in scored.into_iter().enumerate() {
        if prev.is_none_or(|p| (p - s).abs() > 1e-9) {
            rank = i + 1;
        }
        prev = Some(s);
        out.ranked.push(Ranked {
            rank,
            unit: u,
            score: s,
            n,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn cal() -> Calendar {
        Calendar::new(TimeZone::get("Asia/Shanghai").unwrap())
    }
    fn at(d: i8, h: i8) -> Timestamp {
        date(2026, 11, d)
            .at(h, 0, 0, 0)
            .to_zoned_datetime(TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
            .timestamp()
    }

    /// Hand-computed: November, six cases of one unit.
    ///  A due 10th, handled 9th, closed 10th           → on time everything
    ///  B due 12th, handled 13th (late), closed 14th   → handled and closed late
    ///  C due 20th, handled 19th, reworked, closed 25th → handled on time, closed late
    ///  D due 28th, still open on the 30th             → due, not handled, overdue
    ///  E due 3 December (outside), handled 30th        → not due; counts in rework/handling time
    ///  F registered 1 November, rejected: no deadline
    fn scenario() -> Vec<CaseRecord> {
        let r = |reg: i8,
                 disp: i8,
                 dl: (i16, i8, i8),
                 handled: Option<i8>,
                 closed: Option<i8>,
                 reworked,
                 open,
                 insp| CaseRecord {
            unit: None,
            from_inspector: insp,
            registered_at: Some(at(reg, 9)),
            dispatched_at: Some(at(disp, 10)),
            deadline: Some(
                date(dl.0, dl.1, dl.2)
                    .at(17, 0, 0, 0)
                    .to_zoned_datetime(TimeZone::get("Asia/Shanghai").unwrap())
                    .unwrap()
                    .timestamp(),
            ),
            handled_at: handled.map(|d| at(d, 15)),
            closed_at: closed.map(|d| at(d, 16)),
            reworked,
            extended: false,
            deadline_runs: open,
            voided: false,
            parked: false,
        };
        vec![
            r(2, 2, (2026, 11, 10), Some(9), Some(10), false, false, true),
            r(
                3,
                3,
                (2026, 11, 12),
                Some(13),
                Some(14),
                false,
                false,
                false,
            ),
            r(4, 5, (2026, 11, 20), Some(19), Some(25), true, false, true),
            r(6, 6, (2026, 11, 28), None, None, false, true, false),
            r(20, 23, (2026, 12, 3), Some(30), None, false, true, false),
            CaseRecord {
                registered_at: Some(at(1, 9)),
                ..Default::default()
            },
        ]
    }

    #[test]
    fn metrics_match_the_hand_computed_scenario() {
        let p = Period {
            start: at(1, 0),
            end: date(2026, 12, 1)
                .at(0, 0, 0, 0)
                .to_zoned_datetime(TimeZone::get("Asia/Shanghai").unwrap())
                .unwrap()
                .timestamp(),
        };
        let m = compute(&scenario(), p, at(30, 12), &cal(), &DEFAULT_COMPOSITE);
        assert_eq!(m.registered, 6);
        assert_eq!(m.due, 4);
        assert_eq!(m.close_rate, Rate { num: 3, den: 4 });
        assert_eq!(m.on_time_close_rate, Rate { num: 1, den: 4 });
        assert_eq!(m.handling_rate, Rate { num: 3, den: 4 });
        assert_eq!(m.on_time_handling_rate, Rate { num: 2, den: 4 });
        // Handled in November: A, B, C, E; C was reworked.
        assert_eq!(m.rework_rate, Rate { num: 1, den: 4 });
        assert_eq!(m.inspector_share, Rate { num: 2, den: 6 });
        // D is open past its deadline; E is open but not yet due.
        assert_eq!(m.overdue_now, 1);
        // 0.5 × 60 + 0.75 × 30 + 0.75 × 10 = 60
        assert!((m.composite.unwrap() - 60.0).abs() < 1e-9);
        // Working hours dispatch→handling (09:00-17:00, weekdays):
        // A Mon 2 10:00 → Mon 9 15:00 = 7 + 4×8 + 6 = 45
        // B Tue 3 10:00 → Fri 13 15:00 = 7 + 7×8 + 6 = 69
        // C Thu 5 10:00 → Thu 19 15:00 = 7 + 9×8 + 6 = 85
        // E Mon 23 10:00 → Mon 30 15:00 = 7 + 4×8 + 6 = 45
        assert!((m.mean_handling_hours.unwrap() - (45.0 + 69.0 + 85.0 + 45.0) / 4.0).abs() < 1e-9);
    }

    /// A case voided after dispatch, or parked with approval, is not due
    /// against the unit: it is counted in its own column, and the unit's
    /// score is what it was without it.
    #[test]
    fn voided_and_parked_cases_are_not_due_against_the_unit() {
        let p = Period {
            start: at(1, 0),
            end: at(30, 23),
        };
        let base = scenario();
        let before = compute(&base, p, at(30, 12), &cal(), &DEFAULT_COMPOSITE);
        let open_past_deadline = |voided, parked| CaseRecord {
            registered_at: Some(at(2, 9)),
            dispatched_at: Some(at(2, 10)),
            deadline: Some(at(6, 17)),
            deadline_runs: false,
            voided,
            parked,
            ..Default::default()
        };
        let mut more = base.clone();
        more.push(open_past_deadline(true, false));
        more.push(open_past_deadline(false, true));
        let after = compute(&more, p, at(30, 12), &cal(), &DEFAULT_COMPOSITE);
        assert_eq!((after.due, after.voided, after.parked), (before.due, 1, 1));
        assert_eq!(after.composite, before.composite);
        assert_eq!(after.overdue_now, before.overdue_now);
    }

    /// The running monthly sums must give what computing a month from its
    /// cases gives, for cases spread over months and crossing their ends.
    #[test]
    fn monthly_tallies_sum_to_the_computed_month() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let mut seed: u64 = 7;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        let base = date(2026, 9, 1)
            .to_zoned_datetime(tz.clone())
            .unwrap()
            .timestamp();
        let hours = |h: u64| base + jiff::SignedDuration::from_hours(h as i64);
        let mut records = vec![];
        for _ in 0..2000 {
            let reg = next(24 * 90);
            let disp = reg + next(48);
            let dl = disp + 24 + next(24 * 20);
            let handled = (next(4) > 0).then(|| disp + next(24 * 25));
            let closed = handled.filter(|_| next(3) > 0).map(|h| h + next(72));
            records.push(CaseRecord {
                unit: None,
                from_inspector: next(2) == 0,
                registered_at: Some(hours(reg)),
                dispatched_at: (next(10) > 0).then(|| hours(disp)),
                deadline: Some(hours(dl)),
                handled_at: handled.map(hours),
                closed_at: closed.map(hours),
                reworked: next(5) == 0,
                extended: next(7) == 0,
                deadline_runs: closed.is_none(),
                voided: next(20) == 0,
                parked: next(20) == 0,
            });
        }
        let mut sums: std::collections::BTreeMap<i32, Tally> = Default::default();
        for r in &records {
            for (m, t) in monthly(r, &tz, &cal()) {
                *sums.entry(m).or_default() += t;
            }
        }
        assert!(sums.len() >= 4, "the cases span several months");
        for (m, t) in sums {
            let p = month_period(m, &tz).unwrap();
            let direct = compute(&records, p, base, &cal(), &DEFAULT_COMPOSITE);
            assert_eq!(
                from_tally(t, direct.overdue_now, &DEFAULT_COMPOSITE),
                direct,
                "month {m}"
            );
        }
        assert_eq!(
            month_period(202612, &tz).unwrap().end,
            date(2027, 1, 1)
                .to_zoned_datetime(tz.clone())
                .unwrap()
                .timestamp()
        );
        assert_eq!(
            month_key(
                date(2026, 11, 30)
                    .at(23, 30, 0, 0)
                    .to_zoned_datetime(tz.clone())
                    .unwrap()
                    .timestamp(),
                &tz
            ),
            202611
        );
    }

    #[test]
    fn rankings_leave_small_units_unranked_and_share_ties() {
        let m = |score: f64, due: u64| Metrics {
            composite: Some(score),
            due,
            ..Default::default()
        };
        let (a, b, c, d) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let r = rank(
            &[
                (a, m(80.0, 20)),
                (b, m(95.0, 1)),
                (c, m(80.0, 30)),
                (d, m(90.0, 12)),
            ],
            10,
        );
        let order: Vec<(usize, Uuid)> = r.ranked.iter().map(|x| (x.rank, x.unit)).collect();
        assert_eq!(order, vec![(1, d), (2, c), (2, a)]);
        assert_eq!(
            r.unranked,
            vec![(b, 1)],
            "one case is not enough to top the table"
        );
    }

    #[test]
    fn weights_are_configurable() {
        let m = Metrics {
            on_time_handling_rate: Rate { num: 1, den: 2 },
            close_rate: Rate { num: 1, den: 1 },
            extension_rate: Rate { num: 1, den: 4 },
            ..Default::default()
        };
        let district = [
            Term::OnTimeHandling(50.0),
            Term::Close(30.0),
            Term::NoExtension(20.0),
        ];
        assert!((composite(&m, &district).unwrap() - (25.0 + 30.0 + 15.0)).abs() < 1e-9);
        let empty = Metrics::default();
        assert_eq!(
            composite(&empty, &DEFAULT_COMPOSITE),
            None,
            "no due cases, no score"
        );
    }
}
