//! Declarations: attributes with their types and limits, and sources of record.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::AttributeType;
use crate::model::{AttributeKey, SourceId};

/// The longest text a declared `string` attribute takes when its declaration names no limit
/// (FollowAnalytics' default of 256 Unicode characters).
pub const DEFAULT_STRING_LENGTH: u32 = 256;

/// The kinds of source of record (FollowAnalytics' SOR types).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// The source of one app's SDK.
    App,
    /// A source created by hand for an external system.
    #[default]
    Custom,
    /// The one global source that shared attributes live on.
    Global,
}

/// A declared source of record.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceDefinition {
    /// The source's identifier (`SOR_767yUpsMJoTWi0mz`).
    pub id: SourceId,
    /// Its display name.
    #[serde(default)]
    pub name: String,
    /// App, custom or global.
    #[serde(default)]
    pub kind: SourceKind,
}

/// The SHA-256 digest of an upload key issued for a source of record (FollowAnalytics' SOR
/// API keys). Only digests are recorded, never the keys; they are stored as 64 lowercase hex
/// digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct KeyDigest([u8; 32]);

impl KeyDigest {
    /// The digest of `key`.
    pub fn of(key: &str) -> Self {
        Self(Sha256::digest(key.as_bytes()).into())
    }

    /// Whether `candidate` hashes to this digest, compared in time independent of where they
    /// differ.
    pub fn matches(&self, candidate: &str) -> bool {
        let other = Self::of(candidate);
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
    }
}

impl Serialize for KeyDigest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let hex: String = self.0.iter().map(|byte| format!("{byte:02x}")).collect();
        serializer.serialize_str(&hex)
    }
}

impl<'de> Deserialize<'de> for KeyDigest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let hex = String::deserialize(deserializer)?;
        let invalid = || serde::de::Error::custom("a key digest is 64 lowercase hex digits");
        if hex.len() != 64 {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let lower_hex = |digit: &u8| digit.is_ascii_digit() || (b'a'..=b'f').contains(digit);
            if !pair.iter().all(lower_hex) {
                return Err(invalid());
            }
            let text = std::str::from_utf8(pair).map_err(|_| invalid())?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| invalid())?;
        }
        Ok(Self(bytes))
    }
}

/// The declaration of one attribute on one source: its type and the rules its values obey.
///
/// Stored records (MessagePack, positional) hold every field. Records written before that,
/// which left out empty field limits and an absent label, still read.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDefinition {
    /// The attribute name: letters, digits and underscores.
    pub key: AttributeKey,
    /// The declared type.
    #[serde(rename = "type")]
    pub value_type: AttributeType,
    /// The longest text, in Unicode characters: for `string` each value (256 when absent),
    /// for `set` the sum of all members, for `object` every nested text field.
    pub max_length: Option<u32>,
    /// Limits of nested text fields of an `object`, by field name (`street: 500`).
    pub field_max_lengths: BTreeMap<String, u32>,
    /// Once a profile has a value, it can be neither changed nor removed.
    pub immutable: bool,
    /// A predefined attribute cannot be disabled or unshared.
    pub predefined: bool,
    /// The display name.
    pub label: Option<String>,
}

/// The JSON form of [`AttributeDefinition`], as configurations and commands give it.
#[derive(Deserialize)]
#[serde(
    rename = "AttributeDefinition",
    rename_all = "camelCase",
    deny_unknown_fields
)]
struct AttributeDefinitionJson {
    key: AttributeKey,
    #[serde(rename = "type")]
    value_type: AttributeType,
    #[serde(default)]
    max_length: Option<u32>,
    #[serde(default)]
    field_max_lengths: BTreeMap<String, u32>,
    #[serde(default)]
    immutable: bool,
    #[serde(default)]
    predefined: bool,
    #[serde(default)]
    label: Option<String>,
}

impl<'de> Deserialize<'de> for AttributeDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            // A document tree may hold either form: JSON's map, or a stored record read into
            // a tree first (`crate::formats`), which is positional.
            deserializer.deserialize_any(StoredVisitor)
        } else {
            deserializer.deserialize_seq(StoredVisitor)
        }
    }
}

impl From<AttributeDefinitionJson> for AttributeDefinition {
    fn from(json: AttributeDefinitionJson) -> Self {
        Self {
            key: json.key,
            value_type: json.value_type,
            max_length: json.max_length,
            field_max_lengths: json.field_max_lengths,
            immutable: json.immutable,
            predefined: json.predefined,
            label: json.label,
        }
    }
}

/// Reads the JSON form (a map), or the positional stored form with or without the fields
/// older records left out.
struct StoredVisitor;

/// The fourth stored field: the nested limits, or (in older records that left empty limits
/// out) already `immutable`.
/// Read as serde's untagged enums are, without their buffered form.
enum LimitsOrImmutable {
    Limits(BTreeMap<String, u32>),
    Immutable(bool),
}

impl<'de> Deserialize<'de> for LimitsOrImmutable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use crate::formats::{Doc, Stored, Tree};
        let tree = Tree::deserialize(deserializer)?;
        BTreeMap::deserialize(Doc::<Stored>::new(tree.clone()))
            .map(Self::Limits)
            .or_else(|_| bool::deserialize(Doc::<Stored>::new(tree)).map(Self::Immutable))
            .map_err(|_: serde_json::Error| {
                serde::de::Error::custom(
                    "data did not match any variant of untagged enum LimitsOrImmutable",
                )
            })
    }
}

impl<'de> serde::de::Visitor<'de> for StoredVisitor {
    type Value = AttributeDefinition;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a stored attribute definition")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        AttributeDefinitionJson::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            .map(Self::Value::from)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let missing = |field: &str| A::Error::custom(format!("missing field `{field}`"));
        let key = seq.next_element()?.ok_or_else(|| missing("key"))?;
        let value_type = seq.next_element()?.ok_or_else(|| missing("type"))?;
        let max_length = seq.next_element()?.ok_or_else(|| missing("maxLength"))?;
        let (field_max_lengths, immutable) = match seq.next_element()? {
            Some(LimitsOrImmutable::Limits(limits)) => (
                limits,
                seq.next_element()?.ok_or_else(|| missing("immutable"))?,
            ),
            Some(LimitsOrImmutable::Immutable(immutable)) => (BTreeMap::new(), immutable),
            None => return Err(missing("immutable")),
        };
        let predefined = seq.next_element()?.ok_or_else(|| missing("predefined"))?;
        let label = seq.next_element::<Option<String>>()?.flatten();
        Ok(AttributeDefinition {
            key,
            value_type,
            max_length,
            field_max_lengths,
            immutable,
            predefined,
            label,
        })
    }
}

impl AttributeDefinition {
    /// A plain declaration of `key` as `value_type`, with default limits.
    pub fn new(key: impl Into<AttributeKey>, value_type: AttributeType) -> Self {
        Self {
            key: key.into(),
            value_type,
            max_length: None,
            field_max_lengths: BTreeMap::new(),
            immutable: false,
            predefined: false,
            label: None,
        }
    }
}

/// A declaration as the schema holds it: the definition and its state on its source.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DeclaredAttribute {
    /// What was declared.
    pub definition: AttributeDefinition,
    /// Values sent to a disabled attribute are refused.
    pub disabled: bool,
    /// The key is shared: values go to the global source.
    pub shared: bool,
}

/// The `schema` part of the configuration: sources and attributes that exist from the start,
/// and the limit on tags.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SchemaConfig {
    /// Sources of record declared from the start.
    #[serde(default)]
    pub sources: Vec<SourceDefinition>,
    /// Attributes declared from the start, by the source they are declared on.
    #[serde(default)]
    pub attributes: BTreeMap<SourceId, Vec<AttributeDefinition>>,
    /// The most characters the auto tags and, separately, the manual tags of one profile may
    /// add up to (Contacthub: 1000).
    #[serde(default)]
    pub tags_max_length: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_digest_matches_only_its_key_and_reads_back_from_hex() {
        let digest = KeyDigest::of("k-1");
        assert!(digest.matches("k-1"));
        assert!(!digest.matches("k-2"));
        let text = serde_json::to_string(&digest).unwrap();
        assert_eq!(text.len(), 66, "64 hex digits, quoted: {text}");
        assert_eq!(serde_json::from_str::<KeyDigest>(&text).unwrap(), digest);
        assert!(serde_json::from_str::<KeyDigest>("\"abc\"").is_err());
        assert!(serde_json::from_str::<KeyDigest>(&text.to_uppercase()).is_err());
        assert!(serde_json::from_str::<KeyDigest>(&format!("\"{}\"", "+f".repeat(32))).is_err());
    }

    #[test]
    fn declarations_round_trip_the_positional_stored_form() {
        // Stored records are MessagePack with structs as arrays: a field left out when empty
        // would shift every later one, so none may be skipped.
        let mut labelled = AttributeDefinition::new("fav_team", AttributeType::String);
        labelled.label = Some("Team".to_owned());
        for definition in [
            AttributeDefinition::new("fav_team", AttributeType::String),
            labelled,
        ] {
            let bytes = rmp_serde::to_vec(&definition).unwrap();
            let read: AttributeDefinition = rmp_serde::from_slice(&bytes).unwrap();
            assert_eq!(read, definition);
        }
    }
}
