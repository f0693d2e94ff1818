//! Events: record one or many (`recordEvent` bodies), and search one profile's events with
//! the core's event query (names, exclusive window, order, limit, cursor), as PrimeData's
//! events search does.

use std::collections::HashSet;

use serde_json::{json, Value as Json};

use super::profiles::by_identity;
use super::{error_response, profile_id, shape};
use crate::api::{ApiError, Request, Response};
use crate::engine::{Command, Engine, EngineError, EventSubject, NewEvent, Outcome};
use crate::events::{parse_time, Cursor, EventError, EventQuery, Order};
use crate::model::{ProfileId, Timestamp};

/// The most events one request may record.
pub(super) const MAX_BATCH: usize = 1_000;

/// `POST /cdp/v1/events`: one `recordEvent` body, answered 201 with the outcome
/// `{"event", "profile", "created"}`, or an array of them, recorded as one engine batch (all
/// or nothing, one durable write) and answered 201 `{"data": [outcomes]}`. Every event of an
/// array is read and checked against the current state first (shape, ids, named profiles,
/// identities), so most refusals name the event by its path (`$[2].name`) without touching
/// anything. An event refused only because of events before it in the same array (an
/// identity conflict the array itself creates) refuses the whole array with its `index`; the
/// engine then reports [`Engine::needs_reload`] and its owner (a `Database`) goes back to what
/// storage holds.
pub(super) fn record(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let body: Json = serde_json::from_str(&request.body)
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    let Json::Array(items) = body else {
        let event = NewEvent::from_json(&body, "$", engine.identity_config())?;
        check(engine, std::slice::from_ref(&event))?;
        let outcome = engine.execute(Command::RecordEvent(event))?;
        return Ok(Response::json(201, &outcome.to_json()));
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::InvalidRequest(format!(
            "an array of events holds 1 to {MAX_BATCH} events, not {}",
            items.len()
        )));
    }
    let events = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            NewEvent::from_json(item, &format!("$[{index}]"), engine.identity_config())
        })
        .collect::<Result<Vec<_>, _>>()?;
    check(engine, &events)?;
    let commands: Vec<Command> = events.into_iter().map(Command::RecordEvent).collect();
    for (index, command) in commands.iter().enumerate() {
        if let Err(error) = engine.check(command) {
            return Ok(batch_refusal(index, error));
        }
    }
    match engine.execute_batch(commands) {
        Ok(outcomes) => {
            let data: Vec<Json> = outcomes.iter().map(Outcome::to_json).collect();
            Ok(Response::json(201, &json!({ "data": data })))
        }
        Err(refused) => Ok(batch_refusal(refused.index, refused.error)),
    }
}

/// The answer refusing an array because of its event `index`: the engine's error, with
/// `index` beside its code.
fn batch_refusal(index: usize, error: EngineError) -> Response {
    let response = error_response(&ApiError::Engine(error));
    let mut body = response.body_json();
    body["error"]["index"] = json!(index);
    Response::json(response.status, &body)
}

/// What can be checked of a batch before anything is recorded: ids not taken (by stored
/// events or by each other) and profiles named by id existing.
fn check(engine: &Engine, events: &[NewEvent]) -> Result<(), EngineError> {
    let mut ids = HashSet::new();
    for event in events {
        if let Some(id) = event.id {
            if engine.event(id).is_some() || !ids.insert(id) {
                return Err(EventError::DuplicateId(id).into());
            }
        }
        if let EventSubject::Profile(profile) = &event.subject {
            if engine.profile(*profile).is_none() {
                return Err(EventError::UnknownProfile(*profile).into());
            }
        }
    }
    Ok(())
}

/// `GET /cdp/v1/events?profileId=|identity=type:value&name=…&start&end&sort&limit&cursor`:
/// one page of a profile's events, newest first by default, both window ends exclusive;
/// `next` is the opaque cursor of the next page.
pub(super) fn search(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let start = time_parameter(request, "start")?;
    let end = time_parameter(request, "end")?;
    let order = match request.query("sort") {
        None => Order::default(),
        Some("asc") => Order::Asc,
        Some("desc") => Order::Desc,
        Some(other) => {
            return Err(ApiError::InvalidRequest(format!(
                "sort must be asc or desc, not `{other}`"
            )))
        }
    };
    let limit = request
        .query("limit")
        .map(|text| {
            text.parse::<i64>().map_err(|_| {
                ApiError::InvalidRequest(format!("limit must be a whole number, not `{text}`"))
            })
        })
        .transpose()?;
    let cursor = request
        .query("cursor")
        .map(Cursor::parse)
        .transpose()
        .map_err(EngineError::from)?;
    let names: Vec<String> = request
        .query
        .iter()
        .filter(|(key, _)| key == "name")
        .map(|(_, value)| value.clone())
        .collect();
    engine
        .check_event_names(&names)
        .map_err(EngineError::from)?;
    let profile = subject(engine, request)?;
    let mut query = EventQuery::for_profile(profile)
        .within(start, end)
        .map_err(EngineError::from)?;
    if let Some(limit) = limit {
        query = query.with_limit(limit).map_err(EngineError::from)?;
    }
    query.names = names;
    query.order = order;
    query.cursor = cursor;
    let page = engine.events(&query).map_err(EngineError::from)?;
    let data = page
        .events
        .iter()
        .map(|event| shape::event(event))
        .collect();
    Ok(Response::json(
        200,
        &shape::page(data, page.next.map(|cursor| cursor.encode()), None),
    ))
}

/// The profile a search names by `profileId` or `identity`.
fn subject(engine: &Engine, request: &Request) -> Result<ProfileId, ApiError> {
    match request.query("profileId") {
        Some(id) => {
            let id = profile_id(id)?;
            engine
                .profile(id)
                .map(|profile| profile.id)
                .ok_or_else(|| ApiError::NotFound {
                    resource: "profile",
                    id: id.to_string(),
                })
        }
        None if request.query("identity").is_some() => {
            by_identity(engine, request).map(|profile| profile.id)
        }
        None => Err(ApiError::InvalidRequest(
            "profileId or identity=type:value is required".to_owned(),
        )),
    }
}

/// An optional ISO 8601 date (midnight UTC) or date-time query parameter.
pub(super) fn time_parameter(request: &Request, name: &str) -> Result<Option<Timestamp>, ApiError> {
    request
        .query(name)
        .map(|text| {
            parse_time(text).map(Timestamp::from_micros).ok_or_else(|| {
                ApiError::InvalidRequest(format!("{name} is not an ISO 8601 date: `{text}`"))
            })
        })
        .transpose()
}
