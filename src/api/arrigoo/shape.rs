//! Arrigoo's JSON shapes of a profile, a segment and the statistics.

use chrono::SecondsFormat;
use serde_json::{json, Value as Json};

use crate::formats::json_map;
use crate::model::{Profile, Timestamp};
use crate::segments::SegmentDefinition;
use crate::stats::{DailyEventCounts, MonthCount, SegmentStat};

/// The full profile of `GET /v1/customer/{uuid}`: properties `p`, segment system titles
/// `s`, id `cid`, identifiers `i`, and the creation and change times.
pub(super) fn profile(profile: &Profile, segments: &[&str]) -> Json {
    let properties: Vec<Json> = profile
        .merged_attributes()
        .into_iter()
        .map(|(label, value)| json!({"lab": label, "val": value.to_json()}))
        .collect();
    json!({
        "p": properties,
        "s": segments,
        "cid": profile.id.to_string(),
        "i": identifiers(profile),
        "ctime": profile.created.to_string(),
        "mtime": profile.updated.to_string(),
    })
}

/// The list entry of `GET /v1/customer` and `GET /v1/customer/segment/{…}`: no properties,
/// for speed.
pub(super) fn summary(profile: &Profile, segments: &[&str]) -> Json {
    json!({"cid": profile.id.to_string(), "s": segments, "i": identifiers(profile)})
}

/// A token expiry as Arrigoo prints it: seconds and an explicit offset.
pub(super) fn expiry(at: Timestamp) -> String {
    at.to_datetime().map_or_else(
        || at.to_string(),
        |datetime| datetime.to_rfc3339_opts(SecondsFormat::Secs, false),
    )
}

/// An entry of `GET /v1/segment`, the fields Arrigoo's client reads.
pub(super) fn segment(definition: &SegmentDefinition) -> Json {
    json!({
        "sys_title": definition.system_title,
        "title": definition.name,
        "description": definition.description,
    })
}

/// `GET /v1/stat/segment`: per segment (by display name) its current (`active`) and former
/// (`inactive`) members.
pub(super) fn segment_stats(stats: &[SegmentStat]) -> Json {
    let entries: Vec<Json> = stats
        .iter()
        .map(|stat| {
            json!({
                "total": stat.total,
                "entry": stat.name,
                "stats": {"active": stat.active, "inactive": stat.inactive},
            })
        })
        .collect();
    json!({"types": ["active", "inactive"], "entries": entries})
}

/// `GET /v1/stat/event`: per UTC day of the past month, events per type.
pub(super) fn daily_event_stats(counts: &DailyEventCounts) -> Json {
    let entries: Vec<Json> = counts
        .days
        .iter()
        .map(|day| {
            let stats = json_map(
                day.by_type
                    .iter()
                    .map(|(name, count)| (name.clone(), Json::from(*count))),
            );
            json!({
                "total": day.total,
                "entry": format!("{}T00:00:00Z", day.day),
                "stats": stats,
            })
        })
        .collect();
    json!({"types": counts.types, "entries": entries})
}

/// `GET /v1/stat/event/month`: events per calendar month.
pub(super) fn monthly_event_stats(months: &[MonthCount]) -> Json {
    let entries: Vec<Json> = months
        .iter()
        .map(|month| {
            json!({
                "total": month.total,
                "entry": month.month,
                "stats": {"total": month.total},
            })
        })
        .collect();
    json!({"types": [], "entries": entries})
}

fn identifiers(profile: &Profile) -> Vec<Json> {
    profile
        .identities
        .iter()
        .map(|identifier| json!({"id_type": identifier.kind(), "id_value": identifier.value()}))
        .collect()
}
