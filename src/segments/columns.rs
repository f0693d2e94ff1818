//! Typed attribute values in columns per field over the dense profile index, so a full
//! segment evaluation is a scan over one array per condition rather than a walk over
//! profile objects. Strings are dictionary-encoded per column.

use rustc_hash::FxHashMap as HashMap;

use super::evaluate::DenseBits;
use super::rule::Field;
use crate::events::{Bound, Comparison, Literal, Scalar, DAY_MICROS};
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

    /// Sets the bit of every profile slot whose cell passes `comparison` (scan). The
    /// comparison is compiled once per scan into per-type tests, so the loop over cells is
    /// a table lookup or an interval check.
    pub(crate) fn scan(
        &self,
        comparison: &Comparison,
        now: Timestamp,
        within: &DenseBits,
        bits: &mut DenseBits,
    ) {
        let test = CompiledTest::new(self, comparison, now);
        let cells = self.cells.as_slice();
        // A test that only numbers (or only points in time) can pass is the common case
        // (ranges, dates): one tag check and two comparisons per cell, without branches.
        match test.only() {
            Only::Numbers(low, high) => bits.fill_within(within, |slot| {
                matches!(cells.get(slot), Some(Cell::Number(number)) if (*number >= low) & (*number <= high))
            }),
            Only::Times(low, high) => bits.fill_within(within, |slot| {
                matches!(cells.get(slot), Some(Cell::Time(at)) if (*at >= low) & (*at <= high))
            }),
            Only::Any => bits.fill_within(within, |slot| {
                cells
                    .get(slot)
                    .is_some_and(|cell| test.passes(self, *cell))
            }),
        }
    }
}

/// An inclusive interval test, or a list of exact values, for one cell type.
#[derive(Clone, Debug)]
enum Test<T> {
    Never,
    Always,
    Between(T, T),
    AnyOf(Vec<T>),
}

impl<T: PartialOrd + Copy> Test<T> {
    fn passes(&self, value: T) -> bool {
        match self {
            Self::Never => false,
            Self::Always => true,
            Self::Between(low, high) => value >= *low && value <= *high,
            Self::AnyOf(values) => values.contains(&value),
        }
    }
}

/// What [`CompiledTest::only`] finds.
enum Only {
    Numbers(f64, f64),
    Times(i64, i64),
    Any,
}

/// A comparison compiled against one column's dictionary, for scans.
struct CompiledTest {
    text: Vec<bool>,
    element: Vec<bool>,
    exists: bool,
    when_true: bool,
    when_false: bool,
    composite: bool,
    number: Test<f64>,
    time: Test<i64>,
}

impl CompiledTest {
    fn new(column: &Column, comparison: &Comparison, now: Timestamp) -> Self {
        Self {
            text: column
                .dictionary
                .iter()
                .map(|text| comparison.matches_scalar(Scalar::Text(text), now))
                .collect(),
            element: column
                .dictionary
                .iter()
                .map(|text| comparison.matches_set(std::iter::once(text.as_str())))
                .collect(),
            exists: matches!(comparison, Comparison::Exists),
            when_true: comparison.matches_scalar(Scalar::Boolean(true), now),
            when_false: comparison.matches_scalar(Scalar::Boolean(false), now),
            composite: comparison.matches_scalar(Scalar::Composite, now),
            number: number_test(comparison),
            time: time_test(comparison, now),
        }
    }

    /// The one interval this test is, when no other kind of cell can pass it.
    fn only(&self) -> Only {
        let others_fail = !self.exists
            && !self.when_true
            && !self.when_false
            && !self.composite
            && !self.text.contains(&true)
            && !self.element.contains(&true);
        match (others_fail, &self.number, &self.time) {
            (true, Test::Between(low, high), Test::Never) => Only::Numbers(*low, *high),
            (true, Test::Never, Test::Between(low, high)) => Only::Times(*low, *high),
            _ => Only::Any,
        }
    }

    #[inline]
    fn passes(&self, column: &Column, cell: Cell) -> bool {
        match cell {
            Cell::Missing => false,
            Cell::Text(id) => self.text.get(id as usize).copied().unwrap_or(false),
            Cell::Number(number) => self.number.passes(number),
            Cell::Time(micros) => self.time.passes(micros),
            Cell::Boolean(true) => self.when_true,
            Cell::Boolean(false) => self.when_false,
            Cell::Composite => self.composite,
            Cell::Set(index) => {
                self.exists
                    || column.sets.get(index as usize).is_some_and(|items| {
                        items
                            .iter()
                            .any(|id| self.element.get(*id as usize).copied().unwrap_or(false))
                    })
            }
        }
    }
}

/// What [`Comparison::matches_scalar`] says about numbers, as an interval or value list.
fn number_test(comparison: &Comparison) -> Test<f64> {
    let literal = |literal: &Literal| match literal {
        Literal::Number(number) => Some(*number),
        Literal::Text { .. } | Literal::Boolean(_) => None,
    };
    match comparison {
        Comparison::Exists => Test::Always,
        Comparison::Equals(value) => {
            literal(value).map_or(Test::Never, |number| Test::Between(number, number))
        }
        Comparison::In(values) => Test::AnyOf(values.iter().filter_map(literal).collect()),
        Comparison::Range { min, max } => {
            let bound = |bound: &Option<Bound>, open: f64| match bound {
                None => Some(open),
                Some(Bound::Number(number)) => Some(*number),
                Some(Bound::Time(_)) => None,
            };
            match (bound(min, f64::NEG_INFINITY), bound(max, f64::INFINITY)) {
                (Some(low), Some(high)) => Test::Between(low, high),
                _ => Test::Never,
            }
        }
        Comparison::Contains(_)
        | Comparison::StartsWith(_)
        | Comparison::Before(_)
        | Comparison::After(_)
        | Comparison::WithinDays(_) => Test::Never,
    }
}

/// What [`Comparison::matches_scalar`] says about points in time.
fn time_test(comparison: &Comparison, now: Timestamp) -> Test<i64> {
    let literal = |literal: &Literal| match literal {
        Literal::Text { time, .. } => *time,
        Literal::Number(_) | Literal::Boolean(_) => None,
    };
    match comparison {
        Comparison::Exists => Test::Always,
        Comparison::Equals(value) => literal(value).map_or(Test::Never, |at| Test::Between(at, at)),
        Comparison::In(values) => Test::AnyOf(values.iter().filter_map(literal).collect()),
        Comparison::Range { min, max } => {
            let bound = |bound: &Option<Bound>, open: i64| match bound {
                None => Some(open),
                Some(Bound::Time(at)) => Some(*at),
                Some(Bound::Number(_)) => None,
            };
            match (bound(min, i64::MIN), bound(max, i64::MAX)) {
                (Some(low), Some(high)) => Test::Between(low, high),
                _ => Test::Never,
            }
        }
        Comparison::Before(at) => at
            .checked_sub(1)
            .map_or(Test::Never, |high| Test::Between(i64::MIN, high)),
        Comparison::After(at) => at
            .checked_add(1)
            .map_or(Test::Never, |low| Test::Between(low, i64::MAX)),
        Comparison::WithinDays(days) => {
            let now = now.as_micros();
            Test::Between(now.saturating_sub(i64::from(*days) * DAY_MICROS), now)
        }
        Comparison::Contains(_) | Comparison::StartsWith(_) => Test::Never,
    }
}

/// The columns of the fields segment rules read. Columns exist only for fields some rule
/// has referenced, so writes to other attributes cost nothing here. Columns are numbered
/// ([`ColumnStore::number`]) and never dropped, so what is evaluated on every change (the
/// per-event trait refresh, a segment's [`RowRule`](super::evaluate::RowRule)) can hold on
/// to a column's number and skip looking its field up.
#[derive(Clone, Debug, Default)]
pub(crate) struct ColumnStore {
    profile_fields: HashMap<Field, usize>,
    profile_columns: Vec<(Field, Column)>,
    traits: HashMap<String, usize>,
    trait_columns: Vec<Column>,
}

/// The number of a column in its [`ColumnStore`], the same for as long as the store lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnNumber {
    /// Of a field the profile holds.
    Profile(usize),
    /// Of a trait ([`ColumnStore::trait_number`]).
    Trait(usize),
}

impl ColumnStore {
    pub(crate) fn column(&self, field: &Field) -> Option<&Column> {
        self.column_at(self.number(field)?)
    }

    /// The number of `field`'s column, if it has one.
    pub(crate) fn number(&self, field: &Field) -> Option<ColumnNumber> {
        match field {
            Field::Trait(name) => self.trait_number(name),
            Field::Attribute(_) | Field::Consent(_) | Field::Identity(_) | Field::Tags => self
                .profile_fields
                .get(field)
                .copied()
                .map(ColumnNumber::Profile),
        }
    }

    /// The number of trait `name`'s column, if it has one.
    pub(crate) fn trait_number(&self, name: &str) -> Option<ColumnNumber> {
        self.traits.get(name).copied().map(ColumnNumber::Trait)
    }

    /// The column numbered `number`.
    pub(crate) fn column_at(&self, number: ColumnNumber) -> Option<&Column> {
        match number {
            ColumnNumber::Profile(at) => self.profile_columns.get(at).map(|(_, column)| column),
            ColumnNumber::Trait(at) => self.trait_columns.get(at),
        }
    }

    fn column_at_mut(&mut self, number: ColumnNumber) -> Option<&mut Column> {
        match number {
            ColumnNumber::Profile(at) => self.profile_columns.get_mut(at).map(|(_, column)| column),
            ColumnNumber::Trait(at) => self.trait_columns.get_mut(at),
        }
    }

    /// How many columns there are: since none is dropped, a number that changes whenever
    /// one is added.
    pub(crate) fn count(&self) -> usize {
        self.profile_columns.len() + self.trait_columns.len()
    }

    /// Whether a column reads attribute `key` (of a rule in force or not: columns stay).
    pub(crate) fn reads_attribute(&self, key: &str) -> bool {
        self.profile_columns
            .iter()
            .any(|(field, _)| matches!(field, Field::Attribute(read) if read == key))
    }

    pub(crate) fn has(&self, field: &Field) -> bool {
        self.column(field).is_some()
    }

    /// The number of `field`'s column, created empty if it has none; the caller fills it.
    pub(crate) fn create(&mut self, field: Field) -> ColumnNumber {
        match field {
            Field::Trait(name) => {
                let next = self.trait_columns.len();
                let at = *self.traits.entry(name).or_insert(next);
                if at == next {
                    self.trait_columns.push(Column::default());
                }
                ColumnNumber::Trait(at)
            }
            Field::Attribute(_) | Field::Consent(_) | Field::Identity(_) | Field::Tags => {
                let next = self.profile_columns.len();
                let at = *self.profile_fields.entry(field.clone()).or_insert(next);
                if at == next {
                    self.profile_columns.push((field, Column::default()));
                }
                ColumnNumber::Profile(at)
            }
        }
    }

    /// Stores one profile's value in the column numbered `number`.
    pub(crate) fn set_at(
        &mut self,
        number: ColumnNumber,
        slot: ProfileIndex,
        value: Option<&Value>,
    ) {
        if let Some(column) = self.column_at_mut(number) {
            column.set_value(slot.slot(), value);
        }
    }

    /// Re-reads every profile-held field of one profile into its column.
    pub(crate) fn index_profile(&mut self, slot: ProfileIndex, profile: Option<&Profile>) {
        for (field, column) in &mut self.profile_columns {
            column.index(field, slot.slot(), profile);
        }
    }

    /// Re-reads the profile-held field of the column numbered `number` for one profile.
    pub(crate) fn index_at(
        &mut self,
        number: ColumnNumber,
        slot: ProfileIndex,
        profile: Option<&Profile>,
    ) {
        if let ColumnNumber::Profile(at) = number {
            if let Some((field, column)) = self.profile_columns.get_mut(at) {
                column.index(field, slot.slot(), profile);
            }
        }
    }
}

impl Column {
    fn index(&mut self, field: &Field, position: usize, profile: Option<&Profile>) {
        match field {
            Field::Trait(_) => {}
            Field::Attribute(key) => {
                let value = profile.and_then(|found| found.attribute(key));
                self.set_value(position, value.as_ref());
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
        let mut bits = DenseBits::empty(5);
        column.scan(&gold, Timestamp::EPOCH, &DenseBits::full(5), &mut bits);
        let hits: Vec<usize> = bits.to_bitmap().iter().map(|slot| slot as usize).collect();
        assert_eq!(hits, [0, 2]);
        let rows: Vec<usize> = (0..5)
            .filter(|slot| column.matches(*slot, &gold, Timestamp::EPOCH))
            .collect();
        assert_eq!(rows, hits);
    }

    /// Numeric and date comparisons take a scan of their own; over a column holding every
    /// kind of cell, it must select exactly what row evaluation does.
    #[test]
    fn interval_scans_agree_with_rows_over_mixed_cells() {
        let day = DAY_MICROS;
        let mut column = Column::default();
        let values = [
            Some(Value::Integer(29)),
            Some(Value::Integer(30)),
            Some(Value::Number(37.5)),
            Some(Value::Integer(45)),
            Some(Value::Integer(46)),
            Some(Value::String("40".into())),
            Some(Value::String("2026-01-02".into())),
            Some(Value::Boolean(true)),
            None,
            Some(Value::Set(["35".to_owned()].into())),
            Some(Value::Object(Default::default())),
            Some(Value::Date(
                chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap_or_default(),
            )),
            Some(Value::Integer(-3)),
        ];
        for (slot, value) in values.iter().enumerate() {
            column.set_value(slot, value.as_ref());
        }
        let micros = |text: &str| match Scalar::of(&Value::String(text.into())) {
            Scalar::Time(at) => at,
            _ => 0,
        };
        for (slot, text) in ["2026-01-01", "2026-01-03T00:00:00Z", "2025-12-01"]
            .iter()
            .enumerate()
        {
            let at = Timestamp::from_micros(micros(text));
            column.set_value(20 + slot, Some(&Value::DateTime(at)));
        }
        let len = column.cells.len();
        let now = Timestamp::from_micros(micros("2026-01-03") + day / 2);
        let comparisons = [
            Comparison::Range {
                min: Some(Bound::Number(30.0)),
                max: Some(Bound::Number(45.0)),
            },
            Comparison::Range {
                min: None,
                max: Some(Bound::Number(0.0)),
            },
            Comparison::Range {
                min: Some(Bound::Number(46.0)),
                max: None,
            },
            Comparison::Range {
                min: Some(Bound::Time(micros("2026-01-01"))),
                max: Some(Bound::Time(micros("2026-01-02"))),
            },
            Comparison::Before(micros("2026-01-02")),
            Comparison::After(micros("2026-01-01")),
            Comparison::WithinDays(2),
            Comparison::Equals(Literal::Number(37.5)),
        ];
        let mut selected = 0;
        for comparison in &comparisons {
            let mut bits = DenseBits::empty(len);
            column.scan(comparison, now, &DenseBits::full(len), &mut bits);
            let hits: Vec<usize> = bits.to_bitmap().iter().map(|slot| slot as usize).collect();
            let rows: Vec<usize> = (0..len)
                .filter(|slot| column.matches(*slot, comparison, now))
                .collect();
            assert_eq!(hits, rows, "{comparison:?}");
            selected += hits.len();
        }
        assert!(
            selected > comparisons.len(),
            "the comparisons select something"
        );
    }
}
