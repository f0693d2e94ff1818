//! Arrigoo's routes, in match order.

use crate::api::router::Route;
use crate::api::Method;

/// What an Arrigoo route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    /// `POST /auth/api`
    Login,
    /// `POST /auth/api/refresh`
    Refresh,
    /// `GET /v1/customer`
    List,
    /// `GET /v1/customer/{uuid}`
    Get,
    /// `PUT /v1/customer`
    Upsert,
    /// `GET /v1/customer/segment/{segment_system_title}`
    SegmentMembers,
    /// `GET /v1/segment`
    Segments,
    /// `GET /v1/stat/segment`
    SegmentStats,
    /// `GET /v1/stat/event`
    DailyEventStats,
    /// `GET /v1/stat/event/month`
    MonthlyEventStats,
}

pub(super) const ROUTES: &[Route<Handler>] = &[
    Route {
        method: Method::Post,
        pattern: "/auth/api",
        handler: Handler::Login,
    },
    Route {
        method: Method::Post,
        pattern: "/auth/api/refresh",
        handler: Handler::Refresh,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/customer",
        handler: Handler::List,
    },
    Route {
        method: Method::Put,
        pattern: "/v1/customer",
        handler: Handler::Upsert,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/customer/{uuid}",
        handler: Handler::Get,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/customer/segment/{segment_system_title}",
        handler: Handler::SegmentMembers,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/segment",
        handler: Handler::Segments,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/stat/segment",
        handler: Handler::SegmentStats,
    },
    // The spec's authentication example sends `POST /v1/stat/segment`; it reads the same.
    Route {
        method: Method::Post,
        pattern: "/v1/stat/segment",
        handler: Handler::SegmentStats,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/stat/event",
        handler: Handler::DailyEventStats,
    },
    Route {
        method: Method::Get,
        pattern: "/v1/stat/event/month",
        handler: Handler::MonthlyEventStats,
    },
];
