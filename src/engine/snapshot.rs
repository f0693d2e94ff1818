//! The engine's snapshot: its whole state as a sequence of independent chunks, produced by
//! [`Engine::snapshot_chunks`] and consumed by [`Engine::from_snapshot`]. Storage frames
//! each chunk as one record (see `storage::codec`), so no stored value is huge and a corrupt
//! chunk is detected on its own.
//!
//! # What new engine state must add
//!
//! The snapshot holds *source state* only: what cannot be recomputed from other state.
//! Derived indexes are rebuilt on load by [`Engine::from_snapshot`] (today: the id → slot map
//! and the identity index; later: segment columns and memberships, trait values that are pure
//! functions of events). A piece of new state is either
//!
//! 1. **source state** (events, merge history, attribute schemas, segment definitions…): add a
//!    new variant at the *end* of [`SnapshotChunk`] holding at most [`RECORDS_PER_CHUNK`]
//!    records, emit it in [`Engine::snapshot_chunks`], accept it in
//!    [`Engine::from_snapshot`], and count it in [`SnapshotHeader`] with a
//!    `#[serde(default)]` field so older snapshots still load; or
//! 2. **derived state**: rebuild it at the end of [`Engine::from_snapshot`], and say so here.
//!
//! Records are encoded with structs as arrays (positional). Adding a field to a stored struct
//! (e.g. [`Profile`]) therefore means appending it *last* with `#[serde(default)]`, so older
//! records still read; reordering, renaming the type of, or removing a field needs a new
//! [`SNAPSHOT_FORMAT`] and a decoder for the old one. The same holds for the change log:
//! new [`Operation`](super::Operation) variants are fine (they are tagged by name), new
//! fields of an existing variant go last with `#[serde(default)]`. `snapshot_plus_replay_equals_live_engine`
//! in the tests guards the round trip.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::MergeRecord;
use crate::model::Profile;
use crate::schema::Schema;

/// The version of the snapshot layout this build writes and reads.
pub const SNAPSHOT_FORMAT: u32 = 1;

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
}
