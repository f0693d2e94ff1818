//! Attribute typing in one place: declared types, coercion of raw input into typed
//! [`Value`](crate::model::Value)s, validation, and the declared sources of record.
//! Dialects never coerce on their own.

mod coerce;
mod definition;
mod error;
mod registry;
mod write;

pub use coerce::{
    check_length, check_limits, coerce, infer_value, total_length, validate_key, validate_word_key,
    AttributeType,
};
pub use definition::{
    AttributeDefinition, DeclaredAttribute, KeyDigest, SchemaConfig, SourceDefinition, SourceKind,
    DEFAULT_STRING_LENGTH,
};
pub use error::SchemaError;
pub use registry::{DeclaredSource, Schema, WriteTarget, GLOBAL_SOURCE};
pub use write::AttributeChange;
