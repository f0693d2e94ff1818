//! A profile's attribute values, kept compact: the names it has values for, sorted by source
//! and key and shared by every profile with the same names, and its values packed in one
//! record of bytes in that order. The engine interns the names and their sets, so a million
//! profiles with the same ten keys hold ten names and one list of them, not ten million key
//! strings, and each value takes a tag byte and its payload.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{packed, AttributeKey, AttributeValue, SourceId, Timestamp, Value};

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

/// The bytes a record grows by at least when its entries outgrow it.
const RECORD_GRAIN: usize = 16;

/// A value to write and the time it is written at.
type Entry<'a> = (&'a Value, Timestamp);

/// A write of [`Attributes::write_all`]: the source, the key, and the entry to set (`None`
/// removes the value).
pub(crate) type Write<'a> = (&'a SourceId, &'a str, Option<Entry<'a>>);

/// A part of a record being rebuilt: a range of entries of the old record, or a new entry.
enum Piece<'a> {
    Old(std::ops::Range<usize>),
    New(Entry<'a>),
}

/// Passes `reader` over the entries of `names` (the old record's next ones), noting their
/// bytes as one range of the old record and keeping the names; `None` if the record does not
/// read, or `names` is.
fn copy_old(
    names: Option<&[Arc<AttributeName>]>,
    reader: &mut packed::Reader<'_>,
    pieces: &mut Vec<Piece<'_>>,
    kept: &mut Vec<Arc<AttributeName>>,
) -> Option<()> {
    let names = names?;
    if names.is_empty() {
        return Some(());
    }
    let start = reader.offset();
    for name in names {
        reader.skip()?;
        kept.push(Arc::clone(name));
    }
    let end = reader.offset();
    match pieces.last_mut() {
        Some(Piece::Old(range)) if range.end == start => range.end = end,
        _ => pieces.push(Piece::Old(start..end)),
    }
    Some(())
}

/// The names a profile has values for, in source and key order: shared by every profile
/// with the same names, as a JavaScript engine shares an object's hidden class.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    names: Box<[Arc<AttributeName>]>,
}

impl Shape {
    /// The names, in source and key order.
    pub(crate) fn names(&self) -> &[Arc<AttributeName>] {
        &self.names
    }
}

/// Typed attribute values per source of record, then per key, in that order: the profile's
/// shape (its names, shared) and one record of the values in the same order
/// (`super::packed`). Reading decodes a value, so readers receive values, not references.
/// Serialized as a map of sources to maps of keys to values, as the nested maps it replaces
/// were.
#[derive(Clone, Default)]
pub struct Attributes {
    shape: Option<Arc<Shape>>,
    record: Box<[u8]>,
}

/// The values of one source, in key order.
#[derive(Clone, Copy)]
pub struct SourceAttributes<'a> {
    attributes: &'a Attributes,
    /// The position of the source's first name in the shape.
    first: usize,
    names: &'a [Arc<AttributeName>],
}

impl<'a> SourceAttributes<'a> {
    /// Keys with their values, in key order.
    pub fn iter(&self) -> SourceValues<'a> {
        SourceValues {
            names: self.names.iter(),
            reader: self.attributes.reader_at(self.first),
        }
    }

    /// The value of `key`, if this source has one.
    pub fn get(&self, key: &str) -> Option<AttributeValue> {
        let position = self
            .names
            .binary_search_by(|name| name.key.as_str().cmp(key))
            .ok()?;
        self.attributes.value_at(self.first + position)
    }

    /// How many keys this source has values for.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether this source has no values (never true for a source an [`Attributes`] lists).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl<'a> IntoIterator for SourceAttributes<'a> {
    type Item = (&'a AttributeKey, AttributeValue);
    type IntoIter = SourceValues<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The keys of one source with their values, in key order.
pub struct SourceValues<'a> {
    names: std::slice::Iter<'a, Arc<AttributeName>>,
    reader: Option<packed::Reader<'a>>,
}

impl<'a> Iterator for SourceValues<'a> {
    type Item = (&'a AttributeKey, AttributeValue);

    fn next(&mut self) -> Option<Self::Item> {
        let name = self.names.next()?;
        Some((&name.key, self.reader.as_mut()?.entry()?))
    }
}

/// Sources with their values, in source order.
pub struct BySource<'a> {
    attributes: &'a Attributes,
    next: usize,
}

impl<'a> Iterator for BySource<'a> {
    type Item = (&'a SourceId, SourceAttributes<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.attributes.names().get(self.next..)?;
        let source = &rest.first()?.source;
        let len = rest.partition_point(|name| name.source == *source);
        let first = self.next;
        self.next += len;
        let names = rest.get(..len).unwrap_or_default();
        Some((
            source,
            SourceAttributes {
                attributes: self.attributes,
                first,
                names,
            },
        ))
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = (&'a SourceId, SourceAttributes<'a>);
    type IntoIter = BySource<'a>;

    fn into_iter(self) -> Self::IntoIter {
        BySource {
            attributes: self,
            next: 0,
        }
    }
}

impl Attributes {
    fn names(&self) -> &[Arc<AttributeName>] {
        self.shape.as_deref().map_or(&[], |shape| &shape.names)
    }

    fn position(&self, source: &SourceId, key: &str) -> Result<usize, usize> {
        self.names().binary_search_by(|name| {
            (name.source.as_str(), name.key.as_str()).cmp(&(source.as_str(), key))
        })
    }

    /// A reader positioned at the entry of the name at `position`.
    fn reader_at(&self, position: usize) -> Option<packed::Reader<'_>> {
        let mut reader = packed::Reader::new(&self.record);
        for _ in 0..position {
            reader.skip()?;
        }
        Some(reader)
    }

    fn value_at(&self, position: usize) -> Option<AttributeValue> {
        self.reader_at(position)?.entry()
    }

    /// Where the entry at `position` starts and ends in the record (empty at the end when
    /// `position` is past the last name), and where the last entry ends (0 for no record).
    fn layout(&self, position: usize) -> Option<(std::ops::Range<usize>, usize)> {
        let names = self.names().len();
        let mut reader = self.reader_at(position)?;
        let start = reader.offset();
        if position < names {
            reader.skip()?;
        }
        let end = reader.offset();
        for _ in position + 1..names {
            reader.skip()?;
        }
        Some((start..end, reader.offset()))
    }

    /// The positions of `source`'s names in the shape.
    fn source_range(&self, source: &SourceId) -> std::ops::Range<usize> {
        let names = self.names();
        let start = names.partition_point(|name| name.source.as_str() < source.as_str());
        let len = names
            .get(start..)
            .unwrap_or_default()
            .partition_point(|name| name.source == *source);
        start..start + len
    }

    /// The value of `key` on `source`.
    pub fn value(&self, source: &SourceId, key: &str) -> Option<AttributeValue> {
        self.value_at(self.position(source, key).ok()?)
    }

    /// The values of one source, if it has any.
    pub fn get(&self, source: &SourceId) -> Option<SourceAttributes<'_>> {
        let range = self.source_range(source);
        let names = self.names().get(range.clone())?;
        (!names.is_empty()).then_some(SourceAttributes {
            attributes: self,
            first: range.start,
            names,
        })
    }

    /// Whether `source` has any value.
    pub fn contains_key(&self, source: &SourceId) -> bool {
        !self.source_range(source).is_empty()
    }

    /// Every value with its source and key, in source, then key order.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceId, &AttributeKey, AttributeValue)> {
        let mut reader = packed::Reader::new(&self.record);
        self.names()
            .iter()
            .map_while(move |name| Some((&name.source, &name.key, reader.entry()?)))
    }

    /// The values of `key` on every source that has one, in source order; only those are
    /// decoded.
    pub fn values_of<'a>(&'a self, key: &'a str) -> impl Iterator<Item = AttributeValue> + 'a {
        let mut reader = packed::Reader::new(&self.record);
        self.names()
            .iter()
            .map_while(move |name| {
                if name.key == key {
                    reader.entry().map(Some)
                } else {
                    reader.skip().map(|()| None)
                }
            })
            .flatten()
    }

    /// How many values there are over all sources.
    pub fn len(&self) -> usize {
        self.names().len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.names().is_empty()
    }

    /// Sets the value of `key` on `source`. The name is the profile's own until
    /// the engine shares it.
    pub fn insert(&mut self, source: &SourceId, key: &str, written: AttributeValue) {
        let entry = (&written.value, written.updated);
        match self.position(source, key) {
            Ok(position) => self.replace(position, entry),
            Err(position) => {
                let name = Arc::new(AttributeName::new(source.clone(), key));
                let names = self.names_with(position, name);
                self.insert_at(position, Arc::new(Shape { names }), entry);
            }
        }
    }

    /// Sets the value of `key` on `source`, written at `updated`; a new name is interned in
    /// `names` and shares the shape it leads to.
    pub(crate) fn set(
        &mut self,
        source: &SourceId,
        key: &str,
        value: &Value,
        updated: Timestamp,
        names: &mut AttributeNames,
    ) {
        match self.position(source, key) {
            Ok(position) => self.replace(position, (value, updated)),
            Err(position) => {
                let name = names.intern(source, key);
                let shape = names.with_name(self.shape.as_ref(), &name, || {
                    self.names_with(position, Arc::clone(&name))
                });
                self.insert_at(position, shape, (value, updated));
            }
        }
    }

    /// Applies several writes in one pass over the names and the record (a write sets the
    /// value of a key on a source, or removes it when it has no entry; of two writes of one
    /// key the later wins), sharing the shape it leads to through `names`. Writing n keys one
    /// by one copies the names and the record n times; this copies them once, so one body of
    /// many keys costs time in proportion to its size. The record keeps its base time, so
    /// untouched entries are copied as they are.
    pub(crate) fn write_all(&mut self, mut writes: Vec<Write<'_>>, names: &mut AttributeNames) {
        // A stable sort, then the last of each key's writes: the later wins. (Writes usually
        // come in key order already, which the sort only checks.)
        writes.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
        writes.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        let base = packed::base(&self.record)
            .or_else(|| {
                writes
                    .iter()
                    .find_map(|(_, _, entry)| Some(entry.as_ref()?.1))
            })
            .unwrap_or(Timestamp::EPOCH);
        let old = self.names();
        let mut reader = packed::Reader::new(&self.record);
        // The new record as pieces: ranges of the old one, copied as they are, and new entries.
        let mut pieces: Vec<Piece<'_>> = Vec::with_capacity(2 * writes.len() + 1);
        let mut kept = Vec::with_capacity(old.len() + writes.len());
        let mut next = 0;
        for (source, key, entry) in &writes {
            let rest = old.get(next..).unwrap_or_default();
            let at = next
                + rest.partition_point(|name| {
                    (name.source.as_str(), name.key.as_str()) < (source.as_str(), *key)
                });
            let Some(()) = copy_old(old.get(next..at), &mut reader, &mut pieces, &mut kept) else {
                return;
            };
            next = at;
            let name = match old.get(at) {
                Some(name) if name.source == **source && name.key == *key => {
                    let Some(()) = reader.skip() else {
                        return;
                    };
                    next = at + 1;
                    Arc::clone(name)
                }
                _ if entry.is_none() => continue,
                _ => names.intern(source, key),
            };
            if let Some(entry) = entry {
                pieces.push(Piece::New(*entry));
                kept.push(name);
            }
        }
        let Some(()) = copy_old(old.get(next..), &mut reader, &mut pieces, &mut kept) else {
            return;
        };
        if kept.is_empty() {
            *self = Self::default();
            return;
        }
        let len = |piece: &Piece<'_>| match piece {
            Piece::Old(range) => range.len(),
            Piece::New((value, updated)) => packed::entry_len(base, value, *updated),
        };
        let needed = packed::BASE_LEN + pieces.iter().map(len).sum::<usize>();
        let mut record = vec![0; needed.next_multiple_of(RECORD_GRAIN)].into_boxed_slice();
        let mut writer = packed::Writer::new(&mut record);
        packed::start(&mut writer, base);
        for piece in &pieces {
            match piece {
                Piece::Old(range) => {
                    writer.extend_from_slice(self.record.get(range.clone()).unwrap_or_default())
                }
                Piece::New((value, updated)) => {
                    packed::write_entry(&mut writer, base, value, *updated)
                }
            }
        }
        drop(pieces);
        self.record = record;
        self.shape = Some(names.shape(kept.into_boxed_slice()));
    }

    /// The names with `name` added at `position`.
    fn names_with(&self, position: usize, name: Arc<AttributeName>) -> Box<[Arc<AttributeName>]> {
        let names = self.names();
        let (before, after) = names.split_at(position.min(names.len()));
        before
            .iter()
            .cloned()
            .chain(std::iter::once(name))
            .chain(after.iter().cloned())
            .collect()
    }

    /// Replaces the bytes of `range` with the entry of a value written at a time, or with
    /// nothing. The record keeps its allocation when the entry fits in it (the bytes past the
    /// last entry are room, never read); otherwise it moves to one rounded up to
    /// [`RECORD_GRAIN`] bytes, so that a profile's first values do not each reallocate.
    fn splice(&mut self, (range, used): (std::ops::Range<usize>, usize), entry: Option<Entry<'_>>) {
        let base = match packed::base(&self.record) {
            Some(base) => base,
            None => entry.map_or(Timestamp::EPOCH, |(_, updated)| updated),
        };
        let entry_len = entry.map_or(0, |(value, updated)| {
            packed::entry_len(base, value, updated)
        });
        let (start, end) = (range.start, range.end);
        let needed = used.max(packed::BASE_LEN) - (end - start) + entry_len;
        let fits = needed <= self.record.len() && needed + RECORD_GRAIN > self.record.len();
        if used > 0 && end <= used && fits {
            self.record.copy_within(end..used, start + entry_len);
        } else {
            let (Some(head), Some(tail)) = (self.record.get(..start), self.record.get(end..used))
            else {
                return;
            };
            let mut record = vec![0; needed.next_multiple_of(RECORD_GRAIN)].into_boxed_slice();
            let mut writer = packed::Writer::new(&mut record);
            if head.is_empty() {
                packed::start(&mut writer, base);
            } else {
                writer.extend_from_slice(head);
            }
            let entry_at = writer.written();
            if let Some(rest) = record.get_mut(entry_at + entry_len..) {
                packed::Writer::new(rest).extend_from_slice(tail);
            }
            self.record = record;
            return self.write_at(entry_at, entry_len, base, entry);
        }
        self.write_at(start, entry_len, base, entry);
    }

    /// Writes the entry of a value written at a time into the `len` bytes at `at`.
    fn write_at(&mut self, at: usize, len: usize, base: Timestamp, entry: Option<Entry<'_>>) {
        if let (Some((value, updated)), Some(bytes)) = (entry, self.record.get_mut(at..at + len)) {
            packed::write_entry(&mut packed::Writer::new(bytes), base, value, updated);
        }
    }

    /// Replaces the entry at `position`.
    fn replace(&mut self, position: usize, entry: Entry<'_>) {
        if let Some(layout) = self.layout(position) {
            self.splice(layout, Some(entry));
        }
    }

    fn insert_at(&mut self, position: usize, shape: Arc<Shape>, entry: Entry<'_>) {
        if let Some((range, used)) = self.layout(position) {
            self.splice((range.start..range.start, used), Some(entry));
            self.shape = Some(shape);
        }
    }

    /// Removes the value of `key` on `source`, returning it.
    pub fn remove(&mut self, source: &SourceId, key: &str) -> Option<AttributeValue> {
        self.remove_with(source, key, |names| Arc::new(Shape { names }))
    }

    /// Removes the value of `key` on `source`, returning it, and shares the shape it leaves.
    pub(crate) fn unset(
        &mut self,
        source: &SourceId,
        key: &str,
        names: &mut AttributeNames,
    ) -> Option<AttributeValue> {
        self.remove_with(source, key, |left| names.shape(left))
    }

    fn remove_with(
        &mut self,
        source: &SourceId,
        key: &str,
        shape_of: impl FnOnce(Box<[Arc<AttributeName>]>) -> Arc<Shape>,
    ) -> Option<AttributeValue> {
        let position = self.position(source, key).ok()?;
        let removed = self.value_at(position)?;
        let layout = self.layout(position)?;
        let left: Box<[Arc<AttributeName>]> = self
            .names()
            .iter()
            .enumerate()
            .filter(|(at, _)| *at != position)
            .map(|(_, name)| Arc::clone(name))
            .collect();
        if left.is_empty() {
            *self = Self::default();
        } else {
            self.splice(layout, None);
            self.shape = Some(shape_of(left));
        }
        Some(removed)
    }

    /// The shape (`None` for no values): profiles with equal names hold the same one once
    /// the engine has interned them, so storage can list each shape once.
    pub(crate) fn shape(&self) -> Option<&Arc<Shape>> {
        self.shape.as_ref()
    }

    /// The record up to the end of its last entry (it may have room to grow after it): with
    /// the shape, all a profile's values, for storage to keep as they are.
    pub(crate) fn stored_record(&self) -> &[u8] {
        let used = self.layout(self.names().len()).map_or(0, |(_, used)| used);
        self.record.get(..used).unwrap_or_default()
    }

    /// Values from a stored shape and record ([`Attributes::shape`],
    /// [`Attributes::stored_record`]); `None` unless the record holds exactly one entry per
    /// name of the shape, each of a known kind and within the record (storage checksums the
    /// bytes, so their contents are as written).
    pub(crate) fn from_stored(shape: Option<&Arc<Shape>>, record: &[u8]) -> Option<Self> {
        let Some(shape) = shape else {
            return record.is_empty().then(Self::default);
        };
        let mut reader = packed::Reader::new(record);
        for _ in 0..shape.names.len() {
            reader.skip()?;
        }
        (reader.remaining() == 0 && record.len() >= packed::BASE_LEN).then(|| Self {
            shape: Some(Arc::clone(shape)),
            record: record.into(),
        })
    }

    /// Replaces every name, and the shape, with the engine's shared ones.
    pub(crate) fn intern_names(&mut self, names: &mut AttributeNames) {
        if let Some(shape) = &self.shape {
            let shared = shape.names.iter().map(|name| names.share(name)).collect();
            self.shape = Some(names.shape(shared));
        }
    }
}

impl PartialEq for Attributes {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Attributes {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_map()
            .entries(
                self.iter()
                    .map(|(source, key, value)| ((source.as_str(), key.as_str()), value)),
            )
            .finish()
    }
}

impl std::fmt::Debug for SourceAttributes<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_map().entries(self.iter()).finish()
    }
}

/// A shape reached by adding a name: the shape it starts from (kept, so that its address,
/// part of the key, is never reused) and the one it leads to.
type Transition = (Option<Arc<Shape>>, Arc<Shape>);

/// The engine's table of attribute names and shapes: one shared allocation per source and
/// key, and one per set of names that profiles hold.
#[derive(Clone, Debug, Default)]
pub(crate) struct AttributeNames {
    by_source: FxHashMap<SourceId, FxHashMap<AttributeKey, Arc<AttributeName>>>,
    /// Shapes by the addresses of their (shared) names.
    shapes: FxHashMap<Box<[usize]>, Arc<Shape>>,
    /// Scratch space for a shape's key.
    key: Vec<usize>,
    /// The shape that adding a name (by address) to a shape (by address, 0 for none) leads
    /// to; the entry holds the shape it starts from, so that address is never reused.
    transitions: FxHashMap<(usize, usize), Transition>,
    /// How many shapes the table may hold before it drops those nothing else holds.
    prune_at: usize,
}

/// The fewest shapes the table holds before it first drops unused ones.
const PRUNE_FROM: usize = 1_024;

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

    /// The shared shape of the names `(source, key)` read from storage; `None` unless they
    /// are in strictly increasing order, as a shape's names are.
    pub(crate) fn stored_shape<'a>(
        &mut self,
        names: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Option<Arc<Shape>> {
        let mut shared: Vec<Arc<AttributeName>> = Vec::new();
        for (source, key) in names {
            if let Some(last) = shared.last() {
                if (last.source.as_str(), last.key.as_str()) >= (source, key) {
                    return None;
                }
            }
            shared.push(self.intern(&SourceId::new(source), key));
        }
        (!shared.is_empty()).then(|| self.shape(shared.into_boxed_slice()))
    }

    /// The shared shape that `from` leads to with the shared `name` added, `names` being its
    /// names.
    fn with_name(
        &mut self,
        from: Option<&Arc<Shape>>,
        name: &Arc<AttributeName>,
        names: impl FnOnce() -> Box<[Arc<AttributeName>]>,
    ) -> Arc<Shape> {
        let key = (
            from.map_or(0, |shape| Arc::as_ptr(shape) as usize),
            Arc::as_ptr(name) as usize,
        );
        if let Some((_, to)) = self.transitions.get(&key) {
            return Arc::clone(to);
        }
        let to = self.shape(names());
        self.transitions
            .insert(key, (from.cloned(), Arc::clone(&to)));
        to
    }

    /// The shared shape of `names`, which are shared names.
    fn shape(&mut self, names: Box<[Arc<AttributeName>]>) -> Arc<Shape> {
        self.key.clear();
        self.key
            .extend(names.iter().map(|name| Arc::as_ptr(name) as usize));
        if let Some(shape) = self.shapes.get(self.key.as_slice()) {
            return Arc::clone(shape);
        }
        let shape = Arc::new(Shape { names });
        self.shapes
            .insert(self.key.clone().into_boxed_slice(), Arc::clone(&shape));
        if self.shapes.len() > self.prune_at.max(PRUNE_FROM) {
            self.prune();
        }
        shape
    }

    /// Drops the shapes no profile holds any more (those a profile passed through while it
    /// gained keys, or left by removals), and the transitions, a cache that refills as writes
    /// need it; then lets the table double before the next time, so a write pays for this in
    /// constant time on average.
    fn prune(&mut self) {
        self.transitions.clear();
        self.shapes.retain(|_, shape| Arc::strong_count(shape) > 1);
        self.prune_at = self.shapes.len() * 2;
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
        let mut names = Vec::with_capacity(nested.values().map(BTreeMap::len).sum());
        let mut values = Vec::with_capacity(names.capacity());
        for (source, by_key) in nested {
            for (key, written) in by_key {
                names.push(Arc::new(AttributeName::new(source.clone(), key)));
                values.push(written);
            }
        }
        let base = values
            .first()
            .map_or(Timestamp::EPOCH, |first| first.updated);
        let len: usize = values
            .iter()
            .map(|written| packed::entry_len(base, &written.value, written.updated))
            .sum();
        let mut record = vec![0; packed::BASE_LEN + len].into_boxed_slice();
        let mut writer = packed::Writer::new(&mut record);
        packed::start(&mut writer, base);
        for written in &values {
            packed::write_entry(&mut writer, base, &written.value, written.updated);
        }
        Ok(if names.is_empty() {
            Self::default()
        } else {
            Self {
                shape: Some(Arc::new(Shape {
                    names: names.into_boxed_slice(),
                })),
                record,
            }
        })
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
        for (source, number) in [(&crm, 5), (&app, 6), (&crm, 7)] {
            let value = written(number);
            attributes.set(source, "seats", &value.value, value.updated, &mut names);
        }
        assert_eq!(attributes.value(&crm, "seats"), Some(written(7)));
        assert_eq!(
            attributes.get(&app).and_then(|v| v.get("seats")),
            Some(written(6))
        );
        assert!(attributes.get(&SourceId::new("b")).is_none());
        assert_eq!(attributes.remove(&crm, "seats"), Some(written(7)));
        assert_eq!(attributes.remove(&crm, "seats"), None);
        assert!(!attributes.contains_key(&crm));
        assert!(attributes.contains_key(&app));
        assert_eq!(attributes.len(), 1);
    }

    /// One write of the property test: source, key, value (none removes), write time.
    type Write = (u8, u8, Option<i64>, i64);

    fn value_of(number: i64) -> Value {
        match number.rem_euclid(4) {
            0 => Value::Integer(number),
            1 => Value::String("x".repeat(usize::try_from(number.rem_euclid(300)).unwrap())),
            2 => Value::Boolean(number % 8 == 2),
            _ => Value::Set([number.to_string(), "s".to_owned()].into()),
        }
    }

    proptest::proptest! {
        #[test]
        fn writes_read_back_as_the_nested_maps_would_hold_them(
            writes in proptest::collection::vec(
                (0u8..3, 0u8..6, proptest::option::of(-1000i64..1000), -3i64..3),
                0..40,
            )
        ) {
            let writes: Vec<Write> = writes;
            let mut names = AttributeNames::default();
            let (mut shared, mut own) = (Attributes::default(), Attributes::default());
            let mut expected: BTreeMap<SourceId, BTreeMap<AttributeKey, AttributeValue>> =
                BTreeMap::new();
            for (source, key, number, at) in writes {
                let source = SourceId::new(format!("s{source}"));
                let key = format!("k{key}");
                let by_key = expected.entry(source.clone()).or_default();
                match number {
                    Some(number) => {
                        let written = AttributeValue {
                            value: value_of(number),
                            updated: Timestamp::from_micros(1_700_000_000_000_000 + at),
                        };
                        shared.set(&source, &key, &written.value, written.updated, &mut names);
                        own.insert(&source, &key, written.clone());
                        by_key.insert(key, written);
                    }
                    None => {
                        let removed = by_key.remove(&key);
                        proptest::prop_assert_eq!(
                            shared.unset(&source, &key, &mut names),
                            removed.clone()
                        );
                        proptest::prop_assert_eq!(own.remove(&source, &key), removed);
                    }
                }
                expected.retain(|_, by_key| !by_key.is_empty());
                proptest::prop_assert_eq!(&nested(&shared), &expected);
                proptest::prop_assert_eq!(&shared, &own);
                for key in (0..6).map(|key| format!("k{key}")) {
                    let of_key: Vec<AttributeValue> = shared.values_of(&key).collect();
                    let filtered: Vec<AttributeValue> = expected
                        .values()
                        .filter_map(|by_key| by_key.get(&key).cloned())
                        .collect();
                    proptest::prop_assert_eq!(of_key, filtered);
                }
                proptest::prop_assert_eq!(shared.len(), expected.values().map(BTreeMap::len).sum::<usize>());
                for (source, by_key) in &expected {
                    let values = shared.get(source);
                    proptest::prop_assert_eq!(values.map(|values| values.len()), Some(by_key.len()));
                    for (key, written) in by_key {
                        let (by_name, by_source) =
                            (shared.value(source, key), values.and_then(|v| v.get(key)));
                        proptest::prop_assert_eq!(by_name.as_ref(), Some(written));
                        proptest::prop_assert_eq!(by_source.as_ref(), Some(written));
                    }
                }
            }
            own.intern_names(&mut names);
            let (Some(one), Some(two)) = (&shared.shape, &own.shape) else {
                proptest::prop_assert!(shared.is_empty() && own.is_empty());
                return Ok(());
            };
            proptest::prop_assert!(Arc::ptr_eq(one, two), "equal names share one shape");
        }
    }

    /// A write of [`Attributes::write_all`] with what it refers to.
    type OwnedWrite = (SourceId, String, Option<(Value, Timestamp)>);

    /// What a write of the property tests writes.
    fn owned(&(source, key, number, at): &Write) -> OwnedWrite {
        let at = Timestamp::from_micros(1_700_000_000_000_000 + at);
        let entry = number.map(|number| (value_of(number), at));
        (
            SourceId::new(format!("s{source}")),
            format!("k{key}"),
            entry,
        )
    }

    /// Applies writes of the property tests one by one.
    fn write_one_by_one(attributes: &mut Attributes, writes: &[Write], names: &mut AttributeNames) {
        for (source, key, entry) in writes.iter().map(owned) {
            match entry {
                Some((value, at)) => attributes.set(&source, &key, &value, at, names),
                None => drop(attributes.unset(&source, &key, names)),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn writes_applied_at_once_equal_writes_applied_one_by_one(
            before in proptest::collection::vec(
                (0u8..3, 0u8..8, proptest::option::of(-1000i64..1000), -3i64..3),
                0..30,
            ),
            writes in proptest::collection::vec(
                (0u8..3, 0u8..8, proptest::option::of(-1000i64..1000), -3i64..3),
                0..30,
            )
        ) {
            let (before, writes): (Vec<Write>, Vec<Write>) = (before, writes);
            let mut names = AttributeNames::default();
            let mut one_by_one = Attributes::default();
            write_one_by_one(&mut one_by_one, &before, &mut names);
            let mut at_once = one_by_one.clone();
            write_one_by_one(&mut one_by_one, &writes, &mut names);
            let written: Vec<OwnedWrite> = writes.iter().map(owned).collect();
            let batch = written
                .iter()
                .map(|(source, key, entry)| (source, key.as_str(), entry.as_ref().map(|(value, at)| (value, *at))))
                .collect();
            at_once.write_all(batch, &mut names);
            proptest::prop_assert_eq!(&at_once, &one_by_one);
            proptest::prop_assert_eq!(at_once.len(), one_by_one.len());
            match (&at_once.shape, &one_by_one.shape) {
                (Some(one), Some(two)) => proptest::prop_assert!(Arc::ptr_eq(one, two), "one shape"),
                (one, two) => proptest::prop_assert!(one.is_none() && two.is_none()),
            }
            let stored = Attributes::from_stored(at_once.shape(), at_once.stored_record());
            proptest::prop_assert_eq!(stored.as_ref(), Some(&at_once), "the record reads back");
        }
    }

    #[test]
    fn shapes_no_profile_holds_are_dropped_as_the_table_grows() {
        let mut names = AttributeNames::default();
        let source = SourceId::new("crm");
        let keep = |number: usize, names: &mut AttributeNames| {
            let mut attributes = Attributes::default();
            for key in [format!("a{number}"), format!("b{number}")] {
                attributes.set(&source, &key, &Value::Integer(1), Timestamp::EPOCH, names);
            }
            attributes
        };
        // Each profile passes through a shape of one name on its way to one of two.
        let kept: Vec<Attributes> = (0..3 * PRUNE_FROM).map(|n| keep(n, &mut names)).collect();
        assert!(names.shapes.len() <= 3 * PRUNE_FROM + PRUNE_FROM / 2 + 1);
        assert!(names.shapes.len() >= 3 * PRUNE_FROM);
        drop(kept);
        for number in 0..2 * PRUNE_FROM {
            drop(keep(number, &mut names));
        }
        assert!(
            names.shapes.len() <= 2 * PRUNE_FROM,
            "{}",
            names.shapes.len()
        );
        let (one, two) = (keep(7, &mut names), keep(7, &mut names));
        let (Some(one), Some(two)) = (&one.shape, &two.shape) else {
            panic!("both hold values");
        };
        assert!(Arc::ptr_eq(one, two), "equal names still share one shape");
    }

    #[test]
    fn interned_names_are_shared_between_profiles() {
        let mut names = AttributeNames::default();
        let source = SourceId::new("crm");
        let mut first = Attributes::default();
        first.insert(&source, "plan", written(1));
        first.intern_names(&mut names);
        let mut second = Attributes::default();
        second.set(
            &source,
            "plan",
            &Value::Integer(2),
            Timestamp::EPOCH,
            &mut names,
        );
        let (Some(one), Some(two)) = (&first.shape, &second.shape) else {
            panic!("both hold a value");
        };
        assert!(Arc::ptr_eq(one, two));
        assert!(Arc::ptr_eq(&one.names[0], &two.names[0]));
    }
}
