//! A profile's identifiers, in the order they were added. Most profiles hold a few and are
//! searched by scanning them; a profile that gathers many (a merge policy joining people
//! transitively can build one with tens of thousands) also keeps a hash set of them, so
//! asking whether it holds one, as the identity index does on every lookup, stays constant
//! time instead of growing with the profile.

use std::ops::Deref;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::identity::Identifier;

/// Past this many identifiers a profile keeps a hash set of them beside the list.
const INDEXED_FROM: usize = 32;

/// Identifiers in the order they were added (reads go through `Deref` to the slice).
/// Serialized exactly as the list.
#[derive(Clone, Default)]
pub struct Identities {
    list: Vec<Identifier>,
    /// The same identifiers, once there are more than [`INDEXED_FROM`].
    set: Option<Box<FxHashSet<Identifier>>>,
}

impl Identities {
    /// Whether `identifier` is one of them.
    pub fn contains(&self, identifier: &Identifier) -> bool {
        match &self.set {
            Some(set) => set.contains(identifier),
            None => self.list.contains(identifier),
        }
    }

    /// Room for exactly `additional` more identifiers, for a caller that knows how many a
    /// profile is about to gain.
    pub fn reserve_exact(&mut self, additional: usize) {
        self.list.reserve_exact(additional);
    }

    /// Adds `identifier` last, growing the list one entry at a time: a profile holds a few
    /// identifiers and there are millions of profiles, so doubling's spare room would cost
    /// more than the reallocations.
    pub fn push(&mut self, identifier: Identifier) {
        if self.list.len() < INDEXED_FROM {
            self.list.reserve_exact(1);
        }
        if let Some(set) = &mut self.set {
            set.insert(identifier.clone());
        }
        self.list.push(identifier);
        self.index_when_many();
    }

    /// Adds each identifier last, in order.
    pub fn extend(&mut self, identifiers: impl IntoIterator<Item = Identifier>) {
        for identifier in identifiers {
            self.push(identifier);
        }
    }

    /// Keeps only the identifiers `keep` accepts, in order.
    pub fn retain(&mut self, keep: impl FnMut(&Identifier) -> bool) {
        let before = self.list.len();
        self.list.retain(keep);
        if self.list.len() != before {
            self.set = None;
            self.index_when_many();
        }
    }

    /// Removes every identifier.
    pub fn clear(&mut self) {
        self.list.clear();
        self.set = None;
    }

    fn index_when_many(&mut self) {
        if self.set.is_none() && self.list.len() > INDEXED_FROM {
            self.set = Some(Box::new(self.list.iter().cloned().collect()));
        }
    }
}

impl Deref for Identities {
    type Target = [Identifier];

    fn deref(&self) -> &[Identifier] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Identities {
    type Item = &'a Identifier;
    type IntoIter = std::slice::Iter<'a, Identifier>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl From<Vec<Identifier>> for Identities {
    fn from(list: Vec<Identifier>) -> Self {
        let mut identities = Self { list, set: None };
        identities.index_when_many();
        identities
    }
}

impl FromIterator<Identifier> for Identities {
    fn from_iter<I: IntoIterator<Item = Identifier>>(identifiers: I) -> Self {
        Self::from(identifiers.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for Identities {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl Eq for Identities {}

impl std::fmt::Debug for Identities {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.list.fmt(formatter)
    }
}

impl Serialize for Identities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Identities {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Identifier>::deserialize(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentityConfig;

    fn email(number: usize) -> Identifier {
        IdentityConfig::default()
            .normalize("email", &format!("user{number}@example.com"))
            .unwrap()
    }

    #[test]
    fn membership_is_the_same_with_few_and_many_identifiers() {
        let mut identities = Identities::default();
        for number in 0..100 {
            identities.push(email(number));
            assert_eq!(identities.len(), number + 1);
            assert!(identities.contains(&email(number)));
            assert!(!identities.contains(&email(number + 1)));
            assert_eq!(identities.set.is_some(), identities.len() > INDEXED_FROM);
        }
        identities.retain(|identifier| identifier != &email(50));
        assert!(!identities.contains(&email(50)));
        assert!(identities.contains(&email(51)));
        identities.retain(|identifier| identifier.value() < "user2");
        let kept: Vec<&Identifier> = identities.iter().collect();
        assert_eq!(kept.len(), identities.len());
        assert!(identities
            .iter()
            .all(|identifier| identities.contains(identifier)));
        assert!(!identities.contains(&email(99)));
        assert_eq!(identities.set.is_some(), identities.len() > INDEXED_FROM);
        identities.clear();
        assert!(identities.is_empty() && identities.set.is_none());
        assert!(!identities.contains(&email(0)));
    }

    #[test]
    fn identities_serialize_as_the_list_in_order() {
        let list: Vec<Identifier> = (0..40).rev().map(email).collect();
        let identities = Identities::from(list.clone());
        assert!(identities.set.is_some());
        let text = serde_json::to_string(&identities).unwrap();
        assert_eq!(text, serde_json::to_string(&list).unwrap());
        let read: Identities = serde_json::from_str(&text).unwrap();
        assert_eq!(read, identities);
        assert!(read.contains(&email(7)));
        assert_eq!(read.first(), Some(&email(39)));
    }
}
