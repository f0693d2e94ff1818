use thiserror::Error;

/// Why an attribute write does not fit the schema.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The attribute name is empty or has characters other than letters, digits and `_`.
    #[error("`{key}` is not a valid attribute name: use letters, digits and underscores")]
    InvalidKey {
        /// The offending name.
        key: String,
    },
    /// The value cannot be represented as the attribute's type.
    #[error("`{key}`: {reason}")]
    TypeMismatch {
        /// The attribute name.
        key: String,
        /// What was wrong, in words.
        reason: String,
    },
}

impl SchemaError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidKey { .. } => "schema.invalid_key",
            Self::TypeMismatch { .. } => "schema.type_mismatch",
        }
    }

    /// The attribute the error is about.
    pub fn key(&self) -> &str {
        match self {
            Self::InvalidKey { key } | Self::TypeMismatch { key, .. } => key,
        }
    }
}
