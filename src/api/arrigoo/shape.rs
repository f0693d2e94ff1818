//! Arrigoo's JSON shapes of a profile.

use chrono::SecondsFormat;
use serde_json::{json, Value as Json};

use crate::model::{Profile, Timestamp};

/// The full profile of `GET /v1/customer/{uuid}`: properties `p`, segments `s`, id `cid`,
/// identifiers `i`, and the creation and change times.
pub(super) fn profile(profile: &Profile) -> Json {
    let properties: Vec<Json> = profile
        .merged_attributes()
        .into_iter()
        .map(|(label, value)| json!({"lab": label, "val": value.to_json()}))
        .collect();
    json!({
        "p": properties,
        "s": segments(profile),
        "cid": profile.id.to_string(),
        "i": identifiers(profile),
        "ctime": profile.created.to_string(),
        "mtime": profile.updated.to_string(),
    })
}

/// The list entry of `GET /v1/customer`: no properties, for speed.
pub(super) fn summary(profile: &Profile) -> Json {
    json!({"cid": profile.id.to_string(), "s": segments(profile), "i": identifiers(profile)})
}

/// A token expiry as Arrigoo prints it: seconds and an explicit offset.
pub(super) fn expiry(at: Timestamp) -> String {
    at.to_datetime().map_or_else(
        || at.to_string(),
        |datetime| datetime.to_rfc3339_opts(SecondsFormat::Secs, false),
    )
}

fn identifiers(profile: &Profile) -> Vec<Json> {
    profile
        .identities
        .iter()
        .map(|identifier| json!({"id_type": identifier.kind(), "id_value": identifier.value()}))
        .collect()
}

/// Segment memberships; segments are not maintained yet, so every profile is in none.
fn segments(_profile: &Profile) -> Vec<Json> {
    Vec::new()
}
