//! Computed traits and segments: define (the `defineTrait` / `defineSegment` bodies), list,
//! get, delete, turn segments on and off, page their members and their entry/exit history.

use serde_json::{json, Value as Json};

use super::{page_window, shape};
use crate::api::{ApiError, Request, Response};
use crate::engine::{Command, Engine, Outcome};
use crate::segments::{SegmentDefinition, SegmentError};
use crate::traits::{TraitDefinition, TraitError};

/// The JSON body of a definition; text that is not JSON is [`ApiError::MalformedJson`].
fn body(request: &Request) -> Result<Json, ApiError> {
    serde_json::from_str(&request.body).map_err(|error| ApiError::MalformedJson(error.to_string()))
}

/// 201 with `{"name", "changed"}` when the definition is new, 200 when it replaced one.
fn defined(outcome: &Outcome, existed: bool) -> Response {
    Response::json(if existed { 200 } else { 201 }, &outcome.to_json())
}

/// `GET /cdp/v1/traits`: every definition, in name order.
pub(super) fn list_traits(engine: &Engine) -> Result<Response, ApiError> {
    let data: Vec<Json> = engine
        .trait_definitions()
        .map(TraitDefinition::to_json)
        .collect();
    Ok(Response::json(200, &json!({ "data": data })))
}

/// `POST /cdp/v1/traits`: a `defineTrait` body; a bad node is 400 naming its path.
pub(super) fn define_trait(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let definition = TraitDefinition::from_json(&body(request)?, "$")
        .map_err(|error| ApiError::Engine(error.into()))?;
    let existed = engine
        .trait_definitions()
        .any(|known| known.name == definition.name);
    let outcome = engine.execute(Command::DefineTrait(definition))?;
    Ok(defined(&outcome, existed))
}

/// `GET /cdp/v1/traits/{name}`.
pub(super) fn get_trait(engine: &Engine, name: &str) -> Result<Response, ApiError> {
    let definition = engine
        .trait_definitions()
        .find(|known| known.name == name)
        .ok_or_else(|| ApiError::Engine(TraitError::Unknown(name.to_owned()).into()))?;
    Ok(Response::json(200, &definition.to_json()))
}

/// `DELETE /cdp/v1/traits/{name}`.
pub(super) fn delete_trait(engine: &mut Engine, name: &str) -> Result<Response, ApiError> {
    let outcome = engine.execute(Command::DeleteTrait {
        name: name.to_owned(),
    })?;
    Ok(Response::json(200, &outcome.to_json()))
}

/// `GET /cdp/v1/segments`: every definition with its member count, in system-title order.
pub(super) fn list_segments(engine: &Engine) -> Result<Response, ApiError> {
    let data: Vec<Json> = engine
        .segment_definitions()
        .map(|definition| {
            let members = engine.segment_size(&definition.system_title).unwrap_or(0);
            shape::segment(definition, members, None)
        })
        .collect();
    Ok(Response::json(200, &json!({ "data": data })))
}

/// `POST /cdp/v1/segments`: a `defineSegment` body; an invalid rule is 400
/// `segments.invalid_rule` with the JSON path of the bad node (`$.rule.rules[1].value`).
pub(super) fn define_segment(engine: &mut Engine, request: &Request) -> Result<Response, ApiError> {
    let definition = SegmentDefinition::from_json(&body(request)?, "$")
        .map_err(|error| ApiError::Engine(error.into()))?;
    let existed = engine.segment(&definition.system_title).is_some();
    let outcome = engine.execute(Command::DefineSegment(definition))?;
    Ok(defined(&outcome, existed))
}

/// `GET /cdp/v1/segments/{title}`: the definition, its member count and history counts.
pub(super) fn get_segment(engine: &Engine, title: &str) -> Result<Response, ApiError> {
    let definition = known_segment(engine, title)?;
    let members = engine.segment_size(title).unwrap_or(0);
    let counts = engine.segment_counts(title);
    Ok(Response::json(
        200,
        &shape::segment(definition, members, counts.as_ref()),
    ))
}

/// `DELETE /cdp/v1/segments/{title}`.
pub(super) fn delete_segment(engine: &mut Engine, title: &str) -> Result<Response, ApiError> {
    let outcome = engine.execute(Command::DeleteSegment {
        system_title: title.to_owned(),
    })?;
    Ok(Response::json(200, &outcome.to_json()))
}

/// `POST /cdp/v1/segments/{title}/activate` and `…/deactivate`: `{"name", "changed"}`.
pub(super) fn set_active(
    engine: &mut Engine,
    title: &str,
    active: bool,
) -> Result<Response, ApiError> {
    let outcome = engine.execute(Command::SetSegmentActive {
        system_title: title.to_owned(),
        active,
    })?;
    Ok(Response::json(200, &outcome.to_json()))
}

/// `GET /cdp/v1/segments/{title}/members?limit&cursor`: member profile ids in profile
/// creation order.
pub(super) fn members(
    engine: &Engine,
    request: &Request,
    title: &str,
) -> Result<Response, ApiError> {
    known_segment(engine, title)?;
    let total = engine
        .segment_size(title)
        .and_then(|size| usize::try_from(size).ok())
        .unwrap_or_default();
    let (start, end, next) = page_window(request, total)?;
    let data = engine
        .segment_members_page(title, start, end - start)
        .unwrap_or_default()
        .iter()
        .map(|id| Json::String(id.to_string()))
        .collect();
    Ok(Response::json(200, &shape::page(data, next, Some(total))))
}

/// `GET /cdp/v1/segments/{title}/history?limit&cursor`: entries and exits, oldest first,
/// each `{"type": "enter" | "exit", "segment", "profile", "at"}`.
pub(super) fn history(
    engine: &Engine,
    request: &Request,
    title: &str,
) -> Result<Response, ApiError> {
    known_segment(engine, title)?;
    let total = engine.segment_history_len(title).unwrap_or_default();
    let (start, end, next) = page_window(request, total)?;
    let data = engine
        .segment_history_page(title, start, end - start)
        .unwrap_or_default()
        .iter()
        .map(shape::membership)
        .collect();
    Ok(Response::json(200, &shape::page(data, next, Some(total))))
}

fn known_segment<'a>(engine: &'a Engine, title: &str) -> Result<&'a SegmentDefinition, ApiError> {
    engine
        .segment(title)
        .ok_or_else(|| ApiError::Engine(SegmentError::Unknown(title.to_owned()).into()))
}
