//! The binding's persistence surface: catching up with other tabs, snapshots, export and
//! import. Converts and delegates to [`Database`](crate::engine::Database).

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::{cdp_error, engine_error, promise_now, utf8_text, CdpCore};
use crate::engine::{EngineError, ImportBatch};
use crate::storage::codec::decode_batch;

fn set(target: &Object, name: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(name), value);
}

#[allow(clippy::cast_precision_loss)]
fn number(value: u64) -> JsValue {
    JsValue::from_f64(value as f64)
}

#[wasm_bindgen]
impl CdpCore {
    /// Applies every change stored past this engine's offset (another tab's writes);
    /// resolves to how many were applied.
    #[wasm_bindgen(js_name = catchUp)]
    pub fn catch_up(&self) -> Promise {
        let inner = self.inner();
        promise_now(Box::pin(async move {
            inner.open()?;
            let applied = inner
                .database
                .catch_up()
                .await
                .map_err(|error| engine_error(&error))?;
            Ok(number(applied))
        }))
    }

    /// Applies a batch frame another tab announced (skipping what this engine has, filling a
    /// gap from storage).
    #[wasm_bindgen(js_name = applyRemote)]
    pub fn apply_remote(&self, frame: Uint8Array) -> Promise {
        let inner = self.inner();
        promise_now(Box::pin(async move {
            inner.open()?;
            let changes = decode_batch(&frame.to_vec())
                .map_err(|error| cdp_error(error.code(), &error.to_string()))?;
            inner
                .database
                .apply_remote(changes)
                .await
                .map_err(|error| engine_error(&error))?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Writes a snapshot now and compacts the log.
    pub fn snapshot(&self) -> Promise {
        let inner = self.inner();
        promise_now(Box::pin(async move {
            inner.open()?;
            inner
                .database
                .write_snapshot()
                .await
                .map_err(|error| engine_error(&error))?;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Whether enough was written since the newest snapshot for a new one; the facade then
    /// queues [`CdpCore::snapshot`] behind the write.
    #[wasm_bindgen(js_name = snapshotDue)]
    pub fn snapshot_due(&self) -> Result<bool, JsValue> {
        self.inner.open()?;
        Ok(self.inner.database.snapshot_due())
    }

    /// `{ offset, snapshotOffset, skippedSnapshots: [{ code, message }] }`: where the log
    /// stands, the newest snapshot, and the snapshots the last load skipped as unreadable.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        self.inner.open()?;
        let database = &self.inner.database;
        let offset = database
            .read(|engine| engine.next_offset())
            .map_err(|error| engine_error(&error))?;
        let info = Object::new();
        set(&info, "offset", &number(offset));
        let snapshot = database.snapshot_offset().map_or(JsValue::NULL, number);
        set(&info, "snapshotOffset", &snapshot);
        let skipped: js_sys::Array = database
            .skipped_snapshots()
            .iter()
            .map(|error| {
                let entry = Object::new();
                set(&entry, "code", &JsValue::from_str(error.code()));
                set(&entry, "message", &JsValue::from_str(&error.to_string()));
                JsValue::from(entry)
            })
            .collect();
        set(&info, "skippedSnapshots", &skipped);
        Ok(info.into())
    }

    /// The header line of an export.
    #[wasm_bindgen(js_name = exportHeader)]
    pub fn export_header(&self) -> Result<String, JsValue> {
        self.inner.open()?;
        self.inner
            .database
            .read(|engine| engine.export_header())
            .map_err(|error| engine_error(&error))
    }

    /// Export lines of up to `limit` profiles from position `start`; `""` past the end.
    #[wasm_bindgen(js_name = exportProfiles)]
    pub fn export_profiles(&self, start: u32, limit: u32) -> Result<String, JsValue> {
        self.inner.open()?;
        self.inner
            .database
            .read(|engine| engine.export_profiles(start as usize, limit as usize))
            .map_err(|error| engine_error(&error))
    }

    /// Reads the next whole lines of an import document into the pending import (starting
    /// one when none is pending). A malformed line throws with its `line` number and drops
    /// the pending import.
    #[wasm_bindgen(js_name = importLines)]
    pub fn import_lines(&self, text: Vec<u8>) -> Result<(), JsValue> {
        let text = utf8_text(text, "an import document")?;
        self.inner.open()?;
        let mut pending = self.inner.import.borrow_mut();
        let batch = pending.get_or_insert_with(ImportBatch::new);
        if let Err(error) = batch.read_lines(&text) {
            *pending = None;
            return Err(engine_error(&EngineError::Import(error)));
        }
        Ok(())
    }

    /// Applies the pending import as one write; resolves to the number of profiles
    /// imported once durable. A refused import changes nothing.
    #[wasm_bindgen(js_name = importCommit)]
    pub fn import_commit(&self) -> Promise {
        let inner = self.inner();
        promise_now(Box::pin(async move {
            inner.open()?;
            let batch = inner.import.borrow_mut().take().unwrap_or_default();
            // An import is not re-run on a lost race (its batch is consumed): the facade
            // catches up under the writer lock first.
            let (count, changes) = inner
                .database
                .write_with_changes(|engine| engine.import(batch))
                .await
                .map_err(|error| engine_error(&error))?;
            let count = count.map_err(|error| engine_error(&error))?;
            inner.keep_committed(changes);
            Ok(number(count as u64))
        }))
    }

    /// Drops the pending import.
    #[wasm_bindgen(js_name = importAbort)]
    pub fn import_abort(&self) {
        self.inner.import.borrow_mut().take();
    }
}
