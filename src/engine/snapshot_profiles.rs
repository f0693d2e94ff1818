//! Profile slots as a snapshot chunk stores them (format 3, [`SnapshotChunk::ProfileSlots`]),
//! written and read by hand: loading a snapshot is mostly reading profiles, so each is read
//! straight into its place, its attribute values copied as the packed record the engine
//! holds ([`Attributes`]) behind a shape interned once per chunk, rather than decoded value by
//! value, re-encoded and their names interned one by one.
//!
//! Layout (`u`: unsigned LEB128; `i`: zig-zag LEB128; `s`: a `u` length, then the bytes):
//!
//! * attribute names: `u` count, then per name `s` source and `s` key;
//! * shapes: `u` count, then per shape `u` count and per name `u` its position among the
//!   names, in the shape's (sorted) order;
//! * identifier types: `u` count, then per type `s`;
//! * slots: `u` count, then per slot the byte 0 for a tombstone, or 1 and the profile:
//!   16 bytes id; `i` created (microseconds); `i` updated minus created; `u` version;
//!   `u` identifier count, then per identifier `u` its type's position and `s` value;
//!   `u` shape position plus one (0: no values); `s` record; one byte of flags (1 tags,
//!   2 consents, 4 aliases), then for each flag set `s` that collection in the compact
//!   encoding ([`crate::storage::compact`]).
//!
//! [`SnapshotChunk::ProfileSlots`]: super::SnapshotChunk::ProfileSlots

use std::sync::Arc;

use rustc_hash::FxHashMap;
use uuid::Uuid;

use crate::identity::Identifier;
use crate::leb128::{Reader, Writer};
use crate::model::{
    AttributeNames, Attributes, Empty, Identities, Profile, ProfileId, Rare, Shape, Timestamp,
};
use crate::storage::{compact, StorageError};

const TAGS: u8 = 1;
const CONSENTS: u8 = 2;
const ALIASES: u8 = 4;

/// A rare part as a byte string of its compact encoding, encoded in `scratch`.
fn part<T: serde::Serialize + ?Sized>(
    writer: &mut Writer,
    scratch: &mut Vec<u8>,
    value: &T,
) -> Result<(), StorageError> {
    scratch.clear();
    compact::encode_into(scratch, value)
        .map_err(|error| StorageError::Failed(format!("encoding failed: {error}")))?;
    writer.bytes(scratch);
    Ok(())
}

/// Position of `item` among those listed so far, listing it when new.
fn position<K: std::hash::Hash + Eq>(
    positions: &mut FxHashMap<K, u64>,
    item: K,
    list: impl FnOnce(),
) -> u64 {
    let next = positions.len() as u64;
    *positions.entry(item).or_insert_with(|| {
        list();
        next
    })
}

/// Whether a rare part holds anything.
fn held<T: Empty>(rare: &Rare<T>) -> bool {
    **rare != *T::empty()
}

/// A rare part from its compact encoding, if stored.
fn rare<'de, T: Empty + serde::Deserialize<'de>>(bytes: Option<&'de [u8]>) -> Read<Rare<T>> {
    match bytes {
        None => Ok(Rare::default()),
        Some(bytes) => compact::decode(bytes)
            .map(Rare::new)
            .map_err(|error| error.to_string()),
    }
}

/// The chunk of `slots`.
pub(super) fn encode(slots: &[Option<Profile>]) -> Result<Vec<u8>, StorageError> {
    let (mut names, mut shapes, mut kinds) =
        (Writer::default(), Writer::default(), Writer::default());
    let mut positions = (
        FxHashMap::default(),
        FxHashMap::default(),
        FxHashMap::default(),
    );
    let mut body = Writer {
        bytes: Vec::with_capacity(slots.len() * 64),
    };
    body.unsigned(slots.len() as u64);
    let mut rare = Vec::new();
    for slot in slots {
        let Some(profile) = slot else {
            body.bytes.push(0);
            continue;
        };
        body.bytes.push(1);
        body.bytes
            .extend_from_slice(profile.id.as_uuid().as_bytes());
        body.signed(profile.created.as_micros());
        body.signed(
            profile
                .updated
                .as_micros()
                .wrapping_sub(profile.created.as_micros()),
        );
        body.unsigned(profile.version);
        body.unsigned(profile.identities.len() as u64);
        for identifier in profile.identities.iter() {
            let kind = identifier.kind();
            body.unsigned(position(&mut positions.2, kind, || {
                kinds.bytes(kind.as_bytes())
            }));
            body.bytes(identifier.value().as_bytes());
        }
        let shape = profile.attributes.shape().map(|shape| {
            let address = Arc::as_ptr(shape) as usize;
            position(&mut positions.1, address, || {
                shapes.unsigned(shape.names().len() as u64);
                for name in shape.names() {
                    let pair = (name.source().as_str(), name.key().as_str());
                    let at = position(&mut positions.0, pair, || {
                        names.bytes(pair.0.as_bytes());
                        names.bytes(pair.1.as_bytes());
                    });
                    shapes.unsigned(at);
                }
            })
        });
        body.unsigned(shape.map_or(0, |at| at + 1));
        body.bytes(profile.attributes.stored_record());
        let tags = held(&profile.tags);
        let consents = held(&profile.consents);
        let aliases = held(&profile.aliases);
        body.bytes.push(
            (u8::from(tags) * TAGS)
                | (u8::from(consents) * CONSENTS)
                | (u8::from(aliases) * ALIASES),
        );
        if tags {
            part(&mut body, &mut rare, &*profile.tags)?;
        }
        if consents {
            part(&mut body, &mut rare, &*profile.consents)?;
        }
        if aliases {
            part(&mut body, &mut rare, &*profile.aliases)?;
        }
    }
    let mut chunk = Writer {
        bytes: Vec::with_capacity(body.bytes.len() + names.bytes.len() + shapes.bytes.len() + 16),
    };
    for (count, part) in [
        (positions.0.len(), names),
        (positions.1.len(), shapes),
        (positions.2.len(), kinds),
    ] {
        chunk.unsigned(count as u64);
        chunk.bytes.extend_from_slice(&part.bytes);
    }
    chunk.bytes.extend_from_slice(&body.bytes);
    Ok(chunk.bytes)
}

type Read<T> = Result<T, String>;

/// Reads the profile slots of a chunk in order, as an iterator of slots (`None` for a
/// tombstone); the shapes are interned into the engine's table when the reader is made,
/// so the profiles' names are the engine's shared ones.
pub(super) struct SlotReader<'a> {
    reader: Reader<'a>,
    shapes: Vec<Arc<Shape>>,
    kinds: Vec<&'a str>,
    left: usize,
}

impl<'a> SlotReader<'a> {
    /// Reads the tables at the start of `bytes`, interning the shapes into `names`.
    pub(super) fn new(bytes: &'a [u8], names: &mut AttributeNames) -> Read<Self> {
        let mut reader = Reader { rest: bytes };
        let mut pairs = Vec::with_capacity(reader.count()?);
        for _ in 0..pairs.capacity() {
            pairs.push((reader.text()?, reader.text()?));
        }
        let mut shapes = Vec::with_capacity(reader.count()?);
        for _ in 0..shapes.capacity() {
            let len = reader.count()?;
            let mut listed = Vec::with_capacity(len);
            for _ in 0..len {
                let at = reader.unsigned()?;
                let pair = usize::try_from(at).ok().and_then(|at| pairs.get(at));
                listed.push(*pair.ok_or("an attribute name out of range")?);
            }
            let shape = names.stored_shape(listed);
            shapes.push(shape.ok_or("a shape whose names are not in order")?);
        }
        let mut kinds = Vec::with_capacity(reader.count()?);
        for _ in 0..kinds.capacity() {
            kinds.push(reader.text()?);
        }
        let left = reader.count()?;
        Ok(Self {
            reader,
            shapes,
            kinds,
            left,
        })
    }

    // Written with `let … else` and `match` rather than `ok_or`/`map_err`: at the size-first
    // optimization level those combinators stay calls, and this runs for every profile.
    fn profile(&mut self) -> Read<Profile> {
        let reader = &mut self.reader;
        let Ok(id) = <[u8; 16]>::try_from(reader.take(16)?) else {
            return Err("a short id".to_owned());
        };
        let id = ProfileId::from(Uuid::from_bytes(id));
        let created = reader.signed()?;
        let Some(updated) = created.checked_add(reader.signed()?) else {
            return Err("an update time out of range".to_owned());
        };
        let version = reader.unsigned()?;
        let count = reader.count()?;
        let mut identities = Identities::default();
        identities.reserve_exact(count);
        for _ in 0..count {
            let at = reader.unsigned()?;
            let Some(kind) = usize::try_from(at).ok().and_then(|at| self.kinds.get(at)) else {
                return Err("an identifier type out of range".to_owned());
            };
            let Some(identifier) = Identifier::stored(kind, reader.bytes()?) else {
                return Err("a text that is not UTF-8".to_owned());
            };
            identities.push(identifier);
        }
        let shape = match reader.unsigned()?.checked_sub(1) {
            None => None,
            Some(at) => match usize::try_from(at).ok().and_then(|at| self.shapes.get(at)) {
                Some(shape) => Some(shape),
                None => return Err("a shape out of range".to_owned()),
            },
        };
        let Some(attributes) = Attributes::from_stored(shape, reader.bytes()?) else {
            return Err(format!(
                "the values of profile {id} do not match their names"
            ));
        };
        let flags = reader.byte()?;
        let mut profile = Profile {
            id,
            identities,
            attributes,
            tags: Rare::default(),
            consents: Rare::default(),
            created: Timestamp::from_micros(created),
            updated: Timestamp::from_micros(updated),
            version,
            aliases: Rare::default(),
        };
        if flags != 0 {
            let mut stored = |flag: u8| -> Read<Option<&'a [u8]>> {
                if flags & flag == 0 {
                    Ok(None)
                } else {
                    reader.bytes().map(Some)
                }
            };
            let (tags, consents, aliases) = (stored(TAGS)?, stored(CONSENTS)?, stored(ALIASES)?);
            profile.tags = rare(tags)?;
            profile.consents = rare(consents)?;
            profile.aliases = rare(aliases)?;
        }
        Ok(profile)
    }

    fn slot(&mut self) -> Read<Option<Profile>> {
        match self.reader.byte()? {
            0 => Ok(None),
            1 => self.profile().map(Some),
            other => Err(format!("a slot marked {other}")),
        }
    }
}

impl Iterator for SlotReader<'_> {
    type Item = Read<Option<Profile>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return (!self.reader.rest.is_empty()).then(|| {
                self.reader.rest = &[];
                Err("bytes left over after the slots".to_owned())
            });
        }
        self.left -= 1;
        let slot = self.slot();
        if slot.is_err() {
            self.left = 0;
            self.reader.rest = &[];
        }
        Some(slot)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use chrono::NaiveDate;

    use super::*;
    use crate::model::{AttributeValue, SourceId, Value};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000 + seconds * 1_000)
    }

    /// Slots covering what one can hold: every kind of value on two sources, values written
    /// at different times, tags, consents, aliases, many identifiers of two types, a
    /// tombstone, a profile without values and one whose names the engine never shared.
    fn slots(names: &mut AttributeNames) -> Vec<Option<Profile>> {
        let crm = SourceId::new("crm");
        let default = SourceId::new(SourceId::DEFAULT);
        let values = [
            Value::String("Ann".into()),
            Value::Integer(-42),
            Value::Number(2.5),
            Value::Boolean(true),
            Value::Boolean(false),
            Value::Date(NaiveDate::from_ymd_opt(1990, 2, 28).unwrap()),
            Value::DateTime(at(-86_400)),
            Value::Set(BTreeSet::from(["a".to_owned(), "b".to_owned()])),
            Value::List(vec![Value::Integer(1), Value::String("two".into())]),
            Value::Object(BTreeMap::from([("k".to_owned(), Value::Number(0.5))])),
        ];
        let mut rich = Profile::new(ProfileId::random(), at(0));
        for (index, value) in values.iter().enumerate() {
            for source in [&default, &crm] {
                let written = at(index as i64 * i64::from(source == &crm));
                let key = format!("key{index}");
                rich.attributes.set(source, &key, value, written, names);
            }
        }
        rich.identities.extend((0..40).map(|index| {
            let kind = if index % 2 == 0 { "email" } else { "crm" };
            Identifier::normalized(kind, &format!("v{index}"))
        }));
        rich.tags.manual.insert("vip".to_owned());
        rich.tags.auto.insert("new".to_owned());
        rich.consents
            .insert("marketing".to_owned(), Value::Boolean(true));
        rich.aliases.push(ProfileId::random());
        rich.updated = at(99);
        rich.version = 7;
        let mut same_names = Profile::new(ProfileId::random(), at(5));
        let bo = Value::String("Bo".into());
        same_names
            .attributes
            .set(&default, "key0", &bo, at(5), names);
        let mut unshared = Profile::new(ProfileId::random(), at(6));
        let cy = AttributeValue {
            value: Value::String("Cy".into()),
            updated: at(6),
        };
        unshared.attributes.insert(&default, "key0", cy);
        let mut emptied = Profile::new(ProfileId::random(), at(7));
        emptied.tags.manual.insert("gone".to_owned());
        emptied.tags.manual.clear();
        vec![
            Some(rich),
            None,
            Some(same_names),
            Some(emptied),
            Some(unshared),
        ]
    }

    fn read(bytes: &[u8], names: &mut AttributeNames) -> Read<Vec<Option<Profile>>> {
        SlotReader::new(bytes, names)?.collect()
    }

    #[test]
    fn slots_read_back_as_written_with_the_engines_shapes() {
        let slots = slots(&mut AttributeNames::default());
        let bytes = encode(&slots).unwrap();
        let mut names = AttributeNames::default();
        let first = read(&bytes, &mut names).unwrap();
        assert_eq!(first, slots);
        let shape = |slots: &[Option<Profile>], at: usize| {
            let profile = slots[at].as_ref().unwrap();
            Arc::clone(profile.attributes.shape().unwrap())
        };
        assert!(
            Arc::ptr_eq(&shape(&first, 2), &shape(&first, 4)),
            "equal names, one shape"
        );
        let second = read(&bytes, &mut names).unwrap();
        assert!(
            Arc::ptr_eq(&shape(&first, 0), &shape(&second, 0)),
            "shapes are the engine's"
        );
    }

    #[test]
    fn damaged_slots_are_errors_never_panics() {
        let bytes = encode(&slots(&mut AttributeNames::default())).unwrap();
        for len in 0..bytes.len() {
            let cut = read(&bytes[..len], &mut AttributeNames::default());
            assert!(cut.is_err(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer, &mut AttributeNames::default()).is_err());
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5a;
            let _ = read(&flipped, &mut AttributeNames::default());
        }
    }

    /// A chunk of one name table, one shape, one type and one profile with `record`.
    fn chunk(
        pairs: &[(&str, &str)],
        shape: &[u64],
        kind: u64,
        shape_at: u64,
        record: &[u8],
    ) -> Vec<u8> {
        let mut chunk = Writer::default();
        chunk.unsigned(pairs.len() as u64);
        for (source, key) in pairs {
            chunk.bytes(source.as_bytes());
            chunk.bytes(key.as_bytes());
        }
        chunk.unsigned(1);
        chunk.unsigned(shape.len() as u64);
        for at in shape {
            chunk.unsigned(*at);
        }
        chunk.unsigned(1);
        chunk.bytes(b"email");
        chunk.unsigned(1);
        chunk.bytes.push(1);
        chunk.bytes.extend_from_slice(&[7; 16]);
        chunk.signed(1);
        chunk.signed(0);
        chunk.unsigned(1);
        chunk.unsigned(1);
        chunk.unsigned(kind);
        chunk.bytes(b"a@b.c");
        chunk.unsigned(shape_at);
        chunk.bytes(record);
        chunk.bytes.push(0);
        chunk.bytes
    }

    #[test]
    fn slots_that_do_not_add_up_are_errors() {
        let mut profile = Profile::new(ProfileId::random(), at(0));
        let names = &mut AttributeNames::default();
        for key in ["a", "b"] {
            let value = Value::Integer(1);
            profile
                .attributes
                .set(&SourceId::new("s"), key, &value, at(0), names);
        }
        let record = profile.attributes.stored_record();
        let pairs = [("s", "a"), ("s", "b")];
        let fine = chunk(&pairs, &[0, 1], 0, 1, record);
        assert_eq!(read(&fine, names).unwrap().len(), 1);
        let cases = [
            ("names out of order", chunk(&pairs, &[1, 0], 0, 1, record)),
            ("a name twice", chunk(&pairs, &[0, 0], 0, 1, record)),
            ("name out of range", chunk(&pairs, &[0, 2], 0, 1, record)),
            ("shape out of range", chunk(&pairs, &[0, 1], 0, 2, record)),
            (
                "values without a shape",
                chunk(&pairs, &[0, 1], 0, 0, record),
            ),
            ("a value short", chunk(&pairs, &[0], 0, 1, record)),
            (
                "a value over",
                chunk(&pairs, &[0, 1], 0, 1, &record[..record.len() - 1]),
            ),
            ("type out of range", chunk(&pairs, &[0, 1], 1, 1, record)),
        ];
        for (case, bytes) in cases {
            assert!(read(&bytes, names).is_err(), "{case}");
        }
    }

    /// How many live profiles an engine loaded from a snapshot of `profiles` alone holds.
    fn load(profiles: Vec<Option<Profile>>) -> Result<usize, String> {
        use crate::engine::{Engine, ManualClock, Packed, SnapshotChunk, SnapshotHeader};
        let header = SnapshotHeader {
            format: super::super::SNAPSHOT_FORMAT,
            next_offset: 0,
            profiles: profiles.len() as u64,
            merges: 0,
            events: 0,
            event_sequence: 0,
            traits: 0,
            segments: 0,
        };
        let chunks = [
            SnapshotChunk::Header(header),
            SnapshotChunk::ProfileSlots(Packed::from_bytes(encode(&profiles).unwrap())),
        ];
        Engine::from_snapshot(
            crate::identity::IdentityConfig::default(),
            crate::schema::SchemaConfig::default(),
            std::rc::Rc::new(ManualClock::starting_at(at(0))),
            chunks,
        )
        .map(|engine| engine.profile_count())
        .map_err(|error| error.to_string())
    }

    #[test]
    fn a_snapshot_giving_an_id_or_a_unique_identifier_twice_is_corrupt() {
        let person = |id: ProfileId, emails: &[&str]| {
            let mut profile = Profile::new(id, at(0));
            profile.identities.extend(
                emails
                    .iter()
                    .map(|email| Identifier::normalized("email", email)),
            );
            Some(profile)
        };
        let (ann, bob) = (ProfileId::random(), ProfileId::random());
        let fine = load(vec![
            person(ann, &["a@x.dk"]),
            None,
            person(bob, &["b@x.dk"]),
        ])
        .unwrap();
        assert_eq!(fine, 2);
        let twice = load(vec![person(ann, &["a@x.dk"]), person(ann, &["b@x.dk"])]);
        assert!(twice.unwrap_err().contains("appears twice"));
        let shared = load(vec![
            person(ann, &["a@x.dk"]),
            person(bob, &["b@x.dk", "a@x.dk"]),
        ]);
        assert!(shared.unwrap_err().contains("belongs to two profiles"));
        let mut absorbed = person(bob, &["b@x.dk"]);
        if let Some(profile) = &mut absorbed {
            profile.aliases.push(ann);
        }
        let alias = load(vec![absorbed, person(ann, &["a@x.dk"])]);
        assert!(
            alias.unwrap_err().contains("appears twice"),
            "an alias is an id"
        );
    }
}
