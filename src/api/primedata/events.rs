//! `POST /pub/events/advanced-search`: one page of a profile's events, read from the body's
//! window, names, order, page size and cursor.

use serde::Deserialize;
use serde_json::{json, Map, Value as Json};
use sha2::{Digest, Sha256};

use super::{shape, PrimeData};
use crate::api::{parse_body, ApiError, Request, Response};
use crate::engine::{Engine, EngineError};
use crate::events::{parse_time, Cursor, EventQuery, Order};
use crate::model::{ProfileId, Timestamp};

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
            .map(|text| {
                let (position, filters) = text.split_once('.').unwrap_or((text, ""));
                Cursor::parse(position).map(|position| (position, filters))
            })
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
        let order = search.sort.unwrap_or_default();
        let filters = fingerprint(profile.id, start, end, &names, order);
        if let Some((_, issued_for)) = cursor {
            if issued_for != filters {
                return Err(ApiError::InvalidRequest(
                    "cursor was issued for a search with other filters (profile, start, end, \
                     include or sort)"
                        .to_owned(),
                ));
            }
        }
        query.names = names;
        query.order = order;
        query.cursor = cursor.map(|(position, _)| position);
        let page = engine.events(&query).map_err(EngineError::from)?;
        let next = page
            .next
            .map(|position| format!("{}.{filters}", position.encode()));
        Ok(Response::json(
            200,
            &shape::event_page(profile.id, &page, next),
        ))
    }
}

/// What a cursor is bound to: the profile, window, event names (as a set) and order of the
/// search that issued it, as 16 hex digits of a SHA-256. The page size may change between
/// pages; anything else makes the cursor refused.
fn fingerprint(
    profile: ProfileId,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    names: &[String],
    order: Order,
) -> String {
    let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let canonical = json!([
        profile.to_string(),
        start.map(Timestamp::as_micros),
        end.map(Timestamp::as_micros),
        names,
        order,
    ]);
    Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect()
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
