//! The REST surface: one router from a [`Request`] to a [`Response`], with each vendor dialect
//! in its own module translating onto the canonical model.

mod arrigoo;
mod config;
mod credentials;
mod error;
mod http;

pub use config::{
    ArrigooApiKey, ArrigooConfig, ArrigooRole, ChartMogulAccount, ChartMogulConfig,
    FollowAnalyticsConfig, PrimeDataConfig,
};
pub use error::ApiError;
pub use http::{Method, Request, Response};

use serde_json::json;

use crate::config::Config;
use crate::engine::Engine;

/// The dialect a path belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dialect {
    Arrigoo,
}

impl Dialect {
    fn of(path: &str) -> Option<Self> {
        let mut segments = path.split('/').filter(|segment| !segment.is_empty());
        match (segments.next(), segments.next()) {
            (Some("auth"), Some("api")) | (Some("v1"), Some("customer" | "stat" | "segment")) => {
                Some(Self::Arrigoo)
            }
            _ => None,
        }
    }
}

/// Answers REST requests of every mounted dialect against one engine. Holds only what is not
/// profile data: credentials and the tokens issued this session.
pub struct Api {
    arrigoo: arrigoo::Arrigoo,
    max_body_bytes: usize,
}

impl Api {
    /// The API as `config` describes it.
    pub fn new(config: &Config) -> Self {
        Self {
            arrigoo: arrigoo::Arrigoo::new(&config.arrigoo),
            max_body_bytes: config.max_body_bytes,
        }
    }

    /// Serves one request. Writes it makes are committed to `engine`; the caller persists
    /// them before passing the response on.
    pub fn handle(&mut self, engine: &mut Engine, request: &Request) -> Response {
        let dialect = Dialect::of(&request.path);
        if request.body.len() > self.max_body_bytes {
            return self.error_response(
                request,
                &ApiError::BodyTooLarge {
                    limit: self.max_body_bytes,
                },
            );
        }
        match dialect {
            Some(Dialect::Arrigoo) => self.arrigoo.handle(engine, request),
            None => not_mounted(request),
        }
    }

    /// The response the dialect of `request` gives for `error`: used when a write could not
    /// be made durable after its handler answered.
    pub fn error_response(&self, request: &Request, error: &ApiError) -> Response {
        match Dialect::of(&request.path) {
            Some(Dialect::Arrigoo) => arrigoo::error_response(error),
            None => not_mounted(request),
        }
    }
}

fn not_mounted(request: &Request) -> Response {
    let error = ApiError::RouteNotFound(request.path.clone());
    Response::json(
        404,
        &json!({"error": {"code": error.code(), "message": error.to_string()}}),
    )
}
