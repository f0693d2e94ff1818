use thiserror::Error;

use crate::model::ProfileId;

/// Why identifiers could not be resolved or attached.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The identifiers of one write belong to two different profiles and the policy rejects
    /// such writes.
    #[error("the identifiers match two different profiles: {first} and {second}")]
    Conflict {
        /// The profile the first matching identifier belongs to.
        first: ProfileId,
        /// The profile of another identifier of the same write.
        second: ProfileId,
    },
    /// An identifier's value is empty after normalization.
    #[error("the `{kind}` identifier is empty")]
    Empty {
        /// The identifier type.
        kind: String,
    },
    /// An identifier's value does not fit its type (a phone number without digits).
    #[error("`{value}` is not a valid `{kind}` identifier")]
    Invalid {
        /// The identifier type.
        kind: String,
        /// The raw value as given.
        value: String,
    },
    /// The identifier type name is empty.
    #[error("an identifier type name is empty")]
    EmptyKind,
    /// A write names no identifier at all.
    #[error("at least one identifier is required")]
    Missing,
}

impl IdentityError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "identity.conflict",
            Self::Empty { .. } => "identity.empty",
            Self::Invalid { .. } => "identity.invalid",
            Self::EmptyKind => "identity.empty_kind",
            Self::Missing => "identity.missing",
        }
    }
}
