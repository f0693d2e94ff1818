//! PrimeData Profile API (`../shared/seeds/primedata-profile-api.md`, English rendering in
//! `primedata-profile-api.en.md`): `x-api-key` authentication with a per-key rate limit,
//! profile search and events search, each by PrimeData id or by identities.

mod error;
mod events;
mod routes;
mod shape;

pub(crate) use error::error_response;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use self::routes::{Handler, ROUTES};
use self::shape::Part;
use super::config::{KeyList, PrimeDataConfig};
use super::credentials::KeyRing;
use super::rate_limit::RateLimiter;
use super::{parse_body, router, ApiError, Request, Response};
use crate::engine::{Engine, EngineError};
use crate::model::{Profile, ProfileId};

pub(crate) struct PrimeData {
    keys: KeyRing,
    identity_types: Vec<String>,
    limiter: RateLimiter,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSearch {
    #[serde(rename = "type", default)]
    parts: Option<Vec<Part>>,
    #[serde(default)]
    include: Option<Vec<String>>,
    #[serde(default)]
    identities: Option<Map<String, Json>>,
    #[serde(default)]
    profile_id: Option<String>,
}

impl PrimeData {
    pub(crate) fn new(config: &PrimeDataConfig) -> Self {
        Self {
            keys: KeyRing::new(&config.api_keys),
            identity_types: config.identity_types.clone(),
            limiter: RateLimiter::new(config.rate_limit),
        }
    }

    /// Replaces the API keys.
    pub(crate) fn set_credentials(&mut self, credentials: &KeyList) {
        self.keys = KeyRing::new(&credentials.api_keys);
    }

    pub(crate) fn handle(
        &mut self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
    ) -> Response {
        self.route(engine, request, segments)
            .unwrap_or_else(|error| error_response(&error))
    }

    fn route(
        &mut self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
    ) -> Result<Response, ApiError> {
        let matched = router::find(ROUTES, &request.method, segments, &request.path)?;
        let key = request
            .header("x-api-key")
            .filter(|key| self.keys.accepts(key))
            .ok_or(ApiError::Unauthenticated)?;
        self.limiter
            .admit(key, engine.now())
            .map_err(|retry_after_seconds| ApiError::RateLimited {
                retry_after_seconds,
            })?;
        match matched.handler {
            Handler::ProfileSearch => self.profile_search(engine, request),
            Handler::EventSearch => self.event_search(engine, request),
        }
    }

    /// `POST /pub/profiles/advanced-search`.
    fn profile_search(&self, engine: &Engine, request: &Request) -> Result<Response, ApiError> {
        let search: ProfileSearch = parse_body(request)?;
        let profile = self.find_profile(
            engine,
            search.profile_id.as_deref(),
            search.identities.as_ref(),
        )?;
        let parts = search
            .parts
            .unwrap_or_else(|| vec![Part::Trait, Part::Ptrait, Part::Identity]);
        Ok(Response::json(
            200,
            &shape::profile(
                profile,
                &engine.trait_values(profile.id),
                &parts,
                search.include.as_deref(),
            ),
        ))
    }

    /// The profile a search names: by `profile_id` when given (it wins), else by
    /// `identities`; neither is 400, no such profile 404.
    fn find_profile<'a>(
        &self,
        engine: &'a Engine,
        profile_id: Option<&str>,
        identities: Option<&Map<String, Json>>,
    ) -> Result<&'a Profile, ApiError> {
        let profile = match (profile_id, identities) {
            (Some(id), _) => id
                .parse::<ProfileId>()
                .ok()
                .and_then(|id| engine.profile(id)),
            (None, Some(identities)) => self.find_by_identities(engine, identities)?,
            (None, None) => {
                return Err(ApiError::InvalidRequest(
                    "identities or profile_id is required".to_owned(),
                ))
            }
        };
        profile.ok_or_else(|| ApiError::NotFound {
            resource: "profile",
            id: profile_id.map_or_else(|| "matching the identities".to_owned(), str::to_owned),
        })
    }

    /// The first profile any of the identities belongs to. Every identity type must be
    /// accepted and every value a string, or nothing is looked up.
    fn find_by_identities<'a>(
        &self,
        engine: &'a Engine,
        identities: &Map<String, Json>,
    ) -> Result<Option<&'a Profile>, ApiError> {
        if identities.is_empty() {
            return Err(ApiError::InvalidRequest(
                "identities must name at least one identity".to_owned(),
            ));
        }
        let mut identifiers = Vec::new();
        for (kind, values) in identities {
            let values: Vec<&Json> = match values {
                Json::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            let texts: Vec<String> = values
                .iter()
                .map(|value| match value {
                    Json::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .collect();
            if !self.accepts_type(engine, kind) {
                return Err(ApiError::UnknownIdentifierType {
                    kind: kind.clone(),
                    values: texts,
                });
            }
            for value in values {
                let Json::String(text) = value else {
                    return Err(ApiError::InvalidRequest(format!(
                        "identities.{kind}: values must be strings"
                    )));
                };
                identifiers.push(
                    engine
                        .identity_config()
                        .normalize(kind, text)
                        .map_err(EngineError::from)?,
                );
            }
        }
        Ok(identifiers
            .iter()
            .find_map(|identifier| engine.resolve(identifier)))
    }

    fn accepts_type(&self, engine: &Engine, kind: &str) -> bool {
        if self.identity_types.is_empty() {
            engine.identity_config().identifier_type(kind).is_some()
        } else {
            self.identity_types.iter().any(|accepted| accepted == kind)
        }
    }
}
