//! A hash table of profile slots keyed by text the profiles themselves hold (their ids,
//! their identifiers). Each entry is the slot and a 32-bit hash of the key, 8 bytes, where a
//! map would keep its own copy of the key beside the slot; a lookup confirms a candidate by
//! asking the profile at its slot whether it holds the key.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::ProfileIndex;

#[derive(Clone, Copy, Debug)]
struct Entry {
    slot: u32,
    hash: u32,
}

/// Slots by the hash of a key their profile holds; see the module documentation.
#[derive(Clone, Debug, Default)]
pub(crate) struct SlotTable {
    entries: HashTable<Entry>,
}

/// The 32-bit hash a [`SlotTable`] files `key` under (FxHash, folded).
pub(crate) fn slot_hash<T: Hash + ?Sized>(key: &T) -> u32 {
    let hash = FxBuildHasher.hash_one(key);
    // Truncation intended: the high half is folded into the low one.
    (hash ^ (hash >> 32)) as u32
}

/// The table's full hash of a stored 32-bit one: multiplied out so the high bits the table
/// filters on depend on every bit.
fn spread(hash: u32) -> u64 {
    u64::from(hash).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl SlotTable {
    /// The slot filed under `hash` whose profile `holds` the key.
    pub(crate) fn find(
        &self,
        hash: u32,
        mut holds: impl FnMut(ProfileIndex) -> bool,
    ) -> Option<ProfileIndex> {
        self.entries
            .find(spread(hash), |entry| {
                entry.hash == hash && holds(ProfileIndex(entry.slot))
            })
            .map(|entry| ProfileIndex(entry.slot))
    }

    /// Files `slot` under `hash`.
    pub(crate) fn insert(&mut self, hash: u32, slot: ProfileIndex) {
        self.entries
            .insert_unique(spread(hash), Entry { slot: slot.0, hash }, |entry| {
                spread(entry.hash)
            });
    }

    /// Files `slot` under `hash` unless a slot whose profile `holds` the key is filed there
    /// already; returns that slot then. One probe where [`SlotTable::find`] and
    /// [`SlotTable::insert`] take two.
    pub(crate) fn insert_new(
        &mut self,
        hash: u32,
        slot: ProfileIndex,
        mut holds: impl FnMut(ProfileIndex) -> bool,
    ) -> Option<ProfileIndex> {
        match self.entries.entry(
            spread(hash),
            |entry| entry.hash == hash && holds(ProfileIndex(entry.slot)),
            |entry| spread(entry.hash),
        ) {
            hashbrown::hash_table::Entry::Occupied(filed) => Some(ProfileIndex(filed.get().slot)),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                vacant.insert(Entry { slot: slot.0, hash });
                None
            }
        }
    }

    /// Removes one filing of `slot` under `hash`; whether there was one.
    pub(crate) fn remove(&mut self, hash: u32, slot: ProfileIndex) -> bool {
        match self.entries.find_entry(spread(hash), |entry| {
            entry.hash == hash && entry.slot == slot.0
        }) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Room for `additional` more entries.
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional, |entry| spread(entry.hash));
    }

    /// How many entries there are.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_the_slot_that_holds_the_key_among_equal_hashes() {
        let mut table = SlotTable::default();
        let keys = ["a", "b", "c"];
        for (slot, key) in keys.iter().enumerate() {
            table.insert(slot_hash(key), ProfileIndex(slot as u32));
        }
        // Two more slots filed under the hash of "a", as a collision would.
        table.insert(slot_hash("a"), ProfileIndex(7));
        table.insert(slot_hash("a"), ProfileIndex(8));
        let holder =
            |key: &'static str| move |slot: ProfileIndex| keys.get(slot.slot()) == Some(&key);
        assert_eq!(
            table.find(slot_hash("b"), holder("b")),
            Some(ProfileIndex(1))
        );
        assert_eq!(
            table.find(slot_hash("a"), holder("a")),
            Some(ProfileIndex(0))
        );
        assert_eq!(table.find(slot_hash("z"), holder("z")), None);
        assert!(table.remove(slot_hash("a"), ProfileIndex(0)));
        assert!(!table.remove(slot_hash("a"), ProfileIndex(0)));
        assert_eq!(table.find(slot_hash("a"), holder("a")), None);
        assert_eq!(
            table.find(slot_hash("a"), |slot| slot == ProfileIndex(8)),
            Some(ProfileIndex(8))
        );
        assert_eq!(table.len(), 4);
        assert_eq!(
            table.insert_new(slot_hash("b"), ProfileIndex(9), holder("b")),
            Some(ProfileIndex(1)),
            "b is filed already"
        );
        assert_eq!(table.len(), 4);
        assert_eq!(
            table.insert_new(slot_hash("c"), ProfileIndex(9), |_| false),
            None
        );
        assert_eq!(
            table.find(slot_hash("c"), |slot| slot == ProfileIndex(9)),
            Some(ProfileIndex(9))
        );
        assert_eq!(table.len(), 5);
    }
}
