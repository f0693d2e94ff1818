//! ChartMogul's error responses: the documented statuses (400 bad request, 401 failed
//! authentication, 402 valid but failed, 404 not found) with the body its API sends,
//! `{"code": <status>, "message": <text>, "param": <name or null>}`. 402 is for well-formed
//! writes the current state refuses: identity conflicts, a custom attribute declared already
//! with another type, an immutable value, a disabled attribute or source.

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

/// The status and body ChartMogul gives for `error`.
pub(crate) fn error_response(error: &ApiError) -> Response {
    let (status, param) = status_and_param(error);
    let message = if status == 401 {
        "No valid API key provided".to_owned()
    } else {
        error.to_string()
    };
    Response::json(
        status,
        &json!({"code": status, "message": message, "param": param}),
    )
}

/// Every error code to its status and the parameter it concerns, in one exhaustive match.
fn status_and_param(error: &ApiError) -> (u16, Option<String>) {
    match error {
        ApiError::Unauthenticated => (401, None),
        ApiError::Forbidden { .. } => (403, None),
        ApiError::RouteNotFound(_) => (404, None),
        ApiError::NotFound { resource, .. } => (404, Some(format!("{resource}_uuid"))),
        ApiError::MethodNotAllowed => (405, None),
        ApiError::MalformedJson(_) | ApiError::InvalidRequest(_) => (400, None),
        ApiError::UnknownIdentifierType { kind, .. } => (400, Some(kind.clone())),
        ApiError::BodyTooLarge { .. } => (413, None),
        ApiError::RateLimited { .. } => (429, None),
        ApiError::Engine(engine) => match engine {
            EngineError::Identity(
                IdentityError::Conflict { .. }
                | IdentityError::LimitExceeded { .. }
                | IdentityError::SurvivorMerged { .. },
            ) => (402, None),
            EngineError::Identity(
                IdentityError::UnknownProfile { .. } | IdentityError::NotMerged { .. },
            ) => (404, Some("customer_uuid".to_owned())),
            EngineError::Identity(
                IdentityError::Empty { kind } | IdentityError::Invalid { kind, .. },
            ) => (400, Some(kind.clone())),
            EngineError::Identity(
                IdentityError::EmptyKind
                | IdentityError::Missing
                | IdentityError::SameProfile { .. },
            )
            | EngineError::InvalidCommand(_)
            | EngineError::Import(
                ImportError::MalformedLine { .. }
                | ImportError::UnsupportedFormat { .. }
                | ImportError::Conflict { .. },
            )
            | EngineError::Model(ModelError::InvalidId(_) | ModelError::InvalidTimestamp(_)) => {
                (400, None)
            }
            EngineError::Schema(
                schema @ (SchemaError::AttributeExists { .. }
                | SchemaError::Immutable { .. }
                | SchemaError::AttributeDisabled { .. }
                | SchemaError::SourceDisabled { .. }),
            ) => (
                402,
                Some(schema.key().to_owned()).filter(|key| !key.is_empty()),
            ),
            EngineError::Schema(
                schema @ (SchemaError::InvalidKey { .. }
                | SchemaError::TypeMismatch { .. }
                | SchemaError::TooLong { .. }
                | SchemaError::UnknownSource { .. }
                | SchemaError::SourceExists { .. }
                | SchemaError::GlobalSourceFixed
                | SchemaError::UnknownAttribute { .. }
                | SchemaError::ShareConflict { .. }
                | SchemaError::SharingState { .. }
                | SchemaError::Predefined { .. }
                | SchemaError::NotASet { .. }),
            ) => (
                400,
                Some(schema.key().to_owned()).filter(|key| !key.is_empty()),
            ),
            EngineError::UnknownProfile(_) => (404, Some("customer_uuid".to_owned())),
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
            ) => (400, None),
            EngineError::Event(EventError::UnknownProfile(_))
            | EngineError::Trait(TraitError::Unknown(_))
            | EngineError::Segment(SegmentError::Unknown(_)) => (404, None),
            EngineError::CorruptLog { .. } | EngineError::CorruptSnapshot(_) => (500, None),
            EngineError::Storage(
                StorageError::Unavailable(_)
                | StorageError::QuotaExceeded
                | StorageError::Blocked
                | StorageError::Closed
                | StorageError::Corrupt(_)
                | StorageError::Expired { .. }
                | StorageError::Conflict
                | StorageError::Failed(_),
            ) => (503, None),
        },
    }
}
