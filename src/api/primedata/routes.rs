//! PrimeData's routes.

use crate::api::router::Route;
use crate::api::Method;

/// What a PrimeData route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    /// `POST /pub/profiles/advanced-search`
    ProfileSearch,
    /// `POST /pub/events/advanced-search`
    EventSearch,
}

pub(super) const ROUTES: &[Route<Handler>] = &[
    Route {
        method: Method::Post,
        pattern: "/pub/profiles/advanced-search",
        handler: Handler::ProfileSearch,
    },
    Route {
        method: Method::Post,
        pattern: "/pub/events/advanced-search",
        handler: Handler::EventSearch,
    },
];
