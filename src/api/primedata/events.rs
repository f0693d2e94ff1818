//! `POST /pub/events/advanced-search`: one page of a profile's events, read from the body's
//! window, names, order, page size and cursor.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{shape, PrimeData};
use crate::api::{parse_body, ApiError, Request, Response};
use crate::engine::{Engine, EngineError};
use crate::events::{parse_time, Cursor, EventQuery, Order};
use crate::model::Timestamp;

/// The body of an events search, as documented.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventSearch {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    include: Option<Vec<String>>,
    #[serde(default)]
    sort: Option<Order>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    identities: Option<Map<String, Json>>,
    #[serde(default)]
    profile_id: Option<String>,
}

impl PrimeData {
    /// `POST /pub/events/advanced-search`. The parameters are read first (400
    /// `invalid_request_error`), then the event names (400 `validation_error`), then the
    /// profile (identity types, then 404).
    pub(super) fn event_search(
        &self,
        engine: &Engine,
        request: &Request,
    ) -> Result<Response, ApiError> {
        let search: EventSearch = parse_body(request)?;
        let start = time_parameter("start", search.start.as_deref())?;
        let end = time_parameter("end", search.end.as_deref())?;
        let cursor = search
            .cursor
            .as_deref()
            .map(Cursor::parse)
            .transpose()
            .map_err(EngineError::from)?;
        let names = search.include.unwrap_or_default();
        engine
            .check_event_names(&names)
            .map_err(EngineError::from)?;
        let profile = self.find_profile(
            engine,
            search.profile_id.as_deref(),
            search.identities.as_ref(),
        )?;
        let mut query = EventQuery::for_profile(profile.id)
            .within(start, end)
            .map_err(EngineError::from)?;
        if let Some(limit) = search.limit {
            query = query.with_limit(limit).map_err(EngineError::from)?;
        }
        query.names = names;
        query.order = search.sort.unwrap_or_default();
        query.cursor = cursor;
        let page = engine.events(&query).map_err(EngineError::from)?;
        Ok(Response::json(200, &shape::event_page(profile.id, &page)))
    }
}

/// An optional ISO 8601 date (midnight UTC) or date-time parameter.
fn time_parameter(name: &str, text: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    text.map(|text| {
        parse_time(text).map(Timestamp::from_micros).ok_or_else(|| {
            ApiError::InvalidRequest(format!("{name} is not an ISO 8601 date: `{text}`"))
        })
    })
    .transpose()
}
