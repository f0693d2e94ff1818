//! A part of a profile that almost every profile leaves empty (tags, consents, aliases), held
//! as one pointer: empty costs 8 bytes instead of the 24 of a map or vector, and a million
//! profiles carry no empty collections. Reading goes through `Deref` to the collection (an
//! empty one when absent), so call sites read it as the collection itself; the first write
//! through `DerefMut` allocates it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ProfileId, Value};

/// A collection with a shared empty instance to read when a [`Rare`] holds none.
pub trait Empty: Default + PartialEq + 'static {
    /// The empty value.
    fn empty() -> &'static Self;
}

/// A collection that is usually empty, boxed only once it holds something. Serialized exactly
/// as the collection it stands for.
#[derive(Clone, Default)]
pub struct Rare<T>(Option<Box<T>>);

impl<T: Empty> Rare<T> {
    /// Holds `value`, or nothing when it is empty.
    pub fn new(value: T) -> Self {
        if value == T::default() {
            Self(None)
        } else {
            Self(Some(Box::new(value)))
        }
    }

    /// The collection, taken out; `self` is left empty.
    pub fn take(&mut self) -> T {
        self.0.take().map(|boxed| *boxed).unwrap_or_default()
    }
}

impl<T: Empty> Deref for Rare<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0.as_deref().unwrap_or_else(|| T::empty())
    }
}

impl<T: Empty> DerefMut for Rare<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: Empty> PartialEq for Rare<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Empty + Eq> Eq for Rare<T> {}

impl<T: Empty + fmt::Debug> fmt::Debug for Rare<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: Empty + Serialize> Serialize for Rare<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de, T: Empty + Deserialize<'de>> Deserialize<'de> for Rare<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::new)
    }
}

impl<'a, T: Empty> IntoIterator for &'a Rare<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        (**self).into_iter()
    }
}

impl<const N: usize> PartialEq<[ProfileId; N]> for Rare<Vec<ProfileId>> {
    fn eq(&self, other: &[ProfileId; N]) -> bool {
        self.as_slice() == other
    }
}

impl Empty for Vec<ProfileId> {
    fn empty() -> &'static Self {
        static EMPTY: Vec<ProfileId> = Vec::new();
        &EMPTY
    }
}

impl Empty for BTreeMap<String, Value> {
    fn empty() -> &'static Self {
        static EMPTY: BTreeMap<String, Value> = BTreeMap::new();
        &EMPTY
    }
}

impl Empty for super::Tags {
    fn empty() -> &'static Self {
        static EMPTY: super::Tags = super::Tags {
            auto: BTreeSet::new(),
            manual: BTreeSet::new(),
        };
        &EMPTY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unallocated_and_equal_to_an_emptied_one() {
        let mut aliases: Rare<Vec<ProfileId>> = Rare::default();
        assert!(aliases.0.is_none() && aliases.is_empty());
        let id = ProfileId::random();
        aliases.push(id);
        assert_eq!(aliases, [id]);
        let emptied = {
            let mut emptied = aliases.clone();
            emptied.clear();
            emptied
        };
        assert!(emptied.0.is_some());
        assert_eq!(emptied, Rare::default());
        assert_ne!(aliases, emptied);
        assert_eq!(aliases.take(), vec![id]);
        assert!(aliases.0.is_none());
    }

    #[test]
    fn serializes_as_the_collection_and_reads_empty_as_absent() {
        let mut consents: Rare<BTreeMap<String, Value>> = Rare::default();
        consents.insert("marketing".to_owned(), Value::Boolean(true));
        let plain: BTreeMap<String, Value> = (*consents).clone();
        assert_eq!(
            rmp_serde::to_vec_named(&consents).unwrap(),
            rmp_serde::to_vec_named(&plain).unwrap()
        );
        let text = serde_json::to_string(&consents).unwrap();
        assert_eq!(text, serde_json::to_string(&plain).unwrap());
        let read: Rare<BTreeMap<String, Value>> = serde_json::from_str(&text).unwrap();
        assert_eq!(read, consents);
        let none: Rare<BTreeMap<String, Value>> = serde_json::from_str("{}").unwrap();
        assert!(none.0.is_none());
    }
}
