//! The engine's own REST surface, `/cdp/v1/…`: profiles, merges, events, computed traits,
//! segments, the identity configuration and statistics, in the shapes of the engine's
//! command JSON (`docs/config.md`). Open when `cdp.apiKeys` is empty; otherwise every request
//! needs `Authorization: Bearer <key>`. The JS helpers (`cdp.events`, `cdp.traits`,
//! `cdp.segments`) call it in-process, past the key check.

mod definitions;
mod error;
mod events;
mod profiles;
mod routes;
mod shape;
mod stats;

pub(crate) use error::error_response;

use serde_json::json;

use self::routes::{Handler, ROUTES};
use super::base64;
use super::config::{CdpConfig, KeyList};
use super::credentials::KeyRing;
use super::{router, ApiError, Request, Response};
use crate::engine::Engine;
use crate::model::ProfileId;

/// The `/cdp/v1` surface's state: only its keys.
pub(crate) struct Cdp {
    keys: KeyRing,
    open: bool,
}

/// Who is calling: a client over HTTP (key checked when keys are configured) or the
/// package's own helpers in the same process.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Caller {
    /// A REST client.
    Client,
    /// The JS package's typed helpers, in process.
    Helpers,
}

impl Cdp {
    pub(crate) fn new(config: &CdpConfig) -> Self {
        let mut cdp = Self {
            keys: KeyRing::default(),
            open: true,
        };
        cdp.set_credentials(&config.credentials());
        cdp
    }

    /// Replaces the keys; an empty list opens the surface.
    pub(crate) fn set_credentials(&mut self, credentials: &KeyList) {
        self.keys = KeyRing::new(&credentials.api_keys);
        self.open = credentials.api_keys.iter().all(String::is_empty);
    }

    /// Whether requests need no key.
    pub(crate) fn is_open(&self) -> bool {
        self.open
    }

    pub(crate) fn handle(
        &self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
        caller: Caller,
    ) -> Response {
        self.route(engine, request, segments, caller)
            .unwrap_or_else(|error| error_response(&error))
    }

    fn authenticate(&self, request: &Request, caller: Caller) -> Result<(), ApiError> {
        if caller == Caller::Helpers || self.open {
            return Ok(());
        }
        let presented = request
            .header("authorization")
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim());
        match presented {
            Some(key) if self.keys.accepts(key) => Ok(()),
            _ => Err(ApiError::Unauthenticated),
        }
    }

    fn route(
        &self,
        engine: &mut Engine,
        request: &Request,
        segments: &[&str],
        caller: Caller,
    ) -> Result<Response, ApiError> {
        let matched = router::find(ROUTES, &request.method, segments, &request.path)?;
        self.authenticate(request, caller)?;
        known_parameters(request, matched.handler.parameters())?;
        let param = matched.params.first().copied().unwrap_or_default();
        match matched.handler {
            Handler::ListProfiles => profiles::list(engine, request),
            Handler::UpsertProfile => profiles::upsert(engine, request),
            Handler::LookupProfile => profiles::lookup(engine, request),
            Handler::GetProfile => profiles::get(engine, param),
            Handler::ProfileTraits => profiles::traits(engine, param),
            Handler::ProfileSegments => profiles::segments(engine, param),
            Handler::ProfileBuying => stats::buying(engine, request, param),
            Handler::ProfileEventStats => stats::profile_events(engine, request, param),
            Handler::Merge => profiles::merge(engine, request),
            Handler::ExplainMerge => profiles::explain_merge(engine, param),
            Handler::Unmerge => profiles::unmerge(engine, param),
            Handler::RecordEvents => events::record(engine, request),
            Handler::SearchEvents => events::search(engine, request),
            Handler::ListTraits => definitions::list_traits(engine),
            Handler::DefineTrait => definitions::define_trait(engine, request),
            Handler::GetTrait => definitions::get_trait(engine, param),
            Handler::DeleteTrait => definitions::delete_trait(engine, param),
            Handler::ListSegments => definitions::list_segments(engine),
            Handler::DefineSegment => definitions::define_segment(engine, request),
            Handler::GetSegment => definitions::get_segment(engine, param),
            Handler::DeleteSegment => definitions::delete_segment(engine, param),
            Handler::ActivateSegment => definitions::set_active(engine, param, true),
            Handler::DeactivateSegment => definitions::set_active(engine, param, false),
            Handler::SegmentMembers => definitions::members(engine, request, param),
            Handler::SegmentHistory => definitions::history(engine, request, param),
            Handler::IdentityConfig => Ok(Response::json(200, &json!(engine.identity_config()))),
            Handler::SegmentStats => stats::segments(engine),
            Handler::DailyEvents => stats::daily_events(engine),
            Handler::MonthlyEvents => stats::monthly_events(engine),
            Handler::EventsByType => stats::events_by_type(engine, request),
            Handler::EventsAdded => stats::events_added(engine, request),
            Handler::Customers => stats::customers(engine),
            Handler::CustomersCreated => stats::customers_created(engine, request),
            Handler::CustomersChanged => stats::customers_changed(engine, request),
            Handler::PurchaseKpis => stats::purchase_kpis(engine, request),
            Handler::EcommerceKpis => stats::ecommerce_kpis(engine, request),
            Handler::WebKpis => stats::web_kpis(engine, request),
        }
    }
}

/// Refuses a query parameter the endpoint does not read, naming the ones it does.
fn known_parameters(request: &Request, known: &[&str]) -> Result<(), ApiError> {
    let Some((name, _)) = request
        .query
        .iter()
        .find(|(name, _)| !known.contains(&name.as_str()))
    else {
        return Ok(());
    };
    let takes = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    Err(ApiError::InvalidRequest(format!(
        "unknown query parameter `{name}`: this endpoint takes {takes}"
    )))
}

/// A profile id from the path: malformed is 400 `model.invalid_id`.
fn profile_id(text: &str) -> Result<ProfileId, ApiError> {
    text.parse::<ProfileId>()
        .map_err(|error| ApiError::Engine(error.into()))
}

/// One page of a list: `limit` (1 to 100, default 25) items from the opaque `cursor`'s
/// position; returns the range and the cursor of the next page, if any.
fn page_window(
    request: &Request,
    total: usize,
) -> Result<(usize, usize, Option<String>), ApiError> {
    let limit = super::query_number(request, "limit", 25, 1, 100)?;
    let start = match request.query("cursor") {
        None => 0,
        Some(text) => base64::position(text).ok_or_else(|| {
            ApiError::InvalidRequest(format!("cursor `{text}` was not made by this list"))
        })?,
    };
    let start = start.min(total);
    let end = start.saturating_add(limit).min(total);
    let next = (end < total).then(|| base64::cursor(end));
    Ok((start, end, next))
}
