use serde::{Deserialize, Serialize};

use crate::identity::Identifier;
use crate::model::{AttributeKey, Profile, ProfileId, SourceId, Timestamp, Value};

/// One numbered entry of the change log: what a committed command did to one entity.
///
/// The log is what persistence writes and what the Contacthub update stream serves; applying
/// it in offset order to an empty engine rebuilds the same state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The position in the log, starting at 0, without gaps.
    pub offset: u64,
    /// When the command that made it was committed.
    pub at: Timestamp,
    /// What changed.
    pub operation: Operation,
}

/// The entity a change is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entity {
    /// A customer profile.
    Profile(ProfileId),
}

/// What one change did, with its data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// A new, empty profile.
    ProfileCreated {
        /// Its id.
        profile: ProfileId,
    },
    /// A whole profile arrived from an import, with its identifiers, attributes and
    /// timestamps as exported.
    ProfileImported {
        /// The profile as imported.
        record: Box<Profile>,
    },
    /// An identifier now belongs to the profile.
    IdentifierAdded {
        /// The profile.
        profile: ProfileId,
        /// The normalized identifier.
        identifier: Identifier,
    },
    /// An attribute of one source got a value.
    AttributeSet {
        /// The profile.
        profile: ProfileId,
        /// The source of record.
        source: SourceId,
        /// The attribute name.
        key: AttributeKey,
        /// The new value.
        value: Value,
    },
    /// An attribute of one source lost its value.
    AttributeRemoved {
        /// The profile.
        profile: ProfileId,
        /// The source of record.
        source: SourceId,
        /// The attribute name.
        key: AttributeKey,
    },
    /// A manual tag was added to the profile.
    TagAdded {
        /// The profile.
        profile: ProfileId,
        /// The tag, as given.
        tag: String,
    },
    /// A manual tag was removed from the profile.
    TagRemoved {
        /// The profile.
        profile: ProfileId,
        /// The tag.
        tag: String,
    },
}

impl Operation {
    /// The entity the operation changes.
    pub fn entity(&self) -> Entity {
        match self {
            Self::ProfileCreated { profile }
            | Self::IdentifierAdded { profile, .. }
            | Self::AttributeSet { profile, .. }
            | Self::AttributeRemoved { profile, .. }
            | Self::TagAdded { profile, .. }
            | Self::TagRemoved { profile, .. } => Entity::Profile(*profile),
            Self::ProfileImported { record } => Entity::Profile(record.id),
        }
    }

    /// The operation's name as the change log prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ProfileCreated { .. } => "profile_created",
            Self::ProfileImported { .. } => "profile_imported",
            Self::IdentifierAdded { .. } => "identifier_added",
            Self::AttributeSet { .. } => "attribute_set",
            Self::AttributeRemoved { .. } => "attribute_removed",
            Self::TagAdded { .. } => "tag_added",
            Self::TagRemoved { .. } => "tag_removed",
        }
    }
}
