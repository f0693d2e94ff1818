//! The storage backends the binding can open, behind one [`Storage`].

use crate::engine::Change;
use crate::storage::indexeddb::IndexedDbStorage;
use crate::storage::js::JsStorage;
use crate::storage::{MemoryStorage, SnapshotManifest, Storage, StorageError};

/// Where one open engine keeps its data.
pub(crate) enum Backend {
    /// Nothing survives the process (tests, `serve` without `--data`).
    Memory(MemoryStorage),
    /// IndexedDB in the browser.
    IndexedDb(IndexedDbStorage),
    /// A JavaScript object (files for `serve --data`).
    Js(JsStorage),
}

impl Storage for Backend {
    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        match self {
            Self::Memory(storage) => storage.snapshots().await,
            Self::IndexedDb(storage) => storage.snapshots().await,
            Self::Js(storage) => storage.snapshots().await,
        }
    }

    async fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        match self {
            Self::Memory(storage) => storage.read_snapshot(manifest).await,
            Self::IndexedDb(storage) => storage.read_snapshot(manifest).await,
            Self::Js(storage) => storage.read_snapshot(manifest).await,
        }
    }

    async fn read_snapshot_each<E: From<StorageError>>(
        &self,
        manifest: &SnapshotManifest,
        each: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Self::Memory(storage) => storage.read_snapshot_each(manifest, each).await,
            Self::IndexedDb(storage) => storage.read_snapshot_each(manifest, each).await,
            Self::Js(storage) => storage.read_snapshot_each(manifest, each).await,
        }
    }

    async fn read_log(&self, from: u64) -> Result<Vec<Change>, StorageError> {
        match self {
            Self::Memory(storage) => storage.read_log(from).await,
            Self::IndexedDb(storage) => storage.read_log(from).await,
            Self::Js(storage) => storage.read_log(from).await,
        }
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        match self {
            Self::Memory(storage) => storage.append(changes).await,
            Self::IndexedDb(storage) => storage.append(changes).await,
            Self::Js(storage) => storage.append(changes).await,
        }
    }

    type SnapshotWriter = SnapshotWriter;

    fn begin_snapshot(&self, offset: u64, log_start: u64) -> Result<SnapshotWriter, StorageError> {
        Ok(match self {
            Self::Memory(storage) => {
                SnapshotWriter::Memory(storage.begin_snapshot(offset, log_start)?)
            }
            Self::IndexedDb(storage) => {
                SnapshotWriter::IndexedDb(storage.begin_snapshot(offset, log_start)?)
            }
            Self::Js(storage) => SnapshotWriter::Js(storage.begin_snapshot(offset, log_start)?),
        })
    }

    fn put_chunk(&self, writer: &mut SnapshotWriter, chunk: Vec<u8>) -> Result<(), StorageError> {
        match (self, writer) {
            (Self::Memory(storage), SnapshotWriter::Memory(writer)) => {
                storage.put_chunk(writer, chunk)
            }
            (Self::IndexedDb(storage), SnapshotWriter::IndexedDb(writer)) => {
                storage.put_chunk(writer, chunk)
            }
            (Self::Js(storage), SnapshotWriter::Js(writer)) => storage.put_chunk(writer, chunk),
            _ => Err(another_backends_writer()),
        }
    }

    async fn commit_snapshot(&self, writer: SnapshotWriter) -> Result<(), StorageError> {
        match (self, writer) {
            (Self::Memory(storage), SnapshotWriter::Memory(writer)) => {
                storage.commit_snapshot(writer).await
            }
            (Self::IndexedDb(storage), SnapshotWriter::IndexedDb(writer)) => {
                storage.commit_snapshot(writer).await
            }
            (Self::Js(storage), SnapshotWriter::Js(writer)) => {
                storage.commit_snapshot(writer).await
            }
            _ => Err(another_backends_writer()),
        }
    }

    fn take_created(&self) -> bool {
        match self {
            Self::Memory(storage) => storage.take_created(),
            Self::IndexedDb(storage) => storage.take_created(),
            Self::Js(storage) => storage.take_created(),
        }
    }
}

/// A snapshot being written to one of the backends.
pub(crate) enum SnapshotWriter {
    Memory(<MemoryStorage as Storage>::SnapshotWriter),
    IndexedDb(<IndexedDbStorage as Storage>::SnapshotWriter),
    Js(<JsStorage as Storage>::SnapshotWriter),
}

fn another_backends_writer() -> StorageError {
    StorageError::Failed("a snapshot writer of another backend".to_owned())
}
