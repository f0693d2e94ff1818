//! Evaluating a rule over the columns: a full scan into a dense bitset (one pass per
//! condition, combined word by word), or one profile's row.

use roaring::RoaringBitmap;

use super::columns::{ColumnNumber, ColumnStore};
use super::rule::{EventCondition, Field, Rule};
use crate::events::{Comparison, EventStore};
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

    /// Sets bit `slot` for every slot set in `within` where `passes` says so: whole words
    /// are tested in a tight loop, sparse words bit by bit, empty words skipped.
    pub(crate) fn fill_within(&mut self, within: &Self, passes: impl Fn(usize) -> bool) {
        for (index, (word, mask)) in self.words.iter_mut().zip(&within.words).enumerate() {
            let base = index * 64;
            let mut bits = 0u64;
            if *mask == u64::MAX {
                for offset in 0..64 {
                    bits |= u64::from(passes(base + offset)) << offset;
                }
            } else {
                let mut remaining = *mask;
                while remaining != 0 {
                    let offset = remaining.trailing_zeros();
                    bits |= u64::from(passes(base + offset as usize)) << offset;
                    remaining &= remaining - 1;
                }
            }
            *word |= bits & mask;
        }
    }

    /// How many slots are set.
    fn count(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }

    fn and_not(&mut self, other: &Self) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word &= !theirs;
        }
    }

    fn or(&mut self, other: &Self) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word |= theirs;
        }
    }

    /// Removes the slots in `retired`.
    pub(crate) fn remove_all(&mut self, retired: &RoaringBitmap) {
        for slot in retired {
            if let Some(word) = self.words.get_mut(slot as usize / 64) {
                *word &= !(1 << (slot % 64));
            }
        }
    }

    /// The set slots, in increasing order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(index, word)| {
            let base = (index as u32) * 64;
            let mut bits = *word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let offset = bits.trailing_zeros();
                    bits &= bits - 1;
                    base + offset
                })
            })
        })
    }

    /// The set slots as a compressed bitmap, built from the words: a container of more
    /// than 4,096 slots is a copy of its 8 KiB. A container of exactly 4,096 would come
    /// out as a bitmap where inserting the same slots makes an array (and the two compare
    /// unequal), so then the slots are appended one by one instead, in order: roaring's
    /// `try_push` looks for a container's maximum from its end on every call, which is
    /// quadratic in the container's size.
    pub(crate) fn to_bitmap(&self) -> RoaringBitmap {
        const WORDS_PER_CONTAINER: usize = 65_536 / 64;
        let ambiguous = self
            .words
            .chunks(WORDS_PER_CONTAINER)
            .any(|container| container.iter().map(|word| word.count_ones()).sum::<u32>() == 4_096);
        // roaring's constructor panics past 2^32 bits; 2^26 words are exactly that many.
        if ambiguous || self.words.len() > 1 << 26 {
            return RoaringBitmap::from_sorted_iter(self.slots())
                .unwrap_or_else(|_| self.slots().collect());
        }
        let bytes: Vec<u8> = self
            .words
            .iter()
            .flat_map(|word| word.to_le_bytes())
            .collect();
        RoaringBitmap::from_lsb0_bytes(0, &bytes)
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
        self.scan_bits(rule).to_bitmap()
    }

    /// [`Sources::scan`] as a dense bitset.
    pub(crate) fn scan_bits(&self, rule: &Rule) -> DenseBits {
        let mut live = DenseBits::full(self.len);
        live.remove_all(self.retired);
        self.within(rule, &live)
    }

    /// The slots of `candidates` that satisfy `rule`. An `and` narrows the candidates
    /// child by child and an `or` tests each child only where no earlier one held, so
    /// later conditions look at fewer cells.
    fn within(&self, rule: &Rule, candidates: &DenseBits) -> DenseBits {
        match rule {
            Rule::And(rules) => {
                let mut result = candidates.clone();
                for child in rules {
                    if result.is_empty() {
                        break;
                    }
                    result = self.within(child, &result);
                }
                result
            }
            Rule::Or(rules) => {
                let mut result = DenseBits::empty(self.len);
                let mut remaining = candidates.clone();
                for child in rules {
                    if remaining.is_empty() {
                        break;
                    }
                    let hits = self.within(child, &remaining);
                    remaining.and_not(&hits);
                    result.or(&hits);
                }
                result
            }
            Rule::Not(child) => {
                let mut result = candidates.clone();
                result.and_not(&self.within(child, candidates));
                result
            }
            Rule::Compare { field, comparison } => {
                let mut result = DenseBits::empty(self.len);
                if let Some(column) = self.columns.column(field) {
                    column.scan(comparison, self.now, candidates, &mut result);
                }
                result
            }
            Rule::Event(condition) => {
                let mut result = DenseBits::empty(self.len);
                let reading = condition.reading(self.events);
                // One pass over every event reads memory in order; a walk over the
                // candidates' own lists is a cache miss or more per profile, so it wins only
                // when the candidates are few.
                let dense = candidates.count().saturating_mul(16) >= self.events.len();
                let all = dense
                    .then(|| condition.holds_for_all(self.events, &reading, self.now, self.len))
                    .flatten();
                match all {
                    Some(holds) => result.fill_within(candidates, holds),
                    None => result.fill_within(candidates, |slot| {
                        let index = ProfileIndex(u32::try_from(slot).unwrap_or(u32::MAX));
                        condition.holds_among(self.events.of_profile(index), &reading, self.now)
                    }),
                }
                result
            }
        }
    }

    /// Whether the live profile at `slot` satisfies `rule`.
    pub(crate) fn row(&self, rule: &RowRule, slot: ProfileIndex) -> bool {
        if self.retired.contains(slot.0) || slot.slot() >= self.len {
            return false;
        }
        self.row_unchecked(rule, slot)
    }

    fn row_unchecked(&self, rule: &RowRule, slot: ProfileIndex) -> bool {
        match rule {
            RowRule::And(rules) => rules.iter().all(|child| self.row_unchecked(child, slot)),
            RowRule::Or(rules) => rules.iter().any(|child| self.row_unchecked(child, slot)),
            RowRule::Not(child) => !self.row_unchecked(child, slot),
            RowRule::Compare { column, comparison } => column
                .and_then(|number| self.columns.column_at(number))
                .is_some_and(|column| column.matches(slot.slot(), comparison, self.now)),
            RowRule::Event(condition) => condition.holds_in(self.events, slot, self.now),
        }
    }
}

/// A segment's rule as it is evaluated for one profile at a time, on every change: each
/// comparison holds its column's number ([`ColumnStore::number`]), found once, instead of
/// looking its field up for every profile evaluated. Numbers hold while the store lives;
/// a field without a column when the rule was compiled has none (and fails every test, as
/// it would reading the store), so a rule is compiled again once columns were added
/// ([`ColumnStore::count`]).
#[derive(Clone, Debug)]
pub(crate) enum RowRule {
    And(Vec<RowRule>),
    Or(Vec<RowRule>),
    Not(Box<RowRule>),
    Compare {
        column: Option<ColumnNumber>,
        comparison: Comparison,
    },
    Event(EventCondition),
}

impl RowRule {
    pub(crate) fn new(rule: &Rule, columns: &ColumnStore) -> Self {
        let children = |rules: &[Rule]| {
            rules
                .iter()
                .map(|child| Self::new(child, columns))
                .collect()
        };
        match rule {
            Rule::And(rules) => Self::And(children(rules)),
            Rule::Or(rules) => Self::Or(children(rules)),
            Rule::Not(child) => Self::Not(Box::new(Self::new(child, columns))),
            Rule::Compare { field, comparison } => Self::Compare {
                column: columns.number(field),
                comparison: comparison.clone(),
            },
            Rule::Event(condition) => Self::Event(condition.clone()),
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
    fn complement_within_full_stays_within_length() {
        let full = DenseBits::full(70);
        let mut three = DenseBits::empty(70);
        three.fill_within(&full, |slot| slot == 3);
        let mut bits = full.clone();
        bits.and_not(&three);
        let bitmap = bits.to_bitmap();
        assert_eq!(bitmap.len(), 69);
        assert!(!bitmap.contains(3));
        assert!(!bitmap.contains(70));
    }

    /// Slots across several roaring containers, some dense (stored as bitmaps), some
    /// sparse, with and without one of exactly 4,096 slots (the array limit): the bitmap
    /// equals one built by inserts, container kinds included (they compare unequal).
    #[test]
    fn to_bitmap_equals_inserting_every_slot() {
        for second_every in [16, 17] {
            let len = 5 * 65_536 + 100;
            let chosen = |slot: usize| match slot / 65_536 {
                0 => slot % 3 == 0,
                1 => slot % second_every == 5,
                2 => slot % 1_000 == 999,
                3 => true,
                _ => slot % 2 == 1,
            };
            let mut bits = DenseBits::empty(len);
            bits.fill_within(&DenseBits::full(len), chosen);
            let mut expected = RoaringBitmap::new();
            for slot in (0..len).filter(|slot| chosen(*slot)) {
                expected.insert(slot as u32);
            }
            let second = 65_536 / second_every as u64;
            assert_eq!(expected.len(), 21_846 + second + 65 + 65_536 + 32_768 + 50);
            assert_eq!(bits.to_bitmap(), expected, "every {second_every}");
        }
        let empty = DenseBits::empty(1_000);
        assert!(empty.to_bitmap().is_empty());
    }
}
