use std::cell::RefCell;
use std::future::{ready, Future};

use super::codec::{decode_batch, encode_batch};
use super::{Storage, StorageError};
use crate::engine::Change;

/// Keeps encoded batches in memory: for tests and for Node without `--data`. Everything is
/// lost with the process.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    batches: RefCell<Vec<String>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Storage for MemoryStorage {
    fn load(&self) -> impl Future<Output = Result<Vec<Change>, StorageError>> {
        let mut changes = Vec::new();
        let loaded = self.batches.borrow().iter().try_for_each(|batch| {
            changes.extend(decode_batch(batch)?);
            Ok(())
        });
        ready(loaded.map(|()| changes))
    }

    fn append(&self, changes: &[Change]) -> impl Future<Output = Result<(), StorageError>> {
        ready(encode_batch(changes).map(|batch| self.batches.borrow_mut().push(batch)))
    }
}
