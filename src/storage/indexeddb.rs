//! The engine's data in IndexedDB (schema version 2):
//!
//! | store | key | value |
//! |---|---|---|
//! | `log` | offset of the record's first change | a batch frame (`Uint8Array`, format 3, or 2 when written by an earlier build), or a format-1 JSON text batch from a database written before |
//! | `snapshots` | `[snapshot offset, chunk index]` | a snapshot chunk frame |
//! | `manifests` | snapshot offset | a manifest frame |
//!
//! Every write is one `readwrite` transaction, strict durability unless the caller asked for
//! relaxed, and resolves only when the transaction completes. A snapshot's transaction
//! leaves the log out of its scope, so appends run beside it; the log it makes obsolete is
//! dropped in a transaction of its own after it. Log records are *added*, never
//! overwritten, so two writers that both believe they own an offset cannot both succeed.
//! Reads take one transaction (one round trip) each, reading whole ranges with `getAll`. A
//! database the open just created (the upgrade started from version 0) is not read at all.
//!
//! Opening, upgrading and the schema version are `js/idb-open.js`'s: the package opens the
//! database while the wasm compiles and hands the connection over. Migration: version 1 (the first stored format) had
//! only `log`, of JSON text batches. Upgrading adds the other stores; old batches stay as
//! they are and decode as format 1.
//!
//! A connection closes itself when another one asks for a version change (an upgrade or a
//! delete, in this tab or another), so it never blocks it; later calls fail with
//! `storage.closed`. That handler is plain JS bound to the connection, not engine code: it
//! still runs once the engine is dropped or its instance trapped. Dropping the storage (an
//! open that failed, an engine freed) closes the connection too.

use std::cell::Cell;

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction};

use super::codec::{
    decode_batch, decode_legacy_batch, encode_batch, encode_frame, manifests_newest_first,
    MANIFEST_MAGIC,
};
use super::{retained_log_start, SnapshotManifest, Storage, StorageError, CHANGES_PER_RECORD};
use crate::engine::Change;

/// The change log.
const LOG_STORE: &str = "log";
/// Snapshot chunks.
const SNAPSHOT_STORE: &str = "snapshots";
/// Snapshot chunks read by one request when loading (each at most 2,000 records).
const CHUNKS_PER_READ: u32 = 4;
/// Snapshot manifests.
const MANIFEST_STORE: &str = "manifests";

/// How hard a write transaction insists on reaching the disk before it completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Completes only once the data is flushed to disk (the default): an acknowledged write
    /// survives a crash of the browser or the machine.
    #[default]
    Strict,
    /// Completes once the browser has the data; faster, but a machine crash right after may
    /// lose the last writes.
    Relaxed,
}

impl Durability {
    fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Relaxed => "relaxed",
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` seen through the one call web-sys keeps behind its unstable flag.
    #[wasm_bindgen(js_name = IDBDatabase)]
    type DatabaseWithOptions;

    /// `IDBDatabase.transaction(names, mode, options)`.
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        stores: &JsValue,
        mode: &str,
        options: &Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// An IndexedDB database holding one engine's log and snapshots.
pub struct IndexedDbStorage {
    database: IdbDatabase,
    durability: Durability,
    /// Set when this open created the database; taken by the first load.
    created: Cell<bool>,
}

impl Drop for IndexedDbStorage {
    fn drop(&mut self) {
        self.database.close();
    }
}

impl std::fmt::Debug for IndexedDbStorage {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IndexedDbStorage")
            .field("name", &self.database.name())
            .field("durability", &self.durability)
            .field("created", &self.created.get())
            .finish()
    }
}

impl IndexedDbStorage {
    /// Takes over the database an `openDatabase` call of `js/idb-open.js` is opening (the
    /// package starts it before the wasm is ready, so the two overlap). Fails with
    /// `storage.blocked` when an old connection in another tab keeps the upgrade from
    /// running, `storage.unavailable` where there is no IndexedDB.
    pub async fn opened(opening: Promise, durability: Durability) -> Result<Self, StorageError> {
        let opened = JsFuture::from(opening).await.map_err(storage_error)?;
        let field = |name: &str| Reflect::get(&opened, &JsValue::from_str(name));
        let database: IdbDatabase = field("database")
            .ok()
            .and_then(|found| found.dyn_into().ok())
            .ok_or_else(|| StorageError::Failed("the open gave no IDBDatabase".to_owned()))?;
        Ok(Self {
            database,
            durability,
            created: Cell::new(
                field("created").ok().and_then(|found| found.as_bool()) == Some(true),
            ),
        })
    }

    /// Closes the connection; later calls fail with [`StorageError::Closed`].
    pub fn close(&self) {
        self.database.close();
    }

    /// Deletes the log records below `offset`.
    async fn drop_log_below(&self, offset: u64) -> Result<(), StorageError> {
        let transaction = self.transaction(&[LOG_STORE], "readwrite")?;
        store(&transaction, LOG_STORE)?
            .delete(&keys_below(&key(offset))?)
            .map_err(storage_error)?;
        transaction_done(&transaction).await
    }

    fn transaction(&self, stores: &[&str], mode: &str) -> Result<IdbTransaction, StorageError> {
        let options = Object::new();
        Reflect::set(
            &options,
            &JsValue::from_str("durability"),
            &JsValue::from_str(self.durability.as_str()),
        )
        .map_err(storage_error)?;
        let names: Array = stores.iter().map(|name| JsValue::from_str(name)).collect();
        self.database
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(&names, mode, &options)
            .map_err(storage_error)
    }

    async fn read_manifests(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        let transaction = self.transaction(&[MANIFEST_STORE], "readonly")?;
        let request = store(&transaction, MANIFEST_STORE)?
            .get_all()
            .map_err(storage_error)?;
        transaction_done(&transaction).await?;
        manifests_from(&request)
    }
}

fn store(transaction: &IdbTransaction, name: &str) -> Result<IdbObjectStore, StorageError> {
    transaction.object_store(name).map_err(storage_error)
}

/// Offsets stay far below 2^53, so a key is exact as a JS number.
#[allow(clippy::cast_precision_loss)]
fn key(offset: u64) -> JsValue {
    JsValue::from_f64(offset as f64)
}

/// The bytes of a stored `Uint8Array` or `ArrayBuffer`, copied once into wasm memory
/// (`new Uint8Array(array)` would copy a typed array first).
fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        Some(array.to_vec())
    } else if value.is_instance_of::<js_sys::ArrayBuffer>() {
        Some(Uint8Array::new(value).to_vec())
    } else {
        None
    }
}

fn manifests_from(request: &IdbRequest) -> Result<Vec<SnapshotManifest>, StorageError> {
    let values: Array = request.result().map_err(storage_error)?.unchecked_into();
    let frames: Vec<Vec<u8>> = values.iter().filter_map(|value| bytes_of(&value)).collect();
    Ok(manifests_newest_first(frames.iter().map(Vec::as_slice)))
}

impl Storage for IndexedDbStorage {
    fn take_created(&self) -> bool {
        self.created.replace(false)
    }

    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        self.read_manifests().await
    }

    async fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        // The manifest's chunks only: a snapshot cut off by a trap before its commit may
        // have left chunks of its own at the same offset.
        let Some(last) = manifest.chunks.checked_sub(1) else {
            return Ok(Vec::new());
        };
        let transaction = self.transaction(&[SNAPSHOT_STORE], "readonly")?;
        let range = IdbKeyRange::bound(
            &Array::of2(&key(manifest.offset), &JsValue::from(0)),
            &Array::of2(&key(manifest.offset), &JsValue::from(last)),
        )
        .map_err(storage_error)?;
        let request = store(&transaction, SNAPSHOT_STORE)?
            .get_all_with_key(&range)
            .map_err(storage_error)?;
        transaction_done(&transaction).await?;
        let values: Array = request.result().map_err(storage_error)?.unchecked_into();
        values
            .iter()
            .map(|value| {
                bytes_of(&value).ok_or_else(|| {
                    StorageError::Corrupt("a snapshot chunk is not binary".to_owned())
                })
            })
            .collect()
    }

    /// Asks for every chunk up front, [`CHUNKS_PER_READ`] to a request, and hands each
    /// request's chunks on as it completes: IndexedDB reads the later ones while the first
    /// are decoded.
    async fn read_snapshot_each<E: From<StorageError>>(
        &self,
        manifest: &SnapshotManifest,
        mut each: impl FnMut(Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let transaction = self.transaction(&[SNAPSHOT_STORE], "readonly")?;
        let snapshots = store(&transaction, SNAPSHOT_STORE)?;
        let mut requests = Vec::new();
        for first in (0..manifest.chunks).step_by(CHUNKS_PER_READ as usize) {
            let last = first.saturating_add(CHUNKS_PER_READ - 1);
            let bound = |index: u32| Array::of2(&key(manifest.offset), &JsValue::from(index));
            let range = IdbKeyRange::bound(&bound(first), &bound(last)).map_err(storage_error)?;
            let request = snapshots.get_all_with_key(&range).map_err(storage_error)?;
            let settled = request_done(&request);
            requests.push((request, settled));
        }
        for (request, settled) in requests {
            JsFuture::from(settled)
                .await
                .map_err(|_| request_error(&request))?;
            let values: Array = request.result().map_err(storage_error)?.unchecked_into();
            for value in values.iter() {
                let bytes = bytes_of(&value).ok_or_else(|| {
                    StorageError::Corrupt("a snapshot chunk is not binary".to_owned())
                })?;
                each(bytes)?;
            }
        }
        Ok(())
    }

    async fn read_log(&self, from: u64) -> Result<Vec<Change>, StorageError> {
        let transaction = self.transaction(&[LOG_STORE, MANIFEST_STORE], "readonly")?;
        let manifests = store(&transaction, MANIFEST_STORE)?
            .get_all()
            .map_err(storage_error)?;
        let range = IdbKeyRange::lower_bound(&key(from)).map_err(storage_error)?;
        let records = store(&transaction, LOG_STORE)?
            .get_all_with_key(&range)
            .map_err(storage_error)?;
        transaction_done(&transaction).await?;
        let oldest = retained_log_start(&manifests_from(&manifests)?);
        if from < oldest {
            return Err(StorageError::Expired {
                requested: from,
                oldest,
            });
        }
        let values: Array = records.result().map_err(storage_error)?.unchecked_into();
        let mut changes = Vec::new();
        for value in values.iter() {
            if let Some(text) = value.as_string() {
                changes.extend(decode_legacy_batch(&text)?);
            } else if let Some(bytes) = bytes_of(&value) {
                changes.extend(decode_batch(&bytes)?);
            } else {
                return Err(StorageError::Corrupt(
                    "a log record is neither text nor binary".to_owned(),
                ));
            }
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
        if records.is_empty() {
            return Ok(());
        }
        let transaction = self.transaction(&[LOG_STORE], "readwrite")?;
        let log = store(&transaction, LOG_STORE)?;
        for (offset, bytes) in records {
            log.add_with_key(&Uint8Array::from(bytes.as_slice()), &key(offset))
                .map_err(storage_error)?;
        }
        transaction_done(&transaction).await
    }

    type SnapshotWriter = IdbSnapshotWriter;

    fn begin_snapshot(
        &self,
        offset: u64,
        log_start: u64,
    ) -> Result<IdbSnapshotWriter, StorageError> {
        Ok(IdbSnapshotWriter {
            // Not over the log: appends go on while the snapshot commits.
            transaction: self.transaction(&[SNAPSHOT_STORE, MANIFEST_STORE], "readwrite")?,
            offset,
            log_start,
            chunks: 0,
            committed: false,
        })
    }

    fn put_chunk(
        &self,
        writer: &mut IdbSnapshotWriter,
        chunk: Vec<u8>,
    ) -> Result<(), StorageError> {
        #[allow(clippy::cast_precision_loss)]
        let chunk_key = Array::of2(
            &key(writer.offset),
            &JsValue::from_f64(writer.chunks as f64),
        );
        store(&writer.transaction, SNAPSHOT_STORE)?
            .put_with_key(&Uint8Array::from(chunk.as_slice()), &chunk_key)
            .map_err(storage_error)?;
        writer.chunks += 1;
        Ok(())
    }

    async fn commit_snapshot(&self, mut writer: IdbSnapshotWriter) -> Result<(), StorageError> {
        let manifest = super::manifest_of(writer.offset, writer.log_start, writer.chunks)?;
        let manifest_bytes = encode_frame(MANIFEST_MAGIC, &manifest)?;
        let transaction = &writer.transaction;
        let manifests = store(transaction, MANIFEST_STORE)?;
        manifests
            .put_with_key(
                &Uint8Array::from(manifest_bytes.as_slice()),
                &key(manifest.offset),
            )
            .map_err(storage_error)?;
        if manifest.log_start > 0 {
            let cutoff = key(manifest.log_start);
            manifests
                .delete(&keys_below(&cutoff)?)
                .map_err(storage_error)?;
            store(transaction, SNAPSHOT_STORE)?
                .delete(&keys_below(&Array::of1(&cutoff))?)
                .map_err(storage_error)?;
        }
        writer.committed = true;
        transaction_done(&writer.transaction).await?;
        if manifest.log_start > 0 {
            // The log below the retained start, dropped once the manifest that retains less
            // is stored. Records left there by a failure here are never read (the manifest
            // says where the log starts) and go with the next compaction.
            let _ = self.drop_log_below(manifest.log_start).await;
        }
        Ok(())
    }
}

/// A snapshot being written to IndexedDB: one transaction over the snapshot and manifest
/// stores, each chunk put (copied out of the wasm) as it is handed over. Dropped
/// before [`Storage::commit_snapshot`] has made its requests, it aborts the transaction, so
/// no chunk of an unfinished snapshot stays. (A trap while chunks are made runs no drop:
/// its chunks may then be stored without a manifest, which no read follows, until the
/// retention rule deletes them.)
#[derive(Debug)]
pub struct IdbSnapshotWriter {
    transaction: IdbTransaction,
    offset: u64,
    log_start: u64,
    chunks: usize,
    committed: bool,
}

impl Drop for IdbSnapshotWriter {
    fn drop(&mut self) {
        if !self.committed {
            // Already finished or aborted is the only failure, and then nothing is pending.
            let _ = self.transaction.abort();
        }
    }
}

/// The range of keys below `bound`, excluding it.
fn keys_below(bound: &JsValue) -> Result<JsValue, StorageError> {
    IdbKeyRange::upper_bound_with_open(bound, true)
        .map(JsValue::from)
        .map_err(storage_error)
}

/// A promise settled by `request`'s success or error, made before either can fire.
fn request_done(request: &IdbRequest) -> Promise {
    Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    })
}

fn request_error(request: &IdbRequest) -> StorageError {
    request
        .error()
        .ok()
        .flatten()
        .map_or_else(unknown_failure, dom_error)
}

/// Resolves when `transaction` has completed (and so is durable); rejects if it aborts. A
/// failed request aborts its transaction, whose `error` then names the cause.
async fn transaction_done(transaction: &IdbTransaction) -> Result<(), StorageError> {
    let settled = Promise::new(&mut |resolve: Function, reject: Function| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&reject));
    });
    let outcome = JsFuture::from(settled).await;
    outcome
        .map(drop)
        .map_err(|_| transaction.error().map_or_else(unknown_failure, dom_error))
}

fn unknown_failure() -> StorageError {
    StorageError::Failed("IndexedDB reported a failure without an error".to_owned())
}

fn dom_error(error: DomException) -> StorageError {
    match error.name().as_str() {
        "QuotaExceededError" => StorageError::QuotaExceeded,
        "BlockedError" => StorageError::Blocked,
        "UnavailableError" => StorageError::Unavailable(error.message()),
        "InvalidStateError" | "AbortError" => StorageError::Closed,
        "ConstraintError" => StorageError::Conflict,
        "VersionError" => StorageError::Failed(format!(
            "the database was written by a newer version of cdp-engine: {}",
            error.message()
        )),
        name => StorageError::Failed(format!("{name}: {}", error.message())),
    }
}

fn storage_error(error: JsValue) -> StorageError {
    match error.dyn_into::<DomException>() {
        Ok(dom) => dom_error(dom),
        Err(other) => {
            StorageError::Failed(other.as_string().unwrap_or_else(|| format!("{other:?}")))
        }
    }
}
