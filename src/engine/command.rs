use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::event_command::NewEvent;
use super::EngineError;
use crate::identity::{Identifier, IdentityConfig};
use crate::model::{AttributeKey, EventId, ProfileId, SourceId, Value};
use crate::schema::{infer_value, validate_key};
use crate::segments::SegmentDefinition;
use crate::traits::TraitDefinition;

/// A request to change the engine's state. Applied atomically: all of it or nothing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Find the profile the identifiers belong to, or create one, and write attributes.
    UpsertProfile(UpsertProfile),
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

/// Find-or-create by identifiers, then add the new identifiers and write the attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct UpsertProfile {
    /// Normalized identifiers; at least one.
    pub identifiers: Vec<Identifier>,
    /// The source of record the attributes are written to.
    pub source: SourceId,
    /// Attribute writes; `None` removes the value.
    pub attributes: Vec<(AttributeKey, Option<Value>)>,
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
    },
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
}

impl Outcome {
    /// The profile a profile write or an event landed on.
    pub fn profile_id(&self) -> Option<ProfileId> {
        match self {
            Self::Profile { id, .. } => Some(*id),
            Self::Event { profile, .. } => Some(*profile),
            Self::Definition { .. } | Self::Ticked { .. } => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum RawCommand {
    UpsertProfile(RawUpsert),
    RecordEvent(Json),
    DefineTrait(Json),
    DeleteTrait(RawName),
    DefineSegment(Json),
    SetSegmentActive(RawSegmentActive),
    DeleteSegment(RawSystemTitle),
    Tick(RawTick),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawName {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSegmentActive {
    system_title: String,
    active: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawSystemTitle {
    system_title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTick {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpsert {
    #[serde(default)]
    identities: Map<String, Json>,
    #[serde(default)]
    attributes: Map<String, Json>,
    #[serde(default)]
    source: Option<String>,
}

impl Command {
    /// Parses the JSON form of a command, as the JS package sends it:
    /// - `{"upsertProfile": {"identities": {"email": ["a@b.c"]}, "attributes": {"name": "A"}, "source": "crm"}}`
    /// - `{"recordEvent": {"identities": {"email": "a@b.c"}, "name": "purchase", "context": "ECOMMERCE",
    ///   "mode": "ACTIVE", "happened": "2025-03-21T10:00:00Z", "properties": {"amount": 12.5}}}`
    ///   (or `"profileId"` instead of `"identities"`; optional `id`, `sent`, `schemaVersion`)
    /// - `{"defineTrait": {"name": "ltv", "aggregate": "sum", "event": "purchase", "property": "amount"}}`
    /// - `{"deleteTrait": {"name": "ltv"}}`
    /// - `{"defineSegment": {"systemTitle": "vip", "name": "VIP", "rule": {"op": "hasTag", "tag": "vip"}}}`
    /// - `{"setSegmentActive": {"systemTitle": "vip", "active": false}}`, `{"deleteSegment": {"systemTitle": "vip"}}`
    /// - `{"tick": {}}`
    ///
    /// Identifiers are normalized, attributes and properties typed, rules and definitions
    /// checked here; nothing malformed gets through, and a bad node of a rule is named by its
    /// JSON path (`$.defineSegment.rule.rules[1].value`).
    pub fn from_json(text: &str, identity: &IdentityConfig) -> Result<Self, EngineError> {
        let raw: RawCommand = serde_json::from_str(text)
            .map_err(|error| EngineError::InvalidCommand(error.to_string()))?;
        match raw {
            RawCommand::UpsertProfile(upsert) => Ok(Self::UpsertProfile(UpsertProfile::from_raw(
                upsert, identity,
            )?)),
            RawCommand::RecordEvent(event) => Ok(Self::RecordEvent(NewEvent::from_json(
                &event,
                "$.recordEvent",
                identity,
            )?)),
            RawCommand::DefineTrait(definition) => Ok(Self::DefineTrait(
                TraitDefinition::from_json(&definition, "$.defineTrait")?,
            )),
            RawCommand::DeleteTrait(RawName { name }) => Ok(Self::DeleteTrait { name }),
            RawCommand::DefineSegment(definition) => Ok(Self::DefineSegment(
                SegmentDefinition::from_json(&definition, "$.defineSegment")?,
            )),
            RawCommand::SetSegmentActive(RawSegmentActive {
                system_title,
                active,
            }) => Ok(Self::SetSegmentActive {
                system_title,
                active,
            }),
            RawCommand::DeleteSegment(RawSystemTitle { system_title }) => {
                Ok(Self::DeleteSegment { system_title })
            }
            RawCommand::Tick(RawTick {}) => Ok(Self::Tick),
        }
    }
}

impl UpsertProfile {
    /// Builds an upsert from raw parts: identifiers as `(type, value)` pairs, attributes as
    /// JSON typed by the schema (`null` removes). Every dialect's upsert comes through here.
    pub fn from_raw_parts<'a>(
        identity: &IdentityConfig,
        identifiers: impl IntoIterator<Item = (&'a str, &'a str)>,
        attributes: &Map<String, Json>,
        source: SourceId,
    ) -> Result<Self, EngineError> {
        let identifiers = identifiers
            .into_iter()
            .map(|(kind, value)| identity.normalize(kind, value))
            .collect::<Result<_, _>>()?;
        let mut typed = Vec::with_capacity(attributes.len());
        for (key, value) in attributes {
            validate_key(key)?;
            typed.push((key.clone(), infer_value(key, value)?));
        }
        Ok(Self {
            identifiers,
            source,
            attributes: typed,
        })
    }

    fn from_raw(raw: RawUpsert, identity: &IdentityConfig) -> Result<Self, EngineError> {
        let mut identifiers = Vec::new();
        for (kind, values) in &raw.identities {
            let values = match values {
                Json::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            for value in values {
                let Json::String(text) = value else {
                    return Err(EngineError::InvalidCommand(format!(
                        "identities.{kind}: values must be strings"
                    )));
                };
                identifiers.push((kind.as_str(), text.as_str()));
            }
        }
        let source = raw
            .source
            .map_or_else(SourceId::default_source, SourceId::new);
        Self::from_raw_parts(identity, identifiers, &raw.attributes, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_command_is_parsed_normalized_and_typed() {
        let command = Command::from_json(
            r#"{"upsertProfile":{"identities":{"email":[" A@B.C "],"crm":"X1"},"attributes":{"visits":3,"gone":null}}}"#,
            &IdentityConfig::default(),
        )
        .unwrap();
        let Command::UpsertProfile(upsert) = command else {
            panic!("parsed as another command");
        };
        let identifiers: Vec<_> = upsert.identifiers.iter().map(ToString::to_string).collect();
        assert_eq!(identifiers, ["crm:X1", "email:a@b.c"]);
        assert_eq!(
            upsert.attributes,
            [
                ("gone".to_owned(), None),
                ("visits".to_owned(), Some(Value::Integer(3)))
            ]
        );
        assert_eq!(upsert.source.as_str(), "default");
    }

    #[test]
    fn malformed_commands_are_rejected_with_a_code() {
        let identity = IdentityConfig::default();
        for text in [
            "",
            "[]",
            "{\"dropAll\":{}}",
            "{\"upsertProfile\":{\"identities\":{\"email\":[1]}}}",
        ] {
            let error = Command::from_json(text, &identity).unwrap_err();
            assert_eq!(error.code(), "engine.invalid_command", "{text}");
        }
        let error = Command::from_json(r#"{"upsertProfile":{"attributes":{"a b":1}}}"#, &identity)
            .unwrap_err();
        assert_eq!(error.code(), "schema.invalid_key");
    }
}
