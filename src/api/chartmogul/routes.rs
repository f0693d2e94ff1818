//! ChartMogul Enrichment's routes, in match order (literal paths before captures).

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
    /// `POST /customers/attributes/custom`
    AddCustomByEmail,
    /// `GET /customers/{customer_id}`
    Get,
    /// `GET /customers/{customer_id}/attributes`
    Attributes,
    /// `POST /customers/{customer_id}/attributes/tags`
    AddTags,
    /// `DELETE /customers/{customer_id}/attributes/tags`
    RemoveTags,
    /// `POST /customers/{customer_id}/attributes/custom`
    AddCustom,
    /// `PUT /customers/{customer_id}/attributes/custom`
    UpdateCustom,
    /// `DELETE /customers/{customer_id}/attributes/custom`
    RemoveCustom,
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
        method: Method::Post,
        pattern: "/v1/customers/attributes/custom",
        handler: Handler::AddCustomByEmail,
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
    Route {
        method: Method::Post,
        pattern: "/v1/customers/{customer_id}/attributes/custom",
        handler: Handler::AddCustom,
    },
    Route {
        method: Method::Put,
        pattern: "/v1/customers/{customer_id}/attributes/custom",
        handler: Handler::UpdateCustom,
    },
    Route {
        method: Method::Delete,
        pattern: "/v1/customers/{customer_id}/attributes/custom",
        handler: Handler::RemoveCustom,
    },
];
