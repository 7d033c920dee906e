//! Case metrics as Chinese digital city management defines them
//! (reference/metrics.md): every rate with its numerator and denominator,
//! and the composite score that ranks units. Pure functions over case
//! records; the store's queries must agree with these definitions.

use crate::calendar::Calendar;
use jiff::Timestamp;
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
    pub open: bool,
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
    /// 应结案数: deadline inside the period.
    pub due: u64,
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

pub fn compute(
    records: &[CaseRecord],
    period: Period,
    now: Timestamp,
    calendar: &Calendar,
    terms: &[Term],
) -> Metrics {
    let mut m = Metrics::default();
    let mut hours = 0.0;
    for r in records {
        if period.contains(r.registered_at) {
            m.registered += 1;
            m.inspector_share.den += 1;
            if r.from_inspector {
                m.inspector_share.num += 1;
            }
        }
        if period.contains(r.deadline) {
            let deadline = r.deadline.unwrap_or(Timestamp::MAX);
            m.due += 1;
            m.close_rate.den += 1;
            m.on_time_close_rate.den += 1;
            m.handling_rate.den += 1;
            m.on_time_handling_rate.den += 1;
            if let Some(c) = r.closed_at.filter(|c| *c < period.end) {
                m.close_rate.num += 1;
                if c <= deadline {
                    m.on_time_close_rate.num += 1;
                }
            }
            if let Some(h) = r.handled_at.filter(|h| *h < period.end) {
                m.handling_rate.num += 1;
                if h <= deadline {
                    m.on_time_handling_rate.num += 1;
                }
            }
        }
        if period.contains(r.handled_at) {
            m.handled_in_period += 1;
            m.rework_rate.den += 1;
            if r.reworked {
                m.rework_rate.num += 1;
            }
            if let (Some(d), Some(h)) = (r.dispatched_at, r.handled_at) {
                hours += calendar.working_hours_between(d, h);
            }
        }
        if period.contains(r.dispatched_at) {
            m.extension_rate.den += 1;
            if r.extended {
                m.extension_rate.num += 1;
            }
        }
        if r.open && r.deadline.is_some_and(|d| d < now) {
            m.overdue_now += 1;
        }
    }
    m.mean_handling_hours = (m.handled_in_period > 0).then(|| hours / m.handled_in_period as f64);
    m.composite = composite(&m, terms);
    m
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
            open,
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
