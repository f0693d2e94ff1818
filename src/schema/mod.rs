//! Attribute typing in one place: declared types, coercion of raw input into typed
//! [`Value`](crate::model::Value)s, and validation. Dialects never coerce on their own.

mod coerce;
mod error;

pub use coerce::{infer_value, validate_key, AttributeType};
pub use error::SchemaError;
