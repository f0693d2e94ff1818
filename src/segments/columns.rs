//! Typed attribute values in columns per field over the dense profile index, so a full
//! segment evaluation is a scan over one array per condition rather than a walk over
//! profile objects. Strings are dictionary-encoded per column.

use std::collections::HashMap;

use super::rule::Field;
use crate::events::{Comparison, Scalar};
use crate::model::{Profile, ProfileIndex, Timestamp, Value};

/// One profile's value in a column, 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    Missing,
    Text(u32),
    Number(f64),
    Boolean(bool),
    Time(i64),
    /// An index into the column's sets.
    Set(u32),
    Composite,
}

/// The values of one field for every profile.
#[derive(Clone, Debug, Default)]
pub(crate) struct Column {
    pub(crate) cells: Vec<Cell>,
    pub(crate) dictionary: Vec<String>,
    lookup: HashMap<String, u32>,
    pub(crate) sets: Vec<Vec<u32>>,
}

impl Column {
    fn intern(&mut self, text: &str) -> u32 {
        if let Some(id) = self.lookup.get(text) {
            return *id;
        }
        let id = u32::try_from(self.dictionary.len()).unwrap_or(u32::MAX);
        self.dictionary.push(text.to_owned());
        self.lookup.insert(text.to_owned(), id);
        id
    }

    fn set_items<'a>(&mut self, slot: usize, items: impl Iterator<Item = &'a str>) {
        let ids: Vec<u32> = items.map(|item| self.intern(item)).collect();
        let cell = match self.cells.get(slot) {
            Some(Cell::Set(index)) => {
                if let Some(existing) = self.sets.get_mut(*index as usize) {
                    *existing = ids;
                }
                Cell::Set(*index)
            }
            _ => {
                let index = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
                self.sets.push(ids);
                Cell::Set(index)
            }
        };
        self.put(slot, cell);
    }

    fn put(&mut self, slot: usize, cell: Cell) {
        if self.cells.len() <= slot {
            self.cells.resize(slot + 1, Cell::Missing);
        }
        if let Some(target) = self.cells.get_mut(slot) {
            *target = cell;
        }
    }

    /// Stores `value` as the profile's cell.
    fn set_value(&mut self, slot: usize, value: Option<&Value>) {
        let cell = match value {
            None => Cell::Missing,
            Some(Value::Set(items)) => {
                return self.set_items(slot, items.iter().map(String::as_str))
            }
            Some(Value::String(text)) => Cell::Text(self.intern(text)),
            Some(other) => match Scalar::of(other) {
                Scalar::Number(number) => Cell::Number(number),
                Scalar::Boolean(flag) => Cell::Boolean(flag),
                Scalar::Time(micros) => Cell::Time(micros),
                Scalar::Text(text) => Cell::Text(self.intern(text)),
                Scalar::Composite => Cell::Composite,
            },
        };
        self.put(slot, cell);
    }

    /// Whether the profile's cell passes `comparison` (row evaluation).
    pub(crate) fn matches(&self, slot: usize, comparison: &Comparison, now: Timestamp) -> bool {
        let text = |id: u32| self.dictionary.get(id as usize).map_or("", String::as_str);
        match self.cells.get(slot).copied().unwrap_or(Cell::Missing) {
            Cell::Missing => false,
            Cell::Text(id) => comparison.matches_scalar(Scalar::Text(text(id)), now),
            Cell::Number(number) => comparison.matches_scalar(Scalar::Number(number), now),
            Cell::Boolean(flag) => comparison.matches_scalar(Scalar::Boolean(flag), now),
            Cell::Time(micros) => comparison.matches_scalar(Scalar::Time(micros), now),
            Cell::Composite => comparison.matches_scalar(Scalar::Composite, now),
            Cell::Set(index) => comparison.matches_set(
                self.sets
                    .get(index as usize)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .map(|id| text(*id)),
            ),
        }
    }

    /// Calls `hit` with every profile slot whose cell passes `comparison` (scan).
    pub(crate) fn scan(&self, comparison: &Comparison, now: Timestamp, mut hit: impl FnMut(usize)) {
        let text_matches: Vec<bool> = self
            .dictionary
            .iter()
            .map(|text| comparison.matches_scalar(Scalar::Text(text), now))
            .collect();
        let element_matches: Vec<bool> = self
            .dictionary
            .iter()
            .map(|text| comparison.matches_set(std::iter::once(text.as_str())))
            .collect();
        let exists = matches!(comparison, Comparison::Exists);
        let number_test = |number: f64| comparison.matches_scalar(Scalar::Number(number), now);
        for (slot, cell) in self.cells.iter().enumerate() {
            let passes = match *cell {
                Cell::Missing => false,
                Cell::Text(id) => text_matches.get(id as usize).copied().unwrap_or(false),
                Cell::Number(number) => number_test(number),
                Cell::Boolean(flag) => comparison.matches_scalar(Scalar::Boolean(flag), now),
                Cell::Time(micros) => comparison.matches_scalar(Scalar::Time(micros), now),
                Cell::Composite => comparison.matches_scalar(Scalar::Composite, now),
                Cell::Set(index) => {
                    exists
                        || self.sets.get(index as usize).is_some_and(|items| {
                            items.iter().any(|id| {
                                element_matches.get(*id as usize).copied().unwrap_or(false)
                            })
                        })
                }
            };
            if passes {
                hit(slot);
            }
        }
    }
}

/// The columns of the fields segment rules read. Columns exist only for fields some rule
/// has referenced, so writes to other attributes cost nothing here.
#[derive(Clone, Debug, Default)]
pub(crate) struct ColumnStore {
    columns: HashMap<Field, Column>,
}

impl ColumnStore {
    pub(crate) fn column(&self, field: &Field) -> Option<&Column> {
        self.columns.get(field)
    }

    pub(crate) fn has(&self, field: &Field) -> bool {
        self.columns.contains_key(field)
    }

    /// Creates an empty column for `field`; the caller fills it.
    pub(crate) fn create(&mut self, field: Field) {
        self.columns.entry(field).or_default();
    }

    /// Stores one profile's value of `field`, if the field has a column.
    pub(crate) fn set(&mut self, field: &Field, slot: ProfileIndex, value: Option<&Value>) {
        if let Some(column) = self.columns.get_mut(field) {
            column.set_value(slot.slot(), value);
        }
    }

    /// Re-reads every profile-held field of one profile into its column.
    pub(crate) fn index_profile(&mut self, slot: ProfileIndex, profile: Option<&Profile>) {
        for (field, column) in &mut self.columns {
            column.index(field, slot.slot(), profile);
        }
    }

    /// Re-reads one profile-held field of one profile into its column.
    pub(crate) fn index_field(
        &mut self,
        field: &Field,
        slot: ProfileIndex,
        profile: Option<&Profile>,
    ) {
        if let Some(column) = self.columns.get_mut(field) {
            column.index(field, slot.slot(), profile);
        }
    }
}

impl Column {
    fn index(&mut self, field: &Field, position: usize, profile: Option<&Profile>) {
        match field {
            Field::Trait(_) => {}
            Field::Attribute(key) => {
                self.set_value(position, profile.and_then(|found| found.attribute(key)));
            }
            Field::Consent(purpose) => {
                self.set_value(
                    position,
                    profile.and_then(|found| found.consents.get(purpose)),
                );
            }
            Field::Identity(kind) => {
                let values: Vec<&str> = profile
                    .map(|found| Field::identity_values(found, kind).collect())
                    .unwrap_or_default();
                self.set_list(position, values);
            }
            Field::Tags => {
                let tags: Vec<&str> = profile
                    .map(|found| Field::tag_values(found).collect())
                    .unwrap_or_default();
                self.set_list(position, tags);
            }
        }
    }

    fn set_list(&mut self, position: usize, items: Vec<&str>) {
        if items.is_empty() {
            self.put(position, Cell::Missing);
        } else {
            self.set_items(position, items.into_iter());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Literal;

    #[test]
    fn scan_and_row_evaluation_agree_on_dictionary_encoded_text() {
        let mut column = Column::default();
        for (slot, plan) in ["gold", "silver", "gold"].iter().enumerate() {
            column.set_value(slot, Some(&Value::String((*plan).to_owned())));
        }
        column.set_value(4, Some(&Value::Integer(3)));
        let gold = Comparison::Equals(Literal::Text {
            text: "gold".into(),
            time: None,
        });
        let mut hits = Vec::new();
        column.scan(&gold, Timestamp::EPOCH, |slot| hits.push(slot));
        assert_eq!(hits, [0, 2]);
        let rows: Vec<usize> = (0..5)
            .filter(|slot| column.matches(*slot, &gold, Timestamp::EPOCH))
            .collect();
        assert_eq!(rows, hits);
    }
}
