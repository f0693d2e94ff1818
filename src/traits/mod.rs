//! Computed traits: aggregates over a profile's events, declared as data.

use serde::{Deserialize, Serialize};

/// How a computed trait folds the matching events' property values.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Aggregate {
    /// How many events matched.
    Count,
    /// The sum of the property.
    Sum,
    /// The smallest value of the property.
    Min,
    /// The largest value of the property.
    Max,
    /// The mean of the property.
    Avg,
    /// The property of the earliest event.
    First,
    /// The property of the latest event.
    Last,
    /// How many distinct values the property took.
    DistinctCount,
}

/// A computed trait such as PrimeData's `ltv` or `last_time_purchased`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TraitDefinition {
    /// The trait's name as profiles show it.
    pub name: String,
    /// The fold.
    pub aggregate: Aggregate,
    /// The event name it reads.
    pub event: String,
    /// The event property it folds (not needed for `count`).
    #[serde(default)]
    pub property: Option<String>,
    /// Only events of the last this many seconds count.
    #[serde(default)]
    pub window_seconds: Option<u64>,
}
