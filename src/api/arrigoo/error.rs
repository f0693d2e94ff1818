//! Arrigoo's error responses. The spec documents no error body; the engine answers
//! `{"error": <code>, "message": <text>}` with the status below.

use serde_json::json;

use crate::api::{ApiError, Response};
use crate::engine::EngineError;
use crate::events::EventError;
use crate::identity::IdentityError;
use crate::segments::SegmentError;
use crate::traits::TraitError;

/// The status and body Arrigoo gives for `error`.
pub(crate) fn error_response(error: &ApiError) -> Response {
    Response::json(
        status(error),
        &json!({"error": error.code(), "message": error.to_string()}),
    )
}

fn status(error: &ApiError) -> u16 {
    match error {
        ApiError::Unauthenticated => 401,
        ApiError::Forbidden { .. } => 403,
        ApiError::RouteNotFound(_) | ApiError::NotFound { .. } => 404,
        ApiError::MethodNotAllowed => 405,
        ApiError::MalformedJson(_) | ApiError::InvalidRequest(_) => 400,
        ApiError::BodyTooLarge { .. } => 413,
        ApiError::Engine(engine) => match engine {
            EngineError::Identity(IdentityError::Conflict { .. }) => 409,
            EngineError::Identity(
                IdentityError::Empty { .. }
                | IdentityError::Invalid { .. }
                | IdentityError::EmptyKind
                | IdentityError::Missing,
            )
            | EngineError::Schema(_)
            | EngineError::Model(_)
            | EngineError::InvalidCommand(_) => 400,
            EngineError::Event(EventError::DuplicateId(_)) => 409,
            EngineError::Event(EventError::UnknownProfile(_))
            | EngineError::Trait(TraitError::Unknown(_))
            | EngineError::Segment(SegmentError::Unknown(_)) => 404,
            EngineError::Event(
                EventError::LimitOutOfRange { .. }
                | EventError::EmptyWindow
                | EventError::InvalidCursor
                | EventError::InvalidEvent(_)
                | EventError::NoSubject,
            )
            | EngineError::Trait(TraitError::InvalidDefinition(_))
            | EngineError::Segment(
                SegmentError::InvalidRule(_) | SegmentError::InvalidDefinition(_),
            ) => 400,
            EngineError::CorruptLog { .. } => 500,
            EngineError::Storage(_) => 503,
        },
    }
}
