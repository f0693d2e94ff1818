//! The `#[wasm_bindgen]` surface: converts between JS and Rust and delegates to
//! [`Database`] and [`Api`]. It holds no domain rules.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

mod backend;
mod membership;
mod promise;
mod sync;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::api::{Api, ApiError, Credentials, Method, Request};
use crate::config::Config;
use crate::engine::{
    Change, Database, DatabaseOptions, Engine, EngineError, ExecuteError, Execution, ImportBatch,
    SystemClock,
};
use crate::model::{Profile, ProfileId};
use crate::storage::codec::encode_batch;
use crate::storage::indexeddb::{Durability, IndexedDbStorage};
use crate::storage::js::JsStorage;
use crate::storage::MemoryStorage;
use backend::Backend;
use promise::promise_now;
use serde::Serialize;

/// Logs a Rust panic to the console before the instance traps, so a bug is visible. (The
/// release build of `make build` traps at once instead, without the message.)
#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&info.to_string()))
    }));
}

/// Text the facade hands over as UTF-8 bytes (`utf8` in `js/cdp-error.js`): its
/// `TextEncoder` encodes natively, where a string parameter crosses through wasm-bindgen's
/// glue, which copies ASCII one character at a time in JS (17.6 MB of commands took 85-175
/// ms that way against 4-6 ms). Bytes that are not UTF-8 cannot come from the facade.
fn utf8_text(bytes: Vec<u8>, what: &str) -> Result<String, JsValue> {
    String::from_utf8(bytes)
        .map_err(|_| cdp_error("cdp.invalid_argument", &format!("{what} is not UTF-8 text")))
}

/// Most changes a write announces to other tabs with its changes (about 1 MB encoded);
/// a larger write is announced without them.
const LARGEST_ANNOUNCED_CHANGES: usize = 12_000;

/// An engine error for the facade: a plain `{ code, message }` object, which the facade turns
/// into the one `CdpError` the caller sees (`toCdpError`). Not a JS `Error`: creating one
/// captures a stack trace, which the facade's error captures again, and a refused write
/// (an identity conflict, a bad value) is an answer of the engine, not a rare event.
fn cdp_error(code: &str, message: &str) -> JsValue {
    let error = Object::new();
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    let _ = Reflect::set(
        &error,
        &JsValue::from_str("message"),
        &JsValue::from_str(message),
    );
    error.into()
}

fn engine_error(error: &EngineError) -> JsValue {
    let value = cdp_error(error.code(), &error.to_string());
    if let EngineError::Import(import) = error {
        #[allow(clippy::cast_precision_loss)]
        let line = JsValue::from_f64(import.line() as f64);
        let _ = Reflect::set(&value, &JsValue::from_str("line"), &line);
    }
    value
}

/// An `execute` error: the engine's code and, for a refused batch record, its `index`.
fn execute_error(error: &ExecuteError) -> JsValue {
    let value = engine_error(error.engine_error());
    if let Some(index) = error.record() {
        let _ = Reflect::set(
            &value,
            &JsValue::from_str("message"),
            &JsValue::from_str(&error.to_string()),
        );
        #[allow(clippy::cast_precision_loss)]
        let index = JsValue::from_f64(index as f64);
        let _ = Reflect::set(&value, &JsValue::from_str("index"), &index);
    }
    value
}

/// Reads an optional string option of `Cdp.open`.
fn option_text(options: &JsValue, name: &str) -> Option<String> {
    Reflect::get(options, &JsValue::from_str(name))
        .ok()
        .and_then(|value| value.as_string())
}

struct Inner {
    database: Database<Backend>,
    api: RefCell<Api>,
    closed: Cell<bool>,
    /// The changes the last write made durable, for the facade to announce to other tabs.
    committed: RefCell<Vec<Change>>,
    /// An import document being read, before it is applied.
    import: RefCell<Option<ImportBatch>>,
    /// Whether the facade announces writes to other tabs (and so wants `committed`).
    announce: bool,
}

impl Inner {
    /// Keeps a write's changes for [`CdpCore::take_committed`] when they are announced.
    fn keep_committed(&self, changes: Vec<Change>) {
        if self.announce {
            *self.committed.borrow_mut() = changes;
        }
    }

    fn open(&self) -> Result<(), JsValue> {
        if self.closed.get() {
            Err(cdp_error("cdp.closed", "this database is closed"))
        } else {
            Ok(())
        }
    }
}

/// One open engine: its database, storage and REST surface.
#[wasm_bindgen]
pub struct CdpCore {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl CdpCore {
    /// Opens an engine with `config` on `storage` (`"indexeddb"`, `"memory"` or `"js"`),
    /// replaying what is stored. `options`: `durability` (`"strict"` or `"relaxed"`,
    /// IndexedDB), `opening` (IndexedDB: the promise of an `openDatabase` call of
    /// `js/idb-open.js`; the connection is then the engine's to close),
    /// `backend` (the object a `"js"` storage keeps its bytes in),
    /// `snapshotMinChanges`, `announce` (keep each write's changes for `takeCommitted`).
    /// Resolves to the `CdpCore`; a trap while replaying rejects it.
    pub fn open(config: JsValue, storage: String, options: JsValue) -> Promise {
        promise_now(Box::pin(async move {
            Self::open_with(config, storage, options)
                .await
                .map(JsValue::from)
        }))
    }
}

impl CdpCore {
    async fn open_with(
        config: JsValue,
        storage: String,
        options: JsValue,
    ) -> Result<CdpCore, JsValue> {
        let config: Config = if config.is_undefined() || config.is_null() {
            Config::default()
        } else {
            // Through JSON text, so unknown keys are refused as `Config::from_json` refuses them.
            let text = js_sys::JSON::stringify(&config)
                .ok()
                .and_then(|text| text.as_string())
                .ok_or_else(|| {
                    cdp_error(
                        "config.invalid",
                        "the configuration is not JSON-serializable",
                    )
                })?;
            Config::from_json(&text).map_err(|error| cdp_error(error.code(), &error.to_string()))?
        };
        let durability = match option_text(&options, "durability").as_deref() {
            None | Some("strict") => Durability::Strict,
            Some("relaxed") => Durability::Relaxed,
            Some(other) => {
                return Err(cdp_error(
                    "cdp.invalid_argument",
                    &format!("durability must be 'strict' or 'relaxed', not `{other}`"),
                ))
            }
        };
        let announce = Reflect::get(&options, &JsValue::from_str("announce"))
            .ok()
            .and_then(|value| value.as_bool())
            .unwrap_or(false);
        let mut database_options = DatabaseOptions {
            snapshot_after_write: false,
            ..DatabaseOptions::default()
        };
        if let Some(count) = Reflect::get(&options, &JsValue::from_str("snapshotMinChanges"))
            .ok()
            .and_then(|value| value.as_f64())
            .filter(|count| count.is_finite() && *count >= 1.0)
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let whole = count as u64;
            database_options.snapshot_min_changes = whole;
        }
        let backend = match storage.as_str() {
            "memory" => Backend::Memory(MemoryStorage::new()),
            "indexeddb" => {
                let opening = Reflect::get(&options, &JsValue::from_str("opening"))
                    .ok()
                    .and_then(|found| found.dyn_into::<Promise>().ok())
                    .ok_or_else(|| {
                        cdp_error(
                            "cdp.invalid_argument",
                            "indexeddb storage takes the promise of an openDatabase call as `opening`",
                        )
                    })?;
                Backend::IndexedDb(
                    IndexedDbStorage::opened(opening, durability)
                        .await
                        .map_err(|error| cdp_error(error.code(), &error.to_string()))?,
                )
            }
            "js" => Backend::Js(JsStorage::new(
                Reflect::get(&options, &JsValue::from_str("backend")).unwrap_or_default(),
            )),
            other => {
                return Err(cdp_error(
                    "config.invalid",
                    &format!("unknown storage `{other}`"),
                ))
            }
        };
        let database = Database::open_configured(
            backend,
            config.identity.clone(),
            config.schema.clone(),
            Rc::new(SystemClock),
            database_options,
        )
        .await
        .map_err(|error| engine_error(&error))?;
        let api = RefCell::new(Api::new(&config));
        Ok(Self {
            inner: Rc::new(Inner {
                database,
                api,
                closed: Cell::new(false),
                committed: RefCell::new(Vec::new()),
                import: RefCell::new(None),
                announce,
            }),
        })
    }
}

#[wasm_bindgen]
impl CdpCore {
    /// Serves one REST request; resolves to `[status, headers, body]` with headers as flat
    /// name/value pairs, once any write the request made is durable.
    pub fn handle(
        &self,
        method: String,
        target: String,
        headers: Vec<String>,
        body: String,
    ) -> Promise {
        serve(self.inner(), method, target, headers, body, Caller::Client)
    }

    /// Serves one `/cdp/v1` request for the package's typed helpers, past the `/cdp/v1` key
    /// check; resolves like [`CdpCore::handle`].
    #[wasm_bindgen(js_name = handleOwn)]
    pub fn handle_own(&self, method: String, target: String, body: String) -> Promise {
        serve(
            self.inner(),
            method,
            target,
            Vec::new(),
            body,
            Caller::Helpers,
        )
    }

    /// Applies a command (or a batch `{"batch": [...]}`) given as JSON text in UTF-8 bytes
    /// ([`utf8_text`]); resolves to the outcome as JSON once durable. A refused batch record
    /// rejects with its `index`.
    pub fn execute(&self, command: Vec<u8>) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise_now(Box::pin(async move {
            let command = utf8_text(command, "the command")?;
            inner.open()?;
            let (outcome, changes) = inner
                .database
                .write_fresh(|engine| {
                    Execution::from_json(&command, engine.identity_config())
                        .and_then(|execution| execution.run(engine))
                })
                .await
                .map_err(|error| engine_error(&error))?;
            inner.keep_committed(changes);
            let executed = outcome.map_err(|error| execute_error(&error))?;
            Ok(JsValue::from_str(&executed.to_json_text()))
        }))
    }

    /// [`CdpCore::execute`] given the command as a JS object, read without JSON text
    /// (serde-wasm-bindgen). The package sends JSON text, which the benchmark suite measures
    /// as the faster crossing (scenario 6); this path is what it is compared with.
    #[wasm_bindgen(js_name = executeObject)]
    pub fn execute_object(&self, command: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise_now(Box::pin(async move {
            inner.open()?;
            let (outcome, changes) = inner
                .database
                .write_fresh(|engine| {
                    let data = serde_wasm_bindgen::Deserializer::from(command.clone());
                    Execution::from_serde(data, engine.identity_config())
                        .and_then(|execution| execution.run(engine))
                })
                .await
                .map_err(|error| engine_error(&error))?;
            inner.keep_committed(changes);
            let executed = outcome.map_err(|error| execute_error(&error))?;
            Ok(JsValue::from_str(&executed.to_json_text()))
        }))
    }

    /// The canonical profile with this id as a plain JS object, or `undefined`.
    pub fn profile(&self, id: &str) -> Result<JsValue, JsValue> {
        self.inner.open()?;
        let id: ProfileId = id.parse().map_err(|error: crate::model::ModelError| {
            cdp_error(error.code(), &error.to_string())
        })?;
        let profile = self
            .inner
            .database
            .read(|engine| engine.profile(id).map(Profile::to_json))
            .map_err(|error| engine_error(&error))?;
        match profile {
            Some(json) => json
                .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
                .map_err(|error| cdp_error("cdp.internal", &error.to_string())),
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// How many profiles are stored.
    #[wasm_bindgen(js_name = profileCount)]
    pub fn profile_count(&self) -> Result<u32, JsValue> {
        self.inner.open()?;
        let count = self
            .inner
            .database
            .read(Engine::profile_count)
            .map_err(|error| engine_error(&error))?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Replaces the credentials of the dialects named in `credentials` (JSON of the config's
    /// shape, credential keys only: `{"chartmogul": {"accounts": [...]}}`).
    #[wasm_bindgen(js_name = setCredentials)]
    pub fn set_credentials(&self, credentials: &str) -> Result<(), JsValue> {
        self.inner.open()?;
        let credentials = Credentials::from_json(credentials)
            .map_err(|error| cdp_error(error.code(), &error.to_string()))?;
        self.inner.api.borrow_mut().set_credentials(&credentials);
        Ok(())
    }

    /// The changes the last write made durable as one batch frame (what IndexedDB stores),
    /// or `undefined` when it changed nothing; taking them clears them. A write of more than
    /// [`LARGEST_ANNOUNCED_CHANGES`] changes (a large batch) gives an empty frame instead: it
    /// is announced without its changes, and the other tabs read them from storage.
    #[wasm_bindgen(js_name = takeCommitted)]
    pub fn take_committed(&self) -> Result<Option<Uint8Array>, JsValue> {
        let changes = std::mem::take(&mut *self.inner.committed.borrow_mut());
        if changes.is_empty() {
            return Ok(None);
        }
        if changes.len() > LARGEST_ANNOUNCED_CHANGES {
            return Ok(Some(Uint8Array::new_with_length(0)));
        }
        let frame =
            encode_batch(&changes).map_err(|error| cdp_error(error.code(), &error.to_string()))?;
        Ok(Some(Uint8Array::from(frame.as_slice())))
    }

    /// Closes the database; later calls fail with `cdp.closed`.
    pub fn close(&self) {
        self.inner.closed.set(true);
        if let Backend::IndexedDb(storage) = self.inner.database.storage() {
            storage.close();
        }
    }
}

impl CdpCore {
    fn inner(&self) -> Rc<Inner> {
        Rc::clone(&self.inner)
    }
}

/// Who a request comes from: a `fetch` client or the package's own helpers.
#[derive(Clone, Copy)]
enum Caller {
    Client,
    Helpers,
}

fn serve(
    inner: Rc<Inner>,
    method: String,
    target: String,
    headers: Vec<String>,
    body: String,
    caller: Caller,
) -> Promise {
    promise_now(Box::pin(async move {
        inner.open()?;
        let mut request = Request::new(Method::parse(&method), &target).with_body(body);
        for pair in headers.chunks_exact(2) {
            if let [name, value] = pair {
                request = request.with_header(name, value);
            }
        }
        let written = inner
            .database
            .write_fresh(|engine| {
                let mut api = inner.api.borrow_mut();
                match caller {
                    Caller::Client => api.handle(engine, &request),
                    Caller::Helpers => api.handle_own(engine, &request),
                }
            })
            .await
            .map(|(response, changes)| {
                inner.keep_committed(changes);
                response
            });
        let response = written.unwrap_or_else(|error| {
            inner
                .api
                .borrow()
                .error_response(&request, &ApiError::Engine(error))
        });
        let header_list: Array = response
            .headers
            .iter()
            .flat_map(|(name, value)| [name, value])
            .map(JsValue::from)
            .collect();
        Ok(Array::of3(
            &JsValue::from(response.status),
            &header_list,
            &JsValue::from_str(&response.body),
        )
        .into())
    }))
}
