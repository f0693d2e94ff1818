use serde_json::Value as Json;

use super::event_command::NewEvent;
use super::EngineError;
use crate::identity::{Identifier, IdentityConfig};
use crate::model::{AttributeKey, EventId, ProfileId, SourceId, TagKind, Value};
use crate::schema::{
    validate_key, AttributeChange, AttributeDefinition, KeyDigest, SourceDefinition,
};
use crate::segments::SegmentDefinition;
use crate::traits::TraitDefinition;

/// A request to change the engine's state. Applied atomically: all of it or nothing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Find the profile the identifiers belong to, or create one, and write to it.
    UpsertProfile(UpsertProfile),
    /// Add and remove manual tags of one profile.
    ChangeTags(ChangeTags),
    /// Declare the attributes a write needs and write them to one existing profile, in one
    /// step (ChartMogul custom attributes).
    WriteAttributes(WriteAttributes),
    /// Merge one profile into another explicitly, whatever the conflict policy.
    MergeProfiles {
        /// The profile that lives on.
        survivor: ProfileId,
        /// The profile merged into it.
        absorbed: ProfileId,
    },
    /// Undo the logged merge that absorbed `absorbed`, restoring it.
    UnmergeProfile {
        /// The id of the profile merged away.
        absorbed: ProfileId,
    },
    /// Declare a source of record.
    DeclareSource(SourceDefinition),
    /// Rename a source of record.
    RenameSource {
        /// The source.
        source: SourceId,
        /// The new name.
        name: String,
    },
    /// Delete a source of record with its declarations and values.
    DeleteSource {
        /// The source.
        source: SourceId,
    },
    /// Disable (`true`) or enable a source: a disabled source's values are refused.
    DisableSource {
        /// The source.
        source: SourceId,
        /// Disable or enable.
        disabled: bool,
    },
    /// Record the digest of an upload key issued for a source (FollowAnalytics' SOR keys):
    /// it lives in the schema, so it outlives a restart and goes when the source is deleted.
    AddSourceKey {
        /// The source; declared, not the global one.
        source: SourceId,
        /// The key's digest (never the key).
        digest: KeyDigest,
    },
    /// Declare a typed attribute on a source.
    DeclareAttribute {
        /// The source (`default` for writes that name none).
        source: SourceId,
        /// The declaration.
        definition: AttributeDefinition,
    },
    /// Change a declaration's label and limits; its type stays.
    UpdateAttribute {
        /// The source.
        source: SourceId,
        /// The new declaration, of the same key and type.
        definition: AttributeDefinition,
    },
    /// Delete a declaration with all its values.
    DeleteAttribute {
        /// The source.
        source: SourceId,
        /// The attribute name.
        key: AttributeKey,
    },
    /// Disable (`true`) or enable an attribute on a source (FollowAnalytics rules).
    DisableAttribute {
        /// The source.
        source: SourceId,
        /// The attribute name.
        key: AttributeKey,
        /// Disable or enable.
        disabled: bool,
    },
    /// Share a key: it moves to the global source and takes the most recent enabled value.
    ShareAttribute {
        /// The attribute name.
        key: AttributeKey,
    },
    /// Unshare a key: its global values go back to the sources that declare it.
    UnshareAttribute {
        /// The attribute name.
        key: AttributeKey,
    },
    /// Record one event against a profile, found by id or by identifiers (creating or
    /// attaching a profile as the identity policy says).
    RecordEvent(NewEvent),
    /// Add or replace a computed trait and fold every stored event into it.
    DefineTrait(TraitDefinition),
    /// Remove a computed trait.
    DeleteTrait {
        /// The trait's name.
        name: String,
    },
    /// Add or replace a segment and evaluate it over every profile.
    DefineSegment(SegmentDefinition),
    /// Turn a segment on or off.
    SetSegmentActive {
        /// The segment's system title.
        system_title: String,
        /// The new state.
        active: bool,
    },
    /// Remove a segment.
    DeleteSegment {
        /// The segment's system title.
        system_title: String,
    },
    /// Let time pass: refold windowed traits and re-evaluate time-dependent segments at the
    /// engine clock's time. Records nothing when nothing would change.
    Tick,
}

/// Adds and removes manual tags of an existing profile. Tags are kept as given: case and
/// spaces matter, and a tag that is empty is refused.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeTags {
    /// The profile.
    pub profile: ProfileId,
    /// Tags to add; those present already are left alone.
    pub add: Vec<String>,
    /// Tags to remove; those absent are ignored, and a tag also in `add` is kept.
    pub remove: Vec<String>,
}

/// Writes attributes of an existing profile from one source, declaring on that source first
/// the attributes it names that are not declared there yet. Either all of it is applied, the
/// declarations included, or nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct WriteAttributes {
    /// The profile (an id merged away names its survivor).
    pub profile: ProfileId,
    /// The source of record the declarations and values go to.
    pub source: SourceId,
    /// Declarations the writes need: each is added when its key is not declared on `source`
    /// yet; a key declared there with another type is refused (`schema.attribute_exists`).
    pub declare: Vec<AttributeDefinition>,
    /// Attribute writes, in order, typed by the declarations.
    pub attributes: Vec<(AttributeKey, AttributeChange)>,
}

/// Find-or-create by identifiers, then add the new identifiers and write attributes, tags
/// and consents.
#[derive(Clone, Debug, PartialEq)]
pub struct UpsertProfile {
    /// Normalized identifiers; at least one.
    pub identifiers: Vec<Identifier>,
    /// The source of record the attributes are written from.
    pub source: SourceId,
    /// Attribute writes, in order.
    pub attributes: Vec<(AttributeKey, AttributeChange)>,
    /// Tags to add (`present`) or remove.
    pub tags: Vec<TagWrite>,
    /// Consents to give (`Some`) or withdraw (`None`).
    pub consents: Vec<(String, Option<Value>)>,
}

/// One tag added to or removed from a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagWrite {
    /// Automatic or manual.
    pub kind: TagKind,
    /// The tag.
    pub tag: String,
    /// Added (`true`) or removed.
    pub present: bool,
}

/// What a committed command did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The profile a write landed on.
    Profile {
        /// Its id.
        id: ProfileId,
        /// Whether the write created it.
        created: bool,
        /// Profiles merged into it by this command.
        merged: Vec<ProfileId>,
    },
    /// A merge was undone.
    Unmerged {
        /// The profile that had absorbed the restored one.
        survivor: ProfileId,
        /// The restored profile.
        restored: ProfileId,
    },
    /// The schema changed (and the values the change moved or removed).
    SchemaChanged,
    /// The event recorded and the profile it landed on.
    Event {
        /// The event's id.
        id: EventId,
        /// The profile's id.
        profile: ProfileId,
        /// Whether recording the event created the profile.
        profile_created: bool,
    },
    /// A trait, a segment or a segment's state was changed or removed (by name or system
    /// title); `changed` is false when the command asked for the state already in force.
    Definition {
        /// The trait's name or the segment's system title.
        name: String,
        /// Whether anything was recorded.
        changed: bool,
    },
    /// Time passed; `changed` says whether anything was re-evaluated and recorded.
    Ticked {
        /// Whether a change was recorded.
        changed: bool,
    },
    /// A batch was applied: one outcome per record, in order.
    Batch(Vec<Outcome>),
}

impl Outcome {
    /// The profile the command landed on, for commands about one profile or event.
    pub fn profile_id(&self) -> Option<ProfileId> {
        match self {
            Self::Profile { id, .. } => Some(*id),
            Self::Unmerged { restored, .. } => Some(*restored),
            Self::Event { profile, .. } => Some(*profile),
            Self::SchemaChanged
            | Self::Definition { .. }
            | Self::Ticked { .. }
            | Self::Batch(_) => None,
        }
    }

    /// The outcome as the JS package receives it: `{"profile", "created", "merged"}`,
    /// `{"survivor", "restored"}`, `{"schemaChanged": true}`, `{"event", "profile",
    /// "created"}`, `{"name", "changed"}`, `{"ticked": true, "changed"}` or, for a batch,
    /// `{"results": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Profile {
                id,
                created,
                merged,
            } => serde_json::json!({
                "profile": id.to_string(),
                "created": created,
                "merged": merged.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }),
            Self::Unmerged { survivor, restored } => serde_json::json!({
                "survivor": survivor.to_string(),
                "restored": restored.to_string(),
            }),
            Self::SchemaChanged => serde_json::json!({"schemaChanged": true}),
            Self::Event {
                id,
                profile,
                profile_created,
            } => serde_json::json!({
                "event": id.to_string(),
                "profile": profile.to_string(),
                "created": profile_created,
            }),
            Self::Definition { name, changed } => {
                serde_json::json!({"name": name, "changed": changed})
            }
            Self::Ticked { changed } => serde_json::json!({"ticked": true, "changed": changed}),
            Self::Batch(outcomes) => serde_json::json!({
                "results": outcomes.iter().map(Self::to_json).collect::<Vec<_>>(),
            }),
        }
    }
}

impl Outcome {
    /// [`Outcome::to_json`] as text, written directly for the outcomes a large batch is made
    /// of (one per record), without building a JSON tree first.
    pub fn to_json_text(&self) -> String {
        let mut text = String::new();
        self.write_json(&mut text);
        text
    }

    /// `{"<key>": [outcomes]}` as text, each outcome as [`Outcome::to_json`] gives it: the
    /// answer to a request that ran several commands.
    pub fn list_json_text(key: &str, outcomes: &[Outcome]) -> String {
        let mut text = String::new();
        Self::write_list(&mut text, key, outcomes);
        text
    }

    fn write_list(text: &mut String, key: &str, outcomes: &[Outcome]) {
        text.reserve(16 + outcomes.len() * 72);
        text.push_str("{\"");
        text.push_str(key);
        text.push_str("\":[");
        for (index, outcome) in outcomes.iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            outcome.write_json(text);
        }
        text.push_str("]}");
    }

    fn write_json(&self, text: &mut String) {
        use std::fmt::Write;
        match self {
            Self::Batch(outcomes) => Self::write_list(text, "results", outcomes),
            Self::Profile {
                id,
                created,
                merged,
            } => {
                // Ids are uuids and booleans are words: nothing here needs escaping.
                let _ = write!(
                    text,
                    "{{\"profile\":\"{id}\",\"created\":{created},\"merged\":["
                );
                for (index, absorbed) in merged.iter().enumerate() {
                    let separator = if index > 0 { "," } else { "" };
                    let _ = write!(text, "{separator}\"{absorbed}\"");
                }
                text.push_str("]}");
            }
            Self::Event {
                id,
                profile,
                profile_created,
            } => {
                let _ = write!(
                    text,
                    "{{\"event\":\"{id}\",\"profile\":\"{profile}\",\"created\":{profile_created}}}"
                );
            }
            Self::Unmerged { .. }
            | Self::SchemaChanged
            | Self::Definition { .. }
            | Self::Ticked { .. } => text.push_str(&self.to_json().to_string()),
        }
    }
}

impl UpsertProfile {
    /// An upsert of these identifiers from `source` that writes nothing yet.
    pub fn new(identifiers: Vec<Identifier>, source: SourceId) -> Self {
        Self {
            identifiers,
            source,
            attributes: Vec::new(),
            tags: Vec::new(),
            consents: Vec::new(),
        }
    }

    /// Builds an upsert from raw parts: identifiers as `(type, value)` pairs, attributes as
    /// JSON typed by the schema (`null` removes). Every dialect's upsert comes through here;
    /// the engine coerces the values to their declared types when it plans the write.
    /// `attributes` is a JSON object's entries: borrowed (`&map`) or owned, when the keys
    /// move into the command instead of being copied.
    pub fn from_raw_parts<'a, K, V>(
        identity: &IdentityConfig,
        identifiers: impl IntoIterator<Item = (&'a str, &'a str)>,
        attributes: impl IntoIterator<Item = (K, V)>,
        source: SourceId,
    ) -> Result<Self, EngineError>
    where
        K: AsRef<str> + Into<AttributeKey>,
        V: std::borrow::Borrow<Json>,
    {
        let identifiers = identifiers
            .into_iter()
            .map(|(kind, value)| identity.normalize(kind, value))
            .collect::<Result<_, _>>()?;
        let mut upsert = Self::new(identifiers, source);
        upsert.attributes = attribute_changes(attributes)?;
        Ok(upsert)
    }
}

/// The writes a JSON object of attributes asks for, in key order: values typed by their
/// shape, `null` removing. Refuses names [`validate_key`] refuses.
pub(super) fn attribute_changes<K, V>(
    attributes: impl IntoIterator<Item = (K, V)>,
) -> Result<Vec<(AttributeKey, AttributeChange)>, EngineError>
where
    K: AsRef<str> + Into<AttributeKey>,
    V: std::borrow::Borrow<Json>,
{
    attributes
        .into_iter()
        .map(|(key, value)| {
            validate_key(key.as_ref())?;
            let change = AttributeChange::from_json(key.as_ref(), value.borrow())?;
            Ok((key.into(), change))
        })
        .collect()
}
