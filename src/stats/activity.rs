//! Event counts: Arrigoo's `/v1/stat/event` and `/v1/stat/event/month`, Contacthub's events
//! by update date, by type and context, and a customer's events by category.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{
    count_into, series_of, ChangeKind, DefaultSpan, Period, Resolution, Series, StatsError,
};
use crate::model::{Event, EventContext, ProfileId, Timestamp};
use crate::Engine;

/// One day of [`daily_event_counts`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DayCounts {
    /// The UTC day.
    pub day: NaiveDate,
    /// Events that day.
    pub total: u64,
    /// Events that day per event name, every name of the month present (zeros included).
    pub by_type: BTreeMap<String, u64>,
}

/// Arrigoo's daily event stats for the past month.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DailyEventCounts {
    /// Every event name seen in the month, sorted.
    pub types: Vec<String>,
    /// One entry per day, oldest first.
    pub days: Vec<DayCounts>,
}

/// One month of [`monthly_event_counts`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// Events that month.
    pub total: u64,
}

fn days_of(engine: &Engine) -> impl Iterator<Item = &Event> {
    engine.event_store().iter().map(|(_, event)| event)
}

/// Events per day and name for the past month (one calendar month back from now to now),
/// by the time each event happened.
pub fn daily_event_counts(engine: &Engine) -> DailyEventCounts {
    let now = engine.now();
    let Ok(period) = Period::resolve(None, None, DefaultSpan::LastMonth, now) else {
        return DailyEventCounts {
            types: Vec::new(),
            days: Vec::new(),
        };
    };
    let buckets = period.buckets(Resolution::Daily);
    let mut types = BTreeSet::new();
    let mut counts: BTreeMap<NaiveDate, BTreeMap<String, u64>> = BTreeMap::new();
    for event in days_of(engine).filter(|event| period.contains(event.happened)) {
        let Some(day) = super::bucket_of(event.happened, Resolution::Daily) else {
            continue;
        };
        types.insert(event.name.to_string());
        *counts
            .entry(day)
            .or_default()
            .entry(event.name.to_string())
            .or_default() += 1;
    }
    let days = buckets
        .into_iter()
        .map(|day| {
            let found = counts.remove(&day).unwrap_or_default();
            // Inserted one by one: collecting would compile a sort of the entries just for this.
            let mut by_type = BTreeMap::new();
            for name in &types {
                by_type.insert(name.clone(), found.get(name).copied().unwrap_or(0));
            }
            DayCounts {
                day,
                total: by_type.values().sum(),
                by_type,
            }
        })
        .collect();
    DailyEventCounts {
        types: types.into_iter().collect(),
        days,
    }
}

/// Events per calendar month, from the month of the earliest event to the current month.
pub fn monthly_event_counts(engine: &Engine) -> Vec<MonthCount> {
    let Some(earliest) = days_of(engine).map(|event| event.happened).min() else {
        return Vec::new();
    };
    let now = engine.now();
    let end = now.max(earliest).plus_seconds(1);
    let period = Period {
        start: earliest,
        end,
    };
    count_into(
        &period,
        Resolution::Monthly,
        days_of(engine).map(|event| event.happened),
    )
    .into_iter()
    .map(|point| MonthCount {
        month: crate::model::date_text::month_text(point.date),
        total: point.value,
    })
    .collect()
}

/// Events in the range per (name, context), daily, by the time they happened. `context`
/// narrows to one context (`None` is Contacthub's `ALL`).
pub fn events_by_type_and_context(
    engine: &Engine,
    context: Option<EventContext>,
    period: &Period,
) -> Result<Vec<Series>, StatsError> {
    let mut groups: BTreeMap<(String, String), (EventContext, Vec<Timestamp>)> = BTreeMap::new();
    for event in days_of(engine) {
        if context.is_some_and(|wanted| wanted != event.context) || !period.contains(event.happened)
        {
            continue;
        }
        let key = (event.name.to_string(), format!("{:?}", event.context));
        groups
            .entry(key)
            .or_insert_with(|| (event.context, Vec::new()))
            .1
            .push(event.happened);
    }
    let parts = groups
        .into_iter()
        .map(|((name, _), (context, times))| (name, Some(context), times));
    series_of(period, Resolution::Daily, parts)
}

/// Events added in the range per name, daily, by the time the engine received them.
/// Events are never changed or deleted, so `Updated` and `Deleted` give no series.
pub fn events_added(
    engine: &Engine,
    kind: ChangeKind,
    period: &Period,
) -> Result<Vec<Series>, StatsError> {
    match kind {
        ChangeKind::Added => {}
        ChangeKind::Updated | ChangeKind::Deleted => return Ok(Vec::new()),
    }
    let mut groups: BTreeMap<String, Vec<Timestamp>> = BTreeMap::new();
    for event in days_of(engine).filter(|event| period.contains(event.received)) {
        groups
            .entry(event.name.to_string())
            .or_default()
            .push(event.received);
    }
    let parts = groups.into_iter().map(|(name, times)| (name, None, times));
    series_of(period, Resolution::Daily, parts)
}

/// One customer's events in the range per (context as category, name as type), bucketed
/// by `resolution`, by the time they happened.
pub fn customer_events_by_category(
    engine: &Engine,
    profile: ProfileId,
    period: &Period,
    resolution: Resolution,
) -> Result<Vec<Series>, StatsError> {
    let events = engine
        .events_of(profile)
        .ok_or(StatsError::UnknownProfile(profile))?;
    let mut groups: BTreeMap<(String, String), (EventContext, Vec<Timestamp>)> = BTreeMap::new();
    for stored in events
        .iter()
        .filter(|stored| period.contains(stored.happened()))
    {
        let event = &stored.event;
        groups
            .entry((format!("{:?}", event.context), event.name.to_string()))
            .or_insert_with(|| (event.context, Vec::new()))
            .1
            .push(event.happened);
    }
    let parts = groups
        .into_iter()
        .map(|((_, name), (context, times))| (name, Some(context), times));
    series_of(period, resolution, parts)
}
