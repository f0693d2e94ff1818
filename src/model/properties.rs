//! The typed properties of an event.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Value;

/// The typed properties of an event, by name: a list sorted by name, each name once. An
/// event has a handful; a B-tree map would give each event a node with room for eleven, an
/// allocation of several hundred bytes. Stored and serialized as a map in name order, as a
/// `BTreeMap` was, so stored records read back unchanged.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Properties(Vec<(String, Value)>);

impl Properties {
    /// No properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of the property `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name)
            .ok()
            .and_then(|at| self.0.get(at))
            .map(|(_, value)| value)
    }

    /// Sets the property `name`, returning the value it replaced.
    pub fn insert(&mut self, name: String, value: Value) -> Option<Value> {
        match self.position(&name) {
            Ok(at) => self
                .0
                .get_mut(at)
                .map(|(_, old)| std::mem::replace(old, value)),
            Err(at) => {
                self.0.insert(at, (name, value));
                None
            }
        }
    }

    /// The properties in name order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &Value)> {
        self.0.iter().map(|(name, value)| (name, value))
    }

    /// The properties as a JSON object, each value as [`Value::to_json`] writes it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(crate::formats::json_map(
            self.iter()
                .map(|(name, value)| (name.clone(), value.to_json())),
        ))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.as_str().cmp(name))
    }
}

/// Properties given in any order; of a name given twice, the last value counts (as inserting
/// them one by one would).
impl FromIterator<(String, Value)> for Properties {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(entries: I) -> Self {
        Self(sorted_by_name(entries.into_iter().collect()))
    }
}

/// Named entries as a `BTreeMap` would hold them, in one vector: sorted by name, and of a
/// name given twice, the last value (as inserting them one by one would keep).
fn sorted_by_name<V>(mut entries: Vec<(String, V)>) -> Vec<(String, V)> {
    if !entries.is_sorted_by(|a, b| a.0 < b.0) {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
    }
    entries
}

impl<const N: usize> From<[(String, Value); N]> for Properties {
    fn from(entries: [(String, Value); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl From<BTreeMap<String, Value>> for Properties {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Self(map.into_iter().collect())
    }
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SortedEntries::deserialize(deserializer).map(|entries| Self(entries.0))
    }
}

/// A map read into one vector as a `BTreeMap` would hold it ([`sorted_by_name`]): for maps
/// that are read once and walked once, without a B-tree's nodes.
pub(crate) struct SortedEntries<V>(pub(crate) Vec<(String, V)>);

impl<V> Default for SortedEntries<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> From<Vec<(String, V)>> for SortedEntries<V> {
    fn from(entries: Vec<(String, V)>) -> Self {
        Self(sorted_by_name(entries))
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SortedEntries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = SortedEntries<V>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
                while let Some(entry) = map.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(SortedEntries(sorted_by_name(entries)))
            }
        }

        deserializer.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Value {
        Value::String(value.to_owned())
    }

    #[test]
    fn properties_keep_name_order_and_the_last_value_of_a_name() {
        let properties: Properties = [
            ("page".to_owned(), text("/b")),
            ("amount".to_owned(), Value::Number(2.0)),
            ("page".to_owned(), text("/c")),
        ]
        .into();
        let names: Vec<&String> = properties.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["amount", "page"]);
        assert_eq!(properties.get("page"), Some(&text("/c")));
        assert_eq!(properties.get("missing"), None);
        assert_eq!(properties.len(), 2);
    }

    #[test]
    fn insert_replaces_and_keeps_order() {
        let mut properties = Properties::new();
        assert!(properties.is_empty());
        assert_eq!(properties.insert("b".into(), text("1")), None);
        assert_eq!(properties.insert("a".into(), text("2")), None);
        assert_eq!(properties.insert("b".into(), text("3")), Some(text("1")));
        let entries: Vec<(&String, &Value)> = properties.iter().collect();
        assert_eq!(
            entries,
            [(&"a".to_owned(), &text("2")), (&"b".to_owned(), &text("3"))]
        );
    }

    #[test]
    fn they_serialize_as_the_map_they_replaced() {
        let map = BTreeMap::from([
            ("z".to_owned(), Value::Number(1.5)),
            ("a".to_owned(), text("x")),
        ]);
        let properties = Properties::from(map.clone());
        assert_eq!(
            rmp_serde::to_vec(&properties).unwrap(),
            rmp_serde::to_vec(&map).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&properties).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let bytes = rmp_serde::to_vec(&map).unwrap();
        let back: Properties = crate::formats::from_msgpack(&bytes).unwrap();
        assert_eq!(back, properties);
    }
}
