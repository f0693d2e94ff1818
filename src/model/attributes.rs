//! A profile's attribute values, kept compact: one vector sorted by source and key, each
//! entry a shared name and the written value. The engine interns the names, so a million
//! profiles with the same ten keys hold ten names, not ten million key strings.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{AttributeKey, AttributeValue, SourceId};

/// An attribute key on one source of record. Ordered by source, then key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct AttributeName {
    source: SourceId,
    key: AttributeKey,
}

impl AttributeName {
    /// The name of `key` on `source`.
    pub fn new(source: SourceId, key: impl Into<AttributeKey>) -> Self {
        Self {
            source,
            key: key.into(),
        }
    }

    /// The source of record.
    pub fn source(&self) -> &SourceId {
        &self.source
    }

    /// The attribute key.
    pub fn key(&self) -> &AttributeKey {
        &self.key
    }
}

type Entry = (Arc<AttributeName>, AttributeValue);

/// Typed attribute values per source of record, then per key, in that order. Serialized as
/// a map of sources to maps of keys to values, as the nested maps it replaces were.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes {
    entries: Vec<Entry>,
}

/// The values of one source, in key order.
#[derive(Clone, Copy, Debug)]
pub struct SourceAttributes<'a> {
    entries: &'a [Entry],
}

impl<'a> SourceAttributes<'a> {
    /// Keys with their values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a AttributeKey, &'a AttributeValue)> + 'a {
        self.entries.iter().map(|(name, value)| (&name.key, value))
    }

    /// The value of `key`, if this source has one.
    pub fn get(&self, key: &str) -> Option<&'a AttributeValue> {
        self.entries
            .binary_search_by(|(name, _)| name.key.as_str().cmp(key))
            .ok()
            .and_then(|position| self.entries.get(position))
            .map(|(_, value)| value)
    }

    /// How many keys this source has values for.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether this source has no values (never true for a source an [`Attributes`] lists).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> IntoIterator for SourceAttributes<'a> {
    type Item = (&'a AttributeKey, &'a AttributeValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, Entry>,
        fn(&'a Entry) -> (&'a AttributeKey, &'a AttributeValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        fn pair(entry: &Entry) -> (&AttributeKey, &AttributeValue) {
            (&entry.0.key, &entry.1)
        }
        self.entries.iter().map(pair)
    }
}

/// Sources with their values, in source order.
pub struct BySource<'a> {
    rest: &'a [Entry],
}

impl<'a> Iterator for BySource<'a> {
    type Item = (&'a SourceId, SourceAttributes<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let (first, _) = self.rest.first()?;
        let source = &first.source;
        let end = self
            .rest
            .iter()
            .position(|(name, _)| name.source != *source)
            .unwrap_or(self.rest.len());
        let (entries, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some((source, SourceAttributes { entries }))
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a SourceId, SourceAttributes<'a>);
    type IntoIter = BySource<'a>;

    fn into_iter(self) -> Self::IntoIter {
        BySource {
            rest: &self.entries,
        }
    }
}

impl Attributes {
    fn position(&self, source: &SourceId, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(name, _)| {
            (name.source.as_str(), name.key.as_str()).cmp(&(source.as_str(), key))
        })
    }

    /// The entries of `source`.
    fn source_range(&self, source: &SourceId) -> &[Entry] {
        let start = self
            .entries
            .partition_point(|(name, _)| name.source.as_str() < source.as_str());
        let rest = self.entries.get(start..).unwrap_or_default();
        let len = rest.partition_point(|(name, _)| name.source == *source);
        rest.get(..len).unwrap_or_default()
    }

    /// The value of `key` on `source`.
    pub fn value(&self, source: &SourceId, key: &str) -> Option<&AttributeValue> {
        self.position(source, key)
            .ok()
            .and_then(|position| self.entries.get(position))
            .map(|(_, value)| value)
    }

    /// The values of one source, if it has any.
    pub fn get(&self, source: &SourceId) -> Option<SourceAttributes<'_>> {
        let entries = self.source_range(source);
        (!entries.is_empty()).then_some(SourceAttributes { entries })
    }

    /// Whether `source` has any value.
    pub fn contains_key(&self, source: &SourceId) -> bool {
        !self.source_range(source).is_empty()
    }

    /// Every value with its source and key, in source, then key order.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceId, &AttributeKey, &AttributeValue)> {
        self.entries
            .iter()
            .map(|(name, value)| (&name.source, &name.key, value))
    }

    /// How many values there are over all sources.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets the value of `key` on `source`.
    pub fn insert(&mut self, source: &SourceId, key: &str, value: AttributeValue) {
        match self.position(source, key) {
            Ok(position) => {
                if let Some(entry) = self.entries.get_mut(position) {
                    entry.1 = value;
                }
            }
            Err(position) => self.insert_at(
                position,
                Arc::new(AttributeName::new(source.clone(), key)),
                value,
            ),
        }
    }

    /// Sets the value of an (interned) name.
    pub(crate) fn set(&mut self, name: &Arc<AttributeName>, value: AttributeValue) {
        match self.position(&name.source, &name.key) {
            Ok(position) => {
                if let Some(entry) = self.entries.get_mut(position) {
                    entry.1 = value;
                }
            }
            Err(position) => self.insert_at(position, Arc::clone(name), value),
        }
    }

    /// Inserts a new entry, growing the vector by a few entries at a time: profiles hold
    /// few values and millions of them, so doubling would waste more than it saves.
    fn insert_at(&mut self, position: usize, name: Arc<AttributeName>, value: AttributeValue) {
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve_exact((self.entries.len() / 4).max(2));
        }
        self.entries.insert(position, (name, value));
    }

    /// Removes the value of `key` on `source`, returning it.
    pub fn remove(&mut self, source: &SourceId, key: &str) -> Option<AttributeValue> {
        let position = self.position(source, key).ok()?;
        let (_, value) = self.entries.remove(position);
        Some(value)
    }

    /// Replaces every name with the engine's shared one.
    pub(crate) fn intern_names(&mut self, names: &mut AttributeNames) {
        for (name, _) in &mut self.entries {
            *name = names.share(name);
        }
    }
}

/// The engine's table of attribute names: one shared allocation per source and key.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttributeNames {
    by_source: FxHashMap<SourceId, FxHashMap<AttributeKey, Arc<AttributeName>>>,
}

impl AttributeNames {
    /// The shared name of `key` on `source`.
    pub(crate) fn intern(&mut self, source: &SourceId, key: &str) -> Arc<AttributeName> {
        if let Some(name) = self.by_source.get(source).and_then(|keys| keys.get(key)) {
            return Arc::clone(name);
        }
        let name = Arc::new(AttributeName::new(source.clone(), key));
        self.by_source
            .entry(source.clone())
            .or_default()
            .insert(key.to_owned(), Arc::clone(&name));
        name
    }

    /// The shared name equal to `name`.
    fn share(&mut self, name: &Arc<AttributeName>) -> Arc<AttributeName> {
        if let Some(shared) = self
            .by_source
            .get(&name.source)
            .and_then(|keys| keys.get(&name.key))
        {
            return Arc::clone(shared);
        }
        self.by_source
            .entry(name.source.clone())
            .or_default()
            .insert(name.key.clone(), Arc::clone(name));
        Arc::clone(name)
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.into_iter().count()))?;
        for (source, values) in self {
            map.serialize_entry(source, &values)?;
        }
        map.end()
    }
}

impl Serialize for SourceAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let nested = BTreeMap::<SourceId, BTreeMap<AttributeKey, AttributeValue>>::deserialize(
            deserializer,
        )?;
        let mut entries = Vec::with_capacity(nested.values().map(BTreeMap::len).sum());
        for (source, values) in nested {
            for (key, value) in values {
                entries.push((Arc::new(AttributeName::new(source.clone(), key)), value));
            }
        }
        Ok(Self { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Timestamp, Value};

    fn written(number: i64) -> AttributeValue {
        AttributeValue {
            value: Value::Integer(number),
            updated: Timestamp::from_micros(number),
        }
    }

    fn nested(
        attributes: &Attributes,
    ) -> BTreeMap<SourceId, BTreeMap<AttributeKey, AttributeValue>> {
        let mut nested: BTreeMap<SourceId, BTreeMap<AttributeKey, AttributeValue>> =
            BTreeMap::new();
        for (source, key, value) in attributes.iter() {
            nested
                .entry(source.clone())
                .or_default()
                .insert(key.clone(), value.clone());
        }
        nested
    }

    #[test]
    fn attributes_serialize_as_the_nested_maps_they_replace() {
        let mut attributes = Attributes::default();
        let (crm, app) = (SourceId::new("crm"), SourceId::new("app"));
        attributes.insert(&crm, "b", written(1));
        attributes.insert(&app, "z", written(2));
        attributes.insert(&crm, "a", written(3));
        attributes.insert(&crm, "b", written(4));
        let expected = nested(&attributes);
        assert_eq!(expected.len(), 2);
        assert_eq!(
            serde_json::to_string(&attributes).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
        assert_eq!(
            rmp_serde::to_vec_named(&attributes).unwrap(),
            rmp_serde::to_vec_named(&expected).unwrap()
        );
        let text = serde_json::to_string(&expected).unwrap();
        let read: Attributes = serde_json::from_str(&text).unwrap();
        assert_eq!(read, attributes);
        let sources: Vec<(&str, usize)> = attributes
            .into_iter()
            .map(|(source, values)| (source.as_str(), values.len()))
            .collect();
        assert_eq!(sources, [("app", 1), ("crm", 2)]);
    }

    #[test]
    fn values_are_found_set_and_removed_by_source_and_key() {
        let mut attributes = Attributes::default();
        let mut names = AttributeNames::default();
        let (crm, app) = (SourceId::new("crm"), SourceId::new("app"));
        attributes.set(&names.intern(&crm, "seats"), written(5));
        attributes.set(&names.intern(&app, "seats"), written(6));
        attributes.set(&names.intern(&crm, "seats"), written(7));
        assert_eq!(attributes.value(&crm, "seats"), Some(&written(7)));
        assert_eq!(
            attributes.get(&app).and_then(|v| v.get("seats")),
            Some(&written(6))
        );
        assert!(attributes.get(&SourceId::new("b")).is_none());
        assert_eq!(attributes.remove(&crm, "seats"), Some(written(7)));
        assert_eq!(attributes.remove(&crm, "seats"), None);
        assert!(!attributes.contains_key(&crm));
        assert!(attributes.contains_key(&app));
        assert_eq!(attributes.len(), 1);
    }

    #[test]
    fn interned_names_are_shared_between_profiles() {
        let mut names = AttributeNames::default();
        let source = SourceId::new("crm");
        let mut first = Attributes::default();
        first.insert(&source, "plan", written(1));
        first.intern_names(&mut names);
        let mut second = Attributes::default();
        second.set(&names.intern(&source, "plan"), written(2));
        let (Some((one, _)), Some((two, _))) = (first.entries.first(), second.entries.first())
        else {
            panic!("both hold a value");
        };
        assert!(Arc::ptr_eq(one, two));
    }
}
