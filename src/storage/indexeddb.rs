//! The change log in IndexedDB: one object store of encoded batches keyed by their first
//! offset. Every append is its own `readwrite` transaction with strict durability, and
//! resolves only when the transaction completes.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbRequest, IdbTransaction,
};

use super::codec::{decode_batch, encode_batch};
use super::{Storage, StorageError};
use crate::engine::Change;

/// The schema version of the database this build creates.
const SCHEMA_VERSION: u32 = 1;
/// The object store holding the change log.
const LOG_STORE: &str = "log";

#[wasm_bindgen]
extern "C" {
    /// An `IDBDatabase` seen through the one call web-sys keeps behind its unstable flag.
    #[wasm_bindgen(js_name = IDBDatabase)]
    type DatabaseWithOptions;

    /// `IDBDatabase.transaction(names, mode, options)`.
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        store: &str,
        mode: &str,
        options: &Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// An IndexedDB database holding one engine's change log.
#[derive(Debug)]
pub struct IndexedDbStorage {
    database: IdbDatabase,
}

impl IndexedDbStorage {
    /// Opens (creating or upgrading as needed) the database called `name`.
    pub async fn open(name: &str) -> Result<Self, StorageError> {
        let factory: IdbFactory = Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
            .ok()
            .and_then(|found| found.dyn_into().ok())
            .ok_or_else(|| {
                StorageError::Unavailable("this environment has no IndexedDB".to_owned())
            })?;
        let request: IdbOpenDbRequest = factory
            .open_with_u32(name, SCHEMA_VERSION)
            .map_err(storage_error)?;
        let upgrading = request.clone();
        let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            if let Ok(result) = upgrading.result() {
                let database: IdbDatabase = result.unchecked_into();
                if !database.object_store_names().contains(LOG_STORE) {
                    // A failure here aborts the upgrade, which fails the open request below.
                    let _ = database.create_object_store(LOG_STORE);
                }
            }
        });
        request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let opened = request_done(&request).await;
        request.set_onupgradeneeded(None);
        drop(upgrade);
        opened?;
        let database: IdbDatabase = request.result().map_err(storage_error)?.unchecked_into();
        Ok(Self { database })
    }

    /// Closes the connection; later calls fail with [`StorageError::Closed`].
    pub fn close(&self) {
        self.database.close();
    }

    fn transaction(&self, mode: &str) -> Result<IdbTransaction, StorageError> {
        let options = Object::new();
        Reflect::set(
            &options,
            &JsValue::from_str("durability"),
            &JsValue::from_str("strict"),
        )
        .map_err(storage_error)?;
        self.database
            .unchecked_ref::<DatabaseWithOptions>()
            .transaction_with_options(LOG_STORE, mode, &options)
            .map_err(storage_error)
    }
}

impl Storage for IndexedDbStorage {
    async fn load(&self) -> Result<Vec<Change>, StorageError> {
        let transaction = self.transaction("readonly")?;
        let store = transaction.object_store(LOG_STORE).map_err(storage_error)?;
        let request = store.get_all().map_err(storage_error)?;
        request_done(&request).await?;
        let batches: Array = request.result().map_err(storage_error)?.unchecked_into();
        let mut changes = Vec::new();
        for batch in batches.iter() {
            let text = batch
                .as_string()
                .ok_or_else(|| StorageError::Corrupt("a stored batch is not text".to_owned()))?;
            changes.extend(decode_batch(&text)?);
        }
        Ok(changes)
    }

    async fn append(&self, changes: &[Change]) -> Result<(), StorageError> {
        let Some(first) = changes.first() else {
            return Ok(());
        };
        let batch = encode_batch(changes)?;
        let transaction = self.transaction("readwrite")?;
        let store = transaction.object_store(LOG_STORE).map_err(storage_error)?;
        // Offsets stay far below 2^53, so the key is exact as a JS number.
        #[allow(clippy::cast_precision_loss)]
        let key = JsValue::from_f64(first.offset as f64);
        store
            .put_with_key(&JsValue::from_str(&batch), &key)
            .map_err(storage_error)?;
        transaction_done(&transaction).await
    }
}

/// Resolves when `request` succeeds; rejects with its error.
async fn request_done(request: &IdbRequest) -> Result<(), StorageError> {
    let settled = Promise::new(&mut |resolve: Function, reject: Function| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let outcome = JsFuture::from(settled).await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    outcome.map(drop).map_err(|_| {
        request
            .error()
            .ok()
            .flatten()
            .map_or_else(unknown_failure, dom_error)
    })
}

/// Resolves when `transaction` has completed (and so is durable); rejects if it aborts.
async fn transaction_done(transaction: &IdbTransaction) -> Result<(), StorageError> {
    let settled = Promise::new(&mut |resolve: Function, reject: Function| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onerror(Some(&reject));
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
        "InvalidStateError" => StorageError::Closed,
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
