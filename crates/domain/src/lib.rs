//! The campaign's concepts and rules, free of IO: what a region, unit, account
//! and audit record are, who may do what, and how input is checked.

pub mod account;
pub mod anomaly;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod evidence;
pub mod framework;
pub mod geo;
pub mod inspection;
pub mod metrics;
pub mod org;
pub mod photo;
pub mod policy;
pub mod ranking;
pub mod rating;
pub mod scoring;
pub mod site;
pub mod source;
pub mod survey;
pub mod task;
pub mod validation;

pub use validation::{FieldError, FieldErrors};

/// Identifiers are UUIDv7 so that records made offline sort by creation and
/// retries with a client-chosen id stay idempotent.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// An enum that is stored and sent by a fixed code: `ALL` (in order),
/// `code()` and `parse()`, written once. Serde's names are the caller's to
/// derive; a test per enum checks they agree with the codes where both are
/// used.
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$m:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vm:meta])* $variant:ident = $code:literal),+ $(,)?
        }
    ) => {
        $(#[$m])*
        $vis enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The code it is stored and sent by.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// From its code.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

    };
}

#[cfg(test)]
mod coded_enums {
    /// What the API sends (serde) is what the store keeps (the code).
    fn serde_speaks_the_codes<T: serde::Serialize + Copy>(all: &[T], code: fn(T) -> &'static str) {
        for v in all {
            assert_eq!(serde_json::to_value(v).unwrap(), code(*v));
        }
    }

    #[test]
    fn every_coded_enum_is_sent_by_its_code() {
        use crate::*;
        serde_speaks_the_codes(&org::RegionLevel::ALL, org::RegionLevel::code);
        serde_speaks_the_codes(&org::UnitKind::ALL, org::UnitKind::code);
        serde_speaks_the_codes(&account::Role::ALL, account::Role::code);
        serde_speaks_the_codes(&case::CaseState::ALL, case::CaseState::code);
        serde_speaks_the_codes(&case::Source::ALL, case::Source::code);
        serde_speaks_the_codes(&inspection::RoundKind::ALL, inspection::RoundKind::code);
        serde_speaks_the_codes(&site::Geometry::ALL, site::Geometry::code);
        serde_speaks_the_codes(&task::TaskState::ALL, task::TaskState::code);
        serde_speaks_the_codes(&photo::PhotoRole::ALL, photo::PhotoRole::code);
        serde_speaks_the_codes(&photo::ImageKind::ALL, photo::ImageKind::code);
        for k in case::CaseState::ALL {
            assert_eq!(case::CaseState::parse(k.code()), Some(k));
        }
    }
}
