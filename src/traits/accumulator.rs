//! The running state of one computed trait for one profile.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::Aggregate;
use crate::model::{RunningSum, Timestamp, Value};

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
    /// A sum that went past the largest `f64`, kept as `sum × 2⁻⁶⁴` so the average stays
    /// right (the sum itself is then out of range and reads as infinite). Last, so stored
    /// accumulators of the other kinds read as before.
    ScaledSum {
        scaled: f64,
        count: u64,
    },
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
            Self::Sum { .. } | Self::ScaledSum { .. } => {
                let (Some(number), Some((mut sum, count))) = (summand(value), self.running())
                else {
                    return;
                };
                sum.add(number);
                *self = match sum.parts() {
                    (sum, false) => Self::Sum {
                        sum,
                        count: count + 1,
                    },
                    (scaled, true) => Self::ScaledSum {
                        scaled,
                        count: count + 1,
                    },
                };
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

    /// A sum accumulator's sum and count.
    fn running(&self) -> Option<(RunningSum, u64)> {
        match self {
            Self::Sum { sum, count } => Some((RunningSum::plain(*sum), *count)),
            Self::ScaledSum { scaled, count } => Some((RunningSum::scaled(*scaled), *count)),
            _ => None,
        }
    }

    /// The trait's value, or `None` when no event contributed.
    pub(crate) fn value(&self, aggregate: Aggregate) -> Option<Value> {
        match self {
            Self::Count(0) => None,
            Self::Count(count) => Some(Value::Integer(i64::try_from(*count).unwrap_or(i64::MAX))),
            Self::Sum { count: 0, .. } | Self::ScaledSum { count: 0, .. } => None,
            Self::Sum { .. } | Self::ScaledSum { .. } => {
                let (sum, count) = self.running()?;
                Some(Value::Number(if aggregate == Aggregate::Avg {
                    sum.mean(count)
                } else {
                    sum.total()
                }))
            }
            Self::Extreme { best, .. } => best.as_ref().map(|(_, value)| value.clone()),
            Self::Edge { best, .. } => best.as_ref().map(|(_, value)| value.clone()),
            Self::Distinct(seen) if seen.is_empty() => None,
            Self::Distinct(seen) => Some(Value::Integer(
                i64::try_from(seen.len()).unwrap_or(i64::MAX),
            )),
        }
    }
}

/// The number an event adds to a sum: an integer or a number property.
fn summand(value: Option<&Value>) -> Option<f64> {
    match value {
        Some(Value::Integer(number)) => Some(*number as f64),
        Some(Value::Number(number)) => Some(*number),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(numbers: &[f64]) -> Accumulator {
        let mut accumulator = Accumulator::new(Aggregate::Avg);
        for (index, number) in numbers.iter().enumerate() {
            let key = (Timestamp::from_micros(index as i64), index as u64);
            accumulator.fold(key, Some(&Value::Number(*number)));
        }
        accumulator
    }

    #[test]
    fn an_average_of_numbers_whose_sum_overflows_stays_right() {
        let huge = 1.7e308;
        let accumulator = folded(&[huge, huge, 1.0e308]);
        assert!(matches!(
            accumulator,
            Accumulator::ScaledSum { count: 3, .. }
        ));
        let Some(Value::Number(average)) = accumulator.value(Aggregate::Avg) else {
            panic!("an average");
        };
        assert!(
            (average - 1.4666666666666667e308).abs() < 1e294,
            "{average}"
        );
        assert_eq!(
            accumulator.value(Aggregate::Sum),
            Some(Value::Number(f64::INFINITY)),
            "the sum itself is out of range"
        );
        let negative = folded(&[-huge, -huge]);
        assert_eq!(negative.value(Aggregate::Avg), Some(Value::Number(-huge)));
    }

    #[test]
    fn sums_in_range_are_kept_as_they_were() {
        let accumulator = folded(&[0.1, 0.2, 0.3]);
        assert_eq!(
            accumulator,
            Accumulator::Sum {
                sum: 0.1 + 0.2 + 0.3,
                count: 3
            }
        );
        assert_eq!(
            accumulator.value(Aggregate::Avg),
            Some(Value::Number((0.1 + 0.2 + 0.3) / 3.0))
        );
    }
}
