//! The running state of one computed trait for one profile.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::Aggregate;
use crate::model::{Timestamp, Value};

/// Where an event sits in a profile's order: time happened, then arrival.
pub(crate) type EventKey = (Timestamp, u64);

/// A number or a date-time, ranked numbers first, for `min` and `max`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Rank {
    Number(f64),
    Time(i64),
}

impl Rank {
    fn of(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(number) => Some(Self::Number(*number as f64)),
            Value::Number(number) => Some(Self::Number(*number)),
            Value::DateTime(stamp) => Some(Self::Time(stamp.as_micros())),
            Value::Date(date) => Some(Self::Time(crate::events::date_micros(*date))),
            Value::String(_)
            | Value::Boolean(_)
            | Value::Set(_)
            | Value::Object(_)
            | Value::List(_) => None,
        }
    }

    fn compare(self, other: Self) -> Ordering {
        match (self, other) {
            (Self::Number(left), Self::Number(right)) => left.total_cmp(&right),
            (Self::Time(left), Self::Time(right)) => left.cmp(&right),
            (Self::Number(_), Self::Time(_)) => Ordering::Less,
            (Self::Time(_), Self::Number(_)) => Ordering::Greater,
        }
    }
}

/// The fold of the events seen so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Accumulator {
    Count(u64),
    Sum {
        sum: f64,
        count: u64,
    },
    Extreme {
        best: Option<(Rank, Value)>,
        lowest: bool,
    },
    Edge {
        best: Option<(EventKey, Value)>,
        earliest: bool,
    },
    Distinct(HashSet<String>),
}

impl Accumulator {
    pub(crate) fn new(aggregate: Aggregate) -> Self {
        match aggregate {
            Aggregate::Count => Self::Count(0),
            Aggregate::Sum | Aggregate::Avg => Self::Sum { sum: 0.0, count: 0 },
            Aggregate::Min => Self::Extreme {
                best: None,
                lowest: true,
            },
            Aggregate::Max => Self::Extreme {
                best: None,
                lowest: false,
            },
            Aggregate::First => Self::Edge {
                best: None,
                earliest: true,
            },
            Aggregate::Last => Self::Edge {
                best: None,
                earliest: false,
            },
            Aggregate::DistinctCount => Self::Distinct(HashSet::new()),
        }
    }

    /// Folds one event's input: `value` is the property (or the event time when the trait
    /// reads no property); `None` when the event lacks the property.
    pub(crate) fn fold(&mut self, key: EventKey, value: Option<&Value>) {
        match self {
            Self::Count(count) => *count += 1,
            Self::Sum { sum, count } => {
                let number = match value {
                    Some(Value::Integer(number)) => *number as f64,
                    Some(Value::Number(number)) => *number,
                    _ => return,
                };
                *sum += number;
                *count += 1;
            }
            Self::Extreme { best, lowest } => {
                let Some((value, rank)) = value.and_then(|value| Some((value, Rank::of(value)?)))
                else {
                    return;
                };
                let better = best.as_ref().is_none_or(|(current, _)| {
                    let order = rank.compare(*current);
                    if *lowest {
                        order == Ordering::Less
                    } else {
                        order == Ordering::Greater
                    }
                });
                if better {
                    *best = Some((rank, value.clone()));
                }
            }
            Self::Edge { best, earliest } => {
                let Some(value) = value else { return };
                let better = best.as_ref().is_none_or(|(current, _)| {
                    if *earliest {
                        key < *current
                    } else {
                        key > *current
                    }
                });
                if better {
                    *best = Some((key, value.clone()));
                }
            }
            Self::Distinct(seen) => {
                if let Some(value) = value {
                    seen.insert(value.to_json().to_string());
                }
            }
        }
    }

    /// The trait's value, or `None` when no event contributed.
    pub(crate) fn value(&self, aggregate: Aggregate) -> Option<Value> {
        match self {
            Self::Count(0) => None,
            Self::Count(count) => Some(Value::Integer(i64::try_from(*count).unwrap_or(i64::MAX))),
            Self::Sum { count: 0, .. } => None,
            Self::Sum { sum, count } => Some(Value::Number(if aggregate == Aggregate::Avg {
                *sum / *count as f64
            } else {
                *sum
            })),
            Self::Extreme { best, .. } => best.as_ref().map(|(_, value)| value.clone()),
            Self::Edge { best, .. } => best.as_ref().map(|(_, value)| value.clone()),
            Self::Distinct(seen) if seen.is_empty() => None,
            Self::Distinct(seen) => Some(Value::Integer(
                i64::try_from(seen.len()).unwrap_or(i64::MAX),
            )),
        }
    }
}
