use thiserror::Error;

use super::AttributeType;
use crate::model::SourceId;

/// Why an attribute write or a schema change does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The attribute name breaks the naming rule that applies to it.
    #[error("`{key}` is not a valid attribute name: {rule}")]
    InvalidKey {
        /// The offending name.
        key: String,
        /// The rule, in words.
        rule: &'static str,
    },
    /// The value cannot be represented as the attribute's type.
    #[error("`{key}`: {reason}")]
    TypeMismatch {
        /// The attribute name.
        key: String,
        /// What was wrong, in words.
        reason: String,
    },
    /// A text value, or the texts of a set or object together, are longer than allowed.
    #[error("`{key}` is {length} characters long; at most {limit} are allowed")]
    TooLong {
        /// The attribute name (`address.street` for a nested field, `tags.manual` for tags).
        key: String,
        /// The characters given.
        length: usize,
        /// The characters allowed.
        limit: u32,
    },
    /// The attribute is immutable and the profile has a value already.
    #[error("`{key}` is immutable: its value cannot be changed or removed")]
    Immutable {
        /// The attribute name.
        key: String,
    },
    /// The attribute is disabled on the source the value came from.
    #[error("`{key}` is disabled on source `{source_id}`")]
    AttributeDisabled {
        /// The attribute name.
        key: String,
        /// The source.
        source_id: SourceId,
    },
    /// The source of record is disabled.
    #[error("source `{source_id}` is disabled")]
    SourceDisabled {
        /// The source.
        source_id: SourceId,
    },
    /// No such source of record is declared.
    #[error("source `{source_id}` is not declared")]
    UnknownSource {
        /// The source.
        source_id: SourceId,
    },
    /// A source of record of this id is declared already.
    #[error("source `{source_id}` exists already")]
    SourceExists {
        /// The source.
        source_id: SourceId,
    },
    /// The global source is always present and cannot be created, deleted or disabled.
    #[error("the global source cannot be created, deleted or disabled")]
    GlobalSourceFixed,
    /// The attribute is not declared on the source.
    #[error("`{key}` is not declared on source `{source_id}`")]
    UnknownAttribute {
        /// The attribute name.
        key: String,
        /// The source.
        source_id: SourceId,
    },
    /// The attribute is declared on the source already with another type.
    #[error("`{key}` is declared on source `{source_id}` already")]
    AttributeExists {
        /// The attribute name.
        key: String,
        /// The source.
        source_id: SourceId,
    },
    /// Sharing failed: two sources declare the key with different types.
    #[error(
        "`{key}` cannot be shared: it is a {first:?} on one source and a {second:?} on another"
    )]
    ShareConflict {
        /// The attribute name.
        key: String,
        /// One declared type.
        first: AttributeType,
        /// A different declared type of the same key.
        second: AttributeType,
    },
    /// The attribute is shared, or not shared, contrary to what the change needs.
    #[error("`{key}` is {state}")]
    SharingState {
        /// The attribute name.
        key: String,
        /// `shared already` or `not shared`.
        state: &'static str,
    },
    /// Predefined attributes cannot be disabled or unshared.
    #[error("`{key}` is predefined and cannot be disabled or unshared")]
    Predefined {
        /// The attribute name.
        key: String,
    },
    /// A set action (ADD, REMOVE, DEL) names an attribute that is not a set.
    #[error("`{key}` is not a set, so ADD, REMOVE and DEL do not apply")]
    NotASet {
        /// The attribute name.
        key: String,
    },
}

impl SchemaError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidKey { .. } => "schema.invalid_key",
            Self::TypeMismatch { .. } => "schema.type_mismatch",
            Self::TooLong { .. } => "schema.too_long",
            Self::Immutable { .. } => "schema.immutable",
            Self::AttributeDisabled { .. } => "schema.attribute_disabled",
            Self::SourceDisabled { .. } => "schema.source_disabled",
            Self::UnknownSource { .. } => "schema.unknown_source",
            Self::SourceExists { .. } => "schema.source_exists",
            Self::GlobalSourceFixed => "schema.global_source_fixed",
            Self::UnknownAttribute { .. } => "schema.unknown_attribute",
            Self::AttributeExists { .. } => "schema.attribute_exists",
            Self::ShareConflict { .. } => "schema.share_conflict",
            Self::SharingState { .. } => "schema.sharing_state",
            Self::Predefined { .. } => "schema.predefined",
            Self::NotASet { .. } => "schema.not_a_set",
        }
    }

    /// The attribute the error is about, if it is about one.
    pub fn key(&self) -> &str {
        match self {
            Self::InvalidKey { key, .. }
            | Self::TypeMismatch { key, .. }
            | Self::TooLong { key, .. }
            | Self::Immutable { key }
            | Self::AttributeDisabled { key, .. }
            | Self::UnknownAttribute { key, .. }
            | Self::AttributeExists { key, .. }
            | Self::ShareConflict { key, .. }
            | Self::SharingState { key, .. }
            | Self::Predefined { key }
            | Self::NotASet { key } => key,
            Self::SourceDisabled { .. }
            | Self::UnknownSource { .. }
            | Self::SourceExists { .. }
            | Self::GlobalSourceFixed => "",
        }
    }
}
