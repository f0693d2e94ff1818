use std::cell::RefCell;
use std::collections::BTreeMap;

use super::codec::{decode_batch, encode_batch};
use super::{
    hand_over, retained_log_start, SnapshotManifest, Storage, StorageError, CHANGES_PER_RECORD,
};
use crate::engine::Change;

/// A stored snapshot: its manifest and its encoded chunks.
type StoredSnapshot = (SnapshotManifest, Vec<Vec<u8>>);

/// Keeps encoded records in memory: for tests and for Node without `--data`. Everything is
/// lost with the process. Records go through the same codec as the durable backends, so
/// tests exercise it. A clone is an independent copy of every stored record.
#[derive(Clone, Debug, Default)]
pub struct MemoryStorage {
    log: RefCell<BTreeMap<u64, Vec<u8>>>,
    snapshots: RefCell<BTreeMap<u64, StoredSnapshot>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces chunk `index` of the snapshot at `offset` with `bytes`: how tests simulate a
    /// corrupted record.
    pub fn overwrite_chunk(&self, offset: u64, index: usize, bytes: Vec<u8>) {
        if let Some(chunk) = self
            .snapshots
            .borrow_mut()
            .get_mut(&offset)
            .and_then(|(_, chunks)| chunks.get_mut(index))
        {
            *chunk = bytes;
        }
    }

    /// How many log records are stored.
    pub fn log_records(&self) -> usize {
        self.log.borrow().len()
    }
}

impl Storage for MemoryStorage {
    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        Ok(self
            .snapshots
            .borrow()
            .values()
            .rev()
            .map(|(manifest, _)| *manifest)
            .collect())
    }

    async fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        self.snapshots
            .borrow()
            .get(&manifest.offset)
            .map(|(_, chunks)| chunks.clone())
            .ok_or_else(|| StorageError::Corrupt(format!("snapshot {} is gone", manifest.offset)))
    }

    async fn read_snapshot_each<E: From<StorageError>>(
        &self,
        manifest: &SnapshotManifest,
        each: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        hand_over(self.read_snapshot(manifest).await?, each)
    }

    async fn read_log(&self, from: u64) -> Result<Vec<Change>, StorageError> {
        let oldest = retained_log_start(&self.snapshots().await?);
        if from < oldest {
            return Err(StorageError::Expired {
                requested: from,
                oldest,
            });
        }
        let mut changes = Vec::new();
        for bytes in self.log.borrow().range(from..).map(|(_, bytes)| bytes) {
            changes.extend(decode_batch(bytes)?);
        }
        Ok(changes)
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        let mut records = Vec::new();
        for part in changes.chunks(CHANGES_PER_RECORD) {
            if let Some(first) = part.first() {
                records.push((first.offset, encode_batch(part)?));
            }
        }
        let mut log = self.log.borrow_mut();
        if records.iter().any(|(first, _)| log.contains_key(first)) {
            return Err(StorageError::Conflict);
        }
        log.extend(records);
        Ok(())
    }

    type SnapshotWriter = (u64, u64, Vec<Vec<u8>>);

    fn begin_snapshot(
        &self,
        offset: u64,
        log_start: u64,
    ) -> Result<Self::SnapshotWriter, StorageError> {
        Ok((offset, log_start, Vec::new()))
    }

    fn put_chunk(
        &self,
        (_, _, chunks): &mut Self::SnapshotWriter,
        chunk: Vec<u8>,
    ) -> Result<(), StorageError> {
        chunks.push(chunk);
        Ok(())
    }

    async fn commit_snapshot(
        &self,
        (offset, log_start, chunks): Self::SnapshotWriter,
    ) -> Result<(), StorageError> {
        let manifest = super::manifest_of(offset, log_start, chunks.len())?;
        let mut snapshots = self.snapshots.borrow_mut();
        snapshots.insert(manifest.offset, (manifest, chunks));
        snapshots.retain(|offset, _| *offset >= manifest.log_start);
        self.log
            .borrow_mut()
            .retain(|offset, _| *offset >= manifest.log_start);
        Ok(())
    }
}
