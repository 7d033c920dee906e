//! The campaign's concepts and rules, free of IO: what a region, unit, account
//! and audit record are, who may do what, and how input is checked.

pub mod account;
pub mod audit;
pub mod calendar;
pub mod case;
pub mod framework;
pub mod geo;
pub mod inspection;
pub mod metrics;
pub mod org;
pub mod photo;
pub mod policy;
pub mod site;
pub mod task;
pub mod validation;

pub use validation::{FieldError, FieldErrors};

/// Identifiers are UUIDv7 so that records made offline sort by creation and
/// retries with a client-chosen id stay idempotent.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}
