//! PrimeData's JSON shapes of a profile and of a page of events.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::events::EventPage;
use crate::formats::json_map;
use crate::model::{Profile, ProfileId, Timestamp, Value};

/// The parts of a profile a search may ask for (`type`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Part {
    /// Stored attributes, as `trait`.
    Trait,
    /// Computed traits, as `p_trait`.
    Ptrait,
    /// Identifiers by type, as `identity`.
    Identity,
}

/// `{"data": {...}}` for a profile and its computed trait values: always its id and change
/// time, and the requested parts, each limited to the `include` names when given.
pub(super) fn profile(
    profile: &Profile,
    computed: &BTreeMap<String, Value>,
    parts: &[Part],
    include: Option<&[String]>,
) -> Json {
    let wanted = |name: &str| include.is_none_or(|names| names.iter().any(|n| n == name));
    let mut data = Map::new();
    data.insert("profile_id".into(), Json::String(profile.id.to_string()));
    data.insert(
        "last_updated".into(),
        Json::String(time_text(profile.updated, SecondsFormat::Secs)),
    );
    if parts.contains(&Part::Identity) {
        let mut identity = Map::new();
        for identifier in &profile.identities {
            if !wanted(identifier.kind()) {
                continue;
            }
            if let Json::Array(values) = identity
                .entry(identifier.kind().to_owned())
                .or_insert_with(|| Json::Array(Vec::new()))
            {
                values.push(Json::String(identifier.value().to_owned()));
            }
        }
        data.insert("identity".into(), Json::Object(identity));
    }
    if parts.contains(&Part::Trait) {
        let traits = json_map(
            profile
                .merged_attributes()
                .into_iter()
                .filter(|(key, _)| wanted(key))
                .map(|(key, value)| (key.to_owned(), value.to_json())),
        );
        data.insert("trait".into(), Json::Object(traits));
    }
    if parts.contains(&Part::Ptrait) {
        let computed = json_map(
            computed
                .iter()
                .filter(|(name, _)| wanted(name))
                .map(|(name, value)| (name.clone(), value.to_json())),
        );
        data.insert("p_trait".into(), Json::Object(computed));
    }
    json!({ "data": data })
}

/// `{"data": [...], "cursor": {"has_more", "next"}}` for a page of `profile`'s events, `next`
/// being the page's cursor as the dialect hands it out (`null` on the last page).
/// `sent_at` and `input_schema_version` are `null` when the sender gave none.
pub(super) fn event_page(profile: ProfileId, page: &EventPage<'_>, next: Option<String>) -> Json {
    let data: Vec<Json> = page
        .events
        .iter()
        .map(|event| {
            let properties = event.properties.to_json();
            json!({
                "properties": properties,
                "id": event.id.to_string(),
                "profile_id": profile.to_string(),
                "event_name": event.name,
                "time_stamp": time_text(event.happened, SecondsFormat::AutoSi),
                "sent_at": event.sent.map(|sent| time_text(sent, SecondsFormat::AutoSi)),
                "input_schema_version": event.schema_version,
            })
        })
        .collect();
    json!({
        "data": data,
        "cursor": {
            "has_more": next.is_some(),
            "next": next,
        },
    })
}

/// A time as RFC 3339 in UTC (`Z`).
fn time_text(at: Timestamp, precision: SecondsFormat) -> String {
    at.to_datetime().map_or_else(
        || at.to_string(),
        |moment| moment.to_rfc3339_opts(precision, true),
    )
}
