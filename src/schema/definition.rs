//! Declarations: attributes with their types and limits, and sources of record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// The declaration of one attribute on one source: its type and the rules its values obey.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeDefinition {
    /// The attribute name: letters, digits and underscores.
    pub key: AttributeKey,
    /// The declared type.
    #[serde(rename = "type")]
    pub value_type: AttributeType,
    /// The longest text, in Unicode characters: for `string` each value (256 when absent),
    /// for `set` the sum of all members, for `object` every nested text field.
    #[serde(default)]
    pub max_length: Option<u32>,
    /// Limits of nested text fields of an `object`, by field name (`street: 500`).
    #[serde(default)]
    pub field_max_lengths: BTreeMap<String, u32>,
    /// Once a profile has a value, it can be neither changed nor removed.
    #[serde(default)]
    pub immutable: bool,
    /// A predefined attribute cannot be disabled or unshared.
    #[serde(default)]
    pub predefined: bool,
    /// The display name.
    #[serde(default)]
    pub label: Option<String>,
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
