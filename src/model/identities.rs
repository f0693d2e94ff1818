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
    list: List,
}

/// Most profiles hold one identifier (the one that created them): it is kept inline, without
/// an allocation of its own. A few are a vector searched by scanning; past
/// [`INDEXED_FROM`] the vector has a hash set beside it. One word of tag, so a profile's
/// identities take no more room than a vector and an optional set did.
#[derive(Clone)]
enum List {
    One(Identifier),
    Few(Vec<Identifier>),
    Many(Box<Indexed>),
}

#[derive(Clone)]
struct Indexed {
    list: Vec<Identifier>,
    set: FxHashSet<Identifier>,
}

impl Default for List {
    fn default() -> Self {
        Self::Few(Vec::new())
    }
}

impl List {
    /// The list that holds `list`: inline for one, indexed past [`INDEXED_FROM`].
    fn of(mut list: Vec<Identifier>) -> Self {
        if list.len() > INDEXED_FROM {
            let set = list.iter().cloned().collect();
            return Self::Many(Box::new(Indexed { list, set }));
        }
        if list.len() == 1 {
            if let Some(one) = list.pop() {
                return Self::One(one);
            }
        }
        Self::Few(list)
    }

    fn as_slice(&self) -> &[Identifier] {
        match self {
            Self::One(identifier) => std::slice::from_ref(identifier),
            Self::Few(list) => list,
            Self::Many(indexed) => &indexed.list,
        }
    }
}

impl Identities {
    /// Whether `identifier` is one of them.
    pub fn contains(&self, identifier: &Identifier) -> bool {
        match &self.list {
            List::One(one) => one == identifier,
            List::Few(list) => list.contains(identifier),
            List::Many(indexed) => indexed.set.contains(identifier),
        }
    }

    /// Room for exactly `additional` more identifiers, for a caller that knows how many a
    /// profile is about to gain. One identifier into none needs no room: it goes inline.
    pub fn reserve_exact(&mut self, additional: usize) {
        match &mut self.list {
            List::Few(list) if list.is_empty() && additional <= 1 => {}
            List::Few(list) => list.reserve_exact(additional),
            List::One(one) if additional > 0 => {
                let mut list = Vec::with_capacity(1 + additional);
                list.push(one.clone());
                self.list = List::Few(list);
            }
            List::One(_) => {}
            List::Many(indexed) => indexed.list.reserve_exact(additional),
        }
    }

    /// Adds `identifier` last, growing the list one entry at a time: a profile holds a few
    /// identifiers and there are millions of profiles, so doubling's spare room would cost
    /// more than the reallocations.
    pub fn push(&mut self, identifier: Identifier) {
        match &mut self.list {
            List::Few(list) if list.capacity() == 0 => self.list = List::One(identifier),
            List::Few(list) if list.len() < INDEXED_FROM => {
                list.reserve_exact(1);
                list.push(identifier);
            }
            List::Few(list) => {
                let mut list = std::mem::take(list);
                list.push(identifier);
                self.list = List::of(list);
            }
            List::One(one) => self.list = List::Few(vec![one.clone(), identifier]),
            List::Many(indexed) => {
                indexed.set.insert(identifier.clone());
                indexed.list.push(identifier);
            }
        }
    }

    /// Adds each identifier last, in order.
    pub fn extend(&mut self, identifiers: impl IntoIterator<Item = Identifier>) {
        for identifier in identifiers {
            self.push(identifier);
        }
    }

    /// Keeps only the identifiers `keep` accepts, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Identifier) -> bool) {
        match &mut self.list {
            List::One(one) => {
                if !keep(one) {
                    self.list = List::default();
                }
            }
            List::Few(list) => list.retain(keep),
            List::Many(indexed) => {
                let before = indexed.list.len();
                indexed.list.retain(keep);
                if indexed.list.len() != before {
                    self.list = List::of(std::mem::take(&mut indexed.list));
                }
            }
        }
    }

    /// Removes every identifier.
    pub fn clear(&mut self) {
        self.list = List::default();
    }
}

impl Deref for Identities {
    type Target = [Identifier];

    fn deref(&self) -> &[Identifier] {
        self.list.as_slice()
    }
}

impl<'a> IntoIterator for &'a Identities {
    type Item = &'a Identifier;
    type IntoIter = std::slice::Iter<'a, Identifier>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.as_slice().iter()
    }
}

impl From<Vec<Identifier>> for Identities {
    fn from(list: Vec<Identifier>) -> Self {
        Self {
            list: List::of(list),
        }
    }
}

impl FromIterator<Identifier> for Identities {
    fn from_iter<I: IntoIterator<Item = Identifier>>(identifiers: I) -> Self {
        Self::from(identifiers.into_iter().collect::<Vec<_>>())
    }
}

impl PartialEq for Identities {
    fn eq(&self, other: &Self) -> bool {
        self.list.as_slice() == other.list.as_slice()
    }
}

impl Eq for Identities {}

impl std::fmt::Debug for Identities {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.list.as_slice().fmt(formatter)
    }
}

impl Serialize for Identities {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.list.as_slice().serialize(serializer)
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
            assert_eq!(
                matches!(identities.list, List::Many(_)),
                identities.len() > INDEXED_FROM
            );
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
        assert_eq!(
            matches!(identities.list, List::Many(_)),
            identities.len() > INDEXED_FROM
        );
        identities.clear();
        assert!(identities.is_empty());
        assert!(!identities.contains(&email(0)));
    }

    #[test]
    fn identities_serialize_as_the_list_in_order() {
        let list: Vec<Identifier> = (0..40).rev().map(email).collect();
        let identities = Identities::from(list.clone());
        assert!(matches!(identities.list, List::Many(_)));
        let text = serde_json::to_string(&identities).unwrap();
        assert_eq!(text, serde_json::to_string(&list).unwrap());
        let read: Identities = serde_json::from_str(&text).unwrap();
        assert_eq!(read, identities);
        assert!(read.contains(&email(7)));
        assert_eq!(read.first(), Some(&email(39)));
    }

    #[test]
    fn a_single_identifier_is_kept_inline_and_the_list_reads_the_same_either_way() {
        let mut identities = Identities::default();
        identities.reserve_exact(1);
        identities.push(email(1));
        assert!(matches!(identities.list, List::One(_)));
        assert_eq!(&identities[..], [email(1)]);
        identities.push(email(2));
        assert!(matches!(&identities.list, List::Few(list) if list.len() == 2));
        assert_eq!(identities, Identities::from(vec![email(1), email(2)]));
        identities.retain(|identifier| identifier == &email(2));
        assert_eq!(&identities[..], [email(2)]);
        assert_eq!(identities, Identities::from(vec![email(2)]));
        assert!(matches!(
            Identities::from(vec![email(2)]).list,
            List::One(_)
        ));

        let mut one = Identities::from(vec![email(3)]);
        one.reserve_exact(2);
        one.push(email(4));
        one.push(email(5));
        assert_eq!(&one[..], [email(3), email(4), email(5)]);
        one.retain(|identifier| identifier == &email(9));
        assert!(one.is_empty());
        one.push(email(6));
        assert_eq!(&one[..], [email(6)]);
        let mut single = Identities::from(vec![email(7)]);
        single.retain(|_| false);
        assert!(single.is_empty() && !single.contains(&email(7)));
        single.push(email(8));
        assert!(matches!(single.list, List::One(_)) && single.contains(&email(8)));
        assert_eq!(
            serde_json::to_string(&Identities::from(vec![email(8)])).unwrap(),
            serde_json::to_string(&vec![email(8)]).unwrap()
        );
        // No more room than the vector and optional set it replaced.
        assert!(
            std::mem::size_of::<Identities>()
                <= std::mem::size_of::<Vec<Identifier>>() + std::mem::size_of::<usize>()
        );
    }
}
