//! PrimeData's routes. `POST /pub/events/advanced-search` comes with the event store.

use crate::api::router::Route;
use crate::api::Method;

/// What a PrimeData route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    /// `POST /pub/profiles/advanced-search`
    ProfileSearch,
}

pub(super) const ROUTES: &[Route<Handler>] = &[Route {
    method: Method::Post,
    pattern: "/pub/profiles/advanced-search",
    handler: Handler::ProfileSearch,
}];
