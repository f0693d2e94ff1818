//! The JSON form of commands, as the JS package sends them. Parsing never panics: anything
//! that is not a known command shape is [`EngineError::InvalidCommand`].

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::command::attribute_changes;
use super::record_json::{
    command_from_text, read_whole, upsert_from_body, EventSeed, Text, UpsertSeed,
};
use super::{
    BatchError, ChangeTags, Command, EngineError, ExecuteError, Execution, NewEvent, TagWrite,
    UpsertProfile, WriteAttributes,
};
use crate::formats::{Doc, Received, Tree};
use crate::identity::IdentityConfig;
use crate::model::{ProfileId, SortedEntries, SourceId, TagKind};
use crate::schema::{
    infer_value, validate_key, AttributeChange, AttributeDefinition, SourceDefinition,
};
use crate::segments::SegmentDefinition;
use crate::traits::TraitDefinition;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum RawCommand {
    Batch(Vec<RawCommand>),
    UpsertProfile(RawUpsert),
    RecordEvent(Json),
    DefineTrait(Json),
    DeleteTrait {
        name: String,
    },
    DefineSegment(Json),
    #[serde(rename_all = "camelCase")]
    SetSegmentActive {
        system_title: String,
        active: bool,
    },
    #[serde(rename_all = "camelCase")]
    DeleteSegment {
        system_title: String,
    },
    Tick {},
    ChangeTags {
        profile: String,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        remove: Vec<String>,
    },
    WriteAttributes {
        profile: String,
        #[serde(default = "SourceId::default_source")]
        source: SourceId,
        #[serde(default)]
        declare: Vec<AttributeDefinition>,
        #[serde(default)]
        attributes: Entries,
    },
    MergeProfiles {
        survivor: String,
        absorbed: String,
    },
    UnmergeProfile {
        absorbed: String,
    },
    DeclareSource(SourceDefinition),
    RenameSource {
        source: SourceId,
        name: String,
    },
    DeleteSource {
        source: SourceId,
    },
    DisableSource {
        source: SourceId,
    },
    EnableSource {
        source: SourceId,
    },
    DeclareAttribute {
        #[serde(default = "SourceId::default_source")]
        source: SourceId,
        definition: AttributeDefinition,
    },
    UpdateAttribute {
        #[serde(default = "SourceId::default_source")]
        source: SourceId,
        definition: AttributeDefinition,
    },
    DeleteAttribute {
        #[serde(default = "SourceId::default_source")]
        source: SourceId,
        key: String,
    },
    DisableAttribute {
        #[serde(default = "SourceId::default_source")]
        source: SourceId,
        key: String,
    },
    EnableAttribute {
        #[serde(default = "SourceId::default_source")]
        source: SourceId,
        key: String,
    },
    ShareAttribute {
        key: String,
    },
    UnshareAttribute {
        key: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawUpsert {
    #[serde(default)]
    identities: Entries,
    #[serde(default)]
    attributes: Entries,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    set_actions: Vec<RawSetAction>,
    #[serde(default)]
    tags: RawTags,
    #[serde(default)]
    remove_tags: RawTags,
    #[serde(default)]
    consents: Map<String, Json>,
}

/// A command's identities and attributes: read once and walked once, so held as a sorted
/// vector (what a `serde_json::Map`, a B-tree, held, without its nodes).
type Entries = SortedEntries<Json>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTags {
    #[serde(default)]
    auto: Vec<String>,
    #[serde(default)]
    manual: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetAction {
    key: String,
    action: SetAction,
    #[serde(default)]
    value: Json,
}

#[derive(Deserialize)]
enum SetAction {
    #[serde(rename = "ADD")]
    Add,
    #[serde(rename = "REMOVE")]
    Remove,
    #[serde(rename = "DEL")]
    Delete,
}

impl Command {
    /// Parses the JSON form of a command, as the JS package sends it, e.g.
    /// `{"upsertProfile": {"identities": {"email": ["a@b.c"]}, "attributes": {"name": "A"}, "source": "crm"}}`.
    /// Identifiers are normalized and attribute values typed by their JSON shape here; the
    /// engine coerces them to declared types when it plans the command. The shapes of every
    /// command are listed in `docs/config.md`.
    /// A batch (`{"batch": [...]}`) is refused here: it runs through [`Execution`].
    pub fn from_json(text: &str, identity: &IdentityConfig) -> Result<Self, EngineError> {
        let raw: RawCommand = crate::formats::from_json_str(text)
            .map_err(|error| EngineError::InvalidCommand(error.to_string()))?;
        Self::from_raw(raw, identity)
    }

    fn from_raw(raw: RawCommand, identity: &IdentityConfig) -> Result<Self, EngineError> {
        Ok(match raw {
            RawCommand::Batch(_) => {
                return Err(EngineError::InvalidCommand(
                    "a batch cannot be part of a batch or of another command".to_owned(),
                ))
            }
            RawCommand::UpsertProfile(upsert) => Self::UpsertProfile(upsert.into_upsert(identity)?),
            RawCommand::RecordEvent(event) => {
                Self::RecordEvent(NewEvent::from_json(&event, "$.recordEvent", identity)?)
            }
            RawCommand::DefineTrait(definition) => {
                Self::DefineTrait(TraitDefinition::from_json(&definition, "$.defineTrait")?)
            }
            RawCommand::DeleteTrait { name } => Self::DeleteTrait { name },
            RawCommand::DefineSegment(definition) => Self::DefineSegment(
                SegmentDefinition::from_json(&definition, "$.defineSegment")?,
            ),
            RawCommand::SetSegmentActive {
                system_title,
                active,
            } => Self::SetSegmentActive {
                system_title,
                active,
            },
            RawCommand::DeleteSegment { system_title } => Self::DeleteSegment { system_title },
            RawCommand::Tick {} => Self::Tick,
            RawCommand::ChangeTags {
                profile,
                add,
                remove,
            } => Self::ChangeTags(ChangeTags {
                profile: profile.parse::<ProfileId>()?,
                add,
                remove,
            }),
            RawCommand::WriteAttributes {
                profile,
                source,
                declare,
                attributes,
            } => Self::WriteAttributes(WriteAttributes {
                profile: profile.parse::<ProfileId>()?,
                source,
                declare,
                attributes: attribute_changes(attributes.0)?,
            }),
            RawCommand::MergeProfiles { survivor, absorbed } => Self::MergeProfiles {
                survivor: survivor.parse::<ProfileId>()?,
                absorbed: absorbed.parse::<ProfileId>()?,
            },
            RawCommand::UnmergeProfile { absorbed } => Self::UnmergeProfile {
                absorbed: absorbed.parse::<ProfileId>()?,
            },
            RawCommand::DeclareSource(definition) => Self::DeclareSource(definition),
            RawCommand::RenameSource { source, name } => Self::RenameSource { source, name },
            RawCommand::DeleteSource { source } => Self::DeleteSource { source },
            RawCommand::DisableSource { source } => Self::DisableSource {
                source,
                disabled: true,
            },
            RawCommand::EnableSource { source } => Self::DisableSource {
                source,
                disabled: false,
            },
            RawCommand::DeclareAttribute { source, definition } => {
                Self::DeclareAttribute { source, definition }
            }
            RawCommand::UpdateAttribute { source, definition } => {
                Self::UpdateAttribute { source, definition }
            }
            RawCommand::DeleteAttribute { source, key } => Self::DeleteAttribute { source, key },
            RawCommand::DisableAttribute { source, key } => Self::DisableAttribute {
                source,
                key,
                disabled: true,
            },
            RawCommand::EnableAttribute { source, key } => Self::DisableAttribute {
                source,
                key,
                disabled: false,
            },
            RawCommand::ShareAttribute { key } => Self::ShareAttribute { key },
            RawCommand::UnshareAttribute { key } => Self::UnshareAttribute { key },
        })
    }
}

/// A batch's envelope with its records unparsed: read only to find which record of a batch
/// that failed to parse is malformed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    batch: Vec<Json>,
}

impl Execution {
    /// Parses what `cdp.execute` sends: one command in its JSON form ([`Command::from_json`]),
    /// or a batch `{"batch": [command, …]}` of such commands (not batches). A malformed or
    /// refused record is reported with its index; nothing is applied then.
    pub fn from_json(text: &str, identity: &IdentityConfig) -> Result<Self, ExecuteError> {
        if let Some(commands) = read_batch_streamed(text, identity) {
            return Ok(Self::Batch(commands));
        }
        if let Some(command) = command_from_text(text, identity) {
            return Ok(Self::One(command));
        }
        let tree =
            crate::formats::json_text_tree(text).map_err(|error| locate_malformed(text, &error))?;
        match crate::formats::from_json_tree(tree) {
            Ok(raw) => Self::from_raw(raw, identity),
            Err(error) => Err(locate_malformed(text, &error)),
        }
    }
}

/// A batch read record by record: each record is converted to its command as soon as it is
/// read (upserts and events straight from their text, anything else through its tree), so a
/// batch never holds the trees of all its records at once (for 100,000 upserts, tens of
/// megabytes of fresh memory to fault in). `None` for anything else and for any batch with an
/// error, which [`Execution::from_json`] then reads the one way every error is reported, so
/// all ways give the same answers.
///
/// Upserts are first read where the parser stands; an upsert of a shape that reader leaves
/// to the ordinary way (tags, set actions, nested values) sends the batch to a second
/// reading, where each upsert body is first taken whole as text and read on its own, through
/// its tree if need be, so one such record does not send the whole batch through trees.
fn read_batch_streamed(text: &str, identity: &IdentityConfig) -> Option<Vec<Command>> {
    read_batch(text, identity, true).or_else(|| read_batch(text, identity, false))
}

/// One reading of [`read_batch_streamed`].
fn read_batch(
    text: &str,
    identity: &IdentityConfig,
    upserts_in_place: bool,
) -> Option<Vec<Command>> {
    let record = RecordSeed {
        identity,
        upserts_in_place,
    };
    read_whole(text, |reader| {
        serde::Deserializer::deserialize_map(reader, BatchVisitor { record })
    })
}

/// Reads `{"batch": [...]}`, and only that.
struct BatchVisitor<'a> {
    record: RecordSeed<'a>,
}

impl<'de> serde::de::Visitor<'de> for BatchVisitor<'_> {
    type Value = Vec<Command>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a batch")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let not_a_batch = || serde::de::Error::custom("not a batch");
        if map.next_key::<std::borrow::Cow<'de, str>>()?.as_deref() != Some("batch") {
            return Err(not_a_batch());
        }
        let commands = map.next_value_seed(RecordsSeed {
            record: self.record,
        })?;
        match map.next_key::<serde::de::IgnoredAny>()? {
            Some(_) => Err(not_a_batch()),
            None => Ok(commands),
        }
    }
}

/// Reads a batch's records, converting each to its command as it is read.
struct RecordsSeed<'a> {
    record: RecordSeed<'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for RecordsSeed<'_> {
    type Value = Vec<Command>;

    fn deserialize<D: serde::Deserializer<'de>>(self, data: D) -> Result<Self::Value, D::Error> {
        data.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordsSeed<'_> {
    type Value = Vec<Command>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a list of commands")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut commands = Vec::new();
        while let Some(command) = seq.next_element_seed(self.record)? {
            commands.push(command);
        }
        Ok(commands)
    }
}

/// Reads one record of a batch into its command: an event straight from the text
/// ([`EventSeed`]), an upsert straight from the text ([`UpsertSeed`]) or, in the second
/// reading, from its body's text when it can ([`upsert_from_body`]), anything else through
/// its tree. A record of more than one command, an event of another shape, or in the first
/// reading an upsert of another shape, is an error, which sends the batch on to the next way.
#[derive(Clone, Copy)]
struct RecordSeed<'a> {
    identity: &'a IdentityConfig,
    upserts_in_place: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Command;

    fn deserialize<D: serde::Deserializer<'de>>(self, data: D) -> Result<Self::Value, D::Error> {
        data.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordSeed<'_> {
    type Value = Command;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a command")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Command, A::Error> {
        let Some(Text(tag)) = map.next_key::<Text<'de>>()? else {
            return Err(serde::de::Error::custom("an empty command"));
        };
        // An event read straight from the text (any other shape sends the whole batch the
        // ordinary way); an upsert straight from the text, or from its body's text when it
        // can, else through the body's tree, as any other command.
        let body = match tag.as_ref() {
            "recordEvent" => Ok(Command::RecordEvent(map.next_value_seed(EventSeed {
                identity: self.identity,
            })?)),
            "upsertProfile" if self.upserts_in_place => {
                Ok(Command::UpsertProfile(map.next_value_seed(UpsertSeed {
                    identity: self.identity,
                })?))
            }
            "upsertProfile" => {
                let body: &'de serde_json::value::RawValue = map.next_value()?;
                match upsert_from_body(body.get(), self.identity) {
                    Some(upsert) => Ok(Command::UpsertProfile(upsert)),
                    None => Err(crate::formats::json_text_tree(body.get())
                        .map_err(serde::de::Error::custom)?),
                }
            }
            _ => Err(map.next_value::<Tree>()?),
        };
        if map.next_key::<serde::de::IgnoredAny>()?.is_some() {
            return Err(serde::de::Error::custom("more than one command"));
        }
        let tree = match body {
            Ok(command) => return Ok(command),
            Err(body) => Tree::Map(vec![(Tree::Text(tag.into_owned()), body)]),
        };
        RawCommand::deserialize(Doc::<Received>::new(tree))
            .map_err(|error| error.to_string())
            .and_then(|raw| {
                Command::from_raw(raw, self.identity).map_err(|error| error.to_string())
            })
            .map_err(serde::de::Error::custom)
    }
}

impl Execution {
    /// [`Execution::from_json`] from any serde data format (the wasm binding reads a JS
    /// object this way, without JSON text). A record that does not parse is reported without
    /// its index; one that is refused when converted, with it.
    pub fn from_serde<'de, D: serde::Deserializer<'de>>(
        data: D,
        identity: &IdentityConfig,
    ) -> Result<Self, ExecuteError> {
        let raw: RawCommand =
            crate::formats::from_deserializer(data).map_err(EngineError::InvalidCommand)?;
        Self::from_raw(raw, identity)
    }

    fn from_raw(raw: RawCommand, identity: &IdentityConfig) -> Result<Self, ExecuteError> {
        match raw {
            RawCommand::Batch(records) => records
                .into_iter()
                .enumerate()
                .map(|(index, record)| {
                    Command::from_raw(record, identity).map_err(|error| BatchError { index, error })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Batch)
                .map_err(ExecuteError::from),
            one => Ok(Self::One(Command::from_raw(one, identity)?)),
        }
    }
}

/// The error for text that does not parse: for a batch, the first record that does not parse
/// on its own and its index; otherwise the parser's message.
fn locate_malformed(text: &str, error: &crate::formats::JsonError) -> ExecuteError {
    let record = crate::formats::from_json_str::<RawBatch>(text)
        .ok()
        .and_then(|batch| {
            batch
                .batch
                .into_iter()
                .enumerate()
                .find_map(|(index, record)| {
                    crate::formats::from_json_value::<RawCommand>(&record)
                        .err()
                        .map(|error| (index, error))
                })
        });
    match record {
        Some((index, record_error)) => BatchError {
            index,
            error: EngineError::InvalidCommand(record_error.to_string()),
        }
        .into(),
        None => EngineError::InvalidCommand(error.to_string()).into(),
    }
}

impl RawUpsert {
    fn into_upsert(self, identity: &IdentityConfig) -> Result<UpsertProfile, EngineError> {
        let mut identifiers = Vec::new();
        for (kind, values) in &self.identities.0 {
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
        let source = self
            .source
            .map_or_else(SourceId::default_source, SourceId::new);
        let mut upsert =
            UpsertProfile::from_raw_parts(identity, identifiers, self.attributes.0, source)?;
        for action in self.set_actions {
            validate_key(&action.key)?;
            let value = infer_value(&action.key, &action.value)?;
            let change = match (action.action, value) {
                (SetAction::Add, Some(value)) => AttributeChange::AddToSet(value),
                (SetAction::Remove, Some(value)) => AttributeChange::RemoveFromSet(value),
                (SetAction::Delete, _) => AttributeChange::ClearSet,
                (SetAction::Add | SetAction::Remove, None) => {
                    return Err(EngineError::InvalidCommand(format!(
                        "setActions.{}: ADD and REMOVE need a value",
                        action.key
                    )))
                }
            };
            upsert.attributes.push((action.key, change));
        }
        for (tags, present) in [(self.tags, true), (self.remove_tags, false)] {
            for (kind, names) in [(TagKind::Auto, tags.auto), (TagKind::Manual, tags.manual)] {
                upsert
                    .tags
                    .extend(names.into_iter().map(|tag| TagWrite { kind, tag, present }));
            }
        }
        for (purpose, value) in &self.consents {
            upsert
                .consents
                .push((purpose.clone(), infer_value(purpose, value)?));
        }
        Ok(upsert)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::Value;

    /// What the tree path makes of `text`: the one every error goes through.
    fn through_the_tree(text: &str) -> Result<Execution, ExecuteError> {
        let identity = IdentityConfig::default();
        match crate::formats::from_json_str(text) {
            Ok(raw) => Execution::from_raw(raw, &identity),
            Err(error) => Err(locate_malformed(text, &error)),
        }
    }

    #[test]
    fn batches_read_record_by_record_equal_the_tree_path() {
        let identity = IdentityConfig::default();
        for text in [
            r#"{"batch":[]}"#,
            r#" { "batch" : [ {"upsertProfile":{"identities":{"email":[" A@B.C "],"crm":"X1"},"attributes":{"visits":3,"gone":null,"ltv":12.5,"vip":true,"tags":["a","b"]}}}, {"tick":{}} ] } "#,
            r#"{"b\u0061tch":[{"changeTags":{"profile":"0123456789ab4def8123456789abcdef","add":["x"]}},{"setSegmentActive":{"systemTitle":"s","active":false}}]}"#,
            r#"{"batch":[{"recordEvent":{"identities":{"email":["S1@Example.com"]},"name":"viewedPage","happened":"2026-11-01T10:00:00.000Z","properties":{"sequence":1,"o":{"k":[null]}}}},{"upsertProfile":{"identities":{"email":"a@b.c"}}},{"recordEvent":{"profileId":"0123456789ab4def8123456789abcdef","name":"buy","context":"ECOMMERCE","mode":"PASSIVE"}}]}"#,
        ] {
            let streamed = read_batch_streamed(text, &identity)
                .unwrap_or_else(|| panic!("not read record by record: {text}"));
            assert_eq!(Execution::Batch(streamed), through_the_tree(text).unwrap());
            assert_eq!(
                Execution::from_json(text, &identity).unwrap(),
                through_the_tree(text).unwrap()
            );
        }
    }

    #[test]
    fn batches_with_an_error_or_an_uncommon_event_are_left_to_the_tree_path_and_answer_as_it_does()
    {
        let identity = IdentityConfig::default();
        let upsert = r#"{"upsertProfile":{"identities":{"email":"a@b.c"}}}"#;
        for text in [
            format!(r#"{{"batch":[{upsert},{{"noSuchCommand":{{}}}}]}}"#),
            format!(r#"{{"batch":[{upsert},{{"batch":[]}}]}}"#),
            format!(r#"{{"batch":[{upsert}],"batch":[{upsert}]}}"#),
            format!(r#"{{"batch":[{upsert}],"extra":1}}"#),
            format!(r#"{{"batch":[{upsert},{{"upsertProfile":{{"identities":{{"email":5}}}}}}]}}"#),
            format!(
                r#"{{"batch":[{upsert},{{"recordEvent":{{"identities":{{"email":"a@b.c"}},"name":"x","context":"MARS"}}}}]}}"#
            ),
            r#"{"batch":[{"recordEvent":{"identities":{"email":"a@b.c"},"name":"x"},"tick":{}}]}"#
                .to_owned(),
            // Valid, but not the common shape: a repeated property (a JSON value keeps the last).
            format!(
                r#"{{"batch":[{upsert},{{"recordEvent":{{"identities":{{"email":"a@b.c"}},"name":"x","properties":{{"a":1,"a":2}}}}}}]}}"#
            ),
            format!(r#"{{"batch":[{upsert}]}} trailing"#),
            format!(r#"{{"batch":[{upsert},"#),
            upsert.to_owned(),
        ] {
            assert!(read_batch_streamed(&text, &identity).is_none(), "{text}");
            assert_eq!(
                format!("{:?}", Execution::from_json(&text, &identity)),
                format!("{:?}", through_the_tree(&text)),
                "{text}"
            );
        }
    }

    #[test]
    fn one_event_record_is_read_straight_as_the_ordinary_way() {
        let identity = IdentityConfig::default();
        let event = r#"{"identities":{"email":" A@B.C "},"name":"buy","happened":"2026-11-01T10:00:00Z","properties":{"amount":12.5,"sku":["a","b"]}}"#;
        let straight = format!(r#"{{"recordEvent":{event}}}"#);
        assert!(matches!(
            command_from_text(&straight, &identity),
            Some(Command::RecordEvent(_))
        ));
        assert_eq!(
            Execution::from_json(&straight, &identity).unwrap(),
            through_the_tree(&straight).unwrap()
        );
        for text in [
            format!(r#"{{"recordEvent":{event},"tick":{{}}}}"#),
            format!(r#"{{"recordEvent":{event}}} trailing"#),
            r#"{"recordEvent":{"identities":{"email":"a@b.c"},"name":"x","mode":"SLEEPY"}}"#
                .to_owned(),
        ] {
            assert!(command_from_text(&text, &identity).is_none(), "{text}");
            assert_eq!(
                format!("{:?}", Execution::from_json(&text, &identity)),
                format!("{:?}", through_the_tree(&text)),
                "{text}"
            );
        }
    }

    /// Both ways of reading an upsert record: straight from its text, and the ordinary way.
    fn both_upserts(text: &str) -> (Option<UpsertProfile>, Result<UpsertProfile, String>) {
        let identity = IdentityConfig::default();
        let quick = match command_from_text(text, &identity) {
            Some(Command::UpsertProfile(upsert)) => Some(upsert),
            Some(other) => panic!("not an upsert: {other:?}"),
            None => None,
        };
        let slow = match Command::from_json(text, &identity) {
            Ok(Command::UpsertProfile(upsert)) => Ok(upsert),
            Ok(other) => panic!("not an upsert: {other:?}"),
            Err(error) => Err(error.to_string()),
        };
        (quick, slow)
    }

    #[test]
    fn common_upserts_read_straight_from_the_text_as_the_ordinary_way() {
        for text in [
            r#"{"upsertProfile":{"identities":{"email":["Person1@Example.com"]},"attributes":{"name":"Person 1","age":19,"country":"SE","plan":"gold","spend":1.25,"optIn":true}}}"#,
            r#"{"upsertProfile":{"attributes":{"z":null,"a":-4,"f":-0.5,"e":1e300,"big":9223372036854775807,"t":false,"l":["x","y"],"none":[]},"identities":{"phone":"+4512345678","email":[" A@B.C ","d@e.f"]}}}"#,
            r#" { "upsertProfile" : { "identities" : { "em\u0061il" : "\u00c5se@b.dk" } , "attributes" : { "n\u00e6vn" : "\"quoted\"\n" } } } "#,
            r#"{"upsertProfile":{"identities":{"crm":"X1"},"source":"SOR_1"}}"#,
            r#"{"upsertProfile":{"identities":{"crm":"X1"},"source":null,"attributes":{}}}"#,
            r#"{"upsertProfile":{"identities":{"crm":"X1"},"attributes":{"b":1,"a":2,"b":3}}}"#,
        ] {
            let (quick, slow) = both_upserts(text);
            assert!(quick.is_some(), "read straight: {text}");
            let slow = slow.unwrap();
            assert_eq!(quick.as_ref(), Some(&slow), "{text}");
            // In a batch, it is read straight too, where the parser stands, to the same
            // command.
            let batch = format!(r#"{{"batch":[{text},{text}]}}"#);
            let in_place = read_batch(&batch, &IdentityConfig::default(), true);
            let expected = vec![Command::UpsertProfile(slow.clone()); 2];
            assert_eq!(in_place, Some(expected), "{batch}");
        }
    }

    #[test]
    fn upserts_the_ordinary_way_might_refuse_or_read_otherwise_are_left_to_it() {
        for text in [
            r#"{"upsertProfile":[]}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"}},"tick":{}}"#,
            r#"{"upsertProfile":{"attributes":{"a":1}}}"#,
            r#"{"upsertProfile":{"identities":{}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c","email":"d@e.f"}}}"#,
            r#"{"upsertProfile":{"identities":{"email":[1]}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"identities":{"email":"a@b.c"}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":null}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":[1]}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{" lead":1}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{"n":18446744073709551615}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{"l":[1,"a",null]}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{"l":["a",null]}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"source":["S"]}}"#,
            r#"{"upsertProfile":{"identities":{"email":true}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{"o":{"k":1}}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"}}} trailing"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"source":5}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"tags":{"manual":["vip"]}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"bogus":1}}"#,
        ] {
            assert_eq!(
                both_upserts(text).0,
                None,
                "left to the ordinary way: {text}"
            );
        }
    }

    #[test]
    fn a_batch_with_upserts_of_other_shapes_is_read_again_body_by_body_not_as_a_tree() {
        let identity = IdentityConfig::default();
        let common = r#"{"upsertProfile":{"identities":{"email":"a@b.c"},"attributes":{"n":1}}}"#;
        for other in [
            r#"{"upsertProfile":{"identities":{"email":"d@e.f"},"tags":{"manual":["vip"]}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"d@e.f"},"attributes":{"o":{"k":[1,null]}}}}"#,
            r#"{"upsertProfile":{"identities":{"email":"d@e.f"},"setActions":[{"key":"s","action":"ADD","value":"x"}]}}"#,
        ] {
            let text = format!(r#"{{"batch":[{common},{other},{common}]}}"#);
            assert_eq!(read_batch(&text, &identity, true), None, "{text}");
            let streamed = read_batch_streamed(&text, &identity)
                .unwrap_or_else(|| panic!("not read record by record: {text}"));
            assert_eq!(Execution::Batch(streamed), through_the_tree(&text).unwrap());
        }
    }

    fn upsert_field() -> impl Strategy<Value = String> {
        let value = prop_oneof![
            Just("null".to_owned()),
            Just("false".to_owned()),
            Just("\"\"".to_owned()),
            Just("\"SOR_1\"".to_owned()),
            Just("\" A@B.dk \"".to_owned()),
            (-5i64..5).prop_map(|n| n.to_string()),
            Just("2.5".to_owned()),
            Just("18446744073709551615".to_owned()),
            Just("[\"a@b.dk\", \"C@D.dk\"]".to_owned()),
            Just("[\"a@b.dk\", 3]".to_owned()),
            Just("{}".to_owned()),
            Just("{\"email\": \"x@y.dk\"}".to_owned()),
            Just("{\"email\": [\"x@y.dk\"], \"crm\": \"C1\"}".to_owned()),
            Just("{\"age\": 3, \"name\": \"N\", \"gone\": null}".to_owned()),
            Just("{\"trail \": 1, \"in side\": 2}".to_owned()),
            Just("{\"l\": [\"a\", \"b\"], \"m\": [], \"age\": 2.5}".to_owned()),
            Just(
                "{\"l\": [1, null], \"o\": {\"k\": 1, \"k\": null}, \"age\": 1, \"age\": 2}"
                    .to_owned()
            ),
        ];
        let key = prop_oneof![
            Just("identities"),
            Just("attributes"),
            Just("source"),
            Just("tags"),
            Just("other"),
        ];
        (key, value).prop_map(|(key, value)| format!("\"{key}\": {value}"))
    }

    proptest::proptest! {
        #[test]
        fn whatever_upsert_is_read_straight_reads_as_the_ordinary_way_reads_it(
            fields in proptest::collection::vec(upsert_field(), 0..4),
        ) {
            let text = format!(
                r#"{{"upsertProfile": {{"identities": {{"email": "base@x.dk"}}, {}}}}}"#,
                fields.join(", ")
            ).replace(", }", "}");
            let (quick, slow) = both_upserts(&text);
            if let Some(quick) = quick {
                proptest::prop_assert_eq!(Ok(quick), slow);
            }
        }
    }

    #[test]
    fn upsert_command_is_parsed_normalized_and_typed() {
        let command = Command::from_json(
            r#"{"upsertProfile":{"identities":{"email":[" A@B.C "],"crm":"X1"},"attributes":{"visits":3,"gone":null}}}"#,
            &IdentityConfig::default(),
        )
        .unwrap();
        let Command::UpsertProfile(upsert) = command else {
            panic!("not an upsert: {command:?}");
        };
        let identifiers: Vec<_> = upsert.identifiers.iter().map(ToString::to_string).collect();
        assert_eq!(identifiers, ["crm:X1", "email:a@b.c"]);
        assert_eq!(
            upsert.attributes,
            [
                ("gone".to_owned(), AttributeChange::Remove),
                ("visits".to_owned(), AttributeChange::Set(Value::Integer(3)))
            ]
        );
        assert_eq!(upsert.source.as_str(), "default");
    }

    #[test]
    fn set_actions_tags_and_consents_are_parsed() {
        let command = Command::from_json(
            r#"{"upsertProfile":{"identities":{"email":"a@b.c"},
                "setActions":[{"key":"hobbies","action":"ADD","value":"Sport"},{"key":"hobbies","action":"DEL"}],
                "tags":{"manual":["vip"]},"removeTags":{"auto":["new"]},"consents":{"marketing":true}}}"#,
            &IdentityConfig::default(),
        )
        .unwrap();
        let Command::UpsertProfile(upsert) = command else {
            panic!("not an upsert: {command:?}");
        };
        assert_eq!(
            upsert.attributes,
            [
                (
                    "hobbies".to_owned(),
                    AttributeChange::AddToSet(Value::String("Sport".into()))
                ),
                ("hobbies".to_owned(), AttributeChange::ClearSet)
            ]
        );
        assert_eq!(upsert.tags.len(), 2);
        assert_eq!(
            upsert.consents,
            [("marketing".to_owned(), Some(Value::Boolean(true)))]
        );
    }

    #[test]
    fn schema_and_merge_commands_are_parsed() {
        let identity = IdentityConfig::default();
        let id = ProfileId::random();
        for text in [
            r#"{"declareSource":{"id":"SOR_1","name":"CRM","kind":"custom"}}"#.to_owned(),
            r#"{"declareAttribute":{"source":"SOR_1","definition":{"key":"is_valid","type":"boolean"}}}"#.to_owned(),
            r#"{"disableAttribute":{"source":"SOR_1","key":"is_valid"}}"#.to_owned(),
            r#"{"shareAttribute":{"key":"is_valid"}}"#.to_owned(),
            format!(
                r#"{{"writeAttributes":{{"profile":"{id}","declare":[{{"key":"age","type":"Integer"}}],"attributes":{{"age":"8","gone":null}}}}}}"#
            ),
            format!(r#"{{"unmergeProfile":{{"absorbed":"{id}"}}}}"#),
        ] {
            assert!(Command::from_json(&text, &identity).is_ok(), "{text}");
        }
        let error =
            Command::from_json(r#"{"unmergeProfile":{"absorbed":"nope"}}"#, &identity).unwrap_err();
        assert_eq!(error.code(), "model.invalid_id");
        let error =
            Command::from_json(r#"{"changeTags":{"profile":"nope"}}"#, &identity).unwrap_err();
        assert_eq!(error.code(), "model.invalid_id");
    }

    #[test]
    fn malformed_commands_are_rejected_with_a_code() {
        let identity = IdentityConfig::default();
        for text in [
            "",
            "[]",
            "{\"dropAll\":{}}",
            "{\"upsertProfile\":{\"identities\":{\"email\":[1]}}}",
            "{\"upsertProfile\":{\"setActions\":[{\"key\":\"a\",\"action\":\"ADD\"}]}}",
            "{\"upsertProfile\":{\"setActions\":[{\"key\":\"a\",\"action\":\"PUT\",\"value\":1}]}}",
        ] {
            let error = Command::from_json(text, &identity).unwrap_err();
            assert_eq!(error.code(), "engine.invalid_command", "{text}");
        }
        let error = Command::from_json(r#"{"upsertProfile":{"attributes":{" a":1}}}"#, &identity)
            .unwrap_err();
        assert_eq!(error.code(), "schema.invalid_key");
    }
}
