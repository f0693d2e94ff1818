//! ChartMogul Enrichment's routes, in match order (literal paths before captures). The
//! custom attribute routes (`/v1/customers/{id}/attributes/custom`,
//! `/v1/customers/attributes/custom`) come with typed attribute declarations.

use crate::api::router::Route;
use crate::api::Method;

/// What a ChartMogul route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    /// `GET /customers`
    List,
    /// `GET /customers/search`
    Search,
    /// `POST /customers/attributes/tags`
    AddTagsByEmail,
    /// `GET /customers/{customer_id}`
    Get,
    /// `GET /customers/{customer_id}/attributes`
    Attributes,
    /// `POST /customers/{customer_id}/attributes/tags`
    AddTags,
    /// `DELETE /customers/{customer_id}/attributes/tags`
    RemoveTags,
}

pub(super) const ROUTES: &[Route<Handler>] = &[
    Route {
        method: Method::Get,
        pattern: "/v1/customers",
        handler: Handler::List,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/customers/search",
        handler: Handler::Search,
    },
    Route {
        method: Method::Post,
        pattern: "/v1/customers/attributes/tags",
        handler: Handler::AddTagsByEmail,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/customers/{customer_id}",
        handler: Handler::Get,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/customers/{customer_id}/attributes",
        handler: Handler::Attributes,
    },
    Route {
        method: Method::Post,
        pattern: "/v1/customers/{customer_id}/attributes/tags",
        handler: Handler::AddTags,
    },
    Route {
        method: Method::Delete,
        pattern: "/v1/customers/{customer_id}/attributes/tags",
        handler: Handler::RemoveTags,
    },
];
