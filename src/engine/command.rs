use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::EngineError;
use crate::identity::{Identifier, IdentityConfig};
use crate::model::{AttributeKey, ProfileId, SourceId, Value};
use crate::schema::{infer_value, validate_key};

/// A request to change the engine's state. Applied atomically: all of it or nothing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Find the profile the identifiers belong to, or create one, and write attributes.
    UpsertProfile(UpsertProfile),
    /// Add and remove manual tags of one profile.
    ChangeTags(ChangeTags),
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
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum RawCommand {
    UpsertProfile(RawUpsert),
    ChangeTags(RawChangeTags),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChangeTags {
    profile: String,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

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
    /// `{"upsertProfile": {"identities": {"email": ["a@b.c"]}, "attributes": {"name": "A"}, "source": "crm"}}`
    /// or `{"changeTags": {"profile": "<uuid>", "add": ["vip"], "remove": ["trial"]}}`.
    /// Identifiers are normalized and attributes typed here; nothing malformed gets through.
    pub fn from_json(text: &str, identity: &IdentityConfig) -> Result<Self, EngineError> {
        let raw: RawCommand = serde_json::from_str(text)
            .map_err(|error| EngineError::InvalidCommand(error.to_string()))?;
        match raw {
            RawCommand::UpsertProfile(upsert) => Ok(Self::UpsertProfile(UpsertProfile::from_raw(
                upsert, identity,
            )?)),
            RawCommand::ChangeTags(raw) => Ok(Self::ChangeTags(ChangeTags {
                profile: raw.profile.parse()?,
                add: raw.add,
                remove: raw.remove,
            })),
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
            panic!("not an upsert: {command:?}");
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
        let error =
            Command::from_json(r#"{"changeTags":{"profile":"nope"}}"#, &identity).unwrap_err();
        assert_eq!(error.code(), "model.invalid_id");
        let error = Command::from_json(r#"{"upsertProfile":{"attributes":{"a b":1}}}"#, &identity)
            .unwrap_err();
        assert_eq!(error.code(), "schema.invalid_key");
    }
}
