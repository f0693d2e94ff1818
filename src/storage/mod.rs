//! Where the engine's data is kept: the [`Storage`] trait, an in-memory backend for tests and
//! Node, and (in the browser) an IndexedDB backend. `serve --data` implements the same trait
//! over files from JavaScript (see `js/file-storage.js`).
//!
//! A backend keeps two things:
//!
//! * the **change log**, appended in batches (one record per batch of at most
//!   [`CHANGES_PER_RECORD`] changes, keyed by the offset of its first change; one `append` is
//!   stored whole or not at all);
//! * **snapshots**: a [`SnapshotManifest`] plus its chunks, each chunk one record framed by
//!   [`codec`] with a checksum.
//!
//! Retention (compaction) is one rule every backend follows when it stores a snapshot whose
//! manifest says `log_start = S`: drop snapshots older than `S` and log records whose first
//! offset is below `S`. The engine sets `S` to the offset of the previous snapshot, so the
//! newest snapshot, the one before it and the log from the older one on are always kept: a
//! corrupt newest snapshot falls back to the previous one plus the log.

/// The seven compound traits of a serde serializer, for a compound type with `element` (an
/// item, a field or a map key), `map_value`, `skip` (a struct field left out) and `finish`:
/// the compact encoding and the MessagePack writer differ only in those.
macro_rules! serialize_compound {
    ($compound:ty, $error:ty) => {
        serialize_compound!(@items $compound, $error,
            SerializeSeq serialize_element,
            SerializeTuple serialize_element,
            SerializeTupleStruct serialize_field,
            SerializeTupleVariant serialize_field);
        serialize_compound!(@fields $compound, $error, SerializeStruct, SerializeStructVariant);

        impl serde::ser::SerializeMap for $compound {
            type Ok = ();
            type Error = $error;
            fn serialize_key<T: serde::Serialize + ?Sized>(
                &mut self,
                key: &T,
            ) -> std::result::Result<(), $error> {
                self.element(key)
            }
            fn serialize_value<T: serde::Serialize + ?Sized>(
                &mut self,
                value: &T,
            ) -> std::result::Result<(), $error> {
                self.map_value(value)
            }
            fn end(self) -> std::result::Result<(), $error> {
                self.finish()
            }
        }
    };
    // The compounds of items without names: each item is an element.
    (@items $compound:ty, $error:ty, $($trait:ident $method:ident),*) => {
        $(
            impl serde::ser::$trait for $compound {
                type Ok = ();
                type Error = $error;
                fn $method<T: serde::Serialize + ?Sized>(
                    &mut self,
                    value: &T,
                ) -> std::result::Result<(), $error> {
                    self.element(value)
                }
                fn end(self) -> std::result::Result<(), $error> {
                    self.finish()
                }
            }
        )*
    };
    // The compounds of named fields: a field is an element, a skipped one is the
    // compound's to record.
    (@fields $compound:ty, $error:ty, $($trait:ident),*) => {
        $(
            impl serde::ser::$trait for $compound {
                type Ok = ();
                type Error = $error;
                fn serialize_field<T: serde::Serialize + ?Sized>(
                    &mut self,
                    _key: &'static str,
                    value: &T,
                ) -> std::result::Result<(), $error> {
                    self.element(value)
                }
                fn skip_field(&mut self, key: &'static str) -> std::result::Result<(), $error> {
                    self.skip(key)
                }
                fn end(self) -> std::result::Result<(), $error> {
                    self.finish()
                }
            }
        )*
    };
}

pub mod codec;
pub mod compact;
mod error;
#[cfg(target_arch = "wasm32")]
pub mod indexeddb;
#[cfg(target_arch = "wasm32")]
pub mod js;
mod log_batch;
mod memory;
pub(crate) mod msgpack;

use std::future::Future;

use serde::{Deserialize, Serialize};

pub use error::StorageError;
pub use memory::MemoryStorage;

use crate::engine::Change;

/// Most changes one stored log record holds; a larger append is split into several records
/// written together.
pub const CHANGES_PER_RECORD: usize = 4_096;

/// Describes one stored snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotManifest {
    /// The offset of the first change the snapshot does not include; also its key.
    pub offset: u64,
    /// How many chunks it has.
    pub chunks: u32,
    /// The oldest log offset kept alongside it (the previous snapshot's offset, or 0).
    pub log_start: u64,
}

/// A durable home for the change log and snapshots.
pub trait Storage {
    /// Manifests of the stored snapshots, newest first.
    fn snapshots(&self) -> impl Future<Output = Result<Vec<SnapshotManifest>, StorageError>>;

    /// The raw chunks of one snapshot, in order; decoding (and so detecting corruption) is
    /// the caller's.
    fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, StorageError>>;

    /// Hands the raw chunks of one snapshot to `each` in order, stopping at its first error,
    /// so a caller decodes the first chunks while a backend that can is still reading the
    /// rest, and never holds them all. No default: a backend that wraps another must pass
    /// this on, or loading would silently wait for every chunk ([`hand_over`] is for a backend
    /// that reads them all at once anyway).
    fn read_snapshot_each<E: From<StorageError>>(
        &self,
        manifest: &SnapshotManifest,
        each: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> impl Future<Output = Result<(), E>>;

    /// Every stored change from offset `from` on, in offset order. `from` must be the start
    /// of a stored batch or the end of the log. Fails with [`StorageError::Expired`] when
    /// compaction dropped changes at `from`.
    fn read_log(&self, from: u64) -> impl Future<Output = Result<Vec<Change>, StorageError>>;

    /// Appends one batch of changes, resolving only once the batch is durable. A batch is
    /// stored whole or not at all.
    fn append(&self, changes: &[Change]) -> impl Future<Output = Result<(), StorageError>>;

    /// A snapshot being written ([`Storage::begin_snapshot`]).
    type SnapshotWriter;

    /// Starts a snapshot at `offset` that keeps the log from `log_start`: its chunks are
    /// handed over one at a time ([`Storage::put_chunk`]), so the writer never needs the
    /// whole snapshot at once, and nothing is stored unless [`Storage::commit_snapshot`]
    /// succeeds (a writer dropped uncommitted leaves the storage as it was).
    fn begin_snapshot(
        &self,
        offset: u64,
        log_start: u64,
    ) -> Result<Self::SnapshotWriter, StorageError>;

    /// Hands over the snapshot's next chunk; the backend keeps the bytes (or its own copy).
    fn put_chunk(
        &self,
        writer: &mut Self::SnapshotWriter,
        chunk: Vec<u8>,
    ) -> Result<(), StorageError>;

    /// Stores the chunks handed over and the snapshot's manifest together, then applies the
    /// retention rule (module docs) for its `log_start`, all or nothing.
    fn commit_snapshot(
        &self,
        writer: Self::SnapshotWriter,
    ) -> impl Future<Output = Result<(), StorageError>>;

    /// Whether opening this backend created its store, so it holds nothing yet and loading
    /// need not read it. True at most once: later loads (a reload after a failed write, say)
    /// read what is stored by then.
    fn take_created(&self) -> bool {
        false
    }
}

/// [`Storage::read_snapshot_each`] for chunks read all at once: hands them to `each` in order,
/// stopping at its first error.
pub fn hand_over<E>(
    chunks: Vec<Vec<u8>>,
    mut each: impl FnMut(Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    chunks.into_iter().try_for_each(&mut each)
}

/// The manifest of a snapshot at `offset` keeping the log from `log_start`, of `chunks`
/// chunks.
pub fn manifest_of(
    offset: u64,
    log_start: u64,
    chunks: usize,
) -> Result<SnapshotManifest, StorageError> {
    Ok(SnapshotManifest {
        offset,
        chunks: u32::try_from(chunks)
            .map_err(|_| StorageError::Failed("too many snapshot chunks".to_owned()))?,
        log_start,
    })
}

/// The oldest log offset still stored, given the manifests newest first.
pub fn retained_log_start(manifests: &[SnapshotManifest]) -> u64 {
    manifests.first().map_or(0, |newest| newest.log_start)
}

/// A shared reference to a backend is a backend: several databases (tabs, in tests) can
/// share one store.
impl<T: Storage> Storage for &T {
    fn snapshots(&self) -> impl Future<Output = Result<Vec<SnapshotManifest>, StorageError>> {
        (**self).snapshots()
    }

    fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> impl Future<Output = Result<Vec<Vec<u8>>, StorageError>> {
        (**self).read_snapshot(manifest)
    }

    fn read_snapshot_each<E: From<StorageError>>(
        &self,
        manifest: &SnapshotManifest,
        each: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> impl Future<Output = Result<(), E>> {
        (**self).read_snapshot_each(manifest, each)
    }

    fn read_log(&self, from: u64) -> impl Future<Output = Result<Vec<Change>, StorageError>> {
        (**self).read_log(from)
    }

    fn append(&self, changes: &[Change]) -> impl Future<Output = Result<(), StorageError>> {
        (**self).append(changes)
    }

    type SnapshotWriter = T::SnapshotWriter;

    fn begin_snapshot(
        &self,
        offset: u64,
        log_start: u64,
    ) -> Result<Self::SnapshotWriter, StorageError> {
        (**self).begin_snapshot(offset, log_start)
    }

    fn put_chunk(
        &self,
        writer: &mut Self::SnapshotWriter,
        chunk: Vec<u8>,
    ) -> Result<(), StorageError> {
        (**self).put_chunk(writer, chunk)
    }

    fn commit_snapshot(
        &self,
        writer: Self::SnapshotWriter,
    ) -> impl Future<Output = Result<(), StorageError>> {
        (**self).commit_snapshot(writer)
    }

    fn take_created(&self) -> bool {
        (**self).take_created()
    }
}
