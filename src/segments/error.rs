use thiserror::Error;

use crate::events::ShapeError;

/// Why a segment cannot be defined, changed or found.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The rule is malformed at one node; the path names it (`$.rule.rules[1].value`).
    #[error("invalid segment rule: {0}")]
    InvalidRule(ShapeError),
    /// A field of the definition besides the rule is malformed.
    #[error("invalid segment definition: {0}")]
    InvalidDefinition(ShapeError),
    /// No segment has this system title.
    #[error("no segment has the system title `{0}`")]
    Unknown(String),
}

impl SegmentError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRule(_) => "segments.invalid_rule",
            Self::InvalidDefinition(_) => "segments.invalid_definition",
            Self::Unknown(_) => "segments.unknown",
        }
    }
}
