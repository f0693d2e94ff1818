use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::{Attributes, Identities, ProfileId, Rare, Timestamp, Value};
use crate::formats::json_map;

/// The name of an attribute (`name`, `subscription_id`). The schema decides which names are
/// valid for which dialect.
pub type AttributeKey = String;

/// A source of record: where an attribute value came from (FollowAnalytics' SOR, a
/// Contacthub node). [`SourceId::DEFAULT`] is the source of writes that name none. The name
/// is shared, so cloning a source id only counts a reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(Arc<str>);

impl SourceId {
    /// The source of writes that name none.
    pub const DEFAULT: &'static str = "default";

    /// A source by name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Arc::from(name.into()))
    }

    /// The source of writes that name none.
    pub fn default_source() -> Self {
        static DEFAULT: OnceLock<SourceId> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Self(Arc::from(Self::DEFAULT)))
            .clone()
    }

    /// The source's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SourceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One attribute value with the time it was written, so conflicts resolve by recency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeValue {
    /// The typed value.
    pub value: Value,
    /// When it was written.
    pub updated: Timestamp,
}

/// Tags of a profile: those the engine or a rule set, and those a user set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tags {
    /// Tags set automatically.
    pub auto: BTreeSet<String>,
    /// Tags set by hand or through an API.
    pub manual: BTreeSet<String>,
}

/// Which of a profile's two tag sets a tag belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagKind {
    /// Set automatically.
    Auto,
    /// Set by hand or through an API.
    Manual,
}

impl Tags {
    /// The tags of one kind.
    pub fn of(&self, kind: TagKind) -> &BTreeSet<String> {
        match kind {
            TagKind::Auto => &self.auto,
            TagKind::Manual => &self.manual,
        }
    }

    /// The tags of one kind, to change.
    pub fn of_mut(&mut self, kind: TagKind) -> &mut BTreeSet<String> {
        match kind {
            TagKind::Auto => &mut self.auto,
            TagKind::Manual => &mut self.manual,
        }
    }
}

/// One customer: everything the engine knows about a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The stable public id.
    pub id: ProfileId,
    /// Normalized identifiers, in the order they were added.
    pub identities: Identities,
    /// Typed attribute values per source of record, then per key.
    pub attributes: Attributes,
    /// Automatic and manual tags (rarely any: boxed once there are).
    pub tags: Rare<Tags>,
    /// Consents by purpose (`marketing`, `profiling`), each a typed value (rarely any).
    pub consents: Rare<BTreeMap<String, Value>>,
    /// When the profile was created.
    pub created: Timestamp,
    /// When the profile last changed.
    pub updated: Timestamp,
    /// How many changes the profile has seen; starts at 1.
    pub version: u64,
    /// Ids of profiles merged into this one; they keep resolving here (rarely any).
    pub aliases: Rare<Vec<ProfileId>>,
}

impl Profile {
    /// An empty profile created at `at`.
    pub fn new(id: ProfileId, at: Timestamp) -> Self {
        Self {
            id,
            identities: Identities::default(),
            attributes: Attributes::default(),
            tags: Rare::default(),
            consents: Rare::default(),
            created: at,
            updated: at,
            version: 1,
            aliases: Rare::default(),
        }
    }

    /// A copy of the profile with an empty list of identifiers, for planning a write that
    /// never reads it.
    pub(crate) fn clone_without_identities(&self) -> Self {
        Self {
            id: self.id,
            identities: Identities::default(),
            attributes: self.attributes.clone(),
            tags: self.tags.clone(),
            consents: self.consents.clone(),
            created: self.created,
            updated: self.updated,
            version: self.version,
            aliases: self.aliases.clone(),
        }
    }

    /// The value of `key` on one source.
    pub fn source_attribute(&self, source: &SourceId, key: &str) -> Option<AttributeValue> {
        self.attributes.value(source, key)
    }

    /// The value of `key` across sources: the most recently written one.
    pub fn attribute(&self, key: &str) -> Option<Value> {
        self.attributes
            .values_of(key)
            .reduce(|newest, written| {
                if written.updated >= newest.updated {
                    written
                } else {
                    newest
                }
            })
            .map(|written| written.value)
    }

    /// Every attribute key with its current value across sources, in key order: per key the
    /// most recently written value, the first source's on a tie.
    pub fn merged_attributes(&self) -> Vec<(&str, Value)> {
        let mut values: Vec<Option<AttributeValue>> = Vec::with_capacity(self.attributes.len());
        let mut newest: BTreeMap<&str, usize> = BTreeMap::new();
        for (position, (_, key, written)) in self.attributes.iter().enumerate() {
            let held = newest.entry(key.as_str()).or_insert(position);
            let newer = values
                .get(*held)
                .and_then(Option::as_ref)
                .is_some_and(|kept| written.updated > kept.updated);
            if newer {
                *held = position;
            }
            values.push(Some(written));
        }
        newest
            .into_iter()
            .filter_map(|(key, position)| {
                let written = values.get_mut(position)?.take()?;
                Some((key, written.value))
            })
            .collect()
    }

    /// The engine's own JSON view of the profile, as the JS package and `/cdp/v1/` show it:
    /// identifiers grouped by type, attributes with their current value across sources.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value as Json};
        let mut identities = Map::new();
        for identifier in &self.identities {
            if let Json::Array(values) = identities
                .entry(identifier.kind().to_owned())
                .or_insert_with(|| Json::Array(Vec::new()))
            {
                values.push(Json::String(identifier.value().to_owned()));
            }
        }
        let attributes = json_map(
            self.merged_attributes()
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value.to_json())),
        );
        let consents = json_map(
            self.consents
                .iter()
                .map(|(purpose, value)| (purpose.clone(), value.to_json())),
        );
        json!({
            "id": self.id.to_string(),
            "identities": identities,
            "attributes": attributes,
            "tags": {"auto": self.tags.auto, "manual": self.tags.manual},
            "consents": consents,
            "created": self.created.to_string(),
            "updated": self.updated.to_string(),
            "version": self.version,
            "aliases": self.aliases.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }
}
