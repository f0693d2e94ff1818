use thiserror::Error;

use crate::engine::EngineError;

/// Why a request was not served. Each dialect maps every variant, by an exhaustive `match`,
/// to its documented status and body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No credential, or one that is unknown or expired.
    #[error("a valid API key or token is required")]
    Unauthenticated,
    /// The credential is valid, but its role may not do this.
    #[error("this needs the {required} role or above")]
    Forbidden {
        /// The least role that may.
        required: &'static str,
    },
    /// No such path in this dialect.
    #[error("no such endpoint: {0}")]
    RouteNotFound(String),
    /// The path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The thing the path names does not exist.
    #[error("{resource} `{id}` was not found")]
    NotFound {
        /// What kind of thing.
        resource: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// The request is JSON but not of the documented shape.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The body is larger than the configured limit.
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The key has spent its request budget for the current window.
    #[error("too many requests: retry in {retry_after_seconds} s")]
    RateLimited {
        /// Whole seconds until the budget refills.
        retry_after_seconds: u32,
    },
    /// The request names an identifier type the dialect is not configured to accept.
    #[error("unknown identifier type `{kind}`")]
    UnknownIdentifierType {
        /// The type as given.
        kind: String,
        /// The values given for it.
        values: Vec<String>,
    },
    /// The engine refused or failed the command.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl ApiError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "api.unauthenticated",
            Self::Forbidden { .. } => "api.forbidden",
            Self::RouteNotFound(_) => "api.route_not_found",
            Self::MethodNotAllowed => "api.method_not_allowed",
            Self::NotFound { .. } => "api.not_found",
            Self::MalformedJson(_) => "api.malformed_json",
            Self::InvalidRequest(_) => "api.invalid_request",
            Self::BodyTooLarge { .. } => "api.body_too_large",
            Self::RateLimited { .. } => "api.rate_limited",
            Self::UnknownIdentifierType { .. } => "api.unknown_identifier_type",
            Self::Engine(inner) => inner.code(),
        }
    }
}
