//! The routes of the engine's own REST surface, `/cdp/v1/…`.

use crate::api::router::Route;
use crate::api::Method;

/// What a `/cdp/v1` route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    /// `GET /cdp/v1/profiles`
    ListProfiles,
    /// `POST /cdp/v1/profiles`
    UpsertProfile,
    /// `GET /cdp/v1/profiles/lookup?identity=type:value`
    LookupProfile,
    /// `GET /cdp/v1/profiles/{id}`
    GetProfile,
    /// `GET /cdp/v1/profiles/{id}/traits`
    ProfileTraits,
    /// `GET /cdp/v1/profiles/{id}/segments`
    ProfileSegments,
    /// `GET /cdp/v1/profiles/{id}/stats/buying`
    ProfileBuying,
    /// `GET /cdp/v1/profiles/{id}/stats/events`
    ProfileEventStats,
    /// `POST /cdp/v1/merges`
    Merge,
    /// `GET /cdp/v1/merges/{absorbed}`
    ExplainMerge,
    /// `DELETE /cdp/v1/merges/{absorbed}`
    Unmerge,
    /// `POST /cdp/v1/events`
    RecordEvents,
    /// `GET /cdp/v1/events`
    SearchEvents,
    /// `GET /cdp/v1/traits`
    ListTraits,
    /// `POST /cdp/v1/traits`
    DefineTrait,
    /// `GET /cdp/v1/traits/{name}`
    GetTrait,
    /// `DELETE /cdp/v1/traits/{name}`
    DeleteTrait,
    /// `GET /cdp/v1/segments`
    ListSegments,
    /// `POST /cdp/v1/segments`
    DefineSegment,
    /// `GET /cdp/v1/segments/{title}`
    GetSegment,
    /// `DELETE /cdp/v1/segments/{title}`
    DeleteSegment,
    /// `POST /cdp/v1/segments/{title}/activate`
    ActivateSegment,
    /// `POST /cdp/v1/segments/{title}/deactivate`
    DeactivateSegment,
    /// `GET /cdp/v1/segments/{title}/members`
    SegmentMembers,
    /// `GET /cdp/v1/segments/{title}/history`
    SegmentHistory,
    /// `GET /cdp/v1/identity`
    IdentityConfig,
    /// `GET /cdp/v1/stats/segments`
    SegmentStats,
    /// `GET /cdp/v1/stats/events/daily`
    DailyEvents,
    /// `GET /cdp/v1/stats/events/monthly`
    MonthlyEvents,
    /// `GET /cdp/v1/stats/events/by-type`
    EventsByType,
    /// `GET /cdp/v1/stats/events/added`
    EventsAdded,
    /// `GET /cdp/v1/stats/customers`
    Customers,
    /// `GET /cdp/v1/stats/customers/created`
    CustomersCreated,
    /// `GET /cdp/v1/stats/customers/changed`
    CustomersChanged,
    /// `GET /cdp/v1/stats/kpis/purchases`
    PurchaseKpis,
    /// `GET /cdp/v1/stats/kpis/ecommerce`
    EcommerceKpis,
    /// `GET /cdp/v1/stats/kpis/web`
    WebKpis,
}

/// The query parameters of a page of a list.
const PAGE: &[&str] = &["limit", "cursor"];
/// The query parameters of a range of time.
const RANGE: &[&str] = &["start", "end"];

impl Handler {
    /// The query parameters the handler reads; a request naming any other is refused, so a
    /// misspelt or misplaced one (`GET /cdp/v1/profiles?identity=…` for the lookup) is an
    /// error rather than silently ignored.
    pub(super) fn parameters(self) -> &'static [&'static str] {
        match self {
            Self::ListProfiles | Self::SegmentMembers | Self::SegmentHistory => PAGE,
            Self::LookupProfile => &["identity"],
            Self::ProfileBuying | Self::EventsAdded | Self::EcommerceKpis | Self::WebKpis => RANGE,
            Self::ProfileEventStats | Self::CustomersCreated => &["resolution", "start", "end"],
            Self::SearchEvents => &[
                "profileId",
                "identity",
                "name",
                "start",
                "end",
                "sort",
                "limit",
                "cursor",
            ],
            Self::EventsByType => &["context", "start", "end"],
            Self::CustomersChanged => &["kind", "start", "end"],
            Self::PurchaseKpis => &["scope", "start", "end"],
            Self::UpsertProfile
            | Self::GetProfile
            | Self::ProfileTraits
            | Self::ProfileSegments
            | Self::Merge
            | Self::ExplainMerge
            | Self::Unmerge
            | Self::RecordEvents
            | Self::ListTraits
            | Self::DefineTrait
            | Self::GetTrait
            | Self::DeleteTrait
            | Self::ListSegments
            | Self::DefineSegment
            | Self::GetSegment
            | Self::DeleteSegment
            | Self::ActivateSegment
            | Self::DeactivateSegment
            | Self::IdentityConfig
            | Self::SegmentStats
            | Self::DailyEvents
            | Self::MonthlyEvents
            | Self::Customers => &[],
        }
    }
}

const fn route(method: Method, pattern: &'static str, handler: Handler) -> Route<Handler> {
    Route {
        method,
        pattern,
        handler,
    }
}

/// Every route; literal segments are listed before captures at the same place.
pub(super) const ROUTES: &[Route<Handler>] = &[
    route(Method::Get, "/cdp/v1/profiles", Handler::ListProfiles),
    route(Method::Post, "/cdp/v1/profiles", Handler::UpsertProfile),
    route(
        Method::Get,
        "/cdp/v1/profiles/lookup",
        Handler::LookupProfile,
    ),
    route(Method::Get, "/cdp/v1/profiles/{id}", Handler::GetProfile),
    route(
        Method::Get,
        "/cdp/v1/profiles/{id}/traits",
        Handler::ProfileTraits,
    ),
    route(
        Method::Get,
        "/cdp/v1/profiles/{id}/segments",
        Handler::ProfileSegments,
    ),
    route(
        Method::Get,
        "/cdp/v1/profiles/{id}/stats/buying",
        Handler::ProfileBuying,
    ),
    route(
        Method::Get,
        "/cdp/v1/profiles/{id}/stats/events",
        Handler::ProfileEventStats,
    ),
    route(Method::Post, "/cdp/v1/merges", Handler::Merge),
    route(
        Method::Get,
        "/cdp/v1/merges/{absorbed}",
        Handler::ExplainMerge,
    ),
    route(
        Method::Delete,
        "/cdp/v1/merges/{absorbed}",
        Handler::Unmerge,
    ),
    route(Method::Post, "/cdp/v1/events", Handler::RecordEvents),
    route(Method::Get, "/cdp/v1/events", Handler::SearchEvents),
    route(Method::Get, "/cdp/v1/traits", Handler::ListTraits),
    route(Method::Post, "/cdp/v1/traits", Handler::DefineTrait),
    route(Method::Get, "/cdp/v1/traits/{name}", Handler::GetTrait),
    route(
        Method::Delete,
        "/cdp/v1/traits/{name}",
        Handler::DeleteTrait,
    ),
    route(Method::Get, "/cdp/v1/segments", Handler::ListSegments),
    route(Method::Post, "/cdp/v1/segments", Handler::DefineSegment),
    route(Method::Get, "/cdp/v1/segments/{title}", Handler::GetSegment),
    route(
        Method::Delete,
        "/cdp/v1/segments/{title}",
        Handler::DeleteSegment,
    ),
    route(
        Method::Post,
        "/cdp/v1/segments/{title}/activate",
        Handler::ActivateSegment,
    ),
    route(
        Method::Post,
        "/cdp/v1/segments/{title}/deactivate",
        Handler::DeactivateSegment,
    ),
    route(
        Method::Get,
        "/cdp/v1/segments/{title}/members",
        Handler::SegmentMembers,
    ),
    route(
        Method::Get,
        "/cdp/v1/segments/{title}/history",
        Handler::SegmentHistory,
    ),
    route(Method::Get, "/cdp/v1/identity", Handler::IdentityConfig),
    route(Method::Get, "/cdp/v1/stats/segments", Handler::SegmentStats),
    route(
        Method::Get,
        "/cdp/v1/stats/events/daily",
        Handler::DailyEvents,
    ),
    route(
        Method::Get,
        "/cdp/v1/stats/events/monthly",
        Handler::MonthlyEvents,
    ),
    route(
        Method::Get,
        "/cdp/v1/stats/events/by-type",
        Handler::EventsByType,
    ),
    route(
        Method::Get,
        "/cdp/v1/stats/events/added",
        Handler::EventsAdded,
    ),
    route(Method::Get, "/cdp/v1/stats/customers", Handler::Customers),
    route(
        Method::Get,
        "/cdp/v1/stats/customers/created",
        Handler::CustomersCreated,
    ),
    route(
        Method::Get,
        "/cdp/v1/stats/customers/changed",
        Handler::CustomersChanged,
    ),
    route(
        Method::Get,
        "/cdp/v1/stats/kpis/purchases",
        Handler::PurchaseKpis,
    ),
    route(
        Method::Get,
        "/cdp/v1/stats/kpis/ecommerce",
        Handler::EcommerceKpis,
    ),
    route(Method::Get, "/cdp/v1/stats/kpis/web", Handler::WebKpis),
];
