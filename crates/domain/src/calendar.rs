//! The working-day calendar: deadlines count working days and hours, with
//! public holidays and make-up working days (调休) as data.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
pub struct Calendar {
    /// Days off that would otherwise be working days (国庆, 春节 ...).
    pub holidays: BTreeSet<Date>,
    /// Weekend days worked instead (调休上班).
    pub makeup_days: BTreeSet<Date>,
    /// The working day, e.g. 09:00 to 17:00.
    pub day_start: Time,
    pub day_end: Time,
    pub tz: TimeZone,
}

impl Calendar {
    pub fn new(tz: TimeZone) -> Self {
        Calendar {
            holidays: BTreeSet::new(),
            makeup_days: BTreeSet::new(),
            day_start: Time::constant(9, 0, 0, 0),
            day_end: Time::constant(17, 0, 0, 0),
            tz,
        }
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        if self.makeup_days.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    fn next_working_day(&self, mut d: Date) -> Date {
        loop {
            d = d.tomorrow().expect("dates stay in range");
            if self.is_working_day(d) {
                return d;
            }
        }
    }

    /// The end of the `days`-th working day after `from`'s day: a case
    /// reported on Friday with 2 working days is due Tuesday at closing time.
    pub fn add_working_days(&self, from: Timestamp, days: u32) -> Timestamp {
        let mut d = from.to_zoned_datetime(self.tz.clone()).date();
        for _ in 0..days {
            d = self.next_working_day(d);
        }
        self.at(d, self.day_end)
    }

    fn at(&self, d: Date, t: Time) -> Timestamp {
        d.to_datetime(t)
            .to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// `hours` of working time after `from`, counting only working days
    /// between the day's start and end. Time outside them starts at the next
    /// opening.
    pub fn add_working_hours(&self, from: Timestamp, hours: u32) -> Timestamp {
        let mut left = SignedDuration::from_hours(hours as i64);
        let local = from.to_zoned_datetime(self.tz.clone());
        let mut day = local.date();
        let mut clock = local.time();
        loop {
            if self.is_working_day(day) && clock < self.day_end {
                let start = if clock < self.day_start {
                    self.day_start
                } else {
                    clock
                };
                let available = self.day_end.duration_since(start);
                if left <= available {
                    return self.at(day, start) + left;
                }
                left -= available;
            }
            day = day.tomorrow().expect("dates stay in range");
            clock = Time::midnight();
        }
    }

    /// Working hours between two instants, for mean handling time.
    pub fn working_hours_between(&self, a: Timestamp, b: Timestamp) -> f64 {
        if b <= a {
            return 0.0;
        }
        let (za, zb) = (
            a.to_zoned_datetime(self.tz.clone()),
            b.to_zoned_datetime(self.tz.clone()),
        );
        let mut total = SignedDuration::ZERO;
        let mut day = za.date();
        while day <= zb.date() {
            if self.is_working_day(day) {
                let open = if day == za.date() {
                    za.time().max(self.day_start)
                } else {
                    self.day_start
                };
                let close = if day == zb.date() {
                    zb.time().min(self.day_end)
                } else {
                    self.day_end
                };
                if close > open {
                    total += close.duration_since(open);
                }
            }
            day = day.tomorrow().expect("dates stay in range");
        }
        total.as_secs_f64() / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> Calendar {
        let mut c = Calendar::new(TimeZone::get("Asia/Shanghai").unwrap());
        // National Day 2026: 1-7 October off, Saturday 10 October worked.
        for d in 1..=7 {
            c.holidays.insert(date(2026, 10, d));
        }
        c.makeup_days.insert(date(2026, 10, 10));
        c
    }

    fn at(c: &Calendar, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        c.at(date(y, m, d), Time::constant(h, min, 0, 0))
    }

    fn local(c: &Calendar, t: Timestamp) -> String {
        t.to_zoned_datetime(c.tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_but_not_makeup_days() {
        let c = cal();
        // Friday 2026-11-27 + 2 working days = Tuesday 12-01 at closing.
        assert_eq!(
            local(&c, c.add_working_days(at(&c, 2026, 11, 27, 10, 0), 2)),
            "2026-12-01 17:00"
        );
        // 30 September + 1 working day jumps the holiday to 8 October.
        assert_eq!(
            local(&c, c.add_working_days(at(&c, 2026, 9, 30, 10, 0), 1)),
            "2026-10-08 17:00"
        );
        // Friday 9 October + 1 = the make-up Saturday.
        assert_eq!(
            local(&c, c.add_working_days(at(&c, 2026, 10, 9, 10, 0), 1)),
            "2026-10-10 17:00"
        );
    }

    #[test]
    fn working_hours_run_within_opening_hours() {
        let c = cal();
        assert_eq!(
            local(&c, c.add_working_hours(at(&c, 2026, 11, 26, 15, 0), 4)),
            "2026-11-27 11:00"
        );
        // Reported at night: the clock starts next morning.
        assert_eq!(
            local(&c, c.add_working_hours(at(&c, 2026, 11, 26, 22, 0), 2)),
            "2026-11-27 11:00"
        );
        // Friday afternoon: continues on Monday.
        assert_eq!(
            local(&c, c.add_working_hours(at(&c, 2026, 11, 27, 16, 0), 3)),
            "2026-11-30 11:00"
        );
        assert!(
            (c.working_hours_between(at(&c, 2026, 11, 27, 16, 0), at(&c, 2026, 11, 30, 11, 0))
                - 3.0)
                .abs()
                < 1e-9
        );
    }
}
