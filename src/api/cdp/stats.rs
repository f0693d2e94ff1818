//! Statistics the core computes from live state (`src/stats`): segment counts, event
//! counts, and the customer counts, time series and KPIs Contacthub defines. Ranges take
//! `start` (inclusive) and `end` (exclusive) as ISO 8601 dates or date-times, defaulting to
//! the span `src/stats` documents per statistic.

use serde_json::{json, Value as Json};

use super::events::time_parameter;
use super::{profile_id, shape};
use crate::api::{ApiError, Request, Response};
use crate::engine::{Engine, EngineError};
use crate::events::EventError;
use crate::model::{EventContext, ProfileId};
use crate::stats::{self, ChangeKind, DefaultSpan, Period, PurchaseScope, Resolution, StatsError};

fn stats_error(error: StatsError) -> ApiError {
    match error {
        StatsError::EmptyRange => ApiError::Engine(EngineError::Event(EventError::EmptyWindow)),
        StatsError::UnknownProfile(id) => ApiError::NotFound {
            resource: "profile",
            id: id.to_string(),
        },
        StatsError::TooManyPoints { .. } => ApiError::InvalidRequest(error.to_string()),
    }
}

/// The request's range, with `span` back from the end when it gives no start.
fn period(engine: &Engine, request: &Request, span: DefaultSpan) -> Result<Period, ApiError> {
    let start = time_parameter(request, "start")?;
    let end = time_parameter(request, "end")?;
    Period::resolve(start, end, span, engine.now()).map_err(stats_error)
}

/// The `resolution` parameter: `DAILY`, `WEEKLY` or `MONTHLY` (any case).
fn resolution(request: &Request, default: Resolution) -> Result<Resolution, ApiError> {
    match request
        .query("resolution")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None => Ok(default),
        Some("DAILY") => Ok(Resolution::Daily),
        Some("WEEKLY") => Ok(Resolution::Weekly),
        Some("MONTHLY") => Ok(Resolution::Monthly),
        Some(other) => Err(ApiError::InvalidRequest(format!(
            "resolution must be DAILY, WEEKLY or MONTHLY, not `{other}`"
        ))),
    }
}

fn ranged(period: &Period, data: Vec<Json>) -> Response {
    Response::json(200, &shape::ranged(period.start, period.end, data))
}

/// `GET /cdp/v1/stats/segments`.
pub(super) fn segments(engine: &Engine) -> Result<Response, ApiError> {
    let data: Vec<Json> = stats::segment_stats(engine)
        .iter()
        .map(shape::segment_stat)
        .collect();
    Ok(Response::json(200, &json!({ "data": data })))
}

/// `GET /cdp/v1/stats/events/daily`: events per day and name over the past month.
pub(super) fn daily_events(engine: &Engine) -> Result<Response, ApiError> {
    let counts = stats::daily_event_counts(engine);
    let days: Vec<Json> = counts
        .days
        .iter()
        .map(|day| json!({"day": day.day.to_string(), "total": day.total, "byType": day.by_type}))
        .collect();
    Ok(Response::json(
        200,
        &json!({"types": counts.types, "data": days}),
    ))
}

/// `GET /cdp/v1/stats/events/monthly`: events per month from the first event on.
pub(super) fn monthly_events(engine: &Engine) -> Result<Response, ApiError> {
    let data: Vec<Json> = stats::monthly_event_counts(engine)
        .iter()
        .map(|month| json!({"month": month.month, "total": month.total}))
        .collect();
    Ok(Response::json(200, &json!({ "data": data })))
}

/// `GET /cdp/v1/stats/events/by-type?context&start&end`: daily series per event name and
/// context, over the last month by default.
pub(super) fn events_by_type(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let context = match request.query("context") {
        None | Some("ALL") => None,
        Some(text) => Some(
            serde_json::from_value::<EventContext>(Json::String(text.to_owned())).map_err(
                |_| ApiError::InvalidRequest(format!("`{text}` is not an event context")),
            )?,
        ),
    };
    let period = period(engine, request, DefaultSpan::LastMonth)?;
    let data = stats::events_by_type_and_context(engine, context, &period)
        .map_err(stats_error)?
        .iter()
        .map(shape::series)
        .collect();
    Ok(ranged(&period, data))
}

/// `GET /cdp/v1/stats/events/added?start&end`: daily series per event name of events
/// received in the range, over the last month by default.
pub(super) fn events_added(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let period = period(engine, request, DefaultSpan::LastMonth)?;
    let data = stats::events_added(engine, ChangeKind::Added, &period)
        .map_err(stats_error)?
        .iter()
        .map(shape::series)
        .collect();
    Ok(ranged(&period, data))
}

/// `GET /cdp/v1/stats/customers`: the live profile count and reachability by channel.
pub(super) fn customers(engine: &Engine) -> Result<Response, ApiError> {
    let channels = stats::communication_channels(engine);
    Ok(Response::json(
        200,
        &json!({
            "total": stats::customer_count(engine),
            "channels": {
                "emailMobile": channels.email_mobile,
                "emailOnly": channels.email_only,
                "mobileOnly": channels.mobile_only,
                "notReachable": channels.not_reachable,
            },
        }),
    ))
}

/// `GET /cdp/v1/stats/customers/created?start&end&resolution`: profiles created, over the
/// last year by month by default.
pub(super) fn customers_created(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let resolution = resolution(request, Resolution::Monthly)?;
    let period = period(engine, request, DefaultSpan::LastYear)?;
    let series = stats::customers_created(engine, &period, resolution).map_err(stats_error)?;
    Ok(ranged(&period, vec![shape::series(&series)]))
}

/// `GET /cdp/v1/stats/customers/changed?kind=added|updated|deleted&start&end`: profiles
/// added, updated (after creation) or deleted per day, over the last month by default.
pub(super) fn customers_changed(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let kind = match request.query("kind") {
        None | Some("added") => ChangeKind::Added,
        Some("updated") => ChangeKind::Updated,
        Some("deleted") => ChangeKind::Deleted,
        Some(other) => {
            return Err(ApiError::InvalidRequest(format!(
                "kind must be added, updated or deleted, not `{other}`"
            )))
        }
    };
    let period = period(engine, request, DefaultSpan::LastMonth)?;
    let series = stats::customers_changed(engine, kind, &period).map_err(stats_error)?;
    Ok(ranged(&period, vec![shape::series(&series)]))
}

/// `GET /cdp/v1/stats/kpis/purchases?scope=all|ecommerce|retail&start&end`.
pub(super) fn purchase_kpis(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let scope = match request.query("scope") {
        None | Some("all") => PurchaseScope::All,
        Some("ecommerce") => PurchaseScope::Ecommerce,
        Some("retail") => PurchaseScope::Retail,
        Some(other) => {
            return Err(ApiError::InvalidRequest(format!(
                "scope must be all, ecommerce or retail, not `{other}`"
            )))
        }
    };
    let period = period(engine, request, DefaultSpan::LastMonth)?;
    let data = stats::purchase_kpis(engine, scope, &period)
        .iter()
        .map(shape::kpi)
        .collect();
    Ok(ranged(&period, data))
}

/// `GET /cdp/v1/stats/kpis/ecommerce?start&end`.
pub(super) fn ecommerce_kpis(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let period = period(engine, request, DefaultSpan::LastMonth)?;
    let data = stats::ecommerce_kpis(engine, &period)
        .iter()
        .map(shape::kpi)
        .collect();
    Ok(ranged(&period, data))
}

/// `GET /cdp/v1/stats/kpis/web?start&end`.
pub(super) fn web_kpis(engine: &Engine, request: &Request) -> Result<Response, ApiError> {
    let period = period(engine, request, DefaultSpan::LastMonth)?;
    let data = stats::web_kpis(engine, &period)
        .iter()
        .map(shape::kpi)
        .collect();
    Ok(ranged(&period, data))
}

fn live_profile(engine: &Engine, id: &str) -> Result<ProfileId, ApiError> {
    let id = profile_id(id)?;
    engine
        .profile(id)
        .map(|profile| profile.id)
        .ok_or_else(|| ApiError::NotFound {
            resource: "profile",
            id: id.to_string(),
        })
}

/// `GET /cdp/v1/profiles/{id}/stats/buying?start&end`: one profile's purchase KPIs, over
/// the last year by default.
pub(super) fn buying(engine: &Engine, request: &Request, id: &str) -> Result<Response, ApiError> {
    let profile = live_profile(engine, id)?;
    let period = period(engine, request, DefaultSpan::LastYear)?;
    let data = stats::buying_behaviour(engine, profile, &period)
        .map_err(stats_error)?
        .iter()
        .map(shape::kpi)
        .collect();
    Ok(ranged(&period, data))
}

/// `GET /cdp/v1/profiles/{id}/stats/events?start&end&resolution`: one profile's events per
/// name and context, over the last year by day by default.
pub(super) fn profile_events(
    engine: &Engine,
    request: &Request,
    id: &str,
) -> Result<Response, ApiError> {
    let profile = live_profile(engine, id)?;
    let resolution = resolution(request, Resolution::Daily)?;
    let period = period(engine, request, DefaultSpan::LastYear)?;
    let data = stats::customer_events_by_category(engine, profile, &period, resolution)
        .map_err(stats_error)?
        .iter()
        .map(shape::series)
        .collect();
    Ok(ranged(&period, data))
}
