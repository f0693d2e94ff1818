//! The byte form of a profile's attribute values ([`super::Attributes`]): a million profiles
//! with ten values each hold ten million values, so each is a tag byte and its payload instead
//! of a 40-byte enum with a heap allocation per text.
//!
//! A record is the base time (8 bytes, little endian microseconds) followed by one entry per
//! value. An entry is a tag byte, the write time's distance from the base when the tag's
//! [`OWN_TIME`] bit is set (zig-zag LEB128), then the value:
//!
//! * text: its length (LEB128) and its UTF-8 bytes;
//! * integer, date (days from the common era), date-time (microseconds): zig-zag LEB128;
//! * number: 8 bytes, little endian; booleans: nothing (the tag says which);
//! * set: the member count, then each member as text; list: the count, then each item as a
//!   nested value (a tag byte and its payload, without time); object: the count, then each
//!   field's name as text and its value nested.
//!
//! Only this module writes records; snapshots store them as they are (format 3), and loading
//! checks that a stored record holds one entry of a known kind per name
//! (`Attributes::from_stored`). Change-log batches of format 3 store single values in the
//! nested form ([`append_value`], [`read_value`]). A record that does not read is a bug;
//! readers get `None` rather than a panic. Changing this layout changes two stored formats.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use super::{AttributeValue, Timestamp, Value};
use crate::leb128;

const TEXT: u8 = 0;
const INTEGER: u8 = 1;
const NUMBER: u8 = 2;
const FALSE: u8 = 3;
const TRUE: u8 = 4;
const DATE: u8 = 5;
const DATE_TIME: u8 = 6;
const SET: u8 = 7;
const LIST: u8 = 8;
const OBJECT: u8 = 9;
/// The kind of value, in the low bits of a tag.
const KIND: u8 = 0x0f;
/// Set in an entry's tag when its write time differs from the record's base time.
const OWN_TIME: u8 = 0x10;
/// Bytes of the base time at the start of a record.
pub(super) const BASE_LEN: usize = 8;

/// The base time of a record (the time of its first entry when it was started).
pub(super) fn base(record: &[u8]) -> Option<Timestamp> {
    let bytes: [u8; BASE_LEN] = record.get(..BASE_LEN)?.try_into().ok()?;
    Some(Timestamp::from_micros(i64::from_le_bytes(bytes)))
}

/// Writes entries over bytes in place, from the start of a slice, and counts what it wrote;
/// bytes past the slice's end are counted, not written, so a writer over no bytes measures
/// what an entry takes before a record is allocated for it. One writer type, so the encoder
/// is compiled once.
pub(super) struct Writer<'a> {
    bytes: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    /// Writes over `bytes` from their start.
    pub(super) fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    /// How many bytes have been written (or counted).
    pub(super) fn written(&self) -> usize {
        self.at
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.at) {
            *slot = byte;
        }
        self.at += 1;
    }

    /// Writes bytes.
    pub(super) fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        if let Some(slots) = self.bytes.get_mut(self.at..end) {
            slots.copy_from_slice(bytes);
        }
        self.at = end;
    }
}

/// How many bytes the entry of `value` written at `updated` takes in a record based at
/// `base`.
pub(super) fn entry_len(base: Timestamp, value: &Value, updated: Timestamp) -> usize {
    let mut counter = Writer::new(&mut []);
    write_entry(&mut counter, base, value, updated);
    counter.written()
}

/// Starts a record whose base time is `at`.
pub(super) fn start(record: &mut Writer<'_>, at: Timestamp) {
    record.extend_from_slice(&at.as_micros().to_le_bytes());
}

/// Writes the entry of `value` written at `updated`, its time relative to `base`.
pub(super) fn write_entry(
    record: &mut Writer<'_>,
    base: Timestamp,
    value: &Value,
    updated: Timestamp,
) {
    let distance = updated.as_micros().wrapping_sub(base.as_micros());
    let own_time = if distance == 0 { 0 } else { OWN_TIME };
    record.push(kind(value) | own_time);
    if distance != 0 {
        signed(record, distance);
    }
    payload(record, value);
}

fn kind(value: &Value) -> u8 {
    match value {
        Value::String(_) => TEXT,
        Value::Integer(_) => INTEGER,
        Value::Number(_) => NUMBER,
        Value::Boolean(false) => FALSE,
        Value::Boolean(true) => TRUE,
        Value::Date(_) => DATE,
        Value::DateTime(_) => DATE_TIME,
        Value::Set(_) => SET,
        Value::List(_) => LIST,
        Value::Object(_) => OBJECT,
    }
}

fn nested(record: &mut Writer<'_>, value: &Value) {
    record.push(kind(value));
    payload(record, value);
}

fn payload(record: &mut Writer<'_>, value: &Value) {
    match value {
        Value::String(text) => self::text(record, text),
        Value::Integer(number) => signed(record, *number),
        Value::Number(number) => record.extend_from_slice(&number.to_le_bytes()),
        Value::Boolean(_) => {}
        Value::Date(date) => signed(record, i64::from(date.num_days_from_ce())),
        Value::DateTime(stamp) => signed(record, stamp.as_micros()),
        Value::Set(members) => {
            count(record, members.len());
            for member in members {
                text(record, member);
            }
        }
        Value::List(items) => {
            count(record, items.len());
            for item in items {
                nested(record, item);
            }
        }
        Value::Object(fields) => {
            count(record, fields.len());
            for (name, field) in fields {
                text(record, name);
                nested(record, field);
            }
        }
    }
}

fn unsigned(record: &mut Writer<'_>, value: u64) {
    leb128::write_unsigned(value, |byte| record.push(byte));
}

fn signed(record: &mut Writer<'_>, value: i64) {
    unsigned(record, leb128::zigzag(value));
}

fn count(record: &mut Writer<'_>, len: usize) {
    unsigned(record, u64::try_from(len).unwrap_or(u64::MAX));
}

fn text(record: &mut Writer<'_>, text: &str) {
    count(record, text.len());
    record.extend_from_slice(text.as_bytes());
}

/// Appends `value` to `bytes` as a nested value (its tag byte and payload, no time): the form
/// in which the change log's compact batches store values (`crate::storage::log_batch`).
pub(crate) fn append_value(bytes: &mut Vec<u8>, value: &Value) {
    let mut counter = Writer::new(&mut []);
    nested(&mut counter, value);
    let start = bytes.len();
    bytes.resize(start + counter.written(), 0);
    if let Some(slots) = bytes.get_mut(start..) {
        nested(&mut Writer::new(slots), value);
    }
}

/// Reads a value [`append_value`] wrote at the front of `bytes` and moves past it; `None`
/// for bytes that do not hold one.
pub(crate) fn read_value(bytes: &mut &[u8]) -> Option<Value> {
    let mut reader = Reader {
        rest: bytes,
        base: Timestamp::EPOCH,
        len: bytes.len(),
    };
    let value = reader.nested()?;
    *bytes = reader.rest;
    Some(value)
}

/// Reads a record's entries in order.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
    base: Timestamp,
    /// The length of the record read.
    len: usize,
}

impl<'a> Reader<'a> {
    /// A reader of the entries of `record` (none for an empty record).
    pub(super) fn new(record: &'a [u8]) -> Self {
        Self {
            rest: record.get(BASE_LEN..).unwrap_or_default(),
            base: base(record).unwrap_or(Timestamp::EPOCH),
            len: record.len(),
        }
    }

    /// Where in the record the next entry starts.
    pub(super) fn offset(&self) -> usize {
        self.len - self.rest.len()
    }

    /// How many bytes are left to read.
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Passes over the next entry.
    #[inline(always)]
    pub(super) fn skip(&mut self) -> Option<()> {
        let tag = self.byte()?;
        if tag & OWN_TIME != 0 {
            self.signed()?;
        }
        // Single values here; collections, which nest, out of line.
        match tag & KIND {
            TEXT => self.skip_text(),
            INTEGER | DATE | DATE_TIME => {
                self.unsigned()?;
                Some(())
            }
            NUMBER => {
                self.take(8)?;
                Some(())
            }
            FALSE | TRUE => Some(()),
            kind => self.skip_payload(kind),
        }
    }

    /// Reads the next entry.
    pub(super) fn entry(&mut self) -> Option<AttributeValue> {
        let tag = self.byte()?;
        let updated = if tag & OWN_TIME == 0 {
            self.base
        } else {
            Timestamp::from_micros(self.base.as_micros().wrapping_add(self.signed()?))
        };
        let value = self.payload(tag & KIND)?;
        Some(AttributeValue { value, updated })
    }

    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(*first)
    }

    #[inline(always)]
    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(taken)
    }

    #[inline(always)]
    fn unsigned(&mut self) -> Option<u64> {
        leb128::read_unsigned(&mut self.rest).ok()
    }

    #[inline(always)]
    fn signed(&mut self) -> Option<i64> {
        Some(leb128::unzigzag(self.unsigned()?))
    }

    #[inline(always)]
    fn count(&mut self) -> Option<usize> {
        usize::try_from(self.unsigned()?).ok()
    }

    fn text(&mut self) -> Option<String> {
        let len = self.count()?;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }

    #[inline(always)]
    fn skip_text(&mut self) -> Option<()> {
        let len = self.count()?;
        self.take(len)?;
        Some(())
    }

    fn nested(&mut self) -> Option<Value> {
        let tag = self.byte()?;
        self.payload(tag & KIND)
    }

    fn payload(&mut self, kind: u8) -> Option<Value> {
        Some(match kind {
            TEXT => Value::String(self.text()?),
            INTEGER => Value::Integer(self.signed()?),
            NUMBER => Value::Number(f64::from_le_bytes(self.take(8)?.try_into().ok()?)),
            FALSE => Value::Boolean(false),
            TRUE => Value::Boolean(true),
            DATE => Value::Date(NaiveDate::from_num_days_from_ce_opt(
                i32::try_from(self.signed()?).ok()?,
            )?),
            DATE_TIME => Value::DateTime(Timestamp::from_micros(self.signed()?)),
            SET => {
                let len = self.count()?;
                let mut members = BTreeSet::new();
                for _ in 0..len {
                    members.insert(self.text()?);
                }
                Value::Set(members)
            }
            LIST => {
                let len = self.count()?;
                let mut items = Vec::with_capacity(len.min(self.rest.len()));
                for _ in 0..len {
                    items.push(self.nested()?);
                }
                Value::List(items)
            }
            OBJECT => {
                let len = self.count()?;
                let mut fields = BTreeMap::new();
                for _ in 0..len {
                    let name = self.text()?;
                    fields.insert(name, self.nested()?);
                }
                Value::Object(fields)
            }
            _ => return None,
        })
    }

    fn skip_payload(&mut self, kind: u8) -> Option<()> {
        match kind {
            TEXT => self.skip_text(),
            INTEGER | DATE | DATE_TIME => self.signed().map(drop),
            NUMBER => self.take(8).map(drop),
            FALSE | TRUE => Some(()),
            SET => {
                for _ in 0..self.count()? {
                    self.skip_text()?;
                }
                Some(())
            }
            LIST => {
                for _ in 0..self.count()? {
                    let tag = self.byte()?;
                    self.skip_payload(tag & KIND)?;
                }
                Some(())
            }
            OBJECT => {
                for _ in 0..self.count()? {
                    self.skip_text()?;
                    let tag = self.byte()?;
                    self.skip_payload(tag & KIND)?;
                }
                Some(())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_of(base: Timestamp, entries: &[(&Value, Timestamp)]) -> Vec<u8> {
        let len: usize = entries
            .iter()
            .map(|(value, updated)| entry_len(base, value, *updated))
            .sum();
        let mut record = vec![0; BASE_LEN + len];
        let mut writer = Writer::new(&mut record);
        start(&mut writer, base);
        for (value, updated) in entries {
            write_entry(&mut writer, base, value, *updated);
        }
        assert_eq!(writer.written(), BASE_LEN + len);
        record
    }

    fn every_kind() -> Vec<Value> {
        let date = NaiveDate::from_ymd_opt(2025, 3, 21).unwrap();
        vec![
            Value::String("Aarhus ø".into()),
            Value::String(String::new()),
            Value::Integer(i64::MAX),
            Value::Integer(-i64::MAX),
            Value::Integer(0),
            Value::Number(-12.5),
            Value::Boolean(false),
            Value::Boolean(true),
            Value::Date(date),
            Value::Date(NaiveDate::MIN),
            Value::DateTime(Timestamp::from_micros(-1)),
            Value::Set(BTreeSet::from(["a".to_owned(), "b".to_owned()])),
            Value::List(vec![Value::Integer(1), Value::List(vec![])]),
            Value::Object(BTreeMap::from([
                ("city".to_owned(), Value::String("Aarhus".into())),
                ("since".to_owned(), Value::Date(date)),
                ("jobs".to_owned(), Value::Set(BTreeSet::new())),
            ])),
        ]
    }

    #[test]
    fn every_kind_of_value_reads_back_with_its_time() {
        let base = Timestamp::from_micros(1_700_000_000_000_000);
        let written: Vec<AttributeValue> = every_kind()
            .into_iter()
            .enumerate()
            .map(|(position, value)| AttributeValue {
                value,
                updated: Timestamp::from_micros(
                    base.as_micros() + i64::try_from(position).unwrap() % 3 - 1,
                ),
            })
            .collect();
        let entries: Vec<(&Value, Timestamp)> = written
            .iter()
            .map(|entry| (&entry.value, entry.updated))
            .collect();
        let record = record_of(base, &entries);
        let mut reader = Reader::new(&record);
        for expected in &written {
            assert_eq!(reader.entry().as_ref(), Some(expected));
        }
        assert_eq!(reader.remaining(), 0);
        let mut skipping = Reader::new(&record);
        for _ in &written {
            skipping.skip().unwrap();
        }
        assert_eq!(skipping.remaining(), 0);
    }

    #[test]
    fn values_written_at_the_base_time_cost_no_time_bytes() {
        let base = Timestamp::from_micros(1_700_000_000_000_000);
        let record = record_of(base, &[(&Value::Integer(5), base)]);
        assert_eq!(record.len(), BASE_LEN + 2);
        assert_eq!(entry_len(base, &Value::Integer(5), base), 2);
    }

    #[test]
    fn damaged_records_read_as_nothing_rather_than_panic() {
        let base = Timestamp::from_micros(7);
        let values = every_kind();
        let entries: Vec<(&Value, Timestamp)> = values.iter().map(|value| (value, base)).collect();
        let record = record_of(base, &entries);
        for len in 0..record.len() {
            let mut reader = Reader::new(&record[..len]);
            while reader.entry().is_some() {}
            let mut skipping = Reader::new(&record[..len]);
            while skipping.skip().is_some() {}
        }
        let mut unknown = record.clone();
        unknown[BASE_LEN] = KIND;
        assert!(Reader::new(&unknown).entry().is_none());
    }
}
