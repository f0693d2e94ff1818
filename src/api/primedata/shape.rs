//! PrimeData's JSON shape of a profile.

use chrono::SecondsFormat;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::model::Profile;

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

/// `{"data": {...}}` for a profile: always its id and change time, and the requested parts,
/// each limited to the `include` names when given.
pub(super) fn profile(profile: &Profile, parts: &[Part], include: Option<&[String]>) -> Json {
    let wanted = |name: &str| include.is_none_or(|names| names.iter().any(|n| n == name));
    let mut data = Map::new();
    data.insert("profile_id".into(), Json::String(profile.id.to_string()));
    let updated = profile.updated.to_datetime().map_or_else(
        || profile.updated.to_string(),
        |at| at.to_rfc3339_opts(SecondsFormat::Secs, true),
    );
    data.insert("last_updated".into(), Json::String(updated));
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
        let traits: Map<String, Json> = profile
            .merged_attributes()
            .into_iter()
            .filter(|(key, _)| wanted(key))
            .map(|(key, value)| (key.to_owned(), value.to_json()))
            .collect();
        data.insert("trait".into(), Json::Object(traits));
    }
    if parts.contains(&Part::Ptrait) {
        // Computed traits arrive with the traits engine; the key is there already.
        data.insert("p_trait".into(), Json::Object(Map::new()));
    }
    json!({ "data": data })
}
