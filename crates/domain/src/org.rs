//! The organisation: the region tree (市 / 区 / 街道 / 社区 / 网格) and the
//! responsible units (责任单位) that fix problems within it.

use crate::coded_enum;
use crate::validation::{self, FieldErrors};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RegionLevel {
        City = "city",
        District = "district",
        Street = "street",
        Community = "community",
        Grid = "grid",
    }
}

impl RegionLevel {
    pub fn depth(self) -> u8 {
        self as u8
    }

    /// A child sits exactly one level below its parent: a grid cell belongs to
    /// a community, never straight to a district, so totals roll up cleanly.
    pub fn may_be_child_of(self, parent: RegionLevel) -> bool {
        self.depth() == parent.depth() + 1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Region {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub level: RegionLevel,
    pub code: String,
    pub name: String,
    /// Materialised path of ids from the root, `/a/b/c/`, for subtree queries.
    pub path: String,
    pub boundary: Option<serde_json::Value>,
    /// People living there (census): the base of survey sample plans and
    /// weights.
    pub population: Option<u64>,
    pub version: i64,
    pub updated_at: Timestamp,
}

impl Region {
    pub fn is_within(&self, ancestor_path: &str) -> bool {
        self.path.starts_with(ancestor_path)
    }
}

/// One period of a region's place in the tree. The current placement has no
/// `valid_to`; a move closes it and opens another, so past periods can be
/// totalled by the tree as it was then.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionPlacement {
    pub region_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub valid_from: Timestamp,
    pub valid_to: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RegionForm {
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub boundary: String,
    #[serde(default)]
    pub population: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionInput {
    pub parent_id: Option<Uuid>,
    pub level: RegionLevel,
    pub code: String,
    pub name: String,
    pub boundary: Option<serde_json::Value>,
    pub population: Option<u64>,
}

impl RegionForm {
    pub fn parse(&self) -> Result<RegionInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let parent_id = parse_optional_id(&mut e, "parent_id", &self.parent_id);
        let level = RegionLevel::parse(self.level.trim());
        if level.is_none() {
            e.add("level", "invalid_choice");
        }
        let code = validation::text(&mut e, "code", &self.code, true, 32);
        if let Some(c) = &code
            && !c
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            e.add("code", "invalid_code");
        }
        let name = validation::text(&mut e, "name", &self.name, true, 64);
        let boundary = if self.boundary.trim().is_empty() {
            None
        } else {
            match crate::geo::parse_boundary(&self.boundary) {
                Ok(v) => Some(v),
                Err(code) => {
                    e.add("boundary", code);
                    None
                }
            }
        };
        let population = match self.population.trim() {
            "" => None,
            p => match p.parse::<u64>() {
                Ok(n) if n <= 100_000_000 => Some(n),
                _ => {
                    e.add("population", "invalid_population");
                    None
                }
            },
        };
        if let Some(l) = level {
            if l == RegionLevel::City && parent_id.is_some() {
                e.add("parent_id", "city_has_no_parent");
            }
            if l != RegionLevel::City && parent_id.is_none() && e.for_field("parent_id").is_none() {
                e.add("parent_id", "required");
            }
        }
        match (level, code, name) {
            (Some(level), Some(code), Some(name)) if e.is_empty() => Ok(RegionInput {
                parent_id,
                level,
                code,
                name,
                boundary,
                population,
            }),
            _ => Err(e),
        }
    }
}

pub fn parse_optional_id(e: &mut FieldErrors, field: &str, value: &str) -> Option<Uuid> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match Uuid::parse_str(v) {
        Ok(id) => Some(id),
        Err(_) => {
            e.add(field, "invalid_choice");
            None
        }
    }
}

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum UnitKind {
        /// 职能部门, e.g. 城管局, 市场监管局
        Department = "department",
        /// 街道办事处 / 乡镇
        StreetOffice = "street_office",
        /// 社区居委会
        Community = "community",
        /// 国有企业, 公交公司 ...
        Enterprise = "enterprise",
        Other = "other",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    pub id: Uuid,
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub region_id: Uuid,
    pub region_name: String,
    pub region_path: String,
    pub liaison: Contact,
    pub head: Contact,
    pub active: bool,
    pub version: i64,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UnitForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub short_name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub liaison_name: String,
    #[serde(default)]
    pub liaison_phone: String,
    #[serde(default)]
    pub head_name: String,
    #[serde(default)]
    pub head_phone: String,
    /// Checkbox semantics: present means active.
    #[serde(default)]
    pub active: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnitInput {
    pub name: String,
    pub short_name: Option<String>,
    pub kind: UnitKind,
    pub region_id: Uuid,
    pub liaison: Contact,
    pub head: Contact,
    pub active: bool,
}

impl UnitForm {
    pub fn parse(&self) -> Result<UnitInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validation::text(&mut e, "name", &self.name, true, 64);
        let short_name = validation::text(&mut e, "short_name", &self.short_name, false, 16);
        let kind = UnitKind::parse(self.kind.trim());
        if kind.is_none() {
            e.add("kind", "invalid_choice");
        }
        let region_id = parse_optional_id(&mut e, "region_id", &self.region_id);
        if region_id.is_none() && e.for_field("region_id").is_none() {
            e.add("region_id", "required");
        }
        let liaison = Contact {
            name: validation::text(&mut e, "liaison_name", &self.liaison_name, false, 32),
            phone: validation::phone(&mut e, "liaison_phone", &self.liaison_phone),
        };
        let head = Contact {
            name: validation::text(&mut e, "head_name", &self.head_name, false, 32),
            phone: validation::phone(&mut e, "head_phone", &self.head_phone),
        };
        let active = matches!(self.active.as_deref(), Some("on" | "true" | "1"));
        match (name, kind, region_id) {
            (Some(name), Some(kind), Some(region_id)) if e.is_empty() => Ok(UnitInput {
                name,
                short_name,
                kind,
                region_id,
                liaison,
                head,
                active,
            }),
            _ => Err(e),
        }
    }
}

/// Someone who works for a unit: a task owner, a site chief, a contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub id: Uuid,
    pub unit_id: Uuid,
    pub name: String,
    /// Post or job title, e.g. 市容科科长.
    pub title: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
    pub version: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub active: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PersonInput {
    pub name: String,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
}

impl PersonForm {
    pub fn parse(&self) -> Result<PersonInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let name = validation::text(&mut e, "name", &self.name, true, 32);
        let title = validation::text(&mut e, "title", &self.title, false, 32);
        let phone = validation::phone(&mut e, "phone", &self.phone);
        let active = matches!(self.active.as_deref(), Some("on" | "true" | "1"));
        match name {
            Some(name) if e.is_empty() => Ok(PersonInput {
                name,
                title,
                phone,
                active,
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_needs_a_name_and_a_valid_phone() {
        let f = PersonForm {
            name: " ".into(),
            phone: "0571".into(),
            ..Default::default()
        };
        let e = f.parse().unwrap_err();
        assert_eq!(e.for_field("name"), Some("required"));
        assert_eq!(e.for_field("phone"), Some("invalid_phone"));
    }

    #[test]
    fn region_levels_nest_one_step_at_a_time() {
        assert!(RegionLevel::District.may_be_child_of(RegionLevel::City));
        assert!(RegionLevel::Grid.may_be_child_of(RegionLevel::Community));
        assert!(!RegionLevel::Grid.may_be_child_of(RegionLevel::District));
        assert!(!RegionLevel::City.may_be_child_of(RegionLevel::City));
    }

    #[test]
    fn region_form_reports_every_bad_field() {
        let f = RegionForm {
            parent_id: "nonsense".into(),
            level: "planet".into(),
            code: "a b".into(),
            name: "".into(),
            boundary: "{\"type\":\"Point\"}".into(),
            population: "many".into(),
        };
        let e = f.parse().unwrap_err();
        assert_eq!(e.for_field("population"), Some("invalid_population"));
        assert_eq!(e.for_field("parent_id"), Some("invalid_choice"));
        assert_eq!(e.for_field("level"), Some("invalid_choice"));
        assert_eq!(e.for_field("code"), Some("invalid_code"));
        assert_eq!(e.for_field("name"), Some("required"));
        assert_eq!(e.for_field("boundary"), Some("boundary_not_polygon"));
    }

    #[test]
    fn a_district_needs_a_parent_and_a_city_must_not_have_one() {
        let f = RegionForm {
            level: "district".into(),
            code: "D1".into(),
            name: "东湖区".into(),
            ..Default::default()
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("parent_id"),
            Some("required")
        );
        let f = RegionForm {
            level: "city".into(),
            parent_id: uuid::Uuid::nil().to_string(),
            code: "C".into(),
            name: "市".into(),
            ..Default::default()
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("parent_id"),
            Some("city_has_no_parent")
        );
    }

    #[test]
    fn unit_form_checks_phones_and_keeps_activity_flag() {
        let f = UnitForm {
            name: "城市管理局".into(),
            kind: "department".into(),
            region_id: uuid::Uuid::nil().to_string(),
            liaison_phone: "abc".into(),
            ..Default::default()
        };
        assert_eq!(
            f.parse().unwrap_err().for_field("liaison_phone"),
            Some("invalid_phone")
        );
        let f = UnitForm {
            liaison_phone: "13900001111".into(),
            active: Some("on".into()),
            ..f
        };
        let u = f.parse().unwrap();
        assert!(u.active);
        assert_eq!(u.liaison.phone.as_deref(), Some("13900001111"));
    }
}
