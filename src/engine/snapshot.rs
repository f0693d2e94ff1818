//! The engine's snapshot: its whole state as a sequence of independent chunks, produced by
//! [`Engine::snapshot_chunks`] and consumed by [`Engine::from_snapshot`]. Storage frames
//! each chunk as one record (see `storage::codec`), so no stored value is huge and a corrupt
//! chunk is detected on its own.
//!
//! # What the snapshot holds
//!
//! Source state, and derived state that cannot be recomputed exactly:
//!
//! * profile slots (tombstones included), the merges in force and the declared schema;
//! * events with their arrival numbers (which order equal times and make event cursors);
//! * each computed trait's definition *and* its folded values and pending refolds: a fold is
//!   not a pure function of the events now (floating-point sums depend on arrival order, a
//!   sliding window holds what was folded until the next tick refolds it), so values are
//!   stored as folded rather than refolded at load time;
//! * each segment's definition, members, ever-members and entry/exit history (history and
//!   time-dependent membership cannot be recomputed), and the scope all scans share.
//!
//! Rebuilt on load by [`Engine::from_snapshot`], because each is a pure function of the
//! above and cheaper to rebuild than to read: the id → slot map and the identity index, the
//! event store's id and name indexes, the segment columns (from profiles and trait values)
//! and which segments read which events and traits.
//!
//! # What new engine state must add
//!
//! A piece of new state is either
//!
//! 1. **stored state**: add a new variant at the *end* of [`SnapshotChunk`] holding at most
//!    [`RECORDS_PER_CHUNK`] records, emit it in [`Engine::snapshot_chunks`], accept it in
//!    [`SnapshotLoader::add`](super::SnapshotLoader::add), and count it in
//!    [`SnapshotHeader`] with a `#[serde(default)]` field so older snapshots still load; or
//! 2. **derived state**: rebuild it at the end of [`Engine::from_snapshot`], and say so above.
//!
//! Records are encoded with structs as arrays (positional). Adding a field to a stored struct
//! (e.g. a segment's state) therefore means appending it *last* with `#[serde(default)]`, so
//! older records still read; reordering, renaming the type of, or removing a field needs a
//! new [`SNAPSHOT_FORMAT`] and a decoder for the old one. Profiles are the exception: their
//! slots are written by hand (`super::snapshot_profiles`), attribute values as the engine's
//! packed record (`crate::model::Attributes`), so a new [`Profile`] field, or any change to
//! that record's layout, needs a new format (or a new flag in the slot's flags byte) and a
//! reader for format 3. The same holds for the change log:
//! new [`Operation`](super::Operation) variants are fine (they are tagged by name), new
//! fields of an existing variant go last with `#[serde(default)]`. `snapshot_plus_replay_equals_live_engine`
//! in the tests guards the round trip.
//!
//! # Formats
//!
//! * Format 1 held profiles, merges and the schema only (an engine holding events, traits
//!   or segments wrote none). It still loads: `tests/fixtures/snapshot-format-1.hex`.
//! * Format 2 adds events, traits and segments, and packs profile slots, events, trait
//!   values and history in the compact encoding ([`crate::storage::compact`]):
//!   `tests/fixtures/snapshot-format-2.hex` guards it.
//! * Format 3 (this build) stores profile slots as [`SnapshotChunk::ProfileSlots`]: each
//!   chunk lists the attribute names, sets of names (shapes) and identifier types its
//!   profiles use once, and each profile's values as its packed record, so loading copies
//!   the record and shares the shape instead of decoding, re-encoding and interning every
//!   value. `tests/fixtures/snapshot-format-3.hex` guards it.

use std::borrow::Cow;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::MergeRecord;
use crate::model::{Event, Profile};
use crate::schema::Schema;
use crate::segments::SegmentDefinition;
use crate::storage::{compact, StorageError};
use crate::traits::TraitDefinition;

/// The version of the snapshot layout this build writes.
pub const SNAPSHOT_FORMAT: u32 = 3;

/// The snapshot layouts this build reads: every one written so far.
pub const READABLE_SNAPSHOT_FORMATS: [u32; 3] = [1, 2, 3];

/// Most records one chunk holds.
pub const RECORDS_PER_CHUNK: usize = 2_000;

/// The first chunk of every snapshot: what the rest must add up to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHeader {
    /// The layout version, [`SNAPSHOT_FORMAT`].
    pub format: u32,
    /// The offset of the first change the snapshot does *not* include.
    pub next_offset: u64,
    /// How many profile slots (live profiles and tombstones) the profile chunks hold.
    pub profiles: u64,
    /// How many merge records the merge chunks hold.
    pub merges: u64,
    /// How many events the event chunks hold (format 2).
    #[serde(default)]
    pub events: u64,
    /// The arrival number the next event gets (format 2).
    #[serde(default)]
    pub event_sequence: u64,
    /// How many computed traits the trait chunks define (format 2).
    #[serde(default)]
    pub traits: u64,
    /// How many segments the segment chunks define (format 2).
    #[serde(default)]
    pub segments: u64,
}

/// Records of one chunk in the compact encoding ([`crate::storage::compact`]), carried as one
/// MessagePack byte string: the bulk of a snapshot (profiles, events, trait values, history)
/// decodes without MessagePack's per-field type markers and names, and MessagePack needs
/// one byte-string reader for all of them rather than one per record type.
#[derive(Clone, Debug, PartialEq)]
pub struct Packed(Vec<u8>);

impl Packed {
    /// Encodes `records` compactly.
    pub fn encode<T: Serialize + ?Sized>(records: &T) -> Result<Self, StorageError> {
        let mut bytes = Vec::with_capacity(4_096);
        compact::encode_into(&mut bytes, records)
            .map_err(|error| StorageError::Failed(format!("encoding failed: {error}")))?;
        Ok(Self(bytes))
    }

    /// Decodes the records as the type they were encoded from; anything else, or damaged
    /// bytes, is [`StorageError::Corrupt`].
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StorageError> {
        compact::decode(&self.0).map_err(StorageError::from)
    }

    /// Records encoded by other means than [`Packed::encode`].
    pub(super) fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The encoded records.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Packed {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Packed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(PackedVisitor)
    }
}

struct PackedVisitor;

impl serde::de::Visitor<'_> for PackedVisitor {
    type Value = Packed;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("packed records")
    }

    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
        Ok(Packed(bytes.to_vec()))
    }

    fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
        Ok(Packed(bytes))
    }
}

/// One stored event: the profile slot it belongs to, its arrival number and the event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The slot of the profile it belongs to.
    pub slot: u32,
    /// Its arrival number.
    pub sequence: u64,
    /// The event.
    pub event: Rc<Event>,
}

/// One chunk of a snapshot. Variants are only ever appended, never reordered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SnapshotChunk<'a> {
    /// The header, always first.
    Header(SnapshotHeader),
    /// Profile slots in creation order; `None` is the tombstone of a profile merged away,
    /// which an unmerge fills again.
    Profiles(Cow<'a, [Option<Profile>]>),
    /// Merges in force, each able to be undone.
    Merges(Vec<MergeRecord>),
    /// The declared sources and attributes, with their state.
    Schema(Schema),
    /// Profile slots in creation order, as [`SnapshotChunk::Profiles`] (format 2, packed
    /// `Vec<Option<Profile>>`).
    PackedProfiles(Packed),
    /// Events, profile by profile, each profile's in time order (packed `Vec<EventRecord>`).
    Events(Packed),
    /// A computed trait, in name order; its values and deadlines follow.
    Trait(TraitDefinition),
    /// Folded values of the trait before (packed [`crate::traits::TraitCells`]).
    TraitCells(Packed),
    /// Pending refolds of the trait before (packed [`crate::traits::TraitDeadlines`]).
    TraitDeadlines(Packed),
    /// What every segment scan shares, before the segments (packed
    /// [`crate::segments::SegmentScope`]).
    SegmentScope(Packed),
    /// A segment, in system-title order, and its state (packed
    /// [`crate::segments::StoredSegment`]); its history follows.
    Segment(SegmentDefinition, Packed),
    /// Entry/exit history of the segment before, oldest first (packed
    /// [`crate::segments::SegmentHistory`]).
    SegmentHistory(Packed),
    /// Profile slots in creation order (format 3): as [`SnapshotChunk::PackedProfiles`], with
    /// each profile's attribute values as their packed record, in the layout of
    /// `super::snapshot_profiles`.
    ProfileSlots(Packed),
}
