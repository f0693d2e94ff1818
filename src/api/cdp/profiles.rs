//! Profiles and merges: list, get (by id or by identity), upsert, merge, explain, unmerge.

use serde_json::{json, Map, Value as Json};

use super::{page_window, profile_id, shape};
use crate::api::{parse_body, ApiError, Request, Response};
use crate::engine::{Command, Engine, EngineError, Outcome};
use crate::formats::json_map;
use crate::model::Profile;

/// `GET /cdp/v1/profiles?limit&cursor`: live profiles in creation order.
pub(super) fn list(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let total = engine.profile_count();
    let (start, end, next) = page_window(request, total)?;
    let data = engine
        .profiles()
        .skip(start)
        .take(end - start)
        .map(Profile::to_json)
        .collect();
    Ok(Response::json(200, &shape::page(data, next, Some(total))))
}

/// `GET /cdp/v1/profiles/{id}`: the profile, following the ids of profiles merged away.
pub(super) fn get(engine: &Engine, id: &str) -> Result<Response, ApiError> {
    let profile = find(engine, id)?;
    Ok(Response::json(200, &profile.to_json()))
}

/// `GET /cdp/v1/profiles/lookup?identity=type:value`: the profile a unique identifier
/// belongs to.
pub(super) fn lookup(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let profile = by_identity(engine, request)?;
    Ok(Response::json(200, &profile.to_json()))
}

/// The profile the `identity=type:value` query parameter names.
pub(super) fn by_identity<'a>(
    engine: &'a Engine,
    request: &Request,
) -> Result<&'a Profile, ApiError> {
    let text = request
        .query("identity")
        .ok_or_else(|| ApiError::InvalidRequest("identity=type:value is required".to_owned()))?;
    let (kind, value) = text.split_once(':').ok_or_else(|| {
        ApiError::InvalidRequest(format!("identity must be type:value, not `{text}`"))
    })?;
    let identifier = engine
        .identity_config()
        .normalize(kind, value)
        .map_err(EngineError::from)?;
    engine
        .resolve(&identifier)
        .ok_or_else(|| ApiError::NotFound {
            resource: "profile",
            id: identifier.to_string(),
        })
}

/// `POST /cdp/v1/profiles`: the `upsertProfile` command's body; 201 when it created the
/// profile, 200 when it updated one.
pub(super) fn upsert(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let body: Map<String, Json> = parse_body(request)?;
    let outcome = execute(engine, json!({ "upsertProfile": body }))?;
    let status = if matches!(outcome, Outcome::Profile { created: true, .. }) {
        201
    } else {
        200
    };
    Ok(Response::json(status, &outcome.to_json()))
}

/// `GET /cdp/v1/profiles/{id}/traits`: `{"profile", "traits": {name: value}}`.
pub(super) fn traits(engine: &Engine, id: &str) -> Result<Response, ApiError> {
    let profile = find(engine, id)?;
    let traits = json_map(
        engine
            .trait_values(profile.id)
            .into_iter()
            .map(|(name, value)| (name, value.to_json())),
    );
    Ok(Response::json(
        200,
        &json!({"profile": profile.id.to_string(), "traits": traits}),
    ))
}

/// `GET /cdp/v1/profiles/{id}/segments`: `{"profile", "segments": [system titles]}`.
pub(super) fn segments(engine: &Engine, id: &str) -> Result<Response, ApiError> {
    let profile = find(engine, id)?;
    Ok(Response::json(
        200,
        &json!({"profile": profile.id.to_string(), "segments": engine.segments_of(profile.id)}),
    ))
}

/// `POST /cdp/v1/merges`: the `mergeProfiles` command's body `{"survivor", "absorbed"}`.
pub(super) fn merge(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let body: Map<String, Json> = parse_body(request)?;
    let outcome = execute(engine, json!({ "mergeProfiles": body }))?;
    Ok(Response::json(200, &outcome.to_json()))
}

/// `GET /cdp/v1/merges/{absorbed}`: the merge in force that absorbed the profile: who
/// absorbed it, the profile as it was, what moved and which identifiers made them meet.
pub(super) fn explain_merge(engine: &Engine, absorbed: &str) -> Result<Response, ApiError> {
    let absorbed = profile_id(absorbed)?;
    let record = engine
        .merge_of(absorbed)
        .ok_or_else(|| ApiError::NotFound {
            resource: "merge of profile",
            id: absorbed.to_string(),
        })?;
    let because: Vec<String> = record.because.iter().map(ToString::to_string).collect();
    Ok(Response::json(
        200,
        &json!({
            "survivor": record.survivor.to_string(),
            "absorbed": record.absorbed.to_json(),
            "moved": record.moved,
            "because": because,
            "at": record.at.to_string(),
        }),
    ))
}

/// `DELETE /cdp/v1/merges/{absorbed}`: the `unmergeProfile` command.
pub(super) fn unmerge(engine: &mut Engine, absorbed: &str) -> Result<Response, ApiError> {
    let absorbed = profile_id(absorbed)?;
    let outcome = engine.execute(Command::UnmergeProfile { absorbed })?;
    Ok(Response::json(200, &outcome.to_json()))
}

/// The live profile an id names (an id merged away names its survivor).
fn find<'a>(engine: &'a Engine, id: &str) -> Result<&'a Profile, ApiError> {
    let id = profile_id(id)?;
    engine.profile(id).ok_or_else(|| ApiError::NotFound {
        resource: "profile",
        id: id.to_string(),
    })
}

/// Parses and runs a command in the engine's JSON form.
pub(super) fn execute(engine: &mut Engine, command: Json) -> Result<Outcome, ApiError> {
    let command = Command::from_json(&command.to_string(), engine.identity_config())?;
    Ok(engine.execute(command)?)
}
