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
    /// A profile would hold more values of a type than its limit, and the type's limit
    /// behaviour is to reject.
    #[error("a profile may hold at most {limit} `{kind}` identifiers")]
    LimitExceeded {
        /// The identifier type.
        kind: String,
        /// Its limit.
        limit: usize,
    },
    /// No live profile has this id (nor was one with this id merged into a live one).
    #[error("profile {profile} does not exist")]
    UnknownProfile {
        /// The id asked for.
        profile: ProfileId,
    },
    /// A profile cannot be merged with itself.
    #[error("profile {profile} cannot be merged with itself")]
    SameProfile {
        /// The profile.
        profile: ProfileId,
    },
    /// Unmerge names a profile that no logged merge absorbed.
    #[error("profile {profile} was not merged into another profile")]
    NotMerged {
        /// The id asked for.
        profile: ProfileId,
    },
    /// Unmerge must undo the later merge first: the profile that absorbed this one has
    /// itself been merged into another.
    #[error("profile {survivor} was merged into another profile since; unmerge it first")]
    SurvivorMerged {
        /// The profile that absorbed the one to restore.
        survivor: ProfileId,
    },
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
            Self::LimitExceeded { .. } => "identity.limit_exceeded",
            Self::UnknownProfile { .. } => "identity.unknown_profile",
            Self::SameProfile { .. } => "identity.same_profile",
            Self::NotMerged { .. } => "identity.not_merged",
            Self::SurvivorMerged { .. } => "identity.survivor_merged",
        }
    }
}
