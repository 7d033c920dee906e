//! Intake: where a report comes from, how long its category gives to fix
//! it, and the report form checked into what intake takes.

use crate::coded_enum;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Source {
        /// Found in an inspection (督查 / 巡查).
        Inspection = "inspection",
        /// From a third-party evaluation.
        ThirdParty = "third_party",
        /// A public report (随手拍): a citizen's photo of a problem.
        PublicReport = "public_report",
        /// The 12345 hotline.
        Hotline = "hotline",
        /// A leader's instruction.
        Leader = "leader",
    }
}

/// 处置时限: in working hours or working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum HandlingTime {
    Hours(u32),
    Days(u32),
}

impl HandlingTime {
    pub fn deadline(self, from: Timestamp, calendar: &crate::calendar::Calendar) -> Timestamp {
        match self {
            HandlingTime::Hours(h) => calendar.add_working_hours(from, h),
            HandlingTime::Days(d) => calendar.add_working_days(from, d),
        }
    }
    pub fn from_parts(amount: Option<i64>, unit: Option<&str>) -> Option<Self> {
        let a = u32::try_from(amount?).ok().filter(|a| *a > 0)?;
        match unit? {
            "hours" => Some(HandlingTime::Hours(a)),
            "days" => Some(HandlingTime::Days(a)),
            _ => None,
        }
    }
    pub fn parts(self) -> (i64, &'static str) {
        match self {
            HandlingTime::Hours(a) => (a as i64, "hours"),
            HandlingTime::Days(a) => (a as i64, "days"),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IntakeForm {
    /// A client-chosen UUID, so that a retried submission is not a second case.
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub lon: String,
    #[serde(default)]
    pub lat: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub reporter_name: String,
    #[serde(default)]
    pub reporter_phone: String,
    /// Photos an earlier attempt of this form staged, comma-separated: a
    /// form sent back for a mistake keeps them, so nobody uploads twice.
    #[serde(default)]
    pub staged: String,
}

/// At most this many photos go with one report.
pub const MAX_REPORT_PHOTOS: usize = 9;

impl IntakeForm {
    /// The photos staged by earlier attempts (ids that do not parse are
    /// dropped: attaching checks each is the reporter's own and unused).
    pub fn staged_ids(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = vec![];
        for id in self
            .staged
            .split(',')
            .filter_map(|s| Uuid::parse_str(s.trim()).ok())
        {
            if !v.contains(&id) && v.len() < MAX_REPORT_PHOTOS {
                v.push(id);
            }
        }
        v
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntakeInput {
    pub client_id: Option<Uuid>,
    pub source: Source,
    pub category_id: Uuid,
    pub description: String,
    pub point: Option<crate::geo::Point>,
    pub address: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    /// Photos uploaded beforehand by the reporter, attached as "before".
    pub photo_ids: Vec<Uuid>,
}

impl IntakeForm {
    pub fn parse(&self) -> Result<IntakeInput, crate::FieldErrors> {
        use crate::validation;
        let mut e = crate::FieldErrors::new();
        let client_id = crate::org::parse_optional_id(&mut e, "client_id", &self.client_id);
        let source = Source::parse(self.source.trim());
        if source.is_none() {
            e.add("source", "invalid_choice");
        }
        let category_id = crate::org::parse_optional_id(&mut e, "category_id", &self.category_id);
        if category_id.is_none() && e.for_field("category_id").is_none() {
            e.add("category_id", "required");
        }
        let description = validation::text(&mut e, "description", &self.description, true, 2000);
        let point = crate::geo::Point::from_fields(&mut e, &self.lon, &self.lat);
        let address = validation::text(&mut e, "address", &self.address, false, 200);
        if point.is_none() && address.is_none() && e.for_field("lon").is_none() {
            e.add("address", "location_required");
        }
        let reporter_name =
            validation::text(&mut e, "reporter_name", &self.reporter_name, false, 32);
        let reporter_phone = validation::phone(&mut e, "reporter_phone", &self.reporter_phone);
        match (source, category_id, description) {
            (Some(source), Some(category_id), Some(description)) if e.is_empty() => {
                Ok(IntakeInput {
                    client_id,
                    source,
                    category_id,
                    description,
                    point,
                    address,
                    reporter_name,
                    reporter_phone,
                    photo_ids: vec![],
                })
            }
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_needs_a_place_and_checks_coordinates() {
        let base = IntakeForm {
            source: "public_report".into(),
            category_id: Uuid::nil().to_string(),
            description: "路边垃圾堆积".into(),
            ..Default::default()
        };
        assert_eq!(
            base.parse().unwrap_err().for_field("address"),
            Some("location_required")
        );
        let f = IntakeForm {
            lon: "2.35".into(),
            lat: "48.85".into(),
            ..base.clone()
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("lon"),
            Some("outside_china")
        );
        let f = IntakeForm {
            lon: "118.7".into(),
            lat: "31.3".into(),
            ..base.clone()
        };
        assert!(f.parse().unwrap().point.is_some());
        let f = IntakeForm {
            address: "望月路 12 号".into(),
            source: "gossip".into(),
            ..base
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("source"),
            Some("invalid_choice")
        );
    }
}
