use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::identity::Identifier;
use crate::model::{AttributeKey, Event, EventId, ProfileId, SourceId, Timestamp, Value};
use crate::segments::SegmentDefinition;
use crate::traits::TraitDefinition;

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
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Entity {
    /// A customer profile.
    Profile(ProfileId),
    /// An event.
    Event(EventId),
    /// A computed trait, by name.
    Trait(String),
    /// A segment, by system title.
    Segment(String),
    /// The engine's clock.
    Clock,
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
    /// An event was recorded against a profile.
    EventRecorded {
        /// The event, with its id, profile and times (shared with the event store).
        event: Rc<Event>,
    },
    /// A computed trait was added or replaced.
    TraitDefined {
        /// Its definition.
        definition: TraitDefinition,
    },
    /// A computed trait was removed.
    TraitDeleted {
        /// Its name.
        name: String,
    },
    /// A segment was added or replaced.
    SegmentDefined {
        /// Its definition.
        definition: SegmentDefinition,
    },
    /// A segment was turned on or off.
    SegmentActiveSet {
        /// Its system title.
        system_title: String,
        /// The new state.
        active: bool,
    },
    /// A segment was removed.
    SegmentDeleted {
        /// Its system title.
        system_title: String,
    },
    /// Time passed to the change's time: windowed traits and time-dependent segments were
    /// re-evaluated then.
    Ticked,
}

impl Operation {
    /// The entity the operation changes.
    pub fn entity(&self) -> Entity {
        match self {
            Self::ProfileCreated { profile }
            | Self::IdentifierAdded { profile, .. }
            | Self::AttributeSet { profile, .. }
            | Self::AttributeRemoved { profile, .. } => Entity::Profile(*profile),
            Self::EventRecorded { event } => Entity::Event(event.id),
            Self::TraitDefined { definition } => Entity::Trait(definition.name.clone()),
            Self::TraitDeleted { name } => Entity::Trait(name.clone()),
            Self::SegmentDefined { definition } => Entity::Segment(definition.system_title.clone()),
            Self::SegmentActiveSet { system_title, .. } | Self::SegmentDeleted { system_title } => {
                Entity::Segment(system_title.clone())
            }
            Self::Ticked => Entity::Clock,
        }
    }

    /// The operation's name as the change log prints it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ProfileCreated { .. } => "profile_created",
            Self::IdentifierAdded { .. } => "identifier_added",
            Self::AttributeSet { .. } => "attribute_set",
            Self::AttributeRemoved { .. } => "attribute_removed",
            Self::EventRecorded { .. } => "event_recorded",
            Self::TraitDefined { .. } => "trait_defined",
            Self::TraitDeleted { .. } => "trait_deleted",
            Self::SegmentDefined { .. } => "segment_defined",
            Self::SegmentActiveSet { .. } => "segment_active_set",
            Self::SegmentDeleted { .. } => "segment_deleted",
            Self::Ticked => "ticked",
        }
    }
}
