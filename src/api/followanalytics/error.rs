//! FollowAnalytics' error responses: `{"status": "<code>", "success": false,
//! "error_message": <text>}` with the status as a string, as the spec shows it.

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

/// The status and body FollowAnalytics gives for `error`.
pub(crate) fn error_response(error: &ApiError) -> Response {
    let status = status(error);
    let message = error.to_string();
    Response::json(
        status,
        &json!({"status": status.to_string(), "success": false, "error_message": message}),
    )
}

/// Every error code to its status, in one exhaustive match.
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
                | SchemaError::SourceExists { .. }
                | SchemaError::GlobalSourceFixed
                | SchemaError::AttributeExists { .. }
                | SchemaError::ShareConflict { .. }
                | SchemaError::SharingState { .. }
                | SchemaError::Predefined { .. }
                | SchemaError::NotASet { .. },
            )
            | EngineError::Model(ModelError::InvalidId(_) | ModelError::InvalidTimestamp(_))
            | EngineError::InvalidCommand(_)
            | EngineError::Import(
                ImportError::MalformedLine { .. }
                | ImportError::UnsupportedFormat { .. }
                | ImportError::Conflict { .. },
            ) => 400,
            EngineError::UnknownProfile(_)
            | EngineError::Identity(
                IdentityError::UnknownProfile { .. } | IdentityError::NotMerged { .. },
            )
            | EngineError::Schema(
                SchemaError::UnknownSource { .. } | SchemaError::UnknownAttribute { .. },
            ) => 404,
            EngineError::Event(
                EventError::LimitOutOfRange { .. }
                | EventError::EmptyWindow
                | EventError::InvalidCursor
                | EventError::InvalidEvent(_)
                | EventError::NoSubject
                | EventError::UnknownName(_)
                | EventError::DuplicateId(_),
            )
            | EngineError::Trait(TraitError::InvalidDefinition(_))
            | EngineError::Segment(
                SegmentError::InvalidRule(_) | SegmentError::InvalidDefinition(_),
            ) => 400,
            EngineError::Event(EventError::UnknownProfile(_))
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
        },
    }
}
