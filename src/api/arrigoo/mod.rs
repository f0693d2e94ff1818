//! Arrigoo CDP (`../shared/seeds/arrigoo-cdp-api.md`): key + secret log-in to bearer tokens,
//! profiles by UUID, upsert by identifier list with conflict rejection.

mod error;
mod shape;

pub(crate) use error::error_response;

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use super::config::{ArrigooConfig, ArrigooRole};
use super::credentials::{SecretDigest, TokenStore};
use super::{ApiError, Method, Request, Response};
use crate::engine::{Command, Engine, UpsertProfile};
use crate::model::{ProfileId, SourceId, Timestamp};

pub(crate) struct Arrigoo {
    keys: Vec<(String, SecretDigest, ArrigooRole)>,
    access_tokens: TokenStore<ArrigooRole>,
    refresh_tokens: TokenStore<ArrigooRole>,
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
        Self {
            keys: config
                .api_keys
                .iter()
                .map(|key| (key.key.clone(), SecretDigest::of(&key.secret), key.role))
                .collect(),
            access_tokens: TokenStore::default(),
            refresh_tokens: TokenStore::default(),
            access_ttl: config.access_token_ttl_seconds,
            refresh_ttl: config.refresh_token_ttl_seconds,
            page_size: config.page_size.max(1),
        }
    }

    pub(crate) fn handle(&mut self, engine: &mut Engine, request: &Request) -> Response {
        self.route(engine, request)
            .unwrap_or_else(|error| error_response(&error))
    }

    fn route(&mut self, engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
        let now = engine.now();
        match (&request.method, request.segments().as_slice()) {
            (Method::Post, ["auth", "api"]) => self.login(request, now),
            (Method::Post, ["auth", "api", "refresh"]) => self.refresh(request, now),
            (Method::Get, ["v1", "customer"]) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                self.list(engine, request)
            }
            (Method::Get, ["v1", "customer", id]) => {
                self.authorize(request, now, ArrigooRole::Viewer)?;
                let profile = id
                    .parse::<ProfileId>()
                    .ok()
                    .and_then(|id| engine.profile(id))
                    .ok_or_else(|| ApiError::NotFound {
                        resource: "customer",
                        id: (*id).to_owned(),
                    })?;
                Ok(Response::json(200, &shape::profile(profile)))
            }
            (Method::Put, ["v1", "customer"]) => {
                self.authorize(request, now, ArrigooRole::Admin)?;
                upsert(engine, request)
            }
            (
                _,
                ["auth", "api"]
                | ["auth", "api", "refresh"]
                | ["v1", "customer"]
                | ["v1", "customer", _],
            ) => Err(ApiError::MethodNotAllowed),
            _ => Err(ApiError::RouteNotFound(request.path.clone())),
        }
    }

    /// `POST /auth/api`: key name and secret to a refresh and an access token.
    fn login(&mut self, request: &Request, now: Timestamp) -> Result<Response, ApiError> {
        let login: Login = parse_body(request)?;
        let role = self
            .keys
            .iter()
            .find(|(name, digest, _)| name == &login.key && digest.matches(&login.secret))
            .map(|(_, _, role)| *role)
            .ok_or(ApiError::Unauthenticated)?;
        let expiry = now.plus_seconds(self.access_ttl);
        let refresh_token = self
            .refresh_tokens
            .issue(role, now.plus_seconds(self.refresh_ttl));
        let access_token = self.access_tokens.issue(role, expiry);
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
        let role = self
            .refresh_tokens
            .check(&refresh.refresh_token, now)
            .ok_or(ApiError::Unauthenticated)?;
        let expiry = now.plus_seconds(self.access_ttl);
        let access_token = self.access_tokens.issue(role, expiry);
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
            .ok_or(ApiError::Unauthenticated)?;
        if role >= least {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                required: least.scope(),
            })
        }
    }

    /// `GET /v1/customer?page=N`: a page of profiles without their properties.
    fn list(&self, engine: &Engine, request: &Request) -> Result<Response, ApiError> {
        let page = match request.query("page") {
            None => 1,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|page| *page >= 1)
                .ok_or_else(|| {
                    ApiError::InvalidRequest(format!(
                        "page must be a whole number from 1, not `{text}`"
                    ))
                })?,
        };
        let skip = (page - 1).saturating_mul(self.page_size);
        let entries: Vec<Json> = engine
            .profiles()
            .skip(skip)
            .take(self.page_size)
            .map(shape::summary)
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
        &body.properties,
        SourceId::default_source(),
    )?;
    let outcome = engine.execute(Command::UpsertProfile(command))?;
    let profile = outcome
        .profile_id()
        .and_then(|id| engine.profile(id))
        .ok_or_else(|| ApiError::NotFound {
            resource: "customer",
            id: outcome
                .profile_id()
                .map(|id| id.to_string())
                .unwrap_or_default(),
        })?;
    Ok(Response::json(200, &shape::profile(profile)))
}

fn parse_body<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let value: Json = serde_json::from_str(&request.body)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    serde_json::from_value(value).map_err(|error| ApiError::InvalidRequest(error.to_string()))
}
