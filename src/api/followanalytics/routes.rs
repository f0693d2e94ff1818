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
];
