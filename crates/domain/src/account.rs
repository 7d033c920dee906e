//! Accounts, roles and the scopes roles are granted over.

use crate::coded_enum;
use crate::validation::{self, FieldErrors};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

coded_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Role {
        Administrator = "administrator",
        /// 创建办
        Office = "office",
        /// 督查员
        Inspector = "inspector",
        /// 责任单位经办人
        UnitStaff = "unit_staff",
        /// Read-only overview for leaders.
        Leader = "leader",
    }
}

impl Role {
    /// Unit staff act for a unit; every other role acts over a region subtree.
    pub fn scoped_to_unit(self) -> bool {
        self == Role::UnitStaff
    }
}

/// What a grant covers, as stored: a region subtree or one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ScopeRef {
    Region(Uuid),
    Unit(Uuid),
}

impl ScopeRef {
    pub fn kind(&self) -> &'static str {
        match self {
            ScopeRef::Region(_) => "region",
            ScopeRef::Unit(_) => "unit",
        }
    }
    pub fn id(&self) -> Uuid {
        match self {
            ScopeRef::Region(id) | ScopeRef::Unit(id) => *id,
        }
    }
    pub fn from_parts(kind: &str, id: Uuid) -> Option<Self> {
        match kind {
            "region" => Some(ScopeRef::Region(id)),
            "unit" => Some(ScopeRef::Unit(id)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grant {
    pub id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub scope: ScopeRef,
    /// Region or unit name, for display.
    pub scope_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub must_change_password: bool,
    pub version: i64,
    pub created_at: Timestamp,
}

pub const MIN_PASSWORD_CHARS: usize = 10;

/// Usernames are ASCII so they can be typed on any keyboard; people are found
/// by their Chinese display name instead.
pub fn username(e: &mut FieldErrors, field: &str, value: &str) -> Option<String> {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        e.add(field, "required");
        return None;
    }
    let ok_chars = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !(3..=32).contains(&v.len())
        || !ok_chars
        || !v.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        e.add(field, "invalid_username");
        return None;
    }
    Some(v)
}

pub fn new_password(
    e: &mut FieldErrors,
    field: &str,
    value: &str,
    username: &str,
) -> Option<String> {
    if value.chars().count() < MIN_PASSWORD_CHARS {
        e.add(field, "password_too_short");
        return None;
    }
    if value.chars().count() > 256 {
        e.add(field, "too_long");
        return None;
    }
    if validation::match_key(value) == validation::match_key(username) {
        e.add(field, "password_is_username");
        return None;
    }
    Some(value.to_string())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub unit_id: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub active: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub unit_id: Option<Uuid>,
    /// Only on creation; an existing user's password changes elsewhere.
    pub password: Option<String>,
    pub active: bool,
}

impl UserForm {
    pub fn parse(&self, creating: bool) -> Result<UserInput, FieldErrors> {
        let mut e = FieldErrors::new();
        let username = username(&mut e, "username", &self.username);
        let display_name = validation::text(&mut e, "display_name", &self.display_name, true, 32);
        let phone = validation::phone(&mut e, "phone", &self.phone);
        if let Some(p) = &phone
            && !(p.len() == 11 && p.starts_with('1'))
        {
            // Logins by phone need a mobile number, which is unique to a person.
            e.add("phone", "invalid_mobile");
        }
        let unit_id = crate::org::parse_optional_id(&mut e, "unit_id", &self.unit_id);
        let password = if creating {
            new_password(
                &mut e,
                "password",
                &self.password,
                username.as_deref().unwrap_or(""),
            )
        } else {
            None
        };
        let active = matches!(self.active.as_deref(), Some("on" | "true" | "1"));
        match (username, display_name) {
            (Some(username), Some(display_name)) if e.is_empty() => Ok(UserInput {
                username,
                display_name,
                phone,
                unit_id,
                password,
                active,
            }),
            _ => Err(e),
        }
    }
}

/// Back-off after failed logins for one login name (known or not, so the
/// answer never reveals whether an account exists): the first few failures
/// are free, then each further failure doubles the wait, capped at an hour.
pub fn lockout_after(failures: u32) -> Option<jiff::SignedDuration> {
    const FREE: u32 = 5;
    if failures < FREE {
        return None;
    }
    let exp = (failures - FREE).min(6);
    let secs = (60_i64 << exp).min(3600);
    Some(jiff::SignedDuration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_after_five_failures_and_doubles_to_an_hour() {
        assert_eq!(lockout_after(4), None);
        assert_eq!(lockout_after(5).unwrap().as_secs(), 60);
        assert_eq!(lockout_after(6).unwrap().as_secs(), 120);
        assert_eq!(lockout_after(7).unwrap().as_secs(), 240);
        assert_eq!(lockout_after(40).unwrap().as_secs(), 3600);
    }

    #[test]
    fn usernames_are_folded_and_checked() {
        let mut e = FieldErrors::new();
        assert_eq!(
            username(&mut e, "u", " Office.Li ").as_deref(),
            Some("office.li")
        );
        assert_eq!(username(&mut e, "u", "李"), None);
        assert_eq!(e.for_field("u"), Some("invalid_username"));
    }

    #[test]
    fn passwords_must_be_long_and_not_the_username() {
        let mut e = FieldErrors::new();
        assert!(new_password(&mut e, "p", "short", "x").is_none());
        assert_eq!(e.for_field("p"), Some("password_too_short"));
        let mut e = FieldErrors::new();
        assert!(new_password(&mut e, "p", "Inspector01", "inspector01").is_none());
        assert_eq!(e.for_field("p"), Some("password_is_username"));
        assert!(new_password(&mut FieldErrors::new(), "p", "correct horse battery", "x").is_some());
    }
}
