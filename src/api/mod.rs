//! The REST surface: one router from a [`Request`] to a [`Response`], with each vendor dialect
//! in its own module translating onto the canonical model.
//!
//! Every dialect is mounted at its vendor's own paths (Arrigoo `/auth/api…`, `/v1/customer…`;
//! ChartMogul `/v1/customers…`; PrimeData `/pub/…`; FollowAnalytics `/api/…`) and, when its
//! configuration names a `prefix`, under that prefix too. The engine's own surface answers
//! under `/cdp/v1/…`. Dialects keep no profile data: only credentials, tokens they issued and
//! rate-limit counters.

mod arrigoo;
mod base64;
mod cdp;
mod chartmogul;
mod config;
mod credentials;
mod error;
mod followanalytics;
mod http;
mod primedata;
mod rate_limit;
mod router;

pub use config::{
    ArrigooApiKey, ArrigooConfig, ArrigooCredentials, ArrigooRole, CdpConfig, ChartMogulAccount,
    ChartMogulConfig, ChartMogulCredentials, Credentials, FollowAnalyticsConfig,
    FollowAnalyticsCredentials, FollowAnalyticsSource, KeyList, PrimeDataConfig, RateLimit,
};
pub use error::ApiError;
pub use http::{Method, Request, Response};

use serde_json::json;

use self::router::{Dialect, Mounts};
use crate::config::Config;
use crate::engine::Engine;
use crate::formats::JsonError;

/// Answers REST requests of every mounted dialect against one engine. Holds only what is not
/// profile data: credentials, the tokens issued this session and rate-limit counters.
pub struct Api {
    arrigoo: arrigoo::Arrigoo,
    chartmogul: chartmogul::ChartMogul,
    primedata: primedata::PrimeData,
    followanalytics: followanalytics::FollowAnalytics,
    cdp: cdp::Cdp,
    mounts: Mounts,
    max_body_bytes: usize,
}

impl Api {
    /// The API as `config` describes it.
    pub fn new(config: &Config) -> Self {
        let mounts = Mounts::default()
            .with_prefix(Dialect::Arrigoo, config.arrigoo.prefix.as_deref())
            .with_prefix(Dialect::ChartMogul, config.chartmogul.prefix.as_deref())
            .with_prefix(Dialect::PrimeData, config.primedata.prefix.as_deref())
            .with_prefix(
                Dialect::FollowAnalytics,
                config.followanalytics.prefix.as_deref(),
            );
        Self {
            arrigoo: arrigoo::Arrigoo::new(&config.arrigoo),
            chartmogul: chartmogul::ChartMogul::new(&config.chartmogul),
            primedata: primedata::PrimeData::new(&config.primedata),
            followanalytics: followanalytics::FollowAnalytics::new(&config.followanalytics),
            cdp: cdp::Cdp::new(&config.cdp),
            mounts,
            max_body_bytes: config.max_body_bytes,
        }
    }

    /// Replaces the credentials of each dialect `credentials` has a section for. Secrets are
    /// kept only as digests; tokens issued to keys that are removed or changed stop working.
    pub fn set_credentials(&mut self, credentials: &Credentials) {
        if let Some(arrigoo) = &credentials.arrigoo {
            self.arrigoo.set_credentials(arrigoo);
        }
        if let Some(chartmogul) = &credentials.chartmogul {
            self.chartmogul.set_credentials(chartmogul);
        }
        if let Some(primedata) = &credentials.primedata {
            self.primedata.set_credentials(primedata);
        }
        if let Some(followanalytics) = &credentials.followanalytics {
            self.followanalytics.set_credentials(followanalytics);
        }
        if let Some(keys) = &credentials.cdp {
            self.cdp.set_credentials(keys);
        }
    }

    /// Whether `/cdp/v1` answers without a key (no `cdp.apiKeys` configured).
    pub fn cdp_is_open(&self) -> bool {
        self.cdp.is_open()
    }

    /// Serves one request. Writes it makes are committed to `engine`; the caller persists
    /// them before passing the response on. A body over the configured limit is refused
    /// before anything else; a body on `GET` or `DELETE` routes that take none is ignored.
    pub fn handle(&mut self, engine: &mut Engine, request: &Request) -> Response {
        self.serve(engine, request, cdp::Caller::Client)
    }

    /// Serves one `/cdp/v1` request for the package's own typed helpers, in process: past the
    /// `/cdp/v1` key check, which guards the surface from other callers. Paths outside
    /// `/cdp/v1` are 404 `api.route_not_found`.
    pub fn handle_own(&mut self, engine: &mut Engine, request: &Request) -> Response {
        match self.mounts.locate(request) {
            Some((Dialect::Cdp, _)) => self.serve(engine, request, cdp::Caller::Helpers),
            _ => not_mounted(request),
        }
    }

    fn serve(&mut self, engine: &mut Engine, request: &Request, caller: cdp::Caller) -> Response {
        let Some((dialect, segments)) = self.mounts.locate(request) else {
            return not_mounted(request);
        };
        if request.body.len() > self.max_body_bytes {
            return self.error_response(
                request,
                &ApiError::BodyTooLarge {
                    limit: self.max_body_bytes,
                },
            );
        }
        match dialect {
            Dialect::Arrigoo => self.arrigoo.handle(engine, request, &segments),
            Dialect::ChartMogul => self.chartmogul.handle(engine, request, &segments),
            Dialect::PrimeData => self.primedata.handle(engine, request, &segments),
            Dialect::FollowAnalytics => self.followanalytics.handle(engine, request, &segments),
            Dialect::Cdp => self.cdp.handle(engine, request, &segments, caller),
        }
    }

    /// The response the dialect of `request` gives for `error`: used when a write could not
    /// be made durable after its handler answered.
    pub fn error_response(&self, request: &Request, error: &ApiError) -> Response {
        match self.mounts.locate(request).map(|(dialect, _)| dialect) {
            Some(Dialect::Arrigoo) => arrigoo::error_response(error),
            Some(Dialect::ChartMogul) => chartmogul::error_response(error),
            Some(Dialect::PrimeData) => primedata::error_response(error),
            Some(Dialect::FollowAnalytics) => followanalytics::error_response(error),
            Some(Dialect::Cdp) => cdp::error_response(error),
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

/// Parses a JSON body into `T`: text that is not JSON is [`ApiError::MalformedJson`], JSON of
/// another shape [`ApiError::InvalidRequest`].
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    crate::formats::from_json_str(&request.body).map_err(|error| match error {
        JsonError::Syntax(error) => ApiError::MalformedJson(error.to_string()),
        JsonError::Shape(error) => ApiError::InvalidRequest(error.to_string()),
    })
}

/// A whole-number query parameter within `least..=most`, or `default` when absent. When any
/// size is allowed (`most` is `usize::MAX`: a page number, a page size that is capped), a
/// number too large for the platform to count reads as the largest: on wasm32 that is
/// 4,294,967,295, and page 4,294,967,296 is as much a page past the end as that one.
pub(crate) fn query_number(
    request: &Request,
    name: &str,
    default: usize,
    least: usize,
    most: usize,
) -> Result<usize, ApiError> {
    match request.query(name) {
        None => Ok(default),
        Some(text) => match text.parse::<usize>() {
            Ok(number) => Some(number),
            Err(error)
                if most == usize::MAX && *error.kind() == std::num::IntErrorKind::PosOverflow =>
            {
                Some(usize::MAX)
            }
            Err(_) => None,
        }
        .filter(|number| (least..=most).contains(number))
        .ok_or_else(|| {
            ApiError::InvalidRequest(format!(
                "{name} must be a whole number from {least} to {most}, not `{text}`"
            ))
        }),
    }
}
