use thiserror::Error;

use crate::events::ShapeError;

/// Why a computed trait cannot be defined or removed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TraitError {
    /// The definition's JSON is malformed at one node.
    #[error("invalid trait definition: {0}")]
    InvalidDefinition(ShapeError),
    /// No trait has this name.
    #[error("no computed trait is named `{0}`")]
    Unknown(String),
}

impl TraitError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidDefinition(_) => "traits.invalid_definition",
            Self::Unknown(_) => "traits.unknown",
        }
    }
}
