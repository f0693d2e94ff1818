//! Evaluating a rule over the columns: a full scan into a dense bitset (one pass per
//! condition, combined word by word), or one profile's row.

use roaring::RoaringBitmap;

use super::columns::ColumnStore;
use super::rule::{Field, Rule};
use crate::events::EventStore;
use crate::model::{ProfileIndex, Timestamp};

/// A fixed-length bitset over profile slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DenseBits {
    words: Vec<u64>,
    len: usize,
}

impl DenseBits {
    pub(crate) fn empty(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    pub(crate) fn full(len: usize) -> Self {
        let mut bits = Self {
            words: vec![u64::MAX; len.div_ceil(64)],
            len,
        };
        bits.trim();
        bits
    }

    fn trim(&mut self) {
        let spare = self.words.len() * 64 - self.len;
        if spare > 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= u64::MAX >> spare;
            }
        }
    }

    pub(crate) fn insert(&mut self, slot: usize) {
        if let Some(word) = self.words.get_mut(slot / 64) {
            *word |= 1 << (slot % 64);
        }
    }

    fn and(&mut self, other: &Self) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word &= theirs;
        }
    }

    fn or(&mut self, other: &Self) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word |= theirs;
        }
    }

    fn negate(&mut self) {
        for word in &mut self.words {
            *word = !*word;
        }
        self.trim();
    }

    /// Removes the slots in `retired`.
    pub(crate) fn remove_all(&mut self, retired: &RoaringBitmap) {
        for slot in retired {
            if let Some(word) = self.words.get_mut(slot as usize / 64) {
                *word &= !(1 << (slot % 64));
            }
        }
    }

    /// The set slots as a compressed bitmap.
    pub(crate) fn to_bitmap(&self) -> RoaringBitmap {
        let mut bitmap = RoaringBitmap::new();
        for (index, word) in self.words.iter().enumerate() {
            let mut bits = *word;
            let base = (index as u32) * 64;
            while bits != 0 {
                let offset = bits.trailing_zeros();
                if bitmap.try_push(base + offset).is_err() {
                    bitmap.insert(base + offset);
                }
                bits &= bits - 1;
            }
        }
        bitmap
    }
}

/// What an evaluation reads.
pub(crate) struct Sources<'a> {
    pub(crate) columns: &'a ColumnStore,
    pub(crate) events: &'a EventStore,
    pub(crate) now: Timestamp,
    pub(crate) len: usize,
    pub(crate) retired: &'a RoaringBitmap,
}

impl Sources<'_> {
    /// Every live profile satisfying `rule`.
    pub(crate) fn scan(&self, rule: &Rule) -> RoaringBitmap {
        let mut bits = self.scan_bits(rule);
        bits.remove_all(self.retired);
        bits.to_bitmap()
    }

    fn scan_bits(&self, rule: &Rule) -> DenseBits {
        match rule {
            Rule::And(rules) => {
                let mut result = DenseBits::full(self.len);
                for child in rules {
                    result.and(&self.scan_bits(child));
                }
                result
            }
            Rule::Or(rules) => {
                let mut result = DenseBits::empty(self.len);
                for child in rules {
                    result.or(&self.scan_bits(child));
                }
                result
            }
            Rule::Not(child) => {
                let mut result = self.scan_bits(child);
                result.negate();
                result
            }
            Rule::Compare { field, comparison } => {
                let mut result = DenseBits::empty(self.len);
                if let Some(column) = self.columns.column(field) {
                    column.scan(comparison, self.now, |slot| result.insert(slot));
                }
                result
            }
            Rule::Event(condition) => {
                let mut result = DenseBits::empty(self.len);
                for slot in 0..self.len {
                    let index = ProfileIndex(u32::try_from(slot).unwrap_or(u32::MAX));
                    if condition.holds(self.events.of_profile(index), self.now) {
                        result.insert(slot);
                    }
                }
                result
            }
        }
    }

    /// Whether the live profile at `slot` satisfies `rule`.
    pub(crate) fn row(&self, rule: &Rule, slot: ProfileIndex) -> bool {
        if self.retired.contains(slot.0) || slot.slot() >= self.len {
            return false;
        }
        self.row_unchecked(rule, slot)
    }

    fn row_unchecked(&self, rule: &Rule, slot: ProfileIndex) -> bool {
        match rule {
            Rule::And(rules) => rules.iter().all(|child| self.row_unchecked(child, slot)),
            Rule::Or(rules) => rules.iter().any(|child| self.row_unchecked(child, slot)),
            Rule::Not(child) => !self.row_unchecked(child, slot),
            Rule::Compare { field, comparison } => self
                .columns
                .column(field)
                .is_some_and(|column| column.matches(slot.slot(), comparison, self.now)),
            Rule::Event(condition) => condition.holds(self.events.of_profile(slot), self.now),
        }
    }
}

/// Whether `field` is read from the profile object (not from the trait store).
pub(crate) fn held_by_profile(field: &Field) -> bool {
    match field {
        Field::Attribute(_) | Field::Consent(_) | Field::Identity(_) | Field::Tags => true,
        Field::Trait(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_bits_negate_stays_within_length() {
        let mut bits = DenseBits::empty(70);
        bits.insert(3);
        bits.negate();
        let bitmap = bits.to_bitmap();
        assert_eq!(bitmap.len(), 69);
        assert!(!bitmap.contains(3));
        assert!(!bitmap.contains(70));
    }
}
