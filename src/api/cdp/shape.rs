//! The JSON shapes of `/cdp/v1`: the engine's own command JSON wherever a concept has one
//! (profiles, events, trait and segment definitions, outcomes), so one concept has one shape.

use serde_json::{json, Map, Value as Json};

use crate::engine::MembershipEvent;
use crate::model::{Event, Timestamp};
use crate::segments::{SegmentCounts, SegmentDefinition};
use crate::stats::{Kpi, KpiKind, SegmentStat, Series};

/// A page of a list: `{"data": [...], "next": <cursor or null>}`, with `total` when the
/// whole list's length is known.
pub(super) fn page(data: Vec<Json>, next: Option<String>, total: Option<usize>) -> Json {
    let mut page = Map::new();
    page.insert("data".into(), Json::Array(data));
    page.insert("next".into(), next.map_or(Json::Null, Json::String));
    if let Some(total) = total {
        page.insert("total".into(), json!(total));
    }
    Json::Object(page)
}

/// An event as `recordEvent` takes it, with the engine's `received` time:
/// `{"id", "profileId", "name", "context", "mode", "happened", "sent", "received",
/// "properties", "schemaVersion"}`.
pub(super) fn event(event: &Event) -> Json {
    let properties = event.properties.to_json();
    json!({
        "id": event.id.to_string(),
        "profileId": event.profile.to_string(),
        "name": event.name,
        "context": event.context,
        "mode": event.mode,
        "happened": event.happened.to_string(),
        "sent": event.sent.map(|sent| sent.to_string()),
        "received": event.received.to_string(),
        "properties": properties,
        "schemaVersion": event.schema_version,
    })
}

/// An entry or exit: `{"type": "enter" | "exit", "segment", "profile", "at"}`, the shape
/// segment subscriptions receive too.
pub(super) fn membership(event: &MembershipEvent) -> Json {
    event.to_json()
}

/// A segment as `defineSegment` takes it, with its current member count and, when given,
/// its history counts.
pub(super) fn segment(
    definition: &SegmentDefinition,
    members: u64,
    counts: Option<&SegmentCounts>,
) -> Json {
    let mut shape = definition.to_json();
    if let Json::Object(fields) = &mut shape {
        fields.insert("members".into(), json!(members));
        if let Some(counts) = counts {
            fields.insert(
                "counts".into(),
                json!({
                    "members": counts.members,
                    "formerMembers": counts.former_members,
                    "entries": counts.entries,
                    "exits": counts.exits,
                }),
            );
        }
    }
    shape
}

/// One segment's statistics.
pub(super) fn segment_stat(stat: &SegmentStat) -> Json {
    json!({
        "systemTitle": stat.system_title,
        "name": stat.name,
        "active": stat.segment_active,
        "total": stat.total,
        "members": stat.active,
        "formerMembers": stat.inactive,
        "entries": stat.entries,
    })
}

/// A time series: `{"category", "context", "points": [{"date", "value"}]}`.
pub(super) fn series(series: &Series) -> Json {
    let points: Vec<Json> = series
        .points
        .iter()
        .map(|point| json!({"date": point.date.to_string(), "value": point.value}))
        .collect();
    json!({
        "category": series.category,
        "context": series.context,
        "points": points,
    })
}

/// A KPI: `{"name", "kind": "currency" | "count", "value", "total", "currency"}`.
pub(super) fn kpi(kpi: &Kpi) -> Json {
    let kind = match kpi.kind {
        KpiKind::Currency => "currency",
        KpiKind::Count => "count",
    };
    json!({
        "name": kpi.name,
        "kind": kind,
        "value": kpi.value,
        "total": kpi.total,
        "currency": kpi.currency,
    })
}

/// `{"start", "end", "data": [...]}` for a statistic over a range.
pub(super) fn ranged(start: Timestamp, end: Timestamp, data: Vec<Json>) -> Json {
    json!({"start": start.to_string(), "end": end.to_string(), "data": data})
}
