//! The `#[wasm_bindgen]` surface: converts between JS and Rust and delegates to
//! [`Database`] and [`Api`]. It holds no domain rules.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Promise, Reflect};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::api::{Api, ApiError, Method, Request};
use crate::config::Config;
use crate::engine::{Command, Database, Engine, EngineError, Outcome, SystemClock};
use crate::model::ProfileId;
use crate::storage::indexeddb::IndexedDbStorage;
use crate::storage::{MemoryStorage, Storage, StorageError};

/// Logs a Rust panic to the console before the instance traps, so a bug is visible.
#[wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&info.to_string()))
    }));
}

/// A JS `Error` carrying a stable `code`.
fn cdp_error(code: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&error, &JsValue::from_str("code"), &JsValue::from_str(code));
    error.into()
}

fn engine_error(error: &EngineError) -> JsValue {
    cdp_error(error.code(), &error.to_string())
}

enum Backend {
    Memory(MemoryStorage),
    IndexedDb(IndexedDbStorage),
}

impl Storage for Backend {
    async fn load(&self) -> Result<Vec<crate::engine::Change>, StorageError> {
        match self {
            Self::Memory(storage) => storage.load().await,
            Self::IndexedDb(storage) => storage.load().await,
        }
    }

    async fn append(&self, changes: &[crate::engine::Change]) -> Result<(), StorageError> {
        match self {
            Self::Memory(storage) => storage.append(changes).await,
            Self::IndexedDb(storage) => storage.append(changes).await,
        }
    }
}

struct Inner {
    database: Database<Backend>,
    api: RefCell<Api>,
    closed: Cell<bool>,
}

impl Inner {
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
    /// Opens the database `name` with `config` on `storage` (`"indexeddb"` or `"memory"`),
    /// replaying what is stored.
    pub async fn open(name: String, config: JsValue, storage: String) -> Result<CdpCore, JsValue> {
        let config: Config = if config.is_undefined() || config.is_null() {
            Config::default()
        } else {
            serde_wasm_bindgen::from_value(config)
                .map_err(|error| cdp_error("config.invalid", &error.to_string()))?
        };
        let backend = match storage.as_str() {
            "memory" => Backend::Memory(MemoryStorage::new()),
            "indexeddb" => Backend::IndexedDb(
                IndexedDbStorage::open(&name)
                    .await
                    .map_err(|error| cdp_error(error.code(), &error.to_string()))?,
            ),
            other => {
                return Err(cdp_error(
                    "config.invalid",
                    &format!("unknown storage `{other}`"),
                ))
            }
        };
        let database = Database::open(backend, config.identity.clone(), Rc::new(SystemClock))
            .await
            .map_err(|error| engine_error(&error))?;
        let api = RefCell::new(Api::new(&config));
        Ok(Self {
            inner: Rc::new(Inner {
                database,
                api,
                closed: Cell::new(false),
            }),
        })
    }

    /// Serves one REST request; resolves to `[status, headers, body]` with headers as flat
    /// name/value pairs, once any write the request made is durable.
    pub fn handle(
        &self,
        method: String,
        target: String,
        headers: Vec<String>,
        body: String,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            inner.open()?;
            let mut request = Request::new(Method::parse(&method), &target).with_body(body);
            for pair in headers.chunks_exact(2) {
                if let [name, value] = pair {
                    request = request.with_header(name, value);
                }
            }
            let written = inner
                .database
                .write(|engine| inner.api.borrow_mut().handle(engine, &request))
                .await;
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
        })
    }

    /// Applies a command given as JSON; resolves to the outcome as JSON once durable.
    pub fn execute(&self, command: String) -> Promise {
        let inner = Rc::clone(&self.inner);
        future_to_promise(async move {
            inner.open()?;
            let executed = inner
                .database
                .write(|engine| {
                    Command::from_json(&command, engine.identity_config())
                        .and_then(|command| engine.execute(command))
                })
                .await
                .and_then(|outcome| outcome)
                .map_err(|error| engine_error(&error))?;
            let (id, created) = match executed {
                Outcome::Profile { id, created } => (Some(id), created),
                Outcome::Event {
                    profile,
                    profile_created,
                    ..
                } => (Some(profile), profile_created),
                Outcome::Definition { .. } | Outcome::Ticked { .. } => (None, false),
            };
            Ok(JsValue::from_str(
                &json!({"profile": id.map(|id| id.to_string()), "created": created}).to_string(),
            ))
        })
    }

    /// The canonical profile with this id as JSON, or `undefined`.
    pub fn profile(&self, id: &str) -> Result<Option<String>, JsValue> {
        self.inner.open()?;
        let id: ProfileId = id.parse().map_err(|error: crate::model::ModelError| {
            cdp_error(error.code(), &error.to_string())
        })?;
        self.inner
            .database
            .read(|engine| {
                engine
                    .profile(id)
                    .map(|profile| profile.to_json().to_string())
            })
            .map_err(|error| engine_error(&error))
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

    /// Closes the database; later calls fail with `cdp.closed`.
    pub fn close(&self) {
        self.inner.closed.set(true);
        if let Backend::IndexedDb(storage) = self.inner.database.storage() {
            storage.close();
        }
    }
}
