//! PrimeData's error responses: `{"error": {"code", "message"}}` with the documented codes
//! `authentication_error` (401), `invalid_request_error` (400, and 404 for what does not
//! exist), `rate_limit_error` (429) and `validation_error` (400).

use serde_json::json;

use crate::api::{ApiError, Response};
use crate::engine::{EngineError, ImportError};
use crate::events::EventError;
use crate::identity::IdentityError;
use crate::model::ModelError;
use crate::schema::SchemaError;
use crate::segments::SegmentError;
use crate::storage::StorageError;
use crate::traits::TraitError;

const AUTHENTICATION: &str = "authentication_error";
const INVALID_REQUEST: &str = "invalid_request_error";
const RATE_LIMIT: &str = "rate_limit_error";
const VALIDATION: &str = "validation_error";
/// 5xx bodies are not documented; this code is the engine's choice.
const SERVER: &str = "server_error";
const AUTHENTICATION_MESSAGE: &str = "Failure to properly authenticate yourself in the request.";
const RATE_LIMIT_MESSAGE: &str = "Too many requests hit the API too quickly.";

/// The status and body PrimeData gives for `error`.
pub(crate) fn error_response(error: &ApiError) -> Response {
    let (status, code, message) = describe(error);
    let response = Response::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    );
    if let ApiError::RateLimited {
        retry_after_seconds,
    } = error
    {
        response.with_header("retry-after", &retry_after_seconds.to_string())
    } else {
        response
    }
}

/// Every error code to its status, PrimeData code and message, in one exhaustive match.
fn describe(error: &ApiError) -> (u16, &'static str, String) {
    let text = error.to_string();
    match error {
        ApiError::Unauthenticated => (401, AUTHENTICATION, AUTHENTICATION_MESSAGE.to_owned()),
        ApiError::Forbidden { .. } => (403, AUTHENTICATION, AUTHENTICATION_MESSAGE.to_owned()),
        ApiError::RouteNotFound(_) | ApiError::NotFound { .. } => (404, INVALID_REQUEST, text),
        ApiError::MethodNotAllowed => (405, INVALID_REQUEST, text),
        ApiError::MalformedJson(_) | ApiError::InvalidRequest(_) => (400, INVALID_REQUEST, text),
        ApiError::UnknownIdentifierType { kind, values } => (
            400,
            VALIDATION,
            format!("Invalid Identities {{{kind}=[{}]}}", values.join(", ")),
        ),
        ApiError::BodyTooLarge { .. } => (413, INVALID_REQUEST, text),
        ApiError::RateLimited { .. } => (429, RATE_LIMIT, RATE_LIMIT_MESSAGE.to_owned()),
        ApiError::Engine(engine) => match engine {
            EngineError::Identity(
                IdentityError::Conflict { .. }
                | IdentityError::Empty { .. }
                | IdentityError::Invalid { .. }
                | IdentityError::EmptyKind
                | IdentityError::Missing
                | IdentityError::LimitExceeded { .. }
                | IdentityError::SameProfile { .. }
                | IdentityError::SurvivorMerged { .. },
            )
            | EngineError::Schema(
                SchemaError::InvalidKey { .. }
                | SchemaError::TypeMismatch { .. }
                | SchemaError::TooLong { .. }
                | SchemaError::Immutable { .. }
                | SchemaError::AttributeDisabled { .. }
                | SchemaError::SourceDisabled { .. }
                | SchemaError::UnknownSource { .. }
                | SchemaError::SourceExists { .. }
                | SchemaError::GlobalSourceFixed
                | SchemaError::UnknownAttribute { .. }
                | SchemaError::AttributeExists { .. }
                | SchemaError::ShareConflict { .. }
                | SchemaError::SharingState { .. }
                | SchemaError::Predefined { .. }
                | SchemaError::NotASet { .. },
            )
            | EngineError::Model(ModelError::InvalidId(_) | ModelError::InvalidTimestamp(_)) => {
                (400, VALIDATION, text)
            }
            EngineError::InvalidCommand(_)
            | EngineError::Import(
                ImportError::MalformedLine { .. }
                | ImportError::UnsupportedFormat { .. }
                | ImportError::Conflict { .. },
            ) => (400, INVALID_REQUEST, text),
            EngineError::UnknownProfile(_)
            | EngineError::Identity(
                IdentityError::UnknownProfile { .. } | IdentityError::NotMerged { .. },
            ) => (404, INVALID_REQUEST, text),
            EngineError::Event(
                EventError::LimitOutOfRange { .. }
                | EventError::EmptyWindow
                | EventError::InvalidCursor,
            ) => (400, INVALID_REQUEST, text),
            EngineError::Event(
                EventError::InvalidEvent(_)
                | EventError::NoSubject
                | EventError::DuplicateId(_)
                | EventError::UnknownName(_),
            )
            | EngineError::Trait(TraitError::InvalidDefinition(_))
            | EngineError::Segment(
                SegmentError::InvalidRule(_) | SegmentError::InvalidDefinition(_),
            ) => (400, VALIDATION, text),
            EngineError::Event(EventError::UnknownProfile(_))
            | EngineError::Trait(TraitError::Unknown(_))
            | EngineError::Segment(SegmentError::Unknown(_)) => (404, INVALID_REQUEST, text),
            EngineError::CorruptLog { .. } | EngineError::CorruptSnapshot(_) => (500, SERVER, text),
            EngineError::Storage(
                StorageError::Unavailable(_)
                | StorageError::QuotaExceeded
                | StorageError::Blocked
                | StorageError::Closed
                | StorageError::Corrupt(_)
                | StorageError::Expired { .. }
                | StorageError::Conflict
                | StorageError::Failed(_),
            ) => (503, SERVER, text),
        },
    }
}
