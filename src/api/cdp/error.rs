//! The engine's own error responses: `{"error": {"code", "message"}}` with the engine's
//! stable codes, plus `path` when a JSON document was refused at one node.

use serde_json::{json, Map, Value as Json};

use crate::api::{ApiError, Response};
use crate::engine::{EngineError, ImportError};
use crate::events::{EventError, ShapeError};
use crate::identity::IdentityError;
use crate::model::ModelError;
use crate::schema::SchemaError;
use crate::segments::SegmentError;
use crate::storage::StorageError;
use crate::traits::TraitError;

/// The status and body `/cdp/v1` gives for `error`.
pub(crate) fn error_response(error: &ApiError) -> Response {
    let mut body = Map::new();
    body.insert("code".into(), Json::String(error.code().to_owned()));
    body.insert("message".into(), Json::String(error.to_string()));
    if let Some(shape) = shape_error(error) {
        body.insert("path".into(), Json::String(shape.path.clone()));
    }
    let response = Response::json(status(error), &json!({ "error": body }));
    if let ApiError::RateLimited {
        retry_after_seconds,
    } = error
    {
        return response.with_header("retry-after", &retry_after_seconds.to_string());
    }
    if matches!(error, ApiError::Unauthenticated) {
        return response.with_header("www-authenticate", "Bearer");
    }
    response
}

/// The node a refused JSON document was refused at, when the error names one.
fn shape_error(error: &ApiError) -> Option<&ShapeError> {
    if let ApiError::Engine(
        EngineError::Event(EventError::InvalidEvent(shape))
        | EngineError::Trait(TraitError::InvalidDefinition(shape))
        | EngineError::Segment(
            SegmentError::InvalidRule(shape) | SegmentError::InvalidDefinition(shape),
        ),
    ) = error
    {
        Some(shape)
    } else {
        None
    }
}

/// Every error to its status, in one exhaustive match: 400 for bad input, 401/403 for
/// credentials, 404 for what does not exist, 409 for a conflict with the current state, 413
/// for an oversized body, 429 for a spent budget, 503 when storage failed.
fn status(error: &ApiError) -> u16 {
    match error {
        ApiError::Unauthenticated => 401,
        ApiError::Forbidden { .. } => 403,
        ApiError::RouteNotFound(_) | ApiError::NotFound { .. } => 404,
        ApiError::MethodNotAllowed => 405,
        ApiError::MalformedJson(_)
        | ApiError::InvalidRequest(_)
        | ApiError::UnknownIdentifierType { .. } => 400,
        ApiError::BodyTooLarge { .. } => 413,
        ApiError::RateLimited { .. } => 429,
        ApiError::Engine(engine) => engine_status(engine),
    }
}

fn engine_status(error: &EngineError) -> u16 {
    match error {
        EngineError::Identity(
            IdentityError::Conflict { .. }
            | IdentityError::LimitExceeded { .. }
            | IdentityError::SurvivorMerged { .. },
        )
        | EngineError::Schema(
            SchemaError::SourceExists { .. }
            | SchemaError::AttributeExists { .. }
            | SchemaError::ShareConflict { .. }
            | SchemaError::Immutable { .. },
        )
        | EngineError::Event(EventError::DuplicateId(_))
        | EngineError::Import(ImportError::Conflict { .. }) => 409,
        EngineError::Identity(
            IdentityError::Empty { .. }
            | IdentityError::Invalid { .. }
            | IdentityError::EmptyKind
            | IdentityError::Missing
            | IdentityError::SameProfile { .. },
        )
        | EngineError::Schema(
            SchemaError::InvalidKey { .. }
            | SchemaError::TypeMismatch { .. }
            | SchemaError::TooLong { .. }
            | SchemaError::AttributeDisabled { .. }
            | SchemaError::SourceDisabled { .. }
            | SchemaError::UnknownSource { .. }
            | SchemaError::GlobalSourceFixed
            | SchemaError::UnknownAttribute { .. }
            | SchemaError::SharingState { .. }
            | SchemaError::Predefined { .. }
            | SchemaError::NotASet { .. },
        )
        | EngineError::Model(ModelError::InvalidId(_) | ModelError::InvalidTimestamp(_))
        | EngineError::InvalidCommand(_)
        | EngineError::Import(
            ImportError::MalformedLine { .. } | ImportError::UnsupportedFormat { .. },
        )
        | EngineError::Event(
            EventError::LimitOutOfRange { .. }
            | EventError::EmptyWindow
            | EventError::InvalidCursor
            | EventError::InvalidEvent(_)
            | EventError::NoSubject
            | EventError::UnknownName(_),
        )
        | EngineError::Trait(TraitError::InvalidDefinition(_))
        | EngineError::Segment(SegmentError::InvalidRule(_) | SegmentError::InvalidDefinition(_)) => {
            400
        }
        EngineError::UnknownProfile(_)
        | EngineError::Identity(
            IdentityError::UnknownProfile { .. } | IdentityError::NotMerged { .. },
        )
        | EngineError::Event(EventError::UnknownProfile(_))
        | EngineError::Trait(TraitError::Unknown(_))
        | EngineError::Segment(SegmentError::Unknown(_)) => 404,
        EngineError::CorruptLog { .. } | EngineError::CorruptSnapshot(_) => 500,
        EngineError::Storage(
            StorageError::Unavailable(_)
            | StorageError::QuotaExceeded
            | StorageError::Blocked
            | StorageError::Closed
            | StorageError::Corrupt(_)
            | StorageError::Expired { .. }
            | StorageError::Conflict
            | StorageError::Failed(_),
        ) => 503,
    }
}
