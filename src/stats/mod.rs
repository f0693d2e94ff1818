//! Statistics the dialects expose, computed from the live engine state on every call (no
//! nightly batch): Arrigoo's segment and event stats, Contacthub's customer counts, event
//! counts and KPIs. Each function returns plain structs; the dialects render them.
//!
//! Defaults taken from the Contacthub spec: customer events by category — last year, DAILY;
//! buying behaviours — last year; customers by creation date — last year, MONTHLY;
//! customers and events by update date, events by type and context, and the purchase,
//! ecommerce and web KPIs — last month (DAILY where a series is returned; the spec names no
//! mode for them). "Last month/year" is one calendar month/year back from the end, which
//! defaults to now. Ranges include the start and exclude the end. Buckets are UTC.

mod activity;
mod customers;
mod kpi;
mod period;
mod segments;

use chrono::NaiveDate;
use thiserror::Error;

pub use activity::{
    customer_events_by_category, daily_event_counts, events_added, events_by_type_and_context,
    monthly_event_counts, DailyEventCounts, DayCounts, MonthCount,
};
pub use customers::{
    communication_channels, customer_count, customers_changed, customers_created, ChangeKind,
    ChannelCounts,
};
pub use kpi::{
    buying_behaviour, ecommerce_kpis, purchase_kpis, web_kpis, Kpi, KpiKind, PurchaseScope,
};
pub use period::{bucket_of, DefaultSpan, Period, Resolution};
pub use segments::{segment_stats, SegmentStat};

use crate::model::{EventContext, ProfileId, Timestamp};

/// Why a statistic cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The range ends before it starts.
    #[error("the date range ends before it starts")]
    EmptyRange,
    /// No profile has this id.
    #[error("no profile has the id {0}")]
    UnknownProfile(ProfileId),
    /// The answer would hold more points than [`MAX_POINTS`].
    #[error(
        "the answer would hold {points} points (buckets times series), more than {MAX_POINTS}: narrow the range or choose a coarser resolution"
    )]
    TooManyPoints {
        /// Buckets in the range times series.
        points: u64,
    },
}

impl StatsError {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyRange => "stats.empty_range",
            Self::UnknownProfile(_) => "stats.unknown_profile",
            Self::TooManyPoints { .. } => "stats.too_many_points",
        }
    }
}

/// One bucket of a time series.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Point {
    /// The bucket's first day.
    pub date: NaiveDate,
    /// How many things fell in it.
    pub value: u64,
}

/// A named time series (Contacthub's `{"category", "type": "timeseries", "values"}`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Series {
    /// What is counted: an event type, `addedCustomers`, `customers`.
    pub category: String,
    /// The events' context, for series split by context.
    pub context: Option<EventContext>,
    /// Every bucket of the range, zeros included, in order.
    pub points: Vec<Point>,
}

/// Most points (buckets times series) one time-series answer holds: a range, resolution
/// and data whose answer would hold more are refused rather than built (every bucket of
/// every series is in the answer, zeros included, so a century of days times a few hundred
/// event names would take gigabytes). A year of days for 500 series fits.
pub const MAX_POINTS: u64 = 200_000;

/// Refuses `series` series over the buckets of `period` at `resolution` when together they
/// would hold more than [`MAX_POINTS`] points.
pub(crate) fn check_points(
    period: &Period,
    resolution: Resolution,
    series: usize,
) -> Result<(), StatsError> {
    let points = period
        .bucket_count(resolution)
        .saturating_mul(series as u64);
    if points > MAX_POINTS {
        return Err(StatsError::TooManyPoints { points });
    }
    Ok(())
}

/// One series per `(category, context, times)` of `parts`, each counted into the buckets of
/// `period` at `resolution`; refused, before any is built, when together they would hold
/// more than [`MAX_POINTS`] points.
pub(crate) fn series_of<T: IntoIterator<Item = Timestamp>>(
    period: &Period,
    resolution: Resolution,
    parts: impl ExactSizeIterator<Item = (String, Option<EventContext>, T)>,
) -> Result<Vec<Series>, StatsError> {
    check_points(period, resolution, parts.len())?;
    Ok(parts
        .map(|(category, context, times)| Series {
            category,
            context,
            points: count_into(period, resolution, times.into_iter()),
        })
        .collect())
}

/// Counts `times` into the buckets of `period`, zeros included.
pub(crate) fn count_into(
    period: &Period,
    resolution: Resolution,
    times: impl Iterator<Item = Timestamp>,
) -> Vec<Point> {
    let buckets = period.buckets(resolution);
    let mut counts = vec![0u64; buckets.len()];
    for at in times.filter(|at| period.contains(*at)) {
        if let Some(bucket) = bucket_of(at, resolution) {
            if let Ok(position) = buckets.binary_search(&bucket) {
                if let Some(count) = counts.get_mut(position) {
                    *count += 1;
                }
            }
        }
    }
    buckets
        .into_iter()
        .zip(counts)
        .map(|(date, value)| Point { date, value })
        .collect()
}
