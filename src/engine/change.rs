use std::rc::Rc;

use serde::{de, Deserialize, Deserializer, Serialize};

use super::merge::{MergeDelta, UnmergeDelta};
use crate::formats::Tree;
use crate::identity::Identifier;
use crate::model::{
    AttributeKey, Event, EventId, Profile, ProfileId, SourceId, TagKind, Timestamp, Value,
};
use crate::schema::{AttributeDefinition, KeyDigest, SourceDefinition};
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
    /// A customer profile (for a merge or unmerge: the surviving one).
    Profile(ProfileId),
    /// The schema: declared sources of record and attributes.
    Schema,
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
///
/// Stored and exported as an internally tagged map (`{"op": "tag_added", …}`) or, in
/// MessagePack, a list whose first element is the tag.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// An identifier no longer belongs to the profile (dropped over its type's limit).
    IdentifierRemoved {
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
    /// The profile got a tag.
    TagAdded {
        /// The profile.
        profile: ProfileId,
        /// Automatic or manual.
        kind: TagKind,
        /// The tag.
        tag: String,
    },
    /// The profile lost a tag.
    TagRemoved {
        /// The profile.
        profile: ProfileId,
        /// Automatic or manual.
        kind: TagKind,
        /// The tag.
        tag: String,
    },
    /// A consent got a value.
    ConsentSet {
        /// The profile.
        profile: ProfileId,
        /// The purpose (`marketing`).
        purpose: String,
        /// The consent.
        value: Value,
    },
    /// A consent was withdrawn.
    ConsentRemoved {
        /// The profile.
        profile: ProfileId,
        /// The purpose.
        purpose: String,
    },
    /// `absorbed` merged into `survivor`: the absorbed profile as it was, what moved, and the
    /// identifiers that made the profiles meet (empty for an explicit merge). Its id and
    /// aliases resolve to the survivor from now on.
    ProfileMerged {
        /// The profile that lives on.
        survivor: ProfileId,
        /// The profile merged away, exactly as it was before the merge.
        absorbed: Box<Profile>,
        /// What the survivor gained and lost.
        moved: Box<MergeDelta>,
        /// The identifiers of the write that matched both profiles.
        because: Vec<Identifier>,
    },
    /// A logged merge was undone: `restored` lives again as given, and the survivor gives
    /// back what the merge brought it.
    ProfileUnmerged {
        /// The profile that had absorbed the restored one.
        survivor: ProfileId,
        /// The restored profile, exactly as it now is.
        restored: Box<Profile>,
        /// What the survivor gives back.
        reverted: Box<UnmergeDelta>,
    },
    /// A source of record was declared.
    SourceDeclared {
        /// The declaration.
        definition: SourceDefinition,
    },
    /// A source of record was renamed.
    SourceRenamed {
        /// The source.
        source: SourceId,
        /// The new name.
        name: String,
    },
    /// A source of record and its declarations were deleted (its values are removed by
    /// `attribute_removed` changes logged before this one).
    SourceDeleted {
        /// The source.
        source: SourceId,
    },
    /// A source of record was disabled or enabled.
    SourceDisabled {
        /// The source.
        source: SourceId,
        /// Disabled (`true`) or enabled.
        disabled: bool,
    },
    /// An upload key was issued for a source; only its digest is recorded.
    SourceKeyAdded {
        /// The source.
        source: SourceId,
        /// The key's digest.
        digest: KeyDigest,
    },
    /// An attribute was declared on a source, or its declaration was changed.
    AttributeDeclared {
        /// The source.
        source: SourceId,
        /// The declaration.
        definition: Box<AttributeDefinition>,
    },
    /// An attribute's declaration was deleted (its values are removed by `attribute_removed`
    /// changes logged before this one).
    AttributeDeleted {
        /// The source.
        source: SourceId,
        /// The attribute name.
        key: AttributeKey,
    },
    /// An attribute was disabled or enabled on a source.
    AttributeDisabled {
        /// The source.
        source: SourceId,
        /// The attribute name.
        key: AttributeKey,
        /// Disabled (`true`) or enabled.
        disabled: bool,
    },
    /// A key was shared: the global source declares it and every source's values go there
    /// (the global values are set by `attribute_set` changes logged after this one).
    AttributeShared {
        /// The global declaration.
        definition: Box<AttributeDefinition>,
    },
    /// A key was unshared: the global declaration is gone (values were handed back to the
    /// sources by changes logged before this one).
    AttributeUnshared {
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
        definition: Box<TraitDefinition>,
    },
    /// A computed trait was removed.
    TraitDeleted {
        /// Its name.
        name: String,
    },
    /// A segment was added or replaced.
    SegmentDefined {
        /// Its definition.
        definition: Box<SegmentDefinition>,
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

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read_operation(Tree::deserialize(deserializer)?).map_err(de::Error::custom)
    }
}

/// Reads an operation from its tree. serde's own internally tagged reader buffers the
/// document in a form of its own and reads every variant's fields from that, which compiles
/// each field type's reader once more; here the tag is taken off the tree and the rest read
/// as an externally tagged [`OperationRead`], from the tree only.
#[inline(never)]
fn read_operation(tree: Tree) -> Result<Operation, serde_json::Error> {
    OperationRead::deserialize(crate::formats::Doc::<crate::formats::Stored>::new(
        crate::formats::untag(tree, "op")?,
    ))
}

/// [`Operation`]'s variants as serde reads them once the tag is taken off: the same names
/// and fields (`Ticked` with no fields, so an empty rest reads as it).
#[derive(Deserialize)]
#[serde(remote = "Operation", rename_all = "snake_case")]
enum OperationRead {
    ProfileCreated {
        profile: ProfileId,
    },
    ProfileImported {
        record: Box<Profile>,
    },
    IdentifierAdded {
        profile: ProfileId,
        identifier: Identifier,
    },
    IdentifierRemoved {
        profile: ProfileId,
        identifier: Identifier,
    },
    AttributeSet {
        profile: ProfileId,
        source: SourceId,
        key: AttributeKey,
        value: Value,
    },
    AttributeRemoved {
        profile: ProfileId,
        source: SourceId,
        key: AttributeKey,
    },
    TagAdded {
        profile: ProfileId,
        kind: TagKind,
        tag: String,
    },
    TagRemoved {
        profile: ProfileId,
        kind: TagKind,
        tag: String,
    },
    ConsentSet {
        profile: ProfileId,
        purpose: String,
        value: Value,
    },
    ConsentRemoved {
        profile: ProfileId,
        purpose: String,
    },
    ProfileMerged {
        survivor: ProfileId,
        absorbed: Box<Profile>,
        moved: Box<MergeDelta>,
        because: Vec<Identifier>,
    },
    ProfileUnmerged {
        survivor: ProfileId,
        restored: Box<Profile>,
        reverted: Box<UnmergeDelta>,
    },
    SourceDeclared {
        definition: SourceDefinition,
    },
    SourceRenamed {
        source: SourceId,
        name: String,
    },
    SourceDeleted {
        source: SourceId,
    },
    SourceDisabled {
        source: SourceId,
        disabled: bool,
    },
    SourceKeyAdded {
        source: SourceId,
        digest: KeyDigest,
    },
    AttributeDeclared {
        source: SourceId,
        definition: Box<AttributeDefinition>,
    },
    AttributeDeleted {
        source: SourceId,
        key: AttributeKey,
    },
    AttributeDisabled {
        source: SourceId,
        key: AttributeKey,
        disabled: bool,
    },
    AttributeShared {
        definition: Box<AttributeDefinition>,
    },
    AttributeUnshared {
        key: AttributeKey,
    },
    EventRecorded {
        event: Rc<Event>,
    },
    TraitDefined {
        definition: Box<TraitDefinition>,
    },
    TraitDeleted {
        name: String,
    },
    SegmentDefined {
        definition: Box<SegmentDefinition>,
    },
    SegmentActiveSet {
        system_title: String,
        active: bool,
    },
    SegmentDeleted {
        system_title: String,
    },
    Ticked {},
}
impl Operation {
    /// The entity the operation changes.
    pub fn entity(&self) -> Entity {
        match self {
            Self::ProfileCreated { profile }
            | Self::IdentifierAdded { profile, .. }
            | Self::IdentifierRemoved { profile, .. }
            | Self::AttributeSet { profile, .. }
            | Self::AttributeRemoved { profile, .. }
            | Self::TagAdded { profile, .. }
            | Self::TagRemoved { profile, .. }
            | Self::ConsentSet { profile, .. }
            | Self::ConsentRemoved { profile, .. }
            | Self::ProfileMerged {
                survivor: profile, ..
            }
            | Self::ProfileUnmerged {
                survivor: profile, ..
            } => Entity::Profile(*profile),
            Self::ProfileImported { record } => Entity::Profile(record.id),
            Self::SourceDeclared { .. }
            | Self::SourceRenamed { .. }
            | Self::SourceDeleted { .. }
            | Self::SourceDisabled { .. }
            | Self::SourceKeyAdded { .. }
            | Self::AttributeDeclared { .. }
            | Self::AttributeDeleted { .. }
            | Self::AttributeDisabled { .. }
            | Self::AttributeShared { .. }
            | Self::AttributeUnshared { .. } => Entity::Schema,
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
            Self::ProfileImported { .. } => "profile_imported",
            Self::IdentifierAdded { .. } => "identifier_added",
            Self::IdentifierRemoved { .. } => "identifier_removed",
            Self::AttributeSet { .. } => "attribute_set",
            Self::AttributeRemoved { .. } => "attribute_removed",
            Self::TagAdded { .. } => "tag_added",
            Self::TagRemoved { .. } => "tag_removed",
            Self::ConsentSet { .. } => "consent_set",
            Self::ConsentRemoved { .. } => "consent_removed",
            Self::ProfileMerged { .. } => "profile_merged",
            Self::ProfileUnmerged { .. } => "profile_unmerged",
            Self::SourceDeclared { .. } => "source_declared",
            Self::SourceRenamed { .. } => "source_renamed",
            Self::SourceDeleted { .. } => "source_deleted",
            Self::SourceDisabled { .. } => "source_disabled",
            Self::SourceKeyAdded { .. } => "source_key_added",
            Self::AttributeDeclared { .. } => "attribute_declared",
            Self::AttributeDeleted { .. } => "attribute_deleted",
            Self::AttributeDisabled { .. } => "attribute_disabled",
            Self::AttributeShared { .. } => "attribute_shared",
            Self::AttributeUnshared { .. } => "attribute_unshared",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{from_msgpack, from_stored_json};

    fn operations() -> Vec<Operation> {
        let profile = ProfileId::random();
        vec![
            Operation::ProfileCreated { profile },
            Operation::TagAdded {
                profile,
                kind: TagKind::Manual,
                tag: "vip".to_owned(),
            },
            Operation::SegmentActiveSet {
                system_title: "buyers".to_owned(),
                active: false,
            },
            Operation::Ticked,
        ]
    }

    #[test]
    fn operations_read_back_from_tagged_json_maps_and_msgpack_lists() {
        for operation in operations() {
            let json = serde_json::to_string(&operation).unwrap();
            assert!(json.starts_with(&format!(r#"{{"op":"{}""#, operation.name())));
            assert_eq!(from_stored_json::<Operation>(&json).unwrap(), operation);
            let bytes = rmp_serde::to_vec(&operation).unwrap();
            assert_eq!(from_msgpack::<Operation>(&bytes), Ok(operation));
        }
        // The tag need not come first in a map.
        let moved = r#"{"system_title":"buyers","active":true,"op":"segment_active_set"}"#;
        assert_eq!(
            from_stored_json::<Operation>(moved).unwrap(),
            Operation::SegmentActiveSet {
                system_title: "buyers".to_owned(),
                active: true
            }
        );
    }

    #[test]
    fn operations_without_a_known_single_tag_do_not_read() {
        for (text, message) in [
            (r#"{"system_title":"buyers"}"#, "missing field `op`"),
            (
                r#"{"op":"segment_deleted","op":"ticked"}"#,
                "duplicate field `op`",
            ),
            (
                r#"{"op":"segment_erased"}"#,
                "unknown variant `segment_erased`",
            ),
            (r#"{"op":7}"#, "invalid type: integer `7`"),
            (
                r#"{"op":"segment_deleted"}"#,
                "missing field `system_title`",
            ),
            (r#"[]"#, "invalid length 0"),
            (r#""ticked""#, "invalid type: string"),
        ] {
            let error = from_stored_json::<Operation>(text).unwrap_err().to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
    }
}
