//! Where the change log is kept: the [`Storage`] trait, an in-memory backend for tests and
//! Node, and (in the browser) an IndexedDB backend.
//!
//! A backend stores batches of changes exactly as [`codec`] encodes them and hands them back
//! in order; it knows nothing of profiles.

pub mod codec;
mod error;
#[cfg(target_arch = "wasm32")]
pub mod indexeddb;
mod memory;

use std::future::Future;

pub use error::StorageError;
pub use memory::MemoryStorage;

use crate::engine::Change;

/// A durable home for the change log.
pub trait Storage {
    /// Every stored change, in offset order.
    fn load(&self) -> impl Future<Output = Result<Vec<Change>, StorageError>>;

    /// Appends one batch of changes, resolving only once the batch is durable. A batch is
    /// stored whole or not at all.
    fn append(&self, changes: &[Change]) -> impl Future<Output = Result<(), StorageError>>;
}
