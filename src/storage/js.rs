//! A backend whose bytes live wherever a JavaScript object puts them: `serve --data DIR` hands
//! one that keeps the log and snapshots in files (`js/file-storage.js`). Encoding, decoding,
//! checksums of frames and the retention rule stay here in Rust, so the files hold exactly the
//! records IndexedDB holds.
//!
//! The object's methods, each returning a promise:
//!
//! * `manifests()` → `Uint8Array[]`: every stored manifest frame;
//! * `readSnapshot(offset)` → `Uint8Array[]`: the chunk frames of that snapshot, in order;
//! * `readLog(from)` → `Uint8Array[]`: the batch frames of records whose first offset is
//!   `from` or more, in order;
//! * `append(offsets, frames)`: stores the frames (keyed by their first offsets) durably and
//!   all together, or none of them;
//! * `writeSnapshot(offset, logStart, manifest, chunks)`: stores the snapshot durably, then
//!   drops snapshots and log records below `logStart`.
//!
//! A rejection with an object whose `code` is a storage code (`storage.quota_exceeded`, …)
//! becomes that error; anything else is `storage.failed`.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::codec::{
    decode_batch, encode_batch, encode_frame, manifests_newest_first, MANIFEST_MAGIC,
};
use super::{
    hand_over, retained_log_start, SnapshotManifest, Storage, StorageError, CHANGES_PER_RECORD,
};
use crate::engine::Change;

#[wasm_bindgen]
extern "C" {
    /// The JavaScript object that stores the bytes.
    #[derive(Clone, Debug)]
    pub type JsBackend;

    #[wasm_bindgen(method, catch)]
    fn manifests(this: &JsBackend) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = readSnapshot)]
    fn read_snapshot(this: &JsBackend, offset: f64) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = readLog)]
    fn read_log(this: &JsBackend, from: f64) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn append(this: &JsBackend, offsets: Vec<f64>, frames: Array) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = writeSnapshot)]
    fn write_snapshot(
        this: &JsBackend,
        offset: f64,
        log_start: f64,
        manifest: Uint8Array,
        chunks: Array,
    ) -> Result<Promise, JsValue>;
}

/// Storage implemented by a JavaScript object (see the module docs).
#[derive(Debug)]
pub struct JsStorage {
    backend: JsBackend,
}

impl JsStorage {
    /// Wraps the object.
    pub fn new(backend: JsValue) -> Self {
        Self {
            backend: backend.unchecked_into(),
        }
    }
}

/// Offsets stay far below 2^53, so they are exact as JS numbers.
#[allow(clippy::cast_precision_loss)]
fn number(offset: u64) -> f64 {
    offset as f64
}

async fn settle(call: Result<Promise, JsValue>) -> Result<JsValue, StorageError> {
    let promise = call.map_err(js_error)?;
    JsFuture::from(promise).await.map_err(js_error)
}

async fn frames(call: Result<Promise, JsValue>) -> Result<Vec<Vec<u8>>, StorageError> {
    let value = settle(call).await?;
    let list: Array = value
        .dyn_into()
        .map_err(|_| StorageError::Failed("the storage did not answer a list".to_owned()))?;
    list.iter()
        .map(|item| {
            item.dyn_into::<Uint8Array>()
                .map(|bytes| bytes.to_vec())
                .map_err(|_| StorageError::Corrupt("a stored record is not binary".to_owned()))
        })
        .collect()
}

fn js_error(error: JsValue) -> StorageError {
    let text = |name: &str| {
        Reflect::get(&error, &JsValue::from_str(name))
            .ok()
            .and_then(|value| value.as_string())
            .unwrap_or_default()
    };
    let message = text("message");
    match text("code").as_str() {
        "storage.quota_exceeded" | "ENOSPC" | "EDQUOT" => StorageError::QuotaExceeded,
        "storage.closed" => StorageError::Closed,
        "storage.blocked" => StorageError::Blocked,
        "storage.corrupt" => StorageError::Corrupt(message),
        "storage.conflict" => StorageError::Conflict,
        "storage.unavailable" => StorageError::Unavailable(message),
        other => StorageError::Failed(format!("{other} {message}").trim().to_owned()),
    }
}

impl Storage for JsStorage {
    async fn snapshots(&self) -> Result<Vec<SnapshotManifest>, StorageError> {
        let frames = frames(self.backend.manifests()).await?;
        Ok(manifests_newest_first(frames.iter().map(Vec::as_slice)))
    }

    async fn read_snapshot(
        &self,
        manifest: &SnapshotManifest,
    ) -> Result<Vec<Vec<u8>>, StorageError> {
        frames(self.backend.read_snapshot(number(manifest.offset))).await
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
        for bytes in frames(self.backend.read_log(number(from))).await? {
            changes.extend(decode_batch(&bytes)?);
        }
        Ok(changes)
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        let mut offsets = Vec::new();
        let records = Array::new();
        for part in changes.chunks(CHANGES_PER_RECORD) {
            if let Some(first) = part.first() {
                offsets.push(number(first.offset));
                records.push(&Uint8Array::from(encode_batch(part)?.as_slice()));
            }
        }
        if offsets.is_empty() {
            return Ok(());
        }
        settle(self.backend.append(offsets, records))
            .await
            .map(drop)
    }

    /// The snapshot's offset, the log start it keeps, and its chunks copied out so far.
    type SnapshotWriter = (u64, u64, Array);

    fn begin_snapshot(
        &self,
        offset: u64,
        log_start: u64,
    ) -> Result<Self::SnapshotWriter, StorageError> {
        Ok((offset, log_start, Array::new()))
    }

    fn put_chunk(
        &self,
        (_, _, chunks): &mut Self::SnapshotWriter,
        chunk: Vec<u8>,
    ) -> Result<(), StorageError> {
        chunks.push(&Uint8Array::from(chunk.as_slice()));
        Ok(())
    }

    async fn commit_snapshot(
        &self,
        (offset, log_start, chunks): Self::SnapshotWriter,
    ) -> Result<(), StorageError> {
        let manifest = super::manifest_of(offset, log_start, chunks.length() as usize)?;
        let manifest_frame = encode_frame(MANIFEST_MAGIC, &manifest)?;
        settle(self.backend.write_snapshot(
            number(manifest.offset),
            number(manifest.log_start),
            Uint8Array::from(manifest_frame.as_slice()),
            chunks,
        ))
        .await
        .map(drop)
    }
}
