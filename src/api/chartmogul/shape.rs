//! ChartMogul's JSON shapes of a customer, its attributes and its id.

use chrono::SecondsFormat;
use serde_json::{Map, Value as Json};

use crate::formats::{json_map, json_object};
use crate::model::{Profile, ProfileId};

/// The prefix of a customer uuid: `cus_<uuid>`.
const UUID_PREFIX: &str = "cus_";

/// Address fields, taken from the attributes of the same names.
const ADDRESS_FIELDS: [&str; 6] = [
    "address_line1",
    "address_line2",
    "address_zip",
    "city",
    "country",
    "state",
];

/// The customer uuid of a profile: `cus_` and the profile id.
pub(super) fn customer_uuid(id: ProfileId) -> String {
    format!("{UUID_PREFIX}{id}")
}

/// The profile id a customer uuid names, with or without `cus_`.
pub(super) fn parse_customer_uuid(text: &str) -> Option<ProfileId> {
    text.strip_prefix(UUID_PREFIX).unwrap_or(text).parse().ok()
}

/// The numeric `id` of a customer: the first 48 bits of its profile id, so it is stable,
/// fits a JavaScript number, and needs no counter.
pub(super) fn numeric_id(id: ProfileId) -> u64 {
    id.as_uuid()
        .as_bytes()
        .iter()
        .take(6)
        .fold(0u64, |number, byte| number << 8 | u64::from(*byte))
}

/// A full customer: identity, address, status and attributes.
pub(super) fn customer(profile: &Profile) -> Json {
    let address = json_map(
        ADDRESS_FIELDS
            .iter()
            .map(|field| ((*field).to_owned(), attribute(profile, field))),
    );
    let since = profile.created.to_datetime().map_or_else(
        || profile.created.to_string(),
        |at| at.to_rfc3339_opts(SecondsFormat::Secs, false),
    );
    json_object([
        ("id", Json::from(numeric_id(profile.id))),
        ("uuid", Json::String(customer_uuid(profile.id))),
        ("external_id", identifier(profile, "external_id")),
        ("email", identifier(profile, "email")),
        ("name", attribute(profile, "name")),
        ("address", Json::Object(address)),
        ("customer-since", Json::String(since)),
        ("status", Json::from("Active")),
        ("attributes", attributes(profile)),
    ])
}

/// A customer as the by-email attribute endpoints list it: the same without `address`.
pub(super) fn customer_entry(profile: &Profile) -> Json {
    let mut entry = customer(profile);
    if let Json::Object(fields) = &mut entry {
        fields.remove("address");
    }
    entry
}

/// The attributes object: custom attributes (every attribute of the profile, newest value
/// across sources), manual tags, and the Stripe and Clearbit objects (empty: the engine
/// holds no data from either).
pub(super) fn attributes(profile: &Profile) -> Json {
    json_object([
        ("custom", custom(profile)),
        ("tags", tags(profile)),
        ("stripe", Json::Object(Map::new())),
        ("clearbit", Json::Object(Map::new())),
    ])
}

/// The custom attributes, by key.
pub(super) fn custom(profile: &Profile) -> Json {
    Json::Object(json_map(
        profile
            .merged_attributes()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_json())),
    ))
}

/// The manual tags.
pub(super) fn tags(profile: &Profile) -> Json {
    Json::from(profile.tags.manual.iter().cloned().collect::<Vec<_>>())
}

fn identifier(profile: &Profile, kind: &str) -> Json {
    profile
        .identities
        .iter()
        .find(|identifier| identifier.kind() == kind)
        .map_or(Json::Null, |identifier| {
            Json::String(identifier.value().to_owned())
        })
}

fn attribute(profile: &Profile, key: &str) -> Json {
    profile
        .attribute(key)
        .map_or(Json::Null, |value| value.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_uuid_round_trips_with_or_without_prefix() {
        let id = ProfileId::random();
        assert_eq!(parse_customer_uuid(&customer_uuid(id)), Some(id));
        assert_eq!(parse_customer_uuid(&id.to_string()), Some(id));
        assert_eq!(parse_customer_uuid("cus_nope"), None);
        assert!(numeric_id(id) < 1 << 48);
    }
}
