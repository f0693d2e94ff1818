use thiserror::Error;

/// A raw string that could not become one of the model's types.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The text is not a UUID.
    #[error("`{0}` is not a UUID")]
    InvalidId(String),
    /// The text is not an ISO 8601 / RFC 3339 timestamp, or lies outside the supported range.
    #[error("`{0}` is not an ISO 8601 timestamp")]
    InvalidTimestamp(String),
}

impl ModelError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidId(_) => "model.invalid_id",
            Self::InvalidTimestamp(_) => "model.invalid_timestamp",
        }
    }
}
