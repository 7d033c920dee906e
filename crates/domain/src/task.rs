//! Tasks: a standard assigned to a unit, and where it stands.

use crate::coded_enum;
use crate::validation::{self, FieldErrors};
use jiff::civil::Date;
use serde::Serialize;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum TaskState {
        Done = "done",
        Overdue = "overdue",
        /// Due within the warning window.
        DueSoon = "due_soon",
        InProgress = "in_progress",
    }
}

/// Days before a deadline from which a task shows as due soon.
pub const DUE_SOON_DAYS: i64 = 7;

/// A task is done at 100%; otherwise overdue once its deadline has passed
/// (the deadline day itself still counts as on time).
pub fn state(progress: i64, deadline: Date, today: Date) -> TaskState {
    if progress >= 100 {
        TaskState::Done
    } else if deadline < today {
        TaskState::Overdue
    } else if (deadline - today).get_days() < DUE_SOON_DAYS as i32 {
        TaskState::DueSoon
    } else {
        TaskState::InProgress
    }
}

pub fn parse_date(e: &mut FieldErrors, field: &str, value: &str) -> Option<Date> {
    let v = value.trim();
    if v.is_empty() {
        e.add(field, "required");
        return None;
    }
    match v.parse::<Date>() {
        Ok(d) if (2000..=2100).contains(&d.year()) => Some(d),
        _ => {
            e.add(field, "invalid_date");
            None
        }
    }
}

pub fn parse_percent(e: &mut FieldErrors, field: &str, value: &str) -> Option<i64> {
    match value.trim().trim_end_matches('%').parse::<i64>() {
        Ok(p) if (0..=100).contains(&p) => Some(p),
        _ => {
            e.add(field, "invalid_percent");
            None
        }
    }
}

pub fn parse_target(e: &mut FieldErrors, value: &str) -> Option<String> {
    validation::text(e, "target", value, true, 500)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn overdue_starts_the_day_after_the_deadline() {
        let deadline = date(2026, 6, 30);
        assert_eq!(state(50, deadline, date(2026, 6, 30)), TaskState::DueSoon);
        assert_eq!(state(50, deadline, date(2026, 7, 1)), TaskState::Overdue);
        assert_eq!(state(100, deadline, date(2026, 7, 1)), TaskState::Done);
        assert_eq!(state(0, deadline, date(2026, 6, 1)), TaskState::InProgress);
        assert_eq!(state(0, deadline, date(2026, 6, 24)), TaskState::DueSoon);
    }

    #[test]
    fn dates_and_percents_are_checked() {
        let mut e = FieldErrors::new();
        assert_eq!(parse_date(&mut e, "d", "2026-02-30"), None);
        assert_eq!(e.for_field("d"), Some("invalid_date"));
        assert_eq!(parse_percent(&mut FieldErrors::new(), "p", "80%"), Some(80));
        let mut e = FieldErrors::new();
        assert_eq!(parse_percent(&mut e, "p", "120"), None);
        assert_eq!(e.for_field("p"), Some("invalid_percent"));
    }
}
