//! Events: record one or many (`recordEvent` bodies), and search one profile's events with
//! the core's event query (names, exclusive window, order, limit, cursor), as PrimeData's
//! events search does.

use std::collections::HashSet;

use serde_json::{json, Value as Json};

use super::profiles::by_identity;
use super::{error_response, profile_id, shape};
use crate::api::{ApiError, Request, Response};
use crate::engine::{
    event_from_body, events_from_list, Command, Engine, EngineError, EventSubject, NewEvent,
    Outcome,
};
use crate::events::{parse_time, Cursor, EventError, EventQuery, Order};
use crate::identity::IdentityConfig;
use crate::model::{ProfileId, Timestamp};

/// The most events one request may record.
pub(super) const MAX_BATCH: usize = 1_000;

/// Whether an array of `len` events is one a request may record.
fn recordable(len: usize) -> bool {
    (1..=MAX_BATCH).contains(&len)
}

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
    let events = match quick_events(&request.body, engine.identity_config()) {
        Some(events) => events,
        None => read_events(&request.body, engine.identity_config())?,
    };
    let events = match events {
        Body::One(event) => {
            check(engine, std::slice::from_ref(&event))?;
            let outcome = engine.execute(Command::RecordEvent(event))?;
            return Ok(Response::json_text(201, outcome.to_json_text()));
        }
        Body::Array(events) => events,
    };
    check(engine, &events)?;
    let commands: Vec<Command> = events.into_iter().map(Command::RecordEvent).collect();
    for (index, command) in commands.iter().enumerate() {
        if let Err(error) = engine.check(command) {
            return Ok(batch_refusal(index, error));
        }
    }
    match engine.execute_batch(commands) {
        Ok(outcomes) => Ok(Response::json_text(
            201,
            Outcome::list_json_text("data", &outcomes),
        )),
        Err(refused) => Ok(batch_refusal(refused.index, refused.error)),
    }
}

/// What a body to record holds: one event, or an array of 1 to [`MAX_BATCH`] events.
#[cfg_attr(test, derive(Debug, PartialEq))]
enum Body {
    One(NewEvent),
    Array(Vec<NewEvent>),
}

/// The events of a body whose every event has the common shape, read straight from its text
/// ([`event_from_body`], [`events_from_list`]); `None` for anything else, which
/// [`read_events`] then reads, so every error is reported one way.
fn quick_events(body: &str, identity: &IdentityConfig) -> Option<Body> {
    if body.trim_start().starts_with('[') {
        events_from_list(body, identity)
            .filter(|events| recordable(events.len()))
            .map(Body::Array)
    } else {
        event_from_body(body, identity).map(Body::One)
    }
}

/// The events of a body, or why it holds none: an event is refused with its path (`$[2].name`).
fn read_events(body: &str, identity: &IdentityConfig) -> Result<Body, ApiError> {
    let body: Json =
        serde_json::from_str(body).map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    let Json::Array(items) = body else {
        return Ok(Body::One(NewEvent::from_json(&body, "$", identity)?));
    };
    if !recordable(items.len()) {
        return Err(ApiError::InvalidRequest(format!(
            "an array of events holds 1 to {MAX_BATCH} events, not {}",
            items.len()
        )));
    }
    let events = items
        .iter()
        .enumerate()
        .map(|(index, item)| NewEvent::from_json(item, &format!("$[{index}]"), identity))
        .collect::<Result<_, _>>()?;
    Ok(Body::Array(events))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies the quick reader takes read as the general reader reads them; any other is
    /// left to the general reader, whose answer (an error with its path) stands.
    #[test]
    fn bodies_read_quickly_read_as_the_general_reader_reads_them() {
        let identity = IdentityConfig::default();
        let event = r#"{"identities":{"email":["S1@Example.com"]},"name":"viewedPage","happened":"2026-11-01T10:00:00.000Z","properties":{"sequence":1,"tags":["a"]}}"#;
        let by_id = r#"{"profileId":"6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60","name":"buy","context":"ECOMMERCE","id":"0b0e6f1e-8a62-4c39-9d5e-5c1a2b3c4d5e"}"#;
        let quick = [
            event.to_owned(),
            format!("[{event},{by_id}]"),
            format!(" \n [ {event} , {by_id} ] "),
            format!("[{}]", vec![event; MAX_BATCH].join(",")),
        ];
        for body in &quick {
            let read = quick_events(body, &identity);
            assert!(read.is_some(), "{body} is of the common shape");
            assert_eq!(read.ok_or(()), read_events(body, &identity).map_err(drop));
        }
        let general = [
            "[]".to_owned(),
            format!("[{}]", vec![event; MAX_BATCH + 1].join(",")),
            r#"[{"name":"x"}]"#.to_owned(),
            r#"{"profileId":"6f1c9a8e-3b1d-4c8e-9f0a-1b2c3d4e5f60","name":"x","extra":1}"#
                .to_owned(),
            format!(
                r#"[{event},{{"identities":{{"email":"a@b.c"}},"name":"x","context":"MARS"}}]"#
            ),
            r#"{"identities":{"email":"a@b.c"},"name":"x","name":"y"}"#.to_owned(),
            "{not json".to_owned(),
            "17".to_owned(),
        ];
        for body in &general {
            assert_eq!(quick_events(body, &identity), None, "{body}");
        }
    }
}
