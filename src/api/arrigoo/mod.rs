//! Arrigoo CDP (`../shared/seeds/arrigoo-cdp-api.md`): key + secret log-in to bearer tokens,
//! profiles by UUID, upsert by identifier list with conflict rejection, segment members and
//! definitions, and segment and event statistics from the live engine state.

mod error;
mod routes;
mod shape;

pub(crate) use error::error_response;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use self::routes::{Handler, ROUTES};
use super::config::{ArrigooConfig, ArrigooCredentials, ArrigooRole};
use super::credentials::{SecretDigest, TokenStore};
use super::{parse_body, router, ApiError, Request, Response};
use crate::engine::{Command, Engine, UpsertProfile};
use crate::model::{ProfileId, SourceId, Timestamp};
use crate::stats;

/// Which key a token was issued to: its name and the digest of its secret then, so tokens of
/// a key that is removed or given a new secret stop working.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Grant {
    key: String,
    secret: SecretDigest,
}

pub(crate) struct Arrigoo {
    keys: Vec<(String, SecretDigest, ArrigooRole)>,
    access_tokens: TokenStore<Grant>,
    refresh_tokens: TokenStore<Grant>,
    access_ttl: i64,
    refresh_ttl: i64,
    page_size: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    key: String,
    secret: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Refresh {
    refresh_token: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ident {
    id_type: String,
    id_value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Upsert {
    ident: Vec<Ident>,
    #[serde(default)]
    properties: Map<String, Json>,
}

impl Arrigoo {
    pub(crate) fn new(config: &ArrigooConfig) -> Self {
        let mut arrigoo = Self {
            keys: Vec::new(),
            access_tokens: TokenStore::default(),
            refresh_tokens: TokenStore::default(),
            access_ttl: config.access_token_ttl_seconds,
            refresh_ttl: config.refresh_token_ttl_seconds,
            page_size: config.page_size.max(1),
        };
        arrigoo.set_credentials(&config.credentials());
        arrigoo
    }

    /// Replaces the API keys; tokens of keys removed or given a new secret stop working.
    pub(crate) fn set_credentials(&mut self, credentials: &ArrigooCredentials) {
        self.keys = credentials
            .api_keys
            .iter()
            .map(|key| (key.key.clone(), SecretDigest::of(&key.secret), key.role))
            .collect();
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
        let now = engine.now();
        let matched = router::find(ROUTES, &request.method, segments, &request.path)?;
        match (matched.handler, matched.params.as_slice()) {
            (Handler::Login, _) => self.login(request, now),
            (Handler::Refresh, _) => self.refresh(request, now),
            (Handler::List, _) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                self.list(engine, request)
            }
            (Handler::Get, params) => {
                let id = params.first().copied().unwrap_or_default();
                self.authorize(request, now, ArrigooRole::Viewer)?;
                let profile = id
                    .parse::<ProfileId>()
                    .ok()
                    .and_then(|id| engine.profile(id))
                    .ok_or_else(|| ApiError::NotFound {
                        resource: "customer",
                        id: id.to_owned(),
                    })?;
                Ok(Response::json(
                    200,
                    &shape::profile(profile, &engine.segments_of(profile.id)),
                ))
            }
            (Handler::Upsert, _) => {
                self.authorize(request, now, ArrigooRole::Admin)?;
                upsert(engine, request)
            }
            (Handler::SegmentMembers, params) => {
                let title = params.first().copied().unwrap_or_default();
                self.authorize(request, now, ArrigooRole::Viewer)?;
                self.segment_members(engine, request, title)
            }
            (Handler::Segments, _) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                let segments: Vec<Json> =
                    engine.segment_definitions().map(shape::segment).collect();
                Ok(Response::json(200, &Json::Array(segments)))
            }
            (Handler::SegmentStats, _) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                let stats = stats::segment_stats(engine);
                Ok(Response::json(200, &shape::segment_stats(&stats)))
            }
            (Handler::DailyEventStats, _) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                let counts = stats::daily_event_counts(engine);
                Ok(Response::json(200, &shape::daily_event_stats(&counts)))
            }
            (Handler::MonthlyEventStats, _) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                let months = stats::monthly_event_counts(engine);
                Ok(Response::json(200, &shape::monthly_event_stats(&months)))
            }
        }
    }

    /// `POST /auth/api`: key name and secret to a refresh and an access token.
    fn login(&mut self, request: &Request, now: Timestamp) -> Result<Response, ApiError> {
        let login: Login = parse_body(request)?;
        // Every key is checked, so the time taken does not tell which names exist.
        let (grant, role) = self
            .keys
            .iter()
            .fold(None, |found, (name, digest, role)| {
                let matches = (name == &login.key) & digest.matches(&login.secret);
                found.or_else(|| {
                    matches.then(|| {
                        (
                            Grant {
                                key: name.clone(),
                                secret: *digest,
                            },
                            *role,
                        )
                    })
                })
            })
            .ok_or(ApiError::Unauthenticated)?;
        let expiry = now.plus_seconds(self.access_ttl);
        let refresh_token =
            self.refresh_tokens
                .issue(grant.clone(), now, now.plus_seconds(self.refresh_ttl));
        let access_token = self.access_tokens.issue(grant, now, expiry);
        Ok(Response::json(
            200,
            &json!({
                "refresh_token": refresh_token,
                "access_token": access_token,
                "scope": role.scope(),
                "expiry": shape::expiry(expiry),
            }),
        ))
    }

    /// `POST /auth/api/refresh`: a refresh token to a new access token.
    fn refresh(&mut self, request: &Request, now: Timestamp) -> Result<Response, ApiError> {
        let refresh: Refresh = parse_body(request)?;
        let grant = self
            .refresh_tokens
            .check(&refresh.refresh_token, now)
            .filter(|grant| self.role_of(grant).is_some())
            .ok_or(ApiError::Unauthenticated)?;
        let expiry = now.plus_seconds(self.access_ttl);
        let access_token = self.access_tokens.issue(grant, now, expiry);
        Ok(Response::json(
            200,
            &json!({"access_token": access_token, "expiry": shape::expiry(expiry)}),
        ))
    }

    fn authorize(
        &mut self,
        request: &Request,
        now: Timestamp,
        least: ArrigooRole,
    ) -> Result<(), ApiError> {
        let token = request
            .header("authorization")
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            })
            .ok_or(ApiError::Unauthenticated)?;
        let role = self
            .access_tokens
            .check(token.trim(), now)
            .and_then(|grant| self.role_of(&grant))
            .ok_or(ApiError::Unauthenticated)?;
        if role >= least {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                required: least.scope(),
            })
        }
    }

    /// The current role of the key a token was issued to, if that key still exists with the
    /// same secret.
    fn role_of(&self, grant: &Grant) -> Option<ArrigooRole> {
        self.keys
            .iter()
            .find(|(name, digest, _)| name == &grant.key && *digest == grant.secret)
            .map(|(_, _, role)| *role)
    }

    /// How many profiles the page named by `page` (from 1; 1 when absent) skips.
    fn page_start(&self, request: &Request) -> Result<usize, ApiError> {
        let page = super::query_number(request, "page", 1, 1, usize::MAX)?;
        Ok(page.saturating_sub(1).saturating_mul(self.page_size))
    }

    /// `GET /v1/customer?page=N`: a page of profiles without their properties.
    fn list(&self, engine: &Engine, request: &Request) -> Result<Response, ApiError> {
        let skip = self.page_start(request)?;
        let entries: Vec<Json> = engine
            .profiles()
            .skip(skip)
            .take(self.page_size)
            .map(|profile| shape::summary(profile, &engine.segments_of(profile.id)))
            .collect();
        Ok(Response::json(200, &Json::Array(entries)))
    }

    /// `GET /v1/customer/segment/{segment_system_title}?page=N`: a page of a segment's
    /// members, in profile creation order, shaped like `GET /v1/customer`.
    fn segment_members(
        &self,
        engine: &Engine,
        request: &Request,
        system_title: &str,
    ) -> Result<Response, ApiError> {
        let skip = self.page_start(request)?;
        let members = engine
            .segment_members_page(system_title, skip, self.page_size)
            .ok_or_else(|| ApiError::NotFound {
                resource: "segment",
                id: system_title.to_owned(),
            })?;
        let entries: Vec<Json> = members
            .into_iter()
            .filter_map(|id| engine.profile(id))
            .map(|profile| shape::summary(profile, &engine.segments_of(profile.id)))
            .collect();
        Ok(Response::json(200, &Json::Array(entries)))
    }
}

/// `PUT /v1/customer`: find the profile by its identifiers (adding new ones to it) or create
/// it, and write the properties. Two identifiers of two profiles are a conflict.
fn upsert(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let body: Upsert = parse_body(request)?;
    if body.ident.is_empty() {
        return Err(ApiError::InvalidRequest(
            "ident must name at least one identifier".to_owned(),
        ));
    }
    let identifiers = body
        .ident
        .iter()
        .map(|ident| (ident.id_type.as_str(), ident.id_value.as_str()));
    let command = UpsertProfile::from_raw_parts(
        engine.identity_config(),
        identifiers,
        body.properties,
        SourceId::default_source(),
    )?;
    let outcome = engine.execute(Command::UpsertProfile(command))?;
    let id = outcome.profile_id().ok_or_else(|| ApiError::NotFound {
        resource: "customer",
        id: String::new(),
    })?;
    let profile = engine.profile(id).ok_or_else(|| ApiError::NotFound {
        resource: "customer",
        id: id.to_string(),
    })?;
    Ok(Response::json(
        200,
        &shape::profile(profile, &engine.segments_of(profile.id)),
    ))
}
