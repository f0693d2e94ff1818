//! # cdp-engine
//!
//! A Customer Data Platform engine that runs in the browser. One canonical model of customer
//! profiles (identities, typed attributes per source of record, tags, consents) is kept by an
//! [`Engine`] that applies [`Command`]s atomically and records every effect in a numbered
//! change log; a [`Database`] binds it to a [`Storage`](storage::Storage) so a write is
//! acknowledged only once durable; an [`Api`] answers the REST dialects of real CDP products
//! on top of it.
//!
//! ```
//! use std::rc::Rc;
//! use cdp_engine::{Api, Config, Engine, SystemClock};
//! use cdp_engine::api::{Method, Request};
//!
//! let config = Config::from_json(r#"{"arrigoo": {"apiKeys": [{"key": "k", "secret": "s", "role": "admin"}]}}"#)?;
//! let mut engine = Engine::new(config.identity.clone(), Rc::new(SystemClock));
//! let mut api = Api::new(&config);
//! let login = api.handle(&mut engine, &Request::new(Method::Post, "/auth/api").with_body(r#"{"key":"k","secret":"s"}"#));
//! assert_eq!(login.status, 200);
//! # Ok::<(), cdp_engine::ConfigError>(())
//! ```
//!
//! Layers, from the inside out: [`model`] (canonical types), [`schema`] (attribute typing),
//! [`identity`] (normalization and resolution), [`events`], [`traits`], [`segments`],
//! [`stats`], [`engine`], [`storage`], [`api`]; the wasm binding and the IndexedDB backend exist only
//! when compiled for `wasm32`.

#![warn(missing_docs, unreachable_pub)]
#![deny(clippy::all)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod api;
pub mod config;
pub mod engine;
pub mod events;
mod formats;
pub mod identity;
mod leb128;
pub mod model;
mod parts;
pub mod schema;
pub mod segments;
pub mod stats;
pub mod storage;
pub mod traits;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use api::Api;
pub use config::{Config, ConfigError};
pub use engine::{Command, Database, Engine, EngineError, SystemClock};
