//! FollowAnalytics' routes. Systems of Records (`/api/system_of_records…`) and customer
//! attribute definitions (`/api/customer_attributes…`) come with typed sources of record.

use crate::api::router::Route;
use crate::api::Method;

/// What a FollowAnalytics route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    /// `GET /api/customer_profiles`
    ListProfiles,
    /// `GET /api/customer_profiles/{customer_id}`
    ViewProfile,
    /// `POST /api/attribute_values`
    UploadValues,
    /// `GET /api/system_of_records`
    ListSors,
    /// `GET /api/system_of_records/{sor_identifier}`
    ViewSor,
    /// `POST /api/system_of_records`
    CreateSor,
    /// `PUT /api/system_of_records/{sor_identifier}`
    UpdateSor,
    /// `DELETE /api/system_of_records/{sor_identifier}`
    DeleteSor,
    /// `PUT /api/system_of_records/{sor_identifier}/disable`
    DisableSor,
    /// `PUT /api/system_of_records/{sor_identifier}/enable`
    EnableSor,
    /// `GET /api/customer_attributes/{ca_identifier}`
    ViewAttribute,
    /// `POST /api/customer_attributes`
    CreateAttribute,
    /// `PUT /api/customer_attributes/{ca_identifier}`
    UpdateAttribute,
    /// `DELETE /api/customer_attributes/{ca_identifier}`
    DeleteAttribute,
    /// `PUT /api/customer_attributes/{ca_identifier}/share`
    ShareAttribute,
    /// `PUT /api/customer_attributes/{ca_identifier}/unshare`
    UnshareAttribute,
    /// `PUT /api/customer_attributes/{ca_identifier}/disable`
    DisableAttribute,
    /// `PUT /api/customer_attributes/{ca_identifier}/enable`
    EnableAttribute,
}

pub(super) const ROUTES: &[Route<Handler>] = &[
    Route {
        method: Method::Get,
        pattern: "/api/customer_profiles",
        handler: Handler::ListProfiles,
    },
    Route {
        method: Method::Get,
        pattern: "/api/customer_profiles/{customer_id}",
        handler: Handler::ViewProfile,
    },
    Route {
        method: Method::Post,
        pattern: "/api/attribute_values",
        handler: Handler::UploadValues,
    },
    Route {
        method: Method::Get,
        pattern: "/api/system_of_records",
        handler: Handler::ListSors,
    },
    Route {
        method: Method::Post,
        pattern: "/api/system_of_records",
        handler: Handler::CreateSor,
    },
    Route {
        method: Method::Get,
        pattern: "/api/system_of_records/{sor_identifier}",
        handler: Handler::ViewSor,
    },
    Route {
        method: Method::Put,
        pattern: "/api/system_of_records/{sor_identifier}",
        handler: Handler::UpdateSor,
    },
    Route {
        method: Method::Delete,
        pattern: "/api/system_of_records/{sor_identifier}",
        handler: Handler::DeleteSor,
    },
    Route {
        method: Method::Put,
        pattern: "/api/system_of_records/{sor_identifier}/disable",
        handler: Handler::DisableSor,
    },
    Route {
        method: Method::Put,
        pattern: "/api/system_of_records/{sor_identifier}/enable",
        handler: Handler::EnableSor,
    },
    Route {
        method: Method::Post,
        pattern: "/api/customer_attributes",
        handler: Handler::CreateAttribute,
    },
    Route {
        method: Method::Get,
        pattern: "/api/customer_attributes/{ca_identifier}",
        handler: Handler::ViewAttribute,
    },
    Route {
        method: Method::Put,
        pattern: "/api/customer_attributes/{ca_identifier}",
        handler: Handler::UpdateAttribute,
    },
    Route {
        method: Method::Delete,
        pattern: "/api/customer_attributes/{ca_identifier}",
        handler: Handler::DeleteAttribute,
    },
    Route {
        method: Method::Put,
        pattern: "/api/customer_attributes/{ca_identifier}/share",
        handler: Handler::ShareAttribute,
    },
    Route {
        method: Method::Put,
        pattern: "/api/customer_attributes/{ca_identifier}/unshare",
        handler: Handler::UnshareAttribute,
    },
    Route {
        method: Method::Put,
        pattern: "/api/customer_attributes/{ca_identifier}/disable",
        handler: Handler::DisableAttribute,
    },
    Route {
        method: Method::Put,
        pattern: "/api/customer_attributes/{ca_identifier}/enable",
        handler: Handler::EnableAttribute,
    },
];
